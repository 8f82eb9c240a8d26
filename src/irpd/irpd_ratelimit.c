/*
 * irpd_ratelimit.c - failure counters that hold (irpd_ratelimit.h;
 * docs/IRP.md 9.1). Open addressing with linear probing; entries leave only
 * when the table is rebuilt, and a rebuild keeps every live entry.
 */
#include "irpd_ratelimit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAP_MIN 64

int irpd_rl_init(irpd_ratelimit *rl, uint32_t limit, uint32_t window, size_t max_keys)
{
    memset(rl, 0, sizeof(*rl));
    rl->slots = calloc(CAP_MIN, sizeof(*rl->slots));
    rl->cap = CAP_MIN;
    rl->limit = limit;
    rl->window = window;
    rl->max_keys = max_keys != 0 ? max_keys : IRPD_RL_MAX_KEYS_DEFAULT;
    return rl->slots != NULL ? 0 : -1;
}

void irpd_rl_free(irpd_ratelimit *rl)
{
    for (size_t i = 0; rl->slots != NULL && i < rl->cap; i++)
        free(rl->slots[i].key);
    free(rl->slots);
    memset(rl, 0, sizeof(*rl));
}

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a: spreads keys; collisions cost time, never a count */

    while (*s != '\0') {
        h ^= (uint8_t)*s++;
        h *= 16777619u;
    }
    return h;
}

/* A window that has passed starts again at the next failure. */
static void refresh(const irpd_ratelimit *rl, irpd_rl_entry *e, int64_t now)
{
    if (e->count > 0 && now - e->start >= (int64_t)rl->window) e->count = 0;
}

/* Nothing to remember: no failure in a live window and no attempt in flight. */
static int dead(const irpd_ratelimit *rl, irpd_rl_entry *e, int64_t now)
{
    refresh(rl, e, now);
    return e->held == 0 && e->count == 0;
}

static irpd_rl_entry *find(irpd_ratelimit *rl, const char *key)
{
    size_t m = rl->cap - 1, i = hash(key) & m;

    for (; rl->slots[i].key != NULL; i = (i + 1) & m)
        if (strcmp(rl->slots[i].key, key) == 0) return &rl->slots[i];
    return NULL;
}

/* Moves the live entries into a table of cap slots (dead ones are freed). 0 or -1. */
static int rebuild(irpd_ratelimit *rl, size_t cap, int64_t now)
{
    irpd_rl_entry *n = calloc(cap, sizeof(*n));
    size_t i, count = 0;

    if (n == NULL) return -1;
    for (i = 0; i < rl->cap; i++) {
        irpd_rl_entry *e = &rl->slots[i];
        size_t j;
        if (e->key == NULL) continue;
        if (dead(rl, e, now)) {
            free(e->key);
            continue;
        }
        for (j = hash(e->key) & (cap - 1); n[j].key != NULL; j = (j + 1) & (cap - 1))
            ;
        n[j] = *e;
        count++;
    }
    free(rl->slots);
    rl->slots = n;
    rl->cap = cap;
    rl->n = count;
    return 0;
}

/* A new entry for key; NULL when max_keys live keys fill the table (or memory). */
static irpd_rl_entry *insert(irpd_ratelimit *rl, const char *key, int64_t now)
{
    size_t i;

    if ((rl->n + 1) * 4 > rl->cap * 3 || rl->n >= rl->max_keys) {
        /* a full table is swept at most once a second: a flood must not buy sweeps */
        if (rl->n >= rl->max_keys && rl->full_at == now) return NULL;
        if (rebuild(rl, rl->cap, now) != 0) return NULL; /* first forget the dead */
        if (rl->n >= rl->max_keys) {
            rl->full_at = now;
            return NULL;
        }
        if ((rl->n + 1) * 4 > rl->cap * 3 && rebuild(rl, rl->cap * 2, now) != 0) return NULL;
    }
    for (i = hash(key) & (rl->cap - 1); rl->slots[i].key != NULL; i = (i + 1) & (rl->cap - 1))
        ;
    if ((rl->slots[i].key = strdup(key)) == NULL) return NULL;
    rl->slots[i].start = now;
    rl->slots[i].count = 0;
    rl->slots[i].held = 0;
    rl->n++;
    return &rl->slots[i];
}

int irpd_rl_reserve(irpd_ratelimit *rl, const char *key, int64_t now)
{
    irpd_rl_entry *e;

    if (rl->slots == NULL || strlen(key) >= IRPD_RL_KEY_MAX) return 0;
    if ((e = find(rl, key)) != NULL)
        refresh(rl, e, now);
    else if ((e = insert(rl, key, now)) == NULL)
        return 0; /* full of live counters: refuse rather than forget one */
    if ((uint64_t)e->count + e->held >= rl->limit) return 0;
    e->held++;
    return 1;
}

void irpd_rl_settle(irpd_ratelimit *rl, const char *key, int64_t now, int failed)
{
    irpd_rl_entry *e;

    if (rl->slots == NULL || (e = find(rl, key)) == NULL) return;
    if (e->held > 0) e->held--;
    if (!failed) return;
    refresh(rl, e, now);
    if (e->count == 0) e->start = now;
    if (e->count < UINT32_MAX) e->count++;
}

uint32_t irpd_rl_fail(irpd_ratelimit *rl, const char *key, int64_t now)
{
    irpd_rl_entry *e;

    if (rl->slots == NULL || strlen(key) >= IRPD_RL_KEY_MAX) return UINT32_MAX;
    if ((e = find(rl, key)) == NULL && (e = insert(rl, key, now)) == NULL) return UINT32_MAX;
    e->held++;
    irpd_rl_settle(rl, key, now, 1);
    return e->count;
}

uint32_t irpd_rl_count(irpd_ratelimit *rl, const char *key, int64_t now)
{
    irpd_rl_entry *e;

    if (rl->slots == NULL || (e = find(rl, key)) == NULL) return 0;
    refresh(rl, e, now);
    return e->count;
}

int irpd_rl_blocked(irpd_ratelimit *rl, const char *key, int64_t now)
{
    return irpd_rl_count(rl, key, now) >= rl->limit;
}

void irpd_rl_user_key(const char *user, char out[IRPD_RL_KEY_MAX])
{
    size_t i;

    out[0] = 'u';
    for (i = 0; user[i] != '\0' && i + 2 < IRPD_RL_KEY_MAX; i++) {
        char c = user[i];
        out[i + 1] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    out[i + 1] = '\0';
}

void irpd_rl_addr_key(const irp_addr *a, char out[IRPD_RL_KEY_MAX])
{
    irp_addr cut = *a;
    char s[IRP_ADDR_STRLEN];

    if (cut.family == 6) memset(cut.ip + 8, 0, 8);
    if (irp_addr_format(&cut, s) != 0) snprintf(s, sizeof(s), "?");
    snprintf(out, IRPD_RL_KEY_MAX, "a%s", s);
}
