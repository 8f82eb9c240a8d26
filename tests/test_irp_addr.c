/*
 * test_irp_addr.c - IP literals in IRP messages (src/irp/irp_addr.c,
 * docs/IRP.md 4.2 and 6.7): parsing to the canonical text, the IPv4-mapped
 * form, refusals, and the class of each range, including IPv6 addresses
 * that embed an IPv4 address (issue 7 F9: ::127.0.0.1, 64:ff9b::7f00:1 and
 * 2002:7f00:1::1 counted as global, and so did fec0::/10).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "irp_addr.h"
#include "sixchat/error.h"

typedef struct addr_case {
    const char *text;
    const char *canonical;
    irp_addr_class cls;
} addr_case;

static void check_cases(const addr_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        irp_addr a;
        char text[IRP_ADDR_STRLEN];
        assert_int_equal(irp_addr_parse(cases[i].text, strlen(cases[i].text), &a), 0);
        if (irp_addr_classify(&a) != cases[i].cls)
            fail_msg("%s: class %s, expected %s", cases[i].text,
                     irp_addr_class_name(irp_addr_classify(&a)), irp_addr_class_name(cases[i].cls));
        assert_non_null(irp_addr_class_name(cases[i].cls));
        assert_int_equal(irp_addr_format(&a, text), SC_OK);
        assert_string_equal(text, cases[i].canonical);
    }
}

static void test_plain_ranges(void **state)
{
    static const addr_case cases[] = {
        {"192.0.2.1", "192.0.2.1", IRP_ADDR_GLOBAL},
        {"2001:DB8:0:0:0:0:0:1", "2001:db8::1", IRP_ADDR_GLOBAL},
        {"10.0.0.1", "10.0.0.1", IRP_ADDR_PRIVATE},
        {"172.16.0.1", "172.16.0.1", IRP_ADDR_PRIVATE},
        {"172.31.255.255", "172.31.255.255", IRP_ADDR_PRIVATE},
        {"172.32.0.1", "172.32.0.1", IRP_ADDR_GLOBAL},
        {"192.168.1.1", "192.168.1.1", IRP_ADDR_PRIVATE},
        {"100.64.0.1", "100.64.0.1", IRP_ADDR_SHARED},
        {"100.128.0.1", "100.128.0.1", IRP_ADDR_GLOBAL},
        {"fd12:3456::1", "fd12:3456::1", IRP_ADDR_ULA},
        {"fc00::1", "fc00::1", IRP_ADDR_ULA},
        {"127.0.0.1", "127.0.0.1", IRP_ADDR_LOOPBACK},
        {"::1", "::1", IRP_ADDR_LOOPBACK},
        {"::ffff:127.0.0.1", "127.0.0.1", IRP_ADDR_LOOPBACK},
        {"169.254.3.4", "169.254.3.4", IRP_ADDR_LINK_LOCAL},
        {"fe80::1", "fe80::1", IRP_ADDR_LINK_LOCAL},
        {"febf::1", "febf::1", IRP_ADDR_LINK_LOCAL},
        {"0.0.0.0", "0.0.0.0", IRP_ADDR_UNSPECIFIED},
        {"::", "::", IRP_ADDR_UNSPECIFIED},
        {"224.0.0.1", "224.0.0.1", IRP_ADDR_MULTICAST},
        {"ff02::1", "ff02::1", IRP_ADDR_MULTICAST},
        {"255.255.255.255", "255.255.255.255", IRP_ADDR_RESERVED},
        {"240.0.0.1", "240.0.0.1", IRP_ADDR_RESERVED},
    };
    check_cases(cases, sizeof cases / sizeof *cases);
}

/* Failed before the fix: every address here was classified global. */
static void test_embedded_ipv4(void **state)
{
    static const addr_case cases[] = {
        /* IPv4-compatible (RFC 4291 2.5.5.1, deprecated) */
        {"::127.0.0.1", "::127.0.0.1", IRP_ADDR_LOOPBACK},
        {"::10.1.2.3", "::10.1.2.3", IRP_ADDR_PRIVATE},
        {"::192.0.2.1", "::192.0.2.1", IRP_ADDR_RESERVED},
        {"::2", "::2", IRP_ADDR_UNSPECIFIED}, /* 0.0.0.2 is in 0/8 */
        /* NAT64 well-known prefix 64:ff9b::/96 (RFC 6052 2.1) */
        {"64:ff9b::7f00:1", "64:ff9b::7f00:1", IRP_ADDR_LOOPBACK},
        {"64:ff9b::127.0.0.1", "64:ff9b::7f00:1", IRP_ADDR_LOOPBACK},
        {"64:ff9b::a9fe:1", "64:ff9b::a9fe:1", IRP_ADDR_LINK_LOCAL},
        {"64:ff9b::e000:1", "64:ff9b::e000:1", IRP_ADDR_MULTICAST},
        {"64:ff9b::c000:201", "64:ff9b::c000:201", IRP_ADDR_GLOBAL},
        /* 6to4 2002::/16 (RFC 3056 2) */
        {"2002:7f00:1::1", "2002:7f00:1::1", IRP_ADDR_LOOPBACK},
        {"2002:0:1::1", "2002:0:1::1", IRP_ADDR_UNSPECIFIED},
        {"2002:ffff:ffff::1", "2002:ffff:ffff::1", IRP_ADDR_RESERVED},
        {"2002:c000:201::1", "2002:c000:201::1", IRP_ADDR_GLOBAL},
        /* Teredo 2001::/32 (RFC 4380 4): the client's address, inverted, at the end */
        {"2001:0:c000:201::80ff:fffe", "2001:0:c000:201::80ff:fffe", IRP_ADDR_LOOPBACK},
        {"2001:0:c000:201::3fff:fdfe", "2001:0:c000:201::3fff:fdfe", IRP_ADDR_GLOBAL},
        /* IPv4-translated ::ffff:0:a.b.c.d (RFC 2765 2.1) */
        {"::ffff:0:127.0.0.1", "::ffff:0:7f00:1", IRP_ADDR_LOOPBACK},
    };
    check_cases(cases, sizeof cases / sizeof *cases);
}

/* Failed before the fix: fec0::/10 was classified global. */
static void test_site_local(void **state)
{
    static const addr_case cases[] = {
        {"fec0::1", "fec0::1", IRP_ADDR_RESERVED},
        {"feff:ffff::1", "feff:ffff::1", IRP_ADDR_RESERVED},
        {"fe80::1", "fe80::1", IRP_ADDR_LINK_LOCAL},
        {"febf:ffff::1", "febf:ffff::1", IRP_ADDR_LINK_LOCAL},
    };
    check_cases(cases, sizeof cases / sizeof *cases);
}

static void test_set_equal_refusals(void **state)
{
    irp_addr a, b;
    static const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 9};
    static const uint8_t v4[4] = {192, 0, 2, 9};
    assert_int_equal(irp_addr_set(&a, 6, mapped), SC_OK);
    assert_int_equal(a.family, 4);
    assert_int_equal(irp_addr_set(&b, 4, v4), SC_OK);
    assert_true(irp_addr_equal(&a, &b));
    assert_int_equal(irp_addr_parse("192.0.2.10", 10, &b), 0);
    assert_false(irp_addr_equal(&a, &b));
    assert_int_equal(irp_addr_set(&a, 5, mapped), SC_ERR_ARG);
    assert_int_equal(irp_addr_parse("1.2.3.4\0", 8, &a), IRP_INVALID);
    assert_int_equal(irp_addr_parse("", 0, &a), IRP_INVALID);
    assert_int_equal(irp_addr_parse("fe80::1%eth0", 12, &a), IRP_INVALID);
    assert_int_equal(irp_addr_parse("[::1]", 5, &a), IRP_INVALID);
    assert_int_equal(irp_addr_parse("example.org", 11, &a), IRP_INVALID);
    assert_int_equal(irp_addr_parse("0000:0000:0000:0000:0000:ffff:255.255.255.255x", 46, &a),
                     IRP_INVALID);
    a.family = 5;
    char text[IRP_ADDR_STRLEN];
    assert_int_equal(irp_addr_format(&a, text), SC_ERR_ARG);
    assert_string_equal(text, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_ranges),
        cmocka_unit_test(test_embedded_ipv4),
        cmocka_unit_test(test_site_local),
        cmocka_unit_test(test_set_equal_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
