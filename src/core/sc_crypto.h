/*
 * sc_crypto.h - the one adapter between the protocol core and OpenSSL
 * (one adapter, docs/ARCHITECTURE.md). Everything else in src/core reads as protocol.
 *
 * Hash is SHA-256 throughout version 1 (docs/PROTOCOL.md 6). Every
 * function returns 0 or an sc_err; secrets in the structs here are wiped by
 * their *_clear functions.
 */
#ifndef SC_CRYPTO_H
#define SC_CRYPTO_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include "sc_buf.h"

/*
 * OpenSSL's per-thread error queue belongs to the embedder, who may run
 * libssl connections on the same thread: an error we leave behind makes an
 * unrelated idle TLS connection report SSL_ERROR_SSL, and clearing the queue
 * would erase errors the embedder has not read yet (issue 6, finding 4).
 * SC_ERRQ_GUARD, the first statement of every public entry point that can
 * reach OpenSSL, sets a mark and pops back to it on every return (GCC's and
 * Clang's cleanup attribute), so whatever the call pushed is dropped and
 * what was there before stays. sc_crypto.c also drops the errors of the
 * operations a peer's input makes fail before returning, so none is on the
 * queue while an event callback runs.
 */
int sc__errq_mark(void);
void sc__errq_pop(int *mark);
#define SC_ERRQ_GUARD                                                                              \
    int sc__errq_guard __attribute__((cleanup(sc__errq_pop), unused)) = sc__errq_mark()

/*
 * After an OpenSSL call failed: 1 if it ran out of memory rather than
 * refused its input (OpenSSL 3 reports ERR_R_MALLOC_FAILURE at the root
 * cause). before is ERR_peek_error() from just before the call. Call it
 * before the call's errors are popped.
 */
int sc_ossl_nomem(unsigned long before);

#define SC_HASH_LEN 32
#define SC_KEY_LEN 32
#define SC_IV_LEN 12
#define SC_TAG_LEN 16

typedef enum { SC_SUITE_AES_256_GCM = 1, SC_SUITE_CHACHA20_POLY1305 = 2 } sc_suite;
typedef enum { SC_GROUP_X25519 = 1, SC_GROUP_P256 = 2 } sc_group;
typedef enum {
    SC_SIG_ED25519 = 1,
    SC_SIG_ECDSA_P256_SHA256 = 2,
    SC_SIG_ECDSA_P384_SHA384 = 3,
    SC_SIG_RSA_PSS_SHA256 = 4,
} sc_sigalg;

#define SC_SUITE_COUNT 2
#define SC_GROUP_COUNT 2
#define SC_SIG_COUNT 4

/* Wire names (docs/PROTOCOL.md 7) and their reverse lookup (0 if unknown). */
const char *sc_suite_name(int suite);
const char *sc_group_name(int group);
const char *sc_sigalg_name(int alg);
int sc_suite_by_name(const char *s, size_t n);
int sc_group_by_name(const char *s, size_t n);
int sc_sigalg_by_name(const char *s, size_t n);

/* HKDF with SHA-256 (RFC 5869) and our label format (PROTOCOL.md 6.1). */
int sc_hkdf_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                    uint8_t out[SC_HASH_LEN]);
int sc_hkdf_expand_label(const uint8_t secret[SC_HASH_LEN], const char *label, const uint8_t *ctx,
                         size_t ctx_len, uint8_t *out, size_t out_len);
int sc_hmac_sha256(const uint8_t key[SC_HASH_LEN], const uint8_t *data, size_t len,
                   uint8_t out[SC_HASH_LEN]);
int sc_sha256(const uint8_t *data, size_t len, uint8_t out[SC_HASH_LEN]);

/* Running transcript hash: u32 length || bytes per message (PROTOCOL.md 6.2). */
typedef struct sc_transcript {
    EVP_MD_CTX *md;
} sc_transcript;
int sc_transcript_init(sc_transcript *t);
int sc_transcript_add(sc_transcript *t, const uint8_t *msg, size_t len);
/* The hash of everything added so far; the transcript keeps running. */
int sc_transcript_hash(const sc_transcript *t, uint8_t out[SC_HASH_LEN]);
void sc_transcript_clear(sc_transcript *t);

/* One direction of AEAD protection with its own nonce sequence. */
typedef struct sc_aead {
    EVP_CIPHER_CTX *ctx;
    uint8_t iv[SC_IV_LEN];
    uint64_t seq;
    size_t nonce_param_len; /* how the provider takes a whole nonce (sc_crypto.c, aead_start) */
    int enc;
    int split; /* seal2 encrypts a tail from where it is (sc_crypto.c, aead_seal_parts) */
} sc_aead;
int sc_aead_init(sc_aead *a, int suite, const uint8_t key[SC_KEY_LEN], const uint8_t iv[SC_IV_LEN],
                 int enc);
/* Encrypts buf[0..len) in place and writes the tag; seq advances. */
int sc_aead_seal(sc_aead *a, const uint8_t *aad, size_t aad_len, uint8_t *buf, size_t len,
                 uint8_t tag[SC_TAG_LEN]);
/*
 * The same for the plaintext buf[0..len) || tail[0..tail_len), sealed
 * into buf[0..len + tail_len): a bulk payload the caller holds is read
 * once, by the cipher, where the suite allows (AES-GCM; sc_crypto.c).
 * On failure buf[0..len + tail_len) is wiped.
 */
int sc_aead_seal2(sc_aead *a, const uint8_t *aad, size_t aad_len, uint8_t *buf, size_t len,
                  const uint8_t *tail, size_t tail_len, uint8_t tag[SC_TAG_LEN]);
/*
 * Decrypts in[0..len) into out (which may equal in); SC_ERR_BAD_RECORD_MAC
 * if the tag does not verify, and then out is wiped. seq advances on success.
 */
int sc_aead_open(sc_aead *a, const uint8_t *aad, size_t aad_len, const uint8_t *in, uint8_t *out,
                 size_t len, const uint8_t tag[SC_TAG_LEN]);
void sc_aead_clear(sc_aead *a);

/* Ephemeral key exchange. Public value: 32 bytes (X25519) or 65 (P-256 uncompressed). */
#define SC_KEX_PUB_MAX 65
typedef struct sc_kex_key {
    int group;
    EVP_PKEY *priv;
    uint8_t pub[SC_KEX_PUB_MAX];
    size_t pub_len;
} sc_kex_key;
/* The private key comes from rnd (32 caller-random bytes): no hidden randomness. */
int sc_kex_keygen(sc_kex_key *k, int group, const uint8_t rnd[32]);
/* Shared secret (32 bytes). SC_ERR_ILLEGAL_PARAMETER for a bad peer value. */
int sc_kex_derive(const sc_kex_key *k, const uint8_t *peer, size_t peer_len,
                  uint8_t out[SC_HASH_LEN]);
size_t sc_kex_pub_len(int group);
void sc_kex_clear(sc_kex_key *k);

/* The signature algorithm a key signs with, or 0 if the key is not acceptable. */
int sc_sigalg_for_key(EVP_PKEY *key);
int sc_sign(EVP_PKEY *key, int alg, const uint8_t *msg, size_t len, sc_buf *out);
/* SC_ERR_DECRYPT_ERROR when the signature does not verify. */
int sc_verify(EVP_PKEY *key, int alg, const uint8_t *msg, size_t len, const uint8_t *sig,
              size_t sig_len);

/* Key transport: RSA-OAEP with SHA-256 and MGF1-SHA-256, empty label. */
int sc_oaep_encrypt(EVP_PKEY *pub, const uint8_t *in, size_t len, sc_buf *out);
/* SC_ERR_DECRYPT_ERROR unless the result is exactly out_len bytes. */
int sc_oaep_decrypt(EVP_PKEY *priv, const uint8_t *in, size_t len, uint8_t *out, size_t out_len);

#endif
