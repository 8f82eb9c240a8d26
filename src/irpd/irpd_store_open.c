/*
 * irpd_store_open.c - which backend irpd.conf's `store` names
 * (irpd_store.h, irpd_store_open; docs/DEPLOYMENT.md): nothing, SQLite in
 * DIR/irpd.db; a postgresql:// or postgres:// URI, PostgreSQL when this
 * build has libpq (IRPD_HAVE_PG).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irpd_config.h"
#include "irpd_store_int.h"

static int is_pg_uri(const char *store)
{
    return strncmp(store, "postgresql://", 13) == 0 || strncmp(store, "postgres://", 11) == 0;
}

/* A store whose open failed before any backend: it answers errmsg and close only. */
static void failed_close(irpd_store *st)
{
    free(st);
}

static const irpd_store_ops failed_ops = {.name = "none", .close = failed_close};

static irp_status fail_open(irpd_store **out, irp_status status, const char *msg)
{
    irpd_store *st = calloc(1, sizeof *st);
    *out = st;
    if (st == NULL) return IRP_INTERNAL;
    st->ops = &failed_ops;
    snprintf(st->errmsg, sizeof st->errmsg, "%s", msg);
    return status;
}

irp_status irpd_store_open(const char *dir, const char *store, const irpd_store_opts *opts,
                           irpd_store **out)
{
    char path[4096];
    if (store != NULL && store[0] != '\0') {
        if (!is_pg_uri(store))
            return fail_open(out, IRP_BAD_REQUEST,
                             "store: not a postgresql:// or postgres:// URI (leave it out for "
                             "SQLite)");
#ifdef IRPD_HAVE_PG
        return irpd_store_open_pg(store, opts, out);
#else
        return fail_open(out, IRP_INTERNAL,
                         "store: this irpd was built without PostgreSQL (libpq not found)");
#endif
    }
    if (dir == NULL ||
        (size_t)snprintf(path, sizeof path, "%s/%s", dir, IRPD_DB_FILE) >= sizeof path)
        return fail_open(out, IRP_BAD_REQUEST, "store: no directory, or a path too long");
    return irpd_store_open_sqlite(path, opts, out);
}

const char *irpd_store_backend(const irpd_store *st)
{
    return st != NULL ? st->ops->name : "none";
}
