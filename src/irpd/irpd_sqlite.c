/*
 * irpd_sqlite.c - the SQLite backend of irpd_store.h (docs/IRP.md 10):
 * opening and closing, statements, transactions,
 * group commit, the read records queue and errors. The operations are in
 * irpd_sqlite_users.c (users, user info, tokens), irpd_sqlite_certs.c
 * (certificates, revocation) and irpd_sqlite_bindings.c (bindings, lookup,
 * PKCS#12, audit); the schema and the statements' SQL in irpd_sqlite_schema.c;
 * what they share in irpd_sqlite_int.h.
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

#include "irpd_sqlite_int.h"

#define SCHEMA_VERSION 1
#define APPLICATION_ID 0x49525044 /* "IRPD" */
#define DEFAULT_BUSY_MS 5000
#define DEFAULT_CACHE_KIB 65536 /* page cache per connection: the registry's hot pages */

/* ---- errors ------------------------------------------------------------------- */

irp_status irpd__sqlite_failf(sq_store *s, irp_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->base.errmsg, sizeof s->base.errmsg, fmt, ap);
    va_end(ap);
    return status;
}

/* A database failure during `what`: SQLite's message and extended code. */
irp_status irpd__sqlite_db_fail(sq_store *s, const char *what)
{
    return irpd__sqlite_failf(s, IRP_INTERNAL, "%s: %s (sqlite error %d)", what,
                              sqlite3_errmsg(s->db), sqlite3_extended_errcode(s->db));
}

irp_status irpd__sqlite_stopped(sq_store *s, sqlite3_stmt *q, const char *what)
{
    sqlite3_reset(q);
    return irpd__sqlite_failf(s, IRP_INTERNAL, "%s: stopped by the caller", what);
}

/* ---- statement helpers ---------------------------------------------------------- */

void irpd__sqlite_col_text(sqlite3_stmt *q, int i, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(q, i);
    size_t n = t != NULL ? (size_t)sqlite3_column_bytes(q, i) : 0;
    if (n >= cap) n = cap - 1; /* only a file edited by hand could hold more */
    if (n > 0) memcpy(out, t, n);
    out[n] = '\0';
}

/* Copies a blob column of at most cap bytes; a longer one (a file edited by hand) reads as
 * empty. */
void irpd__sqlite_col_blob(sqlite3_stmt *q, int i, uint8_t *out, size_t cap, size_t *len)
{
    const void *b = sqlite3_column_blob(q, i);
    size_t n = b != NULL ? (size_t)sqlite3_column_bytes(q, i) : 0;
    if (n > cap) n = 0;
    if (n > 0) memcpy(out, b, n);
    *len = n;
}

void irpd__sqlite_bind_text(sqlite3_stmt *q, int i, const char *s)
{
    if (s == NULL)
        sqlite3_bind_null(q, i);
    else
        sqlite3_bind_text(q, i, s, -1, SQLITE_STATIC);
}

/* Steps a statement whose rows are not wanted, and resets it. */
int irpd__sqlite_run(sq_store *s, int id)
{
    int rc = sqlite3_step(s->q[id]);
    sqlite3_reset(s->q[id]);
    return rc == SQLITE_ROW ? SQLITE_DONE : rc;
}

/*
 * Ends the open transaction without its changes. If even that fails, the
 * connection may still hold it (the next BEGIN then fails): the store's
 * message says so, after the failure that led here.
 */
static void rollback(sq_store *s, const char *what)
{
    if (irpd__sqlite_run(s, S_ROLLBACK) == SQLITE_DONE) return;
    size_t n = strlen(s->base.errmsg);
    if (n + 1 < sizeof s->base.errmsg)
        snprintf(s->base.errmsg + n, sizeof s->base.errmsg - n, "; %s: rollback failed: %s", what,
                 sqlite3_errmsg(s->db));
}

/* One integer from a statement bound by the caller (0 when no row): SQLITE_DONE or an error. */
int irpd__sqlite_one_int(sq_store *s, int id, int64_t *out)
{
    int rc = sqlite3_step(s->q[id]);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(s->q[id], 0) : 0;
    sqlite3_reset(s->q[id]);
    return rc == SQLITE_ROW ? SQLITE_DONE : rc;
}

/* ---- the read records queue ---------------------------------------------------- */

/* The queued records, into the open write transaction. */
static int write_queue(sq_store *s)
{
    sqlite3_stmt *q = s->q[S_AUDIT_ADD];
    for (size_t i = 0; i < s->reads.n; i++) {
        irpd_audit_row r;
        irpd_readq_row(&s->reads, i, &r);
        sqlite3_bind_int64(q, 1, r.ts);
        irpd__sqlite_bind_text(q, 2, r.actor);
        irpd__sqlite_bind_text(q, 3, r.op);
        irpd__sqlite_bind_text(q, 4, r.target);
        irpd__sqlite_bind_text(q, 5, r.detail);
        int rc = irpd__sqlite_run(s, S_AUDIT_ADD);
        if (rc != SQLITE_DONE) return rc;
    }
    return SQLITE_DONE;
}

static void queue_clear(sq_store *s)
{
    irpd_readq_clear(&s->reads);
}

/* ---- transactions ------------------------------------------------------------------ */

/* Puts synchronous=FULL back if a failure left it NORMAL, before any change commits. */
static irp_status ensure_full_sync(sq_store *s, const char *what)
{
    if (s->sync_normal) {
        if (irpd__sqlite_run(s, S_SYNC_FULL) != SQLITE_DONE) return irpd__sqlite_db_fail(s, what);
        s->sync_normal = 0;
    }
    return 0;
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
irp_status irpd__sqlite_flush_queue(sq_store *s)
{
    irp_status status = 0;
    if (s->reads.n == 0) return 0;
    s->sync_normal = 1;
    if (irpd__sqlite_run(s, S_SYNC_NORMAL) != SQLITE_DONE ||
        irpd__sqlite_run(s, S_BEGIN_W) != SQLITE_DONE || write_queue(s) != SQLITE_DONE ||
        irpd__sqlite_run(s, S_COMMIT) != SQLITE_DONE)
        status = irpd__sqlite_db_fail(s, "audit");
    else
        queue_clear(s);
    if (!sqlite3_get_autocommit(s->db)) rollback(s, "audit");
    irp_status full = ensure_full_sync(s, "audit");
    return status != 0 ? status : full;
}

/* True when SQLite rolled back the batch's transaction on its own (I/O error, disk full). */
int irpd__sqlite_batch_lost(sq_store *s)
{
    if (s->batch_tx && !s->batch_failed && sqlite3_get_autocommit(s->db)) {
        s->batch_failed = 1;
        irpd__sqlite_failf(s, IRP_INTERNAL, "the batch was rolled back after an error: %s",
                           sqlite3_errmsg(s->db));
    }
    return s->batch_failed;
}

/* Begins one changing operation: a savepoint in a batch, else BEGIN IMMEDIATE. */
irp_status irpd__sqlite_wr_begin(sq_store *s, const char *what)
{
    if (s->in_batch && s->batch_tx) {
        if (irpd__sqlite_batch_lost(s)) return IRP_INTERNAL;
    } else {
        irp_status status = ensure_full_sync(s, what);
        if (status != 0) return status;
        if (irpd__sqlite_run(s, S_BEGIN_W) != SQLITE_DONE) return irpd__sqlite_db_fail(s, what);
        if (!s->in_batch) return 0;
        s->batch_tx = 1; /* the batch's first change opens its transaction */
    }
    if (irpd__sqlite_run(s, S_SAVEPOINT) != SQLITE_DONE) return irpd__sqlite_db_fail(s, what);
    return 0;
}

/*
 * Ends it with `status`: 0 commits durably (outside a batch, with the
 * queued read records), anything else rolls back. Returns the final status.
 */
irp_status irpd__sqlite_wr_end(sq_store *s, irp_status status, const char *what)
{
    if (s->in_batch) {
        if (irpd__sqlite_batch_lost(s)) return IRP_INTERNAL;
        if (status != 0 && irpd__sqlite_run(s, S_ROLLBACK_TO) != SQLITE_DONE) {
            /* the refused operation's changes would be committed with the batch: lose it */
            s->batch_failed = 1;
            return irpd__sqlite_db_fail(s, what);
        }
        if (irpd__sqlite_run(s, S_RELEASE) != SQLITE_DONE && status == 0)
            status = irpd__sqlite_db_fail(s, what);
        if (irpd__sqlite_batch_lost(s)) return IRP_INTERNAL;
        return status;
    }
    if (status == 0) {
        if (write_queue(s) != SQLITE_DONE || irpd__sqlite_run(s, S_COMMIT) != SQLITE_DONE)
            status = irpd__sqlite_db_fail(s, what);
        else
            queue_clear(s);
    }
    if (!sqlite3_get_autocommit(s->db)) rollback(s, what);
    return status;
}

/* Appends an audit record in the current transaction. */
irp_status irpd__sqlite_audit(sq_store *s, const char *what, int64_t ts, const char *actor,
                              const char *op, const char *target, const char *detail)
{
    sqlite3_stmt *q = s->q[S_AUDIT_ADD];
    sqlite3_bind_int64(q, 1, ts);
    irpd__sqlite_bind_text(q, 2, actor);
    irpd__sqlite_bind_text(q, 3, op);
    irpd__sqlite_bind_text(q, 4, target);
    irpd__sqlite_bind_text(q, 5, detail);
    return irpd__sqlite_run(s, S_AUDIT_ADD) == SQLITE_DONE ? 0 : irpd__sqlite_db_fail(s, what);
}

/* The id, policy and stored spelling of user name: 0, IRP_NOT_FOUND, IRP_INTERNAL. */
irp_status irpd__sqlite_find_user(sq_store *s, const char *what, const char *name, int64_t *id,
                                  int *access, char *canon)
{
    sqlite3_stmt *q = s->q[S_USER_ID];
    irpd__sqlite_bind_text(q, 1, name);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(q, 0);
        if (access != NULL) *access = sqlite3_column_int(q, 1);
        if (canon != NULL) irpd__sqlite_col_text(q, 2, canon, IRPD_STORE_USER_MAX + 1);
    }
    sqlite3_reset(q);
    if (rc == SQLITE_ROW) return 0;
    if (rc == SQLITE_DONE)
        return irpd__sqlite_failf(s, IRP_NOT_FOUND, "%s: no user %s", what, name);
    return irpd__sqlite_db_fail(s, what);
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
    return rc == SQLITE_ROW ? 0 : IRP_INTERNAL;
}

/* Creates the schema in an empty database, or checks the one there; inside BEGIN IMMEDIATE. */
static irp_status check_schema(sq_store *s, const char *path, int create)
{
    int64_t n_tables = 0, app_id = 0, version = 0;
    if (query_int(s, "SELECT count(*) FROM sqlite_schema", &n_tables) != 0 ||
        query_int(s, "PRAGMA application_id", &app_id) != 0)
        return irpd__sqlite_failf(s, IRP_INTERNAL, "%s: not a usable database: %s", path,
                                  sqlite3_errmsg(s->db));
    if (n_tables == 0) {
        if (!create)
            return irpd__sqlite_failf(s, IRP_NOT_FOUND, "%s: the database is empty (run irpd init)",
                                      path);
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA application_id = %d", APPLICATION_ID);
        if (sqlite3_exec(s->db, irpd__sqlite_schema_sql, NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
            return irpd__sqlite_failf(s, IRP_INTERNAL, "%s: creating the schema: %s", path,
                                      sqlite3_errmsg(s->db));
        return 0;
    }
    if (app_id != APPLICATION_ID ||
        query_int(s, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'schema_version'",
                  &version) != 0)
        return irpd__sqlite_failf(s, IRP_INTERNAL,
                                  "%s: not an irpd database (it holds other tables)", path);
    if (version > SCHEMA_VERSION)
        return irpd__sqlite_failf(
            s, IRP_INTERNAL,
            "%s: database schema version %lld is newer than this irpd supports (%d); "
            "upgrade irpd",
            path, (long long)version, SCHEMA_VERSION);
    if (version < SCHEMA_VERSION) /* no older version exists: nothing to migrate from yet */
        return irpd__sqlite_failf(s, IRP_INTERNAL, "%s: unknown database schema version %lld", path,
                                  (long long)version);
    return 0;
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
        if (errno != ENOENT)
            return irpd__sqlite_failf(s, IRP_INTERNAL, "%s: %s", path, strerror(errno));
        if (!create)
            return irpd__sqlite_failf(s, IRP_NOT_FOUND, "%s: no database (run irpd init)", path);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST)
            return irpd__sqlite_failf(s, IRP_INTERNAL, "%s: cannot create: %s", path,
                                      strerror(errno));
        if (fd >= 0) close(fd);
    } else if (!S_ISREG(sb.st_mode)) {
        return irpd__sqlite_failf(s, IRP_INTERNAL, "%s: not a regular file", path);
    }

    /* NOMUTEX: one thread at a time per store (irpd_store.h, "Threads"). */
    int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK)
        return irpd__sqlite_failf(s, IRP_INTERNAL, "%s: cannot open: %s", path,
                                  s->db != NULL ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
    sqlite3_extended_result_codes(s->db, 1);
    if (sqlite3_db_readonly(s->db, "main") == 1)
        return irpd__sqlite_failf(s, IRP_INTERNAL,
                                  "%s: read-only (check the file's owner and mode)", path);
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
        return irpd__sqlite_failf(s, IRP_INTERNAL, "%s: not a usable irpd database: %s", path,
                                  sqlite3_errmsg(s->db));
    if (!wal)
        return irpd__sqlite_failf(s, IRP_INTERNAL, "%s: cannot switch the database to WAL mode",
                                  path);
    char sql[128];
    snprintf(sql, sizeof sql,
             "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -%d",
             cache_kib);
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return irpd__sqlite_failf(s, IRP_INTERNAL, "%s: %s", path, sqlite3_errmsg(s->db));

    /* Create or check the schema under the write lock, so two processes do not both create. */
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return irpd__sqlite_failf(s, IRP_INTERNAL, "%s: %s", path, sqlite3_errmsg(s->db));
    irp_status st = check_schema(s, path, create);
    if (st == 0 && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        st = irpd__sqlite_failf(s, IRP_INTERNAL, "%s: %s", path, sqlite3_errmsg(s->db));
    if (st != 0) {
        if (!sqlite3_get_autocommit(s->db)) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return st;
    }

    for (int i = 0; i < N_STMT; i++) {
        if (sqlite3_prepare_v3(s->db, irpd__sqlite_stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &s->q[i], NULL) != SQLITE_OK)
            return irpd__sqlite_failf(s, IRP_INTERNAL, "%s: preparing statement %d: %s", path, i,
                                      sqlite3_errmsg(s->db));
    }
    return 0;
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
    if (path == NULL || path[0] == '\0')
        return irpd__sqlite_failf(s, IRP_BAD_REQUEST, "no database path");
    irp_status st = open_db(s, path, opts);
    if (st != 0)
        close_db(s);
    else
        s->base.usable = 1;
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
    irpd_readq_free(&s->reads);
    free(s);
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
    if (s->in_batch) return irpd__sqlite_failf(s, IRP_INTERNAL, "batch: a batch is open already");
    s->in_batch = 1;
    s->batch_tx = 0;
    s->batch_failed = 0;
    return 0;
}

static void end_batch(sq_store *s)
{
    if (s->batch_tx && !sqlite3_get_autocommit(s->db)) rollback(s, "batch");
    s->in_batch = 0;
    s->batch_tx = 0;
    s->batch_failed = 0;
}

/* A batch that changed something commits the queued read records with its changes. */
static irp_status sq_batch_commit(irpd_store *st)
{
    sq_store *s = SQ(st);
    irp_status status = 0;
    if (!s->in_batch) return irpd__sqlite_failf(s, IRP_INTERNAL, "commit: no batch is open");
    if (s->batch_tx) {
        if (irpd__sqlite_batch_lost(s))
            status = IRP_INTERNAL;
        else if (write_queue(s) != SQLITE_DONE || irpd__sqlite_run(s, S_COMMIT) != SQLITE_DONE)
            status = irpd__sqlite_db_fail(s, "commit");
        else
            queue_clear(s);
    }
    end_batch(s);
    return status;
}

static void sq_batch_rollback(irpd_store *st)
{
    sq_store *s = SQ(st);
    if (s->in_batch) end_batch(s);
}

static irp_status sq_flush(irpd_store *st)
{
    sq_store *s = SQ(st);
    return s->batch_tx ? 0 : irpd__sqlite_flush_queue(s);
}

static irp_status sq_reads_take(irpd_store *st, irpd_audit_cb cb, void *arg)
{
    sq_store *s = SQ(st);
    irp_status status = 0;

    if (s->batch_tx) return irpd__sqlite_failf(s, IRP_INTERNAL, "reads_take: inside a batch");
    for (size_t i = 0; i < s->reads.n && status == 0; i++) {
        irpd_audit_row r;
        irpd_readq_row(&s->reads, i, &r);
        if (cb(arg, &r) != 0)
            status = irpd__sqlite_failf(s, IRP_INTERNAL, "reads_take: stopped by the caller");
    }
    queue_clear(s);
    return status;
}

static const irpd_store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .batch_begin = sq_batch_begin,
    .batch_commit = sq_batch_commit,
    .batch_rollback = sq_batch_rollback,
    .flush = sq_flush,
    .reads_take = sq_reads_take,
    .user_add = irpd__sqlite_user_add,
    .user_get = irpd__sqlite_user_get,
    .user_list = irpd__sqlite_user_list,
    .user_set_password = irpd__sqlite_user_set_password,
    .user_set_admin = irpd__sqlite_user_set_admin,
    .user_set_access = irpd__sqlite_user_set_access,
    .allow_list = irpd__sqlite_allow_list,
    .info_set = irpd__sqlite_info_set,
    .info_get = irpd__sqlite_info_get,
    .token_add = irpd__sqlite_token_add,
    .token_check = irpd__sqlite_token_check,
    .token_consume = irpd__sqlite_token_consume,
    .enroll = irpd__sqlite_enroll,
    .cert_add = irpd__sqlite_cert_add,
    .cert_get_serial = irpd__sqlite_cert_get_serial,
    .cert_get_fp = irpd__sqlite_cert_get_fp,
    .cert_list = irpd__sqlite_cert_list,
    .cert_revoke = irpd__sqlite_cert_revoke,
    .user_revoke = irpd__sqlite_user_revoke,
    .cert_record = irpd__sqlite_cert_record,
    .binding_put = irpd__sqlite_binding_put,
    .binding_delete = irpd__sqlite_binding_delete,
    .binding_list = irpd__sqlite_binding_list,
    .sweep = irpd__sqlite_sweep,
    .access_check = irpd__sqlite_access_check,
    .lookup = irpd__sqlite_lookup,
    .access_log = irpd__sqlite_access_log,
    .p12_put = irpd__sqlite_p12_put,
    .p12_get = irpd__sqlite_p12_get,
    .audit_add = irpd__sqlite_audit_add,
    .audit_list = irpd__sqlite_audit_list,
};
