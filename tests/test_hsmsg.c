/*
 * test_hsmsg.c - the handshake messages as schemas (sc_hsmsg.c,
 * docs/PROTOCOL.md 7): each message written and parsed back,
 * and every rule of the parsers refused with its specific error
 * (SC_ERR_DECODE_ERROR malformed, SC_ERR_ILLEGAL_PARAMETER contradictory,
 * SC_ERR_PROTOCOL_VERSION, SC_ERR_CERTIFICATE_REQUIRED).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "sixchat/error.h"
#include "sc_base64.h"
#include "sc_hsmsg.h"
#include "sc_record.h"
#include "sc_xml.h"

/* ---- helpers ------------------------------------------------------------ */

/* base64 of n bytes of a pattern, NUL-terminated (malloc'd). */
static char *b64_of(size_t n, uint8_t seed)
{
    sc_buf in, out;
    sc_buf_init(&in, 0);
    sc_buf_init(&out, 0);
    for (size_t i = 0; i < n; i++)
        sc_buf_put_u8(&in, (uint8_t)(seed + i * 13));
    sc_base64_encode(&out, in.data, in.len);
    sc_buf_put_u8(&out, 0);
    assert_true(sc_buf_ok(&out));
    char *s = strdup((const char *)out.data);
    assert_non_null(s);
    sc_buf_dispose(&in);
    sc_buf_dispose(&out);
    return s;
}

/* Valid pieces: a 32-byte random / X25519 share, a 65-byte P-256 share. */
static char *R32, *X32, *P65, *K256;

static int setup(void **st)
{
    R32 = b64_of(32, 1);
    X32 = b64_of(32, 2);
    P65 = b64_of(65, 3);
    K256 = b64_of(256, 4);
    return 0;
}

static int teardown(void **st)
{
    free(R32);
    free(X32);
    free(P65);
    free(K256);
    return 0;
}

typedef int (*parse_fn)(const sc_xml_node *root, void *out);

static int p_ihello(const sc_xml_node *r, void *o)
{
    return sc_ihello_parse(r, o);
}
static int p_rhello(const sc_xml_node *r, void *o)
{
    return sc_rhello_parse(r, o);
}
static int p_verify(const sc_xml_node *r, void *o)
{
    return sc_verify_parse(r, o);
}
static int p_finished(const sc_xml_node *r, void *o)
{
    return sc_finished_parse(r, o);
}
static int p_cert(const sc_xml_node *r, void *o)
{
    int ret = sc_certmsg_parse(r, o);
    if (ret == SC_OK) sc_certmsg_clear(o);
    return ret;
}

/* Parses a document with fn; the result of the XML profile or of the message parser. */
static int parse_with(parse_fn fn, const char *xml)
{
    sc_xml_doc *doc = NULL;
    union {
        sc_ihello ih;
        sc_rhello rh;
        sc_verifymsg v;
        sc_certmsg c;
        uint8_t mac[SC_HASH_LEN];
    } out;
    int ret = sc_xml_parse((const uint8_t *)xml, strlen(xml), &doc);
    if (ret == SC_OK) ret = fn(sc_xml_root(doc), &out);
    sc_xml_free(doc);
    return ret;
}

/* A formatted string in one of a ring of buffers, so results can nest as arguments. */
static char *fmt(const char *f, ...)
{
    static char ring[4][32768];
    static unsigned next;
    char *buf = ring[next++ % 4];
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(buf, sizeof ring[0], f, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof ring[0]);
    return buf;
}

/* The standard ihello with its children replaced. */
static int ihello_with(const char *attrs, const char *children)
{
    return parse_with(p_ihello, fmt("<ihello %s>%s</ihello>", attrs, children));
}

static const char *good_attrs(void)
{
    static char a[512];
    snprintf(a, sizeof a,
             "v=\"1\" r=\"%s\" suites=\"aes-256-gcm chacha20-poly1305\" groups=\"x25519 p256\" "
             "sigs=\"ed25519 ecdsa-p256-sha256\"",
             R32);
    return a;
}

static const char *x25519_share(void)
{
    static char s[128];
    snprintf(s, sizeof s, "<share g=\"x25519\">%s</share>", X32);
    return s;
}

/* Writes with w, then parses the XML back with sc_xml_parse; *doc freed by the caller. */
static const sc_xml_node *reparse(const sc_buf *b, sc_xml_doc **doc)
{
    assert_true(sc_buf_ok(b));
    assert_int_equal(sc_xml_parse(b->data, b->len, doc), SC_OK);
    return sc_xml_root(*doc);
}

static void assert_list_equal(const sc_alglist *a, const sc_alglist *b)
{
    assert_int_equal(a->n, b->n);
    assert_memory_equal(a->v, b->v, a->n * sizeof a->v[0]);
}

/* Field by field: bytes of a share past its length are not part of the message. */
static void assert_ihello_equal(const sc_ihello *a, const sc_ihello *b)
{
    assert_memory_equal(a->random, b->random, SC_RANDOM_LEN);
    assert_list_equal(&a->suites, &b->suites);
    assert_list_equal(&a->groups, &b->groups);
    assert_list_equal(&a->sigs, &b->sigs);
    assert_int_equal(a->n_shares, b->n_shares);
    for (size_t i = 0; i < a->n_shares; i++) {
        assert_int_equal(a->shares[i].group, b->shares[i].group);
        assert_int_equal(a->shares[i].len, b->shares[i].len);
        assert_memory_equal(a->shares[i].pub, b->shares[i].pub, a->shares[i].len);
    }
    assert_int_equal(a->kt_len, b->kt_len);
    if (a->kt_len) assert_memory_equal(a->kt, b->kt, a->kt_len);
}

/* ---- kinds -------------------------------------------------------------- */

static void test_kind_by_root_name(void **st)
{
    static const struct {
        const char *xml;
        sc_msg_kind kind;
    } cases[] = {
        {"<ihello/>", SC_MSG_IHELLO},     {"<rhello/>", SC_MSG_RHELLO},
        {"<cert/>", SC_MSG_CERT},         {"<verify/>", SC_MSG_VERIFY},
        {"<finished/>", SC_MSG_FINISHED}, {"<Finished/>", SC_MSG_NONE},
        {"<hello/>", SC_MSG_NONE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sc_xml_doc *doc;
        assert_int_equal(sc_xml_parse((const uint8_t *)cases[i].xml, strlen(cases[i].xml), &doc),
                         SC_OK);
        assert_int_equal(sc_hsmsg_kind(sc_xml_root(doc)), cases[i].kind);
        sc_xml_free(doc);
    }
}

/* ---- round trips -------------------------------------------------------- */

static void test_ihello_ecdhe_round_trip(void **st)
{
    sc_ihello in, out;
    sc_buf b;
    sc_xml_doc *doc;
    memset(&in, 0, sizeof in);
    for (int i = 0; i < SC_RANDOM_LEN; i++)
        in.random[i] = (uint8_t)(i * 7);
    in.suites = (sc_alglist){{SC_SUITE_CHACHA20_POLY1305, SC_SUITE_AES_256_GCM}, 2};
    in.groups = (sc_alglist){{SC_GROUP_X25519, SC_GROUP_P256}, 2};
    in.sigs = (sc_alglist){
        {SC_SIG_RSA_PSS_SHA256, SC_SIG_ED25519, SC_SIG_ECDSA_P256_SHA256, SC_SIG_ECDSA_P384_SHA384},
        4};
    in.shares[0].group = SC_GROUP_X25519;
    in.shares[0].len = 32;
    memset(in.shares[0].pub, 0x11, 32);
    in.shares[1].group = SC_GROUP_P256;
    in.shares[1].len = 65;
    memset(in.shares[1].pub, 0x04, 65);
    in.n_shares = 2;
    sc_buf_init(&b, SC_MAX_HELLO);
    assert_int_equal(sc_ihello_write(&b, &in), SC_OK);
    assert_int_equal(sc_ihello_parse(reparse(&b, &doc), &out), SC_OK);
    assert_ihello_equal(&out, &in);
    sc_xml_free(doc);
    sc_buf_dispose(&b);
}

static void test_ihello_kt_round_trip(void **st)
{
    sc_ihello in, out;
    sc_buf b;
    sc_xml_doc *doc;
    memset(&in, 0, sizeof in);
    memset(in.random, 0xee, SC_RANDOM_LEN);
    in.suites = (sc_alglist){{SC_SUITE_AES_256_GCM}, 1};
    in.sigs = (sc_alglist){{SC_SIG_ED25519}, 1};
    in.kt_len = 256;
    for (int i = 0; i < 256; i++)
        in.kt[i] = (uint8_t)i;
    sc_buf_init(&b, SC_MAX_HELLO);
    assert_int_equal(sc_ihello_write(&b, &in), SC_OK);
    sc_xml_node const *root = reparse(&b, &doc);
    assert_null(sc_xml_attr_get(root, "groups", NULL)); /* KT mode: no groups attribute */
    assert_int_equal(sc_ihello_parse(root, &out), SC_OK);
    assert_ihello_equal(&out, &in);
    sc_xml_free(doc);
    sc_buf_dispose(&b);
}

static void test_rhello_ecdhe_round_trip(void **st)
{
    sc_rhello in, out;
    sc_buf b;
    sc_xml_doc *doc;
    memset(&in, 0, sizeof in);
    memset(in.random, 0x5a, SC_RANDOM_LEN);
    in.suite = SC_SUITE_CHACHA20_POLY1305;
    in.sigs = (sc_alglist){{SC_SIG_ECDSA_P384_SHA384, SC_SIG_ED25519}, 2};
    in.share.group = SC_GROUP_P256;
    in.share.len = 65;
    memset(in.share.pub, 0x42, 65);
    sc_buf_init(&b, SC_MAX_HELLO);
    assert_int_equal(sc_rhello_write(&b, &in), SC_OK);
    assert_int_equal(sc_rhello_parse(reparse(&b, &doc), &out), SC_OK);
    assert_memory_equal(&out, &in, sizeof in);
    sc_xml_free(doc);
    sc_buf_dispose(&b);
}

static void test_rhello_kt_round_trip(void **st)
{
    sc_rhello in, out;
    sc_buf b;
    sc_xml_doc *doc;
    memset(&in, 0, sizeof in);
    memset(in.random, 0x01, SC_RANDOM_LEN);
    in.suite = SC_SUITE_AES_256_GCM;
    in.sigs = (sc_alglist){{SC_SIG_RSA_PSS_SHA256}, 1};
    in.kt = 1;
    sc_buf_init(&b, SC_MAX_HELLO);
    assert_int_equal(sc_rhello_write(&b, &in), SC_OK);
    sc_xml_node const *root = reparse(&b, &doc);
    assert_null(root->first_child);
    assert_int_equal(sc_rhello_parse(root, &out), SC_OK);
    assert_memory_equal(&out, &in, sizeof in);
    sc_xml_free(doc);
    sc_buf_dispose(&b);
}

static void test_cert_round_trip(void **st)
{
    char *a = b64_of(700, 9), *c = b64_of(8192, 10);
    sc_xml_doc *doc;
    sc_certmsg m;
    const char *xml = fmt("<cert><c>%s</c><c>%s</c></cert>", a, c);
    assert_int_equal(sc_xml_parse((const uint8_t *)xml, strlen(xml), &doc), SC_OK);
    assert_int_equal(sc_certmsg_parse(sc_xml_root(doc), &m), SC_OK);
    assert_int_equal(m.n, 2);
    assert_int_equal(m.len[0], 700);
    assert_int_equal(m.len[1], 8192);
    for (size_t i = 0; i < 700; i++)
        assert_int_equal(m.der[0][i], (uint8_t)(9 + i * 13));
    for (size_t i = 0; i < 8192; i++)
        assert_int_equal(m.der[1][i], (uint8_t)(10 + i * 13));
    sc_certmsg_clear(&m);
    assert_int_equal(m.n, 0);
    assert_null(m.storage);
    sc_xml_free(doc);
    free(a);
    free(c);
}

static void test_verify_round_trip(void **st)
{
    sc_verifymsg in, out;
    sc_buf b;
    sc_xml_doc *doc;
    memset(&in, 0, sizeof in);
    in.alg = SC_SIG_ECDSA_P256_SHA256;
    in.sig_len = 71;
    for (int i = 0; i < 71; i++)
        in.sig[i] = (uint8_t)(0x30 + i);
    sc_buf_init(&b, 0);
    assert_int_equal(sc_verify_write(&b, &in), SC_OK);
    assert_int_equal(sc_verify_parse(reparse(&b, &doc), &out), SC_OK);
    assert_memory_equal(&out, &in, sizeof in);
    sc_xml_free(doc);
    sc_buf_dispose(&b);
}

static void test_finished_round_trip(void **st)
{
    uint8_t in[SC_HASH_LEN], out[SC_HASH_LEN];
    sc_buf b;
    sc_xml_doc *doc;
    for (int i = 0; i < SC_HASH_LEN; i++)
        in[i] = (uint8_t)(255 - i);
    sc_buf_init(&b, 0);
    assert_int_equal(sc_finished_write(&b, in), SC_OK);
    assert_int_equal(sc_finished_parse(reparse(&b, &doc), out), SC_OK);
    assert_memory_equal(out, in, SC_HASH_LEN);
    sc_xml_free(doc);
    sc_buf_dispose(&b);
}

/* ---- ihello: attributes ------------------------------------------------- */

static void test_ihello_accepts_the_good_one(void **st)
{
    assert_int_equal(ihello_with(good_attrs(), x25519_share()), SC_OK);
}

static void test_ihello_missing_attributes(void **st)
{
    const char *sh = x25519_share();
    assert_int_equal(ihello_with(fmt("r=\"%s\" suites=\"aes-256-gcm\" sigs=\"ed25519\"", R32), sh),
                     SC_ERR_DECODE_ERROR); /* no v */
    assert_int_equal(ihello_with("v=\"1\" suites=\"aes-256-gcm\" sigs=\"ed25519\"", sh),
                     SC_ERR_DECODE_ERROR); /* no r */
    assert_int_equal(ihello_with(fmt("v=\"1\" r=\"%s\" sigs=\"ed25519\"", R32), sh),
                     SC_ERR_DECODE_ERROR); /* no suites */
    assert_int_equal(ihello_with(fmt("v=\"1\" r=\"%s\" suites=\"aes-256-gcm\"", R32), sh),
                     SC_ERR_DECODE_ERROR); /* no sigs */
    /* groups is optional (absent in KT mode). */
    assert_int_equal(
        ihello_with(fmt("v=\"1\" r=\"%s\" suites=\"aes-256-gcm\" sigs=\"ed25519\"", R32), sh),
        SC_OK);
}

static void test_ihello_version(void **st)
{
    const char *sh = x25519_share();
    const char *tail = "suites=\"aes-256-gcm\" sigs=\"ed25519\"";
    assert_int_equal(ihello_with(fmt("v=\"2\" r=\"%s\" %s", R32, tail), sh),
                     SC_ERR_PROTOCOL_VERSION);
    assert_int_equal(ihello_with(fmt("v=\"01\" r=\"%s\" %s", R32, tail), sh),
                     SC_ERR_PROTOCOL_VERSION);
    assert_int_equal(ihello_with(fmt("v=\"\" r=\"%s\" %s", R32, tail), sh),
                     SC_ERR_PROTOCOL_VERSION);
    /* The version is judged first: a v2 hello may look different otherwise. */
    assert_int_equal(ihello_with("v=\"2\"", ""), SC_ERR_PROTOCOL_VERSION);
}

static void test_ihello_bad_random(void **st)
{
    char *r31 = b64_of(31, 1), *r33 = b64_of(33, 1);
    const char *sh = x25519_share(), *tail = "suites=\"aes-256-gcm\" sigs=\"ed25519\"";
    const char *bad[] = {r31, r33, "", "AAAA", "not base64!"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ihello_with(fmt("v=\"1\" r=\"%s\" %s", bad[i], tail), sh),
                         SC_ERR_DECODE_ERROR);
    /* Non-canonical forms of a valid 32 bytes: no padding, a space, a line break, bits set. */
    char r[64];
    snprintf(r, sizeof r, "%.*s", 43, R32);
    assert_int_equal(ihello_with(fmt("v=\"1\" r=\"%s\" %s", r, tail), sh), SC_ERR_DECODE_ERROR);
    snprintf(r, sizeof r, " %s", R32);
    assert_int_equal(ihello_with(fmt("v=\"1\" r=\"%s\" %s", r, tail), sh), SC_ERR_DECODE_ERROR);
    snprintf(r, sizeof r, "%.20s&#10;%s", R32, R32 + 20);
    assert_int_equal(ihello_with(fmt("v=\"1\" r=\"%s\" %s", r, tail), sh), SC_ERR_DECODE_ERROR);
    snprintf(r, sizeof r, "%s", R32);
    r[42] = r[42] == 'B' ? 'C' : 'B'; /* last symbol before '=': low two bits must be zero */
    assert_int_equal(ihello_with(fmt("v=\"1\" r=\"%s\" %s", r, tail), sh), SC_ERR_DECODE_ERROR);
    free(r31);
    free(r33);
}

static void test_ihello_lists(void **st)
{
    const char *sh = x25519_share();
    const char *base = fmt("v=\"1\" r=\"%s\" sigs=\"ed25519\"", R32);
    char b[256];
    snprintf(b, sizeof b, "%s", base);
    static const struct {
        const char *suites;
        int err;
    } cases[] = {
        {"a b c d e f g aes-256-gcm", SC_OK},                 /* 8 names, unknown ones skipped */
        {"a b c d e f g h aes-256-gcm", SC_ERR_DECODE_ERROR}, /* 9 names */
        {"", SC_ERR_DECODE_ERROR},
        {" aes-256-gcm", SC_ERR_DECODE_ERROR},
        {"aes-256-gcm ", SC_ERR_DECODE_ERROR},
        {"aes-256-gcm  chacha20-poly1305", SC_ERR_DECODE_ERROR},
        {"aes-256-gcm aes-256-gcm", SC_OK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(ihello_with(fmt("%s suites=\"%s\"", b, cases[i].suites), sh),
                         cases[i].err);
    assert_int_equal(
        ihello_with(fmt("%s suites=\"aes-256-gcm\" groups=\"a b c d e f g h i\"", b), sh),
        SC_ERR_DECODE_ERROR);
    assert_int_equal(
        ihello_with(fmt("v=\"1\" r=\"%s\" suites=\"aes-256-gcm\" sigs=\"1 2 3 4 5 6 7 8 9\"", R32),
                    sh),
        SC_ERR_DECODE_ERROR);

    /* What the parsed lists hold: known names, in order, once. */
    sc_xml_doc *doc;
    sc_ihello m;
    const char *xml = fmt("<ihello v=\"1\" r=\"%s\" suites=\"x chacha20-poly1305 aes-256-gcm "
                          "chacha20-poly1305\" sigs=\"ed448 ed25519\">%s</ihello>",
                          R32, sh);
    assert_int_equal(sc_xml_parse((const uint8_t *)xml, strlen(xml), &doc), SC_OK);
    assert_int_equal(sc_ihello_parse(sc_xml_root(doc), &m), SC_OK);
    assert_int_equal(m.suites.n, 2);
    assert_int_equal(m.suites.v[0], SC_SUITE_CHACHA20_POLY1305);
    assert_int_equal(m.suites.v[1], SC_SUITE_AES_256_GCM);
    assert_int_equal(m.sigs.n, 1);
    assert_int_equal(m.sigs.v[0], SC_SIG_ED25519);
    sc_xml_free(doc);
}

/* ---- ihello: key establishment ------------------------------------------ */

static void test_ihello_shares(void **st)
{
    const char *a = good_attrs();
    char x[128], p[160], u[128];
    snprintf(x, sizeof x, "<share g=\"x25519\">%s</share>", X32);
    snprintf(p, sizeof p, "<share g=\"p256\">%s</share>", P65);
    snprintf(u, sizeof u, "<share g=\"x448\">%s</share>", X32);
    /* Two known shares and two unknown groups (skipped): 4 elements are fine. */
    assert_int_equal(ihello_with(a, fmt("%s%s%s%s", x, p, u, u)), SC_OK);
    /* A fifth share element. */
    assert_int_equal(ihello_with(a, fmt("%s%s%s%s%s", x, p, u, u, u)), SC_ERR_DECODE_ERROR);
    /* The same group twice. */
    assert_int_equal(ihello_with(a, fmt("%s%s", x, x)), SC_ERR_ILLEGAL_PARAMETER);
    /* A share and a kt. */
    assert_int_equal(ihello_with(a, fmt("%s<kt>%s</kt>", x, K256)), SC_ERR_ILLEGAL_PARAMETER);
    assert_int_equal(ihello_with(a, fmt("<kt>%s</kt>%s", K256, x)), SC_ERR_ILLEGAL_PARAMETER);
    /* Only unknown groups: no share we can use, but the offer is well-formed. */
    assert_int_equal(ihello_with(a, u), SC_OK);
    /* No key establishment at all. */
    assert_int_equal(ihello_with(a, ""), SC_ERR_DECODE_ERROR);
    /* Share value of the wrong length for its group, bad base64, no g, children. */
    assert_int_equal(ihello_with(a, fmt("<share g=\"x25519\">%s</share>", P65)),
                     SC_ERR_DECODE_ERROR);
    assert_int_equal(ihello_with(a, fmt("<share g=\"p256\">%s</share>", X32)), SC_ERR_DECODE_ERROR);
    assert_int_equal(ihello_with(a, "<share g=\"x25519\">AAA</share>"), SC_ERR_DECODE_ERROR);
    assert_int_equal(ihello_with(a, "<share g=\"x25519\"></share>"), SC_ERR_DECODE_ERROR);
    assert_int_equal(ihello_with(a, fmt("<share>%s</share>", X32)), SC_ERR_DECODE_ERROR);
    assert_int_equal(ihello_with(a, "<share g=\"x25519\"><x/></share>"), SC_ERR_DECODE_ERROR);
    /* Unknown children. */
    assert_int_equal(ihello_with(a, fmt("%s<extra/>", x)), SC_ERR_DECODE_ERROR);
}

static void test_ihello_kt(void **st)
{
    const char *a = fmt("v=\"1\" r=\"%s\" suites=\"aes-256-gcm\" sigs=\"rsa-pss-sha256\"", R32);
    char attrs[256];
    snprintf(attrs, sizeof attrs, "%s", a);
    assert_int_equal(ihello_with(attrs, fmt("<kt>%s</kt>", K256)), SC_OK);
    assert_int_equal(ihello_with(attrs, fmt("<kt>%s</kt><kt>%s</kt>", K256, K256)),
                     SC_ERR_DECODE_ERROR);
    assert_int_equal(ihello_with(attrs, "<kt></kt>"), SC_ERR_DECODE_ERROR);
    assert_int_equal(ihello_with(attrs, "<kt>AAA=A</kt>"), SC_ERR_DECODE_ERROR);
    char *k1025 = b64_of(1025, 5), *k1024 = b64_of(1024, 5);
    assert_int_equal(ihello_with(attrs, fmt("<kt>%s</kt>", k1024)), SC_OK);
    assert_int_equal(ihello_with(attrs, fmt("<kt>%s</kt>", k1025)), SC_ERR_DECODE_ERROR);
    /* Key transport carries no groups attribute (7.8); one with it is contradictory (7.1). */
    strncat(attrs, " groups=\"x25519\"", sizeof attrs - strlen(attrs) - 1);
    assert_int_equal(ihello_with(attrs, fmt("<kt>%s</kt>", K256)), SC_ERR_ILLEGAL_PARAMETER);
    free(k1025);
    free(k1024);
}

/* ---- rhello ------------------------------------------------------------- */

static int rhello_with(const char *attrs, const char *children)
{
    return parse_with(p_rhello, fmt("<rhello %s>%s</rhello>", attrs, children));
}

static void test_rhello_rejections(void **st)
{
    char ok[256], sh[128];
    snprintf(ok, sizeof ok, "v=\"1\" r=\"%s\" sigs=\"ed25519\"", R32);
    snprintf(sh, sizeof sh, "<share g=\"x25519\">%s</share>", X32);
    assert_int_equal(rhello_with(fmt("%s suite=\"aes-256-gcm\"", ok), sh), SC_OK);
    assert_int_equal(rhello_with(fmt("%s suite=\"chacha20-poly1305\" kex=\"kt\"", ok), ""), SC_OK);
    /* The responder must choose one of ours. */
    assert_int_equal(rhello_with(fmt("%s suite=\"aes-128-gcm\"", ok), sh),
                     SC_ERR_ILLEGAL_PARAMETER);
    assert_int_equal(rhello_with(fmt("%s suite=\"aes-256-gcm chacha20-poly1305\"", ok), sh),
                     SC_ERR_ILLEGAL_PARAMETER);
    assert_int_equal(rhello_with(ok, sh), SC_ERR_DECODE_ERROR); /* no suite */
    assert_int_equal(rhello_with(fmt("v=\"1\" r=\"%s\" suite=\"aes-256-gcm\"", R32), sh),
                     SC_ERR_DECODE_ERROR); /* no sigs */
    assert_int_equal(rhello_with(fmt("v=\"3\" r=\"%s\" suite=\"aes-256-gcm\"", R32), sh),
                     SC_ERR_PROTOCOL_VERSION);
    assert_int_equal(rhello_with(fmt("%s suite=\"aes-256-gcm\" kex=\"rsa\"", ok), ""),
                     SC_ERR_ILLEGAL_PARAMETER);
    assert_int_equal(rhello_with(fmt("%s suite=\"aes-256-gcm\" kex=\"kt\"", ok), sh),
                     SC_ERR_DECODE_ERROR); /* kt and a share */
    assert_int_equal(rhello_with(fmt("%s suite=\"aes-256-gcm\"", ok), ""), SC_ERR_DECODE_ERROR);
    assert_int_equal(rhello_with(fmt("%s suite=\"aes-256-gcm\"", ok), fmt("%s%s", sh, sh)),
                     SC_ERR_DECODE_ERROR);
    assert_int_equal(
        rhello_with(fmt("%s suite=\"aes-256-gcm\"", ok), fmt("<share g=\"x448\">%s</share>", X32)),
        SC_ERR_ILLEGAL_PARAMETER); /* a group we never offered */
    assert_int_equal(rhello_with(fmt("%s suite=\"aes-256-gcm\"", ok), fmt("<kt>%s</kt>", K256)),
                     SC_ERR_DECODE_ERROR);
}

/* ---- cert --------------------------------------------------------------- */

static void test_cert_rejections(void **st)
{
    char *c = b64_of(300, 1), *big = b64_of(8193, 2);
    const char *one = fmt("<c>%s</c>", c);
    char one_c[512];
    snprintf(one_c, sizeof one_c, "%s", one);
    assert_int_equal(parse_with(p_cert, fmt("<cert>%s%s%s%s</cert>", one_c, one_c, one_c, one_c)),
                     SC_OK);
    assert_int_equal(
        parse_with(p_cert, fmt("<cert>%s%s%s%s%s</cert>", one_c, one_c, one_c, one_c, one_c)),
        SC_ERR_DECODE_ERROR); /* 5 certificates */
    assert_int_equal(parse_with(p_cert, "<cert/>"), SC_ERR_CERTIFICATE_REQUIRED);
    assert_int_equal(parse_with(p_cert, fmt("<cert><c>%s</c></cert>", big)),
                     SC_ERR_DECODE_ERROR); /* over 8192 bytes */
    assert_int_equal(parse_with(p_cert, "<cert><c></c></cert>"), SC_ERR_DECODE_ERROR);
    assert_int_equal(parse_with(p_cert, "<cert><c>AAA</c></cert>"), SC_ERR_DECODE_ERROR);
    assert_int_equal(parse_with(p_cert, "<cert><c>AA=A</c></cert>"), SC_ERR_DECODE_ERROR);
    assert_int_equal(parse_with(p_cert, fmt("<cert><x>%s</x></cert>", c)), SC_ERR_DECODE_ERROR);
    /* Unknown attributes are ignored on every element (4.4), c included. */
    assert_int_equal(parse_with(p_cert, fmt("<cert><c n=\"1\">%s</c></cert>", c)), SC_OK);
    assert_int_equal(parse_with(p_cert, "<cert><c><d/></c></cert>"), SC_ERR_DECODE_ERROR);
    assert_int_equal(parse_with(p_cert, fmt("<cert>%s</cert>", c)), SC_ERR_DECODE_ERROR);
    free(c);
    free(big);
}

/* ---- verify and finished ------------------------------------------------ */

static void test_verify_rejections(void **st)
{
    char *s1024 = b64_of(1024, 1), *s1025 = b64_of(1025, 1);
    assert_int_equal(parse_with(p_verify, fmt("<verify alg=\"ed25519\">%s</verify>", s1024)),
                     SC_OK);
    assert_int_equal(parse_with(p_verify, fmt("<verify alg=\"ed25519\">%s</verify>", s1025)),
                     SC_ERR_DECODE_ERROR);
    assert_int_equal(parse_with(p_verify, fmt("<verify>%s</verify>", X32)), SC_ERR_DECODE_ERROR);
    assert_int_equal(parse_with(p_verify, fmt("<verify alg=\"ed448\">%s</verify>", X32)),
                     SC_ERR_ILLEGAL_PARAMETER);
    assert_int_equal(parse_with(p_verify, "<verify alg=\"ed25519\"/>"), SC_ERR_DECODE_ERROR);
    assert_int_equal(parse_with(p_verify, "<verify alg=\"ed25519\">A===</verify>"),
                     SC_ERR_DECODE_ERROR);
    assert_int_equal(parse_with(p_verify, "<verify alg=\"ed25519\"><s/></verify>"),
                     SC_ERR_DECODE_ERROR);
    free(s1024);
    free(s1025);
}

static void test_finished_rejections(void **st)
{
    char *m31 = b64_of(31, 1), *m33 = b64_of(33, 1);
    assert_int_equal(parse_with(p_finished, fmt("<finished>%s</finished>", X32)), SC_OK);
    assert_int_equal(parse_with(p_finished, fmt("<finished>%s</finished>", m31)),
                     SC_ERR_DECODE_ERROR);
    assert_int_equal(parse_with(p_finished, fmt("<finished>%s</finished>", m33)),
                     SC_ERR_DECODE_ERROR);
    assert_int_equal(parse_with(p_finished, "<finished/>"), SC_ERR_DECODE_ERROR);
    /* Unknown attributes are ignored on every element (4.4), finished included. */
    assert_int_equal(parse_with(p_finished, fmt("<finished a=\"b\">%s</finished>", X32)), SC_OK);
    assert_int_equal(parse_with(p_finished, "<finished><x/></finished>"), SC_ERR_DECODE_ERROR);
    free(m31);
    free(m33);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_by_root_name),
        cmocka_unit_test(test_ihello_ecdhe_round_trip),
        cmocka_unit_test(test_ihello_kt_round_trip),
        cmocka_unit_test(test_rhello_ecdhe_round_trip),
        cmocka_unit_test(test_rhello_kt_round_trip),
        cmocka_unit_test(test_cert_round_trip),
        cmocka_unit_test(test_verify_round_trip),
        cmocka_unit_test(test_finished_round_trip),
        cmocka_unit_test(test_ihello_accepts_the_good_one),
        cmocka_unit_test(test_ihello_missing_attributes),
        cmocka_unit_test(test_ihello_version),
        cmocka_unit_test(test_ihello_bad_random),
        cmocka_unit_test(test_ihello_lists),
        cmocka_unit_test(test_ihello_shares),
        cmocka_unit_test(test_ihello_kt),
        cmocka_unit_test(test_rhello_rejections),
        cmocka_unit_test(test_cert_rejections),
        cmocka_unit_test(test_verify_rejections),
        cmocka_unit_test(test_finished_rejections),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
