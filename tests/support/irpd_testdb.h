/*
 * irpd_testdb.h - one store test, two backends (docs/DEPLOYMENT.md, issue 9).
 *
 * With SC_TEST_PG_URI set (ctest sets it for the *_pg tests, to the
 * database of the throwaway cluster tests/pg/pgcluster.sh starts), a test's
 * named database is a schema of its own in that PostgreSQL database
 * ("t<pid>_<name>", through the connection's search_path); without, a file
 * of that name in the test's directory, for SQLite. The raw functions reach
 * the same database directly, to look at what the store wrote; SQL given to
 * them must mean the same on both (counts, UPDATE meta ...).
 */
#ifndef IRPD_TESTDB_H
#define IRPD_TESTDB_H

#include <stdint.h>

#include "irpd_store.h"

/* The PostgreSQL URI of this run, or NULL for SQLite. */
const char *irpd_testdb_pg(void);

/* "pg" or "sqlite": the backend every store of this run must have (irpd_store_backend). */
const char *irpd_testdb_backend(void);

/* Makes database `name` new and empty (PostgreSQL: a fresh schema; SQLite: nothing to do). */
void irpd_testdb_reset(const char *dir, const char *name);

/* Opens database `name` with the run's backend, as irpd_store_open_sqlite or _pg. */
irp_status irpd_testdb_open(const char *dir, const char *name, const irpd_store_opts *opts,
                            irpd_store **out);

/* The connection string of database `name` (PostgreSQL runs only). */
void irpd_testdb_conninfo(const char *name, char *out, size_t cap);

typedef struct irpd_testdb_raw irpd_testdb_raw;

/* NULL if the database cannot be reached. */
irpd_testdb_raw *irpd_testdb_raw_open(const char *dir, const char *name);
/* The first column of the first row as an integer; INT64_MIN on any failure. */
int64_t irpd_testdb_raw_int(irpd_testdb_raw *db, const char *sql);
/* 0, or -1 with irpd_testdb_raw_errmsg. */
int irpd_testdb_raw_exec(irpd_testdb_raw *db, const char *sql);
const char *irpd_testdb_raw_errmsg(irpd_testdb_raw *db);
void irpd_testdb_raw_close(irpd_testdb_raw *db);

#endif
