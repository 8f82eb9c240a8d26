/*
 * test_irp_client_srv.c - finding a registry with DNS SRV (src/irp/irp_srv.c,
 * irp_client_srv.c; docs/IRP.md 2.1, RFC 2782).
 *
 * Answers are built here byte by byte and parsed; the order is checked
 * over many draws of a seeded generator. With IRP_TEST_DNS=IP:PORT
 * (tests/irp/srv.sh starts nsd with the zones it names) the resolver asks
 * that real server too.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "irp_client_srv.h"

typedef struct dnsmsg {
    uint8_t b[2048];
    size_t n;
} dnsmsg;

static void put8(dnsmsg *m, unsigned v)
{
    m->b[m->n++] = (uint8_t)v;
}
static void put16(dnsmsg *m, unsigned v)
{
    put8(m, v >> 8);
    put8(m, v & 0xff);
}
/* A name as labels ("" is the root). */
static void put_name(dnsmsg *m, const char *name)
{
    while (*name) {
        const char *dot = strchr(name, '.');
        size_t len = dot ? (size_t)(dot - name) : strlen(name);
        put8(m, (unsigned)len);
        memcpy(m->b + m->n, name, len);
        m->n += len;
        name += len + (dot ? 1 : 0);
    }
    put8(m, 0);
}

/* A response header and the question _irp._tcp.one.test SRV IN. */
static void begin(dnsmsg *m, unsigned rcode, unsigned ancount)
{
    m->n = 0;
    put16(m, 0x1234);
    put16(m, 0x8180 | rcode); /* QR, RD, RA */
    put16(m, 1);
    put16(m, ancount);
    put16(m, 0);
    put16(m, 0);
    put_name(m, "_irp._tcp.one.test");
    put16(m, 33);
    put16(m, 1);
}

static void srv(dnsmsg *m, unsigned prio, unsigned weight, unsigned port, const char *target)
{
    put16(m, 0xc00c); /* the question's name */
    put16(m, 33);
    put16(m, 1);
    put16(m, 0);
    put16(m, 300);
    size_t at = m->n;
    put16(m, 0); /* rdlength, set below */
    put16(m, prio);
    put16(m, weight);
    put16(m, port);
    put_name(m, target);
    size_t rdlen = m->n - at - 2;
    m->b[at] = (uint8_t)(rdlen >> 8);
    m->b[at + 1] = (uint8_t)rdlen;
}

static int parse(const dnsmsg *m, irp_srv_target *t, size_t cap, size_t *n)
{
    return irp_srv_parse(m->b, m->n, t, cap, n);
}

static void test_parse_records(void **st)
{
    (void)st;
    dnsmsg m;
    irp_srv_target t[IRP_SRV_MAX];
    size_t n;
    begin(&m, 0, 3);
    srv(&m, 10, 60, 4604, "irp1.one.test");
    /* An A record in the answer is not a target. */
    put16(&m, 0xc00c), put16(&m, 1), put16(&m, 1), put16(&m, 0), put16(&m, 60), put16(&m, 4);
    put16(&m, 0x7f00), put16(&m, 0x0001);
    srv(&m, 20, 0, 14604, "backup.one.test");
    assert_int_equal(parse(&m, t, IRP_SRV_MAX, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(t[0].host, "irp1.one.test");
    assert_int_equal(t[0].port, 4604);
    assert_int_equal(t[0].priority, 10);
    assert_int_equal(t[0].weight, 60);
    assert_string_equal(t[1].host, "backup.one.test");
    assert_int_equal(t[1].port, 14604);
    /* More records than room: the first cap are kept. */
    assert_int_equal(parse(&m, t, 1, &n), 0);
    assert_int_equal(n, 1);
}

static void test_parse_no_registry(void **st)
{
    (void)st;
    dnsmsg m;
    irp_srv_target t[4];
    size_t n;
    begin(&m, 3, 0); /* NXDOMAIN */
    assert_int_equal(parse(&m, t, 4, &n), IRP_NOT_FOUND);
    begin(&m, 0, 0); /* the name exists, no SRV */
    assert_int_equal(parse(&m, t, 4, &n), IRP_NOT_FOUND);
    begin(&m, 2, 0); /* SERVFAIL: the DNS failed, not the domain */
    assert_int_equal(parse(&m, t, 4, &n), IRP_UNAVAILABLE);
    begin(&m, 0, 1);
    srv(&m, 0, 0, 0, ""); /* RFC 2782: "." says the service is not offered */
    assert_int_equal(parse(&m, t, 4, &n), IRP_GONE);
    assert_int_equal(n, 0);
}

static void test_parse_refuses_malformed(void **st)
{
    (void)st;
    dnsmsg m;
    irp_srv_target t[4];
    size_t n;
    begin(&m, 0, 1);
    srv(&m, 1, 1, 4604, "irp.one.test");
    size_t whole = m.n;
    for (size_t cut = 0; cut < whole; cut++) { /* every truncation */
        m.n = cut;
        assert_int_equal(parse(&m, t, 4, &n), IRP_BAD_REQUEST);
    }
    m.n = whole;
    m.b[2] &= 0x7f; /* a query, not a response */
    assert_int_equal(parse(&m, t, 4, &n), IRP_BAD_REQUEST);
    /* rdata longer than its target: bytes nobody reads are refused */
    begin(&m, 0, 1);
    srv(&m, 1, 1, 4604, "irp.one.test");
    put8(&m, 0);                           /* one byte after the target ... */
    m.b[m.n - 23] = 0, m.b[m.n - 22] = 21; /* ... inside rdlength (6 + 14 + 1) */
    assert_int_equal(parse(&m, t, 4, &n), IRP_BAD_REQUEST);
    /* a compression pointer to itself */
    begin(&m, 0, 1);
    srv(&m, 1, 1, 4604, "");
    m.n--;
    put16(&m, 0xc000 | (unsigned)(m.n));
    m.b[m.n - 10] = 0, m.b[m.n - 9] = 8;
    assert_int_equal(parse(&m, t, 4, &n), IRP_BAD_REQUEST);
    assert_int_equal(irp_srv_parse(NULL, 0, t, 4, &n), IRP_BAD_REQUEST);
}

static void test_parse_skips_unusable_targets(void **st)
{
    (void)st;
    dnsmsg m;
    irp_srv_target t[4];
    size_t n;
    begin(&m, 0, 3);
    srv(&m, 1, 1, 0, "noport.one.test");    /* port 0 */
    srv(&m, 1, 1, 4604, "sp ace.one.test"); /* not a host name */
    srv(&m, 1, 1, 4604, "-ok-.one.test");   /* LDH, taken as it is */
    assert_int_equal(parse(&m, t, 4, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(t[0].host, "-ok-.one.test");
}

static uint32_t xorshift(void *arg)
{
    uint32_t *s = arg;
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void target(irp_srv_target *t, const char *host, unsigned prio, unsigned weight)
{
    memset(t, 0, sizeof *t);
    strcpy(t->host, host);
    t->port = 4604;
    t->priority = (uint16_t)prio;
    t->weight = (uint16_t)weight;
}

static void test_order_priority_then_weight(void **st)
{
    (void)st;
    uint32_t seed = 0x9e3779b9;
    int heavy_first = 0, zero_first = 0;
    const int draws = 4000;
    for (int i = 0; i < draws; i++) {
        irp_srv_target t[5];
        target(&t[0], "late", 20, 5);
        target(&t[1], "light", 10, 1);
        target(&t[2], "heavy", 10, 3);
        target(&t[3], "zero", 10, 0);
        target(&t[4], "first", 5, 0);
        irp_srv_order(t, 5, xorshift, &seed);
        assert_string_equal(t[0].host, "first"); /* the lowest priority is tried first */
        assert_string_equal(t[4].host, "late");
        heavy_first += strcmp(t[1].host, "heavy") == 0;
        zero_first += strcmp(t[1].host, "zero") == 0;
        /* every one of priority 10 is there once */
        int seen = 0;
        for (int k = 1; k <= 3; k++)
            seen |= 1 << (t[k].host[0] == 'h' ? 0 : t[k].host[0] == 'l' ? 1 : 2);
        assert_int_equal(seen, 7);
    }
    /* P(heavy first) = 3/5, P(zero first) = 1/5 (RFC 2782's draw in 0..total) */
    assert_in_range(heavy_first, draws * 55 / 100, draws * 65 / 100);
    assert_in_range(zero_first, draws * 16 / 100, draws * 24 / 100);
}

static void test_qname(void **st)
{
    (void)st;
    char q[IRP_SRV_HOST_MAX + 1];
    assert_int_equal(irp_srv_qname("one.test", q, sizeof q), 0);
    assert_string_equal(q, "_irp._tcp.one.test");
    assert_int_equal(irp_srv_qname("", q, sizeof q), SC_ERR_ARG);
    assert_int_equal(irp_srv_qname("a..b", q, sizeof q), SC_ERR_ARG);
    assert_int_equal(irp_srv_qname("a b.test", q, sizeof q), SC_ERR_ARG);
    assert_int_equal(irp_srv_qname("one.test", q, 10), SC_ERR_ARG);
    char long_label[80];
    memset(long_label, 'a', 64);
    strcpy(long_label + 64, ".test");
    assert_int_equal(irp_srv_qname(long_label, q, sizeof q), SC_ERR_ARG);
}

/* Against the real nsd of tests/irp/srv.sh. */
static void test_live_resolver(void **st)
{
    (void)st;
    const char *dns = getenv("IRP_TEST_DNS");
    if (dns == NULL) skip();
    irp_srv_target t[IRP_SRV_MAX];
    size_t n;
    char err[256];
    assert_int_equal(irp_srv_resolve("one.test", dns, t, IRP_SRV_MAX, &n, err, sizeof err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(t[0].host, "primary.one.test");
    assert_int_equal(t[0].port, 14604);
    assert_string_equal(t[2].host, "backup.one.test");
    /* No SRV record: the domain itself on 4604. */
    assert_int_equal(irp_srv_resolve("plain.test", dns, t, IRP_SRV_MAX, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(t[0].host, "plain.test");
    assert_int_equal(t[0].port, IRP_SRV_PORT);
    assert_int_equal(irp_srv_resolve("gone.test", dns, t, IRP_SRV_MAX, &n, err, sizeof err),
                     IRP_GONE);
    assert_non_null(strstr(err, "no registry"));
    assert_int_equal(irp_srv_resolve("bad name", dns, t, IRP_SRV_MAX, &n, err, sizeof err),
                     SC_ERR_ARG);
    assert_int_equal(irp_srv_resolve("one.test", "300.0.0.1", t, IRP_SRV_MAX, &n, err, sizeof err),
                     SC_ERR_ARG);
}

typedef struct async_res {
    int calls, status;
    size_t n;
    char host[IRP_SRV_HOST_MAX + 1];
} async_res;

static void on_srv(void *arg, int status, const irp_srv_target *t, size_t n, const char *err)
{
    (void)err;
    async_res *r = arg;
    r->calls++;
    r->status = status;
    r->n = n;
    if (n > 0) strcpy(r->host, t[0].host);
}

static void test_live_async(void **st)
{
    (void)st;
    const char *dns = getenv("IRP_TEST_DNS");
    if (dns == NULL) skip();
    uv_loop_t loop;
    async_res r = {0};
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(irp_srv_resolve_async(&loop, "one.test", dns, on_srv, &r), 0);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.host, "primary.one.test");
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_records),
        cmocka_unit_test(test_parse_no_registry),
        cmocka_unit_test(test_parse_refuses_malformed),
        cmocka_unit_test(test_parse_skips_unusable_targets),
        cmocka_unit_test(test_order_priority_then_weight),
        cmocka_unit_test(test_qname),
        cmocka_unit_test(test_live_resolver),
        cmocka_unit_test(test_live_async),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
