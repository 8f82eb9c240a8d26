/*
 * agent_settings.h - the settings a user may change (docs/AGENT-API.md 4,
 * settings): their names, what each accepts and its default, read from
 * and written to the store's settings table. One table, so that the API's
 * validation, its answer and the modules that read a setting agree.
 */
#ifndef AGENT_SETTINGS_H
#define AGENT_SETTINGS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "agent_store.h"

/*
 * Unread text stored from users who are not contacts (issue "Limits"):
 * per sender and for all of them together. Beyond it a message is refused
 * (msg-reject, docs/PROTOCOL.md 10.2) and not stored.
 */
#define AGENT_DEFAULT_UNKNOWN_SENDER_KB 64
#define AGENT_DEFAULT_UNKNOWN_TOTAL_KB 1024

typedef struct agent_setting {
    const char *key;
    int boolean;       /* "on"/"off" (stored as such), else a decimal number */
    uint64_t min, max; /* numbers: the accepted range */
    uint64_t def;      /* the default (booleans: 1 on, 0 off) */
    const char *unit;  /* numbers: what the number counts, for messages */
} agent_setting;

/* Every key, comma-separated, for an error message. */
extern const char agent_settings_keys[];

/* The setting named key, or NULL. */
const agent_setting *agent_setting_find(const char *key);

/*
 * 1 when value is acceptable for s (booleans: "on" or "off"; numbers:
 * decimal digits only, within [min, max]); else 0 with a sentence for
 * the user in why ("value: a number of MiB, 0 to 1048576").
 */
int agent_setting_valid(const agent_setting *s, const char *value, char *why, size_t cap);

/*
 * The value of key from st: the stored one when it is valid, else the
 * default (also when the store cannot be read, or key is unknown: 0).
 */
uint64_t agent_setting_get(agent_store *st, const char *key);

/* Every setting with its value: numbers as integers, booleans as "on"/"off". NULL on OOM. */
json_t *agent_settings_json(agent_store *st);

#endif
