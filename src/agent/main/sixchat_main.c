/*
 * sixchat_main.c - the sixchat program: global options, the command
 * table's dispatch, help, and the argument parser every command uses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent_text.h"
#include "sixchat_cli.h"

void sx_help(const char *cmd)
{
    for (size_t i = 0; i < sx_n_cmds; i++) {
        if (!strcmp(sx_cmds[i].name, cmd)) {
            fputs(sx_cmds[i].help, stdout);
            return;
        }
    }
}

int sx_usage(const char *cmd, const char *msg)
{
    fprintf(stderr, "sixchat: %s: %s\n(see `sixchat %s --help`)\n", cmd, msg, cmd);
    return SX_EXIT_USAGE;
}

int sx_parse(sx_ctx *x, const char *cmd, int argc, char **argv, const sx_opt *opts, size_t nopts,
             const char **pos, int max, int *npos)
{
    *npos = 0;
    int only_pos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && !strcmp(a, "--")) {
            only_pos = 1;
            continue;
        }
        if (!only_pos && a[0] == '-' && a[1]) {
            if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
                sx_help(cmd);
                return SX_EXIT_OK;
            }
            if (!strcmp(a, "--json")) {
                x->json = 1;
                continue;
            }
            size_t k;
            for (k = 0; k < nopts; k++)
                if (!strcmp(opts[k].name, a)) break;
            if (k == nopts) {
                char msg[128];
                snprintf(msg, sizeof(msg), "unknown option %s", a);
                return sx_usage(cmd, msg);
            }
            if (opts[k].has_arg) {
                if (i + 1 >= argc) {
                    char msg[128];
                    snprintf(msg, sizeof(msg), "%s needs a value", a);
                    return sx_usage(cmd, msg);
                }
                *opts[k].val = argv[++i];
            } else {
                *opts[k].flag = 1;
            }
            continue;
        }
        if (*npos >= max) return sx_usage(cmd, "too many arguments");
        pos[(*npos)++] = a;
    }
    return -1;
}

size_t sx_json_flags(void)
{
    /* jansson writes U+0080..U+009F and U+202E as they are: on a terminal
     * they are \u escapes instead (the same JSON value, agent_text.h). */
    return isatty(STDOUT_FILENO) ? JSON_ENSURE_ASCII : 0;
}

void sx_print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS | sx_json_flags());
    if (s) {
        puts(s);
        free(s);
    }
}

void sx_time(long long ms, char *out, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!localtime_r(&t, &tm) || !strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(out, cap, "%lld", ms);
}

/* A string of j replaced by its displayable form ("text" keeps its lines). */
static void safe_string(json_t *j, const char *key, json_t *v, size_t index)
{
    unsigned flags = key && !strcmp(key, "text") ? AGENT_TEXT_LINES : 0;
    char *d = agent_text_display(json_string_value(v), json_string_length(v), flags);
    json_t *n = d ? json_string(d) : NULL;
    free(d);
    if (!n) n = json_string("?"); /* out of memory: never the unsafe original */
    if (key)
        json_object_set_new(j, key, n);
    else
        json_array_set_new(j, index, n);
}

void sx_safe_json(json_t *j)
{
    const char *k;
    json_t *v;
    size_t i;
    if (json_is_object(j)) {
        void *tmp;
        json_object_foreach_safe(j, tmp, k, v)
        {
            if (json_is_string(v))
                safe_string(j, k, v, 0);
            else
                sx_safe_json(v);
        }
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v)
        {
            if (json_is_string(v))
                safe_string(j, NULL, v, i);
            else
                sx_safe_json(v);
        }
    }
}

json_t *sx_rpc(sx_ctx *x, sx_client *c, const char *method, json_t *params, json_t **result,
               int *code, int *agent_err)
{
    *result = NULL;
    if (agent_err) *agent_err = 0;
    json_t *r = sx_call(c, method, params);
    if (!r) {
        *code = SX_EXIT_FAIL;
        return NULL;
    }
    /* Human output shows peers' strings: every one made safe here, once. */
    if (!x->json) sx_safe_json(r);
    json_t *err = json_object_get(r, "error");
    if (err) {
        if (agent_err) *agent_err = (int)json_integer_value(json_object_get(err, "code"));
        if (x->json)
            sx_print_json(r);
        else
            fprintf(stderr, "sixchat: %s\n", json_string_value(json_object_get(err, "message")));
        json_decref(r);
        *code = SX_EXIT_FAIL;
        return NULL;
    }
    *result = json_object_get(r, "result");
    *code = SX_EXIT_OK;
    return r;
}

static void usage_all(FILE *f)
{
    fprintf(f, "usage: sixchat [--home DIR] COMMAND [ARGS]\n\n"
               "End2End Direct messaging. `sixchat up` runs the agent; every other\n"
               "command talks to it through its local API.\n\ncommands:\n");
    for (size_t i = 0; i < sx_n_cmds; i++)
        fprintf(f, "  %-12s %s\n", sx_cmds[i].name, sx_cmds[i].summary);
    fprintf(f, "\n`sixchat COMMAND --help` describes a command, its options and exit codes.\n"
               "--home DIR (or SIXCHAT_HOME) keeps everything in DIR; otherwise the XDG\n"
               "directories are used.\n");
}

int main(int argc, char **argv)
{
    sx_ctx x;
    memset(&x, 0, sizeof(x));
    int i = 1;
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--home") && i + 1 < argc) {
            x.home = argv[++i];
        } else if (!strncmp(argv[i], "--home=", 7)) {
            x.home = argv[i] + 7;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage_all(stdout);
            return SX_EXIT_OK;
        } else if (!strcmp(argv[i], "--version")) {
            puts("sixchat 0.1.0");
            return SX_EXIT_OK;
        } else {
            break;
        }
    }
    if (i >= argc) {
        usage_all(stderr);
        return SX_EXIT_USAGE;
    }
    if (agent_paths_init(&x.paths, x.home)) {
        fprintf(stderr, "sixchat: no usable home directory: set --home DIR or SIXCHAT_HOME "
                        "(or HOME), and keep the path short enough for a socket\n");
        return SX_EXIT_USAGE;
    }
    for (size_t k = 0; k < sx_n_cmds; k++)
        if (!strcmp(sx_cmds[k].name, argv[i]))
            return sx_cmds[k].run(&x, argc - i - 1, argv + i + 1);
    fprintf(stderr, "sixchat: no command %s (see `sixchat --help`)\n", argv[i]);
    return SX_EXIT_USAGE;
}
