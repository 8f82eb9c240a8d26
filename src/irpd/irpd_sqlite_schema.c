/*
 * irpd_sqlite_schema.c - the SQL of the SQLite backend (irpd_sqlite.c): the
 * schema it creates, and the text of every statement it prepares at open
 * (one per S_* in irpd_sqlite_int.h).
 *
 * Schema version 1 is below; `meta` holds the version, PRAGMA
 * application_id marks the file as irpd's.
 */
#include "irpd_sqlite_int.h"

/*
 * certs.own: 1 for certificates this registry issued (enroll, renew), 0 for
 * an external CA's recorded at registration (IRP.md 7.6). Serials are
 * unique among our own only, and only they are found by serial (6.11).
 */
const char irpd__sqlite_schema_sql[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE users("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    " pw_hash BLOB, pw_salt BLOB,"
    " access INTEGER NOT NULL DEFAULT 0 CHECK(access IN (0, 1, 2)),"
    " admin INTEGER NOT NULL DEFAULT 0 CHECK(admin IN (0, 1)),"
    " created INTEGER NOT NULL);"
    "CREATE TABLE allow("
    " user_id INTEGER NOT NULL REFERENCES users(id),"
    " name TEXT NOT NULL COLLATE NOCASE,"
    " PRIMARY KEY(user_id, name)) WITHOUT ROWID;"
    "CREATE TABLE info("
    " user_id INTEGER NOT NULL REFERENCES users(id),"
    " name TEXT NOT NULL, value TEXT NOT NULL,"
    " PRIMARY KEY(user_id, name)) WITHOUT ROWID;"
    "CREATE TABLE tokens("
    " hash BLOB PRIMARY KEY CHECK(length(hash) = 32),"
    " user TEXT NOT NULL COLLATE NOCASE,"
    " expires INTEGER NOT NULL, used INTEGER, created INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE certs("
    " serial TEXT NOT NULL,"
    " user_id INTEGER NOT NULL REFERENCES users(id),"
    " fingerprint BLOB NOT NULL UNIQUE CHECK(length(fingerprint) = 32),"
    " der BLOB NOT NULL,"
    " not_before INTEGER NOT NULL, not_after INTEGER NOT NULL,"
    " status INTEGER NOT NULL DEFAULT 0 CHECK(status IN (0, 1)),"
    " revoked_at INTEGER, reason TEXT,"
    " own INTEGER NOT NULL CHECK(own IN (0, 1)));"
    "CREATE UNIQUE INDEX certs_serial ON certs(serial) WHERE own = 1;"
    "CREATE INDEX certs_user ON certs(user_id, status, not_before);"
    "CREATE TABLE bindings("
    " user_id INTEGER NOT NULL REFERENCES users(id),"
    " device TEXT NOT NULL, seq INTEGER NOT NULL, port INTEGER NOT NULL,"
    " addrs TEXT NOT NULL, seen TEXT NOT NULL,"
    " expires INTEGER NOT NULL, updated INTEGER NOT NULL, ended INTEGER,"
    " PRIMARY KEY(user_id, device)) WITHOUT ROWID;"
    "CREATE INDEX bindings_expires ON bindings(expires) WHERE ended IS NULL;"
    "CREATE INDEX bindings_ended ON bindings(ended) WHERE ended IS NOT NULL;"
    "CREATE TABLE p12("
    " user_id INTEGER PRIMARY KEY REFERENCES users(id),"
    " blob BLOB NOT NULL, updated INTEGER NOT NULL);"
    "CREATE TABLE audit("
    " id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, actor TEXT, op TEXT NOT NULL,"
    " target TEXT COLLATE NOCASE, detail TEXT);"
    "CREATE INDEX audit_target ON audit(target, id);"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit table is append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit table is append-only'); END;"
    "INSERT INTO meta(key, value) VALUES('schema_version', '1');";

#define CERT_COLS                                                                                  \
    "c.serial, u.name, c.fingerprint, c.der, c.not_before, c.not_after, c.status, c.revoked_at, "  \
    "c.reason FROM certs c JOIN users u ON u.id = c.user_id "
#define BIND_COLS "device, seq, port, addrs, seen, expires, updated"
#define LIVE "ended IS NULL AND expires > "

const char *const irpd__sqlite_stmt_sql[N_STMT] = {
    [S_BEGIN_W] = "BEGIN IMMEDIATE",
    [S_BEGIN_R] = "BEGIN",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_SAVEPOINT] = "SAVEPOINT op",
    [S_RELEASE] = "RELEASE op",
    [S_ROLLBACK_TO] = "ROLLBACK TO op",
    [S_SYNC_NORMAL] = "PRAGMA synchronous = NORMAL",
    [S_SYNC_FULL] = "PRAGMA synchronous = FULL",
    [S_USER_ID] = "SELECT id, access, name FROM users WHERE name = ?1",
    [S_USER_NAME] = "SELECT name FROM users WHERE id = ?1",
    [S_USER_GET] = "SELECT name, access, admin, created, pw_hash, pw_salt FROM users"
                   " WHERE name = ?1",
    [S_USER_LIST] = "SELECT u.name, u.access, u.admin, u.created,"
                    " (SELECT count(*) FROM bindings b WHERE b.user_id = u.id AND b." LIVE "?3),"
                    " (SELECT count(*) FROM certs c WHERE c.user_id = u.id AND c.status = 0"
                    "  AND c.not_after > ?3)"
                    " FROM users u WHERE u.name > ?1 ORDER BY u.name LIMIT ?2",
    [S_USER_ADD] = "INSERT INTO users(name, created) VALUES(?1, ?2) ON CONFLICT(name) DO NOTHING",
    [S_USER_SET_PW] = "UPDATE users SET pw_hash = ?2, pw_salt = ?3 WHERE name = ?1",
    [S_USER_SET_ADMIN] = "UPDATE users SET admin = ?2 WHERE name = ?1",
    [S_USER_SET_ACCESS] = "UPDATE users SET access = ?2 WHERE id = ?1",
    [S_ALLOW_CLEAR] = "DELETE FROM allow WHERE user_id = ?1",
    [S_ALLOW_ADD] = "INSERT INTO allow(user_id, name) VALUES(?1, ?2)",
    [S_ALLOW_HAS] = "SELECT 1 FROM allow WHERE user_id = ?1 AND name = ?2",
    [S_ALLOW_LIST] = "SELECT name FROM allow WHERE user_id = ?1 ORDER BY name",
    [S_INFO_PUT] = "INSERT INTO info(user_id, name, value) VALUES(?1, ?2, ?3)"
                   " ON CONFLICT(user_id, name) DO UPDATE SET value = excluded.value",
    [S_INFO_DEL] = "DELETE FROM info WHERE user_id = ?1 AND name = ?2",
    [S_INFO_COUNT] = "SELECT count(*) FROM info WHERE user_id = ?1",
    [S_INFO_LIST] = "SELECT name, value FROM info WHERE user_id = ?1 ORDER BY name",
    [S_TOKEN_ADD] = "INSERT INTO tokens(hash, user, expires, created) VALUES(?1, ?2, ?3, ?4)"
                    " ON CONFLICT(hash) DO NOTHING",
    [S_TOKEN_GET] = "SELECT user, expires, used FROM tokens WHERE hash = ?1",
    /* One statement checks unused and unexpired and uses the token: atomic. */
    [S_TOKEN_USE] = "UPDATE tokens SET used = ?2 WHERE hash = ?1 AND used IS NULL"
                    " AND expires > ?2 RETURNING user",
    [S_CERT_ADD] =
        "INSERT INTO certs(serial, user_id, fingerprint, der, not_before, not_after, own)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
    [S_CERT_BY_SERIAL] = "SELECT " CERT_COLS "WHERE c.serial = ?1 AND c.own = 1",
    [S_CERT_BY_FP] = "SELECT " CERT_COLS "WHERE c.fingerprint = ?1",
    [S_CERT_LIST] = "SELECT " CERT_COLS "WHERE c.user_id = ?1"
                    " ORDER BY c.not_before, c.rowid",
    /* The lookup's certificates (IRP.md 6.9). */
    [S_CERT_VALID_LIVE] = "SELECT " CERT_COLS "WHERE c.user_id = ?1 AND c.status = 0"
                          " AND c.not_after > ?2 ORDER BY c.not_before DESC, c.rowid DESC"
                          " LIMIT ?3",
    [S_CERT_REVOKED_LIVE] = "SELECT " CERT_COLS "WHERE c.user_id = ?1 AND c.status = 1"
                            " AND c.not_after > ?2 ORDER BY c.revoked_at DESC, c.rowid DESC"
                            " LIMIT ?3",
    [S_CERT_COUNT_VALID] = "SELECT count(*) FROM certs WHERE user_id = ?1 AND status = 0"
                           " AND not_after > ?2",
    /* The valid certificate that expires first, but neither ?3 nor ?4 (IRP.md 6.5 step 5). */
    [S_CERT_SUPERSEDE] = "SELECT rowid FROM certs WHERE user_id = ?1 AND status = 0"
                         " AND not_after > ?2 AND fingerprint <> ?3 AND fingerprint <> ?4"
                         " ORDER BY not_after, rowid LIMIT 1",
    [S_CERT_FIND_SERIAL] = "SELECT rowid, status FROM certs WHERE serial = ?1 AND own = 1",
    [S_CERT_FIND_FP] = "SELECT rowid, status FROM certs WHERE fingerprint = ?1",
    [S_CERT_REVOKE] = "UPDATE certs SET status = 1, revoked_at = ?2, reason = ?3"
                      " WHERE rowid = ?1 AND status = 0 RETURNING user_id, serial, fingerprint",
    [S_CERT_REVOKE_USER] = "UPDATE certs SET status = 1, revoked_at = ?2, reason = ?3"
                           " WHERE user_id = ?1 AND status = 0 RETURNING serial, fingerprint",
    /* IRP.md 6.12: a revoked user cannot enrol again until given a password or token anew. */
    [S_USER_DISABLE] = "UPDATE users SET pw_hash = NULL, pw_salt = NULL WHERE id = ?1",
    [S_TOKEN_VOID_USER] = "UPDATE tokens SET used = ?2 WHERE user = ?1 AND used IS NULL",
    [S_BIND_GET] = "SELECT seq, " LIVE "?3 FROM bindings WHERE user_id = ?1 AND device = ?2",
    [S_BIND_COUNT_OTHERS] = "SELECT count(*) FROM bindings WHERE user_id = ?1 AND device <> ?2"
                            " AND " LIVE "?3",
    [S_BIND_PUT] = "INSERT INTO bindings(user_id, device, seq, port, addrs, seen, expires, updated)"
                   " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                   " ON CONFLICT(user_id, device) DO UPDATE SET seq = excluded.seq,"
                   " port = excluded.port, addrs = excluded.addrs, seen = excluded.seen,"
                   " expires = excluded.expires, updated = excluded.updated, ended = NULL",
    [S_BIND_END_ONE] = "UPDATE bindings SET ended = ?3, seq = ?4 WHERE user_id = ?1"
                       " AND device = ?2",
    [S_BIND_END_ALL] = "UPDATE bindings SET ended = ?2 WHERE user_id = ?1 AND " LIVE "?2",
    [S_BIND_LIST] = "SELECT " BIND_COLS " FROM bindings WHERE user_id = ?1 AND " LIVE "?2"
                    " ORDER BY device",
    [S_BIND_EXPIRED] = "SELECT " BIND_COLS ", u.name FROM bindings b JOIN users u"
                       " ON u.id = b.user_id WHERE b.ended IS NULL AND b.expires <= ?1",
    [S_BIND_MARK_EXPIRED] = "UPDATE bindings SET ended = expires WHERE ended IS NULL"
                            " AND expires <= ?1",
    [S_BIND_FORGET] = "DELETE FROM bindings WHERE ended IS NOT NULL AND ended <= ?1",
    [S_P12_PUT] = "INSERT INTO p12(user_id, blob, updated) VALUES(?1, ?2, ?3)"
                  " ON CONFLICT(user_id) DO UPDATE SET blob = excluded.blob,"
                  " updated = excluded.updated",
    [S_P12_GET] = "SELECT blob, updated FROM p12 WHERE user_id = ?1",
    [S_AUDIT_ADD] = "INSERT INTO audit(ts, actor, op, target, detail) VALUES(?1, ?2, ?3, ?4, ?5)",
    [S_AUDIT_ALL] = "SELECT id, ts, actor, op, target, detail FROM audit WHERE id > ?1"
                    " ORDER BY id LIMIT ?2",
    [S_AUDIT_TARGET] = "SELECT id, ts, actor, op, target, detail FROM audit"
                       " WHERE target = ?3 AND id > ?1 ORDER BY id LIMIT ?2",
    [S_ACCESS_LOG] = "SELECT id, ts, actor, op, target, detail FROM audit"
                     " WHERE target = ?3 AND id > ?1 AND op IN ('lookup', 'watch', 'user-info')"
                     " AND detail = 'ok' AND actor IS NOT NULL AND actor <> ?3 COLLATE NOCASE"
                     " ORDER BY id LIMIT ?2",
};
