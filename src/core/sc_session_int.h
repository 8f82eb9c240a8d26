/*
 * sc_session_int.h - the inside of sc_session, shared by sc_session.c (API,
 * framing, application data) and sc_handshake.c (the state machine).
 */
#ifndef SC_SESSION_INT_H
#define SC_SESSION_INT_H

#include "sixchat/session.h"
#include "sc_buf.h"
#include "sc_cert.h"
#include "sc_config_int.h"
#include "sc_crypto.h"
#include "sc_hsmsg.h"
#include "sc_record.h"
#include "sc_xml.h"

typedef enum sc_state {
    SC_ST_I_START = 0,
    SC_ST_I_WAIT_RHELLO,
    SC_ST_I_WAIT_CERT,
    SC_ST_I_WAIT_VERIFY,
    SC_ST_I_WAIT_FINISHED,
    SC_ST_R_WAIT_IHELLO,
    SC_ST_R_WAIT_CERT,
    SC_ST_R_WAIT_VERIFY,
    SC_ST_R_WAIT_FINISHED,
    SC_ST_ESTABLISHED,
    SC_ST_CLOSED, /* close_notify received */
    SC_ST_FAILED,
} sc_state;

/* State that lives only during the handshake; wiped and freed after it. */
typedef struct sc_hs {
    sc_transcript th;
    sc_kex_key kex[SC_GROUP_COUNT]; /* initiator: one per offered group */
    size_t n_kex;
    uint8_t kt_secret[SC_HASH_LEN]; /* key transport premaster */
    int kt;
    uint8_t i_hs[SC_HASH_LEN], r_hs[SC_HASH_LEN], ms[SC_HASH_LEN];
    uint8_t i_ap[SC_HASH_LEN], r_ap[SC_HASH_LEN]; /* from TH through the responder's finished */
    sc_alglist peer_sigs;                         /* what the peer accepts from us */
    sc_peer_chain peer;
    int peer_sigalg;
    int group;
    uint8_t *known_cert; /* sc_session_set_peer_cert: the leaf, then any intermediates */
    size_t known_cert_len;
    size_t known_leaf_len; /* DER length of the leaf at the start of known_cert */
    sc_certmsg certs;      /* the peer's cert message, kept until its signature verified */
    EVP_PKEY *peer_key;    /* the peer leaf's key, read from the DER for the signature */
    int peer_proven;       /* the peer's signature verified (PROTOCOL.md 9.2) */
} sc_hs;

struct sc_session {
    const sc_config *cfg;
    sc_role role;
    sc_state state;
    int err; /* sticky */
    sc_event_fn cb;
    void *cb_ctx;
    uint64_t now_ms;
    uint64_t deadline;

    sc_buf out;   /* bytes to send */
    sc_buf in;    /* a partial frame */
    sc_buf plain; /* decrypted record, valid during one event */
    sc_dir tx, rx;
    int suite;
    sc_hs *hs;
    sc_xml_parser *xml; /* for stanzas, created at the first one */

    char *expected_peer;
    int any_peer;   /* sc_session_set_any_peer: the initiator opted out of an expected peer */
    int wire_alert; /* >0: the alert fail() sends instead of the error's own; <0: none */
    char peer_id[SC_USER_ID_MAX + 1];
    uint8_t peer_fp[32];
    uint8_t *peer_cert;
    size_t peer_cert_len;
    uint8_t exporter[SC_HASH_LEN];
    int kex;
    int sent_close;
};

/* Handshake entry points (sc_handshake.c). */
int sc__hs_new(sc_session *s);
void sc__hs_free(sc_session *s);
int sc__hs_start(sc_session *s);
/* One handshake message (raw XML bytes) of the given frame kind (1 = HELLO, 0 = record). */
int sc__hs_recv(sc_session *s, const uint8_t *msg, size_t len, int plaintext);

/* Both the session and the handshake emit events and change state: these
 * live here, below both, so neither file calls the other back. */
static inline void sc__emit(sc_session *s, const sc_event *ev)
{
    if (s->cb) s->cb(s->cb_ctx, s, ev);
}

static inline void sc__set_state(sc_session *s, sc_state st)
{
    s->state = st;
    /* Every handshake state has its own deadline (PROTOCOL.md 7.7). */
    s->deadline = st < SC_ST_ESTABLISHED ? s->now_ms + s->cfg->hs_timeout_ms : UINT64_MAX;
}

#endif
