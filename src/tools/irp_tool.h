/*
 * irp_tool.h - what the files of the irp command share. The files call
 * downwards only: irp_main.c (options, table lookup, main) uses irp_cmds.c
 * (the commands' requests and the printing of their answers), and both use
 * irp_run.c (the run's request queue, its end, error lines, reading files).
 * One program, not a library: these names are not exported anywhere.
 */
#ifndef IRP_TOOL_H
#define IRP_TOOL_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "irp_client.h"

/* ---- options ---------------------------------------------------------------------- */

/* The options of a command (irp_tool_args.opt), also bits of irp_tool_cmd.opts. */
typedef enum irp_tool_opt {
    IRP_OPT_SERVER,
    IRP_OPT_CA_FP,
    IRP_OPT_CA,
    IRP_OPT_CERT,
    IRP_OPT_KEY,
    IRP_OPT_USER,
    IRP_OPT_PASSWORD,
    IRP_OPT_TIMEOUT,
    IRP_OPT_TOKEN,
    IRP_OPT_CSR,
    IRP_OPT_OUT,
    IRP_OPT_IN,
    IRP_OPT_SAVE,
    IRP_OPT_DEVICE,
    IRP_OPT_PORT,
    IRP_OPT_LIFETIME,
    IRP_OPT_SEQ,
    IRP_OPT_ALL, /* a flag: "1" when given */
    IRP_OPT_SERIAL,
    IRP_OPT_FP,
    IRP_OPT_CERT_FILE,
    IRP_OPT_REASON,
    IRP_OPT_ACCESS,
    IRP_OPT_ALLOW, /* repeatable: irp_tool_args.allows */
    IRP_OPT_SET,   /* repeatable: irp_tool_args.sets */
    IRP_OPT_AFTER,
    IRP_OPT_COUNT,
    IRP_OPT_DOMAIN, /* find the server by DNS SRV (docs/IRP.md 2.1) */
    IRP_OPT_DNS,
    IRP_OPT_COUNT_ /* the number of options */
} irp_tool_opt;

#define IRP_OPT_BIT(o) (1ul << (o))

/* The command line, as given (values are parsed by the commands that use them). */
typedef struct irp_tool_args {
    const char *cmd;
    const char *opt[IRP_OPT_COUNT_]; /* NULL when not given; the last one given wins */
    const char *pos[IRP_MAX_ADDRS + 1];
    char *sets[IRP_MAX_INFO]; /* --set NAME=VALUE (split in place) */
    const char *allows[IRP_MAX_ALLOW];
    size_t npos, nsets, nallow;
} irp_tool_args;

/* ---- the run's state (irp_run.c) ---------------------------------------------------- */

#define IRP_TOOL_MAX_REQ 40

typedef struct irp_tool irp_tool;

/* One queued request and whom its answer goes to (the ctx of its callback). */
typedef struct irp_tool_req {
    irp_req req;
    irp_response_cb cb;
    irp_tool *t;
    const char *what; /* the label printed by on_plain; non-NULL marks a lookup */
} irp_tool_req;

struct irp_tool {
    uv_loop_t *loop;
    irp_client *cli;
    uv_signal_t sigint_h, sigterm_h;
    int finished;
    int exit_code;
    int is_watch;
    int waiting; /* responses still expected */
    long want_events, got_events;
    const char *out_file, *save_file;
    const char *pin_hex; /* the --ca-fp given, normalised; NULL without one */
    char pin_buf[65];
    uint8_t *csr_buf, *p12_buf; /* request bodies, freed by irp_tool_free */
    irp_tool_req reqs[IRP_TOOL_MAX_REQ];
    size_t n_reqs;
};

/* Closes the client and the signal handles, once: the loop then ends. */
void irp_tool_finish(irp_tool *t);
/* Prints `irp: STATUS NAME: MESSAGE` on standard error; the exit status becomes 1. */
void irp_tool_error(irp_tool *t, int status, const char *msg);
/* Prints `irp: MSG (irp --help)` on standard error; returns 2, the usage error status. */
int irp_tool_usage_error(const char *msg);
/* Queues a request, answered to cb(slot) with what as the slot's label; sent on connecting. */
irp_req *irp_tool_add_req(irp_tool *t, irp_op op, irp_response_cb cb, const char *what);
/* The client's connect callback (ctx: the irp_tool): sends the queued requests. */
void irp_tool_on_connected(void *ctx, int status, const char *msg);
/* The whole file, NUL-terminated (*len, if not NULL, without the NUL); NULL if unreadable. */
char *irp_tool_read_file(const char *path, size_t *len);

/* ---- the commands (irp_cmds.c) ------------------------------------------------------ */

/* One command: its name, the request it sends, how to build its requests from the
 * command line (0, or 2 after printing a usage error), its help and the options it
 * takes beyond the connection's. */
typedef struct irp_tool_cmd {
    const char *name;
    irp_op op;
    int (*build)(irp_tool *t, const struct irp_tool_cmd *c, irp_tool_args *a);
    const char *synopsis; /* after "irp", e.g. "lookup USER" */
    const char *help;     /* lines of the COMMANDS section of `irp --help` */
    unsigned long opts;   /* IRP_OPT_BIT()s */
} irp_tool_cmd;

/* The table of commands, in the order of `irp --help`; the last entry has a NULL name. */
extern const irp_tool_cmd irp_tool_cmds[];

/* Queues the password login that comes first when --user and --password are given. */
void irp_tool_queue_login(irp_tool *t, const irp_tool_args *a);
/* The event and lost-connection callbacks of a watch (ctx: the irp_tool). */
void irp_tool_on_event(void *ctx, const irp_event *ev);
void irp_tool_on_lost(void *ctx, int status, const char *msg);

#endif
