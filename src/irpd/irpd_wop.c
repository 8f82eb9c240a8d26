/*
 * irpd_wop.c - a request's change of stored data, made on the loop, applied
 * on the store's writer thread, answered on the loop (irpd_handlers.h
 * irpd_wop; docs/IRP.md 10.2).
 *
 * A write op of the operation table (IRPD_OPF_WRITE) passes every check of
 * its row on the loop (who may call it, the identity re-check, failure
 * limits, buckets: irpd_pipeline.c); then its handler runs on the writer
 * thread, inside the writer's batch, against the writer's store, so its
 * reads see the changes queued before it and its changes are durable when
 * the batch is. The handler gets a copy of the loop's irpd_hctx taken on
 * the loop (the CA and configuration, immutable while serving; no rate
 * policy, no recheck hook, no parser: those are the loop's), a copy of the
 * connection's identity, the parsed request (moved in) and a scratch of
 * its own, and writes its response and result into the wop. The loop then
 * frames the answer from them, or 500 when the batch did not reach the
 * disk.
 *
 * Spare wops (each with its ~40 KB scratch) are kept on the loop for the
 * next write, so a write does not allocate one per request.
 */
#include "irpd_ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#define POOL_MAX 64 /* spare wops kept: about the writes of one batch */

struct irpd_wop {
    irpd_hctx h;             /* the loop's, copied on the loop; st: the writer's in apply */
    const irpd_opdef *d;     /* the op's handler; NULL: fns, or an audit record (ready answer) */
    const irpd_wop_fns *fns; /* a change prepared on the loop (irpd__wop_call) */
    void *impl;              /* fns' (freed with fns->free) */
    int silent;              /* answers nothing of its own (irpd__wop_call without an op) */
    irpd_session s;          /* the connection's identity: cert_der copied, no watches */
    irp_req q;               /* moved in from the pipeline */
    hscratch *x;             /* the handler's scratch */
    irp_resp r;              /* the handler's response */
    irpd_hresult res;        /* the handler's result */
    irpd_fail_hold hold;     /* 9.1: settled on the loop with the answer */
    int64_t now;
    /* the audit record of a refused login (d NULL) and its framed answer */
    char a_op[IRPD_STORE_OP_MAX + 1];
    char a_target[IRPD_STORE_TEXT_MAX + 1];
    char a_detail[IRPD_STORE_TEXT_MAX + 1];
    sc_buf ready;
    struct irpd_wop *next; /* the pool */
};

struct irpd_wop_pool {
    irpd_wop *head;
    size_t n;
};

static void wop_dispose(irpd_wop *op)
{
    irpd__scratch_reset(op->x);
    sc_buf_dispose(&op->x->sig);
    OPENSSL_cleanse(op->x, sizeof(*op->x));
    free(op->x);
    sc_buf_dispose(&op->ready);
    free(op);
}

/* A wop from the pool, or a new one; NULL without memory. */
static irpd_wop *wop_get(const irpd_hctx *h)
{
    irpd_wop *op = NULL;

    if (h->wops != NULL && (op = h->wops->head) != NULL) {
        h->wops->head = op->next;
        h->wops->n--;
        op->next = NULL;
        return op;
    }
    if ((op = calloc(1, sizeof(*op))) == NULL) return NULL;
    if ((op->x = calloc(1, sizeof(*op->x))) == NULL) {
        free(op);
        return NULL;
    }
    sc_buf_init_public(&op->x->sig, 0);
    sc_buf_init_public(&op->ready, 0);
    return op;
}

/* Wipes what op held of the request and returns it to the pool (or frees it). */
static void wop_put(const irpd_hctx *h, irpd_wop *op)
{
    hscratch *x = op->x;
    sc_buf ready = op->ready;

    if (op->fns != NULL && op->impl != NULL) op->fns->free(op->impl);
    irp_req_clear(&op->q);
    irpd_session_clear(&op->s);
    irpd__scratch_reset(x);
    sc_buf_reset(&ready);
    OPENSSL_cleanse(op, sizeof(*op));
    op->x = x;
    op->ready = ready;
    if (h->wops == NULL || h->wops->n >= POOL_MAX) {
        wop_dispose(op);
        return;
    }
    op->next = h->wops->head;
    h->wops->head = op;
    h->wops->n++;
}

int irpd__wop_pool_init(irpd_hctx *h)
{
    h->wops = calloc(1, sizeof(*h->wops));
    return h->wops != NULL ? 0 : -1;
}

void irpd__wop_pool_free(irpd_hctx *h)
{
    irpd_wop *op;

    if (h->wops == NULL) return;
    while ((op = h->wops->head) != NULL) {
        h->wops->head = op->next;
        wop_dispose(op);
    }
    free(h->wops);
    h->wops = NULL;
}

/* The loop's context as the writer thread may use it. */
static void copy_hctx(irpd_hctx *dst, const irpd_hctx *h)
{
    memset(dst, 0, sizeof(*dst));
    dst->ca = h->ca;
    dst->cfg = h->cfg;
    dst->ca_der = h->ca_der;
    dst->ca_der_len = h->ca_der_len;
}

/* The connection's identity as the writer thread may use it: cert_der copied, no watches. */
static int copy_session(irpd_wop *op, const irpd_session *s)
{
    op->s = *s;
    op->s.watches = NULL; /* no change made on the writer touches them */
    op->s.n_watches = 0;
    op->s.cert_der = NULL;
    if (s->cert_der_len > 0) {
        if ((op->s.cert_der = malloc(s->cert_der_len)) == NULL) {
            op->s.cert_der_len = 0;
            return -1;
        }
        memcpy(op->s.cert_der, s->cert_der, s->cert_der_len);
    }
    return 0;
}

irpd_wop *irpd__wop_new(const irpd_hctx *h, const irpd_opdef *d, const irpd_session *s, irp_req *q,
                        int64_t now, const irpd_fail_hold *hold)
{
    irpd_wop *op = wop_get(h);

    if (op == NULL) return NULL;
    copy_hctx(&op->h, h);
    op->d = d;
    if (copy_session(op, s) != 0) {
        wop_put(h, op);
        return NULL;
    }
    op->q = *q; /* the request's storage moves into the wop */
    irp_req_init(q);
    op->hold = *hold;
    op->now = now;
    irp_resp_init(&op->r);
    memset(&op->res, 0, sizeof(op->res));
    op->res.op = op->q.op;
    op->res.write = (d->flags & IRPD_OPF_WRITE) != 0;
    snprintf(op->res.id, sizeof(op->res.id), "%s", op->q.id);
    return op;
}

irpd_wop *irpd__wop_call(const irpd_hctx *h, const irpd_wop_fns *fns, void *impl,
                         const irpd_session *s, irp_op op_id, int64_t now)
{
    irpd_wop *op = wop_get(h);

    if (op == NULL) {
        fns->free(impl);
        return NULL;
    }
    copy_hctx(&op->h, h);
    op->d = NULL;
    op->fns = fns;
    op->impl = impl;
    op->silent = op_id == IRP_OP_NONE;
    if (s != NULL && copy_session(op, s) != 0) {
        wop_put(h, op); /* frees impl */
        return NULL;
    }
    irp_req_init(&op->q);
    op->now = now;
    irp_resp_init(&op->r);
    memset(&op->res, 0, sizeof(op->res));
    op->res.op = op_id;
    op->res.write = 1;
    return op;
}

void irpd__wop_adopt(irpd_wop *op, const char *id, irpd_fail_hold *hold)
{
    snprintf(op->res.id, sizeof(op->res.id), "%s", id != NULL ? id : "");
    if (hold != NULL) {
        op->hold = *hold; /* settled with the answer (irpd_wop_finish) */
        memset(hold, 0, sizeof(*hold));
    }
}

int irpd__wop_answers(const irpd_wop *op)
{
    return op->d != NULL || op->fns != NULL;
}

irpd_wop *irpd__wop_audit(const irpd_hctx *h, int64_t now, const char *what, const char *target,
                          const char *detail)
{
    irpd_wop *op = wop_get(h);

    if (op == NULL) return NULL;
    op->d = NULL;
    irp_req_init(&op->q);
    op->now = now;
    snprintf(op->a_op, sizeof(op->a_op), "%s", what);
    snprintf(op->a_target, sizeof(op->a_target), "%s", target);
    snprintf(op->a_detail, sizeof(op->a_detail), "%s", detail);
    return op;
}

int irpd__wop_set_answer(irpd_wop *op, const sc_buf *answer, const irpd_hresult *res)
{
    op->res = *res;
    op->res.wop = NULL;
    sc_buf_reset(&op->ready);
    sc_buf_put(&op->ready, answer->data, answer->len);
    return sc_buf_ok(&op->ready) ? 0 : -1;
}

void irpd__wop_drop(const irpd_hctx *h, irpd_wop *op)
{
    if (op != NULL) wop_put(h, op);
}

irp_status irpd_wop_apply(irpd_wop *op, irpd_store *w, int *wrote)
{
    irpd_opctx o;
    int st;

    if (op->d == NULL && op->fns == NULL) {
        st = irpd_store_audit_add(w, op->now, NULL, op->a_op, op->a_target, op->a_detail);
    } else {
        op->h.st = w;
        op->h.x = op->x;
        memset(&o, 0, sizeof(o));
        o.r = &op->r;
        o.x = op->x;
        o.res = &op->res;
        o.now = op->now;
        st = op->d != NULL ? op->d->run(&op->h, &op->s, &op->q, &o)
                           : op->fns->apply(&op->h, &op->s, op->impl, &o);
    }
    /* 10.2: a refusal is answered at once only when it surely changed nothing */
    *wrote = st != 0 && (op->res.wrote || st >= 500);
    return (irp_status)st;
}

int irpd_wop_finish(const irpd_hctx *h, irpd_wop *op, irp_status applied, irp_status committed,
                    sc_buf *out, irpd_hresult *res)
{
    sc_buf none;
    int st = applied, rc = 0;

    if (op->silent) {
        /* nothing to answer: the request it serves is handled again once it is over */
        if (applied != 0 || committed != 0)
            fprintf(stderr, "irpd: error: a change a request waits for was not stored (%d, %d)\n",
                    (int)applied, (int)committed);
        memset(res, 0, sizeof(*res));
        res->silent = 1;
        wop_put(h, op);
        return 0;
    }
    if (op->d == NULL && op->fns == NULL) {
        /* a refused login: its 401 stands even if the record was lost (logged) */
        if (applied != 0 || committed != 0)
            fprintf(stderr, "irpd: error: audit %s: not stored\n", op->a_op);
        *res = op->res;
        if (out != NULL) {
            sc_buf_put(out, op->ready.data, op->ready.len);
            rc = sc_buf_ok(out) ? 0 : -1;
        }
        wop_put(h, op);
        return rc;
    }
    if (applied == 0 && committed != 0) {
        /* 10.2: none of the batch's changes stayed */
        st = irpd__fail(op->x, IRP_INTERNAL, "internal error: not stored");
        op->res.changed = op->res.revoked = op->res.policy_changed = 0;
    }
    if (h->pol != NULL) irpd_policy_fail_settle(h->pol, &op->hold, st, op->now);
    sc_buf_init_public(&none, 0);
    rc = irpd__answer(out != NULL ? out : &none, &op->r, op->res.id, st, op->x, &op->res);
    sc_buf_dispose(&none);
    *res = op->res;
    wop_put(h, op);
    return rc;
}
