/*
 * test_irpd_ratelimit.c - the rate limiters of docs/IRP.md 9: failure
 * counters (src/irpd/irpd_ratelimit.c) and token buckets
 * (src/irpd/irpd_bucket.c). Issue 7 finding 5: a counter cannot be evicted
 * by other keys, is refused rather than forgotten when the table is full,
 * and attempts in flight count before the next one is admitted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "irpd_bucket.h"
#include "irpd_ratelimit.h"

#define T0 1767225600

/* Counts n failures of key (each admitted, then settled as failed). */
static void fail_n(irpd_ratelimit *rl, const char *key, int n, int64_t now)
{
    for (int i = 0; i < n; i++) {
        assert_int_equal(irpd_rl_reserve(rl, key, now), 1);
        irpd_rl_settle(rl, key, now, 1);
    }
}

static void test_limit_and_window(void **state)
{
    irpd_ratelimit rl;

    (void)state;
    assert_int_equal(irpd_rl_init(&rl, 5, 900, 0), 0);
    fail_n(&rl, "ualice@example.org", 5, T0);
    assert_int_equal(irpd_rl_blocked(&rl, "ualice@example.org", T0), 1);
    assert_int_equal(irpd_rl_reserve(&rl, "ualice@example.org", T0 + 899), 0);
    /* a success gives its place back and counts nothing */
    assert_int_equal(irpd_rl_reserve(&rl, "ubob@example.org", T0), 1);
    irpd_rl_settle(&rl, "ubob@example.org", T0, 0);
    assert_int_equal(irpd_rl_count(&rl, "ubob@example.org", T0), 0);
    /* the window passes: admitted again, counting from zero */
    assert_int_equal(irpd_rl_reserve(&rl, "ualice@example.org", T0 + 900), 1);
    irpd_rl_settle(&rl, "ualice@example.org", T0 + 900, 1);
    assert_int_equal(irpd_rl_count(&rl, "ualice@example.org", T0 + 900), 1);
    irpd_rl_free(&rl);
}

/* Attempts in flight hold places: N concurrent ones get only the failures left. */
static void test_in_flight_counted(void **state)
{
    irpd_ratelimit rl;
    int admitted = 0;

    (void)state;
    assert_int_equal(irpd_rl_init(&rl, 5, 900, 0), 0);
    fail_n(&rl, "ucarol@example.org", 2, T0);
    for (int i = 0; i < 30; i++)
        admitted += irpd_rl_reserve(&rl, "ucarol@example.org", T0);
    assert_int_equal(admitted, 3);
    for (int i = 0; i < 3; i++)
        irpd_rl_settle(&rl, "ucarol@example.org", T0, 1);
    assert_int_equal(irpd_rl_count(&rl, "ucarol@example.org", T0), 5);
    assert_int_equal(irpd_rl_reserve(&rl, "ucarol@example.org", T0), 0);
    irpd_rl_free(&rl);
}

/* Finding 5: no number of other keys makes a live counter forget. */
static void test_no_eviction(void **state)
{
    irpd_ratelimit rl;
    char key[64];
    int refused = 0;

    (void)state;
    assert_int_equal(irpd_rl_init(&rl, 5, 900, 1000), 0);
    fail_n(&rl, "ueve@example.org", 5, T0);
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "um%d@example.org", i);
        if (irpd_rl_reserve(&rl, key, T0 + 1))
            irpd_rl_settle(&rl, key, T0 + 1, 1);
        else
            refused++;
    }
    /* the table holds 1000 live keys: the rest were refused, none forgotten */
    assert_int_equal(refused, 5000 - 999);
    assert_int_equal(irpd_rl_blocked(&rl, "ueve@example.org", T0 + 1), 1);
    assert_int_equal(irpd_rl_reserve(&rl, "ueve@example.org", T0 + 1), 0);
    /* once their windows passed, the dead make room again */
    assert_int_equal(irpd_rl_reserve(&rl, "unew@example.org", T0 + 902), 1);
    irpd_rl_settle(&rl, "unew@example.org", T0 + 902, 0);
    irpd_rl_free(&rl);
}

/* An attempt in flight keeps its key alive past its window. */
static void test_held_not_dropped(void **state)
{
    irpd_ratelimit rl;
    char key[64];

    (void)state;
    assert_int_equal(irpd_rl_init(&rl, 1, 10, 100), 0);
    assert_int_equal(irpd_rl_reserve(&rl, "uslow@example.org", T0), 1);
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "uo%d@example.org", i);
        if (irpd_rl_reserve(&rl, key, T0 + 20 + i)) irpd_rl_settle(&rl, key, T0 + 20 + i, 0);
    }
    irpd_rl_settle(&rl, "uslow@example.org", T0 + 2000, 1);
    assert_int_equal(irpd_rl_blocked(&rl, "uslow@example.org", T0 + 2000), 1);
    irpd_rl_free(&rl);
}

static void test_fail_without_hold(void **state)
{
    irpd_ratelimit rl;

    (void)state;
    assert_int_equal(irpd_rl_init(&rl, 3, 100, 0), 0);
    assert_int_equal(irpd_rl_fail(&rl, "tabc", T0), 1);
    assert_int_equal(irpd_rl_fail(&rl, "tabc", T0), 2);
    assert_int_equal(irpd_rl_fail(&rl, "tabc", T0), 3);
    assert_int_equal(irpd_rl_reserve(&rl, "tabc", T0), 0);
    irpd_rl_free(&rl);
}

static void test_keys(void **state)
{
    char k[IRPD_RL_KEY_MAX];
    irp_addr a;

    (void)state;
    irpd_rl_user_key("Alice@Example.ORG", k);
    assert_string_equal(k, "ualice@example.org");
    assert_int_equal(irp_addr_parse("2001:db8:1:2:3:4:5:6", 20, &a), 0);
    irpd_rl_addr_key(&a, k);
    assert_string_equal(k, "a2001:db8:1:2::");
    assert_int_equal(irp_addr_parse("192.0.2.7", 9, &a), 0);
    irpd_rl_addr_key(&a, k);
    assert_string_equal(k, "a192.0.2.7");
}

static void test_buckets(void **state)
{
    irpd_buckets b;
    int got = 0;

    (void)state;
    assert_int_equal(irpd_buckets_init(&b, 1.0, 10.0), 0);
    for (int i = 0; i < 20; i++)
        got += irpd_buckets_take(&b, "ux", 1000);
    assert_int_equal(got, 10); /* the burst */
    assert_int_equal(irpd_buckets_take(&b, "ux", 1999), 0);
    assert_int_equal(irpd_buckets_take(&b, "ux", 2000), 1); /* one per second */
    assert_int_equal(irpd_buckets_take(&b, "uy", 2000), 1); /* keys are separate */
    irpd_buckets_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limit_and_window),  cmocka_unit_test(test_in_flight_counted),
        cmocka_unit_test(test_no_eviction),       cmocka_unit_test(test_held_not_dropped),
        cmocka_unit_test(test_fail_without_hold), cmocka_unit_test(test_keys),
        cmocka_unit_test(test_buckets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
