/*
 * sc_certcache.h - a small, bounded cache of decoded certificates, keyed by
 * the SHA-256 of their DER.
 *
 * OpenSSL 3.0 spends 100-300 us decoding one certificate (mostly its public
 * key), more than a signature check costs. Peers of one CA send the same
 * intermediates every time, and peers who met before send the same leaf, so
 * a handshake decodes only certificates it has not seen. A cached X509 is
 * the same object d2i_X509 would produce from the same bytes.
 *
 * It also remembers chains that passed path validation (docs/GOALS.md: a
 * bounded cache of already-verified peer chains): the same certificates,
 * byte for byte, at a time inside the window where every certificate of the
 * path is valid, validate the same way again, so the two signature checks
 * of the path are skipped. The policy (allow and block lists) and the
 * transcript signature are still checked on every handshake.
 *
 * The handshake consults and fills this cache only after the peer's
 * signature verified (PROTOCOL.md 8.2), so how long a refusal takes never
 * tells an unauthenticated peer whom we met before.
 *
 * Shared by all sessions of one sc_config, possibly across threads: lookups
 * take a read lock, insertions a write lock.
 */
#ifndef SC_CERTCACHE_H
#define SC_CERTCACHE_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/x509.h>

#define SC_CERTCACHE_SIZE 64

typedef struct sc_certcache sc_certcache;

sc_certcache *sc_certcache_new(void);
void sc_certcache_free(sc_certcache *c);

/* Forgets everything (benchmarks of first contact; tests). */
void sc_certcache_clear(sc_certcache *c);

/* A new reference to the cached certificate with this DER hash, or NULL. */
X509 *sc_certcache_get(sc_certcache *c, const uint8_t hash[32]);

/* Remembers x under hash (takes its own reference), evicting the oldest entry when full. */
void sc_certcache_put(sc_certcache *c, const uint8_t hash[32], X509 *x);

#define SC_CERTCACHE_PATH_MAX 5 /* leaf, 3 intermediates, anchor */

/* A CA by subject and public key (hashes of their DER), for the issuer lists. */
typedef struct sc_issuer_id {
    uint8_t subject[32];
    uint8_t key[32];
} sc_issuer_id;

typedef struct sc_verified {
    uint8_t key[32];                          /* SHA-256 over the hashes of the chain as sent */
    int64_t not_before, not_after;            /* every certificate of the path valid in between */
    size_t n_ca;                              /* CA certificates of the path (all but the leaf) */
    uint8_t ca_fp[SC_CERTCACHE_PATH_MAX][32]; /* the last is the trust anchor's */
    sc_issuer_id ca_id[SC_CERTCACHE_PATH_MAX];
} sc_verified;

/* 1 and *out filled if a chain with this key was verified and now is in its window. */
int sc_certcache_get_verified(sc_certcache *c, const uint8_t key[32], int64_t now,
                              sc_verified *out);
void sc_certcache_put_verified(sc_certcache *c, const sc_verified *v);

#endif
