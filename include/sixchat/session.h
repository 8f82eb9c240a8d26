/*
 * sixchat/session.h - one End2End Direct connection, sans I/O.
 *
 * The caller owns the transport. It feeds every byte received with
 * sc_session_recv(), sends whatever sc_session_output() returns, calls
 * sc_session_tick() when sc_session_deadline() passes, and reports the end
 * of the byte stream with sc_session_eof(). Events (handshake done, stanza,
 * file data, key update, close) are delivered synchronously through the
 * callback while those calls run.
 *
 * The first error is sticky: the session queues the matching alert for the
 * peer (send the output, then close the transport), reports SC_EV_ERROR and
 * refuses everything afterwards with the same error.
 */
#ifndef SIXCHAT_SESSION_H
#define SIXCHAT_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include "sixchat/config.h"
#include "sixchat/stanza.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sc_session sc_session;

typedef enum sc_role {
    SC_ROLE_INITIATOR = 1, /* dialled the connection; speaks first */
    SC_ROLE_RESPONDER = 2, /* accepted it */
} sc_role;

typedef enum sc_kex {
    SC_KEX_ECDHE = 1, /* ephemeral Diffie-Hellman: forward secret */
    SC_KEX_KT = 2,    /* RSA-OAEP key transport: no forward secrecy */
} sc_kex;

typedef enum sc_event_type {
    SC_EV_HANDSHAKE_DONE = 1, /* the peer is authenticated; data may flow */
    SC_EV_STANZA,             /* a stanza arrived (ping is answered for you) */
    SC_EV_FILE_DATA,          /* a chunk of file bytes arrived */
    SC_EV_KEY_UPDATE,         /* a traffic key was replaced */
    SC_EV_CLOSED,             /* the peer closed in order (close_notify) */
    SC_EV_ERROR,              /* the session failed; see err */
} sc_event_type;

typedef struct sc_event {
    sc_event_type type;
    union {
        struct {
            const char *peer_id;      /* user ID from the peer's certificate */
            const uint8_t *peer_cert; /* DER of the peer's leaf certificate */
            size_t peer_cert_len;
            const uint8_t *peer_fingerprint; /* SHA-256 of peer_cert, 32 bytes */
            const char *suite;               /* "aes-256-gcm" ... */
            const char *group;               /* "x25519", "p256", or "kt" */
            const char *sigalg;              /* the peer's signature algorithm */
            sc_kex kex;
        } handshake;
        const sc_stanza *stanza;
        struct {
            const char *id;
            uint64_t offset;
            const uint8_t *data;
            size_t len;
        } file;
        struct {
            int outbound;        /* 1: our sending key, 0: the peer's */
            uint64_t generation; /* 1 after the first update */
        } key_update;
        int err; /* SC_EV_ERROR */
    } u;
} sc_event;

/*
 * Called for each event. It may call the sending functions, key update and
 * close on the same session (their output is queued behind what the current
 * call produces); it must not free the session.
 */
typedef void (*sc_event_fn)(void *ctx, sc_session *s, const sc_event *ev);

/*
 * Creates a session. Every now_ms argument in this API is the current time
 * in milliseconds since the Unix epoch (sc_clock_ms()): it drives the
 * handshake timers and is the time at which certificates must be valid.
 * Creating the session starts the first timer. Errors: SC_ERR_ARG, SC_ERR_CONFIG (no identity, no
 * trust anchor, no random source, or the local certificate is not valid at
 * now_ms: expired or not yet valid), SC_ERR_NOMEM.
 *
 * Every function of this API leaves OpenSSL's per-thread error queue as the
 * caller left it: errors the library meets are dropped, the caller's stay.
 */
SC_API SC_MUST_CHECK int sc_session_new(const sc_config *cfg, sc_role role, uint64_t now_ms,
                                        sc_session **out);

/* Frees the session and wipes every secret it held. NULL is allowed. */
SC_API void sc_session_free(sc_session *s);

SC_API void sc_session_set_callback(sc_session *s, sc_event_fn fn, void *ctx);

/*
 * The user ID the peer must prove (compared case-insensitively with the
 * peer certificate's rfc822Name). An initiator MUST set it (to the user it
 * looked up) or opt out with sc_session_set_any_peer(); a responder may.
 * Call before sc_session_start(). A mismatch fails the handshake with
 * SC_ERR_IDENTITY_MISMATCH (docs/PROTOCOL.md 8.2).
 */
SC_API SC_MUST_CHECK int sc_session_set_expected_peer(sc_session *s, const char *user_id);

/*
 * Initiator: accept whoever answers, any user the trust anchors and the
 * policy accept, instead of one expected user. What this gives away: a
 * middleman who holds any acceptable certificate (any user of any domain
 * the anchors cover, not only the one you meant to reach) completes the
 * handshake, and learns your identity and certificate from flight 3 and
 * what you send. Use it only when the application checks the peer reported
 * at SC_EV_HANDSHAKE_DONE before it sends anything that matters.
 * Call before sc_session_start(). Errors: SC_ERR_ARG, SC_ERR_STATE.
 */
SC_API SC_MUST_CHECK int sc_session_set_any_peer(sc_session *s);

/*
 * The peer's certificate (DER), known ahead (from the registry), optionally
 * followed in the same buffer by the DER of the intermediate CA certificates
 * its chain needs (each at most 8192 bytes, at most 3). Required for an
 * initiator to use key transport, which then validates it (chain, domain,
 * policy, expected peer, keyUsage keyEncipherment) before it encrypts to
 * its key; the responder must present exactly this leaf certificate.
 * Errors: SC_ERR_ARG (not DER certificates), SC_ERR_STATE, SC_ERR_NOMEM.
 */
SC_API SC_MUST_CHECK int sc_session_set_peer_cert(sc_session *s, const uint8_t *der, size_t len);

/*
 * Initiator: queues the first flight; SC_ERR_CONFIG (the session is not
 * failed: set one and call again) when neither an expected peer nor
 * sc_session_set_any_peer() was set. Responder: nothing to do (returns 0).
 */
SC_API SC_MUST_CHECK int sc_session_start(sc_session *s);

/*
 * Feeds len received bytes (any split of the stream). Consumes all of them
 * or fails. Partial frames are buffered internally (bounded by the largest
 * frame). Returns SC_OK or the sticky error.
 */
SC_API SC_MUST_CHECK int sc_session_recv(sc_session *s, const uint8_t *data, size_t len,
                                         uint64_t now_ms);

/*
 * The transport reached end of stream. Returns SC_OK if the peer had closed
 * in order, else SC_ERR_TRUNCATED (the session fails).
 */
SC_API SC_MUST_CHECK int sc_session_eof(sc_session *s);

/* Checks timers. Returns SC_ERR_TIMEOUT (alert queued) when the handshake stalled. */
SC_API SC_MUST_CHECK int sc_session_tick(sc_session *s, uint64_t now_ms);

/* When sc_session_tick() must next be called; UINT64_MAX when no timer runs. */
SC_API uint64_t sc_session_deadline(const sc_session *s);

/* Bytes waiting to be sent: sets *data and returns their count (0 if none). */
SC_API size_t sc_session_output(sc_session *s, const uint8_t **data);

/* Marks n bytes of sc_session_output() as sent. */
SC_API void sc_session_output_consume(sc_session *s, size_t n);

/*
 * Seals a stanza (after SC_EV_HANDSHAKE_DONE). Errors: SC_ERR_STATE before
 * the handshake or after close, SC_ERR_ARG for an invalid stanza (bad id,
 * text too long), the sticky error.
 */
SC_API SC_MUST_CHECK int sc_session_send_stanza(sc_session *s, const sc_stanza *st);

/*
 * Seals file bytes for transfer `id` starting at `offset`, split into
 * records as needed; no base64 on this path.
 */
SC_API SC_MUST_CHECK int sc_session_send_file_data(sc_session *s, const char *id, uint64_t offset,
                                                   const uint8_t *data, size_t len);

/* Replaces our sending key now; with request_peer, asks the peer to do the same. */
SC_API SC_MUST_CHECK int sc_session_key_update(sc_session *s, int request_peer);

/* Queues close_notify. After it nothing more can be sent. */
SC_API SC_MUST_CHECK int sc_session_close(sc_session *s);

/* 1 once the handshake completed and until the session fails or closes. */
SC_API int sc_session_established(const sc_session *s);

/* The sticky error, or SC_OK. */
SC_API int sc_session_error(const sc_session *s);

/* The authenticated peer's user ID, or NULL before the handshake is done. */
SC_API const char *sc_session_peer_id(const sc_session *s);

/*
 * A 32-byte value bound to this session and `label` (both sides derive the
 * same), for channel binding by applications. SC_ERR_STATE before the
 * handshake is done.
 */
SC_API SC_MUST_CHECK int sc_session_export(const sc_session *s, const char *label, uint8_t out[32]);

#ifdef __cplusplus
}
#endif
#endif
