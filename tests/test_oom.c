/*
 * test_oom.c - every allocation failure on the way through a whole session
 * (issue 6, out-of-memory paths), as ngtcp2's and BearSSL's tests do it.
 *
 * The library's allocator (sc_set_allocator) and OpenSSL's
 * (CRYPTO_set_mem_functions) share one counter. Run N fails the Nth
 * allocation, for N = 1, 2, ... until a run never reaches N: then every
 * allocation of the scenario has failed once. The scenario is a handshake
 * between two in-memory sessions (both roles), stanzas both ways, a ping,
 * file data over several records, key updates both ways, close and end of
 * stream, and then more calls on whatever state is left.
 *
 * Each run must end either in complete success (everything delivered,
 * checked) or in a clean error: SC_ERR_NOMEM or SC_ERR_CRYPTO on the side
 * that ran out, internal_error (or nothing) on the other; no crash, and no
 * block of the library's left allocated once both sessions and configs are
 * freed (counted here; ASan's leak check covers OpenSSL's too in
 * test-asan). And the configurations (with their certificate caches) must
 * still serve a handshake afterwards.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include "sc_pair.h"
#include "sc_testpki.h"

#define NOW_MS ((uint64_t)SC_TESTCERT_NOW * 1000)
#define FILE_LEN 40000 /* three records */

/* ---- the failing allocator ------------------------------------------- */

static long n_allocs;    /* allocations counted since the run's window opened */
static long fail_at = 0; /* 0: never fail */
static long live_blocks; /* the library's blocks not yet freed */

/* A place for a debugger's breakpoint: the allocation being failed. */
void oom_hit(long n) __attribute__((noinline));
void oom_hit(long n)
{
    __asm__ volatile("" ::"r"(n));
}

/*
 * Two OpenSSL operations drop some allocation failures and answer with a
 * verdict on their input instead, which the library cannot tell apart:
 * path validation (a name lookup that cannot allocate answers "no such
 * issuer"; X509_verify_cert) and signature verification (Ed25519's verify
 * answers "invalid" when it cannot allocate its hash context). When the
 * failed allocation happened inside one of them, that verdict is a clean
 * outcome too, and the runs after it show that nothing was spoilt.
 */
static int failed_in_verify, failed_in_sigcheck;

static int in_x509_verify, in_digest_verify;

/* The linker sends the library's calls here (-Wl,--wrap, tests/CMakeLists.txt). */
int __real_X509_verify_cert(X509_STORE_CTX *ctx);
int __wrap_X509_verify_cert(X509_STORE_CTX *ctx);
int __wrap_X509_verify_cert(X509_STORE_CTX *ctx)
{
    in_x509_verify++;
    int r = __real_X509_verify_cert(ctx);
    in_x509_verify--;
    return r;
}

int __real_EVP_DigestVerify(EVP_MD_CTX *ctx, const unsigned char *sig, size_t siglen,
                            const unsigned char *tbs, size_t tbslen);
int __wrap_EVP_DigestVerify(EVP_MD_CTX *ctx, const unsigned char *sig, size_t siglen,
                            const unsigned char *tbs, size_t tbslen);
int __wrap_EVP_DigestVerify(EVP_MD_CTX *ctx, const unsigned char *sig, size_t siglen,
                            const unsigned char *tbs, size_t tbslen)
{
    in_digest_verify++;
    int r = __real_EVP_DigestVerify(ctx, sig, siglen, tbs, tbslen);
    in_digest_verify--;
    return r;
}

static int fail_now(void)
{
    if (fail_at > 0 && ++n_allocs == fail_at) {
        oom_hit(fail_at);
        failed_in_verify = in_x509_verify > 0;
        failed_in_sigcheck = in_digest_verify > 0;
        return 1;
    }
    return 0;
}

static void *t_malloc(size_t n)
{
    if (fail_now()) return NULL;
    void *p = malloc(n);
    if (p != NULL) live_blocks++;
    return p;
}

static void *t_realloc(void *p, size_t n)
{
    if (fail_now()) return NULL;
    void *q = realloc(p, n);
    if (q != NULL && p == NULL) live_blocks++;
    return q;
}

static void t_free(void *p)
{
    if (p != NULL) live_blocks--;
    free(p);
}

static void *o_malloc(size_t n, const char *file, int line)
{
    return fail_now() ? NULL : malloc(n);
}

static void *o_realloc(void *p, size_t n, const char *file, int line)
{
    if (n == 0) {
        free(p);
        return NULL;
    }
    return fail_now() ? NULL : realloc(p, n);
}

static void o_free(void *p, const char *file, int line)
{
    free(p);
}

/* Randomness that allocates nothing (the usual test source hashes with OpenSSL). */
static int xs_rng(void *ctx, uint8_t *out, size_t len)
{
    uint64_t *st = ctx;
    for (size_t i = 0; i < len; i++) {
        *st ^= *st << 13;
        *st ^= *st >> 7;
        *st ^= *st << 17;
        out[i] = (uint8_t)*st;
    }
    return 0;
}

/* ---- the scenario ---------------------------------------------------- */

static uint8_t file_bytes[FILE_LEN];
static uint64_t rng_i, rng_r;

/* What a side may report when it, or its peer, ran out of memory. */
static int clean_error(int e)
{
    if (failed_in_sigcheck &&
        (e == SC_ERR_DECRYPT_ERROR || e == SC_ERR_PEER_ALERT(SC_ALERT_DECRYPT_ERROR)))
        return 1;
    if (failed_in_verify &&
        (e == SC_ERR_UNKNOWN_CA || e == SC_ERR_BAD_CERTIFICATE ||
         e == SC_ERR_UNSUPPORTED_CERTIFICATE || e == SC_ERR_PEER_ALERT(SC_ALERT_UNKNOWN_CA) ||
         e == SC_ERR_PEER_ALERT(SC_ALERT_BAD_CERTIFICATE) ||
         e == SC_ERR_PEER_ALERT(SC_ALERT_UNSUPPORTED_CERTIFICATE)))
        return 1;
    return e == SC_OK || e == SC_ERR_NOMEM || e == SC_ERR_CRYPTO ||
           e == SC_ERR_PEER_ALERT(SC_ALERT_INTERNAL_ERROR);
}

/* A call's return: OK, a clean error, or a later call's answer on a failed or closed session. */
static void check_ret(const char *what, int e)
{
    if (clean_error(e) || e == SC_ERR_STATE || e == SC_ERR_TRUNCATED) return;
    fail_msg("fail_at %ld: %s returned %d (%s)", fail_at, what, e, sc_strerror(e));
}

static int send_msg(sc_session *s, const char *id, const char *text)
{
    sc_stanza st = {.type = SC_STANZA_MSG, .id = id, .text = text, .text_len = strlen(text)};
    return sc_session_send_stanza(s, &st);
}

static int both_ok(const sc_pair *p)
{
    return sc_session_error(p->i.s) == SC_OK && sc_session_error(p->r.s) == SC_OK;
}

/* Returns 1 when every step succeeded and every result checked out. */
static int scenario(sc_pair *p)
{
    sc_stanza ping = {.type = SC_STANZA_PING, .id = "p1"};
    uint8_t ex_i[32], ex_r[32];
    int ret;

    if ((ret = sc_session_set_expected_peer(p->i.s, "bob@example.org")) != SC_OK) {
        check_ret("set_expected_peer", ret);
        return 0;
    }
    check_ret("start", sc_session_start(p->i.s));
    sc_pair_pump(p);
    check_ret("recv i", p->recv_err_i);
    check_ret("recv r", p->recv_err_r);
    if (!both_ok(p) || p->i.handshakes != 1 || p->r.handshakes != 1) return 0;

    check_ret("stanza i", send_msg(p->i.s, "m1", "hello bob"));
    check_ret("stanza r", send_msg(p->r.s, "m2", "hello alice"));
    check_ret("ping", sc_session_send_stanza(p->i.s, &ping));
    sc_pair_pump(p);
    check_ret("file", sc_session_send_file_data(p->i.s, "f1", 0, file_bytes, FILE_LEN));
    sc_pair_pump(p);
    check_ret("key update i", sc_session_key_update(p->i.s, 1));
    sc_pair_pump(p);
    check_ret("key update r", sc_session_key_update(p->r.s, 0));
    check_ret("stanza after ku", send_msg(p->r.s, "m3", "after the update"));
    sc_pair_pump(p);
    /* A failed export is the caller's to handle; the session goes on. */
    int ex = sc_session_export(p->i.s, "test", ex_i), exr = sc_session_export(p->r.s, "test", ex_r);
    check_ret("export i", ex);
    check_ret("export r", exr);
    check_ret("close i", sc_session_close(p->i.s));
    sc_pair_pump(p);
    check_ret("recv i", p->recv_err_i);
    check_ret("recv r", p->recv_err_r);
    if (!both_ok(p) || ex != SC_OK || exr != SC_OK) return 0;

    /* Everything arrived, in order, intact. */
    assert_int_equal(p->r.n_stanzas, 1);
    assert_string_equal(p->r.stanza_text[0], "hello bob");
    assert_int_equal(p->i.n_stanzas, 3); /* hello alice, the pong, after the update */
    assert_int_equal(p->i.stanza_type[1], SC_STANZA_PONG);
    assert_string_equal(p->i.stanza_text[2], "after the update");
    assert_int_equal(p->r.file_len, FILE_LEN);
    assert_memory_equal(p->r.file, file_bytes, FILE_LEN);
    assert_int_equal(p->i.key_updates_out, 1);
    assert_int_equal(p->r.key_updates_in, 1);
    assert_int_equal(p->r.key_updates_out, 2); /* the answer, then its own */
    assert_memory_equal(ex_i, ex_r, 32);
    assert_int_equal(p->r.closed, 1);
    assert_int_equal(p->i.closed, 1);
    assert_int_equal(sc_session_eof(p->i.s), SC_OK);
    assert_int_equal(sc_session_eof(p->r.s), SC_OK);
    return 1;
}

/* After the scenario the clock jumps an hour: a handshake left waiting times out. */
static void check_late(const char *what, int e)
{
    if (e != SC_ERR_TIMEOUT && e != SC_ERR_PEER_ALERT(SC_ALERT_HANDSHAKE_TIMEOUT))
        check_ret(what, e);
}

/* Whatever state a failure left must take more calls without crashing. */
static void poke(sc_pair *p)
{
    sc_session *both[2] = {p->i.s, p->r.s};
    for (int k = 0; k < 2; k++) {
        sc_session *s = both[k];
        uint8_t out[32];
        check_late("poke stanza", send_msg(s, "x", "late"));
        check_late("poke file", sc_session_send_file_data(s, "f2", 0, file_bytes, 10));
        check_late("poke ku", sc_session_key_update(s, 1));
        int e = sc_session_export(s, "late", out);
        if (e != SC_OK && e != SC_ERR_STATE) check_late("poke export", e);
        check_late("poke tick", sc_session_tick(s, NOW_MS + 3600000));
        check_late("poke close", sc_session_close(s));
    }
    sc_pair_pump(p);
    check_late("poke eof i", sc_session_eof(p->i.s));
    check_late("poke eof r", sc_session_eof(p->r.s));
    check_late("final i", sc_session_error(p->i.s));
    check_late("final r", sc_session_error(p->r.s));
}

static sc_config *config(const char *chain, const char *key, const char *root, uint64_t *rng)
{
    sc_config *cfg = sc_party_config(chain, key, root, NULL);
    sc_config_set_random(cfg, xs_rng, rng);
    return cfg;
}

/*
 * One run failing allocation number `n` (0: none). Returns 1 when the run
 * reached allocation n, 0 when it finished first (and then it must have
 * succeeded).
 */
static int run(const sc_testpki *k, long n, long *total)
{
    sc_pair p;
    int ok = 0;
    rng_i = 0x1234567;
    rng_r = 0x7654321;
    fail_at = 0;
    sc_config *ci = config(k->alice_chain, k->alice_key, k->root_pem, &rng_i);
    sc_config *cr = config(k->bob_chain, k->bob_key, k->root_pem, &rng_r);
    n_allocs = 0;
    failed_in_verify = failed_in_sigcheck = 0;
    fail_at = n;
    int ret = sc_pair_try_init(&p, ci, cr, NOW_MS);
    if (ret == SC_OK)
        ok = scenario(&p);
    else
        check_ret("session_new", ret);
    if (p.i.s != NULL && p.r.s != NULL) poke(&p);
    fail_at = 0;
    if (total) *total = n_allocs;
    int reached = n > 0 && n_allocs >= n;
    /* The configurations live on (their caches too): a failure must not spoil them. */
    p.i.cfg = p.r.cfg = NULL;
    sc_pair_free(&p);
    if (reached) {
        sc_pair_init(&p, ci, cr, NOW_MS);
        if (!sc_pair_handshake(&p))
            fail_msg("fail_at %ld: a later handshake on the same configs failed: %d %d", n,
                     sc_session_error(p.i.s), sc_session_error(p.r.s));
        p.i.cfg = p.r.cfg = NULL;
        sc_pair_free(&p);
    }
    sc_config_free(ci);
    sc_config_free(cr);
    if (live_blocks != 0) fail_msg("fail_at %ld: %ld blocks leaked", n, live_blocks);
    if (!reached && !ok) fail_msg("fail_at %ld: the run failed without an allocation failure", n);
    return reached;
}

static void test_every_allocation_fails_once(void **st)
{
    sc_testpki k;
    long total = 0, n;
    sc_testpki_make_types(&k, SC_TESTKEY_ED25519, SC_TESTKEY_ED25519);
    for (size_t i = 0; i < FILE_LEN; i++)
        file_bytes[i] = (uint8_t)(i * 7 + (i >> 9));

    /* A first run without failures warms OpenSSL's one-time state, and counts. */
    assert_int_equal(run(&k, 0, NULL), 0);
    fail_at = 1000000000;
    n_allocs = 0;
    assert_int_equal(run(&k, 1000000000, &total), 0);
    print_message("scenario: %ld allocations\n", total);
    assert_true(total > 100);
    const char *from = getenv("SC_OOM_FROM"); /* to start at one failing N while debugging */
    for (n = from ? atol(from) : 1; run(&k, n, NULL); n++)
        ;
    assert_int_equal(n, total + 1);
    sc_testpki_free(&k);
}

int main(void)
{
    /* Before anything allocates: OpenSSL's and the library's allocations are counted. */
    if (!CRYPTO_set_mem_functions(o_malloc, o_realloc, o_free)) return 1;
    if (sc_set_allocator(t_malloc, t_realloc, t_free) != SC_OK) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_allocation_fails_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
