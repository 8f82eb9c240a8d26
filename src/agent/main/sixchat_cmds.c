/*
 * sixchat_cmds.c - the subcommands that are thin clients of the running
 * agent (docs/AGENT-API.md 4 names the method each one calls).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sixchat_cli.h"

/* Connects, or prints why not and returns the exit code. */
static int open_agent(sx_ctx *x, sx_client *c)
{
    return sx_connect(c, x->paths.sock);
}

/* Calls one method and prints the result as JSON (--json) or with show(). */
static int simple(sx_ctx *x, const char *method, json_t *params, void (*show)(json_t *result))
{
    sx_client c;
    int code = open_agent(x, &c);
    if (code) {
        json_decref(params);
        return code;
    }
    json_t *res;
    json_t *r = sx_rpc(x, &c, method, params, &res, &code, NULL);
    if (r) {
        if (x->json)
            sx_print_json(res);
        else if (show)
            show(res);
        json_decref(r);
    }
    sx_close(&c);
    return code;
}

int sx_run_method(sx_ctx *x, const char *method, json_t *params, void (*show)(json_t *result))
{
    return simple(x, method, params, show);
}

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static long long jint(json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

/* ---- status ---- */

static void show_status(json_t *r)
{
    char t[32];
    printf("user:      %s\n", jstr(r, "user"));
    printf("device:    %s\n", jstr(r, "device"));
    printf("home:      %s\n", jstr(r, "home"));
    sx_time(jint(r, "started"), t, sizeof(t));
    printf("started:   %s\n", t);
    json_t *reg = json_object_get(r, "registration");
    if (reg) {
        printf("registry:  %s", jstr(reg, "state"));
        if (json_object_get(reg, "message")) printf(" (%s)", jstr(reg, "message"));
        printf("\n");
        json_t *addrs = json_object_get(reg, "addresses");
        size_t i;
        json_t *v;
        json_array_foreach(addrs, i, v) printf("  address: %s\n", json_string_value(v));
        if (json_is_true(json_object_get(reg, "nat")))
            printf("WARNING:   %s\n", jstr(reg, "nat_message"));
    }
    if (json_object_get(r, "listen")) printf("listening: %s\n", jstr(r, "listen"));
    json_t *s = json_object_get(r, "sessions");
    if (s) printf("sessions:  %lld up\n", (long long)json_integer_value(json_object_get(s, "up")));
    printf("outbox:    %lld waiting\n", jint(r, "outbox"));
}

int sx_cmd_status(sx_ctx *x, int argc, char **argv)
{
    const char *pos[1];
    int n, rc = sx_parse(x, "status", argc, argv, NULL, 0, pos, 0, &n);
    if (rc >= 0) return rc;
    return simple(x, "status", NULL, show_status);
}

/* ---- send ---- */

/* The text from standard input, without one final newline. */
static char *read_stdin(size_t *len)
{
    size_t cap = 4096, n = 0;
    char *s = malloc(cap);
    while (s) {
        size_t k = fread(s + n, 1, cap - n - 1, stdin);
        n += k;
        if (k == 0) break;
        if (cap - n - 1 == 0) {
            char *p = realloc(s, cap * 2);
            if (!p) {
                free(s);
                return NULL;
            }
            s = p;
            cap *= 2;
        }
    }
    if (!s) return NULL;
    if (n && s[n - 1] == '\n') n--;
    s[n] = '\0';
    *len = n;
    return s;
}

/* Reads events until the message's fate is known: an exit code. */
static int wait_fate(sx_ctx *x, sx_client *c, const char *id, int timeout_s)
{
    for (;;) {
        int timed_out = 0;
        json_t *j = sx_read(c, timeout_s * 1000, &timed_out);
        if (!j) {
            if (timed_out) {
                fprintf(stderr,
                        "sixchat: no receipt within %d s; the message waits in the "
                        "outbox (see `sixchat outbox`)\n",
                        timeout_s);
                return SX_EXIT_TIMEOUT;
            }
            fprintf(stderr, "sixchat: the agent closed the connection\n");
            return SX_EXIT_FAIL;
        }
        json_t *p = json_object_get(j, "params");
        const char *type = jstr(p, "type");
        json_t *d = json_object_get(p, "data");
        int mine = !strcmp(jstr(d, "id"), id);
        int code = -1;
        if (mine && !strcmp(type, "message.delivered")) {
            if (x->json)
                sx_print_json(json_pack("{s:s,s:s,s:s}", "id", id, "state", "delivered", "device",
                                        jstr(d, "device")));
            else
                printf("delivered\n");
            code = SX_EXIT_OK;
        } else if (mine &&
                   (!strcmp(type, "message.failed") || !strcmp(type, "message.cancelled"))) {
            sx_safe_json(d); /* the reason may be the peer's */
            fprintf(stderr, "sixchat: not delivered: %s\n",
                    json_object_get(d, "reason") ? jstr(d, "reason") : "cancelled");
            code = SX_EXIT_UNDELIVERED;
        }
        json_decref(j);
        if (code >= 0) return code;
    }
}

int sx_cmd_send(sx_ctx *x, int argc, char **argv)
{
    const char *pos[2], *timeout = NULL;
    int n, wait = 0;
    sx_opt o[] = {{"--wait", 0, NULL, &wait}, {"--timeout", 1, &timeout, NULL}};
    int rc = sx_parse(x, "send", argc, argv, o, 2, pos, 2, &n);
    if (rc >= 0) return rc;
    if (n < 1) return sx_usage("send", "who to? (sixchat send USER [TEXT])");
    int timeout_s = timeout ? atoi(timeout) : 30;
    if (timeout_s <= 0) return sx_usage("send", "--timeout: a number of seconds");
    char *text = NULL;
    size_t len;
    if (n == 2) {
        text = strdup(pos[1]);
        len = strlen(pos[1]);
    } else {
        text = read_stdin(&len);
    }
    if (!text || len == 0) {
        free(text);
        return sx_usage("send", "nothing to send (give TEXT or text on standard input)");
    }
    sx_client c;
    int code = open_agent(x, &c);
    if (code) {
        free(text);
        return code;
    }
    json_t *res, *r;
    if (wait) {
        /* Subscribe before sending, so the receipt's event cannot be missed. */
        r = sx_rpc(x, &c, "subscribe", NULL, &res, &code, NULL);
        if (!r) {
            free(text);
            sx_close(&c);
            return code;
        }
        json_decref(r);
    }
    r = sx_rpc(x, &c, "send", json_pack("{s:s,s:s%}", "to", pos[0], "text", text, len), &res, &code,
               NULL);
    free(text);
    if (!r) {
        sx_close(&c);
        return code;
    }
    char id[80];
    snprintf(id, sizeof(id), "%s", jstr(res, "id"));
    if (!wait) {
        if (x->json)
            sx_print_json(res);
        else
            printf("%s\n", id);
    } else if (!x->json) {
        printf("%s\n", id);
        fflush(stdout);
    }
    if (json_object_get(res, "held")) fprintf(stderr, "sixchat: %s\n", jstr(res, "held"));
    json_decref(r);
    if (wait) code = wait_fate(x, &c, id, timeout_s);
    sx_close(&c);
    return code;
}

/* ---- history and outbox ---- */

static void show_messages(json_t *r)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(r, "messages"), i, m)
    {
        char t[32];
        int out = !strcmp(jstr(m, "dir"), "out");
        sx_time(jint(m, "ts"), t, sizeof(t));
        printf("[%s] %s %s: %s", t, out ? "->" : "<-", jstr(m, "peer"), jstr(m, "text"));
        if (out)
            printf("  (%s%s%s)", jstr(m, "state"), json_object_get(m, "reason") ? ": " : "",
                   jstr(m, "reason"));
        printf("  #%s\n", jstr(m, "id"));
    }
}

int sx_cmd_history(sx_ctx *x, int argc, char **argv)
{
    const char *pos[1], *search = NULL, *limit = NULL;
    int n;
    sx_opt o[] = {{"--search", 1, &search, NULL}, {"--limit", 1, &limit, NULL}};
    int rc = sx_parse(x, "history", argc, argv, o, 2, pos, 1, &n);
    if (rc >= 0) return rc;
    json_t *p = json_object();
    if (n) json_object_set_new(p, "peer", json_string(pos[0]));
    if (search) json_object_set_new(p, "search", json_string(search));
    if (limit) {
        char *end;
        long l = strtol(limit, &end, 10);
        if (*end || l < 0) {
            json_decref(p);
            return sx_usage("history", "--limit: a number");
        }
        json_object_set_new(p, "limit", json_integer(l));
    }
    return simple(x, "history", p, show_messages);
}

static void show_cancelled(json_t *r)
{
    printf("%s cancelled\n", jstr(r, "id"));
}

int sx_cmd_outbox(sx_ctx *x, int argc, char **argv)
{
    const char *pos[2];
    int n;
    int rc = sx_parse(x, "outbox", argc, argv, NULL, 0, pos, 2, &n);
    if (rc >= 0) return rc;
    if (n >= 1 && !strcmp(pos[0], "cancel")) {
        if (n != 2) return sx_usage("outbox", "cancel which message? (sixchat outbox cancel ID)");
        return simple(x, "outbox.cancel", json_pack("{s:s}", "id", pos[1]), show_cancelled);
    }
    json_t *p = json_object();
    if (n >= 1 && !strcmp(pos[0], "list")) n--, pos[0] = pos[1];
    if (n == 1) json_object_set_new(p, "peer", json_string(pos[0]));
    return simple(x, "outbox", p, show_messages);
}

/* ---- contacts ---- */

static void show_contact(json_t *c)
{
    printf("%-32s %-16s%s%s%s\n", jstr(c, "user"), jstr(c, "name"),
           json_is_true(json_object_get(c, "verified")) ? " verified" : "",
           json_is_true(json_object_get(c, "blocked")) ? " BLOCKED" : "",
           json_is_true(json_object_get(c, "cert_changed"))
               ? " CERTIFICATE CHANGED: compare and `sixchat trust`"
               : "");
}

static void show_contacts(json_t *r)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(r, "contacts"), i, c) show_contact(c);
}

int sx_cmd_contacts(sx_ctx *x, int argc, char **argv)
{
    const char *pos[2], *name = NULL;
    int n;
    sx_opt o[] = {{"--name", 1, &name, NULL}};
    int rc = sx_parse(x, "contacts", argc, argv, o, 1, pos, 2, &n);
    if (rc >= 0) return rc;
    if (n == 0 || !strcmp(pos[0], "list")) return simple(x, "contacts", NULL, show_contacts);
    if (!strcmp(pos[0], "add") && n == 2) {
        json_t *p = json_pack("{s:s}", "user", pos[1]);
        if (name) json_object_set_new(p, "name", json_string(name));
        return simple(x, "contacts.add", p, show_contact);
    }
    if (!strcmp(pos[0], "remove") && n == 2)
        return simple(x, "contacts.remove", json_pack("{s:s}", "user", pos[1]), NULL);
    return sx_usage("contacts", "expected: contacts [list] | add USER [--name NAME] | remove USER");
}

static int one_user(sx_ctx *x, const char *cmd, const char *method, int argc, char **argv,
                    void (*show)(json_t *))
{
    const char *pos[1];
    int n;
    int rc = sx_parse(x, cmd, argc, argv, NULL, 0, pos, 1, &n);
    if (rc >= 0) return rc;
    if (n != 1) return sx_usage(cmd, "which user?");
    return simple(x, method, json_pack("{s:s}", "user", pos[0]), show);
}

int sx_cmd_block(sx_ctx *x, int argc, char **argv)
{
    return one_user(x, "block", "block", argc, argv, show_contact);
}

int sx_cmd_unblock(sx_ctx *x, int argc, char **argv)
{
    return one_user(x, "unblock", "unblock", argc, argv, show_contact);
}

int sx_cmd_trust(sx_ctx *x, int argc, char **argv)
{
    const char *pos[1], *fp = NULL;
    int n;
    sx_opt o[] = {{"--fingerprint", 1, &fp, NULL}};
    int rc = sx_parse(x, "trust", argc, argv, o, 1, pos, 1, &n);
    if (rc >= 0) return rc;
    if (n != 1) return sx_usage("trust", "which user?");
    json_t *p = json_pack("{s:s}", "user", pos[0]);
    if (fp) json_object_set_new(p, "fingerprint", json_string(fp));
    return simple(x, "trust", p, show_contact);
}

/* ---- fingerprint ---- */

static int want_qr;

static void show_fp(json_t *r)
{
    json_t *fp = json_object_get(r, "fingerprint");
    printf("%s\n  %s\n", jstr(r, "user"), jstr(fp, "grouped"));
    json_t *nfp = json_object_get(r, "new_fingerprint");
    if (nfp)
        printf("CERTIFICATE CHANGED, now presenting:\n  %s\n(compare it with %s, then `sixchat "
               "trust %s`)\n",
               jstr(nfp, "grouped"), jstr(r, "user"), jstr(r, "user"));
    if (want_qr) {
        char q[400];
        snprintf(q, sizeof(q), "sixchat:%s:%s", jstr(r, "user"), jstr(nfp ? nfp : fp, "hex"));
        sx_qr(q);
    }
}

int sx_cmd_fingerprint(sx_ctx *x, int argc, char **argv)
{
    const char *pos[1];
    int n, qr = 0, noqr = 0;
    sx_opt o[] = {{"--qr", 0, NULL, &qr}, {"--no-qr", 0, NULL, &noqr}};
    int rc = sx_parse(x, "fingerprint", argc, argv, o, 2, pos, 1, &n);
    if (rc >= 0) return rc;
    want_qr = qr || (!noqr && isatty(STDOUT_FILENO));
    json_t *p = json_object();
    if (n) json_object_set_new(p, "user", json_string(pos[0]));
    return simple(x, "fingerprint", p, show_fp);
}

/* ---- lookup, settings, stop ---- */

static void show_lookup(json_t *r)
{
    size_t i, k;
    json_t *d, *a;
    printf("%s: %s\n", jstr(r, "user"), jstr(r, "presence"));
    json_array_foreach(json_object_get(r, "devices"), i, d)
    {
        printf("  device %s\n", jstr(d, "id"));
        json_array_foreach(json_object_get(d, "addresses"), k, a)
            printf("    %s\n", json_string_value(a));
    }
    json_array_foreach(json_object_get(r, "certificates"), i, d)
        printf("  certificate %s\n", jstr(d, "grouped"));
}

int sx_cmd_lookup(sx_ctx *x, int argc, char **argv)
{
    return one_user(x, "lookup", "lookup", argc, argv, show_lookup);
}

static void show_settings(json_t *r)
{
    const char *k;
    json_t *v;
    json_object_foreach(r, k, v)
    {
        if (json_is_string(v))
            printf("%s = %s\n", k, json_string_value(v));
        else
            printf("%s = %lld\n", k, (long long)json_integer_value(v));
    }
}

int sx_cmd_settings(sx_ctx *x, int argc, char **argv)
{
    const char *pos[2];
    int n;
    int rc = sx_parse(x, "settings", argc, argv, NULL, 0, pos, 2, &n);
    if (rc >= 0) return rc;
    json_t *p = json_object();
    if (n >= 1) json_object_set_new(p, "key", json_string(pos[0]));
    if (n == 2) json_object_set_new(p, "value", json_string(pos[1]));
    return simple(x, "settings", p, show_settings);
}

int sx_cmd_stop(sx_ctx *x, int argc, char **argv)
{
    const char *pos[1];
    int n;
    int rc = sx_parse(x, "stop", argc, argv, NULL, 0, pos, 0, &n);
    if (rc >= 0) return rc;
    return simple(x, "stop", NULL, NULL);
}

/* ---- events ---- */

/* 1 when event params p is of type and its data has key=value (match may be NULL). */
static int event_matches(json_t *p, const char *type, const char *match)
{
    if (strcmp(jstr(p, "type"), type)) return 0;
    if (!match) return 1;
    const char *eq = strchr(match, '=');
    if (!eq) return 0;
    char key[64];
    snprintf(key, sizeof(key), "%.*s", (int)(eq - match), match);
    return !strcmp(jstr(json_object_get(p, "data"), key), eq + 1);
}

int sx_cmd_events(sx_ctx *x, int argc, char **argv)
{
    const char *pos[1], *since = NULL, *wait = NULL, *match = NULL, *timeout = NULL;
    int n, follow = 0;
    sx_opt o[] = {{"--since", 1, &since, NULL},
                  {"--wait", 1, &wait, NULL},
                  {"--match", 1, &match, NULL},
                  {"--timeout", 1, &timeout, NULL},
                  {"--follow", 0, NULL, &follow}};
    int rc = sx_parse(x, "events", argc, argv, o, 5, pos, 0, &n);
    if (rc >= 0) return rc;
    int timeout_s = timeout ? atoi(timeout) : 30;
    sx_client c;
    int code = open_agent(x, &c);
    if (code) return code;
    json_t *p = json_object();
    if (since) json_object_set_new(p, "since", json_integer(strtoll(since, NULL, 10)));
    json_t *res;
    json_t *r = sx_rpc(x, &c, "subscribe", p, &res, &code, NULL);
    if (!r) {
        sx_close(&c);
        return code;
    }
    long long last = jint(res, "last");
    if (json_is_true(json_object_get(res, "gap")))
        fprintf(stderr, "sixchat: events before %lld are no longer kept\n", jint(res, "first"));
    json_decref(r);
    long long seen = since ? strtoll(since, NULL, 10) : last;
    /* Without --wait or --follow: what is stored now, then stop. */
    if (!wait && !follow && seen >= last) {
        sx_close(&c);
        return SX_EXIT_OK;
    }
    for (;;) {
        int timed_out = 0;
        json_t *j = sx_read(&c, wait ? timeout_s * 1000 : -1, &timed_out);
        if (!j) {
            sx_close(&c);
            if (timed_out) {
                fprintf(stderr, "sixchat: no %s event within %d s\n", wait, timeout_s);
                return SX_EXIT_TIMEOUT;
            }
            return follow ? SX_EXIT_OK : SX_EXIT_FAIL;
        }
        json_t *ep = json_object_get(j, "params");
        int is_event = !strcmp(jstr(j, "method"), "event");
        if (is_event || follow) {
            if (x->json) {
                char *s = json_dumps(is_event ? ep : j, JSON_COMPACT | sx_json_flags());
                if (s) puts(s);
                free(s);
            } else if (is_event) {
                /* A copy made safe: --match compares the data as the agent sent it. */
                json_t *safe = json_deep_copy(ep);
                sx_safe_json(safe);
                char *d = safe ? json_dumps(json_object_get(safe, "data"), JSON_COMPACT) : NULL;
                printf("%lld %s %s\n", jint(ep, "id"), jstr(safe, "type"), d ? d : "{}");
                free(d);
                json_decref(safe);
            }
            fflush(stdout);
        }
        int done = 0;
        if (is_event) {
            seen = jint(ep, "id");
            if (wait)
                done = event_matches(ep, wait, match);
            else if (!follow)
                done = seen >= last;
        }
        json_decref(j);
        if (done) {
            sx_close(&c);
            return SX_EXIT_OK;
        }
    }
}

static void show_read(json_t *r)
{
    printf("%lld messages marked read\n", jint(r, "count"));
}

int sx_cmd_read(sx_ctx *x, int argc, char **argv)
{
    const char *pos[2];
    int n;
    int rc = sx_parse(x, "read", argc, argv, NULL, 0, pos, 2, &n);
    if (rc >= 0) return rc;
    if (n < 1) return sx_usage("read", "whose messages? (sixchat read USER [ID])");
    json_t *p = json_pack("{s:s}", "peer", pos[0]);
    if (n == 2) json_object_set_new(p, "id", json_string(pos[1]));
    return simple(x, "read", p, show_read);
}
