/*
 * irpd_pg_users.c - the PostgreSQL backend's users, their lookup policy and
 * user info, and enrolment tokens (irpd_store.h; the backend's frame is in
 * irpd_pg.c; the SQLite twin is irpd_sqlite_users.c).
 */
#include <stdio.h>
#include <string.h>

#include "irpd_pg_int.h"

/* ---- users --------------------------------------------------------------------------- */

irp_status irpd__pg_user_add(irpd_store *st, const char *name, const char *actor, int64_t now)
{
    pg_store *s = PGS(st);
    int64_t n = 0;
    pg_args a = {0};
    irp_status status = irpd__pg_wr_begin(s, "user-add");
    if (status != 0) return status;
    irpd__pg_arg_text(&a, name);
    irpd__pg_arg_int(&a, now);
    status = irpd__pg_cmd(s, P_USER_ADD, &a, "user-add", &n);
    if (status == 0 && n == 0)
        status = irpd__pg_failf(s, IRP_CONFLICT, "user-add: user %s exists", name);
    if (status == 0) status = irpd__pg_audit(s, "user-add", now, actor, "user-add", name, NULL);
    return irpd__pg_wr_end(s, status, "user-add");
}

irp_status irpd__pg_user_get(irpd_store *st, const char *name, irpd_user *out)
{
    pg_store *s = PGS(st);
    irp_status status = 0;
    pg_args a = {0};
    irpd__pg_arg_text(&a, name);
    PGresult *r = irpd__pg_exec(s, P_USER_GET, &a, "user-get", &status);
    if (r == NULL) return status;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return irpd__pg_failf(s, IRP_NOT_FOUND, "user-get: no user %s", name);
    }
    memset(out, 0, sizeof *out);
    irpd__pg_text(r, 0, 0, out->name, sizeof out->name);
    out->access = (irpd_access)irpd__pg_int(r, 0, 1);
    out->admin = (int)irpd__pg_int(r, 0, 2);
    out->created = irpd__pg_int(r, 0, 3);
    out->pw_hash_len = irpd__pg_bytes(r, 0, 4, out->pw_hash, IRPD_STORE_PW_MAX);
    out->pw_hash[out->pw_hash_len] = '\0';
    out->pw_salt_len = irpd__pg_bytes(r, 0, 5, out->pw_salt, sizeof out->pw_salt);
    PQclear(r);
    return 0;
}

irp_status irpd__pg_user_list(irpd_store *st, const char *after, size_t limit, int64_t now,
                              irpd_user_cb cb, void *arg)
{
    pg_store *s = PGS(st);
    irp_status status = 0;
    irpd_user u;
    pg_args a = {0};
    irpd__pg_arg_text(&a, after != NULL ? after : "");
    irpd__pg_arg_int(&a, limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit);
    irpd__pg_arg_int(&a, now);
    PGresult *r = irpd__pg_exec(s, P_USER_LIST, &a, "list-users", &status);
    if (r == NULL) return status;
    for (int i = 0; i < PQntuples(r); i++) {
        memset(&u, 0, sizeof u);
        irpd__pg_text(r, i, 0, u.name, sizeof u.name);
        u.access = (irpd_access)irpd__pg_int(r, i, 1);
        u.admin = (int)irpd__pg_int(r, i, 2);
        u.created = irpd__pg_int(r, i, 3);
        u.n_devices = (unsigned)irpd__pg_int(r, i, 4);
        u.n_certs = (unsigned)irpd__pg_int(r, i, 5);
        if (cb(arg, &u) != 0) return irpd__pg_stopped(s, r, "list-users");
    }
    PQclear(r);
    return 0;
}

/* Runs UPDATE users ... WHERE name_key = fold($1) with the caller's $2, $3; audited. */
static irp_status update_user(pg_store *s, int id, pg_args *a, const char *what, const char *name,
                              const char *actor, int64_t now, const char *detail)
{
    int64_t n = 0;
    irp_status status = irpd__pg_wr_begin(s, what);
    if (status != 0) return status;
    status = irpd__pg_cmd(s, id, a, what, &n);
    if (status == 0 && n == 0)
        status = irpd__pg_failf(s, IRP_NOT_FOUND, "%s: no user %s", what, name);
    if (status == 0) status = irpd__pg_audit(s, what, now, actor, what, name, detail);
    return irpd__pg_wr_end(s, status, what);
}

irp_status irpd__pg_user_set_password(irpd_store *st, const char *name, const uint8_t *hash,
                                      size_t hash_len, const uint8_t *salt, size_t salt_len,
                                      const char *actor, int64_t now)
{
    pg_args a = {0};
    irpd__pg_arg_text(&a, name);
    if (hash != NULL)
        irpd__pg_arg_bytes(&a, hash, hash_len);
    else
        irpd__pg_arg_text(&a, NULL);
    if (hash != NULL && salt_len > 0)
        irpd__pg_arg_bytes(&a, salt, salt_len);
    else
        irpd__pg_arg_text(&a, NULL);
    return update_user(PGS(st), P_USER_SET_PW, &a, "passwd", name, actor, now,
                       hash != NULL ? "set" : "cleared");
}

irp_status irpd__pg_user_set_admin(irpd_store *st, const char *name, int admin, const char *actor,
                                   int64_t now)
{
    pg_args a = {0};
    irpd__pg_arg_text(&a, name);
    irpd__pg_arg_int(&a, admin != 0);
    return update_user(PGS(st), P_USER_SET_ADMIN, &a, "admin", name, actor, now,
                       admin != 0 ? "granted" : "withdrawn");
}

static const char *const ACCESS_NAME[] = {"anyone", "list", "nobody"};

irp_status irpd__pg_user_set_access(irpd_store *st, const char *name, irpd_access access,
                                    const char *const *allow, size_t n_allow, const char *actor,
                                    int64_t now)
{
    pg_store *s = PGS(st);
    const char *what = "lookup-policy";
    char canon[IRPD_STORE_USER_MAX + 1], detail[64];
    int64_t uid = 0;
    irp_status status = irpd__pg_wr_begin(s, what);
    if (status != 0) return status;
    status = irpd__pg_find_user(s, what, name, &uid, NULL, canon);
    if (status == 0) {
        pg_args a = {0};
        irpd__pg_arg_int(&a, uid);
        irpd__pg_arg_int(&a, (int64_t)access);
        status = irpd__pg_cmd(s, P_USER_SET_ACCESS, &a, what, NULL);
    }
    if (status == 0) {
        pg_args a = {0};
        irpd__pg_arg_int(&a, uid);
        status = irpd__pg_cmd(s, P_ALLOW_CLEAR, &a, what, NULL);
    }
    for (size_t i = 0; status == 0 && i < n_allow; i++) {
        pg_args a = {0};
        irpd__pg_arg_int(&a, uid);
        irpd__pg_arg_text(&a, allow[i]);
        status = irpd__pg_cmd(s, P_ALLOW_ADD, &a, what, NULL);
    }
    if (status == 0) {
        snprintf(detail, sizeof detail, "access=%s allow=%zu", ACCESS_NAME[access], n_allow);
        status = irpd__pg_audit(s, what, now, actor, what, canon, detail);
    }
    return irpd__pg_wr_end(s, status, what);
}

irp_status irpd__pg_allow_list(irpd_store *st, const char *name, irpd_name_cb cb, void *arg)
{
    pg_store *s = PGS(st);
    char allowed[IRPD_STORE_USER_MAX + 1];
    int64_t uid;
    pg_args a = {0};
    irp_status status = irpd__pg_find_user(s, "lookup-policy", name, &uid, NULL, NULL);
    if (status != 0) return status;
    irpd__pg_arg_int(&a, uid);
    PGresult *r = irpd__pg_exec(s, P_ALLOW_LIST, &a, "lookup-policy", &status);
    if (r == NULL) return status;
    for (int i = 0; i < PQntuples(r); i++) {
        irpd__pg_text(r, i, 0, allowed, sizeof allowed);
        if (cb(arg, allowed) != 0) return irpd__pg_stopped(s, r, "lookup-policy");
    }
    PQclear(r);
    return 0;
}

irp_status irpd__pg_info_set(irpd_store *st, const char *user, const irpd_info *items, size_t n,
                             const char *actor, int64_t now)
{
    pg_store *s = PGS(st);
    const char *what = "user-info";
    char canon[IRPD_STORE_USER_MAX + 1],
        detail[IRPD_STORE_INFO_MAX * (IRPD_STORE_INFO_NAME_MAX + 1) + 8];
    int64_t uid = 0, held = 0;
    size_t at = 0;
    irp_status status = irpd__pg_wr_begin(s, what);
    if (status != 0) return status;
    status = irpd__pg_find_user(s, what, user, &uid, NULL, canon);
    for (size_t i = 0; status == 0 && i < n; i++) {
        pg_args a = {0};
        irpd__pg_arg_int(&a, uid);
        irpd__pg_arg_text(&a, items[i].name);
        if (items[i].value_len > 0) irpd__pg_arg_bytes(&a, items[i].value, items[i].value_len);
        status = irpd__pg_cmd(s, items[i].value_len > 0 ? P_INFO_PUT : P_INFO_DEL, &a, what, NULL);
        at += (size_t)snprintf(detail + at, sizeof detail - at, "%s%s",
                               i > 0 ? "," : "items=", items[i].name);
    }
    if (status == 0) {
        pg_args a = {0};
        irpd__pg_arg_int(&a, uid);
        status = irpd__pg_one_int(s, P_INFO_COUNT, &a, what, &held);
    }
    if (status == 0 && held > IRPD_STORE_INFO_MAX)
        status = irpd__pg_failf(s, IRP_TOO_LARGE, "%s: %s would hold %lld items (at most %d)", what,
                                canon, (long long)held, IRPD_STORE_INFO_MAX);
    if (status == 0)
        status = irpd__pg_audit(s, what, now, actor, what, canon, n > 0 ? detail : NULL);
    return irpd__pg_wr_end(s, status, what);
}

irp_status irpd__pg_info_get(irpd_store *st, const char *user, irpd_info_cb cb, void *arg)
{
    pg_store *s = PGS(st);
    int64_t uid;
    pg_args a = {0};
    irp_status status = irpd__pg_find_user(s, "user-info", user, &uid, NULL, NULL);
    if (status != 0) return status;
    irpd__pg_arg_int(&a, uid);
    PGresult *r = irpd__pg_exec(s, P_INFO_LIST, &a, "user-info", &status);
    if (r == NULL) return status;
    for (int i = 0; i < PQntuples(r); i++) {
        irpd_info item = {PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1)};
        if (cb(arg, &item) != 0) return irpd__pg_stopped(s, r, "user-info");
    }
    PQclear(r);
    return 0;
}

/* ---- enrolment tokens -------------------------------------------------------------- */

/* The first 4 bytes of a token hash: audit records tie token-add to its use by them. */
static void hash_tag(const uint8_t hash[32], char out[9])
{
    snprintf(out, 9, "%02x%02x%02x%02x", hash[0], hash[1], hash[2], hash[3]);
}

irp_status irpd__pg_token_add(irpd_store *st, const uint8_t hash[32], const char *user,
                              int64_t expires, const char *actor, int64_t now)
{
    pg_store *s = PGS(st);
    char detail[64], tag[9];
    int64_t n = 0;
    pg_args a = {0};
    irp_status status = irpd__pg_wr_begin(s, "token");
    if (status != 0) return status;
    irpd__pg_arg_bytes(&a, hash, 32);
    irpd__pg_arg_text(&a, user);
    irpd__pg_arg_int(&a, expires);
    irpd__pg_arg_int(&a, now);
    status = irpd__pg_cmd(s, P_TOKEN_ADD, &a, "token", &n);
    if (status == 0 && n == 0) status = irpd__pg_failf(s, IRP_CONFLICT, "token: exists");
    if (status == 0) {
        hash_tag(hash, tag);
        snprintf(detail, sizeof detail, "token=%s expires=%lld", tag, (long long)expires);
        status = irpd__pg_audit(s, "token", now, actor, "token-add", user, detail);
    }
    return irpd__pg_wr_end(s, status, "token");
}

/* Why a token is not usable (IRP.md 6.5 step 1): IRP_FORBIDDEN, IRP_GONE; or 0. */
static irp_status token_state(pg_store *s, const uint8_t hash[32], int64_t now, char *user_out)
{
    irp_status status = 0;
    pg_args a = {0};
    irpd__pg_arg_bytes(&a, hash, 32);
    PGresult *r = irpd__pg_exec(s, P_TOKEN_GET, &a, "token", &status);
    if (r == NULL) return status;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return irpd__pg_failf(s, IRP_FORBIDDEN, "token: unknown enrolment token");
    }
    if (user_out != NULL) irpd__pg_text(r, 0, 0, user_out, IRPD_STORE_USER_MAX + 1);
    int64_t expires = irpd__pg_int(r, 0, 1);
    int used = !PQgetisnull(r, 0, 2);
    PQclear(r);
    if (used) return irpd__pg_failf(s, IRP_GONE, "token: the enrolment token was used");
    if (now >= expires)
        return irpd__pg_failf(s, IRP_GONE, "token: the enrolment token has expired");
    return 0;
}

irp_status irpd__pg_token_check(irpd_store *st, const uint8_t hash[32], int64_t now, char *user_out)
{
    return token_state(PGS(st), hash, now, user_out);
}

/* Uses the token inside the open transaction; its user into user (USER_MAX + 1). */
irp_status irpd__pg_consume(pg_store *s, const uint8_t hash[32], int64_t now, char *user)
{
    irp_status status = 0;
    pg_args a = {0};
    irpd__pg_arg_bytes(&a, hash, 32);
    irpd__pg_arg_int(&a, now);
    PGresult *r = irpd__pg_exec(s, P_TOKEN_USE, &a, "token", &status);
    if (r == NULL) return status;
    int used = PQntuples(r) > 0;
    if (used) irpd__pg_text(r, 0, 0, user, IRPD_STORE_USER_MAX + 1);
    PQclear(r);
    if (used) return 0;
    irp_status why = token_state(s, hash, now, NULL); /* not usable: say why */
    return why != 0 ? why : irpd__pg_failf(s, IRP_INTERNAL, "token: inconsistent state");
}

irp_status irpd__pg_token_consume(irpd_store *st, const uint8_t hash[32], int64_t now,
                                  char *user_out, const char *actor)
{
    pg_store *s = PGS(st);
    char user[IRPD_STORE_USER_MAX + 1], tag[9], detail[32];
    irp_status status = irpd__pg_wr_begin(s, "token");
    if (status != 0) return status;
    status = irpd__pg_consume(s, hash, now, user);
    if (status == 0) {
        hash_tag(hash, tag);
        snprintf(detail, sizeof detail, "token=%s", tag);
        status = irpd__pg_audit(s, "token", now, actor, "token-use", user, detail);
    }
    status = irpd__pg_wr_end(s, status, "token");
    if (status == 0 && user_out != NULL) memcpy(user_out, user, sizeof user);
    return status;
}
