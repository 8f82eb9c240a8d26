/*
 * sc_hsmsg.c - parse and write the handshake messages (docs/PROTOCOL.md 7).
 */
#include <stdlib.h>
#include <string.h>
#include "sc_alloc.h"
#include "sixchat/error.h"
#include "sc_base64.h"
#include "sc_hsmsg.h"

sc_msg_kind sc_hsmsg_kind(const sc_xml_node *root)
{
    static const struct {
        const char *name;
        sc_msg_kind kind;
    } kinds[] = {{"ihello", SC_MSG_IHELLO},
                 {"rhello", SC_MSG_RHELLO},
                 {"cert", SC_MSG_CERT},
                 {"verify", SC_MSG_VERIFY},
                 {"finished", SC_MSG_FINISHED}};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(root->name, kinds[i].name) == 0) return kinds[i].kind;
    return SC_MSG_NONE;
}

int sc_alglist_has(const sc_alglist *l, int v)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i] == v) return 1;
    return 0;
}

/* Exactly n bytes of canonical base64, no more, no less. */
static int b64_exact(const char *s, size_t len, uint8_t *out, size_t n)
{
    if (s == NULL) return SC_ERR_DECODE_ERROR;
    long got = sc_base64_decode(s, len, out, n);
    return got == (long)n ? SC_OK : SC_ERR_DECODE_ERROR;
}

/* 1..max bytes of canonical base64. */
static int b64_bounded(const char *s, size_t len, uint8_t *out, size_t max, size_t *n)
{
    if (s == NULL || len == 0) return SC_ERR_DECODE_ERROR;
    long got = sc_base64_decode(s, len, out, max);
    if (got <= 0) return SC_ERR_DECODE_ERROR;
    *n = (size_t)got;
    return SC_OK;
}

static int attr_b64_exact(const sc_xml_node *n, const char *name, uint8_t *out, size_t len)
{
    size_t vlen = 0;
    const char *v = sc_xml_attr_get(n, name, &vlen);
    return b64_exact(v, vlen, out, len);
}

/*
 * A space-separated list of names. Unknown names are skipped so later
 * versions can add algorithms; more than SC_MAX_LIST names is malformed.
 */
static int parse_alglist(const sc_xml_node *n, const char *attr,
                         int (*lookup)(const char *, size_t), sc_alglist *out)
{
    size_t len = 0, names = 0;
    const char *p = sc_xml_attr_get(n, attr, &len), *end;
    out->n = 0;
    if (p == NULL) return SC_ERR_DECODE_ERROR;
    end = p + len;
    while (p < end) {
        const char *start = p;
        while (p < end && *p != ' ')
            p++;
        if (p == start || ++names > SC_MAX_LIST) return SC_ERR_DECODE_ERROR;
        int v = lookup(start, (size_t)(p - start));
        if (v && !sc_alglist_has(out, v)) out->v[out->n++] = v;
        if (p < end) p++; /* single space separator; a trailing space is malformed */
        if (p == end && p[-1] == ' ') return SC_ERR_DECODE_ERROR;
    }
    return names ? SC_OK : SC_ERR_DECODE_ERROR;
}

static void write_alglist(sc_buf *b, const char *attr, const sc_alglist *l,
                          const char *(*name)(int))
{
    sc_buf tmp;
    sc_buf_init(&tmp, 0);
    for (size_t i = 0; i < l->n; i++) {
        if (i) sc_buf_put_u8(&tmp, ' ');
        sc_buf_put_str(&tmp, name(l->v[i]));
    }
    sc_xml_w_attr_n(b, attr, (const char *)tmp.data, tmp.len);
    if (!sc_buf_ok(&tmp)) b->failed = 1;
    sc_buf_dispose(&tmp);
}

static void write_b64_attr(sc_buf *b, const char *attr, const uint8_t *p, size_t n)
{
    sc_buf tmp;
    sc_buf_init(&tmp, 0);
    sc_base64_encode(&tmp, p, n);
    sc_xml_w_attr_n(b, attr, (const char *)tmp.data, tmp.len);
    if (!sc_buf_ok(&tmp)) b->failed = 1;
    sc_buf_dispose(&tmp);
}

static void write_b64_element(sc_buf *b, const char *name, const char *attr, const char *attr_value,
                              const uint8_t *p, size_t n)
{
    sc_xml_w_open(b, name);
    if (attr) sc_xml_w_attr(b, attr, attr_value);
    sc_xml_w_end_open(b);
    sc_base64_encode(b, p, n);
    sc_xml_w_close(b, name);
}

static int check_version(const sc_xml_node *n)
{
    size_t len = 0;
    const char *v = sc_xml_attr_get(n, "v", &len);
    if (v == NULL) return SC_ERR_DECODE_ERROR;
    return len == 1 && v[0] == '1' ? SC_OK : SC_ERR_PROTOCOL_VERSION;
}

static int parse_share(const sc_xml_node *c, sc_share *sh)
{
    size_t glen = 0;
    const char *g = sc_xml_attr_get(c, "g", &glen);
    memset(sh, 0, sizeof *sh);
    if (g == NULL || c->first_child != NULL) return SC_ERR_DECODE_ERROR;
    sh->group = sc_group_by_name(g, glen);
    if (sh->group == 0) return SC_OK; /* unknown group: skipped by the caller */
    return b64_exact(c->text, c->text_len, sh->pub, sc_kex_pub_len(sh->group)) == SC_OK
               ? (sh->len = sc_kex_pub_len(sh->group), SC_OK)
               : SC_ERR_DECODE_ERROR;
}

int sc_ihello_parse(const sc_xml_node *root, sc_ihello *m)
{
    int ret;
    memset(m, 0, sizeof *m);
    if ((ret = check_version(root)) != SC_OK) return ret;
    if ((ret = attr_b64_exact(root, "r", m->random, SC_RANDOM_LEN)) != SC_OK ||
        (ret = parse_alglist(root, "suites", sc_suite_by_name, &m->suites)) != SC_OK ||
        (ret = parse_alglist(root, "sigs", sc_sigalg_by_name, &m->sigs)) != SC_OK)
        return ret;
    if (sc_xml_attr_get(root, "groups", NULL) != NULL &&
        (ret = parse_alglist(root, "groups", sc_group_by_name, &m->groups)) != SC_OK)
        return ret;
    size_t seen = 0;
    for (const sc_xml_node *c = root->first_child; c; c = c->next) {
        if (strcmp(c->name, "share") == 0) {
            sc_share sh;
            if (++seen > SC_MAX_SHARES) return SC_ERR_DECODE_ERROR;
            if ((ret = parse_share(c, &sh)) != SC_OK) return ret;
            if (sh.group == 0) continue;
            for (size_t i = 0; i < m->n_shares; i++)
                if (m->shares[i].group == sh.group) return SC_ERR_ILLEGAL_PARAMETER;
            m->shares[m->n_shares++] = sh;
        } else if (strcmp(c->name, "kt") == 0) {
            if (m->kt_len || c->first_child) return SC_ERR_DECODE_ERROR;
            if ((ret = b64_bounded(c->text, c->text_len, m->kt, SC_KT_MAX, &m->kt_len)) != SC_OK)
                return ret;
        } else {
            return SC_ERR_DECODE_ERROR;
        }
    }
    /* Exactly one key establishment: shares (ECDHE) or kt (key transport), whose
     * ihello has no groups attribute (7.1, 7.8). */
    if (m->kt_len && (seen || sc_xml_attr_get(root, "groups", NULL) != NULL))
        return SC_ERR_ILLEGAL_PARAMETER;
    if (!m->kt_len && !seen) return SC_ERR_DECODE_ERROR;
    return SC_OK;
}

int sc_ihello_write(sc_buf *b, const sc_ihello *m)
{
    sc_xml_w_open(b, "ihello");
    sc_xml_w_attr(b, "v", "1");
    write_b64_attr(b, "r", m->random, SC_RANDOM_LEN);
    write_alglist(b, "suites", &m->suites, sc_suite_name);
    if (!m->kt_len) write_alglist(b, "groups", &m->groups, sc_group_name);
    write_alglist(b, "sigs", &m->sigs, sc_sigalg_name);
    sc_xml_w_end_open(b);
    for (size_t i = 0; i < m->n_shares; i++)
        write_b64_element(b, "share", "g", sc_group_name(m->shares[i].group), m->shares[i].pub,
                          m->shares[i].len);
    if (m->kt_len) write_b64_element(b, "kt", NULL, NULL, m->kt, m->kt_len);
    sc_xml_w_close(b, "ihello");
    return sc_buf_ok(b) ? SC_OK : SC_ERR_NOMEM;
}

int sc_rhello_parse(const sc_xml_node *root, sc_rhello *m)
{
    int ret;
    size_t len = 0, kexlen = 0;
    const char *suite, *kex;
    memset(m, 0, sizeof *m);
    if ((ret = check_version(root)) != SC_OK) return ret;
    if ((ret = attr_b64_exact(root, "r", m->random, SC_RANDOM_LEN)) != SC_OK ||
        (ret = parse_alglist(root, "sigs", sc_sigalg_by_name, &m->sigs)) != SC_OK)
        return ret;
    if ((suite = sc_xml_attr_get(root, "suite", &len)) == NULL) return SC_ERR_DECODE_ERROR;
    /* The responder must pick one of ours; an unknown name is a bad choice, not noise. */
    if ((m->suite = sc_suite_by_name(suite, len)) == 0) return SC_ERR_ILLEGAL_PARAMETER;
    kex = sc_xml_attr_get(root, "kex", &kexlen);
    if (kex != NULL) {
        if (kexlen != 2 || memcmp(kex, "kt", 2) != 0) return SC_ERR_ILLEGAL_PARAMETER;
        m->kt = 1;
        return root->first_child == NULL ? SC_OK : SC_ERR_DECODE_ERROR;
    }
    const sc_xml_node *c = root->first_child;
    if (c == NULL || c->next != NULL || strcmp(c->name, "share") != 0) return SC_ERR_DECODE_ERROR;
    if ((ret = parse_share(c, &m->share)) != SC_OK) return ret;
    return m->share.group ? SC_OK : SC_ERR_ILLEGAL_PARAMETER;
}

int sc_rhello_write(sc_buf *b, const sc_rhello *m)
{
    sc_xml_w_open(b, "rhello");
    sc_xml_w_attr(b, "v", "1");
    write_b64_attr(b, "r", m->random, SC_RANDOM_LEN);
    sc_xml_w_attr(b, "suite", sc_suite_name(m->suite));
    write_alglist(b, "sigs", &m->sigs, sc_sigalg_name);
    if (m->kt) {
        sc_xml_w_attr(b, "kex", "kt");
        sc_xml_w_end_empty(b);
    } else {
        sc_xml_w_end_open(b);
        write_b64_element(b, "share", "g", sc_group_name(m->share.group), m->share.pub,
                          m->share.len);
        sc_xml_w_close(b, "rhello");
    }
    return sc_buf_ok(b) ? SC_OK : SC_ERR_NOMEM;
}

int sc_certmsg_parse(const sc_xml_node *root, sc_certmsg *m)
{
    size_t total = 0, n = 0, used = 0;
    memset(m, 0, sizeof *m);
    if (root->text_len != 0) return SC_ERR_DECODE_ERROR;
    for (const sc_xml_node *c = root->first_child; c; c = c->next) {
        /* Attributes are ignored here as on every element (PROTOCOL.md 4.4). */
        if (strcmp(c->name, "c") != 0 || c->first_child) return SC_ERR_DECODE_ERROR;
        if (++n > SC_CERT_MAX_CHAIN) return SC_ERR_DECODE_ERROR;
        size_t max = sc_base64_decoded_max(c->text_len);
        if (max == SIZE_MAX || max == 0 || max > SC_CERT_MAX_DER + 2) return SC_ERR_DECODE_ERROR;
        total += max;
    }
    if (n == 0) return SC_ERR_CERTIFICATE_REQUIRED;
    if ((m->storage = sc__malloc(total)) == NULL) return SC_ERR_NOMEM;
    for (const sc_xml_node *c = root->first_child; c; c = c->next) {
        size_t len;
        if (b64_bounded(c->text, c->text_len, m->storage + used, total - used, &len) != SC_OK ||
            len > SC_CERT_MAX_DER) {
            sc_certmsg_clear(m);
            return SC_ERR_DECODE_ERROR;
        }
        m->der[m->n] = m->storage + used;
        m->len[m->n++] = len;
        used += len;
    }
    return SC_OK;
}

void sc_certmsg_clear(sc_certmsg *m)
{
    sc__free(m->storage);
    memset(m, 0, sizeof *m);
}

int sc_verify_parse(const sc_xml_node *root, sc_verifymsg *m)
{
    size_t len = 0;
    const char *alg = sc_xml_attr_get(root, "alg", &len);
    memset(m, 0, sizeof *m);
    if (alg == NULL || root->first_child) return SC_ERR_DECODE_ERROR;
    if ((m->alg = sc_sigalg_by_name(alg, len)) == 0) return SC_ERR_ILLEGAL_PARAMETER;
    return b64_bounded(root->text, root->text_len, m->sig, SC_SIG_MAX, &m->sig_len);
}

int sc_verify_write(sc_buf *b, const sc_verifymsg *m)
{
    write_b64_element(b, "verify", "alg", sc_sigalg_name(m->alg), m->sig, m->sig_len);
    return sc_buf_ok(b) ? SC_OK : SC_ERR_NOMEM;
}

int sc_finished_parse(const sc_xml_node *root, uint8_t mac[SC_HASH_LEN])
{
    if (root->first_child) return SC_ERR_DECODE_ERROR; /* attributes: ignored (4.4) */
    return b64_exact(root->text, root->text_len, mac, SC_HASH_LEN);
}

int sc_finished_write(sc_buf *b, const uint8_t mac[SC_HASH_LEN])
{
    write_b64_element(b, "finished", NULL, NULL, mac, SC_HASH_LEN);
    return sc_buf_ok(b) ? SC_OK : SC_ERR_NOMEM;
}
