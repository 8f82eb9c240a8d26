/*
 * irpd_deferred.c - requests answered after work off the event loop
 * (irpd_handlers.h irpd_deferred_*): what every kind shares (its id, a
 * cancellation, its places in the failure counters of docs/IRP.md 9.1,
 * framing the answer); what each kind does is its irpd_defer_ops
 * (irpd_login.c, irpd_enroll.c).
 */
#include "irpd_handlers_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

struct irpd_deferred {
    const irpd_defer_ops *ops;
    void *impl;
    char id[IRP_ID_MAX + 1];
    int done;          /* irpd_deferred_work ran */
    int cancel_status; /* != 0: answer this instead */
    char cancel_msg[IRP_MSG_MAX + 1];
    irpd_policy *pol;    /* where hold is settled (NULL: nothing held) */
    irpd_fail_hold hold; /* 9.1: the places this attempt holds */
    int64_t t0;          /* when it was asked (settles an unanswered one) */
};

/* Settles the request's failure-counter places with the status it got. */
static void settle(irpd_deferred *d, int status, int64_t now)
{
    if (d->pol != NULL) irpd_policy_fail_settle(d->pol, &d->hold, status, now);
    d->pol = NULL;
}

int irpd__deferred_new(const irpd_defer_ops *ops, void *impl, const irp_req *q, irpd_opctx *o,
                       const irpd_hctx *h)
{
    irpd_deferred *d = calloc(1, sizeof(*d));

    if (d == NULL) {
        ops->free(impl);
        return irpd__fail(o->x, IRP_INTERNAL, "out of memory");
    }
    d->ops = ops;
    d->impl = impl;
    snprintf(d->id, sizeof(d->id), "%s", q->id);
    d->t0 = o->now;
    if (o->hold != NULL && h->pol != NULL) {
        d->pol = h->pol;
        d->hold = *o->hold;
        memset(o->hold, 0, sizeof(*o->hold)); /* the deferred request settles it now */
    }
    *o->defer = d;
    return 0;
}

void irpd_deferred_work(irpd_deferred *d)
{
    if (d->cancel_status != 0) return; /* answered without the work */
    d->ops->work(d->impl);
    d->done = 1;
}

void irpd_deferred_cancel(irpd_deferred *d, int status, const char *msg)
{
    d->cancel_status = status;
    snprintf(d->cancel_msg, sizeof(d->cancel_msg), "%s", msg);
}

int irpd_deferred_finish(const irpd_hctx *h, irpd_session *s, irpd_deferred *d, int64_t now,
                         sc_buf *out, irpd_hresult *res)
{
    hscratch *x = h->x;
    irpd_opctx o;
    irp_resp r;
    int st, rc;

    memset(res, 0, sizeof(*res));
    res->op = d->ops->op;
    res->write = d->ops->write;
    snprintf(res->id, sizeof(res->id), "%s", d->id);
    irpd__scratch_reset(x);
    irp_resp_init(&r);
    memset(&o, 0, sizeof(o));
    o.r = &r;
    o.x = x;
    o.res = res;
    o.now = now;
    if (d->cancel_status != 0 || !d->done)
        st = irpd__fail(x, d->cancel_status != 0 ? d->cancel_status : IRP_INTERNAL, "%s",
                        d->cancel_status != 0 ? d->cancel_msg : "internal error");
    else
        st = d->ops->finish(h, s, d->impl, &o);
    if (res->wop != NULL && irpd__wop_answers(res->wop)) {
        /* its change went to the writer thread: answered, and counted (9.1), once durable */
        irpd__wop_adopt(res->wop, d->id, d->pol != NULL ? &d->hold : NULL);
        d->pol = NULL;
        res->status = IRP_OK;
        irpd__scratch_reset(x);
        return 0;
    }
    settle(d, st, now);     /* 9.1: counted before anything else is checked */
    if (res->wop != NULL) { /* its answer waits for the write (irpd_wop_finish) */
        irpd_wop *wop = res->wop;
        sc_buf a;
        sc_buf_init_public(&a, 0);
        rc = irpd__answer(&a, &r, d->id, st, x, res);
        if (rc == 0) rc = irpd__wop_set_answer(wop, &a, res);
        sc_buf_dispose(&a);
        if (rc != 0) irpd__wop_drop(h, wop);
        res->wop = rc == 0 ? wop : NULL;
    } else {
        rc = irpd__answer(out, &r, d->id, st, x, res);
    }
    irpd__scratch_reset(x);
    return rc;
}

const char *irpd_deferred_id(const irpd_deferred *d)
{
    return d->id;
}

void irpd_deferred_free(irpd_deferred *d)
{
    if (d == NULL) return;
    /* unanswered (its connection closed): a failure its work found still counts */
    settle(d, d->done && d->cancel_status == 0 ? d->ops->status(d->impl) : 0, d->t0);
    d->ops->free(d->impl);
    OPENSSL_cleanse(d, sizeof(*d));
    free(d);
}
