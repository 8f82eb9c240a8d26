/*
 * sixchat_cli.h - what the sixchat program's files share: the command
 * table, the context of one run, argument parsing and output helpers.
 */
#ifndef SIXCHAT_CLI_H
#define SIXCHAT_CLI_H

#include <jansson.h>

#include "agent_paths.h"
#include "sixchat_client.h"

/* The manual pages' shared parts: exit statuses and the options every command takes. */
#define SX_HELP_EXIT                                                                               \
    "EXIT STATUS\n"                                                                                \
    "    0  success\n"                                                                             \
    "    1  the agent refused or failed; the message says why\n"                                   \
    "    2  usage error\n"                                                                         \
    "    3  the agent is not running (start it with `sixchat up`)\n"
#define SX_HELP_OPTS                                                                               \
    "    --json      print the agent's answer as JSON (docs/AGENT-API.md)\n"                       \
    "    --help      this page\n"

typedef struct sx_ctx {
    const char *home; /* --home, or NULL */
    agent_paths paths;
    int json; /* --json */
} sx_ctx;

typedef struct sx_cmd {
    const char *name;
    int (*run)(sx_ctx *x, int argc, char **argv);
    const char *summary; /* one line for `sixchat --help` */
    const char *help;    /* the man-style page of `sixchat CMD --help` */
} sx_cmd;

extern const sx_cmd sx_cmds[];
extern const size_t sx_n_cmds;

/* An option of a command: with has_arg, *val receives its argument, else *flag = 1. */
typedef struct sx_opt {
    const char *name; /* "--wait" */
    int has_arg;
    const char **val;
    int *flag;
} sx_opt;

/*
 * Parses argv (after the command name): --json and --help everywhere, the
 * command's options, and up to max positionals (in pos; *npos their count).
 * Returns -1 to go on, or an exit code (help printed: 0; usage error: 2).
 */
int sx_parse(sx_ctx *x, const char *cmd, int argc, char **argv, const sx_opt *opts, size_t nopts,
             const char **pos, int max, int *npos);

/* Prints the help page of cmd to stdout. */
void sx_help(const char *cmd);
/* "sixchat: CMD: MSG" and the usage hint to stderr; returns SX_EXIT_USAGE. */
int sx_usage(const char *cmd, const char *msg);

/*
 * Connects and calls method (in human output, the answer passes through
 * sx_safe_json); on success *result is the result (owned by the
 * returned response, which the caller frees). On an error answer, prints it
 * (as JSON with --json) and returns NULL with *code = SX_EXIT_FAIL;
 * *agent_err receives the API error code.
 */
json_t *sx_rpc(sx_ctx *x, sx_client *c, const char *method, json_t *params, json_t **result,
               int *code, int *agent_err);

/* Prints j as pretty JSON on stdout (non-ASCII as \u escapes on a terminal). */
void sx_print_json(json_t *j);
/* The jansson flags for JSON on stdout: JSON_ENSURE_ASCII on a terminal. */
size_t sx_json_flags(void);
/*
 * Replaces every string in j (recursively) by what is safe to print on a
 * terminal (agent_text_display: controls, C1 and bidirectional controls
 * as "\uXXXX", invalid UTF-8 as U+FFFD; "text" members keep LF and TAB).
 * Human output passes every answer and event through it before printing
 * (sx_rpc does it for answers); --json output is printed exact.
 */
void sx_safe_json(json_t *j);
/* Milliseconds since the epoch as local "YYYY-MM-DD HH:MM:SS". */
void sx_time(long long ms, char *out, size_t cap);

/* The commands (sixchat_cmds.c, sixchat_up.c, sixchat_apicmd.c, sixchat_local.c). */
int sx_cmd_up(sx_ctx *x, int argc, char **argv);
int sx_cmd_api(sx_ctx *x, int argc, char **argv);
int sx_cmd_status(sx_ctx *x, int argc, char **argv);
int sx_cmd_send(sx_ctx *x, int argc, char **argv);
int sx_cmd_history(sx_ctx *x, int argc, char **argv);
int sx_cmd_outbox(sx_ctx *x, int argc, char **argv);
int sx_cmd_contacts(sx_ctx *x, int argc, char **argv);
int sx_cmd_block(sx_ctx *x, int argc, char **argv);
int sx_cmd_unblock(sx_ctx *x, int argc, char **argv);
int sx_cmd_trust(sx_ctx *x, int argc, char **argv);
int sx_cmd_fingerprint(sx_ctx *x, int argc, char **argv);
int sx_cmd_lookup(sx_ctx *x, int argc, char **argv);
int sx_cmd_settings(sx_ctx *x, int argc, char **argv);
int sx_cmd_stop(sx_ctx *x, int argc, char **argv);
int sx_cmd_events(sx_ctx *x, int argc, char **argv);
int sx_cmd_init(sx_ctx *x, int argc, char **argv);
int sx_cmd_enroll(sx_ctx *x, int argc, char **argv);
int sx_cmd_backup(sx_ctx *x, int argc, char **argv);
int sx_cmd_restore(sx_ctx *x, int argc, char **argv);
int sx_cmd_read(sx_ctx *x, int argc, char **argv);

/* File transfers (sixchat_xfer.c): the commands and their manual pages. */
int sx_cmd_send_file(sx_ctx *x, int argc, char **argv);
int sx_cmd_transfers(sx_ctx *x, int argc, char **argv);
int sx_cmd_accept(sx_ctx *x, int argc, char **argv);
int sx_cmd_reject(sx_ctx *x, int argc, char **argv);
extern const char sx_help_send_file[], sx_help_transfers[], sx_help_accept[], sx_help_reject[];

/* Calls method and prints its result as JSON (--json) or with show (sixchat_cmds.c). */
int sx_run_method(sx_ctx *x, const char *method, json_t *params, void (*show)(json_t *result));

/* Other domains (sixchat_domains.c): the commands and their manual pages. */
int sx_cmd_trust_domain(sx_ctx *x, int argc, char **argv);
int sx_cmd_domains(sx_ctx *x, int argc, char **argv);
extern const char sx_help_trust_domain[], sx_help_domains[];

/* A QR code of text on the terminal (libqrencode), two rows per line. */
void sx_qr(const char *text);

/* The terminal chat (sixchat_chat.c): the command and its manual page. */
int sx_cmd_chat(sx_ctx *x, int argc, char **argv); /* sixchat_chat.c */
extern const char sx_help_chat[];

#endif
