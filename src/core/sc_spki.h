/*
 * sc_spki.h - the peer leaf's public key, read from its DER without
 * decoding the whole certificate (docs/PROTOCOL.md 8.2, 11.1).
 *
 * The handshake checks the peer's transcript signature before it consults
 * any cache or policy, so that refusing a replayed chain costs the same
 * whether or not we met its owner (PROTOCOL.md 11.4). d2i_X509 in OpenSSL
 * 3.0 spends 100-150 us decoding the key through the provider decoders;
 * here OpenSSL's own DER decoder reads the certificate against a skeleton
 * schema (every field but the subjectPublicKeyInfo kept opaque) and the key
 * is imported from its raw parts, which costs a few microseconds.
 *
 * Once the signature holds, the full certificate is decoded and
 * sc_spki_matches() checks that OpenSSL's X509 carries the very key the
 * signature was checked with, so no difference between the two readings
 * can slip a different key past the policy.
 */
#ifndef SC_SPKI_H
#define SC_SPKI_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

/*
 * Key parameters made once per configuration: an EC public key is then a
 * copy of its curve's parameters plus the point (4 us for P-256 here,
 * against 17 us to build the group from its name every time).
 */
typedef struct sc_spki_ctx {
    EVP_PKEY *p256, *p384;
} sc_spki_ctx;

/* 0 or SC_ERR_NOMEM. */
int sc_spki_ctx_init(sc_spki_ctx *c);
/* Safe on a zeroed context. */
void sc_spki_ctx_free(sc_spki_ctx *c);

/*
 * The public key of the DER certificate der[0..len): Ed25519, EC P-256 or
 * P-384 (named curve), or RSA (rsaEncryption). Errors: SC_ERR_BAD_CERTIFICATE
 * (not a certificate, trailing bytes, malformed key),
 * SC_ERR_UNSUPPORTED_CERTIFICATE (another key type or curve), SC_ERR_NOMEM.
 * The OpenSSL error queue is left as found.
 */
int sc_spki_leaf_key(const sc_spki_ctx *c, const uint8_t *der, size_t len, EVP_PKEY **out);

/*
 * 1 if x's subjectPublicKeyInfo is the one in der[0..len) (algorithm,
 * parameters, key bits), 0 if not, -1 when out of memory.
 */
int sc_spki_matches(X509 *x, const uint8_t *der, size_t len);

#endif
