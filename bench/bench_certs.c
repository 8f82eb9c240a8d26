/*
 * bench_certs.c - the benchmark PKI (see bench_certs.h), made with the test
 * kit's certificates (sc_testcert.h).
 */
#include "bench_certs.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/crypto.h>

#include "sc_testcert.h"

#define VALID_BEFORE_S 3600L         /* notBefore: an hour ago */
#define VALID_AFTER_S (30L * 86400L) /* notAfter: in 30 days */

static sc_testkey_type key_type(int keytype)
{
    switch (keytype) {
    case BENCH_KEY_ED25519:
        return SC_TESTKEY_ED25519;
    case BENCH_KEY_RSA2048:
        return SC_TESTKEY_RSA2048;
    default:
        return SC_TESTKEY_P256;
    }
}

static void make_identity(bench_identity *id, const char *user, int keytype,
                          const sc_testcert *inter, int64_t nb, int64_t na)
{
    /* TLS needs serverAuth on the server's certificate; our protocol clientAuth. */
    sc_testcert_opts o = {.key_type = key_type(keytype),
                          .user_id = user,
                          .eku = SC_TESTCERT_EKU_CLIENT_SERVER,
                          .not_before = nb,
                          .not_after = na};
    sc_testcert *leaf = sc_testcert_user(inter, &o);
    id->user = user;
    id->cert_pem = sc_testcert_cert_pem(leaf);
    id->cert_pem_len = strlen(id->cert_pem);
    char *inter_pem = sc_testcert_cert_pem(inter);
    id->chain_pem = sc_testcert_concat(id->cert_pem, inter_pem, NULL);
    free(inter_pem);
    id->chain_pem_len = strlen(id->chain_pem);
    id->key_pem = sc_testcert_key_pem(leaf);
    id->key_pem_len = strlen(id->key_pem);
    id->cert_der = sc_testcert_der(leaf, &id->cert_der_len);
    sc_testcert_free(leaf);
}

int bench_certs_generate(bench_certs *c)
{
    int64_t now = (int64_t)time(NULL);
    int64_t nb = now - VALID_BEFORE_S, na = now + VALID_AFTER_S;
    memset(c, 0, sizeof(*c));
    /* sc_testcert aborts on any failure, so this cannot fail half-way. */
    sc_testcert *root = sc_testcert_root(SC_TESTKEY_P256, "sixchat bench root CA", nb, na);
    sc_testcert *inter =
        sc_testcert_ca(root, SC_TESTKEY_P256, "sixchat bench intermediate CA", nb, na);
    c->root_pem = sc_testcert_cert_pem(root);
    c->root_pem_len = strlen(c->root_pem);
    c->intermediate_pem = sc_testcert_cert_pem(inter);
    c->intermediate_pem_len = strlen(c->intermediate_pem);
    for (int k = 0; k < BENCH_KEY_COUNT; k++) {
        make_identity(&c->alice[k], "alice@example.org", k, inter, nb, na);
        make_identity(&c->bob[k], "bob@example.org", k, inter, nb, na);
    }
    sc_testcert_free(inter);
    sc_testcert_free(root);
    return 0;
}

static void free_identity(bench_identity *id)
{
    free(id->cert_pem);
    free(id->chain_pem);
    if (id->key_pem != NULL) {
        OPENSSL_cleanse(id->key_pem, id->key_pem_len);
        free(id->key_pem);
    }
    free(id->cert_der);
    memset(id, 0, sizeof(*id));
}

void bench_certs_free(bench_certs *c)
{
    free(c->root_pem);
    free(c->intermediate_pem);
    for (int k = 0; k < BENCH_KEY_COUNT; k++) {
        free_identity(&c->alice[k]);
        free_identity(&c->bob[k]);
    }
    memset(c, 0, sizeof(*c));
}
