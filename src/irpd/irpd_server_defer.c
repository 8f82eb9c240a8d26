/*
 * irpd_server_defer.c - the worker queue of deferred requests (logins,
 * docs/IRP.md 6.4; RSA key checks of enrolments, 6.5): their expensive part
 * runs in libuv's thread pool, at most DEFER_WORKERS at once server-wide,
 * the rest in a FIFO of at most DEFER_QUEUE_MAX. When a job is done (or
 * cancelled) the queue hands it back through s->deferred_done on the loop
 * thread; it never calls into the connection code itself.
 */
#include "irpd_server_int.h"

#include <stdlib.h>

static void pump(irpd_server *s);

static void job_work(uv_work_t *req)
{
    defer_job *j = (defer_job *)req;

    irpd_deferred_work(j->d); /* touches only j->d: never the connection */
}

static void job_after(uv_work_t *req, int status)
{
    defer_job *j = (defer_job *)req;
    irpd_server *s = j->srv;

    (void)status; /* not done: irpd_deferred_finish answers 500 */
    s->n_running--;
    pump(s);
    if (j->c != NULL) s->deferred_done(j->c, j->d, 1);
    irpd_deferred_free(j->d);
    free(j);
}

/* Starts waiting jobs while fewer than DEFER_WORKERS run. */
static void pump(irpd_server *s)
{
    while (s->n_running < DEFER_WORKERS && s->lq_head != NULL) {
        defer_job *j = s->lq_head;

        s->lq_head = j->next;
        if (s->lq_head == NULL) s->lq_tail = NULL;
        s->n_lq--;
        j->next = NULL;
        j->running = 1;
        s->n_running++;
        /* 9.1: its place in the failure counters was taken when it was admitted */
        if (uv_queue_work(&s->loop, &j->req, job_work, job_after) != 0)
            abort(); /* fails only for a NULL work_cb */
    }
}

int irpd__srv_defer(irpd_server *s, conn *c, irpd_deferred *d)
{
    defer_job *j = NULL;

    if (s->n_lq < DEFER_QUEUE_MAX) j = calloc(1, sizeof(*j));
    if (j == NULL) return -1;
    j->srv = s;
    j->c = c;
    j->d = d;
    if (s->lq_tail != NULL)
        s->lq_tail->next = j;
    else
        s->lq_head = j;
    s->lq_tail = j;
    s->n_lq++;
    c->login = j;
    pump(s);
    return 0;
}

void irpd__srv_defer_forget(irpd_server *s, defer_job *j)
{
    defer_job **pp;

    j->c = NULL; /* a running job finishes, then job_after frees it */
    if (j->running) return;
    for (pp = &s->lq_head; *pp != NULL; pp = &(*pp)->next)
        if (*pp == j) break;
    if (*pp == j) {
        *pp = j->next;
        if (s->lq_tail == j) {
            defer_job *t = s->lq_head;
            while (t != NULL && t->next != NULL)
                t = t->next;
            s->lq_tail = t;
        }
        s->n_lq--;
    }
    irpd_deferred_free(j->d);
    free(j);
}

void irpd__srv_defer_cancel_all(irpd_server *s)
{
    defer_job *j;

    while ((j = s->lq_head) != NULL) {
        s->lq_head = j->next;
        if (s->lq_head == NULL) s->lq_tail = NULL;
        s->n_lq--;
        irpd_deferred_cancel(j->d, IRP_UNAVAILABLE, "the registry is shutting down");
        if (j->c != NULL) s->deferred_done(j->c, j->d, 0);
        irpd_deferred_free(j->d);
        free(j);
    }
}
