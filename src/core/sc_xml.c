/*
 * sc_xml.c - the restricted XML profile of docs/PROTOCOL.md 4, on expat.
 *
 * Expat tokenises; this file decides what the profile allows. Every
 * construct the profile refuses has a handler that stops the parser, so a
 * refused construct never reaches the tree. Limits are checked in the
 * handlers before anything is copied.
 *
 * The tree lives in one block: fixed arrays for the nodes and attributes
 * (the limits bound their number) and a string area for names, values and
 * text. Unescaping only shrinks (entities and character references are
 * longer than what they stand for, CR LF becomes LF), so the string area
 * never needs more than the document length plus one NUL per string.
 */
#include "sc_alloc.h"
#include "sc_xml.h"

#include <expat.h>
#include <stdlib.h>
#include <string.h>

#include "sixchat/error.h"

/* One NUL per element name and text, two per attribute. */
#define SC_XML_MAX_NULS (SC_XML_MAX_ELEMENTS * (2 + 2 * SC_XML_MAX_ATTRS))

struct sc_xml_doc {
    sc_xml_node nodes[SC_XML_MAX_ELEMENTS];
    sc_xml_attr attrs[SC_XML_MAX_ELEMENTS * SC_XML_MAX_ATTRS];
    size_t nnodes;
    size_t nattrs;
    size_t slen; /* bytes of str in use */
    size_t scap;
    char str[];
};

/* An open element. Only the innermost one can still receive text. */
typedef struct xml_frame {
    sc_xml_node *node;
    sc_xml_node *last_child;
} xml_frame;

typedef struct xml_ctx {
    XML_Parser p;
    sc_xml_doc *d;
    xml_frame stack[SC_XML_MAX_DEPTH];
    size_t depth;
    int err;
} xml_ctx;

static void fail(xml_ctx *c, int err)
{
    if (c->err == 0) c->err = err;
    XML_StopParser(c->p, XML_FALSE);
}

/* Copies s[0..n) and a NUL into the string area. The sizing argument above makes exhaustion
 * impossible; if it ever happens the input is refused rather than the bound trusted. */
static char *str_dup(xml_ctx *c, const char *s, size_t n)
{
    sc_xml_doc *d = c->d;
    if (n >= d->scap - d->slen) {
        fail(c, SC_ERR_DECODE_ERROR);
        return NULL;
    }
    char *out = d->str + d->slen;
    memcpy(out, s, n);
    out[n] = '\0';
    d->slen += n + 1;
    return out;
}

static int name_ok(const char *name)
{
    size_t n = strnlen(name, SC_XML_MAX_NAME + 1);
    /* No namespaces: a prefix would let two documents that differ in bytes mean the same. */
    return n <= SC_XML_MAX_NAME && memchr(name, ':', n) == NULL;
}

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') return 0;
    return 1;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    xml_ctx *c = ud;
    sc_xml_doc *d = c->d;
    if (c->err) return;

    size_t na = 0;
    while (atts[2 * na] != NULL)
        na++;
    if (c->depth == SC_XML_MAX_DEPTH || d->nnodes == SC_XML_MAX_ELEMENTS || na > SC_XML_MAX_ATTRS ||
        !name_ok(name))
        goto refuse;
    for (size_t i = 0; i < na; i++)
        if (!name_ok(atts[2 * i]) ||
            strnlen(atts[2 * i + 1], SC_XML_MAX_ATTR_VALUE + 1) > SC_XML_MAX_ATTR_VALUE)
            goto refuse;

    /* The parent's text so far is in the string area just below us; it may only be
     * whitespace between children, and that is dropped. */
    if (c->depth > 0) {
        xml_frame *pf = &c->stack[c->depth - 1];
        sc_xml_node *parent = pf->node;
        if (pf->last_child == NULL) {
            if (!is_blank(parent->text, parent->text_len)) goto refuse;
            d->slen = (size_t)(parent->text - d->str);
            parent->text = "";
            parent->text_len = 0;
        }
    }

    sc_xml_node *n = &d->nodes[d->nnodes++];
    memset(n, 0, sizeof(*n));
    sc_xml_attr *a = &d->attrs[d->nattrs];
    d->nattrs += na;
    n->attrs = a;
    n->nattrs = na;
    if ((n->name = str_dup(c, name, strlen(name))) == NULL) return;
    for (size_t i = 0; i < na; i++) {
        a[i].value_len = strlen(atts[2 * i + 1]);
        if ((a[i].name = str_dup(c, atts[2 * i], strlen(atts[2 * i]))) == NULL ||
            (a[i].value = str_dup(c, atts[2 * i + 1], a[i].value_len)) == NULL)
            return;
    }
    /* Text, if any, grows in place from here until a child or the end tag. */
    n->text = d->str + d->slen;

    if (c->depth > 0) {
        xml_frame *pf = &c->stack[c->depth - 1];
        if (pf->last_child == NULL)
            pf->node->first_child = n;
        else
            pf->last_child->next = n;
        pf->last_child = n;
    }
    c->stack[c->depth++] = (xml_frame){n, NULL};
    return;

refuse:
    fail(c, SC_ERR_DECODE_ERROR);
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    xml_ctx *c = ud;
    if (c->err) return;
    /* A leaf's text is already in place and only needs its NUL; a parent's text is "". */
    if (c->stack[--c->depth].last_child == NULL) (void)str_dup(c, "", 0);
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    xml_ctx *c = ud;
    if (c->err) return;
    xml_frame *f = &c->stack[c->depth - 1];
    sc_xml_node *n = f->node;
    sc_xml_doc *d = c->d;
    if (f->last_child != NULL) {
        if (!is_blank(s, (size_t)len)) fail(c, SC_ERR_DECODE_ERROR); /* mixed content */
        return;
    }
    if ((size_t)len > SC_XML_MAX_TEXT - n->text_len || (size_t)len >= d->scap - d->slen) {
        fail(c, SC_ERR_DECODE_ERROR);
        return;
    }
    memcpy(d->str + d->slen, s, (size_t)len);
    d->slen += (size_t)len;
    n->text_len += (size_t)len;
}

/* Every construct outside the profile lands in one of these. */
static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
    fail(ud, SC_ERR_DECODE_ERROR);
}

static void XMLCALL on_entity_decl(void *ud, const XML_Char *name, int is_param,
                                   const XML_Char *value, int value_len, const XML_Char *base,
                                   const XML_Char *sysid, const XML_Char *pubid,
                                   const XML_Char *notation)
{
    fail(ud, SC_ERR_DECODE_ERROR);
}

static void XMLCALL on_skipped_entity(void *ud, const XML_Char *name, int is_param)
{
    fail(ud, SC_ERR_DECODE_ERROR);
}

static void XMLCALL on_pi(void *ud, const XML_Char *target, const XML_Char *data)
{
    fail(ud, SC_ERR_DECODE_ERROR);
}

static void XMLCALL on_xml_decl(void *ud, const XML_Char *version, const XML_Char *encoding,
                                int standalone)
{
    fail(ud, SC_ERR_DECODE_ERROR);
}

static void XMLCALL on_comment(void *ud, const XML_Char *data)
{
    fail(ud, SC_ERR_DECODE_ERROR);
}

static void XMLCALL on_cdata(void *ud)
{
    fail(ud, SC_ERR_DECODE_ERROR);
}

struct sc_xml_parser {
    XML_Parser p;
};

/* Expat allocates through the library's allocator too (sixchat/alloc.h). */
static const XML_Memory_Handling_Suite xml_mem = {sc__malloc, sc__realloc, sc__free};

static XML_Parser new_expat(void)
{
    return XML_ParserCreate_MM("UTF-8", &xml_mem, NULL);
}

sc_xml_parser *sc_xml_parser_new(void)
{
    sc_xml_parser *xp = sc__malloc(sizeof *xp);
    if (xp == NULL) return NULL;
    if ((xp->p = new_expat()) == NULL) {
        sc__free(xp);
        return NULL;
    }
    return xp;
}

void sc_xml_parser_free(sc_xml_parser *xp)
{
    if (xp == NULL) return;
    XML_ParserFree(xp->p);
    sc__free(xp);
}

/* Every handler and setting of the profile; XML_ParserReset clears them, so this runs per document.
 */
static void setup(XML_Parser p, xml_ctx *c)
{
    /*
     * A fixed salt keeps expat from reading the OS random source per parser
     * (the core is sans-I/O); hash flooding cannot matter within 32 elements
     * of 8 attributes each.
     */
    XML_SetHashSalt(p, 0x5ec2e7u);
    XML_SetUserData(p, c);
    XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
    XML_SetElementHandler(p, on_start, on_end);
    XML_SetCharacterDataHandler(p, on_text);
    XML_SetStartDoctypeDeclHandler(p, on_doctype);
    XML_SetEntityDeclHandler(p, on_entity_decl);
    XML_SetSkippedEntityHandler(p, on_skipped_entity);
    XML_SetProcessingInstructionHandler(p, on_pi);
    XML_SetXmlDeclHandler(p, on_xml_decl);
    XML_SetCommentHandler(p, on_comment);
    XML_SetStartCdataSectionHandler(p, on_cdata);
}

int sc_xml_parse(const uint8_t *doc, size_t len, sc_xml_doc **out)
{
    return sc_xml_parse_with(NULL, doc, len, out);
}

int sc_xml_parse_with(sc_xml_parser *xp, const uint8_t *doc, size_t len, sc_xml_doc **out)
{
    xml_ctx c = {0};
    int ret = SC_ERR_DECODE_ERROR;
    *out = NULL;

    /* Refused before expat sees them: oversize input, and bytes expat would otherwise accept
     * (a byte order mark) or that must never reach a C string (NUL). */
    if (len == 0 || len > SC_XML_MAX_DOC || memchr(doc, 0, len) != NULL ||
        (len >= 3 && memcmp(doc, "\xEF\xBB\xBF", 3) == 0))
        return SC_ERR_DECODE_ERROR;

    size_t scap = len + SC_XML_MAX_NULS;
    c.d = sc__malloc(sizeof(*c.d) + scap);
    if (xp != NULL)
        c.p = XML_ParserReset(xp->p, "UTF-8") ? xp->p : NULL;
    else
        c.p = new_expat();
    if (c.d == NULL || c.p == NULL) {
        ret = SC_ERR_NOMEM;
        goto out;
    }
    c.d->nnodes = c.d->nattrs = c.d->slen = 0;
    c.d->scap = scap;
    setup(c.p, &c);

    if (XML_Parse(c.p, (const char *)doc, (int)len, XML_TRUE) != XML_STATUS_OK) {
        if (c.err != 0)
            ret = c.err;
        else if (XML_GetErrorCode(c.p) == XML_ERROR_NO_MEMORY)
            ret = SC_ERR_NOMEM;
        goto out;
    }
    /* Expat insists on exactly one root element, closed; check anyway rather than assume. */
    if (c.err != 0 || c.d->nnodes == 0 || c.depth != 0) goto out;

    *out = c.d;
    c.d = NULL;
    ret = SC_OK;

out:
    if (c.p != NULL && xp == NULL) XML_ParserFree(c.p);
    sc__free(c.d);
    return ret;
}

void sc_xml_free(sc_xml_doc *d)
{
    sc__free(d);
}

const sc_xml_node *sc_xml_root(const sc_xml_doc *d)
{
    return d != NULL && d->nnodes > 0 ? &d->nodes[0] : NULL;
}

const char *sc_xml_attr_get(const sc_xml_node *n, const char *name, size_t *len)
{
    for (size_t i = 0; i < n->nattrs; i++) {
        if (strcmp(n->attrs[i].name, name) == 0) {
            if (len != NULL) *len = n->attrs[i].value_len;
            return n->attrs[i].value;
        }
    }
    if (len != NULL) *len = 0;
    return NULL;
}

const sc_xml_node *sc_xml_child(const sc_xml_node *n, const char *name)
{
    for (const sc_xml_node *k = n->first_child; k != NULL; k = k->next)
        if (strcmp(k->name, name) == 0) return k;
    return NULL;
}

size_t sc_xml_nchildren(const sc_xml_node *n)
{
    size_t count = 0;
    for (const sc_xml_node *k = n->first_child; k != NULL; k = k->next)
        count++;
    return count;
}

/*
 * Escapes s[0..n). Beyond the five markup characters, CR (and TAB and LF in
 * attributes) become character references, because a parser normalises
 * them literally and the reader would see other bytes than we wrote. Other
 * control characters cannot be written in XML 1.0 at all: the buffer fails.
 */
static void put_escaped(sc_buf *b, const char *s, size_t n, int in_attr)
{
    size_t run = 0; /* start of the pending unescaped run */
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        const char *rep = NULL;
        switch (ch) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&apos;";
            break;
        case '\r':
            rep = "&#13;";
            break;
        case '\t':
            rep = in_attr ? "&#9;" : NULL;
            break;
        case '\n':
            rep = in_attr ? "&#10;" : NULL;
            break;
        default:
            if (ch < 0x20) {
                b->failed = 1;
                return;
            }
        }
        if (rep != NULL) {
            sc_buf_put(b, s + run, i - run);
            sc_buf_put_str(b, rep);
            run = i + 1;
        }
    }
    sc_buf_put(b, s + run, n - run);
}

void sc_xml_w_open(sc_buf *b, const char *name)
{
    sc_buf_put_u8(b, '<');
    sc_buf_put_str(b, name);
}

void sc_xml_w_attr(sc_buf *b, const char *name, const char *value)
{
    sc_xml_w_attr_n(b, name, value, strlen(value));
}

void sc_xml_w_attr_n(sc_buf *b, const char *name, const char *value, size_t len)
{
    sc_buf_put_u8(b, ' ');
    sc_buf_put_str(b, name);
    sc_buf_put(b, "=\"", 2);
    put_escaped(b, value, len, 1);
    sc_buf_put_u8(b, '"');
}

void sc_xml_w_attr_u64(sc_buf *b, const char *name, uint64_t v)
{
    char digits[20];
    size_t i = sizeof(digits);
    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    sc_xml_w_attr_n(b, name, digits + i, sizeof(digits) - i);
}

void sc_xml_w_end_empty(sc_buf *b)
{
    sc_buf_put(b, "/>", 2);
}

void sc_xml_w_end_open(sc_buf *b)
{
    sc_buf_put_u8(b, '>');
}

void sc_xml_w_text(sc_buf *b, const char *text, size_t len)
{
    put_escaped(b, text, len, 0);
}

void sc_xml_w_close(sc_buf *b, const char *name)
{
    sc_buf_put(b, "</", 2);
    sc_buf_put_str(b, name);
    sc_buf_put_u8(b, '>');
}
