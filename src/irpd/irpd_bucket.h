/*
 * irpd_bucket.h - token buckets for docs/IRP.md 9.2: requests per
 * certificate identity (all its connections) and per source address of
 * clients without a certificate.
 *
 * A fixed-size table keyed like irpd_ratelimit (a user ID in lower case, or
 * an address with IPv6 cut to its /64). A key holds up to `burst` tokens and
 * regains `rate` per second; each request takes one, and a request finding
 * none is refused (429). The table never grows: a new key takes a free slot
 * near its hash or the least recently used one there, so a flood of
 * distinct keys can only make others forget, never allocate. Sans-I/O: the
 * caller passes the time.
 */
#ifndef IRPD_BUCKET_H
#define IRPD_BUCKET_H

#include <stdint.h>
#include "sixchat/error.h"
#include "irpd_ratelimit.h" /* IRPD_RL_KEY_MAX and the key helpers */

#define IRPD_BUCKET_SLOTS 4096

typedef struct irpd_bucket_entry {
    char key[IRPD_RL_KEY_MAX]; /* "" = free */
    double tokens;
    int64_t last_ms;
} irpd_bucket_entry;

typedef struct irpd_buckets {
    irpd_bucket_entry *slots; /* IRPD_BUCKET_SLOTS */
    double rate;              /* tokens per second */
    double burst;
} irpd_buckets;

/* 0 or -1 (memory). */
/* rate: tokens per second (10 per hour is 10.0 / 3600). */
SC_MUST_CHECK int irpd_buckets_init(irpd_buckets *b, double rate, double burst);
void irpd_buckets_free(irpd_buckets *b);

/* Takes a token of key at now_ms: 1 when there was one, 0 when refused. */
SC_MUST_CHECK int irpd_buckets_take(irpd_buckets *b, const char *key, int64_t now_ms);

#endif
