/*
 * sc_spki.c - see sc_spki.h. The schemas below are RFC 5280 4.1 with every
 * field the key does not need left as ASN1_ANY: OpenSSL's DER decoder still
 * checks every length and tag, we only decline to interpret the contents.
 */
#include <limits.h>
#include <string.h>
#include <openssl/asn1t.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>

#include "sixchat/error.h"
#include "sc_spki.h"
#include "sc_crypto.h"

typedef struct sc_spki_st {
    X509_ALGOR *alg;
    ASN1_BIT_STRING *key;
} SC_SPKI;

typedef struct sc_tbs_st {
    ASN1_TYPE *version; /* [0] EXPLICIT, optional */
    ASN1_TYPE *serial, *sig, *issuer, *validity, *subject;
    SC_SPKI *spki;
    ASN1_BIT_STRING *issuer_uid, *subject_uid; /* [1], [2] IMPLICIT, optional */
    ASN1_TYPE *extensions;                     /* [3] EXPLICIT, optional */
} SC_TBS;

typedef struct sc_certskel_st {
    SC_TBS *tbs;
    ASN1_TYPE *sig_alg, *sig;
} SC_CERTSKEL;

/* RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } (RFC 8017 A.1.1) */
typedef struct sc_rsapub_st {
    ASN1_INTEGER *n, *e;
} SC_RSAPUB;

/* clang-format off */
ASN1_SEQUENCE(SC_SPKI) = {
    ASN1_SIMPLE(SC_SPKI, alg, X509_ALGOR),
    ASN1_SIMPLE(SC_SPKI, key, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(SC_SPKI)

ASN1_SEQUENCE(SC_TBS) = {
    ASN1_EXP_OPT(SC_TBS, version, ASN1_ANY, 0),
    ASN1_SIMPLE(SC_TBS, serial, ASN1_ANY),
    ASN1_SIMPLE(SC_TBS, sig, ASN1_ANY),
    ASN1_SIMPLE(SC_TBS, issuer, ASN1_ANY),
    ASN1_SIMPLE(SC_TBS, validity, ASN1_ANY),
    ASN1_SIMPLE(SC_TBS, subject, ASN1_ANY),
    ASN1_SIMPLE(SC_TBS, spki, SC_SPKI),
    ASN1_IMP_OPT(SC_TBS, issuer_uid, ASN1_BIT_STRING, 1),
    ASN1_IMP_OPT(SC_TBS, subject_uid, ASN1_BIT_STRING, 2),
    ASN1_EXP_OPT(SC_TBS, extensions, ASN1_ANY, 3),
} static_ASN1_SEQUENCE_END(SC_TBS)

ASN1_SEQUENCE(SC_CERTSKEL) = {
    ASN1_SIMPLE(SC_CERTSKEL, tbs, SC_TBS),
    ASN1_SIMPLE(SC_CERTSKEL, sig_alg, ASN1_ANY),
    ASN1_SIMPLE(SC_CERTSKEL, sig, ASN1_ANY),
} static_ASN1_SEQUENCE_END(SC_CERTSKEL)

ASN1_SEQUENCE(SC_RSAPUB) = {
    ASN1_SIMPLE(SC_RSAPUB, n, ASN1_INTEGER),
    ASN1_SIMPLE(SC_RSAPUB, e, ASN1_INTEGER),
} static_ASN1_SEQUENCE_END(SC_RSAPUB)
    /* clang-format on */

    /* The key bits of a BIT STRING: whole bytes only, as every key encoding here uses. */
    static int key_bytes(const ASN1_BIT_STRING *bs, const uint8_t **p, size_t *n)
{
    if ((bs->flags & ASN1_STRING_FLAG_BITS_LEFT) != 0 && (bs->flags & 0x07) != 0) return 0;
    *p = ASN1_STRING_get0_data(bs);
    *n = (size_t)ASN1_STRING_length(bs);
    return *n > 0;
}

/* Imports a key from OSSL_PARAMs through its key manager. */
static int from_params(const char *type, OSSL_PARAM *params, EVP_PKEY **out)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    int ok = ctx != NULL && EVP_PKEY_fromdata_init(ctx) > 0 &&
             EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) > 0;
    EVP_PKEY_CTX_free(ctx);
    return ok ? SC_OK : SC_ERR_BAD_CERTIFICATE;
}

static EVP_PKEY *curve_params(const char *group)
{
    EVP_PKEY *k = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0),
        OSSL_PARAM_construct_end(),
    };
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_KEY_PARAMETERS, params) <= 0)
        k = NULL;
    EVP_PKEY_CTX_free(ctx);
    return k;
}

int sc_spki_ctx_init(sc_spki_ctx *c)
{
    ERR_set_mark();
    c->p256 = curve_params("prime256v1");
    c->p384 = curve_params("secp384r1");
    ERR_pop_to_mark();
    return c->p256 != NULL && c->p384 != NULL ? SC_OK : SC_ERR_NOMEM;
}

void sc_spki_ctx_free(sc_spki_ctx *c)
{
    EVP_PKEY_free(c->p256);
    EVP_PKEY_free(c->p384);
    c->p256 = c->p384 = NULL;
}

/* The curve's parameters, then the point: set1_encoded_public_key refuses a point off the curve. */
static int ec_key(const sc_spki_ctx *c, const X509_ALGOR *alg, const uint8_t *pub, size_t n,
                  EVP_PKEY **out)
{
    const ASN1_OBJECT *oid;
    const void *pval;
    int ptype;
    EVP_PKEY *params, *k;

    X509_ALGOR_get0(&oid, &ptype, &pval, alg);
    if (ptype != V_ASN1_OBJECT) return SC_ERR_UNSUPPORTED_CERTIFICATE; /* named curves only */
    switch (OBJ_obj2nid(pval)) {
    case NID_X9_62_prime256v1:
        params = c->p256;
        break;
    case NID_secp384r1:
        params = c->p384;
        break;
    default:
        return SC_ERR_UNSUPPORTED_CERTIFICATE;
    }
    if ((k = EVP_PKEY_new()) == NULL) return SC_ERR_NOMEM;
    if (EVP_PKEY_copy_parameters(k, params) <= 0 ||
        EVP_PKEY_set1_encoded_public_key(k, pub, n) <= 0) {
        EVP_PKEY_free(k);
        return SC_ERR_BAD_CERTIFICATE;
    }
    *out = k;
    return SC_OK;
}

static int rsa_key(const uint8_t *der, size_t n, EVP_PKEY **out)
{
    const unsigned char *p = der;
    SC_RSAPUB *k = (SC_RSAPUB *)ASN1_item_d2i(NULL, &p, (long)n, ASN1_ITEM_rptr(SC_RSAPUB));
    BIGNUM *bn_n = NULL, *bn_e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    int ret = SC_ERR_BAD_CERTIFICATE;

    if (k == NULL || p != der + n) goto out;
    ret = SC_ERR_NOMEM;
    if ((bn_n = ASN1_INTEGER_to_BN(k->n, NULL)) == NULL ||
        (bn_e = ASN1_INTEGER_to_BN(k->e, NULL)) == NULL || (bld = OSSL_PARAM_BLD_new()) == NULL ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) ||
        (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
        goto out;
    ret = from_params("RSA", params, out);
out:
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    ASN1_item_free((ASN1_VALUE *)k, ASN1_ITEM_rptr(SC_RSAPUB));
    return ret;
}

/* The SPKI of a certificate: NULL when der is not one (no trailing bytes). */
static SC_CERTSKEL *skeleton(const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    SC_CERTSKEL *c = (SC_CERTSKEL *)ASN1_item_d2i(NULL, &p, (long)len, ASN1_ITEM_rptr(SC_CERTSKEL));
    if (c != NULL && p != der + len) {
        ASN1_item_free((ASN1_VALUE *)c, ASN1_ITEM_rptr(SC_CERTSKEL));
        c = NULL;
    }
    return c;
}

int sc_spki_leaf_key(const sc_spki_ctx *ctx, const uint8_t *der, size_t len, EVP_PKEY **out)
{
    SC_CERTSKEL *c;
    const uint8_t *pub;
    size_t n;
    int ptype, ret = SC_ERR_BAD_CERTIFICATE;
    const ASN1_OBJECT *oid;

    *out = NULL;
    if (der == NULL || len == 0 || len > LONG_MAX) return ret;
    unsigned long before = ERR_peek_error();
    ERR_set_mark();
    if ((c = skeleton(der, len)) == NULL) goto out;
    if (!key_bytes(c->tbs->spki->key, &pub, &n)) goto out;
    X509_ALGOR_get0(&oid, &ptype, NULL, c->tbs->spki->alg);
    switch (OBJ_obj2nid(oid)) {
    case NID_ED25519: /* RFC 8410 3: the parameters MUST be absent */
        if (ptype != V_ASN1_UNDEF || n != 32) goto out;
        /* Any 32 bytes import: a failure is memory. */
        ret = (*out = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, n)) != NULL
                  ? SC_OK
                  : SC_ERR_NOMEM;
        break;
    case NID_X9_62_id_ecPublicKey:
        ret = ec_key(ctx, c->tbs->spki->alg, pub, n, out);
        break;
    case NID_rsaEncryption: /* RFC 3279 2.3.1: parameters NULL */
        if (ptype != V_ASN1_NULL && ptype != V_ASN1_UNDEF) goto out;
        ret = rsa_key(pub, n, out);
        break;
    default:
        ret = SC_ERR_UNSUPPORTED_CERTIFICATE;
    }
out:
    /* Running out of memory is not the peer's bad certificate (tests/test_oom.c). */
    if (ret == SC_ERR_BAD_CERTIFICATE && sc_ossl_nomem(before)) ret = SC_ERR_NOMEM;
    ASN1_item_free((ASN1_VALUE *)c, ASN1_ITEM_rptr(SC_CERTSKEL));
    ERR_pop_to_mark();
    return ret;
}

int sc_spki_matches(X509 *x, const uint8_t *der, size_t len)
{
    SC_CERTSKEL *c;
    const unsigned char *pk;
    int pk_len, ok = 0;
    X509_ALGOR *alg;
    const uint8_t *pub;
    size_t n;

    ERR_set_mark();
    /* These bytes were read once already (sc_spki_leaf_key): failing now is memory. */
    if ((c = skeleton(der, len)) == NULL) ok = -1;
    if (c != NULL && key_bytes(c->tbs->spki->key, &pub, &n) &&
        X509_PUBKEY_get0_param(NULL, &pk, &pk_len, &alg, X509_get_X509_PUBKEY(x)) &&
        (size_t)pk_len == n && memcmp(pk, pub, n) == 0 &&
        X509_ALGOR_cmp(alg, c->tbs->spki->alg) == 0)
        ok = 1;
    ASN1_item_free((ASN1_VALUE *)c, ASN1_ITEM_rptr(SC_CERTSKEL));
    ERR_pop_to_mark();
    return ok;
}
