/*
 * agent_enroll_key.c - the user's key and certificate request (issue 8,
 * `sixchat init`): P-256 by default, Ed25519 or RSA-2048 on request (the
 * key types docs/IRP.md 6.5 step 3 accepts). The CSR names the user as the
 * registry's certificates will (7.5: CN and the first rfc822Name); the
 * registry itself takes the user from the token or the login.
 */
#include <string.h>
#include <strings.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "agent_enroll_int.h"
#include "sixchat/error.h"

int agent_key_type_parse(const char *s, agent_key_type *t)
{
    if (s == NULL) return SC_ERR_ARG;
    if (strcasecmp(s, "p256") == 0 || strcasecmp(s, "p-256") == 0 || strcasecmp(s, "ec") == 0)
        *t = AGENT_KEY_P256;
    else if (strcasecmp(s, "ed25519") == 0)
        *t = AGENT_KEY_ED25519;
    else if (strcasecmp(s, "rsa2048") == 0 || strcasecmp(s, "rsa") == 0)
        *t = AGENT_KEY_RSA2048;
    else
        return SC_ERR_ARG;
    return 0;
}

static EVP_PKEY *make_key(agent_key_type type)
{
    switch (type) {
    case AGENT_KEY_P256:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    case AGENT_KEY_ED25519:
        return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    case AGENT_KEY_RSA2048:
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    }
    return NULL;
}

/* subjectAltName = rfc822Name:user, as the registry's certificates carry it (IRP.md 7.5). */
static int add_san(X509_REQ *req, const char *user)
{
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    GENERAL_NAMES *gens = GENERAL_NAMES_new();
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
    X509_EXTENSION *ext = NULL;
    int ok = 0;

    if (exts == NULL || gens == NULL || gn == NULL || ia5 == NULL) goto done;
    if (!ASN1_STRING_set(ia5, user, (int)strlen(user))) goto done;
    GENERAL_NAME_set0_value(gn, GEN_EMAIL, ia5);
    ia5 = NULL;
    if (!sk_GENERAL_NAME_push(gens, gn)) goto done;
    gn = NULL;
    ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens);
    if (ext == NULL || !sk_X509_EXTENSION_push(exts, ext)) goto done;
    ext = NULL;
    ok = X509_REQ_add_extensions(req, exts) == 1;
done:
    X509_EXTENSION_free(ext);
    ASN1_IA5STRING_free(ia5);
    GENERAL_NAME_free(gn);
    GENERAL_NAMES_free(gens);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    return ok;
}

static X509_REQ *make_csr(EVP_PKEY *key, const char *user)
{
    X509_REQ *req = X509_REQ_new();
    X509_NAME *name;
    const EVP_MD *md = EVP_PKEY_get_id(key) == EVP_PKEY_ED25519 ? NULL : EVP_sha256();

    if (req == NULL || !X509_REQ_set_version(req, 0) || !X509_REQ_set_pubkey(req, key)) goto fail;
    name = X509_REQ_get_subject_name(req);
    if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)user, -1, -1,
                                    0))
        goto fail;
    if (!add_san(req, user) || X509_REQ_sign(req, key, md) <= 0) goto fail;
    return req;
fail:
    X509_REQ_free(req);
    return NULL;
}

int agent_enroll_make_key(const char *user, agent_key_type type, const char *key_path,
                          const char *csr_path, char *err, size_t errcap)
{
    EVP_PKEY *key = NULL;
    X509_REQ *req = NULL;
    BIO *kb = NULL, *cb = NULL;
    char *data = NULL;
    long n;
    int rc = SC_ERR_CRYPTO;

    if (user == NULL || !irp_valid_user(user))
        return agent__enroll_err(err, errcap, SC_ERR_ARG, "not a user ID: %s",
                                 user != NULL ? user : "(none)");
    if (key_path == NULL || csr_path == NULL)
        return agent__enroll_err(err, errcap, SC_ERR_ARG, "key and CSR paths are needed");
    key = make_key(type);
    if (key == NULL) {
        agent__enroll_err(err, errcap, rc, "could not make a key");
        goto done;
    }
    req = make_csr(key, user);
    /* The key's PEM goes through OpenSSL's secure heap, which is wiped when freed. */
    kb = BIO_new(BIO_s_secmem());
    cb = BIO_new(BIO_s_mem());
    if (req == NULL || kb == NULL || cb == NULL ||
        !PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) ||
        !PEM_write_bio_X509_REQ(cb, req)) {
        agent__enroll_err(err, errcap, rc, "could not make the certificate request");
        goto done;
    }
    n = BIO_get_mem_data(kb, &data);
    rc = agent__enroll_write(key_path, data, (size_t)n, 0600, 1, err, errcap);
    if (rc != 0) goto done;
    n = BIO_get_mem_data(cb, &data);
    rc = agent__enroll_write(csr_path, data, (size_t)n, 0644, 0, err, errcap);
done:
    ERR_clear_error();
    BIO_free(kb);
    BIO_free(cb);
    X509_REQ_free(req);
    EVP_PKEY_free(key);
    return rc;
}
