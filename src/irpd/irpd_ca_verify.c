/*
 * irpd_ca_verify.c - client certificates presented to the registry, checked
 * by sc_cert_verify, the code peers run (docs/PROTOCOL.md 8.2).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "sixchat/error.h"
#include "sc_cert.h"
#include "irpd_ca.h"
#include "irpd_ca_int.h"
#include "irpd_config.h"

/* ---- verifying client certificates ---------------------------------------- */

/*
 * Whether the CA certificate's name constraints (RFC 5280 4.2.1.10) let it
 * certify every mailbox of domain d (n bytes): no rfc822Name subtree at all,
 * or a permitted one naming the host d or a parent ".p" of it.
 */
static int nc_permits(X509 *cert, const char *d, size_t n)
{
    NAME_CONSTRAINTS *nc = X509_get_ext_d2i(cert, NID_name_constraints, NULL, NULL);
    int any = 0, ok = 0;

    if (nc == NULL) return 1;
    for (int i = 0; i < sk_GENERAL_SUBTREE_num(nc->permittedSubtrees); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_SUBTREE_value(nc->permittedSubtrees, i)->base;
        const char *v;
        size_t vn;
        if (gn->type != GEN_EMAIL) continue;
        any = 1;
        v = (const char *)ASN1_STRING_get0_data(gn->d.rfc822Name);
        vn = (size_t)ASN1_STRING_length(gn->d.rfc822Name);
        if ((vn == n && strncasecmp(v, d, n) == 0) ||
            (vn > 1 && v[0] == '.' && vn < n && strncasecmp(v, d + n - vn, vn) == 0))
            ok = 1;
    }
    NAME_CONSTRAINTS_free(nc);
    return !any || ok;
}

int irpd_ca_set_domains(irpd_ca *ca, const char *domains, irpd_ca_err *err)
{
    char *copy = NULL;

    if (ca == NULL) return irpd__ca_fail(err, IRPD_CA_INTERNAL, "invalid argument");
    if (domains != NULL && strlen(domains) > IRPD_CA_DOMAINS_MAX)
        return irpd__ca_fail(err, IRPD_CA_INVALID, "too many served domains");
    /* docs/IRP.md 7.5: a served domain the CA may not certify would get unusable certificates */
    for (const char *p = domains; p != NULL && *p != '\0';) {
        size_t n = strcspn(p, " ");
        int permitted;
        ERR_set_mark();
        permitted = nc_permits(ca->cert, p, n);
        ERR_pop_to_mark();
        if (n > 0 && !permitted)
            return irpd__ca_fail(err, IRPD_CA_INVALID,
                                 "the CA certificate's name constraints do not permit %.*s "
                                 "(they are fixed when the registry is created)",
                                 (int)(n > 200 ? 200 : n), p);
        p += n;
        p += strspn(p, " ");
    }
    if (domains != NULL && (copy = strdup(domains)) == NULL)
        return irpd__ca_fail(err, IRPD_CA_INTERNAL, "out of memory");
    free(ca->served);
    ca->served = copy;
    return irpd__ca_ok(err);
}

int irpd_ca_add_trusted_pem(irpd_ca *ca, const char *pem, size_t len, const char *domains,
                            irpd_ca_err *err)
{
    irpd_ca_ext *e;
    int r;

    if (ca == NULL) return irpd__ca_fail(err, IRPD_CA_INTERNAL, "invalid argument");
    if (domains == NULL || domains[0] == '\0' || strlen(domains) > IRPD_CA_DOMAINS_MAX)
        return irpd__ca_fail(err, IRPD_CA_INVALID,
                             "an external CA needs the domains it may vouch for");
    if (ca->n_ext >= IRPD_CA_EXT_MAX)
        return irpd__ca_fail(err, IRPD_CA_INVALID, "at most %d external CAs", IRPD_CA_EXT_MAX);
    e = &ca->ext[ca->n_ext];
    memset(e, 0, sizeof(*e));
    if (sc_policy_init(&e->pol) != SC_OK) {
        sc_policy_free(&e->pol);
        return irpd__ca_fail(err, IRPD_CA_INTERNAL, "out of memory");
    }
    /* Unbound in the core: the registry applies its own domain rule (verify_bound). */
    r = sc_policy_add_anchors_pem(&e->pol, pem, len, NULL, 0);
    if (r != SC_OK) {
        sc_policy_free(&e->pol);
        if (r == SC_ERR_NOMEM) return irpd__ca_fail(err, IRPD_CA_INTERNAL, "out of memory");
        return irpd__ca_fail(err, IRPD_CA_INVALID,
                             "no readable PEM certificate in the trusted CA file");
    }
    memcpy(e->domains, domains, strlen(domains) + 1);
    ca->n_ext++;
    return irpd__ca_ok(err);
}

/*
 * Trust is bound to domains (docs/GOALS.md), docs/IRP.md 3.3 step 1: the chain
 * is verified only against the anchors that may vouch for the user's
 * domain, the own CA first. SC_ERR_DOMAIN_MISMATCH when none may; otherwise
 * the most telling refusal (an own certificate that expired says so, even
 * when no external CA knows it either).
 */
static int verify_bound(irpd_ca *ca, const sc_peer_chain *c, int64_t now, int *own)
{
    int r = SC_ERR_DOMAIN_MISMATCH;

    *own = 0;
    if (ca->served == NULL || irpd_config_domain_in(ca->served, c->user_id)) {
        r = sc_cert_verify(&ca->trust, c, now);
        if (r == SC_OK) {
            *own = 1;
            return r;
        }
    }
    for (size_t i = 0; i < ca->n_ext; i++) {
        if (!irpd_config_domain_in(ca->ext[i].domains, c->user_id)) continue;
        int r2 = sc_cert_verify(&ca->ext[i].pol, c, now);
        if (r2 == SC_OK || r == SC_ERR_DOMAIN_MISMATCH || r == SC_ERR_UNKNOWN_CA) r = r2;
        if (r == SC_OK) return r;
    }
    return r;
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
    case SC_ERR_DOMAIN_MISMATCH:
        return "no CA this registry trusts may vouch for users of that domain";
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
    int own = 0, r = sc_cert_check_identity(&ca->trust, c, NULL);

    if (r == SC_OK) r = verify_bound(ca, c, now, &own);
    if (r == SC_ERR_NOMEM || r == SC_ERR_ARG)
        return irpd__ca_fail(err, IRPD_CA_INTERNAL, "cannot verify the client certificate");
    if (r != SC_OK) {
        irpd__ca_fail(err, IRPD_CA_AUTH, "%s", refusal(r));
        if (err != NULL) err->sc = r;
        return IRPD_CA_AUTH;
    }
    memcpy(out->user_id, c->user_id, sizeof out->user_id);
    memcpy(out->fingerprint, c->fingerprint, sizeof out->fingerprint);
    if (irpd_ca_serial_hex(c->leaf, out->serial_hex, sizeof out->serial_hex) != IRPD_CA_OK) {
        irpd__ca_fail(err, IRPD_CA_AUTH, "the client certificate's serial number is invalid");
        if (err != NULL) err->sc = SC_ERR_BAD_CERTIFICATE;
        return IRPD_CA_AUTH;
    }
    /* By signature, not by name: an external CA could carry the same name. */
    out->issued_here = own && X509_check_issued(ca->cert, c->leaf) == X509_V_OK &&
                       X509_verify(c->leaf, X509_get0_pubkey(ca->cert)) == 1;
    return irpd__ca_ok(err);
}

int irpd_ca_verify_client_der(irpd_ca *ca, const uint8_t *const *der, const size_t *len, size_t n,
                              int64_t now, irpd_client *out, irpd_ca_err *err)
{
    sc_peer_chain c;
    int r, ret;

    if (ca == NULL || out == NULL) return irpd__ca_fail(err, IRPD_CA_INTERNAL, "invalid argument");
    memset(out, 0, sizeof *out);
    ERR_set_mark();
    r = sc_cert_decode_chain_cached(&ca->trust, der, len, n, &c);
    if (r == SC_OK) {
        ret = verify_chain(ca, &c, now, out, err);
    } else if (r == SC_ERR_NOMEM || r == SC_ERR_ARG) {
        ret = irpd__ca_fail(err, IRPD_CA_INTERNAL, "cannot decode the client certificate");
    } else {
        ret = irpd__ca_fail(err, IRPD_CA_AUTH, "%s", refusal(r));
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

    if (ca == NULL || out == NULL) return irpd__ca_fail(err, IRPD_CA_INTERNAL, "invalid argument");
    memset(out, 0, sizeof *out);
    ERR_set_mark();
    r = chain_from_x509(leaf, chain, &c);
    if (r == SC_OK) {
        ret = verify_chain(ca, &c, now, out, err);
    } else if (r == SC_ERR_NOMEM) {
        ret = irpd__ca_fail(err, IRPD_CA_INTERNAL, "cannot read the client certificate");
    } else {
        ret = irpd__ca_fail(err, IRPD_CA_AUTH, "%s", refusal(r));
        if (err != NULL) err->sc = r;
    }
    sc_peer_chain_clear(&c);
    if (ret != IRPD_CA_OK) memset(out, 0, sizeof *out);
    ERR_pop_to_mark();
    return ret;
}
