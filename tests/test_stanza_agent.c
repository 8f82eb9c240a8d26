/*
 * test_stanza_agent.c - the stanzas the user agent added (docs/PROTOCOL.md
 * 10.2): typing, read, file-reject, device and msg-reject. Each is written and parsed
 * back to the same fields and the exact bytes of 10.2; each field rule is
 * refused on both paths (writer: SC_ERR_ARG with nothing written, parser:
 * SC_ERR_DECODE_ERROR); unknown attributes are ignored (10.1); and the
 * five travel through a real pair of sessions as XML stanzas.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "sixchat/error.h"
#include "sc_compact.h"
#include "sc_pair.h"
#include "sc_stanza_codec.h"
#include "sc_testcert.h"
#include "sc_testpki.h"
#include "sc_xml.h"

#define NOW_MS ((uint64_t)SC_TESTCERT_NOW * 1000)

/* ---- helpers ------------------------------------------------------------ */

static int parse_n(const void *xml, size_t len, sc_stanza *st, sc_xml_doc **doc)
{
    *doc = NULL;
    int ret = sc_xml_parse(xml, len, doc);
    if (ret != SC_OK) return ret;
    return sc_stanza_parse(sc_xml_root(*doc), st);
}

static int parse_str(const char *xml, sc_stanza *st, sc_xml_doc **doc)
{
    return parse_n(xml, strlen(xml), st, doc);
}

static int parse_err(const char *xml)
{
    sc_stanza st;
    sc_xml_doc *doc;
    int ret = parse_str(xml, &st, &doc);
    sc_xml_free(doc);
    return ret;
}

/* The writer refuses st with SC_ERR_ARG and leaves the buffer empty. */
static void write_refused(const sc_stanza *st)
{
    sc_buf b;
    sc_buf_init(&b, 0);
    assert_int_equal(sc_stanza_write(&b, st), SC_ERR_ARG);
    assert_int_equal(b.len, 0);
    sc_buf_dispose(&b);
}

/*
 * Writes in, checks the exact document, parses it back into *out (borrowing
 * *doc, which the caller frees with b).
 */
static void round_trip(const sc_stanza *in, const char *want, sc_stanza *out, sc_xml_doc **doc,
                       sc_buf *b)
{
    sc_buf_init(b, 0);
    assert_int_equal(sc_stanza_write(b, in), SC_OK);
    assert_int_equal(b->len, strlen(want));
    assert_memory_equal(b->data, want, b->len);
    assert_int_equal(parse_str(want, out, doc), SC_OK);
    assert_int_equal(out->type, in->type);
}

static void done(sc_xml_doc *doc, sc_buf *b)
{
    sc_xml_free(doc);
    sc_buf_dispose(b);
}

/* ---- typing ------------------------------------------------------------- */

static void test_typing_round_trip(void **state)
{
    (void)state;
    sc_stanza in = {.type = SC_STANZA_TYPING, .typing = SC_TYPING_ON}, out;
    sc_xml_doc *doc;
    sc_buf b;
    round_trip(&in, "<typing state=\"on\"/>", &out, &doc, &b);
    assert_int_equal(out.typing, SC_TYPING_ON);
    assert_null(out.id);
    done(doc, &b);

    in.typing = SC_TYPING_OFF;
    in.id = "ignored"; /* typing has no id: not written (10.2) */
    round_trip(&in, "<typing state=\"off\"/>", &out, &doc, &b);
    assert_int_equal(out.typing, SC_TYPING_OFF);
    assert_null(out.id);
    done(doc, &b);
}

static void test_typing_ignores_id_and_unknown_attributes(void **state)
{
    (void)state;
    sc_stanza out;
    sc_xml_doc *doc;
    /* An id, even one that would be invalid elsewhere, is just an unknown attribute here. */
    assert_int_equal(parse_str("<typing id=\"not valid!\" state=\"on\" mood=\"x\"/>", &out, &doc),
                     SC_OK);
    assert_int_equal(out.type, SC_STANZA_TYPING);
    assert_int_equal(out.typing, SC_TYPING_ON);
    assert_null(out.id);
    sc_xml_free(doc);
}

static void test_typing_refusals(void **state)
{
    (void)state;
    static const char *bad[] = {
        "<typing/>",
        "<typing state=\"\"/>",
        "<typing state=\"ON\"/>",
        "<typing state=\"1\"/>",
        "<typing state=\"on \"/>",
        "<typing state=\"of\"/>",
        "<typing state=\"offf\"/>",
        "<typing state=\"on\">text</typing>",
        "<typing state=\"on\"><x/></typing>",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(parse_err(bad[i]), SC_ERR_DECODE_ERROR);
    sc_stanza st = {.type = SC_STANZA_TYPING, .typing = (sc_typing_state)2};
    write_refused(&st);
    st.typing = (sc_typing_state)-1;
    write_refused(&st);
}

/* ---- read --------------------------------------------------------------- */

static void test_read_round_trip(void **state)
{
    (void)state;
    sc_stanza in = {.type = SC_STANZA_READ, .id = "m-41.x_Y", .ts = 1767225600123u}, out;
    sc_xml_doc *doc;
    sc_buf b;
    round_trip(&in, "<read id=\"m-41.x_Y\" ts=\"1767225600123\"/>", &out, &doc, &b);
    assert_string_equal(out.id, "m-41.x_Y");
    assert_true(out.ts == 1767225600123u);
    done(doc, &b);
    in.ts = UINT64_MAX;
    round_trip(&in, "<read id=\"m-41.x_Y\" ts=\"18446744073709551615\"/>", &out, &doc, &b);
    assert_true(out.ts == UINT64_MAX);
    done(doc, &b);
}

static void test_read_refusals(void **state)
{
    (void)state;
    static const char *bad[] = {
        "<read id=\"m\"/>",                             /* ts is required */
        "<read ts=\"1\"/>",                             /* id is required */
        "<read id=\"\" ts=\"1\"/>",                     /* empty id */
        "<read id=\"a b\" ts=\"1\"/>",                  /* id alphabet */
        "<read id=\"m\" ts=\"01\"/>",                   /* leading zero */
        "<read id=\"m\" ts=\"-1\"/>",                   /* sign */
        "<read id=\"m\" ts=\"18446744073709551616\"/>", /* over 2^64-1 */
        "<read id=\"m\" ts=\"1\">x</read>",             /* text */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(parse_err(bad[i]), SC_ERR_DECODE_ERROR);
    sc_stanza st = {.type = SC_STANZA_READ, .id = NULL, .ts = 1};
    write_refused(&st);
    st.id = "a/b";
    write_refused(&st);
}

/* Read markers are rare next to messages: they stay XML, outside the compact form (10.4). */
static void test_read_is_not_compact(void **state)
{
    (void)state;
    sc_stanza st = {.type = SC_STANZA_READ, .id = "m", .ts = 1};
    assert_false(sc_compact_carries(&st));
    st.type = SC_STANZA_TYPING;
    assert_false(sc_compact_carries(&st));
}

/* ---- file-reject -------------------------------------------------------- */

static void test_file_reject_round_trip(void **state)
{
    (void)state;
    sc_stanza in = {.type = SC_STANZA_FILE_REJECT, .id = "f1"}, out;
    sc_xml_doc *doc;
    sc_buf b;
    /* No reason: no attribute, and none parsed back. */
    round_trip(&in, "<file-reject id=\"f1\"/>", &out, &doc, &b);
    assert_string_equal(out.id, "f1");
    assert_null(out.reason);
    done(doc, &b);

    in.reason = "too \"big\" <&> for me, d\xc3\xa9sol\xc3\xa9";
    round_trip(&in,
               "<file-reject id=\"f1\" reason=\"too &quot;big&quot; &lt;&amp;&gt; for me, "
               "d\xc3\xa9sol\xc3\xa9\"/>",
               &out, &doc, &b);
    assert_string_equal(out.reason, in.reason);
    done(doc, &b);

    in.reason = ""; /* present but empty: written and read back as such */
    round_trip(&in, "<file-reject id=\"f1\" reason=\"\"/>", &out, &doc, &b);
    assert_non_null(out.reason);
    assert_string_equal(out.reason, "");
    done(doc, &b);
}

static void test_file_reject_reason_limit(void **state)
{
    (void)state;
    char reason[SC_STANZA_REASON_MAX + 8];
    memset(reason, 'r', SC_STANZA_REASON_MAX);
    reason[SC_STANZA_REASON_MAX] = '\0';
    sc_stanza in = {.type = SC_STANZA_FILE_REJECT, .id = "f", .reason = reason}, out;
    sc_xml_doc *doc;
    sc_buf b;
    sc_buf_init(&b, 0);
    assert_int_equal(sc_stanza_write(&b, &in), SC_OK);
    assert_int_equal(parse_n(b.data, b.len, &out, &doc), SC_OK);
    assert_int_equal(strlen(out.reason), SC_STANZA_REASON_MAX);
    done(doc, &b);

    /* One byte more: refused on both paths. */
    reason[SC_STANZA_REASON_MAX] = 'r';
    reason[SC_STANZA_REASON_MAX + 1] = '\0';
    write_refused(&in);
    char xml[SC_STANZA_REASON_MAX + 64];
    snprintf(xml, sizeof xml, "<file-reject id=\"f\" reason=\"%s\"/>", reason);
    assert_int_equal(parse_err(xml), SC_ERR_DECODE_ERROR);

    /* The limit counts bytes, not characters: 128 two-byte characters fit, 129 do not. */
    for (int i = 0; i < 129; i++)
        memcpy(reason + 2 * i, "\xc3\xa9", 2);
    reason[256] = '\0';
    in.reason = reason;
    sc_buf_init(&b, 0);
    assert_int_equal(sc_stanza_write(&b, &in), SC_OK);
    sc_buf_dispose(&b);
    reason[256] = '\xc3';
    reason[258] = '\0';
    write_refused(&in);
}

static void test_file_reject_refusals(void **state)
{
    (void)state;
    static const char *bad[] = {
        "<file-reject/>",                               /* id is required */
        "<file-reject id=\"a:b\"/>",                    /* id alphabet */
        "<file-reject id=\"f\" reason=\"a&#9;b\"/>",    /* TAB: one line only */
        "<file-reject id=\"f\" reason=\"a&#10;b\"/>",   /* LF */
        "<file-reject id=\"f\" reason=\"a&#13;b\"/>",   /* CR */
        "<file-reject id=\"f\" reason=\"del&#127;\"/>", /* DEL */
        "<file-reject id=\"f\" reason=\"x\">text</file-reject>",
        "<file-reject id=\"f\"><reason>x</reason></file-reject>",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(parse_err(bad[i]), SC_ERR_DECODE_ERROR);
    static const char *bad_reason[] = {
        "tab\there",    "new\nline", "cr\r", "bell\x07", "del\x7f", "\xff", /* not UTF-8 */
        "\xc0\xaf",                                                         /* overlong */
        "\xed\xa0\x80",                                                     /* surrogate */
        "\xef\xbf\xbf",                                                     /* U+FFFF */
    };
    for (size_t i = 0; i < sizeof bad_reason / sizeof bad_reason[0]; i++) {
        sc_stanza st = {.type = SC_STANZA_FILE_REJECT, .id = "f", .reason = bad_reason[i]};
        write_refused(&st);
    }
    sc_stanza st = {.type = SC_STANZA_FILE_REJECT, .id = "", .reason = "ok"};
    write_refused(&st);
}

/* ---- device ------------------------------------------------------------- */

static void test_device_round_trip(void **state)
{
    (void)state;
    char id[SC_STANZA_ID_MAX + 2];
    memset(id, 'd', SC_STANZA_ID_MAX);
    id[SC_STANZA_ID_MAX] = '\0';
    sc_stanza in = {.type = SC_STANZA_DEVICE, .id = "laptop-2.home_A"}, out;
    sc_xml_doc *doc;
    sc_buf b;
    round_trip(&in, "<device id=\"laptop-2.home_A\"/>", &out, &doc, &b);
    assert_string_equal(out.id, "laptop-2.home_A");
    done(doc, &b);

    in.id = id; /* the longest IRP device id */
    sc_buf_init(&b, 0);
    assert_int_equal(sc_stanza_write(&b, &in), SC_OK);
    assert_int_equal(parse_n(b.data, b.len, &out, &doc), SC_OK);
    assert_string_equal(out.id, id);
    done(doc, &b);

    /* Unknown attributes are ignored (10.1). */
    assert_int_equal(parse_str("<device name=\"Bob's phone\" id=\"phone\"/>", &out, &doc), SC_OK);
    assert_int_equal(out.type, SC_STANZA_DEVICE);
    assert_string_equal(out.id, "phone");
    sc_xml_free(doc);
}

static void test_device_refusals(void **state)
{
    (void)state;
    char xml[2 * SC_STANZA_ID_MAX];
    char id[SC_STANZA_ID_MAX + 2];
    memset(id, 'd', SC_STANZA_ID_MAX + 1);
    id[SC_STANZA_ID_MAX + 1] = '\0';
    snprintf(xml, sizeof xml, "<device id=\"%s\"/>", id);
    static const char *bad[] = {
        "<device/>",
        "<device id=\"\"/>",
        "<device id=\"my laptop\"/>",
        "<device id=\"caf\xc3\xa9\"/>",
        "<device id=\"d\">text</device>",
        "<device id=\"d\"><x/></device>",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(parse_err(bad[i]), SC_ERR_DECODE_ERROR);
    assert_int_equal(parse_err(xml), SC_ERR_DECODE_ERROR); /* 65 bytes */
    sc_stanza st = {.type = SC_STANZA_DEVICE, .id = id};
    write_refused(&st);
    st.id = NULL;
    write_refused(&st);
    st.id = "a/b";
    write_refused(&st);
}

/* ---- msg-reject ---------------------------------------------------------- */

static void test_msg_reject_round_trip(void **state)
{
    (void)state;
    sc_stanza in = {.type = SC_STANZA_MSG_REJECT, .id = "9f2c01"}, out;
    sc_xml_doc *doc;
    sc_buf b;
    round_trip(&in, "<msg-reject id=\"9f2c01\"/>", &out, &doc, &b);
    assert_int_equal(out.type, SC_STANZA_MSG_REJECT);
    assert_string_equal(out.id, "9f2c01");
    assert_null(out.reason);
    done(doc, &b);

    in.reason = "not stored: you are not a contact & <over> the limit";
    round_trip(&in,
               "<msg-reject id=\"9f2c01\" reason=\"not stored: you are not a contact &amp; "
               "&lt;over&gt; the limit\"/>",
               &out, &doc, &b);
    assert_string_equal(out.reason, in.reason);
    done(doc, &b);
    /* Not a message: never in the compact form (10.4). */
    assert_false(sc_compact_carries(&in));
}

static void test_msg_reject_refusals(void **state)
{
    (void)state;
    static const char *bad[] = {
        "<msg-reject/>",                             /* id is required */
        "<msg-reject id=\"a b\"/>",                  /* id alphabet */
        "<msg-reject id=\"m\" reason=\"a&#13;b\"/>", /* CR: one line only */
        "<msg-reject id=\"m\" reason=\"a&#10;b\"/>", /* LF */
        "<msg-reject id=\"m\">text</msg-reject>",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(parse_err(bad[i]), SC_ERR_DECODE_ERROR);
    char reason[SC_STANZA_REASON_MAX + 2];
    memset(reason, 'r', SC_STANZA_REASON_MAX + 1);
    reason[SC_STANZA_REASON_MAX + 1] = '\0';
    sc_stanza st = {.type = SC_STANZA_MSG_REJECT, .id = "m", .reason = reason};
    write_refused(&st);
    st.reason = "tab\there";
    write_refused(&st);
    st.reason = NULL;
    st.id = "";
    write_refused(&st);
}

/* ---- through a pair of sessions ------------------------------------------ */

/* The five arrive as stanza events, in order, and a refused one leaves the session up. */
static void test_new_stanzas_between_sessions(void **state)
{
    (void)state;
    static sc_test_rng rng_i = {.seed = 11}, rng_r = {.seed = 12};
    sc_testpki k;
    sc_pair p;
    sc_testpki_make_types(&k, SC_TESTKEY_P256, SC_TESTKEY_ED25519);
    sc_pair_init(&p, sc_party_config(k.alice_chain, k.alice_key, k.root_pem, &rng_i),
                 sc_party_config(k.bob_chain, k.bob_key, k.root_pem, &rng_r), NOW_MS);
    assert_true(sc_pair_handshake(&p));

    /* Both sides say which device they are first (10.2). */
    sc_stanza dev_a = {.type = SC_STANZA_DEVICE, .id = "alice-laptop"};
    sc_stanza dev_b = {.type = SC_STANZA_DEVICE, .id = "bob-phone"};
    assert_int_equal(sc_session_send_stanza(p.i.s, &dev_a), SC_OK);
    assert_int_equal(sc_session_send_stanza(p.r.s, &dev_b), SC_OK);
    sc_pair_pump(&p);
    assert_int_equal(p.r.n_stanzas, 1);
    assert_int_equal(p.r.stanza_type[0], SC_STANZA_DEVICE);
    assert_string_equal(p.r.stanza_id[0], "alice-laptop");
    assert_int_equal(p.i.n_stanzas, 1);
    assert_int_equal(p.i.stanza_type[0], SC_STANZA_DEVICE);
    assert_string_equal(p.i.stanza_id[0], "bob-phone");

    sc_stanza typing = {.type = SC_STANZA_TYPING, .typing = SC_TYPING_ON};
    sc_stanza read = {.type = SC_STANZA_READ, .id = "m7", .ts = NOW_MS};
    sc_stanza reject = {.type = SC_STANZA_FILE_REJECT, .id = "f3", .reason = "declined"};
    sc_stanza mreject = {.type = SC_STANZA_MSG_REJECT, .id = "m9", .reason = "over the limit"};
    assert_int_equal(sc_session_send_stanza(p.i.s, &typing), SC_OK);
    assert_int_equal(sc_session_send_stanza(p.i.s, &read), SC_OK);
    assert_int_equal(sc_session_send_stanza(p.i.s, &reject), SC_OK);
    assert_int_equal(sc_session_send_stanza(p.i.s, &mreject), SC_OK);
    /* A bad one is the caller's error; the session goes on. */
    sc_stanza bad = {.type = SC_STANZA_FILE_REJECT, .id = "f3", .reason = "two\nlines"};
    assert_int_equal(sc_session_send_stanza(p.i.s, &bad), SC_ERR_ARG);
    sc_pair_pump(&p);
    assert_int_equal(p.r.n_stanzas, 5);
    assert_int_equal(p.r.stanza_type[1], SC_STANZA_TYPING);
    assert_string_equal(p.r.stanza_id[1], ""); /* no id */
    assert_int_equal(p.r.stanza_type[2], SC_STANZA_READ);
    assert_string_equal(p.r.stanza_id[2], "m7");
    assert_int_equal(p.r.stanza_type[3], SC_STANZA_FILE_REJECT);
    assert_string_equal(p.r.stanza_id[3], "f3");
    assert_int_equal(p.r.stanza_type[4], SC_STANZA_MSG_REJECT);
    assert_string_equal(p.r.stanza_id[4], "m9");
    assert_int_equal(p.i.errors + p.r.errors, 0);
    sc_pair_free(&p);
    sc_testpki_free(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_typing_round_trip),
        cmocka_unit_test(test_typing_ignores_id_and_unknown_attributes),
        cmocka_unit_test(test_typing_refusals),
        cmocka_unit_test(test_read_round_trip),
        cmocka_unit_test(test_read_refusals),
        cmocka_unit_test(test_read_is_not_compact),
        cmocka_unit_test(test_file_reject_round_trip),
        cmocka_unit_test(test_file_reject_reason_limit),
        cmocka_unit_test(test_file_reject_refusals),
        cmocka_unit_test(test_device_round_trip),
        cmocka_unit_test(test_device_refusals),
        cmocka_unit_test(test_msg_reject_round_trip),
        cmocka_unit_test(test_msg_reject_refusals),
        cmocka_unit_test(test_new_stanzas_between_sessions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
