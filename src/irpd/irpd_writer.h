/*
 * irpd_writer.h - the store's writer thread: durable commits that never
 * wait on the disk inside the event loop (docs/IRP.md 10.1, 10.2).
 *
 * The loop keeps its own store connection for reads (lookups are served
 * from it while commits run; SQLite WAL lets the two connections work at
 * once) and hands every change to the writer as a job. The writer thread
 * owns the other connection, the only one that writes: it takes every job
 * queued so far, applies them in order in one batch (each atomic on its
 * own: a refused job is rolled back alone), commits the batch with one
 * fsync, and posts the results back to the loop (a uv_async), where each
 * job's done() runs. A refused job is posted as soon as it was applied,
 * before the commit: it changed nothing, so its answer waits for no disk
 * (IRP.md 10.2). Jobs queued while a commit runs form the next batch:
 * exactly IRP.md 10.2's group commit, and a lone job pays one commit and no
 * added delay. Reads on the loop's connection see a change only once it is
 * durable (IRP.md 10.3: SQLite makes a commit visible to other connections
 * after its fsync).
 *
 * Threads: irpd_writer_start, _submit and _stop are called on the loop's
 * thread; a job's apply() runs on the writer thread and may use only the
 * store it is given and the job's own memory; done() runs on the loop's
 * thread. Between submit and done the job belongs to the writer.
 */
#ifndef IRPD_WRITER_H
#define IRPD_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "sixchat/error.h"
#include "irpd_store.h"

typedef struct irpd_writer irpd_writer;
typedef struct irpd_writer_job irpd_writer_job;

struct irpd_writer_job {
    /* On the writer thread, inside the batch: the job's changes; its status. */
    irp_status (*apply)(irpd_store *w, irpd_writer_job *job);
    /*
     * On the loop's thread: `applied` is what apply returned. A job apply
     * accepted (0) is done once its batch is over, with `committed`
     * 0 when the batch reached the disk (else IRP_INTERNAL: none of its
     * changes stay); it is durable when both are 0. A refused job
     * (applied not 0, wrote 0) changed nothing and is done at once, while its
     * batch may still run, with `committed` 0 (docs/IRP.md 10.2); so
     * done()s do not always run in submission order. done may free the job.
     */
    void (*done)(irpd_writer_job *job, irp_status applied, irp_status committed);
    void *arg;
    /*
     * Set by apply when it refused (not 0) but changed something that
     * stays in the batch (a handler that refused after a change of its
     * own): then done waits for the commit like an accepted job's.
     */
    int wrote;
    /* the writer's own */
    irp_status applied, committed;
    irpd_writer_job *next;
};

/* Counters, read on the loop's thread (irpd_writer_stats). */
typedef struct irpd_writer_stats {
    uint64_t jobs;    /* jobs done */
    uint64_t batches; /* commits (one fsync each) */
    uint64_t failed;  /* batches whose commit failed */
} irpd_writer_stats;

/*
 * Starts the writer thread on w (an open store; from now on only the
 * writer touches it, until irpd_writer_stop returns) and its uv_async on
 * loop. 0, or -1 (w stays the caller's).
 */
SC_MUST_CHECK int irpd_writer_start(irpd_writer **out, uv_loop_t *loop, irpd_store *w);

/* Queues job (apply and done set). Never blocks on the disk. 0, or -1 after stop began. */
SC_MUST_CHECK int irpd_writer_submit(irpd_writer *wr, irpd_writer_job *job);

/*
 * Sets fn(arg) to run on the loop's thread after each round of done()s
 * (one per finished batch, or fewer when batches finish together): a
 * server sends there what the done()s made ready, once per connection.
 */
void irpd_writer_on_drained(irpd_writer *wr, void (*fn)(void *arg), void *arg);

/* Jobs submitted and not yet done. */
size_t irpd_writer_pending(const irpd_writer *wr);

irpd_writer_stats irpd_writer_get_stats(const irpd_writer *wr);

/*
 * Commits what is queued, runs the last done()s, joins the thread and
 * closes the uv_async (the loop must run for it to finish closing: call
 * before the loop's last uv_run). The store is the caller's again. NULL is
 * a no-op.
 */
void irpd_writer_stop(irpd_writer *wr);

#endif
