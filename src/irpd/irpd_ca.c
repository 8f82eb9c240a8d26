/*
 * irpd_ca.c - the registry's certificate authority. The interface and every
 * error are documented in irpd_ca.h.
 *
 * Nothing here parses ASN.1 by hand: CSRs go to d2i_X509_REQ, PEM to
 * PEM_read_bio_*, names are built as GENERAL_NAMES (never as config
 * strings, so a user ID or host name cannot inject another extension), and
 * client chains are verified by sc_cert_verify, the same code peers run
 * (docs/PROTOCOL.md 8.2). Extensions whose values are constants use
 * OpenSSL's config syntax.
 *
 * Every public function brackets its work with ERR_set_mark/ERR_pop_to_mark
 * so it leaves OpenSSL's error queue as it found it; an internal error's
 * message carries OpenSSL's reason first.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "sixchat/error.h"
#include "sc_cert.h"
#include "irpd_ca.h"
#include "irpd_ca_int.h"
#include "irpd_config.h"

#define SERIAL_BYTES 16 /* 128 random bits */

/* ---- errors -------------------------------------------------------------- */

int irpd__ca_fail(irpd_ca_err *err, int status, const char *fmt, ...)
{
    va_list ap;
    size_t n;
    unsigned long e = ERR_peek_last_error();

    if (err == NULL) return status;
    err->status = status;
    err->sc = 0;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    /* OpenSSL's reason helps an administrator; a user-facing refusal says enough alone. */
    n = strlen(err->msg);
    if (status == IRPD_CA_INTERNAL && e != 0 && ERR_reason_error_string(e) != NULL)
        snprintf(err->msg + n, sizeof err->msg - n, " (%s)", ERR_reason_error_string(e));
    return status;
}

int irpd__ca_ok(irpd_ca_err *err)
{
    if (err != NULL) memset(err, 0, sizeof *err);
    return IRPD_CA_OK;
}

/* ---- small helpers --------------------------------------------------------- */

static int fits_time_t(int64_t t)
{
    return (int64_t)(time_t)t == t;
}

/* An ASN1_TIME as seconds since the epoch, by OpenSSL's own date arithmetic. */
static int asn1_time_epoch(const ASN1_TIME *t, int64_t *out)
{
    ASN1_TIME *epoch = ASN1_TIME_set(NULL, 0);
    int day, sec, r = 0;

    if (epoch != NULL && ASN1_TIME_diff(&day, &sec, epoch, t)) {
        *out = (int64_t)day * 86400 + sec;
        r = 1;
    }
    ASN1_TIME_free(epoch);
    return r;
}

/* The digest to sign with key: none for EdDSA, SHA-384 for P-384, else SHA-256. */
static const EVP_MD *sign_md(EVP_PKEY *key)
{
    if (EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448")) return NULL;
    if (EVP_PKEY_is_a(key, "EC") && EVP_PKEY_get_bits(key) > 256) return EVP_sha384();
    return EVP_sha256();
}

static EVP_PKEY *new_key(irpd_key_type type)
{
    if (type == IRPD_KEY_ED25519) return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static int is_printable_ascii(const char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e) return 0;
    }
    return 1;
}

/* A fresh random serial: 128 bits, first byte non-zero so its hex is always 32 digits. */
static int set_random_serial(X509 *x)
{
    unsigned char b[SERIAL_BYTES];
    BIGNUM *bn = NULL;
    int r = 0;

    /* A first byte of 0x10 or more: always 32 hex digits, none of them a leading zero. */
    do {
        if (RAND_bytes(b, sizeof b) != 1) goto out;
    } while (b[0] < 0x10);
    /* Read as unsigned, so always positive (DER adds a 0x00 when the top bit is set). */
    bn = BN_bin2bn(b, sizeof b, NULL);
    r = bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
out:
    BN_free(bn);
    OPENSSL_cleanse(b, sizeof b);
    return r;
}

/* Validity now - IRPD_CA_BACKDATE .. now + lifetime, cut at not_after_max (0: none). */
static int set_validity(X509 *x, int64_t now, int64_t lifetime, int64_t not_after_max)
{
    int64_t nb, na;

    if (lifetime <= 0 || now < IRPD_CA_BACKDATE || now > INT64_MAX - lifetime) return 0;
    nb = now - IRPD_CA_BACKDATE;
    na = now + lifetime;
    if (not_after_max != 0 && na > not_after_max) na = not_after_max;
    if (na <= nb || !fits_time_t(nb) || !fits_time_t(na)) return 0;
    return ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb) != NULL &&
           ASN1_TIME_set(X509_getm_notAfter(x), (time_t)na) != NULL;
}

/* Adds one extension whose value is a constant in OpenSSL config syntax. */
static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509_EXTENSION *ext;
    int r;

    X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
    ext = X509V3_EXT_nconf_nid(NULL, &v3, nid, value);
    if (ext == NULL) return 0;
    r = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return r;
}

/* Subject and authority key identifiers; the subject's public key must be set. */
static int add_key_ids(X509 *x, X509 *issuer)
{
    return add_ext(x, x, NID_subject_key_identifier, "hash") &&
           add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
}

/*
 * Subject CN=cn when it fits ub-common-name; else an empty subject, and
 * *san_critical tells the caller that RFC 5280 4.2.1.6 then wants a
 * critical subjectAltName.
 */
static int set_subject(X509 *x, const char *cn, int *san_critical)
{
    X509_NAME *name = X509_NAME_new();
    int r;

    if (name == NULL) return 0;
    *san_critical = strlen(cn) > CN_MAX;
    r = *san_critical || X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                                    (const unsigned char *)cn, -1, -1, 0);
    r = r && X509_set_subject_name(x, name);
    X509_NAME_free(name);
    return r;
}

/* Appends a name of type GEN_EMAIL or GEN_DNS (an IA5String) to names. */
static int push_ia5_name(GENERAL_NAMES *names, int type, const char *s)
{
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();

    if (gn == NULL || ia5 == NULL || !ASN1_STRING_set(ia5, s, (int)strlen(s))) goto err;
    GENERAL_NAME_set0_value(gn, type, ia5);
    ia5 = NULL;
    if (!sk_GENERAL_NAME_push(names, gn)) goto err;
    return 1;
err:
    ASN1_IA5STRING_free(ia5);
    GENERAL_NAME_free(gn);
    return 0;
}

/* Appends an iPAddress; *invalid is set when ip is not an IPv4 or IPv6 literal. */
static int push_ip_name(GENERAL_NAMES *names, const char *ip, int *invalid)
{
    GENERAL_NAME *gn;
    ASN1_OCTET_STRING *oct = a2i_IPADDRESS(ip);

    if (oct == NULL) {
        *invalid = 1;
        return 0;
    }
    gn = GENERAL_NAME_new();
    if (gn == NULL) {
        ASN1_OCTET_STRING_free(oct);
        return 0;
    }
    GENERAL_NAME_set0_value(gn, GEN_IPADD, oct);
    if (!sk_GENERAL_NAME_push(names, gn)) {
        GENERAL_NAME_free(gn);
        return 0;
    }
    return 1;
}

/* A DNS host name: labels of letters, digits and inner hyphens, 1..63 bytes each. */
static int valid_dns_name(const char *s)
{
    return irpd_config_valid_domain(s);
}

/*
 * docs/IRP.md 7.5: critical nameConstraints, one permitted rfc822Name subtree
 * per served domain in the host form of RFC 5280 4.2.1.10 ("example.org":
 * every mailbox at that host), never the domain form (".example.org": its
 * subdomains), which are other domains with registries of their own (2.1).
 * No other name form is constrained, so the server certificate's dNSName and
 * iPAddress are unaffected.
 */
static int add_name_constraints(X509 *x, const char *const *domains, size_t n)
{
    NAME_CONSTRAINTS *nc = NAME_CONSTRAINTS_new();
    int r = 0;

    if (nc == NULL) return 0;
    nc->permittedSubtrees = sk_GENERAL_SUBTREE_new_null();
    if (nc->permittedSubtrees == NULL) goto out;
    for (size_t i = 0; i < n; i++) {
        GENERAL_SUBTREE *st = GENERAL_SUBTREE_new();
        GENERAL_NAMES *one = sk_GENERAL_NAME_new_null();
        int ok = st != NULL && one != NULL && push_ia5_name(one, GEN_EMAIL, domains[i]);
        if (ok) {
            GENERAL_NAME_free(st->base);
            st->base = sk_GENERAL_NAME_pop(one);
            ok = sk_GENERAL_SUBTREE_push(nc->permittedSubtrees, st) > 0;
        }
        GENERAL_NAMES_free(one);
        if (!ok) {
            GENERAL_SUBTREE_free(st);
            goto out;
        }
    }
    r = X509_add1_ext_i2d(x, NID_name_constraints, nc, 1, X509V3_ADD_DEFAULT) == 1;
out:
    NAME_CONSTRAINTS_free(nc);
    return r;
}

static int is_ip_literal(const char *s)
{
    ASN1_OCTET_STRING *oct = a2i_IPADDRESS(s);
    ASN1_OCTET_STRING_free(oct);
    return oct != NULL;
}

static int lower_hex(const unsigned char *p, size_t n, char *out, size_t cap)
{
    static const char digits[] = "0123456789abcdef";

    if (cap < 2 * n + 1) return 0;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
    return 1;
}

/* ---- the CA object --------------------------------------------------------- */

static irpd_ca *ca_alloc(void)
{
    irpd_ca *ca = calloc(1, sizeof *ca);

    if (ca == NULL) return NULL;
    if (sc_policy_init(&ca->trust) != SC_OK) {
        sc_policy_free(&ca->trust);
        free(ca);
        return NULL;
    }
    return ca;
}

/* Takes the CA certificate as the first trust anchor and remembers its notAfter. */
static int ca_adopt_cert(irpd_ca *ca)
{
    if (!asn1_time_epoch(X509_get0_notAfter(ca->cert), &ca->not_after)) return 0;
    return sc_policy_add_anchor_unbound(&ca->trust, ca->cert) == SC_OK;
}

void irpd_ca_free(irpd_ca *ca)
{
    if (ca == NULL) return;
    EVP_PKEY_free(ca->key); /* OpenSSL wipes private key material when it frees it */
    X509_free(ca->cert);
    EVP_PKEY_free(ca->server_key);
    X509_free(ca->server_cert);
    sc_policy_free(&ca->trust);
    for (size_t i = 0; i < ca->n_ext; i++)
        sc_policy_free(&ca->ext[i].pol);
    free(ca->served);
    free(ca);
}

int irpd_ca_create(const irpd_ca_opts *opts, int64_t now, irpd_ca **out, irpd_ca_err *err)
{
    static const irpd_ca_opts defaults = {IRPD_KEY_P256, NULL, 0, NULL, 0};
    int ret = IRPD_CA_INTERNAL, crit;
    irpd_ca *ca = NULL;
    char cn[CN_MAX + 1];
    const char *label;

    ERR_set_mark();
    if (out == NULL) goto fail_arg;
    *out = NULL;
    if (opts == NULL) opts = &defaults;
    label = opts->name != NULL ? opts->name : "";
    if (opts->key_type != IRPD_KEY_P256 && opts->key_type != IRPD_KEY_ED25519) goto fail_arg;
    if (!is_printable_ascii(label)) {
        ret = irpd__ca_fail(err, IRPD_CA_INVALID, "the CA name must be printable ASCII");
        goto out;
    }
    if (opts->n_domains > IRPD_CA_MAX_DOMAINS || (opts->n_domains > 0 && opts->domains == NULL)) {
        ret = irpd__ca_fail(err, IRPD_CA_INVALID, "at most %d served domains", IRPD_CA_MAX_DOMAINS);
        goto out;
    }
    for (size_t i = 0; i < opts->n_domains; i++) {
        if (opts->domains[i] == NULL || !valid_dns_name(opts->domains[i])) {
            ret = irpd__ca_fail(err, IRPD_CA_INVALID, "'%.64s' is not a domain name",
                                opts->domains[i] != NULL ? opts->domains[i] : "(null)");
            goto out;
        }
    }
    /* CN is at most 64 bytes (RFC 5280): a long host name is cut, the key identifiers chain. */
    snprintf(cn, sizeof cn, IRPD_CA_CN_PREFIX "%s", label);
    if ((ca = ca_alloc()) == NULL) goto fail_internal;
    ca->key = new_key(opts->key_type);
    ca->cert = X509_new();
    if (ca->key == NULL || ca->cert == NULL) goto fail_internal;
    if (!X509_set_version(ca->cert, X509_VERSION_3) || !set_random_serial(ca->cert) ||
        !set_subject(ca->cert, cn, &crit) ||
        !X509_set_issuer_name(ca->cert, X509_get_subject_name(ca->cert)) ||
        !set_validity(ca->cert, now,
                      opts->lifetime > 0 ? opts->lifetime : IRPD_CA_DEFAULT_CA_LIFETIME, 0) ||
        !X509_set_pubkey(ca->cert, ca->key))
        goto fail_internal;
    /* pathlen:0: this CA signs users and the server, never another CA. */
    if (!add_ext(ca->cert, ca->cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
        !add_ext(ca->cert, ca->cert, NID_key_usage, "critical,keyCertSign,cRLSign") ||
        !add_key_ids(ca->cert, ca->cert))
        goto fail_internal;
    if (opts->n_domains > 0 && !add_name_constraints(ca->cert, opts->domains, opts->n_domains))
        goto fail_internal;
    if (X509_sign(ca->cert, ca->key, sign_md(ca->key)) <= 0 || !ca_adopt_cert(ca))
        goto fail_internal;
    *out = ca;
    ca = NULL;
    ret = irpd__ca_ok(err);
    goto out;
fail_arg:
    ret = irpd__ca_fail(err, IRPD_CA_INTERNAL, "invalid argument to irpd_ca_create");
    goto out;
fail_internal:
    ret = irpd__ca_fail(err, IRPD_CA_INTERNAL, "cannot create the CA key and certificate");
out:
    irpd_ca_free(ca);
    ERR_pop_to_mark();
    return ret;
}

int irpd_ca_make_server(irpd_ca *ca, const char *host, const char *const *ips, size_t n_ips,
                        int64_t now, int64_t lifetime, irpd_ca_err *err)
{
    int ret = IRPD_CA_INTERNAL, crit = 0, bad_ip = 0, host_is_ip;
    EVP_PKEY *key = NULL;
    X509 *x = NULL;
    GENERAL_NAMES *names = NULL;

    ERR_set_mark();
    if (ca == NULL || host == NULL || (n_ips > 0 && ips == NULL)) {
        ret = irpd__ca_fail(err, IRPD_CA_INTERNAL, "invalid argument to irpd_ca_make_server");
        goto out;
    }
    host_is_ip = is_ip_literal(host);
    if (!host_is_ip && !valid_dns_name(host)) {
        ret = irpd__ca_fail(err, IRPD_CA_INVALID,
                            "'%.64s' is neither a DNS host name nor an IP address", host);
        goto out;
    }
    if (n_ips > IRPD_CA_MAX_IPS) {
        ret = irpd__ca_fail(err, IRPD_CA_INVALID, "at most %d addresses in the server certificate",
                            IRPD_CA_MAX_IPS);
        goto out;
    }
    names = sk_GENERAL_NAME_new_null();
    if (names == NULL) goto fail_internal;
    if (!(host_is_ip ? push_ip_name(names, host, &bad_ip) : push_ia5_name(names, GEN_DNS, host)))
        goto fail_internal;
    for (size_t i = 0; i < n_ips; i++) {
        if (ips[i] != NULL && push_ip_name(names, ips[i], &bad_ip)) continue;
        if (ips[i] == NULL || bad_ip) {
            ret = irpd__ca_fail(err, IRPD_CA_INVALID, "'%.64s' is not an IP address",
                                ips[i] != NULL ? ips[i] : "(null)");
            goto out;
        }
        goto fail_internal;
    }

    key = EVP_PKEY_is_a(ca->key, "ED25519") ? new_key(IRPD_KEY_ED25519) : new_key(IRPD_KEY_P256);
    x = X509_new();
    if (key == NULL || x == NULL) goto fail_internal;
    if (!X509_set_version(x, X509_VERSION_3) || !set_random_serial(x) ||
        !set_subject(x, host, &crit) || !X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) ||
        !set_validity(x, now, lifetime > 0 ? lifetime : IRPD_CA_DEFAULT_SERVER_LIFETIME,
                      ca->not_after) ||
        !X509_set_pubkey(x, key))
        goto fail_internal;
    if (!add_ext(x, ca->cert, NID_basic_constraints, "critical,CA:FALSE") ||
        !add_ext(x, ca->cert, NID_key_usage, "critical,digitalSignature") ||
        !add_ext(x, ca->cert, NID_ext_key_usage, "serverAuth") || !add_key_ids(x, ca->cert) ||
        !X509_add1_ext_i2d(x, NID_subject_alt_name, names, crit, X509V3_ADD_DEFAULT))
        goto fail_internal;
    if (X509_sign(x, ca->key, sign_md(ca->key)) <= 0) goto fail_internal;
    EVP_PKEY_free(ca->server_key);
    X509_free(ca->server_cert);
    ca->server_key = key;
    ca->server_cert = x;
    key = NULL;
    x = NULL;
    ret = irpd__ca_ok(err);
    goto out;
fail_internal:
    ret = irpd__ca_fail(err, IRPD_CA_INTERNAL, "cannot make the server certificate");
out:
    GENERAL_NAMES_free(names);
    EVP_PKEY_free(key);
    X509_free(x);
    ERR_pop_to_mark();
    return ret;
}

/* Encrypted keys are refused rather than prompting on a terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    return -1;
}

static X509 *read_cert_pem(const char *pem, size_t len)
{
    BIO *bio;
    X509 *x;

    if (pem == NULL || len == 0 || len > INT32_MAX) return NULL;
    bio = BIO_new_mem_buf(pem, (int)len);
    x = bio != NULL ? PEM_read_bio_X509(bio, NULL, no_passphrase, NULL) : NULL;
    BIO_free(bio);
    return x;
}

static EVP_PKEY *read_key_pem(const char *pem, size_t len)
{
    BIO *bio;
    EVP_PKEY *k;

    if (pem == NULL || len == 0 || len > INT32_MAX) return NULL;
    bio = BIO_new_mem_buf(pem, (int)len); /* read-only view: no copy of the secret */
    k = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
    BIO_free(bio);
    return k;
}

int irpd_ca_from_pem(const char *ca_cert_pem, size_t ca_cert_len, const char *ca_key_pem,
                     size_t ca_key_len, const char *server_cert_pem, size_t server_cert_len,
                     const char *server_key_pem, size_t server_key_len, irpd_ca **out,
                     irpd_ca_err *err)
{
    int ret = IRPD_CA_INVALID;
    irpd_ca *ca = NULL;
    int with_server = server_cert_pem != NULL || server_key_pem != NULL;

    ERR_set_mark();
    if (out == NULL) {
        ret = irpd__ca_fail(err, IRPD_CA_INTERNAL, "invalid argument to irpd_ca_from_pem");
        goto out;
    }
    *out = NULL;
    if ((ca = ca_alloc()) == NULL) {
        ret = irpd__ca_fail(err, IRPD_CA_INTERNAL, "out of memory");
        goto out;
    }
    if ((ca->cert = read_cert_pem(ca_cert_pem, ca_cert_len)) == NULL) {
        irpd__ca_fail(err, ret, "cannot read the CA certificate (PEM)");
        goto out;
    }
    if ((ca->key = read_key_pem(ca_key_pem, ca_key_len)) == NULL) {
        irpd__ca_fail(err, ret, "cannot read the CA private key (unencrypted PEM)");
        goto out;
    }
    if (X509_check_ca(ca->cert) == 0) {
        irpd__ca_fail(err, ret, "the CA certificate is not a CA certificate");
        goto out;
    }
    if (X509_check_private_key(ca->cert, ca->key) != 1) {
        irpd__ca_fail(err, ret, "the CA private key does not match the CA certificate");
        goto out;
    }
    if (with_server) {
        ca->server_cert = read_cert_pem(server_cert_pem, server_cert_len);
        ca->server_key = read_key_pem(server_key_pem, server_key_len);
        if (ca->server_cert == NULL || ca->server_key == NULL) {
            irpd__ca_fail(err, ret, "cannot read the server certificate or key (PEM)");
            goto out;
        }
        if (X509_check_private_key(ca->server_cert, ca->server_key) != 1) {
            irpd__ca_fail(err, ret, "the server private key does not match the server certificate");
            goto out;
        }
        if (X509_check_issued(ca->cert, ca->server_cert) != X509_V_OK ||
            X509_verify(ca->server_cert, X509_get0_pubkey(ca->cert)) != 1) {
            irpd__ca_fail(err, ret, "the server certificate was not issued by the CA");
            goto out;
        }
    }
    if (!ca_adopt_cert(ca)) {
        ret = irpd__ca_fail(err, IRPD_CA_INTERNAL, "cannot use the CA certificate");
        goto out;
    }
    *out = ca;
    ca = NULL;
    ret = irpd__ca_ok(err);
out:
    irpd_ca_free(ca);
    ERR_pop_to_mark();
    return ret;
}

X509 *irpd_ca_cert(const irpd_ca *ca)
{
    return ca->cert;
}

EVP_PKEY *irpd_ca_key(const irpd_ca *ca)
{
    return ca->key;
}

X509 *irpd_ca_server_cert(const irpd_ca *ca)
{
    return ca->server_cert;
}

EVP_PKEY *irpd_ca_server_key(const irpd_ca *ca)
{
    return ca->server_key;
}

X509_STORE *irpd_ca_trust_store(const irpd_ca *ca)
{
    return ca->trust.store;
}

int irpd_ca_fingerprint(const irpd_ca *ca, uint8_t out[32])
{
    unsigned int len = 0;
    int r;

    ERR_set_mark();
    r = ca != NULL && X509_digest(ca->cert, EVP_sha256(), out, &len) && len == 32;
    ERR_pop_to_mark();
    return r ? IRPD_CA_OK : IRPD_CA_INTERNAL;
}

int irpd_ca_fingerprint_hex(const irpd_ca *ca, char out[65])
{
    uint8_t fp[32];

    if (irpd_ca_fingerprint(ca, fp) != IRPD_CA_OK) return IRPD_CA_INTERNAL;
    lower_hex(fp, sizeof fp, out, 65);
    return IRPD_CA_OK;
}

int irpd_ca_serial_hex(const X509 *x, char *out, size_t cap)
{
    const ASN1_INTEGER *ai = X509_get0_serialNumber(x);
    BIGNUM *bn = NULL;
    unsigned char b[IRPD_SERIAL_HEX_MAX / 2];
    int n, ret = IRPD_CA_INVALID;

    if (out == NULL || cap <= IRPD_SERIAL_HEX_MAX) return IRPD_CA_INTERNAL;
    out[0] = '\0';
    ERR_set_mark();
    bn = ASN1_INTEGER_to_BN(ai, NULL);
    if (bn == NULL || BN_is_negative(bn) || BN_is_zero(bn)) goto out;
    n = BN_num_bytes(bn);
    if (n > (int)sizeof b || BN_bn2bin(bn, b) != n) goto out;
    lower_hex(b, (size_t)n, out, cap);
    /* IRP.md 4.2: serials are written without leading zeros (other CAs' may have one). */
    size_t z = strspn(out, "0");
    if (z > 0) memmove(out, out + z, strlen(out + z) + 1);
    ret = IRPD_CA_OK;
out:
    BN_free(bn);
    ERR_pop_to_mark();
    return ret;
}

/* ---- issuing user certificates ---------------------------------------------- */

void irpd_issued_clear(irpd_issued *c)
{
    if (c == NULL) return;
    OPENSSL_free(c->der);
    memset(c, 0, sizeof *c);
}

int irpd_ca_issue_csr(const irpd_ca *ca, const irpd_csr *csr, const char *user_id, int64_t now,
                      int64_t lifetime, irpd_issued *out, irpd_ca_err *err)
{
    int ret = IRPD_CA_INVALID, crit, is_rsa;
    X509 *x = NULL;
    EVP_PKEY *pk;
    GENERAL_NAMES *names = NULL;
    unsigned char *der = NULL;
    int der_len;

    ERR_set_mark();
    if (out != NULL) memset(out, 0, sizeof *out);
    if (ca == NULL || out == NULL || csr == NULL || !csr->key_checked) {
        ret = irpd__ca_fail(err, IRPD_CA_INTERNAL, "invalid argument to irpd_ca_issue_csr");
        goto out;
    }
    if (!sc_cert_valid_user_id(user_id)) {
        irpd__ca_fail(err, ret,
                      "not a valid user ID (local@domain, printable ASCII, at most %d bytes)",
                      SC_USER_ID_MAX);
        goto out;
    }
    /* docs/IRP.md 7.5: the CA certifies users of the served domains only */
    if (ca->served != NULL && !irpd_config_domain_in(ca->served, user_id)) {
        irpd__ca_fail(err, ret, "%.254s is not in a domain this registry serves", user_id);
        goto out;
    }
    pk = csr->key;

    /* A new certificate from scratch: of the CSR only the public key is used. */
    is_rsa = EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA;
    x = X509_new();
    names = sk_GENERAL_NAME_new_null();
    if (x == NULL || names == NULL || !push_ia5_name(names, GEN_EMAIL, user_id)) goto fail_internal;
    if (!X509_set_version(x, X509_VERSION_3) || !set_random_serial(x) ||
        !set_subject(x, user_id, &crit) ||
        !X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) || !X509_set_pubkey(x, pk))
        goto fail_internal;
    if (!set_validity(x, now, lifetime > 0 ? lifetime : IRPD_CA_DEFAULT_USER_LIFETIME,
                      ca->not_after)) {
        irpd__ca_fail(err, IRPD_CA_INTERNAL,
                      "the CA certificate has expired or the time is invalid");
        ret = IRPD_CA_INTERNAL;
        goto out;
    }
    /* keyEncipherment on RSA keys: they may receive a key-transport secret. */
    if (!add_ext(x, ca->cert, NID_basic_constraints, "critical,CA:FALSE") ||
        !add_ext(x, ca->cert, NID_key_usage,
                 is_rsa ? "critical,digitalSignature,keyEncipherment"
                        : "critical,digitalSignature") ||
        !add_ext(x, ca->cert, NID_ext_key_usage, "clientAuth") || !add_key_ids(x, ca->cert) ||
        !X509_add1_ext_i2d(x, NID_subject_alt_name, names, crit, X509V3_ADD_DEFAULT))
        goto fail_internal;
    if (X509_sign(x, ca->key, sign_md(ca->key)) <= 0) goto fail_internal;

    der_len = i2d_X509(x, &der);
    if (der_len <= 0) goto fail_internal;
    if (!EVP_Digest(der, (size_t)der_len, out->fingerprint, NULL, EVP_sha256(), NULL) ||
        irpd_ca_serial_hex(x, out->serial_hex, sizeof out->serial_hex) != IRPD_CA_OK ||
        !asn1_time_epoch(X509_get0_notBefore(x), &out->not_before) ||
        !asn1_time_epoch(X509_get0_notAfter(x), &out->not_after))
        goto fail_internal;
    out->der = der;
    out->der_len = (size_t)der_len;
    der = NULL;
    ret = irpd__ca_ok(err);
    goto out;
fail_internal:
    ret = irpd__ca_fail(err, IRPD_CA_INTERNAL, "cannot issue the certificate");
out:
    if (ret != IRPD_CA_OK) irpd_issued_clear(out);
    OPENSSL_free(der);
    GENERAL_NAMES_free(names);
    X509_free(x);
    ERR_pop_to_mark();
    return ret;
}
