/*
 * irpd_writer.c - the store's writer thread (irpd_writer.h; docs/IRP.md
 * 10.2 group commit).
 *
 * Two lists under one mutex: `in`, jobs the loop submitted, and `out`, jobs
 * whose batch is over. The thread sleeps on a condition variable until `in`
 * has jobs, takes all of them (the group), applies and commits them with
 * the mutex released, puts them on `out` and wakes the loop with
 * uv_async_send; the loop's async callback takes `out` and runs each done()
 * in the order the jobs finished: a refused job as soon as it was applied,
 * the others of its group after the commit, in submission order. The
 * mutex is never held across the disk, so submit never waits for a commit.
 */
#include <stdlib.h>
#include <string.h>

#include "irpd_writer.h"

struct irpd_writer {
    uv_loop_t *loop;
    uv_async_t async;
    uv_thread_t thread;
    uv_mutex_t mu;
    uv_cond_t cv;
    irpd_store *st; /* the writer thread's only */
    /* under mu */
    irpd_writer_job *in_head, *in_tail;
    irpd_writer_job *out_head, *out_tail;
    int stopping;
    uint64_t batches, failed;
    /* the loop's only */
    size_t pending;
    uint64_t jobs;
    void (*drained)(void *arg);
    void *drained_arg;
};

static void append(irpd_writer_job **head, irpd_writer_job **tail, irpd_writer_job *first,
                   irpd_writer_job *last)
{
    if (*tail != NULL)
        (*tail)->next = first;
    else
        *head = first;
    *tail = last;
}

/*
 * Hands finished jobs (first..last; none when first is NULL) to the loop
 * and wakes it; with batch, counts the batch that ended.
 */
static void post(irpd_writer *wr, irpd_writer_job *first, irpd_writer_job *last, int batch,
                 irp_status committed)
{
    uv_mutex_lock(&wr->mu);
    if (first != NULL) append(&wr->out_head, &wr->out_tail, first, last);
    if (batch) {
        wr->batches++;
        if (committed != 0) wr->failed++;
    }
    uv_mutex_unlock(&wr->mu);
    if (first != NULL) uv_async_send(&wr->async);
}

/*
 * One group: apply each job in order inside one batch, then one durable
 * commit. A job its apply refuses changed nothing (the store rolled it back
 * alone) and needs no commit: it goes to the loop at once, before the jobs
 * after it are applied (docs/IRP.md 10.2: a write that fails validation is
 * answered at once and is not part of the group).
 */
static void run_group(irpd_writer *wr, irpd_writer_job *list)
{
    irpd_writer_job *j, *next, *kept = NULL, **tail = &kept, *last = NULL;
    irp_status committed = irpd_store_batch_begin(wr->st);
    int open = committed == 0;

    for (j = list; j != NULL; j = next) {
        next = j->next;
        j->next = NULL;
        j->applied = open ? j->apply(wr->st, j) : IRP_INTERNAL;
        if (open && j->applied != 0 && !j->wrote) {
            j->committed = 0; /* nothing of it to commit */
            post(wr, j, j, 0, 0);
            continue;
        }
        *tail = last = j;
        tail = &j->next;
    }
    if (open) committed = irpd_store_batch_commit(wr->st);
    for (j = kept; j != NULL; j = j->next)
        j->committed = committed;
    post(wr, kept, last, 1, committed);
}

static void writer_main(void *arg)
{
    irpd_writer *wr = arg;
    for (;;) {
        uv_mutex_lock(&wr->mu);
        while (wr->in_head == NULL && !wr->stopping)
            uv_cond_wait(&wr->cv, &wr->mu);
        irpd_writer_job *list = wr->in_head;
        wr->in_head = wr->in_tail = NULL;
        uv_mutex_unlock(&wr->mu);
        if (list == NULL) return; /* stopping, and nothing left */
        run_group(wr, list);
    }
}

/* On the loop: the done()s of every finished job, in order. */
static void drain(irpd_writer *wr)
{
    uv_mutex_lock(&wr->mu);
    irpd_writer_job *j = wr->out_head;
    wr->out_head = wr->out_tail = NULL;
    uv_mutex_unlock(&wr->mu);
    if (j == NULL) return;
    while (j != NULL) {
        irpd_writer_job *next = j->next; /* done may free j */
        wr->pending--;
        wr->jobs++;
        j->next = NULL;
        j->done(j, j->applied, j->committed);
        j = next;
    }
    if (wr->drained != NULL) wr->drained(wr->drained_arg);
}

void irpd_writer_on_drained(irpd_writer *wr, void (*fn)(void *arg), void *arg)
{
    wr->drained = fn;
    wr->drained_arg = arg;
}

static void on_async(uv_async_t *a)
{
    drain(a->data);
}

static void on_closed(uv_handle_t *h)
{
    irpd_writer *wr = h->data;
    uv_cond_destroy(&wr->cv);
    uv_mutex_destroy(&wr->mu);
    free(wr);
}

int irpd_writer_start(irpd_writer **out, uv_loop_t *loop, irpd_store *w)
{
    irpd_writer *wr = calloc(1, sizeof *wr);
    *out = NULL;
    if (wr == NULL) return -1;
    wr->loop = loop;
    wr->st = w;
    if (uv_mutex_init(&wr->mu) != 0) goto fail_mu;
    if (uv_cond_init(&wr->cv) != 0) goto fail_cv;
    if (uv_async_init(loop, &wr->async, on_async) != 0) goto fail_async;
    wr->async.data = wr;
    if (uv_thread_create(&wr->thread, writer_main, wr) != 0) {
        uv_close((uv_handle_t *)&wr->async, on_closed); /* frees wr */
        return -1;
    }
    *out = wr;
    return 0;
fail_async:
    uv_cond_destroy(&wr->cv);
fail_cv:
    uv_mutex_destroy(&wr->mu);
fail_mu:
    free(wr);
    return -1;
}

int irpd_writer_submit(irpd_writer *wr, irpd_writer_job *job)
{
    job->next = NULL;
    job->wrote = 0;
    job->applied = job->committed = IRP_INTERNAL;
    uv_mutex_lock(&wr->mu);
    int stopping = wr->stopping;
    if (!stopping) {
        append(&wr->in_head, &wr->in_tail, job, job);
        uv_cond_signal(&wr->cv);
    }
    uv_mutex_unlock(&wr->mu);
    if (stopping) return -1;
    wr->pending++;
    return 0;
}

size_t irpd_writer_pending(const irpd_writer *wr)
{
    return wr->pending;
}

irpd_writer_stats irpd_writer_get_stats(const irpd_writer *wr)
{
    irpd_writer_stats s;
    uv_mutex_lock((uv_mutex_t *)&wr->mu);
    s.batches = wr->batches;
    s.failed = wr->failed;
    uv_mutex_unlock((uv_mutex_t *)&wr->mu);
    s.jobs = wr->jobs;
    return s;
}

void irpd_writer_stop(irpd_writer *wr)
{
    if (wr == NULL) return;
    uv_mutex_lock(&wr->mu);
    wr->stopping = 1;
    uv_cond_signal(&wr->cv);
    uv_mutex_unlock(&wr->mu);
    uv_thread_join(&wr->thread); /* the thread commits what was queued first */
    drain(wr);
    uv_close((uv_handle_t *)&wr->async, on_closed);
}
