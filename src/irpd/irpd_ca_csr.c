/*
 * irpd_ca_csr.c - checking certificate signing requests (irpd_ca.h;
 * docs/IRP.md 6.5 steps 2 and 3), cheapest checks first: the key's type and
 * size are read from the encoding, then the self-signature is verified, and
 * only then the key itself is checked (for RSA a primality test, which the
 * caller may run on another thread).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "irpd_ca.h"
#include "irpd_ca_int.h"

/*
 * RFC 5480 2.1.1: an EC key in a certificate names its curve; explicit
 * parameters (specifiedCurve) are refused, even when they describe a curve
 * we accept, since peers refuse them in turn.
 */
static int ec_named_curve(X509_REQ *req)
{
    X509_PUBKEY *xpk = X509_REQ_get_X509_PUBKEY(req);
    const X509_ALGOR *alg = NULL;
    const void *pval = NULL;
    int ptype = V_ASN1_UNDEF;

    if (xpk == NULL || !X509_PUBKEY_get0_param(NULL, NULL, NULL, (X509_ALGOR **)&alg, xpk))
        return 0;
    X509_ALGOR_get0(NULL, &ptype, &pval, alg);
    return ptype == V_ASN1_OBJECT;
}

/* 6.5 step 3: RSA keys use the exponent 65537 and nothing else. */
static int rsa_exponent_ok(EVP_PKEY *pk)
{
    BIGNUM *e = NULL;
    int ok = EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e) == 1 &&
             BN_is_word(e, IRPD_CA_RSA_EXPONENT);

    BN_free(e);
    return ok;
}

/*
 * The key types peers accept (PROTOCOL.md 7.4, 8.2 step 7; IRP.md 6.5 step
 * 3). Reads only the encoding: nothing is computed on the key. On refusal
 * writes why into msg.
 */
static int user_key_ok(X509_REQ *req, EVP_PKEY *pk, char *msg, size_t cap)
{
    char group[64] = "";
    int bits = EVP_PKEY_get_bits(pk), nid;
    const char *type = EVP_PKEY_get0_type_name(pk);

    switch (EVP_PKEY_get_base_id(pk)) {
    case EVP_PKEY_ED25519:
        return 1;
    case EVP_PKEY_RSA:
        if (bits < IRPD_CA_RSA_MIN_BITS || bits > IRPD_CA_RSA_MAX_BITS) {
            snprintf(msg, cap, "an RSA key of %d bits is %s: %d to %d bits", bits,
                     bits < IRPD_CA_RSA_MIN_BITS ? "too weak" : "too large", IRPD_CA_RSA_MIN_BITS,
                     IRPD_CA_RSA_MAX_BITS);
            return 0;
        }
        if (!rsa_exponent_ok(pk)) {
            snprintf(msg, cap, "an RSA key must have the public exponent %d", IRPD_CA_RSA_EXPONENT);
            return 0;
        }
        return 1;
    case EVP_PKEY_EC:
        if (!ec_named_curve(req)) {
            snprintf(msg, cap, "an EC key must name its curve: explicit parameters are refused");
            return 0;
        }
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
                 "a %s key is not supported: Ed25519, EC P-256 or P-384, or RSA of %d to %d bits",
                 type != NULL ? type : "unknown", IRPD_CA_RSA_MIN_BITS, IRPD_CA_RSA_MAX_BITS);
        return 0;
    }
}

int irpd_ca_csr_parse(const uint8_t *csr_der, size_t csr_len, irpd_csr **out, irpd_ca_err *err)
{
    const unsigned char *p = csr_der;
    irpd_csr *c = NULL;
    char why[160];
    int ret = IRPD_CA_INVALID;

    ERR_set_mark();
    if (out == NULL || (csr_der == NULL && csr_len > 0)) {
        ret = irpd__ca_fail(err, IRPD_CA_INTERNAL, "invalid argument to irpd_ca_csr_parse");
        goto out;
    }
    *out = NULL;
    if (csr_len == 0 || csr_len > IRPD_CA_CSR_MAX) {
        irpd__ca_fail(err, ret, "the CSR is empty or larger than %d bytes", IRPD_CA_CSR_MAX);
        goto out;
    }
    if ((c = calloc(1, sizeof(*c))) == NULL) {
        ret = irpd__ca_fail(err, IRPD_CA_INTERNAL, "out of memory");
        goto out;
    }
    c->req = d2i_X509_REQ(NULL, &p, (long)csr_len);
    if (c->req == NULL || (size_t)(p - csr_der) != csr_len) {
        irpd__ca_fail(err, ret, "the CSR is not one DER-encoded PKCS#10 request");
        goto out;
    }
    c->key = X509_REQ_get0_pubkey(c->req);
    if (c->key == NULL) {
        irpd__ca_fail(err, ret, "the CSR's public key cannot be decoded");
        goto out;
    }
    if (!user_key_ok(c->req, c->key, why, sizeof why)) {
        irpd__ca_fail(err, ret, "%s", why);
        goto out;
    }
    /* Proof of possession: whoever sent the CSR holds the private key. */
    if (X509_REQ_verify(c->req, c->key) != 1) {
        irpd__ca_fail(err, ret,
                      "the CSR's signature does not verify (no proof of possession of the key)");
        goto out;
    }
    c->slow = EVP_PKEY_get_base_id(c->key) == EVP_PKEY_RSA;
    *out = c;
    c = NULL;
    ret = irpd__ca_ok(err);
out:
    irpd_ca_csr_free(c);
    ERR_pop_to_mark();
    return ret;
}

int irpd_ca_csr_slow(const irpd_csr *c)
{
    return c != NULL && c->slow;
}

int irpd_ca_csr_key_check(irpd_csr *c, irpd_ca_err *err)
{
    EVP_PKEY_CTX *pctx;
    int ok;

    if (c == NULL) return irpd__ca_fail(err, IRPD_CA_INTERNAL, "no CSR");
    ERR_set_mark();
    /* Sanity of the key itself: a point on the curve, an odd composite RSA modulus... */
    pctx = EVP_PKEY_CTX_new_from_pkey(NULL, c->key, NULL);
    ok = pctx != NULL && EVP_PKEY_public_check(pctx) == 1;
    EVP_PKEY_CTX_free(pctx);
    ERR_pop_to_mark();
    if (!ok) return irpd__ca_fail(err, IRPD_CA_INVALID, "the CSR's public key is malformed");
    c->key_checked = 1;
    return irpd__ca_ok(err);
}

void irpd_ca_csr_free(irpd_csr *c)
{
    if (c == NULL) return;
    X509_REQ_free(c->req);
    free(c);
}

int irpd_ca_issue_user(const irpd_ca *ca, const uint8_t *csr_der, size_t csr_len,
                       const char *user_id, int64_t now, int64_t lifetime, irpd_issued *out,
                       irpd_ca_err *err)
{
    irpd_csr *c = NULL;
    int ret;

    if (out != NULL) memset(out, 0, sizeof(*out));
    if (ca == NULL || out == NULL)
        return irpd__ca_fail(err, IRPD_CA_INTERNAL, "invalid argument to irpd_ca_issue_user");
    /* the user ID first: nothing is decoded for a request we would refuse anyway */
    if (!sc_cert_valid_user_id(user_id))
        return irpd__ca_fail(err, IRPD_CA_INVALID,
                             "not a valid user ID (local@domain, printable ASCII, at most %d "
                             "bytes)",
                             SC_USER_ID_MAX);
    ret = irpd_ca_csr_parse(csr_der, csr_len, &c, err);
    if (ret == IRPD_CA_OK) ret = irpd_ca_csr_key_check(c, err);
    if (ret == IRPD_CA_OK) ret = irpd_ca_issue_csr(ca, c, user_id, now, lifetime, out, err);
    irpd_ca_csr_free(c);
    return ret;
}
