/*
 * irpd_handlers_int.h - what the handler files share (irpd_handlers.c: the
 * dispatch, the session and the registration/lookup operations;
 * irpd_handlers_account.c: renew, user-info, lookup-policy, access-log,
 * pkcs12-put/get, list-users; irpd_login.c: login). Not for the server.
 */
#ifndef IRPD_HANDLERS_INT_H
#define IRPD_HANDLERS_INT_H

#include "irpd_handlers.h"

/* Per-request storage the response points into (calloc'd by irpd_handle). */
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
} hscratch;

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
/* 0 when the connection is certificate-authenticated, else 401 (message set). */
int irpd__need_cert(const irpd_session *s, hscratch *x);
/* irpd_binding_cb adding one binding to ((irpd__collect *)arg)->r. */
int irpd__collect_binding(void *arg, const irpd_binding *b);

/*
 * Appends the framed answer: r with status 200 and id, or the status st with
 * x->msg; sets res->status (and res->detail on failure). 0 or -1 (memory).
 */
int irpd__answer(sc_buf *out, irp_resp *r, const char *id, int st, hscratch *x, irpd_hresult *res);

/*
 * 6.4 up to the password check (irpd_login.c): 409 when authenticated
 * already, the store's failure, or IRP_OK with *out the login to verify.
 */
int irpd__login_begin(const irpd_hctx *h, const irpd_session *s, const irp_req *q, hscratch *x,
                      irpd_login **out);

/* The operations of irpd_handlers_account.c (docs/IRP.md 6.6, 6.13 to 6.17). */
int irpd__op_renew(const irpd_hctx *h, irpd_session *s, const irp_req *q, irp_resp *r, hscratch *x,
                   irpd_hresult *res, int64_t now);
int irpd__op_user_info(const irpd_hctx *h, irpd_session *s, const irp_req *q, irp_resp *r,
                       hscratch *x, int64_t now);
int irpd__op_lookup_policy(const irpd_hctx *h, irpd_session *s, const irp_req *q, irp_resp *r,
                           hscratch *x, irpd_hresult *res, int64_t now);
int irpd__op_access_log(const irpd_hctx *h, irpd_session *s, const irp_req *q, irp_resp *r,
                        hscratch *x);
int irpd__op_pkcs12_put(const irpd_hctx *h, irpd_session *s, const irp_req *q, hscratch *x,
                        int64_t now);
int irpd__op_pkcs12_get(const irpd_hctx *h, irpd_session *s, irp_resp *r, hscratch *x);
int irpd__op_list_users(const irpd_hctx *h, irpd_session *s, const irp_req *q, irp_resp *r,
                        hscratch *x, int64_t now);

#endif
