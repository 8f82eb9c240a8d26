/*
 * test_errqueue.c - OpenSSL's per-thread error queue at the API boundary
 * (issue 6, finding 4).
 *
 * An embedder runs libsixchat and other OpenSSL users (libssl to the
 * registry) on one thread. A peer's bad input must not leave errors on the
 * queue: an idle TLS connection would then read them as its own failure
 * (SSL_get_error() reports SSL_ERROR_SSL when the queue is not empty). And
 * the library must not wipe errors the caller left there either.
 *
 * Each case: a real TLS 1.3 client/server pair over a BIO pair, handshake
 * done, in this thread; then a responder session is fed a hostile ihello (or
 * a bad signature); then the idle TLS connection must still read as idle.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include "sc_config_int.h"
#include "sc_hsmsg.h"
#include "sc_pair.h"
#include "sc_record.h"
#include "sc_testpki.h"

#define NOW_MS ((uint64_t)SC_TESTCERT_NOW * 1000)

/* ---- a real TLS 1.3 connection in this thread -------------------------- */

typedef struct tls_pair {
    SSL_CTX *sctx, *cctx;
    SSL *server, *client;
    sc_testcert *cert;
} tls_pair;

/* The test PKI's users are all @example.org. */
static const char *const org[] = {"example.org"};

static void tls_up(tls_pair *t)
{
    sc_testcert_opts o = {.key_type = SC_TESTKEY_P256, .user_id = "tls@example.org"};
    BIO *sb = NULL, *cb = NULL;
    memset(t, 0, sizeof *t);
    t->cert = sc_testcert_user(NULL, &o);
    t->sctx = SSL_CTX_new(TLS_server_method());
    t->cctx = SSL_CTX_new(TLS_client_method());
    assert_non_null(t->sctx);
    assert_non_null(t->cctx);
    assert_true(SSL_CTX_set_min_proto_version(t->sctx, TLS1_3_VERSION));
    assert_true(SSL_CTX_set_min_proto_version(t->cctx, TLS1_3_VERSION));
    assert_int_equal(SSL_CTX_use_certificate(t->sctx, t->cert->cert), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey(t->sctx, t->cert->key), 1);
    SSL_CTX_set_verify(t->cctx, SSL_VERIFY_NONE, NULL);
    t->server = SSL_new(t->sctx);
    t->client = SSL_new(t->cctx);
    assert_non_null(t->server);
    assert_non_null(t->client);
    assert_int_equal(BIO_new_bio_pair(&sb, 0, &cb, 0), 1);
    SSL_set_bio(t->server, sb, sb);
    SSL_set_bio(t->client, cb, cb);
    SSL_set_accept_state(t->server);
    SSL_set_connect_state(t->client);
    int cdone = 0, sdone = 0;
    for (int i = 0; i < 100 && !(cdone && sdone); i++) {
        if (!cdone) {
            int r = SSL_do_handshake(t->client);
            if (r == 1)
                cdone = 1;
            else
                assert_int_equal(SSL_get_error(t->client, r), SSL_ERROR_WANT_READ);
        }
        if (!sdone) {
            int r = SSL_do_handshake(t->server);
            if (r == 1)
                sdone = 1;
            else
                assert_int_equal(SSL_get_error(t->server, r), SSL_ERROR_WANT_READ);
        }
    }
    assert_true(cdone && sdone);
    /* The server's session tickets: read them now so the client is idle afterwards. */
    char c;
    int r = SSL_read(t->client, &c, 1);
    assert_true(r <= 0);
    assert_int_equal(SSL_get_error(t->client, r), SSL_ERROR_WANT_READ);
}

/* The idle connection reads as idle and still writes. */
static void tls_check_idle(tls_pair *t)
{
    char buf[16];
    int r = SSL_read(t->client, buf, sizeof buf);
    assert_true(r <= 0);
    assert_int_equal(SSL_get_error(t->client, r), SSL_ERROR_WANT_READ);
    r = SSL_write(t->client, "ping", 4);
    assert_int_equal(r, 4);
    r = SSL_read(t->server, buf, sizeof buf);
    assert_int_equal(r, 4);
    assert_memory_equal(buf, "ping", 4);
    r = SSL_read(t->server, buf, sizeof buf);
    assert_int_equal(SSL_get_error(t->server, r), SSL_ERROR_WANT_READ);
}

static void tls_down(tls_pair *t)
{
    SSL_free(t->client);
    SSL_free(t->server);
    SSL_CTX_free(t->cctx);
    SSL_CTX_free(t->sctx);
    sc_testcert_free(t->cert);
}

/* ---- hostile input to a responder -------------------------------------- */

static sc_test_rng rng_r = {.seed = 2};

/* Sends one ihello in a HELLO frame to a fresh responder; returns its error. */
static int feed_ihello(sc_config *rcfg, const sc_ihello *m)
{
    sc_session *s = NULL;
    sc_buf msg, frame;
    int ret;
    sc_buf_init(&msg, 0);
    sc_buf_init(&frame, 0);
    assert_int_equal(sc_ihello_write(&msg, m), SC_OK);
    sc_frame_put(&frame, SC_FRAME_HELLO, msg.data, msg.len);
    assert_true(sc_buf_ok(&frame));
    assert_int_equal(sc_session_new(rcfg, SC_ROLE_RESPONDER, NOW_MS, &s), SC_OK);
    ret = sc_session_recv(s, frame.data, frame.len, NOW_MS);
    sc_session_free(s);
    sc_buf_dispose(&msg);
    sc_buf_dispose(&frame);
    return ret;
}

static void base_ihello(sc_ihello *m)
{
    memset(m, 0, sizeof *m);
    memset(m->random, 7, sizeof m->random);
    m->suites.v[m->suites.n++] = SC_SUITE_AES_256_GCM;
    for (int a = 1; a <= SC_SIG_COUNT; a++)
        m->sigs.v[m->sigs.n++] = a;
}

/* A user error the caller pushed before calling us; it must survive the call. */
static void push_caller_error(void)
{
    ERR_clear_error();
    ERR_raise_data(ERR_LIB_USER, 4242, "caller's own error");
}

static void assert_caller_error_intact(void)
{
    unsigned long e = ERR_peek_error();
    assert_int_equal(ERR_GET_LIB(e), ERR_LIB_USER);
    assert_int_equal(ERR_GET_REASON(e), 4242);
    assert_int_equal(ERR_peek_last_error(), e); /* and nothing after it */
    ERR_clear_error();
}

/* Off-curve P-256 key share: sc_kex_derive's import fails inside OpenSSL. */
static int off_curve_share(sc_config *rcfg)
{
    sc_ihello m;
    base_ihello(&m);
    m.groups.v[m.groups.n++] = SC_GROUP_P256;
    m.shares[0].group = SC_GROUP_P256;
    m.shares[0].len = 65;
    m.shares[0].pub[0] = 4;
    memset(m.shares[0].pub + 1, 0x11, 64); /* (0x11.., 0x11..) is not on the curve */
    m.n_shares = 1;
    return feed_ihello(rcfg, &m);
}

static void test_off_curve_share_leaves_queue_clean(void **st)
{
    sc_testpki k;
    tls_pair t;
    sc_testpki_make(&k, NULL, NULL);
    sc_config *rcfg = sc_party_config(k.bob_chain, k.bob_key, k.root_pem, &rng_r);
    assert_int_equal(sc_config_set_groups(rcfg, "p256"), SC_OK);
    tls_up(&t);

    ERR_clear_error();
    assert_int_equal(off_curve_share(rcfg), SC_ERR_ILLEGAL_PARAMETER);
    assert_int_equal(ERR_peek_error(), 0);
    tls_check_idle(&t);

    push_caller_error();
    assert_int_equal(off_curve_share(rcfg), SC_ERR_ILLEGAL_PARAMETER);
    assert_caller_error_intact();

    tls_down(&t);
    sc_config_free(rcfg);
    sc_testpki_free(&k);
}

/* A key-transport ciphertext that does not decrypt: RSA-OAEP fails inside OpenSSL. */
static int bad_oaep(sc_config *rcfg)
{
    sc_ihello m;
    base_ihello(&m);
    m.kt_len = 256; /* RSA-2048 */
    memset(m.kt, 0x5a, m.kt_len);
    return feed_ihello(rcfg, &m);
}

static void test_oaep_failure_leaves_queue_clean(void **st)
{
    sc_testpki k;
    tls_pair t;
    sc_testpki_make_types(&k, SC_TESTKEY_P256, SC_TESTKEY_RSA2048);
    sc_config *rcfg = sc_party_config(k.bob_chain, k.bob_key, k.root_pem, &rng_r);
    sc_config_enable_key_transport(rcfg, 1);
    tls_up(&t);

    ERR_clear_error();
    assert_int_equal(bad_oaep(rcfg), SC_ERR_DECRYPT_ERROR);
    assert_int_equal(ERR_peek_error(), 0);
    tls_check_idle(&t);

    push_caller_error();
    assert_int_equal(bad_oaep(rcfg), SC_ERR_DECRYPT_ERROR);
    assert_caller_error_intact();

    tls_down(&t);
    sc_config_free(rcfg);
    sc_testpki_free(&k);
}

/*
 * A bad RSA-PSS signature: the initiator signs with a key that does not
 * match its certificate (swapped in after configuration), so the
 * responder's verification fails inside OpenSSL.
 */
static int bad_signature_handshake(const sc_testpki *k)
{
    static sc_test_rng rng_i = {.seed = 1};
    sc_pair p;
    sc_config *icfg = sc_party_config(k->alice_chain, k->alice_key, k->root_pem, &rng_i);
    sc_config *rcfg = sc_party_config(k->bob_chain, k->bob_key, k->root_pem, &rng_r);
    EVP_PKEY_free(icfg->key);
    icfg->key = sc_testkey_new(SC_TESTKEY_RSA2048);
    sc_pair_init(&p, icfg, rcfg, NOW_MS);
    assert_false(sc_pair_handshake(&p));
    int ret = sc_session_error(p.r.s);
    sc_pair_free(&p);
    return ret;
}

static void test_bad_signature_leaves_queue_clean(void **st)
{
    sc_testpki k;
    tls_pair t;
    sc_testpki_make_types(&k, SC_TESTKEY_RSA2048, SC_TESTKEY_P256);
    tls_up(&t);

    ERR_clear_error();
    assert_int_equal(bad_signature_handshake(&k), SC_ERR_DECRYPT_ERROR);
    assert_int_equal(ERR_peek_error(), 0);
    tls_check_idle(&t);

    tls_down(&t);
    sc_testpki_free(&k);
}

/* Configuration: neither a good nor a bad identity touches the caller's errors. */
static void test_identity_pem_keeps_caller_errors(void **st)
{
    sc_testpki k;
    sc_testpki_make(&k, NULL, NULL);
    sc_config *cfg = sc_config_new();
    assert_non_null(cfg);

    push_caller_error();
    assert_int_equal(sc_config_set_identity_pem(cfg, k.bob_chain, strlen(k.bob_chain), k.bob_key,
                                                strlen(k.bob_key)),
                     SC_OK);
    assert_caller_error_intact();

    push_caller_error();
    assert_int_equal(sc_config_set_identity_pem(cfg, k.bob_chain, strlen(k.bob_chain), "junk", 4),
                     SC_ERR_PARSE);
    assert_caller_error_intact();

    push_caller_error();
    assert_int_equal(sc_config_set_identity_pem(cfg, "junk", 4, k.bob_key, strlen(k.bob_key)),
                     SC_ERR_PARSE);
    assert_caller_error_intact();

    /* The key of another user: a mismatch found inside OpenSSL. */
    push_caller_error();
    assert_int_equal(sc_config_set_identity_pem(cfg, k.bob_chain, strlen(k.bob_chain), k.alice_key,
                                                strlen(k.alice_key)),
                     SC_ERR_CONFIG);
    assert_caller_error_intact();

    push_caller_error();
    assert_int_equal(sc_config_add_trust_anchor_pem(cfg, "junk", 4, org, 1), SC_ERR_PARSE);
    assert_caller_error_intact();

    /* A peer certificate that does not decode. */
    sc_session *s = NULL;
    sc_config_set_random(cfg, sc_test_rng_fn, &rng_r);
    assert_int_equal(sc_config_set_identity_pem(cfg, k.bob_chain, strlen(k.bob_chain), k.bob_key,
                                                strlen(k.bob_key)),
                     SC_OK);
    assert_int_equal(sc_config_add_trust_anchor_pem(cfg, k.root_pem, strlen(k.root_pem), org, 1),
                     SC_OK);
    assert_int_equal(sc_session_new(cfg, SC_ROLE_INITIATOR, NOW_MS, &s), SC_OK);
    push_caller_error();
    assert_int_equal(sc_session_set_peer_cert(s, (const uint8_t *)"\x30\x03\x02\x01\x01", 5),
                     SC_ERR_ARG);
    assert_caller_error_intact();
    sc_session_free(s);

    sc_config_free(cfg);
    sc_testpki_free(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_off_curve_share_leaves_queue_clean),
        cmocka_unit_test(test_oaep_failure_leaves_queue_clean),
        cmocka_unit_test(test_bad_signature_leaves_queue_clean),
        cmocka_unit_test(test_identity_pem_keeps_caller_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
