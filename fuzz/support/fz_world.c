/*
 * fz_world.c - see fz_world.h.
 */
#include "fz_world.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "sc_record.h"

fz_world fz_w;
static int fz_w_ready;

static sc_config *fz_make_config(const fz_cert *me, sc_test_rng *rng, uint64_t seed)
{
    sc_config *cfg = sc_config_new();
    FZ_CHECK(cfg != NULL);
    FZ_CHECK(sc_config_set_identity_pem(cfg, me->cert_pem, strlen(me->cert_pem), me->key_pem,
                                        strlen(me->key_pem)) == SC_OK);
    static const char *const domains[] = {"example.org"};
    FZ_CHECK(sc_config_add_trust_anchor_pem(cfg, fz_w.root.cert_pem, strlen(fz_w.root.cert_pem),
                                            domains, 1) == SC_OK);
    rng->seed = seed;
    rng->counter = 0;
    sc_config_set_random(cfg, sc_test_rng_fn, rng);
    return cfg;
}

void fz_world_init(void)
{
    static const fz_cert_opts root_opts = FZ_ROOT_OPTS;
    static const fz_cert_opts alice_opts = FZ_USER_OPTS("alice@example.org");
    static const fz_cert_opts bob_opts = FZ_USER_OPTS("bob@example.org");
    uint8_t fp[32];
    if (fz_w_ready) return;
    fz_w_ready = 1;
    fz_ossl_rand_install();
    fz_cert_make(&fz_w.root, NULL, "sixchat fuzz root", 1, &root_opts);
    fz_cert_make(&fz_w.alice, &fz_w.root, "sixchat fuzz alice", 2, &alice_opts);
    fz_cert_make(&fz_w.bob, &fz_w.root, "sixchat fuzz bob", 3, &bob_opts);
    fz_cert_opts rsa_opts = bob_opts;
    rsa_opts.rsa = 1;
    fz_cert_make(&fz_w.bob_rsa, &fz_w.root, "sixchat fuzz bob rsa", 4, &rsa_opts);
    FZ_CHECK(X509_digest(fz_w.root.tc->cert, EVP_sha256(), fp, NULL));
    for (int v = 0; v < FZ_VARIANTS; v++) {
        sc_config *i = fz_w.icfg[v] = fz_make_config(&fz_w.alice, &fz_w.irng[v], 100 + v);
        sc_config *r = fz_w.rcfg[v] =
            fz_make_config(v == 2 ? &fz_w.bob_rsa : &fz_w.bob, &fz_w.rrng[v], 200 + v);
        FZ_CHECK(sc_config_set_groups(i, "x25519 p256") == SC_OK);
        /* Cheap identity checks and the issuer lists all get something to look at. */
        FZ_CHECK(sc_config_block_identity(r, "mallory@example.org") == SC_OK);
        /* A certificate that is no CA of any path here: the list is consulted, never matches. */
        FZ_CHECK(sc_config_block_issuer_pem(r, fz_w.alice.cert_pem, strlen(fz_w.alice.cert_pem)) ==
                 SC_OK);
        if (v == 0) {
            FZ_CHECK(sc_config_set_groups(r, "x25519 p256") == SC_OK);
            FZ_CHECK(sc_config_allow_issuer(r, fp) == SC_OK);
        } else if (v == 2) {
            sc_config_enable_key_transport(i, 1);
            sc_config_enable_key_transport(r, 1);
        } else {
            FZ_CHECK(sc_config_set_groups(r, "p256") == SC_OK);
            FZ_CHECK(sc_config_set_suites(r, "chacha20-poly1305 aes-256-gcm") == SC_OK);
            FZ_CHECK(sc_config_allow_identity(r, "alice@example.org") == SC_OK);
            FZ_CHECK(sc_config_allow_issuer(i, fp) == SC_OK);
            FZ_CHECK(sc_config_set_key_update_limits(i, 5, 20000) == SC_OK);
            FZ_CHECK(sc_config_set_key_update_limits(r, 5, 20000) == SC_OK);
        }
    }
}

/* A fresh session of the variant's config for role, its random source rewound. */
sc_session *fz_session(int v, sc_role role, fz_events *ev)
{
    sc_session *s = NULL;
    fz_world_init();
    memset(ev, 0, sizeof *ev);
    sc_config *cfg = role == SC_ROLE_INITIATOR ? fz_w.icfg[v] : fz_w.rcfg[v];
    sc_test_rng *rng = role == SC_ROLE_INITIATOR ? &fz_w.irng[v] : &fz_w.rrng[v];
    rng->counter = 0;
    FZ_CHECK(sc_session_new(cfg, role, FZ_NOW_MS, &s) == SC_OK);
    sc_session_set_callback(s, fz_on_event, ev);
    if (role == SC_ROLE_INITIATOR)
        FZ_CHECK(sc_session_set_expected_peer(s, "bob@example.org") == SC_OK);
    if (role == SC_ROLE_INITIATOR && v == 2) /* known ahead: key transport */
        FZ_CHECK(sc_session_set_peer_cert(s, fz_w.bob_rsa.der, fz_w.bob_rsa.der_len) == SC_OK);
    return s;
}

void fz_msg_set(fz_msg *m, const uint8_t *p, size_t len)
{
    m->p = malloc(len ? len : 1);
    FZ_CHECK(m->p != NULL);
    if (len) memcpy(m->p, p, len);
    m->len = len;
}

/* Bytes waiting in a session's output. */
size_t fz_pending(sc_session *s)
{
    const uint8_t *p;
    return sc_session_output(s, &p);
}

/* Moves a session's whole output into m (or drops it when m is NULL). */
void fz_take(sc_session *s, fz_msg *m)
{
    const uint8_t *p;
    size_t n = sc_session_output(s, &p);
    if (m) fz_msg_set(m, p, n);
    sc_session_output_consume(s, n);
}

/* Length of the frame at p (header included), or 0 if p[0..len) holds no whole frame. */
size_t fz_frame_len(const uint8_t *p, size_t len)
{
    if (len < SC_FRAME_HDR) return 0;
    size_t n = SC_FRAME_HDR + sc_load_u24(p + 1);
    return n <= len ? n : 0;
}
