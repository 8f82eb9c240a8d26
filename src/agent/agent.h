/*
 * agent.h - the user agent (`sixchat up`): one libuv loop holding the
 * store, the numbered events, the local API, the registry side
 * (agent_reg) and the peer sessions (agent_peer) (docs/ARCHITECTURE.md,
 * the agent). This header is shared by the agent's own files: agent.c
 * (start, stop, signals, timers), agent_msgs.c (messages and the outbox),
 * agent_methods.c (the API methods), agent_net.c (registry and peers).
 */
#ifndef AGENT_H
#define AGENT_H

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

/* Runs the agent until SIGTERM/SIGINT; returns the process exit code. */
int agent_run(const agent_opts *o);

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

/* ---- agent_msgs.c: messages and the outbox ---- */

/*
 * Queues text for peer (durable when this returns), emits message.queued,
 * and hands it to the network (sent now when a session is up, otherwise
 * when the peer comes back). id receives the message id. Errors:
 * SC_ERR_ARG, SC_ERR_TOO_LARGE, SC_ERR_IO.
 */
SC_MUST_CHECK int agent_msg_send(agent *a, const char *peer, const char *text, size_t len,
                                 char id[33]);

/*
 * Sends, in order, the outbox messages that device has not acknowledged:
 * all of them (only_queued 0, a new session), or only those not yet sent
 * anywhere (only_queued 1: a message queued while the session is up).
 */
void agent_msg_flush(agent *a, const char *peer, const char *device, int only_queued);

/* A session with (peer, device) is up: send every message it has not acknowledged, in order. */
void agent_msg_session_up(agent *a, const char *peer, const char *device);

/* A stanza arrived from (peer, device): message, receipt, read marker. */
void agent_msg_stanza(agent *a, const char *peer, const char *device, const sc_stanza *st);

/*
 * Marks incoming messages from peer read up to id (NULL: the newest),
 * emits message.read, and sends a read marker when the setting allows.
 * SC_ERR_ARG: no message id from peer.
 */
SC_MUST_CHECK int agent_msg_mark_read(agent *a, const char *peer, const char *id, int *count);

/* Fails every outbox message whose expiry has passed (message.failed). */
void agent_msg_expire(agent *a);

/* ---- agent_methods.c ---- */
extern const agent_api_method agent_methods[];
/* Reads the settings from the store (at start, and after `settings`). */
void agent_settings_load(agent *a);
extern const size_t agent_n_methods;

/* ---- agent_net.c: the registry side and the peers ---- */

/* Starts the registry connection and the listeners. Prints nothing. */
SC_MUST_CHECK int agent_net_start(agent *a, char *err, size_t errcap);
/* Stops both; done(a) runs once everything is closed (unregistered). */
void agent_net_stop(agent *a, void (*done)(agent *a));
/* "ADDR:PORT" of the first listener ("" when none). */
void agent_net_listen_addr(agent *a, char *out, size_t cap);
/* Make sure messages to peer go: send on an up session, else dial (lookup first). */
void agent_net_kick(agent *a, const char *peer);
/* Sends a stanza to (peer, device) (device NULL: every device); > 0 when queued somewhere. */
int agent_net_send(agent *a, const char *peer, const char *device, const sc_stanza *st);
/* File bytes to (peer, device): agent_peer_send_file's SC_OK, SC_ERR_TOO_LARGE, SC_ERR_STATE. */
int agent_net_send_file(agent *a, const char *peer, const char *device, const char *id,
                        uint64_t offset, const uint8_t *data, size_t len);
/* The set of blocked users changed: refuse them in the handshake from now on. */
void agent_net_blocked_changed(agent *a);
/* Status fields of the network (registration, NAT, sessions) added to obj. */
void agent_net_status(agent *a, json_t *obj);
/* Looks user up on the registry; the answer goes to req. */
void agent_net_lookup(agent *a, agent_api_req *req, const char *user);
/* The devices of peer known now (from the last view), for per-device outbox tracking. */
size_t agent_net_devices(agent *a, const char *peer, char (*out)[IRP_DEVICE_MAX + 1], size_t max);

#endif
