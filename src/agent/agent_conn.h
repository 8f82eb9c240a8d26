/*
 * agent_conn.h - one End2End Direct connection: an sc_session over a
 * uv_tcp_t, with the embedder's four duties of sixchat/session.h (feed the
 * input, send the output, tick the timers, report the end of the stream)
 * and the per-connection limits: bounded output for a peer that does not
 * read, a stanza rate above which reading pauses, pings and idle close.
 *
 * A connection reports to its owner (the manager, agent_peer.c) through
 * agent_conn_ops only; it knows nothing of users, devices or dials (the
 * owner's fields below are the owner's alone). It ends exactly once:
 * `ended` runs when its handles are closed, and the owner must forget it
 * then; the connection frees itself right after.
 */
#ifndef AGENT_CONN_H
#define AGENT_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "agent_conn_cfg.h"
#include "agent_peer.h"
#include "agent_peer_limit.h"
#include "sixchat/session.h"

typedef struct agent_conn agent_conn;
struct agent_dial;

/* What every connection of one manager shares. */
typedef struct agent_conn_env {
    uv_loop_t *loop;
    const struct agent_conn_ops *ops;
    void *owner;
    agent_peer_limits lim; /* defaults filled in */
    uint8_t *rbuf;         /* one read buffer for all: libuv reads one socket at a time */
    size_t rbuf_len;
} agent_conn_env;

typedef struct agent_conn_ops {
    /* Outgoing TCP connect succeeded; the handshake starts (may be NULL). A failure is `closing`.
     */
    void (*connected)(void *owner, agent_conn *c);
    /* The core authenticated the peer (SC_EV_HANDSHAKE_DONE). */
    void (*handshake)(void *owner, agent_conn *c, const sc_event *ev);
    /* Every stanza, pings and pongs included (the core has answered the pings). */
    void (*stanza)(void *owner, agent_conn *c, const sc_stanza *st);
    void (*file)(void *owner, agent_conn *c, const char *id, uint64_t offset, const uint8_t *data,
                 size_t len);
    /*
     * The connection stopped being usable for sending: the peer closed, it
     * failed, or the local close began. why/err say why; reason is one line.
     */
    void (*closing)(void *owner, agent_conn *c, agent_peer_down_why why, int err,
                    const char *reason);
    /* Queued output fell to zero after agent_conn_send_file refused bytes. */
    void (*drained)(void *owner, agent_conn *c);
    /* The handles are closed; the connection is freed when this returns. */
    void (*ended)(void *owner, agent_conn *c);
} agent_conn_ops;

typedef enum agent_conn_state {
    AGENT_CONN_CONNECTING = 1, /* outgoing TCP connect under way */
    AGENT_CONN_HANDSHAKE,      /* the core's handshake runs */
    AGENT_CONN_OPEN,           /* established: stanzas flow */
    AGENT_CONN_CLOSING,        /* our close_notify sent or the peer's received: draining */
    AGENT_CONN_DEAD,           /* handles closing */
} agent_conn_state;

struct agent_conn {
    agent_conn_env *env;
    uv_tcp_t tcp;
    uv_timer_t timer;
    int handles; /* open handles: freed at zero */
    sc_session *s;
    agent_conn_cfg *cfg;
    agent_conn_state state;
    int initiator;
    struct sockaddr_storage addr;
    int reading, paused, in_callback, closing_reported, drain_wanted;
    size_t queued; /* bytes handed to libuv, not yet written */
    uint64_t created_ms, last_in_ms, last_act_ms, ping_sent_ms, linger_until;
    uint64_t deadline_ms; /* the owner's, while OPEN; 0: none */
    const char *deadline_why;
    uint64_t ping_seq;
    agent_peer_bucket bucket;
    uint64_t stanzas_in, stanzas_out, bytes_in, bytes_out;

    /* The owner's (agent_peer.c); untouched here except cert_der, freed with the connection. */
    agent_conn *prev, *next;
    uint64_t sid;
    struct agent_dial *dial;
    char user[IRP_USER_MAX + 1];
    char device[AGENT_PEER_DEVICE_MAX + 1];
    uint8_t fp[32];
    uint8_t *cert_der;
    size_t cert_len;
    int authed, up, device_known, confirming;
    uint64_t up_since_ms;
};

/*
 * Takes a connection the listener has ready (uv_accept) and starts a
 * responder session on it. Returns NULL when out of resources (the pending
 * connection is then accepted and closed, so the backlog does not fill).
 */
agent_conn *agent_conn_accept(agent_conn_env *env, uv_stream_t *server, agent_conn_cfg *cfg);

/*
 * Connects to addr and, once connected, runs the handshake as initiator
 * expecting `user`. Returns NULL on failure to start (an error of libuv or
 * memory; nothing is reported for it, not even `ended`) and sets *err.
 */
agent_conn *agent_conn_connect(agent_conn_env *env, const struct sockaddr *addr,
                               agent_conn_cfg *cfg, const char *user, int *err);

/*
 * Sends a stanza / file bytes. SC_ERR_STATE unless OPEN. send_file refuses
 * (SC_ERR_TOO_LARGE) while queued output is above half of max_output and
 * then reports `drained` once it is all written.
 */
int agent_conn_send_stanza(agent_conn *c, const sc_stanza *st);
int agent_conn_send_file(agent_conn *c, const char *id, uint64_t offset, const uint8_t *data,
                         size_t len);

/* Closes in order (close_notify, then linger for the peer's); why goes to `closing`. */
void agent_conn_close(agent_conn *c, agent_peer_down_why why);

/*
 * Ends at once: sends what the core has queued (an alert) if the socket
 * takes it now, then closes the socket. err and reason go to `closing`.
 */
void agent_conn_fail(agent_conn *c, agent_peer_down_why why, int err, const char *reason);

/* Ends without telling the peer anything or calling `closing` (a cancelled dial attempt). */
void agent_conn_abort(agent_conn *c);

/*
 * Ends at once without calling `closing`, after handing close_notify to the
 * socket if it takes it now (the manager shuts down; nothing is waited for).
 */
void agent_conn_shutdown(agent_conn *c);

/*
 * While OPEN: fail (SC_ERR_TIMEOUT, why: a static string) unless the owner
 * clears it (until_ms 0) first. For the owner's own post-handshake step.
 */
void agent_conn_set_deadline(agent_conn *c, uint64_t until_ms, const char *why);

/* Queued output bytes (in libuv and in the session). */
size_t agent_conn_queued(const agent_conn *c);

#endif
