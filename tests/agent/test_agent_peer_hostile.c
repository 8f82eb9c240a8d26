/*
 * test_agent_peer_hostile.c - bad input from a peer ends only that
 * connection (issue 8, "It must show" 3): garbage, an oversized frame, a
 * certificate from an unknown CA, a certificate the registry did not
 * publish or that differs from the pin; and the limits: connection attempts
 * per source, the incoming stanza rate, a peer that does not read. Each
 * time the established session between alice and bob keeps working.
 */
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent_peer.h"
#include "agent_peer_testlib.h"
#include "sixchat/platform.h"

static t_party A, B, C;

static int both_up(void *arg)
{
    (void)arg;
    return A.ups > 0 && B.ups > 0;
}

static void connect_ab(const agent_peer_limits *blim)
{
    agent_peer_view v;
    t_party_start(&A, "alice@example.org", "a1", 0, NULL);
    t_party_start(&B, "bob@example.org", "b1", 0, blim);
    t_view(&B, "b1", &v);
    assert_int_equal(agent_peer_dial(A.p, &v, NULL), SC_OK);
    t_run_until(both_up, NULL);
}

static int b_stanzas(void *arg)
{
    return B.stanzas >= *(int *)arg;
}
static int a_stanzas(void *arg)
{
    return A.stanzas >= *(int *)arg;
}

/* The alice-bob session is the one it was and carries stanzas both ways. */
static void ab_still_work(void)
{
    int nb = B.stanzas + 1, na = A.stanzas + 1;
    assert_int_equal(A.ups, 1);
    assert_int_equal(A.downs, 0);
    for (int i = 0; i < B.downs; i++) /* bob may have seen others come and go, not alice */
        assert_string_not_equal(B.down_user[i], "alice@example.org");
    assert_int_equal(t_send_msg(&A, "bob@example.org", "still-a", "still here"), 1);
    assert_int_equal(t_send_msg(&B, "alice@example.org", "still-b", "me too"), 1);
    t_run_until(b_stanzas, &nb);
    t_run_until(a_stanzas, &na);
}

static int b_logs(void *arg)
{
    return B.logs >= *(int *)arg;
}

/* Writes raw bytes to B and waits for B's one log line about it. */
static void raw_to_b(const void *data, size_t len, const char *expect)
{
    int fd = t_raw_connect(&B), want = B.logs + 1;
    assert_int_equal(send(fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
    t_run_until(b_logs, &want);
    assert_int_equal(B.logs, want);
    assert_non_null(strstr(B.log[want - 1], expect));
    assert_non_null(strstr(B.log[want - 1], "127.0.0.1:"));
    close(fd);
}

static void test_garbage_and_oversized(void **state)
{
    (void)state;
    static const char garbage[] = "GET / HTTP/1.1\r\nHost: bob\r\n\r\n";
    static const uint8_t oversized[] = {1, 0xff, 0xff, 0xff, 0, 0, 0, 0};
    connect_ab(NULL);
    raw_to_b(garbage, sizeof garbage - 1, sc_strerror(SC_ERR_UNEXPECTED_MESSAGE));
    raw_to_b(oversized, sizeof oversized, sc_strerror(SC_ERR_RECORD_OVERFLOW));
    ab_still_work();
    t_party_stop(&A);
    t_party_stop(&B);
    t_drain();
}

static int c_dialled(void *arg)
{
    return C.dials >= *(int *)arg;
}

/*
 * Carol's certificate comes from a CA bob does not trust: bob's core refuses
 * it, one line; carol's dial says why. Then carol (trusted) dials with a view
 * that does not list bob's certificate, then with a pin that is not bob's.
 */
static void test_untrusted_certificates(void **state)
{
    (void)state;
    agent_peer_view v;
    uint8_t pin[32];
    int one = 1, two = 2, three = 3, want;
    connect_ab(NULL);
    t_party_start(&C, "carol@example.org", "c1", 1, NULL);
    t_view(&B, "b1", &v);
    want = B.logs + 1;
    assert_int_equal(agent_peer_dial(C.p, &v, NULL), SC_OK);
    t_run_until(c_dialled, &one);
    assert_int_not_equal(C.dial_err[0], SC_OK);
    t_run_until(b_logs, &want);
    assert_non_null(strstr(B.log[want - 1], "connection ended"));
    ab_still_work();
    t_party_stop(&C);

    t_party_start(&C, "carol@example.org", "c1", 0, NULL);
    t_view(&B, "b1", &v);
    v.cert_fps[0][0] ^= 1; /* the registry published another certificate */
    assert_int_equal(agent_peer_dial(C.p, &v, NULL), SC_OK);
    t_run_until(c_dialled, &one);
    assert_int_equal(C.dial_err[0], SC_ERR_ACCESS_DENIED);
    assert_non_null(strstr(C.dial_why[0], "not one the registry published"));
    assert_int_equal(C.dial_pin_mismatch[0], 0);
    assert_true(t_logged(&C, "not one the registry published"));
    assert_int_equal(C.ups, 0);

    t_view(&B, "b1", &v);
    memset(pin, 0x5a, sizeof pin);
    agent_peer_dial_opts o = {.pin = pin};
    assert_int_equal(agent_peer_dial(C.p, &v, &o), SC_OK);
    t_run_until(c_dialled, &two);
    assert_int_equal(C.dial_pin_mismatch[1], 1);
    assert_memory_equal(C.dial_seen_fp, B.fp, 32);
    assert_int_equal(C.ups, 0);

    memcpy(pin, B.fp, 32); /* the right pin */
    assert_int_equal(agent_peer_dial(C.p, &v, &o), SC_OK);
    t_run_until(c_dialled, &three);
    assert_int_equal(C.dial_err[2], SC_OK);
    assert_int_equal(C.ups, 1);
    ab_still_work();
    t_party_stop(&A);
    t_party_stop(&B);
    t_party_stop(&C);
    t_drain();
}

static int b_refused(void *arg)
{
    agent_peer_counts n;
    agent_peer_get_counts(B.p, &n);
    return n.refused_rate >= *(uint64_t *)arg;
}

/* More connection attempts from one address than the limit: the excess is refused, one line. */
static void test_source_rate(void **state)
{
    (void)state;
    agent_peer_limits lim = {.conn_per_source = 4, .conn_window_ms = 3600000};
    int fds[6];
    uint64_t three = 3;
    connect_ab(&lim); /* attempt 1 */
    for (int i = 0; i < 6; i++)
        fds[i] = t_raw_connect(&B); /* 2, 3, 4 admitted; 5, 6, 7 refused */
    t_run_until(b_refused, &three);
    int lines = 0;
    for (int i = 0; i < B.logs; i++)
        if (strstr(B.log[i], "attempts from it")) lines++;
    assert_int_equal(lines, 1);
    for (int i = 0; i < 6; i++)
        close(fds[i]);
    ab_still_work();
    t_party_stop(&A);
    t_party_stop(&B);
    t_drain();
}

/* Over the stanza rate, bob stops reading for a while: nothing is lost, order is kept. */
static void test_stanza_rate_pauses(void **state)
{
    (void)state;
    agent_peer_limits lim = {.stanza_rate = 200, .stanza_burst = 5};
    int n = 40;
    connect_ab(&lim);
    for (int i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof id, "s%d", i);
        assert_int_equal(t_send_msg(&A, "bob@example.org", id, "flood"), 1);
    }
    t_run_until(b_stanzas, &n);
    for (int i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof id, "s%d", i);
        assert_string_equal(B.stanza_id[i], id);
    }
    ab_still_work();
    t_party_stop(&A);
    t_party_stop(&B);
    t_drain();
}

/*
 * A peer that does not read: bob reads one stanza a second (rate 1), alice
 * keeps sending large messages; her queued output passes max_output and the
 * session ends as SLOW, with one line, instead of growing without bound.
 */
static void test_slow_reader_cut_off(void **state)
{
    (void)state;
    agent_peer_limits alim = {.max_output = 64 * 1024};
    agent_peer_limits blim = {.stanza_rate = 1, .stanza_burst = 1};
    agent_peer_view v;
    static char big[15000];
    memset(big, 'x', sizeof big - 1);
    t_party_start(&A, "alice@example.org", "a1", 0, &alim);
    t_party_start(&B, "bob@example.org", "b1", 0, &blim);
    t_view(&B, "b1", &v);
    assert_int_equal(agent_peer_dial(A.p, &v, NULL), SC_OK);
    t_run_until(both_up, NULL);
    int sent = 0;
    for (int i = 0; i < 100000 && A.downs == 0; i++) {
        char id[16];
        snprintf(id, sizeof id, "b%d", i);
        if (t_send_msg(&A, "bob@example.org", id, big) == 1) sent++;
        if (i % 16 == 0) (void)uv_run(&t_loop, UV_RUN_NOWAIT);
    }
    assert_int_equal(A.downs, 1);
    assert_int_equal(A.down_why[0], AGENT_PEER_DOWN_SLOW);
    assert_true(t_logged(&A, "does not read"));
    assert_true(B.stanzas < sent);
    t_party_stop(&A);
    t_party_stop(&B);
    t_drain();
}

static int a_down(void *arg)
{
    (void)arg;
    return A.downs > 0;
}

/*
 * A peer that stops answering: bob is far over his stanza rate (one a
 * second, fifty owed), so he reads nothing for most of a minute; alice,
 * pinging after 50 ms of silence, ends the session when no pong comes.
 */
static void test_ping_unanswered(void **state)
{
    (void)state;
    agent_peer_limits alim = {.ping_ms = 50};
    agent_peer_limits blim = {.stanza_rate = 1, .stanza_burst = 1};
    agent_peer_view v;
    t_party_start(&A, "alice@example.org", "a1", 0, &alim);
    t_party_start(&B, "bob@example.org", "b1", 0, &blim);
    t_view(&B, "b1", &v);
    assert_int_equal(agent_peer_dial(A.p, &v, NULL), SC_OK);
    t_run_until(both_up, NULL);
    for (int i = 0; i < 50; i++) {
        char id[16];
        snprintf(id, sizeof id, "p%d", i);
        assert_int_equal(t_send_msg(&A, "bob@example.org", id, "hello"), 1);
    }
    t_run_until(a_down, NULL);
    assert_int_equal(A.down_why[0], AGENT_PEER_DOWN_PING);
    assert_true(t_logged(&A, "did not answer a ping"));
    t_party_stop(&A);
    t_party_stop(&B);
    t_drain();
}

int main(void)
{
    /* As the agent does (agent.c): a peer that vanished is EPIPE on its socket, not a signal
     * that ends the whole test program (it did once, under load, in test_ping_keepalive). */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_garbage_and_oversized), cmocka_unit_test(test_untrusted_certificates),
        cmocka_unit_test(test_source_rate),           cmocka_unit_test(test_stanza_rate_pauses),
        cmocka_unit_test(test_slow_reader_cut_off),   cmocka_unit_test(test_ping_unanswered),
    };
    return cmocka_run_group_tests(tests, t_setup, t_teardown);
}
