/*
 * irp_sig.h - the registry's signature on lookup answers (docs/IRP.md 7.4).
 *
 * The signed bytes are irp_lookup_tbs() of the answer; the key is the
 * registry's server key, named in the answer by the SHA-256 fingerprint of
 * the registry's certificate; the algorithm is fixed by that key, with the
 * names and encodings of docs/PROTOCOL.md 7.4.
 */
#ifndef IRP_SIG_H
#define IRP_SIG_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "sixchat/error.h"
#include "irp_msg.h"

/*
 * Signs the lookup answer r with key, the private key of cert (the
 * registry's certificate), and sets r->sig (its bytes kept in store, which
 * must outlive r's use). Returns 0, SC_ERR_ARG (r is not a lookup answer,
 * key unusable), SC_ERR_CRYPTO, SC_ERR_NOMEM.
 */
SC_MUST_CHECK int irp_lookup_sign(irp_resp *r, EVP_PKEY *key, X509 *cert, sc_buf *store);

/*
 * Checks the signature of a lookup answer against the registry's
 * certificate. Returns 0; SC_ERR_ARG when r carries no signature or is not
 * a lookup answer; SC_ERR_ILLEGAL_PARAMETER when the signature names
 * another key or an algorithm that is not cert's; SC_ERR_DECRYPT_ERROR when
 * it does not verify; SC_ERR_NOMEM.
 */
SC_MUST_CHECK int irp_lookup_verify(const irp_resp *r, X509 *cert);

#endif
