/*
 * irpd_pg.c - the PostgreSQL backend of irpd_store.h (docs/IRP.md 10,
 * docs/DEPLOYMENT.md): connecting, the schema and its migration, statements,
 * transactions, group commit, the read records queue and errors. The
 * operations are in irpd_pg_users.c, irpd_pg_certs.c and irpd_pg_bindings.c,
 * the SQL in irpd_pg_schema.c, what they share in irpd_pg_int.h.
 *
 * One libpq connection per store, used synchronously (PQexecPrepared): the
 * calls of a store wait for the server, like the SQLite backend's wait for
 * the disk. irpd's writer thread owns one store (the waits of a change are
 * off the event loop); the loop's reads (lookup, access checks, cert-status
 * ...) run on the other and wait for the server's answer on the loop
 * (docs/ARCHITECTURE.md, "The store").
 *
 * Every statement is prepared once at open (PQprepare) and afterwards only
 * executed with parameters: no SQL text is built at run time, and no value
 * ever reaches the SQL text. Integers travel as decimal text, bytes (and text
 * of a given length) in binary format; results come as text, bytea as hex.
 *
 * Transactions: outside a batch, each changing operation runs in its own
 * BEGIN ... COMMIT (READ COMMITTED; with synchronous_commit on, the default,
 * COMMIT returns once the WAL is flushed: the change is durable); inside a
 * batch, in a SAVEPOINT of the batch's transaction (begun by the batch's
 * first change), so a refused operation is rolled back alone and the batch
 * goes on. A lookup outside that transaction reads in a REPEATABLE READ READ
 * ONLY transaction of its own: one snapshot.
 *
 * The connection string (a postgresql:// or postgres:// URI, or libpq's
 * key=value form) may carry a password: it is never logged; messages name the
 * database and host only (libpq's own messages do not repeat the password).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "irpd_pg_int.h"

#define APPLICATION "irpd"
#define LOCK_KEY 0x49525044 /* "IRPD": one creator or migrator at a time */

/* ---- errors ------------------------------------------------------------------- */

irp_status irpd__pg_failf(pg_store *s, irp_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->base.errmsg, sizeof s->base.errmsg, fmt, ap);
    va_end(ap);
    return status;
}

/* libpq's message for r (or the connection's), on one line. */
static irp_status db_fail(pg_store *s, const PGresult *r, const char *what)
{
    const char *m = r != NULL ? PQresultErrorMessage(r) : "";
    if (m == NULL || m[0] == '\0') m = s->conn != NULL ? PQerrorMessage(s->conn) : "no connection";
    irpd__pg_failf(s, IRP_INTERNAL, "%s: postgresql: %s", what, m);
    char *nl = strchr(s->base.errmsg, '\n');
    if (nl != NULL) *nl = '\0';
    return IRP_INTERNAL;
}

irp_status irpd__pg_stopped(pg_store *s, PGresult *r, const char *what)
{
    PQclear(r);
    return irpd__pg_failf(s, IRP_INTERNAL, "%s: stopped by the caller", what);
}

/* ---- parameters and results -------------------------------------------------------- */

void irpd__pg_arg_int(pg_args *a, int64_t x)
{
    int i = a->n++;
    snprintf(a->num[i], sizeof a->num[i], "%lld", (long long)x);
    a->v[i] = a->num[i];
    a->len[i] = 0;
    a->fmt[i] = 0;
}

/* NULL is SQL NULL. */
void irpd__pg_arg_text(pg_args *a, const char *str)
{
    int i = a->n++;
    a->v[i] = str;
    a->len[i] = 0;
    a->fmt[i] = 0;
}

/* Binary: bytea as it is, or text of a given length (not NUL-terminated). */
void irpd__pg_arg_bytes(pg_args *a, const void *p, size_t n)
{
    int i = a->n++;
    a->v[i] = p != NULL ? (const char *)p : "";
    a->len[i] = (int)n;
    a->fmt[i] = 1;
}

/*
 * Runs prepared statement id. Returns its result (PQclear it), or NULL with
 * *status set (the statement failed: in a transaction, the transaction is
 * now aborted until ROLLBACK or ROLLBACK TO).
 */
PGresult *irpd__pg_exec(pg_store *s, int id, const pg_args *a, const char *what, irp_status *status)
{
    char name[16];
    snprintf(name, sizeof name, "s%d", id);
    PGresult *r = PQexecPrepared(s->conn, name, a != NULL ? a->n : 0, a != NULL ? a->v : NULL,
                                 a != NULL ? a->len : NULL, a != NULL ? a->fmt : NULL, 0);
    ExecStatusType t = PQresultStatus(r);
    if (t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK) return r;
    *status = db_fail(s, r, what);
    PQclear(r);
    return NULL;
}

/* Runs a statement whose rows are not wanted; the rows it changed into *changes (may be NULL). */
irp_status irpd__pg_cmd(pg_store *s, int id, const pg_args *a, const char *what, int64_t *changes)
{
    irp_status status = 0;
    PGresult *r = irpd__pg_exec(s, id, a, what, &status);
    if (r == NULL) return status;
    if (changes != NULL) {
        const char *n = PQcmdTuples(r);
        *changes = n[0] != '\0' ? strtoll(n, NULL, 10) : PQntuples(r);
    }
    PQclear(r);
    return 0;
}

/* The first column of the first row (0 when no row). */
irp_status irpd__pg_one_int(pg_store *s, int id, const pg_args *a, const char *what, int64_t *out)
{
    irp_status status = 0;
    PGresult *r = irpd__pg_exec(s, id, a, what, &status);
    if (r == NULL) return status;
    *out = PQntuples(r) > 0 ? irpd__pg_int(r, 0, 0) : 0;
    PQclear(r);
    return 0;
}

int64_t irpd__pg_int(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col)) return 0;
    const char *v = PQgetvalue(r, row, col);
    if (v[0] == 't') return 1; /* a boolean */
    if (v[0] == 'f') return 0;
    return strtoll(v, NULL, 10);
}

void irpd__pg_text(const PGresult *r, int row, int col, char *out, size_t cap)
{
    const char *v = PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col);
    size_t n = (size_t)PQgetlength(r, row, col);
    if (n >= cap) n = cap - 1; /* only a database edited by hand holds more */
    memcpy(out, v, n);
    out[n] = '\0';
}

/* The length of a bytea column (text result: \x and two hex digits per byte). */
size_t irpd__pg_bytes_len(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col)) return 0;
    size_t n = (size_t)PQgetlength(r, row, col);
    return n >= 2 ? (n - 2) / 2 : 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes a bytea column of at most cap bytes into out; a longer or malformed one reads as
 * empty. Returns the length. */
size_t irpd__pg_bytes(const PGresult *r, int row, int col, uint8_t *out, size_t cap)
{
    size_t n = irpd__pg_bytes_len(r, row, col);
    const char *v = PQgetvalue(r, row, col);
    if (n == 0 || n > cap || v[0] != '\\' || v[1] != 'x') return 0;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(v[2 + 2 * i]), lo = hexval(v[3 + 2 * i]);
        if (hi < 0 || lo < 0) return 0;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return n;
}

/* ---- the read records queue (irpd_store.h, "Lookups") --------------------------------- */

/* The queued records, into the open transaction. */
static irp_status write_queue(pg_store *s)
{
    for (size_t i = 0; i < s->reads.n; i++) {
        irpd_audit_row row;
        pg_args a = {0};
        irpd_readq_row(&s->reads, i, &row);
        irpd__pg_arg_int(&a, row.ts);
        irpd__pg_arg_text(&a, row.actor);
        irpd__pg_arg_text(&a, row.op);
        irpd__pg_arg_text(&a, row.target);
        irpd__pg_arg_text(&a, row.detail);
        irp_status status = irpd__pg_cmd(s, P_AUDIT_ADD, &a, "audit", NULL);
        if (status != 0) return status;
    }
    return 0;
}

static void queue_clear(pg_store *s)
{
    irpd_readq_clear(&s->reads);
}

/* ---- transactions ------------------------------------------------------------------ */

/* Ends the open transaction without its changes; if even that fails, says so after the
 * failure that led here (the connection is then likely gone). */
static void rollback(pg_store *s, const char *what)
{
    if (PQtransactionStatus(s->conn) == PQTRANS_IDLE) return;
    PGresult *r = PQexec(s->conn, "ROLLBACK");
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        size_t n = strlen(s->base.errmsg);
        if (n + 1 < sizeof s->base.errmsg)
            snprintf(s->base.errmsg + n, sizeof s->base.errmsg - n, "; %s: rollback failed", what);
    }
    PQclear(r);
}

/*
 * Writes the queued read records in a transaction of their own, committed
 * without waiting for the WAL's flush (synchronous_commit off for this
 * transaction): they survive the death of irpd (the server has them), and a
 * crash of the database server may lose the last of them, never a write;
 * lookups never wait for the disk (IRP.md 10.4). Never while a transaction
 * is open.
 */
irp_status irpd__pg_flush_queue(pg_store *s)
{
    irp_status status = 0;
    if (s->reads.n == 0) return 0;
    status = irpd__pg_cmd(s, P_BEGIN, NULL, "audit", NULL);
    if (status == 0) status = irpd__pg_cmd(s, P_COMMIT_LAZY, NULL, "audit", NULL);
    if (status == 0) status = write_queue(s);
    if (status == 0) status = irpd__pg_cmd(s, P_COMMIT, NULL, "audit", NULL);
    if (status == 0) queue_clear(s);
    rollback(s, "audit");
    return status;
}

/* True when the batch's transaction is gone (the connection broke, a rollback failed). */
int irpd__pg_batch_lost(pg_store *s)
{
    if (s->batch_tx && !s->batch_failed &&
        (PQstatus(s->conn) != CONNECTION_OK || PQtransactionStatus(s->conn) == PQTRANS_IDLE)) {
        s->batch_failed = 1;
        irpd__pg_failf(s, IRP_INTERNAL, "the batch's transaction was lost: %s",
                       PQerrorMessage(s->conn));
    }
    return s->batch_failed;
}

/*
 * A broken connection (the server restarted, a failover) is reset before
 * the next operation outside a batch; the statements are prepared again.
 */
static irp_status prepare_all(pg_store *s, const char *what);

static irp_status ensure_connected(pg_store *s, const char *what)
{
    if (PQstatus(s->conn) == CONNECTION_OK) return 0;
    PQreset(s->conn);
    if (PQstatus(s->conn) != CONNECTION_OK) return db_fail(s, NULL, what);
    return prepare_all(s, what);
}

/* Begins one changing operation: a savepoint in a batch, else BEGIN. */
irp_status irpd__pg_wr_begin(pg_store *s, const char *what)
{
    irp_status status;
    if (s->in_batch && s->batch_tx) {
        if (irpd__pg_batch_lost(s)) return IRP_INTERNAL;
    } else {
        if ((status = ensure_connected(s, what)) != 0) return status;
        if ((status = irpd__pg_cmd(s, P_BEGIN, NULL, what, NULL)) != 0) return status;
        if (!s->in_batch) return 0;
        s->batch_tx = 1; /* the batch's first change opens its transaction */
    }
    return irpd__pg_cmd(s, P_SAVEPOINT, NULL, what, NULL);
}

/*
 * Ends it with `status`: 0 commits durably (outside a batch, with the
 * queued read records), anything else rolls back. Returns the final status.
 */
irp_status irpd__pg_wr_end(pg_store *s, irp_status status, const char *what)
{
    if (s->in_batch) {
        if (irpd__pg_batch_lost(s)) return IRP_INTERNAL;
        if (status != 0) {
            /* keep the message of the refusal, not of the rollback */
            char keep[IRPD_STORE_ERRMSG_MAX];
            memcpy(keep, s->base.errmsg, sizeof keep);
            if (irpd__pg_cmd(s, P_ROLLBACK_TO, NULL, what, NULL) != 0) {
                /* the refused operation's changes would be committed with the batch */
                s->batch_failed = 1;
                return IRP_INTERNAL;
            }
            memcpy(s->base.errmsg, keep, sizeof keep);
        }
        irp_status rel = irpd__pg_cmd(s, P_RELEASE, NULL, what, NULL);
        if (rel != 0 && status == 0) status = rel;
        if (irpd__pg_batch_lost(s)) return IRP_INTERNAL;
        return status;
    }
    if (status == 0) {
        status = write_queue(s);
        if (status == 0) status = irpd__pg_cmd(s, P_COMMIT, NULL, what, NULL);
        if (status == 0) queue_clear(s);
    }
    rollback(s, what);
    return status;
}

/* A read from one snapshot: its own read-only transaction, or the batch's. */
irp_status irpd__pg_rd_begin(pg_store *s, const char *what)
{
    if (s->batch_tx) return irpd__pg_batch_lost(s) ? IRP_INTERNAL : 0;
    irp_status status = ensure_connected(s, what);
    return status != 0 ? status : irpd__pg_cmd(s, P_BEGIN_R, NULL, what, NULL);
}

irp_status irpd__pg_rd_end(pg_store *s, irp_status status, const char *what)
{
    if (s->batch_tx) return status;
    if (PQtransactionStatus(s->conn) == PQTRANS_INTRANS) {
        irp_status c = irpd__pg_cmd(s, P_COMMIT, NULL, what, NULL);
        if (status == 0) status = c;
    }
    rollback(s, what);
    return status;
}

/* Appends an audit record in the current transaction. */
irp_status irpd__pg_audit(pg_store *s, const char *what, int64_t ts, const char *actor,
                          const char *op, const char *target, const char *detail)
{
    pg_args a = {0};
    irpd__pg_arg_int(&a, ts);
    irpd__pg_arg_text(&a, actor);
    irpd__pg_arg_text(&a, op);
    irpd__pg_arg_text(&a, target);
    irpd__pg_arg_text(&a, detail);
    return irpd__pg_cmd(s, P_AUDIT_ADD, &a, what, NULL);
}

/* The id, policy and stored spelling of user name: 0, IRP_NOT_FOUND, IRP_INTERNAL. */
irp_status irpd__pg_find_user(pg_store *s, const char *what, const char *name, int64_t *id,
                              int *access, char *canon)
{
    irp_status status = 0;
    pg_args a = {0};
    irpd__pg_arg_text(&a, name);
    PGresult *r = irpd__pg_exec(s, P_USER_ID, &a, what, &status);
    if (r == NULL) return status;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return irpd__pg_failf(s, IRP_NOT_FOUND, "%s: no user %s", what, name);
    }
    *id = irpd__pg_int(r, 0, 0);
    if (access != NULL) *access = (int)irpd__pg_int(r, 0, 1);
    if (canon != NULL) irpd__pg_text(r, 0, 2, canon, IRPD_STORE_USER_MAX + 1);
    PQclear(r);
    return 0;
}

/* ---- connecting, the schema -------------------------------------------------------- */

/* Runs SQL text (one or more statements, no parameters) outside the prepared ones. */
static irp_status exec_text(pg_store *s, const char *sql, const char *what)
{
    PGresult *r = PQexec(s->conn, sql);
    ExecStatusType t = PQresultStatus(r);
    irp_status status = t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK ? 0 : db_fail(s, r, what);
    PQclear(r);
    return status;
}

static irp_status prepare_all(pg_store *s, const char *what)
{
    char name[16];
    for (int i = 0; i < N_PSTMT; i++) {
        snprintf(name, sizeof name, "s%d", i);
        PGresult *r = PQprepare(s->conn, name, irpd__pg_stmt_sql[i], 0, NULL);
        irp_status status = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : db_fail(s, r, what);
        PQclear(r);
        if (status != 0) return status;
    }
    return 0;
}

/* The schema version, or -1 when the database has no irpd schema, -2 when it is another's. */
static irp_status read_version(pg_store *s, int64_t *version)
{
    PGresult *r = PQexec(s->conn, "SELECT to_regclass('meta') IS NOT NULL,"
                                  " to_regclass('users') IS NOT NULL");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        irp_status st = db_fail(s, r, "schema");
        PQclear(r);
        return st;
    }
    int has_meta = irpd__pg_int(r, 0, 0) == 1, has_users = irpd__pg_int(r, 0, 1) == 1;
    PQclear(r);
    if (!has_meta) {
        *version = has_users ? -2 : -1;
        return 0;
    }
    r = PQexec(s->conn, "SELECT (SELECT value FROM meta WHERE key = 'application'),"
                        " (SELECT value FROM meta WHERE key = 'schema_version')::bigint");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        *version = -2;
        return 0;
    }
    const char *app = PQgetisnull(r, 0, 0) ? "" : PQgetvalue(r, 0, 0);
    *version = strcmp(app, APPLICATION) == 0 ? irpd__pg_int(r, 0, 1) : -2;
    PQclear(r);
    return 0;
}

/*
 * Creates the schema in a database without one, or migrates an older one
 * (with IRPD_STORE_CREATE: irpd init and irpd migrate), or checks it; in one
 * transaction under an advisory lock, so that two processes never both
 * create or migrate.
 */
static irp_status check_schema(pg_store *s, const char *where, int create)
{
    char sql[128];
    int64_t version = 0;
    irp_status status = exec_text(s, "BEGIN", "schema");
    if (status != 0) return status;
    snprintf(sql, sizeof sql, "SELECT pg_advisory_xact_lock(%d)", LOCK_KEY);
    status = exec_text(s, sql, "schema");
    if (status == 0) status = read_version(s, &version);
    if (status == 0 && version == -2)
        status = irpd__pg_failf(s, IRP_INTERNAL, "%s: not an irpd database (it holds other tables)",
                                where);
    if (status == 0 && version > IRPD_PG_SCHEMA_VERSION)
        status = irpd__pg_failf(s, IRP_INTERNAL,
                                "%s: database schema version %lld is newer than this irpd "
                                "supports (%d); upgrade irpd",
                                where, (long long)version, IRPD_PG_SCHEMA_VERSION);
    if (status == 0 && version < IRPD_PG_SCHEMA_VERSION && !create)
        status = irpd__pg_failf(s, version < 0 ? IRP_NOT_FOUND : IRP_INTERNAL,
                                version < 0 ? "%s: the database holds no registry (run irpd init)"
                                            : "%s: the database schema is older than this irpd "
                                              "(run irpd migrate)",
                                where);
    for (int64_t v = version < 0 ? 0 : version; status == 0 && v < IRPD_PG_SCHEMA_VERSION; v++)
        status = exec_text(s, irpd__pg_migrations[v], "schema");
    if (status == 0 && version < IRPD_PG_SCHEMA_VERSION) {
        snprintf(sql, sizeof sql, "UPDATE meta SET value = '%d' WHERE key = 'schema_version'",
                 IRPD_PG_SCHEMA_VERSION);
        status = exec_text(s, sql, "schema");
    }
    if (status == 0) status = exec_text(s, "COMMIT", "schema");
    if (status != 0) rollback(s, "schema");
    return status;
}

static const irpd_store_ops pg_ops;

/* Where the store is, for messages: database and host, never the password. */
static void describe(pg_store *s, char *out, size_t cap)
{
    const char *db = s->conn != NULL ? PQdb(s->conn) : NULL;
    const char *host = s->conn != NULL ? PQhost(s->conn) : NULL;
    snprintf(out, cap, "postgresql database %s on %s", db != NULL ? db : "?",
             host != NULL && host[0] != '\0' ? host : "the default socket");
}

static irp_status open_db(pg_store *s, const char *conninfo, const irpd_store_opts *opts)
{
    char where[160];
    s->conn = PQconnectdb(conninfo);
    describe(s, where, sizeof where);
    if (s->conn == NULL) return irpd__pg_failf(s, IRP_INTERNAL, "%s: out of memory", where);
    if (PQstatus(s->conn) != CONNECTION_OK) {
        irpd__pg_failf(s, IRP_INTERNAL, "%s: cannot connect: %s", where, PQerrorMessage(s->conn));
        char *nl = strchr(s->base.errmsg, '\n');
        if (nl != NULL) *nl = '\0';
        return IRP_INTERNAL;
    }
    /* UTF-8 text both ways; messages without the server's notices on stderr. */
    if (PQsetClientEncoding(s->conn, "UTF8") != 0)
        return irpd__pg_failf(s, IRP_INTERNAL, "%s: cannot use UTF-8", where);
    irp_status status = exec_text(s, "SET client_min_messages = warning", "open");
    if (status == 0)
        status = check_schema(s, where, opts != NULL && (opts->flags & IRPD_STORE_CREATE));
    if (status == 0) status = prepare_all(s, where);
    return status;
}

irp_status irpd_store_open_pg(const char *conninfo, const irpd_store_opts *opts, irpd_store **out)
{
    pg_store *s = calloc(1, sizeof *s);
    *out = (irpd_store *)s;
    if (s == NULL) return IRP_INTERNAL;
    s->base.ops = &pg_ops;
    if (conninfo == NULL || conninfo[0] == '\0')
        return irpd__pg_failf(s, IRP_BAD_REQUEST, "no database connection string");
    irp_status status = open_db(s, conninfo, opts);
    if (status != 0) {
        PQfinish(s->conn);
        s->conn = NULL;
    } else {
        s->base.usable = 1;
    }
    return status;
}

static void pg_batch_rollback(irpd_store *st);

static void pg_close(irpd_store *st)
{
    pg_store *s = PGS(st);
    if (s->conn != NULL) {
        pg_batch_rollback(st);
        if (irpd__pg_flush_queue(s) != 0) { /* best effort (irpd_store.h) */
        }
        PQfinish(s->conn);
    }
    irpd_readq_free(&s->reads);
    free(s);
}

/* ---- group commit ------------------------------------------------------------------ */

/* The batch's transaction opens at its first change: a batch of reads only holds none. */
static irp_status pg_batch_begin(irpd_store *st)
{
    pg_store *s = PGS(st);
    if (s->in_batch) return irpd__pg_failf(s, IRP_INTERNAL, "batch: a batch is open already");
    s->in_batch = 1;
    s->batch_tx = 0;
    s->batch_failed = 0;
    return 0;
}

static void end_batch(pg_store *s)
{
    if (s->batch_tx) rollback(s, "batch");
    s->in_batch = 0;
    s->batch_tx = 0;
    s->batch_failed = 0;
}

/* One COMMIT, one WAL flush for the whole batch, with the queued read records. */
static irp_status pg_batch_commit(irpd_store *st)
{
    pg_store *s = PGS(st);
    irp_status status = 0;
    if (!s->in_batch) return irpd__pg_failf(s, IRP_INTERNAL, "commit: no batch is open");
    if (s->batch_tx) {
        if (irpd__pg_batch_lost(s)) status = IRP_INTERNAL;
        if (status == 0) status = write_queue(s);
        if (status == 0) status = irpd__pg_cmd(s, P_COMMIT, NULL, "commit", NULL);
        if (status == 0) queue_clear(s);
    }
    end_batch(s);
    return status;
}

static void pg_batch_rollback(irpd_store *st)
{
    pg_store *s = PGS(st);
    if (s->in_batch) end_batch(s);
}

static irp_status pg_flush(irpd_store *st)
{
    pg_store *s = PGS(st);
    if (s->batch_tx) return 0;
    irp_status status = s->reads.n > 0 ? ensure_connected(s, "audit") : 0;
    return status != 0 ? status : irpd__pg_flush_queue(s);
}

static irp_status pg_reads_take(irpd_store *st, irpd_audit_cb cb, void *arg)
{
    pg_store *s = PGS(st);
    irp_status status = 0;
    if (s->batch_tx) return irpd__pg_failf(s, IRP_INTERNAL, "reads_take: inside a batch");
    for (size_t i = 0; i < s->reads.n && status == 0; i++) {
        irpd_audit_row r;
        irpd_readq_row(&s->reads, i, &r);
        if (cb(arg, &r) != 0)
            status = irpd__pg_failf(s, IRP_INTERNAL, "reads_take: stopped by the caller");
    }
    queue_clear(s);
    return status;
}

static const irpd_store_ops pg_ops = {
    .name = "pg",
    .close = pg_close,
    .batch_begin = pg_batch_begin,
    .batch_commit = pg_batch_commit,
    .batch_rollback = pg_batch_rollback,
    .flush = pg_flush,
    .reads_take = pg_reads_take,
    .user_add = irpd__pg_user_add,
    .user_get = irpd__pg_user_get,
    .user_list = irpd__pg_user_list,
    .user_set_password = irpd__pg_user_set_password,
    .user_set_admin = irpd__pg_user_set_admin,
    .user_set_access = irpd__pg_user_set_access,
    .allow_list = irpd__pg_allow_list,
    .info_set = irpd__pg_info_set,
    .info_get = irpd__pg_info_get,
    .token_add = irpd__pg_token_add,
    .token_check = irpd__pg_token_check,
    .token_consume = irpd__pg_token_consume,
    .enroll = irpd__pg_enroll,
    .cert_add = irpd__pg_cert_add,
    .cert_get_serial = irpd__pg_cert_get_serial,
    .cert_get_fp = irpd__pg_cert_get_fp,
    .cert_list = irpd__pg_cert_list,
    .cert_revoke = irpd__pg_cert_revoke,
    .user_revoke = irpd__pg_user_revoke,
    .cert_record = irpd__pg_cert_record,
    .binding_put = irpd__pg_binding_put,
    .binding_delete = irpd__pg_binding_delete,
    .binding_list = irpd__pg_binding_list,
    .sweep = irpd__pg_sweep,
    .access_check = irpd__pg_access_check,
    .lookup = irpd__pg_lookup,
    .access_log = irpd__pg_access_log,
    .p12_put = irpd__pg_p12_put,
    .p12_get = irpd__pg_p12_get,
    .audit_add = irpd__pg_audit_add,
    .audit_list = irpd__pg_audit_list,
};
