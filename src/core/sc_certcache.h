/*
 * sc_certcache.h - a small, bounded cache of decoded certificates, keyed by
 * the SHA-256 of their DER.
 *
 * OpenSSL 3.0 spends 100-300 us decoding one certificate (mostly its public
 * key), more than a signature check costs. Peers of one CA send the same
 * intermediates every time, and peers who met before send the same leaf, so
 * a handshake decodes only certificates it has not seen. A cached X509 is
 * the same object d2i_X509 would produce from the same bytes; nothing about
 * trust is cached here (every handshake still validates the path).
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

/* A new reference to the cached certificate with this DER hash, or NULL. */
X509 *sc_certcache_get(sc_certcache *c, const uint8_t hash[32]);

/* Remembers x under hash (takes its own reference), evicting the oldest entry when full. */
void sc_certcache_put(sc_certcache *c, const uint8_t hash[32], X509 *x);

#endif
