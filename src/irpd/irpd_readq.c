/*
 * irpd_readq.c - the lookup records queue of the store's backends
 * (irpd_readq.h).
 */
#include <stdlib.h>
#include <string.h>

#include "irpd_readq.h"

static const char *const READ_OP[] = {"lookup", "watch", "user-info"};

int irpd_readq_reserve(irpd_readq *q, size_t viewer_len, size_t target_len)
{
    size_t need = viewer_len + target_len + 2;
    if (q->n == q->cap) {
        size_t cap = q->cap != 0 ? 2 * q->cap : 1024;
        irpd_readq_rec *rows = realloc(q->rows, cap * sizeof *rows);
        if (rows == NULL) return -1;
        q->rows = rows;
        q->cap = cap;
    }
    if (q->arena_cap - q->arena_used < need) {
        size_t cap = q->arena_cap != 0 ? 2 * q->arena_cap : 65536;
        while (cap - q->arena_used < need)
            cap *= 2;
        if (cap > UINT32_MAX) return -1;
        char *arena = realloc(q->arena, cap);
        if (arena == NULL) return -1;
        q->arena = arena;
        q->arena_cap = cap;
    }
    return 0;
}

static uint32_t arena_put(irpd_readq *q, const char *str)
{
    size_t n = strlen(str) + 1;
    uint32_t at = (uint32_t)q->arena_used;
    memcpy(q->arena + at, str, n);
    q->arena_used += n;
    return at;
}

void irpd_readq_push(irpd_readq *q, int64_t ts, const char *viewer, const char *target, int op,
                     int allowed)
{
    irpd_readq_rec *r = &q->rows[q->n++];
    r->ts = ts;
    r->viewer = viewer != NULL ? arena_put(q, viewer) : UINT32_MAX;
    r->target = arena_put(q, target);
    r->op = (uint8_t)op;
    r->allowed = (uint8_t)allowed;
}

void irpd_readq_row(const irpd_readq *q, size_t i, irpd_audit_row *r)
{
    const irpd_readq_rec *rec = &q->rows[i];
    r->id = 0;
    r->ts = rec->ts;
    r->actor = rec->viewer != UINT32_MAX ? q->arena + rec->viewer : NULL;
    r->op = READ_OP[rec->op];
    r->target = q->arena + rec->target;
    r->detail = rec->allowed ? "ok" : "forbidden";
}

void irpd_readq_clear(irpd_readq *q)
{
    q->n = 0;
    q->arena_used = 0;
}

void irpd_readq_free(irpd_readq *q)
{
    free(q->rows);
    free(q->arena);
    memset(q, 0, sizeof *q);
}
