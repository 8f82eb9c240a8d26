/*
 * test_certcache.c - the cache of decoded certificates and verified chains
 * (src/core/sc_certcache.c): insertion and lookup by hash, the bound of
 * SC_CERTCACHE_SIZE entries with the oldest evicted, and that clearing and
 * freeing the cache let go of every certificate and verified chain.
 *
 * Whether the cache still holds a certificate is seen from outside through
 * an ex_data free callback: OpenSSL calls it when the last reference to the
 * X509 goes, so the count of calls is the count of certificates released.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "sc_certcache.h"
#include "sc_testcert.h"

static int released;
static int ex_index = -1;

static void on_x509_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                         void *argp)
{
    (void)parent;
    (void)ad;
    (void)idx;
    (void)argl;
    (void)argp;
    if (ptr != NULL) released++;
}

/* A copy of a real certificate, marked so that its release is counted. */
static X509 *tracked(const sc_testcert *tc)
{
    X509 *x = X509_dup(tc->cert);
    assert_non_null(x);
    assert_int_equal(X509_set_ex_data(x, ex_index, &released), 1);
    return x;
}

static void hash_of(uint8_t h[32], unsigned i)
{
    memset(h, 0, 32);
    h[0] = (uint8_t)i;
    h[1] = (uint8_t)(i >> 8);
    h[31] = 0xA5;
}

static int setup(void **state)
{
    if (ex_index < 0) ex_index = X509_get_ex_new_index(0, NULL, NULL, NULL, on_x509_free);
    assert_true(ex_index >= 0);
    *state = sc_testcert_root(SC_TESTKEY_P256, "certcache test CA", SC_TESTCERT_NOW - 86400,
                              SC_TESTCERT_NOW + 86400);
    released = 0;
    return 0;
}

static int teardown(void **state)
{
    sc_testcert_free(*state);
    return 0;
}

static void test_put_get(void **state)
{
    sc_certcache *c = sc_certcache_new();
    uint8_t h[32], other[32];
    X509 *x = tracked(*state);
    assert_non_null(c);
    hash_of(h, 1);
    hash_of(other, 2);
    assert_null(sc_certcache_get(c, h));

    sc_certcache_put(c, h, x);
    X509_free(x); /* the cache keeps its own reference */
    assert_int_equal(released, 0);

    X509 *got = sc_certcache_get(c, h);
    assert_ptr_equal(got, x);
    assert_int_equal(X509_cmp(got, ((sc_testcert *)*state)->cert), 0);
    X509_free(got); /* get returned a new reference: dropping it keeps the entry */
    assert_int_equal(released, 0);
    assert_ptr_equal(got = sc_certcache_get(c, h), x);
    X509_free(got);
    assert_null(sc_certcache_get(c, other));

    sc_certcache_free(c);
    assert_int_equal(released, 1);
}

static void test_eviction_bound(void **state)
{
    sc_certcache *c = sc_certcache_new();
    X509 *xs[SC_CERTCACHE_SIZE + 1];
    uint8_t h[32];
    assert_non_null(c);
    for (unsigned i = 0; i <= SC_CERTCACHE_SIZE; i++) {
        xs[i] = tracked(*state);
        hash_of(h, 100 + i);
        sc_certcache_put(c, h, xs[i]);
        X509_free(xs[i]);
    }
    /* One more than fits: the oldest went, and with it the cache's reference. */
    assert_int_equal(released, 1);
    hash_of(h, 100);
    assert_null(sc_certcache_get(c, h));
    for (unsigned i = 1; i <= SC_CERTCACHE_SIZE; i++) {
        hash_of(h, 100 + i);
        X509 *got = sc_certcache_get(c, h);
        assert_ptr_equal(got, xs[i]);
        X509_free(got);
    }
    assert_int_equal(released, 1);
    sc_certcache_free(c);
    assert_int_equal(released, SC_CERTCACHE_SIZE + 1);
}

static void test_clear_releases(void **state)
{
    sc_certcache *c = sc_certcache_new();
    uint8_t h[32];
    assert_non_null(c);
    for (unsigned i = 0; i < 3; i++) {
        X509 *x = tracked(*state);
        hash_of(h, i);
        sc_certcache_put(c, h, x);
        X509_free(x);
    }
    sc_certcache_clear(c);
    assert_int_equal(released, 3);
    for (unsigned i = 0; i < 3; i++) {
        hash_of(h, i);
        assert_null(sc_certcache_get(c, h));
    }
    /* Still usable after clearing. */
    X509 *x = tracked(*state);
    hash_of(h, 7);
    sc_certcache_put(c, h, x);
    X509_free(x);
    X509 *got = sc_certcache_get(c, h);
    assert_ptr_equal(got, x);
    X509_free(got);
    sc_certcache_free(c);
    assert_int_equal(released, 4);
}

static sc_verified verified(unsigned i, int64_t nb, int64_t na)
{
    sc_verified v;
    memset(&v, 0, sizeof v);
    hash_of(v.key, 1000 + i);
    v.not_before = nb;
    v.not_after = na;
    v.n_ca = 2;
    memset(v.ca_fp[1], (int)(i & 0xff), 32);
    return v;
}

static void test_verified_window(void **state)
{
    sc_certcache *c = sc_certcache_new();
    sc_verified in = verified(1, 1000, 2000), out, unknown = verified(2, 1000, 2000);
    (void)state;
    assert_non_null(c);
    assert_int_equal(sc_certcache_get_verified(c, in.key, 1500, &out), 0);
    sc_certcache_put_verified(c, &in);
    memset(&out, 0, sizeof out);
    assert_int_equal(sc_certcache_get_verified(c, in.key, 1500, &out), 1);
    assert_memory_equal(&out, &in, sizeof in);
    /* Both ends of the window are inside it; a second outside is not. */
    assert_int_equal(sc_certcache_get_verified(c, in.key, 1000, &out), 1);
    assert_int_equal(sc_certcache_get_verified(c, in.key, 2000, &out), 1);
    assert_int_equal(sc_certcache_get_verified(c, in.key, 999, &out), 0);
    assert_int_equal(sc_certcache_get_verified(c, in.key, 2001, &out), 0);
    assert_int_equal(sc_certcache_get_verified(c, unknown.key, 1500, &out), 0);
    sc_certcache_free(c);
}

static void test_verified_bound_and_clear(void **state)
{
    sc_certcache *c = sc_certcache_new();
    sc_verified v, out;
    (void)state;
    assert_non_null(c);
    for (unsigned i = 0; i <= SC_CERTCACHE_SIZE; i++) {
        v = verified(i, 1000, 2000);
        sc_certcache_put_verified(c, &v);
    }
    v = verified(0, 1000, 2000);
    assert_int_equal(sc_certcache_get_verified(c, v.key, 1500, &out), 0); /* the oldest went */
    for (unsigned i = 1; i <= SC_CERTCACHE_SIZE; i++) {
        v = verified(i, 1000, 2000);
        assert_int_equal(sc_certcache_get_verified(c, v.key, 1500, &out), 1);
        assert_memory_equal(&out, &v, sizeof v);
    }
    sc_certcache_clear(c);
    for (unsigned i = 1; i <= SC_CERTCACHE_SIZE; i++) {
        v = verified(i, 1000, 2000);
        assert_int_equal(sc_certcache_get_verified(c, v.key, 1500, &out), 0);
    }
    sc_certcache_free(c);
}

/* Every entry point takes a NULL cache (a config whose cache could not be made). */
static void test_null_cache(void **state)
{
    uint8_t h[32];
    sc_verified v = verified(3, 1000, 2000), out;
    X509 *x = tracked(*state);
    hash_of(h, 3);
    assert_null(sc_certcache_get(NULL, h));
    sc_certcache_put(NULL, h, x);
    X509_free(x);
    assert_int_equal(released, 1); /* no reference was kept */
    sc_certcache_put_verified(NULL, &v);
    assert_int_equal(sc_certcache_get_verified(NULL, v.key, 1500, &out), 0);
    sc_certcache_clear(NULL);
    sc_certcache_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eviction_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clear_releases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verified_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verified_bound_and_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_cache, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
