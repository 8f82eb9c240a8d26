/*
 * agent_events.h - numbered, persisted events (docs/AGENT-API.md 5).
 *
 * Every event gets the next id (the last one + 1, across restarts), is
 * written to the store in the caller's transaction when there is one, and
 * is then handed to the sink (the local API, which forwards it to its
 * subscribers). The store keeps the last `window` events: a client that
 * comes back with `since` gets every event it missed inside that window.
 */
#ifndef AGENT_EVENTS_H
#define AGENT_EVENTS_H

#include <jansson.h>
#include <stdint.h>
#include "agent_store.h"

#define AGENT_EVENTS_WINDOW 10000

typedef void (*agent_event_sink_fn)(void *ctx, uint64_t id, uint64_t ts_ms, const char *type,
                                    const char *data);

typedef struct agent_events {
    agent_store *st;
    uint64_t last;   /* id of the newest event */
    uint64_t window; /* events kept */
    agent_event_sink_fn sink;
    void *sink_ctx;
} agent_events;

/* Reads the last id from the store. window 0 means AGENT_EVENTS_WINDOW. */
SC_MUST_CHECK int agent_events_init(agent_events *ev, agent_store *st, uint64_t window);

void agent_events_set_sink(agent_events *ev, agent_event_sink_fn fn, void *ctx);

/*
 * Records event `type` with `data` (a JSON object; the reference is taken,
 * NULL means {}), then hands it to the sink. *id (may be NULL) receives its
 * number. Errors: SC_ERR_IO, SC_ERR_NOMEM; on error no id is used up.
 */
SC_MUST_CHECK int agent_events_emit(agent_events *ev, const char *type, json_t *data,
                                    uint64_t now_ms, uint64_t *id);

#endif
