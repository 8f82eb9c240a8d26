/*
 * irp_req.c - IRP requests (docs/IRP.md 6): <req id=".." op=".." ...>.
 *
 * Each op's schema is one case in parse_op() and one in check_req() /
 * write_req(), in the order of docs/IRP.md 6, so the three read side by
 * side with the specification. Unknown attributes are ignored (4.4);
 * unknown child elements are refused, because a server that does not
 * understand part of a request must not act on the rest.
 */
#include "irp_msg_int.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sixchat/error.h"

void irp_req_init(irp_req *r)
{
    memset(r, 0, sizeof *r);
}

void irp_req_clear(irp_req *r)
{
    /* The password lives in the parsed tree; the PKCS#12 in the blob. */
    if (r->doc_ != NULL && r->password != NULL)
        OPENSSL_cleanse((void *)r->password, r->password_len);
    sc_xml_free(r->doc_);
    if (r->blob_ != NULL) {
        OPENSSL_cleanse(r->blob_, r->blob_len_);
        free(r->blob_);
    }
    irp_req_init(r);
}

/* No children allowed (ops whose request is only attributes). */
static int no_children(irp__p *p, const sc_xml_node *root)
{
    if (root->first_child != NULL)
        return irp__fail(p, IRP_BAD_REQUEST, "unexpected <%s> in this request",
                         root->first_child->name);
    return 0;
}

/* Exactly one child named name, whose base64 text decodes to 1..max bytes. */
static int one_b64_child(irp__p *p, const sc_xml_node *root, const char *name, size_t max,
                         const uint8_t **out, size_t *len)
{
    const sc_xml_node *c = root->first_child;
    if (c == NULL) return irp__fail(p, IRP_BAD_REQUEST, "missing <%s>", name);
    if (strcmp(c->name, name) != 0)
        return irp__fail(p, IRP_BAD_REQUEST, "unexpected <%s> in this request", c->name);
    if (c->next != NULL) return irp__fail(p, IRP_BAD_REQUEST, "more than one child element");
    return irp__b64(p, c->text, c->text_len, max, name, out, len);
}

static int parse_register(irp__p *p, const sc_xml_node *root, irp_req *r)
{
    if (irp__attr_user(p, root, "user", 0, &r->user) != 0 ||
        irp__attr_id(p, root, "device", 1, &r->device) != 0 ||
        irp__attr_port(p, root, "port", &r->port) != 0 ||
        irp__attr_u32(p, root, "lifetime", 0, &r->lifetime) != 0 ||
        irp__attr_u64(p, root, "seq", 1, &r->seq, &r->has_seq) != 0)
        return p->st;
    if (sc_xml_attr_get(root, "lifetime", NULL) != NULL && r->lifetime == 0)
        return irp__fail(p, IRP_BAD_REQUEST, "<req>: lifetime must be at least 1");
    for (const sc_xml_node *c = root->first_child; c != NULL; c = c->next) {
        if (strcmp(c->name, "addr") != 0)
            return irp__fail(p, IRP_BAD_REQUEST, "unexpected <%s> in register", c->name);
        if (r->n_addrs == IRP_MAX_ADDRS)
            return irp__fail(p, IRP_TOO_LARGE, "more than %d addresses", IRP_MAX_ADDRS);
        irp_addr *a = &r->addrs[r->n_addrs];
        if (c->first_child != NULL || irp_addr_parse(c->text, c->text_len, a) != 0)
            return irp__fail(p, IRP_INVALID, "<addr> is not an IP address literal");
        for (size_t i = 0; i < r->n_addrs; i++)
            if (irp_addr_equal(&r->addrs[i], a))
                return irp__fail(p, IRP_BAD_REQUEST, "duplicate <addr>");
        r->n_addrs++;
    }
    if (r->n_addrs == 0) return irp__fail(p, IRP_BAD_REQUEST, "register without <addr>");
    return 0;
}

static int parse_unregister(irp__p *p, const sc_xml_node *root, irp_req *r)
{
    if (irp__attr_user(p, root, "user", 0, &r->user) != 0 ||
        irp__attr_id(p, root, "device", 0, &r->device) != 0 ||
        irp__attr_flag(p, root, "all", &r->all) != 0 ||
        irp__attr_u64(p, root, "seq", 0, &r->seq, &r->has_seq) != 0 || no_children(p, root))
        return p->st;
    if ((r->device != NULL) == (r->all != 0))
        return irp__fail(p, IRP_BAD_REQUEST, "unregister needs either device or all=\"1\"");
    if (r->all && r->has_seq)
        return irp__fail(p, IRP_BAD_REQUEST, "seq applies to one device, not all=\"1\"");
    return 0;
}

/* serial= or fp=, exactly one (cert-status, revoke). */
static int parse_cert_ref(irp__p *p, const sc_xml_node *root, irp_req *r)
{
    if (irp__attr_serial(p, root, "serial", &r->serial) != 0 ||
        irp__attr_fp(p, root, "fp", r->fp, &r->has_fp) != 0)
        return p->st;
    if ((r->serial != NULL) == (r->has_fp != 0))
        return irp__fail(p, IRP_BAD_REQUEST, "give exactly one of serial and fp");
    return 0;
}

static int parse_user_info(irp__p *p, const sc_xml_node *root, irp_req *r)
{
    if (irp__attr_user(p, root, "user", 0, &r->user) != 0) return p->st;
    for (const sc_xml_node *c = root->first_child; c != NULL; c = c->next) {
        if (strcmp(c->name, "info") != 0)
            return irp__fail(p, IRP_BAD_REQUEST, "unexpected <%s> in user-info", c->name);
        if (r->n_info == IRP_MAX_INFO)
            return irp__fail(p, IRP_TOO_LARGE, "more than %d <info> items", IRP_MAX_INFO);
        irp_info *it = &r->info[r->n_info];
        if (irp__parse_info(p, c, it) != 0) return p->st;
        for (size_t i = 0; i < r->n_info; i++)
            if (strcmp(r->info[i].name, it->name) == 0)
                return irp__fail(p, IRP_BAD_REQUEST, "duplicate <info name=\"%s\">", it->name);
        r->n_info++;
    }
    if (r->n_info > 0 && r->user != NULL)
        return irp__fail(p, IRP_BAD_REQUEST, "user-info set applies to yourself: drop user");
    return 0;
}

static int parse_lookup_policy(irp__p *p, const sc_xml_node *root, irp_req *r)
{
    int access = 0;
    if (irp__attr_enum(p, root, "access", irp__access_names, 0, &access) != 0) return p->st;
    r->access = (irp_access)access;
    for (const sc_xml_node *c = root->first_child; c != NULL; c = c->next) {
        if (strcmp(c->name, "allow") != 0)
            return irp__fail(p, IRP_BAD_REQUEST, "unexpected <%s> in lookup-policy", c->name);
        if (r->access != IRP_ACCESS_LIST)
            return irp__fail(p, IRP_BAD_REQUEST, "<allow> only with access=\"list\"");
        if (r->n_allow == IRP_MAX_ALLOW)
            return irp__fail(p, IRP_TOO_LARGE, "more than %d <allow> entries", IRP_MAX_ALLOW);
        if (c->first_child != NULL || !irp_valid_user(c->text))
            return irp__fail(p, IRP_BAD_REQUEST, "<allow> is not a valid user ID");
        for (size_t i = 0; i < r->n_allow; i++)
            if (strcasecmp(r->allow[i], c->text) == 0) /* user IDs compare case-insensitively */
                return irp__fail(p, IRP_BAD_REQUEST, "duplicate <allow>");
        r->allow[r->n_allow++] = c->text;
    }
    return 0;
}

/* The op's attributes and children (docs/IRP.md 6.x). */
static int parse_op(irp__p *p, const sc_xml_node *root, irp_req *r)
{
    switch (r->op) {
    case IRP_OP_CAPABILITIES:
    case IRP_OP_CA_CERTS:
    case IRP_OP_PING:
    case IRP_OP_PKCS12_GET:
        return no_children(p, root);
    case IRP_OP_LOGIN:
        if (irp__attr_user(p, root, "user", 1, &r->user) != 0 ||
            irp__attr_str(p, root, "password", 1, &r->password, &r->password_len) != 0 ||
            no_children(p, root))
            return p->st;
        if (r->password_len == 0 || r->password_len > IRP_PASSWORD_MAX)
            return irp__fail(p, IRP_BAD_REQUEST, "password must be 1..%d bytes", IRP_PASSWORD_MAX);
        return 0;
    case IRP_OP_ENROLL:
        if (irp__attr_str(p, root, "token", 0, &r->token, NULL) != 0) return p->st;
        if (r->token != NULL && !irp_valid_token(r->token, strlen(r->token)))
            return irp__fail(p, IRP_BAD_REQUEST, "token must be 22 base64url characters");
        return one_b64_child(p, root, "csr", IRP_CSR_MAX, &r->csr, &r->csr_len);
    case IRP_OP_RENEW:
        return one_b64_child(p, root, "csr", IRP_CSR_MAX, &r->csr, &r->csr_len);
    case IRP_OP_REGISTER:
        return parse_register(p, root, r);
    case IRP_OP_UNREGISTER:
        return parse_unregister(p, root, r);
    case IRP_OP_LOOKUP:
    case IRP_OP_WATCH:
    case IRP_OP_UNWATCH:
        if (irp__attr_user(p, root, "user", 1, &r->user) != 0) return p->st;
        return no_children(p, root);
    case IRP_OP_CERT_STATUS:
        if (parse_cert_ref(p, root, r) != 0) return p->st;
        return no_children(p, root);
    case IRP_OP_REVOKE: {
        int reason = 0;
        if (parse_cert_ref(p, root, r) != 0 ||
            irp__attr_enum(p, root, "reason", irp__reason_names, 0, &reason) != 0)
            return p->st;
        r->reason = (irp_reason)reason;
        return no_children(p, root);
    }
    case IRP_OP_USER_INFO:
        return parse_user_info(p, root, r);
    case IRP_OP_LOOKUP_POLICY:
        return parse_lookup_policy(p, root, r);
    case IRP_OP_ACCESS_LOG:
        if (irp__attr_u64(p, root, "after", 0, &r->after_id, NULL) != 0) return p->st;
        return no_children(p, root);
    case IRP_OP_PKCS12_PUT:
        return one_b64_child(p, root, "p12", IRP_P12_MAX, &r->p12, &r->p12_len);
    case IRP_OP_LIST_USERS:
        if (irp__attr_user(p, root, "after", 0, &r->after) != 0) return p->st;
        return no_children(p, root);
    case IRP_OP_NONE:
    case IRP_OP_COUNT:
        break;
    }
    return irp__fail(p, IRP_INTERNAL, "op without a schema");
}

int irp_req_parse(irp_req *r, const uint8_t *doc, size_t len)
{
    return irp_req_parse_with(NULL, r, doc, len);
}

int irp_req_parse_with(sc_xml_parser *xp, irp_req *r, const uint8_t *doc, size_t len)
{
    sc_xml_doc *d = NULL;
    const char *id = NULL, *op = NULL;
    size_t op_len = 0;
    irp_req_init(r);
    irp__p p = {.err = r->err};

    if (irp__doc(&p, xp, doc, len, "req", &d) != 0) goto out;
    const sc_xml_node *root = sc_xml_root(d);
    /* The id first, so that every later refusal can echo it. */
    if (irp__attr_id(&p, root, "id", 1, &id) != 0) goto out;
    memcpy(r->id, id, strlen(id) + 1);
    if (irp__attr_str(&p, root, "op", 1, &op, &op_len) != 0) goto out;
    r->op = irp_op_by_name(op, op_len);
    if (r->op == IRP_OP_NONE) {
        irp__fail(&p, IRP_UNKNOWN_OP, "unknown op \"%.32s\"", op);
        goto out;
    }
    (void)parse_op(&p, root, r);

out:
    if (p.st != 0) {
        /* Keep only what the error response needs. */
        char keep_id[IRP_ID_MAX + 1], keep_err[sizeof r->err];
        memcpy(keep_id, r->id, sizeof keep_id);
        memcpy(keep_err, r->err, sizeof keep_err);
        r->doc_ = d;
        r->blob_ = p.blob;
        r->blob_len_ = p.blob_len;
        irp_req_clear(r);
        memcpy(r->id, keep_id, sizeof keep_id);
        memcpy(r->err, keep_err, sizeof keep_err);
        return p.st;
    }
    r->doc_ = d;
    r->blob_ = p.blob;
    r->blob_len_ = p.blob_len;
    return 0;
}

/* ---- writing ---------------------------------------------------------------- */

static int opt_user_ok(const char *u)
{
    return u == NULL || irp_valid_user(u);
}

static int cert_ref_ok(const irp_req *r)
{
    if ((r->serial != NULL) == (r->has_fp != 0)) return 0;
    return r->serial == NULL || irp_valid_serial(r->serial, strlen(r->serial));
}

/* The rules parse_op() applies, for a struct the caller filled. */
static int check_req(const irp_req *r)
{
    if (!irp_valid_id(r->id, strnlen(r->id, sizeof r->id)) || irp_op_name(r->op) == NULL) return 0;
    switch (r->op) {
    case IRP_OP_CAPABILITIES:
    case IRP_OP_CA_CERTS:
    case IRP_OP_PING:
    case IRP_OP_PKCS12_GET:
        return 1;
    case IRP_OP_LOGIN:
        return r->user != NULL && irp_valid_user(r->user) && r->password != NULL &&
               r->password_len > 0 && r->password_len <= IRP_PASSWORD_MAX &&
               irp__valid_text(r->password, r->password_len) &&
               memchr(r->password, '\0', r->password_len) == NULL;
    case IRP_OP_ENROLL:
        if (r->token != NULL && !irp_valid_token(r->token, strlen(r->token))) return 0;
        /* fall through */
    case IRP_OP_RENEW:
        return r->csr != NULL && r->csr_len > 0 && r->csr_len <= IRP_CSR_MAX;
    case IRP_OP_REGISTER:
        if (!opt_user_ok(r->user) || r->device == NULL ||
            !irp_valid_id(r->device, strlen(r->device)) || r->port == 0 || !r->has_seq ||
            r->n_addrs == 0 || r->n_addrs > IRP_MAX_ADDRS)
            return 0;
        for (size_t i = 0; i < r->n_addrs; i++) {
            if (r->addrs[i].family != 4 && r->addrs[i].family != 6) return 0;
            for (size_t k = 0; k < i; k++)
                if (irp_addr_equal(&r->addrs[k], &r->addrs[i])) return 0;
        }
        return 1;
    case IRP_OP_UNREGISTER:
        if (!opt_user_ok(r->user) || (r->device != NULL) == (r->all != 0)) return 0;
        if (r->device != NULL && !irp_valid_id(r->device, strlen(r->device))) return 0;
        return !(r->all && r->has_seq);
    case IRP_OP_LOOKUP:
    case IRP_OP_WATCH:
    case IRP_OP_UNWATCH:
        return r->user != NULL && irp_valid_user(r->user);
    case IRP_OP_CERT_STATUS:
        return cert_ref_ok(r);
    case IRP_OP_REVOKE:
        return cert_ref_ok(r) &&
               (r->reason == IRP_REASON_NONE || irp__name_of(irp__reason_names, r->reason) != NULL);
    case IRP_OP_USER_INFO:
        if (!opt_user_ok(r->user) || r->n_info > IRP_MAX_INFO || (r->n_info > 0 && r->user))
            return 0;
        for (size_t i = 0; i < r->n_info; i++) {
            if (!irp__check_info(&r->info[i])) return 0;
            for (size_t k = 0; k < i; k++)
                if (strcmp(r->info[k].name, r->info[i].name) == 0) return 0;
        }
        return 1;
    case IRP_OP_LOOKUP_POLICY:
        if (r->access != IRP_ACCESS_NONE && irp__name_of(irp__access_names, r->access) == NULL)
            return 0;
        if (r->n_allow > 0 && (r->access != IRP_ACCESS_LIST || r->n_allow > IRP_MAX_ALLOW))
            return 0;
        for (size_t i = 0; i < r->n_allow; i++) {
            if (r->allow[i] == NULL || !irp_valid_user(r->allow[i])) return 0;
            for (size_t k = 0; k < i; k++)
                if (strcasecmp(r->allow[k], r->allow[i]) == 0) return 0;
        }
        return 1;
    case IRP_OP_ACCESS_LOG:
        return 1;
    case IRP_OP_PKCS12_PUT:
        return r->p12 != NULL && r->p12_len > 0 && r->p12_len <= IRP_P12_MAX;
    case IRP_OP_LIST_USERS:
        return opt_user_ok(r->after);
    case IRP_OP_NONE:
    case IRP_OP_COUNT:
        break;
    }
    return 0;
}

static void write_b64_child(sc_buf *out, const char *name, const uint8_t *p, size_t n)
{
    sc_xml_w_open(out, name);
    sc_xml_w_end_open(out);
    irp__w_b64_text(out, p, n);
    sc_xml_w_close(out, name);
}

/* Attributes in the order of docs/IRP.md 6, then children. */
static void write_req(sc_buf *out, const irp_req *r)
{
    int has_children = 0;
    sc_xml_w_open(out, "req");
    sc_xml_w_attr(out, "id", r->id);
    sc_xml_w_attr(out, "op", irp_op_name(r->op));
    switch (r->op) {
    case IRP_OP_LOGIN:
        sc_xml_w_attr(out, "user", r->user);
        sc_xml_w_attr_n(out, "password", r->password, r->password_len);
        break;
    case IRP_OP_ENROLL:
        if (r->token != NULL) sc_xml_w_attr(out, "token", r->token);
        has_children = 1;
        break;
    case IRP_OP_RENEW:
    case IRP_OP_PKCS12_PUT:
        has_children = 1;
        break;
    case IRP_OP_REGISTER:
        if (r->user != NULL) sc_xml_w_attr(out, "user", r->user);
        sc_xml_w_attr(out, "device", r->device);
        sc_xml_w_attr_u64(out, "port", r->port);
        if (r->lifetime != 0) sc_xml_w_attr_u64(out, "lifetime", r->lifetime);
        sc_xml_w_attr_u64(out, "seq", r->seq);
        has_children = 1;
        break;
    case IRP_OP_UNREGISTER:
        if (r->user != NULL) sc_xml_w_attr(out, "user", r->user);
        if (r->device != NULL) sc_xml_w_attr(out, "device", r->device);
        if (r->all) sc_xml_w_attr(out, "all", "1");
        if (r->has_seq) sc_xml_w_attr_u64(out, "seq", r->seq);
        break;
    case IRP_OP_LOOKUP:
    case IRP_OP_WATCH:
    case IRP_OP_UNWATCH:
        sc_xml_w_attr(out, "user", r->user);
        break;
    case IRP_OP_CERT_STATUS:
    case IRP_OP_REVOKE:
        if (r->serial != NULL) sc_xml_w_attr(out, "serial", r->serial);
        if (r->has_fp) irp__w_fp(out, "fp", r->fp);
        if (r->reason != IRP_REASON_NONE)
            sc_xml_w_attr(out, "reason", irp__name_of(irp__reason_names, r->reason));
        break;
    case IRP_OP_USER_INFO:
        if (r->user != NULL) sc_xml_w_attr(out, "user", r->user);
        has_children = r->n_info > 0;
        break;
    case IRP_OP_LOOKUP_POLICY:
        if (r->access != IRP_ACCESS_NONE)
            sc_xml_w_attr(out, "access", irp__name_of(irp__access_names, r->access));
        has_children = r->n_allow > 0;
        break;
    case IRP_OP_ACCESS_LOG:
        if (r->after_id != 0) sc_xml_w_attr_u64(out, "after", r->after_id);
        break;
    case IRP_OP_LIST_USERS:
        if (r->after != NULL) sc_xml_w_attr(out, "after", r->after);
        break;
    default:
        break;
    }
    if (!has_children) {
        sc_xml_w_end_empty(out);
        return;
    }
    sc_xml_w_end_open(out);
    switch (r->op) {
    case IRP_OP_ENROLL:
    case IRP_OP_RENEW:
        write_b64_child(out, "csr", r->csr, r->csr_len);
        break;
    case IRP_OP_PKCS12_PUT:
        write_b64_child(out, "p12", r->p12, r->p12_len);
        break;
    case IRP_OP_REGISTER:
        for (size_t i = 0; i < r->n_addrs; i++) {
            char text[IRP_ADDR_STRLEN];
            if (irp_addr_format(&r->addrs[i], text) != 0) { /* not after check_req */
                out->failed = 1;
                return;
            }
            sc_xml_w_open(out, "addr");
            sc_xml_w_end_open(out);
            sc_xml_w_text(out, text, strlen(text));
            sc_xml_w_close(out, "addr");
        }
        break;
    case IRP_OP_USER_INFO:
        for (size_t i = 0; i < r->n_info; i++) {
            sc_xml_w_open(out, "info");
            sc_xml_w_attr(out, "name", r->info[i].name);
            sc_xml_w_end_open(out);
            sc_xml_w_text(out, r->info[i].value, r->info[i].value_len);
            sc_xml_w_close(out, "info");
        }
        break;
    case IRP_OP_LOOKUP_POLICY:
        for (size_t i = 0; i < r->n_allow; i++) {
            sc_xml_w_open(out, "allow");
            sc_xml_w_end_open(out);
            sc_xml_w_text(out, r->allow[i], strlen(r->allow[i]));
            sc_xml_w_close(out, "allow");
        }
        break;
    default:
        break;
    }
    sc_xml_w_close(out, "req");
}

int irp_req_write(sc_buf *out, const irp_req *r)
{
    if (out == NULL || r == NULL || !check_req(r)) return SC_ERR_ARG;
    if (!sc_buf_ok(out)) return SC_ERR_NOMEM;
    size_t start = out->len;
    write_req(out, r);
    return irp__w_finish(out, start);
}

/* ---- equality ----------------------------------------------------------------- */

static int bytes_equal(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

int irp_req_equal(const irp_req *a, const irp_req *b)
{
    if (a->op != b->op || strcmp(a->id, b->id) != 0 || !irp__str_equal(a->user, b->user) ||
        !bytes_equal((const uint8_t *)a->password, a->password_len, (const uint8_t *)b->password,
                     b->password_len) ||
        !irp__str_equal(a->token, b->token) || !irp__str_equal(a->device, b->device) ||
        a->all != b->all || a->port != b->port || a->lifetime != b->lifetime ||
        a->has_seq != b->has_seq || (a->has_seq && a->seq != b->seq) || a->n_addrs != b->n_addrs ||
        !bytes_equal(a->csr, a->csr_len, b->csr, b->csr_len) ||
        !bytes_equal(a->p12, a->p12_len, b->p12, b->p12_len) ||
        !irp__str_equal(a->serial, b->serial) || a->has_fp != b->has_fp ||
        (a->has_fp && memcmp(a->fp, b->fp, 32) != 0) || a->reason != b->reason ||
        a->n_info != b->n_info || a->access != b->access || a->n_allow != b->n_allow ||
        !irp__str_equal(a->after, b->after) || a->after_id != b->after_id)
        return 0;
    for (size_t i = 0; i < a->n_addrs; i++)
        if (!irp_addr_equal(&a->addrs[i], &b->addrs[i])) return 0;
    for (size_t i = 0; i < a->n_info; i++)
        if (!irp__info_equal(&a->info[i], &b->info[i])) return 0;
    for (size_t i = 0; i < a->n_allow; i++)
        if (!irp__str_equal(a->allow[i], b->allow[i])) return 0;
    return 1;
}
