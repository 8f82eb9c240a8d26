/*
 * agent_store_int.h - what the store's files share: the handle, its
 * cache of prepared statements and the step and bind helpers. Not for other modules.
 */
#ifndef AGENT_STORE_INT_H
#define AGENT_STORE_INT_H

#include <sqlite3.h>
#include "agent_store.h"

#define AGENT_STMT_CACHE 48

struct agent_store {
    sqlite3 *db;
    /* Statements by the address of their SQL literal: each query is
     * prepared once and reused (sqlite3_reset between uses). */
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } cache[AGENT_STMT_CACHE];
    int in_tx;
};

/* The prepared statement for sql (a string literal), reset and unbound; NULL on failure (logged).
 */
sqlite3_stmt *agent__stmt(agent_store *st, const char *sql);
/* Logs SQLite's message for a failed call and returns SC_ERR_IO. */
int agent__store_fail(agent_store *st, const char *what);
/* Steps a statement that returns no rows; SC_OK or SC_ERR_IO. */
int agent__store_exec(agent_store *st, sqlite3_stmt *s, const char *what);
/* Binds text or NULL. */
int agent__bind_text(sqlite3_stmt *s, int i, const char *v);
/* Binds ?1 peer, ?2 dir, ?3 id: the key of a message row and of a transfer row. */
void agent__bind_key(sqlite3_stmt *s, const char *peer, int dir, const char *id);

/* Takes the statement's current row (arg: where it goes, or whom to call with it). */
typedef void (*agent__row_fn)(sqlite3_stmt *s, void *arg);
/*
 * Steps s once: on a row calls row(s, arg) and sets *found; resets s.
 * SC_OK (row or none) or SC_ERR_IO (logged with what).
 */
int agent__store_get(agent_store *st, sqlite3_stmt *s, const char *what, agent__row_fn row,
                     void *arg, int *found);

#endif
