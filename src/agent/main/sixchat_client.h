/*
 * sixchat_client.h - the command line's side of the local API: connect to
 * the running agent's socket, call a method, read its answer (and, for
 * commands that wait, the events in between). Blocking: the CLI has no loop.
 */
#ifndef SIXCHAT_CLIENT_H
#define SIXCHAT_CLIENT_H

#include <jansson.h>
#include <stddef.h>

/* Exit codes shared by every subcommand (each command's --help lists them). */
enum {
    SX_EXIT_OK = 0,
    SX_EXIT_FAIL = 1,        /* the agent refused or failed; the message says why */
    SX_EXIT_USAGE = 2,       /* bad arguments */
    SX_EXIT_NO_AGENT = 3,    /* the agent is not running */
    SX_EXIT_TIMEOUT = 4,     /* send --wait: no receipt before the timeout */
    SX_EXIT_UNDELIVERED = 5, /* send --wait: the message failed or was cancelled */
};

#define SX_NOT_RUNNING "the agent is not running: start it with `sixchat up`"

typedef struct sx_client {
    int fd;
    char *buf;
    size_t len, cap;
    long next_id;
} sx_client;

/* Connects to the socket at path. Returns SX_EXIT_OK or SX_EXIT_NO_AGENT (message printed). */
int sx_connect(sx_client *c, const char *path);
void sx_close(sx_client *c);

/* Sends a request (params: reference taken, may be NULL); returns its id, or -1. */
long sx_send(sx_client *c, const char *method, json_t *params);

/*
 * Reads the next JSON object from the agent. timeout_ms < 0 waits forever.
 * Returns NULL at EOF, on timeout (*timed_out = 1) or on garbage.
 */
json_t *sx_read(sx_client *c, int timeout_ms, int *timed_out);

/*
 * Calls method and waits for its answer, skipping events. Returns the
 * whole response object (result or error), or NULL when the agent went
 * away (message printed).
 */
json_t *sx_call(sx_client *c, const char *method, json_t *params);

#endif
