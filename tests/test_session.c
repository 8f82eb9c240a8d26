/*
 * test_session.c - two sessions in memory: handshakes for every key type,
 * group, suite and key-establishment mode, then stanzas, files, key update
 * and orderly close (sc_session.c, sc_handshake.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "sc_pair.h"
#include "sc_testcert.h"

#define NOW_MS ((uint64_t)SC_TESTCERT_NOW * 1000)

/* A CA, an intermediate and two users, all made in code. */
typedef struct pki {
    sc_testcert *root, *inter, *alice, *bob;
    char *root_pem, *alice_chain, *alice_key, *bob_chain, *bob_key;
} pki;

static char *chain_of(const sc_testcert *leaf, const sc_testcert *inter)
{
    char *l = sc_testcert_cert_pem(leaf), *i = sc_testcert_cert_pem(inter);
    char *c = sc_testcert_concat(l, i, NULL);
    free(l);
    free(i);
    return c;
}

static void pki_make(pki *k, sc_testkey_type alice_type, sc_testkey_type bob_type)
{
    int64_t nb = SC_TESTCERT_NOW - 86400, na = SC_TESTCERT_NOW + 86400 * 365;
    k->root = sc_testcert_root(SC_TESTKEY_P256, "Test Root", nb, na);
    k->inter = sc_testcert_ca(k->root, SC_TESTKEY_P256, "Test Intermediate", nb, na);
    sc_testcert_opts o = {.key_type = alice_type, .user_id = "alice@example.org"};
    k->alice = sc_testcert_user(k->inter, &o);
    o.key_type = bob_type;
    o.user_id = "bob@example.org";
    k->bob = sc_testcert_user(k->inter, &o);
    k->root_pem = sc_testcert_cert_pem(k->root);
    k->alice_chain = chain_of(k->alice, k->inter);
    k->alice_key = sc_testcert_key_pem(k->alice);
    k->bob_chain = chain_of(k->bob, k->inter);
    k->bob_key = sc_testcert_key_pem(k->bob);
}

static void pki_free(pki *k)
{
    sc_testcert_free(k->root);
    sc_testcert_free(k->inter);
    sc_testcert_free(k->alice);
    sc_testcert_free(k->bob);
    free(k->root_pem);
    free(k->alice_chain);
    free(k->alice_key);
    free(k->bob_chain);
    free(k->bob_key);
}

static sc_test_rng rng_i = {.seed = 1}, rng_r = {.seed = 2};

static void pair_from(sc_pair *p, pki *k)
{
    sc_config *ci = sc_party_config(k->alice_chain, k->alice_key, k->root_pem, &rng_i);
    sc_config *cr = sc_party_config(k->bob_chain, k->bob_key, k->root_pem, &rng_r);
    sc_pair_init(p, ci, cr, NOW_MS);
}

static void send_msg(sc_session *s, const char *id, const char *text)
{
    sc_stanza st = {.type = SC_STANZA_MSG, .id = id, .ts = 1767225600123u, .text = text,
                    .text_len = strlen(text)};
    assert_int_equal(sc_session_send_stanza(s, &st), SC_OK);
}

/* Handshake, messages both ways, key updates both ways, close seen by both. */
static void full_session(sc_pair *p)
{
    assert_true(sc_pair_handshake(p));
    assert_string_equal(p->i.peer_id, "bob@example.org");
    assert_string_equal(p->r.peer_id, "alice@example.org");
    send_msg(p->i.s, "m1", "hello bob <&> \"quoted\"");
    send_msg(p->r.s, "m2", "hi alice");
    sc_pair_pump(p);
    assert_int_equal(p->r.n_stanzas, 1);
    assert_string_equal(p->r.stanza_text[0], "hello bob <&> \"quoted\"");
    assert_int_equal(p->i.n_stanzas, 1);
    assert_string_equal(p->i.stanza_text[0], "hi alice");

    assert_int_equal(sc_session_key_update(p->i.s, 1), SC_OK);
    sc_pair_pump(p);
    assert_int_equal(p->i.key_updates_out, 1);
    assert_int_equal(p->r.key_updates_in, 1);
    assert_int_equal(p->r.key_updates_out, 1); /* answered the request */
    assert_int_equal(p->i.key_updates_in, 1);
    send_msg(p->i.s, "m3", "after update");
    send_msg(p->r.s, "m4", "after update too");
    sc_pair_pump(p);
    assert_string_equal(p->r.stanza_text[1], "after update");
    assert_string_equal(p->i.stanza_text[1], "after update too");

    assert_int_equal(sc_session_close(p->i.s), SC_OK);
    sc_pair_pump(p);
    assert_int_equal(p->r.closed, 1);
    assert_int_equal(p->i.closed, 1);
    assert_int_equal(sc_session_eof(p->i.s), SC_OK);
    assert_int_equal(sc_session_eof(p->r.s), SC_OK);
    assert_int_equal(p->i.errors + p->r.errors, 0);
}

static void run_types(sc_testkey_type a, sc_testkey_type b, const char *sig_of_bob)
{
    pki k;
    sc_pair p;
    pki_make(&k, a, b);
    pair_from(&p, &k);
    full_session(&p);
    assert_string_equal(p.i.sigalg, sig_of_bob);
    sc_pair_free(&p);
    pki_free(&k);
}

static void test_p256(void **st) { run_types(SC_TESTKEY_P256, SC_TESTKEY_P256, "ecdsa-p256-sha256"); }
static void test_ed25519(void **st) { run_types(SC_TESTKEY_ED25519, SC_TESTKEY_ED25519, "ed25519"); }
static void test_rsa2048(void **st) { run_types(SC_TESTKEY_RSA2048, SC_TESTKEY_RSA2048, "rsa-pss-sha256"); }
static void test_p384_mixed(void **st) { run_types(SC_TESTKEY_ED25519, SC_TESTKEY_P384, "ecdsa-p384-sha384"); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_p256),
        cmocka_unit_test(test_ed25519),
        cmocka_unit_test(test_rsa2048),
        cmocka_unit_test(test_p384_mixed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
