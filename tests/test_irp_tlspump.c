/*
 * test_irp_tlspump.c - TLS over memory without I/O (src/irp/irp_tlspump.c):
 * two pumps, a client and a server with real OpenSSL contexts and
 * certificates made in code, pass their ciphertext to each other in memory.
 * The handshake, plaintext queued before it is done, data in both
 * directions in pieces and in one large write, close_notify, and the
 * mapping of failures (an untrusted server certificate, a refused ALPN,
 * garbage) to sixchat/error.h codes on both sides.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <openssl/ssl.h>

#include "irp_tlspump.h"
#include "sc_testcert.h"
#include "sixchat/error.h"

typedef struct world {
    sc_testcert *root, *other_root, *server;
    SSL_CTX *sctx, *cctx;
    irp_tlspump *s, *c;
} world;

/* The server picks irp/1 or refuses (docs/IRP.md 3.1). */
static int alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                   const unsigned char *in, unsigned int inlen, void *arg)
{
    static const unsigned char want[] = "\x05irp/1";
    (void)ssl;
    (void)arg;
    if (inlen == 6 && memcmp(in, want, 6) == 0) {
        *out = in + 1;
        *outlen = 5;
        return SSL_TLSEXT_ERR_OK;
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* trusted: whether the client's store holds the root that issued the server's certificate */
static world *world_new(int trusted, const char *alpn, size_t alpn_len)
{
    world *w = calloc(1, sizeof(*w));
    int64_t now = (int64_t)time(NULL);
    sc_testcert_opts o = {.key_type = SC_TESTKEY_P256,
                          .eku = SC_TESTCERT_EKU_SERVER_ONLY,
                          .not_before = now - 3600,
                          .not_after = now + 86400};
    assert_non_null(w);
    w->root = sc_testcert_root(SC_TESTKEY_P256, "pump root", now - 3600, now + 86400);
    w->other_root = sc_testcert_root(SC_TESTKEY_P256, "other root", now - 3600, now + 86400);
    w->server = sc_testcert_user(w->root, &o);

    w->sctx = SSL_CTX_new(TLS_server_method());
    assert_non_null(w->sctx);
    assert_int_equal(SSL_CTX_set_min_proto_version(w->sctx, TLS1_3_VERSION), 1);
    assert_int_equal(SSL_CTX_use_certificate(w->sctx, w->server->cert), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey(w->sctx, w->server->key), 1);
    (void)SSL_CTX_set_num_tickets(w->sctx, 0);
    SSL_CTX_set_alpn_select_cb(w->sctx, alpn_cb, NULL);

    w->cctx = SSL_CTX_new(TLS_client_method());
    assert_non_null(w->cctx);
    assert_int_equal(SSL_CTX_set_min_proto_version(w->cctx, TLS1_3_VERSION), 1);
    assert_int_equal(X509_STORE_add_cert(SSL_CTX_get_cert_store(w->cctx),
                                         trusted ? w->root->cert : w->other_root->cert),
                     1);
    SSL_CTX_set_verify(w->cctx, SSL_VERIFY_PEER, NULL);
    assert_int_equal(
        SSL_CTX_set_alpn_protos(w->cctx, (const unsigned char *)alpn, (unsigned int)alpn_len), 0);

    w->s = irp_tlspump_new(w->sctx, 1);
    w->c = irp_tlspump_new(w->cctx, 0);
    assert_non_null(w->s);
    assert_non_null(w->c);
    assert_non_null(irp_tlspump_ssl(w->c));
    return w;
}

static void world_free(world *w)
{
    irp_tlspump_free(w->s);
    irp_tlspump_free(w->c);
    SSL_CTX_free(w->sctx);
    SSL_CTX_free(w->cctx);
    sc_testcert_free(w->root);
    sc_testcert_free(w->other_root);
    sc_testcert_free(w->server);
    free(w);
}

/* Moves what from has to send into to, step bytes at a time. Returns the bytes moved. */
static size_t pass(irp_tlspump *from, irp_tlspump *to, size_t step)
{
    uint8_t buf[4096];
    size_t moved = 0, n;
    if (step > sizeof(buf)) step = sizeof(buf);
    while ((n = irp_tlspump_take(from, buf, step)) > 0) {
        assert_int_equal(irp_tlspump_feed(to, buf, n), SC_OK);
        moved += n;
    }
    assert_int_equal(irp_tlspump_pending(from), 0);
    return moved;
}

/* Runs both handshakes to the end, passing step bytes at a time. */
static void handshake(world *w, size_t step)
{
    int cd = 0, sd = 0, rounds = 0;
    while (!(cd && sd)) {
        assert_true(++rounds < 20);
        assert_int_equal(irp_tlspump_handshake(w->c, &cd), SC_OK);
        pass(w->c, w->s, step);
        assert_int_equal(irp_tlspump_handshake(w->s, &sd), SC_OK);
        pass(w->s, w->c, step);
    }
    assert_true(irp_tlspump_done(w->c));
    assert_true(irp_tlspump_done(w->s));
}

/* Reads everything available from p into out (cap bytes). Returns the byte count. */
static size_t drain(irp_tlspump *p, uint8_t *out, size_t cap)
{
    size_t total = 0, got;
    do {
        assert_int_equal(irp_tlspump_read(p, out + total, cap - total, &got), SC_OK);
        total += got;
    } while (got > 0 && total < cap);
    return total;
}

static void test_handshake_and_data(void **state)
{
    world *w = world_new(1, "\x05irp/1", 6);
    uint8_t buf[256];
    size_t got;
    int done = 1;

    /* before the handshake: nothing to read, the client speaks first */
    assert_int_equal(irp_tlspump_read(w->c, buf, sizeof(buf), &got), SC_ERR_STATE);
    assert_int_equal(irp_tlspump_handshake(w->s, &done), SC_OK);
    assert_int_equal(done, 0);
    assert_int_equal(irp_tlspump_pending(w->s), 0);
    /* queued before the handshake: sent once it is done */
    assert_int_equal(irp_tlspump_write(w->c, (const uint8_t *)"early ", 6), SC_OK);
    assert_int_equal(irp_tlspump_write(w->c, (const uint8_t *)"request", 7), SC_OK);
    handshake(w, 7); /* ciphertext fed in 7-byte pieces */

    const unsigned char *proto = NULL;
    unsigned int plen = 0;
    SSL_get0_alpn_selected(irp_tlspump_ssl(w->c), &proto, &plen);
    assert_int_equal(plen, 5);
    assert_memory_equal(proto, "irp/1", 5);

    pass(w->c, w->s, 1);
    assert_int_equal(drain(w->s, buf, sizeof(buf)), 13);
    assert_memory_equal(buf, "early request", 13);
    /* nothing more: "feed me", not an error */
    assert_int_equal(irp_tlspump_read(w->s, buf, sizeof(buf), &got), SC_OK);
    assert_int_equal(got, 0);

    assert_int_equal(irp_tlspump_write(w->s, (const uint8_t *)"answer", 6), SC_OK);
    pass(w->s, w->c, 4096);
    assert_int_equal(drain(w->c, buf, sizeof(buf)), 6);
    assert_memory_equal(buf, "answer", 6);
    assert_string_equal(irp_tlspump_reason(w->c), "");
    world_free(w);
}

static void test_large_write(void **state)
{
    world *w = world_new(1, "\x05irp/1", 6);
    size_t n = 100000; /* several TLS records */
    uint8_t *big = malloc(n), *back = malloc(n);
    assert_non_null(big);
    assert_non_null(back);
    for (size_t i = 0; i < n; i++)
        big[i] = (uint8_t)(i * 7 + 3);
    handshake(w, 4096);
    assert_int_equal(irp_tlspump_write(w->s, big, n), SC_OK);
    assert_true(irp_tlspump_pending(w->s) > n); /* all of it encrypted at once */
    pass(w->s, w->c, 1000);
    assert_int_equal(drain(w->c, back, n), n);
    assert_memory_equal(big, back, n);
    free(big);
    free(back);
    world_free(w);
}

static void test_close_notify(void **state)
{
    world *w = world_new(1, "\x05irp/1", 6);
    uint8_t buf[64];
    size_t got;
    handshake(w, 4096);
    assert_int_equal(irp_tlspump_write(w->c, (const uint8_t *)"last", 4), SC_OK);
    irp_tlspump_close(w->c);
    irp_tlspump_close(w->c); /* once only */
    assert_int_equal(irp_tlspump_write(w->c, (const uint8_t *)"x", 1), SC_ERR_STATE);
    pass(w->c, w->s, 4096);
    assert_int_equal(irp_tlspump_read(w->s, buf, sizeof(buf), &got), SC_OK);
    assert_int_equal(got, 4);
    assert_int_equal(irp_tlspump_read(w->s, buf, sizeof(buf), &got), SC_ERR_CLOSED);
    assert_int_equal(got, 0);
    assert_int_equal(irp_tlspump_read(w->s, buf, sizeof(buf), &got), SC_ERR_CLOSED);
    /* the server may still answer, then close in turn (RFC 8446 6.1) */
    assert_int_equal(irp_tlspump_write(w->s, (const uint8_t *)"bye", 3), SC_OK);
    irp_tlspump_close(w->s);
    pass(w->s, w->c, 4096);
    assert_int_equal(irp_tlspump_read(w->c, buf, sizeof(buf), &got), SC_OK);
    assert_int_equal(got, 3);
    assert_int_equal(irp_tlspump_read(w->c, buf, sizeof(buf), &got), SC_ERR_CLOSED);
    world_free(w);
}

/* Drives both sides until each has either finished or failed; returns the client's result. */
static int handshake_until_failure(world *w, int *server_rc)
{
    int cd = 0, sd = 0, crc = SC_OK, src = SC_OK;
    for (int i = 0; i < 6; i++) {
        if (crc == SC_OK && !cd) crc = irp_tlspump_handshake(w->c, &cd);
        pass(w->c, w->s, 4096);
        if (src == SC_OK && !sd) src = irp_tlspump_handshake(w->s, &sd);
        pass(w->s, w->c, 4096);
    }
    *server_rc = src;
    return crc;
}

static void test_untrusted_server(void **state)
{
    world *w = world_new(0, "\x05irp/1", 6);
    uint8_t buf[16];
    size_t got;
    int src, crc = handshake_until_failure(w, &src);
    assert_int_equal(crc, SC_ERR_UNKNOWN_CA);
    assert_string_not_equal(irp_tlspump_reason(w->c), "");
    /* the client's alert reached the server: unknown_ca (48) */
    assert_int_equal(src, SC_PEER_ALERT_BASE + SC_ALERT_UNKNOWN_CA);
    /* failures stick */
    assert_int_equal(irp_tlspump_write(w->c, (const uint8_t *)"x", 1), SC_ERR_UNKNOWN_CA);
    assert_int_equal(irp_tlspump_read(w->c, buf, sizeof(buf), &got), SC_ERR_UNKNOWN_CA);
    irp_tlspump_close(w->c); /* nothing to close: no output */
    assert_int_equal(irp_tlspump_pending(w->c), 0);
    world_free(w);
}

static void test_alpn_refused(void **state)
{
    world *w = world_new(1, "\x05http1", 6);
    int src, crc = handshake_until_failure(w, &src);
    assert_int_equal(src, SC_ERR_HANDSHAKE_FAILURE);
    /* no_application_protocol (120) has no name of its own in error.h */
    assert_int_equal(crc, SC_PEER_ALERT_BASE + 120);
    world_free(w);
}

static void test_garbage(void **state)
{
    world *w = world_new(1, "\x05irp/1", 6);
    static const uint8_t junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    int done = 0, rc;
    assert_int_equal(irp_tlspump_feed(w->s, junk, sizeof(junk) - 1), SC_OK);
    rc = irp_tlspump_handshake(w->s, &done);
    assert_int_equal(rc, SC_ERR_HANDSHAKE_FAILURE); /* OpenSSL: "http request" */
    assert_int_equal(done, 0);
    assert_string_not_equal(irp_tlspump_reason(w->s), "");
    assert_int_equal(irp_tlspump_handshake(w->s, &done), rc);
    world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_and_data), cmocka_unit_test(test_large_write),
        cmocka_unit_test(test_close_notify),       cmocka_unit_test(test_untrusted_server),
        cmocka_unit_test(test_alpn_refused),       cmocka_unit_test(test_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
