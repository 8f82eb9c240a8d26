/*
 * irpd_login.c - the login operation (docs/IRP.md 6.4, 7.2) in three steps,
 * so that the server can run the password check (scrypt: ~70 ms of CPU and
 * 32 MiB) off its event loop: irpd_handle looks the user up and makes an
 * irpd_login (irpd__login_begin), irpd_login_verify runs the check on any
 * thread, irpd_login_finish answers on the loop thread.
 */
#include "irpd_handlers_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "irpd_secret.h"

struct irpd_login {
    char id[IRP_ID_MAX + 1];
    char user[IRP_USER_MAX + 1];        /* as asked (audit) */
    char name[IRPD_STORE_USER_MAX + 1]; /* as stored; "" when the user does not exist */
    char *pw;                           /* malloc'd copy, wiped on free */
    size_t pw_len;
    char hash[IRPD_STORE_PW_MAX + 1]; /* the encoded hash */
    int has_hash;                     /* 0: no such user or no password */
    int rc;                           /* irpd_pw_verify's answer */
    int done;                         /* irpd_login_verify ran */
    int cancel_status;                /* != 0: answer this instead */
    char cancel_msg[IRP_MSG_MAX + 1];
};

/* 6.4: checks what needs no password check; on success *out is the deferred login. */
int irpd__login_begin(const irpd_hctx *h, const irpd_session *s, const irp_req *q, hscratch *x,
                      irpd_login **out)
{
    irpd_login *l;
    irpd_user u;
    int st;

    *out = NULL;
    if (s->cert_auth || s->pw_auth) return irpd__fail(x, IRP_CONFLICT, "already authenticated");
    memset(&u, 0, sizeof(u));
    st = irpd_store_user_get(h->st, q->user, &u);
    if (st != IRP_OK && st != IRP_NOT_FOUND) return irpd__store_fail(h, x, st, "login");
    l = calloc(1, sizeof(*l));
    if (l != NULL) l->pw = malloc(q->password_len > 0 ? q->password_len : 1);
    if (l == NULL || l->pw == NULL) {
        OPENSSL_cleanse(&u, sizeof(u));
        free(l);
        return irpd__fail(x, IRP_INTERNAL, "out of memory");
    }
    memcpy(l->pw, q->password, q->password_len);
    l->pw_len = q->password_len;
    snprintf(l->id, sizeof(l->id), "%s", q->id);
    snprintf(l->user, sizeof(l->user), "%s", q->user);
    if (st == IRP_OK && u.pw_hash_len > 0) {
        snprintf(l->hash, sizeof(l->hash), "%s", (const char *)u.pw_hash);
        l->has_hash = 1;
    }
    if (st == IRP_OK) snprintf(l->name, sizeof(l->name), "%s", u.name);
    OPENSSL_cleanse(&u, sizeof(u));
    *out = l;
    return IRP_OK;
}

void irpd_login_verify(irpd_login *l)
{
    if (l->cancel_status != 0) return; /* answered without a check */
    /* 6.4: a wrong password and an unknown user look the same (same scrypt cost) */
    l->rc = irpd_pw_verify(l->pw, l->pw_len, l->has_hash ? l->hash : NULL);
    l->done = 1;
}

void irpd_login_cancel(irpd_login *l, int status, const char *msg)
{
    l->cancel_status = status;
    snprintf(l->cancel_msg, sizeof(l->cancel_msg), "%s", msg);
}

int irpd_login_finish(const irpd_hctx *h, irpd_session *s, irpd_login *l, int64_t now, sc_buf *out,
                      irpd_hresult *res)
{
    hscratch *x;
    irp_resp r;
    int st, rc;

    memset(res, 0, sizeof(*res));
    res->op = IRP_OP_LOGIN;
    snprintf(res->id, sizeof(res->id), "%s", l->id);
    x = calloc(1, sizeof(*x));
    if (x == NULL) return -1;
    sc_buf_init_public(&x->sig, 0);
    irp_resp_init(&r);
    if (l->cancel_status != 0 || !l->done) {
        st = irpd__fail(x, l->cancel_status != 0 ? l->cancel_status : IRP_INTERNAL, "%s",
                        l->cancel_status != 0 ? l->cancel_msg : "internal error");
    } else if (s->cert_auth || s->pw_auth) {
        st = irpd__fail(x, IRP_CONFLICT, "already authenticated");
    } else if (l->rc != IRPD_SECRET_OK) {
        if (irpd_store_audit_add(h->st, now, NULL, "login-failed", l->user, "wrong password") !=
            IRP_OK)
            fprintf(stderr, "irpd: error: audit: %s\n", irpd_store_errmsg(h->st));
        st = irpd__fail(x, IRP_AUTH_REQUIRED, "wrong user or password");
    } else {
        s->pw_auth = 1;
        snprintf(s->pw_user, sizeof(s->pw_user), "%s", l->name);
        snprintf(x->user, sizeof(x->user), "%s", s->pw_user);
        r.user = x->user;
        st = IRP_OK;
    }
    rc = irpd__answer(out, &r, l->id, st, x, res);
    sc_buf_dispose(&x->sig);
    free(x);
    return rc;
}

const char *irpd_login_id(const irpd_login *l)
{
    return l->id;
}

void irpd_login_free(irpd_login *l)
{
    if (l == NULL) return;
    if (l->pw != NULL) OPENSSL_cleanse(l->pw, l->pw_len);
    free(l->pw);
    OPENSSL_cleanse(l, sizeof(*l));
    free(l);
}
