/*
 * bench_certs.h - the certificates of the benchmarks, made in code at start
 * with the test kit (tests/support/sc_testcert.h).
 *
 * One PKI shared by our protocol and the TLS yardstick:
 *   root CA (P-256, self-signed) -> intermediate CA (P-256) -> leaves.
 * For each key type (BENCH_KEY_*) there are two leaves, alice@example.org
 * (initiator / TLS client) and bob@example.org (responder / TLS server),
 * each with subjectAltName email:<user>, extendedKeyUsage clientAuth and
 * serverAuth (TLS needs serverAuth on the server's certificate), keyUsage
 * digitalSignature (plus keyEncipherment for RSA, for key transport).
 * Valid from one hour ago for 30 days. Everything is kept as PEM in memory.
 */
#ifndef BENCH_CERTS_H
#define BENCH_CERTS_H

#include <stddef.h>
#include "bench_common.h"

typedef struct bench_identity {
    const char *user;        /* "alice@example.org" or "bob@example.org" */
    char *cert_pem;          /* the leaf alone */
    char *chain_pem;         /* the leaf, then the intermediate */
    char *key_pem;           /* the leaf's private key, PKCS#8 PEM */
    unsigned char *cert_der; /* the leaf, DER */
    size_t cert_pem_len, chain_pem_len, key_pem_len, cert_der_len;
} bench_identity;

typedef struct bench_certs {
    char *root_pem; /* the trust anchor */
    char *intermediate_pem;
    size_t root_pem_len, intermediate_pem_len;
    bench_identity alice[BENCH_KEY_COUNT]; /* initiator / TLS client */
    bench_identity bob[BENCH_KEY_COUNT];   /* responder / TLS server */
} bench_certs;

/* Generates everything. Returns 0; a failure aborts (sc_testcert.h). */
int bench_certs_generate(bench_certs *c);
void bench_certs_free(bench_certs *c);

#endif
