/*
 * test_agent_peer.c - the peer layer (src/agent/agent_peer.h) over real TCP
 * on loopback, managers in one process on one libuv loop: listening, dialling
 * (Happy Eyeballs fallback), stanzas and file bytes both ways, the
 * simultaneous dial that must end in one session, pings, idle close, the
 * block list changed at runtime. Hostile peers: test_agent_peer_hostile.c.
 */
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent_peer.h"
#include "agent_peer_addr.h"
#include "agent_peer_testlib.h"
#include "sixchat/platform.h"

static t_party A, B;

static int both_up(void *arg)
{
    (void)arg;
    return A.ups > 0 && B.ups > 0;
}

static int two_dials(void *arg)
{
    (void)arg;
    return A.dials > 1;
}

static int a_dials(void *arg)
{
    return A.dials >= *(int *)arg;
}

/* A dials B's view and both report the session up. */
static void connect_ab(void)
{
    agent_peer_view v;
    t_view(&B, "b1", &v);
    assert_int_equal(agent_peer_dial(A.p, &v, NULL), SC_OK);
    t_run_until(both_up, NULL);
    t_run_until(t_cond_dialled, &A);
    assert_int_equal(A.dial_err[0], SC_OK);
}

static void stop_ab(void)
{
    t_party_stop(&A);
    t_party_stop(&B);
    t_drain();
    assert_int_equal(A.freed, 1); /* told once, after the last handle closed */
    assert_int_equal(B.freed, 1);
}

/* ---- options ---------------------------------------------------------------------- */

static void test_addr_text(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    char s[AGENT_PEER_ADDR_STRLEN];
    assert_int_equal(agent_peer_addr_parse("[::]:4605", &ss), SC_OK);
    agent_peer_addr_str((struct sockaddr *)&ss, s);
    assert_string_equal(s, "[::]:4605");
    assert_int_equal(agent_peer_addr_parse("192.0.2.1:0", &ss), SC_OK);
    agent_peer_addr_str((struct sockaddr *)&ss, s);
    assert_string_equal(s, "192.0.2.1:0");
    assert_int_equal(agent_peer_addr_parse("[::1]", &ss), SC_ERR_ARG);
    assert_int_equal(agent_peer_addr_parse("::1:80", &ss), SC_ERR_ARG);
    assert_int_equal(agent_peer_addr_parse("1.2.3.4:65536", &ss), SC_ERR_ARG);
    assert_int_equal(agent_peer_addr_parse("1.2.3.4:", &ss), SC_ERR_ARG);
    assert_int_equal(agent_peer_addr_parse("[fe80::1]:x", &ss), SC_ERR_ARG);
}

static sc_config *no_config(void *ctx)
{
    (void)ctx;
    return NULL;
}

/* Bad options are refused with a line saying what; a port taken is an I/O error. */
static void test_bad_options(void **state)
{
    (void)state;
    agent_peer *p = NULL;
    char err[256], taken[AGENT_PEER_ADDR_STRLEN];
    struct sockaddr_storage ss;
    const char *const bad[] = {"localhost:4605"};
    t_party_start(&A, "alice@example.org", "a1", 0, NULL);
    assert_int_equal(agent_peer_listen_addr(A.p, 0, &ss), SC_OK);
    agent_peer_addr_str((struct sockaddr *)&ss, taken);
    const char *const busy[] = {"127.0.0.1:0", taken};
    agent_peer_opts o = {.loop = &t_loop,
                         .make_config = no_config,
                         .device_id = "laptop",
                         .listen = bad,
                         .n_listen = 1};
    assert_int_equal(agent_peer_new(&o, &p, err, sizeof err), SC_ERR_CONFIG);
    o.make_config = t_make_config;
    o.config_ctx = &A;
    o.device_id = "bad device";
    assert_int_equal(agent_peer_new(&o, &p, err, sizeof err), SC_ERR_ARG);
    o.device_id = "laptop";
    assert_int_equal(agent_peer_new(&o, &p, err, sizeof err), SC_ERR_ARG);
    assert_non_null(strstr(err, "localhost:4605"));
    o.listen = busy;
    o.n_listen = 2;
    assert_int_equal(agent_peer_new(&o, &p, err, sizeof err), SC_ERR_IO);
    assert_non_null(strstr(err, taken));
    assert_null(p);
    t_party_stop(&A);
    t_drain();
}

/* Listening on ephemeral ports reports the real ports, on IPv4 and IPv6. */
static void test_listen_addresses(void **state)
{
    (void)state;
    t_party_start(&A, "alice@example.org", "a1", 0, NULL);
    struct sockaddr_storage ss;
    assert_int_equal(agent_peer_listen_addr(A.p, 0, &ss), SC_OK);
    assert_int_equal(ss.ss_family, AF_INET);
    assert_int_not_equal(((struct sockaddr_in *)&ss)->sin_port, 0);
    assert_int_equal(agent_peer_listen_addr(A.p, 1, &ss), SC_ERR_ARG);
    t_party_stop(&A);
    t_drain();
}

/* ---- sessions ------------------------------------------------------------------------- */

static int b_has_2(void *arg)
{
    (void)arg;
    return B.stanzas >= 2;
}
static int a_has_1(void *arg)
{
    (void)arg;
    return A.stanzas >= 1;
}

/* Dial, handshake, the right identities on both sides, stanzas both ways, status. */
static void test_dial_and_talk(void **state)
{
    (void)state;
    agent_peer_status st[4];
    agent_peer_counts n;
    t_party_start(&A, "alice@example.org", "a1", 0, NULL);
    t_party_start(&B, "bob@example.org", "b1", 0, NULL);
    connect_ab();
    assert_string_equal(A.up_user, "bob@example.org");
    assert_string_equal(B.up_user, "alice@example.org");
    assert_memory_equal(A.up_fp, B.fp, 32);
    assert_memory_equal(B.up_fp, A.fp, 32);
    assert_int_equal(A.up_initiator, 1);
    assert_int_equal(B.up_initiator, 0);
    assert_int_equal(t_send_msg(&A, "bob@example.org", "m1", "hello bob"), 1);
    assert_int_equal(t_send_msg(&A, "BOB@example.org", "m2", "again"), 1); /* IDs ignore case */
    t_run_until(b_has_2, NULL);
    assert_string_equal(B.stanza_id[0], "m1");
    assert_string_equal(B.stanza_text[0], "hello bob");
    assert_string_equal(B.stanza_text[1], "again");
    assert_int_equal(t_send_msg(&B, "alice@example.org", "r1", "hi alice"), 1);
    t_run_until(a_has_1, NULL);
    assert_string_equal(A.stanza_text[0], "hi alice");
    /* Nobody else has a session. */
    assert_int_equal(t_send_msg(&A, "carol@example.org", "x", "x"), SC_ERR_STATE);
    assert_int_equal(agent_peer_list(A.p, st, 4), 1);
    assert_string_equal(st[0].user, "bob@example.org");
    assert_string_equal(st[0].device, "b1");
    assert_int_equal(st[0].stanzas_out, 3); /* with the confirmation ping */
    assert_int_equal(st[0].stanzas_in, 2);  /* with its pong */
    agent_peer_get_counts(B.p, &n);
    assert_int_equal(n.up, 1);
    assert_int_equal(n.connections, 1);
    assert_int_equal(A.downs + B.downs, 0);
    assert_int_equal(A.logs + B.logs, 0);
    stop_ab();
}

static int a_down_b_down(void *arg)
{
    (void)arg;
    return A.downs > 0 && B.downs > 0;
}

/* Closing a user's sessions closes in order: the peer hears close_notify. */
static void test_close_user(void **state)
{
    (void)state;
    t_party_start(&A, "alice@example.org", "a1", 0, NULL);
    t_party_start(&B, "bob@example.org", "b1", 0, NULL);
    connect_ab();
    assert_int_equal(agent_peer_close_user(A.p, "bob@example.org", NULL), 1);
    t_run_until(a_down_b_down, NULL);
    assert_int_equal(A.down_why[0], AGENT_PEER_DOWN_LOCAL);
    assert_int_equal(B.down_why[0], AGENT_PEER_DOWN_CLOSED);
    assert_int_equal(t_send_msg(&A, "bob@example.org", "m", "x"), SC_ERR_STATE);
    assert_int_equal(A.logs + B.logs, 0);
    stop_ab();
}

/* A port nobody listens on: bound, then closed. */
static void closed_port(int family, struct sockaddr_storage *out)
{
    uv_tcp_t t;
    int len = (int)sizeof *out;
    char text[32];
    snprintf(text, sizeof text, family == AF_INET6 ? "[::1]:0" : "127.0.0.1:0");
    assert_int_equal(agent_peer_addr_parse(text, out), SC_OK);
    assert_int_equal(uv_tcp_init(&t_loop, &t), 0);
    assert_int_equal(uv_tcp_bind(&t, (struct sockaddr *)out, 0), 0);
    assert_int_equal(uv_tcp_getsockname(&t, (struct sockaddr *)out, &len), 0);
    uv_close((uv_handle_t *)&t, NULL);
    (void)uv_run(&t_loop, UV_RUN_NOWAIT); /* runs the close callback; other handles live on */
}

/*
 * RFC 8305: the IPv6 address goes first; when it refuses, the IPv4 one is
 * tried at once and wins. When every address fails, the result names each.
 */
static void test_happy_eyeballs_fallback(void **state)
{
    (void)state;
    agent_peer_view v;
    struct sockaddr_storage dead6, dead4;
    t_party_start(&A, "alice@example.org", "a1", 0, NULL);
    t_party_start(&B, "bob@example.org", "b1", 0, NULL);
    closed_port(AF_INET6, &dead6);
    closed_port(AF_INET, &dead4);
    t_view(&B, "b1", &v);
    v.devices[0].addrs[1] = dead6; /* listed after the good IPv4 address, tried before it */
    v.devices[0].n_addrs = 2;
    assert_int_equal(agent_peer_dial(A.p, &v, NULL), SC_OK);
    t_run_until(t_cond_dialled, &A);
    assert_int_equal(A.dial_err[0], SC_OK);
    t_run_until(both_up, NULL);
    /* Every address dead: one line naming both. */
    v.devices[0].addrs[0] = dead4;
    snprintf(v.devices[0].id, sizeof v.devices[0].id, "b2");
    assert_int_equal(agent_peer_dial(A.p, &v, NULL), SC_OK);
    t_run_until(two_dials, NULL);
    assert_int_equal(A.dials, 2);
    assert_int_not_equal(A.dial_err[1], SC_OK);
    char a6[AGENT_PEER_ADDR_STRLEN], a4[AGENT_PEER_ADDR_STRLEN];
    agent_peer_addr_str((struct sockaddr *)&dead6, a6);
    agent_peer_addr_str((struct sockaddr *)&dead4, a4);
    const char *p6 = strstr(A.dial_why[1], a6), *p4 = strstr(A.dial_why[1], a4);
    assert_non_null(p6);
    assert_non_null(p4);
    assert_true(p6 < p4); /* IPv6 first */
    assert_non_null(strstr(A.dial_why[1], "refused"));
    /* A device without addresses fails too, from the loop, never inside agent_peer_dial. */
    v.devices[0].n_addrs = 0;
    snprintf(v.devices[0].id, sizeof v.devices[0].id, "b3");
    assert_int_equal(agent_peer_dial(A.p, &v, NULL), SC_OK);
    assert_int_equal(A.dials, 2);
    int three = 3;
    t_run_until(a_dials, &three);
    assert_int_not_equal(A.dial_err[2], SC_OK);
    assert_non_null(strstr(A.dial_why[2], "no address"));
    stop_ab();
}

/* A second dial of a device that is up dials nothing and reports success. */
static void test_dial_when_up(void **state)
{
    (void)state;
    agent_peer_view v;
    agent_peer_counts n;
    t_party_start(&A, "alice@example.org", "a1", 0, NULL);
    t_party_start(&B, "bob@example.org", "b1", 0, NULL);
    connect_ab();
    t_view(&B, "b1", &v);
    assert_int_equal(agent_peer_dial(A.p, &v, NULL), SC_OK);
    t_run_until(two_dials, NULL);
    assert_int_equal(A.dial_err[1], SC_OK);
    agent_peer_get_counts(A.p, &n);
    assert_int_equal(n.connections, 1);
    assert_int_equal(A.ups, 1);
    stop_ab();
}

static int settled(void *arg)
{
    agent_peer_counts a, b;
    (void)arg;
    agent_peer_get_counts(A.p, &a);
    agent_peer_get_counts(B.p, &b);
    return A.dials > 0 && B.dials > 0 && a.connections == 1 && b.connections == 1 && a.up == 1 &&
           b.up == 1;
}

static int both_got(void *arg)
{
    int n = *(int *)arg;
    return A.stanzas >= n && B.stanzas >= n;
}

/*
 * Both dial at the same moment: each ends with exactly one session, the
 * same one (dialled by alice, whose ID sorts lower), and it carries stanzas.
 */
static void test_simultaneous_dial(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++) {
        agent_peer_view va, vb;
        agent_peer_status sa, sb;
        int one = 1;
        t_party_start(&A, "alice@example.org", "a1", 0, NULL);
        t_party_start(&B, "bob@example.org", "b1", 0, NULL);
        t_view(&B, "b1", &vb);
        t_view(&A, "a1", &va);
        assert_int_equal(agent_peer_dial(A.p, &vb, NULL), SC_OK);
        assert_int_equal(agent_peer_dial(B.p, &va, NULL), SC_OK);
        t_run_until(settled, NULL);
        assert_int_equal(A.dial_err[0], SC_OK);
        assert_int_equal(B.dial_err[0], SC_OK);
        assert_int_equal(agent_peer_list(A.p, &sa, 1), 1);
        assert_int_equal(agent_peer_list(B.p, &sb, 1), 1);
        assert_int_equal(sa.initiator, 1); /* alice's dial won on both sides */
        assert_int_equal(sb.initiator, 0);
        assert_int_equal(t_send_msg(&A, "bob@example.org", "a", "from alice"), 1);
        assert_int_equal(t_send_msg(&B, "alice@example.org", "b", "from bob"), 1);
        t_run_until(both_got, &one);
        assert_string_equal(A.stanza_text[0], "from bob");
        assert_string_equal(B.stanza_text[0], "from alice");
        assert_int_equal(A.logs + B.logs, 0);
        stop_ab();
    }
}

static int b_idle_closed(void *arg)
{
    (void)arg;
    return A.downs > 0 && B.downs > 0;
}

/* No stanza either way for idle_ms: the session closes in order. */
static void test_idle_close(void **state)
{
    (void)state;
    agent_peer_limits lim = {.idle_ms = 150};
    t_party_start(&A, "alice@example.org", "a1", 0, NULL);
    t_party_start(&B, "bob@example.org", "b1", 0, &lim);
    connect_ab();
    t_run_until(b_idle_closed, NULL);
    assert_int_equal(B.down_why[0], AGENT_PEER_DOWN_IDLE);
    assert_int_equal(A.down_why[0], AGENT_PEER_DOWN_CLOSED);
    assert_int_equal(A.logs + B.logs, 0);
    stop_ab();
}

static int three_pongs(void *arg)
{
    agent_peer_status s;
    (void)arg;
    return agent_peer_list(A.p, &s, 1) == 1 && s.stanzas_out >= 3 && s.stanzas_in >= 3;
}

/* Silence makes A ping; B's core answers; the session stays up and the owner sees none of it. */
static void test_ping_keepalive(void **state)
{
    (void)state;
    agent_peer_limits lim = {.ping_ms = 50};
    t_party_start(&A, "alice@example.org", "a1", 0, &lim);
    t_party_start(&B, "bob@example.org", "b1", 0, NULL);
    connect_ab();
    t_run_until(three_pongs, NULL);
    assert_int_equal(A.stanzas + B.stanzas, 0);
    assert_int_equal(A.downs + B.downs, 0);
    stop_ab();
}

/* Blocking at runtime ends the live session and refuses the next handshake; unblocking admits. */
static void test_block_at_runtime(void **state)
{
    (void)state;
    agent_peer_view v;
    const char *const alice[] = {"Alice@example.org"};
    t_party_start(&A, "alice@example.org", "a1", 0, NULL);
    t_party_start(&B, "bob@example.org", "b1", 0, NULL);
    connect_ab();
    assert_int_equal(agent_peer_set_blocked(B.p, alice, 1), SC_OK);
    t_run_until(a_down_b_down, NULL);
    assert_int_equal(B.down_why[0], AGENT_PEER_DOWN_LOCAL);
    t_view(&B, "b1", &v);
    assert_int_equal(agent_peer_dial(A.p, &v, NULL), SC_OK);
    t_run_until(two_dials, NULL);
    assert_int_not_equal(A.dial_err[1], SC_OK);
    assert_int_equal(B.ups, 1);
    assert_true(t_logged(&B, "blocked")); /* the refusal, one line */
    assert_non_null(strstr(A.dial_why[1], "blocked"));
    assert_int_equal(A.ups, 1); /* never up: the refusal came before the confirmation */
    assert_int_equal(agent_peer_set_blocked(B.p, NULL, 0), SC_OK);
    assert_int_equal(agent_peer_dial(A.p, &v, NULL), SC_OK);
    int three = 3;
    t_run_until(a_dials, &three);
    assert_int_equal(A.dial_err[2], SC_OK);
    assert_int_equal(A.ups, 2);
    stop_ab();
}

static int b_has_file(void *arg)
{
    return B.file_len >= *(size_t *)arg;
}

/* File bytes, raw, in order; the sender waits for `drained` when the output is full. */
static void test_file_bytes(void **state)
{
    (void)state;
    size_t total = 3u << 20, off = 0, chunk = 60000;
    uint8_t *data = malloc(total);
    agent_peer_limits lim = {.max_output = 256 * 1024};
    assert_non_null(data);
    for (size_t i = 0; i < total; i++)
        data[i] = (uint8_t)(i * 7 + (i >> 11));
    t_party_start(&A, "alice@example.org", "a1", 0, &lim);
    t_party_start(&B, "bob@example.org", "b1", 0, NULL);
    connect_ab();
    while (off < total) {
        size_t n = total - off < chunk ? total - off : chunk;
        int ret = agent_peer_send_file(A.p, "bob@example.org", "b1", "f1", off, data + off, n);
        if (ret == SC_ERR_TOO_LARGE) {
            int drains = A.drains;
            while (A.drains == drains)
                (void)uv_run(&t_loop, UV_RUN_ONCE);
            continue;
        }
        assert_int_equal(ret, SC_OK);
        off += n;
    }
    t_run_until(b_has_file, &total);
    assert_int_equal(B.file_len, total);
    assert_memory_equal(B.file, data, total);
    assert_int_equal(A.downs + B.downs, 0);
    free(data);
    stop_ab();
}

static t_party B2;

static int a_up_twice(void *arg)
{
    (void)arg;
    return A.ups >= 2 && A.dials >= 2 && B.ups >= 1 && B2.ups >= 1;
}

static int b2_has(void *arg)
{
    return B2.stanzas >= *(int *)arg;
}

static int both_bobs_got(void *arg)
{
    (void)arg;
    return B.stanzas >= 1 && B2.stanzas >= 1;
}

/*
 * Bob on two machines with the same certificate (the key restored): one
 * session per device, told apart by the device stanza; a message to the
 * user reaches both, a message to one device only that one. The device a
 * session is known by is the one the peer announced.
 */
static void test_two_devices_same_certificate(void **state)
{
    (void)state;
    agent_peer_view v, v2;
    agent_peer_status st[4];
    sc_stanza m = {.type = SC_STANZA_MSG, .id = "one", .text = "only b2", .text_len = 7};
    t_party_start(&A, "alice@example.org", "a1", 0, NULL);
    t_party_start(&B, "bob@example.org", "b1", 0, NULL);
    t_party_start_same_key(&B2, &B, "b2");
    t_view(&B, "b1", &v);
    t_view(&B2, "b2", &v2);
    v.devices[1] = v2.devices[0];
    v.n_devices = 2;
    assert_int_equal(agent_peer_dial(A.p, &v, NULL), SC_OK);
    t_run_until(a_up_twice, NULL);
    assert_int_equal(A.dial_err[0], SC_OK);
    assert_int_equal(A.dial_err[1], SC_OK);
    assert_int_equal(agent_peer_list(A.p, st, 4), 2);
    assert_memory_equal(st[0].cert_fp, st[1].cert_fp, 32);
    assert_string_not_equal(st[0].device, st[1].device);
    assert_int_equal(t_send_msg(&A, "bob@example.org", "all", "to every device"), 2);
    t_run_until(both_bobs_got, NULL);
    assert_string_equal(B.stanza_text[0], "to every device");
    assert_string_equal(B2.stanza_text[0], "to every device");
    assert_int_equal(agent_peer_send(A.p, "bob@example.org", "b2", &m), 1);
    assert_int_equal(agent_peer_send(A.p, "bob@example.org", "b3", &m), SC_ERR_STATE);
    int two = 2;
    t_run_until(b2_has, &two);
    assert_string_equal(B2.stanza_text[1], "only b2");
    assert_int_equal(B.stanzas, 1);
    t_party_stop(&B2);
    stop_ab();
}

/* The registry's device id is only where to dial; the session is known by the one announced. */
static void test_announced_device(void **state)
{
    (void)state;
    agent_peer_view v;
    t_party_start(&A, "alice@example.org", "a1", 0, NULL);
    t_party_start(&B, "bob@example.org", "b1", 0, NULL);
    t_view(&B, "stale-id", &v);
    assert_int_equal(agent_peer_dial(A.p, &v, NULL), SC_OK);
    t_run_until(both_up, NULL);
    t_run_until(t_cond_dialled, &A);
    assert_int_equal(A.dial_err[0], SC_OK);
    assert_string_equal(A.up_device, "b1");
    assert_string_equal(B.up_device, "a1");
    stop_ab();
}

int main(void)
{
    /* As the agent does (agent.c): a peer that vanished is EPIPE on its socket, not a signal
     * that ends the whole test program (it did once, under load, in test_ping_keepalive). */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_text),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_listen_addresses),
        cmocka_unit_test(test_dial_and_talk),
        cmocka_unit_test(test_close_user),
        cmocka_unit_test(test_happy_eyeballs_fallback),
        cmocka_unit_test(test_dial_when_up),
        cmocka_unit_test(test_simultaneous_dial),
        cmocka_unit_test(test_idle_close),
        cmocka_unit_test(test_ping_keepalive),
        cmocka_unit_test(test_block_at_runtime),
        cmocka_unit_test(test_file_bytes),
        cmocka_unit_test(test_two_devices_same_certificate),
        cmocka_unit_test(test_announced_device),
    };
    return cmocka_run_group_tests(tests, t_setup, t_teardown);
}
