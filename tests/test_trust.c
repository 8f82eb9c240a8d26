/*
 * test_trust.c - whom a handshake trusts, end to end through two sessions
 * (docs/PROTOCOL.md 7.2, 7.8, 8.2, 9.2, 11.1): trust anchors bound to
 * domains, nothing learnt or cached before the peer proves its key, one
 * alert for every refusal before that, the expected peer required of an
 * initiator, key transport only to a validated keyEncipherment certificate.
 *
 * An "impostor" below holds a real user's public chain but not its key: a
 * middleman replaying certificates it saw. It signs with a key of its own.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/objects.h>
#include <openssl/sha.h>
#include "sc_certcache.h"
#include "sc_config_int.h"
#include "sc_pair.h"
#include "sc_testcert.h"
#include "sc_testpki.h"

#define NOW_MS ((uint64_t)SC_TESTCERT_NOW * 1000)
#define ALERT(code) SC_ERR_PEER_ALERT(SC_ALERT_##code)

static sc_test_rng rng_i = {.seed = 21}, rng_r = {.seed = 22};
static const char *const net[] = {"example.net"};

static sc_config *party(const char *chain, const char *key, const char *trust, sc_test_rng *rng)
{
    return sc_party_config(chain, key, trust, rng);
}

/* The same configuration signing with a key that does not match its certificate. */
static void make_impostor(sc_config *cfg)
{
    EVP_PKEY_free(cfg->key);
    cfg->key = sc_testkey_new(SC_TESTKEY_P256); /* same signature algorithm, other key */
}

static void expect_fail(sc_pair *p, int initiator_err, int responder_err)
{
    assert_false(sc_pair_handshake(p));
    assert_int_equal(sc_session_error(p->i.s), initiator_err);
    assert_int_equal(sc_session_error(p->r.s), responder_err);
}

/* A user certificate under issuer and the PEM chain (leaf, then chain_rest if not NULL). */
static char *chain_of(sc_testcert **leaf, const sc_testcert *issuer, const char *user,
                      const char *chain_rest)
{
    sc_testcert_opts o = {.key_type = SC_TESTKEY_P256, .user_id = user};
    *leaf = sc_testcert_user(issuer, &o);
    char *pem = sc_testcert_cert_pem(*leaf);
    char *chain = sc_testcert_concat(pem, chain_rest ? chain_rest : "", NULL);
    free(pem);
    return chain;
}

/* ---- finding 1: trust anchors bound to domains ------------------------- */

/*
 * A second CA, trusted for example.net, issues bob@example.org (its own key,
 * a valid chain): the initiator refuses it whether or not it expects bob,
 * with SC_ERR_DOMAIN_MISMATCH; the wire says unknown_ca. Before the fix both
 * handshakes completed.
 */
static void run_other_ca_bob(const char *expected)
{
    sc_testpki k;
    sc_pair p;
    sc_testcert *fake;
    sc_testpki_make(&k, NULL, NULL);
    sc_testcert *net_inter = sc_testcert_ca(k.other_root, SC_TESTKEY_P256, "net inter",
                                            SC_TESTCERT_NOW - 86400, SC_TESTCERT_NOW + 86400 * 30);
    char *net_inter_pem = sc_testcert_cert_pem(net_inter);
    char *fake_chain = chain_of(&fake, net_inter, "bob@example.org", net_inter_pem);
    char *fake_key = sc_testcert_key_pem(fake);
    sc_config *ci = party(k.alice_chain, k.alice_key, k.root_pem, &rng_i);
    assert_int_equal(
        sc_config_add_trust_anchor_pem(ci, k.other_root_pem, strlen(k.other_root_pem), net, 1),
        SC_OK);
    sc_config *cr = party(fake_chain, fake_key, k.root_pem, &rng_r);
    sc_pair_init(&p, ci, cr, NOW_MS);
    if (expected) assert_int_equal(sc_session_set_expected_peer(p.i.s, expected), SC_OK);
    expect_fail(&p, SC_ERR_DOMAIN_MISMATCH, ALERT(UNKNOWN_CA));
    sc_pair_free(&p);
    free(fake_chain);
    free(fake_key);
    free(net_inter_pem);
    sc_testcert_free(fake);
    sc_testcert_free(net_inter);
    sc_testpki_free(&k);
}

static void test_other_ca_bob_expected(void **st)
{
    run_other_ca_bob("bob@example.org");
}

static void test_other_ca_bob_not_expected(void **st)
{
    run_other_ca_bob(NULL);
}

/* The responder holds the initiator to the same rule; a user of the CA's own domain passes. */
static void test_other_ca_at_responder(void **st)
{
    sc_testpki k;
    sc_pair p;
    sc_testcert *fake, *carol;
    sc_testpki_make(&k, NULL, NULL);
    char *fake_chain = chain_of(&fake, k.other_root, "alice@example.org", NULL);
    char *fake_key = sc_testcert_key_pem(fake);
    char *carol_chain = chain_of(&carol, k.other_root, "carol@example.net", NULL);
    char *carol_key = sc_testcert_key_pem(carol);
    for (int good = 0; good < 2; good++) {
        sc_config *ci =
            party(good ? carol_chain : fake_chain, good ? carol_key : fake_key, k.root_pem, &rng_i);
        sc_config *cr = party(k.bob_chain, k.bob_key, k.root_pem, &rng_r);
        assert_int_equal(
            sc_config_add_trust_anchor_pem(cr, k.other_root_pem, strlen(k.other_root_pem), net, 1),
            SC_OK);
        sc_pair_init(&p, ci, cr, NOW_MS);
        if (good)
            assert_true(sc_pair_handshake(&p));
        else
            expect_fail(&p, ALERT(UNKNOWN_CA), SC_ERR_DOMAIN_MISMATCH);
        sc_pair_free(&p);
    }
    free(fake_chain);
    free(fake_key);
    free(carol_chain);
    free(carol_key);
    sc_testcert_free(fake);
    sc_testcert_free(carol);
    sc_testpki_free(&k);
}

/* ---- findings 2 and 3: nothing learnt before the peer proves its key ---- */

static void sha256_of(const sc_testcert *tc, uint8_t out[32])
{
    size_t len;
    uint8_t *der = sc_testcert_der(tc, &len);
    SHA256(der, len, out);
    free(der);
}

/*
 * An impostor replays bob's chain: the initiator refuses it on the
 * signature, with decrypt_error, and neither certificate cache has seen the
 * chain. Before the fix both caches were filled before the signature check.
 */
static void test_unproven_chain_not_cached(void **st)
{
    sc_testpki k;
    sc_pair p;
    uint8_t leaf[32], inter[32];
    sc_testpki_make(&k, NULL, NULL);
    sc_config *cr = party(k.bob_chain, k.bob_key, k.root_pem, &rng_r);
    make_impostor(cr);
    sc_pair_init(&p, party(k.alice_chain, k.alice_key, k.root_pem, &rng_i), cr, NOW_MS);
    assert_int_equal(sc_session_set_expected_peer(p.i.s, "bob@example.org"), SC_OK);
    expect_fail(&p, SC_ERR_DECRYPT_ERROR, ALERT(DECRYPT_ERROR));
    sha256_of(k.bob, leaf);
    sha256_of(k.inter, inter);
    sc_certcache *cache = p.i.cfg->policy.cache;
    assert_null(sc_certcache_get(cache, leaf));
    assert_null(sc_certcache_get(cache, inter));
    sc_pair_free(&p);

    /* The real bob, once proven, is remembered: the known-peer speedup stays. */
    sc_pair_init(&p, party(k.alice_chain, k.alice_key, k.root_pem, &rng_i),
                 party(k.bob_chain, k.bob_key, k.root_pem, &rng_r), NOW_MS);
    assert_true(sc_pair_handshake(&p));
    X509 *x = sc_certcache_get(p.i.cfg->policy.cache, leaf);
    assert_non_null(x);
    X509_free(x);
    sc_pair_free(&p);
    sc_testpki_free(&k);
}

/*
 * Replayed chains probing the policy: whom the initiator expects, whom a
 * responder blocks. Before the fix the alerts were identity_mismatch (54)
 * and access_denied (49); now every refusal before the signature holds is
 * decrypt_error, and the local caller is told the same.
 */
static void test_policy_not_probed_by_replay(void **st)
{
    sc_testpki k;
    sc_pair p;
    sc_testpki_make(&k, NULL, NULL);

    /* Initiator expecting carol, impostor bob. */
    sc_config *cr = party(k.bob_chain, k.bob_key, k.root_pem, &rng_r);
    make_impostor(cr);
    sc_pair_init(&p, party(k.alice_chain, k.alice_key, k.root_pem, &rng_i), cr, NOW_MS);
    assert_int_equal(sc_session_set_expected_peer(p.i.s, "carol@example.org"), SC_OK);
    expect_fail(&p, SC_ERR_DECRYPT_ERROR, ALERT(DECRYPT_ERROR));
    sc_pair_free(&p);

    /* Responder blocking alice, impostor alice. */
    sc_config *ci = party(k.alice_chain, k.alice_key, k.root_pem, &rng_i);
    make_impostor(ci);
    cr = party(k.bob_chain, k.bob_key, k.root_pem, &rng_r);
    assert_int_equal(sc_config_block_identity(cr, "alice@example.org"), SC_OK);
    sc_pair_init(&p, ci, cr, NOW_MS);
    expect_fail(&p, ALERT(DECRYPT_ERROR), SC_ERR_DECRYPT_ERROR);
    sc_pair_free(&p);

    /* The real alice, proven, learns why: the specific alert after authentication. */
    cr = party(k.bob_chain, k.bob_key, k.root_pem, &rng_r);
    assert_int_equal(sc_config_block_identity(cr, "alice@example.org"), SC_OK);
    sc_pair_init(&p, party(k.alice_chain, k.alice_key, k.root_pem, &rng_i), cr, NOW_MS);
    expect_fail(&p, ALERT(ACCESS_DENIED), SC_ERR_ACCESS_DENIED);
    sc_pair_free(&p);
    sc_testpki_free(&k);
}

/*
 * A refusal before the proof keeps its reason locally: a responder with a
 * P-256 certificate whose verify names ed25519 is reported to the caller as
 * illegal_parameter, and the wire says decrypt_error.
 */
static void test_reason_stays_local(void **st)
{
    sc_testpki k;
    sc_pair p;
    sc_testpki_make_types(&k, SC_TESTKEY_P256, SC_TESTKEY_P256);
    sc_config *cr = party(k.bob_chain, k.bob_key, k.root_pem, &rng_r);
    EVP_PKEY_free(cr->key);
    cr->key = sc_testkey_new(SC_TESTKEY_ED25519);
    cr->sigalg = 1; /* ed25519 */
    sc_pair_init(&p, party(k.alice_chain, k.alice_key, k.root_pem, &rng_i), cr, NOW_MS);
    expect_fail(&p, SC_ERR_ILLEGAL_PARAMETER, ALERT(DECRYPT_ERROR));
    sc_pair_free(&p);
    sc_testpki_free(&k);
}

/*
 * The rhello's sigs list must not let an unauthenticated responder learn
 * the initiator's key type: with the initiator's algorithm struck from it,
 * the initiator goes on (the tampered transcript then gives it other
 * handshake keys: bad_record_mac on flight 2). Before the fix the initiator
 * answered at once with handshake_failure, which tells its key type.
 */
static int tamper_hits;
static void strike_p256(void *ctx, int from_initiator, uint8_t *data, size_t *len)
{
    static const char from[] = "ecdsa-p256-sha256", to[] = "ecdsa-p256-sha999";
    (void)ctx;
    if (from_initiator) return;
    for (size_t i = 0; i + sizeof from - 1 <= *len; i++)
        if (memcmp(data + i, from, sizeof from - 1) == 0) {
            memcpy(data + i, to, sizeof to - 1);
            tamper_hits++;
            return;
        }
}

static void test_rhello_sigs_not_probed(void **st)
{
    sc_testpki k;
    sc_pair p;
    sc_testpki_make_types(&k, SC_TESTKEY_P256, SC_TESTKEY_P256);
    sc_pair_init(&p, party(k.alice_chain, k.alice_key, k.root_pem, &rng_i),
                 party(k.bob_chain, k.bob_key, k.root_pem, &rng_r), NOW_MS);
    p.tamper = strike_p256;
    tamper_hits = 0;
    assert_false(sc_pair_handshake(&p));
    assert_int_equal(tamper_hits, 1);
    assert_int_equal(sc_session_error(p.i.s), SC_ERR_BAD_RECORD_MAC);
    sc_pair_free(&p);
    sc_testpki_free(&k);
}

/* ---- finding 6: the expected peer is required of an initiator ----------- */

static void test_initiator_needs_expected_peer(void **st)
{
    sc_testpki k;
    sc_session *s, *r;
    const uint8_t *out;
    sc_testpki_make(&k, NULL, NULL);
    sc_config *ci = party(k.alice_chain, k.alice_key, k.root_pem, &rng_i);
    assert_int_equal(sc_session_new(ci, SC_ROLE_INITIATOR, NOW_MS, &s), SC_OK);
    /* Before the fix this started and sent the ihello. */
    assert_int_equal(sc_session_start(s), SC_ERR_CONFIG);
    assert_int_equal(sc_session_output(s, &out), 0);
    assert_int_equal(sc_session_error(s), SC_OK); /* not failed: the caller may still choose */
    assert_int_equal(sc_session_set_any_peer(s), SC_OK);
    assert_int_equal(sc_session_start(s), SC_OK);
    assert_true(sc_session_output(s, &out) > 0);
    assert_int_equal(sc_session_set_any_peer(s), SC_ERR_STATE);
    sc_session_free(s);
    assert_int_equal(sc_session_new(ci, SC_ROLE_INITIATOR, NOW_MS, &s), SC_OK);
    assert_int_equal(sc_session_set_expected_peer(s, "bob@example.org"), SC_OK);
    assert_int_equal(sc_session_start(s), SC_OK);
    sc_session_free(s);
    /* A responder needs none and cannot opt out of what it does not have. */
    assert_int_equal(sc_session_new(ci, SC_ROLE_RESPONDER, NOW_MS, &r), SC_OK);
    assert_int_equal(sc_session_set_any_peer(r), SC_ERR_ARG);
    assert_int_equal(sc_session_start(r), SC_OK);
    sc_session_free(r);
    sc_config_free(ci);
    sc_testpki_free(&k);
}

/* ---- finding 7: key transport --------------------------------------------- */

static void kt_pair(sc_pair *p, sc_testpki *k, const sc_testcert_opts *bob, const char *i_trust)
{
    sc_testpki_make(k, NULL, bob);
    sc_config *ci = party(k->alice_chain, k->alice_key, i_trust ? i_trust : k->root_pem, &rng_i);
    sc_config *cr = party(k->bob_chain, k->bob_key, k->root_pem, &rng_r);
    sc_config_enable_key_transport(ci, 1);
    sc_config_enable_key_transport(cr, 1);
    sc_pair_init(p, ci, cr, NOW_MS);
    size_t len;
    uint8_t *der = sc_testcert_chain_der(k->bob, k->inter, &len);
    assert_int_equal(sc_session_set_peer_cert(p->i.s, der, len), SC_OK);
    assert_int_equal(sc_session_set_expected_peer(p->i.s, "bob@example.org"), SC_OK);
    free(der);
}

/*
 * bob's RSA certificate says digitalSignature only: no key transport to it.
 * Before the fix the initiator encrypted to it (kex KT); now it uses ECDHE.
 */
static void test_kt_needs_key_encipherment(void **st)
{
    sc_testpki k;
    sc_pair p;
    sc_testcert_opts bob = {.key_type = SC_TESTKEY_RSA2048,
                            .user_id = "bob@example.org",
                            .key_usage = "critical,digitalSignature"};
    kt_pair(&p, &k, &bob, NULL);
    assert_true(sc_pair_handshake(&p));
    assert_int_equal(p.i.kex, SC_KEX_ECDHE);
    assert_false(sc_pair_trace_has(&p, "<kt>", 4));
    sc_pair_free(&p);
    sc_testpki_free(&k);

    /* With keyEncipherment (the default for RSA users), key transport is used. */
    bob.key_usage = NULL;
    kt_pair(&p, &k, &bob, NULL);
    assert_true(sc_pair_handshake(&p));
    assert_int_equal(p.i.kex, SC_KEX_KT);
    sc_pair_free(&p);
    sc_testpki_free(&k);
}

/*
 * A certificate given ahead is validated before anything is encrypted to
 * it: here it chains to no anchor of the initiator. Before the fix the
 * ihello went out with the premaster encrypted to it.
 */
static void test_kt_validates_before_encrypting(void **st)
{
    sc_testpki k;
    sc_pair p;
    const uint8_t *out;
    sc_testcert_opts bob = {.key_type = SC_TESTKEY_RSA2048, .user_id = "bob@example.org"};
    sc_testpki probe;
    sc_testpki_make(&probe, NULL, NULL); /* an unrelated root for the initiator to trust */
    kt_pair(&p, &k, &bob, probe.root_pem);
    assert_int_equal(sc_session_start(p.i.s), SC_ERR_UNKNOWN_CA);
    assert_int_equal(sc_session_output(p.i.s, &out), 0); /* no ihello, no alert */
    sc_pair_free(&p);
    sc_testpki_free(&k);
    sc_testpki_free(&probe);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_other_ca_bob_expected),
        cmocka_unit_test(test_other_ca_bob_not_expected),
        cmocka_unit_test(test_other_ca_at_responder),
        cmocka_unit_test(test_unproven_chain_not_cached),
        cmocka_unit_test(test_policy_not_probed_by_replay),
        cmocka_unit_test(test_reason_stays_local),
        cmocka_unit_test(test_rhello_sigs_not_probed),
        cmocka_unit_test(test_initiator_needs_expected_peer),
        cmocka_unit_test(test_kt_needs_key_encipherment),
        cmocka_unit_test(test_kt_validates_before_encrypting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
