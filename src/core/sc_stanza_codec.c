/*
 * sc_stanza_codec.c - parse and write application stanzas (PROTOCOL.md 10).
 */
#include <string.h>
#include "sixchat/error.h"
#include "sc_stanza_codec.h"

static const struct {
    const char *name;
    sc_stanza_type type;
} names[] = {
    {"msg", SC_STANZA_MSG},
    {"receipt", SC_STANZA_RECEIPT},
    {"ping", SC_STANZA_PING},
    {"pong", SC_STANZA_PONG},
    {"file-offer", SC_STANZA_FILE_OFFER},
    {"file-accept", SC_STANZA_FILE_ACCEPT},
    {"file-done", SC_STANZA_FILE_DONE},
    {"typing", SC_STANZA_TYPING},
    {"read", SC_STANZA_READ},
    {"file-reject", SC_STANZA_FILE_REJECT},
    {"device", SC_STANZA_DEVICE},
    {"msg-reject", SC_STANZA_MSG_REJECT},
};

static const char *type_name(sc_stanza_type t)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].type == t) return names[i].name;
    return NULL;
}

int sc_stanza_valid_id(const char *s, size_t n)
{
    if (s == NULL || n == 0 || n > SC_STANZA_ID_MAX) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/*
 * Chat text is mostly ASCII: eight bytes at a time, a word with no byte at
 * or above 0x80 and none below 0x20 is valid as it stands. (x - 0x20..)
 * & ~x & 0x80.. is non-zero exactly when some byte of x, all below 0x80,
 * is below 0x20.
 */
static int ascii_word_ok(const char *s)
{
    uint64_t x;
    memcpy(&x, s, 8);
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    return (x & highs) == 0 && ((x - 0x20 * ones) & ~x & highs) == 0;
}

/*
 * 1 if s[0..n) is UTF-8 of XML 1.0 Chars only: anything else the peer's
 * parser must refuse, so a caller's text would end the session there.
 */
int sc_stanza_valid_text(const char *s, size_t n)
{
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000}; /* no overlong forms */
    for (size_t i = 0, len; i < n; i += len) {
        if (n - i >= 8 && ascii_word_ok(s + i)) {
            len = 8;
            continue;
        }
        uint32_t c = (unsigned char)s[i];
        len = c < 0x80                 ? 1
              : c >= 0xc2 && c <= 0xdf ? 2
              : c >= 0xe0 && c <= 0xef ? 3
              : c >= 0xf0 && c <= 0xf4 ? 4
                                       : 0;
        if (len == 0 || n - i < len) return 0;
        if (len > 1) c &= 0x3fu >> (len - 1);
        for (size_t k = 1; k < len; k++) {
            if (((unsigned char)s[i + k] & 0xc0) != 0x80) return 0;
            c = c << 6 | ((unsigned char)s[i + k] & 0x3f);
        }
        if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) || c == 0xfffe ||
            c == 0xffff || (c < 0x20 && c != '\t' && c != '\n' && c != '\r'))
            return 0;
    }
    return 1;
}

/* A file name is one path component: no '/', '\\' or control bytes, not "." or "..". */
static int valid_name(const char *s, size_t n)
{
    if (s == NULL || n == 0 || n > SC_STANZA_NAME_MAX) return 0;
    if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == '/' || s[i] == '\\' || s[i] == 0x7f) return 0;
    return 1;
}

/*
 * A file-reject or msg-reject reason (10.1): up to 256 bytes of UTF-8 XML characters on
 * one line, no control character at all, so that it can be shown as it is.
 */
static int valid_reason(const char *s, size_t n)
{
    if (n > SC_STANZA_REASON_MAX || !sc_stanza_valid_text(s, n)) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return 0;
    return 1;
}

/* typing's state (10.2): exactly "on" or "off". */
static int parse_typing(const char *s, size_t n, sc_typing_state *out)
{
    if (s != NULL && n == 2 && memcmp(s, "on", 2) == 0)
        *out = SC_TYPING_ON;
    else if (s != NULL && n == 3 && memcmp(s, "off", 3) == 0)
        *out = SC_TYPING_OFF;
    else
        return 0;
    return 1;
}

/* Decimal without sign or leading zeros (except "0"), within uint64_t. */
static int parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (s == NULL || n == 0 || n > 20 || (n > 1 && s[0] == '0')) return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1; /* lowercase only: one spelling per digest */
}

static int parse_sha256(const char *s, size_t n, uint8_t out[32])
{
    if (s == NULL || n != 64) return 0;
    for (size_t i = 0; i < 32; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return 0;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 1;
}

static void put_sha256(sc_buf *b, const uint8_t d[32])
{
    static const char hex[] = "0123456789abcdef";
    char s[65];
    for (size_t i = 0; i < 32; i++) {
        s[2 * i] = hex[d[i] >> 4];
        s[2 * i + 1] = hex[d[i] & 15];
    }
    s[64] = '\0';
    sc_xml_w_attr(b, "sha256", s);
}

/*
 * The rules of 10.1 for the fields st's type carries, the same the parser
 * applies, so that the peer never answers our stanza with decode_error.
 */
static int fields_ok(const sc_stanza *st)
{
    switch (st->type) {
    case SC_STANZA_TYPING: /* the one stanza without an id (10.2) */
        return st->typing == SC_TYPING_ON || st->typing == SC_TYPING_OFF;
    case SC_STANZA_MSG:
        if (st->text_len > SC_STANZA_TEXT_MAX || (st->text == NULL && st->text_len) ||
            !sc_stanza_valid_text(st->text, st->text_len))
            return 0;
        break;
    case SC_STANZA_FILE_OFFER:
        if (st->name == NULL || !valid_name(st->name, strlen(st->name)) ||
            !sc_stanza_valid_text(st->name, strlen(st->name)))
            return 0;
        break;
    case SC_STANZA_FILE_REJECT:
    case SC_STANZA_MSG_REJECT:
        if (st->reason != NULL && !valid_reason(st->reason, strlen(st->reason))) return 0;
        break;
    default:
        break;
    }
    return st->id != NULL && sc_stanza_valid_id(st->id, strlen(st->id));
}

int sc_stanza_write(sc_buf *b, const sc_stanza *st)
{
    const char *name = type_name(st->type);
    /* Everything is checked before anything is written: a refusal leaves b as it was. */
    if (name == NULL || !fields_ok(st)) return SC_ERR_ARG;
    sc_xml_w_open(b, name);
    if (st->type == SC_STANZA_TYPING)
        sc_xml_w_attr(b, "state", st->typing == SC_TYPING_ON ? "on" : "off");
    else
        sc_xml_w_attr(b, "id", st->id);
    switch (st->type) {
    case SC_STANZA_MSG:
        sc_xml_w_attr_u64(b, "ts", st->ts);
        sc_xml_w_end_open(b);
        sc_xml_w_text(b, st->text, st->text_len);
        sc_xml_w_close(b, name);
        return sc_buf_ok(b) ? SC_OK : SC_ERR_NOMEM;
    case SC_STANZA_RECEIPT:
    case SC_STANZA_READ:
        sc_xml_w_attr_u64(b, "ts", st->ts);
        break;
    case SC_STANZA_FILE_OFFER:
        sc_xml_w_attr(b, "name", st->name);
        sc_xml_w_attr_u64(b, "size", st->size);
        put_sha256(b, st->sha256);
        break;
    case SC_STANZA_FILE_ACCEPT:
        sc_xml_w_attr_u64(b, "offset", st->offset);
        break;
    case SC_STANZA_FILE_DONE:
        put_sha256(b, st->sha256);
        break;
    case SC_STANZA_FILE_REJECT:
    case SC_STANZA_MSG_REJECT:
        if (st->reason != NULL) sc_xml_w_attr(b, "reason", st->reason);
        break;
    default: /* ping, pong, device: id only; typing: state only */
        break;
    }
    sc_xml_w_end_empty(b);
    return sc_buf_ok(b) ? SC_OK : SC_ERR_NOMEM;
}

#define ATTR(n, name, len) sc_xml_attr_get((n), (name), (len))

int sc_stanza_parse(const sc_xml_node *root, sc_stanza *st)
{
    size_t idlen = 0, len = 0;
    const char *v;
    memset(st, 0, sizeof *st);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(root->name, names[i].name) == 0) st->type = names[i].type;
    if (st->type == 0) return SC_OK;
    if (root->first_child || (st->type != SC_STANZA_MSG && root->text_len))
        return SC_ERR_DECODE_ERROR;
    if (st->type == SC_STANZA_TYPING) { /* no id: an id attribute is ignored (10.1) */
        v = ATTR(root, "state", &len);
        return parse_typing(v, len, &st->typing) ? SC_OK : SC_ERR_DECODE_ERROR;
    }
    st->id = ATTR(root, "id", &idlen);
    if (!sc_stanza_valid_id(st->id, idlen)) return SC_ERR_DECODE_ERROR;
    switch (st->type) {
    case SC_STANZA_MSG:
        if (root->text_len > SC_STANZA_TEXT_MAX) return SC_ERR_DECODE_ERROR;
        st->text = root->text;
        st->text_len = root->text_len;
        v = ATTR(root, "ts", &len);
        return parse_u64(v, len, &st->ts) ? SC_OK : SC_ERR_DECODE_ERROR;
    case SC_STANZA_RECEIPT:
    case SC_STANZA_READ:
        v = ATTR(root, "ts", &len);
        return parse_u64(v, len, &st->ts) ? SC_OK : SC_ERR_DECODE_ERROR;
    case SC_STANZA_FILE_REJECT: /* reason is optional; NULL when absent */
    case SC_STANZA_MSG_REJECT:
        st->reason = ATTR(root, "reason", &len);
        if (st->reason != NULL && !valid_reason(st->reason, len)) return SC_ERR_DECODE_ERROR;
        return SC_OK;
    case SC_STANZA_FILE_OFFER:
        st->name = ATTR(root, "name", &len);
        if (!valid_name(st->name, len) || memchr(st->name, '\0', len)) return SC_ERR_DECODE_ERROR;
        v = ATTR(root, "size", &len);
        if (!parse_u64(v, len, &st->size)) return SC_ERR_DECODE_ERROR;
        v = ATTR(root, "sha256", &len);
        return parse_sha256(v, len, st->sha256) ? SC_OK : SC_ERR_DECODE_ERROR;
    case SC_STANZA_FILE_ACCEPT:
        v = ATTR(root, "offset", &len);
        return parse_u64(v, len, &st->offset) ? SC_OK : SC_ERR_DECODE_ERROR;
    case SC_STANZA_FILE_DONE:
        v = ATTR(root, "sha256", &len);
        return parse_sha256(v, len, st->sha256) ? SC_OK : SC_ERR_DECODE_ERROR;
    default: /* ping, pong, device: id only */
        return SC_OK;
    }
}
