/*
 * fz_pki.c - see fz_pki.h.
 */
#include "fz_pki.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "fz_rand.h"

/* A P-256 key whose private scalar is SHA-256(label): the same key in every process. */
static EVP_PKEY *fz_p256_key(const char *label)
{
    uint8_t d32[32], pub[65];
    EVP_PKEY *pk = NULL;
    EC_GROUP *grp = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    EC_POINT *pt = grp ? EC_POINT_new(grp) : NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    FZ_CHECK(EVP_Digest(label, strlen(label), d32, NULL, EVP_sha256(), NULL));
    BIGNUM *d = BN_bin2bn(d32, 32, NULL);
    FZ_CHECK(grp && pt && bld && pctx && d && BN_cmp(d, EC_GROUP_get0_order(grp)) < 0);
    FZ_CHECK(EC_POINT_mul(grp, pt, d, NULL, NULL, NULL));
    FZ_CHECK(EC_POINT_point2oct(grp, pt, POINT_CONVERSION_UNCOMPRESSED, pub, 65, NULL) == 65);
    FZ_CHECK(OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0));
    FZ_CHECK(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d));
    FZ_CHECK(OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, 65));
    FZ_CHECK((params = OSSL_PARAM_BLD_to_param(bld)) != NULL);
    FZ_CHECK(EVP_PKEY_fromdata_init(pctx) > 0);
    FZ_CHECK(EVP_PKEY_fromdata(pctx, &pk, EVP_PKEY_KEYPAIR, params) > 0);
    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EC_POINT_free(pt);
    BN_clear_free(d);
    EC_GROUP_free(grp);
    return pk;
}

/*
 * An RSA-2048 key. Generating one draws from the RNG, so it is reseeded from
 * the label first: the same key in every process (of the same OpenSSL).
 */
static EVP_PKEY *fz_rsa_key(const char *label)
{
    uint64_t seed = UINT64_C(1469598103934665603);
    for (const char *p = label; *p; p++)
        seed = (seed ^ (uint8_t)*p) * UINT64_C(1099511628211);
    fz_ossl_seed(seed);
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    FZ_CHECK(pk != NULL);
    return pk;
}

static void fz_add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, &v3, nid, value);
    FZ_CHECK(ext != NULL && X509_add_ext(x, ext, -1));
    X509_EXTENSION_free(ext);
}

static char *fz_bio_string(BIO *bio)
{
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    FZ_CHECK(n >= 0);
    char *s = malloc((size_t)n + 1);
    FZ_CHECK(s != NULL);
    memcpy(s, data, (size_t)n);
    s[n] = '\0';
    BIO_free(bio);
    return s;
}

/*
 * Makes a certificate for the key labelled `label`, signed by issuer (NULL:
 * self-signed). The signature nonce comes from the reseeded RNG, so the same
 * calls make the same bytes in every process.
 */
void fz_cert_make(fz_cert *c, const fz_cert *issuer, const char *label, uint64_t serial,
                  const fz_cert_opts *o)
{
    X509_NAME *name = X509_NAME_new();
    const char *cn = o->user_id ? o->user_id : label;
    memset(c, 0, sizeof *c);
    c->key = o->rsa ? fz_rsa_key(label) : fz_p256_key(label);
    FZ_CHECK((c->cert = X509_new()) != NULL && name != NULL);
    FZ_CHECK(X509_set_version(c->cert, X509_VERSION_3));
    FZ_CHECK(ASN1_INTEGER_set_uint64(X509_get_serialNumber(c->cert), serial));
    FZ_CHECK(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
                                        -1, 0));
    FZ_CHECK(X509_set_subject_name(c->cert, name));
    FZ_CHECK(X509_set_issuer_name(c->cert, issuer ? X509_get_subject_name(issuer->cert) : name));
    X509_NAME_free(name);
    FZ_CHECK(ASN1_TIME_set(X509_getm_notBefore(c->cert), (time_t)o->not_before) != NULL);
    FZ_CHECK(ASN1_TIME_set(X509_getm_notAfter(c->cert), (time_t)o->not_after) != NULL);
    FZ_CHECK(X509_set_pubkey(c->cert, c->key));
    fz_add_ext(c->cert, c->cert, NID_subject_key_identifier, "hash");
    if (issuer) fz_add_ext(c->cert, issuer->cert, NID_authority_key_identifier, "keyid:always");
    if (o->user_id == NULL) {
        fz_add_ext(c->cert, c->cert, NID_basic_constraints, "critical,CA:TRUE");
        fz_add_ext(c->cert, c->cert, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        char san[300];
        FZ_CHECK(snprintf(san, sizeof san, "email:%s", o->user_id) < (int)sizeof san);
        fz_add_ext(c->cert, c->cert, NID_basic_constraints, "critical,CA:FALSE");
        fz_add_ext(c->cert, c->cert, NID_key_usage,
                   o->rsa ? "critical,digitalSignature,keyEncipherment"
                          : "critical,digitalSignature");
        fz_add_ext(c->cert, c->cert, NID_ext_key_usage, o->eku ? o->eku : "clientAuth");
        fz_add_ext(c->cert, c->cert, NID_subject_alt_name, san);
    }
    fz_ossl_seed(FZ_SEED_PKI + serial);
    FZ_CHECK(X509_sign(c->cert, issuer ? issuer->key : c->key, EVP_sha256()) > 0);

    BIO *bio = BIO_new(BIO_s_mem());
    FZ_CHECK(bio != NULL && PEM_write_bio_X509(bio, c->cert));
    c->cert_pem = fz_bio_string(bio);
    bio = BIO_new(BIO_s_mem());
    FZ_CHECK(bio != NULL && PEM_write_bio_PrivateKey(bio, c->key, NULL, NULL, 0, NULL, NULL));
    c->key_pem = fz_bio_string(bio);
    unsigned char *der = NULL;
    int n = i2d_X509(c->cert, &der);
    FZ_CHECK(n > 0);
    c->der = malloc((size_t)n);
    FZ_CHECK(c->der != NULL);
    memcpy(c->der, der, (size_t)n);
    c->der_len = (size_t)n;
    OPENSSL_free(der);
}
