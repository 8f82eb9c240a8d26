/*
 * fuzz_common.h - shared setup of the session-level fuzz targets.
 *
 * Header-only on purpose: fuzz/CMakeLists.txt builds every fuzz/fuzz_*.c as
 * its own target, so a shared .c would become a target of its own. Every
 * function here is static inline; each target is one translation unit.
 *
 * What it provides:
 *   - a fixed clock (FZ_NOW_MS) and a deterministic random source for
 *     sc_config (SHA-256 of seed || counter, reset for every session);
 *   - a deterministic OpenSSL RAND method. The core takes its randomness
 *     from sc_random_fn, but signing (ECDSA nonces, RSA-PSS salts), RSA-OAEP
 *     padding and RSA blinding inside sc_crypto.c, and the certificates made
 *     here, draw from OpenSSL's RNG. Without this a handshake replayed into
 *     fresh sessions would produce other signature bytes, another
 *     transcript and other traffic keys, and no input would mean the same
 *     thing twice. fz_ossl_seed() resets it before every step that signs;
 *   - a small PKI made in code once per process: a P-256 root and two
 *     P-256 users (alice@example.org, bob@example.org, clientAuth,
 *     digitalSignature, fixed serials, valid around FZ_NOW_MS) whose keys
 *     come from fixed scalars, plus an RSA-2048 bob for key transport;
 *   - configurations for both roles in FZ_VARIANTS flavours (the third one
 *     with bob's RSA key and key transport);
 *   - one real in-memory handshake per variant, recorded once
 *     (fz_flights_get), and replay helpers that bring a fresh session to a
 *     given handshake state by feeding it the recorded flights: sessions
 *     cannot be cloned, but the same flights with the same seeds give the
 *     same state, which the helpers check (FZ_CHECK) every time;
 *   - an event callback that checks every event it sees, and the checks
 *     around a handshake message fed past the record layer (fz_hs_msg);
 *   - the generator mode that writes each target's seed corpus
 *     (FZ_WRITE_SEEDS, below).
 *
 * Any failure of the setup, and any broken oracle, aborts: that is how a
 * fuzzer reports a finding.
 */
#ifndef SC_FUZZ_COMMON_H
#define SC_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "sixchat/sixchat.h"
#include "sc_base64.h"
#include "sc_compact.h"
#include "sc_record.h"
#include "sc_session_int.h"
#include "sc_stanza_codec.h"
#include "sc_xml.h"

#define FZ_CHECK(cond)                                                                             \
    do {                                                                                           \
        if (!(cond)) fz_fail(__FILE__, __LINE__, #cond);                                           \
    } while (0)

static inline void fz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: fuzz oracle failed: %s\n", file, line, what);
    ERR_print_errors_fp(stderr);
    abort();
}

/* 2026-01-01T00:00:00Z, inside every certificate's validity. */
#define FZ_NOW_S INT64_C(1767225600)
#define FZ_NOW_MS ((uint64_t)FZ_NOW_S * 1000)

/* ---- input reader --------------------------------------------------------- */

/* Reads fields off the fuzz input; past the end every read yields zeros. */
typedef struct fz_in {
    const uint8_t *p;
    size_t len;
} fz_in;

static inline uint8_t fz_u8(fz_in *in)
{
    if (in->len == 0) return 0;
    in->len--;
    return *in->p++;
}

static inline uint16_t fz_u16(fz_in *in)
{
    uint16_t hi = fz_u8(in);
    return (uint16_t)(hi << 8 | fz_u8(in));
}

static inline uint64_t fz_u64(fz_in *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | fz_u8(in);
    return v;
}

/* Up to n bytes (fewer at the end of the input); *got receives how many. */
static inline const uint8_t *fz_bytes(fz_in *in, size_t n, size_t *got)
{
    const uint8_t *p = in->p;
    if (n > in->len) n = in->len;
    in->p += n;
    in->len -= n;
    *got = n;
    return p;
}

/* ---- randomness ----------------------------------------------------------- */

/* The sc_config random source: SHA-256(seed || counter) blocks. */
typedef struct fz_rng {
    uint64_t seed;
    uint64_t counter;
} fz_rng;

static inline int fz_rng_fn(void *ctx, uint8_t *out, size_t len)
{
    fz_rng *r = ctx;
    while (len > 0) {
        uint8_t in[16], d[32];
        for (int i = 0; i < 8; i++) {
            in[i] = (uint8_t)(r->seed >> (8 * i));
            in[8 + i] = (uint8_t)(r->counter >> (8 * i));
        }
        r->counter++;
        if (!EVP_Digest(in, sizeof in, d, NULL, EVP_sha256(), NULL)) return -1;
        size_t n = len < sizeof d ? len : sizeof d;
        memcpy(out, d, n);
        out += n;
        len -= n;
    }
    return 0;
}

/*
 * OpenSSL's RNG, made deterministic (splitmix64: the nonces only need to be
 * reproducible here, not secret). Steps of the recorded handshake reseed it
 * with their own constant so that a replay signs with the same nonce.
 *
 * Each request is served from its own stream, keyed by the step's seed, the
 * request's length and how many requests of that length came before in the
 * step. OpenSSL caches RSA blinding in the key and refreshes it only every
 * so often, so a private-key operation draws (modulus-sized) randomness or
 * not depending on the key's history; with one shared stream that would
 * shift the PSS salt drawn after it and a replay would sign differently.
 */
static struct {
    uint64_t seed;
    struct {
        int len;
        uint64_t count;
    } by_len[16];
    size_t n;
    uint64_t other; /* requests past 16 distinct lengths */
} fz_ossl;

enum {
    FZ_SEED_PKI = 1,      /* certificate signatures */
    FZ_SEED_INPUT = 2,    /* start of each fuzz input */
    FZ_SEED_I_START = 11, /* initiator builds flight 1 */
    FZ_SEED_R_F1 = 12,    /* responder takes flight 1, sends flight 2 (signs) */
    FZ_SEED_I_F2 = 13,    /* initiator takes flight 2, sends flight 3 (signs) */
    FZ_SEED_R_F3 = 14,    /* responder takes flight 3 */
};

static inline uint64_t fz_mix(uint64_t z)
{
    z += UINT64_C(0x9E3779B97F4A7C15);
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static inline void fz_ossl_seed(uint64_t seed)
{
    fz_ossl.seed = seed;
    fz_ossl.n = 0;
    fz_ossl.other = 0;
}

static inline int fz_ossl_bytes(unsigned char *buf, int num)
{
    size_t i = 0;
    uint64_t k;
    while (i < fz_ossl.n && fz_ossl.by_len[i].len != num)
        i++;
    if (i == fz_ossl.n && i < 16)
        fz_ossl.by_len[fz_ossl.n++].len = num, fz_ossl.by_len[i].count = 0;
    k = i < 16 ? fz_ossl.by_len[i].count++ : UINT64_C(1) << 32 | fz_ossl.other++;
    uint64_t state = fz_mix(fz_mix(fz_mix(fz_ossl.seed) ^ (uint64_t)num) ^ k);
    for (int j = 0; j < num; j += 8) {
        uint64_t z = fz_mix(state += UINT64_C(0x9E3779B97F4A7C15));
        for (int b = 0; b < 8 && j + b < num; b++)
            buf[j + b] = (unsigned char)(z >> (8 * b));
    }
    return 1;
}

static inline int fz_ossl_status(void)
{
    return 1;
}

/* The only way in OpenSSL 3.0 to replace its RNG in-process is the deprecated RAND_METHOD. */
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
static inline void fz_ossl_rand_install(void)
{
    static const RAND_METHOD method = {NULL, fz_ossl_bytes, NULL,
                                       NULL, fz_ossl_bytes, fz_ossl_status};
    FZ_CHECK(RAND_set_rand_method(&method) == 1);
}
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/* ---- certificates ----------------------------------------------------------- */

/* A P-256 key whose private scalar is SHA-256(label): the same key in every process. */
static inline EVP_PKEY *fz_p256_key(const char *label)
{
    uint8_t d32[32], pub[65];
    EVP_PKEY *pk = NULL;
    EC_GROUP *grp = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    EC_POINT *pt = grp ? EC_POINT_new(grp) : NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    FZ_CHECK(EVP_Digest(label, strlen(label), d32, NULL, EVP_sha256(), NULL));
    BIGNUM *d = BN_bin2bn(d32, 32, NULL);
    FZ_CHECK(grp && pt && bld && pctx && d && BN_cmp(d, EC_GROUP_get0_order(grp)) < 0);
    FZ_CHECK(EC_POINT_mul(grp, pt, d, NULL, NULL, NULL));
    FZ_CHECK(EC_POINT_point2oct(grp, pt, POINT_CONVERSION_UNCOMPRESSED, pub, 65, NULL) == 65);
    FZ_CHECK(OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0));
    FZ_CHECK(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d));
    FZ_CHECK(OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, 65));
    FZ_CHECK((params = OSSL_PARAM_BLD_to_param(bld)) != NULL);
    FZ_CHECK(EVP_PKEY_fromdata_init(pctx) > 0);
    FZ_CHECK(EVP_PKEY_fromdata(pctx, &pk, EVP_PKEY_KEYPAIR, params) > 0);
    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EC_POINT_free(pt);
    BN_clear_free(d);
    EC_GROUP_free(grp);
    return pk;
}

/*
 * An RSA-2048 key. Generating one draws from the RNG, so it is reseeded from
 * the label first: the same key in every process (of the same OpenSSL).
 */
static inline EVP_PKEY *fz_rsa_key(const char *label)
{
    uint64_t seed = UINT64_C(1469598103934665603);
    for (const char *p = label; *p; p++)
        seed = (seed ^ (uint8_t)*p) * UINT64_C(1099511628211);
    fz_ossl_seed(seed);
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    FZ_CHECK(pk != NULL);
    return pk;
}

static inline void fz_add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, &v3, nid, value);
    FZ_CHECK(ext != NULL && X509_add_ext(x, ext, -1));
    X509_EXTENSION_free(ext);
}

/* A key and its certificate, with the encodings the configs and seeds need. */
typedef struct fz_cert {
    EVP_PKEY *key;
    X509 *cert;
    char *cert_pem, *key_pem;
    uint8_t *der;
    size_t der_len;
} fz_cert;

static inline char *fz_bio_string(BIO *bio)
{
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    FZ_CHECK(n >= 0);
    char *s = malloc((size_t)n + 1);
    FZ_CHECK(s != NULL);
    memcpy(s, data, (size_t)n);
    s[n] = '\0';
    BIO_free(bio);
    return s;
}

/* What a user certificate deviates in (for seeds that exercise the policy). */
typedef struct fz_cert_opts {
    const char *user_id; /* NULL: a CA (issuer NULL: self-signed root) */
    const char *eku;     /* default "clientAuth" */
    int64_t not_before, not_after;
    int rsa; /* an RSA-2048 key (for key transport) instead of P-256 */
} fz_cert_opts;

/*
 * Makes a certificate for the key labelled `label`, signed by issuer (NULL:
 * self-signed). The signature nonce comes from the reseeded RNG, so the same
 * calls make the same bytes in every process.
 */
static inline void fz_cert_make(fz_cert *c, const fz_cert *issuer, const char *label,
                                uint64_t serial, const fz_cert_opts *o)
{
    X509_NAME *name = X509_NAME_new();
    const char *cn = o->user_id ? o->user_id : label;
    memset(c, 0, sizeof *c);
    c->key = o->rsa ? fz_rsa_key(label) : fz_p256_key(label);
    FZ_CHECK((c->cert = X509_new()) != NULL && name != NULL);
    FZ_CHECK(X509_set_version(c->cert, X509_VERSION_3));
    FZ_CHECK(ASN1_INTEGER_set_uint64(X509_get_serialNumber(c->cert), serial));
    FZ_CHECK(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
                                        -1, 0));
    FZ_CHECK(X509_set_subject_name(c->cert, name));
    FZ_CHECK(X509_set_issuer_name(c->cert, issuer ? X509_get_subject_name(issuer->cert) : name));
    X509_NAME_free(name);
    FZ_CHECK(ASN1_TIME_set(X509_getm_notBefore(c->cert), (time_t)o->not_before) != NULL);
    FZ_CHECK(ASN1_TIME_set(X509_getm_notAfter(c->cert), (time_t)o->not_after) != NULL);
    FZ_CHECK(X509_set_pubkey(c->cert, c->key));
    fz_add_ext(c->cert, c->cert, NID_subject_key_identifier, "hash");
    if (issuer) fz_add_ext(c->cert, issuer->cert, NID_authority_key_identifier, "keyid:always");
    if (o->user_id == NULL) {
        fz_add_ext(c->cert, c->cert, NID_basic_constraints, "critical,CA:TRUE");
        fz_add_ext(c->cert, c->cert, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        char san[300];
        FZ_CHECK(snprintf(san, sizeof san, "email:%s", o->user_id) < (int)sizeof san);
        fz_add_ext(c->cert, c->cert, NID_basic_constraints, "critical,CA:FALSE");
        fz_add_ext(c->cert, c->cert, NID_key_usage,
                   o->rsa ? "critical,digitalSignature,keyEncipherment"
                          : "critical,digitalSignature");
        fz_add_ext(c->cert, c->cert, NID_ext_key_usage, o->eku ? o->eku : "clientAuth");
        fz_add_ext(c->cert, c->cert, NID_subject_alt_name, san);
    }
    fz_ossl_seed(FZ_SEED_PKI + serial);
    FZ_CHECK(X509_sign(c->cert, issuer ? issuer->key : c->key, EVP_sha256()) > 0);

    BIO *bio = BIO_new(BIO_s_mem());
    FZ_CHECK(bio != NULL && PEM_write_bio_X509(bio, c->cert));
    c->cert_pem = fz_bio_string(bio);
    bio = BIO_new(BIO_s_mem());
    FZ_CHECK(bio != NULL && PEM_write_bio_PrivateKey(bio, c->key, NULL, NULL, 0, NULL, NULL));
    c->key_pem = fz_bio_string(bio);
    unsigned char *der = NULL;
    int n = i2d_X509(c->cert, &der);
    FZ_CHECK(n > 0);
    c->der = malloc((size_t)n);
    FZ_CHECK(c->der != NULL);
    memcpy(c->der, der, (size_t)n);
    c->der_len = (size_t)n;
    OPENSSL_free(der);
}

/* Validity windows around FZ_NOW_S. */
#define FZ_ROOT_OPTS                                                                               \
    {                                                                                              \
        NULL, NULL, FZ_NOW_S - 365 * 86400, FZ_NOW_S + 4 * 365 * 86400, 0                          \
    }
#define FZ_USER_OPTS(id)                                                                           \
    {                                                                                              \
        (id), NULL, FZ_NOW_S - 180 * 86400, FZ_NOW_S + 365 * 86400, 0                              \
    }

/* ---- the world: PKI, configurations, recorded handshakes ------------------ */

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
    fz_rng irng[FZ_VARIANTS], rrng[FZ_VARIANTS];
    int recorded[FZ_VARIANTS];
    fz_flights fl[FZ_VARIANTS];
} fz_world;

static fz_world fz_w;
static int fz_w_ready;

static inline sc_config *fz_make_config(const fz_cert *me, fz_rng *rng, uint64_t seed)
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
    sc_config_set_random(cfg, fz_rng_fn, rng);
    return cfg;
}

static inline void fz_world_init(void)
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
    FZ_CHECK(X509_digest(fz_w.root.cert, EVP_sha256(), fp, NULL));
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

/* ---- events ------------------------------------------------------------------ */

/* What a session reported; every event is checked on arrival. */
typedef struct fz_events {
    int done, stanzas, files, key_updates, closed, errors;
    int err;
    unsigned sum; /* every byte an event points at is read, so ASan sees an overread */
} fz_events;

static inline void fz_touch(fz_events *e, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        e->sum += b[i];
}

/* FZ_TRACE=1 in the environment prints every event and handshake result: for triage. */
static inline int fz_trace(void)
{
    static int on = -1;
    if (on < 0) on = getenv("FZ_TRACE") != NULL;
    return on;
}

static inline void fz_on_event(void *ctx, sc_session *s, const sc_event *ev)
{
    fz_events *e = ctx;
    if (fz_trace())
        fprintf(stderr, "  event %d role %d state %d%s%s\n", (int)ev->type, (int)s->role,
                (int)s->state, ev->type == SC_EV_ERROR ? ": " : "",
                ev->type == SC_EV_ERROR ? sc_strerror(ev->u.err) : "");
    FZ_CHECK(e->errors == 0 && e->closed == 0); /* nothing after the end */
    switch (ev->type) {
    case SC_EV_HANDSHAKE_DONE: {
        FZ_CHECK(e->done++ == 0);
        const char *id = ev->u.handshake.peer_id;
        FZ_CHECK(id != NULL && sc_cert_valid_user_id(id));
        FZ_CHECK(sc_session_peer_id(s) != NULL && strcmp(sc_session_peer_id(s), id) == 0);
        FZ_CHECK(ev->u.handshake.peer_cert != NULL && ev->u.handshake.peer_cert_len > 0);
        fz_touch(e, ev->u.handshake.peer_cert, ev->u.handshake.peer_cert_len);
        fz_touch(e, ev->u.handshake.peer_fingerprint, 32);
        FZ_CHECK(ev->u.handshake.suite && ev->u.handshake.group && ev->u.handshake.sigalg);
        FZ_CHECK(ev->u.handshake.kex == SC_KEX_ECDHE || ev->u.handshake.kex == SC_KEX_KT);
        FZ_CHECK(sc_session_established(s));
        break;
    }
    case SC_EV_STANZA: {
        const sc_stanza *st = ev->u.stanza;
        FZ_CHECK(e->done == 1);
        e->stanzas++;
        /* Pings are answered inside the library and never reported. */
        FZ_CHECK(st->type >= SC_STANZA_MSG && st->type <= SC_STANZA_FILE_DONE &&
                 st->type != SC_STANZA_PING);
        FZ_CHECK(st->id != NULL && sc_stanza_valid_id(st->id, strlen(st->id)));
        if (st->type == SC_STANZA_MSG) {
            FZ_CHECK(st->text_len <= SC_STANZA_TEXT_MAX && (st->text || !st->text_len));
            fz_touch(e, st->text, st->text_len);
        }
        if (st->type == SC_STANZA_FILE_OFFER) {
            size_t n = strlen(st->name);
            FZ_CHECK(n > 0 && n <= SC_STANZA_NAME_MAX && strchr(st->name, '/') == NULL);
        }
        break;
    }
    case SC_EV_FILE_DATA:
        FZ_CHECK(e->done == 1);
        e->files++;
        FZ_CHECK(sc_stanza_valid_id(ev->u.file.id, strlen(ev->u.file.id)));
        FZ_CHECK(ev->u.file.len <= UINT64_MAX - ev->u.file.offset);
        fz_touch(e, ev->u.file.data, ev->u.file.len);
        break;
    case SC_EV_KEY_UPDATE:
        FZ_CHECK(e->done == 1 && ev->u.key_update.generation >= 1);
        e->key_updates++;
        break;
    case SC_EV_CLOSED:
        FZ_CHECK(e->done == 1);
        e->closed++;
        break;
    case SC_EV_ERROR:
        e->errors++;
        e->err = ev->u.err;
        FZ_CHECK(ev->u.err != SC_OK && ev->u.err == sc_session_error(s));
        break;
    default:
        FZ_CHECK(!"unknown event type");
    }
}

/* ---- sessions and replays ------------------------------------------------- */

/* A fresh session of the variant's config for role, its random source rewound. */
static inline sc_session *fz_session(int v, sc_role role, fz_events *ev)
{
    sc_session *s = NULL;
    fz_world_init();
    memset(ev, 0, sizeof *ev);
    sc_config *cfg = role == SC_ROLE_INITIATOR ? fz_w.icfg[v] : fz_w.rcfg[v];
    fz_rng *rng = role == SC_ROLE_INITIATOR ? &fz_w.irng[v] : &fz_w.rrng[v];
    rng->counter = 0;
    FZ_CHECK(sc_session_new(cfg, role, FZ_NOW_MS, &s) == SC_OK);
    sc_session_set_callback(s, fz_on_event, ev);
    if (role == SC_ROLE_INITIATOR)
        FZ_CHECK(sc_session_set_expected_peer(s, "bob@example.org") == SC_OK);
    if (role == SC_ROLE_INITIATOR && v == 2) /* known ahead: key transport */
        FZ_CHECK(sc_session_set_peer_cert(s, fz_w.bob_rsa.der, fz_w.bob_rsa.der_len) == SC_OK);
    return s;
}

static inline void fz_msg_set(fz_msg *m, const uint8_t *p, size_t len)
{
    m->p = malloc(len ? len : 1);
    FZ_CHECK(m->p != NULL);
    if (len) memcpy(m->p, p, len);
    m->len = len;
}

/* Bytes waiting in a session's output. */
static inline size_t fz_pending(sc_session *s)
{
    const uint8_t *p;
    return sc_session_output(s, &p);
}

/* Moves a session's whole output into m (or drops it when m is NULL). */
static inline void fz_take(sc_session *s, fz_msg *m)
{
    const uint8_t *p;
    size_t n = sc_session_output(s, &p);
    if (m) fz_msg_set(m, p, n);
    sc_session_output_consume(s, n);
}

/* Length of the frame at p (header included), or 0 if p[0..len) holds no whole frame. */
static inline size_t fz_frame_len(const uint8_t *p, size_t len)
{
    if (len < SC_FRAME_HDR) return 0;
    size_t n = SC_FRAME_HDR + sc_load_u24(p + 1);
    return n <= len ? n : 0;
}

/* Decrypts the handshake records of a flight with a handshake secret: the plaintexts. */
static inline void fz_open_flight(const fz_msg *flight, size_t off, int suite,
                                  const uint8_t secret[SC_HASH_LEN], fz_msg *out[3])
{
    sc_dir d;
    sc_buf plain;
    memset(&d, 0, sizeof d);
    sc_buf_init(&plain, 0);
    FZ_CHECK(sc_dir_install(&d, suite, secret, 0) == SC_OK);
    for (int i = 0; i < 3; i++) {
        size_t n = fz_frame_len(flight->p + off, flight->len - off), clen;
        uint8_t inner;
        const uint8_t *c;
        FZ_CHECK(n > 0 && flight->p[off] == SC_FRAME_RECORD);
        FZ_CHECK(sc_record_open(&d, flight->p + off, n, &plain, &inner, &c, &clen) == SC_OK);
        FZ_CHECK(inner == SC_INNER_HANDSHAKE);
        fz_msg_set(out[i], c, clen);
        off += n;
    }
    FZ_CHECK(off == flight->len);
    sc_buf_dispose(&plain);
    sc_dir_clear(&d);
}

static inline void fz_recv_ok(sc_session *s, const uint8_t *p, size_t n, uint64_t seed)
{
    fz_ossl_seed(seed);
    FZ_CHECK(sc_session_recv(s, p, n, FZ_NOW_MS) == SC_OK);
}

/* Runs the variant's handshake once, keeping every flight and plaintext. */
static inline const fz_flights *fz_flights_get(int v)
{
    fz_flights *f = &fz_w.fl[v];
    fz_events ei, er;
    fz_world_init();
    if (fz_w.recorded[v]) return f;
    fz_w.recorded[v] = 1;
    sc_session *i = fz_session(v, SC_ROLE_INITIATOR, &ei);
    sc_session *r = fz_session(v, SC_ROLE_RESPONDER, &er);
    fz_ossl_seed(FZ_SEED_I_START);
    FZ_CHECK(sc_session_start(i) == SC_OK);
    fz_take(i, &f->f1);
    fz_msg_set(&f->ihello, f->f1.p + SC_FRAME_HDR, f->f1.len - SC_FRAME_HDR);

    fz_recv_ok(r, f->f1.p, f->f1.len, FZ_SEED_R_F1);
    fz_take(r, &f->f2);
    f->f2_hello = fz_frame_len(f->f2.p, f->f2.len);
    FZ_CHECK(f->f2_hello > 0 && f->f2.p[0] == SC_FRAME_HELLO);
    fz_msg_set(&f->rhello, f->f2.p + SC_FRAME_HDR, f->f2_hello - SC_FRAME_HDR);
    fz_msg *r3[3] = {&f->rcert, &f->rverify, &f->rfin};
    fz_open_flight(&f->f2, f->f2_hello, r->suite, r->hs->r_hs, r3);

    fz_recv_ok(i, f->f2.p, f->f2.len, FZ_SEED_I_F2);
    FZ_CHECK(ei.done == 1 && sc_session_established(i));
    fz_take(i, &f->f3);
    fz_msg *i3[3] = {&f->icert, &f->iverify, &f->ifin};
    fz_open_flight(&f->f3, 0, r->suite, r->hs->i_hs, i3);

    fz_recv_ok(r, f->f3.p, f->f3.len, FZ_SEED_R_F3);
    FZ_CHECK(er.done == 1 && sc_session_established(r));
    FZ_CHECK(fz_pending(r) == 0);
    f->suite = i->suite;
    memcpy(f->i_ap, i->tx.secret, SC_HASH_LEN);
    memcpy(f->r_ap, r->tx.secret, SC_HASH_LEN);
    FZ_CHECK(memcmp(r->rx.secret, f->i_ap, SC_HASH_LEN) == 0);
    sc_session_free(i);
    sc_session_free(r);
    return f;
}

/* An initiator that has sent flight 1 and waits for the rhello. */
static inline sc_session *fz_initiator_started(int v, fz_events *ev)
{
    const fz_flights *f = fz_flights_get(v);
    sc_session *s = fz_session(v, SC_ROLE_INITIATOR, ev);
    fz_ossl_seed(FZ_SEED_I_START);
    FZ_CHECK(sc_session_start(s) == SC_OK);
    const uint8_t *out;
    size_t n = sc_session_output(s, &out);
    FZ_CHECK(n == f->f1.len && memcmp(out, f->f1.p, n) == 0); /* the replay is exact */
    sc_session_output_consume(s, n);
    FZ_CHECK(s->state == SC_ST_I_WAIT_RHELLO);
    return s;
}

/* An initiator that accepted the real rhello and waits for the responder's cert. */
static inline sc_session *fz_initiator_wait_cert(int v, fz_events *ev)
{
    const fz_flights *f = fz_flights_get(v);
    sc_session *s = fz_initiator_started(v, ev);
    fz_recv_ok(s, f->f2.p, f->f2_hello, FZ_SEED_I_F2);
    FZ_CHECK(s->state == SC_ST_I_WAIT_CERT && fz_pending(s) == 0);
    return s;
}

/* A responder that took flight 1, sent flight 2 and waits for the initiator's cert. */
static inline sc_session *fz_responder_wait_cert(int v, fz_events *ev)
{
    const fz_flights *f = fz_flights_get(v);
    sc_session *s = fz_session(v, SC_ROLE_RESPONDER, ev);
    fz_recv_ok(s, f->f1.p, f->f1.len, FZ_SEED_R_F1);
    const uint8_t *out;
    size_t n = sc_session_output(s, &out);
    FZ_CHECK(n == f->f2.len && memcmp(out, f->f2.p, n) == 0);
    sc_session_output_consume(s, n);
    FZ_CHECK(s->state == SC_ST_R_WAIT_CERT);
    return s;
}

/* A session of either role with the handshake done, in the recorded state. */
static inline sc_session *fz_established(int v, sc_role role, fz_events *ev)
{
    const fz_flights *f = fz_flights_get(v);
    sc_session *s;
    if (role == SC_ROLE_RESPONDER) {
        s = fz_responder_wait_cert(v, ev);
        fz_recv_ok(s, f->f3.p, f->f3.len, FZ_SEED_R_F3);
        FZ_CHECK(fz_pending(s) == 0);
    } else {
        s = fz_initiator_started(v, ev);
        fz_recv_ok(s, f->f2.p, f->f2.len, FZ_SEED_I_F2);
        const uint8_t *out;
        size_t n = sc_session_output(s, &out);
        FZ_CHECK(n == f->f3.len && memcmp(out, f->f3.p, n) == 0);
        sc_session_output_consume(s, n);
    }
    FZ_CHECK(ev->done == 1 && sc_session_established(s));
    FZ_CHECK(memcmp(s->tx.secret, role == SC_ROLE_INITIATOR ? f->i_ap : f->r_ap, SC_HASH_LEN) == 0);
    return s;
}

/* ---- handshake messages fed past the record layer -------------------------- */

/*
 * Feeds one decrypted handshake message with sc__hs_recv, as on_record
 * would after opening a record, and checks the outcome: success moves the
 * state machine on, failure leaves it where it was and is an alert (peer
 * input never causes a local error other than running out of memory), and
 * the handshake only completes with the one identity that can prove itself
 * here (want_peer).
 */
static inline int fz_hs_msg(sc_session *s, fz_events *ev, const uint8_t *p, size_t n, int plaintext,
                            const char *want_peer)
{
    sc_state before = s->state;
    int rc = sc__hs_recv(s, p, n, plaintext);
    if (fz_trace())
        fprintf(stderr, "  handshake message in state %d: %s\n", (int)before, sc_strerror(rc));
    if (rc != SC_OK) {
        FZ_CHECK(SC_ERR_IS_ALERT(rc) || rc == SC_ERR_NOMEM);
        FZ_CHECK(s->state == before);
        return rc;
    }
    FZ_CHECK(s->state == before + 1 ||
             (s->state == SC_ST_ESTABLISHED &&
              (before == SC_ST_I_WAIT_FINISHED || before == SC_ST_R_WAIT_FINISHED)));
    if (s->state == SC_ST_ESTABLISHED) {
        FZ_CHECK(ev->done == 1 && s->hs == NULL && sc_session_established(s));
        FZ_CHECK(strcmp(sc_session_peer_id(s), want_peer) == 0);
        FZ_CHECK(s->tx.active && s->rx.active);
    }
    return rc;
}

/* Input as handshake messages: one (the whole input), or many, each led by a u16 length. */
static inline void fz_hs_msgs(sc_session *s, fz_events *ev, fz_in *in, int many,
                              const char *want_peer)
{
    size_t n;
    const uint8_t *p;
    if (!many) {
        p = fz_bytes(in, in->len, &n);
        (void)fz_hs_msg(s, ev, p, n, 0, want_peer);
        return;
    }
    while (in->len > 0) {
        p = fz_bytes(in, fz_u16(in), &n);
        if (fz_hs_msg(s, ev, p, n, 0, want_peer) != SC_OK) break;
    }
}

/* After feeding a stream: the error is sticky and reported once; an early alert is in clear. */
static inline void fz_check_after_recv(sc_session *s, fz_events *ev, int rc)
{
    FZ_CHECK(rc == sc_session_error(s) && ev->errors == (rc != SC_OK));
    if (rc != SC_OK) {
        FZ_CHECK(ev->err == rc && !sc_session_established(s) && s->hs == NULL);
        FZ_CHECK(sc_session_recv(s, (const uint8_t *)"x", 1, FZ_NOW_MS) == rc);
    }
    if (SC_ERR_IS_ALERT(rc) && !s->tx.active) {
        const uint8_t *p;
        size_t n = sc_session_output(s, &p);
        const uint8_t want[5] = {SC_FRAME_ALERT, 0, 0, 1, (uint8_t)SC_ERR_ALERT_CODE(rc)};
        FZ_CHECK(n >= 5 && memcmp(p + n - 5, want, 5) == 0);
    }
}

/* ---- seed corpora ---------------------------------------------------------- */

/*
 * Generator mode. With FZ_WRITE_SEEDS=DIR in the environment, a target's
 * first call writes its seed corpus into DIR, then runs its input as usual:
 *
 *   for t in frame handshake_initiator handshake_responder record stanza hsmsg; do
 *       rm -rf fuzz/corpus/$t && mkdir fuzz/corpus/$t &&
 *       FZ_WRITE_SEEDS=fuzz/corpus/$t build/fuzz/fuzz_$t /dev/null
 *   done
 *
 * The seeds hold real flight bytes and ciphertext, so regenerate them when
 * the handshake messages or the key schedule change. Everything they depend
 * on is deterministic: an unchanged tree regenerates the same files.
 */
static inline const char *fz_seeds_dir(void)
{
    static int asked;
    return asked++ ? NULL : getenv("FZ_WRITE_SEEDS");
}

/* Starts a seed: an empty buffer, with the mode byte first unless mode < 0. */
static inline void fz_seed_begin(sc_buf *b, int mode)
{
    sc_buf_init(b, 0);
    if (mode >= 0) sc_buf_put_u8(b, (uint8_t)mode);
}

/* Writes b to DIR/name and disposes of it. */
static inline void fz_seed(const char *dir, const char *name, sc_buf *b)
{
    char path[1024];
    FZ_CHECK(sc_buf_ok(b) && b->len < 8192); /* small seeds (fuzz/CMakeLists.txt replays them) */
    FZ_CHECK(snprintf(path, sizeof path, "%s/%s", dir, name) < (int)sizeof path);
    FILE *f = fopen(path, "wb");
    FZ_CHECK(f != NULL && (b->len == 0 || fwrite(b->data, 1, b->len, f) == b->len));
    FZ_CHECK(fclose(f) == 0);
    sc_buf_dispose(b);
}

/* A seed that is one mode byte (or none) and one byte string. */
static inline void fz_seed_bytes(const char *dir, const char *name, int mode, const void *p,
                                 size_t n)
{
    sc_buf b;
    fz_seed_begin(&b, mode);
    sc_buf_put(&b, p, n);
    fz_seed(dir, name, &b);
}

/* One handshake message led by its u16 length (the deep modes' sequences). */
static inline void fz_seed_msg(sc_buf *b, const fz_msg *m)
{
    sc_buf_put_u16(b, (uint16_t)m->len);
    sc_buf_put(b, m->p, m->len);
}

/* <cert><c>B64 DER</c>...</cert> of the given certificates. */
static inline void fz_seed_certmsg(sc_buf *b, const fz_cert *const *certs, size_t n)
{
    sc_xml_w_open(b, "cert");
    sc_xml_w_end_open(b);
    for (size_t i = 0; i < n; i++) {
        sc_xml_w_open(b, "c");
        sc_xml_w_end_open(b);
        sc_base64_encode(b, certs[i]->der, certs[i]->der_len);
        sc_xml_w_close(b, "c");
    }
    sc_xml_w_close(b, "cert");
}

/* Certificates that each break one rule of the policy, for seeds. */
typedef struct fz_bad_certs {
    fz_cert mallory;    /* blocked identity (responder config) */
    fz_cert expired;    /* bob, expired */
    fz_cert future;     /* bob, not yet valid */
    fz_cert server_eku; /* bob, serverAuth only */
    fz_cert evil_root;  /* a CA nobody trusts */
    fz_cert evil_bob;   /* bob, issued by it */
} fz_bad_certs;

static inline const fz_bad_certs *fz_bad_certs_get(void)
{
    static fz_bad_certs c;
    static int made;
    fz_cert_opts o;
    fz_world_init();
    if (made++) return &c;
    o = (fz_cert_opts)FZ_USER_OPTS("mallory@example.org");
    fz_cert_make(&c.mallory, &fz_w.root, "sixchat fuzz mallory", 10, &o);
    o = (fz_cert_opts)FZ_USER_OPTS("bob@example.org");
    o.not_before = FZ_NOW_S - 400 * 86400;
    o.not_after = FZ_NOW_S - 86400;
    fz_cert_make(&c.expired, &fz_w.root, "sixchat fuzz bob", 11, &o);
    o = (fz_cert_opts)FZ_USER_OPTS("bob@example.org");
    o.not_before = FZ_NOW_S + 86400;
    fz_cert_make(&c.future, &fz_w.root, "sixchat fuzz bob", 12, &o);
    o = (fz_cert_opts)FZ_USER_OPTS("bob@example.org");
    o.eku = "serverAuth";
    fz_cert_make(&c.server_eku, &fz_w.root, "sixchat fuzz bob", 13, &o);
    o = (fz_cert_opts)FZ_ROOT_OPTS;
    fz_cert_make(&c.evil_root, NULL, "sixchat fuzz evil root", 14, &o);
    o = (fz_cert_opts)FZ_USER_OPTS("bob@example.org");
    fz_cert_make(&c.evil_bob, &c.evil_root, "sixchat fuzz bob", 15, &o);
    return &c;
}

/* Stanzas for the seeds of fuzz_stanza and fuzz_record. */
#define FZ_SHA_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define FZ_ST_MSG "<msg id=\"m1\" ts=\"1767225600000\">hello, bob &amp; &lt;friends&gt;</msg>"
#define FZ_ST_RECEIPT "<receipt id=\"m1\" ts=\"1767225600001\"/>"
#define FZ_ST_PING "<ping id=\"p-1\"/>"
#define FZ_ST_PONG "<pong id=\"p-1\"/>"
#define FZ_ST_OFFER                                                                                \
    "<file-offer id=\"f1\" name=\"photo.jpg\" size=\"5000\" sha256=\"" FZ_SHA_EMPTY "\"/>"
#define FZ_ST_ACCEPT "<file-accept id=\"f1\" offset=\"0\"/>"
#define FZ_ST_DONE "<file-done id=\"f1\" sha256=\"" FZ_SHA_EMPTY "\"/>"

#endif
