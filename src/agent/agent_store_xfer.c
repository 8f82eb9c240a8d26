/*
 * agent_store_xfer.c - the `transfers` table (agent_store_xfer.h). The
 * schema itself is created with the others in agent_store.c.
 */
#include "agent_store_xfer.h"

#include <stdio.h>
#include <string.h>

#include "agent_store_int.h"

#define XFER_COLS                                                                                  \
    "id, peer, dir, name, size, sha256, offset, state, path, device, reason, created_ms,"          \
    " updated_ms"

static void col_text(char *dst, size_t cap, sqlite3_stmt *s, int col)
{
    const char *v = (const char *)sqlite3_column_text(s, col);
    snprintf(dst, cap, "%s", v ? v : "");
}

static void xfer_row(sqlite3_stmt *s, void *arg)
{
    agent_xfer_rec *r = arg;
    memset(r, 0, sizeof(*r));
    col_text(r->id, sizeof(r->id), s, 0);
    col_text(r->peer, sizeof(r->peer), s, 1);
    r->dir = sqlite3_column_int(s, 2);
    col_text(r->name, sizeof(r->name), s, 3);
    r->size = (uint64_t)sqlite3_column_int64(s, 4);
    if (sqlite3_column_bytes(s, 5) == 32) memcpy(r->sha256, sqlite3_column_blob(s, 5), 32);
    r->offset = (uint64_t)sqlite3_column_int64(s, 6);
    col_text(r->state, sizeof(r->state), s, 7);
    col_text(r->path, sizeof(r->path), s, 8);
    col_text(r->device, sizeof(r->device), s, 9);
    col_text(r->reason, sizeof(r->reason), s, 10);
    r->created_ms = (uint64_t)sqlite3_column_int64(s, 11);
    r->updated_ms = (uint64_t)sqlite3_column_int64(s, 12);
}

int agent_store_xfer_put(agent_store *st, const agent_xfer_rec *r)
{
    sqlite3_stmt *s = agent__stmt(st, "INSERT OR REPLACE INTO transfers(" XFER_COLS
                                      ") VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)");
    if (!s) return SC_ERR_IO;
    agent__bind_text(s, 1, r->id);
    agent__bind_text(s, 2, r->peer);
    sqlite3_bind_int(s, 3, r->dir);
    agent__bind_text(s, 4, r->name);
    sqlite3_bind_int64(s, 5, (sqlite3_int64)r->size);
    sqlite3_bind_blob(s, 6, r->sha256, 32, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 7, (sqlite3_int64)r->offset);
    agent__bind_text(s, 8, r->state);
    agent__bind_text(s, 9, r->path);
    agent__bind_text(s, 10, r->device);
    agent__bind_text(s, 11, r->reason);
    sqlite3_bind_int64(s, 12, (sqlite3_int64)r->created_ms);
    sqlite3_bind_int64(s, 13, (sqlite3_int64)r->updated_ms);
    return agent__store_exec(st, s, "transfer put");
}

int agent_store_xfer_update(agent_store *st, const agent_xfer_rec *r)
{
    sqlite3_stmt *s = agent__stmt(st, "UPDATE transfers SET state = ?4, offset = ?5, path = ?6,"
                                      " device = ?7, reason = ?8, updated_ms = ?9"
                                      " WHERE peer = ?1 AND dir = ?2 AND id = ?3");
    if (!s) return SC_ERR_IO;
    agent__bind_key(s, r->peer, r->dir, r->id);
    agent__bind_text(s, 4, r->state);
    sqlite3_bind_int64(s, 5, (sqlite3_int64)r->offset);
    agent__bind_text(s, 6, r->path);
    agent__bind_text(s, 7, r->device);
    agent__bind_text(s, 8, r->reason);
    sqlite3_bind_int64(s, 9, (sqlite3_int64)r->updated_ms);
    return agent__store_exec(st, s, "transfer update");
}

int agent_store_xfer_get(agent_store *st, const char *peer, int dir, const char *id,
                         agent_xfer_rec *r, int *found)
{
    *found = 0;
    sqlite3_stmt *s = agent__stmt(st, "SELECT " XFER_COLS " FROM transfers"
                                      " WHERE peer = ?1 AND dir = ?2 AND id = ?3");
    if (!s) return SC_ERR_IO;
    agent__bind_key(s, peer, dir, id);
    return agent__store_get(st, s, "transfer get", xfer_row, r, found);
}

int agent_store_xfer_list(agent_store *st, const char *peer, int open, unsigned limit,
                          agent_xfer_rec_fn fn, void *ctx)
{
    sqlite3_stmt *s = agent__stmt(st, "SELECT " XFER_COLS " FROM transfers"
                                      " WHERE (?1 IS NULL OR peer = ?1) AND (?2 = 0 OR state NOT IN"
                                      " ('done', 'rejected', 'failed', 'cancelled'))"
                                      " ORDER BY created_ms DESC, rowid DESC LIMIT ?3");
    if (!s) return SC_ERR_IO;
    agent__bind_text(s, 1, peer);
    sqlite3_bind_int(s, 2, open ? 1 : 0);
    sqlite3_bind_int64(s, 3, limit ? (sqlite3_int64)limit : -1);
    int rc;
    agent_xfer_rec r;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        xfer_row(s, &r);
        fn(ctx, &r);
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? SC_OK : agent__store_fail(st, "transfer list");
}

int agent_store_xfer_pending_unknown(agent_store *st, uint64_t *n)
{
    *n = 0;
    sqlite3_stmt *s = agent__stmt(st, "SELECT count(*) FROM transfers t WHERE t.dir = 1"
                                      " AND t.state = 'offered' AND NOT EXISTS"
                                      " (SELECT 1 FROM contacts c WHERE c.user = t.peer)");
    if (!s) return SC_ERR_IO;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) *n = (uint64_t)sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? SC_OK : agent__store_fail(st, "transfer count");
}
