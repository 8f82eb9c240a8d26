/*
 * irpd_testdb.c - one store test, two backends (irpd_testdb.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>
#ifdef IRPD_HAVE_PG
#include <libpq-fe.h>
#endif

#include "irpd_testdb.h"

struct irpd_testdb_raw {
    sqlite3 *lite;
#ifdef IRPD_HAVE_PG
    PGconn *pg;
#endif
    char err[256];
};

const char *irpd_testdb_pg(void)
{
    const char *u = getenv("SC_TEST_PG_URI");
    return u != NULL && u[0] != '\0' ? u : NULL;
}

const char *irpd_testdb_backend(void)
{
    return irpd_testdb_pg() != NULL ? "pg" : "sqlite";
}

/* The schema of `name`, per process (a child after fork keeps its parent's). */
static void schema_of(const char *name, char *out, size_t cap)
{
    static long pid;
    if (pid == 0) pid = (long)getpid();
    int n = snprintf(out, cap, "t%ld_", pid);
    for (const char *p = name; *p != '\0' && (size_t)n + 1 < cap; p++)
        out[n++] = (char)((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ? *p : '_');
    out[n] = '\0';
}

void irpd_testdb_conninfo(const char *name, char *out, size_t cap)
{
    char schema[96];
    const char *uri = irpd_testdb_pg();
    schema_of(name, schema, sizeof schema);
    snprintf(out, cap, "%s%soptions=-csearch_path%%3D%s", uri != NULL ? uri : "",
             uri != NULL && strchr(uri, '?') != NULL ? "&" : "?", schema);
}

void irpd_testdb_reset(const char *dir, const char *name)
{
    char sql[256], schema[96];
    if (irpd_testdb_pg() == NULL) return;
    irpd_testdb_raw *db = irpd_testdb_raw_open(dir, name);
    if (db == NULL) abort();
    schema_of(name, schema, sizeof schema);
    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", schema, schema);
    if (irpd_testdb_raw_exec(db, sql) != 0) {
        fprintf(stderr, "reset %s: %s\n", schema, irpd_testdb_raw_errmsg(db));
        abort();
    }
    irpd_testdb_raw_close(db);
}

irp_status irpd_testdb_open(const char *dir, const char *name, const irpd_store_opts *opts,
                            irpd_store **out)
{
    char path[1024];
    if (irpd_testdb_pg() != NULL) {
#ifdef IRPD_HAVE_PG
        irpd_testdb_conninfo(name, path, sizeof path);
        return irpd_store_open_pg(path, opts, out);
#else
        fprintf(stderr, "SC_TEST_PG_URI set in a build without PostgreSQL\n");
        abort();
#endif
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return irpd_store_open_sqlite(path, opts, out);
}

irpd_testdb_raw *irpd_testdb_raw_open(const char *dir, const char *name)
{
    char path[1024];
    irpd_testdb_raw *db = calloc(1, sizeof *db);
    if (db == NULL) return NULL;
    if (irpd_testdb_pg() != NULL) {
#ifdef IRPD_HAVE_PG
        irpd_testdb_conninfo(name, path, sizeof path);
        db->pg = PQconnectdb(path);
        if (db->pg != NULL && PQstatus(db->pg) == CONNECTION_OK) {
            PGresult *r = PQexec(db->pg, "SET client_min_messages = warning");
            PQclear(r);
            return db;
        }
#endif
    } else {
        snprintf(path, sizeof path, "%s/%s", dir, name);
        if (sqlite3_open_v2(path, &db->lite, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK) return db;
    }
    irpd_testdb_raw_close(db);
    return NULL;
}

int64_t irpd_testdb_raw_int(irpd_testdb_raw *db, const char *sql)
{
    int64_t v = INT64_MIN;
#ifdef IRPD_HAVE_PG
    if (db->pg != NULL) {
        PGresult *r = PQexec(db->pg, sql);
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
            v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
        return v;
    }
#endif
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db->lite, sql, -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return v;
}

int irpd_testdb_raw_exec(irpd_testdb_raw *db, const char *sql)
{
#ifdef IRPD_HAVE_PG
    if (db->pg != NULL) {
        PGresult *r = PQexec(db->pg, sql);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
        if (!ok) snprintf(db->err, sizeof db->err, "%s", PQresultErrorMessage(r));
        PQclear(r);
        return ok ? 0 : -1;
    }
#endif
    if (sqlite3_exec(db->lite, sql, NULL, NULL, NULL) == SQLITE_OK) return 0;
    snprintf(db->err, sizeof db->err, "%s", sqlite3_errmsg(db->lite));
    return -1;
}

const char *irpd_testdb_raw_errmsg(irpd_testdb_raw *db)
{
    return db->err;
}

void irpd_testdb_raw_close(irpd_testdb_raw *db)
{
    if (db == NULL) return;
#ifdef IRPD_HAVE_PG
    PQfinish(db->pg);
#endif
    sqlite3_close(db->lite);
    free(db);
}
