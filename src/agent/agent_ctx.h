/*
 * agent_ctx.h - the agent's shared state: its options, the agent struct,
 * the clock and the event emitter. Every module of the agent (agent_msgs,
 * agent_methods, agent_methods_xfer, agent_net) reads this low header; the
 * top (agent.c: start, stop, signals, timers) fills the struct in and calls
 * the modules, which never call back up (docs/ARCHITECTURE.md, the agent).
 */
#ifndef AGENT_CTX_H
#define AGENT_CTX_H

#include <stdint.h>
#include <uv.h>

#include "agent_api.h"
#include "agent_events.h"
#include "agent_paths.h"
#include "agent_store.h"
#include "agent_types.h"
#include "sixchat/platform.h"
#include "sixchat/stanza.h"
#include <stdio.h>

#define AGENT_MAX_LISTEN 8
#define AGENT_DEFAULT_EXPIRY_DAYS 30

typedef struct agent_opts {
    const char *home;                     /* --home, or NULL */
    const char *listen[AGENT_MAX_LISTEN]; /* --listen ADDR:PORT; none: [::]:4605 */
    size_t n_listen;
    const char *advertise[AGENT_MAX_LISTEN]; /* --advertise IP: register these instead */
    size_t n_advertise;
    int allow_local;     /* --allow-local: register loopback and link-local (tests) */
    int no_registry;     /* --no-registry: peers by address only (tests, LANs) */
    uint64_t idle_ms;    /* peer sessions idle close; 0: the peer layer's default */
    uint32_t lifetime_s; /* registration lifetime asked for; 0: the registry's default */
    /* Peer limits (agent_peer.h); 0: the peer layer's default. Raised by benchmarks. */
    uint32_t stanza_rate;     /* --peer-rate: stanzas per second one peer may send */
    uint32_t conn_per_source; /* --conn-per-source: attempts per source address per 10 s */
    const char *dns;          /* --dns IPV4[:PORT]: the DNS server for SRV lookups (tests) */
} agent_opts;

typedef struct agent_net agent_net;   /* agent_net.c */
typedef struct agent_xfer agent_xfer; /* file transfers: agent_xfer.h */

typedef struct agent {
    uv_loop_t *loop;
    agent_opts opts;
    agent_paths paths;
    agent_store *st;
    agent_events ev;
    agent_api *api;
    agent_net *net;
    agent_xfer *xfer; /* agent_methods_xfer.c starts it */
    char user[AGENT_USER_MAX + 1];
    char device[IRP_DEVICE_MAX + 1];
    uint64_t expiry_ms; /* how long a message may wait in the outbox */
    int read_markers;   /* send read markers (a setting) */
    int contacts_only;  /* accept sessions from contacts only (a setting) */
    uint64_t started_ms;
    uv_signal_t sig_term, sig_int;
    uv_timer_t tick;
    int stopping;
    int exit_code;
    /*
     * Set by agent.c: how a module reaches one above it without calling it
     * (the files form a line, no circles): agent_msgs sends through the
     * network, agent_net reports readiness, agent_methods stops the agent.
     */
    int (*net_send)(struct agent *a, const char *peer, const char *device, const sc_stanza *st);
    void (*net_kick)(struct agent *a, const char *peer);
    size_t (*net_devices)(struct agent *a, const char *peer, char (*out)[IRP_DEVICE_MAX + 1],
                          size_t max);
    void (*on_ready)(struct agent *a);
    void (*on_stop)(struct agent *a);
    void (*on_settings)(struct agent *a);
} agent;

/* The current time (ms since the epoch). */
static inline uint64_t agent_now(void)
{
    return sc_clock_ms();
}

/* Emits an event, logging (not failing) when the store refuses it. */
static inline void agent_emit(agent *a, const char *type, json_t *data)
{
    if (agent_events_emit(&a->ev, type, data, agent_now(), NULL))
        fprintf(stderr, "sixchat: event %s not recorded (store failed)\n", type);
}

#endif
