/*
 * test_agent_reg.c - the agent's registry side (agent_reg.h) against a real
 * irpd on loopback (--allow-local): registration of the machine's
 * addresses, verified lookups (online, offline, unknown), watch events as
 * the watched user registers and unregisters, the NAT verdict, getting
 * everything back after irpd restarts, re-registration when an address
 * appears (netlink; needs CAP_NET_ADMIN, else skipped), lookups without a
 * connection, and the checks of a signed lookup answer. Every wait is on a
 * callback; a guard timer fails the test instead of hanging.
 */
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "agent_reg.h"
#include "agent_enroll_int.h"
#include "agent_reg_int.h"
#include "irp_sig.h"
#include "reg_irpd.h"
#include "sixchat/error.h"

static reg_irpd T;
static uv_loop_t L;

/* One agent_reg under test with what its callbacks saw. */
typedef struct ag {
    const char *name;
    agent_reg *r;
    int n_registered, n_retrying, stopped, n_no_addr;
    agent_reg_status last;
    char last_addrs[IRP_MAX_ADDRS][IRP_ADDR_STRLEN];
    char nat_msg[600];
    /* presence */
    int n_presence;
    int p_status;
    char p_msg[400];
    agent_peer_view p_view;
    irp_change p_reason;
} ag;

static void on_status(void *ctx, const agent_reg_status *st)
{
    ag *a = ctx;
    a->last = *st;
    memcpy(a->last_addrs, st->addrs, sizeof(a->last_addrs));
    a->nat_msg[0] = '\0';
    if (st->nat_msg != NULL) snprintf(a->nat_msg, sizeof(a->nat_msg), "%s", st->nat_msg);
    if (st->state == AGENT_REG_REGISTERED) a->n_registered++;
    if (st->state == AGENT_REG_RETRYING) a->n_retrying++;
    if (st->state == AGENT_REG_NO_ADDRESS) a->n_no_addr++;
    if (st->state == AGENT_REG_STOPPED) a->stopped = 1;
}

static void on_presence(void *ctx, int status, const char *msg, const agent_peer_view *v,
                        irp_change reason)
{
    ag *a = ctx;
    a->n_presence++;
    a->p_status = status;
    snprintf(a->p_msg, sizeof(a->p_msg), "%s", msg);
    a->p_view = *v;
    a->p_reason = reason;
}

/* ---- waiting on callbacks ----------------------------------------------------------------------
 */

static int guard_fired;
static void on_guard(uv_timer_t *t)
{
    (void)t;
    guard_fired = 1;
}

/* Runs the loop until *flag >= want (a guard of 20 s fails the test instead of hanging). */
static void wait_for(int *flag, int want, const char *what)
{
    uv_timer_t g;
    guard_fired = 0;
    uv_timer_init(&L, &g);
    uv_timer_start(&g, on_guard, 20000, 0);
    while (*flag < want && !guard_fired)
        uv_run(&L, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&g, NULL);
    uv_run(&L, UV_RUN_NOWAIT);
    if (*flag < want) fail_msg("timed out waiting for %s", what);
}

static char *pem_of(const char *name, const char *ext)
{
    char p[400];
    char *s = reg_irpd_slurp(reg_irpd_path(&T, name, ext, p, sizeof(p)));
    assert_non_null(s);
    return s;
}

/* Starts an agent_reg for NAME (NAME.pem/.key in the test directory). */
static void start_ag(ag *a, const char *name, const char *user, const char *const *fixed,
                     size_t n_fixed)
{
    agent_reg_opts o;
    char err[256], dev[64];
    char *cert = pem_of(name, "pem"), *key = pem_of(name, "key");

    memset(&o, 0, sizeof(o));
    snprintf(dev, sizeof(dev), "%s-dev", name);
    o.host = "127.0.0.1";
    o.port = T.port;
    o.ca_fp = T.ca_fp;
    o.cert_pem = cert;
    o.key_pem = key;
    o.user = user;
    o.device = dev;
    o.listen_port = 4605;
    o.allow_local = 1;
    o.addrs = fixed;
    o.n_addrs = n_fixed;
    o.no_netmon = 1;
    o.backoff_min_ms = 50;
    o.backoff_max_ms = 400;
    o.on_status = on_status;
    o.on_presence = on_presence;
    o.ctx = a;
    a->name = name;
    assert_int_equal(agent_reg_new(&L, &o, &a->r, err, sizeof(err)), 0);
    free(cert);
    free(key);
    assert_int_equal(agent_reg_start(a->r), 0);
}

static void stop_ag(ag *a)
{
    agent_reg_stop(a->r, NULL, NULL);
    wait_for(&a->stopped, 1, "stopped");
    a->r = NULL;
}

static int has_addr(const ag *a, const char *text)
{
    size_t i;
    for (i = 0; i < a->last.n_addrs; i++)
        if (strcmp(a->last_addrs[i], text) == 0) return 1;
    return 0;
}

/* SHA-256 of NAME.pem's leaf. */
static void cert_fp(const char *name, uint8_t out[32])
{
    char p[400];
    FILE *f = fopen(reg_irpd_path(&T, name, "pem", p, sizeof(p)), "r");
    X509 *x = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    unsigned int n = 0;
    if (f != NULL) fclose(f);
    assert_non_null(x);
    X509_digest(x, EVP_sha256(), out, &n);
    X509_free(x);
}

/* A lookup's answer. */
typedef struct lk {
    int done, status;
    char msg[400];
    int has_view;
    agent_peer_view view;
} lk;

static void on_lk(void *ctx, int status, const char *msg, const agent_peer_view *v)
{
    lk *l = ctx;
    l->done++;
    l->status = status;
    snprintf(l->msg, sizeof(l->msg), "%s", msg);
    l->has_view = v != NULL;
    if (v != NULL) l->view = *v;
}

static void lookup(ag *a, const char *user, lk *l)
{
    memset(l, 0, sizeof(*l));
    assert_int_equal(agent_reg_lookup(a->r, user, on_lk, l), 0);
    assert_int_equal(l->done, 0); /* never from inside the call */
    wait_for(&l->done, 1, "lookup answer");
}

static int view_has(const agent_device *d, const char *ip, uint16_t port)
{
    size_t i;
    for (i = 0; i < d->n_addrs; i++) {
        char t[INET6_ADDRSTRLEN];
        const struct sockaddr_storage *s = &d->addrs[i];
        if (s->ss_family == AF_INET) {
            const struct sockaddr_in *s4 = (const struct sockaddr_in *)s;
            inet_ntop(AF_INET, &s4->sin_addr, t, sizeof(t));
            if (strcmp(t, ip) == 0 && ntohs(s4->sin_port) == port) return 1;
        } else if (s->ss_family == AF_INET6) {
            const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)s;
            inet_ntop(AF_INET6, &s6->sin6_addr, t, sizeof(t));
            if (strcmp(t, ip) == 0 && ntohs(s6->sin6_port) == port) return 1;
        }
    }
    return 0;
}

static int setup(void **state)
{
    (void)state;
    if (reg_irpd_init(&T) != 0 || reg_irpd_start(&T, 0) != 0) return -1;
    if (reg_irpd_enroll(&T, "alice", "alice@example.org") != 0 ||
        reg_irpd_enroll(&T, "bob", "bob@example.org") != 0 ||
        reg_irpd_enroll(&T, "carol", "carol@example.org") != 0 ||
        reg_irpd_enroll(&T, "dave", "dave@example.org") != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    reg_irpd_cleanup(&T);
    return 0;
}

static int loop_setup(void **state)
{
    (void)state;
    return uv_loop_init(&L);
}

static void close_any(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

/*
 * Every handle closed: uv_loop_close fails (UV_EBUSY) on a leak. After a
 * failed assertion agents may still be running (retry timers): the guard
 * ends the wait, every handle is closed and the teardown fails.
 */
static int loop_teardown(void **state)
{
    uv_timer_t g;
    (void)state;
    guard_fired = 0;
    uv_timer_init(&L, &g);
    uv_timer_start(&g, on_guard, 5000, 0);
    uv_unref((uv_handle_t *)&g);
    while (uv_loop_alive(&L) && !guard_fired)
        uv_run(&L, UV_RUN_ONCE);
    if (!uv_is_closing((uv_handle_t *)&g)) uv_close((uv_handle_t *)&g, NULL);
    if (guard_fired) uv_walk(&L, close_any, NULL);
    uv_run(&L, UV_RUN_DEFAULT);
    return uv_loop_close(&L) == 0 && !guard_fired ? 0 : -1;
}

/* ---- tests --------------------------------------------------------------------------------------
 */

static void test_register_and_lookup(void **state)
{
    ag a, b;
    lk l;
    uint8_t fp[32];
    (void)state;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));

    start_ag(&a, "alice", "alice@example.org", NULL, 0);
    wait_for(&a.n_registered, 1, "alice registered");
    assert_true(has_addr(&a, "127.0.0.1")); /* allow_local: loopback too */
    assert_int_equal(a.last.port, 4605);
    assert_true(a.last.granted > 0);
    assert_true(a.last.expires > agent__reg_now());
    assert_int_equal(a.last.nat, 0); /* the registry saw 127.0.0.1, which alice registered */
    assert_string_equal(a.last.seen, "127.0.0.1");
    assert_null(a.last.nat_msg);
    assert_int_equal(agent_reg_get_status(a.r)->state, AGENT_REG_REGISTERED);

    start_ag(&b, "bob", "bob@example.org", NULL, 0);
    wait_for(&b.n_registered, 1, "bob registered");
    lookup(&b, "alice@example.org", &l);
    assert_int_equal(l.status, 0);
    assert_true(l.has_view);
    assert_string_equal(l.view.user, "alice@example.org");
    assert_int_equal(l.view.n_devices, 1);
    assert_string_equal(l.view.devices[0].id, "alice-dev");
    assert_true(view_has(&l.view.devices[0], "127.0.0.1", 4605));
    assert_int_equal(l.view.devices[0].n_addrs, a.last.n_addrs);
    assert_int_equal(l.view.n_certs, 1);
    cert_fp("alice", fp);
    assert_memory_equal(l.view.cert_fps[0], fp, 32);

    /* Enrolled but never registered: offline, with the certificate. */
    lookup(&b, "dave@example.org", &l);
    assert_int_equal(l.status, AGENT_REG_OFFLINE);
    assert_string_equal(l.msg, "dave@example.org has no registered address: they are offline");
    assert_true(l.has_view);
    assert_int_equal(l.view.n_devices, 0);
    assert_int_equal(l.view.n_certs, 1);
    cert_fp("dave", fp);
    assert_memory_equal(l.view.cert_fps[0], fp, 32);

    /* Unknown. */
    lookup(&b, "nobody@example.org", &l);
    assert_int_equal(l.status, IRP_NOT_FOUND);
    assert_false(l.has_view);
    assert_non_null(strstr(l.msg, "knows no user nobody@example.org"));
    assert_int_equal(agent_reg_lookup(b.r, "not a user", on_lk, &l), SC_ERR_ARG);

    /* Stop unregisters: alice is offline for bob at once, not at expiry. */
    stop_ag(&a);
    lookup(&b, "alice@example.org", &l);
    assert_int_equal(l.status, AGENT_REG_OFFLINE);
    stop_ag(&b);
}

static void test_watch(void **state)
{
    ag b, c;
    uint8_t fp[32];
    int want;
    (void)state;
    memset(&b, 0, sizeof(b));
    memset(&c, 0, sizeof(c));

    start_ag(&b, "bob", "bob@example.org", NULL, 0);
    assert_int_equal(agent_reg_watch(b.r, "carol@example.org"), 0);
    assert_int_equal(agent_reg_watch(b.r, "carol@example.org"), 0); /* again: nothing new */
    wait_for(&b.n_presence, 1, "the initial view of carol");
    assert_int_equal(b.p_status, 0);
    assert_string_equal(b.p_view.user, "carol@example.org");
    assert_int_equal(b.p_view.n_devices, 0);
    assert_int_equal(b.p_reason, IRP_CHANGE_NONE);

    /* carol comes up: bob hears it, with her verified certificate. */
    want = b.n_presence + 1;
    start_ag(&c, "carol", "carol@example.org", NULL, 0);
    wait_for(&b.n_presence, want, "carol online");
    assert_int_equal(b.p_status, 0);
    assert_int_equal(b.p_reason, IRP_CHANGE_REGISTER);
    assert_int_equal(b.p_view.n_devices, 1);
    assert_string_equal(b.p_view.devices[0].id, "carol-dev");
    assert_true(view_has(&b.p_view.devices[0], "127.0.0.1", 4605));
    assert_int_equal(b.p_view.n_certs, 1);
    cert_fp("carol", fp);
    assert_memory_equal(b.p_view.cert_fps[0], fp, 32);
    wait_for(&c.n_registered, 1, "carol registered");

    /* carol stops: unregister, bob hears she is offline. */
    want = b.n_presence + 1;
    stop_ag(&c);
    wait_for(&b.n_presence, want, "carol offline");
    assert_int_equal(b.p_status, 0);
    assert_int_equal(b.p_reason, IRP_CHANGE_UNREGISTER);
    assert_int_equal(b.p_view.n_devices, 0);
    assert_int_equal(b.p_view.n_certs, 1); /* still known, for the next time */

    /* A user the registry does not know: the watch fails with a reason. */
    want = b.n_presence + 1;
    assert_int_equal(agent_reg_watch(b.r, "ghost@example.org"), 0);
    wait_for(&b.n_presence, want, "the refused watch");
    assert_int_equal(b.p_status, IRP_NOT_FOUND);
    assert_string_equal(b.p_view.user, "ghost@example.org");

    /* Unwatched: carol's next registration is not reported. */
    assert_int_equal(agent_reg_unwatch(b.r, "carol@example.org"), 0);
    assert_int_equal(agent_reg_unwatch(b.r, "carol@example.org"), SC_ERR_ARG);
    want = b.n_presence;
    memset(&c, 0, sizeof(c));
    start_ag(&c, "carol", "carol@example.org", NULL, 0);
    wait_for(&c.n_registered, 1, "carol registered again");
    {
        lk l; /* a round trip on bob's connection: any event would have come before it */
        lookup(&b, "carol@example.org", &l);
        assert_int_equal(l.status, 0);
    }
    assert_int_equal(b.n_presence, want);
    stop_ag(&c);
    stop_ag(&b);
}

static void test_nat_verdict(void **state)
{
    static const char *const claimed[] = {"127.0.0.2"};
    ag c;
    (void)state;
    memset(&c, 0, sizeof(c));

    /* carol claims 127.0.0.2 but connects from 127.0.0.1: what a NAT looks like (IRP.md 6.7). */
    start_ag(&c, "carol", "carol@example.org", claimed, 1);
    wait_for(&c.n_registered, 1, "carol registered");
    assert_int_equal(c.last.nat, 1);
    assert_string_equal(c.last.seen, "127.0.0.1");
    assert_int_equal(c.last.n_addrs, 1);
    assert_string_equal(c.last_addrs[0], "127.0.0.2");
    assert_non_null(strstr(c.nat_msg, "sees this machine as 127.0.0.1, but it registered "
                                      "127.0.0.2"));
    assert_non_null(strstr(c.nat_msg, "globally routable address"));
    assert_non_null(strstr(c.nat_msg, "forward TCP port 4605"));
    assert_non_null(agent_reg_get_status(c.r)->nat_msg);
    stop_ag(&c);
}

static void test_reconnect_after_restart(void **state)
{
    ag a, b;
    lk l;
    int want_reg, want_p;
    uint16_t port = T.port;
    (void)state;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));

    start_ag(&a, "alice", "alice@example.org", NULL, 0);
    start_ag(&b, "bob", "bob@example.org", NULL, 0);
    assert_int_equal(agent_reg_watch(b.r, "alice@example.org"), 0);
    wait_for(&a.n_registered, 1, "alice registered");
    wait_for(&b.n_registered, 1, "bob registered");
    wait_for(&b.n_presence, 1, "bob sees alice");

    /* The registry goes away: both notice and retry. */
    assert_int_equal(reg_irpd_stop(&T), 0);
    wait_for(&a.n_retrying, 1, "alice retrying");
    wait_for(&b.n_retrying, 1, "bob retrying");
    /* Meanwhile a lookup says plainly that there is no registry. */
    lookup(&b, "alice@example.org", &l);
    assert_true(l.status == AGENT_REG_NOT_CONNECTED || l.status >= 600);
    assert_non_null(strstr(l.msg, "not reachable"));

    /* It comes back on the same port: registered again, watching again. */
    want_reg = a.n_registered + 1;
    want_p = b.n_presence + 1;
    assert_int_equal(reg_irpd_start(&T, port), 0);
    wait_for(&a.n_registered, want_reg, "alice registered again");
    wait_for(&b.n_presence, want_p, "bob's watch back");
    /* The new watch is live: alice leaving reaches bob as an event. */
    want_p = b.n_presence + 1;
    stop_ag(&a);
    while (b.p_reason != IRP_CHANGE_UNREGISTER)
        wait_for(&b.n_presence, want_p++, "alice's unregister event");
    assert_int_equal(b.p_view.n_devices, 0);
    stop_ag(&b);
}

static void test_stop_without_registry(void **state)
{
    ag a;
    agent_reg_opts o;
    char err[256];
    char *cert = pem_of("alice", "pem"), *key = pem_of("alice", "key");
    lk l1, l2;
    (void)state;
    memset(&a, 0, sizeof(a));
    memset(&o, 0, sizeof(o));

    /* Port 1 on loopback: nobody listens; the agent retries until stopped. */
    o.host = "127.0.0.1";
    o.port = 1;
    o.ca_fp = T.ca_fp;
    o.cert_pem = cert;
    o.key_pem = key;
    o.user = "alice@example.org";
    o.device = "d1";
    o.listen_port = 4605;
    o.allow_local = 1;
    o.no_netmon = 1;
    o.backoff_min_ms = 20;
    o.backoff_max_ms = 40;
    o.on_status = on_status;
    o.on_presence = on_presence;
    o.ctx = &a;
    assert_int_equal(agent_reg_new(&L, &o, &a.r, err, sizeof(err)), 0);
    assert_int_equal(agent_reg_start(a.r), 0);
    assert_int_equal(agent_reg_start(a.r), SC_ERR_STATE);
    wait_for(&a.n_retrying, 3, "three attempts");
    assert_int_equal(a.last.error, IRP_CLIENT_CONNECT);
    assert_non_null(strstr(a.last.msg, "trying again"));
    /* Lookups between attempts: answered (later, in order) with "not reachable". */
    memset(&l1, 0, sizeof(l1));
    memset(&l2, 0, sizeof(l2));
    assert_int_equal(agent_reg_lookup(a.r, "bob@example.org", on_lk, &l1), 0);
    assert_int_equal(agent_reg_lookup(a.r, "carol@example.org", on_lk, &l2), 0);
    assert_int_equal(l1.done + l2.done, 0);
    wait_for(&l2.done, 1, "the second lookup's answer");
    assert_int_equal(l1.done, 1);
    assert_true(l1.status == AGENT_REG_NOT_CONNECTED || l1.status == IRP_CLIENT_CONNECT);
    assert_non_null(strstr(l1.msg, "not reachable"));
    assert_non_null(strstr(l1.msg, "bob@example.org"));
    assert_non_null(strstr(l2.msg, "carol@example.org"));
    assert_false(l1.has_view);
    /* One still outstanding when it stops is answered, not lost. */
    memset(&l1, 0, sizeof(l1));
    assert_int_equal(agent_reg_lookup(a.r, "bob@example.org", on_lk, &l1), 0);
    agent_reg_stop(a.r, NULL, NULL);
    wait_for(&a.stopped, 1, "stopped");
    assert_int_equal(l1.done, 1);
    assert_int_not_equal(l1.status, 0);
    free(cert);
    free(key);

    /* Bad options are refused at once. */
    o.user = "nobody";
    assert_int_equal(agent_reg_new(&L, &o, &a.r, err, sizeof(err)), SC_ERR_ARG);
    o.user = "alice@example.org";
    o.cert_pem = "not a pem";
    o.key_pem = "nor this";
    assert_int_not_equal(agent_reg_new(&L, &o, &a.r, err, sizeof(err)), 0);
}

/* ---- the checks of a lookup answer (IRP.md 7.4), with the registry's real key ------------------
 */

static void test_check_lookup(void **state)
{
    char p[400], msg[400];
    FILE *f;
    EVP_PKEY *key;
    X509 *cert;
    irp_resp r;
    irp_binding *b;
    sc_buf store;
    agent_peer_view v;
    uint64_t now = agent__reg_now();
    (void)state;

    snprintf(p, sizeof(p), "%s/server.key", T.rdir);
    f = fopen(p, "r");
    assert_non_null(f);
    key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    snprintf(p, sizeof(p), "%s/server.pem", T.rdir);
    f = fopen(p, "r");
    assert_non_null(f);
    cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(key);
    assert_non_null(cert);

    irp_resp_init(&r);
    r.status = 200;
    r.msg = "ok";
    r.user = "bob@example.org";
    r.at = now;
    r.n_bindings = 1;
    b = &r.bindings[0];
    b->device = "laptop";
    b->n_addrs = 1;
    assert_int_equal(irp_addr_parse("2001:db8::7", 11, &b->addrs[0]), 0);
    b->port = 4605;
    b->expires = now + 600;
    b->updated = now;
    b->seq = 5;
    sc_buf_init(&store, 4096);
    assert_int_equal(irp_lookup_sign(&r, key, cert, &store), 0);
    assert_int_equal(
        agent__reg_check_lookup(&r, cert, "bob@example.org", now, &v, msg, sizeof(msg)), 0);
    assert_int_equal(v.n_devices, 1);
    assert_true(view_has(&v.devices[0], "2001:db8::7", 4605));
    /* Asked for someone else. */
    assert_int_equal(
        agent__reg_check_lookup(&r, cert, "eve@example.org", now, &v, msg, sizeof(msg)),
        AGENT_REG_BAD_SIG);
    /* Too old (a replay). */
    assert_int_equal(
        agent__reg_check_lookup(&r, cert, "bob@example.org", now + 61, &v, msg, sizeof(msg)),
        AGENT_REG_BAD_SIG);
    assert_non_null(strstr(msg, "old"));
    /* A changed port: the signature no longer covers it. */
    b->port = 4606;
    assert_int_equal(
        agent__reg_check_lookup(&r, cert, "bob@example.org", now, &v, msg, sizeof(msg)),
        AGENT_REG_BAD_SIG);
    b->port = 4605;
    /* No signature. */
    r.has_sig = 0;
    assert_int_equal(
        agent__reg_check_lookup(&r, cert, "bob@example.org", now, &v, msg, sizeof(msg)),
        AGENT_REG_BAD_SIG);
    sc_buf_dispose(&store);
    EVP_PKEY_free(key);
    X509_free(cert);
}

/*
 * An address appears on the machine: the agent registers it without being
 * told (netlink), and drops it when it goes. Adding an address needs
 * CAP_NET_ADMIN; without it the test is skipped. A unique-local address on
 * lo, /128, touches nothing else.
 */
#define EXTRA "fd00:5c:a9e::77"
static void del_extra(void)
{
    if (system("ip -6 addr del " EXTRA "/128 dev lo 2>/dev/null") != 0) {
        /* not there: fine */
    }
}

static void test_address_change(void **state)
{
    ag a;
    agent_reg_opts o;
    char err[256];
    char *cert = pem_of("alice", "pem"), *key = pem_of("alice", "key");
    int want;
    (void)state;
    memset(&a, 0, sizeof(a));

    del_extra();
    memset(&o, 0, sizeof(o));
    o.host = "127.0.0.1";
    o.port = T.port;
    o.ca_fp = T.ca_fp;
    o.cert_pem = cert;
    o.key_pem = key;
    o.user = "alice@example.org";
    o.device = "netmon";
    o.listen_port = 4605;
    o.allow_local = 1;
    o.on_status = on_status;
    o.ctx = &a;
    assert_int_equal(agent_reg_new(&L, &o, &a.r, err, sizeof(err)), 0);
    free(cert);
    free(key);
    assert_int_equal(agent_reg_start(a.r), 0);
    wait_for(&a.n_registered, 1, "registered");
    assert_false(has_addr(&a, EXTRA));
    if (system("ip -6 addr add " EXTRA "/128 dev lo 2>/dev/null") != 0) {
        stop_ag(&a);
        skip();
    }
    want = a.n_registered + 1;
    wait_for(&a.n_registered, want, "registered again after the address appeared");
    while (!has_addr(&a, EXTRA)) /* a burst may come as two registrations */
        wait_for(&a.n_registered, ++want, "the new address registered");
    assert_int_equal(system("ip -6 addr del " EXTRA "/128 dev lo"), 0);
    while (has_addr(&a, EXTRA))
        wait_for(&a.n_registered, ++want, "the address gone from the registration");
    stop_ag(&a);
}

/* Whatever happened, the extra address goes (a failed assertion leaves the test early). */
static int address_teardown(void **state)
{
    del_extra();
    return loop_teardown(state);
}

/*
 * A watched user's certificate is revoked (IRP.md 6.12): the registry ends
 * their bindings with reason revoke, and the view the watcher gets must
 * drop the revoked certificate, not keep the last known list (failed
 * before agent_reg_watch.c looked the user up on a revoke event). The
 * revoked agent is cut off and says why it cannot get back.
 */
static void test_revoked_watched_user(void **state)
{
    ag b, e;
    agent_irp_target t;
    irp_req q;
    char err[256], *cert, *key;
    uint8_t fp[32];
    int want;
    (void)state;
    memset(&b, 0, sizeof(b));
    memset(&e, 0, sizeof(e));

    assert_int_equal(reg_irpd_enroll(&T, "erin", "erin@example.org"), 0);
    start_ag(&e, "erin", "erin@example.org", NULL, 0);
    start_ag(&b, "bob", "bob@example.org", NULL, 0);
    wait_for(&e.n_registered, 1, "erin registered");
    assert_int_equal(agent_reg_watch(b.r, "erin@example.org"), 0);
    wait_for(&b.n_presence, 1, "bob sees erin");
    assert_int_equal(b.p_view.n_devices, 1);
    assert_int_equal(b.p_view.n_certs, 1);

    /* erin revokes her certificate herself (a lost laptop). */
    cert_fp("erin", fp);
    cert = pem_of("erin", "pem");
    key = pem_of("erin", "key");
    memset(&t, 0, sizeof(t));
    t.host = "127.0.0.1";
    t.port = T.port;
    t.ca_fp = T.ca_fp;
    irp_req_init(&q);
    q.op = IRP_OP_REVOKE;
    q.has_fp = 1;
    memcpy(q.fp, fp, 32);
    q.reason = IRP_REASON_KEY_COMPROMISE;
    want = b.n_presence + 1;
    assert_int_equal(agent__enroll_exchange(&t, cert, key, &q, 1, NULL, NULL, err, sizeof(err)), 0);
    free(cert);
    free(key);
    wait_for(&b.n_presence, want, "the revoke event");
    assert_int_equal(b.p_status, 0);
    assert_int_equal(b.p_reason, IRP_CHANGE_REVOKE);
    assert_int_equal(b.p_view.n_devices, 0);
    assert_int_equal(b.p_view.n_certs, 0); /* the revoked certificate is gone from the view */

    /* erin's agent lost its connection and cannot make a new one: the TLS handshake fails. */
    while (!(e.last.state == AGENT_REG_RETRYING && e.last.error == IRP_CLIENT_TLS))
        wait_for(&e.n_retrying, e.n_retrying + 1, "erin refused by TLS");
    stop_ag(&e);
    stop_ag(&b);
}

int main(void)
{
    /* As the agent does (agent.c): a peer that vanished is EPIPE on its socket, not a signal
     * that ends the whole test program (it did once, under load, in test_ping_keepalive). */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_register_and_lookup, loop_setup, loop_teardown),
        cmocka_unit_test_setup_teardown(test_watch, loop_setup, loop_teardown),
        cmocka_unit_test_setup_teardown(test_nat_verdict, loop_setup, loop_teardown),
        cmocka_unit_test_setup_teardown(test_stop_without_registry, loop_setup, loop_teardown),
        cmocka_unit_test(test_check_lookup),
        cmocka_unit_test_setup_teardown(test_revoked_watched_user, loop_setup, loop_teardown),
        cmocka_unit_test_setup_teardown(test_address_change, loop_setup, address_teardown),
        cmocka_unit_test_setup_teardown(test_reconnect_after_restart, loop_setup, loop_teardown),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
