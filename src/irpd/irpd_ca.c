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

#define CN_MAX 64              /* ub-common-name, RFC 5280 */
#define SERIAL_BYTES 16        /* 128 random bits */
#define FILE_MAX (1024 * 1024) /* a PEM file we read: a CA bundle fits */
#define HOST_MAX 253           /* a DNS name in text form */

struct irpd_ca {
    EVP_PKEY *key;
    X509 *cert;
    EVP_PKEY *server_key;
    X509 *server_cert;
    int64_t not_after; /* of the CA certificate: nothing it signs outlives it */
    sc_policy trust;   /* the CA and external anchors, for client certificates */
};

/* ---- errors -------------------------------------------------------------- */

static int fail(irpd_ca_err *err, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(irpd_ca_err *err, int status, const char *fmt, ...)
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

static int ok(irpd_ca_err *err)
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

    do {
        if (RAND_bytes(b, sizeof b) != 1) goto out;
    } while (b[0] == 0);
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
    size_t n = strlen(s), label = 0;

    if (n == 0 || n > HOST_MAX) return 0;
    for (size_t i = 0; i <= n; i++) {
        char c = s[i];
        if (c == '.' || c == '\0') {
            if (label == 0 || label > 63 || s[i - 1] == '-') return 0;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   (c == '-' && label > 0)) {
            label++;
        } else {
            return 0;
        }
    }
    return 1;
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
    if (!X509_STORE_add_cert(ca->trust.store, ca->cert)) return 0;
    ca->trust.n_anchors++;
    return 1;
}

void irpd_ca_free(irpd_ca *ca)
{
    if (ca == NULL) return;
    EVP_PKEY_free(ca->key); /* OpenSSL wipes private key material when it frees it */
    X509_free(ca->cert);
    EVP_PKEY_free(ca->server_key);
    X509_free(ca->server_cert);
    sc_policy_free(&ca->trust);
    free(ca);
}

int irpd_ca_create(const irpd_ca_opts *opts, int64_t now, irpd_ca **out, irpd_ca_err *err)
{
    static const irpd_ca_opts defaults = {IRPD_KEY_P256, NULL, 0};
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
        ret = fail(err, IRPD_CA_INVALID, "the CA name must be printable ASCII");
        goto out;
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
    if (X509_sign(ca->cert, ca->key, sign_md(ca->key)) <= 0 || !ca_adopt_cert(ca))
        goto fail_internal;
    *out = ca;
    ca = NULL;
    ret = ok(err);
    goto out;
fail_arg:
    ret = fail(err, IRPD_CA_INTERNAL, "invalid argument to irpd_ca_create");
    goto out;
fail_internal:
    ret = fail(err, IRPD_CA_INTERNAL, "cannot create the CA key and certificate");
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
        ret = fail(err, IRPD_CA_INTERNAL, "invalid argument to irpd_ca_make_server");
        goto out;
    }
    host_is_ip = is_ip_literal(host);
    if (!host_is_ip && !valid_dns_name(host)) {
        ret = fail(err, IRPD_CA_INVALID, "'%.64s' is neither a DNS host name nor an IP address",
                   host);
        goto out;
    }
    if (n_ips > IRPD_CA_MAX_IPS) {
        ret = fail(err, IRPD_CA_INVALID, "at most %d addresses in the server certificate",
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
            ret = fail(err, IRPD_CA_INVALID, "'%.64s' is not an IP address",
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
    ret = ok(err);
    goto out;
fail_internal:
    ret = fail(err, IRPD_CA_INTERNAL, "cannot make the server certificate");
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
        ret = fail(err, IRPD_CA_INTERNAL, "invalid argument to irpd_ca_from_pem");
        goto out;
    }
    *out = NULL;
    if ((ca = ca_alloc()) == NULL) {
        ret = fail(err, IRPD_CA_INTERNAL, "out of memory");
        goto out;
    }
    if ((ca->cert = read_cert_pem(ca_cert_pem, ca_cert_len)) == NULL) {
        fail(err, ret, "cannot read the CA certificate (PEM)");
        goto out;
    }
    if ((ca->key = read_key_pem(ca_key_pem, ca_key_len)) == NULL) {
        fail(err, ret, "cannot read the CA private key (unencrypted PEM)");
        goto out;
    }
    if (X509_check_ca(ca->cert) == 0) {
        fail(err, ret, "the CA certificate is not a CA certificate");
        goto out;
    }
    if (X509_check_private_key(ca->cert, ca->key) != 1) {
        fail(err, ret, "the CA private key does not match the CA certificate");
        goto out;
    }
    if (with_server) {
        ca->server_cert = read_cert_pem(server_cert_pem, server_cert_len);
        ca->server_key = read_key_pem(server_key_pem, server_key_len);
        if (ca->server_cert == NULL || ca->server_key == NULL) {
            fail(err, ret, "cannot read the server certificate or key (PEM)");
            goto out;
        }
        if (X509_check_private_key(ca->server_cert, ca->server_key) != 1) {
            fail(err, ret, "the server private key does not match the server certificate");
            goto out;
        }
        if (X509_check_issued(ca->cert, ca->server_cert) != X509_V_OK ||
            X509_verify(ca->server_cert, X509_get0_pubkey(ca->cert)) != 1) {
            fail(err, ret, "the server certificate was not issued by the CA");
            goto out;
        }
    }
    if (!ca_adopt_cert(ca)) {
        ret = fail(err, IRPD_CA_INTERNAL, "cannot use the CA certificate");
        goto out;
    }
    *out = ca;
    ca = NULL;
    ret = ok(err);
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
    ret = IRPD_CA_OK;
out:
    BN_free(bn);
    ERR_pop_to_mark();
    return ret;
}

/* ---- issuing user certificates ---------------------------------------------- */

/*
 * The key types peers accept (PROTOCOL.md 7.4, 8.2 step 7). On refusal
 * writes why into msg.
 */
static int user_key_ok(EVP_PKEY *pk, char *msg, size_t cap)
{
    char group[64] = "";
    int bits = EVP_PKEY_get_bits(pk), nid;
    const char *type = EVP_PKEY_get0_type_name(pk);

    switch (EVP_PKEY_get_base_id(pk)) {
    case EVP_PKEY_ED25519:
        return 1;
    case EVP_PKEY_RSA:
        if (bits >= IRPD_CA_RSA_MIN_BITS && bits <= IRPD_CA_RSA_MAX_BITS) return 1;
        snprintf(msg, cap, "an RSA key of %d bits is %s: %d to %d bits", bits,
                 bits < IRPD_CA_RSA_MIN_BITS ? "too weak" : "too large", IRPD_CA_RSA_MIN_BITS,
                 IRPD_CA_RSA_MAX_BITS);
        return 0;
    case EVP_PKEY_EC:
        if (EVP_PKEY_get_group_name(pk, group, sizeof group, NULL)) {
            nid = OBJ_sn2nid(group);
            if (nid == NID_undef) nid = EC_curve_nist2nid(group);
            if (nid == NID_X9_62_prime256v1 || nid == NID_secp384r1) return 1;
        }
        snprintf(msg, cap, "the EC curve %s is not supported: P-256 or P-384",
                 group[0] != '\0' ? group : "(unnamed)");
        return 0;
    default:
        snprintf(msg, cap,
                 "a %s key is not supported: Ed25519, EC P-256 or P-384, or RSA of %d bits or "
                 "more",
                 type != NULL ? type : "unknown", IRPD_CA_RSA_MIN_BITS);
        return 0;
    }
}

/* Sanity of the public key itself (a point on the curve, an odd RSA modulus...). */
static int public_key_sane(EVP_PKEY *pk)
{
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
    int r = pctx != NULL && EVP_PKEY_public_check(pctx) == 1;
    EVP_PKEY_CTX_free(pctx);
    return r;
}

void irpd_issued_clear(irpd_issued *c)
{
    if (c == NULL) return;
    OPENSSL_free(c->der);
    memset(c, 0, sizeof *c);
}

int irpd_ca_issue_user(const irpd_ca *ca, const uint8_t *csr_der, size_t csr_len,
                       const char *user_id, int64_t now, int64_t lifetime, irpd_issued *out,
                       irpd_ca_err *err)
{
    int ret = IRPD_CA_INVALID, crit, is_rsa;
    X509_REQ *req = NULL;
    X509 *x = NULL;
    EVP_PKEY *pk;
    GENERAL_NAMES *names = NULL;
    const unsigned char *p = csr_der;
    unsigned char *der = NULL;
    int der_len;
    char why[160];

    ERR_set_mark();
    if (out != NULL) memset(out, 0, sizeof *out);
    if (ca == NULL || out == NULL || (csr_der == NULL && csr_len > 0)) {
        ret = fail(err, IRPD_CA_INTERNAL, "invalid argument to irpd_ca_issue_user");
        goto out;
    }
    /* Cheapest checks first: nothing is decoded for a request we would refuse anyway. */
    if (!sc_cert_valid_user_id(user_id)) {
        fail(err, ret, "not a valid user ID (local@domain, printable ASCII, at most %d bytes)",
             SC_USER_ID_MAX);
        goto out;
    }
    if (csr_len == 0 || csr_len > IRPD_CA_CSR_MAX) {
        fail(err, ret, "the CSR is empty or larger than %d bytes", IRPD_CA_CSR_MAX);
        goto out;
    }
    req = d2i_X509_REQ(NULL, &p, (long)csr_len);
    if (req == NULL || (size_t)(p - csr_der) != csr_len) {
        fail(err, ret, "the CSR is not one DER-encoded PKCS#10 request");
        goto out;
    }
    pk = X509_REQ_get0_pubkey(req);
    if (pk == NULL) {
        fail(err, ret, "the CSR's public key cannot be decoded");
        goto out;
    }
    if (!user_key_ok(pk, why, sizeof why)) {
        fail(err, ret, "%s", why);
        goto out;
    }
    if (!public_key_sane(pk)) {
        fail(err, ret, "the CSR's public key is malformed");
        goto out;
    }
    /* Proof of possession: whoever sent the CSR holds the private key. */
    if (X509_REQ_verify(req, pk) != 1) {
        fail(err, ret, "the CSR's signature does not verify (no proof of possession of the key)");
        goto out;
    }

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
        fail(err, IRPD_CA_INTERNAL, "the CA certificate has expired or the time is invalid");
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
    ret = ok(err);
    goto out;
fail_internal:
    ret = fail(err, IRPD_CA_INTERNAL, "cannot issue the certificate");
out:
    if (ret != IRPD_CA_OK) irpd_issued_clear(out);
    OPENSSL_free(der);
    GENERAL_NAMES_free(names);
    X509_free(x);
    X509_REQ_free(req);
    ERR_pop_to_mark();
    return ret;
}

/* ---- verifying client certificates ---------------------------------------- */

int irpd_ca_add_trusted_pem(irpd_ca *ca, const char *pem, size_t len, irpd_ca_err *err)
{
    int r;

    if (ca == NULL) return fail(err, IRPD_CA_INTERNAL, "invalid argument");
    r = sc_policy_add_anchors_pem(&ca->trust, pem, len);
    if (r == SC_OK) return ok(err);
    if (r == SC_ERR_NOMEM) return fail(err, IRPD_CA_INTERNAL, "out of memory");
    return fail(err, IRPD_CA_INVALID, "no readable PEM certificate in the trusted CA file");
}

/* A sentence for the user about a refused client certificate. */
static const char *refusal(int sc)
{
    switch (sc) {
    case SC_ERR_CERTIFICATE_REQUIRED:
        return "no client certificate";
    case SC_ERR_DECODE_ERROR:
        return "the client certificate chain is too long or a certificate too large";
    case SC_ERR_UNKNOWN_CA:
        return "the client certificate was not issued by a CA this registry trusts";
    case SC_ERR_CERTIFICATE_EXPIRED:
        return "the client certificate has expired";
    case SC_ERR_CERTIFICATE_NOT_YET_VALID:
        return "the client certificate is not valid yet";
    case SC_ERR_UNSUPPORTED_CERTIFICATE:
        return "the client certificate lacks EKU clientAuth or digitalSignature, or its key is "
               "unsupported or weak";
    case SC_ERR_CERTIFICATE_REVOKED:
        return "the client certificate is revoked";
    case SC_ERR_ACCESS_DENIED:
    case SC_ERR_ISSUER_BLOCKED:
        return "the client certificate is not allowed here";
    default:
        return "the client certificate is invalid or names no user ID (rfc822Name)";
    }
}

static int verify_chain(irpd_ca *ca, const sc_peer_chain *c, int64_t now, irpd_client *out,
                        irpd_ca_err *err)
{
    int r = sc_cert_check_identity(&ca->trust, c, NULL);

    if (r == SC_OK) r = sc_cert_verify(&ca->trust, c, now);
    if (r == SC_ERR_NOMEM || r == SC_ERR_ARG)
        return fail(err, IRPD_CA_INTERNAL, "cannot verify the client certificate");
    if (r != SC_OK) {
        fail(err, IRPD_CA_AUTH, "%s", refusal(r));
        if (err != NULL) err->sc = r;
        return IRPD_CA_AUTH;
    }
    memcpy(out->user_id, c->user_id, sizeof out->user_id);
    memcpy(out->fingerprint, c->fingerprint, sizeof out->fingerprint);
    if (irpd_ca_serial_hex(c->leaf, out->serial_hex, sizeof out->serial_hex) != IRPD_CA_OK) {
        fail(err, IRPD_CA_AUTH, "the client certificate's serial number is invalid");
        if (err != NULL) err->sc = SC_ERR_BAD_CERTIFICATE;
        return IRPD_CA_AUTH;
    }
    /* By signature, not by name: an external CA could carry the same name. */
    out->issued_here = X509_check_issued(ca->cert, c->leaf) == X509_V_OK &&
                       X509_verify(c->leaf, X509_get0_pubkey(ca->cert)) == 1;
    return ok(err);
}

int irpd_ca_verify_client_der(irpd_ca *ca, const uint8_t *const *der, const size_t *len, size_t n,
                              int64_t now, irpd_client *out, irpd_ca_err *err)
{
    sc_peer_chain c;
    int r, ret;

    if (ca == NULL || out == NULL) return fail(err, IRPD_CA_INTERNAL, "invalid argument");
    memset(out, 0, sizeof *out);
    ERR_set_mark();
    r = sc_cert_decode_chain_cached(&ca->trust, der, len, n, &c);
    if (r == SC_OK) {
        ret = verify_chain(ca, &c, now, out, err);
    } else if (r == SC_ERR_NOMEM || r == SC_ERR_ARG) {
        ret = fail(err, IRPD_CA_INTERNAL, "cannot decode the client certificate");
    } else {
        ret = fail(err, IRPD_CA_AUTH, "%s", refusal(r));
        if (err != NULL) err->sc = r;
    }
    sc_peer_chain_clear(&c);
    if (ret != IRPD_CA_OK) memset(out, 0, sizeof *out);
    ERR_pop_to_mark();
    return ret;
}

/*
 * The sc_peer_chain sc_cert_decode_chain would make from the DER of these
 * certificates. libssl's server side gives the chain without the leaf, its
 * client side with it: a leading copy of the leaf is skipped.
 */
static int chain_from_x509(X509 *leaf, STACK_OF(X509) * chain, sc_peer_chain *c)
{
    uint8_t hashes[SC_CERT_MAX_CHAIN][32];
    unsigned int len;
    int first = 0, n;

    memset(c, 0, sizeof *c);
    if (leaf == NULL) return SC_ERR_CERTIFICATE_REQUIRED;
    n = chain != NULL ? sk_X509_num(chain) : 0;
    if (n > 0 && X509_cmp(sk_X509_value(chain, 0), leaf) == 0) first = 1;
    if (n - first + 1 > SC_CERT_MAX_CHAIN) return SC_ERR_DECODE_ERROR;
    if (!X509_up_ref(leaf)) return SC_ERR_NOMEM;
    c->leaf = leaf;
    if ((c->untrusted = sk_X509_new_null()) == NULL) return SC_ERR_NOMEM;
    for (int i = first; i < n; i++) {
        X509 *x = sk_X509_value(chain, i);
        if (!X509_up_ref(x)) return SC_ERR_NOMEM;
        if (!sk_X509_push(c->untrusted, x)) {
            X509_free(x);
            return SC_ERR_NOMEM;
        }
    }
    if (sc_cert_user_id(leaf, c->user_id, sizeof c->user_id) != SC_OK)
        return SC_ERR_BAD_CERTIFICATE;
    if (!X509_digest(leaf, EVP_sha256(), c->fingerprint, &len)) return SC_ERR_NOMEM;
    memcpy(hashes[0], c->fingerprint, 32);
    for (int i = 0; i < sk_X509_num(c->untrusted); i++) {
        if (!X509_digest(sk_X509_value(c->untrusted, i), EVP_sha256(), hashes[i + 1], &len))
            return SC_ERR_NOMEM;
    }
    if (!EVP_Digest(hashes, 32 * (size_t)(sk_X509_num(c->untrusted) + 1), c->chain_key, NULL,
                    EVP_sha256(), NULL))
        return SC_ERR_NOMEM;
    return SC_OK;
}

int irpd_ca_verify_client(irpd_ca *ca, X509 *leaf, STACK_OF(X509) * chain, int64_t now,
                          irpd_client *out, irpd_ca_err *err)
{
    sc_peer_chain c;
    int r, ret;

    if (ca == NULL || out == NULL) return fail(err, IRPD_CA_INTERNAL, "invalid argument");
    memset(out, 0, sizeof *out);
    ERR_set_mark();
    r = chain_from_x509(leaf, chain, &c);
    if (r == SC_OK) {
        ret = verify_chain(ca, &c, now, out, err);
    } else if (r == SC_ERR_NOMEM) {
        ret = fail(err, IRPD_CA_INTERNAL, "cannot read the client certificate");
    } else {
        ret = fail(err, IRPD_CA_AUTH, "%s", refusal(r));
        if (err != NULL) err->sc = r;
    }
    sc_peer_chain_clear(&c);
    if (ret != IRPD_CA_OK) memset(out, 0, sizeof *out);
    ERR_pop_to_mark();
    return ret;
}

/* ---- files: the only I/O of this module ------------------------------------ */

/*
 * Creates name in dirfd (O_EXCL: never an existing file or a planted
 * symlink) with exactly mode, whatever the umask, and writes either the
 * private key or the certificate straight from OpenSSL's encoder to the
 * descriptor, so no copy of a key sits in a buffer of ours.
 */
static int write_pem_file(int dirfd, const char *name, mode_t mode, X509 *x, EVP_PKEY *key,
                          irpd_ca_err *err)
{
    int fd, r;
    BIO *bio;

    fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) {
        if (errno == EEXIST) return fail(err, IRPD_CA_EXISTS, "%s already exists", name);
        return fail(err, IRPD_CA_INTERNAL, "cannot create %s: %s", name, strerror(errno));
    }
    r = fchmod(fd, mode) == 0 && (bio = BIO_new_fd(fd, BIO_NOCLOSE)) != NULL;
    if (r) {
        r = key != NULL ? PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)
                        : PEM_write_bio_X509(bio, x);
        r = r && BIO_flush(bio) == 1;
        BIO_free(bio);
    }
    r = r && fsync(fd) == 0;
    if (close(fd) != 0) r = 0;
    if (!r) {
        unlinkat(dirfd, name, 0);
        return fail(err, IRPD_CA_INTERNAL, "cannot write %s", name);
    }
    return IRPD_CA_OK;
}

struct out_file {
    const char *name;
    mode_t mode;
    X509 *x;
    EVP_PKEY *key;
};

int irpd_ca_save(const irpd_ca *ca, const char *dir, irpd_ca_err *err)
{
    int dirfd, ret = IRPD_CA_OK;
    size_t done = 0;

    if (ca == NULL || dir == NULL) return fail(err, IRPD_CA_INTERNAL, "invalid argument");
    if (ca->server_cert == NULL)
        return fail(err, IRPD_CA_INTERNAL, "no server certificate to save yet");
    /* Keys first: if one exists, nothing else was written. */
    const struct out_file files[4] = {
        {IRPD_CA_KEY_FILE, 0600, NULL, ca->key},
        {IRPD_SERVER_KEY_FILE, 0600, NULL, ca->server_key},
        {IRPD_CA_CERT_FILE, 0644, ca->cert, NULL},
        {IRPD_SERVER_CERT_FILE, 0644, ca->server_cert, NULL},
    };

    dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) return fail(err, IRPD_CA_INTERNAL, "cannot open %s: %s", dir, strerror(errno));
    ERR_set_mark();
    for (; done < 4 && ret == IRPD_CA_OK; done++) {
        ret = write_pem_file(dirfd, files[done].name, files[done].mode, files[done].x,
                             files[done].key, err);
    }
    if (ret != IRPD_CA_OK) {
        /* Remove only what this call created (the failed one removed itself or was not ours). */
        for (size_t i = 0; i + 1 < done; i++)
            unlinkat(dirfd, files[i].name, 0);
    } else if (fsync(dirfd) != 0) {
        ret = fail(err, IRPD_CA_INTERNAL, "cannot sync %s: %s", dir, strerror(errno));
    }
    if (ret == IRPD_CA_OK) ok(err);
    ERR_pop_to_mark();
    close(dirfd);
    return ret;
}

/*
 * Reads a whole file (at most FILE_MAX) into a NUL-terminated buffer. A
 * secret file must be a regular file nobody but its owner can read.
 */
static int read_file(int dirfd, const char *name, int secret, char **out, size_t *out_len,
                     irpd_ca_err *err)
{
    struct stat st;
    char *buf = NULL;
    size_t len = 0;
    ssize_t n;
    int fd, ret = IRPD_CA_INTERNAL;

    *out = NULL;
    fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(err, ret, "cannot open %s: %s", name, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        fail(err, ret, "%s is not a regular file", name);
        goto out;
    }
    if (secret && (st.st_mode & 077) != 0) {
        fail(err, ret, "%s may be read by others (mode %03o): chmod 600 it", name,
             (unsigned)(st.st_mode & 0777));
        goto out;
    }
    if (st.st_size > FILE_MAX) {
        fail(err, ret, "%s is larger than %d bytes", name, FILE_MAX);
        goto out;
    }
    if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
        fail(err, ret, "out of memory");
        goto out;
    }
    while (len < (size_t)st.st_size) {
        n = read(fd, buf + len, (size_t)st.st_size - len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        len += (size_t)n;
    }
    if (len != (size_t)st.st_size) {
        fail(err, ret, "cannot read %s", name);
        goto out;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    buf = NULL;
    ret = IRPD_CA_OK;
out:
    if (buf != NULL) {
        OPENSSL_cleanse(buf, (size_t)st.st_size + 1);
        free(buf);
    }
    close(fd);
    return ret;
}

static void free_secret(char *s, size_t len)
{
    if (s == NULL) return;
    OPENSSL_cleanse(s, len);
    free(s);
}

int irpd_ca_load(const char *dir, irpd_ca **out, irpd_ca_err *err)
{
    char *ca_pem = NULL, *ca_key = NULL, *srv_pem = NULL, *srv_key = NULL;
    size_t ca_pem_len = 0, ca_key_len = 0, srv_pem_len = 0, srv_key_len = 0;
    int dirfd, ret;

    if (out == NULL || dir == NULL) return fail(err, IRPD_CA_INTERNAL, "invalid argument");
    *out = NULL;
    dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) return fail(err, IRPD_CA_INTERNAL, "cannot open %s: %s", dir, strerror(errno));
    if ((ret = read_file(dirfd, IRPD_CA_CERT_FILE, 0, &ca_pem, &ca_pem_len, err)) != IRPD_CA_OK ||
        (ret = read_file(dirfd, IRPD_CA_KEY_FILE, 1, &ca_key, &ca_key_len, err)) != IRPD_CA_OK ||
        (ret = read_file(dirfd, IRPD_SERVER_CERT_FILE, 0, &srv_pem, &srv_pem_len, err)) !=
            IRPD_CA_OK ||
        (ret = read_file(dirfd, IRPD_SERVER_KEY_FILE, 1, &srv_key, &srv_key_len, err)) !=
            IRPD_CA_OK)
        goto out;
    ret = irpd_ca_from_pem(ca_pem, ca_pem_len, ca_key, ca_key_len, srv_pem, srv_pem_len, srv_key,
                           srv_key_len, out, err);
out:
    free(ca_pem);
    free(srv_pem);
    free_secret(ca_key, ca_key_len);
    free_secret(srv_key, srv_key_len);
    close(dirfd);
    return ret;
}

int irpd_ca_add_trusted_file(irpd_ca *ca, const char *path, irpd_ca_err *err)
{
    char *pem = NULL;
    size_t len = 0;
    int ret;

    if (ca == NULL || path == NULL) return fail(err, IRPD_CA_INTERNAL, "invalid argument");
    ret = read_file(AT_FDCWD, path, 0, &pem, &len, err);
    if (ret == IRPD_CA_OK) ret = irpd_ca_add_trusted_pem(ca, pem, len, err);
    free(pem);
    return ret;
}
