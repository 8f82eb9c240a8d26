/*
 * fz_rand.h - deterministic randomness for the fuzz targets.
 *
 * Two sources: the sc_config random source, the test kit's stream
 * (sc_testrng.h), and OpenSSL's own RNG replaced by a deterministic one.
 * The core takes its randomness from sc_random_fn, but signing (ECDSA
 * nonces, RSA-PSS salts), RSA-OAEP padding and RSA blinding inside
 * sc_crypto.c, and the certificates of fz_pki.h, draw from OpenSSL's RNG.
 * Without this a handshake replayed into fresh sessions would produce other
 * signature bytes, another transcript and other traffic keys, and no input
 * would mean the same thing twice.
 * fz_ossl_seed() resets it before every step that signs.
 */
#ifndef FZ_RAND_H
#define FZ_RAND_H

#include <stddef.h>
#include <stdint.h>

#include "sc_testrng.h"

/* The seeds of OpenSSL's RNG for each step that draws from it. */
enum {
    FZ_SEED_PKI = 1,      /* certificate signatures */
    FZ_SEED_INPUT = 2,    /* start of each fuzz input */
    FZ_SEED_I_START = 11, /* initiator builds flight 1 */
    FZ_SEED_R_F1 = 12,    /* responder takes flight 1, sends flight 2 (signs) */
    FZ_SEED_I_F2 = 13,    /* initiator takes flight 2, sends flight 3 (signs) */
    FZ_SEED_R_F3 = 14,    /* responder takes flight 3 */
};

/* Restarts OpenSSL's (deterministic) RNG from seed. */
void fz_ossl_seed(uint64_t seed);

/* Replaces OpenSSL's RNG with the deterministic one (once per process). */
void fz_ossl_rand_install(void);

#endif
