/*
 * irpd_pg_bindings.c - the PostgreSQL backend's bindings, lookup, PKCS#12
 * backups and audit log (irpd_store.h; the backend's frame is in irpd_pg.c;
 * the SQLite twin is irpd_sqlite_bindings.c).
 */
#include <stdio.h>
#include <string.h>

#include "irpd_pg_int.h"

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

/* Reads a BIND_COLS row i for user. */
static void read_binding(const PGresult *r, int i, const char *user, irpd_binding *b)
{
    memset(b, 0, sizeof *b);
    size_t n = strnlen(user, sizeof b->user - 1);
    memcpy(b->user, user, n);
    irpd__pg_text(r, i, 0, b->device, sizeof b->device);
    b->seq = irpd__store_seq_from_db(irpd__pg_int(r, i, 1));
    b->port = (uint16_t)irpd__pg_int(r, i, 2);
    const char *a = PQgetvalue(r, i, 3);
    while (*a != '\0' && b->n_addrs < IRPD_STORE_ADDRS_MAX) {
        size_t k = strcspn(a, " ");
        if (k > 0 && k <= IRPD_STORE_ADDR_MAX) {
            memcpy(b->addrs[b->n_addrs], a, k);
            b->addrs[b->n_addrs++][k] = '\0';
        }
        a += k;
        if (*a == ' ') a++;
    }
    irpd__pg_text(r, i, 4, b->seen, sizeof b->seen);
    b->expires = irpd__pg_int(r, i, 5);
    b->updated = irpd__pg_int(r, i, 6);
}

/* The stored seq of (uid, device) and whether its binding is live; *found 0 when no row. */
static irp_status stored_seq(pg_store *s, const char *what, int64_t uid, const char *device,
                             int64_t now, int *found, int64_t *seq, int *live)
{
    irp_status status = 0;
    pg_args a = {0};
    irpd__pg_arg_int(&a, uid);
    irpd__pg_arg_text(&a, device);
    irpd__pg_arg_int(&a, now);
    PGresult *r = irpd__pg_exec(s, P_BIND_GET, &a, what, &status);
    if (r == NULL) return status;
    *found = PQntuples(r) > 0;
    *seq = *found ? irpd__pg_int(r, 0, 0) : 0;
    *live = *found ? (int)irpd__pg_int(r, 0, 1) : 0;
    PQclear(r);
    return 0;
}

irp_status irpd__pg_binding_put(irpd_store *st, const irpd_binding *b, const irpd_cert *auth_cert,
                                const char *actor, int64_t now)
{
    pg_store *s = PGS(st);
    const char *what = "register";
    char addrs[IRPD_STORE_ADDRS_MAX * (IRPD_STORE_ADDR_MAX + 1)];
    char user[IRPD_STORE_USER_MAX + 1], detail[192];
    int64_t uid = 0, stored = 0, others = 0;
    int found = 0, live = 0;
    join_addrs(b, addrs);
    irp_status status = irpd__pg_wr_begin(s, what);
    if (status != 0) return status;
    status = irpd__pg_find_user(s, what, b->user, &uid, NULL, user);
    /* step 2: the seq, kept even after the binding ended */
    if (status == 0) status = stored_seq(s, what, uid, b->device, now, &found, &stored, &live);
    if (status == 0 && found && b->seq <= irpd__store_seq_from_db(stored))
        status = irpd__pg_failf(s, IRP_CONFLICT, "%s: sequence number %llu is not above %llu", what,
                                (unsigned long long)b->seq,
                                (unsigned long long)irpd__store_seq_from_db(stored));
    if (status == 0) { /* step 3: the number of devices */
        pg_args a = {0};
        irpd__pg_arg_int(&a, uid);
        irpd__pg_arg_text(&a, b->device);
        irpd__pg_arg_int(&a, now);
        status = irpd__pg_one_int(s, P_BIND_COUNT_OTHERS, &a, what, &others);
        if (status == 0 && others >= IRPD_STORE_DEVICES_MAX)
            status = irpd__pg_failf(s, IRP_CONFLICT, "%s: %s has %d devices registered already",
                                    what, user, IRPD_STORE_DEVICES_MAX);
    }
    if (status == 0 && auth_cert != NULL)
        status = irpd__pg_check_auth_cert(s, what, uid, user, auth_cert, actor, now);
    if (status == 0) { /* step 6 */
        pg_args a = {0};
        irpd__pg_arg_int(&a, uid);
        irpd__pg_arg_text(&a, b->device);
        irpd__pg_arg_int(&a, irpd__store_seq_to_db(b->seq));
        irpd__pg_arg_int(&a, b->port);
        irpd__pg_arg_text(&a, addrs);
        irpd__pg_arg_text(&a, b->seen);
        irpd__pg_arg_int(&a, b->expires);
        irpd__pg_arg_int(&a, now);
        status = irpd__pg_cmd(s, P_BIND_PUT, &a, what, NULL);
    }
    if (status == 0) {
        snprintf(detail, sizeof detail, "device=%s seq=%llu port=%u expires=%lld", b->device,
                 (unsigned long long)b->seq, (unsigned)b->port, (long long)b->expires);
        status = irpd__pg_audit(s, what, now, actor, what, user, detail);
    }
    return irpd__pg_wr_end(s, status, what);
}

irp_status irpd__pg_binding_delete(irpd_store *st, const char *name, const char *device,
                                   const uint64_t *seq, const char *actor, int64_t now,
                                   size_t *n_ended)
{
    pg_store *s = PGS(st);
    const char *what = "unregister";
    char user[IRPD_STORE_USER_MAX + 1], detail[128];
    int64_t uid = 0, stored = 0, changed = 0;
    int found = 0, live = 0;
    size_t n = 0;
    irp_status status = irpd__pg_wr_begin(s, what);
    if (status != 0) return status;
    status = irpd__pg_find_user(s, what, name, &uid, NULL, user);
    if (status == 0 && device != NULL) {
        status = stored_seq(s, what, uid, device, now, &found, &stored, &live);
        if (status == 0 && !live)
            status =
                irpd__pg_failf(s, IRP_NOT_FOUND, "%s: device %s is not registered", what, device);
        else if (status == 0 && seq != NULL && *seq <= irpd__store_seq_from_db(stored))
            status = irpd__pg_failf(s, IRP_CONFLICT, "%s: sequence number %llu is not above %llu",
                                    what, (unsigned long long)*seq,
                                    (unsigned long long)irpd__store_seq_from_db(stored));
        if (status == 0) {
            pg_args a = {0};
            irpd__pg_arg_int(&a, uid);
            irpd__pg_arg_text(&a, device);
            irpd__pg_arg_int(&a, now);
            irpd__pg_arg_int(&a, seq != NULL ? irpd__store_seq_to_db(*seq) : stored);
            status = irpd__pg_cmd(s, P_BIND_END_ONE, &a, what, NULL);
            n = 1;
        }
    } else if (status == 0) {
        pg_args a = {0};
        irpd__pg_arg_int(&a, uid);
        irpd__pg_arg_int(&a, now);
        status = irpd__pg_cmd(s, P_BIND_END_ALL, &a, what, &changed);
        n = (size_t)changed;
    }
    if (status == 0) {
        if (device != NULL)
            snprintf(detail, sizeof detail, "device=%s", device);
        else
            snprintf(detail, sizeof detail, "all=%zu", n);
        status = irpd__pg_audit(s, what, now, actor, what, user, detail);
    }
    status = irpd__pg_wr_end(s, status, what);
    if (status == 0 && n_ended != NULL) *n_ended = n;
    return status;
}

/* Calls cb for each live binding of user uid (stored spelling `user`). */
static irp_status each_binding(pg_store *s, const char *what, int64_t uid, const char *user,
                               int64_t now, irpd_binding_cb cb, void *arg)
{
    irp_status status = 0;
    irpd_binding b;
    pg_args a = {0};
    if (cb == NULL) return 0;
    irpd__pg_arg_int(&a, uid);
    irpd__pg_arg_int(&a, now);
    PGresult *r = irpd__pg_exec(s, P_BIND_LIST, &a, what, &status);
    if (r == NULL) return status;
    for (int i = 0; i < PQntuples(r); i++) {
        read_binding(r, i, user, &b);
        if (cb(arg, &b) != 0) return irpd__pg_stopped(s, r, what);
    }
    PQclear(r);
    return 0;
}

irp_status irpd__pg_binding_list(irpd_store *st, const char *name, int64_t now, irpd_binding_cb cb,
                                 void *arg)
{
    pg_store *s = PGS(st);
    char user[IRPD_STORE_USER_MAX + 1];
    int64_t uid;
    irp_status status = irpd__pg_find_user(s, "bindings", name, &uid, NULL, user);
    if (status != 0) return status;
    return each_binding(s, "bindings", uid, user, now, cb, arg);
}

irp_status irpd__pg_sweep(irpd_store *st, int64_t now, irpd_binding_cb cb, void *arg,
                          size_t *n_expired)
{
    pg_store *s = PGS(st);
    char user[IRPD_STORE_USER_MAX + 1], detail[32];
    irpd_binding b;
    int64_t n = 0;
    irp_status status = irpd__pg_wr_begin(s, "sweep");
    if (status != 0) return status;
    if (cb != NULL) {
        pg_args a = {0};
        irpd__pg_arg_int(&a, now);
        PGresult *r = irpd__pg_exec(s, P_BIND_EXPIRED, &a, "sweep", &status);
        for (int i = 0; r != NULL && status == 0 && i < PQntuples(r); i++) {
            irpd__pg_text(r, i, 7, user, sizeof user);
            read_binding(r, i, user, &b);
            if (cb(arg, &b) != 0)
                status = irpd__pg_failf(s, IRP_INTERNAL, "sweep: stopped by the caller");
        }
        PQclear(r);
    }
    if (status == 0) { /* expired ones end; those ended long ago are forgotten */
        pg_args a = {0}, f = {0};
        irpd__pg_arg_int(&a, now);
        irpd__pg_arg_int(&f, now - IRPD_STORE_SEQ_KEEP);
        status = irpd__pg_cmd(s, P_BIND_MARK_EXPIRED, &a, "sweep", &n);
        if (status == 0) status = irpd__pg_cmd(s, P_BIND_FORGET, &f, "sweep", NULL);
    }
    if (status == 0 && n > 0) {
        snprintf(detail, sizeof detail, "bindings=%lld", (long long)n);
        status = irpd__pg_audit(s, "sweep", now, NULL, "expire", NULL, detail);
    }
    status = irpd__pg_wr_end(s, status, "sweep");
    if (status == 0 && n_expired != NULL) *n_expired = (size_t)n;
    return status;
}

/* ---- lookup ------------------------------------------------------------------------- */

/* The access rule (irpd_store_access_check); the target's id and spelling out. */
static irp_status check_access(pg_store *s, const char *viewer, const char *target, unsigned flags,
                               int64_t *uid, char *canon)
{
    int access = IRPD_ACCESS_ANYONE;
    irp_status status = irpd__pg_find_user(s, "lookup", target, uid, &access, canon);
    if (status != 0 || (flags & IRPD_LOOKUP_ANY) || irpd__store_same_user(viewer, canon) ||
        access == IRPD_ACCESS_ANYONE)
        return status;
    if (access == IRPD_ACCESS_LIST) {
        int64_t has = 0;
        pg_args a = {0};
        irpd__pg_arg_int(&a, *uid);
        irpd__pg_arg_text(&a, viewer);
        if ((status = irpd__pg_one_int(s, P_ALLOW_HAS, &a, "lookup", &has)) != 0) return status;
        if (has) return 0;
    }
    return irpd__pg_failf(s, IRP_FORBIDDEN, "lookup: %s does not allow %s", canon, viewer);
}

irp_status irpd__pg_access_check(irpd_store *st, const char *viewer, const char *target,
                                 unsigned flags)
{
    char canon[IRPD_STORE_USER_MAX + 1];
    int64_t uid;
    return check_access(PGS(st), viewer != NULL ? viewer : "", target, flags, &uid, canon);
}

irp_status irpd__pg_lookup(irpd_store *st, const char *viewer, const char *target, int64_t now,
                           unsigned flags, const irpd_lookup_cb *cb, void *arg, char *user_out)
{
    pg_store *s = PGS(st);
    char canon[IRPD_STORE_USER_MAX + 1];
    int64_t uid = 0, n_valid = 0;
    int op = (flags & IRPD_LOOKUP_WATCH) ? 1 : (flags & IRPD_LOOKUP_USER_INFO) ? 2 : 0;
    irp_status status;
    if (!s->batch_tx && s->reads.n >= IRPD_STORE_AUDIT_QUEUE &&
        (status = irpd__pg_flush_queue(s)) != 0)
        return status; /* fail closed: no lookup while earlier records cannot be written */
    /* Room for this lookup's record before reading anything (the target as stored has the
     * same length as the target asked for: they differ in case only). */
    if (irpd_readq_reserve(&s->reads, viewer != NULL ? strlen(viewer) : 0, strlen(target)) != 0)
        return irpd__pg_failf(s, IRP_INTERNAL, "lookup: out of memory");
    if ((status = irpd__pg_rd_begin(s, "lookup")) != 0) return status;

    status = check_access(s, viewer != NULL ? viewer : "", target, flags, &uid, canon);
    if (status == 0)
        status = each_binding(s, "lookup", uid, canon, now, cb != NULL ? cb->binding : NULL, arg);
    if (status == 0 && cb != NULL && cb->cert != NULL) {
        pg_args a = {0};
        irpd__pg_arg_int(&a, uid);
        irpd__pg_arg_int(&a, now);
        irpd__pg_arg_int(&a, IRPD_STORE_VALID_CERTS);
        status = irpd__pg_each_cert(s, P_CERT_VALID_LIVE, &a, "lookup", 1, cb->cert, arg, &n_valid);
        pg_args b = {0};
        irpd__pg_arg_int(&b, uid);
        irpd__pg_arg_int(&b, now);
        irpd__pg_arg_int(&b, IRPD_STORE_LOOKUP_CERTS - n_valid);
        if (status == 0)
            status =
                irpd__pg_each_cert(s, P_CERT_REVOKED_LIVE, &b, "lookup", 0, cb->cert, arg, NULL);
    }
    status = irpd__pg_rd_end(s, status, "lookup");
    if (status != 0 && status != IRP_FORBIDDEN) return status;

    if (user_out != NULL) memcpy(user_out, canon, sizeof canon);
    irpd_readq_push(&s->reads, now, viewer, canon, op, status == 0);
    return status;
}

/* ---- PKCS#12 ------------------------------------------------------------------------ */

irp_status irpd__pg_p12_put(irpd_store *st, const char *name, const uint8_t *blob, size_t len,
                            const char *actor, int64_t now)
{
    pg_store *s = PGS(st);
    char user[IRPD_STORE_USER_MAX + 1], detail[32];
    int64_t uid;
    irp_status status = irpd__pg_wr_begin(s, "pkcs12-put");
    if (status != 0) return status;
    status = irpd__pg_find_user(s, "pkcs12-put", name, &uid, NULL, user);
    if (status == 0) {
        pg_args a = {0};
        irpd__pg_arg_int(&a, uid);
        irpd__pg_arg_bytes(&a, blob, len);
        irpd__pg_arg_int(&a, now);
        status = irpd__pg_cmd(s, P_P12_PUT, &a, "pkcs12-put", NULL);
    }
    if (status == 0) {
        snprintf(detail, sizeof detail, "bytes=%zu", len);
        status = irpd__pg_audit(s, "pkcs12-put", now, actor, "pkcs12-put", user, detail);
    }
    return irpd__pg_wr_end(s, status, "pkcs12-put");
}

irp_status irpd__pg_p12_get(irpd_store *st, const char *name, uint8_t *buf, size_t cap, size_t *len,
                            int64_t *updated)
{
    pg_store *s = PGS(st);
    int64_t uid;
    pg_args a = {0};
    irp_status status = irpd__pg_find_user(s, "pkcs12-get", name, &uid, NULL, NULL);
    if (status != 0) return status;
    irpd__pg_arg_int(&a, uid);
    PGresult *r = irpd__pg_exec(s, P_P12_GET, &a, "pkcs12-get", &status);
    if (r == NULL) return status;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return irpd__pg_failf(s, IRP_NOT_FOUND, "pkcs12-get: %s has no backup", name);
    }
    size_t n = irpd__pg_bytes_len(r, 0, 0);
    if (n > cap)
        status = irpd__pg_failf(s, IRP_TOO_LARGE, "pkcs12-get: %zu bytes do not fit", n);
    else
        (void)irpd__pg_bytes(r, 0, 0, buf, cap);
    *len = n;
    if (updated != NULL) *updated = irpd__pg_int(r, 0, 1);
    PQclear(r);
    return status;
}

/* ---- audit ------------------------------------------------------------------------------ */

irp_status irpd__pg_audit_add(irpd_store *st, int64_t now, const char *actor, const char *op,
                              const char *target, const char *detail)
{
    pg_store *s = PGS(st);
    irp_status status = irpd__pg_wr_begin(s, "audit");
    if (status != 0) return status;
    status = irpd__pg_audit(s, "audit", now, actor, op, target, detail);
    return irpd__pg_wr_end(s, status, "audit");
}

static irp_status list_audit(pg_store *s, int id, const char *what, const char *target,
                             int64_t after_id, size_t limit, irpd_audit_cb cb, void *arg)
{
    irp_status status = 0;
    irpd_audit_row row;
    pg_args a = {0};
    irpd__pg_arg_int(&a, after_id);
    irpd__pg_arg_int(&a, limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit);
    if (target != NULL) irpd__pg_arg_text(&a, target);
    PGresult *r = irpd__pg_exec(s, id, &a, what, &status);
    if (r == NULL) return status;
    for (int i = 0; i < PQntuples(r); i++) {
        row.id = irpd__pg_int(r, i, 0);
        row.ts = irpd__pg_int(r, i, 1);
        row.actor = PQgetisnull(r, i, 2) ? NULL : PQgetvalue(r, i, 2);
        row.op = PQgetvalue(r, i, 3);
        row.target = PQgetisnull(r, i, 4) ? NULL : PQgetvalue(r, i, 4);
        row.detail = PQgetisnull(r, i, 5) ? NULL : PQgetvalue(r, i, 5);
        if (cb(arg, &row) != 0) return irpd__pg_stopped(s, r, what);
    }
    PQclear(r);
    return 0;
}

irp_status irpd__pg_audit_list(irpd_store *st, const char *target, int64_t after_id, size_t limit,
                               irpd_audit_cb cb, void *arg)
{
    return list_audit(PGS(st), target != NULL ? P_AUDIT_TARGET : P_AUDIT_ALL, "audit", target,
                      after_id, limit, cb, arg);
}

irp_status irpd__pg_access_log(irpd_store *st, const char *owner, int64_t after_id, size_t limit,
                               irpd_audit_cb cb, void *arg)
{
    return list_audit(PGS(st), P_ACCESS_LOG, "access-log", owner, after_id, limit, cb, arg);
}
