/*
 * sc_cert.h - certificate policy (docs/PROTOCOL.md 8): decoding the peer's
 * chain, the cheap identity checks that run before any expensive
 * cryptography, and the full verification with OpenSSL's verifier against
 * the configured trust anchors at the caller's time.
 *
 * This module parses nothing itself: DER goes to d2i_X509, paths to
 * X509_verify_cert. It holds no session state.
 */
#ifndef SC_CERT_H
#define SC_CERT_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/x509.h>
#include "sc_certcache.h"
#include "sc_spki.h"

#define SC_CERT_MAX_CHAIN 4  /* leaf + up to 3 intermediates */
#define SC_CERT_MAX_DER 8192 /* bytes per certificate */
#define SC_USER_ID_MAX 254   /* bytes of a user ID (an rfc822Name) */

/*
 * A trust anchor and the domains whose users it may certify (PROTOCOL.md
 * 8.2 step 7): "example.org" covers user IDs @example.org exactly,
 * ".example.org" any subdomain of it, as in X.509 name constraints.
 */
typedef struct sc_anchor {
    uint8_t fp[32]; /* SHA-256 of the anchor certificate's DER */
    char **domains;
    size_t n_domains;
    int any_domain; /* added unbound (sc_policy_add_anchor_unbound) */
} sc_anchor;

/* The peer policy and trust anchors; owned by sc_config. */
typedef struct sc_policy {
    X509_STORE *store; /* trust anchors */
    sc_anchor *anchors;
    size_t n_anchors;
    char **allow_ids;
    size_t n_allow_ids;
    char **block_ids;
    size_t n_block_ids;
    uint8_t (*allow_issuers)[32];
    size_t n_allow_issuers;
    sc_issuer_id *block_issuers;
    size_t n_block_issuers;
    sc_certcache *cache; /* decoded certificates seen before; may be NULL */
    sc_spki_ctx spki;    /* curve parameters for reading peer leaf keys */
} sc_policy;

/* Returns 0 or SC_ERR_NOMEM. */
int sc_policy_init(sc_policy *p);
void sc_policy_free(sc_policy *p);
/*
 * Adds every certificate of a PEM buffer as an anchor that may certify
 * users of the n domains given (n >= 1; each a domain name, optionally with
 * a leading '.' for its subdomains): 0, SC_ERR_ARG (no or a malformed
 * domain), SC_ERR_PARSE, SC_ERR_NOMEM. Adding the same anchor again adds
 * the domains to its list. domains NULL and n 0: unbound anchors, as
 * sc_policy_add_anchor_unbound (registry only).
 */
int sc_policy_add_anchors_pem(sc_policy *p, const char *pem, size_t len, const char *const *domains,
                              size_t n);
/*
 * Adds x as an anchor for users of any domain: only for a verifier that
 * applies its own domain rule (the registry, for its own clients); a peer
 * configuration always binds its anchors (sixchat/config.h). 0 or SC_ERR_NOMEM.
 */
int sc_policy_add_anchor_unbound(sc_policy *p, X509 *x);
/* 1 if s is an acceptable anchor domain (see sc_policy_add_anchors_pem). */
int sc_cert_valid_domain(const char *s);
/* user_id must be a valid user ID (see sc_cert_valid_user_id): 0, SC_ERR_ARG, SC_ERR_NOMEM. */
int sc_policy_allow_id(sc_policy *p, const char *user_id);
int sc_policy_block_id(sc_policy *p, const char *user_id);
int sc_policy_allow_issuer(sc_policy *p, const uint8_t fp[32]);
/* Blocks every CA certificate of the PEM buffer by subject and by key: 0, SC_ERR_PARSE,
 * SC_ERR_NOMEM. */
int sc_policy_block_issuer_pem(sc_policy *p, const char *pem, size_t len);
/* The subject and key identity of a certificate: 0 or SC_ERR_NOMEM. */
int sc_cert_issuer_id(X509 *x, sc_issuer_id *out);

/* 1 if s is a syntactically acceptable user ID (local@domain, printable ASCII, <= SC_USER_ID_MAX).
 */
int sc_cert_valid_user_id(const char *s);

/*
 * Extracts the user ID: the first subjectAltName rfc822Name of x, copied
 * NUL-terminated into out (cap bytes, cap > SC_USER_ID_MAX). Returns 0, or
 * SC_ERR_BAD_CERTIFICATE when there is none or it is not a valid user ID.
 */
int sc_cert_user_id(X509 *x, char *out, size_t cap);

/*
 * 1 if the leaf may authenticate a sixchat endpoint (PROTOCOL.md 8.2 step 7):
 * extendedKeyUsage present with clientAuth, keyUsage (if present) with
 * digitalSignature. Checked on the peer's leaf and on our own at configuration.
 */
int sc_cert_leaf_usage_ok(X509 *leaf);

/* An ASN.1 time as seconds since the Unix epoch (0 if it cannot be read). */
int64_t sc_cert_time_epoch(const ASN1_TIME *t);

/* A decoded peer chain. */
typedef struct sc_peer_chain {
    X509 *leaf;
    STACK_OF(X509) * untrusted; /* the intermediates as sent, may be empty */
    char user_id[SC_USER_ID_MAX + 1];
    uint8_t fingerprint[32]; /* SHA-256 of the leaf DER */
    uint8_t chain_key[32];   /* SHA-256 over the SHA-256 of each certificate as sent */
} sc_peer_chain;

/*
 * Decodes n DER certificates (leaf first). Errors:
 * SC_ERR_CERTIFICATE_REQUIRED (n == 0), SC_ERR_DECODE_ERROR (n too large,
 * a certificate over SC_CERT_MAX_DER), SC_ERR_BAD_CERTIFICATE (not DER X.509,
 * trailing bytes, no user ID), SC_ERR_NOMEM. On error *out is left clear.
 */
int sc_cert_decode_chain(const uint8_t *const *der, const size_t *len, size_t n,
                         sc_peer_chain *out);
/* The same, decoding through the policy's certificate cache (sc_certcache.h). */
int sc_cert_decode_chain_cached(const sc_policy *p, const uint8_t *const *der, const size_t *len,
                                size_t n, sc_peer_chain *out);
void sc_peer_chain_clear(sc_peer_chain *c);

/*
 * The identity checks, run after the peer's signature verified and before
 * path validation (PROTOCOL.md 8.2): blocked identity (SC_ERR_ACCESS_DENIED), expected
 * identity (SC_ERR_IDENTITY_MISMATCH when expected_id is not NULL and differs,
 * case-insensitively).
 */
int sc_cert_check_identity(const sc_policy *p, const sc_peer_chain *c, const char *expected_id);

/*
 * Full verification at time now (seconds since the epoch): path to an anchor
 * with X509_verify_cert (name constraints of every CA included), validity of
 * every certificate, the leaf's extendedKeyUsage present and including
 * clientAuth, keyUsage (if present) allowing digitalSignature, key type and
 * size acceptable (Ed25519, EC P-256/P-384, RSA >= 2048), the user ID's
 * domain covered by the anchor the path ends at, then the issuer block list
 * and the allow lists.
 * Errors: SC_ERR_DOMAIN_MISMATCH (domain not covered by the anchor, or a name
 * constraint of a CA violated), SC_ERR_UNKNOWN_CA, SC_ERR_CERTIFICATE_EXPIRED,
 * SC_ERR_CERTIFICATE_NOT_YET_VALID, SC_ERR_UNSUPPORTED_CERTIFICATE (EKU, key
 * usage, key type or size), SC_ERR_CERTIFICATE_REVOKED, SC_ERR_ISSUER_BLOCKED,
 * SC_ERR_ACCESS_DENIED (allow lists not matched), SC_ERR_BAD_CERTIFICATE
 * (anything else the verifier rejects), SC_ERR_NOMEM.
 */
int sc_cert_verify(const sc_policy *p, const sc_peer_chain *c, int64_t now);

/*
 * The leaf's usages for key transport (PROTOCOL.md 7.8): an RSA key and
 * keyUsage present with keyEncipherment. 1 if acceptable.
 */
int sc_cert_kt_usage_ok(X509 *leaf);

#endif
