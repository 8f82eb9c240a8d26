/*
 * irpd_store_sqlite.c - the SQLite backend of irpd_store.h (docs/irp-notes.md
 * "Storage", docs/IRP.md 10).
 *
 * One connection per store, in WAL mode with synchronous=FULL: a commit has
 * reached the disk (the WAL is fsync'd) before the call returns, so an
 * acknowledged change survives kill -9 and power loss. Every statement is
 * prepared once at open (SQLITE_PREPARE_PERSISTENT) and afterwards only
 * bound, stepped and reset: a lookup is a handful of indexed steps and no
 * SQL text is built at run time.
 *
 * Transactions: outside a batch, each changing operation runs in its own
 * BEGIN IMMEDIATE ... COMMIT (IMMEDIATE takes the write lock first, so a
 * read-then-write never fails halfway with SQLITE_BUSY_SNAPSHOT); inside a
 * batch, in a SAVEPOINT of the batch's transaction (begun, IMMEDIATE, by the
 * batch's first change), so a refused operation is rolled back alone. A
 * lookup outside that transaction reads in a deferred BEGIN ... COMMIT of
 * its own: one snapshot, no lock against writers.
 *
 * Bindings are never deleted when they end (unregister, revocation,
 * expiry): the row stays, marked `ended`, keeping the device's seq for
 * IRPD_STORE_SEQ_KEEP seconds (IRP.md 6.7 step 2), and the sweep forgets it
 * after that. A binding is live while ended IS NULL AND expires > now.
 *
 * The audit table is indexed by (target, id) for access-log (IRP.md 6.15).
 * That index puts each lookup record on the page of its target, so writing
 * records costs about a page per distinct target per commit: hence the
 * queue of lookup records written in bulk, without fsync (irpd_store.h,
 * "Lookups"); measured here (1000 users), a 16384-record queue gives 2.5
 * times the audited lookup rate of a 256-record one.
 *
 * Schema version 1 is below; `meta` holds the version, PRAGMA
 * application_id marks the file as irpd's.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "irpd_store.h"
#include "sc_cert.h"
#include "sc_crypto.h"

#define SCHEMA_VERSION 1
#define APPLICATION_ID 0x49525044 /* "IRPD" */
#define DEFAULT_BUSY_MS 5000
#define DEFAULT_CACHE_KIB 65536 /* page cache per connection: the registry's hot pages */

/*
 * certs.own: 1 for certificates this registry issued (enroll, renew), 0 for
 * an external CA's recorded at registration (IRP.md 7.6). Serials are
 * unique among our own only, and only they are found by serial (6.11).
 */
static const char SCHEMA_SQL[] =
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

enum {
    S_BEGIN_W,
    S_BEGIN_R,
    S_COMMIT,
    S_ROLLBACK,
    S_SAVEPOINT,
    S_RELEASE,
    S_ROLLBACK_TO,
    S_SYNC_NORMAL,
    S_SYNC_FULL,
    S_USER_ID,
    S_USER_NAME,
    S_USER_GET,
    S_USER_LIST,
    S_USER_ADD,
    S_USER_SET_PW,
    S_USER_SET_ADMIN,
    S_USER_SET_ACCESS,
    S_ALLOW_CLEAR,
    S_ALLOW_ADD,
    S_ALLOW_HAS,
    S_ALLOW_LIST,
    S_INFO_PUT,
    S_INFO_DEL,
    S_INFO_COUNT,
    S_INFO_LIST,
    S_TOKEN_ADD,
    S_TOKEN_GET,
    S_TOKEN_USE,
    S_CERT_ADD,
    S_CERT_BY_SERIAL,
    S_CERT_BY_FP,
    S_CERT_LIST,
    S_CERT_VALID_LIVE,
    S_CERT_REVOKED_LIVE,
    S_CERT_COUNT_VALID,
    S_CERT_SUPERSEDE,
    S_CERT_FIND_SERIAL,
    S_CERT_FIND_FP,
    S_CERT_REVOKE,
    S_CERT_REVOKE_USER,
    S_BIND_GET,
    S_BIND_COUNT_OTHERS,
    S_BIND_PUT,
    S_BIND_END_ONE,
    S_BIND_END_ALL,
    S_BIND_LIST,
    S_BIND_EXPIRED,
    S_BIND_MARK_EXPIRED,
    S_BIND_FORGET,
    S_P12_PUT,
    S_P12_GET,
    S_AUDIT_ADD,
    S_AUDIT_ALL,
    S_AUDIT_TARGET,
    S_ACCESS_LOG,
    N_STMT
};

static const char *const STMT_SQL[N_STMT] = {
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

/* The audit op of a read (irpd_store.h, IRPD_LOOKUP_*). */
static const char *const READ_OP[] = {"lookup", "watch", "user-info"};

/* A read's audit record waiting to be written; its strings live in the queue's arena. */
typedef struct queued_read {
    int64_t ts;
    uint32_t viewer; /* offset in the arena, UINT32_MAX for none */
    uint32_t target;
    uint8_t op; /* index in READ_OP */
    uint8_t allowed;
} queued_read;

typedef struct sq_store {
    irpd_store base; /* first: a sq_store * is an irpd_store * */
    sqlite3 *db;     /* NULL when open failed */
    sqlite3_stmt *q[N_STMT];
    int in_batch;     /* between batch_begin and batch_commit/rollback */
    int batch_tx;     /* the batch's write transaction is open (since its first change) */
    int batch_failed; /* SQLite rolled that transaction back (I/O error, disk full) */
    int sync_normal;  /* synchronous=FULL must be restored before the next change */
    char errmsg[IRPD_STORE_ERRMSG_MAX];
    queued_read *rows; /* the read records queue: grows inside a batch's transaction */
    size_t n_rows, cap_rows;
    char *arena;
    size_t arena_used, arena_cap;
} sq_store;

#define SQ(st) ((sq_store *)(st))

/* ---- errors ------------------------------------------------------------------- */

static irp_status failf(sq_store *s, irp_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static irp_status failf(sq_store *s, irp_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap);
    va_end(ap);
    return status;
}

/* A database failure during `what`: SQLite's message and extended code. */
static irp_status db_fail(sq_store *s, const char *what)
{
    return failf(s, IRP_INTERNAL, "%s: %s (sqlite error %d)", what, sqlite3_errmsg(s->db),
                 sqlite3_extended_errcode(s->db));
}

static irp_status stopped(sq_store *s, sqlite3_stmt *q, const char *what)
{
    sqlite3_reset(q);
    return failf(s, IRP_INTERNAL, "%s: stopped by the caller", what);
}

#define REQUIRE_OPEN(s)                                                                            \
    do {                                                                                           \
        if ((s)->db == NULL) return failf((s), IRP_INTERNAL, "the store is not open");             \
    } while (0)

/* ---- validation: refuse what the schema or the protocol cannot hold ---------- */

static int valid_user(const char *s)
{
    return sc_cert_valid_user_id(s);
}

/* 1..max bytes of [A-Za-z0-9._-] (device ids) or [a-z0-9-] (info names: lower). */
static int valid_id(const char *s, size_t max, int lower)
{
    size_t n = s != NULL ? strnlen(s, max + 1) : 0;
    if (n == 0 || n > max) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                 (!lower && ((c >= 'A' && c <= 'Z') || c == '.' || c == '_'));
        if (!ok) return 0;
    }
    return 1;
}

/* min..max bytes of printable ASCII; a space only when `space`. */
static int valid_ascii(const char *s, size_t min, size_t max, int space)
{
    size_t n = s != NULL ? strnlen(s, max + 1) : 0;
    if (n < min || n > max) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c > 0x7e || c < 0x20 || (c == 0x20 && !space)) return 0;
    }
    return 1;
}

/*
 * n bytes of well-formed UTF-8 without control characters (C0, DEL, C1),
 * except TAB, LF and CR when `ws` (XML text allows those, IRP.md 4.2).
 */
static int valid_utf8(const unsigned char *s, size_t n, int ws)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i], len, cp;
        if (c < 0x80) {
            if ((c < 0x20 && !(ws && (c == '\t' || c == '\n' || c == '\r'))) || c == 0x7f) return 0;
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            len = 2, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            len = 3, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            len = 4, cp = c & 0x07;
        else
            return 0;
        if (i + len > n) return 0;
        for (unsigned k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return 0;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp <= 0x9f)
            return 0;
        i += len;
    }
    return 1;
}

/* NULL, or at most IRPD_STORE_TEXT_MAX bytes of text on one line (audit fields). */
static int valid_opt_text(const char *s)
{
    if (s == NULL) return 1;
    size_t n = strnlen(s, IRPD_STORE_TEXT_MAX + 1);
    return n <= IRPD_STORE_TEXT_MAX && valid_utf8((const unsigned char *)s, n, 0);
}

/* Lowercase copy of a hex serial into out (IRPD_STORE_SERIAL_MAX + 1 bytes); 0 if not hex. */
static int canon_serial(const char *s, char *out)
{
    size_t n = s != NULL ? strnlen(s, IRPD_STORE_SERIAL_MAX + 1) : 0;
    if (n == 0 || n > IRPD_STORE_SERIAL_MAX) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'F') c = (char)(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return 0;
        out[i] = c;
    }
    out[n] = '\0';
    return 1;
}

/* ASCII case-insensitive equality: how SQLite's NOCASE and sc_cert compare user IDs. */
static int same_user(const char *a, const char *b)
{
    for (;; a++, b++) {
        char x = *a, y = *b;
        if (x >= 'A' && x <= 'Z') x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = (char)(y - 'A' + 'a');
        if (x != y) return 0;
        if (x == '\0') return 1;
    }
}

/* seq is a u64, SQLite integers are signed: store the same 64 bits (compared in C). */
static int64_t seq_to_db(uint64_t x)
{
    return x <= INT64_MAX ? (int64_t)x : -(int64_t)(UINT64_MAX - x) - 1;
}

static uint64_t seq_from_db(int64_t v)
{
    return v >= 0 ? (uint64_t)v : UINT64_MAX - (uint64_t)(-(v + 1));
}

/* ---- statement helpers ---------------------------------------------------------- */

/* Copies src into out (cap bytes), cut to fit (no snprintf on the lookup path). */
static void copy_str(char *out, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(out, src, n);
    out[n] = '\0';
}

static void col_text(sqlite3_stmt *q, int i, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(q, i);
    size_t n = t != NULL ? (size_t)sqlite3_column_bytes(q, i) : 0;
    if (n >= cap) n = cap - 1; /* only a file edited by hand could hold more */
    if (n > 0) memcpy(out, t, n);
    out[n] = '\0';
}

/* Copies a blob column of at most cap bytes; a longer one (a file edited by hand) reads as
 * empty. */
static void col_blob(sqlite3_stmt *q, int i, uint8_t *out, size_t cap, size_t *len)
{
    const void *b = sqlite3_column_blob(q, i);
    size_t n = b != NULL ? (size_t)sqlite3_column_bytes(q, i) : 0;
    if (n > cap) n = 0;
    if (n > 0) memcpy(out, b, n);
    *len = n;
}

static void bind_text(sqlite3_stmt *q, int i, const char *s)
{
    if (s == NULL)
        sqlite3_bind_null(q, i);
    else
        sqlite3_bind_text(q, i, s, -1, SQLITE_STATIC);
}

/* Steps a statement whose rows are not wanted, and resets it. */
static int run(sq_store *s, int id)
{
    int rc = sqlite3_step(s->q[id]);
    sqlite3_reset(s->q[id]);
    return rc == SQLITE_ROW ? SQLITE_DONE : rc;
}

/* One integer from a statement bound by the caller (0 when no row): SQLITE_DONE or an error. */
static int one_int(sq_store *s, int id, int64_t *out)
{
    int rc = sqlite3_step(s->q[id]);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(s->q[id], 0) : 0;
    sqlite3_reset(s->q[id]);
    return rc == SQLITE_ROW ? SQLITE_DONE : rc;
}

/* ---- the read records queue ---------------------------------------------------- */

/* Room for one more record with strings of these lengths: 0, or -1 (out of memory). */
static int queue_reserve(sq_store *s, size_t viewer_len, size_t target_len)
{
    size_t need = viewer_len + target_len + 2;
    if (s->n_rows == s->cap_rows) {
        size_t cap = s->cap_rows != 0 ? 2 * s->cap_rows : 1024;
        queued_read *rows = realloc(s->rows, cap * sizeof *rows);
        if (rows == NULL) return -1;
        s->rows = rows;
        s->cap_rows = cap;
    }
    if (s->arena_cap - s->arena_used < need) {
        size_t cap = s->arena_cap != 0 ? 2 * s->arena_cap : 65536;
        while (cap - s->arena_used < need)
            cap *= 2;
        if (cap > UINT32_MAX) return -1;
        char *arena = realloc(s->arena, cap);
        if (arena == NULL) return -1;
        s->arena = arena;
        s->arena_cap = cap;
    }
    return 0;
}

static uint32_t arena_put(sq_store *s, const char *str)
{
    size_t n = strlen(str) + 1;
    uint32_t at = (uint32_t)s->arena_used;
    memcpy(s->arena + at, str, n);
    s->arena_used += n;
    return at;
}

/* Queues a read's record (queue_reserve made room). */
static void queue_push(sq_store *s, int64_t ts, const char *viewer, const char *target, int op,
                       int allowed)
{
    queued_read *r = &s->rows[s->n_rows++];
    r->ts = ts;
    r->viewer = viewer != NULL ? arena_put(s, viewer) : UINT32_MAX;
    r->target = arena_put(s, target);
    r->op = (uint8_t)op;
    r->allowed = (uint8_t)allowed;
}

/* The queued records, into the open write transaction. */
static int write_queue(sq_store *s)
{
    sqlite3_stmt *q = s->q[S_AUDIT_ADD];
    for (size_t i = 0; i < s->n_rows; i++) {
        const queued_read *r = &s->rows[i];
        sqlite3_bind_int64(q, 1, r->ts);
        bind_text(q, 2, r->viewer != UINT32_MAX ? s->arena + r->viewer : NULL);
        bind_text(q, 3, READ_OP[r->op]);
        bind_text(q, 4, s->arena + r->target);
        bind_text(q, 5, r->allowed ? "ok" : "forbidden");
        int rc = run(s, S_AUDIT_ADD);
        if (rc != SQLITE_DONE) return rc;
    }
    return SQLITE_DONE;
}

static void queue_clear(sq_store *s)
{
    s->n_rows = 0;
    s->arena_used = 0;
}

/* ---- transactions ------------------------------------------------------------------ */

/* Puts synchronous=FULL back if a failure left it NORMAL, before any change commits. */
static irp_status ensure_full_sync(sq_store *s, const char *what)
{
    if (s->sync_normal) {
        if (run(s, S_SYNC_FULL) != SQLITE_DONE) return db_fail(s, what);
        s->sync_normal = 0;
    }
    return IRP_OK;
}

/*
 * Writes the queued read records in a transaction of their own, committed
 * without fsync: synchronous=NORMAL for this one commit (SQLite allows no
 * change of the level inside a transaction). They survive the death of the
 * process and reach the disk with the next durable commit (an fsync of the
 * WAL covers every frame before it) or checkpoint: a power failure before
 * that loses lookup records, never a write, and lookups never wait for the
 * disk (IRP.md 10.4). Never while a transaction is open.
 */
static irp_status flush_queue(sq_store *s)
{
    irp_status status = IRP_OK;
    if (s->n_rows == 0) return IRP_OK;
    s->sync_normal = 1;
    if (run(s, S_SYNC_NORMAL) != SQLITE_DONE || run(s, S_BEGIN_W) != SQLITE_DONE ||
        write_queue(s) != SQLITE_DONE || run(s, S_COMMIT) != SQLITE_DONE)
        status = db_fail(s, "audit");
    else
        queue_clear(s);
    if (!sqlite3_get_autocommit(s->db)) run(s, S_ROLLBACK);
    irp_status full = ensure_full_sync(s, "audit");
    return status != IRP_OK ? status : full;
}

/* True when SQLite rolled back the batch's transaction on its own (I/O error, disk full). */
static int batch_lost(sq_store *s)
{
    if (s->batch_tx && !s->batch_failed && sqlite3_get_autocommit(s->db)) {
        s->batch_failed = 1;
        failf(s, IRP_INTERNAL, "the batch was rolled back after an error: %s",
              sqlite3_errmsg(s->db));
    }
    return s->batch_failed;
}

/* Begins one changing operation: a savepoint in a batch, else BEGIN IMMEDIATE. */
static irp_status wr_begin(sq_store *s, const char *what)
{
    if (s->in_batch && s->batch_tx) {
        if (batch_lost(s)) return IRP_INTERNAL;
    } else {
        irp_status status = ensure_full_sync(s, what);
        if (status != IRP_OK) return status;
        if (run(s, S_BEGIN_W) != SQLITE_DONE) return db_fail(s, what);
        if (!s->in_batch) return IRP_OK;
        s->batch_tx = 1; /* the batch's first change opens its transaction */
    }
    if (run(s, S_SAVEPOINT) != SQLITE_DONE) return db_fail(s, what);
    return IRP_OK;
}

/*
 * Ends it with `status`: IRP_OK commits durably (outside a batch, with the
 * queued read records), anything else rolls back. Returns the final status.
 */
static irp_status wr_end(sq_store *s, irp_status status, const char *what)
{
    if (s->in_batch) {
        if (batch_lost(s)) return IRP_INTERNAL;
        if (status != IRP_OK) run(s, S_ROLLBACK_TO);
        if (run(s, S_RELEASE) != SQLITE_DONE && status == IRP_OK) status = db_fail(s, what);
        if (batch_lost(s)) return IRP_INTERNAL;
        return status;
    }
    if (status == IRP_OK) {
        if (write_queue(s) != SQLITE_DONE || run(s, S_COMMIT) != SQLITE_DONE)
            status = db_fail(s, what);
        else
            queue_clear(s);
    }
    if (!sqlite3_get_autocommit(s->db)) run(s, S_ROLLBACK);
    return status;
}

/* Appends an audit record in the current transaction. */
static irp_status audit(sq_store *s, const char *what, int64_t ts, const char *actor,
                        const char *op, const char *target, const char *detail)
{
    sqlite3_stmt *q = s->q[S_AUDIT_ADD];
    sqlite3_bind_int64(q, 1, ts);
    bind_text(q, 2, actor);
    bind_text(q, 3, op);
    bind_text(q, 4, target);
    bind_text(q, 5, detail);
    return run(s, S_AUDIT_ADD) == SQLITE_DONE ? IRP_OK : db_fail(s, what);
}

/* The id, policy and stored spelling of user name: IRP_OK, IRP_NOT_FOUND, IRP_INTERNAL. */
static irp_status find_user(sq_store *s, const char *what, const char *name, int64_t *id,
                            int *access, char *canon)
{
    sqlite3_stmt *q = s->q[S_USER_ID];
    bind_text(q, 1, name);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(q, 0);
        if (access != NULL) *access = sqlite3_column_int(q, 1);
        if (canon != NULL) col_text(q, 2, canon, IRPD_STORE_USER_MAX + 1);
    }
    sqlite3_reset(q);
    if (rc == SQLITE_ROW) return IRP_OK;
    if (rc == SQLITE_DONE) return failf(s, IRP_NOT_FOUND, "%s: no user %s", what, name);
    return db_fail(s, what);
}

/* ---- opening and closing --------------------------------------------------------------- */

static const irpd_store_ops sqlite_ops;

static irp_status query_int(sq_store *s, const char *sql, int64_t *out)
{
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &q, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) *out = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return rc == SQLITE_ROW ? IRP_OK : IRP_INTERNAL;
}

/* Creates the schema in an empty database, or checks the one there; inside BEGIN IMMEDIATE. */
static irp_status check_schema(sq_store *s, const char *path, int create)
{
    int64_t n_tables = 0, app_id = 0, version = 0;
    if (query_int(s, "SELECT count(*) FROM sqlite_schema", &n_tables) != IRP_OK ||
        query_int(s, "PRAGMA application_id", &app_id) != IRP_OK)
        return failf(s, IRP_INTERNAL, "%s: not a usable database: %s", path, sqlite3_errmsg(s->db));
    if (n_tables == 0) {
        if (!create)
            return failf(s, IRP_NOT_FOUND, "%s: the database is empty (run irpd init)", path);
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA application_id = %d", APPLICATION_ID);
        if (sqlite3_exec(s->db, SCHEMA_SQL, NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
            return failf(s, IRP_INTERNAL, "%s: creating the schema: %s", path,
                         sqlite3_errmsg(s->db));
        return IRP_OK;
    }
    if (app_id != APPLICATION_ID ||
        query_int(s, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'schema_version'",
                  &version) != IRP_OK)
        return failf(s, IRP_INTERNAL, "%s: not an irpd database (it holds other tables)", path);
    if (version > SCHEMA_VERSION)
        return failf(s, IRP_INTERNAL,
                     "%s: database schema version %lld is newer than this irpd supports (%d); "
                     "upgrade irpd",
                     path, (long long)version, SCHEMA_VERSION);
    if (version < SCHEMA_VERSION) /* no older version exists: nothing to migrate from yet */
        return failf(s, IRP_INTERNAL, "%s: unknown database schema version %lld", path,
                     (long long)version);
    return IRP_OK;
}

static irp_status open_db(sq_store *s, const char *path, const irpd_store_opts *opts)
{
    int create = opts != NULL && (opts->flags & IRPD_STORE_CREATE);
    int busy = opts != NULL && opts->busy_timeout_ms > 0 ? opts->busy_timeout_ms : DEFAULT_BUSY_MS;
    int cache_kib = opts != NULL && opts->cache_kib > 0 ? opts->cache_kib : DEFAULT_CACHE_KIB;
    struct stat sb;

    /* Create the file ourselves, 0600 from the first instant (SQLite would use 0644); SQLite
     * gives the -wal and -shm files the database file's mode. */
    if (stat(path, &sb) != 0) {
        if (errno != ENOENT) return failf(s, IRP_INTERNAL, "%s: %s", path, strerror(errno));
        if (!create) return failf(s, IRP_NOT_FOUND, "%s: no database (run irpd init)", path);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST)
            return failf(s, IRP_INTERNAL, "%s: cannot create: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
    } else if (!S_ISREG(sb.st_mode)) {
        return failf(s, IRP_INTERNAL, "%s: not a regular file", path);
    }

    /* NOMUTEX: one thread at a time per store (irpd_store.h, "Threads"). */
    int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK)
        return failf(s, IRP_INTERNAL, "%s: cannot open: %s", path,
                     s->db != NULL ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
    sqlite3_extended_result_codes(s->db, 1);
    if (sqlite3_db_readonly(s->db, "main") == 1)
        return failf(s, IRP_INTERNAL, "%s: read-only (check the file's owner and mode)", path);
    sqlite3_busy_timeout(s->db, busy);
    /* Hardening: no writable schema, no side effects from the schema, no double-quoted
     * strings. */
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_DQS_DML, 0, NULL);
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_DQS_DDL, 0, NULL);

    /* The first statement reads the file: garbage fails here ("file is not a database"). */
    sqlite3_stmt *q = NULL;
    int wal = 0;
    rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &q, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        const unsigned char *mode = sqlite3_column_text(q, 0);
        wal = mode != NULL && strcmp((const char *)mode, "wal") == 0;
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW)
        return failf(s, IRP_INTERNAL, "%s: not a usable irpd database: %s", path,
                     sqlite3_errmsg(s->db));
    if (!wal) return failf(s, IRP_INTERNAL, "%s: cannot switch the database to WAL mode", path);
    char sql[128];
    snprintf(sql, sizeof sql,
             "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -%d",
             cache_kib);
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return failf(s, IRP_INTERNAL, "%s: %s", path, sqlite3_errmsg(s->db));

    /* Create or check the schema under the write lock, so two processes do not both create. */
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return failf(s, IRP_INTERNAL, "%s: %s", path, sqlite3_errmsg(s->db));
    irp_status st = check_schema(s, path, create);
    if (st == IRP_OK && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        st = failf(s, IRP_INTERNAL, "%s: %s", path, sqlite3_errmsg(s->db));
    if (st != IRP_OK) {
        if (!sqlite3_get_autocommit(s->db)) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return st;
    }

    for (int i = 0; i < N_STMT; i++) {
        if (sqlite3_prepare_v3(s->db, STMT_SQL[i], -1, SQLITE_PREPARE_PERSISTENT, &s->q[i], NULL) !=
            SQLITE_OK)
            return failf(s, IRP_INTERNAL, "%s: preparing statement %d: %s", path, i,
                         sqlite3_errmsg(s->db));
    }
    return IRP_OK;
}

static void close_db(sq_store *s)
{
    for (int i = 0; i < N_STMT; i++) {
        sqlite3_finalize(s->q[i]);
        s->q[i] = NULL;
    }
    sqlite3_close(s->db);
    s->db = NULL;
}

/*
 * SQLite keeps memory statistics under one process-wide mutex taken on every
 * allocation: a tenth of a lookup, and contended between threads. Nothing
 * here reads them, so turn them off, once, if SQLite is not initialised yet
 * (if it is, sqlite3_config refuses and nothing changes).
 */
static pthread_once_t sqlite_configured = PTHREAD_ONCE_INIT;

static void configure_sqlite(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

irp_status irpd_store_open_sqlite(const char *path, const irpd_store_opts *opts, irpd_store **out)
{
    pthread_once(&sqlite_configured, configure_sqlite);
    sq_store *s = calloc(1, sizeof *s);
    *out = (irpd_store *)s;
    if (s == NULL) return IRP_INTERNAL;
    s->base.ops = &sqlite_ops;
    if (path == NULL || path[0] == '\0') return failf(s, IRP_BAD_REQUEST, "no database path");
    irp_status st = open_db(s, path, opts);
    if (st != IRP_OK) close_db(s);
    return st;
}

static void sq_batch_rollback(irpd_store *st);
static irp_status sq_flush(irpd_store *st);

static void sq_close(irpd_store *st)
{
    sq_store *s = SQ(st);
    if (s->db != NULL) {
        sq_batch_rollback(st);
        (void)sq_flush(st);
        close_db(s);
    }
    free(s->rows);
    free(s->arena);
    free(s);
}

static const char *sq_errmsg(const irpd_store *st)
{
    return ((const sq_store *)st)->errmsg;
}

/* ---- group commit ------------------------------------------------------------------ */

/*
 * A batch opens its write transaction lazily, at its first change: a batch
 * of reads only never takes the write lock, so stores in other threads go
 * on writing and reading.
 */
static irp_status sq_batch_begin(irpd_store *st)
{
    sq_store *s = SQ(st);
    REQUIRE_OPEN(s);
    if (s->in_batch) return failf(s, IRP_INTERNAL, "batch: a batch is open already");
    s->in_batch = 1;
    s->batch_tx = 0;
    s->batch_failed = 0;
    return IRP_OK;
}

static void end_batch(sq_store *s)
{
    if (s->batch_tx && !sqlite3_get_autocommit(s->db)) run(s, S_ROLLBACK);
    s->in_batch = 0;
    s->batch_tx = 0;
    s->batch_failed = 0;
}

/* A batch that changed something commits the queued read records with its changes. */
static irp_status sq_batch_commit(irpd_store *st)
{
    sq_store *s = SQ(st);
    irp_status status = IRP_OK;
    REQUIRE_OPEN(s);
    if (!s->in_batch) return failf(s, IRP_INTERNAL, "commit: no batch is open");
    if (s->batch_tx) {
        if (batch_lost(s))
            status = IRP_INTERNAL;
        else if (write_queue(s) != SQLITE_DONE || run(s, S_COMMIT) != SQLITE_DONE)
            status = db_fail(s, "commit");
        else
            queue_clear(s);
    }
    end_batch(s);
    return status;
}

static void sq_batch_rollback(irpd_store *st)
{
    sq_store *s = SQ(st);
    if (s->db != NULL && s->in_batch) end_batch(s);
}

static irp_status sq_flush(irpd_store *st)
{
    sq_store *s = SQ(st);
    REQUIRE_OPEN(s);
    return s->batch_tx ? IRP_OK : flush_queue(s);
}

/* ---- users --------------------------------------------------------------------------- */

static irp_status sq_user_add(irpd_store *st, const char *name, const char *actor, int64_t now)
{
    sq_store *s = SQ(st);
    REQUIRE_OPEN(s);
    if (!valid_user(name) || !valid_opt_text(actor))
        return failf(s, IRP_BAD_REQUEST, "user-add: invalid user ID or actor");
    irp_status status = wr_begin(s, "user-add");
    if (status != IRP_OK) return status;
    bind_text(s->q[S_USER_ADD], 1, name);
    sqlite3_bind_int64(s->q[S_USER_ADD], 2, now);
    if (run(s, S_USER_ADD) != SQLITE_DONE)
        status = db_fail(s, "user-add");
    else if (sqlite3_changes(s->db) == 0)
        status = failf(s, IRP_CONFLICT, "user-add: user %s exists", name);
    else
        status = audit(s, "user-add", now, actor, "user-add", name, NULL);
    return wr_end(s, status, "user-add");
}

static irp_status sq_user_get(irpd_store *st, const char *name, irpd_user *out)
{
    sq_store *s = SQ(st);
    REQUIRE_OPEN(s);
    if (!valid_user(name) || out == NULL)
        return failf(s, IRP_BAD_REQUEST, "user-get: invalid user ID");
    sqlite3_stmt *q = s->q[S_USER_GET];
    bind_text(q, 1, name);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        col_text(q, 0, out->name, sizeof out->name);
        out->access = (irpd_access)sqlite3_column_int(q, 1);
        out->admin = sqlite3_column_int(q, 2);
        out->created = sqlite3_column_int64(q, 3);
        col_blob(q, 4, out->pw_hash, IRPD_STORE_PW_MAX, &out->pw_hash_len);
        out->pw_hash[out->pw_hash_len] = '\0';
        col_blob(q, 5, out->pw_salt, sizeof out->pw_salt, &out->pw_salt_len);
    }
    sqlite3_reset(q);
    if (rc == SQLITE_ROW) return IRP_OK;
    if (rc == SQLITE_DONE) return failf(s, IRP_NOT_FOUND, "user-get: no user %s", name);
    return db_fail(s, "user-get");
}

static irp_status sq_user_list(irpd_store *st, const char *after, size_t limit, int64_t now,
                               irpd_user_cb cb, void *arg)
{
    sq_store *s = SQ(st);
    irpd_user u;
    int rc;
    REQUIRE_OPEN(s);
    if (after != NULL && !valid_user(after))
        return failf(s, IRP_BAD_REQUEST, "list-users: invalid user ID");
    sqlite3_stmt *q = s->q[S_USER_LIST];
    bind_text(q, 1, after != NULL ? after : "");
    sqlite3_bind_int64(q, 2, limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit);
    sqlite3_bind_int64(q, 3, now);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        memset(&u, 0, sizeof u);
        col_text(q, 0, u.name, sizeof u.name);
        u.access = (irpd_access)sqlite3_column_int(q, 1);
        u.admin = sqlite3_column_int(q, 2);
        u.created = sqlite3_column_int64(q, 3);
        u.n_devices = (unsigned)sqlite3_column_int(q, 4);
        u.n_certs = (unsigned)sqlite3_column_int(q, 5);
        if (cb(arg, &u) != 0) return stopped(s, q, "list-users");
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? IRP_OK : db_fail(s, "list-users");
}

/* Runs UPDATE users ... WHERE name = ?1 (?2, ?3 bound by the caller), audited. */
static irp_status update_user(sq_store *s, int id, const char *what, const char *name,
                              const char *actor, int64_t now, const char *detail)
{
    irp_status status = wr_begin(s, what);
    if (status == IRP_OK) {
        bind_text(s->q[id], 1, name);
        if (run(s, id) != SQLITE_DONE)
            status = db_fail(s, what);
        else if (sqlite3_changes(s->db) == 0)
            status = failf(s, IRP_NOT_FOUND, "%s: no user %s", what, name);
        else
            status = audit(s, what, now, actor, what, name, detail);
        status = wr_end(s, status, what);
    }
    sqlite3_clear_bindings(s->q[id]); /* drop the caller's pointers */
    return status;
}

static irp_status sq_user_set_password(irpd_store *st, const char *name, const uint8_t *hash,
                                       size_t hash_len, const uint8_t *salt, size_t salt_len,
                                       const char *actor, int64_t now)
{
    sq_store *s = SQ(st);
    REQUIRE_OPEN(s);
    if (!valid_user(name) || !valid_opt_text(actor) ||
        (hash != NULL && (hash_len == 0 || hash_len > IRPD_STORE_PW_MAX ||
                          (salt == NULL && salt_len != 0) || salt_len > IRPD_STORE_SALT_MAX)))
        return failf(s, IRP_BAD_REQUEST, "passwd: invalid user ID, hash or salt");
    sqlite3_stmt *q = s->q[S_USER_SET_PW];
    sqlite3_bind_null(q, 2);
    sqlite3_bind_null(q, 3);
    if (hash != NULL) sqlite3_bind_blob(q, 2, hash, (int)hash_len, SQLITE_STATIC);
    if (hash != NULL && salt_len > 0) sqlite3_bind_blob(q, 3, salt, (int)salt_len, SQLITE_STATIC);
    return update_user(s, S_USER_SET_PW, "passwd", name, actor, now,
                       hash != NULL ? "set" : "cleared");
}

static irp_status sq_user_set_admin(irpd_store *st, const char *name, int admin, const char *actor,
                                    int64_t now)
{
    sq_store *s = SQ(st);
    REQUIRE_OPEN(s);
    if (!valid_user(name) || !valid_opt_text(actor))
        return failf(s, IRP_BAD_REQUEST, "admin: invalid user ID");
    sqlite3_bind_int(s->q[S_USER_SET_ADMIN], 2, admin != 0);
    return update_user(s, S_USER_SET_ADMIN, "admin", name, actor, now,
                       admin != 0 ? "granted" : "withdrawn");
}

static const char *const ACCESS_NAME[] = {"anyone", "list", "nobody"};

static irp_status sq_user_set_access(irpd_store *st, const char *name, irpd_access access,
                                     const char *const *allow, size_t n_allow, const char *actor,
                                     int64_t now)
{
    sq_store *s = SQ(st);
    const char *what = "lookup-policy";
    char canon[IRPD_STORE_USER_MAX + 1], detail[64];
    int64_t uid = 0;
    REQUIRE_OPEN(s);
    if (n_allow > IRPD_STORE_ALLOW_MAX)
        return failf(s, IRP_TOO_LARGE, "%s: %zu allowed users (at most %d)", what, n_allow,
                     IRPD_STORE_ALLOW_MAX);
    int ok = valid_user(name) && valid_opt_text(actor) && access >= IRPD_ACCESS_ANYONE &&
             access <= IRPD_ACCESS_NOBODY &&
             (n_allow == 0 || (allow != NULL && access == IRPD_ACCESS_LIST));
    for (size_t i = 0; ok && i < n_allow; i++) {
        ok = valid_user(allow[i]);
        for (size_t j = 0; ok && j < i; j++)
            ok = !same_user(allow[i], allow[j]);
    }
    if (!ok)
        return failf(s, IRP_BAD_REQUEST, "%s: invalid access, or an invalid or repeated user ID",
                     what);

    irp_status status = wr_begin(s, what);
    if (status != IRP_OK) return status;
    status = find_user(s, what, name, &uid, NULL, canon);
    if (status == IRP_OK) {
        sqlite3_bind_int64(s->q[S_USER_SET_ACCESS], 1, uid);
        sqlite3_bind_int(s->q[S_USER_SET_ACCESS], 2, (int)access);
        sqlite3_bind_int64(s->q[S_ALLOW_CLEAR], 1, uid);
        if (run(s, S_USER_SET_ACCESS) != SQLITE_DONE || run(s, S_ALLOW_CLEAR) != SQLITE_DONE)
            status = db_fail(s, what);
    }
    for (size_t i = 0; status == IRP_OK && i < n_allow; i++) {
        sqlite3_bind_int64(s->q[S_ALLOW_ADD], 1, uid);
        bind_text(s->q[S_ALLOW_ADD], 2, allow[i]);
        if (run(s, S_ALLOW_ADD) != SQLITE_DONE) status = db_fail(s, what);
    }
    if (status == IRP_OK) {
        snprintf(detail, sizeof detail, "access=%s allow=%zu", ACCESS_NAME[access], n_allow);
        status = audit(s, what, now, actor, what, canon, detail);
    }
    return wr_end(s, status, what);
}

static irp_status sq_allow_list(irpd_store *st, const char *name, irpd_name_cb cb, void *arg)
{
    sq_store *s = SQ(st);
    char allowed[IRPD_STORE_USER_MAX + 1];
    int64_t uid;
    int rc;
    REQUIRE_OPEN(s);
    if (!valid_user(name)) return failf(s, IRP_BAD_REQUEST, "lookup-policy: invalid user ID");
    irp_status status = find_user(s, "lookup-policy", name, &uid, NULL, NULL);
    if (status != IRP_OK) return status;
    sqlite3_stmt *q = s->q[S_ALLOW_LIST];
    sqlite3_bind_int64(q, 1, uid);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        col_text(q, 0, allowed, sizeof allowed);
        if (cb(arg, allowed) != 0) return stopped(s, q, "lookup-policy");
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? IRP_OK : db_fail(s, "lookup-policy");
}

static irp_status sq_info_set(irpd_store *st, const char *user, const irpd_info *items, size_t n,
                              const char *actor, int64_t now)
{
    sq_store *s = SQ(st);
    const char *what = "user-info";
    char canon[IRPD_STORE_USER_MAX + 1],
        detail[IRPD_STORE_INFO_MAX * (IRPD_STORE_INFO_NAME_MAX + 1) + 8];
    int64_t uid = 0, held = 0;
    size_t at = 0;
    REQUIRE_OPEN(s);
    if (!valid_user(user) || !valid_opt_text(actor) || (items == NULL && n > 0))
        return failf(s, IRP_BAD_REQUEST, "%s: invalid user ID", what);
    if (n > IRPD_STORE_INFO_MAX)
        return failf(s, IRP_TOO_LARGE, "%s: %zu items (at most %d)", what, n, IRPD_STORE_INFO_MAX);
    for (size_t i = 0; i < n; i++) {
        if (!valid_id(items[i].name, IRPD_STORE_INFO_NAME_MAX, 1) ||
            (items[i].value == NULL && items[i].value_len > 0))
            return failf(s, IRP_BAD_REQUEST, "%s: invalid item name", what);
        for (size_t j = 0; j < i; j++)
            if (strcmp(items[i].name, items[j].name) == 0)
                return failf(s, IRP_BAD_REQUEST, "%s: item %s given twice", what, items[i].name);
        if (items[i].value_len > IRPD_STORE_INFO_VALUE_MAX)
            return failf(s, IRP_TOO_LARGE, "%s: item %s over %d bytes", what, items[i].name,
                         IRPD_STORE_INFO_VALUE_MAX);
        if (!valid_utf8((const unsigned char *)items[i].value, items[i].value_len, 1))
            return failf(s, IRP_BAD_REQUEST, "%s: item %s is not text", what, items[i].name);
    }
    irp_status status = wr_begin(s, what);
    if (status != IRP_OK) return status;
    status = find_user(s, what, user, &uid, NULL, canon);
    for (size_t i = 0; status == IRP_OK && i < n; i++) {
        int id = items[i].value_len > 0 ? S_INFO_PUT : S_INFO_DEL;
        sqlite3_bind_int64(s->q[id], 1, uid);
        bind_text(s->q[id], 2, items[i].name);
        if (id == S_INFO_PUT)
            sqlite3_bind_text(s->q[id], 3, items[i].value, (int)items[i].value_len, SQLITE_STATIC);
        if (run(s, id) != SQLITE_DONE) status = db_fail(s, what);
        at += (size_t)snprintf(detail + at, sizeof detail - at, "%s%s",
                               i > 0 ? "," : "items=", items[i].name);
    }
    sqlite3_bind_int64(s->q[S_INFO_COUNT], 1, uid);
    if (status == IRP_OK && one_int(s, S_INFO_COUNT, &held) != SQLITE_DONE)
        status = db_fail(s, what);
    if (status == IRP_OK && held > IRPD_STORE_INFO_MAX)
        status = failf(s, IRP_TOO_LARGE, "%s: %s would hold %lld items (at most %d)", what, canon,
                       (long long)held, IRPD_STORE_INFO_MAX);
    if (status == IRP_OK) status = audit(s, what, now, actor, what, canon, n > 0 ? detail : NULL);
    return wr_end(s, status, what);
}

static irp_status sq_info_get(irpd_store *st, const char *user, irpd_info_cb cb, void *arg)
{
    sq_store *s = SQ(st);
    int64_t uid;
    int rc;
    REQUIRE_OPEN(s);
    if (!valid_user(user)) return failf(s, IRP_BAD_REQUEST, "user-info: invalid user ID");
    irp_status status = find_user(s, "user-info", user, &uid, NULL, NULL);
    if (status != IRP_OK) return status;
    sqlite3_stmt *q = s->q[S_INFO_LIST];
    sqlite3_bind_int64(q, 1, uid);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        irpd_info item = {(const char *)sqlite3_column_text(q, 0),
                          (const char *)sqlite3_column_text(q, 1),
                          (size_t)sqlite3_column_bytes(q, 1)};
        if (cb(arg, &item) != 0) return stopped(s, q, "user-info");
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? IRP_OK : db_fail(s, "user-info");
}

/* ---- enrolment tokens -------------------------------------------------------------- */

/* The first 4 bytes of a token hash: audit records tie token-add to its use by them. */
static void hash_tag(const uint8_t hash[32], char out[9])
{
    snprintf(out, 9, "%02x%02x%02x%02x", hash[0], hash[1], hash[2], hash[3]);
}

static irp_status sq_token_add(irpd_store *st, const uint8_t hash[32], const char *user,
                               int64_t expires, const char *actor, int64_t now)
{
    sq_store *s = SQ(st);
    char detail[64], tag[9];
    REQUIRE_OPEN(s);
    if (hash == NULL || !valid_user(user) || expires <= now || !valid_opt_text(actor))
        return failf(s, IRP_BAD_REQUEST, "token: invalid user ID or expiry");
    irp_status status = wr_begin(s, "token");
    if (status != IRP_OK) return status;
    sqlite3_stmt *q = s->q[S_TOKEN_ADD];
    sqlite3_bind_blob(q, 1, hash, 32, SQLITE_STATIC);
    bind_text(q, 2, user);
    sqlite3_bind_int64(q, 3, expires);
    sqlite3_bind_int64(q, 4, now);
    if (run(s, S_TOKEN_ADD) != SQLITE_DONE)
        status = db_fail(s, "token");
    else if (sqlite3_changes(s->db) == 0)
        status = failf(s, IRP_CONFLICT, "token: exists");
    if (status == IRP_OK) {
        hash_tag(hash, tag);
        snprintf(detail, sizeof detail, "token=%s expires=%lld", tag, (long long)expires);
        status = audit(s, "token", now, actor, "token-add", user, detail);
    }
    return wr_end(s, status, "token");
}

/* Why a token is not usable (IRP.md 6.5 step 1): IRP_FORBIDDEN, IRP_GONE; or IRP_OK. */
static irp_status token_state(sq_store *s, const uint8_t hash[32], int64_t now, char *user_out)
{
    sqlite3_stmt *q = s->q[S_TOKEN_GET];
    sqlite3_bind_blob(q, 1, hash, 32, SQLITE_STATIC);
    int rc = sqlite3_step(q), used = 0;
    int64_t expires = 0;
    if (rc == SQLITE_ROW) {
        if (user_out != NULL) col_text(q, 0, user_out, IRPD_STORE_USER_MAX + 1);
        expires = sqlite3_column_int64(q, 1);
        used = sqlite3_column_type(q, 2) != SQLITE_NULL;
    }
    sqlite3_reset(q);
    if (rc == SQLITE_DONE) return failf(s, IRP_FORBIDDEN, "token: unknown enrolment token");
    if (rc != SQLITE_ROW) return db_fail(s, "token");
    if (used) return failf(s, IRP_GONE, "token: the enrolment token was used");
    if (now >= expires) return failf(s, IRP_GONE, "token: the enrolment token has expired");
    return IRP_OK;
}

static irp_status sq_token_check(irpd_store *st, const uint8_t hash[32], int64_t now,
                                 char *user_out)
{
    sq_store *s = SQ(st);
    REQUIRE_OPEN(s);
    if (hash == NULL) return failf(s, IRP_BAD_REQUEST, "token: no hash");
    return token_state(s, hash, now, user_out);
}

/* Uses the token inside the open write transaction; its user into user (USER_MAX + 1). */
static irp_status consume(sq_store *s, const uint8_t hash[32], int64_t now, char *user)
{
    sqlite3_stmt *q = s->q[S_TOKEN_USE];
    sqlite3_bind_blob(q, 1, hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, now);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) col_text(q, 0, user, IRPD_STORE_USER_MAX + 1);
    sqlite3_reset(q);
    if (rc == SQLITE_ROW) return IRP_OK;
    if (rc != SQLITE_DONE) return db_fail(s, "token");
    irp_status why = token_state(s, hash, now, NULL); /* not usable: say why */
    return why != IRP_OK ? why : failf(s, IRP_INTERNAL, "token: inconsistent state");
}

static irp_status sq_token_consume(irpd_store *st, const uint8_t hash[32], int64_t now,
                                   char *user_out, const char *actor)
{
    sq_store *s = SQ(st);
    char user[IRPD_STORE_USER_MAX + 1], tag[9], detail[32];
    REQUIRE_OPEN(s);
    if (hash == NULL || !valid_opt_text(actor))
        return failf(s, IRP_BAD_REQUEST, "token: no hash or invalid actor");
    irp_status status = wr_begin(s, "token");
    if (status != IRP_OK) return status;
    status = consume(s, hash, now, user);
    if (status == IRP_OK) {
        hash_tag(hash, tag);
        snprintf(detail, sizeof detail, "token=%s", tag);
        status = audit(s, "token", now, actor, "token-use", user, detail);
    }
    status = wr_end(s, status, "token");
    if (status == IRP_OK && user_out != NULL) memcpy(user_out, user, sizeof user);
    return status;
}

/* ---- certificates ------------------------------------------------------------------ */

/* Checks a certificate record given as input; its canonical serial and fingerprint out. */
static irp_status check_cert_in(sq_store *s, const char *what, const irpd_cert *c,
                                char serial[IRPD_STORE_SERIAL_MAX + 1], uint8_t fp[32])
{
    if (c == NULL || !canon_serial(c->serial, serial) || !valid_user(c->user) || c->der == NULL ||
        c->der_len == 0 || c->der_len > IRPD_STORE_CERT_DER_MAX || c->not_after <= c->not_before)
        return failf(s, IRP_BAD_REQUEST, "%s: invalid certificate record", what);
    if (sc_sha256(c->der, c->der_len, fp) != 0)
        return failf(s, IRP_INTERNAL, "%s: SHA-256 failed", what);
    return IRP_OK;
}

/* Records the certificate for user uid in the open transaction, audited as op. */
static irp_status insert_cert(sq_store *s, const char *what, const char *op, int64_t uid,
                              const char *user, const irpd_cert *c, const char *serial,
                              const uint8_t fp[32], int own, const char *actor, int64_t now)
{
    char detail[64];
    sqlite3_stmt *q = s->q[S_CERT_ADD];
    bind_text(q, 1, serial);
    sqlite3_bind_int64(q, 2, uid);
    sqlite3_bind_blob(q, 3, fp, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 4, c->der, (int)c->der_len, SQLITE_STATIC);
    sqlite3_bind_int64(q, 5, c->not_before);
    sqlite3_bind_int64(q, 6, c->not_after);
    sqlite3_bind_int(q, 7, own);
    int rc = run(s, S_CERT_ADD);
    sqlite3_clear_bindings(q);
    if (rc != SQLITE_DONE) return db_fail(s, what);
    if (sqlite3_changes(s->db) == 0)
        return failf(s, IRP_CONFLICT, "%s: a certificate with serial %s or this fingerprint exists",
                     what, serial);
    snprintf(detail, sizeof detail, "serial=%s", serial);
    return audit(s, what, now, actor, op, user, detail);
}

/*
 * Revokes the certificate in row `rowid` (if still valid) and ends every
 * live binding of its user, in the open transaction; audited. *out gets
 * the certificate and counts. IRP_OK also when it was revoked already
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
    bind_text(q, 3, reason);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        uid = sqlite3_column_int64(q, 0);
        col_text(q, 1, out->serial, sizeof out->serial);
        col_blob(q, 2, out->fingerprint, sizeof out->fingerprint, &n);
    }
    sqlite3_reset(q);
    if (rc == SQLITE_DONE) return IRP_OK; /* revoked before: the first revocation stands */
    if (rc != SQLITE_ROW) return db_fail(s, what);
    out->n_certs++;

    /* Every live binding of the user ends at once (IRP.md 6.12). */
    sqlite3_bind_int64(s->q[S_BIND_END_ALL], 1, uid);
    sqlite3_bind_int64(s->q[S_BIND_END_ALL], 2, now);
    if (run(s, S_BIND_END_ALL) != SQLITE_DONE) return db_fail(s, what);
    size_t ended = (size_t)sqlite3_changes(s->db);
    out->n_bindings += ended;

    sqlite3_bind_int64(s->q[S_USER_NAME], 1, uid);
    rc = sqlite3_step(s->q[S_USER_NAME]);
    if (rc == SQLITE_ROW) col_text(s->q[S_USER_NAME], 0, out->user, sizeof out->user);
    sqlite3_reset(s->q[S_USER_NAME]);
    if (rc != SQLITE_ROW) return db_fail(s, what);
    snprintf(detail, sizeof detail, "serial=%s reason=%s bindings=%zu", out->serial, reason, ended);
    return audit(s, what, now, actor, "revoke", out->user, detail);
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
    if (one_int(s, S_CERT_COUNT_VALID, &valid) != SQLITE_DONE) return db_fail(s, what);
    if (valid <= IRPD_STORE_VALID_CERTS) return IRP_OK;
    sqlite3_stmt *q = s->q[S_CERT_SUPERSEDE];
    sqlite3_bind_int64(q, 1, uid);
    sqlite3_bind_int64(q, 2, now);
    sqlite3_bind_blob(q, 3, new_fp, 32, SQLITE_STATIC);
    sqlite3_bind_blob(q, 4, keep_fp != NULL ? keep_fp : none, 32, SQLITE_STATIC);
    if (one_int(s, S_CERT_SUPERSEDE, &rowid) != SQLITE_DONE) return db_fail(s, what);
    return rowid != 0 ? revoke_row(s, what, rowid, "superseded", actor, now, out) : IRP_OK;
}

static irp_status sq_enroll(irpd_store *st, const uint8_t *token_hash, const irpd_cert *cert,
                            const char *actor, int64_t now, irpd_revocation *sup)
{
    sq_store *s = SQ(st);
    char serial[IRPD_STORE_SERIAL_MAX + 1], user[IRPD_STORE_USER_MAX + 1];
    uint8_t fp[32];
    int64_t uid = 0;
    irpd_revocation rev;
    REQUIRE_OPEN(s);
    memset(&rev, 0, sizeof rev);
    irp_status status = check_cert_in(s, "enroll", cert, serial, fp);
    if (status != IRP_OK) return status;
    if (!valid_opt_text(actor)) return failf(s, IRP_BAD_REQUEST, "enroll: invalid actor");
    status = wr_begin(s, "enroll");
    if (status != IRP_OK) return status;
    if (token_hash != NULL) {
        status = consume(s, token_hash, now, user);
        if (status == IRP_OK && !same_user(user, cert->user))
            status = failf(s, IRP_FORBIDDEN, "enroll: the token is not for %s", cert->user);
        if (status == IRP_OK) { /* a token may name a user who does not exist yet */
            bind_text(s->q[S_USER_ADD], 1, user); /* spelled as the token was issued */
            sqlite3_bind_int64(s->q[S_USER_ADD], 2, now);
            if (run(s, S_USER_ADD) != SQLITE_DONE)
                status = db_fail(s, "enroll");
            else if (sqlite3_changes(s->db) == 1)
                status = audit(s, "enroll", now, actor, "user-add", user, "by token");
        }
    }
    if (status == IRP_OK) status = find_user(s, "enroll", cert->user, &uid, NULL, user);
    if (status == IRP_OK)
        status = insert_cert(s, "enroll", "enroll", uid, user, cert, serial, fp, 1, actor, now);
    if (status == IRP_OK) status = supersede(s, "enroll", uid, fp, NULL, actor, now, &rev);
    status = wr_end(s, status, "enroll");
    if (status == IRP_OK && sup != NULL) *sup = rev;
    return status;
}

static irp_status sq_cert_add(irpd_store *st, const irpd_cert *cert, const uint8_t *keep_fp,
                              const char *actor, int64_t now, irpd_revocation *sup)
{
    sq_store *s = SQ(st);
    char serial[IRPD_STORE_SERIAL_MAX + 1], user[IRPD_STORE_USER_MAX + 1];
    uint8_t fp[32];
    int64_t uid = 0;
    irpd_revocation rev;
    REQUIRE_OPEN(s);
    memset(&rev, 0, sizeof rev);
    irp_status status = check_cert_in(s, "renew", cert, serial, fp);
    if (status != IRP_OK) return status;
    if (!valid_opt_text(actor)) return failf(s, IRP_BAD_REQUEST, "renew: invalid actor");
    status = wr_begin(s, "renew");
    if (status != IRP_OK) return status;
    status = find_user(s, "renew", cert->user, &uid, NULL, user);
    if (status == IRP_OK)
        status = insert_cert(s, "renew", "renew", uid, user, cert, serial, fp, 1, actor, now);
    if (status == IRP_OK) status = supersede(s, "renew", uid, fp, keep_fp, actor, now, &rev);
    status = wr_end(s, status, "renew");
    if (status == IRP_OK && sup != NULL) *sup = rev;
    return status;
}

/* Reads a CERT_COLS row; der points into the statement's row. */
static void read_cert(sqlite3_stmt *q, irpd_cert *c)
{
    size_t n;
    memset(c, 0, sizeof *c);
    col_text(q, 0, c->serial, sizeof c->serial);
    col_text(q, 1, c->user, sizeof c->user);
    col_blob(q, 2, c->fingerprint, sizeof c->fingerprint, &n);
    c->der = sqlite3_column_blob(q, 3);
    c->der_len = (size_t)sqlite3_column_bytes(q, 3);
    c->not_before = sqlite3_column_int64(q, 4);
    c->not_after = sqlite3_column_int64(q, 5);
    c->status = sqlite3_column_int(q, 6) == 1 ? IRPD_CERT_REVOKED : IRPD_CERT_VALID;
    c->revoked_at = sqlite3_column_int64(q, 7);
    col_text(q, 8, c->reason, sizeof c->reason);
}

static irp_status get_cert(sq_store *s, int id, irpd_cert *out, uint8_t *der, size_t der_cap)
{
    sqlite3_stmt *q = s->q[id];
    irp_status status = IRP_OK;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        read_cert(q, out);
        if (der != NULL && out->der_len > der_cap)
            status =
                failf(s, IRP_TOO_LARGE, "cert-status: a certificate of %zu bytes", out->der_len);
        else if (der != NULL)
            out->der = memcpy(der, out->der, out->der_len);
        if (der == NULL || status != IRP_OK) out->der = NULL;
    }
    sqlite3_reset(q);
    if (rc == SQLITE_DONE) return failf(s, IRP_NOT_FOUND, "cert-status: no such certificate");
    if (rc != SQLITE_ROW) return db_fail(s, "cert-status");
    return status;
}

static irp_status sq_cert_get_serial(irpd_store *st, const char *serial, irpd_cert *out,
                                     uint8_t *der, size_t der_cap)
{
    sq_store *s = SQ(st);
    char hex[IRPD_STORE_SERIAL_MAX + 1];
    REQUIRE_OPEN(s);
    if (!canon_serial(serial, hex) || out == NULL)
        return failf(s, IRP_BAD_REQUEST, "cert-status: invalid serial");
    bind_text(s->q[S_CERT_BY_SERIAL], 1, hex);
    return get_cert(s, S_CERT_BY_SERIAL, out, der, der_cap);
}

static irp_status sq_cert_get_fp(irpd_store *st, const uint8_t fp[32], irpd_cert *out, uint8_t *der,
                                 size_t der_cap)
{
    sq_store *s = SQ(st);
    REQUIRE_OPEN(s);
    if (fp == NULL || out == NULL) return failf(s, IRP_BAD_REQUEST, "cert-status: no fingerprint");
    sqlite3_bind_blob(s->q[S_CERT_BY_FP], 1, fp, 32, SQLITE_STATIC);
    return get_cert(s, S_CERT_BY_FP, out, der, der_cap);
}

/* Calls cb for each row of statement id (bound by the caller); counts into *n if not NULL.
 * with_der 0 reports der as NULL. */
static irp_status each_cert(sq_store *s, int id, const char *what, int with_der, irpd_cert_cb cb,
                            void *arg, int64_t *n)
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
        if (cb(arg, &c) != 0) return stopped(s, q, what);
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? IRP_OK : db_fail(s, what);
}

static irp_status sq_cert_list(irpd_store *st, const char *user, irpd_cert_cb cb, void *arg)
{
    sq_store *s = SQ(st);
    int64_t uid;
    REQUIRE_OPEN(s);
    if (!valid_user(user)) return failf(s, IRP_BAD_REQUEST, "cert-list: invalid user ID");
    irp_status status = find_user(s, "cert-list", user, &uid, NULL, NULL);
    if (status != IRP_OK) return status;
    sqlite3_bind_int64(s->q[S_CERT_LIST], 1, uid);
    return each_cert(s, S_CERT_LIST, "cert-list", 1, cb, arg, NULL);
}

static int valid_reason(const char *reason)
{
    return valid_ascii(reason, 1, IRPD_STORE_REASON_MAX, 0);
}

static irp_status sq_cert_revoke(irpd_store *st, const char *serial, const uint8_t *fp,
                                 const char *reason, const char *actor, int64_t now,
                                 irpd_revocation *out)
{
    sq_store *s = SQ(st);
    char hex[IRPD_STORE_SERIAL_MAX + 1];
    int64_t rowid = 0;
    irpd_revocation rev;
    REQUIRE_OPEN(s);
    memset(&rev, 0, sizeof rev);
    if (reason == NULL) reason = "unspecified";
    if ((serial == NULL) == (fp == NULL) || (serial != NULL && !canon_serial(serial, hex)) ||
        !valid_reason(reason) || !valid_opt_text(actor))
        return failf(s, IRP_BAD_REQUEST, "revoke: give a serial or a fingerprint, and a reason");
    int find = serial != NULL ? S_CERT_FIND_SERIAL : S_CERT_FIND_FP;
    if (serial != NULL)
        bind_text(s->q[find], 1, hex);
    else
        sqlite3_bind_blob(s->q[find], 1, fp, 32, SQLITE_STATIC);
    irp_status status = wr_begin(s, "revoke");
    if (status != IRP_OK) return status;
    if (one_int(s, find, &rowid) != SQLITE_DONE)
        status = db_fail(s, "revoke");
    else if (rowid == 0)
        status = failf(s, IRP_NOT_FOUND, "revoke: no such certificate");
    else
        status = revoke_row(s, "revoke", rowid, reason, actor, now, &rev);
    status = wr_end(s, status, "revoke");
    if (status == IRP_OK && out != NULL) *out = rev;
    return status;
}

static irp_status sq_user_revoke(irpd_store *st, const char *name, const char *reason,
                                 const char *actor, int64_t now, irpd_revocation *out)
{
    sq_store *s = SQ(st);
    char detail[IRPD_STORE_REASON_MAX + 64];
    int64_t uid = 0;
    size_t n;
    int rc;
    irpd_revocation rev;
    REQUIRE_OPEN(s);
    memset(&rev, 0, sizeof rev);
    if (reason == NULL) reason = "unspecified";
    if (!valid_user(name) || !valid_reason(reason) || !valid_opt_text(actor))
        return failf(s, IRP_BAD_REQUEST, "revoke: invalid user ID or reason");
    irp_status status = wr_begin(s, "revoke");
    if (status != IRP_OK) return status;
    status = find_user(s, "revoke", name, &uid, NULL, rev.user);
    if (status == IRP_OK) {
        sqlite3_stmt *q = s->q[S_CERT_REVOKE_USER];
        sqlite3_bind_int64(q, 1, uid);
        sqlite3_bind_int64(q, 2, now);
        bind_text(q, 3, reason);
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
            rev.n_certs++;
            col_text(q, 0, rev.serial, sizeof rev.serial);
            col_blob(q, 1, rev.fingerprint, sizeof rev.fingerprint, &n);
        }
        sqlite3_reset(q);
        if (rc != SQLITE_DONE) status = db_fail(s, "revoke");
    }
    if (status == IRP_OK) {
        sqlite3_bind_int64(s->q[S_BIND_END_ALL], 1, uid);
        sqlite3_bind_int64(s->q[S_BIND_END_ALL], 2, now);
        if (run(s, S_BIND_END_ALL) != SQLITE_DONE)
            status = db_fail(s, "revoke");
        else
            rev.n_bindings = (size_t)sqlite3_changes(s->db);
    }
    if (status == IRP_OK) {
        snprintf(detail, sizeof detail, "all certificates=%zu reason=%s bindings=%zu", rev.n_certs,
                 reason, rev.n_bindings);
        status = audit(s, "revoke", now, actor, "revoke", rev.user, detail);
    }
    status = wr_end(s, status, "revoke");
    if (status == IRP_OK && out != NULL) *out = rev;
    return status;
}

/* ---- bindings ------------------------------------------------------------------------- */

static int valid_binding(const irpd_binding *b, int64_t now)
{
    if (b == NULL || !valid_user(b->user) || !valid_id(b->device, IRPD_STORE_DEVICE_MAX, 0) ||
        b->port == 0 || b->n_addrs == 0 || b->n_addrs > IRPD_STORE_ADDRS_MAX || b->expires <= now ||
        !valid_ascii(b->seen, 0, IRPD_STORE_ADDR_MAX, 0))
        return 0;
    for (size_t i = 0; i < b->n_addrs; i++)
        if (!valid_ascii(b->addrs[i], 1, IRPD_STORE_ADDR_MAX, 0)) return 0;
    return 1;
}

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

/* Reads a BIND_COLS row for user. */
static void read_binding(sqlite3_stmt *q, const char *user, irpd_binding *b)
{
    memset(b, 0, sizeof *b);
    copy_str(b->user, sizeof b->user, user);
    col_text(q, 0, b->device, sizeof b->device);
    b->seq = seq_from_db(sqlite3_column_int64(q, 1));
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
    col_text(q, 4, b->seen, sizeof b->seen);
    b->expires = sqlite3_column_int64(q, 5);
    b->updated = sqlite3_column_int64(q, 6);
}

/*
 * IRP.md 6.7 step 5 and the revocation race: the certificate the client
 * authenticated with must be uid's and valid if recorded, and is recorded
 * (an external CA's) if not.
 */
static irp_status check_auth_cert(sq_store *s, const char *what, int64_t uid, const char *user,
                                  const irpd_cert *c, const char *actor, int64_t now)
{
    char serial[IRPD_STORE_SERIAL_MAX + 1];
    uint8_t fp[32];
    irpd_cert got;
    irp_status status = check_cert_in(s, what, c, serial, fp);
    if (status != IRP_OK) return status;
    sqlite3_bind_blob(s->q[S_CERT_BY_FP], 1, fp, 32, SQLITE_STATIC);
    status = get_cert(s, S_CERT_BY_FP, &got, NULL, 0);
    if (status == IRP_NOT_FOUND) {
        if (!same_user(c->user, user))
            return failf(s, IRP_FORBIDDEN, "%s: the certificate names %s, not %s", what, c->user,
                         user);
        return insert_cert(s, what, "cert-record", uid, user, c, serial, fp, 0, actor, now);
    }
    if (status != IRP_OK) return status;
    if (!same_user(got.user, user) || got.status != IRPD_CERT_VALID || got.not_after <= now)
        return failf(s, IRP_FORBIDDEN, "%s: the certificate is not a valid one of %s", what, user);
    return IRP_OK;
}

static irp_status sq_binding_put(irpd_store *st, const irpd_binding *b, const irpd_cert *auth_cert,
                                 const char *actor, int64_t now)
{
    sq_store *s = SQ(st);
    const char *what = "register";
    char addrs[IRPD_STORE_ADDRS_MAX * (IRPD_STORE_ADDR_MAX + 1)];
    char user[IRPD_STORE_USER_MAX + 1], detail[192];
    int64_t uid = 0, stored = 0, others = 0;
    REQUIRE_OPEN(s);
    if (!valid_binding(b, now) || !valid_opt_text(actor))
        return failf(s, IRP_BAD_REQUEST, "%s: invalid binding", what);
    join_addrs(b, addrs);
    irp_status status = wr_begin(s, what);
    if (status != IRP_OK) return status;
    status = find_user(s, what, b->user, &uid, NULL, user);
    if (status == IRP_OK) { /* step 2: the seq, kept even after the binding ended */
        sqlite3_stmt *q = s->q[S_BIND_GET];
        sqlite3_bind_int64(q, 1, uid);
        bind_text(q, 2, b->device);
        sqlite3_bind_int64(q, 3, now);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) stored = sqlite3_column_int64(q, 0);
        sqlite3_reset(q);
        if (rc == SQLITE_ROW && b->seq <= seq_from_db(stored))
            status = failf(s, IRP_CONFLICT, "%s: sequence number %llu is not above %llu", what,
                           (unsigned long long)b->seq, (unsigned long long)seq_from_db(stored));
        else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            status = db_fail(s, what);
    }
    if (status == IRP_OK) { /* step 3: the number of devices */
        sqlite3_bind_int64(s->q[S_BIND_COUNT_OTHERS], 1, uid);
        bind_text(s->q[S_BIND_COUNT_OTHERS], 2, b->device);
        sqlite3_bind_int64(s->q[S_BIND_COUNT_OTHERS], 3, now);
        if (one_int(s, S_BIND_COUNT_OTHERS, &others) != SQLITE_DONE)
            status = db_fail(s, what);
        else if (others >= IRPD_STORE_DEVICES_MAX)
            status = failf(s, IRP_CONFLICT, "%s: %s has %d devices registered already", what, user,
                           IRPD_STORE_DEVICES_MAX);
    }
    if (status == IRP_OK && auth_cert != NULL)
        status = check_auth_cert(s, what, uid, user, auth_cert, actor, now);
    if (status == IRP_OK) { /* step 6 */
        sqlite3_stmt *q = s->q[S_BIND_PUT];
        sqlite3_bind_int64(q, 1, uid);
        bind_text(q, 2, b->device);
        sqlite3_bind_int64(q, 3, seq_to_db(b->seq));
        sqlite3_bind_int(q, 4, b->port);
        bind_text(q, 5, addrs);
        bind_text(q, 6, b->seen);
        sqlite3_bind_int64(q, 7, b->expires);
        sqlite3_bind_int64(q, 8, now);
        int rc = run(s, S_BIND_PUT);
        sqlite3_clear_bindings(q);
        if (rc != SQLITE_DONE) status = db_fail(s, what);
    }
    if (status == IRP_OK) {
        snprintf(detail, sizeof detail, "device=%s seq=%llu port=%u expires=%lld", b->device,
                 (unsigned long long)b->seq, (unsigned)b->port, (long long)b->expires);
        status = audit(s, what, now, actor, what, user, detail);
    }
    return wr_end(s, status, what);
}

static irp_status sq_binding_delete(irpd_store *st, const char *name, const char *device,
                                    const uint64_t *seq, const char *actor, int64_t now,
                                    size_t *n_ended)
{
    sq_store *s = SQ(st);
    const char *what = "unregister";
    char user[IRPD_STORE_USER_MAX + 1], detail[128];
    int64_t uid = 0, stored = 0;
    size_t n = 0;
    REQUIRE_OPEN(s);
    if (!valid_user(name) || (device != NULL && !valid_id(device, IRPD_STORE_DEVICE_MAX, 0)) ||
        (seq != NULL && device == NULL) || !valid_opt_text(actor))
        return failf(s, IRP_BAD_REQUEST, "%s: invalid user ID, device or seq", what);
    irp_status status = wr_begin(s, what);
    if (status != IRP_OK) return status;
    status = find_user(s, what, name, &uid, NULL, user);
    if (status == IRP_OK && device != NULL) {
        sqlite3_stmt *q = s->q[S_BIND_GET];
        sqlite3_bind_int64(q, 1, uid);
        bind_text(q, 2, device);
        sqlite3_bind_int64(q, 3, now);
        int rc = sqlite3_step(q), live = 0;
        if (rc == SQLITE_ROW) {
            stored = sqlite3_column_int64(q, 0);
            live = sqlite3_column_int(q, 1);
        }
        sqlite3_reset(q);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            status = db_fail(s, what);
        else if (!live)
            status = failf(s, IRP_NOT_FOUND, "%s: device %s is not registered", what, device);
        else if (seq != NULL && *seq <= seq_from_db(stored))
            status = failf(s, IRP_CONFLICT, "%s: sequence number %llu is not above %llu", what,
                           (unsigned long long)*seq, (unsigned long long)seq_from_db(stored));
        if (status == IRP_OK) {
            q = s->q[S_BIND_END_ONE];
            sqlite3_bind_int64(q, 1, uid);
            bind_text(q, 2, device);
            sqlite3_bind_int64(q, 3, now);
            sqlite3_bind_int64(q, 4, seq != NULL ? seq_to_db(*seq) : stored);
            if (run(s, S_BIND_END_ONE) != SQLITE_DONE) status = db_fail(s, what);
            n = 1;
        }
    } else if (status == IRP_OK) {
        sqlite3_bind_int64(s->q[S_BIND_END_ALL], 1, uid);
        sqlite3_bind_int64(s->q[S_BIND_END_ALL], 2, now);
        if (run(s, S_BIND_END_ALL) != SQLITE_DONE)
            status = db_fail(s, what);
        else
            n = (size_t)sqlite3_changes(s->db);
    }
    if (status == IRP_OK) {
        if (device != NULL)
            snprintf(detail, sizeof detail, "device=%s", device);
        else
            snprintf(detail, sizeof detail, "all=%zu", n);
        status = audit(s, what, now, actor, what, user, detail);
    }
    status = wr_end(s, status, what);
    if (status == IRP_OK && n_ended != NULL) *n_ended = n;
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
        if (cb(arg, &b) != 0) return stopped(s, q, what);
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? IRP_OK : db_fail(s, what);
}

static irp_status sq_binding_list(irpd_store *st, const char *name, int64_t now, irpd_binding_cb cb,
                                  void *arg)
{
    sq_store *s = SQ(st);
    char user[IRPD_STORE_USER_MAX + 1];
    int64_t uid;
    REQUIRE_OPEN(s);
    if (!valid_user(name)) return failf(s, IRP_BAD_REQUEST, "bindings: invalid user ID");
    irp_status status = find_user(s, "bindings", name, &uid, NULL, user);
    if (status != IRP_OK) return status;
    return each_binding(s, "bindings", uid, user, now, cb, arg);
}

static irp_status sq_sweep(irpd_store *st, int64_t now, irpd_binding_cb cb, void *arg,
                           size_t *n_expired)
{
    sq_store *s = SQ(st);
    char user[IRPD_STORE_USER_MAX + 1], detail[32];
    irpd_binding b;
    int rc = SQLITE_DONE;
    size_t n = 0;
    REQUIRE_OPEN(s);
    irp_status status = wr_begin(s, "sweep");
    if (status != IRP_OK) return status;
    sqlite3_stmt *q = s->q[S_BIND_EXPIRED];
    sqlite3_bind_int64(q, 1, now);
    while (cb != NULL && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        col_text(q, 7, user, sizeof user);
        read_binding(q, user, &b);
        if (cb(arg, &b) != 0) {
            status = stopped(s, q, "sweep");
            break;
        }
    }
    sqlite3_reset(q);
    if (cb != NULL && status == IRP_OK && rc != SQLITE_DONE) status = db_fail(s, "sweep");
    if (status == IRP_OK) { /* expired ones end; those ended long ago are forgotten */
        sqlite3_bind_int64(s->q[S_BIND_MARK_EXPIRED], 1, now);
        sqlite3_bind_int64(s->q[S_BIND_FORGET], 1, now - IRPD_STORE_SEQ_KEEP);
        if (run(s, S_BIND_MARK_EXPIRED) != SQLITE_DONE) status = db_fail(s, "sweep");
        n = (size_t)sqlite3_changes(s->db);
        if (status == IRP_OK && run(s, S_BIND_FORGET) != SQLITE_DONE) status = db_fail(s, "sweep");
    }
    if (status == IRP_OK && n > 0) {
        snprintf(detail, sizeof detail, "bindings=%zu", n);
        status = audit(s, "sweep", now, NULL, "expire", NULL, detail);
    }
    status = wr_end(s, status, "sweep");
    if (status == IRP_OK && n_expired != NULL) *n_expired = n;
    return status;
}

/* ---- lookup ------------------------------------------------------------------------- */

/* The access rule (irpd_store_access_check); the target's id and spelling out. */
static irp_status check_access(sq_store *s, const char *viewer, const char *target, unsigned flags,
                               int64_t *uid, char *canon)
{
    int access = IRPD_ACCESS_ANYONE;
    irp_status status = find_user(s, "lookup", target, uid, &access, canon);
    if (status != IRP_OK || (flags & IRPD_LOOKUP_ANY) || same_user(viewer, canon) ||
        access == IRPD_ACCESS_ANYONE)
        return status;
    if (access == IRPD_ACCESS_LIST) {
        sqlite3_stmt *q = s->q[S_ALLOW_HAS];
        sqlite3_bind_int64(q, 1, *uid);
        bind_text(q, 2, viewer);
        int rc = sqlite3_step(q);
        sqlite3_reset(q);
        if (rc == SQLITE_ROW) return IRP_OK;
        if (rc != SQLITE_DONE) return db_fail(s, "lookup");
    }
    return failf(s, IRP_FORBIDDEN, "lookup: %s does not allow %s", canon, viewer);
}

static int lookup_args_ok(const char *viewer, const char *target, unsigned flags)
{
    return valid_user(target) &&
           (viewer != NULL ? valid_user(viewer) : (flags & IRPD_LOOKUP_ANY) != 0);
}

static irp_status sq_access_check(irpd_store *st, const char *viewer, const char *target,
                                  unsigned flags)
{
    sq_store *s = SQ(st);
    char canon[IRPD_STORE_USER_MAX + 1];
    int64_t uid;
    REQUIRE_OPEN(s);
    if (!lookup_args_ok(viewer, target, flags))
        return failf(s, IRP_BAD_REQUEST, "lookup: invalid user ID");
    return check_access(s, viewer != NULL ? viewer : "", target, flags, &uid, canon);
}

static irp_status sq_lookup(irpd_store *st, const char *viewer, const char *target, int64_t now,
                            unsigned flags, const irpd_lookup_cb *cb, void *arg, char *user_out)
{
    sq_store *s = SQ(st);
    char canon[IRPD_STORE_USER_MAX + 1];
    int64_t uid = 0, n_valid = 0;
    int op = (flags & IRPD_LOOKUP_WATCH) ? 1 : (flags & IRPD_LOOKUP_USER_INFO) ? 2 : 0;
    irp_status status;
    REQUIRE_OPEN(s);
    if (!lookup_args_ok(viewer, target, flags))
        return failf(s, IRP_BAD_REQUEST, "lookup: invalid user ID");
    if (s->batch_tx) { /* inside the batch's transaction: it sees the batch's changes */
        if (batch_lost(s)) return IRP_INTERNAL;
    } else if (s->n_rows >= IRPD_STORE_AUDIT_QUEUE && (status = flush_queue(s)) != IRP_OK) {
        return status; /* fail closed: no lookup while earlier records cannot be written */
    }
    /* Room for this lookup's record before reading anything (the target as stored has the
     * same length as the target asked for: they differ in case only). */
    if (queue_reserve(s, viewer != NULL ? strlen(viewer) : 0, strlen(target)) != 0)
        return failf(s, IRP_INTERNAL, "lookup: out of memory");
    if (!s->batch_tx && run(s, S_BEGIN_R) != SQLITE_DONE) return db_fail(s, "lookup");

    status = check_access(s, viewer != NULL ? viewer : "", target, flags, &uid, canon);
    if (status == IRP_OK)
        status = each_binding(s, "lookup", uid, canon, now, cb != NULL ? cb->binding : NULL, arg);
    if (status == IRP_OK && cb != NULL && cb->cert != NULL) {
        sqlite3_stmt *q = s->q[S_CERT_VALID_LIVE];
        sqlite3_bind_int64(q, 1, uid);
        sqlite3_bind_int64(q, 2, now);
        sqlite3_bind_int(q, 3, IRPD_STORE_VALID_CERTS);
        status = each_cert(s, S_CERT_VALID_LIVE, "lookup", 1, cb->cert, arg, &n_valid);
        q = s->q[S_CERT_REVOKED_LIVE];
        sqlite3_bind_int64(q, 1, uid);
        sqlite3_bind_int64(q, 2, now);
        sqlite3_bind_int64(q, 3, IRPD_STORE_LOOKUP_CERTS - n_valid);
        if (status == IRP_OK)
            status = each_cert(s, S_CERT_REVOKED_LIVE, "lookup", 0, cb->cert, arg, NULL);
    }
    if (!s->batch_tx && run(s, S_COMMIT) != SQLITE_DONE && status == IRP_OK)
        status = db_fail(s, "lookup");
    if (status != IRP_OK && status != IRP_FORBIDDEN) return status;

    if (user_out != NULL) memcpy(user_out, canon, sizeof canon);
    queue_push(s, now, viewer, canon, op, status == IRP_OK);
    return status;
}

static irp_status sq_access_log(irpd_store *st, const char *owner, int64_t after_id, size_t limit,
                                irpd_audit_cb cb, void *arg);

/* ---- PKCS#12 ------------------------------------------------------------------------ */

static irp_status sq_p12_put(irpd_store *st, const char *name, const uint8_t *blob, size_t len,
                             const char *actor, int64_t now)
{
    sq_store *s = SQ(st);
    char user[IRPD_STORE_USER_MAX + 1], detail[32];
    int64_t uid;
    REQUIRE_OPEN(s);
    if (!valid_user(name) || blob == NULL || len == 0 || !valid_opt_text(actor))
        return failf(s, IRP_BAD_REQUEST, "pkcs12-put: invalid user ID or empty backup");
    if (len > IRPD_STORE_P12_MAX)
        return failf(s, IRP_TOO_LARGE, "pkcs12-put: %zu bytes (at most %d)", len,
                     IRPD_STORE_P12_MAX);
    irp_status status = wr_begin(s, "pkcs12-put");
    if (status != IRP_OK) return status;
    status = find_user(s, "pkcs12-put", name, &uid, NULL, user);
    if (status == IRP_OK) {
        sqlite3_stmt *q = s->q[S_P12_PUT];
        sqlite3_bind_int64(q, 1, uid);
        sqlite3_bind_blob(q, 2, blob, (int)len, SQLITE_STATIC);
        sqlite3_bind_int64(q, 3, now);
        int rc = run(s, S_P12_PUT);
        sqlite3_clear_bindings(q);
        if (rc != SQLITE_DONE) status = db_fail(s, "pkcs12-put");
    }
    if (status == IRP_OK) {
        snprintf(detail, sizeof detail, "bytes=%zu", len);
        status = audit(s, "pkcs12-put", now, actor, "pkcs12-put", user, detail);
    }
    return wr_end(s, status, "pkcs12-put");
}

static irp_status sq_p12_get(irpd_store *st, const char *name, uint8_t *buf, size_t cap,
                             size_t *len, int64_t *updated)
{
    sq_store *s = SQ(st);
    int64_t uid;
    REQUIRE_OPEN(s);
    if (!valid_user(name) || buf == NULL || len == NULL)
        return failf(s, IRP_BAD_REQUEST, "pkcs12-get: invalid user ID");
    irp_status status = find_user(s, "pkcs12-get", name, &uid, NULL, NULL);
    if (status != IRP_OK) return status;
    sqlite3_stmt *q = s->q[S_P12_GET];
    sqlite3_bind_int64(q, 1, uid);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        const void *blob = sqlite3_column_blob(q, 0);
        size_t n = (size_t)sqlite3_column_bytes(q, 0);
        if (n > cap)
            status = failf(s, IRP_TOO_LARGE, "pkcs12-get: %zu bytes do not fit", n);
        else if (n > 0)
            memcpy(buf, blob, n);
        *len = n;
        if (updated != NULL) *updated = sqlite3_column_int64(q, 1);
    }
    sqlite3_reset(q);
    if (rc == SQLITE_DONE) return failf(s, IRP_NOT_FOUND, "pkcs12-get: %s has no backup", name);
    if (rc != SQLITE_ROW) return db_fail(s, "pkcs12-get");
    return status;
}

/* ---- audit ------------------------------------------------------------------------------ */

static irp_status sq_audit_add(irpd_store *st, int64_t now, const char *actor, const char *op,
                               const char *target, const char *detail)
{
    sq_store *s = SQ(st);
    REQUIRE_OPEN(s);
    if (!valid_ascii(op, 1, IRPD_STORE_OP_MAX, 0) || !valid_opt_text(actor) ||
        !valid_opt_text(target) || !valid_opt_text(detail))
        return failf(s, IRP_BAD_REQUEST, "audit: invalid op or text");
    irp_status status = wr_begin(s, "audit");
    if (status != IRP_OK) return status;
    status = audit(s, "audit", now, actor, op, target, detail);
    return wr_end(s, status, "audit");
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
        if (cb(arg, &r) != 0) return stopped(s, q, what);
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? IRP_OK : db_fail(s, what);
}

static irp_status list_audit(sq_store *s, int id, const char *what, const char *target,
                             int64_t after_id, size_t limit, irpd_audit_cb cb, void *arg)
{
    sqlite3_stmt *q = s->q[id];
    sqlite3_bind_int64(q, 1, after_id);
    sqlite3_bind_int64(q, 2, limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit);
    if (target != NULL) bind_text(q, 3, target);
    return each_audit(s, id, what, cb, arg);
}

static irp_status sq_audit_list(irpd_store *st, const char *target, int64_t after_id, size_t limit,
                                irpd_audit_cb cb, void *arg)
{
    sq_store *s = SQ(st);
    REQUIRE_OPEN(s);
    if (!valid_opt_text(target)) return failf(s, IRP_BAD_REQUEST, "audit: invalid target");
    return list_audit(s, target != NULL ? S_AUDIT_TARGET : S_AUDIT_ALL, "audit", target, after_id,
                      limit, cb, arg);
}

static irp_status sq_access_log(irpd_store *st, const char *owner, int64_t after_id, size_t limit,
                                irpd_audit_cb cb, void *arg)
{
    sq_store *s = SQ(st);
    REQUIRE_OPEN(s);
    if (!valid_user(owner)) return failf(s, IRP_BAD_REQUEST, "access-log: invalid user ID");
    return list_audit(s, S_ACCESS_LOG, "access-log", owner, after_id, limit, cb, arg);
}

static const irpd_store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .errmsg = sq_errmsg,
    .batch_begin = sq_batch_begin,
    .batch_commit = sq_batch_commit,
    .batch_rollback = sq_batch_rollback,
    .flush = sq_flush,
    .user_add = sq_user_add,
    .user_get = sq_user_get,
    .user_list = sq_user_list,
    .user_set_password = sq_user_set_password,
    .user_set_admin = sq_user_set_admin,
    .user_set_access = sq_user_set_access,
    .allow_list = sq_allow_list,
    .info_set = sq_info_set,
    .info_get = sq_info_get,
    .token_add = sq_token_add,
    .token_check = sq_token_check,
    .token_consume = sq_token_consume,
    .enroll = sq_enroll,
    .cert_add = sq_cert_add,
    .cert_get_serial = sq_cert_get_serial,
    .cert_get_fp = sq_cert_get_fp,
    .cert_list = sq_cert_list,
    .cert_revoke = sq_cert_revoke,
    .user_revoke = sq_user_revoke,
    .binding_put = sq_binding_put,
    .binding_delete = sq_binding_delete,
    .binding_list = sq_binding_list,
    .sweep = sq_sweep,
    .access_check = sq_access_check,
    .lookup = sq_lookup,
    .access_log = sq_access_log,
    .p12_put = sq_p12_put,
    .p12_get = sq_p12_get,
    .audit_add = sq_audit_add,
    .audit_list = sq_audit_list,
};
