/*
 * agent_events.c - numbering, persisting and pruning events.
 */
#include "agent_events.h"

#include <stdlib.h>

int agent_events_init(agent_events *ev, agent_store *st, uint64_t window)
{
    ev->st = st;
    ev->window = window ? window : AGENT_EVENTS_WINDOW;
    ev->sink = NULL;
    ev->sink_ctx = NULL;
    return agent_store_event_last(st, &ev->last);
}

void agent_events_set_sink(agent_events *ev, agent_event_sink_fn fn, void *ctx)
{
    ev->sink = fn;
    ev->sink_ctx = ctx;
}

int agent_events_emit(agent_events *ev, const char *type, json_t *data, uint64_t now_ms,
                      uint64_t *id)
{
    if (!data && !(data = json_object())) return SC_ERR_NOMEM;
    char *text = json_dumps(data, JSON_COMPACT);
    json_decref(data);
    if (!text) return SC_ERR_NOMEM;
    uint64_t n = ev->last + 1;
    int rc = agent_store_event_add(ev->st, n, now_ms, type, text);
    if (rc == SC_OK) {
        ev->last = n;
        if (id) *id = n;
        /* Pruning every window/8 events keeps the table between window
         * and 9/8 window rows without a DELETE per insert. */
        if (n % (ev->window / 8 + 1) == 0) rc = agent_store_event_prune(ev->st, ev->window);
        if (ev->sink) ev->sink(ev->sink_ctx, n, now_ms, type, text);
    }
    free(text);
    return rc;
}
