/*
 * irpd_enroll.c - enroll and renew (docs/IRP.md 6.5, 6.6): a certificate
 * from a CSR. The cheap checks run at once on the loop thread, in this
 * order: the token (6.5 step 1), then the CSR's encoding, key type, size
 * and exponent, and its self-signature (irpd_ca_csr_parse). The key check
 * of an RSA key (a primality test on the modulus, up to a second for a
 * large one) is deferred: the server runs it in its thread pool, and the
 * certificate is issued and recorded when it is done.
 *
 * A refused CSR (422) counts against the enrolment token that came with it:
 * at the IRPD_TOKEN_REFUSALS_MAX-th the token is used up, so one token
 * cannot buy CSR checks without end (6.5).
 *
 * The store changes (the certificate and the token used, or the token used
 * up by refusals) are the writer thread's when the server has one
 * (irpd_hctx.defer_writes; docs/IRP.md 10.2): the job then moves into a
 * write (irpd__wop_call) that issues and records the certificate there,
 * and the answer is sent once that is durable. The CA may issue on any
 * thread (irpd_ca.h).
 */
#include "irpd_handlers_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "irpd_secret.h"

typedef struct enroll_job {
    irp_op op; /* IRP_OP_ENROLL or IRP_OP_RENEW */
    irpd_csr *csr;
    char user[IRPD_STORE_USER_MAX + 1]; /* whose certificate */
    int has_token;
    uint8_t th[IRPD_TOKEN_HASH_LEN]; /* the token's hash */
    int keep;                        /* renew: never supersede keep_fp */
    uint8_t keep_fp[32];
    int rc; /* the key check's answer (IRPD_CA_OK or a status) */
    irpd_ca_err err;
    char why[IRP_MSG_MAX + 1]; /* a refused CSR's reason (the token's use-up, on the writer) */
} enroll_job;

static void job_free(void *impl)
{
    enroll_job *j = impl;

    if (j == NULL) return;
    irpd_ca_csr_free(j->csr);
    OPENSSL_cleanse(j, sizeof(*j));
    free(j);
}

/* Uses the token up after its last allowed refused CSR (6.5); 422 with j->why. */
static int use_up(const irpd_hctx *h, enroll_job *j, irpd_opctx *o)
{
    int st = irpd_store_token_consume(h->st, j->th, o->now, NULL, j->user);

    if (st != 0 && st != IRP_GONE && st != IRP_FORBIDDEN)
        return irpd__store_fail(h, o->x, st, "enroll");
    o->res->wrote = st == 0; /* the refusal's answer waits for the token's commit */
    return irpd__fail(o->x, IRP_INVALID, "%.160s; the token is now used up (%d refused CSRs)",
                      j->why, IRPD_TOKEN_REFUSALS_MAX);
}

static int use_up_apply(const irpd_hctx *h, irpd_session *s, void *impl, irpd_opctx *o)
{
    (void)s;
    return use_up(h, impl, o);
}

static const irpd_wop_fns use_up_fns = {use_up_apply, job_free};

/*
 * 422 for a refused CSR, counted against the token (used up at the limit:
 * here, or on the writer thread, j moving into the write). Frees j.
 */
static int refused(const irpd_hctx *h, enroll_job *j, const irpd_ca_err *err, irpd_opctx *o)
{
    int st;

    snprintf(j->why, sizeof(j->why), "%s", err->msg[0] != '\0' ? err->msg : "bad CSR");
    if (err->status != IRPD_CA_INVALID) {
        st = irpd__fail(o->x, IRP_INTERNAL, "%s", j->why);
    } else if (j->has_token && h->pol != NULL && irpd_policy_token_refused(h->pol, j->th, o->now)) {
        if (h->defer_writes) {
            o->res->wop = irpd__wop_call(h, &use_up_fns, j, NULL, j->op, o->now);
            return o->res->wop != NULL ? 0 : irpd__fail(o->x, IRP_INTERNAL, "out of memory");
        }
        st = use_up(h, j, o);
    } else {
        st = irpd__fail(o->x, IRP_INVALID, "%s", j->why);
    }
    job_free(j);
    return st;
}

/* 6.5 step 5: what the server does after a certificate was superseded (closes, tells watchers). */
static void superseded(const irpd_revocation *sup, irpd_hresult *res)
{
    if (sup->n_certs == 0) return;
    res->revoked = 1; /* the superseded certificate's connections end (6.5 step 5) */
    memcpy(res->revoked_fp, sup->fingerprint, 32);
    if (sup->n_bindings > 0) { /* and its user's bindings went */
        res->changed = 1;
        snprintf(res->changed_user, sizeof(res->changed_user), "%s", sup->user);
        res->change = IRP_CHANGE_REVOKE;
    }
}

/* Issues and records the certificate (6.5 steps 4 to 6), fills the response. */
static int issue(const irpd_hctx *h, enroll_job *j, irpd_opctx *o)
{
    irp_resp *r = o->r;
    hscratch *x = o->x;
    irpd_revocation sup;
    irpd_ca_err err;
    irpd_cert c;
    int st;

    if (irpd_ca_issue_csr(h->ca, j->csr, j->user, o->now, h->cfg->cert_lifetime, &x->issued,
                          &err) != IRPD_CA_OK)
        return irpd__fail(x, err.status == IRPD_CA_INVALID ? IRP_INVALID : IRP_INTERNAL, "%s",
                          err.msg[0] != '\0' ? err.msg : "cannot issue the certificate");
    memset(&c, 0, sizeof(c));
    snprintf(c.serial, sizeof(c.serial), "%s", x->issued.serial_hex);
    snprintf(c.user, sizeof(c.user), "%s", j->user);
    c.der = x->issued.der;
    c.der_len = x->issued.der_len;
    c.not_before = x->issued.not_before;
    c.not_after = x->issued.not_after;
    memset(&sup, 0, sizeof(sup));
    if (j->op == IRP_OP_ENROLL) {
        st = irpd_store_enroll(h->st, j->has_token ? j->th : NULL, &c, j->user, o->now, &sup);
        if (st == IRP_FORBIDDEN) return irpd__fail(x, st, "unknown enrolment token");
        if (st == IRP_GONE) return irpd__fail(x, st, "enrolment token used or expired");
        if (st != 0) return irpd__store_fail(h, x, st, "enroll");
        superseded(&sup, o->res); /* 6.5 step 5: its connections end too */
    } else {
        /* step 5 of 6.5, never superseding the certificate that authenticated the request */
        st = irpd_store_cert_add(h->st, &c, j->keep_fp, j->user, o->now, &sup);
        if (st == IRP_NOT_FOUND) return irpd__fail(x, st, "no such user %s", j->user);
        if (st != 0) return irpd__store_fail(h, x, st, "renew");
        snprintf(x->msg, sizeof(x->msg), "certificate issued");
        superseded(&sup, o->res);
        snprintf(o->res->detail, sizeof(o->res->detail), "serial=%.40s%s%.32s", c.serial,
                 sup.n_certs > 0 ? " superseded=" : "", sup.n_certs > 0 ? sup.serial : "");
    }
    memcpy(x->serials[0], c.serial, sizeof(c.serial));
    r->n_certs = 2;
    r->certs[0].der = x->issued.der;
    r->certs[0].der_len = x->issued.der_len;
    r->certs[0].serial = x->serials[0];
    r->certs[0].not_after = (uint64_t)x->issued.not_after;
    r->certs[1].der = h->ca_der;
    r->certs[1].der_len = h->ca_der_len;
    return 0;
}

static void job_work(void *impl)
{
    enroll_job *j = impl;

    j->rc = irpd_ca_csr_key_check(j->csr, &j->err);
}

static int issue_apply(const irpd_hctx *h, irpd_session *s, void *impl, irpd_opctx *o)
{
    (void)s;
    return issue(h, impl, o);
}

static const irpd_wop_fns issue_fns = {issue_apply, job_free};

/* After the key check: refused, or issued (on the writer thread, j moving there). Frees j. */
static int conclude(const irpd_hctx *h, enroll_job *j, irpd_opctx *o)
{
    int st;

    if (j->rc != IRPD_CA_OK) return refused(h, j, &j->err, o);
    if (h->defer_writes) {
        o->res->wop = irpd__wop_call(h, &issue_fns, j, NULL, j->op, o->now);
        return o->res->wop != NULL ? 0 : irpd__fail(o->x, IRP_INTERNAL, "out of memory");
    }
    st = issue(h, j, o);
    job_free(j);
    return st;
}

static int job_finish(const irpd_hctx *h, irpd_session *s, void *impl, irpd_opctx *o)
{
    enroll_job *j = impl, *mine = malloc(sizeof(*mine));

    (void)s;
    if (mine == NULL) return irpd__fail(o->x, IRP_INTERNAL, "out of memory");
    *mine = *j; /* the deferred request keeps an empty shell (its status), freed with it */
    j->csr = NULL;
    return conclude(h, mine, o);
}

static int job_status(const void *impl)
{
    return ((const enroll_job *)impl)->rc == IRPD_CA_OK ? 0 : IRP_INVALID;
}

static const irpd_defer_ops enroll_ops = {IRP_OP_ENROLL, 1,          job_work,
                                          job_finish,    job_status, job_free};
static const irpd_defer_ops renew_ops = {IRP_OP_RENEW, 1,          job_work,
                                         job_finish,   job_status, job_free};

/* The CSR checks of 6.5 steps 2 and 3 for j, then issuing: deferred when the key check is slow. */
static int run(const irpd_hctx *h, const irp_req *q, enroll_job *j, irpd_opctx *o)
{
    irpd_ca_err err;

    if (irpd_ca_csr_parse(q->csr, q->csr_len, &j->csr, &err) != IRPD_CA_OK)
        return refused(h, j, &err, o);
    if (irpd_ca_csr_slow(j->csr) && o->defer != NULL)
        return irpd__deferred_new(j->op == IRP_OP_ENROLL ? &enroll_ops : &renew_ops, j, q, o, h);
    job_work(j);
    return conclude(h, j, o);
}

/* 6.5 */
int irpd__op_enroll(const irpd_hctx *h, irpd_session *s, const irp_req *q, irpd_opctx *o)
{
    hscratch *x = o->x;
    enroll_job *j = calloc(1, sizeof(*j));
    int st;

    if (j == NULL) return irpd__fail(x, IRP_INTERNAL, "out of memory");
    j->op = IRP_OP_ENROLL;
    if (q->token != NULL) { /* 1. the token names the user */
        j->has_token = 1;
        if (irpd_token_hash(q->token, strlen(q->token), j->th) != 0) {
            job_free(j);
            return irpd__fail(x, IRP_FORBIDDEN, "unknown enrolment token");
        }
        st = irpd_store_token_check(h->st, j->th, o->now, j->user);
        if (st != 0) {
            job_free(j);
            if (st == IRP_FORBIDDEN) return irpd__fail(x, st, "unknown enrolment token");
            if (st == IRP_GONE) return irpd__fail(x, st, "enrolment token used or expired");
            return irpd__store_fail(h, x, st, "enroll");
        }
    } else if (s->pw_auth) { /* else the login does (the operation table let nothing else in) */
        snprintf(j->user, sizeof(j->user), "%s", s->pw_user);
    } else {
        job_free(j);
        return irpd__fail(x, IRP_AUTH_REQUIRED, "enroll needs a token or a password login");
    }
    if (!irpd_config_serves(h->cfg, j->user)) { /* 2.1: a token made before the domain went */
        st = irpd__fail(x, IRP_FORBIDDEN, "%s is not in a domain this registry serves", j->user);
        job_free(j);
        return st;
    }
    return run(h, q, j, o);
}

/* 6.6 */
int irpd__op_renew(const irpd_hctx *h, irpd_session *s, const irp_req *q, irpd_opctx *o)
{
    enroll_job *j = calloc(1, sizeof(*j));

    if (j == NULL) return irpd__fail(o->x, IRP_INTERNAL, "out of memory");
    j->op = IRP_OP_RENEW;
    snprintf(j->user, sizeof(j->user), "%s", s->client.user_id);
    j->keep = 1;
    memcpy(j->keep_fp, s->client.fingerprint, 32);
    return run(h, q, j, o);
}
