/*
 * test_base64.c - strict canonical base64 (src/core/sc_base64.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sc_base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* RFC 4648 section 10. */
static const struct {
    const char *plain;
    const char *enc;
} rfc_vectors[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

static long decode_str(const char *s, uint8_t *out, size_t cap)
{
    return sc_base64_decode(s, strlen(s), out, cap);
}

static void test_rfc4648_encode(void **state)
{
    for (size_t i = 0; i < sizeof(rfc_vectors) / sizeof(rfc_vectors[0]); i++) {
        sc_buf b;
        sc_buf_init(&b, 0);
        sc_base64_encode(&b, (const uint8_t *)rfc_vectors[i].plain, strlen(rfc_vectors[i].plain));
        assert_true(sc_buf_ok(&b));
        assert_int_equal(b.len, strlen(rfc_vectors[i].enc));
        if (b.len > 0) assert_memory_equal(b.data, rfc_vectors[i].enc, b.len);
        sc_buf_dispose(&b);
    }
}

static void test_rfc4648_decode(void **state)
{
    for (size_t i = 0; i < sizeof(rfc_vectors) / sizeof(rfc_vectors[0]); i++) {
        uint8_t out[16];
        size_t n = strlen(rfc_vectors[i].plain);
        assert_int_equal(decode_str(rfc_vectors[i].enc, out, sizeof(out)), (long)n);
        assert_memory_equal(out, rfc_vectors[i].plain, n);
        /* Exactly the decoded size is enough; one less is not. */
        assert_int_equal(decode_str(rfc_vectors[i].enc, out, n), (long)n);
        if (n > 0) assert_int_equal(decode_str(rfc_vectors[i].enc, out, n - 1), -1);
    }
}

static void test_decoded_max(void **state)
{
    assert_int_equal(sc_base64_decoded_max(0), 0);
    assert_int_equal(sc_base64_decoded_max(4), 3);
    assert_int_equal(sc_base64_decoded_max(44), 33);
    assert_true(sc_base64_decoded_max(1) == SIZE_MAX);
    assert_true(sc_base64_decoded_max(6) == SIZE_MAX);
    assert_true(sc_base64_decoded_max(43) == SIZE_MAX);
}

static void test_all_symbols_roundtrip(void **state)
{
    uint8_t out[48];
    /* Every symbol in every position of a full quantum. */
    assert_int_equal(decode_str(alphabet, out, sizeof(out)), 48);
    sc_buf b;
    sc_buf_init(&b, 0);
    sc_base64_encode(&b, out, 48);
    assert_int_equal(b.len, 64);
    assert_memory_equal(b.data, alphabet, 64);
    sc_buf_dispose(&b);
}

/* Every byte value at every position of a quantum: accepted exactly when in the alphabet. */
static void test_every_byte_value(void **state)
{
    for (int pos = 0; pos < 4; pos++) {
        for (int c = 0; c < 256; c++) {
            char s[4] = {'A', 'A', 'A', 'A'};
            uint8_t out[3];
            s[pos] = (char)c;
            long want = (c != 0 && strchr(alphabet, c) != NULL) ? 3 : -1;
            if (c == '=' && pos == 3) want = 2; /* "AAA=" is valid padding */
            assert_int_equal(sc_base64_decode(s, 4, out, sizeof(out)), want);
        }
    }
}

static void test_roundtrip_lengths(void **state)
{
    uint8_t in[200], out[200];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof(in); i++) {
        x = x * 1103515245u + 12345u;
        in[i] = (uint8_t)(x >> 16);
    }
    for (size_t n = 0; n <= sizeof(in); n++) {
        sc_buf b;
        sc_buf_init(&b, 0);
        sc_base64_encode(&b, in, n);
        assert_true(sc_buf_ok(&b));
        assert_int_equal(b.len, (n + 2) / 3 * 4);
        assert_int_equal(sc_base64_decode((const char *)b.data, b.len, out, sizeof(out)), (long)n);
        assert_memory_equal(out, in, n);
        sc_buf_dispose(&b);
    }
}

static void test_exhaustive_short(void **state)
{
    /* All 1- and 2-byte inputs round trip; every byte pattern meets every encoder branch. */
    for (unsigned v = 0; v < 65536; v++) {
        uint8_t in[2] = {(uint8_t)(v >> 8), (uint8_t)v}, out[3];
        for (size_t n = 1; n <= 2; n++) {
            if (n == 1 && (v & 0xff) != 0) continue;
            sc_buf b;
            sc_buf_init(&b, 0);
            sc_base64_encode(&b, in, n);
            assert_int_equal(sc_base64_decode((const char *)b.data, b.len, out, 3), (long)n);
            assert_memory_equal(out, in, n);
            sc_buf_dispose(&b);
        }
    }
}

static void test_reject_length(void **state)
{
    static const char *bad[] = {"Z", "Zg", "Zg=", "Zm9vY", "Zm9vYg", "Zm9vYg=", "Zm9vYmFy="};
    uint8_t out[16];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(decode_str(bad[i], out, sizeof(out)), -1);
}

static void test_reject_alphabet(void **state)
{
    /* The URL-safe alphabet, and bytes that look like symbols after a bad conversion. */
    static const char *bad[] = {
        "Zm-v",           "Zm_v",    "Zm9v\xc3\xa9Zm9", "Zm9.", "Zm9v\x80\x80\x80\x80",
        "Zm9v\xff\xff==", "Zm\x7f=", "Zm9v!!!!"};
    uint8_t out[16];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(decode_str(bad[i], out, sizeof(out)), -1);
    /* An embedded NUL counts as a byte of input, not as the end. */
    assert_int_equal(sc_base64_decode("Zm\0v", 4, out, sizeof(out)), -1);
}

static void test_reject_whitespace(void **state)
{
    static const char *bad[] = {"Zm9 ",         " Zm9",    "Zm9v\nZm9",
                                "Zm9v\r\nZm9v", "Zm\t9",   "Zm9vYg==\n\n\n\n",
                                "Zm8=    ",     "Zm9v    "};
    uint8_t out[16];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(decode_str(bad[i], out, sizeof(out)), -1);
}

static void test_reject_padding(void **state)
{
    static const char *bad[] = {
        "====",     "Z===",     "=Zm9",     "Z=m9",     "Zg=A", /* '=' not at the end */
        "Zg==Zm9v", "Zm8=Zm9v",                                 /* padding in the middle */
        "Zm9v====", "Zg==Zg==", "Zm9vZ===", "Zm==Zm==",
    };
    uint8_t out[16];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(decode_str(bad[i], out, sizeof(out)), -1);
    /* Padding left out is not tolerated either. */
    assert_int_equal(decode_str("Zg", out, sizeof(out)), -1);
    assert_int_equal(decode_str("Zm8", out, sizeof(out)), -1);
}

/* In "Z?==" only the top 2 bits of ? carry data, in "Zm?=" the top 4: the rest must be 0. */
static void test_reject_noncanonical_bits(void **state)
{
    uint8_t out[3];
    for (int v = 0; v < 64; v++) {
        char one[5] = {'Z', alphabet[v], '=', '=', 0};
        char two[5] = {'Z', 'm', alphabet[v], '=', 0};
        assert_int_equal(decode_str(one, out, sizeof(out)), (v & 15) == 0 ? 1 : -1);
        assert_int_equal(decode_str(two, out, sizeof(out)), (v & 3) == 0 ? 2 : -1);
    }
    assert_int_equal(decode_str("Zh==", out, sizeof(out)), -1);
    assert_int_equal(decode_str("Zm9=", out, sizeof(out)), -1);
    assert_int_equal(decode_str("Zm9vYh==", out, sizeof(out)), -1);
}

static void test_reject_no_room(void **state)
{
    uint8_t out[8];
    assert_int_equal(decode_str("Zm9vYmFy", out, 5), -1);
    assert_int_equal(decode_str("Zm9vYmE=", out, 4), -1);
    assert_int_equal(decode_str("Zm9vYmE=", out, 5), 5);
    assert_int_equal(decode_str("", NULL, 0), 0);
}

static void test_failed_output_not_leaked(void **state)
{
    /* A decode that fails late must not leave earlier quanta in the caller's buffer. */
    uint8_t out[6];
    memset(out, 0x55, sizeof(out));
    assert_int_equal(decode_str("Zm9vZm!v", out, sizeof(out)), -1);
    static const uint8_t zero[3] = {0};
    assert_memory_equal(out, zero, 3);
}

static void test_encode_into_failed_buffer(void **state)
{
    sc_buf b;
    sc_buf_init(&b, 7); /* "Zm9vYmFy" needs 8 */
    sc_base64_encode(&b, (const uint8_t *)"foobar", 6);
    assert_false(sc_buf_ok(&b));
    assert_int_equal(b.len, 0);
    sc_buf_dispose(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_encode),
        cmocka_unit_test(test_rfc4648_decode),
        cmocka_unit_test(test_decoded_max),
        cmocka_unit_test(test_all_symbols_roundtrip),
        cmocka_unit_test(test_every_byte_value),
        cmocka_unit_test(test_roundtrip_lengths),
        cmocka_unit_test(test_exhaustive_short),
        cmocka_unit_test(test_reject_length),
        cmocka_unit_test(test_reject_alphabet),
        cmocka_unit_test(test_reject_whitespace),
        cmocka_unit_test(test_reject_padding),
        cmocka_unit_test(test_reject_noncanonical_bits),
        cmocka_unit_test(test_reject_no_room),
        cmocka_unit_test(test_failed_output_not_leaked),
        cmocka_unit_test(test_encode_into_failed_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
