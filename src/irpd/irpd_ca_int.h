/*
 * irpd_ca_int.h - the inside of irpd_ca, shared by irpd_ca.c (creating and
 * issuing), irpd_ca_csr.c (checking CSRs), irpd_ca_verify.c (client
 * certificates) and irpd_ca_files.c.
 */
#ifndef IRPD_CA_INT_H
#define IRPD_CA_INT_H

#include <stdint.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include "sc_cert.h"
#include "irpd_ca.h"

#define CN_MAX 64              /* ub-common-name, RFC 5280 */
#define FILE_MAX (1024 * 1024) /* a PEM file we read: a CA bundle fits */

/* An external CA and the domains it may vouch for (docs/IRP.md 7.6). */
typedef struct irpd_ca_ext {
    sc_policy pol;                         /* its anchors only */
    char domains[IRPD_CA_DOMAINS_MAX + 1]; /* lowercase, separated by single spaces */
} irpd_ca_ext;

struct irpd_ca {
    EVP_PKEY *key;
    X509 *cert;
    EVP_PKEY *server_key;
    X509 *server_cert;
    int64_t not_after; /* of the CA certificate: nothing it signs outlives it */
    sc_policy trust;   /* the registry's own CA, for client certificates */
    char *served;      /* the served domains (irpd_ca_set_domains); NULL: any */
    irpd_ca_ext ext[IRPD_CA_EXT_MAX];
    size_t n_ext;
};

/* A decoded CSR (irpd_ca_csr.c); irpd_ca_issue_csr reads its key. */
struct irpd_csr {
    X509_REQ *req;
    EVP_PKEY *key;   /* owned by req */
    int slow;        /* the key check is expensive (RSA: a primality test) */
    int key_checked; /* irpd_ca_csr_key_check passed */
};

/* Fills err (if not NULL) with status and the formatted message; returns status. */
int irpd__ca_fail(irpd_ca_err *err, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Clears err; returns IRPD_CA_OK. */
int irpd__ca_ok(irpd_ca_err *err);

#endif
