/*
 * fuzz_hsmsg.c - the handshake message schemas (src/core/sc_hsmsg.c).
 *
 * The input is parsed with sc_xml_parse, then handed to every message
 * parser whatever its root element (the dispatcher picks by name, the
 * parsers must not rely on it). Oracles:
 *   - each parser returns SC_OK or one of its documented errors;
 *   - what a parser accepts obeys the limits of docs/PROTOCOL.md 7.1-7.5
 *     (shares, list lengths, no duplicates, key and signature sizes);
 *   - ihello, rhello, verify and finished re-written by their writer parse
 *     back to equal structs, and writing those gives the same bytes;
 *   - a parsed <cert> re-encodes to its base64 text exactly (the base64 is
 *     canonical, so there is one spelling of each certificate).
 */
#include "fuzz_common.h"

/* Known ids, no duplicates, at most SC_MAX_LIST. */
static void check_list(const sc_alglist *l, int count)
{
    FZ_CHECK(l->n <= SC_MAX_LIST);
    for (size_t i = 0; i < l->n; i++) {
        FZ_CHECK(l->v[i] >= 1 && l->v[i] <= count);
        for (size_t j = 0; j < i; j++)
            FZ_CHECK(l->v[i] != l->v[j]);
    }
}

static int list_eq(const sc_alglist *a, const sc_alglist *b)
{
    return a->n == b->n && memcmp(a->v, b->v, a->n * sizeof a->v[0]) == 0;
}

static void check_share(const sc_share *s)
{
    FZ_CHECK((s->group == SC_GROUP_X25519 || s->group == SC_GROUP_P256) &&
             s->len == sc_kex_pub_len(s->group));
}

static int share_eq(const sc_share *a, const sc_share *b)
{
    return a->group == b->group && a->len == b->len && memcmp(a->pub, b->pub, a->len) == 0;
}

/* Parses w and returns the root (the doc in *doc); the writer's output must be a document. */
static const sc_xml_node *reparse(const sc_buf *w, sc_xml_doc **doc)
{
    FZ_CHECK(sc_buf_ok(w) && w->len <= SC_XML_MAX_DOC);
    FZ_CHECK(sc_xml_parse(w->data, w->len, doc) == SC_OK);
    return sc_xml_root(*doc);
}

static void same_bytes(const sc_buf *a, const sc_buf *b)
{
    FZ_CHECK(a->len == b->len && memcmp(a->data, b->data, a->len) == 0);
}

static void ihello(const sc_xml_node *root)
{
    static sc_ihello m, back;
    int rc = sc_ihello_parse(root, &m);
    FZ_CHECK(rc == SC_OK || rc == SC_ERR_DECODE_ERROR || rc == SC_ERR_ILLEGAL_PARAMETER ||
             rc == SC_ERR_PROTOCOL_VERSION);
    if (rc != SC_OK) return;
    check_list(&m.suites, SC_SUITE_COUNT);
    check_list(&m.groups, SC_GROUP_COUNT);
    check_list(&m.sigs, SC_SIG_COUNT);
    FZ_CHECK(m.n_shares <= SC_MAX_SHARES && m.kt_len <= SC_KT_MAX);
    FZ_CHECK(!(m.kt_len && m.n_shares)); /* one key establishment */
    for (size_t i = 0; i < m.n_shares; i++) {
        check_share(&m.shares[i]);
        for (size_t j = 0; j < i; j++)
            FZ_CHECK(m.shares[i].group != m.shares[j].group);
    }
    /*
     * The writer has nothing to put in a list none of whose names we know,
     * nor in an ihello none of whose shares we know: those offers are not
     * ones this version would send, so the round trip is not asked of them.
     */
    if (m.suites.n == 0 || m.sigs.n == 0 || (!m.kt_len && (m.groups.n == 0 || !m.n_shares))) return;
    sc_buf w, w2;
    sc_xml_doc *doc = NULL;
    sc_buf_init(&w, 0);
    sc_buf_init(&w2, 0);
    FZ_CHECK(sc_ihello_write(&w, &m) == SC_OK);
    FZ_CHECK(sc_ihello_parse(reparse(&w, &doc), &back) == SC_OK);
    FZ_CHECK(memcmp(back.random, m.random, SC_RANDOM_LEN) == 0);
    FZ_CHECK(list_eq(&back.suites, &m.suites) && list_eq(&back.sigs, &m.sigs));
    /* In key transport the writer leaves the groups out. */
    FZ_CHECK(m.kt_len ? back.groups.n == 0 : list_eq(&back.groups, &m.groups));
    FZ_CHECK(back.n_shares == m.n_shares && back.kt_len == m.kt_len);
    for (size_t i = 0; i < m.n_shares; i++)
        FZ_CHECK(share_eq(&back.shares[i], &m.shares[i]));
    FZ_CHECK(memcmp(back.kt, m.kt, m.kt_len) == 0);
    FZ_CHECK(sc_ihello_write(&w2, &back) == SC_OK);
    same_bytes(&w, &w2);
    sc_xml_free(doc);
    sc_buf_dispose(&w);
    sc_buf_dispose(&w2);
}

static void rhello(const sc_xml_node *root)
{
    sc_rhello m, back;
    int rc = sc_rhello_parse(root, &m);
    FZ_CHECK(rc == SC_OK || rc == SC_ERR_DECODE_ERROR || rc == SC_ERR_ILLEGAL_PARAMETER ||
             rc == SC_ERR_PROTOCOL_VERSION);
    if (rc != SC_OK) return;
    check_list(&m.sigs, SC_SIG_COUNT);
    FZ_CHECK(m.suite == SC_SUITE_AES_256_GCM || m.suite == SC_SUITE_CHACHA20_POLY1305);
    if (m.kt)
        FZ_CHECK(m.share.group == 0 && m.share.len == 0);
    else
        check_share(&m.share);
    if (m.sigs.n == 0) return; /* as for ihello: nothing to write */
    sc_buf w, w2;
    sc_xml_doc *doc = NULL;
    sc_buf_init(&w, 0);
    sc_buf_init(&w2, 0);
    FZ_CHECK(sc_rhello_write(&w, &m) == SC_OK);
    FZ_CHECK(sc_rhello_parse(reparse(&w, &doc), &back) == SC_OK);
    FZ_CHECK(memcmp(back.random, m.random, SC_RANDOM_LEN) == 0 && back.suite == m.suite);
    FZ_CHECK(list_eq(&back.sigs, &m.sigs) && back.kt == m.kt && share_eq(&back.share, &m.share));
    FZ_CHECK(sc_rhello_write(&w2, &back) == SC_OK);
    same_bytes(&w, &w2);
    sc_xml_free(doc);
    sc_buf_dispose(&w);
    sc_buf_dispose(&w2);
}

static void certmsg(const sc_xml_node *root)
{
    sc_certmsg m;
    int rc = sc_certmsg_parse(root, &m);
    FZ_CHECK(rc == SC_OK || rc == SC_ERR_DECODE_ERROR || rc == SC_ERR_CERTIFICATE_REQUIRED ||
             rc == SC_ERR_NOMEM);
    if (rc != SC_OK) {
        FZ_CHECK(m.storage == NULL && m.n == 0);
        return;
    }
    FZ_CHECK(m.n >= 1 && m.n <= SC_CERT_MAX_CHAIN && m.n == sc_xml_nchildren(root));
    const sc_xml_node *c = root->first_child;
    for (size_t i = 0; i < m.n; i++, c = c->next) {
        FZ_CHECK(m.len[i] >= 1 && m.len[i] <= SC_CERT_MAX_DER);
        /* The certificates lie back to back in storage, leaf first. */
        FZ_CHECK(m.der[i] == (i == 0 ? m.storage : m.der[i - 1] + m.len[i - 1]));
        sc_buf b;
        sc_buf_init(&b, 0);
        sc_base64_encode(&b, m.der[i], m.len[i]);
        FZ_CHECK(sc_buf_ok(&b) && b.len == c->text_len && memcmp(b.data, c->text, b.len) == 0);
        sc_buf_dispose(&b);
    }
    sc_certmsg_clear(&m);
}

static void verify(const sc_xml_node *root)
{
    sc_verifymsg m, back;
    int rc = sc_verify_parse(root, &m);
    FZ_CHECK(rc == SC_OK || rc == SC_ERR_DECODE_ERROR || rc == SC_ERR_ILLEGAL_PARAMETER);
    if (rc != SC_OK) return;
    FZ_CHECK(m.alg >= 1 && m.alg <= SC_SIG_COUNT && m.sig_len >= 1 && m.sig_len <= SC_SIG_MAX);
    sc_buf w, w2;
    sc_xml_doc *doc = NULL;
    sc_buf_init(&w, 0);
    sc_buf_init(&w2, 0);
    FZ_CHECK(sc_verify_write(&w, &m) == SC_OK);
    FZ_CHECK(sc_verify_parse(reparse(&w, &doc), &back) == SC_OK);
    FZ_CHECK(back.alg == m.alg && back.sig_len == m.sig_len &&
             memcmp(back.sig, m.sig, m.sig_len) == 0);
    FZ_CHECK(sc_verify_write(&w2, &back) == SC_OK);
    same_bytes(&w, &w2);
    sc_xml_free(doc);
    sc_buf_dispose(&w);
    sc_buf_dispose(&w2);
}

static void finished(const sc_xml_node *root)
{
    uint8_t mac[SC_HASH_LEN], back[SC_HASH_LEN];
    int rc = sc_finished_parse(root, mac);
    FZ_CHECK(rc == SC_OK || rc == SC_ERR_DECODE_ERROR);
    if (rc != SC_OK) return;
    sc_buf w;
    sc_xml_doc *doc = NULL;
    sc_buf_init(&w, 0);
    FZ_CHECK(sc_finished_write(&w, mac) == SC_OK);
    FZ_CHECK(sc_finished_parse(reparse(&w, &doc), back) == SC_OK);
    FZ_CHECK(memcmp(mac, back, SC_HASH_LEN) == 0);
    sc_xml_free(doc);
    sc_buf_dispose(&w);
}

#define R32 "r=\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\""
#define ZERO32 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

static void write_seeds(const char *dir)
{
    const fz_flights *f0 = fz_flights_get(0), *f1 = fz_flights_get(1), *f2 = fz_flights_get(2);
    /* The real messages of both recorded handshakes. */
    const fz_msg *real[] = {&f0->ihello, &f2->ihello, &f0->rhello,  &f1->rhello,  &f2->rhello,
                            &f0->rcert,  &f2->rcert,  &f0->rverify, &f2->rverify, &f0->rfin};
    static const char *const names[] = {"ihello",         "ihello_kt", "rhello",   "rhello_p256",
                                        "rhello_kt",      "cert",      "cert_rsa", "verify",
                                        "verify_rsa_pss", "finished"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        fz_seed_bytes(dir, names[i], -1, real[i]->p, real[i]->len);
    sc_buf b;
    const fz_cert *chain[] = {&fz_w.alice, &fz_w.root};
    fz_seed_begin(&b, -1);
    fz_seed_certmsg(&b, chain, 2);
    fz_seed(dir, "cert_chain2", &b);
    static const char *const xml[][2] = {
        {"ihello_unknown_names",
         "<ihello v=\"1\" " R32 " suites=\"aes-512-ocb aes-256-gcm aes-256-gcm\" "
         "groups=\"x448 x25519\" sigs=\"ed448 ed25519\"><share g=\"x448\">AAAA</share>"
         "<share g=\"x25519\">" ZERO32 "</share></ihello>"},
        {"ihello_dup_share", "<ihello v=\"1\" " R32 " suites=\"aes-256-gcm\" groups=\"x25519\" "
                             "sigs=\"ed25519\"><share g=\"x25519\">" ZERO32 "</share>"
                             "<share g=\"x25519\">" ZERO32 "</share></ihello>"},
        {"ihello_v2", "<ihello v=\"2\" " R32 " suites=\"aes-256-gcm\" sigs=\"ed25519\">"
                      "<kt>AAAA</kt></ihello>"},
        {"ihello_list9", "<ihello v=\"1\" " R32 " suites=\"a b c d e f g h i\" sigs=\"ed25519\">"
                         "<kt>AAAA</kt></ihello>"},
        {"verify_unknown_alg", "<verify alg=\"dsa\">AAAA</verify>"},
        {"finished_short", "<finished>AAAA</finished>"},
        {"cert_five", "<cert><c>AAAA</c><c>AAAA</c><c>AAAA</c><c>AAAA</c><c>AAAA</c></cert>"},
        {"cert_bad_b64", "<cert><c>AAA=A</c></cert>"},
    };
    for (size_t i = 0; i < sizeof xml / sizeof xml[0]; i++)
        fz_seed_bytes(dir, xml[i][0], -1, xml[i][1], strlen(xml[i][1]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sc_xml_doc *doc = NULL;
    const char *seeds = fz_seeds_dir();
    if (seeds) write_seeds(seeds);
    if (sc_xml_parse(data, size, &doc) != SC_OK) return 0;
    const sc_xml_node *root = sc_xml_root(doc);
    sc_msg_kind kind = sc_hsmsg_kind(root);
    FZ_CHECK(kind >= SC_MSG_NONE && kind <= SC_MSG_FINISHED);
    ihello(root);
    rhello(root);
    certmsg(root);
    verify(root);
    finished(root);
    sc_xml_free(doc);
    return 0;
}
