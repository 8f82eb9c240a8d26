/*
 * agent_settings.c - the settings table and its validation
 * (agent_settings.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_ctx.h"
#include "agent_settings.h"
#include "agent_xfer_defs.h"

/* File sizes: at most 1 TiB, in MiB; stored text: at most 1 GiB, in KiB. */
#define MIB_MAX (1024ULL * 1024)
#define KIB_MAX (1024ULL * 1024)

static const agent_setting SETTINGS[] = {
    {"expiry_days", 0, 1, 3650, AGENT_DEFAULT_EXPIRY_DAYS, "days"},
    {"read_markers", 1, 0, 1, 1, NULL},
    {"contacts_only", 1, 0, 1, 0, NULL},
    {"file_auto_mb", 0, 0, MIB_MAX, AGENT_XFER_DEFAULT_AUTO_MB, "MiB"},
    {"file_max_mb", 0, 1, MIB_MAX, AGENT_XFER_DEFAULT_MAX_MB, "MiB"},
    {"unknown_sender_kb", 0, 0, KIB_MAX, AGENT_DEFAULT_UNKNOWN_SENDER_KB, "KiB"},
    {"unknown_total_kb", 0, 0, KIB_MAX, AGENT_DEFAULT_UNKNOWN_TOTAL_KB, "KiB"},
};
#define N_SETTINGS (sizeof(SETTINGS) / sizeof(SETTINGS[0]))

const char agent_settings_keys[] = "expiry_days, read_markers, contacts_only, file_auto_mb, "
                                   "file_max_mb, unknown_sender_kb, unknown_total_kb";

const agent_setting *agent_setting_find(const char *key)
{
    for (size_t i = 0; key && i < N_SETTINGS; i++)
        if (!strcmp(SETTINGS[i].key, key)) return &SETTINGS[i];
    return NULL;
}

/* value as a number within s's range; 0 when it is not one. */
static int parse_num(const agent_setting *s, const char *value, uint64_t *out)
{
    size_t len = strlen(value);
    /* Digits only (no sign, space or exponent), and few enough not to overflow. */
    if (len == 0 || len > 19 || strspn(value, "0123456789") != len) return 0;
    unsigned long long v = strtoull(value, NULL, 10);
    if (v < s->min || v > s->max) return 0;
    *out = v;
    return 1;
}

int agent_setting_valid(const agent_setting *s, const char *value, char *why, size_t cap)
{
    uint64_t v;
    if (s->boolean) {
        if (!strcmp(value, "on") || !strcmp(value, "off")) return 1;
        snprintf(why, cap, "value: on or off");
        return 0;
    }
    if (parse_num(s, value, &v)) return 1;
    snprintf(why, cap, "value: a number of %s, %llu to %llu", s->unit, (unsigned long long)s->min,
             (unsigned long long)s->max);
    return 0;
}

uint64_t agent_setting_get(agent_store *st, const char *key)
{
    const agent_setting *s = agent_setting_find(key);
    if (!s) return 0;
    char buf[32];
    int found = 0;
    if (agent_store_get(st, key, buf, sizeof(buf), &found) || !found) return s->def;
    if (s->boolean) /* "1" and "true" from older stores count as on */
        return !strcmp(buf, "on") || !strcmp(buf, "1") || !strcmp(buf, "true");
    uint64_t v;
    return parse_num(s, buf, &v) ? v : s->def;
}

json_t *agent_settings_json(agent_store *st)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < N_SETTINGS; i++) {
        uint64_t v = agent_setting_get(st, SETTINGS[i].key);
        json_t *j =
            SETTINGS[i].boolean ? json_string(v ? "on" : "off") : json_integer((json_int_t)v);
        if (json_object_set_new(o, SETTINGS[i].key, j)) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}
