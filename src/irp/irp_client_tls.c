/*
 * irp_client_tls.c - the TLS side of irp_client: the OpenSSL context, the
 * registry certificate check of docs/IRP.md 3.2 and CA pinning.
 */
#include "irp_client_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "sixchat/error.h"

static int hexv(int ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

static int parse_fp(const char *s, uint8_t out[32])
{
    size_t n = 0;
    while (*s != '\0') {
        int hi, lo;
        if (*s == ':') {
            s++;
            continue;
        }
        hi = hexv(s[0]);
        lo = hi >= 0 ? hexv(s[1]) : -1;
        if (lo < 0 || n == 32) return -1;
        out[n++] = (uint8_t)(hi << 4 | lo);
        s += 2;
    }
    return n == 32 ? 0 : -1;
}

static int cert_fp(X509 *x, uint8_t out[32])
{
    unsigned int n = 0;
    return X509_digest(x, EVP_sha256(), out, &n) == 1 && n == 32 ? 0 : -1;
}

static int matches_pin(irp_client *c, X509 *x)
{
    uint8_t fp[32];
    return cert_fp(x, fp) == 0 && CRYPTO_memcmp(fp, c->pin, 32) == 0;
}

int irp__is_ip_literal(const char *s)
{
    unsigned char b[16];
    return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

/* docs/IRP.md 3.2: our own verification, with the pinned anchor. */
static int verify_server(X509_STORE_CTX *sctx, void *arg)
{
    irp_client *c = arg;
    X509 *leaf = X509_STORE_CTX_get0_cert(sctx);
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_untrusted(sctx);
    X509_STORE *st = X509_STORE_new();
    X509_STORE_CTX *v = X509_STORE_CTX_new();
    X509_VERIFY_PARAM *p;
    int ok = 0, i, anchors = 0;

    if (st == NULL || v == NULL || leaf == NULL) {
        snprintf(c->verr, sizeof(c->verr), "out of memory checking the registry certificate");
        goto out;
    }
    for (i = 0; i < sk_X509_num(c->anchors); i++) {
        X509 *x = sk_X509_value(c->anchors, i);
        if (c->has_pin && !matches_pin(c, x) && sk_X509_num(c->anchors) > 0) {
            /* with a pin, only the pinned one of the given anchors is trusted */
            continue;
        }
        X509_STORE_add_cert(st, x);
        anchors++;
    }
    if (c->has_pin && anchors == 0) {
        if (matches_pin(c, leaf)) {
            X509_STORE_add_cert(st, leaf);
            anchors++;
        }
        for (i = 0; i < sk_X509_num(chain); i++) {
            X509 *x = sk_X509_value(chain, i);
            if (matches_pin(c, x)) {
                X509_STORE_add_cert(st, x);
                anchors++;
            }
        }
    }
    if (anchors == 0) {
        snprintf(c->verr, sizeof(c->verr),
                 "no certificate of the registry's chain matches the pinned CA fingerprint");
        X509_STORE_CTX_set_error(sctx, X509_V_ERR_CERT_UNTRUSTED);
        goto out;
    }
    if (X509_STORE_CTX_init(v, st, leaf, chain) != 1) goto out;
    p = X509_STORE_CTX_get0_param(v);
    X509_VERIFY_PARAM_set_purpose(p, X509_PURPOSE_SSL_SERVER);
    X509_VERIFY_PARAM_set_flags(p, X509_V_FLAG_PARTIAL_CHAIN);
    if (irp__is_ip_literal(c->name)) {
        X509_VERIFY_PARAM_set1_ip_asc(p, c->name);
    } else {
        X509_VERIFY_PARAM_set_hostflags(p, X509_CHECK_FLAG_NO_WILDCARDS);
        X509_VERIFY_PARAM_set1_host(p, c->name, 0);
    }
    if (X509_verify_cert(v) != 1) {
        int e = X509_STORE_CTX_get_error(v);
        snprintf(c->verr, sizeof(c->verr), "registry certificate refused: %s",
                 X509_verify_cert_error_string(e));
        X509_STORE_CTX_set_error(sctx, e);
        goto out;
    }
    if (c->has_pin) {
        STACK_OF(X509) *vc = X509_STORE_CTX_get0_chain(v);
        X509 *top = sk_X509_value(vc, sk_X509_num(vc) - 1);
        if (top == NULL || !matches_pin(c, top)) {
            snprintf(c->verr, sizeof(c->verr),
                     "registry chain does not end at the pinned CA fingerprint");
            X509_STORE_CTX_set_error(sctx, X509_V_ERR_CERT_UNTRUSTED);
            goto out;
        }
    }
    X509_STORE_CTX_set_error(sctx, X509_V_OK);
    ok = 1;
out:
    X509_STORE_CTX_free(v);
    X509_STORE_free(st);
    return ok;
}

static int load_pem_certs(const char *pem, STACK_OF(X509) * out)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x;
    int n = 0;
    if (b == NULL) return -1;
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
        if (!sk_X509_push(out, x)) {
            X509_free(x);
            break;
        }
        n++;
    }
    ERR_clear_error();
    BIO_free(b);
    return n;
}

int irp__client_tls_init(irp_client *c, const irp_client_opts *o, char *err, size_t errcap)
{
    if (o->ca_fp != NULL) {
        if (parse_fp(o->ca_fp, c->pin) != 0) {
            snprintf(err, errcap, "bad CA fingerprint (want 64 hex digits)");
            return SC_ERR_ARG;
        }
        c->has_pin = 1;
    }
    if (o->ca_pem != NULL && load_pem_certs(o->ca_pem, c->anchors) <= 0) {
        snprintf(err, errcap, "no certificate in the CA PEM");
        return SC_ERR_PARSE;
    }
    if (c->has_pin && sk_X509_num(c->anchors) > 0) {
        int i, found = 0;
        for (i = 0; i < sk_X509_num(c->anchors); i++)
            found |= matches_pin(c, sk_X509_value(c->anchors, i));
        if (!found) {
            snprintf(err, errcap, "no certificate of the CA PEM has the pinned fingerprint");
            return SC_ERR_ARG;
        }
    }
    SSL_CTX_set_min_proto_version(c->ctx, TLS1_3_VERSION);
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_cert_verify_callback(c->ctx, verify_server, c);
    SSL_CTX_set_alpn_protos(c->ctx, (const unsigned char *)"\x05irp/1", 6);
    SSL_CTX_set_session_cache_mode(c->ctx, SSL_SESS_CACHE_OFF);
    if (o->cert_pem != NULL || o->key_pem != NULL) {
        STACK_OF(X509) *chain = sk_X509_new_null();
        BIO *kb = o->key_pem != NULL ? BIO_new_mem_buf(o->key_pem, -1) : NULL;
        EVP_PKEY *key = kb != NULL ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
        int ok = chain != NULL && o->cert_pem != NULL && key != NULL &&
                 load_pem_certs(o->cert_pem, chain) > 0 &&
                 SSL_CTX_use_certificate(c->ctx, sk_X509_value(chain, 0)) == 1 &&
                 SSL_CTX_use_PrivateKey(c->ctx, key) == 1 && SSL_CTX_check_private_key(c->ctx) == 1;
        int i;
        for (i = 1; ok && i < sk_X509_num(chain); i++)
            ok = SSL_CTX_add1_chain_cert(c->ctx, sk_X509_value(chain, i)) == 1;
        sk_X509_pop_free(chain, X509_free);
        EVP_PKEY_free(key);
        BIO_free(kb);
        ERR_clear_error();
        if (!ok) {
            snprintf(err, errcap, "client certificate and key do not load or do not match");
            return SC_ERR_PARSE;
        }
    }
    return 0;
}
