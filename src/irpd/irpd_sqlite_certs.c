/*
 * irpd_sqlite_certs.c - the SQLite backend's certificates and their
 * revocation (irpd_store.h; the backend's frame is in irpd_sqlite.c).
 */
#include <stdio.h>
#include <string.h>

#include "irpd_sqlite_int.h"

/* ---- certificates ------------------------------------------------------------------ */

/* Records the certificate for user uid in the open transaction, audited as op. */
static irp_status insert_cert(sq_store *s, const char *what, const char *op, int64_t uid,
                              const char *user, const irpd_cert *c, int own, const char *actor,
                              int64_t now)
{
    char detail[64];
    const char *serial = c->serial;
    const uint8_t *fp = c->fingerprint;
    sqlite3_stmt *q = s->q[S_CERT_ADD];
    irpd__sqlite_bind_text(q, 1, serial);
    sqlite3_bind_int64(q, 2, uid);
    sqlite3_bind_blob(q, 3, fp, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 4, c->der, (int)c->der_len, SQLITE_STATIC);
    sqlite3_bind_int64(q, 5, c->not_before);
    sqlite3_bind_int64(q, 6, c->not_after);
    sqlite3_bind_int(q, 7, own);
    int rc = irpd__sqlite_run(s, S_CERT_ADD);
    sqlite3_clear_bindings(q);
    if (rc != SQLITE_DONE) return irpd__sqlite_db_fail(s, what);
    if (sqlite3_changes(s->db) == 0)
        return irpd__sqlite_failf(s, IRP_CONFLICT,
                                  "%s: a certificate with serial %s or this fingerprint exists",
                                  what, serial);
    snprintf(detail, sizeof detail, "serial=%s", serial);
    return irpd__sqlite_audit(s, what, now, actor, op, user, detail);
}

/*
 * Revokes the certificate in row `rowid` (if still valid) and ends every
 * live binding of its user, in the open transaction; audited. *out gets
 * the certificate and counts. 0 also when it was revoked already
 * (out->n_certs stays 0).
 */
static irp_status revoke_row(sq_store *s, const char *what, int64_t rowid, const char *reason,
                             const char *actor, int64_t now, irpd_revocation *out)
{
    char detail[IRPD_STORE_SERIAL_MAX + IRPD_STORE_REASON_MAX + 48];
    int64_t uid = 0;
    size_t n;
    sqlite3_stmt *q = s->q[S_CERT_REVOKE];
    sqlite3_bind_int64(q, 1, rowid);
    sqlite3_bind_int64(q, 2, now);
    irpd__sqlite_bind_text(q, 3, reason);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        uid = sqlite3_column_int64(q, 0);
        irpd__sqlite_col_text(q, 1, out->serial, sizeof out->serial);
        irpd__sqlite_col_blob(q, 2, out->fingerprint, sizeof out->fingerprint, &n);
    }
    sqlite3_reset(q);
    if (rc == SQLITE_DONE) return 0; /* revoked before: the first revocation stands */
    if (rc != SQLITE_ROW) return irpd__sqlite_db_fail(s, what);
    out->n_certs++;

    /* Every live binding of the user ends at once (IRP.md 6.12). */
    sqlite3_bind_int64(s->q[S_BIND_END_ALL], 1, uid);
    sqlite3_bind_int64(s->q[S_BIND_END_ALL], 2, now);
    if (irpd__sqlite_run(s, S_BIND_END_ALL) != SQLITE_DONE) return irpd__sqlite_db_fail(s, what);
    size_t ended = (size_t)sqlite3_changes(s->db);
    out->n_bindings += ended;

    sqlite3_bind_int64(s->q[S_USER_NAME], 1, uid);
    rc = sqlite3_step(s->q[S_USER_NAME]);
    if (rc == SQLITE_ROW) irpd__sqlite_col_text(s->q[S_USER_NAME], 0, out->user, sizeof out->user);
    sqlite3_reset(s->q[S_USER_NAME]);
    if (rc != SQLITE_ROW) return irpd__sqlite_db_fail(s, what);
    snprintf(detail, sizeof detail, "serial=%s reason=%s bindings=%zu", out->serial, reason, ended);
    return irpd__sqlite_audit(s, what, now, actor, "revoke", out->user, detail);
}

/*
 * IRP.md 6.5 step 5: while the user holds more than IRPD_STORE_VALID_CERTS
 * valid certificates, revoke (superseded) the one that expires first among
 * those that are neither new_fp nor keep_fp. At most one per call.
 */
static irp_status supersede(sq_store *s, const char *what, int64_t uid, const uint8_t new_fp[32],
                            const uint8_t *keep_fp, const char *actor, int64_t now,
                            irpd_revocation *out)
{
    static const uint8_t none[32];
    int64_t valid = 0, rowid = 0;
    sqlite3_bind_int64(s->q[S_CERT_COUNT_VALID], 1, uid);
    sqlite3_bind_int64(s->q[S_CERT_COUNT_VALID], 2, now);
    if (irpd__sqlite_one_int(s, S_CERT_COUNT_VALID, &valid) != SQLITE_DONE)
        return irpd__sqlite_db_fail(s, what);
    if (valid <= IRPD_STORE_VALID_CERTS) return 0;
    sqlite3_stmt *q = s->q[S_CERT_SUPERSEDE];
    sqlite3_bind_int64(q, 1, uid);
    sqlite3_bind_int64(q, 2, now);
    sqlite3_bind_blob(q, 3, new_fp, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 4, keep_fp != NULL ? keep_fp : none, 32, SQLITE_STATIC);
    if (irpd__sqlite_one_int(s, S_CERT_SUPERSEDE, &rowid) != SQLITE_DONE)
        return irpd__sqlite_db_fail(s, what);
    return rowid != 0 ? revoke_row(s, what, rowid, "superseded", actor, now, out) : 0;
}

irp_status irpd__sqlite_enroll(irpd_store *st, const uint8_t *token_hash, const irpd_cert *cert,
                               const char *actor, int64_t now, irpd_revocation *sup)
{
    sq_store *s = SQ(st);
    char user[IRPD_STORE_USER_MAX + 1];
    int64_t uid = 0;
    irpd_revocation rev;
    memset(&rev, 0, sizeof rev);
    irp_status status = irpd__sqlite_wr_begin(s, "enroll");
    if (status != 0) return status;
    if (token_hash != NULL) {
        status = irpd__sqlite_consume(s, token_hash, now, user);
        if (status == 0 && !irpd__store_same_user(user, cert->user))
            status =
                irpd__sqlite_failf(s, IRP_FORBIDDEN, "enroll: the token is not for %s", cert->user);
        if (status == 0) { /* a token may name a user who does not exist yet */
            irpd__sqlite_bind_text(s->q[S_USER_ADD], 1, user); /* spelled as the token was issued */
            sqlite3_bind_int64(s->q[S_USER_ADD], 2, now);
            if (irpd__sqlite_run(s, S_USER_ADD) != SQLITE_DONE)
                status = irpd__sqlite_db_fail(s, "enroll");
            else if (sqlite3_changes(s->db) == 1)
                status = irpd__sqlite_audit(s, "enroll", now, actor, "user-add", user, "by token");
        }
    }
    if (status == 0) status = irpd__sqlite_find_user(s, "enroll", cert->user, &uid, NULL, user);
    if (status == 0) status = insert_cert(s, "enroll", "enroll", uid, user, cert, 1, actor, now);
    if (status == 0)
        status = supersede(s, "enroll", uid, cert->fingerprint, NULL, actor, now, &rev);
    status = irpd__sqlite_wr_end(s, status, "enroll");
    if (status == 0 && sup != NULL) *sup = rev;
    return status;
}

irp_status irpd__sqlite_cert_add(irpd_store *st, const irpd_cert *cert, const uint8_t *keep_fp,
                                 const char *actor, int64_t now, irpd_revocation *sup)
{
    sq_store *s = SQ(st);
    char user[IRPD_STORE_USER_MAX + 1];
    int64_t uid = 0;
    irpd_revocation rev;
    memset(&rev, 0, sizeof rev);
    irp_status status = irpd__sqlite_wr_begin(s, "renew");
    if (status != 0) return status;
    status = irpd__sqlite_find_user(s, "renew", cert->user, &uid, NULL, user);
    if (status == 0) status = insert_cert(s, "renew", "renew", uid, user, cert, 1, actor, now);
    if (status == 0)
        status = supersede(s, "renew", uid, cert->fingerprint, keep_fp, actor, now, &rev);
    status = irpd__sqlite_wr_end(s, status, "renew");
    if (status == 0 && sup != NULL) *sup = rev;
    return status;
}

/* Reads a CERT_COLS row; der points into the statement's row. */
static void read_cert(sqlite3_stmt *q, irpd_cert *c)
{
    size_t n;
    memset(c, 0, sizeof *c);
    irpd__sqlite_col_text(q, 0, c->serial, sizeof c->serial);
    irpd__sqlite_col_text(q, 1, c->user, sizeof c->user);
    irpd__sqlite_col_blob(q, 2, c->fingerprint, sizeof c->fingerprint, &n);
    c->der = sqlite3_column_blob(q, 3);
    c->der_len = (size_t)sqlite3_column_bytes(q, 3);
    c->not_before = sqlite3_column_int64(q, 4);
    c->not_after = sqlite3_column_int64(q, 5);
    c->status = sqlite3_column_int(q, 6) == 1 ? IRPD_CERT_REVOKED : IRPD_CERT_VALID;
    c->revoked_at = sqlite3_column_int64(q, 7);
    irpd__sqlite_col_text(q, 8, c->reason, sizeof c->reason);
}

static irp_status get_cert(sq_store *s, int id, irpd_cert *out, uint8_t *der, size_t der_cap)
{
    sqlite3_stmt *q = s->q[id];
    irp_status status = 0;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        read_cert(q, out);
        if (der != NULL && out->der_len > der_cap)
            status = irpd__sqlite_failf(s, IRP_TOO_LARGE, "cert-status: a certificate of %zu bytes",
                                        out->der_len);
        else if (der != NULL)
            out->der = memcpy(der, out->der, out->der_len);
        if (der == NULL || status != 0) out->der = NULL;
    }
    sqlite3_reset(q);
    if (rc == SQLITE_DONE)
        return irpd__sqlite_failf(s, IRP_NOT_FOUND, "cert-status: no such certificate");
    if (rc != SQLITE_ROW) return irpd__sqlite_db_fail(s, "cert-status");
    return status;
}

irp_status irpd__sqlite_cert_get_serial(irpd_store *st, const char *serial, irpd_cert *out,
                                        uint8_t *der, size_t der_cap)
{
    sq_store *s = SQ(st);
    irpd__sqlite_bind_text(s->q[S_CERT_BY_SERIAL], 1, serial);
    return get_cert(s, S_CERT_BY_SERIAL, out, der, der_cap);
}

irp_status irpd__sqlite_cert_get_fp(irpd_store *st, const uint8_t fp[32], irpd_cert *out,
                                    uint8_t *der, size_t der_cap)
{
    sq_store *s = SQ(st);
    sqlite3_bind_blob(s->q[S_CERT_BY_FP], 1, fp, 32, SQLITE_STATIC);
    return get_cert(s, S_CERT_BY_FP, out, der, der_cap);
}

/* Calls cb for each row of statement id (bound by the caller); counts into *n if not NULL.
 * with_der 0 reports der as NULL. */
irp_status irpd__sqlite_each_cert(sq_store *s, int id, const char *what, int with_der,
                                  irpd_cert_cb cb, void *arg, int64_t *n)
{
    sqlite3_stmt *q = s->q[id];
    irpd_cert c;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (n != NULL) (*n)++;
        if (cb == NULL) continue;
        read_cert(q, &c);
        if (!with_der) {
            c.der = NULL;
            c.der_len = 0;
        }
        if (cb(arg, &c) != 0) return irpd__sqlite_stopped(s, q, what);
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? 0 : irpd__sqlite_db_fail(s, what);
}

irp_status irpd__sqlite_cert_list(irpd_store *st, const char *user, irpd_cert_cb cb, void *arg)
{
    sq_store *s = SQ(st);
    int64_t uid;
    irp_status status = irpd__sqlite_find_user(s, "cert-list", user, &uid, NULL, NULL);
    if (status != 0) return status;
    sqlite3_bind_int64(s->q[S_CERT_LIST], 1, uid);
    return irpd__sqlite_each_cert(s, S_CERT_LIST, "cert-list", 1, cb, arg, NULL);
}

irp_status irpd__sqlite_cert_revoke(irpd_store *st, const char *serial, const uint8_t *fp,
                                    const char *reason, const char *actor, int64_t now,
                                    irpd_revocation *out)
{
    sq_store *s = SQ(st);
    int64_t rowid = 0;
    irpd_revocation rev;
    memset(&rev, 0, sizeof rev);
    int find = serial != NULL ? S_CERT_FIND_SERIAL : S_CERT_FIND_FP;
    if (serial != NULL)
        irpd__sqlite_bind_text(s->q[find], 1, serial);
    else
        sqlite3_bind_blob(s->q[find], 1, fp, 32, SQLITE_STATIC);
    irp_status status = irpd__sqlite_wr_begin(s, "revoke");
    if (status != 0) return status;
    if (irpd__sqlite_one_int(s, find, &rowid) != SQLITE_DONE)
        status = irpd__sqlite_db_fail(s, "revoke");
    else if (rowid == 0)
        status = irpd__sqlite_failf(s, IRP_NOT_FOUND, "revoke: no such certificate");
    else
        status = revoke_row(s, "revoke", rowid, reason, actor, now, &rev);
    status = irpd__sqlite_wr_end(s, status, "revoke");
    if (status == 0 && out != NULL) *out = rev;
    return status;
}

irp_status irpd__sqlite_user_revoke(irpd_store *st, const char *name, const char *reason,
                                    const char *actor, int64_t now, irpd_revocation *out)
{
    sq_store *s = SQ(st);
    char detail[IRPD_STORE_REASON_MAX + 64];
    int64_t uid = 0;
    size_t n;
    int rc;
    irpd_revocation rev;
    memset(&rev, 0, sizeof rev);
    irp_status status = irpd__sqlite_wr_begin(s, "revoke");
    if (status != 0) return status;
    status = irpd__sqlite_find_user(s, "revoke", name, &uid, NULL, rev.user);
    if (status == 0) {
        sqlite3_stmt *q = s->q[S_CERT_REVOKE_USER];
        sqlite3_bind_int64(q, 1, uid);
        sqlite3_bind_int64(q, 2, now);
        irpd__sqlite_bind_text(q, 3, reason);
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
            rev.n_certs++;
            irpd__sqlite_col_text(q, 0, rev.serial, sizeof rev.serial);
            irpd__sqlite_col_blob(q, 1, rev.fingerprint, sizeof rev.fingerprint, &n);
        }
        sqlite3_reset(q);
        if (rc != SQLITE_DONE) status = irpd__sqlite_db_fail(s, "revoke");
    }
    if (status == 0) {
        sqlite3_bind_int64(s->q[S_BIND_END_ALL], 1, uid);
        sqlite3_bind_int64(s->q[S_BIND_END_ALL], 2, now);
        if (irpd__sqlite_run(s, S_BIND_END_ALL) != SQLITE_DONE)
            status = irpd__sqlite_db_fail(s, "revoke");
        else
            rev.n_bindings = (size_t)sqlite3_changes(s->db);
    }
    /* IRP.md 6.12: the account is disabled: no password, no unused token */
    if (status == 0) {
        sqlite3_bind_int64(s->q[S_USER_DISABLE], 1, uid);
        if (irpd__sqlite_run(s, S_USER_DISABLE) != SQLITE_DONE)
            status = irpd__sqlite_db_fail(s, "revoke");
    }
    if (status == 0) {
        irpd__sqlite_bind_text(s->q[S_TOKEN_VOID_USER], 1, rev.user);
        sqlite3_bind_int64(s->q[S_TOKEN_VOID_USER], 2, now);
        if (irpd__sqlite_run(s, S_TOKEN_VOID_USER) != SQLITE_DONE)
            status = irpd__sqlite_db_fail(s, "revoke");
    }
    if (status == 0) {
        snprintf(detail, sizeof detail,
                 "all certificates=%zu reason=%s bindings=%zu account disabled", rev.n_certs,
                 reason, rev.n_bindings);
        status = irpd__sqlite_audit(s, "revoke", now, actor, "revoke", rev.user, detail);
    }
    status = irpd__sqlite_wr_end(s, status, "revoke");
    if (status == 0 && out != NULL) *out = rev;
    return status;
}

irp_status irpd__sqlite_cert_record(irpd_store *st, const irpd_cert *cert, const char *actor,
                                    int64_t now)
{
    sq_store *s = SQ(st);
    char user[IRPD_STORE_USER_MAX + 1];
    int64_t uid = 0;
    irpd_cert got;
    irp_status status = irpd__sqlite_wr_begin(s, "cert-record");
    if (status != 0) return status;
    sqlite3_bind_blob(s->q[S_CERT_BY_FP], 1, cert->fingerprint, 32, SQLITE_STATIC);
    status = get_cert(s, S_CERT_BY_FP, &got, NULL, 0);
    if (status == IRP_NOT_FOUND) { /* first seen: the user too, perhaps */
        irpd__sqlite_bind_text(s->q[S_USER_ADD], 1, cert->user);
        sqlite3_bind_int64(s->q[S_USER_ADD], 2, now);
        if (irpd__sqlite_run(s, S_USER_ADD) != SQLITE_DONE)
            status = irpd__sqlite_db_fail(s, "cert-record");
        else if (sqlite3_changes(s->db) == 1)
            status = irpd__sqlite_audit(s, "cert-record", now, actor, "user-add", cert->user,
                                        "by certificate");
        else
            status = 0;
        if (status == 0)
            status = irpd__sqlite_find_user(s, "cert-record", cert->user, &uid, NULL, user);
        if (status == 0)
            status = insert_cert(s, "cert-record", "cert-record", uid, user, cert, 0, actor, now);
    }
    return irpd__sqlite_wr_end(s, status, "cert-record");
}

/*
 * IRP.md 6.7 step 5 and the revocation race: the certificate the client
 * authenticated with must be uid's and valid if recorded, and is recorded
 * (an external CA's) if not.
 */
irp_status irpd__sqlite_check_auth_cert(sq_store *s, const char *what, int64_t uid,
                                        const char *user, const irpd_cert *c, const char *actor,
                                        int64_t now)
{
    irpd_cert got;
    sqlite3_bind_blob(s->q[S_CERT_BY_FP], 1, c->fingerprint, 32, SQLITE_STATIC);
    irp_status status = get_cert(s, S_CERT_BY_FP, &got, NULL, 0);
    if (status == IRP_NOT_FOUND) {
        if (!irpd__store_same_user(c->user, user))
            return irpd__sqlite_failf(s, IRP_FORBIDDEN, "%s: the certificate names %s, not %s",
                                      what, c->user, user);
        return insert_cert(s, what, "cert-record", uid, user, c, 0, actor, now);
    }
    if (status != 0) return status;
    if (!irpd__store_same_user(got.user, user) || got.status != IRPD_CERT_VALID ||
        got.not_after <= now)
        return irpd__sqlite_failf(s, IRP_FORBIDDEN, "%s: the certificate is not a valid one of %s",
                                  what, user);
    return 0;
}
