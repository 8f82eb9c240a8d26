/*
 * agent_store.c - the SQLite store: opening, schema, statement cache,
 * transactions, settings and contacts (docs/AGENT-API.md 6). Messages,
 * the outbox and events are in agent_store_msg.c.
 */
#include "agent_store_int.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * The schema. messages.seq is the local order; (peer, dir, id) is unique,
 * which is how a receiver drops a message it already has. The outbox holds
 * one row per waiting outgoing message, deliveries one row per (message,
 * device) that acknowledged it: a user with several devices gets every
 * message on each. messages_fts is an external-content FTS5 index kept by
 * triggers.
 */
static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS contacts("
    " user TEXT PRIMARY KEY COLLATE NOCASE, display_name TEXT NOT NULL DEFAULT '',"
    " fingerprint BLOB, new_fingerprint BLOB, verified INTEGER NOT NULL DEFAULT 0,"
    " blocked INTEGER NOT NULL DEFAULT 0, last_addr TEXT NOT NULL DEFAULT '',"
    " added_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS messages("
    " seq INTEGER PRIMARY KEY, id TEXT NOT NULL, peer TEXT NOT NULL COLLATE NOCASE,"
    " dir INTEGER NOT NULL, text TEXT NOT NULL, ts_ms INTEGER NOT NULL,"
    " stored_ms INTEGER NOT NULL, delivered_ms INTEGER NOT NULL DEFAULT 0,"
    " read_ms INTEGER NOT NULL DEFAULT 0, state INTEGER NOT NULL,"
    " reason TEXT NOT NULL DEFAULT '', UNIQUE(peer, dir, id));"
    /* Unread incoming messages by sender: what strangers store (agent_msgs_cap.c). */
    "CREATE INDEX IF NOT EXISTS messages_unread_in ON messages(peer)"
    " WHERE dir = 1 AND state = 6;" /* AGENT_DIR_IN, AGENT_MSG_RECEIVED */
    "CREATE INDEX IF NOT EXISTS messages_queued ON messages(peer, seq)"
    " WHERE dir = 0 AND state = 0;" /* AGENT_DIR_OUT, AGENT_MSG_QUEUED */
    "CREATE TABLE IF NOT EXISTS outbox("
    " seq INTEGER PRIMARY KEY REFERENCES messages(seq) ON DELETE CASCADE,"
    " peer TEXT NOT NULL COLLATE NOCASE, expires_ms INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS outbox_peer ON outbox(peer, seq);"
    "CREATE INDEX IF NOT EXISTS outbox_expiry ON outbox(expires_ms);"
    "CREATE TABLE IF NOT EXISTS deliveries("
    " seq INTEGER NOT NULL REFERENCES messages(seq) ON DELETE CASCADE,"
    " device TEXT NOT NULL, receipt_ms INTEGER NOT NULL, PRIMARY KEY(seq, device));"
    "CREATE TABLE IF NOT EXISTS transfers("
    " id TEXT NOT NULL, peer TEXT NOT NULL COLLATE NOCASE, dir INTEGER NOT NULL,"
    " name TEXT NOT NULL, size INTEGER NOT NULL, sha256 BLOB NOT NULL,"
    " offset INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL, path TEXT NOT NULL DEFAULT '',"
    " device TEXT NOT NULL DEFAULT '', reason TEXT NOT NULL DEFAULT '',"
    " created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(peer, dir, id));"
    "CREATE TABLE IF NOT EXISTS events("
    " id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL);"
    "CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5("
    " text, content='messages', content_rowid='seq');"
    "CREATE TRIGGER IF NOT EXISTS messages_ai AFTER INSERT ON messages BEGIN"
    " INSERT INTO messages_fts(rowid, text) VALUES (new.seq, new.text); END;"
    "CREATE TRIGGER IF NOT EXISTS messages_ad AFTER DELETE ON messages BEGIN"
    " INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.seq, old.text);"
    " END;";

int agent__store_fail(agent_store *st, const char *what)
{
    fprintf(stderr, "sixchat: store: %s: %s\n", what, sqlite3_errmsg(st->db));
    return SC_ERR_IO;
}

sqlite3_stmt *agent__stmt(agent_store *st, const char *sql)
{
    int i;
    for (i = 0; i < AGENT_STMT_CACHE && st->cache[i].sql; i++) {
        if (st->cache[i].sql == sql) {
            sqlite3_reset(st->cache[i].st);
            sqlite3_clear_bindings(st->cache[i].st);
            return st->cache[i].st;
        }
    }
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
        agent__store_fail(st, "prepare");
        return NULL;
    }
    if (i < AGENT_STMT_CACHE) {
        st->cache[i].sql = sql;
        st->cache[i].st = s;
        return s;
    }
    /* The cache is sized for every query of the store; this is a bug. */
    fprintf(stderr, "sixchat: store: statement cache full\n");
    sqlite3_finalize(s);
    return NULL;
}

int agent__store_exec(agent_store *st, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return agent__store_fail(st, what);
    return SC_OK;
}

int agent__bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (!v) return sqlite3_bind_null(s, i);
    return sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

void agent__bind_key(sqlite3_stmt *s, const char *peer, int dir, const char *id)
{
    agent__bind_text(s, 1, peer);
    sqlite3_bind_int(s, 2, dir);
    agent__bind_text(s, 3, id);
}

int agent__store_get(agent_store *st, sqlite3_stmt *s, const char *what, agent__row_fn row,
                     void *arg, int *found)
{
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *found = 1;
        row(s, arg);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return agent__store_fail(st, what);
    return SC_OK;
}

static int exec_sql(agent_store *st, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "sixchat: store: %s\n", err ? err : "exec failed");
        sqlite3_free(err);
        return SC_ERR_IO;
    }
    return SC_OK;
}

int agent_store_open(const char *path, agent_store **out)
{
    *out = NULL;
    /* The file is created 0600 before SQLite opens it: history is private. */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return SC_ERR_IO;
    close(fd);
    agent_store *st = calloc(1, sizeof(*st));
    if (!st) return SC_ERR_NOMEM;
    if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        agent__store_fail(st, "open");
        agent_store_close(st);
        return SC_ERR_IO;
    }
    /* WAL + NORMAL: commits are WAL writes without fsync (see the header).
     * busy_timeout: a CLI that reads the file directly never fails at once. */
    if (exec_sql(st, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;") ||
        exec_sql(st, SCHEMA)) {
        agent_store_close(st);
        return SC_ERR_IO;
    }
    *out = st;
    return SC_OK;
}

void agent_store_close(agent_store *st)
{
    if (!st) return;
    for (int i = 0; i < AGENT_STMT_CACHE && st->cache[i].sql; i++)
        sqlite3_finalize(st->cache[i].st);
    sqlite3_close(st->db);
    free(st);
}

int agent_store_begin(agent_store *st)
{
    if (st->in_tx) return SC_ERR_ARG;
    sqlite3_stmt *s = agent__stmt(st, "BEGIN IMMEDIATE");
    if (!s || agent__store_exec(st, s, "begin")) return SC_ERR_IO;
    st->in_tx = 1;
    return SC_OK;
}

int agent_store_commit(agent_store *st)
{
    sqlite3_stmt *s = agent__stmt(st, "COMMIT");
    if (!s || agent__store_exec(st, s, "commit")) {
        agent_store_rollback(st);
        return SC_ERR_IO;
    }
    st->in_tx = 0;
    return SC_OK;
}

void agent_store_rollback(agent_store *st)
{
    sqlite3_stmt *s = agent__stmt(st, "ROLLBACK");
    if (s && st->in_tx) (void)agent__store_exec(st, s, "rollback");
    st->in_tx = 0;
}

/* ---- settings ---- */

int agent_store_set(agent_store *st, const char *key, const char *value)
{
    sqlite3_stmt *s = agent__stmt(st, "INSERT INTO settings(key, value) VALUES (?1, ?2)"
                                      " ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    if (!s) return SC_ERR_IO;
    agent__bind_text(s, 1, key);
    agent__bind_text(s, 2, value);
    return agent__store_exec(st, s, "set");
}

int agent_store_get(agent_store *st, const char *key, char *buf, size_t cap, int *found)
{
    *found = 0;
    if (cap) buf[0] = '\0';
    sqlite3_stmt *s = agent__stmt(st, "SELECT value FROM settings WHERE key = ?1");
    if (!s) return SC_ERR_IO;
    agent__bind_text(s, 1, key);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(s);
        return SC_OK;
    }
    if (rc != SQLITE_ROW) {
        sqlite3_reset(s);
        return agent__store_fail(st, "get");
    }
    const char *v = (const char *)sqlite3_column_text(s, 0);
    size_t n = v ? strlen(v) : 0;
    if (n >= cap) {
        sqlite3_reset(s);
        return SC_ERR_TOO_LARGE;
    }
    memcpy(buf, v ? v : "", n + 1);
    *found = 1;
    sqlite3_reset(s);
    return SC_OK;
}

/* ---- contacts ---- */

static void copy_col(char *dst, size_t cap, sqlite3_stmt *s, int col)
{
    const char *v = (const char *)sqlite3_column_text(s, col);
    snprintf(dst, cap, "%s", v ? v : "");
}

static void copy_fp(uint8_t dst[32], int *has, sqlite3_stmt *s, int col)
{
    *has = 0;
    if (sqlite3_column_type(s, col) == SQLITE_BLOB && sqlite3_column_bytes(s, col) == 32) {
        memcpy(dst, sqlite3_column_blob(s, col), 32);
        *has = 1;
    }
}

#define CONTACT_COLS                                                                               \
    "user, display_name, fingerprint, new_fingerprint, verified, blocked, last_addr, added_ms"

static void contact_row(sqlite3_stmt *s, void *arg)
{
    agent_contact *c = arg;
    memset(c, 0, sizeof(*c));
    copy_col(c->user, sizeof(c->user), s, 0);
    copy_col(c->display, sizeof(c->display), s, 1);
    copy_fp(c->fp, &c->has_fp, s, 2);
    copy_fp(c->new_fp, &c->has_new_fp, s, 3);
    c->verified = sqlite3_column_int(s, 4);
    c->blocked = sqlite3_column_int(s, 5);
    copy_col(c->last_addr, sizeof(c->last_addr), s, 6);
    c->added_ms = (uint64_t)sqlite3_column_int64(s, 7);
}

int agent_store_contact_get(agent_store *st, const char *user, agent_contact *c, int *found)
{
    *found = 0;
    sqlite3_stmt *s = agent__stmt(st, "SELECT " CONTACT_COLS " FROM contacts WHERE user = ?1");
    if (!s) return SC_ERR_IO;
    agent__bind_text(s, 1, user);
    return agent__store_get(st, s, "contact get", contact_row, c, found);
}

int agent_store_contact_put(agent_store *st, const agent_contact *c)
{
    sqlite3_stmt *s = agent__stmt(st, "INSERT OR REPLACE INTO contacts(" CONTACT_COLS
                                      ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!s) return SC_ERR_IO;
    agent__bind_text(s, 1, c->user);
    agent__bind_text(s, 2, c->display);
    if (c->has_fp) sqlite3_bind_blob(s, 3, c->fp, 32, SQLITE_TRANSIENT);
    if (c->has_new_fp) sqlite3_bind_blob(s, 4, c->new_fp, 32, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 5, c->verified ? 1 : 0);
    sqlite3_bind_int(s, 6, c->blocked ? 1 : 0);
    agent__bind_text(s, 7, c->last_addr);
    sqlite3_bind_int64(s, 8, (sqlite3_int64)c->added_ms);
    return agent__store_exec(st, s, "contact put");
}

int agent_store_contact_remove(agent_store *st, const char *user, int *removed)
{
    *removed = 0;
    sqlite3_stmt *s = agent__stmt(st, "DELETE FROM contacts WHERE user = ?1");
    if (!s) return SC_ERR_IO;
    agent__bind_text(s, 1, user);
    int rc = agent__store_exec(st, s, "contact remove");
    if (rc == SC_OK) *removed = sqlite3_changes(st->db) > 0;
    return rc;
}

int agent_store_contact_list(agent_store *st, agent_contact_fn fn, void *ctx)
{
    sqlite3_stmt *s = agent__stmt(st, "SELECT " CONTACT_COLS " FROM contacts ORDER BY user");
    if (!s) return SC_ERR_IO;
    int rc;
    agent_contact c;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        contact_row(s, &c);
        fn(ctx, &c);
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? SC_OK : agent__store_fail(st, "contact list");
}
