/*
 * test_cert.c - the certificate policy (src/core/sc_cert.c, docs/PROTOCOL.md 8).
 *
 * Two sources of certificates: files made by the openssl command-line tool
 * (tests/certs/mkcerts.sh, directory in $SC_CLI_CERTS; missing is a failure,
 * not a skip) and certificates made in code by sc_testcert, which can vary
 * one property at a time against a fixed "now". Every refusal asserts its
 * specific error code.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <openssl/sha.h>
#include <openssl/objects.h>

#include "sixchat/error.h"
#include "sc_cert.h"
#include "sc_testcert.h"

#define NOW SC_TESTCERT_NOW
#define DAY INT64_C(86400)
#define YEAR (365 * DAY)
#define MAX_PEM_CERTS 8

/* ---- helpers ----------------------------------------------------------- */

/* Reads $SC_CLI_CERTS/name; fails the test when the directory or file is missing. */
static char *cli_file(const char *name)
{
    const char *dir = getenv("SC_CLI_CERTS");
    char path[4096];
    char *s;

    if (dir == NULL) fail_msg("SC_CLI_CERTS is not set: run through ctest (fixture certs_cli)");
    assert_true(snprintf(path, sizeof path, "%s/%s", dir, name) < (int)sizeof path);
    s = sc_testcert_read_file(path, NULL);
    if (s == NULL) fail_msg("cannot read %s (did tests/certs/mkcerts.sh run?)", path);
    return s;
}

/* Decodes every certificate of a PEM chain with sc_cert_decode_chain. */
static int decode_pem(const char *pem, sc_peer_chain *c)
{
    uint8_t *der[MAX_PEM_CERTS];
    size_t len[MAX_PEM_CERTS];
    size_t n = sc_testcert_pem_to_der(pem, der, len, MAX_PEM_CERTS);
    int rc = sc_cert_decode_chain((const uint8_t *const *)der, len, n, c);

    for (size_t i = 0; i < n; i++)
        free(der[i]);
    return rc;
}

/* Every user of these tests is @example.org unless a test says otherwise. */
static const char *const org[] = {"example.org"};

static void policy_with_anchor(sc_policy *p, const char *anchor_pem)
{
    assert_int_equal(sc_policy_init(p), SC_OK);
    assert_int_equal(sc_policy_add_anchors_pem(p, anchor_pem, strlen(anchor_pem), org, 1), SC_OK);
}

/* decode + cheap checks + full verification, as the handshake runs them. */
static int check_pem(const sc_policy *p, const char *chain_pem, const char *expected, int64_t now)
{
    sc_peer_chain c;
    int rc = decode_pem(chain_pem, &c);

    if (rc != SC_OK) return rc;
    rc = sc_cert_check_identity(p, &c, expected);
    if (rc == SC_OK) rc = sc_cert_verify(p, &c, now);
    sc_peer_chain_clear(&c);
    return rc;
}

/* ---- certificates made in code: one PKI per test group ----------------- */

typedef struct pki {
    sc_testcert *root, *inter, *other_root;
    char *root_pem, *inter_pem, *other_root_pem;
    uint8_t root_fp[32], inter_fp[32], other_root_fp[32];
    sc_policy policy; /* trusts root */
} pki;

static int pki_setup(void **state)
{
    pki *k = calloc(1, sizeof *k);

    assert_non_null(k);
    k->root = sc_testcert_root(SC_TESTKEY_P256, "test root", NOW - YEAR, NOW + 10 * YEAR);
    k->inter = sc_testcert_ca(k->root, SC_TESTKEY_P256, "test inter", NOW - YEAR, NOW + 5 * YEAR);
    k->other_root = sc_testcert_root(SC_TESTKEY_P256, "other root", NOW - YEAR, NOW + 10 * YEAR);
    k->root_pem = sc_testcert_cert_pem(k->root);
    k->inter_pem = sc_testcert_cert_pem(k->inter);
    k->other_root_pem = sc_testcert_cert_pem(k->other_root);
    sc_testcert_fingerprint(k->root_pem, k->root_fp);
    sc_testcert_fingerprint(k->inter_pem, k->inter_fp);
    sc_testcert_fingerprint(k->other_root_pem, k->other_root_fp);
    policy_with_anchor(&k->policy, k->root_pem);
    *state = k;
    return 0;
}

static int pki_teardown(void **state)
{
    pki *k = *state;

    sc_policy_free(&k->policy);
    free(k->root_pem);
    free(k->inter_pem);
    free(k->other_root_pem);
    sc_testcert_free(k->root);
    sc_testcert_free(k->inter);
    sc_testcert_free(k->other_root);
    free(k);
    return 0;
}

/* PEM of a user cert made by issuer with opts, followed by extra PEM (may be NULL). */
static char *user_chain(const sc_testcert *issuer, const sc_testcert_opts *o, const char *extra)
{
    sc_testcert *u = sc_testcert_user(issuer, o);
    char *leaf = sc_testcert_cert_pem(u);
    char *chain = sc_testcert_concat(leaf, extra != NULL ? extra : "", NULL);

    free(leaf);
    sc_testcert_free(u);
    return chain;
}

/* The default user: alice, P-256, clientAuth, valid around NOW, under k->inter. */
static sc_testcert_opts alice(void)
{
    sc_testcert_opts o = {.key_type = SC_TESTKEY_P256, .user_id = "alice@example.org"};
    return o;
}

/* Checks a user cert made under k->inter (chain sent with the intermediate). */
static int check_made(pki *k, const sc_testcert_opts *o)
{
    char *chain = user_chain(k->inter, o, k->inter_pem);
    int rc = check_pem(&k->policy, chain, NULL, NOW);

    free(chain);
    return rc;
}

/* ---- user IDs and the policy lists ------------------------------------- */

static void test_valid_user_id(void **state)
{
    static const struct {
        const char *s;
        int ok;
    } cases[] = {
        {"alice@example.org", 1},
        {"a@b", 1},
        {"A.B+tag@EXAMPLE.org", 1},
        {"", 0},
        {"alice", 0},
        {"@example.org", 0},
        {"alice@", 0},
        {"a@b@c", 0},
        {"al ice@example.org", 0},
        {"alice@exa\tmple.org", 0},
        {"alice@\x7f.org", 0},
        {"alice@ex\xc3\xa9.org", 0},
    };
    char longest[SC_USER_ID_MAX + 2];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (sc_cert_valid_user_id(cases[i].s) != cases[i].ok) fail_msg("case \"%s\"", cases[i].s);
    }
    assert_false(sc_cert_valid_user_id(NULL));
    /* SC_USER_ID_MAX bytes pass, one more fails. */
    memset(longest, 'a', sizeof longest);
    longest[1] = '@';
    longest[SC_USER_ID_MAX] = '\0';
    assert_true(sc_cert_valid_user_id(longest));
    longest[SC_USER_ID_MAX] = 'a';
    longest[SC_USER_ID_MAX + 1] = '\0';
    assert_false(sc_cert_valid_user_id(longest));
}

static void test_policy_lists(void **state)
{
    sc_policy p;
    uint8_t fp[32] = {1};

    assert_int_equal(sc_policy_init(&p), SC_OK);
    assert_int_equal(sc_policy_allow_id(&p, "alice"), SC_ERR_ARG);
    assert_int_equal(sc_policy_block_id(&p, "a b@c"), SC_ERR_ARG);
    assert_int_equal(sc_policy_allow_id(&p, "alice@example.org"), SC_OK);
    /* The same identity in another case is the same entry. */
    assert_int_equal(sc_policy_allow_id(&p, "ALICE@example.org"), SC_OK);
    assert_int_equal(p.n_allow_ids, 1);
    assert_int_equal(sc_policy_block_id(&p, "bob@example.org"), SC_OK);
    assert_int_equal(p.n_block_ids, 1);
    assert_int_equal(sc_policy_allow_issuer(&p, fp), SC_OK);
    assert_int_equal(sc_policy_allow_issuer(&p, fp), SC_OK);
    assert_int_equal(p.n_allow_issuers, 1);
    assert_int_equal(sc_policy_block_issuer_pem(&p, "junk", 4), SC_ERR_PARSE);
    assert_int_equal(p.n_block_issuers, 0);
    sc_policy_free(&p);
    sc_policy_free(&p); /* freeing twice is harmless */
}

static void test_anchors_pem(void **state)
{
    pki *k = *state;
    sc_policy p;
    char *two = sc_testcert_concat(k->root_pem, k->other_root_pem, NULL);
    char *bad_tail = sc_testcert_concat(k->root_pem,
                                        "-----BEGIN CERTIFICATE-----\nAAAA\n"
                                        "-----END CERTIFICATE-----\n",
                                        NULL);

    assert_int_equal(sc_policy_init(&p), SC_OK);
    assert_int_equal(sc_policy_add_anchors_pem(&p, "", 0, org, 1), SC_ERR_PARSE);
    assert_int_equal(sc_policy_add_anchors_pem(&p, "hello", 5, org, 1), SC_ERR_PARSE);
    /* A bad certificate after a good one adds neither. */
    assert_int_equal(sc_policy_add_anchors_pem(&p, bad_tail, strlen(bad_tail), org, 1),
                     SC_ERR_PARSE);
    assert_int_equal(p.n_anchors, 0);
    assert_int_equal(sc_policy_add_anchors_pem(&p, two, strlen(two), org, 1), SC_OK);
    assert_int_equal(p.n_anchors, 2);
    sc_policy_free(&p);
    free(two);
    free(bad_tail);
}

/* ---- certificates made by the openssl command-line tool ---------------- */

static void test_cli_each_key_type(void **state)
{
    static const char *const names[] = {"alice-p256", "alice-ed25519", "alice-rsa2048",
                                        "bob-p256",   "bob-ed25519",   "bob-rsa2048"};
    char *root = cli_file("root.pem");
    sc_policy p;

    policy_with_anchor(&p, root);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char file[64], *chain, *leaf;
        sc_peer_chain c;
        uint8_t fp[32];

        snprintf(file, sizeof file, "%s-chain.pem", names[i]);
        chain = cli_file(file);
        snprintf(file, sizeof file, "%s.pem", names[i]);
        leaf = cli_file(file);
        assert_int_equal(decode_pem(chain, &c), SC_OK);
        assert_string_equal(c.user_id,
                            names[i][0] == 'a' ? "alice@example.org" : "bob@example.org");
        assert_int_equal(sk_X509_num(c.untrusted), 1);
        sc_testcert_fingerprint(leaf, fp);
        assert_memory_equal(c.fingerprint, fp, 32);
        assert_int_equal(sc_cert_check_identity(&p, &c, NULL), SC_OK);
        if (sc_cert_verify(&p, &c, (int64_t)time(NULL)) != SC_OK) fail_msg("%s", names[i]);
        sc_peer_chain_clear(&c);
        free(chain);
        free(leaf);
    }
    sc_policy_free(&p);
    free(root);
}

static void test_cli_unknown_ca(void **state)
{
    char *root = cli_file("root.pem"), *other = cli_file("other-root.pem");
    char *carol = cli_file("carol-p256-chain.pem"), *alice_chain = cli_file("alice-p256-chain.pem");
    int64_t now = (int64_t)time(NULL);
    sc_policy p, q;

    policy_with_anchor(&p, root);
    policy_with_anchor(&q, other);
    assert_int_equal(check_pem(&p, carol, NULL, now), SC_ERR_UNKNOWN_CA);
    assert_int_equal(check_pem(&q, alice_chain, NULL, now), SC_ERR_UNKNOWN_CA);
    assert_int_equal(check_pem(&q, carol, NULL, now), SC_OK);
    sc_policy_free(&p);
    sc_policy_free(&q);
    free(root);
    free(other);
    free(carol);
    free(alice_chain);
}

static void test_cli_missing_eku(void **state)
{
    char *root = cli_file("root.pem"), *mallory = cli_file("mallory-noeku-chain.pem");
    sc_policy p;

    policy_with_anchor(&p, root);
    assert_int_equal(check_pem(&p, mallory, NULL, (int64_t)time(NULL)),
                     SC_ERR_UNSUPPORTED_CERTIFICATE);
    sc_policy_free(&p);
    free(root);
    free(mallory);
}

static void test_cli_blocked_issuer(void **state)
{
    char *root = cli_file("root.pem"), *inter = cli_file("inter.pem");
    char *other = cli_file("other-root.pem"), *chain = cli_file("alice-ed25519-chain.pem");
    const char *blocked[] = {inter, root};
    int64_t now = (int64_t)time(NULL);

    for (size_t i = 0; i < 2; i++) {
        sc_policy p;
        policy_with_anchor(&p, root);
        assert_int_equal(sc_policy_block_issuer_pem(&p, blocked[i], strlen(blocked[i])), SC_OK);
        assert_int_equal(check_pem(&p, chain, NULL, now), SC_ERR_ISSUER_BLOCKED);
        sc_policy_free(&p);
    }
    {
        sc_policy p;
        policy_with_anchor(&p, root);
        assert_int_equal(sc_policy_block_issuer_pem(&p, other, strlen(other)), SC_OK);
        assert_int_equal(check_pem(&p, chain, NULL, now), SC_OK);
        sc_policy_free(&p);
    }
    free(root);
    free(inter);
    free(other);
    free(chain);
}

/* ---- certificates made in code: success ------------------------------- */

static void test_made_each_key_type(void **state)
{
    static const sc_testkey_type types[] = {SC_TESTKEY_ED25519, SC_TESTKEY_P256, SC_TESTKEY_P384,
                                            SC_TESTKEY_RSA2048};
    pki *k = *state;

    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        sc_testcert_opts o = alice();
        o.key_type = types[i];
        if (check_made(k, &o) != SC_OK) fail_msg("key type %d", (int)types[i]);
    }
}

/* CA keys of every type too: RSA root, Ed25519 and P-384 intermediates. */
static void test_made_mixed_ca_types(void **state)
{
    sc_testcert *root = sc_testcert_root(SC_TESTKEY_RSA2048, "rsa root", NOW - YEAR, NOW + YEAR);
    sc_testcert *i1 = sc_testcert_ca(root, SC_TESTKEY_ED25519, "ed inter", NOW - YEAR, NOW + YEAR);
    sc_testcert *i2 = sc_testcert_ca(i1, SC_TESTKEY_P384, "p384 inter", NOW - YEAR, NOW + YEAR);
    char *root_pem = sc_testcert_cert_pem(root), *i1_pem = sc_testcert_cert_pem(i1);
    char *i2_pem = sc_testcert_cert_pem(i2);
    char *cas = sc_testcert_concat(i2_pem, i1_pem, NULL);
    sc_testcert_opts o = alice();
    char *chain = user_chain(i2, &o, cas);
    sc_policy p;

    policy_with_anchor(&p, root_pem);
    assert_int_equal(check_pem(&p, chain, "alice@example.org", NOW), SC_OK);
    sc_policy_free(&p);
    free(chain);
    free(cas);
    free(root_pem);
    free(i1_pem);
    free(i2_pem);
    sc_testcert_free(i2);
    sc_testcert_free(i1);
    sc_testcert_free(root);
}

/* The longest chain a peer may send: leaf and three intermediates. */
static void test_made_longest_path(void **state)
{
    pki *k = *state;
    sc_testcert *i2 = sc_testcert_ca(k->inter, SC_TESTKEY_P256, "inter 2", NOW - YEAR, NOW + YEAR);
    sc_testcert *i3 = sc_testcert_ca(i2, SC_TESTKEY_P256, "inter 3", NOW - YEAR, NOW + YEAR);
    char *i2_pem = sc_testcert_cert_pem(i2), *i3_pem = sc_testcert_cert_pem(i3);
    char *cas = sc_testcert_concat(i3_pem, i2_pem, k->inter_pem, NULL);
    sc_testcert_opts o = alice();
    char *chain = user_chain(i3, &o, cas);

    assert_int_equal(check_pem(&k->policy, chain, NULL, NOW), SC_OK);
    free(chain);
    free(cas);
    free(i2_pem);
    free(i3_pem);
    sc_testcert_free(i3);
    sc_testcert_free(i2);
}

static void test_made_path_variants(void **state)
{
    pki *k = *state;
    sc_testcert_opts o = alice();
    char *cas = sc_testcert_concat(k->inter_pem, k->root_pem, NULL);
    char *direct = user_chain(k->root, &o, NULL);    /* leaf signed by the root */
    char *with_root = user_chain(k->inter, &o, cas); /* peer also sends the anchor */
    char *no_inter = user_chain(k->inter, &o, NULL); /* intermediate missing */
    char *self = user_chain(NULL, &o, NULL);         /* self-signed leaf */

    assert_int_equal(check_pem(&k->policy, direct, NULL, NOW), SC_OK);
    assert_int_equal(check_pem(&k->policy, with_root, NULL, NOW), SC_OK);
    assert_int_equal(check_pem(&k->policy, no_inter, NULL, NOW), SC_ERR_UNKNOWN_CA);
    assert_int_equal(check_pem(&k->policy, self, NULL, NOW), SC_ERR_UNKNOWN_CA);
    free(cas);
    free(direct);
    free(with_root);
    free(no_inter);
    free(self);
}

/* A user certificate cannot act as a CA for another. */
static void test_made_leaf_as_issuer(void **state)
{
    pki *k = *state;
    sc_testcert_opts o = alice();
    sc_testcert *bob_cert;
    char *bob_pem, *cas, *chain;

    o.user_id = "bob@example.org";
    bob_cert = sc_testcert_user(k->inter, &o);
    bob_pem = sc_testcert_cert_pem(bob_cert);
    cas = sc_testcert_concat(bob_pem, k->inter_pem, NULL);
    o = alice();
    chain = user_chain(bob_cert, &o, cas);
    assert_int_equal(check_pem(&k->policy, chain, NULL, NOW), SC_ERR_BAD_CERTIFICATE);
    free(chain);
    free(cas);
    free(bob_pem);
    sc_testcert_free(bob_cert);
}

/* ---- certificates made in code: refusals ------------------------------ */

static void test_made_unknown_ca(void **state)
{
    pki *k = *state;
    sc_testcert *inter =
        sc_testcert_ca(k->other_root, SC_TESTKEY_P256, "test inter", NOW - YEAR, NOW + YEAR);
    char *inter_pem = sc_testcert_cert_pem(inter);
    sc_testcert_opts o = alice();
    char *chain = user_chain(inter, &o, inter_pem);

    assert_int_equal(check_pem(&k->policy, chain, NULL, NOW), SC_ERR_UNKNOWN_CA);
    free(chain);
    free(inter_pem);
    sc_testcert_free(inter);
}

static void test_made_validity(void **state)
{
    pki *k = *state;
    sc_testcert_opts o = alice();

    o.not_before = NOW - 2 * YEAR;
    o.not_after = NOW - DAY;
    assert_int_equal(check_made(k, &o), SC_ERR_CERTIFICATE_EXPIRED);
    o.not_before = NOW + DAY;
    o.not_after = NOW + YEAR;
    assert_int_equal(check_made(k, &o), SC_ERR_CERTIFICATE_NOT_YET_VALID);
    /* The time is the caller's: the same certificate is fine a week later. */
    {
        char *chain = user_chain(k->inter, &o, k->inter_pem);
        assert_int_equal(check_pem(&k->policy, chain, NULL, NOW + 7 * DAY), SC_OK);
        assert_int_equal(check_pem(&k->policy, chain, NULL, NOW), SC_ERR_CERTIFICATE_NOT_YET_VALID);
        free(chain);
    }
}

/* The validity of every certificate in the path counts, not only the leaf's. */
static void test_made_intermediate_validity(void **state)
{
    static const struct {
        int64_t nb, na;
        int want;
    } cases[] = {
        {NOW - 2 * YEAR, NOW - DAY, SC_ERR_CERTIFICATE_EXPIRED},
        {NOW + DAY, NOW + YEAR, SC_ERR_CERTIFICATE_NOT_YET_VALID},
    };
    pki *k = *state;

    for (size_t i = 0; i < 2; i++) {
        sc_testcert *inter =
            sc_testcert_ca(k->root, SC_TESTKEY_P256, "test inter", cases[i].nb, cases[i].na);
        char *inter_pem = sc_testcert_cert_pem(inter);
        sc_testcert_opts o = alice();
        char *chain = user_chain(inter, &o, inter_pem);

        assert_int_equal(check_pem(&k->policy, chain, NULL, NOW), cases[i].want);
        free(chain);
        free(inter_pem);
        sc_testcert_free(inter);
    }
}

static void test_made_eku(void **state)
{
    pki *k = *state;
    sc_testcert_opts o = alice();

    o.eku = SC_TESTCERT_EKU_NONE;
    assert_int_equal(check_made(k, &o), SC_ERR_UNSUPPORTED_CERTIFICATE);
    o.eku = SC_TESTCERT_EKU_SERVER_ONLY;
    assert_int_equal(check_made(k, &o), SC_ERR_UNSUPPORTED_CERTIFICATE);
}

static void test_made_key_usage(void **state)
{
    pki *k = *state;
    sc_testcert_opts o = alice();

    /* keyUsage without digitalSignature: refused by our own check... */
    o.key_usage = "critical,keyAgreement";
    assert_int_equal(check_made(k, &o), SC_ERR_UNSUPPORTED_CERTIFICATE);
    /* ...and by OpenSSL's sslclient purpose when it has neither of its two bits. */
    o.key_type = SC_TESTKEY_RSA2048;
    o.key_usage = "critical,keyEncipherment";
    assert_int_equal(check_made(k, &o), SC_ERR_UNSUPPORTED_CERTIFICATE);
}

static void test_made_key_types_refused(void **state)
{
    pki *k = *state;
    sc_testcert_opts o = alice();

    o.key_type = SC_TESTKEY_RSA1024;
    assert_int_equal(check_made(k, &o), SC_ERR_UNSUPPORTED_CERTIFICATE);
    o.key_type = SC_TESTKEY_ED448;
    assert_int_equal(check_made(k, &o), SC_ERR_UNSUPPORTED_CERTIFICATE);
    o.key_type = SC_TESTKEY_P521;
    assert_int_equal(check_made(k, &o), SC_ERR_UNSUPPORTED_CERTIFICATE);
}

/* OpenSSL's sslclient purpose: a CA limited to other uses cannot certify a user. */
static void test_made_ca_eku(void **state)
{
    pki *k = *state;
    sc_testcert *inter =
        sc_testcert_ca(k->root, SC_TESTKEY_P256, "server inter", NOW - YEAR, NOW + YEAR);
    char *inter_pem, *chain;
    sc_testcert_opts o = alice();

    sc_testcert_add_ext(inter, k->root, NID_ext_key_usage, "serverAuth");
    inter_pem = sc_testcert_cert_pem(inter);
    chain = user_chain(inter, &o, inter_pem);
    assert_int_equal(check_pem(&k->policy, chain, NULL, NOW), SC_ERR_UNSUPPORTED_CERTIFICATE);
    free(chain);
    free(inter_pem);
    sc_testcert_free(inter);
}

/* X509_V_FLAG_X509_STRICT: a user certificate claiming keyCertSign is malformed. */
static void test_made_strict(void **state)
{
    pki *k = *state;
    sc_testcert_opts o = alice();

    o.key_usage = "critical,digitalSignature,keyCertSign";
    assert_int_equal(check_made(k, &o), SC_ERR_BAD_CERTIFICATE);
}

/* A weak key anywhere in the path is refused, not only at the leaf. */
static void test_made_weak_ca(void **state)
{
    pki *k = *state;
    sc_testcert *inter =
        sc_testcert_ca(k->root, SC_TESTKEY_RSA1024, "weak inter", NOW - YEAR, NOW + YEAR);
    char *inter_pem = sc_testcert_cert_pem(inter);
    sc_testcert_opts o = alice();
    char *chain = user_chain(inter, &o, inter_pem);

    assert_int_equal(check_pem(&k->policy, chain, NULL, NOW), SC_ERR_UNSUPPORTED_CERTIFICATE);
    free(chain);
    free(inter_pem);
    sc_testcert_free(inter);
}

/* ---- decoding ---------------------------------------------------------- */

static void test_decode_user_id(void **state)
{
    pki *k = *state;
    sc_testcert_opts o = alice();
    sc_peer_chain c;
    char *chain;
    char small[8];

    o.user_id = NULL; /* no subjectAltName at all */
    chain = user_chain(k->inter, &o, k->inter_pem);
    assert_int_equal(decode_pem(chain, &c), SC_ERR_BAD_CERTIFICATE);
    assert_null(c.leaf);
    assert_null(c.untrusted);
    free(chain);

    o.user_id = "alice"; /* an rfc822Name that is not a user ID */
    chain = user_chain(k->inter, &o, k->inter_pem);
    assert_int_equal(decode_pem(chain, &c), SC_ERR_BAD_CERTIFICATE);
    free(chain);

    o.user_id = "Alice@Example.org"; /* kept as sent */
    chain = user_chain(k->inter, &o, k->inter_pem);
    assert_int_equal(decode_pem(chain, &c), SC_OK);
    assert_string_equal(c.user_id, "Alice@Example.org");
    assert_int_equal(sc_cert_user_id(c.leaf, small, sizeof small), SC_ERR_ARG);
    sc_peer_chain_clear(&c);
    free(chain);
}

static void test_decode_der(void **state)
{
    pki *k = *state;
    sc_testcert_opts o = alice();
    sc_testcert *u = sc_testcert_user(k->inter, &o);
    size_t leaf_len, inter_len;
    uint8_t *leaf = sc_testcert_der(u, &leaf_len);
    uint8_t *inter = sc_testcert_der(k->inter, &inter_len);
    uint8_t *longer = malloc(leaf_len + 1);
    static const uint8_t garbage[] = {0x30, 0x03, 0x02, 0x01, 0x05};
    uint8_t big[SC_CERT_MAX_DER + 1];
    const uint8_t *der[5];
    size_t len[5];
    sc_peer_chain c;

    assert_non_null(longer);
    memcpy(longer, leaf, leaf_len);
    longer[leaf_len] = 0;
    memset(big, 0x30, sizeof big);

    der[0] = leaf, len[0] = leaf_len;
    der[1] = inter, len[1] = inter_len;
    assert_int_equal(sc_cert_decode_chain(der, len, 2, &c), SC_OK);
    assert_int_equal(sk_X509_num(c.untrusted), 1);
    sc_peer_chain_clear(&c);

    assert_int_equal(sc_cert_decode_chain(der, len, 0, &c), SC_ERR_CERTIFICATE_REQUIRED);

    der[0] = garbage, len[0] = sizeof garbage;
    assert_int_equal(sc_cert_decode_chain(der, len, 1, &c), SC_ERR_BAD_CERTIFICATE);

    der[0] = longer, len[0] = leaf_len + 1; /* one trailing byte */
    assert_int_equal(sc_cert_decode_chain(der, len, 1, &c), SC_ERR_BAD_CERTIFICATE);

    der[0] = leaf, len[0] = leaf_len - 1; /* truncated */
    assert_int_equal(sc_cert_decode_chain(der, len, 1, &c), SC_ERR_BAD_CERTIFICATE);

    der[0] = leaf, len[0] = leaf_len;
    der[1] = garbage, len[1] = sizeof garbage; /* a bad intermediate */
    assert_int_equal(sc_cert_decode_chain(der, len, 2, &c), SC_ERR_BAD_CERTIFICATE);
    assert_null(c.leaf);

    der[1] = big, len[1] = sizeof big; /* over the size limit: refused before decoding */
    assert_int_equal(sc_cert_decode_chain(der, len, 2, &c), SC_ERR_DECODE_ERROR);

    for (size_t i = 1; i < 5; i++)
        der[i] = inter, len[i] = inter_len;
    assert_int_equal(sc_cert_decode_chain(der, len, 4, &c), SC_OK);
    sc_peer_chain_clear(&c);
    assert_int_equal(sc_cert_decode_chain(der, len, 5, &c), SC_ERR_DECODE_ERROR);
    assert_null(c.leaf);

    free(longer);
    free(leaf);
    free(inter);
    sc_testcert_free(u);
}

/* ---- identity and issuer lists ---------------------------------------- */

static void test_blocked_identity(void **state)
{
    pki *k = *state;
    sc_testcert_opts o = alice();
    char *chain = user_chain(k->inter, &o, k->inter_pem);
    sc_policy p;

    policy_with_anchor(&p, k->root_pem);
    assert_int_equal(sc_policy_block_id(&p, "bob@example.org"), SC_OK);
    assert_int_equal(check_pem(&p, chain, NULL, NOW), SC_OK);
    assert_int_equal(sc_policy_block_id(&p, "ALICE@Example.ORG"), SC_OK);
    assert_int_equal(check_pem(&p, chain, NULL, NOW), SC_ERR_ACCESS_DENIED);
    /* The block list is checked before the expected identity. */
    assert_int_equal(check_pem(&p, chain, "bob@example.org", NOW), SC_ERR_ACCESS_DENIED);
    sc_policy_free(&p);
    free(chain);
}

static void test_expected_identity(void **state)
{
    pki *k = *state;
    sc_testcert_opts o = alice();
    char *chain = user_chain(k->inter, &o, k->inter_pem);

    assert_int_equal(check_pem(&k->policy, chain, "bob@example.org", NOW),
                     SC_ERR_IDENTITY_MISMATCH);
    assert_int_equal(check_pem(&k->policy, chain, "alice@example.or", NOW),
                     SC_ERR_IDENTITY_MISMATCH);
    assert_int_equal(check_pem(&k->policy, chain, "alice@example.org.", NOW),
                     SC_ERR_IDENTITY_MISMATCH);
    assert_int_equal(check_pem(&k->policy, chain, "Alice@EXAMPLE.org", NOW), SC_OK);
    free(chain);
}

static void test_blocked_issuer(void **state)
{
    pki *k = *state;
    const char *blocked[] = {k->inter_pem, k->root_pem};
    sc_testcert_opts o = alice();
    char *chain = user_chain(k->inter, &o, k->inter_pem);

    for (size_t i = 0; i < 2; i++) {
        sc_policy p;
        policy_with_anchor(&p, k->root_pem);
        assert_int_equal(
            sc_policy_block_issuer_pem(&p, k->other_root_pem, strlen(k->other_root_pem)), SC_OK);
        assert_int_equal(check_pem(&p, chain, NULL, NOW), SC_OK);
        assert_int_equal(sc_policy_block_issuer_pem(&p, blocked[i], strlen(blocked[i])), SC_OK);
        assert_int_equal(check_pem(&p, chain, NULL, NOW), SC_ERR_ISSUER_BLOCKED);
        /* A block wins over an allow entry for the same peer. */
        assert_int_equal(sc_policy_allow_id(&p, "alice@example.org"), SC_OK);
        assert_int_equal(check_pem(&p, chain, NULL, NOW), SC_ERR_ISSUER_BLOCKED);
        sc_policy_free(&p);
    }
    free(chain);
}

static void test_allow_identity(void **state)
{
    pki *k = *state;
    sc_testcert_opts o = alice();
    char *alice_chain = user_chain(k->inter, &o, k->inter_pem);
    char *bob_chain;
    sc_policy p;

    o.user_id = "bob@example.org";
    bob_chain = user_chain(k->inter, &o, k->inter_pem);
    policy_with_anchor(&p, k->root_pem);
    assert_int_equal(sc_policy_allow_id(&p, "Alice@Example.org"), SC_OK);
    assert_int_equal(check_pem(&p, alice_chain, NULL, NOW), SC_OK);
    assert_int_equal(check_pem(&p, bob_chain, NULL, NOW), SC_ERR_ACCESS_DENIED);
    sc_policy_free(&p);
    free(alice_chain);
    free(bob_chain);
}

static void test_allow_issuer(void **state)
{
    pki *k = *state;
    const uint8_t *allowed[] = {k->inter_fp, k->root_fp};
    sc_testcert_opts o = alice();
    char *chain = user_chain(k->inter, &o, k->inter_pem);
    sc_policy p;

    for (size_t i = 0; i < 2; i++) {
        policy_with_anchor(&p, k->root_pem);
        assert_int_equal(sc_policy_allow_issuer(&p, allowed[i]), SC_OK);
        /* Some CA of the path is listed; the identity list does not list her. */
        assert_int_equal(sc_policy_allow_id(&p, "bob@example.org"), SC_OK);
        assert_int_equal(check_pem(&p, chain, NULL, NOW), SC_OK);
        sc_policy_free(&p);
    }
    policy_with_anchor(&p, k->root_pem);
    assert_int_equal(sc_policy_allow_issuer(&p, k->other_root_fp), SC_OK);
    assert_int_equal(check_pem(&p, chain, NULL, NOW), SC_ERR_ACCESS_DENIED);
    sc_policy_free(&p);
    free(chain);
}

/* The verified-chain cache answers only for the same bytes inside the validity window. */
static void test_verified_cache(void **state)
{
    pki *k = *state;
    sc_testcert_opts o = alice();
    o.not_before = NOW - 10;
    o.not_after = NOW + 1000;
    char *chain = user_chain(k->inter, &o, k->inter_pem);
    char *leaf_only = user_chain(k->other_root, &o, NULL);
    sc_policy p;
    sc_peer_chain c;
    sc_verified v;

    policy_with_anchor(&p, k->root_pem);
    assert_int_equal(decode_pem(chain, &c), SC_OK);
    assert_int_equal(sc_certcache_get_verified(p.cache, c.chain_key, NOW, &v), 0);
    assert_int_equal(sc_cert_verify(&p, &c, NOW), SC_OK);
    assert_int_equal(sc_certcache_get_verified(p.cache, c.chain_key, NOW, &v), 1);
    assert_int_equal(v.n_ca, 2); /* intermediate and root */
    assert_memory_equal(v.ca_fp[0], k->inter_fp, 32);
    assert_int_equal(v.not_after, NOW + 1000);
    /* Outside the window the full verifier runs again and says why. */
    assert_int_equal(sc_cert_verify(&p, &c, NOW + 1001), SC_ERR_CERTIFICATE_EXPIRED);
    assert_int_equal(sc_cert_verify(&p, &c, NOW - 11), SC_ERR_CERTIFICATE_NOT_YET_VALID);
    assert_int_equal(sc_cert_verify(&p, &c, NOW + 5), SC_OK);
    sc_peer_chain_clear(&c);

    /* A refused chain is never remembered. */
    assert_int_equal(decode_pem(leaf_only, &c), SC_OK);
    assert_int_equal(sc_cert_verify(&p, &c, NOW), SC_ERR_UNKNOWN_CA);
    assert_int_equal(sc_certcache_get_verified(p.cache, c.chain_key, NOW, &v), 0);
    sc_peer_chain_clear(&c);
    sc_policy_free(&p);
    free(chain);
    free(leaf_only);
}

/* The decode cache hands back the same certificate for the same bytes. */
static void test_decode_cache(void **state)
{
    pki *k = *state;
    sc_testcert_opts o = alice();
    char *chain = user_chain(k->inter, &o, k->inter_pem);
    uint8_t *der[MAX_PEM_CERTS];
    size_t len[MAX_PEM_CERTS];
    size_t n = sc_testcert_pem_to_der(chain, der, len, MAX_PEM_CERTS);
    sc_peer_chain a, b;

    assert_int_equal(
        sc_cert_decode_chain_cached(&k->policy, (const uint8_t *const *)der, len, n, &a), SC_OK);
    assert_int_equal(
        sc_cert_decode_chain_cached(&k->policy, (const uint8_t *const *)der, len, n, &b), SC_OK);
    assert_ptr_equal(a.leaf, b.leaf);
    assert_memory_equal(a.chain_key, b.chain_key, 32);
    /* One byte of trailing garbage is a different key and still refused. */
    uint8_t *longer = malloc(len[0] + 1);
    memcpy(longer, der[0], len[0]);
    longer[len[0]] = 0;
    const uint8_t *bad[1] = {longer};
    size_t bad_len[1] = {len[0] + 1};
    sc_peer_chain d;
    assert_int_equal(sc_cert_decode_chain_cached(&k->policy, bad, bad_len, 1, &d),
                     SC_ERR_BAD_CERTIFICATE);
    free(longer);
    sc_peer_chain_clear(&a);
    sc_peer_chain_clear(&b);
    for (size_t i = 0; i < n; i++)
        free(der[i]);
    free(chain);
}

/* ---- trust anchors bound to domains (PROTOCOL.md 8.2 step 7) ------------ */

/*
 * Two anchors, one per domain: each vouches for its own users only, through
 * an intermediate too. Before the fix every chain here was SC_OK.
 */
static void test_domain_binding(void **state)
{
    pki *k = *state;
    const char *const net[] = {"example.net"}, *const sub[] = {".example.org"};
    sc_testcert *net_inter =
        sc_testcert_ca(k->other_root, SC_TESTKEY_P256, "net inter", NOW - YEAR, NOW + YEAR);
    char *net_inter_pem = sc_testcert_cert_pem(net_inter);
    sc_testcert_opts o = alice();
    sc_policy p;

    assert_int_equal(sc_policy_init(&p), SC_OK);
    assert_int_equal(sc_policy_add_anchors_pem(&p, k->root_pem, strlen(k->root_pem), org, 1),
                     SC_OK);
    assert_int_equal(
        sc_policy_add_anchors_pem(&p, k->other_root_pem, strlen(k->other_root_pem), net, 1), SC_OK);
    o.user_id = "bob@example.org";
    char *good = user_chain(k->inter, &o, k->inter_pem);
    char *via_inter = user_chain(net_inter, &o, net_inter_pem);
    char *direct = user_chain(k->other_root, &o, NULL);
    o.user_id = "Carol@Example.NET";
    char *carol = user_chain(net_inter, &o, net_inter_pem);
    o.user_id = "dave@sub.example.org";
    char *dave = user_chain(k->inter, &o, k->inter_pem);
    assert_int_equal(check_pem(&p, good, NULL, NOW), SC_OK);
    assert_int_equal(check_pem(&p, via_inter, NULL, NOW), SC_ERR_DOMAIN_MISMATCH);
    assert_int_equal(check_pem(&p, via_inter, "bob@example.org", NOW), SC_ERR_DOMAIN_MISMATCH);
    assert_int_equal(check_pem(&p, direct, NULL, NOW), SC_ERR_DOMAIN_MISMATCH);
    assert_int_equal(check_pem(&p, carol, NULL, NOW), SC_OK);
    assert_int_equal(check_pem(&p, dave, NULL, NOW), SC_ERR_DOMAIN_MISMATCH); /* exact only */
    /* A second run answers from the verified-chain cache: the same verdicts. */
    assert_int_equal(check_pem(&p, via_inter, NULL, NOW), SC_ERR_DOMAIN_MISMATCH);
    assert_int_equal(check_pem(&p, good, NULL, NOW), SC_OK);
    /* ".example.org" adds the subdomains, not the domain itself. */
    assert_int_equal(sc_policy_add_anchors_pem(&p, k->root_pem, strlen(k->root_pem), sub, 1),
                     SC_OK);
    assert_int_equal(check_pem(&p, dave, NULL, NOW), SC_OK);
    sc_policy_free(&p);
    policy_with_anchor(&p, k->root_pem);
    assert_int_equal(
        sc_policy_add_anchors_pem(&p, k->other_root_pem, strlen(k->other_root_pem), NULL, 1),
        SC_ERR_ARG);
    sc_policy_free(&p);
    free(good);
    free(via_inter);
    free(direct);
    free(carol);
    free(dave);
    free(net_inter_pem);
    sc_testcert_free(net_inter);
}

/*
 * An intermediate carrying nameConstraints permitted;email:example.org is
 * held to them by OpenSSL's verifier in our flags, even where the anchor
 * would allow the domain.
 */
static void test_name_constraints(void **state)
{
    pki *k = *state;
    const char *const both[] = {"example.org", "example.net"};
    sc_testcert *nc =
        sc_testcert_ca(k->root, SC_TESTKEY_P256, "constrained", NOW - YEAR, NOW + YEAR);
    sc_testcert_add_ext(nc, k->root, NID_name_constraints, "critical,permitted;email:example.org");
    char *nc_pem = sc_testcert_cert_pem(nc);
    sc_testcert_opts o = alice();
    sc_policy p;

    assert_int_equal(sc_policy_init(&p), SC_OK);
    assert_int_equal(sc_policy_add_anchors_pem(&p, k->root_pem, strlen(k->root_pem), both, 2),
                     SC_OK);
    char *inside = user_chain(nc, &o, nc_pem);
    o.user_id = "carol@example.net";
    char *outside = user_chain(nc, &o, nc_pem);
    char *unconstrained = user_chain(k->inter, &o, k->inter_pem);
    assert_int_equal(check_pem(&p, inside, NULL, NOW), SC_OK);
    assert_int_equal(check_pem(&p, outside, NULL, NOW), SC_ERR_DOMAIN_MISMATCH);
    assert_int_equal(check_pem(&p, unconstrained, NULL, NOW), SC_OK);
    sc_policy_free(&p);
    free(inside);
    free(outside);
    free(unconstrained);
    free(nc_pem);
    sc_testcert_free(nc);
}

/*
 * The blocked intermediate signed again by its root (same key, same
 * subject, new serial): still blocked. Before the fix, which blocked one
 * certificate's fingerprint, the re-signed copy passed.
 */
static void test_blocked_issuer_resigned(void **state)
{
    pki *k = *state;
    sc_testcert_opts o = alice();
    X509 *again = X509_dup(k->inter->cert);
    assert_non_null(again);
    assert_true(ASN1_INTEGER_set(X509_get_serialNumber(again), 424242));
    assert_true(X509_sign(again, k->root->key, EVP_sha256()) > 0);
    sc_testcert copy = {.key = k->inter->key, .cert = again};
    char *again_pem = sc_testcert_cert_pem(&copy);
    char *chain = user_chain(k->inter, &o, again_pem);
    sc_policy p;

    policy_with_anchor(&p, k->root_pem);
    assert_int_equal(check_pem(&p, chain, NULL, NOW), SC_OK);
    sc_policy_free(&p);
    policy_with_anchor(&p, k->root_pem);
    assert_int_equal(sc_policy_block_issuer_pem(&p, k->inter_pem, strlen(k->inter_pem)), SC_OK);
    assert_int_equal(check_pem(&p, chain, NULL, NOW), SC_ERR_ISSUER_BLOCKED);
    sc_policy_free(&p);
    free(chain);
    free(again_pem);
    X509_free(again);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_user_id),
        cmocka_unit_test(test_policy_lists),
        cmocka_unit_test(test_anchors_pem),
        cmocka_unit_test(test_cli_each_key_type),
        cmocka_unit_test(test_cli_unknown_ca),
        cmocka_unit_test(test_cli_missing_eku),
        cmocka_unit_test(test_cli_blocked_issuer),
        cmocka_unit_test(test_made_each_key_type),
        cmocka_unit_test(test_made_mixed_ca_types),
        cmocka_unit_test(test_made_longest_path),
        cmocka_unit_test(test_made_path_variants),
        cmocka_unit_test(test_made_leaf_as_issuer),
        cmocka_unit_test(test_made_unknown_ca),
        cmocka_unit_test(test_made_validity),
        cmocka_unit_test(test_made_intermediate_validity),
        cmocka_unit_test(test_made_eku),
        cmocka_unit_test(test_made_key_usage),
        cmocka_unit_test(test_made_key_types_refused),
        cmocka_unit_test(test_made_ca_eku),
        cmocka_unit_test(test_made_strict),
        cmocka_unit_test(test_made_weak_ca),
        cmocka_unit_test(test_decode_user_id),
        cmocka_unit_test(test_decode_der),
        cmocka_unit_test(test_blocked_identity),
        cmocka_unit_test(test_expected_identity),
        cmocka_unit_test(test_blocked_issuer),
        cmocka_unit_test(test_allow_identity),
        cmocka_unit_test(test_allow_issuer),
        cmocka_unit_test(test_verified_cache),
        cmocka_unit_test(test_decode_cache),
        cmocka_unit_test(test_domain_binding),
        cmocka_unit_test(test_name_constraints),
        cmocka_unit_test(test_blocked_issuer_resigned),
    };
    return cmocka_run_group_tests(tests, pki_setup, pki_teardown);
}
