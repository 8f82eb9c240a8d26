/*
 * irpd_pipeline.c - the one request pipeline (irpd_handlers.h irpd_handle).
 *
 * A request is parsed once; every later decision reads the parsed request
 * and the operation's row of the table in irpd_ops.c, never the bytes:
 *
 *   parse -> request bucket (9.2) -> document errors (400, 413, 422, 501)
 *   -> shutdown (503) -> who may call it (401, 403; 7.1) -> re-check of the
 *   connection's identity (ops acting on it; 401, 11.4) and the served
 *   domains (403, 404; 6.0, irpd_identity.c) -> failure limits
 *   (429; 9.1) -> the op's bucket (429; 9.2) -> handler -> settle failures
 *
 * which is the order of docs/IRP.md 5.3 (the request bucket comes first: it
 * bounds the work any document costs). Rate decisions are irpd_policy's.
 */
#include "irpd_ops.h"
#include "irpd_sigcache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

int irpd_hctx_init(irpd_hctx *h, irpd_ca *ca, irpd_store *st, const irpd_config *cfg)
{
    unsigned char *der = NULL;
    int n;

    memset(h, 0, sizeof(*h));
    h->ca = ca;
    h->st = st;
    h->cfg = cfg;
    if (ca != NULL) {
        if ((n = i2d_X509(irpd_ca_cert(ca), &der)) <= 0) return -1;
        h->ca_der = der;
        h->ca_der_len = (size_t)n;
    }
    h->xp = sc_xml_parser_new();
    h->x = calloc(1, sizeof(*h->x));
    h->sigs = irpd_sigcache_new(IRPD_SIGCACHE_SLOTS);
    if (h->xp == NULL || h->x == NULL || h->sigs == NULL || irpd__wop_pool_init(h) != 0) {
        irpd_hctx_clear(h);
        return -1;
    }
    sc_buf_init_public(&h->x->sig, 0);
    return 0;
}

void irpd_hctx_clear(irpd_hctx *h)
{
    if (h->x != NULL) {
        irpd__scratch_reset(h->x);
        sc_buf_dispose(&h->x->sig);
        OPENSSL_cleanse(h->x, sizeof(*h->x));
        free(h->x);
    }
    if (h->xp != NULL) sc_xml_parser_free(h->xp);
    irpd__wop_pool_free(h);
    irpd_sigcache_free(h->sigs);
    OPENSSL_free(h->ca_der);
    memset(h, 0, sizeof(*h));
}

/* The user a request's per-operation bucket is keyed by (9.2). */
static const char *caller(const irpd_session *s)
{
    return s->cert_auth ? s->client.user_id : s->pw_auth ? s->pw_user : NULL;
}

/*
 * The checks of the op's row, in the order of 5.3. 0 to run the
 * handler, else the status to answer (message in x); *hold is filled when
 * the attempt was admitted against failure counters.
 */
static int admit(const irpd_hctx *h, irpd_session *s, const irpd_opdef *d, const irp_req *q,
                 int64_t now, hscratch *x, irpd_hresult *res, irpd_fail_hold *hold, int *record)
{
    const char *msg;
    irpd_fail_id fail = d->fail;
    int st;

    st = irpd_op_access(d, s, q, irpd__is_admin(h, s), &msg);
    if (st != 0) return irpd__fail(x, st, "%s", msg);
    /* 11.4: the identity still holds when it is used */
    if ((d->flags & IRPD_OPF_IDENTITY) && (s->cert_auth || s->pw_auth) && h->recheck != NULL) {
        st = h->recheck(h, s, now, record, x->msg, sizeof(x->msg));
        if (st == 0 && *record) return 0; /* 7.6: recorded first, then checked again */
        s->record_tried = 0;
        if (st == IRP_AUTH_REQUIRED) {
            res->ended = 1;     /* answered, then this connection closes */
            if (s->cert_auth) { /* and the others of that certificate (close_revoked) */
                res->revoked = 1;
                memcpy(res->revoked_fp, s->client.fingerprint, 32);
            }
        }
        if (st != 0) return st;
    }
    /* 2.1, 6.0: the served domains */
    if ((st = irpd__domain_check(h, s, d, q, x)) != 0) return st;
    if (h->pol == NULL) return 0;
    if (fail == IRPD_FAIL_TOKEN && q->token == NULL) fail = IRPD_FAIL_NONE; /* a password login's */
    if (!irpd_policy_fail_admit(h->pol, fail, q->user, s->has_peer ? &s->peer : NULL, now, hold))
        return irpd__fail(x, IRP_RATE_LIMITED, "too many failed attempts: try later");
    if (!irpd_policy_op(h->pol, d->bucket, caller(s), q->all ? NULL : q->device, now)) {
        irpd_policy_fail_settle(h->pol, hold, IRP_RATE_LIMITED, now);
        return irpd__fail(x, IRP_RATE_LIMITED, "too many %s requests: try later",
                          irp_op_name(d->op));
    }
    return 0;
}

int irpd_handle(const irpd_hctx *h, irpd_session *s, const uint8_t *doc, size_t len, int64_t now,
                int64_t now_ms, sc_buf *out, irpd_hresult *res, irpd_deferred **defer)
{
    irpd_deferred *lg = NULL;
    irpd_fail_hold hold;
    const irpd_opdef *d = NULL;
    hscratch *x = h->x;
    irpd_opctx o;
    irp_req q;
    irp_resp r;
    int st, rc, record = 0;

    memset(res, 0, sizeof(*res));
    memset(&hold, 0, sizeof(hold));
    if (defer != NULL) *defer = NULL;
    irpd__scratch_reset(x);
    irp_resp_init(&r);
    st = irp_req_parse_with(h->xp, &q, doc, len);
    if (s->writes_pending && st == 0 &&
        ((d = irpd_op_def(q.op)) == NULL || !(d->flags & IRPD_OPF_APPLY))) {
        irp_req_clear(&q); /* handed in again after the writes (irpd_session.writes_pending) */
        return 1;
    }
    snprintf(res->id, sizeof(res->id), "%s", q.id);
    if (h->pol != NULL && !irpd_policy_request(h->pol, s->cert_auth ? s->client.user_id : NULL,
                                               s->has_peer ? &s->peer : NULL, now_ms)) {
        st = irpd__fail(x, IRP_RATE_LIMITED, "too many requests: slow down");
        snprintf(res->detail, sizeof(res->detail), "request rate");
        goto done;
    }
    if (st != 0) {
        irpd__fail(x, st, "%s", q.err[0] != '\0' ? q.err : irp_status_name(st));
        goto done;
    }
    res->op = q.op;
    if (h->shutting_down) {
        st = irpd__fail(x, IRP_UNAVAILABLE, "the registry is shutting down");
        goto done;
    }
    if ((d = irpd_op_def(q.op)) == NULL) {
        st = irpd__fail(x, IRP_UNKNOWN_OP, "operation %s is not offered by this registry",
                        irp_op_name(q.op) != NULL ? irp_op_name(q.op) : "?");
        goto done;
    }
    res->write = (d->flags & IRPD_OPF_WRITE) != 0;
    if ((st = admit(h, s, d, &q, now, x, res, &hold, &record)) != 0) goto done;
    if (record) {
        /*
         * 7.6: the connection's external certificate is recorded on the
         * writer thread first; the server hands this request in again once
         * that is durable (then recorded, it passes). Still unrecorded on
         * the second pass: the record failed.
         */
        if (s->record_tried) {
            s->record_tried = 0;
            st = irpd__fail(x, IRP_INTERNAL, "identity check: %s", irp_status_name(IRP_INTERNAL));
            goto done;
        }
        if ((res->wop = irpd__wop_record(h, s, now)) == NULL) {
            st = irpd__fail(x, IRP_UNAVAILABLE, "out of memory: try later");
            goto done;
        }
        s->record_tried = 1;
        irp_req_clear(&q);
        irpd__scratch_reset(x);
        return 1;
    }
    if ((d->flags & IRPD_OPF_APPLY) && h->defer_writes) {
        /* 10.2: the handler runs on the writer thread (irpd_wop.c), answered when durable */
        if ((res->wop = irpd__wop_new(h, d, s, &q, now, &hold)) != NULL) {
            res->status = IRP_OK;
            res->reads_first = (d->flags & IRPD_OPF_READS) != 0;
            irpd__scratch_reset(x);
            return 0;
        }
        st = irpd__fail(x, IRP_UNAVAILABLE, "out of memory: try later");
        goto done;
    }
    o.r = &r;
    o.x = x;
    o.res = res;
    o.now = now;
    o.defer = &lg;
    o.hold = &hold;
    st = d->run(h, s, &q, &o);
    if (res->wop != NULL && lg == NULL) {
        /* the handler left its change to the writer thread (enroll, renew): answered when durable
         */
        irpd__wop_adopt(res->wop, q.id, &hold);
        res->status = IRP_OK;
        irp_req_clear(&q);
        irpd__scratch_reset(x);
        return 0;
    }

done:
    if (lg != NULL && defer != NULL) {
        *defer = lg; /* answered by irpd_deferred_finish, which settles its hold */
        res->status = IRP_OK;
        rc = 0;
    } else if (lg != NULL) {
        irpd_deferred_work(lg);
        rc = irpd_deferred_finish(h, s, lg, now, out, res);
        irpd_deferred_free(lg);
    } else {
        if (h->pol != NULL) irpd_policy_fail_settle(h->pol, &hold, st, now);
        rc = irpd__answer(out, &r, q.id, st, x, res);
    }
    irp_req_clear(&q);
    irpd__scratch_reset(x);
    return rc;
}
