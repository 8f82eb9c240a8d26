/*
 * fz_pki.c - see fz_pki.h.
 */
#include "fz_pki.h"

#include <string.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>

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

/*
 * Makes a certificate for the key labelled `label`, signed by issuer (NULL:
 * self-signed). The signature nonce comes from the reseeded RNG, so the same
 * calls make the same bytes in every process.
 */
void fz_cert_make(fz_cert *c, const fz_cert *issuer, const char *label, uint64_t serial,
                  const fz_cert_opts *o)
{
    sc_testcert_opts to = {
        .key_type = o->rsa ? SC_TESTKEY_RSA2048 : SC_TESTKEY_P256,
        .user_id = o->user_id,
        .eku = SC_TESTCERT_EKU_CLIENT,
        .not_before = o->not_before,
        .not_after = o->not_after,
        .serial = serial,
    };
    if (o->eku != NULL) {
        FZ_CHECK(strcmp(o->eku, "serverAuth") == 0);
        to.eku = SC_TESTCERT_EKU_SERVER_ONLY;
    }
    memset(c, 0, sizeof *c);
    to.key = o->rsa ? fz_rsa_key(label) : fz_p256_key(label);
    /* Nothing between here and the signature draws from the RNG but the signature. */
    fz_ossl_seed(FZ_SEED_PKI + serial);
    c->tc = o->user_id ? sc_testcert_user(issuer ? issuer->tc : NULL, &to)
                       : sc_testcert_ca_opts(issuer ? issuer->tc : NULL, label, &to);
    EVP_PKEY_free(to.key); /* the certificate holds its own reference */
    c->cert_pem = sc_testcert_cert_pem(c->tc);
    c->key_pem = sc_testcert_key_pem(c->tc);
    c->der = sc_testcert_der(c->tc, &c->der_len);
}
