/*
 * sixchat_main.c - the sixchat program: global options, the command
 * table's dispatch, help, and the argument parser every command uses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

void sx_print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
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
