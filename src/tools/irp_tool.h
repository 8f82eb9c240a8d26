/*
 * irp_tool.h - what the files of the irp command share: irp_main.c (the
 * options, main and --help, the run's state) and irp_cmds.c (the requests
 * of each command, sending them, and printing the answers). One program,
 * not a library: these names are not exported anywhere.
 */
#ifndef IRP_TOOL_H
#define IRP_TOOL_H

#include <stddef.h>
#include <stdint.h>

#include "irp_client.h"

/* ---- irp_main.c: the run's state (set from the options) --------------------------- */

extern irp_client *cli;
extern int exit_code;
extern long want_events, got_events;
extern const char *out_file, *save_file;
extern int is_watch;

/* Closes the client and the signal handles, once: the loop then ends. */
void finish(void);
/* The whole file, NUL-terminated (*len, if not NULL, without the NUL); NULL if unreadable. */
char *read_file(const char *path, size_t *len);

/* ---- irp_cmds.c: requests and answers ---------------------------------------------- */

extern const char *pin_hex; /* the --ca-fp given, normalised */
extern const char *access_names[];

/* Queues a request of the command, answered to cb(ctx); sent by on_connected. */
irp_req *add_req(irp_op op, irp_response_cb cb, void *ctx);
/* The client's connect callback: sends the queued requests. */
void on_connected(void *ctx, int status, const char *msg);

uint8_t *csr_der(const char *path, size_t *len);
int fp_of_cert_file(const char *path, uint8_t fp[32], char **serial);
int parse_fp_hex(const char *s, uint8_t out[32]);
irp_reason reason_by_name(const char *s);

/* Answer handlers, one per command (ctx as given to add_req). */
void on_plain(void *ctx, const irp_resp *r);
void on_caps(void *ctx, const irp_resp *r);
void on_ca_certs(void *ctx, const irp_resp *r);
void on_enroll(void *ctx, const irp_resp *r);
void on_register(void *ctx, const irp_resp *r);
void on_lookup(void *ctx, const irp_resp *r);
void on_watch(void *ctx, const irp_resp *r);
void on_policy(void *ctx, const irp_resp *r);
void on_log(void *ctx, const irp_resp *r);
void on_users(void *ctx, const irp_resp *r);
void on_p12get(void *ctx, const irp_resp *r);
/* The event and lost-connection callbacks (watch). */
void on_event(void *ctx, const irp_event *ev);
void on_lost(void *ctx, int status, const char *msg);

#endif
