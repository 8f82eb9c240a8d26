/*
 * bench_certs.c - generates the benchmark PKI with OpenSSL (see bench_certs.h).
 */
#include "bench_certs.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define VALID_BEFORE_S 3600L         /* notBefore: an hour ago */
#define VALID_AFTER_S (30L * 86400L) /* notAfter: in 30 days */

static EVP_PKEY *gen_key(int keytype)
{
    switch (keytype) {
    case BENCH_KEY_P256:
        return EVP_EC_gen("P-256");
    case BENCH_KEY_ED25519:
        return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    case BENCH_KEY_RSA2048:
        return EVP_RSA_gen(2048);
    default:
        return NULL;
    }
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (ext == NULL) return -1;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

/*
 * A certificate for key, named CN=cn, issued by issuer/issuer_key (NULL:
 * self-signed). leaf_email NULL makes a CA certificate (path length
 * ca_pathlen, or unbounded when < 0).
 */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
                       const char *leaf_email, int ca_pathlen, int rsa_leaf)
{
    X509 *x = X509_new();
    if (x == NULL) return NULL;
    uint64_t serial = 0;
    if (RAND_bytes((unsigned char *)&serial, sizeof(serial)) != 1) goto fail;
    serial = (serial >> 1) | 1; /* positive, non-zero */
    if (!X509_set_version(x, X509_VERSION_3) ||
        !ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial) ||
        X509_gmtime_adj(X509_getm_notBefore(x), -VALID_BEFORE_S) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(x), VALID_AFTER_S) == NULL || !X509_set_pubkey(x, key))
        goto fail;
    X509_NAME *name = X509_get_subject_name(x);
    if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"sixchat bench",
                                    -1, -1, 0) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0))
        goto fail;
    X509 *iss = issuer != NULL ? issuer : x;
    if (!X509_set_issuer_name(x, X509_get_subject_name(iss))) goto fail;

    if (add_ext(x, iss, NID_subject_key_identifier, "hash") != 0) goto fail;
    if (issuer != NULL && add_ext(x, iss, NID_authority_key_identifier, "keyid:always") != 0)
        goto fail;
    if (leaf_email == NULL) {
        char bc[64];
        if (ca_pathlen >= 0)
            snprintf(bc, sizeof(bc), "critical,CA:TRUE,pathlen:%d", ca_pathlen);
        else
            snprintf(bc, sizeof(bc), "critical,CA:TRUE");
        if (add_ext(x, iss, NID_basic_constraints, bc) != 0 ||
            add_ext(x, iss, NID_key_usage, "critical,keyCertSign,cRLSign") != 0)
            goto fail;
    } else {
        char san[128];
        snprintf(san, sizeof(san), "email:%s", leaf_email);
        if (add_ext(x, iss, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
            add_ext(x, iss, NID_key_usage,
                    rsa_leaf ? "critical,digitalSignature,keyEncipherment"
                             : "critical,digitalSignature") != 0 ||
            add_ext(x, iss, NID_ext_key_usage, "clientAuth,serverAuth") != 0 ||
            add_ext(x, iss, NID_subject_alt_name, san) != 0)
            goto fail;
    }

    EVP_PKEY *signer = issuer_key != NULL ? issuer_key : key;
    /* Ed25519 signs without a separate digest. */
    const EVP_MD *md = EVP_PKEY_is_a(signer, "ED25519") ? NULL : EVP_sha256();
    if (X509_sign(x, signer, md) <= 0) goto fail;
    return x;
fail:
    X509_free(x);
    return NULL;
}

/* Copies a memory BIO's contents into a NUL-terminated malloc'd string. */
static char *bio_to_string(BIO *b, size_t *len)
{
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    if (n < 0) return NULL;
    char *s = malloc((size_t)n + 1);
    if (s == NULL) return NULL;
    memcpy(s, data, (size_t)n);
    s[n] = '\0';
    *len = (size_t)n;
    return s;
}

static char *cert_pem(X509 *const *certs, int ncerts, size_t *len)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL) return NULL;
    char *s = NULL;
    for (int i = 0; i < ncerts; i++)
        if (!PEM_write_bio_X509(b, certs[i])) goto done;
    s = bio_to_string(b, len);
done:
    BIO_free(b);
    return s;
}

static char *key_pem(EVP_PKEY *key, size_t *len)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL) return NULL;
    char *s = NULL;
    if (PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL)) s = bio_to_string(b, len);
    BIO_free(b);
    return s;
}

static int make_identity(bench_identity *id, const char *user, int keytype, X509 *inter,
                         EVP_PKEY *inter_key)
{
    int rc = -1;
    EVP_PKEY *key = gen_key(keytype);
    X509 *leaf = NULL;
    unsigned char *der = NULL;
    if (key == NULL) goto done;
    leaf = make_cert(key, user, inter, inter_key, user, -1, keytype == BENCH_KEY_RSA2048);
    if (leaf == NULL) goto done;
    X509 *chain[2] = {leaf, inter};
    id->user = user;
    id->cert_pem = cert_pem(chain, 1, &id->cert_pem_len);
    id->chain_pem = cert_pem(chain, 2, &id->chain_pem_len);
    id->key_pem = key_pem(key, &id->key_pem_len);
    int n = i2d_X509(leaf, &der);
    if (n > 0) {
        id->cert_der = malloc((size_t)n);
        if (id->cert_der != NULL) {
            memcpy(id->cert_der, der, (size_t)n);
            id->cert_der_len = (size_t)n;
        }
    }
    if (id->cert_pem != NULL && id->chain_pem != NULL && id->key_pem != NULL &&
        id->cert_der != NULL)
        rc = 0;
done:
    OPENSSL_free(der);
    X509_free(leaf);
    EVP_PKEY_free(key);
    return rc;
}

int bench_certs_generate(bench_certs *c)
{
    memset(c, 0, sizeof(*c));
    int rc = -1;
    EVP_PKEY *root_key = EVP_EC_gen("P-256");
    EVP_PKEY *inter_key = EVP_EC_gen("P-256");
    X509 *root = NULL, *inter = NULL;
    if (root_key == NULL || inter_key == NULL) goto done;
    root = make_cert(root_key, "sixchat bench root CA", NULL, NULL, NULL, -1, 0);
    if (root == NULL) goto done;
    inter = make_cert(inter_key, "sixchat bench intermediate CA", root, root_key, NULL, 0, 0);
    if (inter == NULL) goto done;
    c->root_pem = cert_pem(&root, 1, &c->root_pem_len);
    c->intermediate_pem = cert_pem(&inter, 1, &c->intermediate_pem_len);
    if (c->root_pem == NULL || c->intermediate_pem == NULL) goto done;
    for (int k = 0; k < BENCH_KEY_COUNT; k++) {
        if (make_identity(&c->alice[k], "alice@example.org", k, inter, inter_key) != 0 ||
            make_identity(&c->bob[k], "bob@example.org", k, inter, inter_key) != 0)
            goto done;
    }
    rc = 0;
done:
    if (rc != 0) {
        fprintf(stderr, "bench: certificate generation failed\n");
        ERR_print_errors_fp(stderr);
        bench_certs_free(c);
    }
    X509_free(inter);
    X509_free(root);
    EVP_PKEY_free(inter_key);
    EVP_PKEY_free(root_key);
    return rc;
}

static void free_identity(bench_identity *id)
{
    free(id->cert_pem);
    free(id->chain_pem);
    if (id->key_pem != NULL) {
        OPENSSL_cleanse(id->key_pem, id->key_pem_len);
        free(id->key_pem);
    }
    free(id->cert_der);
    memset(id, 0, sizeof(*id));
}

void bench_certs_free(bench_certs *c)
{
    free(c->root_pem);
    free(c->intermediate_pem);
    for (int k = 0; k < BENCH_KEY_COUNT; k++) {
        free_identity(&c->alice[k]);
        free_identity(&c->bob[k]);
    }
    memset(c, 0, sizeof(*c));
}
