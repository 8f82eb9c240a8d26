/*
 * bench_agent_api.h - a small client of the agent's local API for the agent
 * benchmarks (docs/AGENT-API.md): one Unix-socket connection, requests
 * written as one JSON line each, answers and events read line by line.
 * Blocking, with poll(); the benchmark programs drive one or two of these.
 */
#ifndef BENCH_AGENT_API_H
#define BENCH_AGENT_API_H

#include <stddef.h>

#include <jansson.h>

typedef struct bapi {
    int fd;
    char *in; /* bytes read, not yet taken as lines */
    size_t in_len, in_cap;
    char *out; /* requests not yet written (pipelined sends) */
    size_t out_len, out_cap;
    long next_id;
} bapi;

/* Connects to the agent's socket. Returns 0, or -1 (printed). */
int bapi_connect(bapi *a, const char *path);
void bapi_close(bapi *a);

/*
 * Queues a request {"jsonrpc":"2.0","id":N,"method":...,"params":params}
 * (params taken over, may be NULL) and returns its id N; -1 on failure.
 * Nothing is written until bapi_flush or bapi_poll.
 */
long bapi_queue(bapi *a, const char *method, json_t *params);

/* Writes what is queued (blocking). Returns 0 or -1. */
int bapi_flush(bapi *a);

/*
 * Waits up to timeout_ms (-1: no limit) for the next line; writes queued
 * requests meanwhile. Returns the parsed object (caller decrefs), or NULL
 * on timeout or error (*err set to 1 on error).
 */
json_t *bapi_next(bapi *a, int timeout_ms, int *err);

/* Takes one complete line already buffered, without reading (NULL if none). */
json_t *bapi_take(bapi *a);

/* Reads whatever the socket holds now without blocking. Returns 0, or -1 on error/EOF. */
int bapi_pump(bapi *a);

/*
 * Sends one request and waits for its answer, keeping any event that comes
 * meanwhile for later (events are handed to on_event if not NULL, else
 * dropped). Returns the "result" (new reference), or NULL on an error
 * answer (printed) or a timeout.
 */
json_t *bapi_call(bapi *a, const char *method, json_t *params, int timeout_ms,
                  void (*on_event)(void *ctx, json_t *ev), void *ctx);

/* The event's params (borrowed) if msg is an event notification, else NULL. */
json_t *bapi_event(json_t *msg);

/* Milliseconds on the monotonic clock. */
double bapi_now_ms(void);

#endif
