/*
 * test_irpd_store.c - the registry's storage (src/irpd/irpd_store.h) on
 * both its backends (docs/IRP.md 6 and 10 for the rules): SQLite
 * (irpd_sqlite*.c), and PostgreSQL (irpd_pg*.c) when ctest runs it as
 * irpd_store_pg with SC_TEST_PG_URI (tests/support/irpd_testdb.h); every
 * store opened here is checked to be of that run's backend.
 *
 * Every operation and each refusal with its own status: token reuse and
 * expiry (410), a stale sequence number (409, nothing changed, and still
 * after the binding ended), the device limit, revocation (bindings ended in
 * the same transaction, certificate marked, idempotent), supersession of a
 * fourth certificate, expiry filtering and the sweep, the access policy and
 * allow list, user info, audit records for every change and the access
 * log, group commit, durability across close/open and across SIGKILL of a
 * writer, corrupt and foreign files, the file mode, and a lookup
 * performance smoke (asserts results only, prints the rate).
 *
 * Databases live in a mkdtemp directory under /tmp, removed at the end (on
 * PostgreSQL: one schema per database of a test). What only SQLite has (the
 * file, its mode, WAL, its locking) is tested on SQLite only; the
 * PostgreSQL run has its own opening errors (test_open_errors_pg).
 * Certificates are opaque to the store, so any bytes stand in for DER.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/sha.h>
#include <sqlite3.h>

#include "irpd_store.h"
#include "irpd_testdb.h"

#define NOW INT64_C(1800000000)
#define HOUR INT64_C(3600)
#define DAY (24 * HOUR)
#define A "alice@example.org"
#define B "bob@example.org"
#define C "carol@example.org"

static char tmpdir[64];

/* ---- helpers ------------------------------------------------------------- */

static void db_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmpdir, name);
}

static irpd_store *open_db(const char *name, unsigned flags)
{
    char path[256];
    irpd_store *st = NULL;
    irpd_store_opts o = {.flags = flags, .busy_timeout_ms = 2000};
    db_path(path, sizeof path, name);
    irp_status s = irpd_testdb_open(tmpdir, name, &o, &st);
    if (s != 0) fprintf(stderr, "open %s: %d %s\n", path, s, irpd_store_errmsg(st));
    assert_int_equal(s, 0);
    assert_string_equal(irpd_store_backend(st), irpd_testdb_backend()); /* no silent fallback */
    return st;
}

static irpd_store *create_db(const char *name)
{
    irpd_testdb_reset(tmpdir, name);
    return open_db(name, IRPD_STORE_CREATE);
}

/* A direct connection to the database, to look at what the store wrote. */
static irpd_testdb_raw *raw_db(const char *name)
{
    irpd_testdb_raw *db = irpd_testdb_raw_open(tmpdir, name);
    assert_non_null(db);
    return db;
}

static int64_t raw_int(irpd_testdb_raw *db, const char *sql)
{
    int64_t v = irpd_testdb_raw_int(db, sql);
    assert_true(v != INT64_MIN);
    return v;
}

static void hash_of(const char *text, uint8_t out[32])
{
    SHA256((const unsigned char *)text, strlen(text), out);
}

/* A certificate record whose DER is the text der (valid from an hour ago). */
static void mkcert(irpd_cert *c, const char *serial, const char *user, const char *der,
                   int64_t not_after)
{
    memset(c, 0, sizeof *c);
    snprintf(c->serial, sizeof c->serial, "%s", serial);
    snprintf(c->user, sizeof c->user, "%s", user);
    c->der = (const uint8_t *)der;
    c->der_len = strlen(der);
    c->not_before = NOW - HOUR;
    c->not_after = not_after;
}

static void mkbind(irpd_binding *b, const char *user, const char *device, uint64_t seq,
                   uint16_t port, int64_t expires, const char *addr0, const char *addr1)
{
    memset(b, 0, sizeof *b);
    snprintf(b->user, sizeof b->user, "%s", user);
    snprintf(b->device, sizeof b->device, "%s", device);
    b->seq = seq;
    b->port = port;
    b->expires = expires;
    snprintf(b->addrs[b->n_addrs++], sizeof b->addrs[0], "%s", addr0);
    if (addr1 != NULL) snprintf(b->addrs[b->n_addrs++], sizeof b->addrs[0], "%s", addr1);
    snprintf(b->seen, sizeof b->seen, "%s", addr0);
}

/* Adds user (if new) with a certificate of serial `serial`, DER "der-<serial>", valid a year. */
static void add_user_cert(irpd_store *st, const char *user, const char *serial)
{
    irpd_cert c;
    char der[64];
    snprintf(der, sizeof der, "der-%s", serial);
    mkcert(&c, serial, user, der, NOW + 365 * DAY);
    irp_status s = irpd_store_user_add(st, user, "cli", NOW);
    assert_true(s == 0 || s == IRP_CONFLICT);
    assert_int_equal(irpd_store_cert_add(st, &c, NULL, "cli", NOW, NULL), 0);
}

static irp_status put_at(irpd_store *st, const char *user, const char *device, uint64_t seq,
                         int64_t expires, int64_t now)
{
    irpd_binding b;
    mkbind(&b, user, device, seq, 4605, expires, "2001:db8::1", "192.0.2.7");
    return irpd_store_binding_put(st, &b, NULL, user, now);
}

static void put(irpd_store *st, const char *user, const char *device, uint64_t seq, int64_t expires,
                irp_status want)
{
    assert_int_equal(put_at(st, user, device, seq, expires, NOW), want);
}

/* What callbacks collected. */
typedef struct seen {
    int n_bind, n_cert, n_names, n_users, stop_after;
    irpd_binding bind[16];
    char cert_serial[8][IRPD_STORE_SERIAL_MAX + 1];
    irpd_cert_status cert_status[8];
    int cert_has_der[8];
    char cert_reason[8][IRPD_STORE_REASON_MAX + 1];
    char names[8][IRPD_STORE_USER_MAX + 1];
    irpd_user users[8];
} seen;

static int on_bind(void *arg, const irpd_binding *b)
{
    seen *s = arg;
    if (s->n_bind < 16) s->bind[s->n_bind] = *b;
    s->n_bind++;
    return s->stop_after != 0 && s->n_bind >= s->stop_after;
}

static int on_cert(void *arg, const irpd_cert *c)
{
    seen *s = arg;
    if (s->n_cert < 8) {
        snprintf(s->cert_serial[s->n_cert], sizeof s->cert_serial[0], "%s", c->serial);
        s->cert_status[s->n_cert] = c->status;
        s->cert_has_der[s->n_cert] = c->der != NULL && c->der_len > 0;
        snprintf(s->cert_reason[s->n_cert], sizeof s->cert_reason[0], "%s", c->reason);
    }
    s->n_cert++;
    return 0;
}

static int on_name(void *arg, const char *name)
{
    seen *s = arg;
    if (s->n_names < 8) snprintf(s->names[s->n_names], sizeof s->names[0], "%s", name);
    s->n_names++;
    return 0;
}

static int on_user(void *arg, const irpd_user *u)
{
    seen *s = arg;
    assert_int_equal(u->pw_hash_len, 0); /* a listing never carries password hashes */
    if (s->n_users < 8) s->users[s->n_users] = *u;
    s->n_users++;
    return 0;
}

static int on_info(void *arg, const irpd_info *item)
{
    seen *s = arg;
    if (s->n_names < 8)
        snprintf(s->names[s->n_names], sizeof s->names[0], "%s=%.*s", item->name,
                 (int)item->value_len, item->value);
    s->n_names++;
    return 0;
}

static const irpd_lookup_cb LOOKUP_CB = {on_bind, on_cert};

static irp_status lookup(irpd_store *st, const char *viewer, const char *target, int64_t now,
                         seen *out)
{
    memset(out, 0, sizeof *out);
    return irpd_store_lookup(st, viewer, target, now, 0, &LOOKUP_CB, out, NULL);
}

static int n_live(irpd_store *st, const char *user, int64_t now)
{
    seen s;
    memset(&s, 0, sizeof s);
    assert_int_equal(irpd_store_binding_list(st, user, now, on_bind, &s), 0);
    return s.n_bind;
}

/* Audit records as "op actor target detail" lines. */
typedef struct audit_log {
    int n;
    int64_t last_id;
    char line[64][200];
} audit_log;

static int on_audit(void *arg, const irpd_audit_row *r)
{
    audit_log *a = arg;
    if (a->n < 64)
        snprintf(a->line[a->n], sizeof a->line[0], "%s %s %s %s", r->op, r->actor ? r->actor : "-",
                 r->target ? r->target : "-", r->detail ? r->detail : "-");
    a->n++;
    a->last_id = r->id;
    return 0;
}

static int count_op(const audit_log *a, const char *prefix)
{
    int n = 0;
    for (int i = 0; i < a->n && i < 64; i++)
        n += strncmp(a->line[i], prefix, strlen(prefix)) == 0;
    return n;
}

static void audit_all(irpd_store *st, const char *target, audit_log *a)
{
    memset(a, 0, sizeof *a);
    assert_int_equal(irpd_store_audit_list(st, target, 0, 1000, on_audit, a), 0);
}

/* ---- fixture: the temporary directory ---------------------------------------- */

static int setup(void **state)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_irpd_store.XXXXXX");
    return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    char path[512];
    if (d == NULL) return -1;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
        unlink(path);
    }
    closedir(d);
    return rmdir(tmpdir);
}

/* ---- opening: creation, mode, versions, bad files ------------------------------- */

/* A direct SQLite connection, for what only SQLite has. */
static sqlite3 *lite_db(const char *name)
{
    char path[256];
    sqlite3 *db = NULL;
    db_path(path, sizeof path, name);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    return db;
}

static int64_t lite_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return v;
}

static void test_create_mode_and_pragmas(void **state)
{
    char path[256];
    struct stat sb;
    if (irpd_testdb_pg() != NULL) skip(); /* the file, its mode and WAL are SQLite's */
    irpd_store *st = create_db("mode.db");
    assert_int_equal(irpd_store_user_add(st, "x@example.org", "cli", NOW), 0);

    db_path(path, sizeof path, "mode.db");
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    db_path(path, sizeof path, "mode.db-wal");
    assert_int_equal(stat(path, &sb), 0); /* WAL mode; the WAL takes the database's mode */
    assert_int_equal(sb.st_mode & 0077, 0);

    sqlite3 *db = lite_db("mode.db");
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    assert_int_equal(lite_int(db, "SELECT value FROM meta WHERE key = 'schema_version'"), 1);
    assert_int_equal(lite_int(db, "PRAGMA application_id"), 0x49525044);
    sqlite3_close(db);
    irpd_store_close(st);

    st = open_db("mode.db", 0); /* reopened without CREATE */
    irpd_user u;
    assert_int_equal(irpd_store_user_get(st, "x@example.org", &u), 0);
    irpd_store_close(st);
    irpd_store_close(NULL);
}

static void expect_open_error(const char *name, unsigned flags, irp_status want, const char *in_msg)
{
    char path[256];
    irpd_store *st = NULL;
    irpd_store_opts o = {.flags = flags};
    irpd_user u;
    db_path(path, sizeof path, name);
    assert_int_equal(irpd_store_open_sqlite(path, &o, &st), want);
    assert_non_null(st);
    const char *msg = irpd_store_errmsg(st);
    printf("  %s: %s\n", name, msg);
    assert_non_null(strstr(msg, in_msg));
    assert_non_null(strstr(msg, name)); /* names the file */
    /* A failed store answers errors, never crashes. */
    assert_int_equal(irpd_store_user_get(st, "a@b.c", &u), IRP_INTERNAL);
    assert_int_equal(irpd_store_batch_begin(st), IRP_INTERNAL);
    irpd_store_close(st);
}

static void write_file(const char *name, const void *data, size_t len)
{
    char path[256];
    db_path(path, sizeof path, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void test_open_errors(void **state)
{
    irpd_store *st = NULL;
    if (irpd_testdb_pg() != NULL) skip(); /* files: test_open_errors_pg has the database's */
    assert_int_equal(irpd_store_open_sqlite("", NULL, &st), IRP_BAD_REQUEST);
    irpd_store_close(st);
    assert_string_equal(irpd_store_errmsg(NULL), "out of memory");

    expect_open_error("missing.db", 0, IRP_NOT_FOUND, "no database");

    /* Garbage, and garbage behind a valid SQLite header. */
    uint8_t junk[8192];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(i * 131 + 7);
    write_file("garbage.db", junk, sizeof junk);
    expect_open_error("garbage.db", IRPD_STORE_CREATE, IRP_INTERNAL, "not a");
    memcpy(junk, "SQLite format 3", 16);
    write_file("badheader.db", junk, sizeof junk);
    expect_open_error("badheader.db", IRPD_STORE_CREATE, IRP_INTERNAL, "not a");

    /* An empty file without CREATE is not initialised. */
    write_file("empty.db", "", 0);
    expect_open_error("empty.db", 0, IRP_NOT_FOUND, "empty");

    /* Another program's SQLite database. */
    char path[256];
    sqlite3 *db = NULL;
    db_path(path, sizeof path, "foreign.db");
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    expect_open_error("foreign.db", IRPD_STORE_CREATE, IRP_INTERNAL, "not an irpd database");

    /* A newer schema version is refused with a clear message. */
    st = create_db("newer.db");
    irpd_store_close(st);
    db = lite_db("newer.db");
    assert_int_equal(sqlite3_exec(db, "UPDATE meta SET value = '2' WHERE key = 'schema_version'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    expect_open_error("newer.db", 0, IRP_INTERNAL, "newer than this irpd supports");
}

/* PostgreSQL: what opening refuses, and a password that never reaches a message. */
static void expect_pg_open_error(const char *conninfo, unsigned flags, irp_status want,
                                 const char *in_msg)
{
    irpd_store *st = NULL;
    irpd_store_opts o = {.flags = flags};
    irpd_user u;
    assert_int_equal(irpd_store_open_pg(conninfo, &o, &st), want);
    assert_non_null(st);
    const char *msg = irpd_store_errmsg(st);
    printf("  %s\n", msg);
    assert_non_null(strstr(msg, in_msg));
    assert_null(strstr(msg, "s3cret"));
    assert_int_equal(irpd_store_user_get(st, "a@b.c", &u), IRP_INTERNAL);
    assert_int_equal(irpd_store_batch_begin(st), IRP_INTERNAL);
    irpd_store_close(st);
}

static void test_open_errors_pg(void **state)
{
    char ci[1024];
    irpd_store *st = NULL;
    if (irpd_testdb_pg() == NULL) skip();
#ifdef IRPD_HAVE_PG
    assert_int_equal(irpd_store_open_pg("", NULL, &st), IRP_BAD_REQUEST);
    irpd_store_close(st);
    expect_pg_open_error("postgresql://irpd:s3cret@/nodb?host=/nonexistent&connect_timeout=2",
                         IRPD_STORE_CREATE, IRP_INTERNAL, "cannot connect");

    /* A database without the schema: irpd init (CREATE) makes it, nothing else does. */
    irpd_testdb_reset(tmpdir, "pgempty");
    irpd_testdb_conninfo("pgempty", ci, sizeof ci);
    expect_pg_open_error(ci, 0, IRP_NOT_FOUND, "run irpd init");

    /* Another program's tables. */
    irpd_testdb_reset(tmpdir, "pgforeign");
    irpd_testdb_raw *db = raw_db("pgforeign");
    assert_int_equal(irpd_testdb_raw_exec(db, "CREATE TABLE users(x int)"), 0);
    irpd_testdb_raw_close(db);
    irpd_testdb_conninfo("pgforeign", ci, sizeof ci);
    expect_pg_open_error(ci, IRPD_STORE_CREATE, IRP_INTERNAL, "not an irpd database");

    /* A newer schema is refused; an older one asks for irpd migrate. */
    st = create_db("pgversion");
    irpd_store_close(st);
    db = raw_db("pgversion");
    assert_int_equal(raw_int(db, "SELECT value::int FROM meta WHERE key = 'schema_version'"), 1);
    assert_int_equal(
        irpd_testdb_raw_exec(db, "UPDATE meta SET value = '2' WHERE key = 'schema_version'"), 0);
    irpd_testdb_conninfo("pgversion", ci, sizeof ci);
    expect_pg_open_error(ci, 0, IRP_INTERNAL, "newer than this irpd supports");
    assert_int_equal(
        irpd_testdb_raw_exec(db, "UPDATE meta SET value = '0' WHERE key = 'schema_version'"), 0);
    expect_pg_open_error(ci, 0, IRP_INTERNAL, "run irpd migrate");
    irpd_testdb_raw_close(db);
#endif
}

/* ---- users, policy, info ------------------------------------------------------------ */

static void test_users(void **state)
{
    irpd_store *st = create_db("users.db");
    irpd_user u;
    seen s;

    assert_int_equal(irpd_store_user_add(st, A, "cli", NOW), 0);
    assert_int_equal(irpd_store_user_add(st, "Alice@Example.ORG", "cli", NOW), IRP_CONFLICT);
    assert_int_equal(irpd_store_user_add(st, B, "cli", NOW + 1), 0);

    /* Invalid user IDs are refused everywhere. */
    const char *bad[] = {
        "", "alice", "@example.org", "alice@", "a b@example.org", "al\x01ice@example.org", "a@b@c"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(irpd_store_user_add(st, bad[i], "cli", NOW), IRP_BAD_REQUEST);
        assert_int_equal(irpd_store_user_get(st, bad[i], &u), IRP_BAD_REQUEST);
        put(st, bad[i], "d", 1, NOW + HOUR, IRP_BAD_REQUEST);
        assert_int_equal(irpd_store_lookup(st, A, bad[i], NOW, 0, NULL, NULL, NULL),
                         IRP_BAD_REQUEST);
    }
    char longid[300];
    memset(longid, 'a', sizeof longid);
    longid[250] = '@';
    longid[299] = '\0';
    assert_int_equal(irpd_store_user_add(st, longid, "cli", NOW), IRP_BAD_REQUEST);
    assert_int_equal(irpd_store_user_add(st, NULL, "cli", NOW), IRP_BAD_REQUEST);
    assert_int_equal(irpd_store_user_add(st, "x@example.org", "bad\nactor", NOW), IRP_BAD_REQUEST);

    /* Found in any case; the first spelling is kept. */
    assert_int_equal(irpd_store_user_get(st, "ALICE@example.org", &u), 0);
    assert_string_equal(u.name, A);
    assert_int_equal(u.access, IRPD_ACCESS_ANYONE);
    assert_int_equal(u.admin, 0);
    assert_int_equal(u.created, NOW);
    assert_int_equal(u.pw_hash_len, 0);
    assert_int_equal(irpd_store_user_get(st, C, &u), IRP_NOT_FOUND);

    /* Password hash: opaque, here irpd_secret's text which carries its salt. */
    const char *enc = "scrypt$15$8$1$c2FsdHNhbHRzYWx0c2FsdA==$aGFzaGhhc2hoYXNoaGFzaA==";
    assert_int_equal(
        irpd_store_user_set_password(st, A, (const uint8_t *)enc, strlen(enc), NULL, 0, "cli", NOW),
        0);
    assert_int_equal(irpd_store_user_get(st, A, &u), 0);
    assert_int_equal(u.pw_hash_len, strlen(enc));
    assert_string_equal((const char *)u.pw_hash, enc);
    assert_int_equal(u.pw_salt_len, 0);
    const uint8_t salt[16] = {1, 2, 3};
    assert_int_equal(irpd_store_user_set_password(st, B, salt, 16, salt, 16, "cli", NOW), 0);
    assert_int_equal(irpd_store_user_get(st, B, &u), 0);
    assert_int_equal(u.pw_salt_len, 16);
    assert_memory_equal(u.pw_salt, salt, 16);
    uint8_t big[IRPD_STORE_PW_MAX + 1] = {0};
    assert_int_equal(irpd_store_user_set_password(st, B, big, sizeof big, NULL, 0, "cli", NOW),
                     IRP_BAD_REQUEST);
    assert_int_equal(irpd_store_user_set_password(st, C, big, 8, NULL, 0, "cli", NOW),
                     IRP_NOT_FOUND);
    assert_int_equal(irpd_store_user_set_password(st, B, NULL, 0, NULL, 0, "cli", NOW), 0);
    assert_int_equal(irpd_store_user_get(st, B, &u), 0);
    assert_int_equal(u.pw_hash_len, 0);
    assert_int_equal(u.pw_salt_len, 0);

    /* Admin flag. */
    assert_int_equal(irpd_store_user_set_admin(st, B, 1, "cli", NOW), 0);
    assert_int_equal(irpd_store_user_get(st, B, &u), 0);
    assert_int_equal(u.admin, 1);
    assert_int_equal(irpd_store_user_set_admin(st, C, 1, "cli", NOW), IRP_NOT_FOUND);

    /* list-users: in case-folded order, paged, with devices and valid certificates. */
    assert_int_equal(irpd_store_user_add(st, "Dave@example.org", "cli", NOW), 0);
    add_user_cert(st, B, "b1");
    add_user_cert(st, B, "b2");
    put(st, B, "phone", 1, NOW + HOUR, 0);
    memset(&s, 0, sizeof s);
    assert_int_equal(irpd_store_user_list(st, NULL, 10, NOW, on_user, &s), 0);
    assert_int_equal(s.n_users, 3);
    assert_string_equal(s.users[0].name, A);
    assert_string_equal(s.users[1].name, B);
    assert_string_equal(s.users[2].name, "Dave@example.org");
    assert_int_equal(s.users[1].n_devices, 1);
    assert_int_equal(s.users[1].n_certs, 2);
    assert_int_equal(s.users[1].admin, 1);
    assert_int_equal(s.users[1].created, NOW + 1);
    assert_int_equal(s.users[0].n_devices + s.users[0].n_certs, 0);
    memset(&s, 0, sizeof s);
    assert_int_equal(irpd_store_user_list(st, "ALICE@example.org", 1, NOW, on_user, &s), 0);
    assert_int_equal(s.n_users, 1);
    assert_string_equal(s.users[0].name, B);
    memset(&s, 0, sizeof s);
    assert_int_equal(irpd_store_user_list(st, "carol@example.org", 10, NOW, on_user, &s), 0);
    assert_int_equal(s.n_users, 1); /* dave sorts after carol whatever its case */
    memset(&s, 0, sizeof s);
    assert_int_equal(irpd_store_user_list(st, NULL, 10, NOW + HOUR, on_user, &s), 0);
    assert_int_equal(s.users[1].n_devices, 0); /* expired */
    assert_int_equal(irpd_store_user_list(st, "nope", 10, NOW, on_user, &s), IRP_BAD_REQUEST);

    /* Every change was audited, refused ones not, and never a hash. */
    audit_log a;
    audit_all(st, NULL, &a);
    assert_int_equal(count_op(&a, "user-add "), 3);
    assert_int_equal(count_op(&a, "passwd "), 3);
    assert_int_equal(count_op(&a, "admin "), 1);
    for (int i = 0; i < a.n; i++)
        assert_null(strstr(a.line[i], "scrypt"));
    irpd_store_close(st);
}

static void test_access_policy(void **state)
{
    irpd_store *st = create_db("policy.db");
    char stored[IRPD_STORE_USER_MAX + 1];
    seen s;
    add_user_cert(st, A, "a1");
    add_user_cert(st, B, "b1");
    add_user_cert(st, C, "c1");
    put(st, A, "phone", 1, NOW + HOUR, 0);

    /* anyone (the default) */
    assert_int_equal(lookup(st, B, A, NOW, &s), 0);
    assert_int_equal(s.n_bind, 1);
    assert_int_equal(s.n_cert, 1);
    assert_int_equal(irpd_store_access_check(st, C, A, 0), 0);
    assert_int_equal(irpd_store_lookup(st, B, "ALICE@example.org", NOW, 0, NULL, NULL, stored), 0);
    assert_string_equal(stored, A); /* the spelling as stored */

    /* list: only bob (in any case), and alice herself */
    const char *allow[] = {"BOB@example.org"};
    assert_int_equal(irpd_store_user_set_access(st, A, IRPD_ACCESS_LIST, allow, 1, A, NOW), 0);
    assert_int_equal(lookup(st, B, A, NOW, &s), 0);
    assert_int_equal(lookup(st, C, A, NOW, &s), IRP_FORBIDDEN);
    assert_int_equal(s.n_bind + s.n_cert, 0); /* nothing reported */
    assert_int_equal(lookup(st, "ALICE@example.org", A, NOW, &s), 0);
    assert_int_equal(irpd_store_access_check(st, C, A, 0), IRP_FORBIDDEN);
    assert_int_equal(irpd_store_access_check(st, B, A, 0), 0);
    memset(&s, 0, sizeof s);
    assert_int_equal(irpd_store_allow_list(st, A, on_name, &s), 0);
    assert_int_equal(s.n_names, 1);
    assert_string_equal(s.names[0], "BOB@example.org");

    /* nobody: the list goes too (set replaces it); only the owner */
    assert_int_equal(irpd_store_user_set_access(st, A, IRPD_ACCESS_NOBODY, NULL, 0, A, NOW), 0);
    assert_int_equal(lookup(st, B, A, NOW, &s), IRP_FORBIDDEN);
    assert_int_equal(lookup(st, A, A, NOW, &s), 0);
    memset(&s, 0, sizeof s);
    assert_int_equal(irpd_store_allow_list(st, A, on_name, &s), 0);
    assert_int_equal(s.n_names, 0);

    /* administrators and the CLI bypass the policy, with or without a viewer */
    memset(&s, 0, sizeof s);
    assert_int_equal(irpd_store_lookup(st, C, A, NOW, IRPD_LOOKUP_ANY, &LOOKUP_CB, &s, NULL), 0);
    assert_int_equal(s.n_bind, 1);
    assert_int_equal(irpd_store_lookup(st, NULL, A, NOW, IRPD_LOOKUP_ANY, NULL, NULL, NULL), 0);
    assert_int_equal(irpd_store_lookup(st, NULL, A, NOW, 0, NULL, NULL, NULL), IRP_BAD_REQUEST);

    /* A callback that stops: 500, and the lookup is not recorded. */
    memset(&s, 0, sizeof s);
    s.stop_after = 1;
    assert_int_equal(
        irpd_store_lookup(st, "dave@example.org", A, NOW, IRPD_LOOKUP_ANY, &LOOKUP_CB, &s, NULL),
        IRP_INTERNAL);
    assert_non_null(strstr(irpd_store_errmsg(st), "stopped by the caller"));

    /* Refusals of the policy itself. */
    const char *twice[] = {B, "Bob@Example.org"};
    assert_int_equal(irpd_store_user_set_access(st, A, IRPD_ACCESS_LIST, twice, 2, A, NOW),
                     IRP_BAD_REQUEST);
    assert_int_equal(irpd_store_user_set_access(st, A, IRPD_ACCESS_ANYONE, allow, 1, A, NOW),
                     IRP_BAD_REQUEST); /* entries only with list */
    const char *bad_allow[] = {"not-an-id"};
    assert_int_equal(irpd_store_user_set_access(st, A, IRPD_ACCESS_LIST, bad_allow, 1, A, NOW),
                     IRP_BAD_REQUEST);
    assert_int_equal(irpd_store_user_set_access(st, A, (irpd_access)7, NULL, 0, A, NOW),
                     IRP_BAD_REQUEST);
    char many[IRPD_STORE_ALLOW_MAX + 1][32];
    const char *manyp[IRPD_STORE_ALLOW_MAX + 1];
    for (int i = 0; i <= IRPD_STORE_ALLOW_MAX; i++) {
        snprintf(many[i], sizeof many[i], "u%d@example.org", i);
        manyp[i] = many[i];
    }
    assert_int_equal(irpd_store_user_set_access(st, A, IRPD_ACCESS_LIST, manyp,
                                                IRPD_STORE_ALLOW_MAX + 1, A, NOW),
                     IRP_TOO_LARGE);
    assert_int_equal(
        irpd_store_user_set_access(st, A, IRPD_ACCESS_LIST, manyp, IRPD_STORE_ALLOW_MAX, A, NOW),
        0);
    assert_int_equal(
        irpd_store_user_set_access(st, "x@example.org", IRPD_ACCESS_LIST, NULL, 0, A, NOW),
        IRP_NOT_FOUND);
    assert_int_equal(lookup(st, B, "nobody@example.org", NOW, &s), IRP_NOT_FOUND);

    /* Every lookup of alice is recorded, refused ones too; unknown targets not. */
    assert_int_equal(irpd_store_flush(st), 0);
    audit_log a;
    audit_all(st, "ALICE@example.org", &a);
    assert_int_equal(count_op(&a, "lookup bob@example.org alice@example.org ok"), 3);
    assert_int_equal(count_op(&a, "lookup carol@example.org alice@example.org forbidden"), 1);
    assert_int_equal(count_op(&a, "lookup bob@example.org alice@example.org forbidden"), 1);
    assert_int_equal(count_op(&a, "lookup carol@example.org alice@example.org ok"), 1);
    assert_int_equal(count_op(&a, "lookup - alice@example.org ok"), 1);
    assert_int_equal(count_op(&a, "lookup dave@example.org "), 0);
    assert_int_equal(count_op(&a, "lookup-policy "), 3);
    audit_all(st, "nobody@example.org", &a);
    assert_int_equal(a.n, 0);
    irpd_store_close(st);
}

static void test_user_info(void **state)
{
    irpd_store *st = create_db("info.db");
    seen s;
    assert_int_equal(irpd_store_user_add(st, A, "cli", NOW), 0);

    irpd_info set[] = {{"display-name", "Alice Liddell \xc3\xa9", 16},
                       {"note", "line one\nline two", 17}};
    assert_int_equal(irpd_store_info_set(st, A, set, 2, A, NOW), 0);
    memset(&s, 0, sizeof s);
    assert_int_equal(irpd_store_info_get(st, "ALICE@example.org", on_info, &s), 0);
    assert_int_equal(s.n_names, 2);
    assert_string_equal(s.names[0], "display-name=Alice Liddell \xc3\xa9");
    assert_string_equal(s.names[1], "note=line one\nline two");

    /* Named items replaced, empty ones deleted, others kept. */
    irpd_info upd[] = {{"presence", "away", 4}, {"note", NULL, 0}};
    assert_int_equal(irpd_store_info_set(st, A, upd, 2, A, NOW), 0);
    memset(&s, 0, sizeof s);
    assert_int_equal(irpd_store_info_get(st, A, on_info, &s), 0);
    assert_int_equal(s.n_names, 2);
    assert_string_equal(s.names[0], "display-name=Alice Liddell \xc3\xa9");
    assert_string_equal(s.names[1], "presence=away");

    /* Refusals, each changing nothing. */
    irpd_info bad_name[] = {{"Display", "x", 1}};
    assert_int_equal(irpd_store_info_set(st, A, bad_name, 1, A, NOW), IRP_BAD_REQUEST);
    irpd_info twice[] = {{"note", "a", 1}, {"note", "b", 1}};
    assert_int_equal(irpd_store_info_set(st, A, twice, 2, A, NOW), IRP_BAD_REQUEST);
    irpd_info ctl[] = {{"note", "a\x01", 2}};
    assert_int_equal(irpd_store_info_set(st, A, ctl, 1, A, NOW), IRP_BAD_REQUEST);
    irpd_info bad_utf8[] = {{"note", "\xc3\x28", 2}};
    assert_int_equal(irpd_store_info_set(st, A, bad_utf8, 1, A, NOW), IRP_BAD_REQUEST);
    static char longv[IRPD_STORE_INFO_VALUE_MAX + 1];
    memset(longv, 'v', sizeof longv);
    irpd_info too_long[] = {{"note", longv, sizeof longv}};
    assert_int_equal(irpd_store_info_set(st, A, too_long, 1, A, NOW), IRP_TOO_LARGE);
    too_long[0].value_len = IRPD_STORE_INFO_VALUE_MAX;
    assert_int_equal(irpd_store_info_set(st, A, too_long, 1, A, NOW), 0);
    irpd_info nine[IRPD_STORE_INFO_MAX + 1];
    char names[IRPD_STORE_INFO_MAX + 1][8];
    for (int i = 0; i <= IRPD_STORE_INFO_MAX; i++) {
        snprintf(names[i], sizeof names[i], "n%d", i);
        nine[i] = (irpd_info){names[i], "x", 1};
    }
    assert_int_equal(irpd_store_info_set(st, A, nine, IRPD_STORE_INFO_MAX + 1, A, NOW),
                     IRP_TOO_LARGE);
    /* 3 held + 6 new = 9: over the limit of items held, rolled back. */
    assert_int_equal(irpd_store_info_set(st, A, nine, 6, A, NOW), IRP_TOO_LARGE);
    memset(&s, 0, sizeof s);
    assert_int_equal(irpd_store_info_get(st, A, on_info, &s), 0);
    assert_int_equal(s.n_names, 3);
    assert_int_equal(irpd_store_info_set(st, B, set, 1, B, NOW), IRP_NOT_FOUND);
    assert_int_equal(irpd_store_info_get(st, B, on_info, &s), IRP_NOT_FOUND);

    audit_log a;
    audit_all(st, A, &a);
    assert_int_equal(count_op(&a, "user-info alice@example.org alice@example.org items="
                                  "display-name,note"),
                     1);
    assert_int_equal(count_op(&a, "user-info "), 3);
    irpd_store_close(st);
}

/* ---- enrolment tokens and certificates ------------------------------------------------ */

static void test_tokens(void **state)
{
    irpd_store *st = create_db("tokens.db");
    uint8_t h1[32], h2[32], h3[32];
    char user[IRPD_STORE_USER_MAX + 1];
    hash_of("token-one", h1);
    hash_of("token-two", h2);
    hash_of("token-unknown", h3);

    assert_int_equal(irpd_store_token_add(st, h1, "dave@example.org", NOW + DAY, "cli", NOW), 0);
    assert_int_equal(irpd_store_token_add(st, h1, "dave@example.org", NOW + DAY, "cli", NOW),
                     IRP_CONFLICT);
    assert_int_equal(irpd_store_token_add(st, h2, "erin@example.org", NOW + 60, "cli", NOW), 0);
    assert_int_equal(irpd_store_token_add(st, h3, "bad", NOW + 60, "cli", NOW), IRP_BAD_REQUEST);
    assert_int_equal(irpd_store_token_add(st, h3, "erin@example.org", NOW, "cli", NOW),
                     IRP_BAD_REQUEST);

    assert_int_equal(irpd_store_token_check(st, h1, NOW, user), 0);
    assert_string_equal(user, "dave@example.org");
    assert_int_equal(irpd_store_token_check(st, h3, NOW, user), IRP_FORBIDDEN); /* unknown */

    /* Once: a second use is gone. */
    assert_int_equal(irpd_store_token_consume(st, h1, NOW + 10, user, "dave@example.org"), 0);
    assert_string_equal(user, "dave@example.org");
    assert_int_equal(irpd_store_token_consume(st, h1, NOW + 11, user, "dave@example.org"),
                     IRP_GONE);
    assert_int_equal(irpd_store_token_check(st, h1, NOW + 11, NULL), IRP_GONE);
    assert_int_equal(irpd_store_token_consume(st, h3, NOW, user, NULL), IRP_FORBIDDEN);

    /* Expired: gone, and the attempt does not use it up. */
    assert_int_equal(irpd_store_token_check(st, h2, NOW + 60, NULL), IRP_GONE);
    assert_int_equal(irpd_store_token_consume(st, h2, NOW + 60, NULL, NULL), IRP_GONE);
    assert_int_equal(irpd_store_token_check(st, h2, NOW + 59, NULL), 0);
    assert_int_equal(irpd_store_token_consume(st, h2, NOW + 59, NULL, NULL), 0);

    audit_log a;
    audit_all(st, NULL, &a);
    assert_int_equal(count_op(&a, "token-add "), 2);
    assert_int_equal(count_op(&a, "token-use "), 2);
    assert_int_equal(a.n, 4);
    irpd_store_close(st);

    /* Only hashes reach the file. */
    irpd_testdb_raw *db = raw_db("tokens.db");
    assert_int_equal(raw_int(db, "SELECT count(*) FROM tokens WHERE used IS NOT NULL"), 2);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM tokens WHERE length(hash) = 32"), 2);
    irpd_testdb_raw_close(db);
}

static void test_enroll_and_certs(void **state)
{
    irpd_store *st = create_db("certs.db");
    uint8_t h1[32], h2[32], fp[32], der[IRPD_STORE_CERT_DER_MAX];
    irpd_cert c, got;
    irpd_user u;
    seen s;
    hash_of("t-frank", h1);
    hash_of("t-grace", h2);
    assert_int_equal(irpd_store_token_add(st, h1, "frank@example.org", NOW + DAY, "cli", NOW), 0);
    assert_int_equal(irpd_store_token_add(st, h2, "grace@example.org", NOW + DAY, "cli", NOW), 0);

    /* A token for someone else: refused, and the token stays usable. */
    mkcert(&c, "0A1B", "grace@example.org", "der-grace-1", NOW + 365 * DAY);
    assert_int_equal(irpd_store_enroll(st, h1, &c, "frank@example.org", NOW, NULL), IRP_FORBIDDEN);
    assert_int_equal(irpd_store_token_check(st, h1, NOW, NULL), 0);

    /* Token enrolment creates the user, spelled as the token was issued. */
    mkcert(&c, "0A1B", "Frank@example.org", "der-frank-1", NOW + 365 * DAY);
    assert_int_equal(irpd_store_enroll(st, h1, &c, "frank@example.org", NOW, NULL), 0);
    assert_int_equal(irpd_store_user_get(st, "frank@example.org", &u), 0);
    assert_string_equal(u.name, "frank@example.org");
    assert_int_equal(irpd_store_enroll(st, h1, &c, "frank@example.org", NOW, NULL), IRP_GONE);

    /* A serial or fingerprint recorded already: 409, and grace's token stays unused. */
    mkcert(&c, "0a1b", "grace@example.org", "der-grace-1", NOW + 365 * DAY);
    assert_int_equal(irpd_store_enroll(st, h2, &c, NULL, NOW, NULL), IRP_CONFLICT);
    mkcert(&c, "0c", "grace@example.org", "der-frank-1", NOW + 365 * DAY);
    assert_int_equal(irpd_store_enroll(st, h2, &c, NULL, NOW, NULL), IRP_CONFLICT);
    assert_int_equal(irpd_store_token_check(st, h2, NOW, NULL), 0);
    assert_int_equal(irpd_store_user_get(st, "grace@example.org", &u), IRP_NOT_FOUND);

    /* Enrolment after a password login: the user must exist. */
    mkcert(&c, "0d", "heidi@example.org", "der-heidi-1", NOW + 365 * DAY);
    assert_int_equal(irpd_store_enroll(st, NULL, &c, NULL, NOW, NULL), IRP_NOT_FOUND);
    assert_int_equal(irpd_store_user_add(st, "heidi@example.org", "cli", NOW), 0);
    assert_int_equal(irpd_store_enroll(st, NULL, &c, "heidi@example.org", NOW, NULL), 0);

    /* Invalid records. */
    mkcert(&c, "xyz", "heidi@example.org", "der", NOW + DAY);
    assert_int_equal(irpd_store_cert_add(st, &c, NULL, NULL, NOW, NULL), IRP_BAD_REQUEST);
    mkcert(&c, "0e", "heidi@example.org", "", NOW + DAY);
    assert_int_equal(irpd_store_cert_add(st, &c, NULL, NULL, NOW, NULL), IRP_BAD_REQUEST);
    mkcert(&c, "0e", "heidi@example.org", "der", NOW - 2 * HOUR);
    assert_int_equal(irpd_store_cert_add(st, &c, NULL, NULL, NOW, NULL), IRP_BAD_REQUEST);
    mkcert(&c, "00", "heidi@example.org", "d", NOW + DAY);
    memset(c.serial, 'a', sizeof c.serial); /* 41 digits, no room for a NUL */
    assert_int_equal(irpd_store_cert_add(st, &c, NULL, NULL, NOW, NULL), IRP_BAD_REQUEST);
    mkcert(&c, "0e", "nobody@example.org", "der-x", NOW + DAY);
    assert_int_equal(irpd_store_cert_add(st, &c, NULL, NULL, NOW, NULL), IRP_NOT_FOUND);

    /* Renewal: a second certificate. */
    mkcert(&c, "0F", "frank@example.org", "der-frank-2", NOW + 400 * DAY);
    c.not_before = NOW;
    assert_int_equal(irpd_store_cert_add(st, &c, NULL, "frank@example.org", NOW, NULL), 0);

    /* cert-status by serial (any case), with and without the DER. */
    assert_int_equal(irpd_store_cert_get_serial(st, "0A1B", &got, der, sizeof der), 0);
    assert_string_equal(got.serial, "0a1b");
    assert_string_equal(got.user, "frank@example.org");
    assert_int_equal(got.der_len, strlen("der-frank-1"));
    assert_ptr_equal(got.der, der);
    assert_memory_equal(got.der, "der-frank-1", got.der_len);
    assert_int_equal(got.status, IRPD_CERT_VALID);
    assert_int_equal(got.not_after, NOW + 365 * DAY);
    assert_int_equal(got.not_before, NOW - HOUR);
    hash_of("der-frank-1", fp);
    assert_memory_equal(got.fingerprint, fp, 32);
    assert_int_equal(irpd_store_cert_get_serial(st, "0a1b", &got, NULL, 0), 0);
    assert_null(got.der);
    assert_int_equal(irpd_store_cert_get_serial(st, "0a1b", &got, der, 4), IRP_TOO_LARGE);
    assert_int_equal(irpd_store_cert_get_serial(st, "ff", &got, NULL, 0), IRP_NOT_FOUND);
    assert_int_equal(irpd_store_cert_get_serial(st, "0x1", &got, NULL, 0), IRP_BAD_REQUEST);

    /* cert-status by fingerprint. */
    assert_int_equal(irpd_store_cert_get_fp(st, fp, &got, der, sizeof der), 0);
    assert_string_equal(got.serial, "0a1b");
    hash_of("no such cert", fp);
    assert_int_equal(irpd_store_cert_get_fp(st, fp, &got, NULL, 0), IRP_NOT_FOUND);

    /* All of a user's certificates, oldest first. */
    memset(&s, 0, sizeof s);
    assert_int_equal(irpd_store_cert_list(st, "FRANK@example.org", on_cert, &s), 0);
    assert_int_equal(s.n_cert, 2);
    assert_string_equal(s.cert_serial[0], "0a1b");
    assert_string_equal(s.cert_serial[1], "0f");
    assert_int_equal(irpd_store_cert_list(st, "nobody@example.org", on_cert, &s), IRP_NOT_FOUND);

    audit_log a;
    audit_all(st, NULL, &a);
    assert_int_equal(count_op(&a, "enroll frank@example.org frank@example.org serial=0a1b"), 1);
    assert_int_equal(count_op(&a, "user-add frank@example.org frank@example.org by token"), 1);
    assert_int_equal(count_op(&a, "enroll heidi@example.org heidi@example.org serial=0d"), 1);
    assert_int_equal(count_op(&a, "renew frank@example.org frank@example.org serial=0f"), 1);
    assert_int_equal(count_op(&a, "token-use "), 0); /* enroll records the use itself */
    irpd_store_close(st);
}

/* A fourth valid certificate supersedes the one expiring first (IRP.md 6.5 step 5, 6.6). */
static void test_supersede(void **state)
{
    irpd_store *st = create_db("supersede.db");
    irpd_cert c, got;
    irpd_revocation sup;
    uint8_t fp2[32];
    seen s;
    assert_int_equal(irpd_store_user_add(st, A, "cli", NOW), 0);
    const char *der[] = {"der-a1", "der-a2", "der-a3", "der-a4", "der-a5"};
    const int64_t expiry[] = {NOW + 300 * DAY, NOW + 100 * DAY, NOW + 200 * DAY, NOW + DAY,
                              NOW + 50 * DAY};
    for (int i = 0; i < 3; i++) {
        char serial[8];
        snprintf(serial, sizeof serial, "%x", i + 1);
        mkcert(&c, serial, A, der[i], expiry[i]);
        memset(&sup, 0xff, sizeof sup);
        assert_int_equal(irpd_store_enroll(st, NULL, &c, A, NOW, &sup), 0);
        assert_int_equal(sup.n_certs, 0);
    }
    put(st, A, "phone", 1, NOW + HOUR, 0);

    /* renew with certificate 2 authenticating: the new one (4) and 2 are never chosen, so 3
     * goes, the first to expire among the others, and with it the bindings. */
    hash_of("der-a2", fp2);
    mkcert(&c, "4", A, der[3], expiry[3]);
    assert_int_equal(irpd_store_cert_add(st, &c, fp2, A, NOW, &sup), 0);
    assert_int_equal(sup.n_certs, 1);
    assert_string_equal(sup.serial, "3");
    assert_string_equal(sup.user, A);
    assert_int_equal(sup.n_bindings, 1);
    assert_int_equal(irpd_store_cert_get_serial(st, "3", &got, NULL, 0), 0);
    assert_int_equal(got.status, IRPD_CERT_REVOKED);
    assert_string_equal(got.reason, "superseded");
    assert_int_equal(n_live(st, A, NOW), 0);

    /* enroll a fifth: now 4 expires first among the others. */
    mkcert(&c, "5", A, der[4], expiry[4]);
    assert_int_equal(irpd_store_enroll(st, NULL, &c, A, NOW, &sup), 0);
    assert_string_equal(sup.serial, "4");
    assert_int_equal(lookup(st, A, A, NOW, &s), 0);
    assert_int_equal(s.n_cert, 5); /* 3 valid, then 2 revoked */
    assert_int_equal(s.cert_status[2], IRPD_CERT_VALID);
    assert_int_equal(s.cert_status[3], IRPD_CERT_REVOKED);

    audit_log a;
    audit_all(st, A, &a);
    assert_int_equal(count_op(&a, "revoke alice@example.org alice@example.org serial=3 "
                                  "reason=superseded bindings=1"),
                     1);
    irpd_store_close(st);
}

/* ---- bindings ------------------------------------------------------------------------- */

static void test_binding_seq(void **state)
{
    irpd_store *st = create_db("seq.db");
    irpd_binding b;
    seen s;
    uint64_t seq;
    add_user_cert(st, A, "a1");

    mkbind(&b, A, "phone", 5, 4605, NOW + HOUR, "2001:db8::5", "10.0.0.5");
    assert_int_equal(irpd_store_binding_put(st, &b, NULL, A, NOW), 0);

    /* Equal or lower seq: 409, and the stored binding is intact. */
    mkbind(&b, A, "phone", 5, 9999, NOW + 2 * HOUR, "2001:db8::bad", NULL);
    assert_int_equal(irpd_store_binding_put(st, &b, NULL, A, NOW + 1), IRP_CONFLICT);
    b.seq = 4;
    assert_int_equal(irpd_store_binding_put(st, &b, NULL, A, NOW + 1), IRP_CONFLICT);
    memset(&s, 0, sizeof s);
    assert_int_equal(irpd_store_binding_list(st, A, NOW + 2, on_bind, &s), 0);
    assert_int_equal(s.n_bind, 1);
    assert_int_equal(s.bind[0].seq, 5);
    assert_int_equal(s.bind[0].port, 4605);
    assert_int_equal(s.bind[0].n_addrs, 2);
    assert_string_equal(s.bind[0].addrs[0], "2001:db8::5");
    assert_string_equal(s.bind[0].addrs[1], "10.0.0.5");
    assert_string_equal(s.bind[0].seen, "2001:db8::5");
    assert_int_equal(s.bind[0].expires, NOW + HOUR);
    assert_int_equal(s.bind[0].updated, NOW);
    assert_string_equal(s.bind[0].user, A);
    assert_string_equal(s.bind[0].device, "phone");

    /* Higher replaces; the whole u64 range keeps its order. */
    const uint64_t order[] = {6, UINT64_C(0x7fffffffffffffff), UINT64_C(0x8000000000000000),
                              UINT64_MAX};
    for (size_t i = 0; i < 4; i++) {
        mkbind(&b, A, "phone", order[i], 4606, NOW + HOUR, "2001:db8::6", NULL);
        assert_int_equal(irpd_store_binding_put(st, &b, NULL, A, NOW + 3 + (int64_t)i), 0);
        if (i > 0) {
            b.seq = order[i - 1];
            assert_int_equal(irpd_store_binding_put(st, &b, NULL, A, NOW + 9), IRP_CONFLICT);
        }
    }
    memset(&s, 0, sizeof s);
    assert_int_equal(irpd_store_binding_list(st, A, NOW + 9, on_bind, &s), 0);
    assert_true(s.bind[0].seq == UINT64_MAX);
    assert_int_equal(s.bind[0].updated, NOW + 6);

    /* The seq outlives the binding: after unregister, expiry or revocation a lower one is
     * still refused (a delayed register cannot resurrect it, IRP.md 6.7 step 2). */
    mkbind(&b, A, "laptop", 10, 4605, NOW + HOUR, "192.168.1.20", NULL);
    assert_int_equal(irpd_store_binding_put(st, &b, NULL, A, NOW), 0);
    assert_int_equal(irpd_store_binding_delete(st, A, "laptop", NULL, A, NOW, NULL), 0);
    b.seq = 9;
    assert_int_equal(irpd_store_binding_put(st, &b, NULL, A, NOW + 1), IRP_CONFLICT);
    b.seq = 11;
    b.expires = NOW + 60;
    assert_int_equal(irpd_store_binding_put(st, &b, NULL, A, NOW + 1), 0);
    assert_int_equal(n_live(st, A, NOW + 60), 1); /* only the phone: the laptop expired */
    b.seq = 11;
    b.expires = NOW + 2 * HOUR;
    assert_int_equal(irpd_store_binding_put(st, &b, NULL, A, NOW + 61), IRP_CONFLICT);
    b.seq = 12;
    assert_int_equal(irpd_store_binding_put(st, &b, NULL, A, NOW + 61), 0);

    /* unregister with seq: only above the stored one, which it then raises. */
    seq = 12;
    assert_int_equal(irpd_store_binding_delete(st, A, "laptop", &seq, A, NOW + 62, NULL),
                     IRP_CONFLICT);
    assert_int_equal(n_live(st, A, NOW + 62), 2);
    seq = 20;
    assert_int_equal(irpd_store_binding_delete(st, A, "laptop", &seq, A, NOW + 62, NULL), 0);
    b.seq = 19;
    assert_int_equal(irpd_store_binding_put(st, &b, NULL, A, NOW + 63), IRP_CONFLICT);
    assert_int_equal(irpd_store_binding_delete(st, A, NULL, &seq, A, NOW, NULL),
                     IRP_BAD_REQUEST); /* seq only with a device */

    /* Invalid bindings. */
    irpd_binding bad;
    mkbind(&bad, A, "bad device", 99, 4605, NOW + HOUR, "::1", NULL);
    assert_int_equal(irpd_store_binding_put(st, &bad, NULL, A, NOW), IRP_BAD_REQUEST);
    mkbind(&bad, A, "", 99, 4605, NOW + HOUR, "::1", NULL);
    assert_int_equal(irpd_store_binding_put(st, &bad, NULL, A, NOW), IRP_BAD_REQUEST);
    mkbind(&bad, A, "d", 99, 0, NOW + HOUR, "::1", NULL);
    assert_int_equal(irpd_store_binding_put(st, &bad, NULL, A, NOW), IRP_BAD_REQUEST);
    mkbind(&bad, A, "d", 99, 1, NOW, "::1", NULL);
    assert_int_equal(irpd_store_binding_put(st, &bad, NULL, A, NOW), IRP_BAD_REQUEST);
    mkbind(&bad, A, "d", 99, 1, NOW + 1, "a b", NULL);
    assert_int_equal(irpd_store_binding_put(st, &bad, NULL, A, NOW), IRP_BAD_REQUEST);
    mkbind(&bad, A, "d", 99, 1, NOW + 1, "", NULL);
    assert_int_equal(irpd_store_binding_put(st, &bad, NULL, A, NOW), IRP_BAD_REQUEST);
    mkbind(&bad, A, "d", 99, 1, NOW + 1, "::1", NULL);
    bad.n_addrs = 0;
    assert_int_equal(irpd_store_binding_put(st, &bad, NULL, A, NOW), IRP_BAD_REQUEST);
    bad.n_addrs = IRPD_STORE_ADDRS_MAX + 1;
    assert_int_equal(irpd_store_binding_put(st, &bad, NULL, A, NOW), IRP_BAD_REQUEST);
    mkbind(&bad, "x@example.org", "d", 99, 1, NOW + 1, "::1", NULL);
    assert_int_equal(irpd_store_binding_put(st, &bad, NULL, A, NOW), IRP_NOT_FOUND);

    /* Eight addresses round-trip, in order. */
    mkbind(&b, A, "router", 1, 65535, NOW + HOUR, "a0", NULL);
    for (int i = 1; i < IRPD_STORE_ADDRS_MAX; i++)
        snprintf(b.addrs[b.n_addrs++], sizeof b.addrs[0], "2001:db8:ffff:ffff:ffff:ffff:ffff:%x",
                 i);
    assert_int_equal(irpd_store_binding_put(st, &b, NULL, A, NOW), 0);
    memset(&s, 0, sizeof s);
    assert_int_equal(irpd_store_binding_list(st, A, NOW, on_bind, &s), 0);
    assert_int_equal(s.n_bind, 2);
    assert_string_equal(s.bind[1].device, "router");
    assert_int_equal(s.bind[1].n_addrs, IRPD_STORE_ADDRS_MAX);
    assert_string_equal(s.bind[1].addrs[0], "a0");
    assert_string_equal(s.bind[1].addrs[7], "2001:db8:ffff:ffff:ffff:ffff:ffff:7");
    assert_int_equal(s.bind[1].port, 65535);

    audit_log a;
    audit_all(st, A, &a);
    assert_int_equal(count_op(&a, "register "), 9); /* only the accepted ones */
    assert_int_equal(count_op(&a, "unregister "), 2);
    irpd_store_close(st);
}

static void test_device_limit(void **state)
{
    irpd_store *st = create_db("devices.db");
    char dev[16];
    add_user_cert(st, A, "a1");
    for (int i = 0; i < IRPD_STORE_DEVICES_MAX; i++) {
        snprintf(dev, sizeof dev, "d%d", i);
        put(st, A, dev, 1, NOW + (i == 0 ? 60 : HOUR), 0);
    }
    put(st, A, "ninth", 1, NOW + HOUR, IRP_CONFLICT);
    put(st, A, "d3", 2, NOW + HOUR, 0); /* a registered device may renew */
    /* Once one expires, another device fits. */
    assert_int_equal(put_at(st, A, "ninth", 1, NOW + HOUR, NOW + 60), 0);
    assert_int_equal(n_live(st, A, NOW + 60), IRPD_STORE_DEVICES_MAX);
    assert_int_equal(irpd_store_binding_delete(st, A, "d1", NULL, A, NOW + 61, NULL), 0);
    assert_int_equal(put_at(st, A, "tenth", 1, NOW + HOUR, NOW + 62), 0);
    irpd_store_close(st);
}

/* The client's certificate, checked (or recorded) in the register's transaction. */
static void test_binding_auth_cert(void **state)
{
    irpd_store *st = create_db("authcert.db");
    irpd_binding b;
    irpd_cert ca, cb, ext, other, got;
    uint8_t fp[32];
    add_user_cert(st, A, "a1");
    add_user_cert(st, B, "b1");
    mkcert(&ca, "a1", A, "der-a1", NOW + 365 * DAY);
    mkcert(&cb, "b1", B, "der-b1", NOW + 365 * DAY);

    mkbind(&b, A, "phone", 1, 4605, NOW + HOUR, "2001:db8::1", NULL);
    assert_int_equal(irpd_store_binding_put(st, &b, &ca, A, NOW), 0);
    b.seq = 2;
    assert_int_equal(irpd_store_binding_put(st, &b, &cb, A, NOW), IRP_FORBIDDEN); /* bob's */

    /* An external CA's certificate is recorded with the registration (IRP.md 7.6). */
    mkcert(&ext, "a1", A, "der-external-a", NOW + 30 * DAY); /* same serial as ours: fine */
    assert_int_equal(irpd_store_binding_put(st, &b, &ext, A, NOW), 0);
    hash_of("der-external-a", fp);
    assert_int_equal(irpd_store_cert_get_fp(st, fp, &got, NULL, 0), 0);
    assert_string_equal(got.user, A);
    assert_int_equal(irpd_store_cert_get_serial(st, "a1", &got, NULL, 0), 0);
    assert_int_equal(got.not_after, NOW + 365 * DAY); /* the serial finds ours */
    /* one naming another user is refused */
    mkcert(&other, "77", B, "der-external-b", NOW + 30 * DAY);
    b.seq = 3;
    assert_int_equal(irpd_store_binding_put(st, &b, &other, A, NOW), IRP_FORBIDDEN);

    /* After the revocation the certificate can no longer register: the race is closed. */
    assert_int_equal(irpd_store_cert_revoke(st, "a1", NULL, "key-compromise", A, NOW, NULL), 0);
    assert_int_equal(irpd_store_binding_put(st, &b, &ca, A, NOW), IRP_FORBIDDEN);
    /* nor an expired one */
    assert_int_equal(irpd_store_binding_put(st, &b, &ext, A, NOW + 31 * DAY), IRP_BAD_REQUEST);
    b.expires = NOW + 32 * DAY;
    assert_int_equal(irpd_store_binding_put(st, &b, &ext, A, NOW + 31 * DAY), IRP_FORBIDDEN);

    audit_log a;
    audit_all(st, A, &a);
    assert_int_equal(count_op(&a, "cert-record alice@example.org alice@example.org serial=a1"), 1);
    irpd_store_close(st);
}

static void test_expiry_sweep_unregister(void **state)
{
    irpd_store *st = create_db("expiry.db");
    seen s;
    size_t n = 99;
    add_user_cert(st, A, "a1");
    add_user_cert(st, B, "b1");
    put(st, A, "short", 1, NOW + 60, 0);
    put(st, A, "long", 1, NOW + HOUR, 0);
    put(st, B, "bshort", 1, NOW + 60, 0);
    put(st, B, "blong", 1, NOW + DAY, 0);

    /* Live while now < expires, in lookups and lists alike, swept or not. */
    assert_int_equal(lookup(st, B, A, NOW + 59, &s), 0);
    assert_int_equal(s.n_bind, 2);
    assert_int_equal(lookup(st, B, A, NOW + 60, &s), 0);
    assert_int_equal(s.n_bind, 1);
    assert_string_equal(s.bind[0].device, "long");
    assert_int_equal(n_live(st, A, NOW + HOUR), 0);

    /* The sweep reports each expired binding once. */
    memset(&s, 0, sizeof s);
    assert_int_equal(irpd_store_sweep(st, NOW + 60, on_bind, &s, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(s.n_bind, 2);
    assert_true(strcmp(s.bind[0].device, "short") == 0 || strcmp(s.bind[1].device, "short") == 0);
    assert_true(strcmp(s.bind[0].user, B) == 0 || strcmp(s.bind[1].user, B) == 0);
    memset(&s, 0, sizeof s);
    assert_int_equal(irpd_store_sweep(st, NOW + 61, on_bind, &s, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(s.n_bind, 0);
    assert_int_equal(n_live(st, A, NOW), 1); /* the swept one is gone even at an earlier now */

    /* A callback that stops rolls the sweep back. */
    memset(&s, 0, sizeof s);
    s.stop_after = 1;
    assert_int_equal(irpd_store_sweep(st, NOW + 2 * HOUR, on_bind, &s, &n), IRP_INTERNAL);
    assert_non_null(strstr(irpd_store_errmsg(st), "stopped"));
    memset(&s, 0, sizeof s);
    assert_int_equal(irpd_store_sweep(st, NOW + 2 * HOUR, on_bind, &s, &n), 0);
    assert_int_equal(n, 1); /* "long" again, since the first try was undone */
    assert_string_equal(s.bind[0].device, "long");

    /* Ended bindings are forgotten IRPD_STORE_SEQ_KEEP s after they end (their expiry). */
    irpd_testdb_raw *db = raw_db("expiry.db");
    assert_int_equal(raw_int(db, "SELECT count(*) FROM bindings"), 4);
    put(st, A, "short", 1, NOW + 3 * DAY, IRP_CONFLICT); /* its seq is still known */
    assert_int_equal(irpd_store_sweep(st, NOW + 60 + IRPD_STORE_SEQ_KEEP - 1, NULL, NULL, &n), 0);
    assert_int_equal(n, 1); /* blong */
    assert_int_equal(raw_int(db, "SELECT count(*) FROM bindings"), 4);
    assert_int_equal(irpd_store_sweep(st, NOW + 60 + IRPD_STORE_SEQ_KEEP, NULL, NULL, &n), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM bindings"), 2);
    irpd_testdb_raw_close(db);
    put(st, A, "short", 1, NOW + 3 * DAY, 0); /* forgotten: seq 1 is fine again */

    /* Unregister one device, then all. */
    put(st, A, "tablet", 1, NOW + HOUR, 0);
    assert_int_equal(irpd_store_binding_delete(st, A, "tablet", NULL, A, NOW, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(irpd_store_binding_delete(st, A, "tablet", NULL, A, NOW, &n), IRP_NOT_FOUND);
    assert_int_equal(irpd_store_binding_delete(st, A, "never", NULL, A, NOW, &n), IRP_NOT_FOUND);
    assert_int_equal(irpd_store_binding_delete(st, A, "bad device", NULL, A, NOW, &n),
                     IRP_BAD_REQUEST);
    assert_int_equal(irpd_store_binding_delete(st, "x@example.org", NULL, NULL, A, NOW, &n),
                     IRP_NOT_FOUND);
    put(st, A, "tablet", 2, NOW + HOUR, 0);
    assert_int_equal(irpd_store_binding_delete(st, A, NULL, NULL, A, NOW, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(n_live(st, A, NOW), 0);
    assert_int_equal(irpd_store_binding_delete(st, A, NULL, NULL, A, NOW, &n), 0);
    assert_int_equal(n, 0); /* all on a user with no binding: 200 */

    audit_log a;
    audit_all(st, NULL, &a);
    assert_int_equal(count_op(&a, "expire - - bindings=2"), 1);
    assert_int_equal(count_op(&a, "expire - - bindings=1"), 2);
    assert_int_equal(count_op(&a, "unregister alice@example.org alice@example.org device=tablet"),
                     1);
    assert_int_equal(count_op(&a, "unregister alice@example.org alice@example.org all=2"), 1);
    irpd_store_close(st);
}

/* ---- revocation ------------------------------------------------------------------------ */

static void test_revocation(void **state)
{
    irpd_store *st = create_db("revoke.db");
    irpd_revocation r;
    irpd_cert got;
    seen s;
    uint8_t fp[32];
    add_user_cert(st, A, "a1");
    add_user_cert(st, A, "a2");
    add_user_cert(st, B, "b1");
    put(st, A, "phone", 1, NOW + HOUR, 0);
    put(st, A, "laptop", 1, NOW + HOUR, 0);
    put(st, B, "phone", 1, NOW + HOUR, 0);

    assert_int_equal(
        irpd_store_cert_revoke(st, "A1", NULL, "key-compromise", "admin@example.org", NOW + 10, &r),
        0);
    assert_string_equal(r.user, A);
    assert_int_equal(r.n_certs, 1);
    assert_string_equal(r.serial, "a1");
    hash_of("der-a1", fp);
    assert_memory_equal(r.fingerprint, fp, 32);
    assert_int_equal(r.n_bindings, 2);

    /* The user's bindings end at once; other users' stay. */
    assert_int_equal(lookup(st, B, A, NOW + 11, &s), 0);
    assert_int_equal(s.n_bind, 0);
    assert_int_equal(s.n_cert, 2); /* valid first (with DER), then revoked (without) */
    assert_string_equal(s.cert_serial[0], "a2");
    assert_int_equal(s.cert_status[0], IRPD_CERT_VALID);
    assert_true(s.cert_has_der[0]);
    assert_string_equal(s.cert_serial[1], "a1");
    assert_int_equal(s.cert_status[1], IRPD_CERT_REVOKED);
    assert_false(s.cert_has_der[1]);
    assert_string_equal(s.cert_reason[1], "key-compromise");
    assert_int_equal(lookup(st, A, B, NOW + 11, &s), 0);
    assert_int_equal(s.n_bind, 1);

    assert_int_equal(irpd_store_cert_get_serial(st, "a1", &got, NULL, 0), 0);
    assert_int_equal(got.status, IRPD_CERT_REVOKED);
    assert_int_equal(got.revoked_at, NOW + 10);
    assert_string_equal(got.reason, "key-compromise");
    assert_int_equal(irpd_store_cert_get_serial(st, "a2", &got, NULL, 0), 0);
    assert_int_equal(got.status, IRPD_CERT_VALID);
    assert_int_equal(got.revoked_at, 0);

    /* Again, by fingerprint: 200, the first revocation stands, nothing changes. */
    put(st, A, "phone", 2, NOW + HOUR, 0);
    assert_int_equal(irpd_store_cert_revoke(st, NULL, fp, "superseded", NULL, NOW + 20, &r), 0);
    assert_int_equal(r.n_certs, 0);
    assert_int_equal(r.n_bindings, 0);
    assert_int_equal(n_live(st, A, NOW + 21), 1);
    assert_int_equal(irpd_store_cert_get_serial(st, "a1", &got, NULL, 0), 0);
    assert_int_equal(got.revoked_at, NOW + 10);
    assert_string_equal(got.reason, "key-compromise");

    /* Refusals. */
    assert_int_equal(irpd_store_cert_revoke(st, "99", NULL, NULL, NULL, NOW, &r), IRP_NOT_FOUND);
    hash_of("unknown", fp);
    assert_int_equal(irpd_store_cert_revoke(st, NULL, fp, NULL, NULL, NOW, &r), IRP_NOT_FOUND);
    assert_int_equal(irpd_store_cert_revoke(st, "zz", NULL, NULL, NULL, NOW, &r), IRP_BAD_REQUEST);
    assert_int_equal(irpd_store_cert_revoke(st, "a2", fp, NULL, NULL, NOW, &r), IRP_BAD_REQUEST);
    assert_int_equal(irpd_store_cert_revoke(st, NULL, NULL, NULL, NULL, NOW, &r), IRP_BAD_REQUEST);
    assert_int_equal(irpd_store_cert_revoke(st, "a2", NULL, "bad reason", NULL, NOW, &r),
                     IRP_BAD_REQUEST);

    /* Revoke a user: every valid certificate, every binding. */
    assert_int_equal(irpd_store_user_revoke(st, A, "cessation-of-operation", "cli", NOW + 30, &r),
                     0);
    assert_int_equal(r.n_certs, 1);
    assert_string_equal(r.serial, "a2");
    assert_int_equal(r.n_bindings, 1);
    assert_int_equal(lookup(st, B, A, NOW + 31, &s), 0);
    assert_int_equal(s.n_bind, 0);
    assert_int_equal(s.n_cert, 2);
    assert_string_equal(s.cert_serial[0], "a2"); /* most recently revoked first */
    assert_string_equal(s.cert_reason[0], "cessation-of-operation");
    assert_string_equal(s.cert_reason[1], "key-compromise");
    assert_int_equal(irpd_store_user_revoke(st, "x@example.org", NULL, NULL, NOW, &r),
                     IRP_NOT_FOUND);

    audit_log a;
    audit_all(st, A, &a);
    assert_int_equal(count_op(&a, "revoke admin@example.org alice@example.org serial=a1 "
                                  "reason=key-compromise bindings=2"),
                     1);
    assert_int_equal(count_op(&a, "revoke cli alice@example.org all certificates=1"), 1);
    assert_int_equal(count_op(&a, "revoke "), 2); /* the repeated revocation changed nothing */
    irpd_store_close(st);
}

/* A lookup reports at most 3 valid certificates (newest first) and 8 in all (IRP.md 6.9). */
static void test_lookup_certificates(void **state)
{
    irpd_store *st = create_db("lookcerts.db");
    irpd_cert c;
    irpd_binding b;
    char serial[8], der[10][16];
    seen s;
    assert_int_equal(irpd_store_user_add(st, A, "cli", NOW), 0);
    /* 10..16 revoked (10 expires before the lookup), 17..19 valid */
    for (int i = 0; i < 10; i++) {
        snprintf(serial, sizeof serial, "%x", 0x10 + i);
        snprintf(der[i], sizeof der[i], "der-%d", i);
        mkcert(&c, serial, A, der[i], i == 0 ? NOW + 10 : NOW + 365 * DAY);
        c.not_before = NOW - 100 + i;
        assert_int_equal(irpd_store_cert_add(st, &c, NULL, "cli", NOW, NULL), 0);
        if (i < 7)
            assert_int_equal(irpd_store_cert_revoke(st, serial, NULL, NULL, "cli", NOW + i, NULL),
                             0);
    }
    /* two external CA certificates, recorded by registering with them: e2 expires soon */
    mkbind(&b, A, "d1", 1, 4605, NOW + HOUR, "2001:db8::1", NULL);
    mkcert(&c, "e1", A, "der-e1", NOW + 30 * DAY);
    c.not_before = NOW - 90;
    assert_int_equal(irpd_store_binding_put(st, &b, &c, A, NOW), 0);
    b.seq = 2;
    mkcert(&c, "e2", A, "der-e2", NOW + 10);
    c.not_before = NOW - 80;
    assert_int_equal(irpd_store_binding_put(st, &b, &c, A, NOW), 0);

    assert_int_equal(lookup(st, A, A, NOW + 20, &s), 0);
    assert_int_equal(s.n_cert, IRPD_STORE_LOOKUP_CERTS);
    /* valid and unexpired (17, 18, 19, e1), newest first, at most 3, with DER */
    assert_string_equal(s.cert_serial[0], "e1");
    assert_string_equal(s.cert_serial[1], "19");
    assert_string_equal(s.cert_serial[2], "18");
    assert_int_equal(s.cert_status[2], IRPD_CERT_VALID);
    assert_true(s.cert_has_der[2]);
    /* then revoked and unexpired, most recently revoked first, without DER, 8 in all */
    assert_string_equal(s.cert_serial[3], "16");
    assert_int_equal(s.cert_status[3], IRPD_CERT_REVOKED);
    assert_false(s.cert_has_der[3]);
    assert_string_equal(s.cert_serial[7], "12");
    irpd_store_close(st);
}

/* ---- PKCS#12 ----------------------------------------------------------------------- */

static void test_p12(void **state)
{
    irpd_store *st = create_db("p12.db");
    static uint8_t blob[IRPD_STORE_P12_MAX + 1], buf[IRPD_STORE_P12_MAX];
    size_t len = 0;
    int64_t updated = 0;
    for (size_t i = 0; i < sizeof blob; i++)
        blob[i] = (uint8_t)(i * 7);
    add_user_cert(st, A, "a1");

    assert_int_equal(irpd_store_p12_get(st, A, buf, sizeof buf, &len, &updated), IRP_NOT_FOUND);
    assert_int_equal(irpd_store_p12_put(st, A, blob, 100, A, NOW), 0);
    assert_int_equal(irpd_store_p12_get(st, A, buf, sizeof buf, &len, &updated), 0);
    assert_int_equal(len, 100);
    assert_int_equal(updated, NOW);
    assert_memory_equal(buf, blob, 100);
    assert_int_equal(irpd_store_p12_put(st, A, blob, IRPD_STORE_P12_MAX, A, NOW + 5), 0);
    assert_int_equal(irpd_store_p12_get(st, A, buf, sizeof buf, &len, NULL), 0);
    assert_int_equal(len, IRPD_STORE_P12_MAX);
    assert_memory_equal(buf, blob, IRPD_STORE_P12_MAX);
    assert_int_equal(irpd_store_p12_get(st, A, buf, 10, &len, &updated), IRP_TOO_LARGE);
    assert_int_equal(irpd_store_p12_put(st, A, blob, IRPD_STORE_P12_MAX + 1, A, NOW),
                     IRP_TOO_LARGE);
    assert_int_equal(irpd_store_p12_put(st, A, blob, 0, A, NOW), IRP_BAD_REQUEST);
    assert_int_equal(irpd_store_p12_put(st, "x@example.org", blob, 10, A, NOW), IRP_NOT_FOUND);
    assert_int_equal(irpd_store_p12_get(st, "x@example.org", buf, sizeof buf, &len, NULL),
                     IRP_NOT_FOUND);

    audit_log a;
    audit_all(st, A, &a);
    assert_int_equal(count_op(&a, "pkcs12-put "), 2);
    irpd_store_close(st);
}

/* ---- audit and the access log --------------------------------------------------------- */

static void test_audit(void **state)
{
    irpd_store *st = create_db("audit.db");
    audit_log a;
    assert_int_equal(
        irpd_store_audit_add(st, NOW, "mallory@example.org", "login-failed", A, "from 192.0.2.66"),
        0);
    assert_int_equal(irpd_store_audit_add(st, NOW, NULL, "note", NULL, NULL), 0);
    assert_int_equal(irpd_store_audit_add(st, NOW, NULL, "", NULL, NULL), IRP_BAD_REQUEST);
    assert_int_equal(irpd_store_audit_add(st, NOW, NULL, "bad op", NULL, NULL), IRP_BAD_REQUEST);
    assert_int_equal(irpd_store_audit_add(st, NOW, NULL, "x", NULL, "line\nbreak"),
                     IRP_BAD_REQUEST);
    for (int i = 0; i < 5; i++)
        assert_int_equal(irpd_store_audit_add(st, NOW + i, "cli", "note", "t@example.org", NULL),
                         0);

    audit_all(st, NULL, &a);
    assert_int_equal(a.n, 7);
    assert_string_equal(a.line[0],
                        "login-failed mallory@example.org alice@example.org from 192.0.2.66");
    /* Paging: after_id and limit. */
    memset(&a, 0, sizeof a);
    assert_int_equal(irpd_store_audit_list(st, "T@example.org", 0, 2, on_audit, &a), 0);
    assert_int_equal(a.n, 2);
    int64_t after = a.last_id;
    memset(&a, 0, sizeof a);
    assert_int_equal(irpd_store_audit_list(st, "t@example.org", after, 100, on_audit, &a), 0);
    assert_int_equal(a.n, 3);

    /* Append-only: the table itself refuses changes. */
    irpd_store_close(st);
    irpd_testdb_raw *db = raw_db("audit.db");
    assert_int_not_equal(irpd_testdb_raw_exec(db, "UPDATE audit SET op = 'x'"), 0);
    assert_non_null(strstr(irpd_testdb_raw_errmsg(db), "append-only"));
    assert_int_not_equal(irpd_testdb_raw_exec(db, "DELETE FROM audit"), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit"), 7);
    irpd_testdb_raw_close(db);
}

/* access-log (IRP.md 6.15): other users' allowed lookups, watches and user-info gets. */
static void test_access_log(void **state)
{
    irpd_store *st = create_db("accesslog.db");
    audit_log a;
    add_user_cert(st, A, "a1");
    add_user_cert(st, B, "b1");
    add_user_cert(st, C, "c1");
    const char *allow[] = {B};
    assert_int_equal(irpd_store_user_set_access(st, A, IRPD_ACCESS_LIST, allow, 1, A, NOW), 0);
    assert_int_equal(irpd_store_lookup(st, B, A, NOW, 0, NULL, NULL, NULL), 0);
    assert_int_equal(irpd_store_lookup(st, C, A, NOW, 0, NULL, NULL, NULL), IRP_FORBIDDEN);
    assert_int_equal(irpd_store_lookup(st, A, A, NOW, 0, NULL, NULL, NULL), 0);
    assert_int_equal(
        irpd_store_lookup(st, "BOB@example.org", A, NOW + 1, IRPD_LOOKUP_WATCH, NULL, NULL, NULL),
        0);
    assert_int_equal(irpd_store_lookup(st, B, A, NOW + 2, IRPD_LOOKUP_USER_INFO, NULL, NULL, NULL),
                     0);
    assert_int_equal(irpd_store_lookup(st, A, B, NOW + 3, 0, NULL, NULL, NULL), 0);

    /* Not written yet: the access log shows written records only. */
    memset(&a, 0, sizeof a);
    assert_int_equal(irpd_store_access_log(st, A, 0, 24, on_audit, &a), 0);
    assert_int_equal(a.n, 0);
    assert_int_equal(irpd_store_flush(st), 0);
    memset(&a, 0, sizeof a);
    assert_int_equal(irpd_store_access_log(st, "ALICE@example.org", 0, 24, on_audit, &a), 0);
    assert_int_equal(a.n, 3);
    assert_string_equal(a.line[0], "lookup bob@example.org alice@example.org ok");
    assert_string_equal(a.line[1], "watch BOB@example.org alice@example.org ok");
    assert_string_equal(a.line[2], "user-info bob@example.org alice@example.org ok");
    int64_t first = 0;
    memset(&a, 0, sizeof a);
    assert_int_equal(irpd_store_access_log(st, A, 0, 1, on_audit, &a), 0);
    first = a.last_id;
    memset(&a, 0, sizeof a);
    assert_int_equal(irpd_store_access_log(st, A, first, 24, on_audit, &a), 0);
    assert_int_equal(a.n, 2);
    memset(&a, 0, sizeof a);
    assert_int_equal(irpd_store_access_log(st, B, 0, 24, on_audit, &a), 0);
    assert_int_equal(a.n, 1);
    assert_int_equal(irpd_store_access_log(st, "bad", 0, 24, on_audit, &a), IRP_BAD_REQUEST);
    irpd_store_close(st);
}

/*
 * reads_take: the queued lookup records go to the caller (a server writes
 * them on its writer's connection, IRP.md 10.2) and are not written here.
 */
static void test_reads_take(void **state)
{
    irpd_store *st = create_db("readstake.db");
    audit_log a, t;
    add_user_cert(st, A, "a1");
    add_user_cert(st, B, "b1");
    assert_int_equal(irpd_store_lookup(st, B, A, NOW, 0, NULL, NULL, NULL), 0);
    assert_int_equal(irpd_store_lookup(st, B, A, NOW + 1, IRPD_LOOKUP_WATCH, NULL, NULL, NULL), 0);
    memset(&t, 0, sizeof t);
    assert_int_equal(irpd_store_reads_take(st, on_audit, &t), 0);
    assert_int_equal(t.n, 2);
    assert_string_equal(t.line[0], "lookup bob@example.org alice@example.org ok");
    assert_string_equal(t.line[1], "watch bob@example.org alice@example.org ok");
    /* taken, so neither taken again nor written by flush */
    memset(&t, 0, sizeof t);
    assert_int_equal(irpd_store_reads_take(st, on_audit, &t), 0);
    assert_int_equal(t.n, 0);
    assert_int_equal(irpd_store_flush(st), 0);
    memset(&a, 0, sizeof a);
    assert_int_equal(irpd_store_access_log(st, A, 0, 24, on_audit, &a), 0);
    assert_int_equal(a.n, 0);
    assert_int_equal(irpd_store_reads_take(st, NULL, NULL), IRP_BAD_REQUEST);
    irpd_store_close(st);
}

/* ---- group commit --------------------------------------------------------------------- */

static void test_batch(void **state)
{
    irpd_store *st = create_db("batch.db");
    irpd_store *other = open_db("batch.db", 0);
    seen s;
    irpd_user u;
    add_user_cert(st, A, "a1");
    add_user_cert(st, B, "b1");
    put(st, A, "phone", 10, NOW + HOUR, 0);

    assert_int_equal(irpd_store_batch_commit(st), IRP_INTERNAL); /* none open */
    assert_int_equal(irpd_store_batch_begin(st), 0);
    assert_int_equal(irpd_store_batch_begin(st), IRP_INTERNAL); /* one at a time */
    put(st, A, "laptop", 1, NOW + HOUR, 0);
    put(st, A, "phone", 9, NOW + HOUR, IRP_CONFLICT); /* refused alone, the batch goes on */
    put(st, A, "phone", 11, NOW + HOUR, 0);
    put(st, A, "phone", 11, NOW + HOUR, IRP_CONFLICT); /* against the batch's own state */
    put(st, B, "phone", 1, NOW + HOUR, 0);
    assert_int_equal(lookup(st, B, A, NOW, &s), 0);
    assert_int_equal(s.n_bind, 2); /* the batch sees its changes */

    /* Another connection sees nothing before the commit, everything after. */
    assert_int_equal(lookup(other, B, A, NOW, &s), 0);
    assert_int_equal(s.n_bind, 1);
    assert_int_equal(s.bind[0].seq, 10);
    assert_int_equal(irpd_store_batch_commit(st), 0);
    assert_int_equal(lookup(other, B, A, NOW, &s), 0);
    assert_int_equal(s.n_bind, 2);
    assert_int_equal(s.bind[1].seq, 11);

    /* A batch rolled back leaves nothing. */
    assert_int_equal(irpd_store_batch_begin(st), 0);
    put(st, A, "tablet", 1, NOW + HOUR, 0);
    assert_int_equal(irpd_store_user_add(st, C, "cli", NOW), 0);
    irpd_store_batch_rollback(st);
    irpd_store_batch_rollback(st); /* no-op */
    assert_int_equal(irpd_store_user_get(st, C, &u), IRP_NOT_FOUND);
    assert_int_equal(n_live(st, A, NOW), 2);

    /* A batch of reads only takes no lock: another store writes meanwhile. */
    irpd_store_close(other);
    irpd_store_opts quick = {.busy_timeout_ms = 50};
    assert_int_equal(irpd_testdb_open(tmpdir, "batch.db", &quick, &other), 0);
    assert_int_equal(irpd_store_batch_begin(st), 0);
    assert_int_equal(lookup(st, B, A, NOW, &s), 0);
    assert_int_equal(irpd_store_user_add(other, "dave@example.org", "cli", NOW), 0);
    assert_int_equal(lookup(st, "dave@example.org", A, NOW, &s), 0);
    assert_int_equal(irpd_store_batch_commit(st), 0);

    /* SQLite: from its first change a batch holds the write lock: another writer waits, then
     * fails clearly. PostgreSQL locks rows: another writer's unrelated change goes through.
     * Readers go on and do not see the batch. */
    assert_int_equal(irpd_store_batch_begin(st), 0);
    put(st, B, "laptop", 1, NOW + HOUR, 0);
    if (irpd_testdb_pg() == NULL) {
        assert_int_equal(irpd_store_user_add(other, "erin@example.org", "cli", NOW), IRP_INTERNAL);
        printf("  while locked: %s\n", irpd_store_errmsg(other));
        assert_non_null(strstr(irpd_store_errmsg(other), "locked"));
    } else {
        assert_int_equal(irpd_store_user_add(other, "erin@example.org", "cli", NOW), 0);
    }
    assert_int_equal(lookup(other, A, B, NOW, &s), 0);
    assert_int_equal(s.n_bind, 1);
    assert_int_equal(lookup(st, A, B, NOW, &s), 0);
    assert_int_equal(s.n_bind, 2);
    assert_int_equal(irpd_store_batch_commit(st), 0);
    assert_int_equal(irpd_store_user_add(other, "erin@example.org", "cli", NOW),
                     irpd_testdb_pg() == NULL ? 0 : IRP_CONFLICT);

    /* The batch's commit carried every queued lookup record, durably. */
    audit_log a;
    audit_all(other, A, &a);
    assert_int_equal(count_op(&a, "lookup dave@example.org alice@example.org ok"), 1);
    assert_int_equal(count_op(&a, "lookup bob@example.org alice@example.org ok"), 4);
    irpd_store_close(other);
    irpd_store_close(st);
}

/* Read records outside a batch: queued, written by the next commit or when the queue fills. */
static void test_lookup_queue(void **state)
{
    irpd_store *st = create_db("queue.db");
    irpd_store *other = open_db("queue.db", 0);
    audit_log a;
    add_user_cert(st, A, "a1");
    add_user_cert(st, B, "b1");

    assert_int_equal(irpd_store_lookup(st, B, A, NOW, 0, NULL, NULL, NULL), 0);
    audit_all(other, A, &a);
    assert_int_equal(count_op(&a, "lookup "), 0); /* queued */
    put(st, B, "phone", 1, NOW + HOUR, 0);        /* any commit writes the queue */
    audit_all(other, A, &a);
    assert_int_equal(count_op(&a, "lookup "), 1);

    for (int i = 0; i < IRPD_STORE_AUDIT_QUEUE + 1; i++)
        assert_int_equal(irpd_store_lookup(st, B, A, NOW + i, 0, NULL, NULL, NULL), 0);
    irpd_testdb_raw *db = raw_db("queue.db");
    int64_t n = raw_int(db, "SELECT count(*) FROM audit WHERE op = 'lookup'");
    assert_int_equal(n, 1 + IRPD_STORE_AUDIT_QUEUE); /* the full queue went before the last */
    irpd_store_close(st);                            /* close writes the rest */
    n = raw_int(db, "SELECT count(*) FROM audit WHERE op = 'lookup'");
    assert_int_equal(n, 2 + IRPD_STORE_AUDIT_QUEUE);
    irpd_testdb_raw_close(db);
    irpd_store_close(other);
}

/* ---- durability ---------------------------------------------------------------------- */

static void test_reopen_finds_everything(void **state)
{
    uint8_t h[32], p12[64], buf[IRPD_STORE_P12_MAX];
    size_t len;
    seen s;
    irpd_user u;
    irpd_cert got;
    hash_of("tok-reopen", h);
    memset(p12, 0x5a, sizeof p12);

    irpd_store *st = create_db("reopen.db");
    add_user_cert(st, A, "a1");
    add_user_cert(st, B, "b1");
    irpd_info info[] = {{"display-name", "Alice", 5}};
    assert_int_equal(irpd_store_info_set(st, A, info, 1, A, NOW), 0);
    const char *allow[] = {B};
    assert_int_equal(irpd_store_user_set_access(st, A, IRPD_ACCESS_LIST, allow, 1, A, NOW), 0);
    assert_int_equal(irpd_store_token_add(st, h, C, NOW + DAY, "cli", NOW), 0);
    assert_int_equal(irpd_store_token_consume(st, h, NOW, NULL, NULL), 0);
    put(st, A, "phone", 7, NOW + HOUR, 0);
    put(st, B, "phone", 3, NOW + HOUR, 0);
    assert_int_equal(irpd_store_cert_revoke(st, "b1", NULL, "superseded", B, NOW, NULL), 0);
    assert_int_equal(irpd_store_p12_put(st, A, p12, sizeof p12, A, NOW), 0);
    assert_int_equal(lookup(st, B, A, NOW, &s), 0);
    irpd_store_close(st);

    st = open_db("reopen.db", 0);
    assert_int_equal(irpd_store_user_get(st, A, &u), 0);
    assert_int_equal(u.access, IRPD_ACCESS_LIST);
    memset(&s, 0, sizeof s);
    assert_int_equal(irpd_store_info_get(st, A, on_info, &s), 0);
    assert_string_equal(s.names[0], "display-name=Alice");
    assert_int_equal(lookup(st, B, A, NOW, &s), 0);
    assert_int_equal(s.n_bind, 1);
    assert_int_equal(s.bind[0].seq, 7);
    assert_int_equal(s.n_cert, 1);
    assert_int_equal(lookup(st, C, A, NOW, &s), IRP_FORBIDDEN);
    assert_int_equal(lookup(st, A, B, NOW, &s), 0);
    assert_int_equal(s.n_bind, 0); /* ended by the revocation */
    assert_int_equal(irpd_store_cert_get_serial(st, "b1", &got, NULL, 0), 0);
    assert_int_equal(got.status, IRPD_CERT_REVOKED);
    assert_int_equal(irpd_store_token_consume(st, h, NOW, NULL, NULL), IRP_GONE);
    put(st, A, "phone", 7, NOW + HOUR, IRP_CONFLICT); /* the seq survived too */
    put(st, B, "phone", 3, NOW + HOUR, IRP_CONFLICT); /* also for the ended binding */
    assert_int_equal(irpd_store_p12_get(st, A, buf, sizeof buf, &len, NULL), 0);
    assert_int_equal(len, sizeof p12);
    audit_log a;
    audit_all(st, A, &a);
    assert_int_equal(count_op(&a, "lookup bob@example.org alice@example.org ok"), 1);
    irpd_store_close(st);
}

static int on_bind_seq(void *arg, const irpd_binding *b)
{
    uint64_t *stored = arg;
    unsigned k = (unsigned)strtoul(b->device + 1, NULL, 10);
    assert_true(k < 50);
    stored[k] = b->seq;
    return 0;
}

/*
 * A writer process acknowledges registrations (writes each seq to a pipe
 * after irpd_store_binding_put returned 0) and is killed with SIGKILL
 * in the middle; every acknowledged one must be in the database.
 */
static void test_kill9_durability(void **state)
{
    irpd_store *st = create_db("kill.db");
    add_user_cert(st, A, "a1");
    irpd_store_close(st);

    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        irpd_store *w = NULL;
        close(fds[0]);
        if (irpd_testdb_open(tmpdir, "kill.db", NULL, &w) != 0) _exit(2);
        for (uint64_t seq = 1;; seq++) {
            irpd_binding b;
            char dev[16];
            snprintf(dev, sizeof dev, "d%llu", (unsigned long long)(seq % 8));
            mkbind(&b, A, dev, seq, 4605, NOW + DAY, "2001:db8::1", NULL);
            if (irpd_store_binding_put(w, &b, NULL, A, NOW) != 0) _exit(3);
            if (irpd_store_lookup(w, A, A, NOW, 0, NULL, NULL, NULL) != 0) _exit(5);
            if (write(fds[1], &seq, sizeof seq) != (ssize_t)sizeof seq) _exit(4);
        }
    }
    close(fds[1]);
    uint64_t acked = 0, seq;
    while (acked < 300 && read(fds[0], &seq, sizeof seq) == (ssize_t)sizeof seq)
        acked = seq;
    kill(pid, SIGKILL);
    while (read(fds[0], &seq, sizeof seq) == (ssize_t)sizeof seq)
        acked = seq;
    int wst;
    assert_int_equal(waitpid(pid, &wst, 0), pid);
    assert_true(WIFSIGNALED(wst));
    close(fds[0]);
    printf("  %llu registrations acknowledged before SIGKILL\n", (unsigned long long)acked);
    assert_true(acked >= 300);

    /* Each device holds at least its last acknowledged seq. */
    st = open_db("kill.db", 0);
    uint64_t stored[50] = {0};
    assert_int_equal(irpd_store_binding_list(st, A, NOW, on_bind_seq, stored), 0);
    irpd_store_close(st);
    for (uint64_t k = 0; k < 8; k++) {
        uint64_t last = acked - (acked + 8 - k) % 8; /* the largest seq <= acked on device k */
        assert_true(stored[k] >= last);
    }
}

/* ---- the lookup path: a performance smoke test ------------------------------------------ */

static double elapsed(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void test_lookup_rate(void **state)
{
    enum { USERS = 200, LOOKUPS = 10000, REGS = 200 };
    irpd_store *st = create_db("perf.db");
    char name[64], viewer[64], serial[16];
    struct timespec t0, t1;
    seen s;

    assert_int_equal(irpd_store_batch_begin(st), 0);
    for (int i = 0; i < USERS; i++) {
        snprintf(name, sizeof name, "user%d@example.org", i);
        snprintf(serial, sizeof serial, "%x", 0x1000 + i);
        add_user_cert(st, name, serial);
        put(st, name, "phone", 1, NOW + HOUR, 0);
        put(st, name, "laptop", 1, NOW + HOUR, 0);
    }
    assert_int_equal(irpd_store_batch_commit(st), 0);

    /* Lookups one by one. */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < LOOKUPS; i++) {
        snprintf(name, sizeof name, "user%d@example.org", i % USERS);
        snprintf(viewer, sizeof viewer, "user%d@example.org", (i * 7 + 1) % USERS);
        memset(&s, 0, sizeof s);
        assert_int_equal(irpd_store_lookup(st, viewer, name, NOW, 0, &LOOKUP_CB, &s, NULL), 0);
        assert_int_equal(s.n_bind, 2);
        assert_int_equal(s.n_cert, 1);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double rate1 = LOOKUPS / elapsed(&t0, &t1);

    /* Registrations: one commit (fsync) each, then in batches of 100 (group commit). */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < REGS; i++) {
        snprintf(name, sizeof name, "user%d@example.org", i % USERS);
        put(st, name, "phone", 2 + (uint64_t)i, NOW + HOUR, 0);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double rate2 = REGS / elapsed(&t0, &t1);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 10 * REGS; i++) {
        if (i % 100 == 0) assert_int_equal(irpd_store_batch_begin(st), 0);
        snprintf(name, sizeof name, "user%d@example.org", i % USERS);
        put(st, name, "laptop", 2 + (uint64_t)i, NOW + HOUR, 0);
        if (i % 100 == 99) assert_int_equal(irpd_store_batch_commit(st), 0);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double rate3 = 10 * REGS / elapsed(&t0, &t1);

    printf("  lookups: %.0f/s (one thread, audited, 2 bindings and a certificate each)\n", rate1);
    printf("  registrations: %.0f/s one commit each, %.0f/s in batches of 100\n", rate2, rate3);
    assert_int_equal(irpd_store_flush(st), 0);
    irpd_testdb_raw *db = raw_db("perf.db");
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit WHERE op = 'lookup'"), LOOKUPS);
    irpd_testdb_raw_close(db);
    irpd_store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_mode_and_pragmas),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_open_errors_pg),
        cmocka_unit_test(test_users),
        cmocka_unit_test(test_access_policy),
        cmocka_unit_test(test_user_info),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_enroll_and_certs),
        cmocka_unit_test(test_supersede),
        cmocka_unit_test(test_binding_seq),
        cmocka_unit_test(test_device_limit),
        cmocka_unit_test(test_binding_auth_cert),
        cmocka_unit_test(test_expiry_sweep_unregister),
        cmocka_unit_test(test_revocation),
        cmocka_unit_test(test_lookup_certificates),
        cmocka_unit_test(test_p12),
        cmocka_unit_test(test_audit),
        cmocka_unit_test(test_access_log),
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_lookup_queue),
        cmocka_unit_test(test_reopen_finds_everything),
        cmocka_unit_test(test_kill9_durability),
        cmocka_unit_test(test_lookup_rate),
        cmocka_unit_test(test_reads_take),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
