/*
 * sc_cert.c - certificate policy (docs/PROTOCOL.md 8). The interface and
 * every error are documented in sc_cert.h.
 *
 * Nothing here parses X.509 by hand: DER goes to d2i_X509, names to
 * GENERAL_NAMES, paths to X509_verify_cert. What this file adds is the
 * protocol's policy (user IDs, EKU, key types, allow and block lists) and the
 * mapping of OpenSSL's verifier errors to our alerts. Time comes from the
 * caller, never from the clock (sans-I/O).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "sc_alloc.h"
#include "sixchat/error.h"
#include "sc_cert.h"
#include "sc_crypto.h"

/*
 * OpenSSL security level 2 (112-bit keys, no SHA-1 signatures) applied to
 * every certificate in the path, so a weak CA key or digest is refused too,
 * not only a weak leaf key.
 */
#define SC_CERT_AUTH_LEVEL 2

/* ASCII only: a locale must never change who matches a block list. */
static int ascii_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static int id_equal(const char *a, const char *b)
{
    for (; *a != '\0' && *b != '\0'; a++, b++) {
        if (ascii_lower((unsigned char)*a) != ascii_lower((unsigned char)*b)) return 0;
    }
    return *a == *b;
}

static int id_listed(char *const *list, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++) {
        if (id_equal(list[i], id)) return 1;
    }
    return 0;
}

/* Fingerprints are public values, so a plain memcmp is fine here. */
static int fp_listed(const uint8_t (*list)[32], size_t n, const uint8_t fp[32])
{
    for (size_t i = 0; i < n; i++) {
        if (memcmp(list[i], fp, 32) == 0) return 1;
    }
    return 0;
}

/* ---- policy ------------------------------------------------------------ */

int sc_policy_init(sc_policy *p)
{
    memset(p, 0, sizeof *p);
    p->store = X509_STORE_new();
    p->cache = sc_certcache_new();
    if (p->store == NULL || p->cache == NULL) return SC_ERR_NOMEM;
    return sc_spki_ctx_init(&p->spki);
}

static void free_ids(char **ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sc__free(ids[i]);
    sc__free(ids);
}

/* Safe on a zeroed or already freed policy (sc_config frees after a failed init). */
void sc_policy_free(sc_policy *p)
{
    if (p == NULL) return;
    X509_STORE_free(p->store);
    sc_certcache_free(p->cache);
    sc_spki_ctx_free(&p->spki);
    for (size_t i = 0; i < p->n_anchors; i++)
        free_ids(p->anchors[i].domains, p->anchors[i].n_domains);
    sc__free(p->anchors);
    free_ids(p->allow_ids, p->n_allow_ids);
    free_ids(p->block_ids, p->n_block_ids);
    sc__free(p->allow_issuers);
    sc__free(p->block_issuers);
    memset(p, 0, sizeof *p);
}

/* A domain name as user IDs carry it after the '@', optionally led by '.' for subdomains. */
int sc_cert_valid_domain(const char *s)
{
    size_t n;
    if (s == NULL) return 0;
    n = strnlen(s, SC_USER_ID_MAX + 1);
    if (n == 0 || n > SC_USER_ID_MAX - 2 || (s[0] == '.' && n == 1)) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f || s[i] == '@') return 0;
    return 1;
}

static int add_id(char ***list, size_t *n, const char *user_id);

/* The anchor entry for fp, created with no domains if it is new; NULL when out of memory. */
static sc_anchor *anchor_entry(sc_policy *p, const uint8_t fp[32])
{
    sc_anchor *grown;
    for (size_t i = 0; i < p->n_anchors; i++)
        if (memcmp(p->anchors[i].fp, fp, 32) == 0) return &p->anchors[i];
    grown = sc__realloc(p->anchors, (p->n_anchors + 1) * sizeof *grown);
    if (grown == NULL) return NULL;
    p->anchors = grown;
    memset(&grown[p->n_anchors], 0, sizeof *grown);
    memcpy(grown[p->n_anchors].fp, fp, 32);
    return &grown[p->n_anchors++];
}

int sc_policy_add_anchor_unbound(sc_policy *p, X509 *x)
{
    uint8_t fp[32];
    unsigned int fp_len;
    sc_anchor *a;
    if (!X509_digest(x, EVP_sha256(), fp, &fp_len) || fp_len != 32 ||
        (a = anchor_entry(p, fp)) == NULL)
        return SC_ERR_NOMEM;
    a->any_domain = 1;
    return X509_STORE_add_cert(p->store, x) ? SC_OK : SC_ERR_NOMEM;
}

/*
 * All certificates are read before any is added, so a PEM buffer that fails
 * half-way leaves the trust anchors as they were (an allocation failure
 * while recording domains may leave an anchor with fewer domains, never
 * with more).
 */
static int fully_decoded(X509 *x);

int sc_policy_add_anchors_pem(sc_policy *p, const char *pem, size_t len, const char *const *domains,
                              size_t n_domains)
{
    int ret = SC_ERR_PARSE;
    BIO *bio = NULL;
    STACK_OF(X509) *certs = NULL;
    X509 *x = NULL;
    unsigned long e;

    if ((domains == NULL) != (n_domains == 0)) return SC_ERR_ARG;
    for (size_t i = 0; i < n_domains; i++)
        if (!sc_cert_valid_domain(domains[i])) return SC_ERR_ARG;
    if (p == NULL || p->store == NULL || pem == NULL || len == 0 || len > INT_MAX) return ret;
    ERR_set_mark();
    bio = BIO_new_mem_buf(pem, (int)len);
    certs = sk_X509_new_null();
    if (bio == NULL || certs == NULL) {
        ret = SC_ERR_NOMEM;
        goto out;
    }
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        /*
         * OpenSSL parses an anchor's extensions at its first use and keeps
         * the verdict: parsed during a handshake that runs out of memory,
         * the anchor would stay "invalid" for the life of the configuration
         * (found by tests/test_oom.c). Parse them now, where a failure is
         * reported.
         */
        if (!fully_decoded(x)) {
            X509_free(x);
            goto out; /* SC_ERR_PARSE */
        }
        if (!sk_X509_push(certs, x)) {
            X509_free(x);
            ret = SC_ERR_NOMEM;
            goto out;
        }
    }
    /* Running out of PEM blocks ends the loop; any other failure is bad input. */
    e = ERR_peek_last_error();
    if (ERR_GET_LIB(e) != ERR_LIB_PEM || ERR_GET_REASON(e) != PEM_R_NO_START_LINE) goto out;
    if (sk_X509_num(certs) == 0) goto out;
    for (int i = 0; i < sk_X509_num(certs) && n_domains == 0; i++)
        if ((ret = sc_policy_add_anchor_unbound(p, sk_X509_value(certs, i))) != SC_OK) goto out;
    for (int i = 0; i < sk_X509_num(certs) && n_domains > 0; i++) {
        uint8_t fp[32];
        unsigned int fp_len;
        sc_anchor *a;
        ret = SC_ERR_NOMEM;
        if (!X509_digest(sk_X509_value(certs, i), EVP_sha256(), fp, &fp_len) || fp_len != 32 ||
            (a = anchor_entry(p, fp)) == NULL)
            goto out;
        /* Domains first: an anchor in the store always has its list. */
        for (size_t d = 0; d < n_domains; d++)
            if ((ret = add_id(&a->domains, &a->n_domains, domains[d])) != SC_OK) goto out;
        ret = SC_ERR_NOMEM;
        if (!X509_STORE_add_cert(p->store, sk_X509_value(certs, i))) goto out;
    }
    ret = SC_OK;
out:
    ERR_pop_to_mark();
    sk_X509_pop_free(certs, X509_free);
    BIO_free(bio);
    return ret;
}

/* Adds a copy of a user ID or a domain (the caller validated domains). */
static int add_id(char ***list, size_t *n, const char *user_id)
{
    if (!sc_cert_valid_user_id(user_id) && !sc_cert_valid_domain(user_id)) return SC_ERR_ARG;
    if (id_listed(*list, *n, user_id)) return SC_OK;
    char *copy = sc__strdup(user_id);
    char **grown = sc__realloc(*list, (*n + 1) * sizeof **list);
    if (copy == NULL || grown == NULL) {
        sc__free(copy);
        /* A failed realloc leaves the old block valid; a successful one replaced it. */
        if (grown != NULL) *list = grown;
        return SC_ERR_NOMEM;
    }
    grown[*n] = copy;
    *list = grown;
    (*n)++;
    return SC_OK;
}

static int add_fp(uint8_t (**list)[32], size_t *n, const uint8_t fp[32])
{
    if (fp == NULL) return SC_ERR_ARG;
    if (fp_listed(*list, *n, fp)) return SC_OK;
    uint8_t(*grown)[32] = sc__realloc(*list, (*n + 1) * sizeof **list);
    if (grown == NULL) return SC_ERR_NOMEM;
    memcpy(grown[*n], fp, 32);
    *list = grown;
    (*n)++;
    return SC_OK;
}

int sc_policy_allow_id(sc_policy *p, const char *user_id)
{
    if (!sc_cert_valid_user_id(user_id)) return SC_ERR_ARG;
    return add_id(&p->allow_ids, &p->n_allow_ids, user_id);
}

int sc_policy_block_id(sc_policy *p, const char *user_id)
{
    if (!sc_cert_valid_user_id(user_id)) return SC_ERR_ARG;
    return add_id(&p->block_ids, &p->n_block_ids, user_id);
}

int sc_policy_allow_issuer(sc_policy *p, const uint8_t fp[32])
{
    return add_fp(&p->allow_issuers, &p->n_allow_issuers, fp);
}

int sc_cert_issuer_id(X509 *x, sc_issuer_id *out)
{
    const unsigned char *der;
    size_t der_len;
    unsigned char *spki = NULL;
    int spki_len;

    if (!X509_NAME_get0_der(X509_get_subject_name(x), &der, &der_len)) return SC_ERR_NOMEM;
    SHA256(der, der_len, out->subject);
    spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
    if (spki_len <= 0) return SC_ERR_NOMEM;
    SHA256(spki, (size_t)spki_len, out->key);
    OPENSSL_free(spki);
    return SC_OK;
}

/*
 * A block entry per certificate, by subject and key: the same CA signed
 * again (a new certificate for the same key and name) is still blocked.
 */
int sc_policy_block_issuer_pem(sc_policy *p, const char *pem, size_t len)
{
    int ret = SC_ERR_PARSE, n = 0;
    BIO *bio;
    X509 *x;

    if (p == NULL || pem == NULL || len == 0 || len > INT_MAX) return SC_ERR_ARG;
    ERR_set_mark();
    if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
        ERR_pop_to_mark();
        return SC_ERR_NOMEM;
    }
    ret = SC_OK;
    while (ret == SC_OK && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        sc_issuer_id id, *grown;
        n++;
        ret = sc_cert_issuer_id(x, &id);
        X509_free(x);
        if (ret != SC_OK) break;
        grown = sc__realloc(p->block_issuers, (p->n_block_issuers + 1) * sizeof *grown);
        if (grown == NULL) {
            ret = SC_ERR_NOMEM;
            break;
        }
        grown[p->n_block_issuers++] = id;
        p->block_issuers = grown;
    }
    if (ret == SC_OK && n == 0) ret = SC_ERR_PARSE;
    BIO_free(bio);
    ERR_pop_to_mark();
    return ret;
}

/* ---- user IDs ---------------------------------------------------------- */

/* Validates the n bytes at s: local@domain, printable ASCII without spaces. */
static int valid_user_id_bytes(const unsigned char *s, size_t n)
{
    size_t at = 0, n_at = 0;

    if (n == 0 || n > SC_USER_ID_MAX) return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] <= 0x20 || s[i] >= 0x7f) return 0; /* also refuses an embedded NUL */
        if (s[i] == '@') {
            at = i;
            n_at++;
        }
    }
    return n_at == 1 && at > 0 && at < n - 1;
}

int sc_cert_valid_user_id(const char *s)
{
    if (s == NULL) return 0;
    size_t n = strnlen(s, SC_USER_ID_MAX + 1);
    return valid_user_id_bytes((const unsigned char *)s, n);
}

int sc_cert_user_id(X509 *x, char *out, size_t cap)
{
    int ret = SC_ERR_BAD_CERTIFICATE;
    GENERAL_NAMES *names = NULL;

    if (x == NULL || out == NULL || cap <= SC_USER_ID_MAX) return SC_ERR_ARG;
    out[0] = '\0';
    /* NULL also when the extension is absent, malformed or present twice, or memory ran out. */
    unsigned long before = ERR_peek_error();
    ERR_set_mark();
    names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    if (names == NULL && sc_ossl_nomem(before)) ret = SC_ERR_NOMEM;
    ERR_pop_to_mark();
    if (names == NULL) return ret;
    for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
        if (gn->type != GEN_EMAIL) continue;
        /* The first rfc822Name is the user ID; an invalid one is not skipped. */
        const ASN1_IA5STRING *s = gn->d.rfc822Name;
        size_t n = (size_t)ASN1_STRING_length(s);
        if (valid_user_id_bytes(ASN1_STRING_get0_data(s), n)) {
            memcpy(out, ASN1_STRING_get0_data(s), n);
            out[n] = '\0';
            ret = SC_OK;
        }
        break;
    }
    GENERAL_NAMES_free(names);
    return ret;
}

/* ---- decoding ---------------------------------------------------------- */

/*
 * Whether OpenSSL decoded every part of x we rely on: the public key (with a
 * size), and the extensions, which OpenSSL parses and caches in the X509 on
 * first use. Both swallow allocation failures: a key that failed to decode
 * leaves the certificate keyless for good, extensions that failed to parse
 * mark it invalid for good, and the reason is dropped.
 */
static int fully_decoded(X509 *x)
{
    EVP_PKEY *pk = X509_get0_pubkey(x);
    return pk != NULL && EVP_PKEY_get_bits(pk) > 0 && X509_check_purpose(x, -1, 0) == 1 &&
           (X509_get_extension_flags(x) & EXFLAG_INVALID) == 0;
}

/*
 * One DER certificate, refusing trailing bytes (a second encoding of the
 * same cert). hash is the SHA-256 of der, the key of the cache.
 */
static int decode_one(sc_certcache *cache, const uint8_t *der, size_t len, const uint8_t hash[32],
                      X509 **out)
{
    const unsigned char *p = der;
    X509 *x = sc_certcache_get(cache, hash);

    if (x != NULL) {
        *out = x;
        return SC_OK;
    }
    unsigned long before = ERR_peek_error();
    x = d2i_X509(NULL, &p, (long)len);
    if (x == NULL) return sc_ossl_nomem(before) ? SC_ERR_NOMEM : SC_ERR_BAD_CERTIFICATE;
    if ((size_t)(p - der) != len) {
        X509_free(x);
        return SC_ERR_BAD_CERTIFICATE;
    }
    /*
     * A certificate OpenSSL could not decode fully is decoded once more: if
     * that copy is whole, the first attempt ran out of memory (SC_ERR_NOMEM);
     * if not, the certificate itself is at fault and the checks refuse it.
     * Either way it is not cached. Found by tests/test_oom.c: a certificate
     * spoilt by one failed allocation was cached, and its user refused (as
     * unsupported or from an unknown CA) on every handshake until evicted.
     */
    if (!fully_decoded(x)) {
        const unsigned char *q = der;
        X509 *again = d2i_X509(NULL, &q, (long)len);
        int spurious = again == NULL || fully_decoded(again);
        X509_free(again);
        if (spurious) {
            X509_free(x);
            return SC_ERR_NOMEM;
        }
        *out = x;
        return SC_OK;
    }
    sc_certcache_put(cache, hash, x);
    *out = x;
    return SC_OK;
}

int sc_cert_decode_chain(const uint8_t *const *der, const size_t *len, size_t n, sc_peer_chain *out)
{
    return sc_cert_decode_chain_cached(NULL, der, len, n, out);
}

int sc_cert_decode_chain_cached(const sc_policy *pol, const uint8_t *const *der, const size_t *len,
                                size_t n, sc_peer_chain *out)
{
    int ret;
    X509 *x = NULL;
    uint8_t hashes[SC_CERT_MAX_CHAIN][32];
    sc_certcache *cache = pol ? pol->cache : NULL;

    memset(out, 0, sizeof *out);
    if (n == 0) return SC_ERR_CERTIFICATE_REQUIRED;
    if (n > SC_CERT_MAX_CHAIN) return SC_ERR_DECODE_ERROR;
    if (der == NULL || len == NULL) return SC_ERR_ARG;
    /* Limits first, before any decoding work (PROTOCOL.md 7.3). */
    for (size_t i = 0; i < n; i++) {
        if (len[i] > SC_CERT_MAX_DER) return SC_ERR_DECODE_ERROR;
        if (der[i] == NULL || len[i] == 0) return SC_ERR_BAD_CERTIFICATE;
    }

    ERR_set_mark();
    /* Hash the bytes we were given: no re-encoding of the decoded leaf. */
    SHA256(der[0], len[0], out->fingerprint);
    ret = decode_one(cache, der[0], len[0], out->fingerprint, &out->leaf);
    if (ret != SC_OK) goto out;
    ret = sc_cert_user_id(out->leaf, out->user_id, sizeof out->user_id);
    if (ret != SC_OK) goto out;

    memcpy(hashes[0], out->fingerprint, 32);
    ret = SC_ERR_NOMEM;
    out->untrusted = sk_X509_new_reserve(NULL, (int)(n - 1));
    if (out->untrusted == NULL) goto out;
    for (size_t i = 1; i < n; i++) {
        SHA256(der[i], len[i], hashes[i]);
        ret = decode_one(cache, der[i], len[i], hashes[i], &x);
        if (ret != SC_OK) goto out;
        sk_X509_push(out->untrusted, x); /* cannot fail: space reserved above */
        x = NULL;
    }
    SHA256(&hashes[0][0], 32 * n, out->chain_key);
    ret = SC_OK;
out:
    ERR_pop_to_mark();
    if (ret != SC_OK) sc_peer_chain_clear(out);
    return ret;
}

void sc_peer_chain_clear(sc_peer_chain *c)
{
    if (c == NULL) return;
    X509_free(c->leaf);
    sk_X509_pop_free(c->untrusted, X509_free);
    memset(c, 0, sizeof *c);
}

/* ---- identity checks --------------------------------------------------- */

int sc_cert_check_identity(const sc_policy *p, const sc_peer_chain *c, const char *expected_id)
{
    if (id_listed(p->block_ids, p->n_block_ids, c->user_id)) return SC_ERR_ACCESS_DENIED;
    if (expected_id != NULL && !id_equal(expected_id, c->user_id)) return SC_ERR_IDENTITY_MISMATCH;
    return SC_OK;
}

/* ---- verification ------------------------------------------------------ */

/* OpenSSL's verifier result to our alert (PROTOCOL.md 8). */
static int map_verify_error(int e)
{
    switch (e) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
        return SC_ERR_CERTIFICATE_EXPIRED;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return SC_ERR_CERTIFICATE_NOT_YET_VALID;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_CERT_UNTRUSTED:
        return SC_ERR_UNKNOWN_CA;
    case X509_V_ERR_INVALID_PURPOSE:
    case X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE:
    case X509_V_ERR_EE_KEY_TOO_SMALL:
    case X509_V_ERR_CA_KEY_TOO_SMALL:
    case X509_V_ERR_CA_MD_TOO_WEAK:
        return SC_ERR_UNSUPPORTED_CERTIFICATE;
    case X509_V_ERR_CERT_REVOKED:
        return SC_ERR_CERTIFICATE_REVOKED;
    case X509_V_ERR_PERMITTED_VIOLATION:
    case X509_V_ERR_EXCLUDED_VIOLATION:
        return SC_ERR_DOMAIN_MISMATCH; /* a CA's name constraints (PROTOCOL.md 8.2 step 6) */
    case X509_V_ERR_OUT_OF_MEM:
        return SC_ERR_NOMEM;
    default:
        return SC_ERR_BAD_CERTIFICATE;
    }
}

/* P-256 or P-384 only: the curves of ecdsa-p256-sha256 and ecdsa-p384-sha384. */
static int ec_curve_ok(const EVP_PKEY *pk)
{
    char group[64];
    int nid;

    if (!EVP_PKEY_get_group_name(pk, group, sizeof group, NULL)) return 0;
    nid = OBJ_sn2nid(group); /* "prime256v1"; the NIST name below is "P-256" */
    if (nid == NID_undef) nid = EC_curve_nist2nid(group);
    return nid == NID_X9_62_prime256v1 || nid == NID_secp384r1;
}

/* Key types the handshake can sign with (PROTOCOL.md 7.4). */
static int leaf_key_ok(X509 *leaf)
{
    EVP_PKEY *pk = X509_get0_pubkey(leaf); /* decoded once, cached in the X509 */

    if (pk == NULL) return 0;
    switch (EVP_PKEY_get_base_id(pk)) {
    case EVP_PKEY_ED25519:
        return 1;
    case EVP_PKEY_RSA:
        return EVP_PKEY_get_bits(pk) >= 2048;
    case EVP_PKEY_EC:
        return ec_curve_ok(pk);
    default:
        return 0;
    }
}

/* The leaf's usages: EKU present with clientAuth; keyUsage, if present, with digitalSignature. */
int sc_cert_leaf_usage_ok(X509 *leaf)
{
    uint32_t flags = X509_get_extension_flags(leaf);

    if ((flags & EXFLAG_XKUSAGE) == 0) return 0;
    if ((X509_get_extended_key_usage(leaf) & XKU_SSL_CLIENT) == 0) return 0;
    if ((flags & EXFLAG_KUSAGE) != 0 && (X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE) == 0)
        return 0;
    return 1;
}

/* 1 if a CA of the path has the subject or the key of a blocked issuer (PROTOCOL.md 8.3). */
static int issuer_blocked(const sc_policy *p, const sc_issuer_id *ca)
{
    for (size_t i = 0; i < p->n_block_issuers; i++)
        if (memcmp(p->block_issuers[i].subject, ca->subject, 32) == 0 ||
            memcmp(p->block_issuers[i].key, ca->key, 32) == 0)
            return 1;
    return 0;
}

/* Issuer block list, then allow lists, over the CA certificates of the path. */
static int check_issuers(const sc_policy *p, const sc_peer_chain *c, const sc_verified *v)
{
    int allow_set = p->n_allow_ids > 0 || p->n_allow_issuers > 0;
    int allowed = !allow_set || id_listed(p->allow_ids, p->n_allow_ids, c->user_id);

    for (size_t i = 0; i < v->n_ca; i++) {
        if (issuer_blocked(p, &v->ca_id[i])) return SC_ERR_ISSUER_BLOCKED;
        if (fp_listed(p->allow_issuers, p->n_allow_issuers, v->ca_fp[i])) allowed = 1;
    }
    return allowed ? SC_OK : SC_ERR_ACCESS_DENIED;
}

/* 1 if domain (of a user ID) is covered by the anchor domain pattern d. */
static int domain_covered(const char *d, const char *domain)
{
    size_t n = strlen(domain), m = strlen(d);
    if (d[0] != '.') return id_equal(d, domain);
    /* ".example.org" covers "x.example.org", not "example.org" itself, as in RFC 5280 4.2.1.10. */
    return n > m && id_equal(d, domain + (n - m));
}

/*
 * The user ID's domain must be one the anchor at the end of the path may
 * certify (PROTOCOL.md 8.2 step 7): trusting a registry's CA trusts it for
 * its own domains only.
 */
static int check_domain(const sc_policy *p, const sc_peer_chain *c, const sc_verified *v)
{
    const char *domain = strchr(c->user_id, '@');
    if (v->n_ca == 0 || domain == NULL) return SC_ERR_DOMAIN_MISMATCH;
    domain++;
    for (size_t i = 0; i < p->n_anchors; i++) {
        const sc_anchor *a = &p->anchors[i];
        if (memcmp(a->fp, v->ca_fp[v->n_ca - 1], 32) != 0) continue;
        if (a->any_domain) return SC_OK;
        for (size_t d = 0; d < a->n_domains; d++)
            if (domain_covered(a->domains[d], domain)) return SC_OK;
    }
    return SC_ERR_DOMAIN_MISMATCH;
}

/* The checks that follow path validation on every handshake, cached path or not. */
static int check_after_path(const sc_policy *p, const sc_peer_chain *c, const sc_verified *v)
{
    int ret = check_domain(p, c, v);
    return ret == SC_OK ? check_issuers(p, c, v) : ret;
}

int sc_cert_kt_usage_ok(X509 *leaf)
{
    EVP_PKEY *pk = X509_get0_pubkey(leaf);
    if (pk == NULL || EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA) return 0;
    /* An absent keyUsage would mean "any use" to X.509; key transport wants it said. */
    return (X509_get_extension_flags(leaf) & EXFLAG_KUSAGE) != 0 &&
           (X509_get_key_usage(leaf) & KU_KEY_ENCIPHERMENT) != 0;
}

int64_t sc_cert_time_epoch(const ASN1_TIME *t)
{
    struct tm tm;
    if (!ASN1_TIME_to_tm(t, &tm)) return 0;
    /* Days from civil date (proleptic Gregorian), without timegm() or the locale's TZ. */
    int64_t y = tm.tm_year + 1900, m = tm.tm_mon + 1;
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + tm.tm_mday - 1;
    int64_t days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
    return days * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
}

/* What a successful validation proved, for the policy checks and the cache. */
static int describe_path(const sc_peer_chain *c, STACK_OF(X509) * path, sc_verified *v)
{
    int n = sk_X509_num(path);
    unsigned int len;
    memset(v, 0, sizeof *v);
    memcpy(v->key, c->chain_key, 32);
    v->not_before = INT64_MIN;
    v->not_after = INT64_MAX;
    if (n < 1 || n > SC_CERTCACHE_PATH_MAX) return SC_ERR_BAD_CERTIFICATE;
    for (int i = 0; i < n; i++) {
        X509 *x = sk_X509_value(path, i);
        int64_t nb = sc_cert_time_epoch(X509_get0_notBefore(x));
        int64_t na = sc_cert_time_epoch(X509_get0_notAfter(x));
        if (nb > v->not_before) v->not_before = nb;
        if (na < v->not_after) v->not_after = na;
        if (i == 0) continue;
        if (!X509_digest(x, EVP_sha256(), v->ca_fp[v->n_ca], &len) || len != 32 ||
            sc_cert_issuer_id(x, &v->ca_id[v->n_ca]) != SC_OK)
            return SC_ERR_NOMEM;
        v->n_ca++;
    }
    return SC_OK;
}

int sc_cert_verify(const sc_policy *p, const sc_peer_chain *c, int64_t now)
{
    int ret;
    X509_STORE_CTX *ctx = NULL;
    X509_VERIFY_PARAM *param;

    sc_verified v;

    if (p == NULL || p->store == NULL || c == NULL || c->leaf == NULL) return SC_ERR_ARG;
    if ((int64_t)(time_t)now != now) return SC_ERR_ARG;
    /* The same bytes verified before, still inside every certificate's validity. */
    if (sc_certcache_get_verified(p->cache, c->chain_key, now, &v))
        return check_after_path(p, c, &v);
    ERR_set_mark();
    ret = SC_ERR_NOMEM;
    ctx = X509_STORE_CTX_new();
    if (ctx == NULL || !X509_STORE_CTX_init(ctx, p->store, c->leaf, c->untrusted)) goto out;
    /*
     * Purpose sslclient makes OpenSSL refuse a CA whose own EKU excludes
     * clientAuth (INVALID_PURPOSE); that the leaf's EKU is present at all is
     * checked below, since OpenSSL reads an absent EKU as "any use".
     */
    if (!X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT)) goto out;
    param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(param, (time_t)now);
    /* Leaf and up to 3 intermediates from the peer, then the anchor: no longer path is useful. */
    X509_VERIFY_PARAM_set_depth(param, SC_CERT_MAX_CHAIN - 1);
    X509_VERIFY_PARAM_set_auth_level(param, SC_CERT_AUTH_LEVEL);
    if (!X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT)) goto out;

    unsigned long before = ERR_peek_error();
    if (X509_verify_cert(ctx) <= 0) {
        int e = X509_STORE_CTX_get_error(ctx);
        /* Running out of memory is ours to report, not the peer's fault (tests/test_oom.c). */
        if (e == X509_V_ERR_OUT_OF_MEM || e == X509_V_ERR_STORE_LOOKUP || sc_ossl_nomem(before))
            ret = SC_ERR_NOMEM;
        else
            ret = map_verify_error(e);
        goto out;
    }
    ret = SC_ERR_UNSUPPORTED_CERTIFICATE;
    if (!sc_cert_leaf_usage_ok(c->leaf) || !leaf_key_ok(c->leaf)) goto out;
    if ((ret = describe_path(c, X509_STORE_CTX_get0_chain(ctx), &v)) != SC_OK) goto out;
    sc_certcache_put_verified(p->cache, &v);
    ret = check_after_path(p, c, &v);
out:
    X509_STORE_CTX_free(ctx);
    ERR_pop_to_mark();
    return ret;
}
