/*
 * irpd_server_reads.c - the lookup records' way to the store (docs/IRP.md
 * 10.4, 6.15): the loop's store queues a record per lookup, watch and
 * user-info get; they are handed to the writer thread every second (the
 * tick), at shutdown, and before an access-log request goes to the writer,
 * so that its answer lists every get answered before it. Calls only the
 * store and the writer.
 */
#include "irpd_server_int.h"

#include <stdio.h>
#include <stdlib.h>

/*
 * The lookup records the loop's connection queued (10.4), copied into a job
 * of the writer thread: the loop's connection never takes the write lock.
 */
typedef struct read_rec {
    int64_t ts;
    int has_actor;
    char actor[IRPD_STORE_USER_MAX + 1], target[IRPD_STORE_USER_MAX + 1];
    char op[16], detail[16];
} read_rec;

typedef struct reads_job {
    irpd_writer_job job;
    irpd_server *srv;
    read_rec *recs;
    size_t n, cap;
} reads_job;

static int on_read_rec(void *arg, const irpd_audit_row *r)
{
    reads_job *j = arg;
    read_rec *e;

    if (j->n == j->cap) {
        size_t cap = j->cap != 0 ? j->cap * 2 : 64;
        read_rec *n = realloc(j->recs, cap * sizeof(*n));
        if (n == NULL) return -1;
        j->recs = n;
        j->cap = cap;
    }
    e = &j->recs[j->n++];
    e->ts = r->ts;
    e->has_actor = r->actor != NULL;
    snprintf(e->actor, sizeof(e->actor), "%s", r->actor != NULL ? r->actor : "");
    snprintf(e->target, sizeof(e->target), "%s", r->target != NULL ? r->target : "");
    snprintf(e->op, sizeof(e->op), "%s", r->op);
    snprintf(e->detail, sizeof(e->detail), "%s", r->detail != NULL ? r->detail : "");
    return 0;
}

static irp_status reads_apply(irpd_store *w, irpd_writer_job *job)
{
    reads_job *j = job->arg;
    irp_status st = 0;

    for (size_t i = 0; i < j->n; i++) {
        const read_rec *e = &j->recs[i];
        irp_status r = irpd_store_audit_add(w, e->ts, e->has_actor ? e->actor : NULL, e->op,
                                            e->target, e->detail);
        if (r != 0) st = r;
    }
    return st;
}

static void reads_done(irpd_writer_job *job, irp_status applied, irp_status committed)
{
    reads_job *j = job->arg;

    if (applied != 0 || committed != 0)
        fprintf(stderr, "irpd: error: lookup records: %s\n", irpd_store_errmsg(j->srv->wst));
    free(j->recs);
    free(j);
}

void irpd__srv_reads_flush(irpd_server *s)
{
    reads_job *j;

    if (s->wr == NULL || (j = calloc(1, sizeof(*j))) == NULL) {
        if (irpd_store_flush(s->st) != 0)
            fprintf(stderr, "irpd: error: audit flush: %s\n", irpd_store_errmsg(s->st));
        return;
    }
    j->srv = s;
    j->job.apply = reads_apply;
    j->job.done = reads_done;
    j->job.arg = j;
    if (irpd_store_reads_take(s->st, on_read_rec, j) != 0)
        fprintf(stderr, "irpd: error: lookup records: %s\n", irpd_store_errmsg(s->st));
    if (j->n == 0 || irpd_writer_submit(s->wr, &j->job) != 0) {
        free(j->recs);
        free(j);
    }
}
