/*
 * agent_store_msg.c - messages, the outbox and numbered events in the
 * store (docs/AGENT-API.md 6). Schema and settings: agent_store.c.
 */
#include "agent_store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const STATE_NAMES[] = {
    [AGENT_MSG_QUEUED] = "queued",       [AGENT_MSG_SENT] = "sent",
    [AGENT_MSG_DELIVERED] = "delivered", [AGENT_MSG_READ] = "read",
    [AGENT_MSG_FAILED] = "failed",       [AGENT_MSG_CANCELLED] = "cancelled",
    [AGENT_MSG_RECEIVED] = "received",
};

const char *agent_msg_state_name(agent_msg_state s)
{
    if ((unsigned)s >= sizeof(STATE_NAMES) / sizeof(STATE_NAMES[0])) return "unknown";
    return STATE_NAMES[s];
}

#define MSG_COLS                                                                                   \
    "m.seq, m.id, m.peer, m.dir, m.text, m.ts_ms, m.stored_ms, m.delivered_ms, m.read_ms,"         \
    " m.state, m.reason"

static void msg_row(sqlite3_stmt *s, agent_msg *m)
{
    m->seq = sqlite3_column_int64(s, 0);
    m->id = (const char *)sqlite3_column_text(s, 1);
    m->peer = (const char *)sqlite3_column_text(s, 2);
    m->dir = sqlite3_column_int(s, 3);
    m->text = (const char *)sqlite3_column_text(s, 4);
    m->text_len = (size_t)sqlite3_column_bytes(s, 4);
    m->ts_ms = (uint64_t)sqlite3_column_int64(s, 5);
    m->stored_ms = (uint64_t)sqlite3_column_int64(s, 6);
    m->delivered_ms = (uint64_t)sqlite3_column_int64(s, 7);
    m->read_ms = (uint64_t)sqlite3_column_int64(s, 8);
    m->state = (agent_msg_state)sqlite3_column_int(s, 9);
    m->reason = (const char *)sqlite3_column_text(s, 10);
    if (!m->id) m->id = "";
    if (!m->peer) m->peer = "";
    if (!m->text) m->text = "";
    if (!m->reason) m->reason = "";
}

/* A message callback and its argument, for agent__store_get. */
typedef struct msg_call {
    agent_msg_fn fn;
    void *ctx;
} msg_call;

static void msg_each(sqlite3_stmt *s, void *arg)
{
    msg_call *k = arg;
    agent_msg m;
    msg_row(s, &m);
    k->fn(k->ctx, &m);
}

/* Runs a query that returns message rows, calling fn for each. */
static int each_msg(agent_store *st, sqlite3_stmt *s, agent_msg_fn fn, void *ctx, const char *what)
{
    int rc;
    agent_msg m;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        msg_row(s, &m);
        fn(ctx, &m);
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? SC_OK : agent__store_fail(st, what);
}

static int insert_msg(agent_store *st, const char *peer, const char *id, int dir, const char *text,
                      size_t len, uint64_t ts_ms, uint64_t now_ms, agent_msg_state state,
                      int64_t *seq, int *dup)
{
    sqlite3_stmt *s = agent__stmt(st, "INSERT OR IGNORE INTO messages(id, peer, dir, text, ts_ms,"
                                      " stored_ms, state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!s) return SC_ERR_IO;
    agent__bind_text(s, 1, id);
    agent__bind_text(s, 2, peer);
    sqlite3_bind_int(s, 3, dir);
    sqlite3_bind_text(s, 4, text, (int)len, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 5, (sqlite3_int64)ts_ms);
    sqlite3_bind_int64(s, 6, (sqlite3_int64)now_ms);
    sqlite3_bind_int(s, 7, (int)state);
    if (agent__store_exec(st, s, "message insert")) return SC_ERR_IO;
    *dup = sqlite3_changes(st->db) == 0;
    *seq = *dup ? 0 : sqlite3_last_insert_rowid(st->db);
    return SC_OK;
}

int agent_store_msg_queue(agent_store *st, const char *peer, const char *id, const char *text,
                          size_t len, uint64_t now_ms, uint64_t expires_ms, int64_t *seq)
{
    int dup = 0, own_tx = !st->in_tx, rc;
    if (len > INT32_MAX) return SC_ERR_TOO_LARGE;
    if (own_tx && (rc = agent_store_begin(st))) return rc;
    rc = insert_msg(st, peer, id, AGENT_DIR_OUT, text, len, now_ms, now_ms, AGENT_MSG_QUEUED, seq,
                    &dup);
    if (rc == SC_OK && dup)
        rc = SC_ERR_ARG; /* our own ids are random: a repeat is a caller's bug */
    if (rc == SC_OK) {
        sqlite3_stmt *s =
            agent__stmt(st, "INSERT INTO outbox(seq, peer, expires_ms) VALUES (?1, ?2, ?3)");
        if (!s)
            rc = SC_ERR_IO;
        else {
            sqlite3_bind_int64(s, 1, *seq);
            agent__bind_text(s, 2, peer);
            sqlite3_bind_int64(s, 3, (sqlite3_int64)expires_ms);
            rc = agent__store_exec(st, s, "outbox insert");
        }
    }
    if (own_tx) {
        if (rc == SC_OK)
            rc = agent_store_commit(st);
        else
            agent_store_rollback(st);
    }
    return rc;
}

int agent_store_msg_receive(agent_store *st, const char *peer, const char *id, const char *text,
                            size_t len, uint64_t ts_ms, uint64_t now_ms, int64_t *seq, int *dup)
{
    if (len > INT32_MAX) return SC_ERR_TOO_LARGE;
    return insert_msg(st, peer, id, AGENT_DIR_IN, text, len, ts_ms, now_ms, AGENT_MSG_RECEIVED, seq,
                      dup);
}

int agent_store_msg_get(agent_store *st, const char *peer, int dir, const char *id, agent_msg_fn fn,
                        void *ctx, int *found)
{
    *found = 0;
    sqlite3_stmt *s = agent__stmt(st, "SELECT " MSG_COLS " FROM messages m"
                                      " WHERE m.peer = ?1 AND m.dir = ?2 AND m.id = ?3");
    if (!s) return SC_ERR_IO;
    agent__bind_key(s, peer, dir, id);
    msg_call k = {fn, ctx};
    return agent__store_get(st, s, "message get", msg_each, &k, found);
}

/*
 * Forward moves only, so a late receipt cannot turn "read" back into
 * "delivered", and nothing leaves failed or cancelled. received -> read
 * is the incoming side's only move.
 */
static int forward(agent_msg_state from, agent_msg_state to)
{
    switch (to) {
    case AGENT_MSG_SENT:
        return from == AGENT_MSG_QUEUED;
    case AGENT_MSG_DELIVERED:
        return from == AGENT_MSG_QUEUED || from == AGENT_MSG_SENT;
    case AGENT_MSG_READ:
        return from == AGENT_MSG_QUEUED || from == AGENT_MSG_SENT || from == AGENT_MSG_DELIVERED ||
               from == AGENT_MSG_RECEIVED;
    case AGENT_MSG_FAILED:
    case AGENT_MSG_CANCELLED:
        return from == AGENT_MSG_QUEUED || from == AGENT_MSG_SENT;
    default:
        return 0;
    }
}

int agent_store_msg_set_state(agent_store *st, int64_t seq, agent_msg_state state, uint64_t now_ms,
                              const char *reason, int *changed)
{
    *changed = 0;
    sqlite3_stmt *s = agent__stmt(st, "SELECT state FROM messages WHERE seq = ?1");
    if (!s) return SC_ERR_IO;
    sqlite3_bind_int64(s, 1, seq);
    int rc = sqlite3_step(s);
    agent_msg_state from = rc == SQLITE_ROW ? (agent_msg_state)sqlite3_column_int(s, 0) : 0;
    sqlite3_reset(s);
    if (rc == SQLITE_DONE) return SC_OK;
    if (rc != SQLITE_ROW) return agent__store_fail(st, "message state");
    if (!forward(from, state)) return SC_OK;
    s = agent__stmt(st, "UPDATE messages SET state = ?2, reason = ?3,"
                        " delivered_ms = CASE WHEN ?2 IN (2, 3) AND delivered_ms = 0"
                        "  THEN ?4 ELSE delivered_ms END,"
                        " read_ms = CASE WHEN ?2 = 3 THEN ?4 ELSE read_ms END"
                        " WHERE seq = ?1");
    if (!s) return SC_ERR_IO;
    sqlite3_bind_int64(s, 1, seq);
    sqlite3_bind_int(s, 2, (int)state);
    agent__bind_text(s, 3, reason ? reason : "");
    sqlite3_bind_int64(s, 4, (sqlite3_int64)now_ms);
    if ((rc = agent__store_exec(st, s, "message state"))) return rc;
    *changed = 1;
    return SC_OK;
}

int agent_store_msg_read_upto(agent_store *st, const char *peer, int dir, const char *id,
                              uint64_t now_ms, int *count, int *found)
{
    *count = 0;
    *found = 0;
    sqlite3_stmt *s = agent__stmt(st, "SELECT seq FROM messages WHERE peer = ?1 AND dir = ?2"
                                      " AND id = ?3");
    if (!s) return SC_ERR_IO;
    agent__bind_key(s, peer, dir, id);
    int rc = sqlite3_step(s);
    int64_t seq = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return agent__store_fail(st, "read marker");
    if (!seq) return SC_OK;
    *found = 1;
    s = agent__stmt(st, "UPDATE messages SET state = 3, read_ms = ?4,"
                        " delivered_ms = CASE WHEN delivered_ms = 0 THEN ?4 ELSE delivered_ms END"
                        " WHERE peer = ?1 AND dir = ?2 AND seq <= ?3 AND state IN (0, 1, 2, 6)");
    if (!s) return SC_ERR_IO;
    agent__bind_text(s, 1, peer);
    sqlite3_bind_int(s, 2, dir);
    sqlite3_bind_int64(s, 3, seq);
    sqlite3_bind_int64(s, 4, (sqlite3_int64)now_ms);
    if ((rc = agent__store_exec(st, s, "read marker"))) return rc;
    *count = sqlite3_changes(st->db);
    return SC_OK;
}

int agent_store_msg_last_id(agent_store *st, const char *peer, int dir, char *id, size_t cap,
                            int *found)
{
    *found = 0;
    sqlite3_stmt *s = agent__stmt(st, "SELECT id FROM messages WHERE peer = ?1 AND dir = ?2"
                                      " ORDER BY seq DESC LIMIT 1");
    if (!s) return SC_ERR_IO;
    agent__bind_text(s, 1, peer);
    sqlite3_bind_int(s, 2, dir);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(s, 0);
        snprintf(id, cap, "%s", v ? v : "");
        *found = 1;
    }
    sqlite3_reset(s);
    return (rc == SQLITE_ROW || rc == SQLITE_DONE) ? SC_OK : agent__store_fail(st, "last id");
}

/* The search text as one FTS5 phrase: "..." with quotes doubled (FTS5 3.3). */
static char *fts_phrase(const char *q)
{
    size_t n = strlen(q), k = 0;
    char *p = malloc(2 * n + 3);
    if (!p) return NULL;
    p[k++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (q[i] == '"') p[k++] = '"';
        p[k++] = q[i];
    }
    p[k++] = '"';
    p[k] = '\0';
    return p;
}

int agent_store_history(agent_store *st, const char *peer, const char *search, unsigned limit,
                        agent_msg_fn fn, void *ctx)
{
    static const char q_all[] = "SELECT * FROM (SELECT " MSG_COLS " FROM messages m"
                                " WHERE (?1 IS NULL OR m.peer = ?1)"
                                " ORDER BY m.seq DESC LIMIT ?2) ORDER BY 1";
    static const char q_search[] = "SELECT * FROM (SELECT " MSG_COLS " FROM messages m"
                                   " JOIN messages_fts ON messages_fts.rowid = m.seq"
                                   " WHERE (?1 IS NULL OR m.peer = ?1) AND messages_fts MATCH ?3"
                                   " ORDER BY m.seq DESC LIMIT ?2) ORDER BY 1";
    char *phrase = NULL;
    if (search && search[0] && !(phrase = fts_phrase(search))) return SC_ERR_NOMEM;
    sqlite3_stmt *s = agent__stmt(st, phrase ? q_search : q_all);
    if (!s) {
        free(phrase);
        return SC_ERR_IO;
    }
    agent__bind_text(s, 1, peer);
    sqlite3_bind_int64(s, 2, limit ? (sqlite3_int64)limit : -1);
    if (phrase) sqlite3_bind_text(s, 3, phrase, -1, SQLITE_TRANSIENT);
    free(phrase);
    return each_msg(st, s, fn, ctx, "history");
}

/* ---- outbox ---- */

int agent_store_outbox_list(agent_store *st, const char *peer, agent_msg_fn fn, void *ctx)
{
    sqlite3_stmt *s = agent__stmt(st, "SELECT " MSG_COLS " FROM outbox o JOIN messages m"
                                      " ON m.seq = o.seq WHERE (?1 IS NULL OR o.peer = ?1)"
                                      " ORDER BY o.seq");
    if (!s) return SC_ERR_IO;
    agent__bind_text(s, 1, peer);
    return each_msg(st, s, fn, ctx, "outbox list");
}

/* The rows of sql (?1 peer, ?2 device) to fn, in its order. */
static int outbox_rows(agent_store *st, const char *sql, const char *peer, const char *device,
                       agent_msg_fn fn, void *ctx, const char *what)
{
    sqlite3_stmt *s = agent__stmt(st, sql);
    if (!s) return SC_ERR_IO;
    agent__bind_text(s, 1, peer);
    agent__bind_text(s, 2, device);
    return each_msg(st, s, fn, ctx, what);
}

int agent_store_outbox_pending(agent_store *st, const char *peer, const char *device,
                               agent_msg_fn fn, void *ctx)
{
    return outbox_rows(st,
                       "SELECT " MSG_COLS " FROM outbox o JOIN messages m"
                       " ON m.seq = o.seq WHERE o.peer = ?1 AND NOT EXISTS"
                       " (SELECT 1 FROM deliveries d WHERE d.seq = o.seq"
                       "  AND d.device = ?2) ORDER BY o.seq",
                       peer, device, fn, ctx, "outbox pending");
}

int agent_store_outbox_queued(agent_store *st, const char *peer, const char *device,
                              agent_msg_fn fn, void *ctx)
{
    /* m.state = 0 (AGENT_MSG_QUEUED) as a literal: the partial index messages_queued serves it. */
    return outbox_rows(st,
                       "SELECT " MSG_COLS " FROM messages m JOIN outbox o"
                       " ON o.seq = m.seq WHERE m.peer = ?1 AND m.dir = 0"
                       " AND m.state = 0 AND NOT EXISTS"
                       " (SELECT 1 FROM deliveries d WHERE d.seq = m.seq"
                       "  AND d.device = ?2) ORDER BY m.seq",
                       peer, device, fn, ctx, "outbox queued");
}

int agent_store_outbox_receipt(agent_store *st, int64_t seq, const char *device, uint64_t now_ms)
{
    sqlite3_stmt *s = agent__stmt(st, "INSERT OR IGNORE INTO deliveries(seq, device, receipt_ms)"
                                      " VALUES (?1, ?2, ?3)");
    if (!s) return SC_ERR_IO;
    sqlite3_bind_int64(s, 1, seq);
    agent__bind_text(s, 2, device);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)now_ms);
    return agent__store_exec(st, s, "receipt");
}

int agent_store_outbox_has_receipt(agent_store *st, int64_t seq, const char *device, int *has)
{
    *has = 0;
    sqlite3_stmt *s = agent__stmt(st, "SELECT 1 FROM deliveries WHERE seq = ?1 AND device = ?2");
    if (!s) return SC_ERR_IO;
    sqlite3_bind_int64(s, 1, seq);
    agent__bind_text(s, 2, device);
    int rc = sqlite3_step(s);
    *has = rc == SQLITE_ROW;
    sqlite3_reset(s);
    return (rc == SQLITE_ROW || rc == SQLITE_DONE) ? SC_OK : agent__store_fail(st, "receipt get");
}

int agent_store_outbox_remove(agent_store *st, int64_t seq)
{
    sqlite3_stmt *s = agent__stmt(st, "DELETE FROM outbox WHERE seq = ?1");
    if (!s) return SC_ERR_IO;
    sqlite3_bind_int64(s, 1, seq);
    return agent__store_exec(st, s, "outbox remove");
}

int agent_store_outbox_expired(agent_store *st, uint64_t now_ms, agent_msg_fn fn, void *ctx)
{
    sqlite3_stmt *s = agent__stmt(st, "SELECT " MSG_COLS " FROM outbox o JOIN messages m"
                                      " ON m.seq = o.seq WHERE o.expires_ms <= ?1 ORDER BY o.seq");
    if (!s) return SC_ERR_IO;
    sqlite3_bind_int64(s, 1, (sqlite3_int64)now_ms);
    return each_msg(st, s, fn, ctx, "outbox expired");
}

int agent_store_outbox_count(agent_store *st, uint64_t *n)
{
    *n = 0;
    sqlite3_stmt *s = agent__stmt(st, "SELECT count(*) FROM outbox");
    if (!s) return SC_ERR_IO;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) *n = (uint64_t)sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? SC_OK : agent__store_fail(st, "outbox count");
}

/* The literals below are the partial index messages_unread_in's (agent_store.c), so that
 * SQLite can use it: bound parameters would not match its WHERE. */
_Static_assert(AGENT_DIR_IN == 1 && AGENT_MSG_RECEIVED == 6, "messages_unread_in's literals");

int agent_store_msg_unknown_usage(agent_store *st, const char *peer, uint64_t *peer_bytes,
                                  uint64_t *all_bytes)
{
    *peer_bytes = *all_bytes = 0;
    sqlite3_stmt *s = agent__stmt(
        st, "SELECT COALESCE(SUM(CASE WHEN m.peer = ?1 THEN length(CAST(m.text AS BLOB))"
            " ELSE 0 END), 0), COALESCE(SUM(length(CAST(m.text AS BLOB))), 0)"
            " FROM messages m WHERE m.dir = 1 AND m.state = 6"
            " AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.user = m.peer)");
    if (!s) return SC_ERR_IO;
    agent__bind_text(s, 1, peer);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *peer_bytes = (uint64_t)sqlite3_column_int64(s, 0);
        *all_bytes = (uint64_t)sqlite3_column_int64(s, 1);
    }
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? SC_OK : agent__store_fail(st, "unknown senders' usage");
}

/* ---- events ---- */

int agent_store_event_add(agent_store *st, uint64_t id, uint64_t ts_ms, const char *type,
                          const char *data)
{
    sqlite3_stmt *s =
        agent__stmt(st, "INSERT INTO events(id, ts_ms, type, data) VALUES (?1, ?2, ?3, ?4)");
    if (!s) return SC_ERR_IO;
    sqlite3_bind_int64(s, 1, (sqlite3_int64)id);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)ts_ms);
    agent__bind_text(s, 3, type);
    agent__bind_text(s, 4, data);
    return agent__store_exec(st, s, "event add");
}

static int one_u64(agent_store *st, const char *sql, uint64_t *v)
{
    *v = 0;
    sqlite3_stmt *s = agent__stmt(st, sql);
    if (!s) return SC_ERR_IO;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) *v = (uint64_t)sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? SC_OK : agent__store_fail(st, "event bound");
}

int agent_store_event_last(agent_store *st, uint64_t *id)
{
    return one_u64(st, "SELECT coalesce(max(id), 0) FROM events", id);
}

int agent_store_event_first(agent_store *st, uint64_t *id)
{
    return one_u64(st, "SELECT coalesce(min(id), 0) FROM events", id);
}

int agent_store_event_since(agent_store *st, uint64_t since, unsigned limit, agent_event_fn fn,
                            void *ctx)
{
    sqlite3_stmt *s = agent__stmt(st, "SELECT id, ts_ms, type, data FROM events WHERE id > ?1"
                                      " ORDER BY id LIMIT ?2");
    if (!s) return SC_ERR_IO;
    sqlite3_bind_int64(s, 1, (sqlite3_int64)since);
    sqlite3_bind_int64(s, 2, limit ? (sqlite3_int64)limit : -1);
    int rc;
    agent_event_row e;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        e.id = (uint64_t)sqlite3_column_int64(s, 0);
        e.ts_ms = (uint64_t)sqlite3_column_int64(s, 1);
        e.type = (const char *)sqlite3_column_text(s, 2);
        e.data = (const char *)sqlite3_column_text(s, 3);
        if (fn(ctx, &e)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? SC_OK : agent__store_fail(st, "events since");
}

int agent_store_event_prune(agent_store *st, uint64_t keep)
{
    uint64_t last;
    int rc = agent_store_event_last(st, &last);
    if (rc || last <= keep) return rc;
    sqlite3_stmt *s = agent__stmt(st, "DELETE FROM events WHERE id <= ?1");
    if (!s) return SC_ERR_IO;
    sqlite3_bind_int64(s, 1, (sqlite3_int64)(last - keep));
    return agent__store_exec(st, s, "event prune");
}
