/*
 * bench_tls.c - the OpenSSL TLS 1.3 yardstick (see bench_tls.h).
 */
#include "bench_tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "bench_mem.h"

struct bench_tls {
    SSL_CTX *cli; /* alice */
    SSL_CTX *srv; /* bob */
    bench_tls_profile profile;
};

typedef struct tls_pair {
    SSL *c;
    SSL *s;
    BIO *bc; /* the client's end of the BIO pair (owned by c) */
    BIO *bs; /* the server's end (owned by s) */
} tls_pair;

static void report(const char *what)
{
    fprintf(stderr, "bench_tls: %s failed\n", what);
    ERR_print_errors_fp(stderr);
}

static X509 *pem_cert(const char *pem, size_t len)
{
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    if (b == NULL) return NULL;
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    return x;
}

static EVP_PKEY *pem_key(const char *pem, size_t len)
{
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    if (b == NULL) return NULL;
    EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    return k;
}

static SSL_CTX *make_ctx(const bench_certs *c, const bench_identity *id, int server,
                         bench_tls_profile profile, const char *ciphersuites)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    X509 *leaf = pem_cert(id->cert_pem, id->cert_pem_len);
    X509 *inter = pem_cert(c->intermediate_pem, c->intermediate_pem_len);
    X509 *root = pem_cert(c->root_pem, c->root_pem_len);
    EVP_PKEY *key = pem_key(id->key_pem, id->key_pem_len);
    int ok = 0;
    if (ctx == NULL || leaf == NULL || inter == NULL || root == NULL || key == NULL) {
        report("loading the certificates");
        goto done;
    }
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
        !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION)) {
        report("restricting to TLS 1.3");
        goto done;
    }
    if (ciphersuites != NULL && !SSL_CTX_set_ciphersuites(ctx, ciphersuites)) {
        report("SSL_CTX_set_ciphersuites");
        goto done;
    }
    if (!SSL_CTX_use_certificate(ctx, leaf) || !SSL_CTX_use_PrivateKey(ctx, key) ||
        !SSL_CTX_check_private_key(ctx)) {
        report("setting the identity");
        goto done;
    }
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    if (!X509_STORE_add_cert(store, root)) {
        report("adding the root to the trust store");
        goto done;
    }
    if (profile == BENCH_TLS_DEFAULT) {
        /* No chain configured: OpenSSL builds it from the store on every handshake. */
        if (!X509_STORE_add_cert(store, inter)) {
            report("adding the intermediate to the store");
            goto done;
        }
    } else {
        /* The chain is set once; never built per handshake. */
        if (!SSL_CTX_add1_chain_cert(ctx, inter)) {
            report("SSL_CTX_add1_chain_cert");
            goto done;
        }
        long mode = SSL_MODE_NO_AUTO_CHAIN;
        if (profile == BENCH_TLS_TUNED_RELEASE_BUFFERS) mode |= SSL_MODE_RELEASE_BUFFERS;
        SSL_CTX_set_mode(ctx, mode);
        /* Never resuming: issue no tickets, keep no session cache. */
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        if (server && !SSL_CTX_set_num_tickets(ctx, 0)) {
            report("SSL_CTX_set_num_tickets");
            goto done;
        }
    }
    /* Both sides require and verify the peer's certificate; no hostname check. */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    ok = 1;
done:
    X509_free(leaf);
    X509_free(inter);
    X509_free(root);
    EVP_PKEY_free(key);
    if (!ok) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

bench_tls *bench_tls_new(const bench_certs *c, int keytype, bench_tls_profile profile,
                         const char *ciphersuites)
{
    if (keytype < 0 || keytype >= BENCH_KEY_COUNT) return NULL;
    bench_tls *t = calloc(1, sizeof(*t));
    if (t == NULL) return NULL;
    t->profile = profile;
    t->cli = make_ctx(c, &c->alice[keytype], 0, profile, ciphersuites);
    t->srv = make_ctx(c, &c->bob[keytype], 1, profile, ciphersuites);
    if (t->cli == NULL || t->srv == NULL) {
        bench_tls_free(t);
        return NULL;
    }
    return t;
}

void bench_tls_free(bench_tls *t)
{
    if (t == NULL) return;
    SSL_CTX_free(t->cli);
    SSL_CTX_free(t->srv);
    free(t);
}

static void pair_free(tls_pair *p)
{
    SSL_free(p->c); /* frees its end of the BIO pair */
    SSL_free(p->s);
    memset(p, 0, sizeof(*p));
}

/* A client and a server SSL joined by a BIO pair (default 17 KiB each way). */
static int pair_new(bench_tls *t, tls_pair *p)
{
    memset(p, 0, sizeof(*p));
    int prev = bench_mem_set_tag(BENCH_MEM_OTHER);
    if (!BIO_new_bio_pair(&p->bc, 0, &p->bs, 0)) {
        bench_mem_set_tag(prev);
        report("BIO_new_bio_pair");
        return -1;
    }
    bench_mem_set_tag(BENCH_MEM_CLIENT);
    p->c = SSL_new(t->cli);
    bench_mem_set_tag(BENCH_MEM_SERVER);
    p->s = SSL_new(t->srv);
    bench_mem_set_tag(prev);
    if (p->c == NULL || p->s == NULL) {
        report("SSL_new");
        SSL_free(p->c);
        SSL_free(p->s);
        BIO_free(p->bc);
        BIO_free(p->bs);
        memset(p, 0, sizeof(*p));
        return -1;
    }
    SSL_set_bio(p->c, p->bc, p->bc);
    SSL_set_bio(p->s, p->bs, p->bs);
    SSL_set_connect_state(p->c);
    SSL_set_accept_state(p->s);
    return 0;
}

static int would_block(SSL *s, int r)
{
    int e = SSL_get_error(s, r);
    return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
}

/*
 * Drives both ends to the end of the handshake, then lets the client read
 * what the server sent after its Finished (the tickets, when issued), as
 * the client's first SSL_read would in real use.
 */
static int pair_handshake(tls_pair *p)
{
    int prev = bench_mem_set_tag(BENCH_MEM_OTHER);
    int cdone = 0, sdone = 0, rc = -1;
    for (int round = 0; round < 32 && !(cdone && sdone); round++) {
        if (!cdone) {
            bench_mem_set_tag(BENCH_MEM_CLIENT);
            int r = SSL_do_handshake(p->c);
            if (r == 1)
                cdone = 1;
            else if (!would_block(p->c, r)) {
                report("client handshake");
                goto done;
            }
        }
        if (!sdone) {
            bench_mem_set_tag(BENCH_MEM_SERVER);
            int r = SSL_do_handshake(p->s);
            if (r == 1)
                sdone = 1;
            else if (!would_block(p->s, r)) {
                report("server handshake");
                goto done;
            }
        }
    }
    if (!(cdone && sdone)) {
        fprintf(stderr, "bench_tls: handshake did not complete\n");
        goto done;
    }
    bench_mem_set_tag(BENCH_MEM_CLIENT);
    unsigned char b;
    int r = SSL_read(p->c, &b, 1);
    if (r > 0 || !would_block(p->c, r)) {
        report("client post-handshake read");
        goto done;
    }
    if (SSL_get_verify_result(p->c) != X509_V_OK || SSL_get_verify_result(p->s) != X509_V_OK ||
        SSL_get0_peer_certificate(p->c) == NULL || SSL_get0_peer_certificate(p->s) == NULL) {
        fprintf(stderr, "bench_tls: peer certificate not verified\n");
        goto done;
    }
    rc = 0;
done:
    bench_mem_set_tag(prev);
    return rc;
}

int bench_tls_handshakes(bench_tls *t, int n, double *seconds)
{
    double t0 = bench_now();
    for (int i = 0; i < n; i++) {
        tls_pair p;
        if (pair_new(t, &p) != 0) return BENCH_FAILED;
        int rc = pair_handshake(&p);
        pair_free(&p);
        if (rc != 0) return BENCH_FAILED;
    }
    *seconds = bench_now() - t0;
    return BENCH_OK;
}

int bench_tls_records(bench_tls *t, size_t len, int n, double *seconds)
{
    if (len == 0 || len > 16384 || n <= 0) return BENCH_FAILED;
    unsigned char *out = malloc(len), *in = malloc(len);
    tls_pair p;
    int rc = BENCH_FAILED;
    if (out == NULL || in == NULL || pair_new(t, &p) != 0) {
        free(out);
        free(in);
        return BENCH_FAILED;
    }
    if (pair_handshake(&p) != 0) goto done;
    for (size_t i = 0; i < len; i++)
        out[i] = (unsigned char)(i * 31u + 7u);
    double t0 = bench_now();
    for (int i = 0; i < n; i++) {
        int w = SSL_write(p.c, out, (int)len);
        if (w != (int)len) {
            report("SSL_write");
            goto done;
        }
        size_t got = 0;
        while (got < len) {
            int r = SSL_read(p.s, in + got, (int)(len - got));
            if (r <= 0) {
                report("SSL_read");
                goto done;
            }
            got += (size_t)r;
        }
    }
    *seconds = bench_now() - t0;
    if (memcmp(in, out, len) != 0) {
        fprintf(stderr, "bench_tls: records arrived corrupted\n");
        goto done;
    }
    rc = BENCH_OK;
done:
    pair_free(&p);
    free(out);
    free(in);
    return rc;
}

int bench_tls_idle_memory(bench_tls *t, long long *client_bytes, long long *server_bytes,
                          long long *leftover, long long *heap_pair)
{
    if (!bench_mem_installed()) return BENCH_UNAVAILABLE;
    /* Warm-up: let OpenSSL fill its lazily built global caches first. */
    double s;
    if (bench_tls_handshakes(t, 8, &s) != BENCH_OK) return BENCH_FAILED;
    long long c0 = bench_mem_live(BENCH_MEM_CLIENT);
    long long s0 = bench_mem_live(BENCH_MEM_SERVER);
    size_t h0 = bench_mem_heap_in_use();
    tls_pair p;
    if (pair_new(t, &p) != 0) return BENCH_FAILED;
    if (pair_handshake(&p) != 0) {
        pair_free(&p);
        return BENCH_FAILED;
    }
    *client_bytes = bench_mem_live(BENCH_MEM_CLIENT) - c0;
    *server_bytes = bench_mem_live(BENCH_MEM_SERVER) - s0;
    *heap_pair = (long long)bench_mem_heap_in_use() - (long long)h0;
    pair_free(&p);
    *leftover = (bench_mem_live(BENCH_MEM_CLIENT) - c0) + (bench_mem_live(BENCH_MEM_SERVER) - s0);
    return BENCH_OK;
}

int bench_tls_describe(bench_tls *t, char *buf, size_t len)
{
    tls_pair p;
    if (pair_new(t, &p) != 0) return BENCH_FAILED;
    if (pair_handshake(&p) != 0) {
        pair_free(&p);
        return BENCH_FAILED;
    }
    char peer[256] = "?";
    X509 *pc = SSL_get0_peer_certificate(p.s);
    if (pc != NULL) X509_NAME_oneline(X509_get_subject_name(pc), peer, sizeof(peer));
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(p.c);
    snprintf(buf, len,
             "%s %s, client->server %lu bytes, server->client %lu bytes, "
             "server chain %d certs, client cert %s",
             SSL_get_version(p.c), SSL_get_cipher_name(p.c),
             (unsigned long)BIO_number_written(p.bc), (unsigned long)BIO_number_written(p.bs),
             chain != NULL ? sk_X509_num(chain) : 0, peer);
    pair_free(&p);
    return BENCH_OK;
}
