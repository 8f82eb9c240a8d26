/*
 * test_irpd_secret.c - password hashes and enrolment tokens
 * (src/irpd/irpd_secret.c, docs/IRP.md 7.2).
 *
 * Each scrypt call at the default parameters costs about 0.1 s, so the
 * tests use as few as they can while still checking every refusal.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "sixchat/error.h"
#include "irpd_secret.h"

/* RFC 7914 section 12: scrypt("pleaseletmein", "SodiumChloride", N=16384, r=8, p=1, 64). */
static const char rfc7914_encoded[] =
    "scrypt$14$8$1$U29kaXVtQ2hsb3JpZGU=$"
    "cCO9yzr9c0hGHAbNgf046/2o+7qQT44+qbVD9lRdofLVQylVYT8Pz2LUlwUkKpr55h6F3A1lHkDfzwF7RVdYhw==";

static int verify_str(const char *pw, const char *encoded)
{
    return irpd_pw_verify(pw, strlen(pw), encoded);
}

/* One hash shared by the tests that only need some valid encoding of "correct horse". */
static char shared_hash[IRPD_PW_ENCODED_MAX + 1];

static int group_setup(void **state)
{
    return irpd_pw_hash("correct horse", 13, shared_hash, sizeof shared_hash) == SC_OK ? 0 : -1;
}

/* ---- passwords ------------------------------------------------------------- */

static void test_known_answer(void **state)
{
    /* Our encoding and derivation are RFC 7914 scrypt, not something like it. */
    assert_int_equal(verify_str("pleaseletmein", rfc7914_encoded), IRPD_SECRET_OK);
    assert_int_equal(verify_str("pleaseletmeiN", rfc7914_encoded), IRPD_SECRET_MISMATCH);
    assert_int_equal(irpd_pw_needs_rehash(rfc7914_encoded), 1);
}

static void test_hash_format(void **state)
{
    const char *prefix = "scrypt$15$8$1$";
    const char *salt = shared_hash + strlen(prefix);
    const char *dollar = strchr(salt, '$');

    assert_memory_equal(shared_hash, prefix, strlen(prefix));
    assert_non_null(dollar);
    /* 16-byte salt and 32-byte hash in padded base64. */
    assert_int_equal(dollar - salt, 24);
    assert_int_equal(strlen(dollar + 1), 44);
    assert_true(strlen(shared_hash) <= IRPD_PW_ENCODED_MAX);
    assert_int_equal(irpd_pw_needs_rehash(shared_hash), 0);
}

static void test_round_trip(void **state)
{
    char other[IRPD_PW_ENCODED_MAX + 1];
    /* Passwords are bytes: an embedded NUL and non-ASCII count. */
    static const char binary[] = {'p', 0, 'w', (char)0xc3, (char)0xa9};

    assert_int_equal(verify_str("correct horse", shared_hash), IRPD_SECRET_OK);
    assert_int_equal(irpd_pw_hash(binary, sizeof binary, other, sizeof other), SC_OK);
    assert_int_equal(irpd_pw_verify(binary, sizeof binary, other), IRPD_SECRET_OK);
    assert_int_equal(irpd_pw_verify(binary, 1, other), IRPD_SECRET_MISMATCH);
    assert_int_equal(irpd_pw_verify("p", 1, other), IRPD_SECRET_MISMATCH);

    /* A fresh salt every time: the same password never gives the same encoding. */
    assert_int_equal(irpd_pw_hash("correct horse", 13, other, sizeof other), SC_OK);
    assert_string_not_equal(other, shared_hash);
    assert_int_equal(verify_str("correct horse", other), IRPD_SECRET_OK);
}

static void test_wrong_password(void **state)
{
    char longest[IRPD_PW_MAX + 2];

    assert_int_equal(verify_str("correct hors", shared_hash), IRPD_SECRET_MISMATCH);
    assert_int_equal(verify_str("correct horse ", shared_hash), IRPD_SECRET_MISMATCH);
    assert_int_equal(verify_str("Correct horse", shared_hash), IRPD_SECRET_MISMATCH);
    assert_int_equal(verify_str("", shared_hash), IRPD_SECRET_MISMATCH);
    assert_int_equal(irpd_pw_verify(NULL, 0, shared_hash), IRPD_SECRET_MISMATCH);
    memset(longest, 'x', sizeof longest);
    assert_int_equal(irpd_pw_verify(longest, IRPD_PW_MAX + 1, shared_hash), IRPD_SECRET_MISMATCH);
    /* No such user: the same work, and never a match. */
    assert_int_equal(verify_str("correct horse", NULL), IRPD_SECRET_MISMATCH);
    assert_int_equal(verify_str("", NULL), IRPD_SECRET_MISMATCH);
}

/* A copy of shared_hash with the character at off replaced by c. */
static void tamper(char *out, size_t off, char c)
{
    strcpy(out, shared_hash);
    out[off] = c;
}

static void test_tampered_encoding(void **state)
{
    char t[IRPD_PW_ENCODED_MAX + 64];
    size_t n = strlen(shared_hash);
    const char *salt = strchr(shared_hash + 14, '$') - 24;
    size_t salt_off = (size_t)(salt - shared_hash), hash_off = salt_off + 25;

    /* Still well-formed, different bytes: a clean mismatch. */
    tamper(t, hash_off + 3, shared_hash[hash_off + 3] == 'A' ? 'B' : 'A');
    assert_int_equal(verify_str("correct horse", t), IRPD_SECRET_MISMATCH);
    tamper(t, salt_off, shared_hash[salt_off] == 'A' ? 'B' : 'A');
    assert_int_equal(verify_str("correct horse", t), IRPD_SECRET_MISMATCH);
    /* Other (valid) parameters derive another key. */
    tamper(t, 8, '4');
    assert_int_equal(verify_str("correct horse", t), IRPD_SECRET_MISMATCH);

    /* Malformed: refused as corrupt, never a match, never a crash. */
    static const char *const bad[] = {
        "",
        "scrypt",
        "scrypt$15$8$1$",
        "scrypt$15$8$1$$",
        "bcrypt$15$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$15$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=$",
        "scrypt$015$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$+15$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$99$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$9$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$15$0$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$15$8$0$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$20$32$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$15$8$1$AAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$15$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",
        "scrypt$15$8$1$AAAAAAAAAAAAAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$15$8$1$AAAAAAAAAAAAAAAAAAAAAB==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$15$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!=",
        "scrypt$15$8$1$AAAAAAAAAAAAAAAAAAAAAA== $AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "SCRYPT$15$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (verify_str("correct horse", bad[i]) != SC_ERR_PARSE)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(irpd_pw_needs_rehash(bad[i]), 1);
    }

    /*
     * Truncated anywhere, or with anything appended: refused. (A truncated
     * hash is a prefix of the right one, since scrypt ends in PBKDF2: only
     * the 32-byte minimum stops it from matching.)
     */
    for (size_t cut = 0; cut < n; cut++) {
        memcpy(t, shared_hash, cut);
        t[cut] = '\0';
        int rc = verify_str("correct horse", t);
        if (rc != SC_ERR_PARSE) fail_msg("cut %zu: %d", cut, rc);
    }
    snprintf(t, sizeof t, "%sA", shared_hash);
    assert_int_equal(verify_str("correct horse", t), SC_ERR_PARSE);
    snprintf(t, sizeof t, "%s$", shared_hash);
    assert_int_equal(verify_str("correct horse", t), SC_ERR_PARSE);
    /* Over-long input is not even split. */
    char huge[IRPD_PW_ENCODED_MAX + 32];
    memset(huge, 'A', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    memcpy(huge, shared_hash, n);
    assert_int_equal(verify_str("correct horse", huge), SC_ERR_PARSE);
}

static void test_hash_arguments(void **state)
{
    char out[IRPD_PW_ENCODED_MAX + 1];
    char small[40];
    char longest[IRPD_PW_MAX + 1];

    assert_int_equal(irpd_pw_hash(NULL, 3, out, sizeof out), SC_ERR_ARG);
    assert_int_equal(irpd_pw_hash("", 0, out, sizeof out), SC_ERR_ARG);
    memset(longest, 'x', sizeof longest);
    assert_int_equal(irpd_pw_hash(longest, IRPD_PW_MAX + 1, out, sizeof out), SC_ERR_ARG);
    assert_int_equal(irpd_pw_hash("pw", 2, NULL, 0), SC_ERR_ARG);
    assert_int_equal(irpd_pw_hash("pw", 2, small, sizeof small), SC_ERR_TOO_LARGE);
    assert_string_equal(small, "");
}

/* ---- tokens ---------------------------------------------------------------- */

#define N_TOKENS 500

static void test_token_format(void **state)
{
    static char tokens[N_TOKENS][IRPD_TOKEN_LEN + 1];
    int saw_dash = 0, saw_underscore = 0;

    for (size_t i = 0; i < N_TOKENS; i++) {
        char *t = tokens[i];
        assert_int_equal(irpd_token_new(t), SC_OK);
        assert_int_equal(strlen(t), 22);
        assert_int_equal(strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789-_"),
                         22);
        assert_true(irpd_token_valid(t, strlen(t)));
        saw_dash |= strchr(t, '-') != NULL;
        saw_underscore |= strchr(t, '_') != NULL;
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(t, tokens[j]);
    }
    /* The URL-safe alphabet really is used (a chance failure needs ~1e-20). */
    assert_true(saw_dash && saw_underscore);
    assert_int_equal(irpd_token_new(NULL), SC_ERR_ARG);
}

static void test_token_valid(void **state)
{
    assert_true(irpd_token_valid("AAAAAAAAAAAAAAAAAAAAAA", 22));
    assert_true(irpd_token_valid("-_-_-_-_-_-_-_-_-_-_-w", 22));
    assert_false(irpd_token_valid("AAAAAAAAAAAAAAAAAAAAA", 21));
    assert_false(irpd_token_valid("AAAAAAAAAAAAAAAAAAAAAAA", 23));
    assert_false(irpd_token_valid("AAAAAAAAAAAAAAAAAAAA+A", 22));
    assert_false(irpd_token_valid("AAAAAAAAAAAAAAAAAAAA/A", 22));
    assert_false(irpd_token_valid("AAAAAAAAAAAAAAAAAAAA=A", 22));
    assert_false(irpd_token_valid("AAAAAAAAAAAAAAAAAAAA A", 22));
    /* The last symbol carries 2 of the 128 bits: its low 4 bits must be zero. */
    assert_false(irpd_token_valid("AAAAAAAAAAAAAAAAAAAAAB", 22));
    assert_true(irpd_token_valid("AAAAAAAAAAAAAAAAAAAAAQ", 22));
    assert_false(irpd_token_valid(NULL, 22));
    /* A NUL inside the length is not a token character. */
    assert_false(irpd_token_valid("AAAAAAAAAAAAAAAAAAAAA\0", 22));
}

static void test_token_hash(void **state)
{
    char t[IRPD_TOKEN_LEN + 1];
    uint8_t h[IRPD_TOKEN_HASH_LEN + 1], again[IRPD_TOKEN_HASH_LEN], expect[32], other[32];
    unsigned int len = 0;

    assert_int_equal(IRPD_TOKEN_HASH_LEN, 32);
    assert_int_equal(irpd_token_new(t), SC_OK);
    h[IRPD_TOKEN_HASH_LEN] = 0xa5; /* the hash writes exactly 32 bytes */
    assert_int_equal(irpd_token_hash(t, strlen(t), h), SC_OK);
    assert_int_equal(h[IRPD_TOKEN_HASH_LEN], 0xa5);
    assert_int_equal(EVP_Digest(t, strlen(t), expect, &len, EVP_sha256(), NULL), 1);
    assert_int_equal(len, 32);
    assert_memory_equal(h, expect, 32);
    assert_int_equal(irpd_token_hash(t, strlen(t), again), SC_OK);
    assert_memory_equal(h, again, 32);
    t[0] = t[0] == 'A' ? 'B' : 'A';
    assert_int_equal(irpd_token_hash(t, strlen(t), other), SC_OK);
    assert_memory_not_equal(h, other, 32);

    assert_int_equal(irpd_token_hash("short", 5, other), SC_ERR_PARSE);
    assert_int_equal(irpd_token_hash("AAAAAAAAAAAAAAAAAAAA+A", 22, other), SC_ERR_PARSE);
    assert_int_equal(irpd_token_hash(NULL, 22, other), SC_ERR_PARSE);
    assert_int_equal(irpd_token_hash(t, strlen(t), NULL), SC_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answer),      cmocka_unit_test(test_hash_format),
        cmocka_unit_test(test_round_trip),        cmocka_unit_test(test_wrong_password),
        cmocka_unit_test(test_tampered_encoding), cmocka_unit_test(test_hash_arguments),
        cmocka_unit_test(test_token_format),      cmocka_unit_test(test_token_valid),
        cmocka_unit_test(test_token_hash),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
