/*
 * fuzz_xml.c - the XML profile parser (src/core/sc_xml.c).
 *
 * Beyond "does not crash", three oracles: every accepted tree obeys the
 * profile's limits; the writer can serialise it; and what the writer emits
 * parses back to a tree that serialises to the very same bytes. A
 * difference there means the parser and the writer disagree on what some
 * bytes mean, which is how two peers end up with different transcripts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sc_xml.h"
#include "sixchat/error.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) abort();                                                                      \
    } while (0)

static void check_name(const char *name)
{
    size_t n = strlen(name);
    CHECK(n > 0 && n <= SC_XML_MAX_NAME && strchr(name, ':') == NULL);
}

/* Serialises n and its subtree with the sc_xml_w_* writer, checking the limits on the way. */
static void write_node(sc_buf *b, const sc_xml_node *n, size_t depth, size_t *count)
{
    CHECK(depth <= SC_XML_MAX_DEPTH && ++*count <= SC_XML_MAX_ELEMENTS);
    check_name(n->name);
    CHECK(n->nattrs <= SC_XML_MAX_ATTRS);
    CHECK(strlen(n->text) == n->text_len && n->text_len <= SC_XML_MAX_TEXT);
    /* No mixed content: an element with children has no text. */
    CHECK(n->first_child == NULL || n->text_len == 0);

    sc_xml_w_open(b, n->name);
    for (size_t i = 0; i < n->nattrs; i++) {
        const sc_xml_attr *a = &n->attrs[i];
        check_name(a->name);
        CHECK(strlen(a->value) == a->value_len && a->value_len <= SC_XML_MAX_ATTR_VALUE);
        size_t len = 0;
        CHECK(sc_xml_attr_get(n, a->name, &len) == a->value && len == a->value_len);
        sc_xml_w_attr_n(b, a->name, a->value, a->value_len);
    }
    if (n->first_child == NULL && n->text_len == 0) {
        sc_xml_w_end_empty(b);
        return;
    }
    sc_xml_w_end_open(b);
    sc_xml_w_text(b, n->text, n->text_len);
    size_t nchildren = 0;
    for (const sc_xml_node *k = n->first_child; k != NULL; k = k->next) {
        write_node(b, k, depth + 1, count);
        nchildren++;
    }
    CHECK(nchildren == sc_xml_nchildren(n));
    if (n->first_child != NULL) CHECK(sc_xml_child(n, n->first_child->name) == n->first_child);
    sc_xml_w_close(b, n->name);
}

/* Parses and serialises; returns the parse result, the serialisation in *out when it is 0. */
static int roundtrip(const uint8_t *data, size_t size, sc_buf *out)
{
    sc_xml_doc *d = NULL;
    int rc = sc_xml_parse(data, size, &d);
    if (rc != SC_OK) {
        CHECK(d == NULL && (rc == SC_ERR_DECODE_ERROR || rc == SC_ERR_NOMEM));
        return rc;
    }
    size_t count = 0;
    sc_buf_init(out, 0);
    write_node(out, sc_xml_root(d), 1, &count);
    /* Parsed text never holds a byte the writer cannot express. */
    CHECK(sc_buf_ok(out));
    sc_xml_free(d);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sc_buf first, second;
    if (roundtrip(data, size, &first) != SC_OK) return 0;
    /* Escaping may grow the document past the limit; only then may the second parse fail. */
    if (first.len <= SC_XML_MAX_DOC) {
        CHECK(roundtrip(first.data, first.len, &second) == SC_OK);
        CHECK(second.len == first.len && memcmp(second.data, first.data, first.len) == 0);
        sc_buf_dispose(&second);
    }
    sc_buf_dispose(&first);
    return 0;
}
