/*
 * sc_pair.h - two sessions talking in memory, for tests (no sockets, no mocks).
 *
 * An initiator and a responder exchange their output through buffers the
 * test can inspect and tamper with; every event is recorded. Time is a
 * number the test sets. Randomness is deterministic per seed.
 */
#ifndef SC_PAIR_H
#define SC_PAIR_H

#include <stddef.h>
#include <stdint.h>
#include "sixchat/sixchat.h"
#include "sc_testrng.h"

#define SC_PARTY_MAX_STANZAS 64

typedef struct sc_party {
    sc_config *cfg;
    sc_session *s;
    sc_test_rng rng;
    /* events */
    int handshakes;
    char peer_id[256];
    char suite[32], group[32], sigalg[32];
    int kex;
    int n_stanzas;
    sc_stanza_type stanza_type[SC_PARTY_MAX_STANZAS];
    char stanza_id[SC_PARTY_MAX_STANZAS][SC_STANZA_ID_MAX + 1];
    char *stanza_text[SC_PARTY_MAX_STANZAS];
    uint8_t *file; /* file bytes received, by offset */
    size_t file_len;
    int key_updates_in, key_updates_out;
    int closed;
    int error; /* from SC_EV_ERROR */
    int errors;
} sc_party;

/* Called on bytes in flight; may change them (len may shrink). from_initiator tells the direction.
 */
typedef void (*sc_tamper_fn)(void *ctx, int from_initiator, uint8_t *data, size_t *len);

typedef struct sc_pair {
    sc_party i, r;
    uint64_t now_ms;
    sc_tamper_fn tamper;
    void *tamper_ctx;
    uint8_t *trace; /* every byte that crossed the wire, both directions */
    size_t trace_len;
    int recv_err_i, recv_err_r; /* last non-OK return of sc_session_recv */
} sc_pair;

/*
 * Makes a config from PEM strings (chain with leaf first, key, trust
 * anchors). Asserts on failure. rng may be NULL for a default seed.
 */
sc_config *sc_party_config(const char *chain_pem, const char *key_pem, const char *trust_pem,
                           sc_test_rng *rng);

/*
 * The same without the checks of the party's own certificate (usage at
 * configuration, validity at session start): for tests in which a peer
 * presents a certificate the other side must refuse.
 */
sc_config *sc_party_config_unchecked(const char *chain_pem, const char *key_pem,
                                     const char *trust_pem, sc_test_rng *rng);

/*
 * Creates both sessions from the two configs (the pair takes ownership of
 * them) at time now_ms, with event recorders attached. Does not start.
 */
void sc_pair_init(sc_pair *p, sc_config *icfg, sc_config *rcfg, uint64_t now_ms);
void sc_pair_free(sc_pair *p);

/*
 * The same, returning the first error of sc_session_new() instead of
 * asserting (for the out-of-memory test). The pair owns both configs either
 * way, and sc_pair_free() is always valid afterwards.
 */
int sc_pair_try_init(sc_pair *p, sc_config *icfg, sc_config *rcfg, uint64_t now_ms);

/* Moves bytes both ways until neither side has output. Returns the number of rounds. */
int sc_pair_pump(sc_pair *p);

/* Starts the initiator and pumps. Returns 1 if both report the handshake done. */
int sc_pair_handshake(sc_pair *p);

/* Takes one side's pending output (malloc'd copy), clearing it from the session. */
uint8_t *sc_pair_take(sc_session *s, size_t *len);

/* 1 if needle occurs in the trace. */
int sc_pair_trace_has(const sc_pair *p, const void *needle, size_t len);

#endif
