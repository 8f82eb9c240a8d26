/*
 * irpd_ratelimit.h - failure counters for docs/IRP.md 9.1: failed logins
 * per user ID, failed logins and failed tokens per source address, refused
 * CSRs per enrolment token (6.5).
 *
 * A table of keys (a user ID folded to lower case, an address with IPv6 cut
 * to its /64, a token's hash), each counting failures in a window that
 * starts at its first failure. Two rules make a counter hold:
 *
 * - Nobody else can make it forget. An entry leaves the table only when its
 *   window has passed and no attempt of it is in flight; the table grows up
 *   to max_keys and, when that many keys are live, refuses new ones (the
 *   caller answers 429) instead of dropping a live one.
 * - An attempt is counted before the next one is checked. irpd_rl_reserve
 *   admits an attempt only while failures plus attempts in flight stay below
 *   the limit, and holds its place; irpd_rl_settle turns the place into a
 *   failure or gives it back. So N concurrent attempts on a key with k
 *   failures left get at most k checks, whatever the order they finish in.
 *
 * Sans-I/O: the caller passes the time (seconds).
 */
#ifndef IRPD_RATELIMIT_H
#define IRPD_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "sixchat/error.h"
#include "irp_addr.h"

#define IRPD_RL_KEY_MAX 256
#define IRPD_RL_MAX_KEYS_DEFAULT 65536

typedef struct irpd_rl_entry {
    char *key;      /* malloc'd; NULL = free slot */
    int64_t start;  /* window start (first failure) */
    uint32_t count; /* failures in the window */
    uint32_t held;  /* attempts admitted and not yet settled */
} irpd_rl_entry;

typedef struct irpd_ratelimit {
    irpd_rl_entry *slots; /* open addressing, cap a power of two */
    size_t cap, n;        /* slots; keys in them */
    size_t max_keys;
    int64_t full_at; /* last time a sweep found max_keys live keys */
    uint32_t limit;
    uint32_t window; /* seconds */
} irpd_ratelimit;

/* max_keys 0: IRPD_RL_MAX_KEYS_DEFAULT. 0 or -1 (memory). */
SC_MUST_CHECK int irpd_rl_init(irpd_ratelimit *rl, uint32_t limit, uint32_t window,
                               size_t max_keys);
void irpd_rl_free(irpd_ratelimit *rl);

/*
 * Admits one attempt of key: 1 when its failures in the window plus the
 * attempts in flight are below the limit (the attempt is then held until
 * irpd_rl_settle), 0 when it must be refused (limit reached, key too long,
 * table full of live keys, memory).
 */
SC_MUST_CHECK int irpd_rl_reserve(irpd_ratelimit *rl, const char *key, int64_t now);

/* Settles an attempt irpd_rl_reserve admitted: counts a failure when failed. */
void irpd_rl_settle(irpd_ratelimit *rl, const char *key, int64_t now, int failed);

/*
 * Counts one failure of key without an attempt held (a refusal decided at
 * once). Returns the failures in the window now, or UINT32_MAX when the
 * key could not be recorded (table full, memory): the caller treats that as
 * the limit reached.
 */
uint32_t irpd_rl_fail(irpd_ratelimit *rl, const char *key, int64_t now);

/* 1 when key's failures in the current window reached the limit (tests, logs). */
SC_MUST_CHECK int irpd_rl_blocked(irpd_ratelimit *rl, const char *key, int64_t now);

/* Failures of key in the current window (0 when unknown). */
uint32_t irpd_rl_count(irpd_ratelimit *rl, const char *key, int64_t now);

/* The key of a user ID (ASCII lower case) into out (IRPD_RL_KEY_MAX). */
void irpd_rl_user_key(const char *user, char out[IRPD_RL_KEY_MAX]);

/* The key of a source address: IPv4 as is, IPv6 by its /64. */
void irpd_rl_addr_key(const irp_addr *a, char out[IRPD_RL_KEY_MAX]);

#endif
