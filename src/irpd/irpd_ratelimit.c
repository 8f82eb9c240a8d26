/*
 * irpd_ratelimit.c - failure counters (irpd_ratelimit.h; docs/IRP.md 9.1).
 */
#include "irpd_ratelimit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROBE 16 /* slots tried per key */

int irpd_rl_init(irpd_ratelimit *rl, uint32_t limit, uint32_t window)
{
    rl->slots = calloc(IRPD_RL_SLOTS, sizeof(*rl->slots));
    rl->limit = limit;
    rl->window = window;
    return rl->slots != NULL ? 0 : -1;
}

void irpd_rl_free(irpd_ratelimit *rl)
{
    free(rl->slots);
    rl->slots = NULL;
}

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */

    while (*s != '\0') {
        h ^= (uint8_t)*s++;
        h *= 16777619u;
    }
    return h;
}

static int live(const irpd_ratelimit *rl, const irpd_rl_entry *e, int64_t now)
{
    return e->key[0] != '\0' && now - e->start < (int64_t)rl->window;
}

/* The entry of key, or NULL. */
static irpd_rl_entry *find(irpd_ratelimit *rl, const char *key, int64_t now)
{
    uint32_t h = hash(key), i;

    for (i = 0; i < PROBE; i++) {
        irpd_rl_entry *e = &rl->slots[(h + i) % IRPD_RL_SLOTS];
        if (live(rl, e, now) && strcmp(e->key, key) == 0) return e;
    }
    return NULL;
}

int irpd_rl_blocked(irpd_ratelimit *rl, const char *key, int64_t now)
{
    irpd_rl_entry *e;

    if (rl->slots == NULL) return 0;
    e = find(rl, key, now);
    return e != NULL && e->count >= rl->limit;
}

void irpd_rl_fail(irpd_ratelimit *rl, const char *key, int64_t now)
{
    uint32_t h = hash(key), i;
    irpd_rl_entry *e, *victim = NULL;

    if (rl->slots == NULL || strlen(key) >= IRPD_RL_KEY_MAX) return;
    if ((e = find(rl, key, now)) != NULL) {
        if (e->count < UINT32_MAX) e->count++;
        return;
    }
    for (i = 0; i < PROBE; i++) {
        e = &rl->slots[(h + i) % IRPD_RL_SLOTS];
        if (!live(rl, e, now)) {
            victim = e;
            break;
        }
        if (victim == NULL || e->start < victim->start) victim = e;
    }
    snprintf(victim->key, sizeof(victim->key), "%s", key);
    victim->start = now;
    victim->count = 1;
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
