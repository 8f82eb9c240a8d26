/*
 * irpd_bucket.c - see irpd_bucket.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "irpd_bucket.h"

#define PROBE 8 /* slots looked at from a key's hash */

int irpd_buckets_init(irpd_buckets *b, double rate, double burst)
{
    b->slots = calloc(IRPD_BUCKET_SLOTS, sizeof(*b->slots));
    b->rate = rate;
    b->burst = burst;
    return b->slots != NULL ? 0 : -1;
}

void irpd_buckets_free(irpd_buckets *b)
{
    free(b->slots);
    b->slots = NULL;
}

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a: spreads keys, no security role */
    for (; *s != '\0'; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static irpd_bucket_entry *find(irpd_buckets *b, const char *key, int64_t now_ms)
{
    uint32_t h = hash(key);
    irpd_bucket_entry *victim = NULL;
    for (uint32_t i = 0; i < PROBE; i++) {
        irpd_bucket_entry *e = &b->slots[(h + i) % IRPD_BUCKET_SLOTS];
        if (strcmp(e->key, key) == 0) return e;
        if (victim == NULL || e->key[0] == '\0' ||
            (victim->key[0] != '\0' && e->last_ms < victim->last_ms))
            victim = e;
    }
    /* A new key starts with a full bucket. */
    snprintf(victim->key, sizeof(victim->key), "%s", key);
    victim->tokens = b->burst;
    victim->last_ms = now_ms;
    return victim;
}

int irpd_buckets_take(irpd_buckets *b, const char *key, int64_t now_ms)
{
    irpd_bucket_entry *e = find(b, key, now_ms);
    if (now_ms > e->last_ms) {
        e->tokens += b->rate * (double)(now_ms - e->last_ms) / 1000.0;
        if (e->tokens > b->burst) e->tokens = b->burst;
        e->last_ms = now_ms;
    }
    if (e->tokens < 1.0) return 0;
    e->tokens -= 1.0;
    return 1;
}
