/*
 * irpd_pg_schema.c - the SQL of the PostgreSQL backend (irpd_pg.c): the
 * schema's versions, each a step from the one before (irpd migrate applies
 * the missing ones), and the text of every statement prepared at open (one
 * per P_* in irpd_pg_int.h).
 *
 * The tables are those of the SQLite backend (irpd_sqlite_schema.c), with
 * PostgreSQL's types. What differs, and why:
 * - SQLite compares user IDs with COLLATE NOCASE (ASCII case folding, as
 *   sc_cert does). PostgreSQL's lower() follows the database's locale, so
 *   every case-insensitive column has a generated `*_key` twin folded with
 *   translate() over A-Z only, in the "C" collation; uniqueness, equality
 *   and order use the twin.
 * - The audit table refuses UPDATE and DELETE through a trigger function.
 * - `meta` holds schema_version and application = irpd (what SQLite's
 *   PRAGMA application_id says there).
 */
#include "irpd_pg_int.h"

#define FOLD(x) "translate(" x ", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
#define KEY_OF(col) " TEXT COLLATE \"C\" GENERATED ALWAYS AS (" FOLD(col) ") STORED"

const char *const irpd__pg_migrations[IRPD_PG_SCHEMA_VERSION] = {
    /* 0 -> 1: the first schema */
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE users("
    " id BIGSERIAL PRIMARY KEY,"
    " name TEXT NOT NULL, name_key" KEY_OF(
        "name") " UNIQUE,"
                " pw_hash BYTEA, pw_salt BYTEA,"
                " access SMALLINT NOT NULL DEFAULT 0 CHECK(access IN (0, 1, 2)),"
                " admin SMALLINT NOT NULL DEFAULT 0 CHECK(admin IN (0, 1)),"
                " created BIGINT NOT NULL);"
                "CREATE TABLE allow("
                " user_id BIGINT NOT NULL REFERENCES users(id),"
                " name TEXT NOT NULL, name_key" KEY_OF(
                    "name") ","
                            " PRIMARY KEY(user_id, name_key));"
                            "CREATE TABLE info("
                            " user_id BIGINT NOT NULL REFERENCES users(id),"
                            " name TEXT COLLATE \"C\" NOT NULL, value TEXT NOT NULL,"
                            " PRIMARY KEY(user_id, name));"
                            "CREATE TABLE tokens("
                            " hash BYTEA PRIMARY KEY CHECK(length(hash) = 32),"
                            " usr TEXT NOT NULL, usr_key" KEY_OF(
                                "usr") ","
                                       " expires BIGINT NOT NULL, used BIGINT, created BIGINT NOT "
                                       "NULL);"
                                       "CREATE INDEX tokens_user ON tokens(usr_key) WHERE used IS "
                                       "NULL;"
                                       "CREATE TABLE certs("
                                       " id BIGSERIAL PRIMARY KEY,"
                                       " serial TEXT COLLATE \"C\" NOT NULL,"
                                       " user_id BIGINT NOT NULL REFERENCES users(id),"
                                       " fingerprint BYTEA NOT NULL UNIQUE "
                                       "CHECK(length(fingerprint) = 32),"
                                       " der BYTEA NOT NULL,"
                                       " not_before BIGINT NOT NULL, not_after BIGINT NOT NULL,"
                                       " status SMALLINT NOT NULL DEFAULT 0 CHECK(status IN (0, "
                                       "1)),"
                                       " revoked_at BIGINT, reason TEXT,"
                                       " own SMALLINT NOT NULL CHECK(own IN (0, 1)));"
                                       "CREATE UNIQUE INDEX certs_serial ON certs(serial) WHERE "
                                       "own = 1;"
                                       "CREATE INDEX certs_user ON certs(user_id, status, "
                                       "not_before);"
                                       "CREATE TABLE bindings("
                                       " user_id BIGINT NOT NULL REFERENCES users(id),"
                                       " device TEXT COLLATE \"C\" NOT NULL, seq BIGINT NOT NULL, "
                                       "port INTEGER NOT NULL,"
                                       " addrs TEXT NOT NULL, seen TEXT NOT NULL,"
                                       " expires BIGINT NOT NULL, updated BIGINT NOT NULL, ended "
                                       "BIGINT,"
                                       " PRIMARY KEY(user_id, device));"
                                       "CREATE INDEX bindings_expires ON bindings(expires) WHERE "
                                       "ended IS NULL;"
                                       "CREATE INDEX bindings_ended ON bindings(ended) WHERE ended "
                                       "IS NOT NULL;"
                                       "CREATE TABLE p12("
                                       " user_id BIGINT PRIMARY KEY REFERENCES users(id),"
                                       " blob BYTEA NOT NULL, updated BIGINT NOT NULL);"
                                       "CREATE TABLE audit("
                                       " id BIGSERIAL PRIMARY KEY, ts BIGINT NOT NULL, actor TEXT, "
                                       "op TEXT NOT NULL,"
                                       " target TEXT, target_key" KEY_OF(
                                           "target") ", detail TEXT);"
                                                     "CREATE INDEX audit_target ON "
                                                     "audit(target_key, id);"
                                                     "CREATE FUNCTION irpd_audit_append_only() "
                                                     "RETURNS trigger LANGUAGE plpgsql AS"
                                                     " $$BEGIN RAISE EXCEPTION 'the audit table is "
                                                     "append-only'; END$$;"
                                                     "CREATE TRIGGER audit_no_change BEFORE UPDATE "
                                                     "OR DELETE ON audit"
                                                     " FOR EACH ROW EXECUTE FUNCTION "
                                                     "irpd_audit_append_only();"
                                                     "CREATE TRIGGER audit_no_truncate BEFORE "
                                                     "TRUNCATE ON audit"
                                                     " FOR EACH STATEMENT EXECUTE FUNCTION "
                                                     "irpd_audit_append_only();"
                                                     "INSERT INTO meta(key, value) "
                                                     "VALUES('application', 'irpd'), "
                                                     "('schema_version', '0');",
};

#define CERT_COLS                                                                                  \
    "c.serial, u.name, c.fingerprint, c.der, c.not_before, c.not_after, c.status, c.revoked_at, "  \
    "c.reason FROM certs c JOIN users u ON u.id = c.user_id "
#define BIND_COLS "device, seq, port, addrs, seen, expires, updated"
#define LIVE "ended IS NULL AND expires > "

const char *const irpd__pg_stmt_sql[N_PSTMT] = {
    [P_BEGIN] = "BEGIN",
    /* a lookup reads from one snapshot (irpd_store.h) */
    [P_BEGIN_R] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    [P_COMMIT] = "COMMIT",
    /* lookup records: committed without waiting for the WAL's flush (IRP.md 10.4) */
    [P_COMMIT_LAZY] = "SET LOCAL synchronous_commit = off",
    [P_ROLLBACK] = "ROLLBACK",
    [P_SAVEPOINT] = "SAVEPOINT op",
    [P_RELEASE] = "RELEASE op",
    [P_ROLLBACK_TO] = "ROLLBACK TO op",
    [P_USER_ID] = "SELECT id, access, name FROM users WHERE name_key = " FOLD("$1::text"),
    [P_USER_NAME] = "SELECT name FROM users WHERE id = $1",
    [P_USER_GET] = "SELECT name, access, admin, created, pw_hash, pw_salt FROM users"
                   " WHERE name_key = " FOLD("$1::text"),
    [P_USER_LIST] =
        "SELECT u.name, u.access, u.admin, u.created,"
        " (SELECT count(*) FROM bindings b WHERE b.user_id = u.id AND b." LIVE "$3::bigint),"
        " (SELECT count(*) FROM certs c WHERE c.user_id = u.id AND c.status = 0"
        "  AND c.not_after > $3::bigint)"
        " FROM users u WHERE u.name_key > " FOLD("$1::text") " ORDER BY u.name_key"
                                                             " LIMIT $2",
    [P_USER_ADD] = "INSERT INTO users(name, created) VALUES($1, $2) ON CONFLICT DO NOTHING",
    [P_USER_SET_PW] =
        "UPDATE users SET pw_hash = $2, pw_salt = $3 WHERE name_key = " FOLD("$1::text"),
    [P_USER_SET_ADMIN] = "UPDATE users SET admin = $2 WHERE name_key = " FOLD("$1::text"),
    [P_USER_SET_ACCESS] = "UPDATE users SET access = $2 WHERE id = $1",
    [P_ALLOW_CLEAR] = "DELETE FROM allow WHERE user_id = $1",
    [P_ALLOW_ADD] = "INSERT INTO allow(user_id, name) VALUES($1, $2)",
    [P_ALLOW_HAS] = "SELECT 1 FROM allow WHERE user_id = $1 AND name_key = " FOLD("$2::text"),
    [P_ALLOW_LIST] = "SELECT name FROM allow WHERE user_id = $1 ORDER BY name_key",
    [P_INFO_PUT] = "INSERT INTO info(user_id, name, value) VALUES($1, $2, $3)"
                   " ON CONFLICT(user_id, name) DO UPDATE SET value = excluded.value",
    [P_INFO_DEL] = "DELETE FROM info WHERE user_id = $1 AND name = $2",
    [P_INFO_COUNT] = "SELECT count(*) FROM info WHERE user_id = $1",
    [P_INFO_LIST] = "SELECT name, value FROM info WHERE user_id = $1 ORDER BY name",
    [P_TOKEN_ADD] = "INSERT INTO tokens(hash, usr, expires, created) VALUES($1, $2, $3, $4)"
                    " ON CONFLICT DO NOTHING",
    [P_TOKEN_GET] = "SELECT usr, expires, used FROM tokens WHERE hash = $1",
    /* One statement checks unused and unexpired and uses the token: atomic. */
    [P_TOKEN_USE] = "UPDATE tokens SET used = $2 WHERE hash = $1 AND used IS NULL"
                    " AND expires > $2 RETURNING usr",
    [P_CERT_ADD] =
        "INSERT INTO certs(serial, user_id, fingerprint, der, not_before, not_after, own)"
        " VALUES($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
    [P_CERT_BY_SERIAL] = "SELECT " CERT_COLS "WHERE c.serial = $1 AND c.own = 1",
    [P_CERT_BY_FP] = "SELECT " CERT_COLS "WHERE c.fingerprint = $1",
    [P_CERT_LIST] = "SELECT " CERT_COLS "WHERE c.user_id = $1 ORDER BY c.not_before, c.id",
    /* The lookup's certificates (IRP.md 6.9). */
    [P_CERT_VALID_LIVE] = "SELECT " CERT_COLS "WHERE c.user_id = $1 AND c.status = 0"
                          " AND c.not_after > $2 ORDER BY c.not_before DESC, c.id DESC LIMIT $3",
    [P_CERT_REVOKED_LIVE] = "SELECT " CERT_COLS "WHERE c.user_id = $1 AND c.status = 1"
                            " AND c.not_after > $2 ORDER BY c.revoked_at DESC, c.id DESC"
                            " LIMIT $3",
    [P_CERT_COUNT_VALID] = "SELECT count(*) FROM certs WHERE user_id = $1 AND status = 0"
                           " AND not_after > $2",
    /* The valid certificate that expires first, but neither $3 nor $4 (IRP.md 6.5 step 5). */
    [P_CERT_SUPERSEDE] = "SELECT id FROM certs WHERE user_id = $1 AND status = 0"
                         " AND not_after > $2 AND fingerprint <> $3 AND fingerprint <> $4"
                         " ORDER BY not_after, id LIMIT 1",
    [P_CERT_FIND_SERIAL] = "SELECT id, status FROM certs WHERE serial = $1 AND own = 1",
    [P_CERT_FIND_FP] = "SELECT id, status FROM certs WHERE fingerprint = $1",
    [P_CERT_REVOKE] = "UPDATE certs SET status = 1, revoked_at = $2, reason = $3"
                      " WHERE id = $1 AND status = 0 RETURNING user_id, serial, fingerprint",
    [P_CERT_REVOKE_USER] = "UPDATE certs SET status = 1, revoked_at = $2, reason = $3"
                           " WHERE user_id = $1 AND status = 0 RETURNING serial, fingerprint",
    /* IRP.md 6.12: a revoked user cannot enrol again until given a password or token anew. */
    [P_USER_DISABLE] = "UPDATE users SET pw_hash = NULL, pw_salt = NULL WHERE id = $1",
    [P_TOKEN_VOID_USER] =
        "UPDATE tokens SET used = $2 WHERE usr_key = " FOLD("$1::text") " AND used IS NULL",
    [P_BIND_GET] = "SELECT seq, (" LIVE "$3::bigint)::int FROM bindings WHERE user_id = $1"
                   " AND device = $2",
    [P_BIND_COUNT_OTHERS] = "SELECT count(*) FROM bindings WHERE user_id = $1 AND device <> $2"
                            " AND " LIVE "$3::bigint",
    [P_BIND_PUT] = "INSERT INTO bindings(user_id, device, seq, port, addrs, seen, expires, updated)"
                   " VALUES($1, $2, $3, $4, $5, $6, $7, $8)"
                   " ON CONFLICT(user_id, device) DO UPDATE SET seq = excluded.seq,"
                   " port = excluded.port, addrs = excluded.addrs, seen = excluded.seen,"
                   " expires = excluded.expires, updated = excluded.updated, ended = NULL",
    [P_BIND_END_ONE] = "UPDATE bindings SET ended = $3, seq = $4 WHERE user_id = $1"
                       " AND device = $2",
    [P_BIND_END_ALL] = "UPDATE bindings SET ended = $2 WHERE user_id = $1 AND " LIVE "$2",
    [P_BIND_LIST] = "SELECT " BIND_COLS " FROM bindings WHERE user_id = $1 AND " LIVE "$2"
                    " ORDER BY device",
    [P_BIND_EXPIRED] = "SELECT " BIND_COLS ", u.name FROM bindings b JOIN users u"
                       " ON u.id = b.user_id WHERE b.ended IS NULL AND b.expires <= $1",
    [P_BIND_MARK_EXPIRED] = "UPDATE bindings SET ended = expires WHERE ended IS NULL"
                            " AND expires <= $1",
    [P_BIND_FORGET] = "DELETE FROM bindings WHERE ended IS NOT NULL AND ended <= $1",
    [P_P12_PUT] = "INSERT INTO p12(user_id, blob, updated) VALUES($1, $2, $3)"
                  " ON CONFLICT(user_id) DO UPDATE SET blob = excluded.blob,"
                  " updated = excluded.updated",
    [P_P12_GET] = "SELECT blob, updated FROM p12 WHERE user_id = $1",
    [P_AUDIT_ADD] = "INSERT INTO audit(ts, actor, op, target, detail) VALUES($1, $2, $3, $4, $5)",
    [P_AUDIT_ALL] = "SELECT id, ts, actor, op, target, detail FROM audit WHERE id > $1"
                    " ORDER BY id LIMIT $2",
    [P_AUDIT_TARGET] = "SELECT id, ts, actor, op, target, detail FROM audit"
                       " WHERE target_key = " FOLD("$3::text") " AND id > $1 ORDER BY id LIMIT $2",
    [P_ACCESS_LOG] = "SELECT id, ts, actor, op, target, detail FROM audit"
                     " WHERE target_key = " FOLD(
                         "$3::text") " AND id > $1"
                                     " AND op IN ('lookup', 'watch', 'user-info') AND detail = 'ok'"
                                     " AND actor IS NOT NULL AND " FOLD("actor") " <> " FOLD(
                                         "$3::text") " ORDER BY id LIMIT $2",
};
