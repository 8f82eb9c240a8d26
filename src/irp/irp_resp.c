/*
 * irp_resp.c - IRP responses and events (docs/IRP.md 5.2, 5.4, 6) and the
 * bytes a registry signs in a lookup answer (7.4).
 *
 * A response does not name its op (responses come in request order, and
 * the client knows what it asked), so parsing is by element: every
 * attribute and child element a v1 response can carry is read when it is
 * there, and the client checks that what its op needs is present. Unknown
 * attributes and child elements are ignored, so that a later server can add
 * content without breaking v1 clients.
 */
#include "irp_msg_int.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "sc_crypto.h"
#include "sixchat/error.h"

void irp_resp_init(irp_resp *r)
{
    memset(r, 0, sizeof *r);
}

void irp_resp_clear(irp_resp *r)
{
    sc_xml_free(r->doc_);
    if (r->blob_ != NULL) {
        OPENSSL_cleanse(r->blob_, r->blob_len_); /* may hold a PKCS#12 */
        free(r->blob_);
    }
    irp_resp_init(r);
}

void irp_event_init(irp_event *e)
{
    memset(e, 0, sizeof *e);
}

void irp_event_clear(irp_event *e)
{
    sc_xml_free(e->doc_);
    irp_event_init(e);
}

/* ---- parsing: the child elements -------------------------------------------- */

/*
 * A list attribute of <caps>: 1..IRP_MAX_NAMES names of [a-z0-9-]
 * separated by single spaces. Known names set their bit; unknown ones are
 * ignored (a later server may offer more).
 */
static int parse_name_list(irp__p *p, const sc_xml_node *n, const char *attr, int kind,
                           uint32_t *mask)
{
    const char *v = NULL;
    size_t l = 0, start = 0, count = 0;
    if (irp__attr_str(p, n, attr, 0, &v, &l) != 0 || v == NULL) return p->st;
    for (size_t i = 0; i <= l; i++) {
        if (i < l && v[i] != ' ') continue;
        const char *s = v + start;
        size_t len = i - start;
        if (len == 0 || !irp__valid_info_name(s, len) || ++count > IRP_MAX_NAMES)
            return irp__fail(p, IRP_BAD_REQUEST, "<caps>: malformed %s list", attr);
        int bit = 0;
        if (kind == 'v') {
            uint64_t ver;
            if (irp__parse_u64(s, len, &ver) != 0)
                return irp__fail(p, IRP_BAD_REQUEST, "<caps>: malformed versions list");
            bit = ver >= 1 && ver <= 31 ? (int)ver : 0;
            if (bit) *mask |= (uint32_t)1 << bit;
        } else if (kind == 'o') {
            bit = (int)irp_op_by_name(s, len);
            if (bit) *mask |= (uint32_t)1 << bit;
        } else {
            *mask |= (uint32_t)irp__value_of(irp__login_names, s, len);
        }
        start = i + 1;
    }
    return 0;
}

static int parse_caps(irp__p *p, const sc_xml_node *c, irp_resp *r)
{
    if (r->has_caps) return irp__fail(p, IRP_BAD_REQUEST, "more than one <caps>");
    r->has_caps = 1;
    if (parse_name_list(p, c, "versions", 'v', &r->caps.versions) != 0 ||
        parse_name_list(p, c, "ops", 'o', &r->caps.ops) != 0 ||
        parse_name_list(p, c, "login", 'l', &r->caps.logins) != 0)
        return p->st;
    return 0;
}

static int parse_limits(irp__p *p, const sc_xml_node *c, irp_resp *r)
{
    irp_limits *l = &r->limits;
    if (r->has_limits) return irp__fail(p, IRP_BAD_REQUEST, "more than one <limits>");
    r->has_limits = 1;
    if (irp__attr_u32(p, c, "doc", 0, &l->doc) != 0 ||
        irp__attr_u32(p, c, "addrs", 0, &l->addrs) != 0 ||
        irp__attr_u32(p, c, "devices", 0, &l->devices) != 0 ||
        irp__attr_u32(p, c, "lifetime-min", 0, &l->lifetime_min) != 0 ||
        irp__attr_u32(p, c, "lifetime-max", 0, &l->lifetime_max) != 0 ||
        irp__attr_u32(p, c, "lifetime-default", 0, &l->lifetime_default) != 0 ||
        irp__attr_u32(p, c, "pipeline", 0, &l->pipeline) != 0 ||
        irp__attr_u32(p, c, "watches", 0, &l->watches) != 0)
        return p->st;
    return 0;
}

static int parse_cert(irp__p *p, const sc_xml_node *c, irp_cert *ct)
{
    int state = 0, reason = 0;
    if (irp__attr_enum(p, c, "status", irp__cert_state_names, 0, &state) != 0 ||
        irp__attr_serial(p, c, "serial", &ct->serial) != 0 ||
        irp__attr_fp(p, c, "fp", ct->fp, &ct->has_fp) != 0 ||
        irp__attr_user(p, c, "user", 0, &ct->user) != 0 ||
        irp__attr_u64(p, c, "not-after", 0, &ct->not_after, NULL) != 0 ||
        irp__attr_u64(p, c, "revoked", 0, &ct->revoked, NULL) != 0 ||
        irp__attr_enum(p, c, "reason", irp__reason_names, 0, &reason) != 0)
        return p->st;
    ct->state = (irp_cert_state)state;
    ct->reason = (irp_reason)reason;
    if (c->first_child != NULL) return irp__fail(p, IRP_BAD_REQUEST, "<cert>: has children");
    if (c->text_len > 0)
        return irp__b64(p, c->text, c->text_len, IRP_CERT_MAX, "<cert>", &ct->der, &ct->der_len);
    return 0;
}

static int parse_sig(irp__p *p, const sc_xml_node *c, irp_resp *r)
{
    const char *alg = NULL;
    size_t al = 0;
    int has_key = 0;
    if (r->has_sig) return irp__fail(p, IRP_BAD_REQUEST, "more than one <sig>");
    r->has_sig = 1;
    if (irp__attr_str(p, c, "alg", 1, &alg, &al) != 0 ||
        irp__attr_fp(p, c, "key", r->sig.key, &has_key) != 0)
        return p->st;
    if (!has_key) return irp__fail(p, IRP_BAD_REQUEST, "<sig>: missing key");
    if ((r->sig.alg = sc_sigalg_by_name(alg, al)) == 0)
        return irp__fail(p, IRP_BAD_REQUEST, "<sig>: unknown alg");
    return irp__b64(p, c->text, c->text_len, IRP_SIG_MAX, "<sig>", &r->sig.sig, &r->sig.sig_len);
}

static int parse_user_entry(irp__p *p, const sc_xml_node *c, irp_user_entry *u)
{
    int access = 0;
    if (irp__attr_user(p, c, "name", 1, &u->name) != 0 ||
        irp__attr_u32(p, c, "devices", 0, &u->devices) != 0 ||
        irp__attr_u32(p, c, "certs", 0, &u->certs) != 0 ||
        irp__attr_u64(p, c, "created", 0, &u->created, NULL) != 0 ||
        irp__attr_enum(p, c, "access", irp__access_names, 0, &access) != 0)
        return p->st;
    u->access = (irp_access)access;
    return 0;
}

static int parse_log_entry(irp__p *p, const sc_xml_node *c, irp_log_entry *e)
{
    const char *op = NULL;
    size_t ol = 0;
    if (irp__attr_u64(p, c, "id", 1, &e->id, NULL) != 0 ||
        irp__attr_u64(p, c, "ts", 1, &e->ts, NULL) != 0 ||
        irp__attr_user(p, c, "by", 1, &e->by) != 0 || irp__attr_str(p, c, "op", 1, &op, &ol) != 0)
        return p->st;
    if ((e->op = irp_op_by_name(op, ol)) == IRP_OP_NONE)
        return irp__fail(p, IRP_BAD_REQUEST, "<entry>: unknown op");
    return 0;
}

static int parse_p12(irp__p *p, const sc_xml_node *c, irp_resp *r)
{
    if (r->p12 != NULL) return irp__fail(p, IRP_BAD_REQUEST, "more than one <p12>");
    if (irp__attr_u64(p, c, "updated", 0, &r->p12_updated, NULL) != 0) return p->st;
    return irp__b64(p, c->text, c->text_len, IRP_P12_MAX, "<p12>", &r->p12, &r->p12_len);
}

/* Appends to a bounded array: 413 past its limit. */
#define TAKE(p, arr, n, max, what)                                                                 \
    ((n) == (max) ? (irp__fail((p), IRP_TOO_LARGE, "more than %d <%s>", (int)(max), (what)), NULL) \
                  : &(arr)[(n)++])

static int parse_resp_child(irp__p *p, const sc_xml_node *c, irp_resp *r)
{
    const char *nm = c->name;
    if (strcmp(nm, "caps") == 0) return parse_caps(p, c, r);
    if (strcmp(nm, "limits") == 0) return parse_limits(p, c, r);
    if (strcmp(nm, "binding") == 0) {
        irp_binding *b = TAKE(p, r->bindings, r->n_bindings, IRP_MAX_BINDINGS, "binding");
        return b == NULL ? p->st : irp__parse_binding(p, c, b);
    }
    if (strcmp(nm, "cert") == 0) {
        irp_cert *ct = TAKE(p, r->certs, r->n_certs, IRP_MAX_CERTS, "cert");
        return ct == NULL ? p->st : parse_cert(p, c, ct);
    }
    if (strcmp(nm, "info") == 0) {
        irp_info *it = TAKE(p, r->info, r->n_info, IRP_MAX_INFO, "info");
        return it == NULL ? p->st : irp__parse_info(p, c, it);
    }
    if (strcmp(nm, "allow") == 0) {
        const char **a = TAKE(p, r->allow, r->n_allow, IRP_MAX_ALLOW, "allow");
        if (a == NULL) return p->st;
        if (c->first_child != NULL || !irp_valid_user(c->text))
            return irp__fail(p, IRP_BAD_REQUEST, "<allow> is not a valid user ID");
        *a = c->text;
        return 0;
    }
    if (strcmp(nm, "user") == 0) {
        irp_user_entry *u = TAKE(p, r->users, r->n_users, IRP_MAX_USERS, "user");
        return u == NULL ? p->st : parse_user_entry(p, c, u);
    }
    if (strcmp(nm, "entry") == 0) {
        irp_log_entry *e = TAKE(p, r->log, r->n_log, IRP_MAX_LOG, "entry");
        return e == NULL ? p->st : parse_log_entry(p, c, e);
    }
    if (strcmp(nm, "p12") == 0) return parse_p12(p, c, r);
    if (strcmp(nm, "sig") == 0) return parse_sig(p, c, r);
    return 0; /* unknown: ignored (docs/IRP.md 4.4) */
}

static int parse_resp_root(irp__p *p, const sc_xml_node *root, irp_resp *r)
{
    const char *id = NULL, *msg = NULL;
    size_t msg_len = 0;
    uint64_t status = 0;
    int access = 0;
    if (irp__attr_id(p, root, "id", 0, &id) != 0) return p->st;
    if (id != NULL) memcpy(r->id, id, strlen(id) + 1);
    if (irp__attr_u64(p, root, "status", 1, &status, NULL) != 0) return p->st;
    if (status < 100 || status > 599)
        return irp__fail(p, IRP_BAD_REQUEST, "<resp>: status must be 100..599");
    r->status = (int)status;
    if (irp__attr_str(p, root, "msg", 1, &msg, &msg_len) != 0) return p->st;
    if (msg_len == 0 || msg_len > IRP_MSG_MAX)
        return irp__fail(p, IRP_BAD_REQUEST, "<resp>: msg must be 1..%d bytes", IRP_MSG_MAX);
    r->msg = msg;
    if (irp__attr_user(p, root, "user", 0, &r->user) != 0 ||
        irp__attr_u64(p, root, "at", 0, &r->at, NULL) != 0 ||
        irp__attr_u32(p, root, "granted", 0, &r->granted) != 0 ||
        irp__attr_addr(p, root, "seen", &r->seen, &r->has_seen) != 0 ||
        irp__attr_flag(p, root, "nat", &r->nat) != 0 ||
        irp__attr_enum(p, root, "access", irp__access_names, 0, &access) != 0 ||
        irp__attr_flag(p, root, "more", &r->more) != 0)
        return p->st;
    r->access = (irp_access)access;
    for (const sc_xml_node *c = root->first_child; c != NULL; c = c->next)
        if (parse_resp_child(p, c, r) != 0) return p->st;
    return 0;
}

/* Hands the tree and the blob to the struct, or frees them after a failure (keeping id, err). */
static int resp_finish(irp__p *p, irp_resp *r, sc_xml_doc *d)
{
    r->doc_ = d;
    r->blob_ = p->blob;
    r->blob_len_ = p->blob_len;
    if (p->st == 0) return 0;
    char keep_id[IRP_ID_MAX + 1], keep_err[sizeof r->err];
    memcpy(keep_id, r->id, sizeof keep_id);
    memcpy(keep_err, r->err, sizeof keep_err);
    irp_resp_clear(r);
    memcpy(r->id, keep_id, sizeof keep_id);
    memcpy(r->err, keep_err, sizeof keep_err);
    return p->st;
}

int irp_resp_parse(irp_resp *r, const uint8_t *doc, size_t len)
{
    return irp_resp_parse_with(NULL, r, doc, len);
}

int irp_resp_parse_with(sc_xml_parser *xp, irp_resp *r, const uint8_t *doc, size_t len)
{
    sc_xml_doc *d = NULL;
    irp_resp_init(r);
    irp__p p = {.err = r->err};
    if (irp__doc(&p, xp, doc, len, "resp", &d) == 0) (void)parse_resp_root(&p, sc_xml_root(d), r);
    return resp_finish(&p, r, d);
}

static int parse_event_root(irp__p *p, const sc_xml_node *root, irp_event *e)
{
    const char *op = NULL;
    size_t ol = 0;
    int reason = 0;
    if (irp__attr_str(p, root, "op", 1, &op, &ol) != 0) return p->st;
    if (ol == 7 && memcmp(op, "binding", 7) == 0)
        e->type = IRP_EVENT_BINDING;
    else if (ol == 9 && memcmp(op, "watch-end", 9) == 0)
        e->type = IRP_EVENT_WATCH_END;
    else
        return 0; /* an event of a later version: ignored, type stays NONE */
    if (irp__attr_user(p, root, "user", 1, &e->user) != 0 ||
        irp__attr_u64(p, root, "seq", 1, &e->seq, NULL) != 0 ||
        irp__attr_u64(p, root, "at", 0, &e->at, NULL) != 0 ||
        irp__attr_enum(p, root, "reason", irp__change_names, 0, &reason) != 0)
        return p->st;
    e->reason = (irp_change)reason;
    if (e->type != IRP_EVENT_BINDING) return 0;
    for (const sc_xml_node *c = root->first_child; c != NULL; c = c->next) {
        if (strcmp(c->name, "binding") != 0) continue;
        irp_binding *b = TAKE(p, e->bindings, e->n_bindings, IRP_MAX_BINDINGS, "binding");
        if (b == NULL || irp__parse_binding(p, c, b) != 0) return p->st;
    }
    return 0;
}

int irp_event_parse(irp_event *e, const uint8_t *doc, size_t len)
{
    sc_xml_doc *d = NULL;
    irp_event_init(e);
    irp__p p = {.err = e->err};
    if (irp__doc(&p, NULL, doc, len, "event", &d) == 0)
        (void)parse_event_root(&p, sc_xml_root(d), e);
    e->doc_ = d;
    if (p.st != 0) {
        char keep_err[sizeof e->err];
        memcpy(keep_err, e->err, sizeof keep_err);
        irp_event_clear(e);
        memcpy(e->err, keep_err, sizeof keep_err);
    }
    return p.st;
}

int irp_server_doc_parse(sc_xml_parser *xp, const uint8_t *doc, size_t len, irp_resp *resp,
                         irp_event *ev, int *is_event)
{
    sc_xml_doc *d = NULL;
    irp_resp_init(resp);
    irp_event_init(ev);
    *is_event = 0;
    irp__p p = {.err = resp->err};
    /* Parse once; the root decides which struct receives the tree. */
    if (irp__doc(&p, xp, doc, len, NULL, &d) == 0) {
        const sc_xml_node *root = sc_xml_root(d);
        if (strcmp(root->name, "event") == 0) {
            irp__p pe = {.err = ev->err};
            *is_event = 1;
            (void)parse_event_root(&pe, root, ev);
            ev->doc_ = d;
            if (pe.st == 0) return 0;
            memcpy(resp->err, ev->err, sizeof resp->err);
            irp_event_clear(ev);
            *is_event = 0;
            return pe.st;
        }
        if (strcmp(root->name, "resp") == 0)
            (void)parse_resp_root(&p, root, resp);
        else
            irp__fail(&p, IRP_BAD_REQUEST, "root element is neither <resp> nor <event>");
    }
    return resp_finish(&p, resp, d);
}

/* ---- writing -------------------------------------------------------------------- */

static int opt_enum_ok(const irp__name *t, int v)
{
    return v == 0 || irp__name_of(t, v) != NULL;
}

static int check_cert(const irp_cert *c)
{
    if ((c->der == NULL && c->der_len != 0) || c->der_len > IRP_CERT_MAX) return 0;
    if (c->serial != NULL && !irp_valid_serial(c->serial, strlen(c->serial))) return 0;
    if (c->user != NULL && !irp_valid_user(c->user)) return 0;
    return opt_enum_ok(irp__cert_state_names, c->state) &&
           opt_enum_ok(irp__reason_names, c->reason);
}

/* The rules the parser applies, for a struct the server filled. */
static int check_resp(const irp_resp *r)
{
    size_t id_len = strnlen(r->id, sizeof r->id);
    size_t nattrs = 2; /* status, msg */
    if ((id_len > 0 && !irp_valid_id(r->id, id_len)) || r->status < 100 || r->status > 599)
        return 0;
    if (r->msg != NULL) {
        size_t n = strlen(r->msg);
        if (n == 0 || n > IRP_MSG_MAX || !irp__valid_text(r->msg, n)) return 0;
    }
    if ((r->user != NULL && !irp_valid_user(r->user)) ||
        (r->has_seen && r->seen.family != 4 && r->seen.family != 6) ||
        !opt_enum_ok(irp__access_names, r->access))
        return 0;
    nattrs += (id_len > 0) + (r->user != NULL) + (r->at != 0) + (r->granted != 0) +
              (r->has_seen != 0) + (r->nat != 0) + (r->access != 0) + (r->more != 0);
    if (nattrs > SC_XML_MAX_ATTRS) return 0;
    if (r->has_caps) {
        const uint32_t known_ops = ((uint32_t)1 << IRP_OP_COUNT) - 2;
        const uint32_t known_logins = IRP_LOGIN_PASSWORD | IRP_LOGIN_TOKEN | IRP_LOGIN_CERTIFICATE;
        if ((r->caps.versions & 1) || (r->caps.ops & ~known_ops) ||
            (r->caps.logins & ~known_logins))
            return 0;
    }
    if (r->n_bindings > IRP_MAX_BINDINGS || r->n_certs > IRP_MAX_CERTS ||
        r->n_info > IRP_MAX_INFO || r->n_allow > IRP_MAX_ALLOW || r->n_users > IRP_MAX_USERS ||
        r->n_log > IRP_MAX_LOG)
        return 0;
    for (size_t i = 0; i < r->n_bindings; i++)
        if (!irp__check_binding(&r->bindings[i])) return 0;
    for (size_t i = 0; i < r->n_certs; i++)
        if (!check_cert(&r->certs[i])) return 0;
    for (size_t i = 0; i < r->n_info; i++)
        if (!irp__check_info(&r->info[i])) return 0;
    for (size_t i = 0; i < r->n_allow; i++)
        if (r->allow[i] == NULL || !irp_valid_user(r->allow[i])) return 0;
    for (size_t i = 0; i < r->n_users; i++)
        if (r->users[i].name == NULL || !irp_valid_user(r->users[i].name) ||
            !opt_enum_ok(irp__access_names, r->users[i].access))
            return 0;
    for (size_t i = 0; i < r->n_log; i++)
        if (r->log[i].by == NULL || !irp_valid_user(r->log[i].by) ||
            irp_op_name(r->log[i].op) == NULL)
            return 0;
    if (r->p12 != NULL && (r->p12_len == 0 || r->p12_len > IRP_P12_MAX)) return 0;
    if (r->has_sig && (sc_sigalg_name(r->sig.alg) == NULL || r->sig.sig == NULL ||
                       r->sig.sig_len == 0 || r->sig.sig_len > IRP_SIG_MAX))
        return 0;
    /* Children counted against the profile's element limit, the root included. */
    size_t elems = 1 + (r->has_caps != 0) + (r->has_limits != 0) + r->n_bindings + r->n_certs +
                   r->n_info + r->n_allow + r->n_users + r->n_log + (r->p12 != NULL) +
                   (r->has_sig != 0);
    return elems <= SC_XML_MAX_ELEMENTS;
}

static void write_name_list(sc_buf *out, const char *attr, int kind, uint32_t mask)
{
    char text[IRP_MAX_NAMES * (IRP_INFO_NAME_MAX + 1)];
    size_t len = 0;
    for (int bit = 0; bit < 32; bit++) {
        const char *name = NULL;
        char digits[3];
        if (!(mask & ((uint32_t)1 << bit))) continue;
        if (kind == 'v') {
            digits[0] = (char)(bit >= 10 ? '0' + bit / 10 : '0' + bit);
            digits[1] = (char)(bit >= 10 ? '0' + bit % 10 : '\0');
            digits[2] = '\0';
            name = digits;
        } else if (kind == 'o') {
            name = irp_op_name((irp_op)bit);
        } else {
            name = irp__name_of(irp__login_names, 1 << bit);
        }
        if (name == NULL) continue;
        if (len > 0) text[len++] = ' ';
        memcpy(text + len, name, strlen(name));
        len += strlen(name);
    }
    if (len > 0) sc_xml_w_attr_n(out, attr, text, len);
}

static void write_limit(sc_buf *out, const char *name, uint32_t v)
{
    if (v != 0) sc_xml_w_attr_u64(out, name, v);
}

static void write_cert(sc_buf *out, const irp_cert *c)
{
    sc_xml_w_open(out, "cert");
    if (c->state != IRP_CERT_NONE)
        sc_xml_w_attr(out, "status", irp__name_of(irp__cert_state_names, c->state));
    if (c->serial != NULL) sc_xml_w_attr(out, "serial", c->serial);
    if (c->has_fp) irp__w_fp(out, "fp", c->fp);
    if (c->user != NULL) sc_xml_w_attr(out, "user", c->user);
    if (c->not_after != 0) sc_xml_w_attr_u64(out, "not-after", c->not_after);
    if (c->revoked != 0) sc_xml_w_attr_u64(out, "revoked", c->revoked);
    if (c->reason != IRP_REASON_NONE)
        sc_xml_w_attr(out, "reason", irp__name_of(irp__reason_names, c->reason));
    if (c->der_len == 0) {
        sc_xml_w_end_empty(out);
        return;
    }
    sc_xml_w_end_open(out);
    irp__w_b64_text(out, c->der, c->der_len);
    sc_xml_w_close(out, "cert");
}

/* A response as the reference writes it (docs/IRP.md 4.3, 5.2). */
static void write_resp(sc_buf *out, const irp_resp *r)
{

    sc_xml_w_open(out, "resp");
    if (r->id[0] != '\0') sc_xml_w_attr(out, "id", r->id);
    sc_xml_w_attr_u64(out, "status", (uint64_t)r->status);
    sc_xml_w_attr(out, "msg", r->msg != NULL ? r->msg : irp_status_name(r->status));
    if (r->user != NULL) sc_xml_w_attr(out, "user", r->user);
    if (r->at != 0) sc_xml_w_attr_u64(out, "at", r->at);
    if (r->granted != 0) sc_xml_w_attr_u64(out, "granted", r->granted);
    if (r->has_seen) irp__w_addr(out, "seen", &r->seen);
    if (r->nat) sc_xml_w_attr(out, "nat", "1");
    if (r->access != IRP_ACCESS_NONE)
        sc_xml_w_attr(out, "access", irp__name_of(irp__access_names, r->access));
    if (r->more) sc_xml_w_attr(out, "more", "1");
    size_t nchildren = r->n_bindings + r->n_certs + (r->has_caps != 0) + (r->has_limits != 0) +
                       r->n_info + r->n_allow + r->n_users + r->n_log + (r->p12 != NULL) +
                       (r->has_sig != 0);
    if (nchildren == 0) {
        sc_xml_w_end_empty(out);
        return;
    }
    sc_xml_w_end_open(out);
    if (r->has_caps) {
        sc_xml_w_open(out, "caps");
        write_name_list(out, "versions", 'v', r->caps.versions);
        write_name_list(out, "ops", 'o', r->caps.ops);
        write_name_list(out, "login", 'l', r->caps.logins);
        sc_xml_w_end_empty(out);
    }
    if (r->has_limits) {
        const irp_limits *l = &r->limits;
        sc_xml_w_open(out, "limits");
        write_limit(out, "doc", l->doc);
        write_limit(out, "addrs", l->addrs);
        write_limit(out, "devices", l->devices);
        write_limit(out, "lifetime-min", l->lifetime_min);
        write_limit(out, "lifetime-max", l->lifetime_max);
        write_limit(out, "lifetime-default", l->lifetime_default);
        write_limit(out, "pipeline", l->pipeline);
        write_limit(out, "watches", l->watches);
        sc_xml_w_end_empty(out);
    }
    for (size_t i = 0; i < r->n_info; i++) {
        sc_xml_w_open(out, "info");
        sc_xml_w_attr(out, "name", r->info[i].name);
        sc_xml_w_end_open(out);
        sc_xml_w_text(out, r->info[i].value, r->info[i].value_len);
        sc_xml_w_close(out, "info");
    }
    for (size_t i = 0; i < r->n_allow; i++) {
        sc_xml_w_open(out, "allow");
        sc_xml_w_end_open(out);
        sc_xml_w_text(out, r->allow[i], strlen(r->allow[i]));
        sc_xml_w_close(out, "allow");
    }
    for (size_t i = 0; i < r->n_bindings; i++)
        irp__write_binding(out, &r->bindings[i]);
    for (size_t i = 0; i < r->n_certs; i++)
        write_cert(out, &r->certs[i]);
    for (size_t i = 0; i < r->n_users; i++) {
        const irp_user_entry *u = &r->users[i];
        sc_xml_w_open(out, "user");
        sc_xml_w_attr(out, "name", u->name);
        write_limit(out, "devices", u->devices);
        write_limit(out, "certs", u->certs);
        if (u->created != 0) sc_xml_w_attr_u64(out, "created", u->created);
        if (u->access != IRP_ACCESS_NONE)
            sc_xml_w_attr(out, "access", irp__name_of(irp__access_names, u->access));
        sc_xml_w_end_empty(out);
    }
    for (size_t i = 0; i < r->n_log; i++) {
        const irp_log_entry *e = &r->log[i];
        sc_xml_w_open(out, "entry");
        sc_xml_w_attr_u64(out, "id", e->id);
        sc_xml_w_attr_u64(out, "ts", e->ts);
        sc_xml_w_attr(out, "by", e->by);
        sc_xml_w_attr(out, "op", irp_op_name(e->op));
        sc_xml_w_end_empty(out);
    }
    if (r->p12 != NULL) {
        sc_xml_w_open(out, "p12");
        if (r->p12_updated != 0) sc_xml_w_attr_u64(out, "updated", r->p12_updated);
        sc_xml_w_end_open(out);
        irp__w_b64_text(out, r->p12, r->p12_len);
        sc_xml_w_close(out, "p12");
    }
    if (r->has_sig) {
        sc_xml_w_open(out, "sig");
        sc_xml_w_attr(out, "alg", sc_sigalg_name(r->sig.alg));
        irp__w_fp(out, "key", r->sig.key);
        sc_xml_w_end_open(out);
        irp__w_b64_text(out, r->sig.sig, r->sig.sig_len);
        sc_xml_w_close(out, "sig");
    }
    sc_xml_w_close(out, "resp");
}

int irp_resp_write(sc_buf *out, const irp_resp *r)
{
    if (out == NULL || r == NULL || !check_resp(r)) return SC_ERR_ARG;
    if (!sc_buf_ok(out)) return SC_ERR_NOMEM;
    size_t start = out->len;
    write_resp(out, r);
    return irp__w_finish(out, start);
}

int irp_resp_write_status(sc_buf *out, const char *id, int status, const char *msg)
{
    irp_resp r;
    irp_resp_init(&r);
    if (id != NULL) {
        size_t n = strnlen(id, sizeof r.id);
        if (n == sizeof r.id) return SC_ERR_ARG;
        memcpy(r.id, id, n + 1);
    }
    r.status = status;
    /*
     * Error texts are often built from what the client sent: cut one that
     * is too long at a character boundary, and fall back to the status name
     * for one the writer could not carry, rather than leave a request
     * unanswered.
     */
    char text[IRP_MSG_MAX + 1];
    size_t n = msg != NULL ? strnlen(msg, IRP_MSG_MAX + 1) : 0;
    if (n > IRP_MSG_MAX) {
        n = IRP_MSG_MAX;
        while (n > 0 && ((unsigned char)msg[n] & 0xc0) == 0x80)
            n--;
    }
    if (n > 0) {
        memcpy(text, msg, n);
        text[n] = '\0';
        r.msg = irp__valid_text(text, n) ? text : NULL;
    }
    return irp_resp_write(out, &r);
}

/*
 * The canonical form C of a lookup answer (docs/IRP.md 7.4), written by its
 * own code so that what is signed is stated once, here, and nothing a
 * response may carry besides can slip into it: `resp` with exactly status,
 * user and at; the bindings; the certificates (with the attributes they
 * have, in the order of 7.4, and their DER as text); nothing else.
 */
static void write_lookup_tbs(sc_buf *out, const irp_resp *r)
{
    sc_xml_w_open(out, "resp");
    sc_xml_w_attr_u64(out, "status", (uint64_t)r->status);
    sc_xml_w_attr(out, "user", r->user);
    sc_xml_w_attr_u64(out, "at", r->at);
    if (r->n_bindings + r->n_certs == 0) {
        sc_xml_w_end_empty(out);
        return;
    }
    sc_xml_w_end_open(out);
    for (size_t i = 0; i < r->n_bindings; i++)
        irp__write_binding(out, &r->bindings[i]);
    for (size_t i = 0; i < r->n_certs; i++)
        write_cert(out, &r->certs[i]);
    sc_xml_w_close(out, "resp");
}

/* The context string of docs/IRP.md 7.4, NUL included. */
static const char lookup_context[] = "irp1 lookup";

int irp_lookup_tbs(sc_buf *out, const irp_resp *r)
{
    if (out == NULL || r == NULL || r->status != IRP_OK || r->user == NULL || r->at == 0 ||
        !check_resp(r))
        return SC_ERR_ARG;
    size_t start = out->len;
    sc_buf_put(out, lookup_context, sizeof lookup_context);
    write_lookup_tbs(out, r);
    if (!sc_buf_ok(out)) return SC_ERR_NOMEM;
    if (out->len - start > sizeof lookup_context + IRP_MAX_DOC) {
        out->len = start;
        return SC_ERR_TOO_LARGE;
    }
    return SC_OK;
}

/* ---- events ------------------------------------------------------------------------ */

int irp_event_write(sc_buf *out, const irp_event *e)
{
    const char *op = e == NULL                        ? NULL
                     : e->type == IRP_EVENT_BINDING   ? "binding"
                     : e->type == IRP_EVENT_WATCH_END ? "watch-end"
                                                      : NULL;
    if (out == NULL || op == NULL || e->user == NULL || !irp_valid_user(e->user) ||
        !opt_enum_ok(irp__change_names, e->reason) || e->n_bindings > IRP_MAX_BINDINGS ||
        (e->type == IRP_EVENT_WATCH_END && e->n_bindings > 0))
        return SC_ERR_ARG;
    for (size_t i = 0; i < e->n_bindings; i++)
        if (!irp__check_binding(&e->bindings[i])) return SC_ERR_ARG;
    if (!sc_buf_ok(out)) return SC_ERR_NOMEM;
    size_t start = out->len;
    sc_xml_w_open(out, "event");
    sc_xml_w_attr(out, "op", op);
    sc_xml_w_attr(out, "user", e->user);
    sc_xml_w_attr_u64(out, "seq", e->seq);
    if (e->at != 0) sc_xml_w_attr_u64(out, "at", e->at);
    if (e->reason != IRP_CHANGE_NONE)
        sc_xml_w_attr(out, "reason", irp__name_of(irp__change_names, e->reason));
    if (e->n_bindings == 0) {
        sc_xml_w_end_empty(out);
    } else {
        sc_xml_w_end_open(out);
        for (size_t i = 0; i < e->n_bindings; i++)
            irp__write_binding(out, &e->bindings[i]);
        sc_xml_w_close(out, "event");
    }
    return irp__w_finish(out, start);
}

/* ---- equality ------------------------------------------------------------------------ */

static int bytes_equal(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

static int cert_equal(const irp_cert *a, const irp_cert *b)
{
    return bytes_equal(a->der, a->der_len, b->der, b->der_len) && a->state == b->state &&
           irp__str_equal(a->serial, b->serial) && a->has_fp == b->has_fp &&
           (!a->has_fp || memcmp(a->fp, b->fp, 32) == 0) && irp__str_equal(a->user, b->user) &&
           a->not_after == b->not_after && a->revoked == b->revoked && a->reason == b->reason;
}

int irp_resp_equal(const irp_resp *a, const irp_resp *b)
{
    if (strcmp(a->id, b->id) != 0 || a->status != b->status || !irp__str_equal(a->msg, b->msg) ||
        a->granted != b->granted || a->has_seen != b->has_seen ||
        (a->has_seen && !irp_addr_equal(&a->seen, &b->seen)) || a->nat != b->nat ||
        !irp__str_equal(a->user, b->user) || a->at != b->at || a->access != b->access ||
        a->more != b->more || a->has_caps != b->has_caps ||
        memcmp(&a->caps, &b->caps, sizeof a->caps) != 0 || a->has_limits != b->has_limits ||
        memcmp(&a->limits, &b->limits, sizeof a->limits) != 0 || a->n_bindings != b->n_bindings ||
        a->n_certs != b->n_certs || a->n_info != b->n_info || a->n_allow != b->n_allow ||
        a->n_users != b->n_users || a->n_log != b->n_log ||
        !bytes_equal(a->p12, a->p12_len, b->p12, b->p12_len) ||
        (a->p12 == NULL) != (b->p12 == NULL) || a->p12_updated != b->p12_updated ||
        a->has_sig != b->has_sig)
        return 0;
    if (a->has_sig && (a->sig.alg != b->sig.alg || memcmp(a->sig.key, b->sig.key, 32) != 0 ||
                       !bytes_equal(a->sig.sig, a->sig.sig_len, b->sig.sig, b->sig.sig_len)))
        return 0;
    for (size_t i = 0; i < a->n_bindings; i++)
        if (!irp__binding_equal(&a->bindings[i], &b->bindings[i])) return 0;
    for (size_t i = 0; i < a->n_certs; i++)
        if (!cert_equal(&a->certs[i], &b->certs[i])) return 0;
    for (size_t i = 0; i < a->n_info; i++)
        if (!irp__info_equal(&a->info[i], &b->info[i])) return 0;
    for (size_t i = 0; i < a->n_allow; i++)
        if (!irp__str_equal(a->allow[i], b->allow[i])) return 0;
    for (size_t i = 0; i < a->n_users; i++) {
        const irp_user_entry *x = &a->users[i], *y = &b->users[i];
        if (!irp__str_equal(x->name, y->name) || x->devices != y->devices || x->certs != y->certs ||
            x->created != y->created || x->access != y->access)
            return 0;
    }
    for (size_t i = 0; i < a->n_log; i++) {
        const irp_log_entry *x = &a->log[i], *y = &b->log[i];
        if (x->id != y->id || x->ts != y->ts || !irp__str_equal(x->by, y->by) || x->op != y->op)
            return 0;
    }
    return 1;
}

int irp_event_equal(const irp_event *a, const irp_event *b)
{
    if (a->type != b->type || !irp__str_equal(a->user, b->user) || a->seq != b->seq ||
        a->at != b->at || a->reason != b->reason || a->n_bindings != b->n_bindings)
        return 0;
    for (size_t i = 0; i < a->n_bindings; i++)
        if (!irp__binding_equal(&a->bindings[i], &b->bindings[i])) return 0;
    return 1;
}
