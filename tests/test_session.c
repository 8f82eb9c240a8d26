/*
 * test_session.c - two sessions in memory: handshakes for every key type,
 * group, suite and key-establishment mode, with certificates made in code
 * and by the openssl command-line tool, then stanzas, files, key update,
 * exporters and orderly close (sc_session.c, sc_handshake.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/sha.h>
#include "sc_pair.h"
#include "sc_record.h"
#include "sc_testcert.h"
#include "sc_testpki.h"

#define NOW_MS ((uint64_t)SC_TESTCERT_NOW * 1000)

/* ---- setup helpers ------------------------------------------------------ */

static sc_test_rng rng_i = {.seed = 1}, rng_r = {.seed = 2};

static sc_config *alice_cfg(const sc_testpki *k)
{
    return sc_party_config(k->alice_chain, k->alice_key, k->root_pem, &rng_i);
}

static sc_config *bob_cfg(const sc_testpki *k)
{
    return sc_party_config(k->bob_chain, k->bob_key, k->root_pem, &rng_r);
}

static void pair_from(sc_pair *p, const sc_testpki *k)
{
    sc_pair_init(p, alice_cfg(k), bob_cfg(k), NOW_MS);
}

static void send_msg(sc_session *s, const char *id, const char *text)
{
    sc_stanza st = {.type = SC_STANZA_MSG,
                    .id = id,
                    .ts = 1767225600123u,
                    .text = text,
                    .text_len = strlen(text)};
    assert_int_equal(sc_session_send_stanza(s, &st), SC_OK);
}

/* Handshake, messages both ways, key updates both ways, close seen by both. */
static void full_session(sc_pair *p)
{
    sc_pair_handshake(p);
    assert_int_equal(p->i.error, SC_OK);
    assert_int_equal(p->r.error, SC_OK);
    assert_int_equal(p->i.handshakes + p->r.handshakes, 2);
    assert_string_equal(p->i.peer_id, "bob@example.org");
    assert_string_equal(p->r.peer_id, "alice@example.org");
    assert_string_equal(sc_session_peer_id(p->i.s), "bob@example.org");
    assert_true(sc_session_established(p->i.s) && sc_session_established(p->r.s));
    send_msg(p->i.s, "m1", "hello bob <&> \"quoted\"");
    send_msg(p->r.s, "m2", "hi alice");
    sc_pair_pump(p);
    assert_int_equal(p->r.n_stanzas, 1);
    assert_string_equal(p->r.stanza_text[0], "hello bob <&> \"quoted\"");
    assert_int_equal(p->i.n_stanzas, 1);
    assert_string_equal(p->i.stanza_text[0], "hi alice");

    /* The initiator updates and requests; then the responder updates on its own. */
    assert_int_equal(sc_session_key_update(p->i.s, 1), SC_OK);
    sc_pair_pump(p);
    assert_int_equal(p->i.key_updates_out, 1);
    assert_int_equal(p->r.key_updates_in, 1);
    assert_int_equal(p->r.key_updates_out, 1); /* answered the request */
    assert_int_equal(p->i.key_updates_in, 1);
    assert_int_equal(sc_session_key_update(p->r.s, 0), SC_OK);
    sc_pair_pump(p);
    assert_int_equal(p->r.key_updates_out, 2);
    assert_int_equal(p->i.key_updates_in, 2);
    assert_int_equal(p->i.key_updates_out, 1); /* not requested: no answer */
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

/* ---- key types: certificates made in code ------------------------------- */

static void run_types(sc_testkey_type a, sc_testkey_type b, const char *sig_of_bob,
                      const char *sig_of_alice)
{
    sc_testpki k;
    sc_pair p;
    sc_testpki_make_types(&k, a, b);
    pair_from(&p, &k);
    full_session(&p);
    assert_string_equal(p.i.sigalg, sig_of_bob);
    assert_string_equal(p.r.sigalg, sig_of_alice);
    assert_int_equal(p.i.kex, SC_KEX_ECDHE);
    assert_string_equal(p.i.group, "x25519"); /* the default */
    sc_pair_free(&p);
    sc_testpki_free(&k);
}

static void test_p256(void **st)
{
    run_types(SC_TESTKEY_P256, SC_TESTKEY_P256, "ecdsa-p256-sha256", "ecdsa-p256-sha256");
}

static void test_ed25519(void **st)
{
    run_types(SC_TESTKEY_ED25519, SC_TESTKEY_ED25519, "ed25519", "ed25519");
}

static void test_rsa2048(void **st)
{
    run_types(SC_TESTKEY_RSA2048, SC_TESTKEY_RSA2048, "rsa-pss-sha256", "rsa-pss-sha256");
}

static void test_p384_mixed(void **st)
{
    run_types(SC_TESTKEY_ED25519, SC_TESTKEY_P384, "ecdsa-p384-sha384", "ed25519");
}

/* ---- key types: certificates made by the openssl CLI -------------------- */

/* Made just now with a validity of years: checked at the real time, not SC_TESTCERT_NOW. */
static void run_cli(const char *type, const char *sigalg)
{
    sc_testpki k;
    sc_pair p;
    sc_testpki_cli(&k, type);
    sc_pair_init(&p, alice_cfg(&k), bob_cfg(&k), sc_clock_ms());
    full_session(&p);
    assert_string_equal(p.i.sigalg, sigalg);
    assert_string_equal(p.r.sigalg, sigalg);
    sc_pair_free(&p);
    sc_testpki_free(&k);
}

static void test_cli_p256(void **st)
{
    run_cli("p256", "ecdsa-p256-sha256");
}

static void test_cli_ed25519(void **st)
{
    run_cli("ed25519", "ed25519");
}

static void test_cli_rsa2048(void **st)
{
    run_cli("rsa2048", "rsa-pss-sha256");
}

/* ---- groups ------------------------------------------------------------- */

static void run_groups(const char *i_groups, const char *r_groups, const char *want)
{
    sc_testpki k;
    sc_pair p;
    sc_testpki_make_types(&k, SC_TESTKEY_P256, SC_TESTKEY_P256);
    sc_config *ci = alice_cfg(&k), *cr = bob_cfg(&k);
    assert_int_equal(sc_config_set_groups(ci, i_groups), SC_OK);
    assert_int_equal(sc_config_set_groups(cr, r_groups), SC_OK);
    sc_pair_init(&p, ci, cr, NOW_MS);
    full_session(&p);
    assert_string_equal(p.i.group, want);
    assert_string_equal(p.r.group, want);
    sc_pair_free(&p);
    sc_testpki_free(&k);
}

static void test_group_x25519(void **st)
{
    run_groups("x25519", "x25519", "x25519");
}

static void test_group_p256(void **st)
{
    run_groups("p256", "p256", "p256");
}

static void test_group_responder_preference_wins(void **st)
{
    run_groups("x25519 p256", "p256 x25519", "p256");
    run_groups("p256 x25519", "x25519 p256", "x25519");
}

static void test_group_unknown_name_refused(void **st)
{
    sc_config *c = sc_config_new();
    assert_int_equal(sc_config_set_groups(c, "x448"), SC_ERR_PARSE);
    assert_int_equal(sc_config_set_suites(c, "aes-128-gcm"), SC_ERR_PARSE);
    sc_config_free(c);
}

/* ---- key transport ------------------------------------------------------ */

/* RSA certificates; alice (initiator) knows bob's certificate when give_cert. */
static void kt_pair(sc_pair *p, sc_testpki *k, int i_on, int r_on, int give_cert)
{
    sc_testpki_make_types(k, SC_TESTKEY_RSA2048, SC_TESTKEY_RSA2048);
    sc_config *ci = alice_cfg(k), *cr = bob_cfg(k);
    sc_config_enable_key_transport(ci, i_on);
    sc_config_enable_key_transport(cr, r_on);
    sc_pair_init(p, ci, cr, NOW_MS);
    if (give_cert) {
        size_t len;
        uint8_t *der = sc_testcert_chain_der(k->bob, k->inter, &len);
        assert_int_equal(sc_session_set_peer_cert(p->i.s, der, len), SC_OK);
        free(der);
    }
}

static void test_kt_session(void **st)
{
    sc_testpki k;
    sc_pair p;
    kt_pair(&p, &k, 1, 1, 1);
    full_session(&p);
    assert_int_equal(p.i.kex, SC_KEX_KT);
    assert_int_equal(p.r.kex, SC_KEX_KT);
    assert_string_equal(p.i.group, "kt");
    assert_string_equal(p.r.group, "kt");
    assert_true(sc_pair_trace_has(&p, "<kt>", 4));
    sc_pair_free(&p);
    sc_testpki_free(&k);
}

static void test_kt_refused_when_responder_disabled(void **st)
{
    sc_testpki k;
    sc_pair p;
    kt_pair(&p, &k, 1, 0, 1);
    assert_false(sc_pair_handshake(&p));
    assert_int_equal(sc_session_error(p.r.s), SC_ERR_HANDSHAKE_FAILURE);
    assert_int_equal(sc_session_error(p.i.s), SC_ERR_PEER_ALERT(SC_ALERT_HANDSHAKE_FAILURE));
    assert_int_equal(p.i.error, SC_ERR_PEER_ALERT(SC_ALERT_HANDSHAKE_FAILURE));
    sc_pair_free(&p);
    sc_testpki_free(&k);
}

static void test_kt_without_peer_cert_uses_ecdhe(void **st)
{
    sc_testpki k;
    sc_pair p;
    kt_pair(&p, &k, 1, 1, 0);
    full_session(&p);
    assert_int_equal(p.i.kex, SC_KEX_ECDHE);
    assert_int_equal(p.r.kex, SC_KEX_ECDHE);
    assert_string_equal(p.i.group, "x25519");
    sc_pair_free(&p);
    sc_testpki_free(&k);
}

static void test_kt_disabled_initiator_uses_ecdhe(void **st)
{
    sc_testpki k;
    sc_pair p;
    kt_pair(&p, &k, 0, 1, 1);
    full_session(&p);
    assert_int_equal(p.i.kex, SC_KEX_ECDHE);
    assert_string_equal(p.r.group, "x25519");
    sc_pair_free(&p);
    sc_testpki_free(&k);
}

/* ---- suites ------------------------------------------------------------- */

static void run_suites(const char *i_suites, const char *r_suites, const char *want)
{
    sc_testpki k;
    sc_pair p;
    sc_testpki_make_types(&k, SC_TESTKEY_ED25519, SC_TESTKEY_ED25519);
    sc_config *ci = alice_cfg(&k), *cr = bob_cfg(&k);
    assert_int_equal(sc_config_set_suites(ci, i_suites), SC_OK);
    assert_int_equal(sc_config_set_suites(cr, r_suites), SC_OK);
    sc_pair_init(&p, ci, cr, NOW_MS);
    full_session(&p);
    assert_string_equal(p.i.suite, want);
    assert_string_equal(p.r.suite, want);
    sc_pair_free(&p);
    sc_testpki_free(&k);
}

static void test_suite_aes_forced(void **st)
{
    run_suites("aes-256-gcm", "aes-256-gcm", "aes-256-gcm");
}

static void test_suite_chacha_forced(void **st)
{
    run_suites("chacha20-poly1305", "chacha20-poly1305", "chacha20-poly1305");
}

static void test_suite_responder_preference_wins(void **st)
{
    run_suites("aes-256-gcm chacha20-poly1305", "chacha20-poly1305 aes-256-gcm",
               "chacha20-poly1305");
    run_suites("chacha20-poly1305 aes-256-gcm", "aes-256-gcm chacha20-poly1305", "aes-256-gcm");
}

/* ---- application data --------------------------------------------------- */

static void established(sc_pair *p, sc_testpki *k)
{
    sc_testpki_make_types(k, SC_TESTKEY_P256, SC_TESTKEY_ED25519);
    pair_from(p, k);
    assert_true(sc_pair_handshake(p));
}

/* Counts the frames in a session's pending output, without consuming it. */
static size_t output_frames(sc_session *s, uint8_t type)
{
    const uint8_t *d;
    size_t n = sc_session_output(s, &d), off = 0, count = 0;
    while (off + 4 <= n) {
        size_t len = (size_t)d[off + 1] << 16 | (size_t)d[off + 2] << 8 | d[off + 3];
        count += d[off] == type;
        off += 4 + len;
    }
    assert_int_equal(off, n);
    return count;
}

#define FILE_LEN (100 * 1024)

static void test_file_transfer(void **st)
{
    sc_testpki k;
    sc_pair p;
    uint8_t *data = malloc(FILE_LEN), digest[32];
    assert_non_null(data);
    for (size_t i = 0; i < FILE_LEN; i++)
        data[i] = (uint8_t)(i * 131 + (i >> 9));
    SHA256(data, FILE_LEN, digest);
    established(&p, &k);

    sc_stanza offer = {
        .type = SC_STANZA_FILE_OFFER, .id = "f1", .name = "photo.jpg", .size = FILE_LEN};
    memcpy(offer.sha256, digest, 32);
    assert_int_equal(sc_session_send_stanza(p.i.s, &offer), SC_OK);
    sc_pair_pump(&p);
    assert_int_equal(p.r.n_stanzas, 1);
    assert_int_equal(p.r.stanza_type[0], SC_STANZA_FILE_OFFER);
    assert_string_equal(p.r.stanza_id[0], "f1");

    sc_stanza accept = {.type = SC_STANZA_FILE_ACCEPT, .id = "f1", .offset = 0};
    assert_int_equal(sc_session_send_stanza(p.r.s, &accept), SC_OK);
    sc_pair_pump(&p);
    assert_int_equal(p.i.n_stanzas, 1);
    assert_int_equal(p.i.stanza_type[0], SC_STANZA_FILE_ACCEPT);

    assert_int_equal(sc_session_send_file_data(p.i.s, "f1", 0, data, FILE_LEN), SC_OK);
    /* SC_MAX_PLAINTEXT - (1 + 2 + 8) content bytes per record. */
    size_t per = SC_MAX_PLAINTEXT - 11;
    assert_int_equal(output_frames(p.i.s, 2), (FILE_LEN + per - 1) / per);
    sc_stanza done = {.type = SC_STANZA_FILE_DONE, .id = "f1"};
    memcpy(done.sha256, digest, 32);
    assert_int_equal(sc_session_send_stanza(p.i.s, &done), SC_OK);
    sc_pair_pump(&p);
    assert_int_equal(p.r.file_len, FILE_LEN);
    assert_memory_equal(p.r.file, data, FILE_LEN);
    assert_int_equal(p.r.n_stanzas, 2);
    assert_int_equal(p.r.stanza_type[1], SC_STANZA_FILE_DONE);
    assert_int_equal(p.i.errors + p.r.errors, 0);
    sc_pair_free(&p);
    sc_testpki_free(&k);
    free(data);
}

static void test_file_data_resumes_at_offset(void **st)
{
    sc_testpki k;
    sc_pair p;
    const uint8_t part[] = "second half";
    established(&p, &k);
    assert_int_equal(sc_session_send_file_data(p.r.s, "f.2", 5, part, sizeof part), SC_OK);
    sc_pair_pump(&p);
    assert_int_equal(p.i.file_len, 5 + sizeof part);
    assert_memory_equal(p.i.file + 5, part, sizeof part);
    assert_int_equal(sc_session_send_file_data(p.r.s, "bad id", 0, part, 1), SC_ERR_ARG);
    sc_pair_free(&p);
    sc_testpki_free(&k);
}

static void test_ping_answered_with_pong(void **st)
{
    sc_testpki k;
    sc_pair p;
    established(&p, &k);
    sc_stanza ping = {.type = SC_STANZA_PING, .id = "ka-7"};
    assert_int_equal(sc_session_send_stanza(p.i.s, &ping), SC_OK);
    sc_pair_pump(&p);
    assert_int_equal(p.r.n_stanzas, 0); /* the library answered, no event */
    assert_int_equal(p.i.n_stanzas, 1);
    assert_int_equal(p.i.stanza_type[0], SC_STANZA_PONG);
    assert_string_equal(p.i.stanza_id[0], "ka-7");
    sc_pair_free(&p);
    sc_testpki_free(&k);
}

static void test_automatic_key_update(void **st)
{
    sc_testpki k;
    sc_pair p;
    char id[16], text[32];
    sc_testpki_make_types(&k, SC_TESTKEY_P256, SC_TESTKEY_P256);
    sc_config *ci = alice_cfg(&k), *cr = bob_cfg(&k);
    assert_int_equal(sc_config_set_key_update_limits(ci, 5, 0), SC_OK);
    assert_int_equal(sc_config_set_key_update_limits(cr, 5, 0), SC_OK);
    sc_pair_init(&p, ci, cr, NOW_MS);
    assert_true(sc_pair_handshake(&p));
    for (int n = 0; n < 12; n++) {
        snprintf(id, sizeof id, "a%d", n);
        snprintf(text, sizeof text, "alice says %d", n);
        send_msg(p.i.s, id, text);
        snprintf(id, sizeof id, "b%d", n);
        snprintf(text, sizeof text, "bob says %d", n);
        send_msg(p.r.s, id, text);
        sc_pair_pump(&p);
    }
    /* After records 5 and 10 under a key, each side rolled its sending key. */
    assert_int_equal(p.i.key_updates_out, 2);
    assert_int_equal(p.r.key_updates_in, 2);
    assert_int_equal(p.r.key_updates_out, 2);
    assert_int_equal(p.i.key_updates_in, 2);
    assert_int_equal(p.r.n_stanzas, 12);
    assert_int_equal(p.i.n_stanzas, 12);
    assert_string_equal(p.r.stanza_text[11], "alice says 11");
    assert_string_equal(p.i.stanza_text[11], "bob says 11");
    assert_int_equal(p.i.errors + p.r.errors, 0);
    sc_pair_free(&p);
    sc_testpki_free(&k);
}

static void test_exporter(void **st)
{
    sc_testpki k;
    sc_pair p;
    uint8_t a[32], b[32], c[32];
    sc_testpki_make_types(&k, SC_TESTKEY_P256, SC_TESTKEY_P256);
    pair_from(&p, &k);
    assert_int_equal(sc_session_export(p.i.s, "x", a), SC_ERR_STATE);
    assert_true(sc_pair_handshake(&p));
    assert_int_equal(sc_session_export(p.i.s, "call binding", a), SC_OK);
    assert_int_equal(sc_session_export(p.r.s, "call binding", b), SC_OK);
    assert_memory_equal(a, b, 32);
    assert_int_equal(sc_session_export(p.r.s, "other label", c), SC_OK);
    assert_memory_not_equal(a, c, 32);
    assert_int_equal(sc_session_export(p.i.s, "other label", b), SC_OK);
    assert_memory_equal(b, c, 32);
    sc_pair_free(&p);

    /* A second session of the same parties derives other values. */
    pair_from(&p, &k);
    assert_true(sc_pair_handshake(&p));
    assert_int_equal(sc_session_export(p.i.s, "call binding", b), SC_OK);
    assert_memory_not_equal(a, b, 32);
    sc_pair_free(&p);
    sc_testpki_free(&k);
}

static void test_send_before_handshake_is_state_error(void **st)
{
    sc_testpki k;
    sc_pair p;
    sc_stanza m = {.type = SC_STANZA_MSG, .id = "m1", .text = "early", .text_len = 5};
    sc_testpki_make_types(&k, SC_TESTKEY_P256, SC_TESTKEY_P256);
    pair_from(&p, &k);
    assert_int_equal(sc_session_send_stanza(p.i.s, &m), SC_ERR_STATE);
    assert_int_equal(sc_session_send_stanza(p.r.s, &m), SC_ERR_STATE);
    assert_int_equal(sc_session_send_file_data(p.i.s, "f", 0, (const uint8_t *)"x", 1),
                     SC_ERR_STATE);
    assert_int_equal(sc_session_key_update(p.i.s, 0), SC_ERR_STATE);
    assert_int_equal(sc_session_close(p.i.s), SC_ERR_STATE);
    assert_int_equal(sc_session_start(p.i.s), SC_OK);
    assert_int_equal(sc_session_send_stanza(p.i.s, &m), SC_ERR_STATE); /* still handshaking */
    sc_pair_pump(&p);
    assert_int_equal(sc_session_send_stanza(p.i.s, &m), SC_OK);
    sc_pair_pump(&p);
    assert_int_equal(p.r.n_stanzas, 1);
    sc_pair_free(&p);
    sc_testpki_free(&k);
}

/* Who to expect and which certificate is known must be said before the handshake starts. */
static void test_setup_calls_after_start(void **st)
{
    sc_testpki k;
    sc_pair p;
    size_t len;
    sc_testpki_make_types(&k, SC_TESTKEY_P256, SC_TESTKEY_P256);
    pair_from(&p, &k);
    uint8_t *der = sc_testcert_der(k.bob, &len);
    assert_int_equal(sc_session_set_expected_peer(p.i.s, "not a user id"), SC_ERR_ARG);
    assert_int_equal(sc_session_set_peer_cert(p.i.s, der, 0), SC_ERR_ARG);
    assert_int_equal(sc_session_set_expected_peer(p.i.s, "bob@example.org"), SC_OK);
    assert_int_equal(sc_session_set_peer_cert(p.i.s, der, len), SC_OK);
    assert_int_equal(sc_session_start(p.i.s), SC_OK);
    assert_int_equal(sc_session_start(p.i.s), SC_ERR_STATE);
    assert_int_equal(sc_session_set_expected_peer(p.i.s, "bob@example.org"), SC_ERR_STATE);
    assert_int_equal(sc_session_set_peer_cert(p.i.s, der, len), SC_ERR_STATE);
    sc_pair_pump(&p);
    assert_int_equal(p.i.handshakes + p.r.handshakes, 2);
    assert_int_equal(sc_session_set_expected_peer(p.r.s, "alice@example.org"), SC_ERR_STATE);
    free(der);
    sc_pair_free(&p);
    sc_testpki_free(&k);
}

static void test_invalid_stanza_is_arg_error(void **st)
{
    sc_testpki k;
    sc_pair p;
    established(&p, &k);
    sc_stanza bad = {.type = SC_STANZA_MSG, .id = "has space", .text = "x", .text_len = 1};
    assert_int_equal(sc_session_send_stanza(p.i.s, &bad), SC_ERR_ARG);
    bad.id = "";
    assert_int_equal(sc_session_send_stanza(p.i.s, &bad), SC_ERR_ARG);
    bad.id = NULL;
    assert_int_equal(sc_session_send_stanza(p.i.s, &bad), SC_ERR_ARG);
    bad.id = "ok";
    bad.type = (sc_stanza_type)99;
    assert_int_equal(sc_session_send_stanza(p.i.s, &bad), SC_ERR_ARG);
    /* A caller's mistake is not sticky: the session goes on. */
    assert_int_equal(sc_session_error(p.i.s), SC_OK);
    send_msg(p.i.s, "ok", "still here");
    sc_pair_pump(&p);
    assert_int_equal(p.r.n_stanzas, 1);
    assert_string_equal(p.r.stanza_text[0], "still here");
    sc_pair_free(&p);
    sc_testpki_free(&k);
}

/* Text the peer's XML parser would refuse is the caller's error, not a session failure. */
static void test_uncarriable_text_is_arg_error(void **st)
{
    sc_testpki k;
    sc_pair p;
    established(&p, &k);
    sc_stanza bad = {.type = SC_STANZA_MSG, .id = "m", .text = "bell\x07", .text_len = 5};
    assert_int_equal(sc_session_send_stanza(p.i.s, &bad), SC_ERR_ARG);
    bad.text = "\xff\xfe";
    bad.text_len = 2;
    assert_int_equal(sc_session_send_stanza(p.i.s, &bad), SC_ERR_ARG);
    send_msg(p.i.s, "ok", "tab\tand\r\nnewline");
    sc_pair_pump(&p);
    assert_int_equal(p.i.errors + p.r.errors, 0);
    assert_int_equal(p.r.n_stanzas, 1);
    assert_string_equal(p.r.stanza_text[0], "tab\tand\r\nnewline");
    sc_pair_free(&p);
    sc_testpki_free(&k);
}

/*
 * Messages go in compact form (PROTOCOL.md 10.4), so no escaping can push a
 * text within SC_STANZA_TEXT_MAX past a limit: 16000 '&' (80000 bytes as
 * XML, which was SC_ERR_TOO_LARGE before the compact form) arrive intact; one
 * byte more is the caller's error and the session goes on.
 */
static void test_msg_text_at_limit_whatever_escaping(void **st)
{
    sc_testpki k;
    sc_pair p;
    char *text = malloc(SC_STANZA_TEXT_MAX + 1);
    assert_non_null(text);
    established(&p, &k);
    memset(text, '&', SC_STANZA_TEXT_MAX + 1);
    sc_stanza m = {.type = SC_STANZA_MSG, .id = "big", .text = text, .text_len = 4000};
    assert_int_equal(sc_session_send_stanza(p.i.s, &m), SC_OK);
    m.text_len = SC_STANZA_TEXT_MAX;
    assert_int_equal(sc_session_send_stanza(p.i.s, &m), SC_OK);
    m.text_len = SC_STANZA_TEXT_MAX + 1;
    assert_int_equal(sc_session_send_stanza(p.i.s, &m), SC_ERR_ARG);
    assert_int_equal(sc_session_error(p.i.s), SC_OK);
    sc_pair_pump(&p);
    assert_int_equal(p.r.n_stanzas, 2);
    assert_int_equal(strlen(p.r.stanza_text[0]), 4000);
    assert_int_equal(strspn(p.r.stanza_text[0], "&"), 4000);
    assert_int_equal(strlen(p.r.stanza_text[1]), SC_STANZA_TEXT_MAX);
    assert_int_equal(strspn(p.r.stanza_text[1], "&"), SC_STANZA_TEXT_MAX);
    assert_int_equal(p.i.errors + p.r.errors, 0);
    free(text);
    sc_pair_free(&p);
    sc_testpki_free(&k);
}

/* Both sides ask for an update at once: each answers, and data still flows. */
static void test_simultaneous_key_update_requests(void **st)
{
    sc_testpki k;
    sc_pair p;
    established(&p, &k);
    assert_int_equal(sc_session_key_update(p.i.s, 1), SC_OK);
    assert_int_equal(sc_session_key_update(p.r.s, 1), SC_OK);
    send_msg(p.i.s, "a", "crossing");
    send_msg(p.r.s, "b", "crossing too");
    sc_pair_pump(&p);
    assert_int_equal(p.i.key_updates_out, p.r.key_updates_in);
    assert_int_equal(p.r.key_updates_out, p.i.key_updates_in);
    assert_true(p.i.key_updates_out >= 2 && p.r.key_updates_out >= 2);
    send_msg(p.i.s, "c", "after");
    send_msg(p.r.s, "d", "after too");
    sc_pair_pump(&p);
    assert_int_equal(p.r.n_stanzas, 2);
    assert_int_equal(p.i.n_stanzas, 2);
    assert_string_equal(p.r.stanza_text[1], "after");
    assert_int_equal(p.i.errors + p.r.errors, 0);
    sc_pair_free(&p);
    sc_testpki_free(&k);
}

/* The byte limit also rolls keys, and a file spanning an update arrives whole. */
static void test_automatic_key_update_by_bytes_during_file(void **st)
{
    sc_testpki k;
    sc_pair p;
    /* Four full records (id "f": 10 header bytes each), an update every two. */
    enum { LEN = 4 * (SC_MAX_PLAINTEXT - 10) };
    uint8_t *data = malloc(LEN);
    assert_non_null(data);
    for (size_t i = 0; i < LEN; i++)
        data[i] = (uint8_t)(i ^ (i >> 8));
    sc_testpki_make_types(&k, SC_TESTKEY_ED25519, SC_TESTKEY_ED25519);
    sc_config *ci = alice_cfg(&k), *cr = bob_cfg(&k);
    assert_int_equal(sc_config_set_key_update_limits(ci, 0, 2 * (SC_MAX_PLAINTEXT + 1)), SC_OK);
    sc_pair_init(&p, ci, cr, NOW_MS);
    assert_true(sc_pair_handshake(&p));
    assert_int_equal(sc_session_send_file_data(p.i.s, "f", 0, data, LEN), SC_OK);
    sc_pair_pump(&p);
    assert_int_equal(p.i.key_updates_out, 2);
    assert_int_equal(p.r.key_updates_in, 2);
    assert_int_equal(p.r.key_updates_out, 0);
    assert_int_equal(p.r.file_len, LEN);
    assert_memory_equal(p.r.file, data, LEN);
    free(data);
    sc_pair_free(&p);
    sc_testpki_free(&k);
}

static void test_after_close_nothing_sends(void **st)
{
    sc_testpki k;
    sc_pair p;
    sc_stanza m = {.type = SC_STANZA_MSG, .id = "late", .text = "x", .text_len = 1};
    established(&p, &k);
    assert_int_equal(sc_session_close(p.r.s), SC_OK);
    assert_int_equal(sc_session_send_stanza(p.r.s, &m), SC_ERR_STATE);
    sc_pair_pump(&p);
    assert_int_equal(p.i.closed, 1);
    assert_int_equal(p.r.closed, 1);
    assert_int_equal(sc_session_send_stanza(p.i.s, &m), SC_ERR_STATE);
    assert_false(sc_session_established(p.i.s));
    sc_pair_free(&p);
    sc_testpki_free(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_p256),
        cmocka_unit_test(test_ed25519),
        cmocka_unit_test(test_rsa2048),
        cmocka_unit_test(test_p384_mixed),
        cmocka_unit_test(test_cli_p256),
        cmocka_unit_test(test_cli_ed25519),
        cmocka_unit_test(test_cli_rsa2048),
        cmocka_unit_test(test_group_x25519),
        cmocka_unit_test(test_group_p256),
        cmocka_unit_test(test_group_responder_preference_wins),
        cmocka_unit_test(test_group_unknown_name_refused),
        cmocka_unit_test(test_kt_session),
        cmocka_unit_test(test_kt_refused_when_responder_disabled),
        cmocka_unit_test(test_kt_without_peer_cert_uses_ecdhe),
        cmocka_unit_test(test_kt_disabled_initiator_uses_ecdhe),
        cmocka_unit_test(test_suite_aes_forced),
        cmocka_unit_test(test_suite_chacha_forced),
        cmocka_unit_test(test_suite_responder_preference_wins),
        cmocka_unit_test(test_file_transfer),
        cmocka_unit_test(test_file_data_resumes_at_offset),
        cmocka_unit_test(test_ping_answered_with_pong),
        cmocka_unit_test(test_automatic_key_update),
        cmocka_unit_test(test_exporter),
        cmocka_unit_test(test_send_before_handshake_is_state_error),
        cmocka_unit_test(test_setup_calls_after_start),
        cmocka_unit_test(test_invalid_stanza_is_arg_error),
        cmocka_unit_test(test_uncarriable_text_is_arg_error),
        cmocka_unit_test(test_msg_text_at_limit_whatever_escaping),
        cmocka_unit_test(test_simultaneous_key_update_requests),
        cmocka_unit_test(test_automatic_key_update_by_bytes_during_file),
        cmocka_unit_test(test_after_close_nothing_sends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
