/*
 * sc_testcert.h - keys and X.509 certificates made in code, for tests.
 *
 * Every certificate follows what OpenSSL's strict verifier and our policy
 * expect (docs/PROTOCOL.md 8): version 3, subjectKeyIdentifier, an
 * authorityKeyIdentifier on everything not self-signed, critical
 * basicConstraints and keyUsage keyCertSign/cRLSign on CAs, keyUsage
 * digitalSignature (plus keyEncipherment for RSA) on users. Options turn
 * single properties off so a test can check each refusal.
 *
 * Any OpenSSL or allocation failure aborts the test program: these helpers
 * never return an error. Strings returned are malloc'd; the caller frees.
 */
#ifndef SC_TESTCERT_H
#define SC_TESTCERT_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

typedef enum sc_testkey_type {
    SC_TESTKEY_ED25519,
    SC_TESTKEY_P256,
    SC_TESTKEY_P384,
    SC_TESTKEY_RSA2048,
    SC_TESTKEY_RSA1024, /* too small: for negative tests */
    SC_TESTKEY_ED448,   /* sound keys our protocol cannot sign with: negative tests */
    SC_TESTKEY_P521,
} sc_testkey_type;

/* What the extendedKeyUsage extension of a user certificate says. */
typedef enum sc_testcert_eku {
    SC_TESTCERT_EKU_CLIENT,        /* clientAuth (the default) */
    SC_TESTCERT_EKU_NONE,          /* no extendedKeyUsage extension at all */
    SC_TESTCERT_EKU_SERVER_ONLY,   /* serverAuth only */
    SC_TESTCERT_EKU_CLIENT_SERVER, /* clientAuth and serverAuth (a TLS server's too) */
} sc_testcert_eku;

/* A key and its certificate. Both fields are owned by the struct. */
typedef struct sc_testcert {
    EVP_PKEY *key;
    X509 *cert;
} sc_testcert;

/* Options of a user (leaf) certificate. Zero-initialise, then set what matters. */
typedef struct sc_testcert_opts {
    sc_testkey_type key_type;
    const char *user_id; /* subjectAltName rfc822Name; NULL: no subjectAltName */
    sc_testcert_eku eku;
    const char *key_usage; /* OpenSSL config syntax, e.g. "critical,keyAgreement"; NULL: default */
    int64_t not_before;    /* Unix times; both 0: sc_testcert_default_validity */
    int64_t not_after;
    uint64_t serial; /* 0: a fresh random serial */
    EVP_PKEY *key;   /* NULL: a fresh key of key_type; else this key (the certificate takes a
                        reference of its own), e.g. one made the same in every process */
} sc_testcert_opts;

/* 2026-01-01T00:00:00Z: a fixed "now" for tests that pass time to the core. */
#define SC_TESTCERT_NOW INT64_C(1767225600)

/* A fresh key of the given type. */
EVP_PKEY *sc_testkey_new(sc_testkey_type type);

/* Self-signed root CA named cn, valid [not_before, not_after]. */
sc_testcert *sc_testcert_root(sc_testkey_type type, const char *cn, int64_t not_before,
                              int64_t not_after);

/* Intermediate CA named cn, signed by issuer (a root or another intermediate). */
sc_testcert *sc_testcert_ca(const sc_testcert *issuer, sc_testkey_type type, const char *cn,
                            int64_t not_before, int64_t not_after);

/*
 * CA certificate named cn, signed by issuer (NULL: self-signed root), with the
 * key (or key_type), serial and validity of opts; its other fields do not apply.
 */
sc_testcert *sc_testcert_ca_opts(const sc_testcert *issuer, const char *cn,
                                 const sc_testcert_opts *opts);

/*
 * User certificate signed by issuer, or self-signed when issuer is NULL.
 * Subject CN is the user ID (or "no user id").
 */
sc_testcert *sc_testcert_user(const sc_testcert *issuer, const sc_testcert_opts *opts);

/*
 * Adds one more extension to tc's certificate (nid, value in OpenSSL config
 * syntax, e.g. NID_ext_key_usage, "serverAuth") and signs it again with
 * issuer's key (NULL: its own key). For certificates the options cannot make.
 */
void sc_testcert_add_ext(sc_testcert *tc, const sc_testcert *issuer, int nid, const char *value);

void sc_testcert_free(sc_testcert *tc);

/* The certificate as PEM, and the private key as PKCS#8 PEM (unencrypted). */
char *sc_testcert_cert_pem(const sc_testcert *tc);
char *sc_testcert_key_pem(const sc_testcert *tc);

/* The certificate as DER; *len receives its length. */
uint8_t *sc_testcert_der(const sc_testcert *tc, size_t *len);

/* The DER of leaf then of inter, back to back (sc_session_set_peer_cert with a chain). */
uint8_t *sc_testcert_chain_der(const sc_testcert *leaf, const sc_testcert *inter, size_t *len);

/*
 * Concatenates NUL-terminated strings up to a NULL argument, e.g. a chain:
 * sc_testcert_concat(leaf_pem, inter_pem, NULL).
 */
char *sc_testcert_concat(const char *first, ...);

/*
 * Decodes every certificate of a PEM string to DER, at most max of them:
 * der[i] (malloc'd) and len[i]. Returns how many were found.
 */
size_t sc_testcert_pem_to_der(const char *pem, uint8_t **der, size_t *len, size_t max);

/* SHA-256 of the DER of the first certificate in cert_pem. */
void sc_testcert_fingerprint(const char *cert_pem, uint8_t out[32]);

/*
 * Reads a whole file into a NUL-terminated malloc'd buffer (*len, if not
 * NULL, gets its length without the NUL). Returns NULL when the file cannot
 * be read, so a test can assert on it with a useful message.
 */
char *sc_testcert_read_file(const char *path, size_t *len);

#endif
