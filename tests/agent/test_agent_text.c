/*
 * test_agent_text.c - agent_text: the UTF-8 decoder (RFC 3629) from a
 * table of valid and invalid sequences, and a peer's text made safe for a
 * terminal: C0 (CR included), DEL, C1 (U+009B is CSI) and bidirectional
 * controls shown as "\uXXXX", invalid UTF-8 as U+FFFD, LF and TAB kept
 * only in message text, everything else unchanged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agent_text.h"

static void test_utf8_next(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t len;  /* bytes given */
        size_t want; /* 0: not a character */
        uint32_t cp; /* when want > 0 */
    } t[] = {
        {"a", 1, 1, 'a'},
        {"\xc3\xa9", 2, 2, 0xE9},
        {"\xc2\x9b", 2, 2, 0x9B},
        {"\xe2\x80\xae", 3, 3, 0x202E},
        {"\xf0\x9f\x98\x80", 4, 4, 0x1F600},
        {"\xf4\x8f\xbf\xbf", 4, 4, 0x10FFFF},
        {"\x80", 1, 0, 0},             /* a continuation byte alone */
        {"\xc0\xaf", 2, 0, 0},         /* overlong '/' */
        {"\xc1\xbf", 2, 0, 0},         /* overlong */
        {"\xe0\x80\xaf", 3, 0, 0},     /* overlong */
        {"\xf0\x80\x80\xaf", 4, 0, 0}, /* overlong */
        {"\xed\xa0\x80", 3, 0, 0},     /* a surrogate */
        {"\xf4\x90\x80\x80", 4, 0, 0}, /* beyond U+10FFFF */
        {"\xf5\x80\x80\x80", 4, 0, 0}, /* F5 never leads */
        {"\xff", 1, 0, 0},
        {"\xe2\x80\xae", 2, 0, 0}, /* cut by the length */
        {"\xe2\x41\xae", 3, 0, 0}, /* not a continuation */
        {"", 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        uint32_t cp = 0xdead;
        size_t n = agent_utf8_next(t[i].s, t[i].len, &cp);
        assert_int_equal(n, t[i].want);
        if (n) assert_int_equal(cp, t[i].cp);
    }
}

static void test_unsafe_set(void **state)
{
    (void)state;
    static const uint32_t bad[] = {0,      '\t',   '\n',   '\r',   0x1B,   0x7F,   0x80,
                                   0x9B,   0x9F,   0x061C, 0x200E, 0x200F, 0x202A, 0x202B,
                                   0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069};
    static const uint32_t good[] = {' ', 'a', '~', 0xA0, 0xE9, 0x200D, 0x2029, 0x2070, 0x1F600};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_true(agent_text_unsafe_cp(bad[i]));
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_false(agent_text_unsafe_cp(good[i]));
}

static void check(const char *in, size_t len, unsigned flags, const char *want)
{
    char *got = agent_text_display(in, len, flags);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_display(void **state)
{
    (void)state;
    /* A peer's CSI "clear screen", CR over the line, and U+202E: all visible. */
    const char hostile[] = "hi\xc2\x9b"
                           "2J\rfake\xe2\x80\xaetxt.exe\x1b[31m";
    check(hostile, strlen(hostile), AGENT_TEXT_LINES,
          "hi\\u009B2J\\u000Dfake\\u202Etxt.exe\\u001B[31m");
    /* Lines and tabs stay in message text only. */
    check("a\nb\tc", 5, AGENT_TEXT_LINES, "a\nb\tc");
    check("a\nb\tc", 5, 0, "a\\u000Ab\\u0009c");
    /* Ordinary text of any script is unchanged. */
    check("caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80", 14, 0,
          "caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80");
    /* Invalid UTF-8: one U+FFFD per byte that starts no character. */
    check("a\xff"
          "b\xc0\xaf"
          "c\xe2\x80",
          8, 0,
          "a\xef\xbf\xbd"
          "b\xef\xbf\xbd\xef\xbf\xbd"
          "c\xef\xbf\xbd\xef\xbf\xbd");
    /* A NUL inside the string is shown, not a place to stop. */
    check("a\0b", 3, 0, "a\\u0000b");
    check("", 0, 0, "");
}

/* What comes out holds no C0 but LF/TAB, no C1, no bidi control, and is valid UTF-8. */
static void test_display_output_is_safe(void **state)
{
    (void)state;
    unsigned char in[512];
    uint32_t x = 12345;
    for (int round = 0; round < 2000; round++) {
        for (size_t i = 0; i < sizeof(in); i++) {
            x = x * 1103515245u + 12345u;
            in[i] = (unsigned char)(x >> 16);
            /* Plenty of the interesting leads: C2 (C1 controls), E2 80 (bidi). */
            if ((x >> 8) % 7 == 0) in[i] = 0xC2;
            if ((x >> 8) % 11 == 0) in[i] = 0xE2;
            if ((x >> 8) % 13 == 0) in[i] = 0x80;
        }
        char *out = agent_text_display((const char *)in, sizeof(in), AGENT_TEXT_LINES);
        assert_non_null(out);
        size_t len = strlen(out);
        for (size_t i = 0; i < len;) {
            uint32_t cp;
            size_t n = agent_utf8_next(out + i, len - i, &cp);
            assert_true(n > 0);
            if (cp != '\n' && cp != '\t') assert_false(agent_text_unsafe_cp(cp));
            i += n;
        }
        free(out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_next),
        cmocka_unit_test(test_unsafe_set),
        cmocka_unit_test(test_display),
        cmocka_unit_test(test_display_output_is_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
