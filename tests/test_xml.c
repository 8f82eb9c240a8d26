/*
 * test_xml.c - the restricted XML profile (src/core/sc_xml.c, docs/PROTOCOL.md 4).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sc_xml.h"
#include "sixchat/error.h"

static int parse_len(const char *s, size_t len)
{
    sc_xml_doc *d = (sc_xml_doc *)1; /* must be reset to NULL on failure */
    int rc = sc_xml_parse((const uint8_t *)s, len, &d);
    if (rc != SC_OK) assert_null(d);
    sc_xml_free(d);
    return rc;
}

static int parse_str(const char *s)
{
    return parse_len(s, strlen(s));
}

static sc_xml_doc *parse_ok(const char *s, size_t len)
{
    sc_xml_doc *d = NULL;
    int rc = sc_xml_parse((const uint8_t *)s, len, &d);
    if (rc != SC_OK) print_error("unexpected rc %d for: %.200s\n", rc, s);
    assert_int_equal(rc, SC_OK);
    assert_non_null(d);
    return d;
}

static void expect_refused(const char *const *docs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int rc = parse_str(docs[i]);
        if (rc != SC_ERR_DECODE_ERROR) print_error("accepted or wrong rc %d: %s\n", rc, docs[i]);
        assert_int_equal(rc, SC_ERR_DECODE_ERROR);
    }
}
#define EXPECT_REFUSED(...)                                                                        \
    do {                                                                                           \
        static const char *const docs_[] = {__VA_ARGS__};                                          \
        expect_refused(docs_, sizeof(docs_) / sizeof(docs_[0]));                                   \
    } while (0)

/* A malloc'd string of `prefix`, n copies of `unit`, `suffix`. */
static char *repeat(const char *prefix, const char *unit, size_t n, const char *suffix)
{
    size_t pl = strlen(prefix), ul = strlen(unit), sl = strlen(suffix);
    char *s = malloc(pl + ul * n + sl + 1);
    assert_non_null(s);
    memcpy(s, prefix, pl);
    for (size_t i = 0; i < n; i++)
        memcpy(s + pl + i * ul, unit, ul);
    memcpy(s + pl + ul * n, suffix, sl + 1);
    return s;
}

/* ---- accepted documents ---- */

static void test_handshake_doc(void **state)
{
    const char *s = "<ihello v=\"1\" r=\"AAAA\"><share g=\"x25519\">AAAA</share>"
                    "<share g=\"p256\">BBBB</share></ihello>";
    sc_xml_doc *d = parse_ok(s, strlen(s));
    const sc_xml_node *root = sc_xml_root(d);
    size_t len = 0;
    assert_string_equal(root->name, "ihello");
    assert_int_equal(root->nattrs, 2);
    assert_string_equal(sc_xml_attr_get(root, "v", &len), "1");
    assert_int_equal(len, 1);
    assert_string_equal(sc_xml_attr_get(root, "r", NULL), "AAAA");
    assert_null(sc_xml_attr_get(root, "suites", &len));
    assert_int_equal(len, 0);
    assert_string_equal(root->text, "");
    assert_int_equal(root->text_len, 0);
    assert_int_equal(sc_xml_nchildren(root), 2);
    const sc_xml_node *share = sc_xml_child(root, "share");
    assert_non_null(share);
    assert_string_equal(sc_xml_attr_get(share, "g", NULL), "x25519");
    assert_string_equal(share->text, "AAAA");
    assert_int_equal(share->text_len, 4);
    assert_null(share->first_child);
    assert_int_equal(sc_xml_nchildren(share), 0);
    assert_string_equal(share->next->text, "BBBB");
    assert_string_equal(sc_xml_attr_get(share->next, "g", NULL), "p256");
    assert_null(share->next->next);
    assert_null(sc_xml_child(root, "kt"));
    sc_xml_free(d);
}

static void test_empty_and_self_closing(void **state)
{
    sc_xml_doc *d = parse_ok("<a/>", 4);
    assert_string_equal(sc_xml_root(d)->name, "a");
    assert_string_equal(sc_xml_root(d)->text, "");
    assert_int_equal(sc_xml_root(d)->nattrs, 0);
    sc_xml_free(d);
    d = parse_ok("<a></a>", 7);
    assert_string_equal(sc_xml_root(d)->text, "");
    sc_xml_free(d);
    sc_xml_free(NULL);
    assert_null(sc_xml_root(NULL));
}

static void test_predefined_entities_and_char_refs(void **state)
{
    const char *s = "<a x=\"&lt;&amp;&gt;&quot;&apos;\" y='\"'>&lt;b&gt; &amp; &quot;&apos;"
                    "&#65;&#x42;&#x20AC;&#128512;</a>";
    sc_xml_doc *d = parse_ok(s, strlen(s));
    const sc_xml_node *a = sc_xml_root(d);
    size_t len;
    assert_string_equal(sc_xml_attr_get(a, "x", &len), "<&>\"'");
    assert_int_equal(len, 5);
    assert_string_equal(sc_xml_attr_get(a, "y", NULL), "\"");
    assert_string_equal(a->text, "<b> & \"'AB\xe2\x82\xac\xf0\x9f\x98\x80");
    assert_int_equal(a->text_len, strlen(a->text));
    sc_xml_free(d);
}

static void test_whitespace_between_children_dropped(void **state)
{
    const char *s = "<a>\n  <b>  x  </b>\n\t<c> </c>\r\n  <d/>\n</a>";
    sc_xml_doc *d = parse_ok(s, strlen(s));
    const sc_xml_node *a = sc_xml_root(d);
    assert_string_equal(a->text, "");
    assert_int_equal(a->text_len, 0);
    assert_int_equal(sc_xml_nchildren(a), 3);
    assert_string_equal(sc_xml_child(a, "b")->text, "  x  ");
    /* A leaf's whitespace-only text is its text. */
    assert_string_equal(sc_xml_child(a, "c")->text, " ");
    assert_string_equal(sc_xml_child(a, "d")->text, "");
    sc_xml_free(d);
}

static void test_line_ends_normalised(void **state)
{
    const char *s = "<a x=\"1&#9;2&#10;3\">l1\r\nl2\rl3&#13;</a>";
    sc_xml_doc *d = parse_ok(s, strlen(s));
    assert_string_equal(sc_xml_root(d)->text, "l1\nl2\nl3\r");
    assert_string_equal(sc_xml_attr_get(sc_xml_root(d), "x", NULL), "1\t2\n3");
    sc_xml_free(d);
}

static void test_nested_tree_order(void **state)
{
    const char *s = "<r><a><b><c>deep</c></b><b2/></a><z>last</z></r>";
    sc_xml_doc *d = parse_ok(s, strlen(s));
    const sc_xml_node *r = sc_xml_root(d);
    const sc_xml_node *a = r->first_child;
    assert_string_equal(a->name, "a");
    assert_string_equal(a->next->name, "z");
    assert_string_equal(a->next->text, "last");
    assert_string_equal(a->first_child->name, "b");
    assert_string_equal(a->first_child->next->name, "b2");
    assert_string_equal(a->first_child->first_child->text, "deep");
    assert_int_equal(sc_xml_nchildren(r), 2);
    assert_int_equal(sc_xml_nchildren(a), 2);
    sc_xml_free(d);
}

static void test_utf8_and_outer_whitespace(void **state)
{
    const char *s = "\n<msg id=\"\xc3\xa9t\xc3\xa9\">h\xc3\xa9llo \xe4\xb8\x96\xe7\x95\x8c</msg>\n";
    sc_xml_doc *d = parse_ok(s, strlen(s));
    assert_string_equal(sc_xml_attr_get(sc_xml_root(d), "id", NULL), "\xc3\xa9t\xc3\xa9");
    assert_string_equal(sc_xml_root(d)->text, "h\xc3\xa9llo \xe4\xb8\x96\xe7\x95\x8c");
    sc_xml_free(d);
}

/* Each limit, exactly at its value, is accepted. */
static void test_limits_at_maximum(void **state)
{
    sc_xml_doc *d;
    const char *deep = "<a><b><c><d>x</d></c></b></a>";
    d = parse_ok(deep, strlen(deep));
    sc_xml_free(d);

    char *s = repeat("<r>", "<e/>", SC_XML_MAX_ELEMENTS - 1, "</r>");
    d = parse_ok(s, strlen(s));
    assert_int_equal(sc_xml_nchildren(sc_xml_root(d)), SC_XML_MAX_ELEMENTS - 1);
    sc_xml_free(d);
    free(s);

    const char *attrs = "<a a1=\"\" a2=\"\" a3=\"\" a4=\"\" a5=\"\" a6=\"\" a7=\"\" a8=\"8\"/>";
    d = parse_ok(attrs, strlen(attrs));
    assert_int_equal(sc_xml_root(d)->nattrs, 8);
    assert_string_equal(sc_xml_attr_get(sc_xml_root(d), "a8", NULL), "8");
    sc_xml_free(d);

    s = repeat("<", "n", SC_XML_MAX_NAME, " x=\"1\"/>");
    d = parse_ok(s, strlen(s));
    assert_int_equal(strlen(sc_xml_root(d)->name), SC_XML_MAX_NAME);
    sc_xml_free(d);
    free(s);

    s = repeat("<a ", "n", SC_XML_MAX_NAME, "=\"1\"/>");
    d = parse_ok(s, strlen(s));
    sc_xml_free(d);
    free(s);

    s = repeat("<a v=\"", "v", SC_XML_MAX_ATTR_VALUE, "\"/>");
    d = parse_ok(s, strlen(s));
    size_t len;
    sc_xml_attr_get(sc_xml_root(d), "v", &len);
    assert_int_equal(len, SC_XML_MAX_ATTR_VALUE);
    sc_xml_free(d);
    free(s);

    /* The value limit counts unescaped bytes: 1024 "&amp;" is 5120 bytes of input. */
    s = repeat("<a v=\"", "&amp;", SC_XML_MAX_ATTR_VALUE, "\"/>");
    d = parse_ok(s, strlen(s));
    sc_xml_free(d);
    free(s);

    /* The whole document at its limit, almost all of it text. */
    s = repeat("<a>", "t", SC_XML_MAX_DOC - 7, "</a>");
    assert_int_equal(strlen(s), SC_XML_MAX_DOC);
    d = parse_ok(s, strlen(s));
    assert_int_equal(sc_xml_root(d)->text_len, SC_XML_MAX_DOC - 7);
    sc_xml_free(d);
    free(s);
}

/* ---- refused documents: every profile violation is decode_error ---- */

static void test_refuse_doctype_and_entities(void **state)
{
    EXPECT_REFUSED(
        "<!DOCTYPE a><a/>", "<!DOCTYPE a SYSTEM \"http://x/a.dtd\"><a/>",
        "<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>", "<!DOCTYPE a [<!ENTITY e \"x\">]><a/>",
        "<!DOCTYPE a [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><a>&e;</a>",
        "<!DOCTYPE a [<!ENTITY % p SYSTEM \"http://x/p\"> %p;]><a/>",
        "<!DOCTYPE a [<!ATTLIST a x CDATA \"dflt\">]><a/>", "<a>&foo;</a>", "<a x=\"&foo;\"/>",
        "<a>&lt</a>", "<a>&amp</a>", "<a>&#0;</a>", "<a>&#xD800;</a>", "<a>&#x110000;</a>",
        "<a>&#xFFFE;</a>", "<a>&#1;</a>", "<a>&#;</a>", "<a>&#x;</a>");
}

static void test_refuse_billion_laughs(void **state)
{
    EXPECT_REFUSED("<!DOCTYPE lolz [<!ENTITY lol \"lol\">"
                   "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
                   "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">"
                   "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
                   "<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">"
                   "<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">"
                   "<!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">"
                   "<!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">"
                   "<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">"
                   "<!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">"
                   "]><lolz>&lol9;</lolz>");
}

static void test_refuse_comments_pis_decl_cdata(void **state)
{
    EXPECT_REFUSED("<a><!-- c --></a>", "<!-- c --><a/>", "<a/><!-- c -->", "<a><b/><!----></a>",
                   "<a><?pi x?></a>", "<?pi x?><a/>", "<a/><?pi?>",
                   "<?xml-stylesheet href=\"x\"?><a/>", "<?xml version=\"1.0\"?><a/>",
                   "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><a/>",
                   "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xe9</a>",
                   " <?xml version=\"1.0\"?><a/>", "<a><![CDATA[x]]></a>", "<a><![CDATA[]]></a>",
                   "<a><b/><![CDATA[<b/>]]></a>");
}

static void test_refuse_depth(void **state)
{
    EXPECT_REFUSED("<a><b><c><d><e/></d></c></b></a>", "<a><b><c><d><e>x</e></d></c></b></a>",
                   "<a><b><c><d/><d><e/></d></c></b></a>");
}

static void test_refuse_element_count(void **state)
{
    char *s = repeat("<r>", "<e/>", SC_XML_MAX_ELEMENTS, "</r>");
    assert_int_equal(parse_str(s), SC_ERR_DECODE_ERROR);
    free(s);
    /* Counted across the whole document, not per parent. */
    s = repeat("<r>", "<e><f/></e>", SC_XML_MAX_ELEMENTS / 2, "</r>");
    assert_int_equal(parse_str(s), SC_ERR_DECODE_ERROR);
    free(s);
}

static void test_refuse_attr_count(void **state)
{
    EXPECT_REFUSED("<a a1=\"\" a2=\"\" a3=\"\" a4=\"\" a5=\"\" a6=\"\" a7=\"\" a8=\"\" a9=\"\"/>",
                   "<r><a a1=\"\" a2=\"\" a3=\"\" a4=\"\" a5=\"\" a6=\"\" a7=\"\" a8=\"\" a9=\"\"/>"
                   "</r>");
}

static void test_refuse_long_names(void **state)
{
    char *s = repeat("<", "n", SC_XML_MAX_NAME + 1, "/>");
    assert_int_equal(parse_str(s), SC_ERR_DECODE_ERROR);
    free(s);
    s = repeat("<a ", "n", SC_XML_MAX_NAME + 1, "=\"1\"/>");
    assert_int_equal(parse_str(s), SC_ERR_DECODE_ERROR);
    free(s);
    s = repeat("<r><", "n", SC_XML_MAX_NAME + 1, "/></r>");
    assert_int_equal(parse_str(s), SC_ERR_DECODE_ERROR);
    free(s);
    /* A 33-byte name of 2-byte characters: the limit is bytes, not characters. */
    s = repeat("<", "\xc3\xa9", SC_XML_MAX_NAME / 2 + 1, "/>");
    assert_int_equal(parse_str(s), SC_ERR_DECODE_ERROR);
    free(s);
}

static void test_refuse_long_attr_value(void **state)
{
    char *s = repeat("<a v=\"", "v", SC_XML_MAX_ATTR_VALUE + 1, "\"/>");
    assert_int_equal(parse_str(s), SC_ERR_DECODE_ERROR);
    free(s);
    s = repeat("<a v=\"", "&#65;", SC_XML_MAX_ATTR_VALUE + 1, "\"/>");
    assert_int_equal(parse_str(s), SC_ERR_DECODE_ERROR);
    free(s);
}

static void test_refuse_long_text_and_doc(void **state)
{
    /* Text over its limit necessarily makes the document over its limit too. */
    char *s = repeat("<a>", "t", SC_XML_MAX_TEXT + 1, "</a>");
    assert_int_equal(parse_str(s), SC_ERR_DECODE_ERROR);
    free(s);
    s = repeat("<a>", "t", SC_XML_MAX_DOC - 6, "</a>");
    assert_int_equal(strlen(s), SC_XML_MAX_DOC + 1);
    assert_int_equal(parse_str(s), SC_ERR_DECODE_ERROR);
    free(s);
    /* Trailing whitespace counts. */
    s = repeat("<a/>", " ", SC_XML_MAX_DOC - 3, "");
    assert_int_equal(parse_str(s), SC_ERR_DECODE_ERROR);
    free(s);
}

static void test_refuse_mixed_content(void **state)
{
    EXPECT_REFUSED("<a>x<b/></a>", "<a><b/>x</a>", "<a><b/> x </a>", "<a> x <b/> </a>",
                   "<a>&#65;<b/></a>", "<a><b/>&amp;</a>", "<a><b/>&#xA0;</a>",
                   "<a><b><c/>y</b></a>");
}

static void test_refuse_prefixed_names(void **state)
{
    EXPECT_REFUSED("<x:a/>", "<a x:b=\"1\"/>", "<a xmlns:x=\"urn:x\"/>", "<r><x:a/></r>", "<a:/>",
                   "<r><a b:=\"\"/></r>");
}

static void test_refuse_bad_utf8(void **state)
{
    EXPECT_REFUSED("<a>\xff</a>", "<a>\xc0\x80</a>", "<a>\xc1\xbf</a>", "<a>\xe0\x80\xaf</a>",
                   "<a>\xed\xa0\x80</a>", "<a>\xf4\x90\x80\x80</a>", "<a>\xe2\x82</a>",
                   "<a>\x80</a>", "<a x=\"\xff\"/>", "<\xff/>", "<a>\xef\xbf\xbe</a>",
                   /* A byte order mark, UTF-8 or UTF-16. */
                   "\xef\xbb\xbf<a/>", "\xfe\xff<a/>");
}

static void test_refuse_malformed(void **state)
{
    EXPECT_REFUSED("<a/><b/>", "<a></a><a></a>", "<a/>x", "x<a/>", "<a><b>x</b>", "<a", "<a x=\"1",
                   "<a x=\"1\"", "<a>", "</a>", "<a></b>", "<a x=1/>", "<a x=\"1\" x=\"2\"/>",
                   "<a x=\"<\"/>", "<a>]]></a>", "<a>&</a>", "<a>\x01</a>", "text", "   ", "<>",
                   "< a/>", "<1a/>");
    /* Empty input. */
    assert_int_equal(parse_len("", 0), SC_ERR_DECODE_ERROR);
}

static void test_refuse_nul(void **state)
{
    assert_int_equal(parse_len("<a>\0</a>", 8), SC_ERR_DECODE_ERROR);
    assert_int_equal(parse_len("<a/>\0", 5), SC_ERR_DECODE_ERROR);
    assert_int_equal(parse_len("\0<a/>", 5), SC_ERR_DECODE_ERROR);
    assert_int_equal(parse_len("<a x=\"\0\"/>", 10), SC_ERR_DECODE_ERROR);
    /* UTF-16 has NULs; refused, not transcoded. */
    assert_int_equal(parse_len("\xff\xfe<\0a\0/\0>\0", 10), SC_ERR_DECODE_ERROR);
}

/* Every proper prefix of a valid document is refused: one complete document only. */
static void test_refuse_every_truncation(void **state)
{
    const char *s = "<ihello v=\"1\" r=\"AAAA\"><share g=\"x25519\">AAAA</share></ihello>";
    for (size_t n = 0; n < strlen(s); n++)
        assert_int_equal(parse_len(s, n), SC_ERR_DECODE_ERROR);
    assert_int_equal(parse_len(s, strlen(s)), SC_OK);
}

/* ---- writer ---- */

static void test_writer_exact_bytes(void **state)
{
    sc_buf b;
    sc_buf_init(&b, 0);
    sc_xml_w_open(&b, "ihello");
    sc_xml_w_attr(&b, "v", "1");
    sc_xml_w_attr_u64(&b, "n", 0);
    sc_xml_w_attr_u64(&b, "m", UINT64_MAX);
    sc_xml_w_attr(&b, "q", "<&>\"'");
    sc_xml_w_end_open(&b);
    sc_xml_w_open(&b, "share");
    sc_xml_w_attr(&b, "g", "x25519");
    sc_xml_w_end_open(&b);
    sc_xml_w_text(&b, "AAAA", 4);
    sc_xml_w_close(&b, "share");
    sc_xml_w_open(&b, "e");
    sc_xml_w_end_empty(&b);
    sc_xml_w_close(&b, "ihello");
    const char *want = "<ihello v=\"1\" n=\"0\" m=\"18446744073709551615\" "
                       "q=\"&lt;&amp;&gt;&quot;&apos;\"><share g=\"x25519\">AAAA</share><e/>"
                       "</ihello>";
    assert_true(sc_buf_ok(&b));
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    sc_buf_dispose(&b);
}

static void test_writer_roundtrip(void **state)
{
    static const char attr[] = "a<b>c&d\"e'f\tg\nh\ri \xc3\xa9";
    static const char text[] = "x<y>z&w\"v'u\r\nline\ttab ]]> \xe2\x82\xac";
    sc_buf b;
    sc_buf_init(&b, 0);
    sc_xml_w_open(&b, "msg");
    sc_xml_w_attr(&b, "id", attr);
    sc_xml_w_end_open(&b);
    sc_xml_w_text(&b, text, strlen(text));
    sc_xml_w_close(&b, "msg");
    assert_true(sc_buf_ok(&b));

    sc_xml_doc *d = parse_ok((const char *)b.data, b.len);
    size_t len;
    const sc_xml_node *m = sc_xml_root(d);
    assert_string_equal(m->name, "msg");
    assert_string_equal(sc_xml_attr_get(m, "id", &len), attr);
    assert_int_equal(len, strlen(attr));
    assert_int_equal(m->text_len, strlen(text));
    assert_memory_equal(m->text, text, m->text_len);
    sc_xml_free(d);
    sc_buf_dispose(&b);
}

static void test_writer_refuses_control_chars(void **state)
{
    sc_buf b;
    sc_buf_init(&b, 0);
    sc_xml_w_open(&b, "a");
    sc_xml_w_attr_n(&b, "x", "a\0b", 3); /* no way to write NUL in XML */
    assert_false(sc_buf_ok(&b));
    sc_buf_dispose(&b);

    sc_buf_init(&b, 0);
    sc_xml_w_open(&b, "a");
    sc_xml_w_end_open(&b);
    sc_xml_w_text(&b, "\x1b[0m", 4);
    assert_false(sc_buf_ok(&b));
    sc_buf_dispose(&b);
}

static void test_writer_respects_buffer_limit(void **state)
{
    sc_buf b;
    sc_buf_init(&b, 16);
    sc_xml_w_open(&b, "a");
    sc_xml_w_end_open(&b);
    sc_xml_w_text(&b, "&&&&", 4); /* 20 bytes escaped */
    sc_xml_w_close(&b, "a");
    assert_false(sc_buf_ok(&b));
    sc_buf_dispose(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_doc),
        cmocka_unit_test(test_empty_and_self_closing),
        cmocka_unit_test(test_predefined_entities_and_char_refs),
        cmocka_unit_test(test_whitespace_between_children_dropped),
        cmocka_unit_test(test_line_ends_normalised),
        cmocka_unit_test(test_nested_tree_order),
        cmocka_unit_test(test_utf8_and_outer_whitespace),
        cmocka_unit_test(test_limits_at_maximum),
        cmocka_unit_test(test_refuse_doctype_and_entities),
        cmocka_unit_test(test_refuse_billion_laughs),
        cmocka_unit_test(test_refuse_comments_pis_decl_cdata),
        cmocka_unit_test(test_refuse_depth),
        cmocka_unit_test(test_refuse_element_count),
        cmocka_unit_test(test_refuse_attr_count),
        cmocka_unit_test(test_refuse_long_names),
        cmocka_unit_test(test_refuse_long_attr_value),
        cmocka_unit_test(test_refuse_long_text_and_doc),
        cmocka_unit_test(test_refuse_mixed_content),
        cmocka_unit_test(test_refuse_prefixed_names),
        cmocka_unit_test(test_refuse_bad_utf8),
        cmocka_unit_test(test_refuse_malformed),
        cmocka_unit_test(test_refuse_nul),
        cmocka_unit_test(test_refuse_every_truncation),
        cmocka_unit_test(test_writer_exact_bytes),
        cmocka_unit_test(test_writer_roundtrip),
        cmocka_unit_test(test_writer_refuses_control_chars),
        cmocka_unit_test(test_writer_respects_buffer_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
