/*
 * sixchat_xfer.c - the file transfer commands, thin clients of the running
 * agent (docs/AGENT-API.md 4.9): send-file (with a progress bar on a
 * terminal), transfers, accept, reject.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* realpath */
#endif
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sixchat_cli.h"

#define EXIT_COMMON SX_HELP_EXIT
#define COMMON_OPTS SX_HELP_OPTS

const char sx_help_send_file[] =
    "NAME\n    sixchat send-file - send a file\n\n"
    "SYNOPSIS\n    sixchat send-file [--detach] [--timeout SECONDS] [--json] USER PATH\n\n"
    "DESCRIPTION\n"
    "    Offers the file to USER (its name, size and SHA-256) and streams it once\n"
    "    they accept: at once when you are their contact and the file is within\n"
    "    their automatic limit, otherwise when they run `sixchat accept`. A cut\n"
    "    connection or a restart of either agent resumes from what the receiver\n"
    "    has. On a terminal a progress bar shows how far it got; the command ends\n"
    "    when every byte is sent (the receiver then checks the SHA-256 and keeps\n"
    "    the file only when it matches). Interrupting the command does not stop\n"
    "    the transfer: `sixchat transfers` shows it, `sixchat reject ID` cancels it.\n\n"
    "OPTIONS\n"
    "    --detach             return once the file is offered\n"
    "    --timeout SECONDS    stop waiting after this long (the transfer goes on)\n" COMMON_OPTS
    "\n" EXIT_COMMON "    4  --timeout: not every byte was sent in time (the transfer goes on)\n"
    "    5  the receiver rejected it, or it failed (the message says why)\n";

const char sx_help_transfers[] =
    "NAME\n    sixchat transfers - file transfers, both ways\n\n"
    "SYNOPSIS\n    sixchat transfers [--open] [--peer USER] [--limit N] [--json]\n\n"
    "DESCRIPTION\n"
    "    Lists transfers, newest first: id, direction, state, progress, peer and\n"
    "    name. Offers waiting for your answer are in state `offered` (direction\n"
    "    in): `sixchat accept ID` or `sixchat reject ID`. Received files are in the\n"
    "    downloads directory (`path`).\n\n"
    "OPTIONS\n"
    "    --open        only unfinished transfers\n"
    "    --peer USER   only those with USER\n"
    "    --limit N     at most N (default 50)\n" COMMON_OPTS "\n" EXIT_COMMON;

const char sx_help_accept[] =
    "NAME\n    sixchat accept - accept an offered file\n\n"
    "SYNOPSIS\n    sixchat accept [--json] ID\n\n"
    "DESCRIPTION\n"
    "    Accepts the incoming offer ID (see `sixchat transfers`): the file is\n"
    "    received into the downloads directory as NAME.part and gets its name\n"
    "    once its SHA-256 is the one offered. Refused when the downloads\n"
    "    directory's file system has not enough free space.\n\n"
    "OPTIONS\n" COMMON_OPTS "\n" EXIT_COMMON;

const char sx_help_reject[] =
    "NAME\n    sixchat reject - decline an offered file, or stop a transfer\n\n"
    "SYNOPSIS\n    sixchat reject [--reason TEXT] [--json] ID\n\n"
    "DESCRIPTION\n"
    "    Declines the incoming offer ID, or stops an incoming transfer under way\n"
    "    (its .part is removed); the sender is told, with TEXT when given. For an\n"
    "    outgoing transfer, stops sending it.\n\n"
    "OPTIONS\n"
    "    --reason TEXT   one line for the sender (at most 256 bytes)\n" COMMON_OPTS
    "\n" EXIT_COMMON;

enum { EXIT_TIMEOUT = 4, EXIT_UNDELIVERED = 5 };

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static long long jint(json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

/* "12.3 MB" (decimal units, as file managers show sizes). */
static void human(long long n, char *out, size_t cap)
{
    if (n < 1000)
        snprintf(out, cap, "%lld B", n);
    else if (n < 1000000)
        snprintf(out, cap, "%.1f kB", n / 1e3);
    else if (n < 1000000000)
        snprintf(out, cap, "%.1f MB", n / 1e6);
    else
        snprintf(out, cap, "%.2f GB", n / 1e9);
}

static void bar(long long off, long long size)
{
    char a[32], b[32];
    int pct = size > 0 ? (int)(off * 100 / size) : 100, fill = pct * 30 / 100;
    human(off, a, sizeof(a));
    human(size, b, sizeof(b));
    fprintf(stderr, "\r[%.*s%.*s] %3d%% %s / %s ", fill, "##############################",
            30 - fill, "..............................", pct, a, b);
    fflush(stderr);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Reads events until the transfer is sent (0), stopped (5) or the time runs out (4). */
static int follow(sx_ctx *x, sx_client *c, const char *id, long long size, int timeout_s)
{
    int tty = !x->json && isatty(STDERR_FILENO);
    long long end = timeout_s > 0 ? now_ms() + timeout_s * 1000LL : -1;
    if (tty) bar(0, size);
    for (;;) {
        int timed_out = 0;
        long long left = end < 0 ? -1 : end - now_ms();
        json_t *j = sx_read(c, end < 0 ? -1 : left > 0 ? (int)left : 0, &timed_out);
        if (!j) {
            if (tty) fputc('\n', stderr);
            if (timed_out) {
                fprintf(stderr,
                        "sixchat: not every byte was sent within %d s; the transfer goes "
                        "on (see `sixchat transfers`)\n",
                        timeout_s);
                return EXIT_TIMEOUT;
            }
            fprintf(stderr, "sixchat: the agent closed the connection\n");
            return SX_EXIT_FAIL;
        }
        json_t *p = json_object_get(j, "params");
        const char *type = jstr(p, "type");
        json_t *d = json_object_get(p, "data");
        int code = -1;
        if (strcmp(jstr(d, "id"), id) || strcmp(jstr(d, "dir"), "out")) {
            json_decref(j);
            continue;
        }
        if (!strcmp(type, "transfer.progress") || !strcmp(type, "transfer.accepted") ||
            !strcmp(type, "transfer.resumed")) {
            if (tty) bar(jint(d, "offset"), size);
        } else if (!strcmp(type, "transfer.sent")) {
            if (tty) {
                bar(size, size);
                fputc('\n', stderr);
            }
            if (x->json)
                sx_print_json(d);
            else
                printf("sent %s: every byte is out; the receiver checks the SHA-256\n", id);
            code = SX_EXIT_OK;
        } else if (!strcmp(type, "transfer.rejected") || !strcmp(type, "transfer.failed") ||
                   !strcmp(type, "transfer.cancelled")) {
            if (tty) fputc('\n', stderr);
            if (x->json) sx_print_json(d);
            sx_safe_json(d); /* the reason may be the peer's */
            fprintf(stderr, "sixchat: %s: %s\n", type + strlen("transfer."), jstr(d, "reason"));
            code = EXIT_UNDELIVERED;
        }
        json_decref(j);
        if (code >= 0) return code;
    }
}

int sx_cmd_send_file(sx_ctx *x, int argc, char **argv)
{
    const char *pos[2], *timeout = NULL;
    int n, detach = 0;
    sx_opt o[] = {{"--detach", 0, NULL, &detach}, {"--timeout", 1, &timeout, NULL}};
    int rc = sx_parse(x, "send-file", argc, argv, o, 2, pos, 2, &n);
    if (rc >= 0) return rc;
    if (n != 2) return sx_usage("send-file", "sixchat send-file USER PATH");
    int timeout_s = timeout ? atoi(timeout) : 0;
    if (timeout && timeout_s <= 0) return sx_usage("send-file", "--timeout: a number of seconds");
    /* The agent runs elsewhere (its own directory): it gets the absolute path. */
    char path[PATH_MAX];
    struct stat sb;
    if (!realpath(pos[1], path) || stat(path, &sb) != 0) {
        fprintf(stderr, "sixchat: send-file: %s: no such file\n", pos[1]);
        return SX_EXIT_FAIL;
    }
    if (!S_ISREG(sb.st_mode)) {
        fprintf(stderr, "sixchat: send-file: %s: not a regular file\n", pos[1]);
        return SX_EXIT_FAIL;
    }
    sx_client c;
    int code = sx_connect(&c, x->paths.sock);
    if (code) return code;
    json_t *res, *r;
    if (!detach) {
        /* Subscribe first, so that no event of this transfer can be missed. */
        r = sx_rpc(x, &c, "subscribe", NULL, &res, &code, NULL);
        if (!r) {
            sx_close(&c);
            return code;
        }
        json_decref(r);
    }
    r = sx_rpc(x, &c, "send-file", json_pack("{s:s,s:s}", "to", pos[0], "path", path), &res, &code,
               NULL);
    if (!r) {
        sx_close(&c);
        return code;
    }
    char id[80];
    long long size = jint(res, "size");
    snprintf(id, sizeof(id), "%s", jstr(res, "id"));
    if (detach) {
        if (x->json)
            sx_print_json(res);
        else
            printf("%s\n", id);
    } else {
        if (!x->json) {
            char h[32];
            human(size, h, sizeof(h));
            fprintf(stderr, "offered %s (%s) to %s as %s\n", jstr(res, "name"), h, pos[0], id);
        }
        code = follow(x, &c, id, size, timeout_s);
    }
    json_decref(r);
    sx_close(&c);
    return code;
}

static void show_transfers(json_t *res)
{
    json_t *arr = json_object_get(res, "transfers"), *t;
    size_t i;
    if (json_array_size(arr) == 0) {
        printf("no transfers\n");
        return;
    }
    json_array_foreach(arr, i, t)
    {
        char a[32], b[32];
        long long size = jint(t, "size"), off = jint(t, "offset");
        human(off, a, sizeof(a));
        human(size, b, sizeof(b));
        printf("%s  %-3s %-9s %3d%% %s/%s  %s %s  %s\n", jstr(t, "id"), jstr(t, "dir"),
               jstr(t, "state"), size ? (int)(off * 100 / size) : 100, a, b,
               !strcmp(jstr(t, "dir"), "out") ? "to" : "from", jstr(t, "peer"), jstr(t, "name"));
        if (json_object_get(t, "reason")) printf("    %s\n", jstr(t, "reason"));
        if (!strcmp(jstr(t, "state"), "offered") && !strcmp(jstr(t, "dir"), "in"))
            printf("    waits for you: sixchat accept %s (or reject)\n", jstr(t, "id"));
    }
}

static int call(sx_ctx *x, const char *method, json_t *params, void (*show)(json_t *))
{
    sx_client c;
    int code = sx_connect(&c, x->paths.sock);
    if (code) {
        json_decref(params);
        return code;
    }
    json_t *res, *r = sx_rpc(x, &c, method, params, &res, &code, NULL);
    if (r) {
        if (x->json)
            sx_print_json(res);
        else
            show(res);
        json_decref(r);
    }
    sx_close(&c);
    return code;
}

int sx_cmd_transfers(sx_ctx *x, int argc, char **argv)
{
    const char *pos[1], *peer = NULL, *limit = NULL;
    int n, open = 0;
    sx_opt o[] = {
        {"--open", 0, NULL, &open}, {"--peer", 1, &peer, NULL}, {"--limit", 1, &limit, NULL}};
    int rc = sx_parse(x, "transfers", argc, argv, o, 3, pos, 0, &n);
    if (rc >= 0) return rc;
    json_t *p = json_pack("{s:b}", "open", open);
    if (peer) json_object_set_new(p, "peer", json_string(peer));
    if (limit) {
        char *end;
        long v = strtol(limit, &end, 10);
        if (*end || v < 0) {
            json_decref(p);
            return sx_usage("transfers", "--limit: a number");
        }
        json_object_set_new(p, "limit", json_integer(v));
    }
    return call(x, "transfers", p, show_transfers);
}

static void show_one(json_t *t)
{
    printf("%s %s: %s", jstr(t, "id"), jstr(t, "name"), jstr(t, "state"));
    if (json_object_get(t, "path") && !strcmp(jstr(t, "dir"), "in"))
        printf(" (%s)", jstr(t, "path"));
    printf("\n");
}

int sx_cmd_accept(sx_ctx *x, int argc, char **argv)
{
    const char *pos[1];
    int n, rc = sx_parse(x, "accept", argc, argv, NULL, 0, pos, 1, &n);
    if (rc >= 0) return rc;
    if (n != 1) return sx_usage("accept", "which transfer? (sixchat accept ID)");
    return call(x, "accept", json_pack("{s:s}", "id", pos[0]), show_one);
}

int sx_cmd_reject(sx_ctx *x, int argc, char **argv)
{
    const char *pos[1], *reason = NULL;
    int n;
    sx_opt o[] = {{"--reason", 1, &reason, NULL}};
    int rc = sx_parse(x, "reject", argc, argv, o, 1, pos, 1, &n);
    if (rc >= 0) return rc;
    if (n != 1) return sx_usage("reject", "which transfer? (sixchat reject ID)");
    json_t *p = json_pack("{s:s}", "id", pos[0]);
    if (reason) json_object_set_new(p, "reason", json_string(reason));
    return call(x, "reject", p, show_one);
}
