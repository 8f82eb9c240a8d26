/*
 * agent_enroll.c - enrolment (docs/IRP.md 6.5, with a token or after a
 * password login 6.4), fetching the registry's CA chain (6.2) and checking
 * an identity from another PKI. The answer of the registry is trusted only
 * as far as it proves itself: the issued certificate must carry our key,
 * verify to a CA certificate of the answer that has the pinned fingerprint
 * (or to the CA file given) and name a valid user ID.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "agent_enroll_int.h"
#include "irp_client.h"
#include "sc_cert.h"
#include "sixchat/error.h"

/* Collects the certificates of an answer (DER) into a stack. */
static int collect_certs(const irp_resp *r, STACK_OF(X509) * *out)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    size_t i;

    if (sk == NULL) return SC_ERR_NOMEM;
    for (i = 0; i < r->n_certs; i++) {
        const unsigned char *p = r->certs[i].der;
        X509 *x = p != NULL ? d2i_X509(NULL, &p, (long)r->certs[i].der_len) : NULL;
        if (x == NULL || !sk_X509_push(sk, x)) {
            X509_free(x);
            sk_X509_pop_free(sk, X509_free);
            ERR_clear_error();
            return SC_ERR_PARSE;
        }
    }
    *out = sk;
    return 0;
}

/*
 * Verifies leaf against anchors (trusted; a pinned intermediate may end the
 * path, as in irp_client) with the help of untrusted (may be NULL) at the
 * current time. 0 or SC_ERR_CRYPTO with err set.
 */
static int verify_leaf(X509 *leaf, STACK_OF(X509) * cas, STACK_OF(X509) * untrusted, char *err,
                       size_t errcap)
{
    X509_STORE *st = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int i, ok = 0;

    if (st == NULL || ctx == NULL) goto done;
    for (i = 0; i < sk_X509_num(cas); i++)
        if (!X509_STORE_add_cert(st, sk_X509_value(cas, i))) goto done;
    X509_STORE_set_flags(st, X509_V_FLAG_PARTIAL_CHAIN);
    if (!X509_STORE_CTX_init(ctx, st, leaf, untrusted)) goto done;
    ok = X509_verify_cert(ctx) == 1;
    if (!ok)
        agent__enroll_err(err, errcap, 0, "the certificate does not verify: %s",
                          X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
done:
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(st);
    ERR_clear_error();
    return ok ? 0 : SC_ERR_CRYPTO;
}

/* The CA certificates to trust: those of ca_path, else the one of the answer with the pin. */
static int pick_anchors(const agent_irp_target *t, STACK_OF(X509) * answer, int from,
                        STACK_OF(X509) * *cas, char *err, size_t errcap)
{
    int i;
    X509 *pinned = NULL;

    if (t->ca_path != NULL) {
        size_t n = 0;
        char *pem = agent__enroll_read(t->ca_path, &n);
        *cas = pem != NULL ? agent__enroll_pem_certs(pem, n) : NULL;
        free(pem);
        if (*cas == NULL)
            return agent__enroll_err(err, errcap, SC_ERR_PARSE, "%s: no certificate in it",
                                     t->ca_path);
        return 0;
    }
    for (i = from; i < sk_X509_num(answer); i++)
        if (agent__enroll_fp_matches(sk_X509_value(answer, i), t->ca_fp))
            pinned = sk_X509_value(answer, i);
    if (pinned == NULL)
        return agent__enroll_err(err, errcap, SC_ERR_CRYPTO,
                                 "no CA certificate of the registry has the pinned fingerprint");
    *cas = sk_X509_new_null();
    if (*cas == NULL) return SC_ERR_NOMEM;
    if (!X509_up_ref(pinned) || !sk_X509_push(*cas, pinned)) {
        sk_X509_pop_free(*cas, X509_free);
        *cas = NULL;
        return SC_ERR_NOMEM;
    }
    return 0;
}

static EVP_PKEY *load_key(const char *path)
{
    size_t n = 0;
    char *pem = agent__enroll_read(path, &n);
    BIO *b = pem != NULL ? BIO_new_mem_buf(pem, (int)n) : NULL;
    EVP_PKEY *k = b != NULL ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;

    BIO_free(b);
    if (pem != NULL) {
        OPENSSL_cleanse(pem, n);
        free(pem);
    }
    ERR_clear_error();
    return k;
}

/* The common checks of an identity: key matches, verifies, usage, user ID. */
static int check_identity(X509 *leaf, EVP_PKEY *key, STACK_OF(X509) * cas,
                          STACK_OF(X509) * untrusted, const char *want_user, char *user_out,
                          char *err, size_t errcap)
{
    char user[IRP_USER_MAX + 1];
    int rc;

    if (key != NULL && X509_check_private_key(leaf, key) != 1) {
        ERR_clear_error();
        return agent__enroll_err(err, errcap, SC_ERR_CRYPTO, "the certificate is not for this key");
    }
    rc = verify_leaf(leaf, cas, untrusted, err, errcap);
    if (rc != 0) return rc;
    if (!sc_cert_leaf_usage_ok(leaf))
        return agent__enroll_err(err, errcap, SC_ERR_CRYPTO,
                                 "the certificate does not allow client authentication");
    if (sc_cert_user_id(leaf, user, sizeof(user)) != 0)
        return agent__enroll_err(err, errcap, SC_ERR_CRYPTO,
                                 "the certificate names no valid user ID");
    if (want_user != NULL && strcasecmp(want_user, user) != 0)
        return agent__enroll_err(err, errcap, SC_ERR_CRYPTO, "the certificate is for %s, not %s",
                                 user, want_user);
    if (user_out != NULL) memcpy(user_out, user, strlen(user) + 1);
    return 0;
}

typedef struct enroll_st {
    const agent_irp_target *t;
    size_t enroll_index;
    STACK_OF(X509) * certs;
} enroll_st;

static int on_enroll_resp(void *ctx, size_t i, const irp_resp *r)
{
    enroll_st *s = ctx;
    if (i != s->enroll_index) return 0; /* the login */
    return collect_certs(r, &s->certs);
}

/* CSR file (PEM or DER) -> DER. */
static unsigned char *csr_der(const char *path, size_t *len)
{
    size_t n = 0;
    char *text = agent__enroll_read(path, &n);
    BIO *b = text != NULL ? BIO_new_mem_buf(text, (int)n) : NULL;
    X509_REQ *q = b != NULL ? PEM_read_bio_X509_REQ(b, NULL, NULL, NULL) : NULL;
    unsigned char *der = NULL;
    int l;

    if (q == NULL && text != NULL) {
        const unsigned char *p = (const unsigned char *)text;
        q = d2i_X509_REQ(NULL, &p, (long)n);
    }
    BIO_free(b);
    free(text);
    ERR_clear_error();
    if (q == NULL) return NULL;
    l = i2d_X509_REQ(q, &der);
    X509_REQ_free(q);
    if (l <= 0) return NULL;
    *len = (size_t)l;
    return der;
}

int agent_enroll_run(const agent_irp_target *t, const char *token, const char *user,
                     const char *password, const char *key_path, const char *csr_path,
                     const char *cert_path, const char *ca_out, char *user_out, char *err,
                     size_t errcap)
{
    irp_req reqs[2];
    enroll_st st;
    EVP_PKEY *key = NULL;
    STACK_OF(X509) *cas = NULL;
    unsigned char *csr = NULL;
    size_t csr_len = 0, n = 0, pem_len = 0;
    char *pem = NULL;
    int rc;

    if (t == NULL || key_path == NULL || csr_path == NULL || cert_path == NULL)
        return agent__enroll_err(err, errcap, SC_ERR_ARG, "missing argument");
    if (token == NULL && (user == NULL || password == NULL))
        return agent__enroll_err(err, errcap, SC_ERR_ARG,
                                 "enrolment needs a token, or a user and a password");
    if (token != NULL && !irp_valid_token(token, strlen(token)))
        return agent__enroll_err(
            err, errcap, SC_ERR_ARG,
            "that is not an enrolment token (22 characters of A-Z a-z 0-9 - _)");
    if ((key = load_key(key_path)) == NULL)
        return agent__enroll_err(err, errcap, SC_ERR_PARSE, "%s: no private key in it", key_path);
    if ((csr = csr_der(csr_path, &csr_len)) == NULL) {
        rc =
            agent__enroll_err(err, errcap, SC_ERR_PARSE, "%s: not a certificate request", csr_path);
        goto done;
    }
    memset(&st, 0, sizeof(st));
    st.t = t;
    if (token == NULL) {
        agent__enroll_login(&reqs[n++], user, password);
    }
    irp_req_init(&reqs[n]);
    reqs[n].op = IRP_OP_ENROLL;
    reqs[n].token = token;
    reqs[n].csr = csr;
    reqs[n].csr_len = csr_len;
    st.enroll_index = n++;
    rc = agent__enroll_exchange(t, NULL, NULL, reqs, n, on_enroll_resp, &st, err, errcap);
    if (rc != 0) goto done;
    if (st.certs == NULL || sk_X509_num(st.certs) < 1) {
        rc = agent__enroll_err(err, errcap, IRP_CLIENT_PROTOCOL,
                               "the registry's answer holds no certificate");
        goto done;
    }
    rc = pick_anchors(t, st.certs, 1, &cas, err, errcap);
    if (rc != 0) goto done;
    rc =
        check_identity(sk_X509_value(st.certs, 0), key, cas, st.certs, user, user_out, err, errcap);
    if (rc != 0) goto done;
    pem = agent__enroll_certs_pem(st.certs, 0, &pem_len);
    if (pem == NULL) {
        rc = SC_ERR_NOMEM;
        goto done;
    }
    rc = agent__enroll_write(cert_path, pem, pem_len, 0644, 0, err, errcap);
    free(pem);
    pem = NULL;
    if (rc == 0 && ca_out != NULL) {
        /* The registry's CA chain as it sent it (6.5: issuing CA first); the pinned one is in it.
         */
        pem = agent__enroll_certs_pem(st.certs, 1, &pem_len);
        rc = pem != NULL ? agent__enroll_write(ca_out, pem, pem_len, 0644, 0, err, errcap)
                         : SC_ERR_NOMEM;
    }
done:
    free(pem);
    OPENSSL_free(csr);
    sk_X509_pop_free(st.certs, X509_free);
    sk_X509_pop_free(cas, X509_free);
    EVP_PKEY_free(key);
    return rc;
}

typedef struct ca_st {
    STACK_OF(X509) * certs;
} ca_st;

static int on_ca_resp(void *ctx, size_t i, const irp_resp *r)
{
    ca_st *s = ctx;
    (void)i;
    return collect_certs(r, &s->certs);
}

int agent_enroll_fetch_ca(const agent_irp_target *t, const char *ca_out, char *err, size_t errcap)
{
    irp_req q;
    ca_st st = {NULL};
    STACK_OF(X509) *cas = NULL;
    char *pem = NULL;
    size_t len = 0;
    int rc;

    if (t == NULL || ca_out == NULL)
        return agent__enroll_err(err, errcap, SC_ERR_ARG, "missing argument");
    irp_req_init(&q);
    q.op = IRP_OP_CA_CERTS;
    rc = agent__enroll_exchange(t, NULL, NULL, &q, 1, on_ca_resp, &st, err, errcap);
    if (rc == 0 && (st.certs == NULL || sk_X509_num(st.certs) == 0))
        rc = agent__enroll_err(err, errcap, IRP_CLIENT_PROTOCOL, "the registry sent no CA");
    if (rc == 0) rc = pick_anchors(t, st.certs, 0, &cas, err, errcap);
    if (rc == 0) {
        /* What we store is what the registry sent (root last, 6.2), now known pinned. */
        pem = agent__enroll_certs_pem(st.certs, 0, &len);
        rc = pem != NULL ? agent__enroll_write(ca_out, pem, len, 0644, 0, err, errcap)
                         : SC_ERR_NOMEM;
    }
    free(pem);
    sk_X509_pop_free(st.certs, X509_free);
    sk_X509_pop_free(cas, X509_free);
    return rc;
}

int agent_enroll_check(const char *cert_path, const char *key_path, const char *ca_path,
                       char *user_out, char *err, size_t errcap)
{
    size_t n = 0;
    char *pem;
    STACK_OF(X509) *chain = NULL, *cas = NULL;
    EVP_PKEY *key = NULL;
    int rc;

    if (cert_path == NULL || key_path == NULL || ca_path == NULL)
        return agent__enroll_err(err, errcap, SC_ERR_ARG, "certificate, key and CA are needed");
    pem = agent__enroll_read(cert_path, &n);
    chain = pem != NULL ? agent__enroll_pem_certs(pem, n) : NULL;
    free(pem);
    if (chain == NULL)
        return agent__enroll_err(err, errcap, SC_ERR_PARSE, "%s: no certificate in it", cert_path);
    pem = agent__enroll_read(ca_path, &n);
    cas = pem != NULL ? agent__enroll_pem_certs(pem, n) : NULL;
    free(pem);
    key = load_key(key_path);
    if (cas == NULL) {
        rc = agent__enroll_err(err, errcap, SC_ERR_PARSE, "%s: no certificate in it", ca_path);
    } else if (key == NULL) {
        rc = agent__enroll_err(err, errcap, SC_ERR_PARSE, "%s: no private key in it", key_path);
    } else {
        /* Intermediates of the certificate file help the path; they are not anchors. */
        rc = check_identity(sk_X509_value(chain, 0), key, cas, chain, NULL, user_out, err, errcap);
    }
    EVP_PKEY_free(key);
    sk_X509_pop_free(chain, X509_free);
    sk_X509_pop_free(cas, X509_free);
    return rc;
}
