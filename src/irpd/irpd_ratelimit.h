/*
 * irpd_ratelimit.h - failure counters for docs/IRP.md 9.1: failed logins
 * per user ID, failed logins and failed tokens per source address.
 *
 * A fixed-size table of keys (a user ID folded to lower case, or an address
 * with IPv6 cut to its /64), each counting failures in a window that starts
 * at its first failure. A key whose count reached the limit is blocked until
 * its window has passed. The table never grows: when its slots are taken,
 * the entry whose window is oldest is dropped (a flood of distinct keys can
 * only shorten others' memory, never allocate). Sans-I/O: the caller passes
 * the time.
 */
#ifndef IRPD_RATELIMIT_H
#define IRPD_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "irp_addr.h"

#define IRPD_RL_SLOTS 4096
#define IRPD_RL_KEY_MAX 256

typedef struct irpd_rl_entry {
    char key[IRPD_RL_KEY_MAX]; /* "" = free */
    int64_t start;             /* window start */
    uint32_t count;
} irpd_rl_entry;

typedef struct irpd_ratelimit {
    irpd_rl_entry *slots; /* IRPD_RL_SLOTS */
    uint32_t limit;
    uint32_t window; /* seconds */
} irpd_ratelimit;

/* 0 or -1 (memory). */
int irpd_rl_init(irpd_ratelimit *rl, uint32_t limit, uint32_t window);
void irpd_rl_free(irpd_ratelimit *rl);

/* 1 when key has used up its failures for the current window, else 0. */
int irpd_rl_blocked(irpd_ratelimit *rl, const char *key, int64_t now);

/* Counts one failure of key. */
void irpd_rl_fail(irpd_ratelimit *rl, const char *key, int64_t now);

/* The key of a user ID (ASCII lower case) into out (IRPD_RL_KEY_MAX). */
void irpd_rl_user_key(const char *user, char out[IRPD_RL_KEY_MAX]);

/* The key of a source address: IPv4 as is, IPv6 by its /64. */
void irpd_rl_addr_key(const irp_addr *a, char out[IRPD_RL_KEY_MAX]);

#endif
