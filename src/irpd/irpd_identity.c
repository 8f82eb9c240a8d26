/*
 * irpd_identity.c - whether a connection's identity still holds when it is
 * used, and what an identity outside the served domains may do
 * (docs/IRP.md 6.0, 7.1, 7.6, 11.4).
 *
 * A connection's certificate is checked at its handshake, but a
 * connection lives on: the certificate may be revoked meanwhile (by
 * another connection, by `irpd revoke` in another process, by another
 * registry instance on the same store), superseded by a newer enrolment,
 * or expire. So every request that acts on the identity looks the
 * certificate up in the store again, and the server's one-second tick
 * does the same for idle connections (irpd_session_recheck).
 */
#include "irpd_ops.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <openssl/crypto.h>

/* 7.6: records an external CA's certificate seen for the first time (and its user if new). */
static irp_status record_external(irpd_store *st, const irpd_session *s, int64_t now)
{
    irpd_cert c;

    irpd__session_cert(s, &c);
    return irpd_store_cert_record(st, &c, s->client.user_id, now);
}

/* irpd_wop_fns.apply of the record, on the writer thread. */
static int record_apply(const irpd_hctx *h, irpd_session *s, void *impl, irpd_opctx *o)
{
    irp_status st = record_external(h->st, s, o->now);

    (void)impl;
    if (st != 0)
        fprintf(stderr, "irpd: error: store: record %s's certificate: %s\n", s->client.user_id,
                irpd_store_errmsg(h->st));
    return st;
}

static void record_free(void *impl)
{
    (void)impl;
}

static const irpd_wop_fns record_fns = {record_apply, record_free};

irpd_wop *irpd__wop_record(const irpd_hctx *h, const irpd_session *s, int64_t now)
{
    return irpd__wop_call(h, &record_fns, NULL, s, IRP_OP_NONE, now);
}

static int recheck_cert(const irpd_hctx *h, const irpd_session *s, int64_t now, int *unrecorded,
                        char *why, size_t cap)
{
    irpd_cert rec;
    int st;

    if (s->cert_not_after < now) { /* X.509: valid through notAfter */
        snprintf(why, cap, "your certificate has expired");
        return 1;
    }
    st = irpd_store_cert_get_fp(h->st, s->client.fingerprint, &rec, NULL, 0);
    if (st == 0) {
        if (rec.status == IRPD_CERT_REVOKED) {
            snprintf(why, cap, "your certificate has been revoked (%s)", rec.reason);
            return 1;
        }
        if (strcasecmp(rec.user, s->client.user_id) != 0 || rec.not_after < now) {
            snprintf(why, cap, "your certificate is no longer valid");
            return 1;
        }
        return 0;
    }
    if (st != IRP_NOT_FOUND) return -1;
    /* 3.3 step 5: every certificate of our CA is recorded; one that is not, is not trusted */
    if (s->client.issued_here) {
        snprintf(why, cap, "your certificate is unknown to this registry");
        return 1;
    }
    /* 7.6: an external certificate of a served domain is recorded when first used */
    if (unrecorded != NULL && irpd_config_serves(h->cfg, s->client.user_id)) *unrecorded = 1;
    return 0;
}

/* 6.12: a revoked user's account is disabled (no password): the login no longer holds. */
static int recheck_password(const irpd_hctx *h, const irpd_session *s, char *why, size_t cap)
{
    irpd_user u;
    int st, gone;

    memset(&u, 0, sizeof(u));
    st = irpd_store_user_get(h->st, s->pw_user, &u);
    gone = st == IRP_NOT_FOUND || (st == 0 && u.pw_hash_len == 0);
    OPENSSL_cleanse(&u, sizeof(u));
    if (st != 0 && st != IRP_NOT_FOUND) return -1;
    if (gone) snprintf(why, cap, "your account has been disabled");
    return gone;
}

int irpd_session_recheck(const irpd_hctx *h, const irpd_session *s, int64_t now, int *unrecorded,
                         char *why, size_t cap)
{
    if (s->cert_auth) return recheck_cert(h, s, now, unrecorded, why, cap);
    if (s->pw_auth) return recheck_password(h, s, why, cap);
    return 0;
}

int irpd_identity_recheck(const irpd_hctx *h, irpd_session *s, int64_t now, int *record, char *msg,
                          size_t msg_cap)
{
    int unrecorded = 0;
    int r = irpd_session_recheck(h, s, now, &unrecorded, msg, msg_cap);

    if (r == 0 && unrecorded) {
        if (h->defer_writes) {
            *record = 1; /* 10.2: on the writer thread, before the request goes on */
            return 0;
        }
        if (record_external(h->st, s, now) != 0) r = -1;
    }
    if (r < 0) {
        fprintf(stderr, "irpd: error: store: identity check: %s\n", irpd_store_errmsg(h->st));
        snprintf(msg, msg_cap, "identity check: %s", irp_status_name(IRP_INTERNAL));
        return IRP_INTERNAL;
    }
    return r > 0 ? IRP_AUTH_REQUIRED : 0;
}

int irpd__domain_check(const irpd_hctx *h, const irpd_session *s, const irpd_opdef *d,
                       const irp_req *q, hscratch *x)
{
    /* 6.0: a foreign domain's certificate reads, nothing more */
    if (s->cert_auth && !irpd_config_serves(h->cfg, s->client.user_id) &&
        (!(d->flags & IRPD_OPF_FOREIGN) || (q->op == IRP_OP_USER_INFO && q->n_info > 0)))
        return irpd__fail(x, IRP_FORBIDDEN, "%s is not in a domain this registry serves",
                          s->client.user_id);
    /* 2.1, 6.9: users of other domains are not known here */
    if ((q->op == IRP_OP_LOOKUP || q->op == IRP_OP_WATCH || q->op == IRP_OP_USER_INFO) &&
        q->user != NULL && !irpd_config_serves(h->cfg, q->user))
        return irpd__fail(x, IRP_NOT_FOUND, "no such user %s (not a domain this registry serves)",
                          q->user);
    return 0;
}
