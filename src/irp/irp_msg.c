/*
 * irp_msg.c - what every IRP message shares (docs/IRP.md 4, 5): names of
 * ops, statuses and enums, the field codecs, the <info> and <binding>
 * elements, and the document entry point with its limits.
 *
 * Requests are irp_req.c, responses and events irp_resp.c.
 */
#include "irp_msg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sc_base64.h"
#include "sc_cert.h"
#include "sixchat/error.h"

/* ---- names ---------------------------------------------------------------- */

static const char *const op_names[IRP_OP_COUNT] = {
    [IRP_OP_CAPABILITIES] = "capabilities",
    [IRP_OP_CA_CERTS] = "ca-certs",
    [IRP_OP_PING] = "ping",
    [IRP_OP_LOGIN] = "login",
    [IRP_OP_ENROLL] = "enroll",
    [IRP_OP_RENEW] = "renew",
    [IRP_OP_REGISTER] = "register",
    [IRP_OP_UNREGISTER] = "unregister",
    [IRP_OP_LOOKUP] = "lookup",
    [IRP_OP_WATCH] = "watch",
    [IRP_OP_UNWATCH] = "unwatch",
    [IRP_OP_CERT_STATUS] = "cert-status",
    [IRP_OP_REVOKE] = "revoke",
    [IRP_OP_USER_INFO] = "user-info",
    [IRP_OP_LOOKUP_POLICY] = "lookup-policy",
    [IRP_OP_ACCESS_LOG] = "access-log",
    [IRP_OP_PKCS12_PUT] = "pkcs12-put",
    [IRP_OP_PKCS12_GET] = "pkcs12-get",
    [IRP_OP_LIST_USERS] = "list-users",
};

const char *irp_op_name(irp_op op)
{
    return op > IRP_OP_NONE && op < IRP_OP_COUNT ? op_names[op] : NULL;
}

irp_op irp_op_by_name(const char *s, size_t n)
{
    for (int op = IRP_OP_NONE + 1; op < IRP_OP_COUNT; op++)
        if (strlen(op_names[op]) == n && memcmp(op_names[op], s, n) == 0) return (irp_op)op;
    return IRP_OP_NONE;
}

const char *irp_status_name(int status)
{
    switch (status) {
    case IRP_OK:
        return "ok";
    case IRP_BAD_REQUEST:
        return "bad-request";
    case IRP_AUTH_REQUIRED:
        return "auth-required";
    case IRP_FORBIDDEN:
        return "forbidden";
    case IRP_NOT_FOUND:
        return "not-found";
    case IRP_CONFLICT:
        return "conflict";
    case IRP_GONE:
        return "gone";
    case IRP_TOO_LARGE:
        return "too-large";
    case IRP_INVALID:
        return "invalid";
    case IRP_RATE_LIMITED:
        return "rate-limited";
    case IRP_INTERNAL:
        return "internal";
    case IRP_UNKNOWN_OP:
        return "unknown-op";
    case IRP_UNAVAILABLE:
        return "unavailable";
    }
    return "unknown";
}

const irp__name irp__access_names[] = {
    {"anyone", IRP_ACCESS_ANYONE},
    {"list", IRP_ACCESS_LIST},
    {"nobody", IRP_ACCESS_NOBODY},
    {NULL, 0},
};

const irp__name irp__cert_state_names[] = {
    {"valid", IRP_CERT_VALID},
    {"revoked", IRP_CERT_REVOKED},
    {"expired", IRP_CERT_EXPIRED},
    {"unknown", IRP_CERT_UNKNOWN},
    {NULL, 0},
};

const irp__name irp__reason_names[] = {
    {"unspecified", IRP_REASON_UNSPECIFIED},
    {"key-compromise", IRP_REASON_KEY_COMPROMISE},
    {"ca-compromise", IRP_REASON_CA_COMPROMISE},
    {"affiliation-changed", IRP_REASON_AFFILIATION_CHANGED},
    {"superseded", IRP_REASON_SUPERSEDED},
    {"cessation-of-operation", IRP_REASON_CESSATION_OF_OPERATION},
    {"privilege-withdrawn", IRP_REASON_PRIVILEGE_WITHDRAWN},
    {NULL, 0},
};

const irp__name irp__change_names[] = {
    {"register", IRP_CHANGE_REGISTER},
    {"unregister", IRP_CHANGE_UNREGISTER},
    {"expire", IRP_CHANGE_EXPIRE},
    {"revoke", IRP_CHANGE_REVOKE},
    {"policy", IRP_CHANGE_POLICY},
    {"shutdown", IRP_CHANGE_SHUTDOWN},
    {NULL, 0},
};

const irp__name irp__login_names[] = {
    {"password", IRP_LOGIN_PASSWORD},
    {"token", IRP_LOGIN_TOKEN},
    {"certificate", IRP_LOGIN_CERTIFICATE},
    {NULL, 0},
};

const char *irp__name_of(const irp__name *t, int value)
{
    for (; t->name != NULL; t++)
        if (t->value == value) return t->name;
    return NULL;
}

int irp__value_of(const irp__name *t, const char *s, size_t n)
{
    for (; t->name != NULL; t++)
        if (strlen(t->name) == n && memcmp(t->name, s, n) == 0) return t->value;
    return 0;
}

/* ---- field rules ------------------------------------------------------------ */

int irp_valid_id(const char *s, size_t n)
{
    if (s == NULL || n == 0 || n > IRP_ID_MAX) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int irp_valid_user(const char *s)
{
    return sc_cert_valid_user_id(s);
}

int irp_valid_token(const char *s, size_t n)
{
    if (s == NULL || n != IRP_TOKEN_LEN) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

static int is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int irp_valid_serial(const char *s, size_t n)
{
    if (s == NULL || n == 0 || n > IRP_SERIAL_MAX || s[0] == '0') return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_lower_hex(s[i])) return 0;
    return 1;
}

int irp__valid_info_name(const char *s, size_t n)
{
    if (s == NULL || n == 0 || n > IRP_INFO_NAME_MAX) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return 0;
    }
    return 1;
}

int irp__valid_text(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    if (n > 0 && s == NULL) return 0;
    while (i < n) {
        unsigned c = u[i];
        if (c < 0x80) {
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return 0;
            i++;
            continue;
        }
        size_t len;
        unsigned cp;
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (n - i < len) return 0;
        for (size_t k = 1; k < len; k++) {
            if ((u[i + k] & 0xc0) != 0x80) return 0;
            cp = cp << 6 | (u[i + k] & 0x3f);
        }
        /* Overlong forms, surrogates, beyond U+10FFFF, and the two non-characters XML forbids. */
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
            return 0;
        i += len;
    }
    return 1;
}

int irp__parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 20 || (n > 1 && s[0] == '0')) return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int irp__str_equal(const char *a, const char *b)
{
    if (a == NULL || b == NULL) return a == b;
    return strcmp(a, b) == 0;
}

/* ---- parsing ---------------------------------------------------------------- */

int irp__fail(irp__p *p, int st, const char *fmt, ...)
{
    if (p->st == 0) {
        va_list ap;
        p->st = st;
        va_start(ap, fmt);
        vsnprintf(p->err, 128, fmt, ap);
        va_end(ap);
    }
    return p->st;
}

int irp__doc(irp__p *p, sc_xml_parser *xp, const uint8_t *doc, size_t len, const char *root,
             sc_xml_doc **out)
{
    *out = NULL;
    p->doc_len = len;
    /* Checked here so that an oversized document is 413, not the profile's generic refusal. */
    if (len > IRP_MAX_DOC)
        return irp__fail(p, IRP_TOO_LARGE, "document of %zu bytes exceeds %d", len, IRP_MAX_DOC);
    if (doc == NULL || len == 0) return irp__fail(p, IRP_BAD_REQUEST, "empty document");
    int rc = sc_xml_parse_with(xp, doc, len, out);
    if (rc == SC_ERR_NOMEM) return irp__fail(p, IRP_INTERNAL, "out of memory");
    if (rc != SC_OK) return irp__fail(p, IRP_BAD_REQUEST, "malformed XML or outside the profile");
    const sc_xml_node *n = sc_xml_root(*out);
    if (root != NULL && strcmp(n->name, root) != 0) {
        sc_xml_free(*out);
        *out = NULL;
        return irp__fail(p, IRP_BAD_REQUEST, "root element is not <%s>", root);
    }
    return 0;
}

int irp__attr_str(irp__p *p, const sc_xml_node *n, const char *name, int required, const char **out,
                  size_t *len)
{
    size_t l = 0;
    const char *v = sc_xml_attr_get(n, name, &l);
    if (v == NULL) {
        if (required) return irp__fail(p, IRP_BAD_REQUEST, "<%s>: missing %s", n->name, name);
        return 0;
    }
    *out = v;
    if (len != NULL) *len = l;
    return 0;
}

int irp__attr_id(irp__p *p, const sc_xml_node *n, const char *name, int required, const char **out)
{
    const char *v = NULL;
    size_t l = 0;
    if (irp__attr_str(p, n, name, required, &v, &l) != 0 || v == NULL) return p->st;
    if (!irp_valid_id(v, l))
        return irp__fail(p, IRP_BAD_REQUEST, "<%s>: invalid %s (1..64 of A-Za-z0-9._-)", n->name,
                         name);
    *out = v;
    return 0;
}

int irp__attr_user(irp__p *p, const sc_xml_node *n, const char *name, int required,
                   const char **out)
{
    const char *v = NULL;
    if (irp__attr_str(p, n, name, required, &v, NULL) != 0 || v == NULL) return p->st;
    if (!irp_valid_user(v))
        return irp__fail(p, IRP_BAD_REQUEST, "<%s>: %s is not a valid user ID", n->name, name);
    *out = v;
    return 0;
}

int irp__attr_u64(irp__p *p, const sc_xml_node *n, const char *name, int required, uint64_t *out,
                  int *present)
{
    const char *v = NULL;
    size_t l = 0;
    if (irp__attr_str(p, n, name, required, &v, &l) != 0 || v == NULL) return p->st;
    if (irp__parse_u64(v, l, out) != 0)
        return irp__fail(p, IRP_BAD_REQUEST, "<%s>: %s is not a decimal number", n->name, name);
    if (present != NULL) *present = 1;
    return 0;
}

int irp__attr_u32(irp__p *p, const sc_xml_node *n, const char *name, int required, uint32_t *out)
{
    uint64_t v = 0;
    int present = 0;
    if (irp__attr_u64(p, n, name, required, &v, &present) != 0 || !present) return p->st;
    if (v > UINT32_MAX)
        return irp__fail(p, IRP_BAD_REQUEST, "<%s>: %s out of range", n->name, name);
    *out = (uint32_t)v;
    return 0;
}

int irp__attr_port(irp__p *p, const sc_xml_node *n, const char *name, uint16_t *out)
{
    uint64_t v = 0;
    int present = 0;
    if (irp__attr_u64(p, n, name, 1, &v, &present) != 0) return p->st;
    if (v == 0 || v > 65535)
        return irp__fail(p, IRP_BAD_REQUEST, "<%s>: %s must be 1..65535", n->name, name);
    *out = (uint16_t)v;
    return 0;
}

int irp__attr_flag(irp__p *p, const sc_xml_node *n, const char *name, int *out)
{
    const char *v = NULL;
    size_t l = 0;
    if (irp__attr_str(p, n, name, 0, &v, &l) != 0 || v == NULL) return p->st;
    if (l != 1 || (v[0] != '0' && v[0] != '1'))
        return irp__fail(p, IRP_BAD_REQUEST, "<%s>: %s must be 0 or 1", n->name, name);
    *out = v[0] == '1';
    return 0;
}

int irp__attr_enum(irp__p *p, const sc_xml_node *n, const char *name, const irp__name *t,
                   int required, int *out)
{
    const char *v = NULL;
    size_t l = 0;
    if (irp__attr_str(p, n, name, required, &v, &l) != 0 || v == NULL) return p->st;
    int e = irp__value_of(t, v, l);
    if (e == 0) return irp__fail(p, IRP_BAD_REQUEST, "<%s>: unknown %s", n->name, name);
    *out = e;
    return 0;
}

static int hexval(char c)
{
    return c <= '9' ? c - '0' : c - 'a' + 10;
}

int irp__attr_fp(irp__p *p, const sc_xml_node *n, const char *name, uint8_t out[32], int *present)
{
    const char *v = NULL;
    size_t l = 0;
    if (irp__attr_str(p, n, name, 0, &v, &l) != 0 || v == NULL) return p->st;
    int ok = l == 64;
    for (size_t i = 0; ok && i < l; i++)
        ok = is_lower_hex(v[i]);
    if (!ok)
        return irp__fail(p, IRP_BAD_REQUEST, "<%s>: %s must be 64 lower-case hex digits", n->name,
                         name);
    for (size_t i = 0; i < 32; i++)
        out[i] = (uint8_t)(hexval(v[2 * i]) << 4 | hexval(v[2 * i + 1]));
    *present = 1;
    return 0;
}

int irp__attr_serial(irp__p *p, const sc_xml_node *n, const char *name, const char **out)
{
    const char *v = NULL;
    size_t l = 0;
    if (irp__attr_str(p, n, name, 0, &v, &l) != 0 || v == NULL) return p->st;
    if (!irp_valid_serial(v, l))
        return irp__fail(p, IRP_BAD_REQUEST,
                         "<%s>: %s must be 1..40 lower-case hex digits without leading zero",
                         n->name, name);
    *out = v;
    return 0;
}

int irp__attr_addr(irp__p *p, const sc_xml_node *n, const char *name, irp_addr *out, int *present)
{
    const char *v = NULL;
    size_t l = 0;
    if (irp__attr_str(p, n, name, 0, &v, &l) != 0 || v == NULL) return p->st;
    if (irp_addr_parse(v, l, out) != 0)
        return irp__fail(p, IRP_INVALID, "<%s>: %s is not an IP address literal", n->name, name);
    *present = 1;
    return 0;
}

int irp__b64(irp__p *p, const char *s, size_t n, size_t max, const char *what, const uint8_t **out,
             size_t *out_len)
{
    size_t dec = sc_base64_decoded_max(n);
    if (n == 0) return irp__fail(p, IRP_BAD_REQUEST, "%s: empty", what);
    if (dec == SIZE_MAX) return irp__fail(p, IRP_BAD_REQUEST, "%s: bad base64", what);
    /* The exact size, padding taken off (the decoder checks the padding itself). */
    dec -= (s[n - 1] == '=') + (s[n - 1] == '=' && s[n - 2] == '=');
    /* The size is known from the length: refuse before decoding anything. */
    if (dec > max) return irp__fail(p, IRP_TOO_LARGE, "%s: more than %zu bytes", what, max);
    if (p->blob == NULL) {
        /* Base64 texts are disjoint parts of the document: 3/4 of it holds them all. */
        p->blob_cap = p->doc_len / 4 * 3 + 3;
        p->blob = malloc(p->blob_cap);
        if (p->blob == NULL) return irp__fail(p, IRP_INTERNAL, "out of memory");
    }
    if (dec > p->blob_cap - p->blob_len) return irp__fail(p, IRP_TOO_LARGE, "%s: too large", what);
    long got = sc_base64_decode(s, n, p->blob + p->blob_len, p->blob_cap - p->blob_len);
    if (got <= 0) return irp__fail(p, IRP_BAD_REQUEST, "%s: bad base64", what);
    *out = p->blob + p->blob_len;
    *out_len = (size_t)got;
    p->blob_len += (size_t)got;
    return 0;
}

int irp__parse_info(irp__p *p, const sc_xml_node *c, irp_info *it)
{
    const char *name = NULL;
    size_t nl = 0;
    if (irp__attr_str(p, c, "name", 1, &name, &nl) != 0) return p->st;
    if (!irp__valid_info_name(name, nl))
        return irp__fail(p, IRP_BAD_REQUEST, "<info>: name must be 1..32 of a-z0-9-");
    if (c->first_child != NULL) return irp__fail(p, IRP_BAD_REQUEST, "<info>: has children");
    if (c->text_len > IRP_INFO_VALUE_MAX)
        return irp__fail(p, IRP_TOO_LARGE, "<info name=\"%s\">: value over %d bytes", name,
                         IRP_INFO_VALUE_MAX);
    it->name = name;
    it->value = c->text;
    it->value_len = c->text_len;
    return 0;
}

int irp__check_info(const irp_info *it)
{
    return it->name != NULL && irp__valid_info_name(it->name, strlen(it->name)) &&
           it->value_len <= IRP_INFO_VALUE_MAX && irp__valid_text(it->value, it->value_len);
}

int irp__info_equal(const irp_info *a, const irp_info *b)
{
    return irp__str_equal(a->name, b->name) && a->value_len == b->value_len &&
           (a->value_len == 0 || memcmp(a->value, b->value, a->value_len) == 0);
}

/* addrs="A B C": 1..IRP_MAX_ADDRS literals separated by single spaces. */
static int parse_addr_list(irp__p *p, const char *v, size_t l, irp_binding *b)
{
    size_t start = 0;
    b->n_addrs = 0;
    for (size_t i = 0; i <= l; i++) {
        if (i < l && v[i] != ' ') continue;
        if (i == start) return irp__fail(p, IRP_BAD_REQUEST, "<binding>: malformed addrs list");
        if (b->n_addrs == IRP_MAX_ADDRS)
            return irp__fail(p, IRP_TOO_LARGE, "<binding>: more than %d addresses", IRP_MAX_ADDRS);
        if (irp_addr_parse(v + start, i - start, &b->addrs[b->n_addrs]) != 0)
            return irp__fail(p, IRP_INVALID, "<binding>: not an IP address literal in addrs");
        b->n_addrs++;
        start = i + 1;
    }
    return 0;
}

int irp__parse_binding(irp__p *p, const sc_xml_node *c, irp_binding *b)
{
    const char *addrs = NULL;
    size_t al = 0;
    memset(b, 0, sizeof *b);
    if (irp__attr_id(p, c, "device", 1, &b->device) != 0 ||
        irp__attr_str(p, c, "addrs", 1, &addrs, &al) != 0 || parse_addr_list(p, addrs, al, b) ||
        irp__attr_port(p, c, "port", &b->port) != 0 ||
        irp__attr_u64(p, c, "expires", 1, &b->expires, NULL) != 0 ||
        irp__attr_u64(p, c, "updated", 1, &b->updated, NULL) != 0 ||
        irp__attr_u64(p, c, "seq", 1, &b->seq, NULL) != 0)
        return p->st;
    return 0;
}

int irp__check_binding(const irp_binding *b)
{
    if (b->device == NULL || !irp_valid_id(b->device, strlen(b->device)) || b->port == 0 ||
        b->n_addrs == 0 || b->n_addrs > IRP_MAX_ADDRS)
        return 0;
    for (size_t i = 0; i < b->n_addrs; i++)
        if (b->addrs[i].family != 4 && b->addrs[i].family != 6) return 0;
    return 1;
}

void irp__write_binding(sc_buf *out, const irp_binding *b)
{
    char text[IRP_MAX_ADDRS * IRP_ADDR_STRLEN];
    size_t len = 0;
    for (size_t i = 0; i < b->n_addrs; i++) {
        char one[IRP_ADDR_STRLEN];
        if (irp_addr_format(&b->addrs[i], one) != 0) { /* not after irp__check_binding */
            out->failed = 1;                           /* the document's writer then fails */
            return;
        }
        if (i > 0) text[len++] = ' ';
        memcpy(text + len, one, strlen(one));
        len += strlen(one);
    }
    sc_xml_w_open(out, "binding");
    sc_xml_w_attr(out, "device", b->device);
    sc_xml_w_attr_n(out, "addrs", text, len);
    sc_xml_w_attr_u64(out, "port", b->port);
    sc_xml_w_attr_u64(out, "expires", b->expires);
    sc_xml_w_attr_u64(out, "updated", b->updated);
    sc_xml_w_attr_u64(out, "seq", b->seq);
    sc_xml_w_end_empty(out);
}

int irp__binding_equal(const irp_binding *a, const irp_binding *b)
{
    if (!irp__str_equal(a->device, b->device) || a->n_addrs != b->n_addrs || a->port != b->port ||
        a->expires != b->expires || a->updated != b->updated || a->seq != b->seq)
        return 0;
    for (size_t i = 0; i < a->n_addrs; i++)
        if (!irp_addr_equal(&a->addrs[i], &b->addrs[i])) return 0;
    return 1;
}

/* ---- writing ---------------------------------------------------------------- */

void irp__w_fp(sc_buf *b, const char *name, const uint8_t fp[32])
{
    static const char hex[] = "0123456789abcdef";
    char text[64];
    for (size_t i = 0; i < 32; i++) {
        text[2 * i] = hex[fp[i] >> 4];
        text[2 * i + 1] = hex[fp[i] & 15];
    }
    sc_xml_w_attr_n(b, name, text, sizeof text);
}

void irp__w_addr(sc_buf *b, const char *name, const irp_addr *a)
{
    char text[IRP_ADDR_STRLEN];
    if (irp_addr_format(a, text) != 0) {
        b->failed = 1; /* a family the parsers never produce: the document's writer fails */
        return;
    }
    sc_xml_w_attr(b, name, text);
}

void irp__w_b64_text(sc_buf *b, const uint8_t *p, size_t n)
{
    sc_base64_encode(b, p, n);
}

int irp__w_finish(sc_buf *out, size_t start)
{
    if (!sc_buf_ok(out)) return SC_ERR_NOMEM;
    if (out->len - start > IRP_MAX_DOC) {
        memset(out->data + start, 0, out->len - start);
        out->len = start;
        return SC_ERR_TOO_LARGE;
    }
    return SC_OK;
}
