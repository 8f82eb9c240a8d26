/*
 * irpd_sqlite_users.c - the SQLite backend's users, their lookup policy and
 * user info, and enrolment tokens (irpd_store.h; the backend's frame is in
 * irpd_sqlite.c).
 */
#include <stdio.h>
#include <string.h>

#include "irpd_sqlite_int.h"

/* ---- users --------------------------------------------------------------------------- */

irp_status irpd__sqlite_user_add(irpd_store *st, const char *name, const char *actor, int64_t now)
{
    sq_store *s = SQ(st);
    irp_status status = irpd__sqlite_wr_begin(s, "user-add");
    if (status != 0) return status;
    irpd__sqlite_bind_text(s->q[S_USER_ADD], 1, name);
    sqlite3_bind_int64(s->q[S_USER_ADD], 2, now);
    if (irpd__sqlite_run(s, S_USER_ADD) != SQLITE_DONE)
        status = irpd__sqlite_db_fail(s, "user-add");
    else if (sqlite3_changes(s->db) == 0)
        status = irpd__sqlite_failf(s, IRP_CONFLICT, "user-add: user %s exists", name);
    else
        status = irpd__sqlite_audit(s, "user-add", now, actor, "user-add", name, NULL);
    return irpd__sqlite_wr_end(s, status, "user-add");
}

irp_status irpd__sqlite_user_get(irpd_store *st, const char *name, irpd_user *out)
{
    sq_store *s = SQ(st);
    sqlite3_stmt *q = s->q[S_USER_GET];
    irpd__sqlite_bind_text(q, 1, name);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        irpd__sqlite_col_text(q, 0, out->name, sizeof out->name);
        out->access = (irpd_access)sqlite3_column_int(q, 1);
        out->admin = sqlite3_column_int(q, 2);
        out->created = sqlite3_column_int64(q, 3);
        irpd__sqlite_col_blob(q, 4, out->pw_hash, IRPD_STORE_PW_MAX, &out->pw_hash_len);
        out->pw_hash[out->pw_hash_len] = '\0';
        irpd__sqlite_col_blob(q, 5, out->pw_salt, sizeof out->pw_salt, &out->pw_salt_len);
    }
    sqlite3_reset(q);
    if (rc == SQLITE_ROW) return 0;
    if (rc == SQLITE_DONE)
        return irpd__sqlite_failf(s, IRP_NOT_FOUND, "user-get: no user %s", name);
    return irpd__sqlite_db_fail(s, "user-get");
}

irp_status irpd__sqlite_user_list(irpd_store *st, const char *after, size_t limit, int64_t now,
                                  irpd_user_cb cb, void *arg)
{
    sq_store *s = SQ(st);
    irpd_user u;
    int rc;
    sqlite3_stmt *q = s->q[S_USER_LIST];
    irpd__sqlite_bind_text(q, 1, after != NULL ? after : "");
    sqlite3_bind_int64(q, 2, limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit);
    sqlite3_bind_int64(q, 3, now);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        memset(&u, 0, sizeof u);
        irpd__sqlite_col_text(q, 0, u.name, sizeof u.name);
        u.access = (irpd_access)sqlite3_column_int(q, 1);
        u.admin = sqlite3_column_int(q, 2);
        u.created = sqlite3_column_int64(q, 3);
        u.n_devices = (unsigned)sqlite3_column_int(q, 4);
        u.n_certs = (unsigned)sqlite3_column_int(q, 5);
        if (cb(arg, &u) != 0) return irpd__sqlite_stopped(s, q, "list-users");
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? 0 : irpd__sqlite_db_fail(s, "list-users");
}

/* Runs UPDATE users ... WHERE name = ?1 (?2, ?3 bound by the caller), audited. */
static irp_status update_user(sq_store *s, int id, const char *what, const char *name,
                              const char *actor, int64_t now, const char *detail)
{
    irp_status status = irpd__sqlite_wr_begin(s, what);
    if (status == 0) {
        irpd__sqlite_bind_text(s->q[id], 1, name);
        if (irpd__sqlite_run(s, id) != SQLITE_DONE)
            status = irpd__sqlite_db_fail(s, what);
        else if (sqlite3_changes(s->db) == 0)
            status = irpd__sqlite_failf(s, IRP_NOT_FOUND, "%s: no user %s", what, name);
        else
            status = irpd__sqlite_audit(s, what, now, actor, what, name, detail);
        status = irpd__sqlite_wr_end(s, status, what);
    }
    sqlite3_clear_bindings(s->q[id]); /* drop the caller's pointers */
    return status;
}

irp_status irpd__sqlite_user_set_password(irpd_store *st, const char *name, const uint8_t *hash,
                                          size_t hash_len, const uint8_t *salt, size_t salt_len,
                                          const char *actor, int64_t now)
{
    sq_store *s = SQ(st);
    sqlite3_stmt *q = s->q[S_USER_SET_PW];
    sqlite3_bind_null(q, 2);
    sqlite3_bind_null(q, 3);
    if (hash != NULL) sqlite3_bind_blob(q, 2, hash, (int)hash_len, SQLITE_STATIC);
    if (hash != NULL && salt_len > 0) sqlite3_bind_blob(q, 3, salt, (int)salt_len, SQLITE_STATIC);
    return update_user(s, S_USER_SET_PW, "passwd", name, actor, now,
                       hash != NULL ? "set" : "cleared");
}

irp_status irpd__sqlite_user_set_admin(irpd_store *st, const char *name, int admin,
                                       const char *actor, int64_t now)
{
    sq_store *s = SQ(st);
    sqlite3_bind_int(s->q[S_USER_SET_ADMIN], 2, admin != 0);
    return update_user(s, S_USER_SET_ADMIN, "admin", name, actor, now,
                       admin != 0 ? "granted" : "withdrawn");
}

static const char *const ACCESS_NAME[] = {"anyone", "list", "nobody"};

irp_status irpd__sqlite_user_set_access(irpd_store *st, const char *name, irpd_access access,
                                        const char *const *allow, size_t n_allow, const char *actor,
                                        int64_t now)
{
    sq_store *s = SQ(st);
    const char *what = "lookup-policy";
    char canon[IRPD_STORE_USER_MAX + 1], detail[64];
    int64_t uid = 0;
    irp_status status = irpd__sqlite_wr_begin(s, what);
    if (status != 0) return status;
    status = irpd__sqlite_find_user(s, what, name, &uid, NULL, canon);
    if (status == 0) {
        sqlite3_bind_int64(s->q[S_USER_SET_ACCESS], 1, uid);
        sqlite3_bind_int(s->q[S_USER_SET_ACCESS], 2, (int)access);
        sqlite3_bind_int64(s->q[S_ALLOW_CLEAR], 1, uid);
        if (irpd__sqlite_run(s, S_USER_SET_ACCESS) != SQLITE_DONE ||
            irpd__sqlite_run(s, S_ALLOW_CLEAR) != SQLITE_DONE)
            status = irpd__sqlite_db_fail(s, what);
    }
    for (size_t i = 0; status == 0 && i < n_allow; i++) {
        sqlite3_bind_int64(s->q[S_ALLOW_ADD], 1, uid);
        irpd__sqlite_bind_text(s->q[S_ALLOW_ADD], 2, allow[i]);
        if (irpd__sqlite_run(s, S_ALLOW_ADD) != SQLITE_DONE) status = irpd__sqlite_db_fail(s, what);
    }
    if (status == 0) {
        snprintf(detail, sizeof detail, "access=%s allow=%zu", ACCESS_NAME[access], n_allow);
        status = irpd__sqlite_audit(s, what, now, actor, what, canon, detail);
    }
    return irpd__sqlite_wr_end(s, status, what);
}

irp_status irpd__sqlite_allow_list(irpd_store *st, const char *name, irpd_name_cb cb, void *arg)
{
    sq_store *s = SQ(st);
    char allowed[IRPD_STORE_USER_MAX + 1];
    int64_t uid;
    int rc;
    irp_status status = irpd__sqlite_find_user(s, "lookup-policy", name, &uid, NULL, NULL);
    if (status != 0) return status;
    sqlite3_stmt *q = s->q[S_ALLOW_LIST];
    sqlite3_bind_int64(q, 1, uid);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        irpd__sqlite_col_text(q, 0, allowed, sizeof allowed);
        if (cb(arg, allowed) != 0) return irpd__sqlite_stopped(s, q, "lookup-policy");
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? 0 : irpd__sqlite_db_fail(s, "lookup-policy");
}

irp_status irpd__sqlite_info_set(irpd_store *st, const char *user, const irpd_info *items, size_t n,
                                 const char *actor, int64_t now)
{
    sq_store *s = SQ(st);
    const char *what = "user-info";
    char canon[IRPD_STORE_USER_MAX + 1],
        detail[IRPD_STORE_INFO_MAX * (IRPD_STORE_INFO_NAME_MAX + 1) + 8];
    int64_t uid = 0, held = 0;
    size_t at = 0;
    irp_status status = irpd__sqlite_wr_begin(s, what);
    if (status != 0) return status;
    status = irpd__sqlite_find_user(s, what, user, &uid, NULL, canon);
    for (size_t i = 0; status == 0 && i < n; i++) {
        int id = items[i].value_len > 0 ? S_INFO_PUT : S_INFO_DEL;
        sqlite3_bind_int64(s->q[id], 1, uid);
        irpd__sqlite_bind_text(s->q[id], 2, items[i].name);
        if (id == S_INFO_PUT)
            sqlite3_bind_text(s->q[id], 3, items[i].value, (int)items[i].value_len, SQLITE_STATIC);
        if (irpd__sqlite_run(s, id) != SQLITE_DONE) status = irpd__sqlite_db_fail(s, what);
        at += (size_t)snprintf(detail + at, sizeof detail - at, "%s%s",
                               i > 0 ? "," : "items=", items[i].name);
    }
    sqlite3_bind_int64(s->q[S_INFO_COUNT], 1, uid);
    if (status == 0 && irpd__sqlite_one_int(s, S_INFO_COUNT, &held) != SQLITE_DONE)
        status = irpd__sqlite_db_fail(s, what);
    if (status == 0 && held > IRPD_STORE_INFO_MAX)
        status = irpd__sqlite_failf(s, IRP_TOO_LARGE, "%s: %s would hold %lld items (at most %d)",
                                    what, canon, (long long)held, IRPD_STORE_INFO_MAX);
    if (status == 0)
        status = irpd__sqlite_audit(s, what, now, actor, what, canon, n > 0 ? detail : NULL);
    return irpd__sqlite_wr_end(s, status, what);
}

irp_status irpd__sqlite_info_get(irpd_store *st, const char *user, irpd_info_cb cb, void *arg)
{
    sq_store *s = SQ(st);
    int64_t uid;
    int rc;
    irp_status status = irpd__sqlite_find_user(s, "user-info", user, &uid, NULL, NULL);
    if (status != 0) return status;
    sqlite3_stmt *q = s->q[S_INFO_LIST];
    sqlite3_bind_int64(q, 1, uid);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        irpd_info item = {(const char *)sqlite3_column_text(q, 0),
                          (const char *)sqlite3_column_text(q, 1),
                          (size_t)sqlite3_column_bytes(q, 1)};
        if (cb(arg, &item) != 0) return irpd__sqlite_stopped(s, q, "user-info");
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? 0 : irpd__sqlite_db_fail(s, "user-info");
}

/* ---- enrolment tokens -------------------------------------------------------------- */

/* The first 4 bytes of a token hash: audit records tie token-add to its use by them. */
static void hash_tag(const uint8_t hash[32], char out[9])
{
    snprintf(out, 9, "%02x%02x%02x%02x", hash[0], hash[1], hash[2], hash[3]);
}

irp_status irpd__sqlite_token_add(irpd_store *st, const uint8_t hash[32], const char *user,
                                  int64_t expires, const char *actor, int64_t now)
{
    sq_store *s = SQ(st);
    char detail[64], tag[9];
    irp_status status = irpd__sqlite_wr_begin(s, "token");
    if (status != 0) return status;
    sqlite3_stmt *q = s->q[S_TOKEN_ADD];
    sqlite3_bind_blob(q, 1, hash, 32, SQLITE_STATIC);
    irpd__sqlite_bind_text(q, 2, user);
    sqlite3_bind_int64(q, 3, expires);
    sqlite3_bind_int64(q, 4, now);
    if (irpd__sqlite_run(s, S_TOKEN_ADD) != SQLITE_DONE)
        status = irpd__sqlite_db_fail(s, "token");
    else if (sqlite3_changes(s->db) == 0)
        status = irpd__sqlite_failf(s, IRP_CONFLICT, "token: exists");
    if (status == 0) {
        hash_tag(hash, tag);
        snprintf(detail, sizeof detail, "token=%s expires=%lld", tag, (long long)expires);
        status = irpd__sqlite_audit(s, "token", now, actor, "token-add", user, detail);
    }
    return irpd__sqlite_wr_end(s, status, "token");
}

/* Why a token is not usable (IRP.md 6.5 step 1): IRP_FORBIDDEN, IRP_GONE; or 0. */
static irp_status token_state(sq_store *s, const uint8_t hash[32], int64_t now, char *user_out)
{
    sqlite3_stmt *q = s->q[S_TOKEN_GET];
    sqlite3_bind_blob(q, 1, hash, 32, SQLITE_STATIC);
    int rc = sqlite3_step(q), used = 0;
    int64_t expires = 0;
    if (rc == SQLITE_ROW) {
        if (user_out != NULL) irpd__sqlite_col_text(q, 0, user_out, IRPD_STORE_USER_MAX + 1);
        expires = sqlite3_column_int64(q, 1);
        used = sqlite3_column_type(q, 2) != SQLITE_NULL;
    }
    sqlite3_reset(q);
    if (rc == SQLITE_DONE)
        return irpd__sqlite_failf(s, IRP_FORBIDDEN, "token: unknown enrolment token");
    if (rc != SQLITE_ROW) return irpd__sqlite_db_fail(s, "token");
    if (used) return irpd__sqlite_failf(s, IRP_GONE, "token: the enrolment token was used");
    if (now >= expires)
        return irpd__sqlite_failf(s, IRP_GONE, "token: the enrolment token has expired");
    return 0;
}

irp_status irpd__sqlite_token_check(irpd_store *st, const uint8_t hash[32], int64_t now,
                                    char *user_out)
{
    sq_store *s = SQ(st);
    return token_state(s, hash, now, user_out);
}

/* Uses the token inside the open write transaction; its user into user (USER_MAX + 1). */
irp_status irpd__sqlite_consume(sq_store *s, const uint8_t hash[32], int64_t now, char *user)
{
    sqlite3_stmt *q = s->q[S_TOKEN_USE];
    sqlite3_bind_blob(q, 1, hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, now);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) irpd__sqlite_col_text(q, 0, user, IRPD_STORE_USER_MAX + 1);
    sqlite3_reset(q);
    if (rc == SQLITE_ROW) return 0;
    if (rc != SQLITE_DONE) return irpd__sqlite_db_fail(s, "token");
    irp_status why = token_state(s, hash, now, NULL); /* not usable: say why */
    return why != 0 ? why : irpd__sqlite_failf(s, IRP_INTERNAL, "token: inconsistent state");
}

irp_status irpd__sqlite_token_consume(irpd_store *st, const uint8_t hash[32], int64_t now,
                                      char *user_out, const char *actor)
{
    sq_store *s = SQ(st);
    char user[IRPD_STORE_USER_MAX + 1], tag[9], detail[32];
    irp_status status = irpd__sqlite_wr_begin(s, "token");
    if (status != 0) return status;
    status = irpd__sqlite_consume(s, hash, now, user);
    if (status == 0) {
        hash_tag(hash, tag);
        snprintf(detail, sizeof detail, "token=%s", tag);
        status = irpd__sqlite_audit(s, "token", now, actor, "token-use", user, detail);
    }
    status = irpd__sqlite_wr_end(s, status, "token");
    if (status == 0 && user_out != NULL) memcpy(user_out, user, sizeof user);
    return status;
}
