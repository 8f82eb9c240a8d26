/*
 * irpd_secret.h - the registry's password hashes and enrolment tokens
 * (docs/IRP.md 7.2).
 *
 * Passwords are stored only as scrypt (RFC 7914) through OpenSSL's EVP_KDF
 * "SCRYPT", in a self-describing text form so the parameters can change
 * later without invalidating stored hashes:
 *
 *     scrypt$<log2 N>$<r>$<p>$<base64 salt>$<base64 hash>
 *     e.g. scrypt$15$8$1$Zm9vYmFyYmF6cXV4cXV1eA==$<44 characters>
 *
 * (base64 is the standard alphabet with padding, docs/PROTOCOL.md 3.3).
 * New hashes use N = 2^15, r = 8, p = 1, a 16-byte random salt and a 32-byte
 * output; verification accepts any parameters within the bounds below.
 *
 * Enrolment tokens are 128 random bits in base64url without padding (22
 * characters); the store keeps only their SHA-256.
 *
 * Results: IRPD_SECRET_OK (0), IRPD_SECRET_MISMATCH (1, a wrong password),
 * or a negative sc_err (sixchat/error.h) for everything else. Every buffer
 * that held a password, a derived key or a token's random bytes is wiped
 * with OPENSSL_cleanse before it is released. Functions keep no state and
 * may be called from any thread.
 */
#ifndef IRPD_SECRET_H
#define IRPD_SECRET_H

#include <stddef.h>
#include <stdint.h>

#include "sixchat/error.h"

enum {
    IRPD_SECRET_OK = 0,
    IRPD_SECRET_MISMATCH = 1, /* the password does not match the stored hash */
};

/* Parameters of new hashes. */
#define IRPD_PW_LOG2N 15
#define IRPD_PW_R 8
#define IRPD_PW_P 1
#define IRPD_PW_SALT_LEN 16
#define IRPD_PW_HASH_LEN 32

/* Bounds on stored parameters (a corrupt row must not take a gigabyte or an hour). */
#define IRPD_PW_LOG2N_MIN 10
#define IRPD_PW_LOG2N_MAX 20
#define IRPD_PW_R_MAX 32
#define IRPD_PW_P_MAX 16
#define IRPD_PW_MAXMEM (256u * 1024 * 1024) /* bytes scrypt may use */
#define IRPD_PW_SALT_MIN 8
/*
 * A shorter scrypt output is a prefix of the longer one (it ends in
 * PBKDF2), so a truncated stored hash would still match: 32 bytes minimum.
 */
#define IRPD_PW_DK_MIN 32
#define IRPD_PW_DK_MAX 64

#define IRPD_PW_MAX 1024        /* bytes of a password */
#define IRPD_PW_ENCODED_MAX 160 /* bytes of an encoded hash, without the NUL */

/*
 * Hashes the password pw[0..len) (any bytes, 1..IRPD_PW_MAX) with a fresh
 * random salt and the current parameters, writing the NUL-terminated
 * encoding into out (cap bytes; IRPD_PW_ENCODED_MAX + 1 is always enough).
 * Takes about 0.1 s and 32 MiB. Errors: SC_ERR_ARG (NULL, empty or
 * over-long password), SC_ERR_TOO_LARGE (cap too small), SC_ERR_RANDOM,
 * SC_ERR_CRYPTO, SC_ERR_NOMEM.
 */
SC_MUST_CHECK int irpd_pw_hash(const char *pw, size_t len, char *out, size_t cap);

/*
 * Checks pw[0..len) against an encoded hash, comparing in constant time.
 * Returns IRPD_SECRET_OK on a match and IRPD_SECRET_MISMATCH on a wrong
 * password (including an empty or over-long one). encoded NULL (the user
 * does not exist) costs the same time as a real check and returns
 * IRPD_SECRET_MISMATCH, so timing does not tell which users exist. Errors:
 * SC_ERR_PARSE (encoded is malformed or its parameters out of bounds: a
 * corrupt store, never a match), SC_ERR_CRYPTO, SC_ERR_NOMEM.
 */
SC_MUST_CHECK int irpd_pw_verify(const char *pw, size_t len, const char *encoded);

/* 1 if encoded uses other parameters than new hashes would (rehash after a login), else 0. */
int irpd_pw_needs_rehash(const char *encoded);

/* Enrolment tokens. */
#define IRPD_TOKEN_BYTES 16 /* 128 bits */
#define IRPD_TOKEN_LEN 22   /* base64url characters, no padding */
#define IRPD_TOKEN_HASH_LEN 32

/*
 * A fresh token: IRPD_TOKEN_LEN base64url characters and a NUL in out.
 * Errors: SC_ERR_ARG, SC_ERR_RANDOM, SC_ERR_NOMEM.
 */
SC_MUST_CHECK int irpd_token_new(char out[IRPD_TOKEN_LEN + 1]);

/*
 * 1 if s[0..len) is a token as irpd_token_new makes them: exactly
 * IRPD_TOKEN_LEN characters of A-Z a-z 0-9 - _, the last one carrying no
 * bits beyond the 128. Else 0.
 */
int irpd_token_valid(const char *s, size_t len);

/*
 * SHA-256 of the token's characters: what the store keeps and looks up.
 * Errors: SC_ERR_PARSE (not a valid token: the caller answers "wrong
 * token"), SC_ERR_ARG, SC_ERR_CRYPTO.
 */
SC_MUST_CHECK int irpd_token_hash(const char *s, size_t len, uint8_t out[IRPD_TOKEN_HASH_LEN]);

#endif
