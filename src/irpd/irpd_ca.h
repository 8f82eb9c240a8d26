/*
 * irpd_ca.h - the registry's certificate authority (docs/IRP.md 7.5,
 * "enroll", "renew"; docs/PROTOCOL.md 8 for what peers accept).
 *
 * One irpd_ca holds the CA key and certificate, the TLS server key and
 * certificate of the registry host, and the trust anchors client
 * certificates are verified against (the CA itself plus any configured
 * external CAs).
 *
 * Everything above the "files" section is sans-I/O: time comes in as an
 * argument (seconds since the epoch), keys and certificates in and out as
 * memory. Only serial numbers, salts and keys use OpenSSL's RAND (never the
 * clock). The file helpers at the end are the only functions that touch the
 * file system.
 *
 * Errors: every fallible function returns IRPD_CA_OK (0) or an IRP status
 * code (the values below), and fills *err (when err is not NULL) with the
 * same status and a sentence for the user. Nothing here prints or logs.
 *
 * Threads: an irpd_ca may be shared by threads for issuing and reading; the
 * functions that add trust anchors must not run concurrently with anything
 * else on the same object.
 */
#ifndef IRPD_CA_H
#define IRPD_CA_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "sixchat/error.h"
#include "sc_cert.h"

/* Results: 0, or the IRP status code to answer with (docs/IRP.md 5.3). */
enum {
    IRPD_CA_OK = 0,
    IRPD_CA_AUTH = 401,     /* a client certificate was refused (see err.sc for why) */
    IRPD_CA_EXISTS = 409,   /* irpd_ca_save: a file to create already exists */
    IRPD_CA_INVALID = 422,  /* bad CSR, weak or unsupported key, bad user ID / host / address */
    IRPD_CA_INTERNAL = 500, /* OpenSSL, memory, or file failure; a bad argument */
};

#define IRPD_CA_MSG_MAX 200

typedef struct irpd_ca_err {
    int status;                /* as returned */
    int sc;                    /* irpd_ca_verify_*: the sc_err of sc_cert_verify; else 0 */
    char msg[IRPD_CA_MSG_MAX]; /* for the user, without a final period; "" on success */
} irpd_ca_err;

typedef enum irpd_key_type {
    IRPD_KEY_P256 = 0, /* ECDSA P-256, signing with SHA-256 (the default) */
    IRPD_KEY_ED25519 = 1,
} irpd_key_type;

#define IRPD_CA_CN_PREFIX "sixchat registry CA "
#define IRPD_CA_DEFAULT_CA_LIFETIME (INT64_C(3650) * 86400)    /* 10 years */
#define IRPD_CA_DEFAULT_SERVER_LIFETIME (INT64_C(730) * 86400) /* 2 years */
#define IRPD_CA_DEFAULT_USER_LIFETIME (INT64_C(365) * 86400)   /* docs/IRP.md 7.5 */
#define IRPD_CA_BACKDATE 300  /* notBefore = now - 5 min: clients whose clocks lag */
#define IRPD_CA_CSR_MAX 16384 /* bytes of a DER CSR: an IRP frame holds no more */
#define IRPD_CA_RSA_MIN_BITS 2048
#define IRPD_CA_RSA_MAX_BITS 8192  /* docs/IRP.md 6.5 step 3 */
#define IRPD_CA_RSA_EXPONENT 65537 /* docs/IRP.md 6.5 step 3: the only exponent accepted */
#define IRPD_CA_MAX_IPS 16
#define IRPD_CA_MAX_DOMAINS 16  /* served domains in the CA's name constraints */
#define IRPD_CA_DOMAINS_MAX 255 /* a domain list as text: "a.org b.org" */
#define IRPD_CA_EXT_MAX 8       /* external CAs (trusted_ca lines) */

/*
 * Serial numbers as text: lowercase hex of the serial's value without
 * leading zeros (docs/IRP.md 4.2). Serials irpd issues are 128 random bits
 * with a first byte of at least 0x10, so always 32 hex digits;
 * other CAs' serials are at most 20 octets (RFC 5280), 40 digits.
 */
#define IRPD_SERIAL_HEX_MAX 40

typedef struct irpd_ca irpd_ca;

typedef struct irpd_ca_opts {
    irpd_key_type key_type; /* for the CA and the server key */
    const char *name; /* CA subject "sixchat registry CA <name>" (cut to 64 bytes); NULL: "" */
    int64_t lifetime; /* seconds the CA certificate is valid; 0: 10 years */
    /*
     * The served domains (DNS names, at most IRPD_CA_MAX_DOMAINS): the CA
     * certificate carries a critical nameConstraints extension whose
     * permitted subtrees are one rfc822Name per domain, in the host form
     * ("example.org", never ".example.org": docs/IRP.md 7.5). n_domains 0:
     * no constraints (tests only; `irpd init` always gives domains).
     */
    const char *const *domains;
    size_t n_domains;
} irpd_ca_opts;

/*
 * Creates a new CA: a fresh key, a self-signed certificate valid from
 * now - IRPD_CA_BACKDATE for opts->lifetime, with critical basicConstraints
 * CA:TRUE pathlen:0, critical keyUsage keyCertSign+cRLSign, subject and
 * authority key identifiers, a random serial and, with opts->domains, the
 * name constraints described there. No server certificate yet
 * (irpd_ca_make_server). opts NULL: the defaults. *out receives the CA (free
 * with irpd_ca_free); irpd_ca_set_domains is left to the caller. Errors:
 * IRPD_CA_INVALID (name not printable ASCII, a domain not a DNS name, too
 * many domains), IRPD_CA_INTERNAL.
 */
SC_MUST_CHECK int irpd_ca_create(const irpd_ca_opts *opts, int64_t now, irpd_ca **out,
                                 irpd_ca_err *err);

/*
 * Makes (or replaces) the TLS server key and certificate of the registry
 * host, signed by the CA: subjectAltName dNSName host (iPAddress when host
 * is itself an IP literal) plus an iPAddress for each of ips[0..n_ips)
 * (IPv4 or IPv6 literals), EKU serverAuth, keyUsage digitalSignature,
 * basicConstraints CA:FALSE, key identifiers. Subject CN=host when it fits
 * in 64 bytes (else an empty subject and a critical subjectAltName). Valid
 * from now - IRPD_CA_BACKDATE for lifetime seconds (0: 2 years), never past
 * the CA's own notAfter. The key type is the CA's. Errors: IRPD_CA_INVALID
 * (host not a DNS name or IP literal, an address not an IP literal, more
 * than IRPD_CA_MAX_IPS), IRPD_CA_INTERNAL.
 */
SC_MUST_CHECK int irpd_ca_make_server(irpd_ca *ca, const char *host, const char *const *ips,
                                      size_t n_ips, int64_t now, int64_t lifetime,
                                      irpd_ca_err *err);

/*
 * Builds an irpd_ca from PEM text (as the file helpers read it): the CA
 * certificate and its private key (required), the server certificate and
 * key (both NULL, or both given). Checks that each key matches its
 * certificate, that the CA certificate is a CA, and that the server
 * certificate was issued by it. PEM buffers are read, not kept; the caller
 * wipes the key texts. Errors: IRPD_CA_INVALID (unreadable PEM, mismatch),
 * IRPD_CA_INTERNAL.
 */
SC_MUST_CHECK int irpd_ca_from_pem(const char *ca_cert_pem, size_t ca_cert_len,
                                   const char *ca_key_pem, size_t ca_key_len,
                                   const char *server_cert_pem, size_t server_cert_len,
                                   const char *server_key_pem, size_t server_key_len, irpd_ca **out,
                                   irpd_ca_err *err);

void irpd_ca_free(irpd_ca *ca);

/* Borrowed pointers, valid until irpd_ca_free (or, for the server's, irpd_ca_make_server). */
X509 *irpd_ca_cert(const irpd_ca *ca);
EVP_PKEY *irpd_ca_key(const irpd_ca *ca);
X509 *irpd_ca_server_cert(const irpd_ca *ca); /* NULL before irpd_ca_make_server */
EVP_PKEY *irpd_ca_server_key(const irpd_ca *ca);
/* The trust anchors (the CA and external CAs), e.g. for SSL_CTX_set1_cert_store. */
X509_STORE *irpd_ca_trust_store(const irpd_ca *ca);

/*
 * SHA-256 of the CA certificate's DER: the fingerprint `irpd init` prints
 * and clients pin. Returns IRPD_CA_OK or IRPD_CA_INTERNAL.
 */
SC_MUST_CHECK int irpd_ca_fingerprint(const irpd_ca *ca, uint8_t out[32]);
/* The same as 64 lowercase hex digits and a NUL. */
SC_MUST_CHECK int irpd_ca_fingerprint_hex(const irpd_ca *ca, char out[65]);

/*
 * The serial of x as lowercase hex (see IRPD_SERIAL_HEX_MAX) into out
 * (cap > IRPD_SERIAL_HEX_MAX). Returns IRPD_CA_OK, or IRPD_CA_INVALID for a
 * zero, negative or over-long serial.
 */
SC_MUST_CHECK int irpd_ca_serial_hex(const X509 *x, char *out, size_t cap);

/* ---- issuing user certificates ------------------------------------------ */

/* A certificate irpd issued. Owned by the struct: release with irpd_issued_clear. */
typedef struct irpd_issued {
    uint8_t *der; /* the certificate (OPENSSL_malloc'd) */
    size_t der_len;
    char serial_hex[IRPD_SERIAL_HEX_MAX + 1];
    uint8_t fingerprint[32]; /* SHA-256 of der */
    int64_t not_before, not_after;
} irpd_issued;

/*
 * CSRs (docs/IRP.md 6.5 steps 2 and 3), checked in three steps so that the
 * expensive part can run off the registry's event loop:
 *
 * irpd_ca_csr_parse (cheap, loop thread): the CSR must be one DER structure
 * of at most IRPD_CA_CSR_MAX bytes; its key Ed25519, EC P-256 or P-384 as a
 * named curve (explicit parameters are refused, RFC 5480 2.1.1), or RSA of
 * IRPD_CA_RSA_MIN_BITS to IRPD_CA_RSA_MAX_BITS with exponent
 * IRPD_CA_RSA_EXPONENT (the size is read from the encoding before anything
 * is computed); and its self-signature must verify with that key (proof of
 * possession; for RSA a public operation with a small exponent).
 *
 * irpd_ca_csr_key_check (RSA: a primality test on the modulus, up to a
 * second for large keys; any thread, it touches only the CSR): the key
 * itself is sane (an odd composite modulus, a point on the curve).
 * irpd_ca_csr_slow says whether it is worth moving off the loop.
 *
 * irpd_ca_issue_csr (loop thread): issues the certificate.
 *
 * Errors: IRPD_CA_INVALID with a message naming the reason ("key too
 * weak", "too large", "exponent"), IRPD_CA_INTERNAL.
 */
typedef struct irpd_csr irpd_csr;

SC_MUST_CHECK int irpd_ca_csr_parse(const uint8_t *csr_der, size_t csr_len, irpd_csr **out,
                                    irpd_ca_err *err);
/* 1 when irpd_ca_csr_key_check is expensive (an RSA key), else 0. */
int irpd_ca_csr_slow(const irpd_csr *c);
SC_MUST_CHECK int irpd_ca_csr_key_check(irpd_csr *c, irpd_ca_err *err);
void irpd_ca_csr_free(irpd_csr *c);

/*
 * Issues a user certificate for user_id with the key of a CSR that passed
 * irpd_ca_csr_parse and irpd_ca_csr_key_check (else IRPD_CA_INTERNAL).
 *
 * Everything else the CSR asks for (subject, extensions, attributes)
 * is ignored; the certificate says:
 *   subject CN=user_id (empty, with a critical subjectAltName, when user_id
 *   is over 64 bytes), subjectAltName rfc822Name=user_id, EKU clientAuth,
 *   critical keyUsage digitalSignature (+ keyEncipherment for RSA keys: key
 *   transport, PROTOCOL.md), critical basicConstraints CA:FALSE, key
 *   identifiers, a random 128-bit positive serial, validity
 *   now - IRPD_CA_BACKDATE .. now + lifetime (0: 365 days; never past the CA's
 *   notAfter), signed with SHA-256 (pure Ed25519 for an Ed25519 CA).
 * Serials are random: the caller's store (serial PRIMARY KEY) is what
 * guarantees uniqueness; a collision (2^-64 after 2^32 certificates) is a
 * failed insert, and the caller may simply issue again.
 *
 * user_id must pass sc_cert_valid_user_id and be in a served domain
 * (irpd_ca_set_domains). *out is filled on success and
 * left clear on error. Errors: IRPD_CA_INVALID (invalid user ID or one
 * outside the served domains),
 * IRPD_CA_INTERNAL.
 */
SC_MUST_CHECK int irpd_ca_issue_csr(const irpd_ca *ca, const irpd_csr *csr, const char *user_id,
                                    int64_t now, int64_t lifetime, irpd_issued *out,
                                    irpd_ca_err *err);

/* The three steps at once (tests, tools): parse, key check, issue. */
SC_MUST_CHECK int irpd_ca_issue_user(const irpd_ca *ca, const uint8_t *csr_der, size_t csr_len,
                                     const char *user_id, int64_t now, int64_t lifetime,
                                     irpd_issued *out, irpd_ca_err *err);

void irpd_issued_clear(irpd_issued *c);

/* ---- verifying client certificates -------------------------------------- */

/*
 * The domains the registry's own CA vouches for (the served domains:
 * "a.org b.org", lowercase, single spaces; NULL: any, the default). A
 * client certificate of the own CA for a user of another domain is refused
 * even when its CA certificate carries no name constraints (a registry
 * created before they existed). Errors: IRPD_CA_INVALID (too long; a
 * domain the CA certificate's name constraints do not permit),
 * IRPD_CA_INTERNAL.
 */
SC_MUST_CHECK int irpd_ca_set_domains(irpd_ca *ca, const char *domains, irpd_ca_err *err);

/*
 * Adds every certificate of a PEM buffer as the trust anchors of one
 * external CA, which may vouch for the users of `domains` only ("a.org
 * b.org", as irpd_ca_set_domains, at least one; docs/IRP.md 7.6). Errors:
 * IRPD_CA_INVALID (no certificate, unreadable PEM, no domain, too many
 * external CAs), IRPD_CA_INTERNAL.
 */
SC_MUST_CHECK int irpd_ca_add_trusted_pem(irpd_ca *ca, const char *pem, size_t len,
                                          const char *domains, irpd_ca_err *err);

/* Who a verified client certificate names. */
typedef struct irpd_client {
    char user_id[SC_USER_ID_MAX + 1];
    uint8_t fingerprint[32]; /* SHA-256 of the leaf DER */
    char serial_hex[IRPD_SERIAL_HEX_MAX + 1];
    int issued_here; /* 1 if the leaf is signed by this registry's CA, 0 if by an external CA */
} irpd_client;

/*
 * Verifies a client chain (leaf first, then intermediates, as DER) at time
 * now against the trust anchors that may vouch for the user's domain (the
 * own CA for the served domains, each external CA for its own domains),
 * with the same rules peers apply (sc_cert_verify, PROTOCOL.md 8.2: path
 * validation, name constraints, EKU clientAuth, key type, rfc822Name user
 * ID). Revocation is not known here: the caller checks serial and
 * fingerprint against its store. On success *out says who it is.
 * Errors: IRPD_CA_AUTH with err->sc the sc_err (SC_ERR_UNKNOWN_CA,
 * SC_ERR_CERTIFICATE_EXPIRED, SC_ERR_BAD_CERTIFICATE, SC_ERR_DOMAIN_MISMATCH
 * when no trusted CA may vouch for the domain, ...), IRPD_CA_INTERNAL.
 */
SC_MUST_CHECK int irpd_ca_verify_client_der(irpd_ca *ca, const uint8_t *const *der,
                                            const size_t *len, size_t n, int64_t now,
                                            irpd_client *out, irpd_ca_err *err);

/* The same for certificates already decoded (what libssl hands over); chain may be NULL. */
SC_MUST_CHECK int irpd_ca_verify_client(irpd_ca *ca, X509 *leaf, STACK_OF(X509) * chain,
                                        int64_t now, irpd_client *out, irpd_ca_err *err);

/* ---- files: the only I/O of this module ---------------------------------- */

#define IRPD_CA_CERT_FILE "ca.pem"
#define IRPD_CA_KEY_FILE "ca.key"
#define IRPD_SERVER_CERT_FILE "server.pem"
#define IRPD_SERVER_KEY_FILE "server.key"

/*
 * Writes the CA and server certificates and keys into the existing
 * directory dir under the names above: keys as unencrypted PKCS#8 PEM with
 * mode 0600, certificates as PEM with mode 0644. Every file is created with
 * O_CREAT|O_EXCL (so no umask race, no following of a planted symlink, no
 * overwriting) and fsync'd, then the directory. On any failure the files
 * this call created are removed. Errors: IRPD_CA_EXISTS (one of the files
 * already exists: nothing written), IRPD_CA_INTERNAL (no server
 * certificate yet, I/O).
 */
SC_MUST_CHECK int irpd_ca_save(const irpd_ca *ca, const char *dir, irpd_ca_err *err);

/*
 * Loads what irpd_ca_save wrote (via irpd_ca_from_pem). A key file that
 * group or others may read is refused, as ssh does. Errors:
 * IRPD_CA_INVALID (bad contents), IRPD_CA_INTERNAL (missing file, I/O,
 * unsafe mode).
 */
SC_MUST_CHECK int irpd_ca_load(const char *dir, irpd_ca **out, irpd_ca_err *err);

/* Reads a PEM file of external CA certificates and adds them (irpd_ca_add_trusted_pem). */
SC_MUST_CHECK int irpd_ca_add_trusted_file(irpd_ca *ca, const char *path, const char *domains,
                                           irpd_ca_err *err);

#endif
