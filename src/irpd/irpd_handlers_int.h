/*
 * irpd_handlers_int.h - what the handler files share (irpd_pipeline.c: the
 * request pipeline; irpd_ops.c: the operation table; irpd_handlers.c: the
 * session, shared response helpers and the registration/lookup
 * operations; irpd_handlers_account.c: renew, user-info, lookup-policy,
 * access-log, pkcs12-put/get, list-users; irpd_deferred.c: login). Not for the
 * server.
 */
#ifndef IRPD_HANDLERS_INT_H
#define IRPD_HANDLERS_INT_H

#include "sixchat/error.h"
#include "irpd_handlers.h"
#include "irpd_policy.h"

/*
 * Storage the response of one request points into: one per handler context
 * (irpd_hctx_init), reset between requests (irpd__scratch_reset), never
 * allocated per request.
 */
typedef struct hscratch {
    char devices[IRP_MAX_BINDINGS][IRP_DEVICE_MAX + 1];
    char serials[IRP_MAX_CERTS][IRP_SERIAL_MAX + 1];
    char users[IRP_MAX_CERTS][IRP_USER_MAX + 1];
    uint8_t *der[IRP_MAX_CERTS]; /* malloc'd copies */
    char user[IRP_USER_MAX + 1];
    char msg[IRP_MSG_MAX + 1];
    sc_buf sig; /* the lookup signature's bytes */
    irpd_issued issued;
    int bad; /* a callback failed (memory, a corrupt row) */
    /* user-info items, allow list, list-users names, access-log actors */
    char info_names[IRP_MAX_INFO][IRP_INFO_NAME_MAX + 1];
    char info_values[IRP_MAX_INFO][IRP_INFO_VALUE_MAX + 1];
    char names[IRP_MAX_USERS > IRP_MAX_ALLOW ? IRP_MAX_USERS : IRP_MAX_ALLOW][IRP_USER_MAX + 1];
    uint8_t p12[IRP_P12_MAX]; /* pkcs12-get (wiped after the answer) */
    size_t p12_used;          /* bytes of p12 to wipe */
} hscratch;

/* Makes x ready for the next request: frees and wipes what the last one left. */
void irpd__scratch_reset(hscratch *x);

/* What a handler fills: the response, its strings, the result for the server. */
typedef struct irpd_opctx {
    irp_resp *r;
    hscratch *x;
    irpd_hresult *res;
    int64_t now;
    irpd_deferred **defer; /* where to leave a deferred request (irpd__deferred_new) */
    irpd_fail_hold *hold;  /* the failure-counter places the request holds */
} irpd_opctx;

/* What a kind of deferred request does (irpd_login.c, irpd_enroll.c). */
typedef struct irpd_defer_ops {
    irp_op op;
    int write; /* its answer may have changed stored data (group commit) */
    /* the expensive part, on any thread: touches only impl */
    void (*work)(void *impl);
    /* the answer, on the loop thread: fills r and returns 0, or returns the status (msg in x) */
    int (*finish)(const irpd_hctx *h, irpd_session *s, void *impl, irpd_opctx *o);
    /* for a request never answered: the status its work came to (failures still count) */
    int (*status)(const void *impl);
    void (*free)(void *impl); /* wipes and frees impl */
} irpd_defer_ops;

/*
 * Defers the request q (irpd_deferred.c): wraps impl (freed with ops->free
 * from now on, also on failure), moves o->hold into it and leaves it in
 * *o->defer. 0, or 500 (memory; message in o->x).
 */
SC_MUST_CHECK int irpd__deferred_new(const irpd_defer_ops *ops, void *impl, const irp_req *q,
                                     irpd_opctx *o, const irpd_hctx *h);

/*
 * One operation of docs/IRP.md 6: does it against the store and the CA,
 * filling o->r and returning 0, or returning the error status with a message in
 * o->x. Called only by the pipeline, after the checks of the operation's
 * row in irpd_ops.c (identity, rate limits) passed.
 */
typedef int (*irpd_op_fn)(const irpd_hctx *h, irpd_session *s, const irp_req *q, irpd_opctx *o);

/* Bindings (and certificates) collected into a response. */
typedef struct irpd__collect {
    irp_resp *r;
    hscratch *x;
    int64_t now;
} irpd__collect;

/* Fails the request with status and a message (printf-style) in scratch; returns status. */
int irpd__fail(hscratch *x, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The answer to a store failure: its status, and for 500 nothing of the store's text. */
int irpd__store_fail(const irpd_hctx *h, hscratch *x, int st, const char *what);
/* 7.1: an administrator: listed in the configuration AND holding a certificate of our CA. */
int irpd__is_admin(const irpd_hctx *h, const irpd_session *s);
/* The connection's certificate as a store record (c's der points into s). */
void irpd__session_cert(const irpd_session *s, irpd_cert *c);
/* irpd_binding_cb adding one binding to ((irpd__collect *)arg)->r. */
int irpd__collect_binding(void *arg, const irpd_binding *b);

/*
 * Appends the framed answer (the edge where success becomes the wire's
 * 200): for st 0, r with status IRP_OK and id; else the status st with
 * x->msg. Sets res->status to the wire status (and res->detail on failure). 0 or -1 (memory).
 */
SC_MUST_CHECK int irpd__answer(sc_buf *out, irp_resp *r, const char *id, int st, hscratch *x,
                               irpd_hresult *res);

/* The operations (irpd_ops.c names them in its table). */
SC_MUST_CHECK int irpd__op_capabilities(const irpd_hctx *h, irpd_session *s, const irp_req *q,
                                        irpd_opctx *o);
SC_MUST_CHECK int irpd__op_ca_certs(const irpd_hctx *h, irpd_session *s, const irp_req *q,
                                    irpd_opctx *o);
SC_MUST_CHECK int irpd__op_ping(const irpd_hctx *h, irpd_session *s, const irp_req *q,
                                irpd_opctx *o);
SC_MUST_CHECK int irpd__op_login(const irpd_hctx *h, irpd_session *s, const irp_req *q,
                                 irpd_opctx *o);
SC_MUST_CHECK int irpd__op_enroll(const irpd_hctx *h, irpd_session *s, const irp_req *q,
                                  irpd_opctx *o);
SC_MUST_CHECK int irpd__op_renew(const irpd_hctx *h, irpd_session *s, const irp_req *q,
                                 irpd_opctx *o);
SC_MUST_CHECK int irpd__op_register(const irpd_hctx *h, irpd_session *s, const irp_req *q,
                                    irpd_opctx *o);
SC_MUST_CHECK int irpd__op_unregister(const irpd_hctx *h, irpd_session *s, const irp_req *q,
                                      irpd_opctx *o);
SC_MUST_CHECK int irpd__op_lookup(const irpd_hctx *h, irpd_session *s, const irp_req *q,
                                  irpd_opctx *o);
SC_MUST_CHECK int irpd__op_watch(const irpd_hctx *h, irpd_session *s, const irp_req *q,
                                 irpd_opctx *o);
SC_MUST_CHECK int irpd__op_unwatch(const irpd_hctx *h, irpd_session *s, const irp_req *q,
                                   irpd_opctx *o);
SC_MUST_CHECK int irpd__op_cert_status(const irpd_hctx *h, irpd_session *s, const irp_req *q,
                                       irpd_opctx *o);
SC_MUST_CHECK int irpd__op_revoke(const irpd_hctx *h, irpd_session *s, const irp_req *q,
                                  irpd_opctx *o);
SC_MUST_CHECK int irpd__op_user_info(const irpd_hctx *h, irpd_session *s, const irp_req *q,
                                     irpd_opctx *o);
SC_MUST_CHECK int irpd__op_lookup_policy(const irpd_hctx *h, irpd_session *s, const irp_req *q,
                                         irpd_opctx *o);
SC_MUST_CHECK int irpd__op_access_log(const irpd_hctx *h, irpd_session *s, const irp_req *q,
                                      irpd_opctx *o);
SC_MUST_CHECK int irpd__op_pkcs12_put(const irpd_hctx *h, irpd_session *s, const irp_req *q,
                                      irpd_opctx *o);
SC_MUST_CHECK int irpd__op_pkcs12_get(const irpd_hctx *h, irpd_session *s, const irp_req *q,
                                      irpd_opctx *o);
SC_MUST_CHECK int irpd__op_list_users(const irpd_hctx *h, irpd_session *s, const irp_req *q,
                                      irpd_opctx *o);

/* ---- irpd_wop.c: writes for the store's writer thread ---- */

struct irpd_opdef;

/* The spare-wop pool of the loop's hctx (irpd_hctx_init / _clear). 0 or -1. */
SC_MUST_CHECK int irpd__wop_pool_init(irpd_hctx *h);
void irpd__wop_pool_free(irpd_hctx *h);

/*
 * A write of op d for the writer thread: copies s's identity, moves q's
 * storage in (q is left empty) and hold. NULL without memory (q untouched).
 */
SC_MUST_CHECK irpd_wop *irpd__wop_new(const irpd_hctx *h, const struct irpd_opdef *d,
                                      const irpd_session *s, irp_req *q, int64_t now,
                                      const irpd_fail_hold *hold);

/*
 * A change a handler prepared on the loop and leaves to the writer thread
 * (docs/IRP.md 10.2): enroll's and renew's certificate, a refused CSR's
 * count against its token (6.5), an external certificate's record (7.6).
 */
typedef struct irpd_wop_fns {
    /*
     * On the writer thread: the change, against h->st (the writer's store;
     * h has the CA and the configuration, nothing of the loop's), filling o
     * like a handler (o->res->wrote when it refuses after a change).
     */
    int (*apply)(const irpd_hctx *h, irpd_session *s, void *impl, irpd_opctx *o);
    void (*free)(void *impl); /* wipes and frees impl */
} irpd_wop_fns;

/*
 * A write that runs fns->apply(impl) on the writer thread, with a copy of s
 * (NULL: none needed). impl is the wop's from now on (freed also when this
 * fails: NULL without memory). It answers as the request of op (its id and
 * failure-counter places given by irpd__wop_adopt), or, with op
 * IRP_OP_NONE, answers nothing (irpd_hresult.silent).
 */
irpd_wop *irpd__wop_call(const irpd_hctx *h, const irpd_wop_fns *fns, void *impl,
                         const irpd_session *s, irp_op op, int64_t now);

/* Gives op the request's id and moves hold (may be NULL) into it: settled with its answer. */
void irpd__wop_adopt(irpd_wop *op, const char *id, irpd_fail_hold *hold);

/* 1 when op frames its own answer (a handler's or irpd__wop_call's), 0 for an audit record. */
int irpd__wop_answers(const irpd_wop *op);

/*
 * A write of one audit record (docs/IRP.md 10.4), answered with what
 * irpd__wop_set_answer gives it. NULL without memory.
 */
SC_MUST_CHECK irpd_wop *irpd__wop_audit(const irpd_hctx *h, int64_t now, const char *what,
                                        const char *target, const char *detail);

/*
 * The answer of an audit-record write: answer (a framed response) and res
 * are copied, and given back by irpd_wop_finish. 0 or -1 (memory).
 */
SC_MUST_CHECK int irpd__wop_set_answer(irpd_wop *op, const sc_buf *answer, const irpd_hresult *res);

/* Frees a write that will not be applied (NULL is fine). */
void irpd__wop_drop(const irpd_hctx *h, irpd_wop *op);

/* Unpacks an irpd_opctx into the names the handlers use. */
#define IRPD_OP_UNPACK(o)                                                                          \
    irp_resp *r = (o)->r;                                                                          \
    hscratch *x = (o)->x;                                                                          \
    irpd_hresult *res = (o)->res;                                                                  \
    int64_t now = (o)->now;                                                                        \
    (void)r;                                                                                       \
    (void)x;                                                                                       \
    (void)res;                                                                                     \
    (void)now

#endif
