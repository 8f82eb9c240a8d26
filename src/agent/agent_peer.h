/*
 * agent_peer.h - the agent's End2End Direct peers: listening, dialling,
 * one sc_session per (user, device) over uv_tcp, and the limits that keep a
 * hostile peer from hurting the others (issue 8, "Reaching a peer" and
 * "Limits"; docs/PROTOCOL.md for the session itself).
 *
 * One manager per agent, on the agent's libuv loop; every call and every
 * callback runs on that loop's thread. The manager owns its sockets,
 * sessions and timers; the owner sees peers only through the callbacks and
 * the calls below, by user ID and device ID.
 *
 * Life of a session as the owner sees it:
 *   - a connection is accepted (responder) or dialled (initiator, from an
 *     agent_peer_view: every address of a device raced Happy-Eyeballs style,
 *     RFC 8305: IPv6 first, families interleaved, a new attempt every
 *     stagger_ms or at once when one fails; the first completed handshake
 *     wins and the other attempts are cancelled);
 *   - the handshake runs (the core enforces the handshake timeout, the
 *     frame size limit and the block list); a dialled session expects the
 *     view's user, and the peer's certificate must be one the registry
 *     published for that user (view->cert_fps) and the pinned one when the
 *     caller gives a pin; the owner's admit callback may refuse any peer;
 *   - both sides send the `device` stanza (docs/PROTOCOL.md 10.2) first;
 *     once the peer's device is known the session is "up" (callback `up`).
 *     For the initiator the peer's device stanza is also the proof that the
 *     responder accepted it: its handshake ends before the responder has
 *     checked its certificate, so a refusal (blocked, unknown CA, admit)
 *     comes only afterwards and a dial is reported only then. A peer whose
 *     first stanza is not `device`, that sends none within the handshake
 *     timeout, or that changes it, is disconnected;
 *   - one session per (user, device): when both agents dial each other at
 *     the same moment, both keep the session dialled by the side whose
 *     (user ID, device ID, certificate fingerprint) sorts lower and close
 *     the other, so both end with the same single session. A loser that
 *     had been `up` is reported `down` with AGENT_PEER_DOWN_DUPLICATE;
 *   - stanzas and file bytes flow (callbacks `stanza`, `file_data`); pings
 *     are sent after ping_ms without input and the session ends when the
 *     peer stays silent for ping_ms more; a session without stanzas or file
 *     bytes either way for idle_ms closes in order (AGENT_PEER_DOWN_IDLE);
 *   - `down` once, with why, for every session that was `up`.
 *
 * Bad input from one peer (garbage, an oversized frame, an untrusted or
 * blocked certificate, a peer that does not read) ends that connection
 * alone, with one log line saying why (no secrets in it).
 *
 * Errors are sc_err values (sixchat/error.h); sc_strerror() describes them.
 */
#ifndef AGENT_PEER_H
#define AGENT_PEER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "agent_types.h"
#include "sixchat/config.h"
#include "sixchat/error.h"
#include "sixchat/stanza.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct agent_peer agent_peer;

/* The default listening address: dual-stack, every interface (issue 8). */
#define AGENT_PEER_DEFAULT_LISTEN "[::]:4605"
#define AGENT_PEER_DEVICE_MAX IRP_DEVICE_MAX

/* Why a session went down (callback `down`). */
typedef enum agent_peer_down_why {
    AGENT_PEER_DOWN_CLOSED = 1, /* the peer closed in order (close_notify) */
    AGENT_PEER_DOWN_LOCAL,      /* we closed it: agent_peer_close_user, block, shutdown */
    AGENT_PEER_DOWN_IDLE,       /* no stanza or file bytes either way for idle_ms */
    AGENT_PEER_DOWN_DUPLICATE,  /* simultaneous dial: the other session of the pair won */
    AGENT_PEER_DOWN_PING,       /* the peer stayed silent after our ping */
    AGENT_PEER_DOWN_SLOW,       /* the peer did not read: our output passed max_output */
    AGENT_PEER_DOWN_ERROR,      /* the session or the socket failed: see err */
} agent_peer_down_why;

/* A session, as callbacks and agent_peer_list() show it. Borrowed: valid during the call. */
typedef struct agent_peer_info {
    uint64_t sid;            /* unique within the manager, never reused */
    const char *user;        /* the authenticated peer's user ID */
    const char *device;      /* the peer's device ID, as its device stanza said */
    const uint8_t *cert_fp;  /* SHA-256 of the peer's certificate (DER), 32 bytes */
    const uint8_t *cert_der; /* the peer's leaf certificate */
    size_t cert_len;
    const struct sockaddr *addr; /* the peer's address and port */
    int initiator;               /* 1: we dialled it */
} agent_peer_info;

/* The outcome of dialling one device (callback `dial_result`). */
typedef struct agent_peer_dial_result {
    const char *user;
    const char *device; /* as the view named it */
    int err;            /* SC_OK: a session to it is up (new or already there) */
    /*
     * On failure, one line naming every address tried and why it failed,
     * e.g. "[2001:db8::1]:4605: connection refused; 192.0.2.1:4605: the
     * certificate is not one the registry published". No secrets.
     */
    const char *why;
    /*
     * 1 when a peer proved a certificate the registry published for the
     * user but not the pinned one (the contact's certificate changed):
     * seen_fp is its fingerprint, for the owner's warning.
     */
    int pin_mismatch;
    const uint8_t *seen_fp;
} agent_peer_dial_result;

/*
 * Callbacks to the owner; any may be NULL. They may call every function of
 * this API except agent_peer_free().
 */
typedef struct agent_peer_callbacks {
    /* The session is up: device known, stanzas may be sent. */
    void (*up)(void *ctx, const agent_peer_info *peer);
    /* A session that was up ended. err: SC_OK or the sc_err that ended it. */
    void (*down)(void *ctx, const agent_peer_info *peer, agent_peer_down_why why, int err);
    /*
     * A stanza from the peer (ping, pong and device are handled here). It
     * may come from a session already reported `down` (the peer sent it
     * before it read our close_notify): it is authentic all the same.
     */
    void (*stanza)(void *ctx, const agent_peer_info *peer, const sc_stanza *st);
    /* Raw file bytes of transfer `id` starting at `offset`. */
    void (*file_data)(void *ctx, const agent_peer_info *peer, const char *id, uint64_t offset,
                      const uint8_t *data, size_t len);
    /* A session's queued output fell to zero after agent_peer_send_file refused bytes. */
    void (*drained)(void *ctx, const agent_peer_info *peer);
    /* The end of one device's dial: success, or why every address failed. */
    void (*dial_result)(void *ctx, const agent_peer_dial_result *res);
    /*
     * Before a session goes up (after the certificate checks above): return
     * 0 to accept the peer, non-zero to refuse it (contacts-only setting, a
     * pinned contact that presents another certificate). NULL accepts all.
     */
    int (*admit)(void *ctx, const agent_peer_info *peer);
    /* One line, no newline, no secrets. NULL: written to stderr. */
    void (*log)(void *ctx, const char *line);
    /*
     * After agent_peer_free: everything is closed and released (called
     * once, from the loop or from agent_peer_free itself; the only callback
     * that runs after agent_peer_free).
     */
    void (*freed)(void *ctx);
} agent_peer_callbacks;

/*
 * Builds a fresh configuration for new sessions: identity, trust anchors,
 * random source, anything else of the owner's (the manager adds the block
 * list and the handshake timeout). Returns NULL on failure. The manager
 * calls it at agent_peer_new and at every agent_peer_set_blocked, because an
 * sc_config is read by the sessions made from it and must not change under
 * them (include/sixchat/config.h); each config is freed once its last
 * session is gone.
 */
typedef sc_config *(*agent_peer_config_fn)(void *ctx);

/* Limits and timers. Zero takes the default given in brackets. */
typedef struct agent_peer_limits {
    size_t max_sessions;      /* connections at once, any state [4096] */
    uint32_t conn_per_source; /* connection attempts per source IP per window [20] */
    uint64_t conn_window_ms;  /* [10000] */
    uint32_t stanza_rate;  /* stanzas per second a peer may send; beyond, its reads pause [5000] */
    uint32_t stanza_burst; /* [2 * stanza_rate] */
    size_t max_output;     /* queued output bytes per session before it ends (SLOW) [4 MiB];
                              agent_peer_send_file refuses above half of it */
    uint64_t handshake_timeout_ms; /* [the core's, 10000] */
    uint64_t idle_ms;              /* [600000]; UINT64_MAX: never */
    uint64_t ping_ms;              /* [60000] */
    uint64_t stagger_ms;           /* Happy Eyeballs connection attempt delay [250] (RFC 8305 8) */
    uint64_t linger_ms;            /* after our close_notify, wait for the peer's [2000] */
} agent_peer_limits;

typedef struct agent_peer_opts {
    uv_loop_t *loop;
    agent_peer_config_fn make_config;
    void *config_ctx;
    const char *device_id; /* ours, 1..AGENT_PEER_DEVICE_MAX of [A-Za-z0-9._-] */
    /*
     * "ADDR:PORT" to listen on ("[::]:4605", "127.0.0.1:0", "[::1]:0";
     * port 0 picks one, agent_peer_listen_addr tells which). n_listen 0 and
     * listen NULL: AGENT_PEER_DEFAULT_LISTEN; no_listen: dial only.
     */
    const char *const *listen;
    size_t n_listen;
    int no_listen;
    agent_peer_limits limits;
    agent_peer_callbacks cb;
    void *ctx; /* passed to every callback */
} agent_peer_opts;

/*
 * Creates the manager and starts listening. Errors: SC_ERR_ARG (no loop, no
 * make_config, a bad device ID, an address that does not parse),
 * SC_ERR_CONFIG (make_config returned NULL), SC_ERR_IO (bind or listen
 * failed), SC_ERR_NOMEM. On failure errbuf (may be NULL) receives one line
 * saying which address and why; nothing is left to free (listeners that
 * were opened are closed as the loop runs on).
 */
SC_MUST_CHECK int agent_peer_new(const agent_peer_opts *opts, agent_peer **out, char *errbuf,
                                 size_t errlen);

/*
 * Closes every session (close_notify, then the sockets), the listeners and
 * the timers, and frees everything once libuv has closed the handles: the
 * owner must let the loop run afterwards (uv_run until it returns, or
 * until the `freed` callback). No other callback runs after this call.
 * NULL is allowed.
 */
void agent_peer_free(agent_peer *p);

/* The i-th listening address as bound (the real port). SC_ERR_ARG past the end. */
SC_MUST_CHECK int agent_peer_listen_addr(const agent_peer *p, size_t i,
                                         struct sockaddr_storage *out);

/* Optional parts of a dial. */
typedef struct agent_peer_dial_opts {
    const uint8_t *pin;           /* 32 bytes: the contact's pinned fingerprint; NULL: none */
    const char *device;           /* dial only this device of the view; NULL: every device */
    const struct sockaddr *first; /* try this address first (the last that worked); NULL */
} agent_peer_dial_opts;

/*
 * Dials every device of the view (or opts->device) that has no session
 * yet; a device already up or being dialled is not dialled again (its
 * dial_result comes from the dial under way, or as SC_OK when it is up).
 * Each device's outcome arrives through dial_result, never from inside this
 * call. The view is copied. Errors: SC_ERR_ARG (no user, no device, or the
 * named device not in the view), SC_ERR_NOMEM.
 */
SC_MUST_CHECK int agent_peer_dial(agent_peer *p, const agent_peer_view *view,
                                  const agent_peer_dial_opts *opts);

/*
 * Sends a stanza to every up session of `user` (device NULL) or to the one
 * of that device. Returns the number of sessions it was queued on (> 0), or
 * SC_ERR_STATE when there is none, SC_ERR_ARG for an invalid stanza.
 */
SC_MUST_CHECK int agent_peer_send(agent_peer *p, const char *user, const char *device,
                                  const sc_stanza *st);

/*
 * Sends file bytes of transfer `id` from `offset` to one device of `user`.
 * SC_ERR_STATE: no such session up; SC_ERR_TOO_LARGE: the session's queued
 * output is above half of max_output, nothing was queued: wait for
 * `drained` and send again.
 */
SC_MUST_CHECK int agent_peer_send_file(agent_peer *p, const char *user, const char *device,
                                       const char *id, uint64_t offset, const uint8_t *data,
                                       size_t len);

/*
 * Closes in order every session (and cancels every dial) of `user`, of
 * every device (device NULL) or of one. Returns how many sessions it closed.
 */
int agent_peer_close_user(agent_peer *p, const char *user, const char *device);

/*
 * Replaces the blocked user IDs (the whole set). New handshakes run with a
 * fresh configuration that refuses them (the core's block list,
 * docs/PROTOCOL.md 8.3); live sessions and dials of a newly blocked user
 * are closed. Errors: SC_ERR_CONFIG (make_config failed: nothing changed),
 * SC_ERR_ARG, SC_ERR_NOMEM.
 */
SC_MUST_CHECK int agent_peer_set_blocked(agent_peer *p, const char *const *users, size_t n);

/* A session for status. */
typedef struct agent_peer_status {
    uint64_t sid;
    char user[IRP_USER_MAX + 1];
    char device[AGENT_PEER_DEVICE_MAX + 1];
    uint8_t cert_fp[32];
    struct sockaddr_storage addr;
    int initiator;
    uint64_t up_since_ms;             /* Unix milliseconds */
    uint64_t last_activity_ms;        /* last stanza or file bytes either way */
    uint64_t stanzas_in, stanzas_out; /* pings and pongs included */
    uint64_t bytes_in, bytes_out;     /* on the wire */
    size_t queued;                    /* output not yet taken by the socket */
} agent_peer_status;

/* Fills up to max entries with the up sessions; returns how many are up (may exceed max). */
size_t agent_peer_list(const agent_peer *p, agent_peer_status *out, size_t max);

/* Counts for status: up sessions, connections still in the handshake, devices being dialled. */
typedef struct agent_peer_counts {
    size_t up, handshaking, dialling;
    size_t connections;    /* every open connection, in any state (closing ones too) */
    uint64_t refused_rate; /* connections refused by the per-source limit, since start */
    uint64_t refused_cap;  /* connections refused by max_sessions */
    uint64_t failed;       /* connections ended by bad input or a refused certificate */
} agent_peer_counts;

void agent_peer_get_counts(const agent_peer *p, agent_peer_counts *out);

#ifdef __cplusplus
}
#endif
#endif
