/*
 * test_stanza.c - application stanzas as schemas (sc_stanza_codec.c,
 * docs/PROTOCOL.md 10): every type written and parsed back, and
 * each field rule refused on both paths (writer: SC_ERR_ARG, parser:
 * SC_ERR_DECODE_ERROR); the compact form of msg and receipt (sc_compact.c,
 * 10.4) likewise.
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
#include "sc_stanza_codec.h"
#include "sc_xml.h"

/* ---- helpers ------------------------------------------------------------ */

/* Parses an XML string as a stanza; *doc (freed by the caller) owns what st points to. */
static int parse_str(const char *xml, size_t len, sc_stanza *st, sc_xml_doc **doc)
{
    *doc = NULL;
    int ret = sc_xml_parse((const uint8_t *)xml, len, doc);
    if (ret != SC_OK) return ret;
    return sc_stanza_parse(sc_xml_root(*doc), st);
}

static int parse_err(const char *xml)
{
    sc_stanza st;
    sc_xml_doc *doc;
    int ret = parse_str(xml, strlen(xml), &st, &doc);
    sc_xml_free(doc);
    return ret;
}

/* Writes in, parses it back into *out; the caller frees *doc and b. */
static void round_trip(const sc_stanza *in, sc_stanza *out, sc_xml_doc **doc, sc_buf *b)
{
    sc_buf_init(b, 0);
    assert_int_equal(sc_stanza_write(b, in), SC_OK);
    assert_int_equal(parse_str((const char *)b->data, b->len, out, doc), SC_OK);
    assert_int_equal(out->type, in->type);
    assert_string_equal(out->id, in->id);
}

static void done(sc_xml_doc *doc, sc_buf *b)
{
    sc_xml_free(doc);
    sc_buf_dispose(b);
}

static int write_err(const sc_stanza *st)
{
    sc_buf b;
    sc_buf_init(&b, 0);
    int ret = sc_stanza_write(&b, st);
    if (ret == SC_ERR_ARG) assert_int_equal(b.len, 0); /* a refusal appends nothing */
    sc_buf_dispose(&b);
    return ret;
}

static void digest_pattern(uint8_t d[32])
{
    for (int i = 0; i < 32; i++)
        d[i] = (uint8_t)(i * 37 + 0xa5);
}

/* ---- round trips -------------------------------------------------------- */

static void msg_round_trip(const char *text, size_t len, uint64_t ts)
{
    sc_stanza in = {.type = SC_STANZA_MSG,
                    .id = "msg-1.a_B",
                    .ts = ts,
                    .text = text,
                    .text_len = len},
              out;
    sc_xml_doc *doc;
    sc_buf b;
    round_trip(&in, &out, &doc, &b);
    assert_int_equal(out.ts, ts);
    assert_int_equal(out.text_len, len);
    if (len) assert_memory_equal(out.text, text, len);
    done(doc, &b);
}

static void test_msg_round_trip(void **st)
{
    const char *t = "hello <b>&amp;</b> \"q\" 'a' > \xc3\xa9\xe2\x9c\x93 \xf0\x9f\x98\x80";
    msg_round_trip(t, strlen(t), 1767225600123u);
    msg_round_trip("line\r\nbreak\ttab\rcr\n", 19, 0); /* CR survives: written as &#13; */
    msg_round_trip("", 0, UINT64_MAX);
    msg_round_trip("   ", 3, 1);
}

static void test_msg_text_limit(void **st)
{
    char *t = malloc(SC_STANZA_TEXT_MAX + 1);
    assert_non_null(t);
    memset(t, 'x', SC_STANZA_TEXT_MAX + 1);
    msg_round_trip(t, SC_STANZA_TEXT_MAX, 7);
    sc_stanza in = {
        .type = SC_STANZA_MSG, .id = "m", .text = t, .text_len = SC_STANZA_TEXT_MAX + 1};
    assert_int_equal(write_err(&in), SC_ERR_ARG);
    /* A peer's over-long text is refused too. */
    char *doc = malloc(SC_STANZA_TEXT_MAX + 64);
    assert_non_null(doc);
    int n = snprintf(doc, SC_STANZA_TEXT_MAX + 64, "<msg id=\"m\" ts=\"1\">%.*s</msg>",
                     SC_STANZA_TEXT_MAX + 1, t);
    assert_true(n > SC_STANZA_TEXT_MAX);
    assert_int_equal(parse_err(doc), SC_ERR_DECODE_ERROR);
    free(doc);
    free(t);
}

static void test_receipt_round_trip(void **st)
{
    sc_stanza in = {.type = SC_STANZA_RECEIPT, .id = "m1", .ts = 18446744073709551615u}, out;
    sc_xml_doc *doc;
    sc_buf b;
    round_trip(&in, &out, &doc, &b);
    assert_int_equal(out.ts, UINT64_MAX);
    done(doc, &b);
}

static void test_ping_pong_round_trip(void **st)
{
    sc_stanza in = {.type = SC_STANZA_PING, .id = "k"}, out;
    sc_xml_doc *doc;
    sc_buf b;
    round_trip(&in, &out, &doc, &b);
    assert_int_equal(b.len, strlen("<ping id=\"k\"/>"));
    assert_memory_equal(b.data, "<ping id=\"k\"/>", b.len);
    done(doc, &b);
    in.type = SC_STANZA_PONG;
    round_trip(&in, &out, &doc, &b);
    done(doc, &b);
}

static void test_file_offer_round_trip(void **st)
{
    sc_stanza in = {.type = SC_STANZA_FILE_OFFER,
                    .id = "f1",
                    .name = "r\xc3\xa9sum\xc3\xa9 v2 (final) & co.pdf",
                    .size = UINT64_MAX},
              out;
    sc_xml_doc *doc;
    sc_buf b;
    digest_pattern(in.sha256);
    round_trip(&in, &out, &doc, &b);
    assert_string_equal(out.name, in.name);
    assert_int_equal(out.size, UINT64_MAX);
    assert_memory_equal(out.sha256, in.sha256, 32);
    done(doc, &b);
    in.name = "...a..b";
    in.size = 0;
    round_trip(&in, &out, &doc, &b);
    assert_string_equal(out.name, "...a..b");
    assert_int_equal(out.size, 0);
    done(doc, &b);
}

static void test_file_accept_round_trip(void **st)
{
    sc_stanza in = {.type = SC_STANZA_FILE_ACCEPT, .id = "f1", .offset = 16373}, out;
    sc_xml_doc *doc;
    sc_buf b;
    round_trip(&in, &out, &doc, &b);
    assert_int_equal(out.offset, 16373);
    done(doc, &b);
}

static void test_file_done_round_trip(void **st)
{
    sc_stanza in = {.type = SC_STANZA_FILE_DONE, .id = "f1"}, out;
    sc_xml_doc *doc;
    sc_buf b;
    digest_pattern(in.sha256);
    round_trip(&in, &out, &doc, &b);
    assert_memory_equal(out.sha256, in.sha256, 32);
    done(doc, &b);
}

/* Hand-written documents from another implementation: attribute order is free. */
static void test_parse_foreign_forms(void **st)
{
    sc_stanza s;
    sc_xml_doc *doc;
    const char *x = "<msg ts=\"42\" id=\"z\" extra=\"ignored\">hi &#x263A;</msg>";
    assert_int_equal(parse_str(x, strlen(x), &s, &doc), SC_OK);
    assert_int_equal(s.type, SC_STANZA_MSG);
    assert_int_equal(s.ts, 42);
    assert_int_equal(s.text_len, 6);
    assert_memory_equal(s.text, "hi \xe2\x98\xba", 6);
    sc_xml_free(doc);
    x = "<file-accept offset='0' id='Z-9'/>";
    assert_int_equal(parse_str(x, strlen(x), &s, &doc), SC_OK);
    assert_int_equal(s.type, SC_STANZA_FILE_ACCEPT);
    assert_int_equal(s.offset, 0);
    sc_xml_free(doc);
}

/* ---- rejections: id ----------------------------------------------------- */

static void test_bad_ids(void **st)
{
    char id64[65], doc[128];
    memset(id64, 'a', 64);
    id64[64] = '\0';
    snprintf(doc, sizeof doc, "<ping id=\"%s\"/>", id64);
    assert_int_equal(parse_err(doc), SC_OK);
    snprintf(doc, sizeof doc, "<ping id=\"%sa\"/>", id64);
    assert_int_equal(parse_err(doc), SC_ERR_DECODE_ERROR);
    static const char *bad[] = {
        "<ping/>",
        "<ping id=\"\"/>",
        "<ping id=\"a b\"/>",
        "<ping id=\"a/b\"/>",
        "<ping id=\"a:b\"/>",
        "<ping id=\"&#xe9;\"/>",
        "<ping id=\"a&#9;\"/>",
        "<receipt id=\"a+\" ts=\"1\"/>",
        "<pong id=\"x@y\"/>",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(parse_err(bad[i]), SC_ERR_DECODE_ERROR);

    sc_stanza s = {.type = SC_STANZA_PING, .id = "a b"};
    assert_int_equal(write_err(&s), SC_ERR_ARG);
    s.id = "";
    assert_int_equal(write_err(&s), SC_ERR_ARG);
    s.id = NULL;
    assert_int_equal(write_err(&s), SC_ERR_ARG);
    s.id = id64;
    assert_int_equal(write_err(&s), SC_OK);
    char id65[66];
    memset(id65, 'b', 65);
    id65[65] = '\0';
    s.id = id65;
    assert_int_equal(write_err(&s), SC_ERR_ARG);
    assert_false(sc_stanza_valid_id("a\0b", 3));
    assert_true(sc_stanza_valid_id("a.b_c-D9", 8));
}

/* ---- rejections: numbers ------------------------------------------------ */

static void test_bad_ts(void **st)
{
    static const char *bad[] = {
        "0123",
        "00",
        "18446744073709551616",
        "99999999999999999999",
        "100000000000000000000",
        "-1",
        "+1",
        "1.0",
        "1e3",
        "0x10",
        "",
        " 1",
        "1 ",
        "&#49;&#x20;",
    };
    char doc[128];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(doc, sizeof doc, "<receipt id=\"r\" ts=\"%s\"/>", bad[i]);
        assert_int_equal(parse_err(doc), SC_ERR_DECODE_ERROR);
        snprintf(doc, sizeof doc, "<msg id=\"r\" ts=\"%s\">x</msg>", bad[i]);
        assert_int_equal(parse_err(doc), SC_ERR_DECODE_ERROR);
    }
    assert_int_equal(parse_err("<receipt id=\"r\"/>"), SC_ERR_DECODE_ERROR);
    assert_int_equal(parse_err("<msg id=\"r\">x</msg>"), SC_ERR_DECODE_ERROR);
    assert_int_equal(parse_err("<receipt id=\"r\" ts=\"0\"/>"), SC_OK);
    assert_int_equal(parse_err("<receipt id=\"r\" ts=\"18446744073709551615\"/>"), SC_OK);
}

static void test_bad_size_and_offset(void **st)
{
    const char *h = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    char doc[256];
    snprintf(doc, sizeof doc, "<file-offer id=\"f\" name=\"n\" size=\"01\" sha256=\"%s\"/>", h);
    assert_int_equal(parse_err(doc), SC_ERR_DECODE_ERROR);
    snprintf(doc, sizeof doc, "<file-offer id=\"f\" name=\"n\" sha256=\"%s\"/>", h);
    assert_int_equal(parse_err(doc), SC_ERR_DECODE_ERROR);
    snprintf(doc, sizeof doc, "<file-offer id=\"f\" name=\"n\" size=\"1\" sha256=\"%s\"/>", h);
    assert_int_equal(parse_err(doc), SC_OK);
    assert_int_equal(parse_err("<file-accept id=\"f\" offset=\"-0\"/>"), SC_ERR_DECODE_ERROR);
    assert_int_equal(parse_err("<file-accept id=\"f\"/>"), SC_ERR_DECODE_ERROR);
    assert_int_equal(parse_err("<file-accept id=\"f\" offset=\"18446744073709551616\"/>"),
                     SC_ERR_DECODE_ERROR);
}

/* ---- rejections: sha256 ------------------------------------------------- */

static void test_bad_sha256(void **st)
{
    static const char *bad[] = {
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  /* uppercase */
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaA",  /* one upper */
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",   /* 63 */
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 65 */
        "gaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",  /* not hex */
        " aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",  /* space */
        "",
    };
    char doc[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(doc, sizeof doc, "<file-done id=\"f\" sha256=\"%s\"/>", bad[i]);
        assert_int_equal(parse_err(doc), SC_ERR_DECODE_ERROR);
        snprintf(doc, sizeof doc, "<file-offer id=\"f\" name=\"n\" size=\"1\" sha256=\"%s\"/>",
                 bad[i]);
        assert_int_equal(parse_err(doc), SC_ERR_DECODE_ERROR);
    }
    assert_int_equal(parse_err("<file-done id=\"f\"/>"), SC_ERR_DECODE_ERROR);
    assert_int_equal(
        parse_err("<file-done id=\"f\" "
                  "sha256=\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"/>"),
        SC_OK);
}

/* ---- rejections: file names --------------------------------------------- */

static void test_bad_file_names(void **st)
{
    static const char *bad_xml[] = {
        "a/b",   "/etc/passwd", "..",      ".",     "",        "a\\b",
        "..\\x", "a&#9;b",      "a&#10;b", "&#13;", "x&#127;",
    };
    const char *h = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    char doc[512];
    for (size_t i = 0; i < sizeof bad_xml / sizeof bad_xml[0]; i++) {
        snprintf(doc, sizeof doc, "<file-offer id=\"f\" name=\"%s\" size=\"1\" sha256=\"%s\"/>",
                 bad_xml[i], h);
        assert_int_equal(parse_err(doc), SC_ERR_DECODE_ERROR);
    }
    snprintf(doc, sizeof doc, "<file-offer id=\"f\" size=\"1\" sha256=\"%s\"/>", h);
    assert_int_equal(parse_err(doc), SC_ERR_DECODE_ERROR);
    char n256[257];
    memset(n256, 'n', 256);
    n256[256] = '\0';
    snprintf(doc, sizeof doc, "<file-offer id=\"f\" name=\"%.255s\" size=\"1\" sha256=\"%s\"/>",
             n256, h);
    assert_int_equal(parse_err(doc), SC_OK);
    snprintf(doc, sizeof doc, "<file-offer id=\"f\" name=\"%s\" size=\"1\" sha256=\"%s\"/>", n256,
             h);
    assert_int_equal(parse_err(doc), SC_ERR_DECODE_ERROR);

    const char *bad_write[] = {
        "a/b", "..", ".", "", "a\\b", "tab\there", "nl\n", "\x01", "del\x7f", n256,
    };
    sc_stanza s = {.type = SC_STANZA_FILE_OFFER, .id = "f", .size = 1};
    for (size_t i = 0; i < sizeof bad_write / sizeof bad_write[0]; i++) {
        s.name = bad_write[i];
        assert_int_equal(write_err(&s), SC_ERR_ARG);
    }
    s.name = NULL;
    assert_int_equal(write_err(&s), SC_ERR_ARG);
}

/* ---- rejections: structure ---------------------------------------------- */

static void test_bad_structure(void **st)
{
    static const char *bad[] = {
        "<ping id=\"a\">text</ping>",
        "<pong id=\"a\"><x/></pong>",
        "<msg id=\"a\" ts=\"1\"><b>bold</b></msg>",
        "<receipt id=\"a\" ts=\"1\">x</receipt>",
        "<file-done id=\"f\" "
        "sha256=\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\">x</file-done>",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(parse_err(bad[i]), SC_ERR_DECODE_ERROR);
}

/* Text the XML profile cannot carry must be refused by the writer, not by the peer. */
static void test_write_refuses_text_xml_cannot_carry(void **st)
{
    static const char *bad[] = {
        "bell\x07",         /* control character */
        "nul\0x",           /* NUL */
        "\xff",             /* not UTF-8 */
        "\xc3",             /* truncated sequence */
        "\xc0\xaf",         /* overlong '/' */
        "\xed\xa0\x80",     /* surrogate */
        "\xef\xbf\xbe",     /* U+FFFE, not an XML Char */
        "\xf4\x90\x80\x80", /* over U+10FFFF */
    };
    static const size_t len[] = {5, 5, 1, 1, 2, 3, 3, 4};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sc_stanza m = {.type = SC_STANZA_MSG, .id = "m", .text = bad[i], .text_len = len[i]};
        assert_int_equal(write_err(&m), SC_ERR_ARG);
        sc_stanza f = {.type = SC_STANZA_FILE_OFFER, .id = "f", .name = bad[i], .size = 1};
        if (strlen(bad[i]) == len[i]) assert_int_equal(write_err(&f), SC_ERR_ARG);
    }
    sc_stanza ok = {.type = SC_STANZA_MSG, .id = "m", .text = "\xf4\x8f\xbf\xbd", .text_len = 4};
    assert_int_equal(write_err(&ok), SC_OK); /* U+10FFFD is fine */
}

static void test_write_refuses_unknown_type(void **st)
{
    sc_stanza s = {.type = (sc_stanza_type)0, .id = "a"};
    assert_int_equal(write_err(&s), SC_ERR_ARG);
    s.type = (sc_stanza_type)(SC_STANZA_MSG_REJECT + 1); /* one past the last known type */
    assert_int_equal(write_err(&s), SC_ERR_ARG);
    sc_stanza m = {.type = SC_STANZA_MSG, .id = "a", .text = NULL, .text_len = 3};
    assert_int_equal(write_err(&m), SC_ERR_ARG);
}

/* ---- forward compatibility ---------------------------------------------- */

static void test_unknown_root_ignored(void **st)
{
    static const char *docs[] = {
        "<presence id=\"p\" show=\"away\"/>",
        "<chat-state id=\"c\" state=\"on\"/>",
        "<future-thing a=\"1\"><x>y</x></future-thing>",
        "<MSG id=\"a\" ts=\"1\">case matters</MSG>",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        sc_stanza s;
        sc_xml_doc *doc;
        memset(&s, 0xa5, sizeof s);
        assert_int_equal(parse_str(docs[i], strlen(docs[i]), &s, &doc), SC_OK);
        assert_int_equal(s.type, 0);
        sc_xml_free(doc);
    }
}

/* ---- the compact form (PROTOCOL.md 10.4) --------------------------------- */

/* The exact bytes of 10.4: kind, idlen, ts big-endian, id, text; and back. */
static void test_compact_layout_and_back(void **state)
{
    static const uint8_t want[] = {1,    2,   0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd,
                                   0xef, 'm', '7',  'h',  0xc3, 0xa9, '\t', 'x'};
    sc_stanza m = {.type = SC_STANZA_MSG,
                   .id = "m7",
                   .ts = 0x0123456789abcdefu,
                   .text = "h\xc3\xa9\tx",
                   .text_len = 5};
    sc_buf b;
    sc_buf_init(&b, 0);
    assert_int_equal(sc_compact_len(&m), sizeof want);
    assert_int_equal(sc_compact_write(&b, &m), SC_OK);
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    char id[SC_STANZA_ID_MAX + 1];
    sc_stanza st;
    assert_int_equal(sc_compact_parse(b.data, b.len, id, &st), SC_OK);
    assert_int_equal(st.type, SC_STANZA_MSG);
    assert_string_equal(st.id, "m7");
    assert_true(st.ts == 0x0123456789abcdefu);
    assert_int_equal(st.text_len, 5);
    assert_memory_equal(st.text, "h\xc3\xa9\tx", 5);
    sc_buf_dispose(&b);

    /* A receipt: no text, whatever text_len the caller left in the struct. */
    sc_stanza r = {
        .type = SC_STANZA_RECEIPT, .id = "m7", .ts = 5, .text = "ignored", .text_len = 7};
    static const uint8_t rwant[] = {2, 2, 0, 0, 0, 0, 0, 0, 0, 5, 'm', '7'};
    sc_buf_init(&b, 0);
    assert_int_equal(sc_compact_write(&b, &r), SC_OK);
    assert_int_equal(b.len, sizeof rwant);
    assert_memory_equal(b.data, rwant, sizeof rwant);
    assert_int_equal(sc_compact_parse(b.data, b.len, id, &st), SC_OK);
    assert_int_equal(st.type, SC_STANZA_RECEIPT);
    assert_int_equal(st.text_len, 0);
    assert_true(st.ts == 5);
    sc_buf_dispose(&b);
}

/* The writer refuses what the reader would refuse, and appends nothing then. */
static void test_compact_write_refusals(void **state)
{
    char big[SC_STANZA_TEXT_MAX + 1];
    memset(big, 'a', sizeof big);
    const sc_stanza bad[] = {
        {.type = SC_STANZA_PING, .id = "p"},
        {.type = SC_STANZA_FILE_DONE, .id = "f"},
        {.type = SC_STANZA_MSG, .id = "", .text = "x", .text_len = 1},
        {.type = SC_STANZA_MSG, .id = NULL, .text = "x", .text_len = 1},
        {.type = SC_STANZA_MSG, .id = "a b", .text = "x", .text_len = 1},
        {.type = SC_STANZA_MSG, .id = "m", .text = NULL, .text_len = 1},
        {.type = SC_STANZA_MSG, .id = "m", .text = big, .text_len = sizeof big},
        {.type = SC_STANZA_MSG, .id = "m", .text = "bell\a", .text_len = 5},
        {.type = SC_STANZA_MSG, .id = "m", .text = "0123456789\x01", .text_len = 11},
        {.type = SC_STANZA_MSG, .id = "m", .text = "\xff", .text_len = 1},
        {.type = SC_STANZA_MSG, .id = "m", .text = "\xef\xbf\xbf", .text_len = 3},
        {.type = SC_STANZA_MSG, .id = "m", .text = "\xc3", .text_len = 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sc_buf b;
        sc_buf_init(&b, 0);
        assert_int_equal(sc_compact_write(&b, &bad[i]), SC_ERR_ARG);
        assert_int_equal(b.len, 0);
        sc_buf_dispose(&b);
    }
    /* The limits themselves are fine: 64-byte id, 16000 bytes of text. */
    char id64[SC_STANZA_ID_MAX + 1];
    memset(id64, 'i', SC_STANZA_ID_MAX);
    id64[SC_STANZA_ID_MAX] = '\0';
    sc_stanza ok = {.type = SC_STANZA_MSG, .id = id64, .text = big, .text_len = SC_STANZA_TEXT_MAX};
    sc_buf b;
    sc_buf_init(&b, 0);
    assert_int_equal(sc_compact_write(&b, &ok), SC_OK);
    assert_int_equal(b.len, SC_COMPACT_FIXED + SC_STANZA_ID_MAX + SC_STANZA_TEXT_MAX);
    char id[SC_STANZA_ID_MAX + 1];
    sc_stanza st;
    assert_int_equal(sc_compact_parse(b.data, b.len, id, &st), SC_OK);
    assert_string_equal(st.id, id64);
    /* One byte more of text is over the limit on receipt too. */
    uint8_t *more = malloc(b.len + 1);
    assert_non_null(more);
    memcpy(more, b.data, b.len);
    more[b.len] = 'a';
    assert_int_equal(sc_compact_parse(more, b.len + 1, id, &st), SC_ERR_DECODE_ERROR);
    free(more);
    sc_buf_dispose(&b);
}

/* Malformed content is decode_error; an unknown kind is skipped (type 0). */
static void test_compact_parse_refusals(void **state)
{
    static const struct {
        const char *p;
        size_t n;
        int want;
    } cases[] = {
        {"", 0, SC_ERR_DECODE_ERROR},
        {"\3", 1, SC_OK},      /* unknown kind: ignored, whatever follows */
        {"\x80xyz", 4, SC_OK}, /* likewise */
        {"\1", 1, SC_ERR_DECODE_ERROR},
        {"\1\1\0\0\0\0\0\0\0", 9, SC_ERR_DECODE_ERROR},
        {"\1\0\0\0\0\0\0\0\0\0", 10, SC_ERR_DECODE_ERROR},
        {"\1\101\0\0\0\0\0\0\0\0aaaa", 14, SC_ERR_DECODE_ERROR}, /* idlen 65 */
        {"\1\3\0\0\0\0\0\0\0\0ab", 12, SC_ERR_DECODE_ERROR},
        {"\1\2\0\0\0\0\0\0\0\0a:", 12, SC_ERR_DECODE_ERROR},
        {"\2\1\0\0\0\0\0\0\0\0ab", 12, SC_ERR_DECODE_ERROR},
        {"\1\1\0\0\0\0\0\0\0\0a\x7f\x0b", 13, SC_ERR_DECODE_ERROR},
        {"\1\1\0\0\0\0\0\0\0\0a\xf4\x90\x80\x80", 15, SC_ERR_DECODE_ERROR}, /* > U+10FFFF */
        {"\1\1\0\0\0\0\0\0\0\0a\xf0\x9f\x98\x80\r\n", 17, SC_OK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char id[SC_STANZA_ID_MAX + 1];
        sc_stanza st;
        int rc = sc_compact_parse((const uint8_t *)cases[i].p, cases[i].n, id, &st);
        assert_int_equal(rc, cases[i].want);
        if (rc == SC_OK && cases[i].p[0] > 2) assert_int_equal(st.type, 0);
    }
}

/* The text check's eight-byte ASCII step agrees with the byte-wise rules at every position. */
static void test_valid_text_every_position(void **state)
{
    char t[24];
    for (size_t pos = 0; pos < sizeof t; pos++) {
        for (unsigned c = 0; c < 0x80; c++) {
            memset(t, 'a', sizeof t);
            t[pos] = (char)c;
            int want = c >= 0x20 || c == '\t' || c == '\n' || c == '\r';
            assert_int_equal(sc_stanza_valid_text(t, sizeof t), want);
        }
        memset(t, 'a', sizeof t);
        t[pos] = (char)0x80; /* a lone continuation byte */
        assert_int_equal(sc_stanza_valid_text(t, sizeof t), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_msg_round_trip),
        cmocka_unit_test(test_msg_text_limit),
        cmocka_unit_test(test_receipt_round_trip),
        cmocka_unit_test(test_ping_pong_round_trip),
        cmocka_unit_test(test_file_offer_round_trip),
        cmocka_unit_test(test_file_accept_round_trip),
        cmocka_unit_test(test_file_done_round_trip),
        cmocka_unit_test(test_parse_foreign_forms),
        cmocka_unit_test(test_bad_ids),
        cmocka_unit_test(test_bad_ts),
        cmocka_unit_test(test_bad_size_and_offset),
        cmocka_unit_test(test_bad_sha256),
        cmocka_unit_test(test_bad_file_names),
        cmocka_unit_test(test_bad_structure),
        cmocka_unit_test(test_write_refuses_text_xml_cannot_carry),
        cmocka_unit_test(test_write_refuses_unknown_type),
        cmocka_unit_test(test_unknown_root_ignored),
        cmocka_unit_test(test_compact_layout_and_back),
        cmocka_unit_test(test_compact_write_refusals),
        cmocka_unit_test(test_compact_parse_refusals),
        cmocka_unit_test(test_valid_text_every_position),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
