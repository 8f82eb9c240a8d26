/*
 * test_agent_api.c - the local API server over a real Unix socket: the
 * socket's mode, JSON-RPC envelopes and errors, answers given later,
 * notifications, `subscribe` with `since` replaying exactly the missed
 * events after a disconnect, live events, a client that does not read cut
 * off while another is still served, over-long lines, and a second server
 * refused while the first answers.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent_api.h"

typedef struct fixture {
    char dir[48];
    char sock[100];
    char db[128];
    uv_loop_t loop;
    agent_store *st;
    agent_events ev;
    agent_api *api;
    agent_api_req *held; /* a request answered later */
} fixture;

static fixture *F;

static void m_echo(void *ctx, agent_api_req *req, json_t *params)
{
    agent_api_reply(req, params ? json_incref(params) : NULL);
}

static void m_later(void *ctx, agent_api_req *req, json_t *params)
{
    fixture *f = ctx;
    f->held = req;
}

static void m_fail(void *ctx, agent_api_req *req, json_t *params)
{
    agent_api_fail(req, AGENT_E_OFFLINE, "bob is offline", json_pack("{s:s}", "user", "bob"));
}

static const agent_api_method METHODS[] = {
    {"echo", m_echo},
    {"later", m_later},
    {"fail", m_fail},
};

static void start_api(fixture *f, size_t out_max)
{
    agent_api_opts o = {.stall_ms = 0, .out_max = out_max};
    assert_int_equal(agent_api_start(&f->loop, f->sock, METHODS, 3, f, &f->ev, &o, &f->api), SC_OK);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/agent-api-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->sock, sizeof(f->sock), "%s/agent.sock", f->dir);
    snprintf(f->db, sizeof(f->db), "%s/sixchat.db", f->dir);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(agent_store_open(f->db, &f->st), SC_OK);
    assert_int_equal(agent_events_init(&f->ev, f->st, 0), SC_OK);
    start_api(f, 0);
    F = f;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    agent_api_stop(f->api);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    agent_store_close(f->st);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* ---- a blocking-free client driven together with the loop ---- */

typedef struct cl {
    int fd;
    char buf[1 << 20];
    size_t len;
    int eof;
} cl;

static cl *cl_open(fixture *f)
{
    cl *c = calloc(1, sizeof(*c));
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_true(c->fd >= 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", f->sock);
    assert_int_equal(connect(c->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return c;
}

static void cl_close(cl *c)
{
    close(c->fd);
    free(c);
}

static void cl_send(cl *c, const char *s)
{
    size_t n = strlen(s), off = 0;
    while (off < n) {
        ssize_t k = send(c->fd, s + off, n - off, MSG_NOSIGNAL);
        if (k < 0 && errno == EAGAIN) {
            uv_run(&F->loop, UV_RUN_NOWAIT);
            continue;
        }
        assert_true(k > 0);
        off += (size_t)k;
    }
}

/* Runs the loop and reads until a whole line is there (or EOF); a hang guard
 * of 2000 rounds of 5 ms ends a test that would otherwise wait forever. */
static int cl_line(cl *c, char *out, size_t cap)
{
    for (int round = 0; round < 2000; round++) {
        char *nl = memchr(c->buf, '\n', c->len);
        if (nl) {
            size_t n = (size_t)(nl - c->buf);
            assert_true(n < cap);
            memcpy(out, c->buf, n);
            out[n] = '\0';
            memmove(c->buf, nl + 1, c->len - n - 1);
            c->len -= n + 1;
            return 1;
        }
        if (c->eof) return 0;
        uv_run(&F->loop, UV_RUN_NOWAIT);
        ssize_t k = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
        if (k == 0)
            c->eof = 1;
        else if (k > 0)
            c->len += (size_t)k;
        else if (errno == EAGAIN) {
            struct pollfd p = {.fd = c->fd, .events = POLLIN};
            (void)poll(&p, 1, 5);
        } else
            c->eof = 1;
    }
    fail_msg("no line from the server");
    return 0;
}

static json_t *cl_json(cl *c)
{
    static char line[1 << 20];
    if (!cl_line(c, line, sizeof(line))) return NULL;
    json_t *j = json_loads(line, 0, NULL);
    assert_non_null(j);
    return j;
}

static json_t *call(cl *c, const char *req)
{
    cl_send(c, req);
    return cl_json(c);
}

static void emit(fixture *f, int n)
{
    json_t *d = json_pack("{s:i}", "n", n);
    assert_int_equal(agent_events_emit(&f->ev, "test.tick", d, 1000, NULL), SC_OK);
}

/* ---- tests ---- */

static void test_socket_mode(void **state)
{
    fixture *f = *state;
    struct stat sb;
    assert_int_equal(stat(f->sock, &sb), 0);
    assert_true(S_ISSOCK(sb.st_mode));
    assert_int_equal(sb.st_mode & 0777, 0600);
}

static void test_envelopes(void **state)
{
    fixture *f = *state;
    cl *c = cl_open(f);
    json_t *r =
        call(c, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"echo\",\"params\":{\"a\":1}}\n");
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 7);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "result"), "a")), 1);
    assert_string_equal(json_string_value(json_object_get(r, "jsonrpc")), "2.0");
    json_decref(r);

    /* A notification (no id) gets no answer: the next line is the next request's. */
    cl_send(c, "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":{}}\n");
    r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":\"s\",\"method\":\"echo\"}\r\n");
    assert_string_equal(json_string_value(json_object_get(r, "id")), "s");
    assert_true(json_is_null(json_object_get(r, "result")));
    json_decref(r);

    struct {
        const char *req;
        int code;
    } bad[] = {
        {"not json\n", AGENT_E_PARSE},
        {"[1,2]\n", AGENT_E_INVALID_REQUEST},
        {"{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"echo\"}\n", AGENT_E_INVALID_REQUEST},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}\n", AGENT_E_INVALID_REQUEST},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nope\"}\n", AGENT_E_NO_METHOD},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\",\"params\":[1]}\n", AGENT_E_PARAMS},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"fail\"}\n", AGENT_E_OFFLINE},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"echo\"}\n", AGENT_E_PARSE},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = call(c, bad[i].req);
        json_t *e = json_object_get(r, "error");
        assert_non_null(e);
        assert_int_equal(json_integer_value(json_object_get(e, "code")), bad[i].code);
        assert_non_null(json_string_value(json_object_get(e, "message")));
        json_decref(r);
    }
    r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"fail\"}\n");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(r, "error"), "data"), "user")),
                        "bob");
    json_decref(r);
    cl_close(c);
}

static void test_answer_later_and_after_close(void **state)
{
    fixture *f = *state;
    cl *c = cl_open(f);
    cl_send(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"later\"}\n");
    json_t *r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"echo\"}\n");
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 2); /* not blocked by 1 */
    json_decref(r);
    assert_non_null(f->held);
    agent_api_reply(f->held, json_string("done"));
    f->held = NULL;
    r = cl_json(c);
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 1);
    assert_string_equal(json_string_value(json_object_get(r, "result")), "done");
    json_decref(r);

    /* The client leaves before the answer: answering is harmless, and the
     * connection (kept for the answer: a half-close looks the same) goes. */
    cl_send(c, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"later\"}\n");
    while (!f->held)
        uv_run(&f->loop, UV_RUN_NOWAIT);
    cl_close(c);
    agent_api_reply(f->held, json_string("late"));
    f->held = NULL;
    for (int i = 0; i < 500 && agent_api_clients(f->api) > 0; i++) {
        struct pollfd p = {.fd = -1};
        (void)poll(&p, 0, 2);
        uv_run(&f->loop, UV_RUN_NOWAIT);
    }
    assert_int_equal(agent_api_clients(f->api), 0);
}

static void expect_events(cl *c, uint64_t from, int n)
{
    for (int i = 0; i < n; i++) {
        json_t *r = cl_json(c);
        assert_non_null(r);
        assert_string_equal(json_string_value(json_object_get(r, "method")), "event");
        json_t *p = json_object_get(r, "params");
        assert_int_equal(json_integer_value(json_object_get(p, "id")), from + (uint64_t)i);
        assert_string_equal(json_string_value(json_object_get(p, "type")), "test.tick");
        assert_true(json_is_object(json_object_get(p, "data")));
        assert_null(json_object_get(r, "id")); /* a notification */
        json_decref(r);
    }
}

static void test_subscribe_since_replays_missed(void **state)
{
    fixture *f = *state;
    for (int i = 1; i <= 5; i++)
        emit(f, i);
    cl *c = cl_open(f);
    json_t *r = call(
        c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"subscribe\",\"params\":{\"since\":2}}\n");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "result"), "last")), 5);
    assert_false(json_is_true(json_object_get(json_object_get(r, "result"), "gap")));
    json_decref(r);
    expect_events(c, 3, 3);
    emit(f, 6); /* live */
    expect_events(c, 6, 1);
    cl_close(c);

    /* Disconnected: events 7..300 happen. Back with since=6: every one, in order. */
    for (int i = 7; i <= 300; i++)
        emit(f, i);
    c = cl_open(f);
    r = call(c,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"subscribe\",\"params\":{\"since\":6}}\n");
    json_decref(r);
    emit(f, 301); /* arrives while the replay is still going */
    expect_events(c, 7, 295);
    cl_close(c);

    /* Without since: only what happens from now on. */
    c = cl_open(f);
    r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"subscribe\"}\n");
    json_decref(r);
    emit(f, 302);
    expect_events(c, 302, 1);
    r = call(c,
             "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"subscribe\",\"params\":{\"since\":-1}}\n");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "error"), "code")),
                     AGENT_E_PARAMS);
    json_decref(r);
    cl_close(c);
}

static void test_slow_reader_cut_off(void **state)
{
    fixture *f = *state;
    agent_api_stop(f->api);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    start_api(f, 64 * 1024);
    cl *slow = cl_open(f);
    json_t *r = call(slow, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"subscribe\"}\n");
    json_decref(r);
    int sz = 256 * 1024;
    setsockopt(slow->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    cl *fast = cl_open(f);
    /* The slow client reads nothing more; big events pile up behind it. */
    char *big = malloc(8192);
    memset(big, 'x', 8191);
    big[8191] = '\0';
    int cut = 0;
    for (int i = 0; i < 2000 && !cut; i++) {
        json_t *d = json_pack("{s:s}", "pad", big);
        assert_int_equal(agent_events_emit(&f->ev, "test.tick", d, 1, NULL), SC_OK);
        uv_run(&f->loop, UV_RUN_NOWAIT);
        cut = agent_api_clients(f->api) == 1;
    }
    free(big);
    assert_true(cut);
    /* The other client is served all along. */
    r = call(fast, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"echo\"}\n");
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 5);
    json_decref(r);
    /* The slow one finds its connection closed after what was queued. */
    char line[1 << 16];
    int lines = 0;
    while (cl_line(slow, line, sizeof(line)))
        lines++;
    assert_true(slow->eof);
    cl_close(slow);
    cl_close(fast);
}

/* `echo REQUEST | sixchat api`: the client shuts its sending side at once;
 * the answer, even one given later, still reaches it, then the server closes. */
static void test_half_close_gets_answers(void **state)
{
    fixture *f = *state;
    cl *c = cl_open(f);
    cl_send(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\"}\n"
               "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"later\"}\n");
    assert_int_equal(shutdown(c->fd, SHUT_WR), 0);
    json_t *r = cl_json(c);
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 1);
    json_decref(r);
    while (!f->held)
        uv_run(&f->loop, UV_RUN_NOWAIT);
    for (int i = 0; i < 20; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT); /* the EOF is seen; the client must stay */
    assert_int_equal(agent_api_clients(f->api), 1);
    agent_api_reply(f->held, json_string("later"));
    f->held = NULL;
    r = cl_json(c);
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 2);
    json_decref(r);
    char line[64];
    assert_int_equal(cl_line(c, line, sizeof(line)), 0);
    assert_true(c->eof);
    cl_close(c);
}

static void test_long_line(void **state)
{
    fixture *f = *state;
    cl *c = cl_open(f);
    char *s = malloc(AGENT_API_LINE_MAX + 2);
    memset(s, ' ', AGENT_API_LINE_MAX + 1);
    s[AGENT_API_LINE_MAX + 1] = '\0';
    cl_send(c, s);
    free(s);
    json_t *r = cl_json(c);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "error"), "code")),
                     AGENT_E_INVALID_REQUEST);
    json_decref(r);
    char line[256];
    assert_int_equal(cl_line(c, line, sizeof(line)), 0);
    assert_true(c->eof);
    cl_close(c);
}

static void test_second_server_refused(void **state)
{
    fixture *f = *state;
    agent_api *two = NULL;
    assert_int_equal(agent_api_start(&f->loop, f->sock, METHODS, 3, f, &f->ev, NULL, &two),
                     SC_ERR_STATE);
    assert_null(two);
    /* A stale socket file (no agent behind it) is replaced. */
    agent_api_stop(f->api);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", f->sock);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    close(fd);
    start_api(f, 0);
    cl *c = cl_open(f);
    json_t *r = call(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\"}\n");
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 1);
    json_decref(r);
    cl_close(c);
}

int main(void)
{
    /* As in the agent (sixchat up): a client that vanished is an EPIPE, not a signal. */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_socket_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_envelopes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answer_later_and_after_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subscribe_since_replays_missed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_reader_cut_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_half_close_gets_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_server_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
