/*
 * sc_xml.h - the restricted XML profile (docs/PROTOCOL.md 4), on expat.
 *
 * Parsing builds a small read-only tree in one arena. The profile refuses:
 * a DOCTYPE, any entity declaration or reference other than the five
 * predefined ones (character references &#...; are allowed), processing
 * instructions, the XML declaration, comments, CDATA sections, namespaces
 * prefixes (a ':' in a name), mixed content (an element has either text or
 * child elements, whitespace between children excepted), and anything past
 * the limits below. Input must be UTF-8 and one complete document.
 * Every violation returns SC_ERR_DECODE_ERROR; nothing is partially kept.
 *
 * Writing: sc_xml_w_* append to an sc_buf with escaping of &, <, >, " and '.
 */
#ifndef SC_XML_H
#define SC_XML_H

#include <stddef.h>
#include <stdint.h>
#include "sc_buf.h"

#define SC_XML_MAX_DEPTH 4     /* root is depth 1 */
#define SC_XML_MAX_ELEMENTS 32 /* per document */
#define SC_XML_MAX_ATTRS 8     /* per element */
#define SC_XML_MAX_NAME 32     /* element and attribute names, bytes */
#define SC_XML_MAX_ATTR_VALUE 1024
#define SC_XML_MAX_TEXT 16384 /* text of one element, bytes after unescaping */
#define SC_XML_MAX_DOC 16384  /* whole document, bytes */

typedef struct sc_xml_attr {
    const char *name;
    const char *value; /* NUL-terminated, unescaped */
    size_t value_len;
} sc_xml_attr;

typedef struct sc_xml_node {
    const char *name;
    const sc_xml_attr *attrs;
    size_t nattrs;
    const char *text; /* NUL-terminated, unescaped; "" when none */
    size_t text_len;
    struct sc_xml_node *first_child;
    struct sc_xml_node *next; /* next sibling */
} sc_xml_node;

typedef struct sc_xml_doc sc_xml_doc;

/*
 * Parses doc[0..len) under the profile. On success *out owns the tree
 * (free with sc_xml_free) and returns 0. Errors: SC_ERR_DECODE_ERROR for
 * any profile violation or malformed input, SC_ERR_NOMEM.
 */
int sc_xml_parse(const uint8_t *doc, size_t len, sc_xml_doc **out);
void sc_xml_free(sc_xml_doc *d);

/*
 * A parser kept for reuse: creating and freeing an expat parser per
 * document costs more than parsing a short stanza. Not thread-safe; one per
 * session. Documents parsed with it do not refer to it.
 */
typedef struct sc_xml_parser sc_xml_parser;
sc_xml_parser *sc_xml_parser_new(void);
void sc_xml_parser_free(sc_xml_parser *xp);
/* sc_xml_parse with a reusable parser (xp may be NULL: a fresh one). */
int sc_xml_parse_with(sc_xml_parser *xp, const uint8_t *doc, size_t len, sc_xml_doc **out);
const sc_xml_node *sc_xml_root(const sc_xml_doc *d);

/* The attribute's value, or NULL if absent. Duplicate attributes are rejected at parse. */
const char *sc_xml_attr_get(const sc_xml_node *n, const char *name, size_t *len);
/* The first child with that name, or NULL. */
const sc_xml_node *sc_xml_child(const sc_xml_node *n, const char *name);
/* Number of children (elements). */
size_t sc_xml_nchildren(const sc_xml_node *n);

/* Writer: <name, then attributes, then either '/>' (empty) or '>' text/children '</name>'. */
void sc_xml_w_open(sc_buf *b, const char *name);                    /* "<name" */
void sc_xml_w_attr(sc_buf *b, const char *name, const char *value); /* ' name="v"' escaped */
void sc_xml_w_attr_n(sc_buf *b, const char *name, const char *value, size_t len);
void sc_xml_w_attr_u64(sc_buf *b, const char *name, uint64_t v);
void sc_xml_w_end_empty(sc_buf *b);                          /* "/>" */
void sc_xml_w_end_open(sc_buf *b);                           /* ">" */
void sc_xml_w_text(sc_buf *b, const char *text, size_t len); /* escaped */
void sc_xml_w_close(sc_buf *b, const char *name);            /* "</name>" */

#endif
