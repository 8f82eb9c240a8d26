/*
 * fz_pki.h - the fuzz targets' certificates: the test kit's (sc_testcert.h)
 * with keys and signatures that are the same bytes in every process.
 *
 * Keys come from fixed labels (P-256: the scalar is SHA-256(label); RSA:
 * generated from OpenSSL's deterministic RNG reseeded from the label) and
 * signatures from the RNG reseeded with the serial (fz_rand.h), so the seed
 * corpora, which hold certificate and flight bytes, stay valid.
 */
#ifndef FZ_PKI_H
#define FZ_PKI_H

#include <stddef.h>
#include <stdint.h>
#include "sc_testcert.h"
#include "fz_check.h"

/* A key and its certificate, with the encodings the configs and seeds need. */
typedef struct fz_cert {
    sc_testcert *tc;
    char *cert_pem, *key_pem;
    uint8_t *der;
    size_t der_len;
} fz_cert;

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
void fz_cert_make(fz_cert *c, const fz_cert *issuer, const char *label, uint64_t serial,
                  const fz_cert_opts *o);

/* Validity windows around FZ_NOW_S. */
#define FZ_ROOT_OPTS                                                                               \
    {                                                                                              \
        NULL, NULL, FZ_NOW_S - 365 * 86400, FZ_NOW_S + 4 * 365 * 86400, 0                          \
    }
#define FZ_USER_OPTS(id)                                                                           \
    {                                                                                              \
        (id), NULL, FZ_NOW_S - 180 * 86400, FZ_NOW_S + 365 * 86400, 0                              \
    }

#endif
