/*
 * irpd_pg_certs.c - the PostgreSQL backend's certificates and their
 * revocation (irpd_store.h; the backend's frame is in irpd_pg.c; the SQLite
 * twin is irpd_sqlite_certs.c).
 */
#include <stdio.h>
#include <string.h>

#include "irpd_pg_int.h"

/* ---- certificates ------------------------------------------------------------------ */

/* Records the certificate for user uid in the open transaction, audited as op. */
static irp_status insert_cert(pg_store *s, const char *what, const char *op, int64_t uid,
                              const char *user, const irpd_cert *c, int own, const char *actor,
                              int64_t now)
{
    char detail[64];
    int64_t n = 0;
    pg_args a = {0};
    irpd__pg_arg_text(&a, c->serial);
    irpd__pg_arg_int(&a, uid);
    irpd__pg_arg_bytes(&a, c->fingerprint, 32);
    irpd__pg_arg_bytes(&a, c->der, c->der_len);
    irpd__pg_arg_int(&a, c->not_before);
    irpd__pg_arg_int(&a, c->not_after);
    irpd__pg_arg_int(&a, own);
    irp_status status = irpd__pg_cmd(s, P_CERT_ADD, &a, what, &n);
    if (status != 0) return status;
    if (n == 0)
        return irpd__pg_failf(s, IRP_CONFLICT,
                              "%s: a certificate with serial %s or this fingerprint exists", what,
                              c->serial);
    snprintf(detail, sizeof detail, "serial=%s", c->serial);
    return irpd__pg_audit(s, what, now, actor, op, user, detail);
}

/* Ends every live binding of user uid (IRP.md 6.12); the count into *ended. */
static irp_status end_bindings(pg_store *s, const char *what, int64_t uid, int64_t now,
                               size_t *ended)
{
    int64_t n = 0;
    pg_args a = {0};
    irpd__pg_arg_int(&a, uid);
    irpd__pg_arg_int(&a, now);
    irp_status status = irpd__pg_cmd(s, P_BIND_END_ALL, &a, what, &n);
    *ended = status == 0 ? (size_t)n : 0;
    return status;
}

/*
 * Revokes the certificate `id` (if still valid) and ends every live binding
 * of its user, in the open transaction; audited. *out gets the certificate
 * and counts. 0 also when it was revoked already (out->n_certs stays 0).
 */
static irp_status revoke_row(pg_store *s, const char *what, int64_t id, const char *reason,
                             const char *actor, int64_t now, irpd_revocation *out)
{
    char detail[IRPD_STORE_SERIAL_MAX + IRPD_STORE_REASON_MAX + 48];
    irp_status status = 0;
    size_t ended = 0;
    pg_args a = {0};
    irpd__pg_arg_int(&a, id);
    irpd__pg_arg_int(&a, now);
    irpd__pg_arg_text(&a, reason);
    PGresult *r = irpd__pg_exec(s, P_CERT_REVOKE, &a, what, &status);
    if (r == NULL) return status;
    if (PQntuples(r) == 0) { /* revoked before: the first revocation stands */
        PQclear(r);
        return 0;
    }
    int64_t uid = irpd__pg_int(r, 0, 0);
    irpd__pg_text(r, 0, 1, out->serial, sizeof out->serial);
    (void)irpd__pg_bytes(r, 0, 2, out->fingerprint, sizeof out->fingerprint);
    PQclear(r);
    out->n_certs++;

    if ((status = end_bindings(s, what, uid, now, &ended)) != 0) return status;
    out->n_bindings += ended;

    pg_args b = {0};
    irpd__pg_arg_int(&b, uid);
    r = irpd__pg_exec(s, P_USER_NAME, &b, what, &status);
    if (r == NULL) return status;
    if (PQntuples(r) > 0) irpd__pg_text(r, 0, 0, out->user, sizeof out->user);
    PQclear(r);
    snprintf(detail, sizeof detail, "serial=%s reason=%s bindings=%zu", out->serial, reason, ended);
    return irpd__pg_audit(s, what, now, actor, "revoke", out->user, detail);
}

/*
 * IRP.md 6.5 step 5: while the user holds more than IRPD_STORE_VALID_CERTS
 * valid certificates, revoke (superseded) the one that expires first among
 * those that are neither new_fp nor keep_fp. At most one per call.
 */
static irp_status supersede(pg_store *s, const char *what, int64_t uid, const uint8_t new_fp[32],
                            const uint8_t *keep_fp, const char *actor, int64_t now,
                            irpd_revocation *out)
{
    static const uint8_t none[32];
    int64_t valid = 0, id = 0;
    pg_args a = {0};
    irpd__pg_arg_int(&a, uid);
    irpd__pg_arg_int(&a, now);
    irp_status status = irpd__pg_one_int(s, P_CERT_COUNT_VALID, &a, what, &valid);
    if (status != 0 || valid <= IRPD_STORE_VALID_CERTS) return status;
    irpd__pg_arg_bytes(&a, new_fp, 32);
    irpd__pg_arg_bytes(&a, keep_fp != NULL ? keep_fp : none, 32);
    if ((status = irpd__pg_one_int(s, P_CERT_SUPERSEDE, &a, what, &id)) != 0) return status;
    return id != 0 ? revoke_row(s, what, id, "superseded", actor, now, out) : 0;
}

/* Creates user (as spelled) if missing, in the open transaction; audited "user-add" with how. */
static irp_status add_user_if_new(pg_store *s, const char *what, const char *user,
                                  const char *actor, int64_t now, const char *how)
{
    int64_t n = 0;
    pg_args a = {0};
    irpd__pg_arg_text(&a, user);
    irpd__pg_arg_int(&a, now);
    irp_status status = irpd__pg_cmd(s, P_USER_ADD, &a, what, &n);
    if (status == 0 && n == 1) status = irpd__pg_audit(s, what, now, actor, "user-add", user, how);
    return status;
}

irp_status irpd__pg_enroll(irpd_store *st, const uint8_t *token_hash, const irpd_cert *cert,
                           const char *actor, int64_t now, irpd_revocation *sup)
{
    pg_store *s = PGS(st);
    char user[IRPD_STORE_USER_MAX + 1];
    int64_t uid = 0;
    irpd_revocation rev;
    memset(&rev, 0, sizeof rev);
    irp_status status = irpd__pg_wr_begin(s, "enroll");
    if (status != 0) return status;
    if (token_hash != NULL) {
        status = irpd__pg_consume(s, token_hash, now, user);
        if (status == 0 && !irpd__store_same_user(user, cert->user))
            status =
                irpd__pg_failf(s, IRP_FORBIDDEN, "enroll: the token is not for %s", cert->user);
        /* a token may name a user who does not exist yet: spelled as the token was issued */
        if (status == 0) status = add_user_if_new(s, "enroll", user, actor, now, "by token");
    }
    if (status == 0) status = irpd__pg_find_user(s, "enroll", cert->user, &uid, NULL, user);
    if (status == 0) status = insert_cert(s, "enroll", "enroll", uid, user, cert, 1, actor, now);
    if (status == 0)
        status = supersede(s, "enroll", uid, cert->fingerprint, NULL, actor, now, &rev);
    status = irpd__pg_wr_end(s, status, "enroll");
    if (status == 0 && sup != NULL) *sup = rev;
    return status;
}

irp_status irpd__pg_cert_add(irpd_store *st, const irpd_cert *cert, const uint8_t *keep_fp,
                             const char *actor, int64_t now, irpd_revocation *sup)
{
    pg_store *s = PGS(st);
    char user[IRPD_STORE_USER_MAX + 1];
    int64_t uid = 0;
    irpd_revocation rev;
    memset(&rev, 0, sizeof rev);
    irp_status status = irpd__pg_wr_begin(s, "renew");
    if (status != 0) return status;
    status = irpd__pg_find_user(s, "renew", cert->user, &uid, NULL, user);
    if (status == 0) status = insert_cert(s, "renew", "renew", uid, user, cert, 1, actor, now);
    if (status == 0)
        status = supersede(s, "renew", uid, cert->fingerprint, keep_fp, actor, now, &rev);
    status = irpd__pg_wr_end(s, status, "renew");
    if (status == 0 && sup != NULL) *sup = rev;
    return status;
}

/* Reads a CERT_COLS row; der points into s->scratch (valid until the next read). */
static void read_cert(pg_store *s, const PGresult *r, int i, irpd_cert *c)
{
    memset(c, 0, sizeof *c);
    irpd__pg_text(r, i, 0, c->serial, sizeof c->serial);
    irpd__pg_text(r, i, 1, c->user, sizeof c->user);
    (void)irpd__pg_bytes(r, i, 2, c->fingerprint, sizeof c->fingerprint);
    c->der_len = irpd__pg_bytes(r, i, 3, s->scratch, sizeof s->scratch);
    c->der = s->scratch;
    c->not_before = irpd__pg_int(r, i, 4);
    c->not_after = irpd__pg_int(r, i, 5);
    c->status = irpd__pg_int(r, i, 6) == 1 ? IRPD_CERT_REVOKED : IRPD_CERT_VALID;
    c->revoked_at = irpd__pg_int(r, i, 7);
    irpd__pg_text(r, i, 8, c->reason, sizeof c->reason);
}

static irp_status get_cert(pg_store *s, int id, const pg_args *a, irpd_cert *out, uint8_t *der,
                           size_t der_cap)
{
    irp_status status = 0;
    PGresult *r = irpd__pg_exec(s, id, a, "cert-status", &status);
    if (r == NULL) return status;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return irpd__pg_failf(s, IRP_NOT_FOUND, "cert-status: no such certificate");
    }
    read_cert(s, r, 0, out);
    PQclear(r);
    if (der != NULL && out->der_len > der_cap)
        status = irpd__pg_failf(s, IRP_TOO_LARGE, "cert-status: a certificate of %zu bytes",
                                out->der_len);
    else if (der != NULL)
        out->der = memcpy(der, out->der, out->der_len);
    if (der == NULL || status != 0) out->der = NULL;
    return status;
}

irp_status irpd__pg_cert_get_serial(irpd_store *st, const char *serial, irpd_cert *out,
                                    uint8_t *der, size_t der_cap)
{
    pg_args a = {0};
    irpd__pg_arg_text(&a, serial);
    return get_cert(PGS(st), P_CERT_BY_SERIAL, &a, out, der, der_cap);
}

irp_status irpd__pg_cert_get_fp(irpd_store *st, const uint8_t fp[32], irpd_cert *out, uint8_t *der,
                                size_t der_cap)
{
    pg_args a = {0};
    irpd__pg_arg_bytes(&a, fp, 32);
    return get_cert(PGS(st), P_CERT_BY_FP, &a, out, der, der_cap);
}

/* Calls cb for each row of statement id; counts into *n if not NULL. with_der 0 reports der
 * as NULL. */
irp_status irpd__pg_each_cert(pg_store *s, int id, const pg_args *a, const char *what, int with_der,
                              irpd_cert_cb cb, void *arg, int64_t *n)
{
    irp_status status = 0;
    irpd_cert c;
    PGresult *r = irpd__pg_exec(s, id, a, what, &status);
    if (r == NULL) return status;
    for (int i = 0; i < PQntuples(r); i++) {
        if (n != NULL) (*n)++;
        if (cb == NULL) continue;
        read_cert(s, r, i, &c);
        if (!with_der) {
            c.der = NULL;
            c.der_len = 0;
        }
        if (cb(arg, &c) != 0) return irpd__pg_stopped(s, r, what);
    }
    PQclear(r);
    return 0;
}

irp_status irpd__pg_cert_list(irpd_store *st, const char *user, irpd_cert_cb cb, void *arg)
{
    pg_store *s = PGS(st);
    int64_t uid;
    pg_args a = {0};
    irp_status status = irpd__pg_find_user(s, "cert-list", user, &uid, NULL, NULL);
    if (status != 0) return status;
    irpd__pg_arg_int(&a, uid);
    return irpd__pg_each_cert(s, P_CERT_LIST, &a, "cert-list", 1, cb, arg, NULL);
}

irp_status irpd__pg_cert_revoke(irpd_store *st, const char *serial, const uint8_t *fp,
                                const char *reason, const char *actor, int64_t now,
                                irpd_revocation *out)
{
    pg_store *s = PGS(st);
    int64_t id = 0;
    irpd_revocation rev;
    pg_args a = {0};
    memset(&rev, 0, sizeof rev);
    if (serial != NULL)
        irpd__pg_arg_text(&a, serial);
    else
        irpd__pg_arg_bytes(&a, fp, 32);
    irp_status status = irpd__pg_wr_begin(s, "revoke");
    if (status != 0) return status;
    status = irpd__pg_one_int(s, serial != NULL ? P_CERT_FIND_SERIAL : P_CERT_FIND_FP, &a, "revoke",
                              &id);
    if (status == 0 && id == 0)
        status = irpd__pg_failf(s, IRP_NOT_FOUND, "revoke: no such certificate");
    if (status == 0) status = revoke_row(s, "revoke", id, reason, actor, now, &rev);
    status = irpd__pg_wr_end(s, status, "revoke");
    if (status == 0 && out != NULL) *out = rev;
    return status;
}

irp_status irpd__pg_user_revoke(irpd_store *st, const char *name, const char *reason,
                                const char *actor, int64_t now, irpd_revocation *out)
{
    pg_store *s = PGS(st);
    char detail[IRPD_STORE_REASON_MAX + 64];
    int64_t uid = 0;
    irpd_revocation rev;
    memset(&rev, 0, sizeof rev);
    irp_status status = irpd__pg_wr_begin(s, "revoke");
    if (status != 0) return status;
    status = irpd__pg_find_user(s, "revoke", name, &uid, NULL, rev.user);
    if (status == 0) {
        pg_args a = {0};
        irpd__pg_arg_int(&a, uid);
        irpd__pg_arg_int(&a, now);
        irpd__pg_arg_text(&a, reason);
        PGresult *r = irpd__pg_exec(s, P_CERT_REVOKE_USER, &a, "revoke", &status);
        if (r != NULL) {
            int n = PQntuples(r);
            rev.n_certs = (size_t)n;
            if (n > 0) { /* the last of them, as the SQLite backend reports */
                irpd__pg_text(r, n - 1, 0, rev.serial, sizeof rev.serial);
                (void)irpd__pg_bytes(r, n - 1, 1, rev.fingerprint, sizeof rev.fingerprint);
            }
            PQclear(r);
        }
    }
    if (status == 0) status = end_bindings(s, "revoke", uid, now, &rev.n_bindings);
    /* IRP.md 6.12: the account is disabled: no password, no unused token */
    if (status == 0) {
        pg_args a = {0};
        irpd__pg_arg_int(&a, uid);
        status = irpd__pg_cmd(s, P_USER_DISABLE, &a, "revoke", NULL);
    }
    if (status == 0) {
        pg_args a = {0};
        irpd__pg_arg_text(&a, rev.user);
        irpd__pg_arg_int(&a, now);
        status = irpd__pg_cmd(s, P_TOKEN_VOID_USER, &a, "revoke", NULL);
    }
    if (status == 0) {
        snprintf(detail, sizeof detail,
                 "all certificates=%zu reason=%s bindings=%zu account disabled", rev.n_certs,
                 reason, rev.n_bindings);
        status = irpd__pg_audit(s, "revoke", now, actor, "revoke", rev.user, detail);
    }
    status = irpd__pg_wr_end(s, status, "revoke");
    if (status == 0 && out != NULL) *out = rev;
    return status;
}

irp_status irpd__pg_cert_record(irpd_store *st, const irpd_cert *cert, const char *actor,
                                int64_t now)
{
    pg_store *s = PGS(st);
    char user[IRPD_STORE_USER_MAX + 1];
    int64_t uid = 0;
    irpd_cert got;
    pg_args a = {0};
    irp_status status = irpd__pg_wr_begin(s, "cert-record");
    if (status != 0) return status;
    irpd__pg_arg_bytes(&a, cert->fingerprint, 32);
    status = get_cert(s, P_CERT_BY_FP, &a, &got, NULL, 0);
    if (status == IRP_NOT_FOUND) { /* first seen: the user too, perhaps */
        status = add_user_if_new(s, "cert-record", cert->user, actor, now, "by certificate");
        if (status == 0)
            status = irpd__pg_find_user(s, "cert-record", cert->user, &uid, NULL, user);
        if (status == 0)
            status = insert_cert(s, "cert-record", "cert-record", uid, user, cert, 0, actor, now);
    }
    return irpd__pg_wr_end(s, status, "cert-record");
}

/*
 * IRP.md 6.7 step 5 and the revocation race: the certificate the client
 * authenticated with must be uid's and valid if recorded, and is recorded
 * (an external CA's) if not.
 */
irp_status irpd__pg_check_auth_cert(pg_store *s, const char *what, int64_t uid, const char *user,
                                    const irpd_cert *c, const char *actor, int64_t now)
{
    irpd_cert got;
    pg_args a = {0};
    irpd__pg_arg_bytes(&a, c->fingerprint, 32);
    irp_status status = get_cert(s, P_CERT_BY_FP, &a, &got, NULL, 0);
    if (status == IRP_NOT_FOUND) {
        if (!irpd__store_same_user(c->user, user))
            return irpd__pg_failf(s, IRP_FORBIDDEN, "%s: the certificate names %s, not %s", what,
                                  c->user, user);
        return insert_cert(s, what, "cert-record", uid, user, c, 0, actor, now);
    }
    if (status != 0) return status;
    if (!irpd__store_same_user(got.user, user) || got.status != IRPD_CERT_VALID ||
        got.not_after <= now)
        return irpd__pg_failf(s, IRP_FORBIDDEN, "%s: the certificate is not a valid one of %s",
                              what, user);
    return 0;
}
