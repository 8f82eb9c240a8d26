/*
 * agent_enroll_p12.c - the key backup in the registry (docs/IRP.md 6.16):
 * the key and certificate chain packed into PKCS#12 under a passphrase
 * only the user knows, with PBES2 (AES-256-CBC, PBKDF2-HMAC-SHA-256,
 * 600,000 iterations) for both bags and a SHA-256 MAC of as many
 * iterations (a MAC with fewer would be the cheaper target for guessing the
 * passphrase); stored with pkcs12-put, fetched with pkcs12-get after a
 * password login, unpacked, written back (key 0600).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "agent_enroll_int.h"
#include "irp_client.h"
#include "sixchat/error.h"

#define P12_ITER 600000

static void wipe_free(char *p, size_t n)
{
    if (p == NULL) return;
    OPENSSL_cleanse(p, n);
    free(p);
}

int agent__enroll_p12_pack(const char *cert_path, const char *key_path, const char *passphrase,
                           unsigned char **der, size_t *der_len, char *err, size_t errcap)
{
    size_t cn = 0, kn = 0;
    char *cpem = agent__enroll_read(cert_path, &cn);
    char *kpem = agent__enroll_read(key_path, &kn);
    STACK_OF(X509) *chain = cpem != NULL ? agent__enroll_pem_certs(cpem, cn) : NULL;
    STACK_OF(X509) *cas = NULL;
    BIO *kb = kpem != NULL ? BIO_new_mem_buf(kpem, (int)kn) : NULL;
    EVP_PKEY *key = kb != NULL ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
    PKCS12 *p12 = NULL;
    unsigned char *out = NULL;
    int rc = SC_ERR_CRYPTO, l, i;

    *der = NULL;
    if (chain == NULL || key == NULL) {
        rc = agent__enroll_err(err, errcap, SC_ERR_PARSE, "cannot load %s",
                               chain == NULL ? cert_path : key_path);
        goto done;
    }
    if (passphrase == NULL || passphrase[0] == '\0') {
        rc = agent__enroll_err(err, errcap, SC_ERR_ARG, "a backup needs a passphrase");
        goto done;
    }
    if (X509_check_private_key(sk_X509_value(chain, 0), key) != 1) {
        agent__enroll_err(err, errcap, rc, "the certificate is not for this key");
        goto done;
    }
    cas = sk_X509_new_null();
    for (i = 1; cas != NULL && i < sk_X509_num(chain); i++)
        sk_X509_push(cas, sk_X509_value(chain, i));
    /* mac_iter -1: no MAC here; the one below uses SHA-256 and the full iteration count. */
    p12 = PKCS12_create(passphrase, NULL, key, sk_X509_value(chain, 0), cas, NID_aes_256_cbc,
                        NID_aes_256_cbc, P12_ITER, -1, 0);
    if (p12 == NULL || PKCS12_set_mac(p12, passphrase, -1, NULL, 0, P12_ITER, EVP_sha256()) != 1 ||
        (l = i2d_PKCS12(p12, &out)) <= 0) {
        agent__enroll_err(err, errcap, rc, "could not make the PKCS#12 backup");
        goto done;
    }
    if ((size_t)l > IRP_P12_MAX) {
        rc = agent__enroll_err(err, errcap, SC_ERR_TOO_LARGE,
                               "the backup is %d bytes, the registry takes at most %d", l,
                               IRP_P12_MAX);
        OPENSSL_free(out);
        goto done;
    }
    *der = out;
    *der_len = (size_t)l;
    rc = 0;
done:
    ERR_clear_error();
    PKCS12_free(p12);
    sk_X509_free(cas);
    sk_X509_pop_free(chain, X509_free);
    EVP_PKEY_free(key);
    BIO_free(kb);
    wipe_free(kpem, kn);
    free(cpem);
    return rc;
}

int agent_enroll_backup(const agent_irp_target *t, const char *cert_path, const char *key_path,
                        const char *passphrase, char *err, size_t errcap)
{
    unsigned char *der = NULL;
    size_t len = 0, cn = 0, kn = 0;
    char *cpem = NULL, *kpem = NULL;
    irp_req q;
    int rc;

    if (t == NULL || cert_path == NULL || key_path == NULL)
        return agent__enroll_err(err, errcap, SC_ERR_ARG, "missing argument");
    rc = agent__enroll_p12_pack(cert_path, key_path, passphrase, &der, &len, err, errcap);
    if (rc != 0) return rc;
    cpem = agent__enroll_read(cert_path, &cn);
    kpem = agent__enroll_read(key_path, &kn);
    if (cpem == NULL || kpem == NULL) {
        rc = agent__enroll_err(err, errcap, SC_ERR_IO, "cannot read the identity");
    } else {
        irp_req_init(&q);
        q.op = IRP_OP_PKCS12_PUT;
        q.p12 = der;
        q.p12_len = len;
        rc = agent__enroll_exchange(t, cpem, kpem, &q, 1, NULL, NULL, err, errcap);
    }
    OPENSSL_clear_free(der, len);
    wipe_free(kpem, kn);
    free(cpem);
    return rc;
}

typedef struct get_st {
    unsigned char *p12;
    size_t len;
    size_t index;
} get_st;

static int on_get(void *ctx, size_t i, const irp_resp *r)
{
    get_st *s = ctx;
    if (i != s->index) return 0;
    if (r->p12 == NULL || r->p12_len == 0) return IRP_CLIENT_PROTOCOL;
    s->p12 = malloc(r->p12_len);
    if (s->p12 == NULL) return SC_ERR_NOMEM;
    memcpy(s->p12, r->p12, r->p12_len);
    s->len = r->p12_len;
    return 0;
}

/* Unpacks the backup and writes key (0600) and chain. */
static int unpack(const unsigned char *der, size_t len, const char *passphrase,
                  const char *key_path, const char *cert_path, char *err, size_t errcap)
{
    const unsigned char *p = der;
    PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)len);
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    STACK_OF(X509) *ca = NULL, *chain = NULL;
    BIO *kb = NULL;
    char *data = NULL, *pem = NULL;
    size_t pem_len = 0;
    long n;
    int rc = SC_ERR_CRYPTO, i;

    if (p12 == NULL) {
        rc = agent__enroll_err(err, errcap, SC_ERR_PARSE, "the stored backup is not PKCS#12");
        goto done;
    }
    if (PKCS12_verify_mac(p12, passphrase, -1) != 1) {
        agent__enroll_err(err, errcap, rc, "wrong passphrase for the backup");
        goto done;
    }
    if (PKCS12_parse(p12, passphrase, &key, &cert, &ca) != 1 || key == NULL || cert == NULL) {
        agent__enroll_err(err, errcap, rc, "the backup holds no key and certificate");
        goto done;
    }
    if (X509_check_private_key(cert, key) != 1) {
        agent__enroll_err(err, errcap, rc, "the backup's certificate is not for its key");
        goto done;
    }
    chain = sk_X509_new_null();
    if (chain == NULL || !sk_X509_push(chain, cert)) goto nomem;
    for (i = 0; ca != NULL && i < sk_X509_num(ca); i++)
        if (!sk_X509_push(chain, sk_X509_value(ca, i))) goto nomem;
    kb = BIO_new(BIO_s_secmem());
    if (kb == NULL || !PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL)) goto nomem;
    n = BIO_get_mem_data(kb, &data);
    rc = agent__enroll_write(key_path, data, (size_t)n, 0600, 0, err, errcap);
    if (rc != 0) goto done;
    pem = agent__enroll_certs_pem(chain, 0, &pem_len);
    if (pem == NULL) goto nomem;
    rc = agent__enroll_write(cert_path, pem, pem_len, 0644, 0, err, errcap);
    goto done;
nomem:
    rc = agent__enroll_err(err, errcap, SC_ERR_NOMEM, "out of memory");
done:
    ERR_clear_error();
    free(pem);
    BIO_free(kb);
    sk_X509_free(chain);
    sk_X509_pop_free(ca, X509_free);
    X509_free(cert);
    EVP_PKEY_free(key);
    PKCS12_free(p12);
    return rc;
}

int agent_enroll_restore(const agent_irp_target *t, const char *user, const char *password,
                         const char *passphrase, const char *key_path, const char *cert_path,
                         char *err, size_t errcap)
{
    irp_req reqs[2];
    get_st st;
    size_t n = 0, cn = 0, kn = 0;
    char *cpem = NULL, *kpem = NULL;
    int rc;

    if (t == NULL || key_path == NULL || cert_path == NULL || passphrase == NULL)
        return agent__enroll_err(err, errcap, SC_ERR_ARG, "missing argument");
    memset(&st, 0, sizeof(st));
    if (password != NULL) {
        if (user == NULL)
            return agent__enroll_err(err, errcap, SC_ERR_ARG, "a password login needs the user");
        agent__enroll_login(&reqs[n++], user, password);
    } else {
        cpem = agent__enroll_read(cert_path, &cn);
        kpem = agent__enroll_read(key_path, &kn);
        if (cpem == NULL || kpem == NULL) {
            rc = agent__enroll_err(err, errcap, SC_ERR_IO,
                                   "no password given and no certificate to connect with");
            goto done;
        }
    }
    irp_req_init(&reqs[n]);
    reqs[n].op = IRP_OP_PKCS12_GET;
    st.index = n++;
    rc = agent__enroll_exchange(t, cpem, kpem, reqs, n, on_get, &st, err, errcap);
    if (rc == IRP_NOT_FOUND)
        agent__enroll_err(err, errcap, rc, "the registry holds no backup for this user");
    if (rc == 0) rc = unpack(st.p12, st.len, passphrase, key_path, cert_path, err, errcap);
done:
    if (st.p12 != NULL) {
        OPENSSL_cleanse(st.p12, st.len);
        free(st.p12);
    }
    wipe_free(kpem, kn);
    free(cpem);
    return rc;
}
