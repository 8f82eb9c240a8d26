/*
 * irpd_login.c - the login operation (docs/IRP.md 6.4, 7.2) as a deferred
 * request, so that the server can run the password check (scrypt: ~70 ms
 * of CPU and 32 MiB) off its event loop: irpd__op_login looks the user up
 * and defers; the work runs the check on any thread; the finish answers on
 * the loop thread.
 */
#include "irpd_handlers_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "irpd_secret.h"

typedef struct login {
    char user[IRP_USER_MAX + 1];        /* as asked (audit) */
    char name[IRPD_STORE_USER_MAX + 1]; /* as stored; "" when the user does not exist */
    char *pw;                           /* malloc'd copy, wiped on free */
    size_t pw_len;
    char hash[IRPD_STORE_PW_MAX + 1]; /* the encoded hash */
    int has_hash;                     /* 0: no such user or no password */
    int rc;                           /* irpd_pw_verify's answer */
} login;

static void login_work(void *impl)
{
    login *l = impl;

    /* 6.4: a wrong password and an unknown user look the same (same scrypt cost) */
    l->rc = irpd_pw_verify(l->pw, l->pw_len, l->has_hash ? l->hash : NULL);
}

static int login_finish(const irpd_hctx *h, irpd_session *s, void *impl, irpd_opctx *o)
{
    login *l = impl;
    hscratch *x = o->x;

    if (s->cert_auth || s->pw_auth) return irpd__fail(x, IRP_CONFLICT, "already authenticated");
    if (l->rc != IRPD_SECRET_OK) {
        /* 10.4: recorded here, or on the writer thread (the answer waits for it) */
        if (h->defer_writes) {
            o->res->wop = irpd__wop_audit(h, o->now, "login-failed", l->user, "wrong password");
            if (o->res->wop == NULL) fprintf(stderr, "irpd: error: audit: out of memory\n");
        } else if (irpd_store_audit_add(h->st, o->now, NULL, "login-failed", l->user,
                                        "wrong password") != 0) {
            fprintf(stderr, "irpd: error: audit: %s\n", irpd_store_errmsg(h->st));
        }
        return irpd__fail(x, IRP_AUTH_REQUIRED, "wrong user or password");
    }
    s->pw_auth = 1;
    snprintf(s->pw_user, sizeof(s->pw_user), "%s", l->name);
    snprintf(x->user, sizeof(x->user), "%s", s->pw_user);
    o->r->user = x->user;
    return 0;
}

static int login_status(const void *impl)
{
    return ((const login *)impl)->rc == IRPD_SECRET_OK ? 0 : IRP_AUTH_REQUIRED;
}

static void login_free(void *impl)
{
    login *l = impl;

    if (l == NULL) return;
    if (l->pw != NULL) OPENSSL_cleanse(l->pw, l->pw_len);
    free(l->pw);
    OPENSSL_cleanse(l, sizeof(*l));
    free(l);
}

static const irpd_defer_ops login_ops = {IRP_OP_LOGIN, 0,         login_work, login_finish,
                                         login_status, login_free};

/* 6.4 up to the password check: 409 when authenticated already, the store's failure, or deferred.
 */
int irpd__op_login(const irpd_hctx *h, irpd_session *s, const irp_req *q, irpd_opctx *o)
{
    hscratch *x = o->x;
    login *l;
    irpd_user u;
    int st;

    if (s->cert_auth || s->pw_auth) return irpd__fail(x, IRP_CONFLICT, "already authenticated");
    memset(&u, 0, sizeof(u));
    /* 6.0: a user outside the served domains logs in as an unknown user would: not at all */
    st = irpd_config_serves(h->cfg, q->user) ? irpd_store_user_get(h->st, q->user, &u)
                                             : IRP_NOT_FOUND;
    if (st != 0 && st != IRP_NOT_FOUND) return irpd__store_fail(h, x, st, "login");
    l = calloc(1, sizeof(*l));
    if (l != NULL) l->pw = malloc(q->password_len > 0 ? q->password_len : 1);
    if (l == NULL || l->pw == NULL) {
        OPENSSL_cleanse(&u, sizeof(u));
        free(l);
        return irpd__fail(x, IRP_INTERNAL, "out of memory");
    }
    memcpy(l->pw, q->password, q->password_len);
    l->pw_len = q->password_len;
    snprintf(l->user, sizeof(l->user), "%s", q->user);
    if (st == 0 && u.pw_hash_len > 0) {
        snprintf(l->hash, sizeof(l->hash), "%s", (const char *)u.pw_hash);
        l->has_hash = 1;
    }
    if (st == 0) snprintf(l->name, sizeof(l->name), "%s", u.name);
    OPENSSL_cleanse(&u, sizeof(u));
    return irpd__deferred_new(&login_ops, l, q, o, h);
}
