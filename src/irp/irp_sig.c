/*
 * irp_sig.c - signing and checking lookup answers (docs/IRP.md 7.4).
 *
 * The signature covers irp_lookup_tbs(): a context string and the answer
 * re-serialised by our writer, so a verifier never depends on how the
 * signer spelled its XML, and one signed answer can be served to every
 * requester (it names none of them).
 */
#include "irp_sig.h"

#include <openssl/crypto.h>
#include <string.h>

#include "sc_crypto.h"
#include "sixchat/error.h"

static int cert_fp(X509 *cert, uint8_t fp[32])
{
    unsigned char *der = NULL;
    int n = i2d_X509(cert, &der);
    if (n <= 0) return SC_ERR_ARG;
    int rc = sc_sha256(der, (size_t)n, fp);
    OPENSSL_free(der);
    return rc;
}

int irp_lookup_sign(irp_resp *r, EVP_PKEY *key, X509 *cert, sc_buf *store)
{
    sc_buf tbs;
    uint8_t fp[32];
    int rc, alg;
    if (r == NULL || key == NULL || cert == NULL || store == NULL) return SC_ERR_ARG;
    if ((alg = sc_sigalg_for_key(key)) == 0) return SC_ERR_ARG;
    if ((rc = cert_fp(cert, fp)) != SC_OK) return rc;
    r->has_sig = 0;
    sc_buf_init_public(&tbs, 0);
    if ((rc = irp_lookup_tbs(&tbs, r)) != SC_OK) goto out;
    sc_buf_reset(store);
    if ((rc = sc_sign(key, alg, tbs.data, tbs.len, store)) != SC_OK) goto out;
    if (store->len == 0 || store->len > IRP_SIG_MAX) {
        rc = SC_ERR_CRYPTO;
        goto out;
    }
    r->has_sig = 1;
    r->sig.alg = alg;
    memcpy(r->sig.key, fp, 32);
    r->sig.sig = store->data;
    r->sig.sig_len = store->len;
out:
    sc_buf_dispose(&tbs);
    return rc;
}

int irp_lookup_verify(const irp_resp *r, X509 *cert)
{
    sc_buf tbs;
    uint8_t fp[32];
    int rc;
    if (r == NULL || cert == NULL || !r->has_sig) return SC_ERR_ARG;
    if ((rc = cert_fp(cert, fp)) != SC_OK) return rc;
    if (CRYPTO_memcmp(fp, r->sig.key, 32) != 0) return SC_ERR_ILLEGAL_PARAMETER;
    EVP_PKEY *pub = X509_get0_pubkey(cert);
    if (pub == NULL || sc_sigalg_for_key(pub) != r->sig.alg) return SC_ERR_ILLEGAL_PARAMETER;
    sc_buf_init_public(&tbs, 0);
    if ((rc = irp_lookup_tbs(&tbs, r)) == SC_OK)
        rc = sc_verify(pub, r->sig.alg, tbs.data, tbs.len, r->sig.sig, r->sig.sig_len);
    sc_buf_dispose(&tbs);
    return rc;
}
