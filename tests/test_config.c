/*
 * test_config.c - building an endpoint configuration (sc_config.c): the
 * identity must be whole and consistent, lists must name known algorithms,
 * and a session refuses an incomplete configuration.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "sc_pair.h"
#include "sc_testcert.h"

#define NOW SC_TESTCERT_NOW

typedef struct {
    sc_testcert *root, *alice, *other;
    char *root_pem, *alice_pem, *alice_key, *other_key;
} fx;

static int setup(void **st)
{
    fx *f = calloc(1, sizeof *f);
    f->root = sc_testcert_root(SC_TESTKEY_P256, "root", NOW - 100, NOW + 86400);
    sc_testcert_opts o = {.key_type = SC_TESTKEY_ED25519, .user_id = "Alice@Example.org"};
    f->alice = sc_testcert_user(f->root, &o);
    f->other = sc_testcert_user(f->root, &o);
    f->root_pem = sc_testcert_cert_pem(f->root);
    f->alice_pem = sc_testcert_cert_pem(f->alice);
    f->alice_key = sc_testcert_key_pem(f->alice);
    f->other_key = sc_testcert_key_pem(f->other);
    *st = f;
    return 0;
}

static int teardown(void **st)
{
    fx *f = *st;
    sc_testcert_free(f->root);
    sc_testcert_free(f->alice);
    sc_testcert_free(f->other);
    free(f->root_pem);
    free(f->alice_pem);
    free(f->alice_key);
    free(f->other_key);
    free(f);
    return 0;
}

static int set_id(sc_config *c, const char *chain, const char *key)
{
    return sc_config_set_identity_pem(c, chain, strlen(chain), key, strlen(key));
}

static void test_identity(void **st)
{
    fx *f = *st;
    sc_config *c = sc_config_new();
    uint8_t fp[32], want[32];
    assert_null(sc_config_user_id(c));
    assert_int_equal(sc_config_fingerprint(c, fp), SC_ERR_CONFIG);
    assert_int_equal(set_id(c, f->alice_pem, f->other_key),
                     SC_ERR_CONFIG); /* key of another cert */
    assert_int_equal(set_id(c, "not pem", f->alice_key), SC_ERR_PARSE);
    assert_int_equal(set_id(c, f->alice_pem, "not a key"), SC_ERR_PARSE);
    assert_null(sc_config_user_id(c)); /* a failed attempt leaves no half identity */
    assert_int_equal(set_id(c, f->alice_pem, f->alice_key), SC_OK);
    assert_string_equal(sc_config_user_id(c), "Alice@Example.org");
    assert_int_equal(sc_config_fingerprint(c, fp), SC_OK);
    sc_testcert_fingerprint(f->alice_pem, want);
    assert_memory_equal(fp, want, 32);
    sc_config_free(c);
}

static void test_identity_needs_user_id(void **st)
{
    fx *f = *st;
    sc_testcert_opts o = {.key_type = SC_TESTKEY_P256, .user_id = NULL};
    sc_testcert *u = sc_testcert_user(f->root, &o);
    char *pem = sc_testcert_cert_pem(u), *key = sc_testcert_key_pem(u);
    sc_config *c = sc_config_new();
    assert_int_equal(set_id(c, pem, key), SC_ERR_CONFIG);
    sc_config_free(c);
    free(pem);
    free(key);
    sc_testcert_free(u);
}

static void test_algorithm_lists(void **st)
{
    sc_config *c = sc_config_new();
    assert_int_equal(sc_config_set_suites(c, "chacha20-poly1305 aes-256-gcm"), SC_OK);
    assert_int_equal(sc_config_set_suites(c, "aes-128-gcm"), SC_ERR_PARSE);
    assert_int_equal(sc_config_set_suites(c, "aes-256-gcm aes-256-gcm"), SC_ERR_PARSE);
    assert_int_equal(sc_config_set_suites(c, ""), SC_ERR_PARSE);
    assert_int_equal(sc_config_set_groups(c, "p256 x25519"), SC_OK);
    assert_int_equal(sc_config_set_groups(c, "x448"), SC_ERR_PARSE);
    assert_int_equal(sc_config_set_groups(c, NULL), SC_ERR_ARG);
    sc_config_free(c);
}

/* Our own leaf must be usable for the protocol (PROTOCOL.md 8.2 step 7), checked at configuration.
 */
static void test_identity_usage_checked(void **st)
{
    fx *f = *st;
    static const struct {
        sc_testcert_eku eku;
        const char *ku;
        int want;
    } cases[] = {
        {SC_TESTCERT_EKU_CLIENT, NULL, SC_OK},
        {SC_TESTCERT_EKU_NONE, NULL, SC_ERR_CONFIG},
        {SC_TESTCERT_EKU_SERVER_ONLY, NULL, SC_ERR_CONFIG},
        {SC_TESTCERT_EKU_CLIENT, "critical,keyAgreement", SC_ERR_CONFIG},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sc_testcert_opts o = {.key_type = SC_TESTKEY_P256,
                              .user_id = "carol@example.org",
                              .eku = cases[i].eku,
                              .key_usage = cases[i].ku};
        sc_testcert *u = sc_testcert_user(f->root, &o);
        char *pem = sc_testcert_cert_pem(u), *key = sc_testcert_key_pem(u);
        sc_config *c = sc_config_new();
        assert_int_equal(set_id(c, pem, key), cases[i].want);
        assert_int_equal(sc_config_user_id(c) != NULL, cases[i].want == SC_OK);
        sc_config_free(c);
        free(pem);
        free(key);
        sc_testcert_free(u);
    }
}

/* Our own leaf must be valid when a session starts: refused locally, not by the peer. */
static void test_session_needs_valid_identity(void **st)
{
    fx *f = *st;
    sc_test_rng rng = {.seed = 3};
    sc_session *s = NULL;
    sc_testcert_opts o = {.key_type = SC_TESTKEY_ED25519,
                          .user_id = "carol@example.org",
                          .not_before = NOW - 50,
                          .not_after = NOW + 50};
    sc_testcert *u = sc_testcert_user(f->root, &o);
    char *pem = sc_testcert_cert_pem(u), *key = sc_testcert_key_pem(u);
    static const char *const domains[] = {"example.org"};
    sc_config *c = sc_config_new();
    assert_int_equal(set_id(c, pem, key), SC_OK);
    assert_int_equal(
        sc_config_add_trust_anchor_pem(c, f->root_pem, strlen(f->root_pem), domains, 1), SC_OK);
    sc_config_set_random(c, sc_test_rng_fn, &rng);
    assert_int_equal(sc_session_new(c, SC_ROLE_INITIATOR, (NOW - 51) * 1000, &s), SC_ERR_CONFIG);
    assert_int_equal(sc_session_new(c, SC_ROLE_RESPONDER, (NOW + 51) * 1000, &s), SC_ERR_CONFIG);
    assert_int_equal(sc_session_new(c, SC_ROLE_INITIATOR, NOW * 1000, &s), SC_OK);
    sc_session_free(s);
    sc_config_free(c);
    free(pem);
    free(key);
    sc_testcert_free(u);
}

/* PROTOCOL.md 5.4 caps both limits; the API refuses more (issue 6, finding 8). */
static void test_key_update_limits_capped(void **st)
{
    sc_config *c = sc_config_new();
    assert_int_equal(sc_config_set_key_update_limits(c, UINT64_MAX, UINT64_MAX), SC_ERR_ARG);
    assert_int_equal(sc_config_set_key_update_limits(c, (UINT64_C(1) << 20) + 1, 0), SC_ERR_ARG);
    assert_int_equal(sc_config_set_key_update_limits(c, 0, (UINT64_C(1) << 34) + 1), SC_ERR_ARG);
    assert_int_equal(sc_config_set_key_update_limits(c, UINT64_C(1) << 20, UINT64_C(1) << 34),
                     SC_OK);
    assert_int_equal(sc_config_set_key_update_limits(c, 5, 1000), SC_OK);
    assert_int_equal(sc_config_set_key_update_limits(c, 0, 0), SC_OK); /* the defaults */
    sc_config_free(c);
}

static void test_session_needs_whole_config(void **st)
{
    fx *f = *st;
    sc_test_rng rng = {.seed = 3};
    sc_session *s = NULL;
    sc_config *c = sc_config_new();
    assert_int_equal(sc_session_new(c, SC_ROLE_INITIATOR, 0, &s), SC_ERR_CONFIG); /* no identity */
    assert_int_equal(set_id(c, f->alice_pem, f->alice_key), SC_OK);
    assert_int_equal(sc_session_new(c, SC_ROLE_INITIATOR, 0, &s), SC_ERR_CONFIG); /* no anchors */
    const char *org[] = {"example.org"}, *dotted[] = {".example.org"};
    const char *bad[][1] = {{""}, {"."}, {"a@example.org"}, {"exa mple.org"}, {"\xc3\xa9.org"}};
    /* Domains are required (PROTOCOL.md 8.2): an anchor for every domain is no longer made. */
    assert_int_equal(sc_config_add_trust_anchor_pem(c, f->root_pem, strlen(f->root_pem), NULL, 0),
                     SC_ERR_ARG);
    assert_int_equal(sc_config_add_trust_anchor_pem(c, f->root_pem, strlen(f->root_pem), org, 0),
                     SC_ERR_ARG);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(
            sc_config_add_trust_anchor_pem(c, f->root_pem, strlen(f->root_pem), bad[i], 1),
            SC_ERR_ARG);
    assert_int_equal(sc_session_new(c, SC_ROLE_INITIATOR, 0, &s), SC_ERR_CONFIG); /* still none */
    assert_int_equal(sc_config_add_trust_anchor_pem(c, f->root_pem, strlen(f->root_pem), org, 1),
                     SC_OK);
    assert_int_equal(sc_config_add_trust_anchor_pem(c, f->root_pem, strlen(f->root_pem), dotted, 1),
                     SC_OK);
    assert_int_equal(sc_session_new(c, SC_ROLE_INITIATOR, 0, &s), SC_ERR_CONFIG); /* no random */
    sc_config_set_random(c, sc_test_rng_fn, &rng);
    assert_int_equal(sc_session_new(c, 7, 0, &s), SC_ERR_ARG);
    assert_int_equal(sc_session_new(c, SC_ROLE_RESPONDER, NOW * 1000, &s), SC_OK);
    assert_int_equal(sc_config_add_trust_anchor_pem(c, "junk", 4, org, 1), SC_ERR_PARSE);
    assert_int_equal(sc_config_block_issuer_pem(c, "junk", 4), SC_ERR_PARSE);
    assert_int_equal(sc_config_block_issuer_pem(c, f->root_pem, strlen(f->root_pem)), SC_OK);
    sc_session_free(s);
    sc_config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_identity_needs_user_id),
        cmocka_unit_test(test_algorithm_lists),
        cmocka_unit_test(test_key_update_limits_capped),
        cmocka_unit_test(test_identity_usage_checked),
        cmocka_unit_test(test_session_needs_valid_identity),
        cmocka_unit_test(test_session_needs_whole_config),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
