/*
 * irpd_login.c - the login operation (docs/IRP.md 6.4, 7.2) in three steps,
 * so that the server can run the password check (scrypt: ~70 ms of CPU and
 * 32 MiB) off its event loop: the pipeline runs irpd__op_login, which looks
 * the user up and makes an irpd_login; irpd_login_verify runs the check on
 * any thread, irpd_login_finish answers on the loop thread. The login
 * carries the places it holds in the failure counters (docs/IRP.md 9.1)
 * and settles them when answered or freed, so a failure is counted even
 * when its connection went away first.
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
    irpd_policy *pol;    /* where hold is settled (NULL: nothing held) */
    irpd_fail_hold hold; /* 9.1: the places this attempt holds */
    int64_t t0;          /* when it was asked (settles an unanswered one) */
};

/* Settles the login's failure-counter places with the status it got. */
static void settle(irpd_login *l, int status, int64_t now)
{
    if (l->pol != NULL) irpd_policy_fail_settle(l->pol, &l->hold, status, now);
    l->pol = NULL;
}

/*
 * 6.4 up to the password check: 409 when authenticated already, the
 * store's failure, or IRP_OK with *o->defer the login to verify (and the
 * failure-counter places moved from *o->hold into it).
 */
int irpd__op_login(const irpd_hctx *h, irpd_session *s, const irp_req *q, irpd_opctx *o)
{
    hscratch *x = o->x;
    irpd_login *l;
    irpd_user u;
    int st;

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
    if (o->hold != NULL) {
        l->pol = h->pol;
        l->hold = *o->hold;
        l->t0 = o->now;
        memset(o->hold, 0, sizeof(*o->hold)); /* the login settles it now */
    }
    *o->defer = l;
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
    hscratch *x = h->x;
    irp_resp r;
    int st, rc;

    memset(res, 0, sizeof(*res));
    res->op = IRP_OP_LOGIN;
    snprintf(res->id, sizeof(res->id), "%s", l->id);
    irpd__scratch_reset(x);
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
    settle(l, st, now); /* 9.1: counted before anything else is checked */
    rc = irpd__answer(out, &r, l->id, st, x, res);
    irpd__scratch_reset(x);
    return rc;
}

const char *irpd_login_id(const irpd_login *l)
{
    return l->id;
}

void irpd_login_free(irpd_login *l)
{
    if (l == NULL) return;
    /* unanswered (its connection closed): a wrong password still counts */
    settle(l,
           l->done && l->cancel_status == 0 && l->rc != IRPD_SECRET_OK ? IRP_AUTH_REQUIRED : IRP_OK,
           l->t0);
    if (l->pw != NULL) OPENSSL_cleanse(l->pw, l->pw_len);
    free(l->pw);
    OPENSSL_cleanse(l, sizeof(*l));
    free(l);
}
