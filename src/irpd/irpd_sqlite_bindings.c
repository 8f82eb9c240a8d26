/*
 * irpd_sqlite_bindings.c - the SQLite backend's bindings, lookup, PKCS#12
 * backups and audit log (irpd_store.h; the backend's frame is in
 * irpd_sqlite.c).
 */
#include <stdio.h>
#include <string.h>

#include "irpd_sqlite_int.h"

/* ---- bindings ------------------------------------------------------------------------- */

/* The addresses as one column, separated by single spaces (no address holds one). */
static void join_addrs(const irpd_binding *b, char *out)
{
    size_t at = 0;
    for (size_t i = 0; i < b->n_addrs; i++) {
        size_t n = strlen(b->addrs[i]);
        if (i > 0) out[at++] = ' ';
        memcpy(out + at, b->addrs[i], n);
        at += n;
    }
    out[at] = '\0';
}

/* Copies src into out (cap bytes), cut to fit (no snprintf on the lookup path). */
static void copy_str(char *out, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(out, src, n);
    out[n] = '\0';
}

/* Reads a BIND_COLS row for user. */
static void read_binding(sqlite3_stmt *q, const char *user, irpd_binding *b)
{
    memset(b, 0, sizeof *b);
    copy_str(b->user, sizeof b->user, user);
    irpd__sqlite_col_text(q, 0, b->device, sizeof b->device);
    b->seq = irpd__store_seq_from_db(sqlite3_column_int64(q, 1));
    b->port = (uint16_t)sqlite3_column_int(q, 2);
    const char *a = (const char *)sqlite3_column_text(q, 3);
    while (a != NULL && *a != '\0' && b->n_addrs < IRPD_STORE_ADDRS_MAX) {
        size_t n = strcspn(a, " ");
        if (n > 0 && n <= IRPD_STORE_ADDR_MAX) {
            memcpy(b->addrs[b->n_addrs], a, n);
            b->addrs[b->n_addrs++][n] = '\0';
        }
        a += n;
        if (*a == ' ') a++;
    }
    irpd__sqlite_col_text(q, 4, b->seen, sizeof b->seen);
    b->expires = sqlite3_column_int64(q, 5);
    b->updated = sqlite3_column_int64(q, 6);
}

irp_status irpd__sqlite_binding_put(irpd_store *st, const irpd_binding *b,
                                    const irpd_cert *auth_cert, const char *actor, int64_t now)
{
    sq_store *s = SQ(st);
    const char *what = "register";
    char addrs[IRPD_STORE_ADDRS_MAX * (IRPD_STORE_ADDR_MAX + 1)];
    char user[IRPD_STORE_USER_MAX + 1], detail[192];
    int64_t uid = 0, stored = 0, others = 0;
    join_addrs(b, addrs);
    irp_status status = irpd__sqlite_wr_begin(s, what);
    if (status != 0) return status;
    status = irpd__sqlite_find_user(s, what, b->user, &uid, NULL, user);
    if (status == 0) { /* step 2: the seq, kept even after the binding ended */
        sqlite3_stmt *q = s->q[S_BIND_GET];
        sqlite3_bind_int64(q, 1, uid);
        irpd__sqlite_bind_text(q, 2, b->device);
        sqlite3_bind_int64(q, 3, now);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) stored = sqlite3_column_int64(q, 0);
        sqlite3_reset(q);
        if (rc == SQLITE_ROW && b->seq <= irpd__store_seq_from_db(stored))
            status = irpd__sqlite_failf(
                s, IRP_CONFLICT, "%s: sequence number %llu is not above %llu", what,
                (unsigned long long)b->seq, (unsigned long long)irpd__store_seq_from_db(stored));
        else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            status = irpd__sqlite_db_fail(s, what);
    }
    if (status == 0) { /* step 3: the number of devices */
        sqlite3_bind_int64(s->q[S_BIND_COUNT_OTHERS], 1, uid);
        irpd__sqlite_bind_text(s->q[S_BIND_COUNT_OTHERS], 2, b->device);
        sqlite3_bind_int64(s->q[S_BIND_COUNT_OTHERS], 3, now);
        if (irpd__sqlite_one_int(s, S_BIND_COUNT_OTHERS, &others) != SQLITE_DONE)
            status = irpd__sqlite_db_fail(s, what);
        else if (others >= IRPD_STORE_DEVICES_MAX)
            status = irpd__sqlite_failf(s, IRP_CONFLICT, "%s: %s has %d devices registered already",
                                        what, user, IRPD_STORE_DEVICES_MAX);
    }
    if (status == 0 && auth_cert != NULL)
        status = irpd__sqlite_check_auth_cert(s, what, uid, user, auth_cert, actor, now);
    if (status == 0) { /* step 6 */
        sqlite3_stmt *q = s->q[S_BIND_PUT];
        sqlite3_bind_int64(q, 1, uid);
        irpd__sqlite_bind_text(q, 2, b->device);
        sqlite3_bind_int64(q, 3, irpd__store_seq_to_db(b->seq));
        sqlite3_bind_int(q, 4, b->port);
        irpd__sqlite_bind_text(q, 5, addrs);
        irpd__sqlite_bind_text(q, 6, b->seen);
        sqlite3_bind_int64(q, 7, b->expires);
        sqlite3_bind_int64(q, 8, now);
        int rc = irpd__sqlite_run(s, S_BIND_PUT);
        sqlite3_clear_bindings(q);
        if (rc != SQLITE_DONE) status = irpd__sqlite_db_fail(s, what);
    }
    if (status == 0) {
        snprintf(detail, sizeof detail, "device=%s seq=%llu port=%u expires=%lld", b->device,
                 (unsigned long long)b->seq, (unsigned)b->port, (long long)b->expires);
        status = irpd__sqlite_audit(s, what, now, actor, what, user, detail);
    }
    return irpd__sqlite_wr_end(s, status, what);
}

irp_status irpd__sqlite_binding_delete(irpd_store *st, const char *name, const char *device,
                                       const uint64_t *seq, const char *actor, int64_t now,
                                       size_t *n_ended)
{
    sq_store *s = SQ(st);
    const char *what = "unregister";
    char user[IRPD_STORE_USER_MAX + 1], detail[128];
    int64_t uid = 0, stored = 0;
    size_t n = 0;
    irp_status status = irpd__sqlite_wr_begin(s, what);
    if (status != 0) return status;
    status = irpd__sqlite_find_user(s, what, name, &uid, NULL, user);
    if (status == 0 && device != NULL) {
        sqlite3_stmt *q = s->q[S_BIND_GET];
        sqlite3_bind_int64(q, 1, uid);
        irpd__sqlite_bind_text(q, 2, device);
        sqlite3_bind_int64(q, 3, now);
        int rc = sqlite3_step(q), live = 0;
        if (rc == SQLITE_ROW) {
            stored = sqlite3_column_int64(q, 0);
            live = sqlite3_column_int(q, 1);
        }
        sqlite3_reset(q);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            status = irpd__sqlite_db_fail(s, what);
        else if (!live)
            status = irpd__sqlite_failf(s, IRP_NOT_FOUND, "%s: device %s is not registered", what,
                                        device);
        else if (seq != NULL && *seq <= irpd__store_seq_from_db(stored))
            status = irpd__sqlite_failf(
                s, IRP_CONFLICT, "%s: sequence number %llu is not above %llu", what,
                (unsigned long long)*seq, (unsigned long long)irpd__store_seq_from_db(stored));
        if (status == 0) {
            q = s->q[S_BIND_END_ONE];
            sqlite3_bind_int64(q, 1, uid);
            irpd__sqlite_bind_text(q, 2, device);
            sqlite3_bind_int64(q, 3, now);
            sqlite3_bind_int64(q, 4, seq != NULL ? irpd__store_seq_to_db(*seq) : stored);
            if (irpd__sqlite_run(s, S_BIND_END_ONE) != SQLITE_DONE)
                status = irpd__sqlite_db_fail(s, what);
            n = 1;
        }
    } else if (status == 0) {
        sqlite3_bind_int64(s->q[S_BIND_END_ALL], 1, uid);
        sqlite3_bind_int64(s->q[S_BIND_END_ALL], 2, now);
        if (irpd__sqlite_run(s, S_BIND_END_ALL) != SQLITE_DONE)
            status = irpd__sqlite_db_fail(s, what);
        else
            n = (size_t)sqlite3_changes(s->db);
    }
    if (status == 0) {
        if (device != NULL)
            snprintf(detail, sizeof detail, "device=%s", device);
        else
            snprintf(detail, sizeof detail, "all=%zu", n);
        status = irpd__sqlite_audit(s, what, now, actor, what, user, detail);
    }
    status = irpd__sqlite_wr_end(s, status, what);
    if (status == 0 && n_ended != NULL) *n_ended = n;
    return status;
}

/* Calls cb for each live binding of user uid (stored spelling `user`). */
static irp_status each_binding(sq_store *s, const char *what, int64_t uid, const char *user,
                               int64_t now, irpd_binding_cb cb, void *arg)
{
    sqlite3_stmt *q = s->q[S_BIND_LIST];
    irpd_binding b;
    int rc;
    sqlite3_bind_int64(q, 1, uid);
    sqlite3_bind_int64(q, 2, now);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (cb == NULL) continue;
        read_binding(q, user, &b);
        if (cb(arg, &b) != 0) return irpd__sqlite_stopped(s, q, what);
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? 0 : irpd__sqlite_db_fail(s, what);
}

irp_status irpd__sqlite_binding_list(irpd_store *st, const char *name, int64_t now,
                                     irpd_binding_cb cb, void *arg)
{
    sq_store *s = SQ(st);
    char user[IRPD_STORE_USER_MAX + 1];
    int64_t uid;
    irp_status status = irpd__sqlite_find_user(s, "bindings", name, &uid, NULL, user);
    if (status != 0) return status;
    return each_binding(s, "bindings", uid, user, now, cb, arg);
}

irp_status irpd__sqlite_sweep(irpd_store *st, int64_t now, irpd_binding_cb cb, void *arg,
                              size_t *n_expired)
{
    sq_store *s = SQ(st);
    char user[IRPD_STORE_USER_MAX + 1], detail[32];
    irpd_binding b;
    int rc = SQLITE_DONE;
    size_t n = 0;
    irp_status status = irpd__sqlite_wr_begin(s, "sweep");
    if (status != 0) return status;
    sqlite3_stmt *q = s->q[S_BIND_EXPIRED];
    sqlite3_bind_int64(q, 1, now);
    while (cb != NULL && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        irpd__sqlite_col_text(q, 7, user, sizeof user);
        read_binding(q, user, &b);
        if (cb(arg, &b) != 0) {
            status = irpd__sqlite_stopped(s, q, "sweep");
            break;
        }
    }
    sqlite3_reset(q);
    if (cb != NULL && status == 0 && rc != SQLITE_DONE) status = irpd__sqlite_db_fail(s, "sweep");
    if (status == 0) { /* expired ones end; those ended long ago are forgotten */
        sqlite3_bind_int64(s->q[S_BIND_MARK_EXPIRED], 1, now);
        sqlite3_bind_int64(s->q[S_BIND_FORGET], 1, now - IRPD_STORE_SEQ_KEEP);
        if (irpd__sqlite_run(s, S_BIND_MARK_EXPIRED) != SQLITE_DONE)
            status = irpd__sqlite_db_fail(s, "sweep");
        n = (size_t)sqlite3_changes(s->db);
        if (status == 0 && irpd__sqlite_run(s, S_BIND_FORGET) != SQLITE_DONE)
            status = irpd__sqlite_db_fail(s, "sweep");
    }
    if (status == 0 && n > 0) {
        snprintf(detail, sizeof detail, "bindings=%zu", n);
        status = irpd__sqlite_audit(s, "sweep", now, NULL, "expire", NULL, detail);
    }
    status = irpd__sqlite_wr_end(s, status, "sweep");
    if (status == 0 && n_expired != NULL) *n_expired = n;
    return status;
}

/* ---- lookup ------------------------------------------------------------------------- */

/* The access rule (irpd_store_access_check); the target's id and spelling out. */
static irp_status check_access(sq_store *s, const char *viewer, const char *target, unsigned flags,
                               int64_t *uid, char *canon)
{
    int access = IRPD_ACCESS_ANYONE;
    irp_status status = irpd__sqlite_find_user(s, "lookup", target, uid, &access, canon);
    if (status != 0 || (flags & IRPD_LOOKUP_ANY) || irpd__store_same_user(viewer, canon) ||
        access == IRPD_ACCESS_ANYONE)
        return status;
    if (access == IRPD_ACCESS_LIST) {
        sqlite3_stmt *q = s->q[S_ALLOW_HAS];
        sqlite3_bind_int64(q, 1, *uid);
        irpd__sqlite_bind_text(q, 2, viewer);
        int rc = sqlite3_step(q);
        sqlite3_reset(q);
        if (rc == SQLITE_ROW) return 0;
        if (rc != SQLITE_DONE) return irpd__sqlite_db_fail(s, "lookup");
    }
    return irpd__sqlite_failf(s, IRP_FORBIDDEN, "lookup: %s does not allow %s", canon, viewer);
}

irp_status irpd__sqlite_access_check(irpd_store *st, const char *viewer, const char *target,
                                     unsigned flags)
{
    sq_store *s = SQ(st);
    char canon[IRPD_STORE_USER_MAX + 1];
    int64_t uid;
    return check_access(s, viewer != NULL ? viewer : "", target, flags, &uid, canon);
}

irp_status irpd__sqlite_lookup(irpd_store *st, const char *viewer, const char *target, int64_t now,
                               unsigned flags, const irpd_lookup_cb *cb, void *arg, char *user_out)
{
    sq_store *s = SQ(st);
    char canon[IRPD_STORE_USER_MAX + 1];
    int64_t uid = 0, n_valid = 0;
    int op = (flags & IRPD_LOOKUP_WATCH) ? 1 : (flags & IRPD_LOOKUP_USER_INFO) ? 2 : 0;
    irp_status status;
    if (s->batch_tx) { /* inside the batch's transaction: it sees the batch's changes */
        if (irpd__sqlite_batch_lost(s)) return IRP_INTERNAL;
    } else if (s->reads.n >= IRPD_STORE_AUDIT_QUEUE &&
               (status = irpd__sqlite_flush_queue(s)) != 0) {
        return status; /* fail closed: no lookup while earlier records cannot be written */
    }
    /* Room for this lookup's record before reading anything (the target as stored has the
     * same length as the target asked for: they differ in case only). */
    if (irpd_readq_reserve(&s->reads, viewer != NULL ? strlen(viewer) : 0, strlen(target)) != 0)
        return irpd__sqlite_failf(s, IRP_INTERNAL, "lookup: out of memory");
    if (!s->batch_tx && irpd__sqlite_run(s, S_BEGIN_R) != SQLITE_DONE)
        return irpd__sqlite_db_fail(s, "lookup");

    status = check_access(s, viewer != NULL ? viewer : "", target, flags, &uid, canon);
    if (status == 0)
        status = each_binding(s, "lookup", uid, canon, now, cb != NULL ? cb->binding : NULL, arg);
    if (status == 0 && cb != NULL && cb->cert != NULL) {
        sqlite3_stmt *q = s->q[S_CERT_VALID_LIVE];
        sqlite3_bind_int64(q, 1, uid);
        sqlite3_bind_int64(q, 2, now);
        sqlite3_bind_int(q, 3, IRPD_STORE_VALID_CERTS);
        status = irpd__sqlite_each_cert(s, S_CERT_VALID_LIVE, "lookup", 1, cb->cert, arg, &n_valid);
        q = s->q[S_CERT_REVOKED_LIVE];
        sqlite3_bind_int64(q, 1, uid);
        sqlite3_bind_int64(q, 2, now);
        sqlite3_bind_int64(q, 3, IRPD_STORE_LOOKUP_CERTS - n_valid);
        if (status == 0)
            status =
                irpd__sqlite_each_cert(s, S_CERT_REVOKED_LIVE, "lookup", 0, cb->cert, arg, NULL);
    }
    if (!s->batch_tx && irpd__sqlite_run(s, S_COMMIT) != SQLITE_DONE && status == 0)
        status = irpd__sqlite_db_fail(s, "lookup");
    if (status != 0 && status != IRP_FORBIDDEN) return status;

    if (user_out != NULL) memcpy(user_out, canon, sizeof canon);
    irpd_readq_push(&s->reads, now, viewer, canon, op, status == 0);
    return status;
}

/* ---- PKCS#12 ------------------------------------------------------------------------ */

irp_status irpd__sqlite_p12_put(irpd_store *st, const char *name, const uint8_t *blob, size_t len,
                                const char *actor, int64_t now)
{
    sq_store *s = SQ(st);
    char user[IRPD_STORE_USER_MAX + 1], detail[32];
    int64_t uid;
    irp_status status = irpd__sqlite_wr_begin(s, "pkcs12-put");
    if (status != 0) return status;
    status = irpd__sqlite_find_user(s, "pkcs12-put", name, &uid, NULL, user);
    if (status == 0) {
        sqlite3_stmt *q = s->q[S_P12_PUT];
        sqlite3_bind_int64(q, 1, uid);
        sqlite3_bind_blob(q, 2, blob, (int)len, SQLITE_STATIC);
        sqlite3_bind_int64(q, 3, now);
        int rc = irpd__sqlite_run(s, S_P12_PUT);
        sqlite3_clear_bindings(q);
        if (rc != SQLITE_DONE) status = irpd__sqlite_db_fail(s, "pkcs12-put");
    }
    if (status == 0) {
        snprintf(detail, sizeof detail, "bytes=%zu", len);
        status = irpd__sqlite_audit(s, "pkcs12-put", now, actor, "pkcs12-put", user, detail);
    }
    return irpd__sqlite_wr_end(s, status, "pkcs12-put");
}

irp_status irpd__sqlite_p12_get(irpd_store *st, const char *name, uint8_t *buf, size_t cap,
                                size_t *len, int64_t *updated)
{
    sq_store *s = SQ(st);
    int64_t uid;
    irp_status status = irpd__sqlite_find_user(s, "pkcs12-get", name, &uid, NULL, NULL);
    if (status != 0) return status;
    sqlite3_stmt *q = s->q[S_P12_GET];
    sqlite3_bind_int64(q, 1, uid);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        const void *blob = sqlite3_column_blob(q, 0);
        size_t n = (size_t)sqlite3_column_bytes(q, 0);
        if (n > cap)
            status = irpd__sqlite_failf(s, IRP_TOO_LARGE, "pkcs12-get: %zu bytes do not fit", n);
        else if (n > 0)
            memcpy(buf, blob, n);
        *len = n;
        if (updated != NULL) *updated = sqlite3_column_int64(q, 1);
    }
    sqlite3_reset(q);
    if (rc == SQLITE_DONE)
        return irpd__sqlite_failf(s, IRP_NOT_FOUND, "pkcs12-get: %s has no backup", name);
    if (rc != SQLITE_ROW) return irpd__sqlite_db_fail(s, "pkcs12-get");
    return status;
}

/* ---- audit ------------------------------------------------------------------------------ */

irp_status irpd__sqlite_audit_add(irpd_store *st, int64_t now, const char *actor, const char *op,
                                  const char *target, const char *detail)
{
    sq_store *s = SQ(st);
    irp_status status = irpd__sqlite_wr_begin(s, "audit");
    if (status != 0) return status;
    status = irpd__sqlite_audit(s, "audit", now, actor, op, target, detail);
    return irpd__sqlite_wr_end(s, status, "audit");
}

/* Calls cb for the rows of statement id, bound by the caller. */
static irp_status each_audit(sq_store *s, int id, const char *what, irpd_audit_cb cb, void *arg)
{
    sqlite3_stmt *q = s->q[id];
    irpd_audit_row r;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        r.id = sqlite3_column_int64(q, 0);
        r.ts = sqlite3_column_int64(q, 1);
        r.actor = (const char *)sqlite3_column_text(q, 2);
        r.op = (const char *)sqlite3_column_text(q, 3);
        r.target = (const char *)sqlite3_column_text(q, 4);
        r.detail = (const char *)sqlite3_column_text(q, 5);
        if (cb(arg, &r) != 0) return irpd__sqlite_stopped(s, q, what);
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? 0 : irpd__sqlite_db_fail(s, what);
}

static irp_status list_audit(sq_store *s, int id, const char *what, const char *target,
                             int64_t after_id, size_t limit, irpd_audit_cb cb, void *arg)
{
    sqlite3_stmt *q = s->q[id];
    sqlite3_bind_int64(q, 1, after_id);
    sqlite3_bind_int64(q, 2, limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit);
    if (target != NULL) irpd__sqlite_bind_text(q, 3, target);
    return each_audit(s, id, what, cb, arg);
}

irp_status irpd__sqlite_audit_list(irpd_store *st, const char *target, int64_t after_id,
                                   size_t limit, irpd_audit_cb cb, void *arg)
{
    sq_store *s = SQ(st);
    return list_audit(s, target != NULL ? S_AUDIT_TARGET : S_AUDIT_ALL, "audit", target, after_id,
                      limit, cb, arg);
}

irp_status irpd__sqlite_access_log(irpd_store *st, const char *owner, int64_t after_id,
                                   size_t limit, irpd_audit_cb cb, void *arg)
{
    sq_store *s = SQ(st);
    return list_audit(s, S_ACCESS_LOG, "access-log", owner, after_id, limit, cb, arg);
}
