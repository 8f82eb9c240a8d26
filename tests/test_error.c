/*
 * test_error.c - sc_strerror and sc_alert_name (sc_error.c): every alert the
 * library can send has a name and two sentences that say who refused whom.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "sixchat/error.h"

static const int codes[] = {
    SC_ALERT_UNEXPECTED_MESSAGE,  SC_ALERT_BAD_RECORD_MAC,       SC_ALERT_RECORD_OVERFLOW,
    SC_ALERT_HANDSHAKE_FAILURE,   SC_ALERT_BAD_CERTIFICATE,      SC_ALERT_UNSUPPORTED_CERTIFICATE,
    SC_ALERT_CERTIFICATE_REVOKED, SC_ALERT_CERTIFICATE_EXPIRED,  SC_ALERT_CERTIFICATE_NOT_YET_VALID,
    SC_ALERT_ILLEGAL_PARAMETER,   SC_ALERT_UNKNOWN_CA,           SC_ALERT_ACCESS_DENIED,
    SC_ALERT_DECODE_ERROR,        SC_ALERT_DECRYPT_ERROR,        SC_ALERT_ISSUER_BLOCKED,
    SC_ALERT_IDENTITY_MISMATCH,   SC_ALERT_PROTOCOL_VERSION,     SC_ALERT_INTERNAL_ERROR,
    SC_ALERT_HANDSHAKE_TIMEOUT,   SC_ALERT_CERTIFICATE_REQUIRED,
};

static void test_every_alert_named_both_ways(void **st)
{
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        int c = codes[i];
        assert_string_not_equal(sc_alert_name(c), "unknown");
        const char *ours = sc_strerror(SC_ALERT_BASE + c),
                   *theirs = sc_strerror(SC_ERR_PEER_ALERT(c));
        assert_string_not_equal(ours, theirs);
        assert_true(SC_ERR_IS_ALERT(SC_ALERT_BASE + c));
        assert_true(SC_ERR_IS_PEER_ALERT(SC_ERR_PEER_ALERT(c)));
        assert_int_equal(SC_ERR_ALERT_CODE(SC_ERR_PEER_ALERT(c)), c);
    }
    assert_non_null(strstr(sc_strerror(SC_ERR_UNKNOWN_CA), "we rejected the peer"));
    assert_non_null(
        strstr(sc_strerror(SC_ERR_PEER_ALERT(SC_ALERT_UNKNOWN_CA)), "the peer rejected us"));
    assert_string_equal(sc_alert_name(SC_ALERT_BAD_RECORD_MAC), "bad_record_mac");
}

static void test_local_and_unknown(void **st)
{
    assert_string_equal(sc_strerror(SC_OK), "success");
    assert_non_null(strstr(sc_strerror(SC_ERR_TRUNCATED), "truncation"));
    assert_string_equal(sc_strerror(-999), "unknown error");
    assert_string_equal(sc_alert_name(200), "unknown");
    assert_non_null(strstr(sc_strerror(SC_ERR_PEER_ALERT(200)), "unknown alert"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_alert_named_both_ways),
        cmocka_unit_test(test_local_and_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
