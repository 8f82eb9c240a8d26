/*
 * sc_testcert.c - keys and certificates made in code for tests (see
 * sc_testcert.h). Test support, not core: it may use files and randomness,
 * and it aborts on any failure instead of returning errors.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "sc_testcert.h"

/* A test cannot go on without its certificates: say where and stop. */
#define TC_CHECK(cond)                                                                             \
    do {                                                                                           \
        if (!(cond)) tc_fail(__FILE__, __LINE__, #cond);                                           \
    } while (0)

static void tc_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: sc_testcert: %s failed\n", file, line, what);
    ERR_print_errors_fp(stderr);
    abort();
}

static void *tc_malloc(size_t n)
{
    void *p = malloc(n);
    TC_CHECK(p != NULL);
    return p;
}

EVP_PKEY *sc_testkey_new(sc_testkey_type type)
{
    EVP_PKEY *k = NULL;

    switch (type) {
    case SC_TESTKEY_ED25519:
        k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        break;
    case SC_TESTKEY_ED448:
        k = EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
        break;
    case SC_TESTKEY_P256:
        k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        break;
    case SC_TESTKEY_P384:
        k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
        break;
    case SC_TESTKEY_P521:
        k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
        break;
    case SC_TESTKEY_RSA2048:
        k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        break;
    case SC_TESTKEY_RSA1024:
        k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
        break;
    }
    TC_CHECK(k != NULL);
    return k;
}

/* The digest to sign with a key: none for EdDSA, else one matching the curve's strength. */
static const EVP_MD *sign_md(EVP_PKEY *key)
{
    if (EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448")) return NULL;
    if (EVP_PKEY_is_a(key, "EC") && EVP_PKEY_get_bits(key) == 384) return EVP_sha384();
    if (EVP_PKEY_is_a(key, "EC") && EVP_PKEY_get_bits(key) == 521) return EVP_sha512();
    return EVP_sha256();
}

/* Adds one extension in OpenSSL config syntax; issuer may be the cert itself. */
static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509_EXTENSION *ext;

    X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
    ext = X509V3_EXT_nconf_nid(NULL, &v3, nid, value);
    TC_CHECK(ext != NULL);
    TC_CHECK(X509_add_ext(x, ext, -1));
    X509_EXTENSION_free(ext);
}

static uint64_t fresh_serial(void)
{
    uint64_t s = 0;

    while (s == 0) {
        TC_CHECK(RAND_bytes((unsigned char *)&s, sizeof s) == 1);
        s >>= 1; /* positive and at most 8 bytes of DER content */
    }
    return s;
}

/*
 * The common part of every certificate: version, serial, names, validity
 * and the subject key identifier. issuer NULL means self-signed.
 */
static sc_testcert *cert_start(const sc_testcert *issuer, sc_testkey_type type, EVP_PKEY *key,
                               const char *cn, uint64_t serial, int64_t not_before,
                               int64_t not_after)
{
    sc_testcert *tc = tc_malloc(sizeof *tc);
    X509_NAME *name = X509_NAME_new();

    if (key != NULL) TC_CHECK(EVP_PKEY_up_ref(key) == 1);
    tc->key = key != NULL ? key : sc_testkey_new(type);
    tc->cert = X509_new();
    TC_CHECK(tc->cert != NULL && name != NULL);
    TC_CHECK(X509_set_version(tc->cert, X509_VERSION_3));
    TC_CHECK(ASN1_INTEGER_set_uint64(X509_get_serialNumber(tc->cert),
                                     serial != 0 ? serial : fresh_serial()));
    TC_CHECK(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
                                        -1, 0));
    TC_CHECK(X509_set_subject_name(tc->cert, name));
    TC_CHECK(X509_set_issuer_name(tc->cert,
                                  issuer != NULL ? X509_get_subject_name(issuer->cert) : name));
    X509_NAME_free(name);
    TC_CHECK(ASN1_TIME_set(X509_getm_notBefore(tc->cert), (time_t)not_before) != NULL);
    TC_CHECK(ASN1_TIME_set(X509_getm_notAfter(tc->cert), (time_t)not_after) != NULL);
    TC_CHECK(X509_set_pubkey(tc->cert, tc->key));
    add_ext(tc->cert, tc->cert, NID_subject_key_identifier, "hash");
    if (issuer != NULL)
        add_ext(tc->cert, issuer->cert, NID_authority_key_identifier, "keyid:always");
    return tc;
}

static void cert_sign(sc_testcert *tc, const sc_testcert *issuer)
{
    EVP_PKEY *key = issuer != NULL ? issuer->key : tc->key;
    TC_CHECK(X509_sign(tc->cert, key, sign_md(key)) > 0);
}

static void add_ca_exts(X509 *x)
{
    add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
}

sc_testcert *sc_testcert_root(sc_testkey_type type, const char *cn, int64_t not_before,
                              int64_t not_after)
{
    sc_testcert_opts o = {.key_type = type, .not_before = not_before, .not_after = not_after};
    return sc_testcert_ca_opts(NULL, cn, &o);
}

sc_testcert *sc_testcert_ca(const sc_testcert *issuer, sc_testkey_type type, const char *cn,
                            int64_t not_before, int64_t not_after)
{
    sc_testcert_opts o = {.key_type = type, .not_before = not_before, .not_after = not_after};
    return sc_testcert_ca_opts(issuer, cn, &o);
}

sc_testcert *sc_testcert_ca_opts(const sc_testcert *issuer, const char *cn,
                                 const sc_testcert_opts *o)
{
    sc_testcert *tc =
        cert_start(issuer, o->key_type, o->key, cn, o->serial, o->not_before, o->not_after);
    add_ca_exts(tc->cert);
    cert_sign(tc, issuer);
    return tc;
}

sc_testcert *sc_testcert_user(const sc_testcert *issuer, const sc_testcert_opts *o)
{
    int64_t nb = o->not_before, na = o->not_after;
    const char *cn = o->user_id != NULL ? o->user_id : "no user id";
    int rsa;
    sc_testcert *tc;
    X509 *x;
    char san[512];

    if (nb == 0 && na == 0) {
        nb = SC_TESTCERT_NOW - 86400;
        na = SC_TESTCERT_NOW + 365 * 86400;
    }
    tc = cert_start(issuer, o->key_type, o->key, cn, o->serial, nb, na);
    x = tc->cert;
    rsa = EVP_PKEY_is_a(tc->key, "RSA");
    add_ext(x, x, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(x, x, NID_key_usage,
            o->key_usage != NULL ? o->key_usage
            : rsa                ? "critical,digitalSignature,keyEncipherment"
                                 : "critical,digitalSignature");
    if (o->eku == SC_TESTCERT_EKU_CLIENT)
        add_ext(x, x, NID_ext_key_usage, "clientAuth");
    else if (o->eku == SC_TESTCERT_EKU_SERVER_ONLY)
        add_ext(x, x, NID_ext_key_usage, "serverAuth");
    else if (o->eku == SC_TESTCERT_EKU_CLIENT_SERVER)
        add_ext(x, x, NID_ext_key_usage, "clientAuth,serverAuth");
    if (o->user_id != NULL) {
        TC_CHECK(snprintf(san, sizeof san, "email:%s", o->user_id) < (int)sizeof san);
        add_ext(x, x, NID_subject_alt_name, san);
    }
    cert_sign(tc, issuer);
    return tc;
}

void sc_testcert_add_ext(sc_testcert *tc, const sc_testcert *issuer, int nid, const char *value)
{
    add_ext(tc->cert, tc->cert, nid, value);
    cert_sign(tc, issuer);
}

void sc_testcert_free(sc_testcert *tc)
{
    if (tc == NULL) return;
    EVP_PKEY_free(tc->key);
    X509_free(tc->cert);
    free(tc);
}

/* Copies a memory BIO's contents into a NUL-terminated malloc'd string and frees the BIO. */
static char *bio_to_string(BIO *bio)
{
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    char *s;

    TC_CHECK(n >= 0);
    s = tc_malloc((size_t)n + 1);
    memcpy(s, data, (size_t)n);
    s[n] = '\0';
    BIO_free(bio);
    return s;
}

char *sc_testcert_cert_pem(const sc_testcert *tc)
{
    BIO *bio = BIO_new(BIO_s_mem());
    TC_CHECK(bio != NULL && PEM_write_bio_X509(bio, tc->cert));
    return bio_to_string(bio);
}

char *sc_testcert_key_pem(const sc_testcert *tc)
{
    BIO *bio = BIO_new(BIO_s_mem());
    /* PEM_write_bio_PrivateKey writes PKCS#8 ("PRIVATE KEY") in OpenSSL 3. */
    TC_CHECK(bio != NULL && PEM_write_bio_PrivateKey(bio, tc->key, NULL, NULL, 0, NULL, NULL));
    return bio_to_string(bio);
}

uint8_t *sc_testcert_der(const sc_testcert *tc, size_t *len)
{
    int n = i2d_X509(tc->cert, NULL);
    uint8_t *der, *p;

    TC_CHECK(n > 0);
    der = p = tc_malloc((size_t)n);
    TC_CHECK(i2d_X509(tc->cert, &p) == n);
    *len = (size_t)n;
    return der;
}

uint8_t *sc_testcert_chain_der(const sc_testcert *leaf, const sc_testcert *inter, size_t *len)
{
    size_t a, b;
    uint8_t *l = sc_testcert_der(leaf, &a), *i = sc_testcert_der(inter, &b);
    uint8_t *both = tc_malloc(a + b);

    memcpy(both, l, a);
    memcpy(both + a, i, b);
    free(l);
    free(i);
    *len = a + b;
    return both;
}

char *sc_testcert_concat(const char *first, ...)
{
    va_list ap;
    size_t total = 0;
    char *out;

    va_start(ap, first);
    for (const char *s = first; s != NULL; s = va_arg(ap, const char *))
        total += strlen(s);
    va_end(ap);
    out = tc_malloc(total + 1);
    out[0] = '\0';
    va_start(ap, first);
    for (const char *s = first; s != NULL; s = va_arg(ap, const char *))
        strcat(out, s);
    va_end(ap);
    return out;
}

/* The bytes inside each PEM block as they are, so tests see exactly what openssl wrote. */
size_t sc_testcert_pem_to_der(const char *pem, uint8_t **der, size_t *len, size_t max)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    size_t n = 0;
    char *name, *header;
    unsigned char *data;
    long dlen;

    TC_CHECK(bio != NULL);
    while (n < max && PEM_read_bio(bio, &name, &header, &data, &dlen)) {
        if (strcmp(name, "CERTIFICATE") == 0) {
            der[n] = tc_malloc((size_t)dlen);
            memcpy(der[n], data, (size_t)dlen);
            len[n++] = (size_t)dlen;
        }
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
    }
    ERR_clear_error(); /* the end of input is reported as an error */
    BIO_free(bio);
    return n;
}

void sc_testcert_fingerprint(const char *cert_pem, uint8_t out[32])
{
    uint8_t *der;
    size_t len;

    TC_CHECK(sc_testcert_pem_to_der(cert_pem, &der, &len, 1) == 1);
    SHA256(der, len, out);
    free(der);
}

char *sc_testcert_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0, got;

    if (f == NULL) return NULL;
    do {
        if (cap - n < 4096) {
            cap = cap * 2 + 4096;
            buf = realloc(buf, cap + 1);
            TC_CHECK(buf != NULL);
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    if (ferror(f)) {
        free(buf);
        buf = NULL;
    } else {
        buf[n] = '\0';
        if (len != NULL) *len = n;
    }
    fclose(f);
    return buf;
}
