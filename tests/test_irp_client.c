/*
 * test_irp_client.c - irp_client failure paths on a libuv loop, without a
 * registry: bad options, connection refused, a server that never speaks
 * (connect timeout), a server that hangs up (TLS failure), close while
 * connecting. The full protocol is exercised against a real irpd by
 * tests/irp/irp_cli.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <uv.h>

#include "irp_client.h"
#include "sixchat/error.h"

#define PIN "5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592"

typedef struct result {
    int connect_status;
    int connect_calls;
    int resp_status;
    int resp_calls;
    char msg[512];
} result;

static void on_connect(void *ctx, int status, const char *msg)
{
    result *r = ctx;
    r->connect_status = status;
    r->connect_calls++;
    snprintf(r->msg, sizeof(r->msg), "%s", msg);
}

static void on_resp(void *ctx, const irp_resp *resp)
{
    result *r = ctx;
    r->resp_status = resp->status;
    r->resp_calls++;
    assert_non_null(resp->msg);
}

/* A TCP listener on 127.0.0.1 that accepts and then either holds or drops. */
typedef struct listener {
    uv_tcp_t srv;
    uv_tcp_t peer;
    int accepted, hangup;
    uint16_t port;
} listener;

static void on_peer_closed(uv_handle_t *h)
{
    (void)h;
}

static void on_conn(uv_stream_t *s, int status)
{
    listener *l = s->data;
    assert_int_equal(status, 0);
    assert_int_equal(l->accepted, 0);
    uv_tcp_init(s->loop, &l->peer);
    assert_int_equal(uv_accept(s, (uv_stream_t *)&l->peer), 0);
    l->accepted = 1;
    if (l->hangup) uv_close((uv_handle_t *)&l->peer, on_peer_closed);
}

static void listen_on(uv_loop_t *loop, listener *l, int hangup)
{
    struct sockaddr_in a;
    struct sockaddr_storage got;
    int len = sizeof(got);
    memset(l, 0, sizeof(*l));
    l->hangup = hangup;
    uv_tcp_init(loop, &l->srv);
    l->srv.data = l;
    uv_ip4_addr("127.0.0.1", 0, &a);
    assert_int_equal(uv_tcp_bind(&l->srv, (const struct sockaddr *)&a, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&l->srv, 8, on_conn), 0);
    uv_tcp_getsockname(&l->srv, (struct sockaddr *)&got, &len);
    l->port = ntohs(((struct sockaddr_in *)&got)->sin_port);
}

static void listener_close(listener *l)
{
    if (l->accepted && !l->hangup) uv_close((uv_handle_t *)&l->peer, on_peer_closed);
    uv_close((uv_handle_t *)&l->srv, on_peer_closed);
}

static irp_client *make(uv_loop_t *loop, unsigned timeout_ms)
{
    irp_client_opts o;
    irp_client *c = NULL;
    memset(&o, 0, sizeof(o));
    o.ca_fp = PIN;
    o.connect_timeout_ms = timeout_ms;
    o.request_timeout_ms = timeout_ms;
    assert_int_equal(irp_client_new(loop, &o, &c, NULL, 0), 0);
    return c;
}

static void ping_req(irp_req *q)
{
    irp_req_init(q);
    q->op = IRP_OP_PING;
}

static void test_bad_options(void **state)
{
    uv_loop_t loop;
    irp_client_opts o;
    irp_client *c = (irp_client *)1;
    char err[128];
    (void)state;
    uv_loop_init(&loop);
    memset(&o, 0, sizeof(o));
    assert_int_equal(irp_client_new(&loop, &o, &c, err, sizeof(err)), SC_ERR_ARG);
    assert_null(c);
    assert_non_null(strstr(err, "required"));
    o.ca_fp = "abcd";
    assert_int_equal(irp_client_new(&loop, &o, &c, err, sizeof(err)), SC_ERR_ARG);
    o.ca_fp = NULL;
    o.ca_pem = "not a pem";
    assert_int_equal(irp_client_new(&loop, &o, &c, err, sizeof(err)), SC_ERR_PARSE);
    o.ca_pem = NULL;
    o.ca_fp = PIN;
    o.cert_pem = "junk";
    o.key_pem = "junk";
    assert_int_equal(irp_client_new(&loop, &o, &c, err, sizeof(err)), SC_ERR_PARSE);
    /* a good one, closed without connecting */
    o.cert_pem = o.key_pem = NULL;
    assert_int_equal(irp_client_new(&loop, &o, &c, err, sizeof(err)), 0);
    {
        irp_req q;
        ping_req(&q);
        assert_int_equal(irp_client_request(c, &q, on_resp, NULL), SC_ERR_STATE);
    }
    irp_client_close(c);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_refused(void **state)
{
    uv_loop_t loop;
    listener l;
    uint16_t port;
    result r = {0};
    irp_client *c;
    (void)state;
    uv_loop_init(&loop);
    listen_on(&loop, &l, 0); /* take a free port, then free it again */
    port = l.port;
    listener_close(&l);
    uv_run(&loop, UV_RUN_DEFAULT);
    c = make(&loop, 5000);
    assert_int_equal(irp_client_connect(c, "127.0.0.1", port, on_connect, &r), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(r.connect_calls, 1);
    assert_int_equal(r.connect_status, IRP_CLIENT_CONNECT);
    assert_non_null(strstr(r.msg, "cannot connect"));
    irp_client_close(c);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void on_connect_close(void *ctx, int status, const char *msg)
{
    result *r = ctx;
    on_connect(ctx, status, msg);
    (void)r;
}

static void test_timeout(void **state)
{
    uv_loop_t loop;
    listener l;
    result r = {0}, q = {0};
    irp_client *c;
    irp_req req;
    (void)state;
    uv_loop_init(&loop);
    listen_on(&loop, &l, 0);
    c = make(&loop, 200);
    assert_int_equal(irp_client_connect(c, "127.0.0.1", l.port, on_connect_close, &r), 0);
    ping_req(&req);
    /* queued before the handshake: fails with the connection */
    assert_int_equal(irp_client_request(c, &req, on_resp, &q), 0);
    assert_int_equal(irp_client_pending(c), 1);
    while (r.connect_calls == 0)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(l.accepted, 1);
    assert_int_equal(r.connect_status, IRP_CLIENT_TIMEOUT);
    assert_non_null(strstr(r.msg, "timed out"));
    assert_int_equal(q.resp_calls, 1);
    assert_int_equal(q.resp_status, IRP_CLIENT_TIMEOUT);
    assert_int_equal(irp_client_pending(c), 0);
    irp_client_close(c);
    listener_close(&l);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_hangup(void **state)
{
    uv_loop_t loop;
    listener l;
    result r = {0};
    irp_client *c;
    (void)state;
    uv_loop_init(&loop);
    listen_on(&loop, &l, 1);
    c = make(&loop, 5000);
    assert_int_equal(irp_client_connect(c, "localhost", l.port, on_connect, &r), 0);
    while (r.connect_calls == 0)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(r.connect_status, IRP_CLIENT_TLS);
    irp_client_close(c);
    listener_close(&l);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_close_while_connecting(void **state)
{
    uv_loop_t loop;
    listener l;
    result r = {0}, q = {0};
    irp_client *c;
    irp_req req;
    (void)state;
    uv_loop_init(&loop);
    listen_on(&loop, &l, 0);
    c = make(&loop, 5000);
    assert_int_equal(irp_client_connect(c, "127.0.0.1", l.port, on_connect, &r), 0);
    ping_req(&req);
    assert_int_equal(irp_client_request(c, &req, on_resp, &q), 0);
    irp_client_close(c);
    assert_int_equal(q.resp_calls, 1);
    assert_int_equal(q.resp_status, IRP_CLIENT_CLOSED);
    uv_run(&loop, UV_RUN_NOWAIT);
    listener_close(&l);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(r.connect_calls, 0);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_status_names(void **state)
{
    (void)state;
    assert_string_equal(irp_client_status_name(IRP_CLIENT_TIMEOUT), "timeout");
    assert_string_equal(irp_client_status_name(IRP_CLIENT_TLS), "tls-failed");
    assert_string_equal(irp_client_status_name(404), irp_status_name(404));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_hangup),
        cmocka_unit_test(test_close_while_connecting),
        cmocka_unit_test(test_status_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
