/*
 * test_irp_msg.c - the IRP message codec (src/irp/irp_msg.c, irp_req.c,
 * irp_resp.c, irp_addr.c, irp_frame.c, irp_sig.c; docs/IRP.md 3 to 7).
 *
 * Every request, response and event written and parsed back (and written
 * again to the same bytes); the documents of docs/IRP.md's examples parsed
 * field by field; each class of refusal with its own status; the writers'
 * refusals; the frame reader fed byte by byte; and the registry's
 * signature on lookup answers (addresses: test_irp_addr.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "irp_frame.h"
#include "irp_msg.h"
#include "irp_sig.h"
#include "sc_base64.h"
#include "sc_crypto.h"
#include "sc_testcert.h"
#include "sixchat/error.h"

/* ---- helpers ---------------------------------------------------------------- */

static const char *const ALICE = "alice@example.org";
static const char *const BOB = "bob@example.org";

static irp_addr addr(const char *s)
{
    irp_addr a;
    assert_int_equal(irp_addr_parse(s, strlen(s), &a), 0);
    return a;
}

/* Bytes that stand in for DER: the codec never looks inside. */
static uint8_t *pattern(size_t n, uint8_t seed)
{
    uint8_t *p = malloc(n);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + i * 7);
    return p;
}

/* Writes in, parses it back (equal), writes that again (same bytes). */
static void req_round_trip(const irp_req *in)
{
    sc_buf a, b;
    irp_req back;
    sc_buf_init(&a, 0);
    sc_buf_init(&b, 0);
    assert_int_equal(irp_req_write(&a, in), SC_OK);
    int st = irp_req_parse(&back, a.data, a.len);
    if (st != 0) fail_msg("%.60s...: %d %s", (const char *)a.data, st, back.err);
    assert_true(irp_req_equal(in, &back));
    assert_int_equal(irp_req_write(&b, &back), SC_OK);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    irp_req_clear(&back);
    sc_buf_dispose(&a);
    sc_buf_dispose(&b);
}

static void resp_round_trip(const irp_resp *in)
{
    sc_buf a, b;
    irp_resp back;
    sc_buf_init(&a, 0);
    sc_buf_init(&b, 0);
    assert_int_equal(irp_resp_write(&a, in), SC_OK);
    int st = irp_resp_parse(&back, a.data, a.len);
    if (st != 0) fail_msg("%.60s...: %d %s", (const char *)a.data, st, back.err);
    assert_true(irp_resp_equal(in, &back));
    assert_int_equal(irp_resp_write(&b, &back), SC_OK);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    irp_resp_clear(&back);
    sc_buf_dispose(&a);
    sc_buf_dispose(&b);
}

static void event_round_trip(const irp_event *in)
{
    sc_buf a, b;
    irp_event back;
    sc_buf_init(&a, 0);
    sc_buf_init(&b, 0);
    assert_int_equal(irp_event_write(&a, in), SC_OK);
    assert_int_equal(irp_event_parse(&back, a.data, a.len), 0);
    assert_true(irp_event_equal(in, &back));
    assert_int_equal(irp_event_write(&b, &back), SC_OK);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    irp_event_clear(&back);
    sc_buf_dispose(&a);
    sc_buf_dispose(&b);
}

static irp_req new_req(irp_op op, const char *id)
{
    irp_req r;
    irp_req_init(&r);
    r.op = op;
    snprintf(r.id, sizeof r.id, "%s", id);
    return r;
}

/* The status a request document gets; the id kept for the error response in *id (if given). */
static int req_status(const char *xml, char *id)
{
    irp_req r;
    int st = irp_req_parse(&r, (const uint8_t *)xml, strlen(xml));
    if (st != 0) assert_true(r.err[0] != '\0'); /* every refusal says why */
    if (id != NULL) strcpy(id, r.id);
    irp_req_clear(&r);
    return st;
}

static int resp_status(const char *xml)
{
    irp_resp r;
    int st = irp_resp_parse(&r, (const uint8_t *)xml, strlen(xml));
    irp_resp_clear(&r);
    return st;
}

static int event_status(const char *xml)
{
    irp_event e;
    int st = irp_event_parse(&e, (const uint8_t *)xml, strlen(xml));
    irp_event_clear(&e);
    return st;
}

/* A document of exactly n bytes: a ping request padded with an ignored attribute. */
static char *padded_ping(size_t n)
{
    const char *head = "<req id=\"1\" op=\"ping\" pad=\"";
    const char *tail = "\"/>";
    char *s = malloc(n + 1);
    assert_non_null(s);
    size_t h = strlen(head), t = strlen(tail);
    assert_true(n > h + t);
    memcpy(s, head, h);
    memset(s + h, 'x', n - h - t);
    memcpy(s + n - t, tail, t + 1);
    return s;
}

/* ---- requests ------------------------------------------------------------- */

static void test_req_round_trip_every_op(void **state)
{
    uint8_t *csr = pattern(IRP_CSR_MAX, 1), *p12 = pattern(IRP_P12_MAX, 2);
    irp_req r;

    r = new_req(IRP_OP_CAPABILITIES, "1");
    req_round_trip(&r);
    r = new_req(IRP_OP_CA_CERTS, "2");
    req_round_trip(&r);
    r = new_req(IRP_OP_PING, "p.3_x-Y");
    req_round_trip(&r);
    r = new_req(IRP_OP_PKCS12_GET, "4");
    req_round_trip(&r);

    r = new_req(IRP_OP_LOGIN, "5");
    r.user = ALICE;
    r.password = "correct horse \"battery\" <staple> &\t\n\r\xc3\xa9";
    r.password_len = strlen(r.password);
    req_round_trip(&r);

    r = new_req(IRP_OP_ENROLL, "6");
    r.token = "AbCdEfGhIjKlMnOpQr-_09";
    r.csr = csr;
    r.csr_len = IRP_CSR_MAX; /* the largest allowed */
    req_round_trip(&r);
    r.token = NULL; /* after a password login */
    r.csr_len = 1;
    req_round_trip(&r);

    r = new_req(IRP_OP_RENEW, "7");
    r.csr = csr;
    r.csr_len = 300;
    req_round_trip(&r);

    r = new_req(IRP_OP_REGISTER, "8");
    r.device = "laptop-1";
    r.port = 4605;
    r.has_seq = 1;
    r.seq = UINT64_MAX;
    r.addrs[0] = addr("2001:db8::1");
    r.addrs[1] = addr("192.0.2.7");
    r.n_addrs = 2;
    req_round_trip(&r);
    r.user = ALICE;
    r.lifetime = 600;
    r.seq = 0;
    r.port = 65535;
    for (size_t i = 0; i < IRP_MAX_ADDRS; i++) {
        char s[32];
        snprintf(s, sizeof s, "2001:db8:0:%zx::1", i);
        r.addrs[i] = addr(s);
    }
    r.n_addrs = IRP_MAX_ADDRS;
    req_round_trip(&r);

    r = new_req(IRP_OP_UNREGISTER, "9");
    r.device = "phone";
    req_round_trip(&r);
    r.has_seq = 1;
    r.seq = 77;
    r.user = ALICE;
    req_round_trip(&r);
    r = new_req(IRP_OP_UNREGISTER, "10");
    r.all = 1;
    req_round_trip(&r);

    static const irp_op by_user[] = {IRP_OP_LOOKUP, IRP_OP_WATCH, IRP_OP_UNWATCH};
    for (size_t i = 0; i < 3; i++) {
        r = new_req(by_user[i], "11");
        r.user = BOB;
        req_round_trip(&r);
    }

    r = new_req(IRP_OP_CERT_STATUS, "12");
    r.serial = "1f00aa";
    req_round_trip(&r);
    r = new_req(IRP_OP_CERT_STATUS, "13");
    r.has_fp = 1;
    memset(r.fp, 0xab, 32);
    r.fp[0] = 0x01;
    req_round_trip(&r);

    r = new_req(IRP_OP_REVOKE, "14");
    r.serial = "123456789abcdef0123456789abcdef012345678"; /* 40 digits */
    r.reason = IRP_REASON_KEY_COMPROMISE;
    req_round_trip(&r);
    r.reason = IRP_REASON_NONE;
    req_round_trip(&r);

    r = new_req(IRP_OP_USER_INFO, "15");
    req_round_trip(&r); /* get, own */
    r.user = BOB;
    req_round_trip(&r); /* get, another user's */
    r = new_req(IRP_OP_USER_INFO, "16");
    r.info[0] = (irp_info){"display-name", "Alice \xe2\x98\xba <A&B>", 14};
    r.info[1] = (irp_info){"presence", "away", 4};
    r.info[2] = (irp_info){"note", "", 0}; /* delete */
    r.n_info = 3;
    req_round_trip(&r);

    r = new_req(IRP_OP_LOOKUP_POLICY, "17");
    req_round_trip(&r); /* get */
    r.access = IRP_ACCESS_NOBODY;
    req_round_trip(&r);
    r.access = IRP_ACCESS_LIST;
    r.allow[0] = BOB;
    r.allow[1] = "carol@example.net";
    r.n_allow = 2;
    req_round_trip(&r);

    r = new_req(IRP_OP_ACCESS_LOG, "18");
    req_round_trip(&r);
    r.after_id = 12345;
    req_round_trip(&r);

    r = new_req(IRP_OP_PKCS12_PUT, "19");
    r.p12 = p12;
    r.p12_len = IRP_P12_MAX;
    req_round_trip(&r);

    r = new_req(IRP_OP_LIST_USERS, "20");
    req_round_trip(&r);
    r.after = BOB;
    req_round_trip(&r);

    free(csr);
    free(p12);
}

/* The examples of docs/IRP.md, as a client would send them, field by field. */
static void test_req_parse_examples(void **state)
{
    irp_req r;
    const char *reg =
        "<req id=\"r7\" op=\"register\" device=\"laptop\" port=\"4605\" lifetime=\"600\" "
        "seq=\"1767225600123\" future=\"ignored\">\n"
        "  <addr>2001:db8:1::7</addr>\n  <addr>192.0.2.7</addr>\n</req>";
    assert_int_equal(irp_req_parse(&r, (const uint8_t *)reg, strlen(reg)), 0);
    assert_int_equal(r.op, IRP_OP_REGISTER);
    assert_string_equal(r.id, "r7");
    assert_string_equal(r.device, "laptop");
    assert_int_equal(r.port, 4605);
    assert_int_equal(r.lifetime, 600);
    assert_true(r.has_seq);
    assert_true(r.seq == UINT64_C(1767225600123));
    assert_int_equal(r.n_addrs, 2);
    assert_int_equal(r.addrs[0].family, 6);
    assert_int_equal(r.addrs[1].family, 4);
    assert_memory_equal(r.addrs[1].ip, "\xc0\x00\x02\x07", 4);
    assert_null(r.user);
    irp_req_clear(&r);

    /* Attribute order, quotes and character references are the sender's choice. */
    const char *look = "<req op='lookup' user='bob&#64;example.org' id='x'/>";
    assert_int_equal(irp_req_parse(&r, (const uint8_t *)look, strlen(look)), 0);
    assert_int_equal(r.op, IRP_OP_LOOKUP);
    assert_string_equal(r.user, BOB);
    irp_req_clear(&r);

    /* An IPv4-mapped address is the IPv4 address. */
    const char *mapped = "<req id=\"1\" op=\"register\" device=\"d\" port=\"1\" seq=\"0\">"
                         "<addr>::ffff:192.0.2.1</addr></req>";
    assert_int_equal(irp_req_parse(&r, (const uint8_t *)mapped, strlen(mapped)), 0);
    assert_int_equal(r.addrs[0].family, 4);
    assert_memory_equal(r.addrs[0].ip, "\xc0\x00\x02\x01", 4);
    irp_req_clear(&r);

    const char *login =
        "<req id=\"1\" op=\"login\" user=\"alice@example.org\" password=\"s3cret\"/>";
    assert_int_equal(irp_req_parse(&r, (const uint8_t *)login, strlen(login)), 0);
    assert_int_equal(r.password_len, 6);
    assert_memory_equal(r.password, "s3cret", 6);
    irp_req_clear(&r);
    assert_null(r.password);

    const char *enroll = "<req id=\"e1\" op=\"enroll\" token=\"q7Xz0vYk3JdLr2WnBw9sTg\">"
                         "<csr>MIIB</csr></req>";
    assert_int_equal(irp_req_parse(&r, (const uint8_t *)enroll, strlen(enroll)), 0);
    assert_int_equal(r.csr_len, 3);
    assert_memory_equal(r.csr, "\x30\x82\x01", 3);
    irp_req_clear(&r);
}

/* Each class of refusal, with its own status (docs/IRP.md 5.3, 6). */
static void test_req_rejections(void **state)
{
    char id[IRP_ID_MAX + 1];

    /* Malformed XML and everything outside the profile: 400. */
    assert_int_equal(req_status("<req id=\"1\" op=\"ping\">", id), IRP_BAD_REQUEST);
    assert_string_equal(id, "");
    assert_int_equal(req_status("not xml at all", NULL), IRP_BAD_REQUEST);
    assert_int_equal(req_status("", NULL), IRP_BAD_REQUEST);
    assert_int_equal(
        req_status("<!DOCTYPE req [<!ENTITY x \"y\">]><req id=\"1\" op=\"ping\"/>", NULL),
        IRP_BAD_REQUEST);
    assert_int_equal(req_status("<?xml version=\"1.0\"?><req id=\"1\" op=\"ping\"/>", NULL),
                     IRP_BAD_REQUEST);
    assert_int_equal(req_status("<req id=\"1\" op=\"ping\"><!-- c --></req>", NULL),
                     IRP_BAD_REQUEST);
    assert_int_equal(req_status("<req id=\"1\" op=\"ping\" id=\"2\"/>", NULL), IRP_BAD_REQUEST);
    assert_int_equal(req_status("<x:req id=\"1\" op=\"ping\"/>", NULL), IRP_BAD_REQUEST);
    /* Another root. */
    assert_int_equal(req_status("<resp id=\"1\" status=\"200\" msg=\"ok\"/>", NULL),
                     IRP_BAD_REQUEST);

    /* Unknown op: 501, and the id survives for the answer. */
    assert_int_equal(req_status("<req id=\"q-9\" op=\"frobnicate\"/>", id), IRP_UNKNOWN_OP);
    assert_string_equal(id, "q-9");
    assert_int_equal(req_status("<req id=\"q\" op=\"\"/>", NULL), IRP_UNKNOWN_OP);
    assert_int_equal(req_status("<req id=\"q\" op=\"LOOKUP\"/>", NULL), IRP_UNKNOWN_OP);

    /* Missing attributes: 400. */
    assert_int_equal(req_status("<req op=\"ping\"/>", id), IRP_BAD_REQUEST);
    assert_string_equal(id, "");
    assert_int_equal(req_status("<req id=\"1\"/>", id), IRP_BAD_REQUEST);
    assert_string_equal(id, "1");
    assert_int_equal(req_status("<req id=\"1\" op=\"lookup\"/>", NULL), IRP_BAD_REQUEST);
    assert_int_equal(req_status("<req id=\"1\" op=\"register\" device=\"d\" seq=\"1\">"
                                "<addr>192.0.2.1</addr></req>",
                                NULL),
                     IRP_BAD_REQUEST); /* no port */
    assert_int_equal(req_status("<req id=\"1\" op=\"register\" device=\"d\" port=\"1\">"
                                "<addr>192.0.2.1</addr></req>",
                                NULL),
                     IRP_BAD_REQUEST); /* no seq */
    assert_int_equal(req_status("<req id=\"1\" op=\"register\" port=\"1\" seq=\"1\">"
                                "<addr>192.0.2.1</addr></req>",
                                NULL),
                     IRP_BAD_REQUEST); /* no device */
    assert_int_equal(
        req_status("<req id=\"1\" op=\"register\" device=\"d\" port=\"1\" seq=\"1\"/>", NULL),
        IRP_BAD_REQUEST); /* no addr */
    assert_int_equal(req_status("<req id=\"1\" op=\"login\" user=\"a@b\"/>", NULL),
                     IRP_BAD_REQUEST);
    assert_int_equal(req_status("<req id=\"1\" op=\"enroll\"/>", NULL), IRP_BAD_REQUEST);
    assert_int_equal(req_status("<req id=\"1\" op=\"pkcs12-put\"/>", NULL), IRP_BAD_REQUEST);
    assert_int_equal(req_status("<req id=\"1\" op=\"cert-status\"/>", NULL), IRP_BAD_REQUEST);

    /* Invalid ids. */
    assert_int_equal(req_status("<req id=\"a b\" op=\"ping\"/>", id), IRP_BAD_REQUEST);
    assert_string_equal(id, "");
    assert_int_equal(req_status("<req id=\"\" op=\"ping\"/>", NULL), IRP_BAD_REQUEST);
    assert_int_equal(req_status("<req id=\"x\" op=\"unregister\" device=\"a/b\"/>", NULL),
                     IRP_BAD_REQUEST);

    /* Bad user IDs: 400. */
    static const char *const bad_users[] = {"bob",   "@example.org", "bob@",
                                            "b@b@c", "bob smith@x",  "bob@exa\xc3\xa9mple"};
    for (size_t i = 0; i < sizeof bad_users / sizeof *bad_users; i++) {
        char xml[128];
        snprintf(xml, sizeof xml, "<req id=\"1\" op=\"lookup\" user=\"%s\"/>", bad_users[i]);
        assert_int_equal(req_status(xml, NULL), IRP_BAD_REQUEST);
    }

    /* Bad addresses: 422. */
    static const char *const bad_addrs[] = {"",
                                            "host.example.org",
                                            "192.0.2",
                                            "192.0.2.256",
                                            "fe80::1%eth0",
                                            "[2001:db8::1]",
                                            " 192.0.2.1",
                                            "192.0.2.1:4605",
                                            "2001:db8:::1",
                                            "01.2.3.4"};
    for (size_t i = 0; i < sizeof bad_addrs / sizeof *bad_addrs; i++) {
        char xml[160];
        snprintf(xml, sizeof xml,
                 "<req id=\"1\" op=\"register\" device=\"d\" port=\"1\" seq=\"1\">"
                 "<addr>%s</addr></req>",
                 bad_addrs[i]);
        assert_int_equal(req_status(xml, NULL), IRP_INVALID);
    }

    /* Port 0 and other bad numbers: 400. */
    static const char *const bad_ports[] = {"0", "65536", "-1", "04605", "", "1e3", " 1"};
    for (size_t i = 0; i < sizeof bad_ports / sizeof *bad_ports; i++) {
        char xml[160];
        snprintf(xml, sizeof xml,
                 "<req id=\"1\" op=\"register\" device=\"d\" port=\"%s\" seq=\"1\">"
                 "<addr>192.0.2.1</addr></req>",
                 bad_ports[i]);
        assert_int_equal(req_status(xml, NULL), IRP_BAD_REQUEST);
    }
    assert_int_equal(req_status("<req id=\"1\" op=\"register\" device=\"d\" port=\"1\" "
                                "seq=\"18446744073709551616\"><addr>192.0.2.1</addr></req>",
                                NULL),
                     IRP_BAD_REQUEST);
    assert_int_equal(req_status("<req id=\"1\" op=\"register\" device=\"d\" port=\"1\" seq=\"1\" "
                                "lifetime=\"0\"><addr>192.0.2.1</addr></req>",
                                NULL),
                     IRP_BAD_REQUEST);
    assert_int_equal(req_status("<req id=\"1\" op=\"register\" device=\"d\" port=\"1\" seq=\"1\" "
                                "lifetime=\"4294967296\"><addr>192.0.2.1</addr></req>",
                                NULL),
                     IRP_BAD_REQUEST);

    /* Too many addresses: 413. Duplicates: 400. Unknown children: 400. */
    char xml[1024];
    int n = snprintf(xml, sizeof xml,
                     "<req id=\"1\" op=\"register\" device=\"d\" port=\"1\" seq=\"1\">");
    for (int i = 0; i <= IRP_MAX_ADDRS; i++)
        n += snprintf(xml + n, sizeof xml - (size_t)n, "<addr>192.0.2.%d</addr>", i + 1);
    snprintf(xml + n, sizeof xml - (size_t)n, "</req>");
    assert_int_equal(req_status(xml, NULL), IRP_TOO_LARGE);
    assert_int_equal(req_status("<req id=\"1\" op=\"register\" device=\"d\" port=\"1\" seq=\"1\">"
                                "<addr>192.0.2.1</addr><addr>::ffff:192.0.2.1</addr></req>",
                                NULL),
                     IRP_BAD_REQUEST);
    assert_int_equal(req_status("<req id=\"1\" op=\"register\" device=\"d\" port=\"1\" seq=\"1\">"
                                "<addr>192.0.2.1</addr><port>2</port></req>",
                                NULL),
                     IRP_BAD_REQUEST);
    assert_int_equal(req_status("<req id=\"1\" op=\"ping\"><x/></req>", NULL), IRP_BAD_REQUEST);

    /* Base64: bad is 400, over the decoded limit is 413 (PKCS#12 and CSR). */
    assert_int_equal(req_status("<req id=\"1\" op=\"renew\"><csr>MII=B</csr></req>", NULL),
                     IRP_BAD_REQUEST);
    assert_int_equal(req_status("<req id=\"1\" op=\"renew\"><csr>MIIB\n</csr></req>", NULL),
                     IRP_BAD_REQUEST);
    assert_int_equal(req_status("<req id=\"1\" op=\"renew\"><csr>MIJ=</csr></req>", NULL),
                     IRP_BAD_REQUEST); /* non-zero trailing bits */
    assert_int_equal(req_status("<req id=\"1\" op=\"renew\"><csr></csr></req>", NULL),
                     IRP_BAD_REQUEST);
    assert_int_equal(
        req_status("<req id=\"1\" op=\"renew\"><csr>AAAA</csr><csr>AAAA</csr></req>", NULL),
        IRP_BAD_REQUEST);
    {
        sc_buf b;
        uint8_t *big = pattern(IRP_P12_MAX + 1, 3);
        sc_buf_init(&b, 0);
        sc_buf_put_str(&b, "<req id=\"1\" op=\"renew\"><csr>");
        sc_base64_encode(&b, big, IRP_CSR_MAX + 1);
        sc_buf_put_str(&b, "</csr></req>");
        sc_buf_put_u8(&b, 0);
        assert_int_equal(req_status((const char *)b.data, NULL), IRP_TOO_LARGE);
        sc_buf_reset(&b);
        sc_buf_put_str(&b, "<req id=\"1\" op=\"pkcs12-put\"><p12>");
        sc_base64_encode(&b, big, IRP_P12_MAX + 1);
        sc_buf_put_str(&b, "</p12></req>");
        sc_buf_put_u8(&b, 0);
        assert_int_equal(req_status((const char *)b.data, NULL), IRP_TOO_LARGE);
        sc_buf_dispose(&b);
        free(big);
    }

    /* The document itself: 16384 bytes pass the size check, one more is 413. */
    char *doc = padded_ping(IRP_MAX_DOC);
    assert_int_equal(req_status(doc, NULL), IRP_BAD_REQUEST); /* attribute over 1024 */
    free(doc);
    doc = padded_ping(1000);
    assert_int_equal(req_status(doc, NULL), 0);
    free(doc);
    doc = padded_ping(IRP_MAX_DOC + 1);
    assert_int_equal(req_status(doc, NULL), IRP_TOO_LARGE);
    free(doc);

    /* Op-specific rules. */
    assert_int_equal(req_status("<req id=\"1\" op=\"unregister\" device=\"d\" all=\"1\"/>", NULL),
                     IRP_BAD_REQUEST);
    assert_int_equal(req_status("<req id=\"1\" op=\"unregister\"/>", NULL), IRP_BAD_REQUEST);
    assert_int_equal(req_status("<req id=\"1\" op=\"unregister\" all=\"yes\"/>", NULL),
                     IRP_BAD_REQUEST);
    assert_int_equal(req_status("<req id=\"1\" op=\"unregister\" all=\"1\" seq=\"3\"/>", NULL),
                     IRP_BAD_REQUEST);
    assert_int_equal(req_status("<req id=\"1\" op=\"cert-status\" serial=\"0a\"/>", NULL),
                     IRP_BAD_REQUEST); /* leading zero */
    assert_int_equal(req_status("<req id=\"1\" op=\"cert-status\" serial=\"AB\"/>", NULL),
                     IRP_BAD_REQUEST); /* upper case */
    assert_int_equal(
        req_status("<req id=\"1\" op=\"cert-status\" serial=\"ab\" fp=\""
                   "000000000000000000000000000000000000000000000000000000000000000a\"/>",
                   NULL),
        IRP_BAD_REQUEST); /* both */
    assert_int_equal(req_status("<req id=\"1\" op=\"cert-status\" fp=\"00\"/>", NULL),
                     IRP_BAD_REQUEST);
    assert_int_equal(
        req_status("<req id=\"1\" op=\"revoke\" serial=\"ab\" reason=\"bored\"/>", NULL),
        IRP_BAD_REQUEST);
    assert_int_equal(
        req_status("<req id=\"1\" op=\"enroll\" token=\"short\"><csr>AAAA</csr></req>", NULL),
        IRP_BAD_REQUEST);
    assert_int_equal(req_status("<req id=\"1\" op=\"enroll\" token=\"q7Xz0vYk3JdLr2WnBw9sT+\">"
                                "<csr>AAAA</csr></req>",
                                NULL),
                     IRP_BAD_REQUEST); /* not base64url */
    assert_int_equal(req_status("<req id=\"1\" op=\"login\" user=\"a@b\" password=\"\"/>", NULL),
                     IRP_BAD_REQUEST);
    assert_int_equal(req_status("<req id=\"1\" op=\"user-info\" user=\"a@b\">"
                                "<info name=\"presence\">away</info></req>",
                                NULL),
                     IRP_BAD_REQUEST);
    assert_int_equal(req_status("<req id=\"1\" op=\"user-info\"><info name=\"Display\">x</info>"
                                "</req>",
                                NULL),
                     IRP_BAD_REQUEST);
    assert_int_equal(req_status("<req id=\"1\" op=\"user-info\"><info name=\"a\">x</info>"
                                "<info name=\"a\">y</info></req>",
                                NULL),
                     IRP_BAD_REQUEST);
    assert_int_equal(req_status("<req id=\"1\" op=\"lookup-policy\" access=\"anyone\">"
                                "<allow>bob@example.org</allow></req>",
                                NULL),
                     IRP_BAD_REQUEST);
    assert_int_equal(req_status("<req id=\"1\" op=\"lookup-policy\" access=\"list\">"
                                "<allow>bob@example.org</allow><allow>BOB@example.org</allow>"
                                "</req>",
                                NULL),
                     IRP_BAD_REQUEST);
    assert_int_equal(req_status("<req id=\"1\" op=\"lookup-policy\" access=\"some\"/>", NULL),
                     IRP_BAD_REQUEST);
    {
        sc_buf b;
        char one[300];
        sc_buf_init(&b, 0);
        sc_buf_put_str(&b, "<req id=\"1\" op=\"user-info\"><info name=\"note\">");
        for (int i = 0; i <= IRP_INFO_VALUE_MAX; i++)
            sc_buf_put_u8(&b, 'n');
        sc_buf_put_str(&b, "</info></req>");
        sc_buf_put_u8(&b, 0);
        assert_int_equal(req_status((const char *)b.data, NULL), IRP_TOO_LARGE);
        sc_buf_reset(&b);
        sc_buf_put_str(&b, "<req id=\"1\" op=\"lookup-policy\" access=\"list\">");
        for (int i = 0; i <= IRP_MAX_ALLOW; i++) {
            snprintf(one, sizeof one, "<allow>u%d@example.org</allow>", i);
            sc_buf_put_str(&b, one);
        }
        sc_buf_put_str(&b, "</req>");
        sc_buf_put_u8(&b, 0);
        assert_int_equal(req_status((const char *)b.data, NULL), IRP_TOO_LARGE);
        sc_buf_reset(&b);
        sc_buf_put_str(&b, "<req id=\"1\" op=\"user-info\">");
        for (int i = 0; i <= IRP_MAX_INFO; i++) {
            snprintf(one, sizeof one, "<info name=\"n%d\">v</info>", i);
            sc_buf_put_str(&b, one);
        }
        sc_buf_put_str(&b, "</req>");
        sc_buf_put_u8(&b, 0);
        assert_int_equal(req_status((const char *)b.data, NULL), IRP_TOO_LARGE);
        sc_buf_reset(&b);
        sc_buf_put_str(&b, "<req id=\"1\" op=\"login\" user=\"a@b\" password=\"");
        for (int i = 0; i <= IRP_PASSWORD_MAX; i++)
            sc_buf_put_u8(&b, 'p');
        sc_buf_put_str(&b, "\"/>");
        sc_buf_put_u8(&b, 0);
        assert_int_equal(req_status((const char *)b.data, NULL), IRP_BAD_REQUEST);
        sc_buf_dispose(&b);
    }
}

/* Writers refuse what a parser would refuse, and append nothing then. */
static void test_req_writer_refusals(void **state)
{
    sc_buf b;
    irp_req r;
    uint8_t big[IRP_P12_MAX + 1] = {0};
    sc_buf_init(&b, 0);
    sc_buf_put_str(&b, "keep");

    r = new_req(IRP_OP_PING, "bad id");
    assert_int_equal(irp_req_write(&b, &r), SC_ERR_ARG);
    r = new_req(IRP_OP_NONE, "1");
    assert_int_equal(irp_req_write(&b, &r), SC_ERR_ARG);
    r = new_req(IRP_OP_COUNT, "1");
    assert_int_equal(irp_req_write(&b, &r), SC_ERR_ARG);
    r = new_req(IRP_OP_LOOKUP, "1");
    assert_int_equal(irp_req_write(&b, &r), SC_ERR_ARG); /* no user */
    r.user = "nobody";
    assert_int_equal(irp_req_write(&b, &r), SC_ERR_ARG);
    r = new_req(IRP_OP_REGISTER, "1");
    r.device = "d";
    r.port = 4605;
    r.has_seq = 1;
    assert_int_equal(irp_req_write(&b, &r), SC_ERR_ARG); /* no addrs */
    r.addrs[0] = addr("192.0.2.1");
    r.addrs[1] = addr("192.0.2.1");
    r.n_addrs = 2;
    assert_int_equal(irp_req_write(&b, &r), SC_ERR_ARG); /* duplicate */
    r.n_addrs = 1;
    r.port = 0;
    assert_int_equal(irp_req_write(&b, &r), SC_ERR_ARG);
    r.port = 1;
    r.addrs[0].family = 5;
    assert_int_equal(irp_req_write(&b, &r), SC_ERR_ARG);
    r = new_req(IRP_OP_LOGIN, "1");
    r.user = ALICE;
    r.password = "bell\a";
    r.password_len = 5;
    assert_int_equal(irp_req_write(&b, &r), SC_ERR_ARG); /* a control character */
    r.password = "\xff";
    r.password_len = 1;
    assert_int_equal(irp_req_write(&b, &r), SC_ERR_ARG); /* not UTF-8 */
    r = new_req(IRP_OP_PKCS12_PUT, "1");
    r.p12 = big;
    r.p12_len = sizeof big;
    assert_int_equal(irp_req_write(&b, &r), SC_ERR_ARG);
    r = new_req(IRP_OP_USER_INFO, "1");
    r.info[0] = (irp_info){"Name", "x", 1};
    r.n_info = 1;
    assert_int_equal(irp_req_write(&b, &r), SC_ERR_ARG);
    r = new_req(IRP_OP_LOOKUP_POLICY, "1");
    r.access = IRP_ACCESS_ANYONE;
    r.allow[0] = BOB;
    r.n_allow = 1;
    assert_int_equal(irp_req_write(&b, &r), SC_ERR_ARG);
    r = new_req(IRP_OP_CERT_STATUS, "1");
    assert_int_equal(irp_req_write(&b, &r), SC_ERR_ARG);

    assert_true(sc_buf_ok(&b));
    assert_int_equal(b.len, 4);
    sc_buf_dispose(&b);
}

/* ---- responses --------------------------------------------------------------- */

static irp_resp new_resp(const char *id, int status, const char *msg)
{
    irp_resp r;
    irp_resp_init(&r);
    snprintf(r.id, sizeof r.id, "%s", id);
    r.status = status;
    r.msg = msg;
    return r;
}

static irp_binding binding(const char *device, const char *a1, const char *a2, uint16_t port)
{
    irp_binding b;
    memset(&b, 0, sizeof b);
    b.device = device;
    b.addrs[b.n_addrs++] = addr(a1);
    if (a2 != NULL) b.addrs[b.n_addrs++] = addr(a2);
    b.port = port;
    b.expires = SC_TESTCERT_NOW + 3600;
    b.updated = SC_TESTCERT_NOW;
    b.seq = 42;
    return b;
}

static void test_resp_round_trip_every_op(void **state)
{
    uint8_t *leaf = pattern(700, 5), *ca = pattern(IRP_CERT_MAX, 6), *p12 = pattern(2000, 7);
    uint8_t sig[64];
    irp_resp r;
    memset(sig, 0x5a, sizeof sig);

    /* Errors: status and msg; no id when the request had none. */
    r = new_resp("", IRP_BAD_REQUEST, "malformed XML");
    resp_round_trip(&r);
    r = new_resp("9", IRP_FORBIDDEN, "lookup of bob@example.org is not allowed for you");
    resp_round_trip(&r);

    /* capabilities */
    r = new_resp("1", IRP_OK, "ok");
    r.has_caps = 1;
    r.caps.versions = 1u << 1;
    for (int op = IRP_OP_NONE + 1; op < IRP_OP_COUNT; op++)
        r.caps.ops |= 1u << op;
    r.caps.logins = IRP_LOGIN_PASSWORD | IRP_LOGIN_TOKEN | IRP_LOGIN_CERTIFICATE;
    r.has_limits = 1;
    r.limits = (irp_limits){IRP_MAX_DOC,
                            IRP_MAX_ADDRS,
                            IRP_MAX_BINDINGS,
                            IRP_LIFETIME_MIN,
                            IRP_LIFETIME_MAX,
                            IRP_LIFETIME_DEFAULT,
                            32,
                            64};
    resp_round_trip(&r);
    r.caps.versions = (1u << 1) | (1u << 2) | (1u << 31);
    r.limits.watches = 0; /* not announced */
    resp_round_trip(&r);

    /* ca-certs, enroll, renew: certificates without status */
    r = new_resp("2", IRP_OK, "ok");
    r.certs[0] = (irp_cert){.der = leaf, .der_len = 700};
    r.certs[1] = (irp_cert){.der = ca, .der_len = IRP_CERT_MAX};
    r.n_certs = 2;
    resp_round_trip(&r);

    /* login */
    r = new_resp("3", IRP_OK, "logged in");
    r.user = ALICE;
    resp_round_trip(&r);

    /* register */
    r = new_resp("4", IRP_OK, "registered");
    r.granted = 3600;
    r.has_seen = 1;
    r.seen = addr("198.51.100.9");
    r.nat = 1;
    resp_round_trip(&r);
    r.seen = addr("2001:db8::1");
    r.nat = 0;
    resp_round_trip(&r);

    /* lookup: bindings, certificates with status, signature */
    r = new_resp("5", IRP_OK, "ok");
    r.user = BOB;
    r.at = SC_TESTCERT_NOW;
    r.bindings[0] = binding("laptop", "2001:db8::7", "192.0.2.7", 4605);
    r.bindings[1] = binding("phone", "10.1.2.3", NULL, 4606);
    r.n_bindings = 2;
    r.certs[0] = (irp_cert){.der = leaf,
                            .der_len = 700,
                            .state = IRP_CERT_VALID,
                            .serial = "5eed",
                            .has_fp = 1,
                            .not_after = SC_TESTCERT_NOW + 86400 * 365};
    memset(r.certs[0].fp, 0x11, 32);
    r.certs[1] = (irp_cert){.state = IRP_CERT_REVOKED,
                            .serial = "abc",
                            .revoked = SC_TESTCERT_NOW - 10,
                            .reason = IRP_REASON_SUPERSEDED};
    r.n_certs = 2;
    r.has_sig = 1;
    r.sig.alg = SC_SIG_ED25519;
    memset(r.sig.key, 0x22, 32);
    r.sig.sig = sig;
    r.sig.sig_len = sizeof sig;
    resp_round_trip(&r);
    /* the most there can be */
    for (size_t i = 0; i < IRP_MAX_BINDINGS; i++) {
        static const char *const dev[] = {"d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7"};
        r.bindings[i] = binding(dev[i], "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "192.0.2.1", 1);
        for (size_t k = 2; k < IRP_MAX_ADDRS; k++) {
            char s[48];
            snprintf(s, sizeof s, "2001:db8:ffff:ffff:ffff:ffff:ffff:%zx", 0xff00 + k);
            r.bindings[i].addrs[k] = addr(s);
        }
        r.bindings[i].n_addrs = IRP_MAX_ADDRS;
    }
    r.n_bindings = IRP_MAX_BINDINGS;
    for (size_t i = 2; i < IRP_MAX_CERTS; i++)
        r.certs[i] = r.certs[1];
    r.n_certs = IRP_MAX_CERTS;
    resp_round_trip(&r);

    /* watch: the current bindings; unwatch, ping, unregister: status only */
    r = new_resp("6", IRP_OK, "watching");
    r.user = BOB;
    r.at = SC_TESTCERT_NOW;
    r.bindings[0] = binding("laptop", "2001:db8::7", NULL, 4605);
    r.n_bindings = 1;
    resp_round_trip(&r);

    /* cert-status, revoke */
    r = new_resp("7", IRP_OK, "ok");
    r.certs[0] = (irp_cert){.state = IRP_CERT_UNKNOWN, .serial = "77"};
    r.n_certs = 1;
    resp_round_trip(&r);
    r.certs[0] = (irp_cert){.state = IRP_CERT_REVOKED,
                            .serial = "77",
                            .user = ALICE,
                            .has_fp = 1,
                            .revoked = SC_TESTCERT_NOW,
                            .reason = IRP_REASON_KEY_COMPROMISE,
                            .not_after = SC_TESTCERT_NOW + 1};
    resp_round_trip(&r);
    r.certs[0].state = IRP_CERT_EXPIRED;
    resp_round_trip(&r);

    /* user-info: items and the current addresses */
    r = new_resp("8", IRP_OK, "ok");
    r.user = BOB;
    r.info[0] = (irp_info){"display-name", "Bob \xf0\x9f\x98\x80", 8};
    r.info[1] = (irp_info){"presence", "busy", 4};
    r.n_info = 2;
    r.bindings[0] = binding("laptop", "fd00::7", NULL, 4605);
    r.n_bindings = 1;
    resp_round_trip(&r);

    /* lookup-policy */
    r = new_resp("9", IRP_OK, "ok");
    r.access = IRP_ACCESS_LIST;
    r.allow[0] = BOB;
    r.allow[1] = "carol@example.net";
    r.n_allow = 2;
    resp_round_trip(&r);
    r.access = IRP_ACCESS_NOBODY;
    r.n_allow = 0;
    resp_round_trip(&r);

    /* access-log */
    r = new_resp("10", IRP_OK, "ok");
    r.log[0] = (irp_log_entry){1001, SC_TESTCERT_NOW, BOB, IRP_OP_LOOKUP};
    r.log[1] = (irp_log_entry){1002, SC_TESTCERT_NOW + 5, "carol@example.net", IRP_OP_WATCH};
    r.n_log = 2;
    resp_round_trip(&r);

    /* list-users */
    r = new_resp("11", IRP_OK, "ok");
    r.users[0] = (irp_user_entry){ALICE, 2, 1, SC_TESTCERT_NOW - 1000, IRP_ACCESS_ANYONE};
    r.users[1] = (irp_user_entry){BOB, 0, 0, 0, IRP_ACCESS_NONE};
    r.n_users = 2;
    resp_round_trip(&r);

    /* pkcs12-get */
    r = new_resp("12", IRP_OK, "ok");
    r.p12 = p12;
    r.p12_len = 2000;
    r.p12_updated = SC_TESTCERT_NOW;
    resp_round_trip(&r);

    free(leaf);
    free(ca);
    free(p12);
}

static void test_resp_parse_and_refuse(void **state)
{
    irp_resp r;
    const char *ok = "<resp id=\"r7\" status=\"200\" msg=\"registered\" granted=\"600\" "
                     "seen=\"198.51.100.23\" nat=\"1\" later=\"x\"><future/></resp>";
    assert_int_equal(irp_resp_parse(&r, (const uint8_t *)ok, strlen(ok)), 0);
    assert_string_equal(r.id, "r7");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.msg, "registered");
    assert_int_equal(r.granted, 600);
    assert_true(r.has_seen && r.seen.family == 4 && r.nat == 1);
    irp_resp_clear(&r);

    /* Unknown caps names are ignored, known ones kept. */
    const char *caps = "<resp id=\"1\" status=\"200\" msg=\"ok\"><caps versions=\"1 7 99\" "
                       "ops=\"lookup teleport register\" login=\"certificate retina\"/></resp>";
    assert_int_equal(irp_resp_parse(&r, (const uint8_t *)caps, strlen(caps)), 0);
    assert_int_equal(r.caps.versions, (1u << 1) | (1u << 7));
    assert_int_equal(r.caps.ops, (1u << IRP_OP_LOOKUP) | (1u << IRP_OP_REGISTER));
    assert_int_equal(r.caps.logins, IRP_LOGIN_CERTIFICATE);
    irp_resp_clear(&r);

    assert_int_equal(resp_status("<resp status=\"200\" msg=\"ok\"/>"), 0); /* no id */
    assert_int_equal(resp_status("<resp id=\"1\" msg=\"ok\"/>"), IRP_BAD_REQUEST);
    assert_int_equal(resp_status("<resp id=\"1\" status=\"200\"/>"), IRP_BAD_REQUEST);
    assert_int_equal(resp_status("<resp id=\"1\" status=\"200\" msg=\"\"/>"), IRP_BAD_REQUEST);
    assert_int_equal(resp_status("<resp id=\"1\" status=\"99\" msg=\"x\"/>"), IRP_BAD_REQUEST);
    assert_int_equal(resp_status("<resp id=\"1\" status=\"600\" msg=\"x\"/>"), IRP_BAD_REQUEST);
    assert_int_equal(resp_status("<resp id=\"1\" status=\"200\" msg=\"x\" seen=\"nowhere\"/>"),
                     IRP_INVALID);
    assert_int_equal(resp_status("<resp id=\"1\" status=\"200\" msg=\"x\"><binding device=\"d\" "
                                 "addrs=\"192.0.2.1  192.0.2.2\" port=\"1\" expires=\"1\" "
                                 "updated=\"1\" seq=\"1\"/></resp>"),
                     IRP_BAD_REQUEST);
    assert_int_equal(resp_status("<resp id=\"1\" status=\"200\" msg=\"x\"><binding device=\"d\" "
                                 "addrs=\"1.1.1.1 1.1.1.2 1.1.1.3 1.1.1.4 1.1.1.5 1.1.1.6 1.1.1.7 "
                                 "1.1.1.8 1.1.1.9\" port=\"1\" expires=\"1\" updated=\"1\" "
                                 "seq=\"1\"/></resp>"),
                     IRP_TOO_LARGE);
    assert_int_equal(resp_status("<resp id=\"1\" status=\"200\" msg=\"x\"><binding device=\"d\" "
                                 "addrs=\"192.0.2.1\" port=\"0\" expires=\"1\" updated=\"1\" "
                                 "seq=\"1\"/></resp>"),
                     IRP_BAD_REQUEST);
    assert_int_equal(resp_status("<resp id=\"1\" status=\"200\" msg=\"x\"><sig alg=\"md5\" key=\""
                                 "0000000000000000000000000000000000000000000000000000000000000000"
                                 "\">AAAA</sig></resp>"),
                     IRP_BAD_REQUEST);
    assert_int_equal(
        resp_status("<resp id=\"1\" status=\"200\" msg=\"x\"><cert>!!!!</cert></resp>"),
        IRP_BAD_REQUEST);
    assert_int_equal(resp_status("<resp id=\"1\" status=\"200\" msg=\"x\"><caps/><caps/></resp>"),
                     IRP_BAD_REQUEST);
    assert_int_equal(resp_status("<resp id=\"1\" status=\"200\" msg=\"x\"><caps ops=\"a  b\"/>"
                                 "</resp>"),
                     IRP_BAD_REQUEST);
    {
        char xml[1024];
        int n = snprintf(xml, sizeof xml, "<resp id=\"1\" status=\"200\" msg=\"x\">");
        for (int i = 0; i <= IRP_MAX_CERTS; i++)
            n += snprintf(xml + n, sizeof xml - (size_t)n, "<cert status=\"unknown\"/>");
        snprintf(xml + n, sizeof xml - (size_t)n, "</resp>");
        assert_int_equal(resp_status(xml), IRP_TOO_LARGE);
    }
    assert_int_equal(resp_status("<event op=\"binding\" user=\"a@b\" seq=\"1\"/>"),
                     IRP_BAD_REQUEST);
}

static void test_resp_writer_refusals(void **state)
{
    sc_buf b;
    irp_resp r;
    uint8_t *der = pattern(IRP_CERT_MAX, 9);
    sc_buf_init(&b, 0);

    r = new_resp("1", 99, "x");
    assert_int_equal(irp_resp_write(&b, &r), SC_ERR_ARG);
    r = new_resp("a b", 200, "x");
    assert_int_equal(irp_resp_write(&b, &r), SC_ERR_ARG);
    r = new_resp("1", 200, "");
    assert_int_equal(irp_resp_write(&b, &r), SC_ERR_ARG);
    r = new_resp("1", 200, "line\x01");
    assert_int_equal(irp_resp_write(&b, &r), SC_ERR_ARG);
    r = new_resp("1", 200, "ok");
    r.user = "not a user";
    assert_int_equal(irp_resp_write(&b, &r), SC_ERR_ARG);
    r = new_resp("1", 200, "ok");
    r.has_caps = 1;
    r.caps.versions = 1; /* version 0 */
    assert_int_equal(irp_resp_write(&b, &r), SC_ERR_ARG);
    r = new_resp("1", 200, "ok");
    r.bindings[0] = binding("d", "192.0.2.1", NULL, 1);
    r.bindings[0].port = 0;
    r.n_bindings = 1;
    assert_int_equal(irp_resp_write(&b, &r), SC_ERR_ARG);
    /* More attributes than an element may carry. */
    r = new_resp("1", 200, "ok");
    r.user = ALICE;
    r.at = 1;
    r.granted = 1;
    r.has_seen = 1;
    r.seen = addr("192.0.2.1");
    r.nat = 1;
    r.access = IRP_ACCESS_LIST;
    assert_int_equal(irp_resp_write(&b, &r), SC_ERR_ARG);
    assert_int_equal(b.len, 0);
    /* Too large for one document: SC_ERR_TOO_LARGE, nothing appended. */
    r = new_resp("1", 200, "ok");
    for (size_t i = 0; i < 2; i++)
        r.certs[i] = (irp_cert){.der = der, .der_len = IRP_CERT_MAX};
    r.n_certs = 2;
    sc_buf_put_str(&b, "keep");
    assert_int_equal(irp_resp_write(&b, &r), SC_ERR_TOO_LARGE);
    assert_int_equal(b.len, 4);
    assert_true(sc_buf_ok(&b));

    /* The status-only helper. */
    sc_buf_reset(&b);
    assert_int_equal(irp_resp_write_status(&b, "7", IRP_UNKNOWN_OP, NULL), SC_OK);
    assert_int_equal(b.len, strlen("<resp id=\"7\" status=\"501\" msg=\"unknown-op\"/>"));
    assert_memory_equal(b.data, "<resp id=\"7\" status=\"501\" msg=\"unknown-op\"/>", b.len);
    sc_buf_reset(&b);
    assert_int_equal(irp_resp_write_status(&b, NULL, IRP_BAD_REQUEST, "malformed XML"), SC_OK);
    assert_memory_equal(b.data, "<resp status=\"400\" msg=\"malformed XML\"/>", b.len);
    /* A long text is cut at a character boundary; one XML cannot carry gives the status name. */
    {
        char long_msg[400];
        irp_resp back;
        memset(long_msg, 'a', sizeof long_msg);
        memcpy(long_msg + IRP_MSG_MAX - 1, "\xc3\xa9", 2); /* straddles the cut */
        long_msg[sizeof long_msg - 1] = '\0';
        sc_buf_reset(&b);
        assert_int_equal(irp_resp_write_status(&b, "1", IRP_NOT_FOUND, long_msg), SC_OK);
        assert_int_equal(irp_resp_parse(&back, b.data, b.len), 0);
        assert_int_equal(strlen(back.msg), IRP_MSG_MAX - 1);
        irp_resp_clear(&back);
        sc_buf_reset(&b);
        assert_int_equal(irp_resp_write_status(&b, "1", IRP_NOT_FOUND, "bell\a"), SC_OK);
        assert_int_equal(irp_resp_parse(&back, b.data, b.len), 0);
        assert_string_equal(back.msg, "not-found");
        irp_resp_clear(&back);
        assert_int_equal(irp_resp_write_status(&b, "bad id", IRP_NOT_FOUND, "x"), SC_ERR_ARG);
    }
    sc_buf_dispose(&b);
    free(der);
}

/* ---- events --------------------------------------------------------------------- */

static void test_events(void **state)
{
    irp_event e;
    irp_event_init(&e);
    e.type = IRP_EVENT_BINDING;
    e.user = BOB;
    e.seq = 1;
    e.at = SC_TESTCERT_NOW;
    e.reason = IRP_CHANGE_REGISTER;
    e.bindings[0] = binding("laptop", "2001:db8::7", "192.0.2.7", 4605);
    e.n_bindings = 1;
    event_round_trip(&e);
    e.n_bindings = 0; /* the last device went away */
    e.reason = IRP_CHANGE_EXPIRE;
    e.seq = 2;
    event_round_trip(&e);
    e.reason = IRP_CHANGE_REVOKE;
    event_round_trip(&e);
    e.type = IRP_EVENT_WATCH_END;
    e.reason = IRP_CHANGE_POLICY;
    e.at = 0;
    event_round_trip(&e);

    sc_buf b;
    sc_buf_init(&b, 0);
    e.bindings[0] = binding("laptop", "2001:db8::7", NULL, 4605);
    e.n_bindings = 1; /* watch-end carries none */
    assert_int_equal(irp_event_write(&b, &e), SC_ERR_ARG);
    e.type = IRP_EVENT_NONE;
    assert_int_equal(irp_event_write(&b, &e), SC_ERR_ARG);
    sc_buf_dispose(&b);

    /* An event of a later version is ignored, not refused. */
    const char *later = "<event op=\"presence\" whatever=\"1\"/>";
    assert_int_equal(irp_event_parse(&e, (const uint8_t *)later, strlen(later)), 0);
    assert_int_equal(e.type, IRP_EVENT_NONE);
    irp_event_clear(&e);
    assert_int_equal(event_status("<event op=\"binding\" seq=\"1\"/>"), IRP_BAD_REQUEST);
    assert_int_equal(event_status("<event op=\"binding\" user=\"a@b\"/>"), IRP_BAD_REQUEST);
    assert_int_equal(event_status("<event op=\"binding\" user=\"a@b\" seq=\"1\" reason=\"x\"/>"),
                     IRP_BAD_REQUEST);
    assert_int_equal(event_status("<resp status=\"200\" msg=\"ok\"/>"), IRP_BAD_REQUEST);
}

/* What a client reads: responses and events on one stream. */
static void test_server_doc(void **state)
{
    irp_resp r;
    irp_event e;
    int is_event = -1;
    const char *ev = " <event op=\"binding\" user=\"bob@example.org\" seq=\"3\"/>";
    assert_int_equal(irp_server_doc_parse(NULL, (const uint8_t *)ev, strlen(ev), &r, &e, &is_event),
                     0);
    assert_int_equal(is_event, 1);
    assert_int_equal(e.type, IRP_EVENT_BINDING);
    assert_int_equal(e.seq, 3);
    irp_event_clear(&e);
    irp_resp_clear(&r);

    sc_xml_parser *xp = sc_xml_parser_new();
    assert_non_null(xp);
    const char *rs = "<resp id=\"4\" status=\"404\" msg=\"no such user\"/>";
    assert_int_equal(irp_server_doc_parse(xp, (const uint8_t *)rs, strlen(rs), &r, &e, &is_event),
                     0);
    assert_int_equal(is_event, 0);
    assert_int_equal(r.status, 404);
    irp_resp_clear(&r);
    irp_event_clear(&e);

    const char *bad = "<req id=\"1\" op=\"ping\"/>";
    assert_int_equal(irp_server_doc_parse(xp, (const uint8_t *)bad, strlen(bad), &r, &e, &is_event),
                     IRP_BAD_REQUEST);
    irp_resp_clear(&r);
    irp_event_clear(&e);
    const char *badev = "<event op=\"binding\" user=\"x\" seq=\"1\"/>";
    assert_int_equal(
        irp_server_doc_parse(xp, (const uint8_t *)badev, strlen(badev), &r, &e, &is_event),
        IRP_BAD_REQUEST);
    assert_int_equal(is_event, 0);
    assert_true(r.err[0] != '\0');
    irp_resp_clear(&r);
    irp_event_clear(&e);

    /* The reusable parser serves requests too. */
    irp_req q;
    const char *ping = "<req id=\"1\" op=\"ping\"/>";
    for (int i = 0; i < 3; i++) {
        assert_int_equal(irp_req_parse_with(xp, &q, (const uint8_t *)ping, strlen(ping)), 0);
        irp_req_clear(&q);
    }
    sc_xml_parser_free(xp);
}

/* ---- names --------------------------------------------------------------------- */

static void test_names(void **state)
{
    for (int op = IRP_OP_NONE + 1; op < IRP_OP_COUNT; op++) {
        const char *n = irp_op_name((irp_op)op);
        assert_non_null(n);
        assert_int_equal(irp_op_by_name(n, strlen(n)), op);
    }
    assert_null(irp_op_name(IRP_OP_NONE));
    assert_null(irp_op_name(IRP_OP_COUNT));
    assert_int_equal(irp_op_by_name("look", 4), IRP_OP_NONE);
    assert_string_equal(irp_status_name(IRP_TOO_LARGE), "too-large");
    assert_string_equal(irp_status_name(IRP_UNKNOWN_OP), "unknown-op");
    assert_string_equal(irp_status_name(299), "unknown");
    assert_true(irp_valid_id("a.B_c-9", 7));
    assert_false(irp_valid_id("", 0));
    assert_true(irp_valid_serial("1", 1));
    assert_false(irp_valid_serial("0", 1));
    assert_true(irp_valid_token("AAAAAAAAAAAAAAAAAAAAAA", 22));
    assert_false(irp_valid_token("AAAAAAAAAAAAAAAAAAAAA=", 22));
}

/* ---- frames ----------------------------------------------------------------------- */

static void test_frame_header(void **state)
{
    uint32_t len = 99;
    uint8_t h[4] = {IRP_FRAME_DOC, 0x00, 0x40, 0x00};
    assert_int_equal(irp_frame_check(h, &len), 0);
    assert_int_equal(len, IRP_MAX_DOC);
    h[3] = 1; /* 16385 */
    assert_int_equal(irp_frame_check(h, &len), IRP_TOO_LARGE);
    h[1] = 0xff; /* huge */
    assert_int_equal(irp_frame_check(h, &len), IRP_TOO_LARGE);
    memcpy(h, "\x10\x00\x00\x00", 4);
    assert_int_equal(irp_frame_check(h, &len), IRP_BAD_REQUEST); /* empty */
    memcpy(h, "\x01\x00\x00\x10", 4);
    assert_int_equal(irp_frame_check(h, &len), IRP_BAD_REQUEST); /* an E2ED HELLO */
    memcpy(h, "\x16\x03\x01\x00", 4);
    assert_int_equal(irp_frame_check(h, &len), IRP_BAD_REQUEST); /* TLS in TLS */

    sc_buf b;
    uint8_t doc[IRP_MAX_DOC + 1];
    memset(doc, 'x', sizeof doc);
    sc_buf_init(&b, 0);
    assert_int_equal(irp_frame_put(&b, doc, 0), SC_ERR_TOO_LARGE);
    assert_int_equal(irp_frame_put(&b, doc, IRP_MAX_DOC + 1), SC_ERR_TOO_LARGE);
    assert_int_equal(b.len, 0);
    assert_int_equal(irp_frame_put(&b, doc, 3), SC_OK);
    assert_memory_equal(b.data, "\x10\x00\x00\x03xxx", 7);

    /* In place: the header is fixed up; a frame that cannot be sent is removed. */
    sc_buf_reset(&b);
    irp_req r = new_req(IRP_OP_PING, "1");
    size_t start = irp_frame_begin(&b);
    assert_int_equal(irp_req_write(&b, &r), SC_OK);
    assert_int_equal(irp_frame_end(&b, start), SC_OK);
    assert_int_equal(b.len, 4 + strlen("<req id=\"1\" op=\"ping\"/>"));
    assert_int_equal(sc_load_u24(b.data + 1), b.len - 4);
    start = irp_frame_begin(&b);
    assert_int_equal(irp_frame_end(&b, start), SC_ERR_TOO_LARGE);
    assert_int_equal(b.len, 4 + strlen("<req id=\"1\" op=\"ping\"/>"));
    sc_buf_dispose(&b);
}

/* Three frames fed in every way: byte by byte, all at once, and in odd pieces. */
static void test_framer(void **state)
{
    static const char *const docs[] = {
        "<req id=\"1\" op=\"ping\"/>",
        "<req id=\"2\" op=\"lookup\" user=\"bob@example.org\"/>",
        "<req id=\"3\" op=\"capabilities\"/>",
    };
    sc_buf stream;
    sc_buf_init(&stream, 0);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(irp_frame_put(&stream, (const uint8_t *)docs[i], strlen(docs[i])), SC_OK);

    static const size_t pieces[] = {1, 2, 3, 5, 7, 13, 64, 1000};
    for (size_t k = 0; k < sizeof pieces / sizeof *pieces; k++) {
        irp_framer f;
        size_t off = 0, got = 0;
        irp_framer_init(&f);
        while (off < stream.len) {
            size_t n = stream.len - off < pieces[k] ? stream.len - off : pieces[k];
            size_t done = 0;
            while (done < n) {
                size_t used;
                const uint8_t *doc;
                size_t doc_len;
                int rc =
                    irp_framer_feed(&f, stream.data + off + done, n - done, &used, &doc, &doc_len);
                assert_true(used <= n - done);
                done += used;
                if (rc == IRP_FEED_DOC) {
                    assert_true(got < 3);
                    assert_int_equal(doc_len, strlen(docs[got]));
                    assert_memory_equal(doc, docs[got], doc_len);
                    irp_req r;
                    assert_int_equal(irp_req_parse(&r, doc, doc_len), 0);
                    irp_req_clear(&r);
                    got++;
                } else {
                    assert_int_equal(rc, IRP_FEED_NEED);
                    assert_int_equal(done, n);
                }
            }
            off += n;
        }
        assert_int_equal(got, 3);
        /* Nothing held between frames. */
        size_t used;
        const uint8_t *doc;
        size_t doc_len;
        assert_int_equal(irp_framer_feed(&f, NULL, 0, &used, &doc, &doc_len), IRP_FEED_NEED);
        assert_int_equal(irp_framer_pending(&f), 0);
        assert_null(f.body.data);
        irp_framer_free(&f);
    }

    /* A whole frame in the input is handed out in place, without a copy. */
    irp_framer f;
    size_t used, doc_len;
    const uint8_t *doc;
    irp_framer_init(&f);
    assert_int_equal(irp_framer_feed(&f, stream.data, stream.len, &used, &doc, &doc_len),
                     IRP_FEED_DOC);
    assert_ptr_equal(doc, stream.data + 4);
    assert_int_equal(used, 4 + strlen(docs[0]));
    irp_framer_free(&f);
    sc_buf_dispose(&stream);
}

/* A frame whose header and body arrive in separate calls, then more frames (found by fuzzing: the
 * empty buffer made for the first body was reused, with its size, for the next frame). */
static void test_framer_split_header(void **state)
{
    static const uint8_t in[] = {
        IRP_FRAME_DOC, 0,  0, 1, 'a', IRP_FRAME_DOC, 0, 0, 3, 'b', 'c', 'd', IRP_FRAME_DOC, 0, 0, 2,
        'e',           'f'};
    static const char *const want[] = {"a", "bcd", "ef"};
    static const size_t cuts[][3] = {{4, 5, 9}, {4, 9, 14}, {1, 4, 10}, {5, 6, 17}};
    for (size_t c = 0; c < sizeof cuts / sizeof *cuts; c++) {
        irp_framer f;
        size_t off = 0, got = 0, k = 0;
        irp_framer_init(&f);
        while (off < sizeof in) {
            size_t end = k < 3 ? cuts[c][k] : sizeof in;
            size_t used, doc_len;
            const uint8_t *doc;
            int rc = irp_framer_feed(&f, in + off, end - off, &used, &doc, &doc_len);
            off += used;
            if (rc == IRP_FEED_DOC) {
                assert_true(got < 3);
                assert_int_equal(doc_len, strlen(want[got]));
                assert_memory_equal(doc, want[got], doc_len);
                got++;
            } else {
                assert_int_equal(rc, IRP_FEED_NEED);
            }
            if (off == end) k++;
        }
        assert_int_equal(got, 3);
        irp_framer_free(&f);
    }
}

static void test_framer_refusals(void **state)
{
    irp_framer f;
    size_t used, doc_len;
    const uint8_t *doc;

    /* Oversized: refused from the header, before any body byte; sticky. */
    static const uint8_t big[] = {IRP_FRAME_DOC, 0x00, 0x40, 0x01, '<', 'r'};
    irp_framer_init(&f);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(irp_framer_feed(&f, big + i, 1, &used, &doc, &doc_len), IRP_FEED_NEED);
        assert_int_equal(used, 1);
    }
    assert_int_equal(irp_framer_feed(&f, big + 3, 3, &used, &doc, &doc_len), IRP_TOO_LARGE);
    assert_int_equal(used, 1);
    assert_null(f.body.data);
    assert_int_equal(irp_framer_feed(&f, big + 4, 2, &used, &doc, &doc_len), IRP_TOO_LARGE);
    assert_int_equal(used, 0);
    irp_framer_free(&f);

    /* Wrong type. */
    static const uint8_t hello[] = {0x01, 0x00, 0x00, 0x02, '<', '/'};
    irp_framer_init(&f);
    assert_int_equal(irp_framer_feed(&f, hello, sizeof hello, &used, &doc, &doc_len),
                     IRP_BAD_REQUEST);
    irp_framer_free(&f);

    /* Empty DOC. */
    static const uint8_t empty[] = {IRP_FRAME_DOC, 0, 0, 0};
    irp_framer_init(&f);
    assert_int_equal(irp_framer_feed(&f, empty, sizeof empty, &used, &doc, &doc_len),
                     IRP_BAD_REQUEST);
    irp_framer_free(&f);

    /* The largest frame, gathered in pieces, in a buffer of exactly its size. */
    uint8_t *frame = malloc(4 + IRP_MAX_DOC);
    assert_non_null(frame);
    frame[0] = IRP_FRAME_DOC;
    sc_store_u24(frame + 1, IRP_MAX_DOC);
    memset(frame + 4, 'y', IRP_MAX_DOC);
    irp_framer_init(&f);
    assert_int_equal(irp_framer_feed(&f, frame, 100, &used, &doc, &doc_len), IRP_FEED_NEED);
    assert_int_equal(f.body.cap, IRP_MAX_DOC);
    assert_int_equal(irp_framer_pending(&f), 100);
    assert_int_equal(irp_framer_feed(&f, frame + 100, 4 + IRP_MAX_DOC - 100, &used, &doc, &doc_len),
                     IRP_FEED_DOC);
    assert_int_equal(doc_len, IRP_MAX_DOC);
    irp_framer_free(&f);
    free(frame);
}

/* ---- the signed lookup answer ----------------------------------------------------- */

static void lookup_answer(irp_resp *r, const uint8_t *der, size_t der_len)
{
    *r = new_resp("look-1", IRP_OK, "ok");
    r->user = BOB;
    r->at = SC_TESTCERT_NOW;
    r->bindings[0] = binding("laptop", "2001:db8::7", "192.0.2.7", 4605);
    r->n_bindings = 1;
    r->certs[0] = (irp_cert){.der = der,
                             .der_len = der_len,
                             .state = IRP_CERT_VALID,
                             .serial = "5eed",
                             .not_after = SC_TESTCERT_NOW + 86400};
    r->n_certs = 1;
}

/*
 * docs/IRP.md 7.4's example, byte for byte: the signed form has its own
 * writer, and whatever else a response carries (id, msg, granted, seen,
 * access, allow) stays out of it.
 */
static void test_lookup_tbs_example(void **state)
{
    static const uint8_t der[] = {0x30, 0x82, 0x01, 0x8f, 0x30, 0x82, 0x01, 0x35};
    static const char want[] =
        "irp1 lookup\0<resp status=\"200\" user=\"bob@example.org\" at=\"1767225600\"><binding "
        "device=\"laptop\" addrs=\"2001:db8::7 192.0.2.7\" port=\"4605\" expires=\"1767229200\" "
        "updated=\"1767225600\" seq=\"1767225600123\"/><cert status=\"valid\" serial=\"5eed0c1a\" "
        "not-after=\"1798761600\">MIIBjzCCATU=</cert><cert status=\"revoked\" serial=\"3a1f\" "
        "revoked=\"1767000000\" reason=\"key-compromise\"/></resp>";
    static const char *const allow[] = {"carol@example.org"};
    irp_resp r = new_resp("look-9", IRP_OK, "found it");
    sc_buf tbs;

    (void)state;
    r.user = BOB;
    r.at = 1767225600;
    r.bindings[0] = binding("laptop", "2001:db8::7", "192.0.2.7", 4605);
    r.bindings[0].expires = 1767229200;
    r.bindings[0].updated = 1767225600;
    r.bindings[0].seq = 1767225600123u;
    r.n_bindings = 1;
    r.certs[0] = (irp_cert){.der = der,
                            .der_len = sizeof der,
                            .state = IRP_CERT_VALID,
                            .serial = "5eed0c1a",
                            .not_after = 1798761600};
    r.certs[1] = (irp_cert){.state = IRP_CERT_REVOKED,
                            .serial = "3a1f",
                            .revoked = 1767000000,
                            .reason = IRP_REASON_KEY_COMPROMISE};
    r.n_certs = 2;
    /* not part of a lookup answer's signed form */
    r.granted = 600;
    r.has_seen = 1;
    r.seen = addr("198.51.100.23");
    r.access = IRP_ACCESS_LIST;
    r.allow[0] = allow[0];
    r.n_allow = 1;
    sc_buf_init(&tbs, 0);
    assert_int_equal(irp_lookup_tbs(&tbs, &r), SC_OK);
    assert_int_equal(tbs.len, sizeof want - 1);
    assert_memory_equal(tbs.data, want, sizeof want - 1);
    sc_buf_dispose(&tbs);
}

static void test_lookup_signature(void **state)
{
    static const sc_testkey_type types[] = {SC_TESTKEY_ED25519, SC_TESTKEY_P256, SC_TESTKEY_P384,
                                            SC_TESTKEY_RSA2048};
    sc_testcert *root = sc_testcert_root(SC_TESTKEY_P256, "irp test ca", 0, 0);
    sc_testcert *other = sc_testcert_root(SC_TESTKEY_ED25519, "another registry", 0, 0);
    uint8_t *der = pattern(600, 8);

    for (size_t t = 0; t < sizeof types / sizeof *types; t++) {
        sc_testcert *reg = sc_testcert_ca(root, types[t], "registry.example.org", 0, 0);
        irp_resp r, back;
        sc_buf store, wire, tbs1, tbs2;
        sc_buf_init(&store, 0);
        sc_buf_init(&wire, 0);
        sc_buf_init(&tbs1, 0);
        sc_buf_init(&tbs2, 0);
        lookup_answer(&r, der, 600);
        assert_int_equal(irp_lookup_sign(&r, reg->key, reg->cert, &store), SC_OK);
        assert_true(r.has_sig);
        assert_int_equal(r.sig.alg, sc_sigalg_for_key(reg->key));
        assert_int_equal(irp_lookup_verify(&r, reg->cert), SC_OK);

        /* Across the wire. */
        assert_int_equal(irp_resp_write(&wire, &r), SC_OK);
        assert_int_equal(irp_resp_parse(&back, wire.data, wire.len), 0);
        assert_int_equal(irp_lookup_verify(&back, reg->cert), SC_OK);
        /* Neither id nor msg is signed: the same answer serves every requester. */
        snprintf(back.id, sizeof back.id, "another-id");
        back.msg = "found";
        assert_int_equal(irp_lookup_verify(&back, reg->cert), SC_OK);
        assert_int_equal(irp_lookup_tbs(&tbs1, &r), SC_OK);
        assert_int_equal(irp_lookup_tbs(&tbs2, &back), SC_OK);
        assert_int_equal(tbs1.len, tbs2.len);
        assert_memory_equal(tbs1.data, tbs2.data, tbs1.len);
        assert_memory_equal(tbs1.data, "irp1 lookup\0<resp status=\"200\" user=\"bob@example.org\"",
                            sizeof "irp1 lookup\0<resp status=\"200\" user=\"bob@example.org\"" -
                                1);

        /* Every signed field matters. */
        back.bindings[0].port = 4606;
        assert_int_equal(irp_lookup_verify(&back, reg->cert), SC_ERR_DECRYPT_ERROR);
        back.bindings[0].port = 4605;
        back.at++;
        assert_int_equal(irp_lookup_verify(&back, reg->cert), SC_ERR_DECRYPT_ERROR);
        back.at--;
        back.certs[0].state = IRP_CERT_REVOKED;
        assert_int_equal(irp_lookup_verify(&back, reg->cert), SC_ERR_DECRYPT_ERROR);
        back.certs[0].state = IRP_CERT_VALID;
        back.user = "mallory@example.org";
        assert_int_equal(irp_lookup_verify(&back, reg->cert), SC_ERR_DECRYPT_ERROR);
        back.user = BOB;
        back.n_bindings = 0;
        assert_int_equal(irp_lookup_verify(&back, reg->cert), SC_ERR_DECRYPT_ERROR);
        back.n_bindings = 1;
        assert_int_equal(irp_lookup_verify(&back, reg->cert), SC_OK);
        /* Another registry's certificate. */
        assert_int_equal(irp_lookup_verify(&back, other->cert), SC_ERR_ILLEGAL_PARAMETER);

        irp_resp_clear(&back);
        sc_buf_dispose(&store);
        sc_buf_dispose(&wire);
        sc_buf_dispose(&tbs1);
        sc_buf_dispose(&tbs2);
        sc_testcert_free(reg);
    }

    /* A signature over a differently spelled document still verifies: the signed form is
     * canonical, not the bytes received. */
    {
        sc_testcert *reg = sc_testcert_ca(root, SC_TESTKEY_ED25519, "registry.example.org", 0, 0);
        irp_resp r, back;
        sc_buf store, wire;
        sc_buf_init(&store, 0);
        sc_buf_init(&wire, 0);
        lookup_answer(&r, der, 600);
        r.n_certs = 0;
        assert_int_equal(irp_lookup_sign(&r, reg->key, reg->cert, &store), SC_OK);
        sc_buf_put_str(&wire, "<resp msg='fine' at='1767225600' status='200' "
                              "user='bob@example.org' id='zz'>\n <sig alg='ed25519' key='");
        static const char hex[] = "0123456789abcdef";
        for (int i = 0; i < 32; i++) {
            sc_buf_put_u8(&wire, (uint8_t)hex[r.sig.key[i] >> 4]);
            sc_buf_put_u8(&wire, (uint8_t)hex[r.sig.key[i] & 15]);
        }
        sc_buf_put_str(&wire, "'>");
        sc_base64_encode(&wire, r.sig.sig, r.sig.sig_len);
        sc_buf_put_str(&wire,
                       "</sig>\n <binding seq='42' updated='1767225600' expires='1767229200' "
                       "port='4605' addrs='2001:DB8:0::7 ::ffff:192.0.2.7' "
                       "device='laptop'/>\n</resp>");
        assert_int_equal(irp_resp_parse(&back, wire.data, wire.len), 0);
        assert_int_equal(irp_lookup_verify(&back, reg->cert), SC_OK);
        irp_resp_clear(&back);
        sc_buf_dispose(&store);
        sc_buf_dispose(&wire);
        sc_testcert_free(reg);
    }

    /* Not a lookup answer: nothing to sign or check. */
    {
        irp_resp r = new_resp("1", IRP_OK, "ok");
        sc_buf store;
        sc_buf_init(&store, 0);
        assert_int_equal(irp_lookup_sign(&r, root->key, root->cert, &store), SC_ERR_ARG);
        assert_int_equal(irp_lookup_verify(&r, root->cert), SC_ERR_ARG);
        sc_buf_dispose(&store);
    }
    free(der);
    sc_testcert_free(root);
    sc_testcert_free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_req_round_trip_every_op),
        cmocka_unit_test(test_req_parse_examples),
        cmocka_unit_test(test_req_rejections),
        cmocka_unit_test(test_req_writer_refusals),
        cmocka_unit_test(test_resp_round_trip_every_op),
        cmocka_unit_test(test_resp_parse_and_refuse),
        cmocka_unit_test(test_resp_writer_refusals),
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_server_doc),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_frame_header),
        cmocka_unit_test(test_framer),
        cmocka_unit_test(test_framer_split_header),
        cmocka_unit_test(test_framer_refusals),
        cmocka_unit_test(test_lookup_signature),
        cmocka_unit_test(test_lookup_tbs_example),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
