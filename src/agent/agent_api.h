/*
 * agent_api.h - the local API server: JSON-RPC 2.0, one JSON object per
 * line, on a Unix socket (docs/AGENT-API.md 2-3).
 *
 * The socket is created mode 0600 in a 0700 directory, and each connection
 * is checked with SO_PEERCRED: only the agent's own uid is served. Requests
 * are dispatched to a caller-supplied table of methods; a method answers at
 * once or later (agent_api_reply / agent_api_fail on the request handle).
 * `subscribe` and `unsubscribe` are the server's own: numbered events from
 * `since` (replayed from the store, then live). A client that does not read
 * is cut off: when its unsent output passes a bound, or when nothing of it
 * has been written for `stall_ms`. Replays are paced by the client's
 * reading, so a slow reader never holds more than a bounded amount of memory
 * and never stalls the loop. The program must ignore SIGPIPE (a client that
 * went away is then an EPIPE on its connection alone).
 */
#ifndef AGENT_API_H
#define AGENT_API_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>
#include "agent_events.h"

/* Error codes (docs/AGENT-API.md 3): JSON-RPC's own, then the agent's. */
enum {
    AGENT_E_PARSE = -32700,
    AGENT_E_INVALID_REQUEST = -32600,
    AGENT_E_NO_METHOD = -32601,
    AGENT_E_PARAMS = -32602,
    AGENT_E_INTERNAL = -32603,
    AGENT_E_NOT_FOUND = 1,    /* no such contact, message, user */
    AGENT_E_OFFLINE = 2,      /* the peer has no registered address */
    AGENT_E_BLOCKED = 3,      /* the user is blocked */
    AGENT_E_UNTRUSTED = 4,    /* the contact's certificate changed: `trust` first */
    AGENT_E_REGISTRY = 5,     /* the registry failed or refused */
    AGENT_E_TIMEOUT = 6,      /* a --wait ran out */
    AGENT_E_NOT_ENROLLED = 7, /* no certificate yet: init and enroll */
    AGENT_E_STATE = 8,        /* not possible now (e.g. cancel of a sent message) */
};

/* Limits of one connection. */
#define AGENT_API_LINE_MAX (256 * 1024)     /* one request line */
#define AGENT_API_OUT_MAX (4 * 1024 * 1024) /* unsent output before a cut-off */
#define AGENT_API_REPLAY_LOW (64 * 1024)    /* replay refills below this */
#define AGENT_API_STALL_MS 30000
#define AGENT_API_CLIENTS_MAX 64

typedef struct agent_api agent_api;

/* One request waiting for its answer. Freed by agent_api_reply/_fail. */
typedef struct agent_api_req {
    agent_api *api;
    uint64_t client; /* the connection's number; it may be gone by the answer */
    json_t *id;      /* NULL: a notification, no answer is sent */
} agent_api_req;

/* A method: params is an object (or NULL); it must answer req exactly once. */
typedef void (*agent_api_fn)(void *ctx, agent_api_req *req, json_t *params);

typedef struct agent_api_method {
    const char *name;
    agent_api_fn fn;
} agent_api_method;

typedef struct agent_api_opts {
    uint64_t stall_ms; /* 0: AGENT_API_STALL_MS */
    size_t out_max;    /* 0: AGENT_API_OUT_MAX */
} agent_api_opts;

/*
 * Listens on path. Refuses with SC_ERR_STATE when an agent already answers
 * there; removes a stale socket file otherwise. methods (and ctx) must
 * outlive the server. Installs itself as ev's sink. Errors: SC_ERR_IO,
 * SC_ERR_NOMEM, SC_ERR_ARG (path too long), SC_ERR_STATE.
 */
SC_MUST_CHECK int agent_api_start(uv_loop_t *loop, const char *path, const agent_api_method *m,
                                  size_t n, void *ctx, agent_events *ev, const agent_api_opts *opts,
                                  agent_api **out);

/* Closes every connection and the socket (removing its file); frees the
 * server once libuv has closed its handles. */
void agent_api_stop(agent_api *api);

/* Answers req with result (reference taken; NULL means null). Frees req. */
void agent_api_reply(agent_api_req *req, json_t *result);
/* Answers req with an error; data may be NULL (reference taken). Frees req. */
void agent_api_fail(agent_api_req *req, int code, const char *message, json_t *data);

/*
 * Sends an ephemeral notification (not numbered, not stored: typing
 * notices) to every subscribed client: {"jsonrpc":"2.0","method":method,
 * "params":params}. params: reference taken. api may be NULL.
 */
void agent_api_notify(agent_api *api, const char *method, json_t *params);

/* Connections open now (status). */
size_t agent_api_clients(const agent_api *api);

#endif
