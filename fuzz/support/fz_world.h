/*
 * fz_world.h - the world of the session-level fuzz targets, made once per
 * process: the PKI (a P-256 root, alice@example.org and bob@example.org,
 * and an RSA-2048 bob for key transport), configurations for both roles in
 * FZ_VARIANTS flavours, and fresh sessions of them.
 */
#ifndef FZ_WORLD_H
#define FZ_WORLD_H

#include <stddef.h>
#include <stdint.h>

#include "sixchat/sixchat.h"
#include "sc_session_int.h"
#include "fz_oracle.h"
#include "fz_pki.h"
#include "fz_rand.h"

/*
 * Variant 0: x25519 and AES-256-GCM, the defaults. Variant 1: the responder
 * prefers P-256 and ChaCha20-Poly1305 and allows only alice by identity;
 * both sides roll their keys after a few records (automatic key update).
 * Variant 2: key transport. Bob has an RSA key and accepts it, alice knows
 * bob's certificate ahead: RSA-OAEP, RSA-PSS, no forward secrecy.
 */
#define FZ_VARIANTS 3

typedef struct fz_msg {
    uint8_t *p;
    size_t len;
} fz_msg;

/* One handshake between alice (initiator) and bob (responder), byte for byte. */
typedef struct fz_flights {
    fz_msg f1, f2, f3; /* each flight as sent on the wire */
    size_t f2_hello;   /* bytes of the rhello HELLO frame at the head of f2 */
    fz_msg ihello, rhello, rcert, rverify, rfin, icert, iverify, ifin; /* plaintexts */
    int suite;
    uint8_t i_ap[SC_HASH_LEN], r_ap[SC_HASH_LEN]; /* application traffic secrets */
} fz_flights;

typedef struct fz_world {
    fz_cert root, alice, bob, bob_rsa;
    sc_config *icfg[FZ_VARIANTS], *rcfg[FZ_VARIANTS];
    sc_test_rng irng[FZ_VARIANTS], rrng[FZ_VARIANTS];
    int recorded[FZ_VARIANTS];
    fz_flights fl[FZ_VARIANTS];
} fz_world;

extern fz_world fz_w;

/* Makes the world (once; every other helper calls it first). */
void fz_world_init(void);

/* A fresh session of the variant's config for role, its random source rewound. */
sc_session *fz_session(int v, sc_role role, fz_events *ev);

/* A malloc'd copy of p[0..len) in m. */
void fz_msg_set(fz_msg *m, const uint8_t *p, size_t len);

/* Bytes waiting in a session's output. */
size_t fz_pending(sc_session *s);

/* Moves a session's whole output into m (or drops it when m is NULL). */
void fz_take(sc_session *s, fz_msg *m);

/* Length of the frame at p (header included), or 0 if p[0..len) holds no whole frame. */
size_t fz_frame_len(const uint8_t *p, size_t len);

#endif
