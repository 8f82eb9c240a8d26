/*
 * test_buf.c - the growable writer and the bounded reader (src/core/sc_buf.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sc_buf.h"

static void test_put_integers_big_endian(void **state)
{
    sc_buf b;
    sc_buf_init(&b, 0);
    sc_buf_put_u8(&b, 0x01);
    sc_buf_put_u16(&b, 0x0203);
    sc_buf_put_u24(&b, 0x040506);
    sc_buf_put_u32(&b, 0x0708090a);
    sc_buf_put_u64(&b, 0x0b0c0d0e0f101112ull);
    sc_buf_put_str(&b, "xy");
    sc_buf_put(&b, NULL, 0);
    static const uint8_t want[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,   10,
                                   11, 12, 13, 14, 15, 16, 17, 18, 'x', 'y'};
    assert_true(sc_buf_ok(&b));
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.data, want, sizeof(want));
    sc_buf_dispose(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
}

static void test_growth_keeps_content(void **state)
{
    sc_buf b;
    sc_buf_init(&b, 0);
    for (unsigned i = 0; i < 10000; i++)
        sc_buf_put_u8(&b, (uint8_t)(i * 7));
    assert_true(sc_buf_ok(&b));
    assert_int_equal(b.len, 10000);
    assert_true(b.cap >= b.len);
    for (unsigned i = 0; i < 10000; i++)
        assert_int_equal(b.data[i], (uint8_t)(i * 7));
    sc_buf_dispose(&b);
}

static void test_limit_exact_fits(void **state)
{
    sc_buf b;
    sc_buf_init(&b, 10);
    sc_buf_put(&b, "0123456789", 10);
    assert_true(sc_buf_ok(&b));
    assert_int_equal(b.len, 10);
    assert_true(b.cap <= 10); /* never holds more than the limit */
    sc_buf_dispose(&b);
    assert_int_equal(b.limit, 10); /* reusable with the same limit */
}

static void test_limit_exceeded_is_sticky(void **state)
{
    sc_buf b;
    sc_buf_init(&b, 10);
    sc_buf_put(&b, "01234", 5);
    sc_buf_put(&b, "567890", 6); /* one past the limit */
    assert_false(sc_buf_ok(&b));
    assert_int_equal(b.len, 5); /* the failed append wrote nothing */
    sc_buf_put_u8(&b, 'x');     /* would fit, but the failure is sticky */
    assert_false(sc_buf_ok(&b));
    assert_int_equal(b.len, 5);
    assert_int_equal(sc_buf_reserve(&b, 1), -1);
    sc_buf_reset(&b); /* a new message clears the failure */
    assert_true(sc_buf_ok(&b));
    sc_buf_put_u8(&b, 'x');
    assert_true(sc_buf_ok(&b));
    assert_int_equal(b.len, 1);
    sc_buf_dispose(&b);
}

static void test_reserve_overflow_fails(void **state)
{
    sc_buf b;
    sc_buf_init(&b, 0);
    sc_buf_put_u8(&b, 1);
    assert_int_equal(sc_buf_reserve(&b, SIZE_MAX), -1);
    assert_false(sc_buf_ok(&b));
    sc_buf_dispose(&b);

    /* Past the limit fails before allocating anything. */
    sc_buf_init(&b, 100);
    assert_int_equal(sc_buf_reserve(&b, 101), -1);
    assert_null(b.data);
    assert_false(sc_buf_ok(&b));
    sc_buf_put_u8(&b, 1);
    assert_int_equal(b.len, 0);
    sc_buf_dispose(&b); /* dispose makes it usable again */
    assert_true(sc_buf_ok(&b));
    assert_int_equal(sc_buf_reserve(&b, 100), 0);
    sc_buf_dispose(&b);
}

static void test_reserve_then_no_realloc(void **state)
{
    sc_buf b;
    sc_buf_init(&b, 0);
    assert_int_equal(sc_buf_reserve(&b, 1000), 0);
    uint8_t *p = b.data;
    for (int i = 0; i < 1000; i++)
        sc_buf_put_u8(&b, 0xaa);
    assert_ptr_equal(b.data, p);
    sc_buf_dispose(&b);
}

static void test_consume_moves_and_wipes(void **state)
{
    sc_buf b;
    sc_buf_init(&b, 0);
    sc_buf_put_str(&b, "abcdefgh");
    sc_buf_consume(&b, 3);
    assert_int_equal(b.len, 5);
    assert_memory_equal(b.data, "defgh", 5);
    /* The freed tail no longer holds the old bytes. */
    static const uint8_t zero[3] = {0};
    assert_memory_equal(b.data + 5, zero, 3);
    sc_buf_consume(&b, 0);
    assert_int_equal(b.len, 5);
    sc_buf_consume(&b, 5);
    assert_int_equal(b.len, 0);
    sc_buf_put_str(&b, "ab");
    sc_buf_consume(&b, 99); /* more than there is: empties */
    assert_int_equal(b.len, 0);
    assert_memory_equal(b.data, zero, 2);
    sc_buf_dispose(&b);
}

static void test_reset_wipes_keeps_storage(void **state)
{
    sc_buf b;
    sc_buf_init(&b, 0);
    sc_buf_put_str(&b, "secret");
    uint8_t *p = b.data;
    size_t cap = b.cap;
    sc_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_ptr_equal(b.data, p);
    assert_int_equal(b.cap, cap);
    static const uint8_t zero[6] = {0};
    assert_memory_equal(b.data, zero, 6);
    sc_buf_dispose(&b);
    sc_buf_reset(&b); /* on an empty buffer: harmless */
    sc_buf_consume(&b, 1);
    assert_int_equal(b.len, 0);
}

static void test_reader_integers(void **state)
{
    static const uint8_t in[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,   10,
                                 11, 12, 13, 14, 15, 16, 17, 18, 'x', 'y'};
    sc_rd r;
    uint8_t u8;
    uint16_t u16;
    uint32_t u24, u32;
    uint64_t u64;
    const uint8_t *p;
    sc_rd_init(&r, in, sizeof(in));
    assert_true(sc_rd_u8(&r, &u8));
    assert_true(sc_rd_u16(&r, &u16));
    assert_true(sc_rd_u24(&r, &u24));
    assert_true(sc_rd_u32(&r, &u32));
    assert_true(sc_rd_u64(&r, &u64));
    assert_int_equal(u8, 1);
    assert_int_equal(u16, 0x0203);
    assert_int_equal(u24, 0x040506);
    assert_int_equal(u32, 0x0708090a);
    assert_true(u64 == 0x0b0c0d0e0f101112ull);
    assert_int_equal(sc_rd_left(&r), 2);
    assert_true(sc_rd_bytes(&r, 2, &p));
    assert_memory_equal(p, "xy", 2);
    assert_int_equal(sc_rd_left(&r), 0);
    assert_true(sc_rd_bytes(&r, 0, &p)); /* zero bytes at the end is fine */
    assert_false(r.failed);
}

/* Each read width one byte short of what it needs: fails, reports 0, consumes nothing. */
static void test_reader_short_reads_fail(void **state)
{
    static const uint8_t in[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    sc_rd r;
    uint8_t u8 = 9;
    uint16_t u16 = 9;
    uint32_t u32 = 9;
    uint64_t u64 = 9;
    const uint8_t *p = in;

    sc_rd_init(&r, in, 0);
    assert_false(sc_rd_u8(&r, &u8));
    assert_int_equal(u8, 0);
    sc_rd_init(&r, in, 1);
    assert_false(sc_rd_u16(&r, &u16));
    assert_int_equal(u16, 0);
    sc_rd_init(&r, in, 2);
    assert_false(sc_rd_u24(&r, &u32));
    assert_int_equal(u32, 0);
    sc_rd_init(&r, in, 3);
    assert_false(sc_rd_u32(&r, &u32));
    sc_rd_init(&r, in, 7);
    assert_false(sc_rd_u64(&r, &u64));
    assert_true(u64 == 0);
    assert_int_equal(r.off, 0);
    assert_true(r.failed);
    sc_rd_init(&r, in, 8);
    assert_false(sc_rd_bytes(&r, 9, &p));
    assert_null(p);
    assert_int_equal(sc_rd_left(&r), 8);
}

static void test_reader_failure_is_sticky(void **state)
{
    static const uint8_t in[] = {1, 2, 3};
    sc_rd r;
    uint8_t u8;
    uint32_t u32;
    sc_rd_init(&r, in, sizeof(in));
    assert_false(sc_rd_u32(&r, &u32));
    /* Enough bytes remain for a u8, but a failed reader stays failed. */
    assert_false(sc_rd_u8(&r, &u8));
    assert_int_equal(sc_rd_left(&r), 3);
}

static void test_reader_huge_length(void **state)
{
    static const uint8_t in[4] = {0};
    sc_rd r;
    const uint8_t *p;
    sc_rd_init(&r, in, sizeof(in));
    assert_true(sc_rd_bytes(&r, 2, &p));
    /* n near SIZE_MAX must not wrap the bound check. */
    assert_false(sc_rd_bytes(&r, SIZE_MAX, &p));
    assert_false(sc_rd_bytes(&r, SIZE_MAX - 1, &p));
}

static void test_reader_empty_null(void **state)
{
    sc_rd r;
    const uint8_t *p;
    uint8_t u8;
    sc_rd_init(&r, NULL, 0);
    assert_int_equal(sc_rd_left(&r), 0);
    assert_true(sc_rd_bytes(&r, 0, &p));
    assert_false(sc_rd_u8(&r, &u8));
}

static void test_store_load_u24(void **state)
{
    uint8_t t[3];
    sc_store_u24(t, 0xabcdef);
    assert_int_equal(t[0], 0xab);
    assert_int_equal(t[1], 0xcd);
    assert_int_equal(t[2], 0xef);
    assert_int_equal(sc_load_u24(t), 0xabcdef);
    sc_store_u24(t, 0x1ffffff); /* only 24 bits are stored */
    assert_int_equal(sc_load_u24(t), 0xffffff);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_integers_big_endian),
        cmocka_unit_test(test_growth_keeps_content),
        cmocka_unit_test(test_limit_exact_fits),
        cmocka_unit_test(test_limit_exceeded_is_sticky),
        cmocka_unit_test(test_reserve_overflow_fails),
        cmocka_unit_test(test_reserve_then_no_realloc),
        cmocka_unit_test(test_consume_moves_and_wipes),
        cmocka_unit_test(test_reset_wipes_keeps_storage),
        cmocka_unit_test(test_reader_integers),
        cmocka_unit_test(test_reader_short_reads_fail),
        cmocka_unit_test(test_reader_failure_is_sticky),
        cmocka_unit_test(test_reader_huge_length),
        cmocka_unit_test(test_reader_empty_null),
        cmocka_unit_test(test_store_load_u24),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
