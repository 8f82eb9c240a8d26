/*
 * agent_api.c - the local API's transport: Unix socket, peer credentials,
 * line framing, JSON-RPC envelopes, event subscriptions with replay, and
 * the cut-off of clients that do not read (docs/AGENT-API.md 2-3, 5).
 */
#define _GNU_SOURCE /* struct ucred, SO_PEERCRED */
#include "agent_api.h"
#include "agent_api_msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sixchat/platform.h"

typedef struct client {
    uv_pipe_t pipe;
    agent_api *api;
    uint64_t num;
    struct client *next;
    char *in; /* bytes of an incomplete line */
    size_t in_len, in_cap;
    int subscribed;
    uint64_t cursor;      /* id of the last event written to it */
    uint64_t progress_ms; /* last write completion, or when output started waiting */
    size_t outstanding;   /* requests not answered yet */
    int eof;              /* the client closed its sending side */
    int closing;
} client;

struct agent_api {
    uv_loop_t *loop;
    uv_pipe_t server;
    uv_timer_t sweep;
    const agent_api_method *methods;
    size_t n_methods;
    void *ctx;
    agent_events *ev;
    agent_api_opts opts;
    client *clients;
    size_t n_clients;
    uint64_t next_num;
    int open_handles;
    int stopping;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

typedef struct wreq {
    uv_write_t req;
    client *c;
    char data[];
} wreq;

static void client_close(client *c, const char *why);
static void pump(client *c);

static size_t queued(const client *c)
{
    return uv_stream_get_write_queue_size((const uv_stream_t *)&c->pipe);
}

static client *find_client(agent_api *api, uint64_t num)
{
    for (client *c = api->clients; c; c = c->next)
        if (c->num == num && !c->closing) return c;
    return NULL;
}

/*
 * A client that closed its sending side (`echo REQUEST | sixchat api`) is
 * closed once every answer it waits for has been written; a subscriber
 * stays, for the events.
 */
static void maybe_finish(client *c)
{
    if (c->eof && !c->closing && !c->subscribed && c->outstanding == 0 && queued(c) == 0)
        client_close(c, NULL);
}

static void written(uv_write_t *r, int status)
{
    wreq *w = (wreq *)r;
    client *c = w->c;
    free(w);
    if (c->closing) return;
    if (status < 0) {
        /* A client that left before reading everything is no news. */
        client_close(c, status == UV_EPIPE || status == UV_ECONNRESET ? NULL : uv_strerror(status));
        return;
    }
    c->progress_ms = sc_clock_ms();
    pump(c);
    maybe_finish(c);
}

/* Queues len bytes plus a newline. Cuts the client off past out_max. */
static void send_raw(client *c, const char *s, size_t len)
{
    if (c->closing) return;
    if (queued(c) + len > c->api->opts.out_max) {
        client_close(c, "it does not read its output");
        return;
    }
    wreq *w = malloc(sizeof(*w) + len + 1);
    if (!w) {
        client_close(c, "out of memory");
        return;
    }
    memcpy(w->data, s, len);
    w->data[len] = '\n';
    w->c = c;
    if (queued(c) == 0) c->progress_ms = sc_clock_ms();
    uv_buf_t b = uv_buf_init(w->data, (unsigned)len + 1);
    int rc = uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, written);
    if (rc < 0) {
        free(w);
        client_close(c, uv_strerror(rc));
    }
}

static void send_json(client *c, json_t *msg)
{
    char *s = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (!s) {
        client_close(c, "out of memory");
        return;
    }
    send_raw(c, s, strlen(s));
    free(s);
}

/* ---- answers ---- */

static json_t *envelope(json_t *id)
{
    json_t *m = json_object();
    if (m) {
        json_object_set_new(m, "jsonrpc", json_string("2.0"));
        json_object_set(m, "id", id ? id : json_null());
    }
    return m;
}

static void req_free(agent_api_req *req)
{
    json_decref(req->id);
    free(req);
}

/* The client of req, if still there, with its count of waiting requests updated. */
static client *answering_client(agent_api_req *req)
{
    client *c = find_client(req->api, req->client);
    if (c && c->outstanding) c->outstanding--;
    return c && req->id ? c : NULL;
}

static void after_answer(agent_api_req *req)
{
    client *c = find_client(req->api, req->client);
    if (c) maybe_finish(c);
}

void agent_api_reply(agent_api_req *req, json_t *result)
{
    client *c = answering_client(req);
    if (c) {
        json_t *m = envelope(req->id);
        if (m) {
            json_object_set_new(m, "result", result ? result : json_null());
            result = NULL;
            send_json(c, m);
        }
    }
    json_decref(result);
    after_answer(req);
    req_free(req);
}

static json_t *error_obj(int code, const char *message, json_t *data)
{
    json_t *e = json_object();
    if (!e) {
        json_decref(data);
        return NULL;
    }
    json_object_set_new(e, "code", json_integer(code));
    json_object_set_new(e, "message", json_string(message ? message : ""));
    if (data) json_object_set_new(e, "data", data);
    return e;
}

void agent_api_fail(agent_api_req *req, int code, const char *message, json_t *data)
{
    client *c = answering_client(req);
    if (c) {
        json_t *m = envelope(req->id);
        if (m) {
            json_object_set_new(m, "error", error_obj(code, message, data));
            data = NULL;
            send_json(c, m);
        }
    }
    json_decref(data);
    after_answer(req);
    req_free(req);
}

/* An error for a request that never became an agent_api_req (id may be NULL). */
static void fail_now(client *c, json_t *id, int code, const char *message)
{
    json_t *m = envelope(id);
    if (m) {
        json_object_set_new(m, "error", error_obj(code, message, NULL));
        send_json(c, m);
    }
}

/* ---- events ---- */

static void write_event(client *c, uint64_t id, uint64_t ts_ms, const char *type, const char *data)
{
    /* The data is already JSON text from the store: it is spliced into the
     * notification, not parsed again. type is one of our own names. */
    size_t n = strlen(data) + strlen(type) + 128;
    char *s = malloc(n);
    if (!s) {
        client_close(c, "out of memory");
        return;
    }
    int k = snprintf(s, n,
                     "{\"jsonrpc\":\"2.0\",\"method\":\"event\",\"params\":{\"id\":%llu,"
                     "\"ts\":%llu,\"type\":\"%s\",\"data\":%s}}",
                     (unsigned long long)id, (unsigned long long)ts_ms, type, data);
    if (k > 0 && (size_t)k < n) {
        c->cursor = id;
        send_raw(c, s, (size_t)k);
    }
    free(s);
}

static int replay_one(void *ctx, const agent_event_row *e)
{
    client *c = ctx;
    write_event(c, e->id, e->ts_ms, e->type ? e->type : "", e->data ? e->data : "{}");
    return c->closing || queued(c) >= AGENT_API_REPLAY_LOW;
}

/* Sends stored events after the cursor while the client keeps reading. */
static void pump(client *c)
{
    agent_api *api = c->api;
    while (c->subscribed && !c->closing && c->cursor < api->ev->last &&
           queued(c) < AGENT_API_REPLAY_LOW) {
        uint64_t before = c->cursor;
        if (agent_store_event_since(api->ev->st, c->cursor, 64, replay_one, c)) {
            client_close(c, "the store failed during a replay");
            return;
        }
        if (c->cursor == before) /* nothing readable: do not spin */
            c->cursor = api->ev->last;
    }
}

static void on_event(void *ctx, uint64_t id, uint64_t ts_ms, const char *type, const char *data)
{
    agent_api *api = ctx;
    client *next;
    for (client *c = api->clients; c; c = next) {
        next = c->next;
        if (!c->subscribed || c->closing) continue;
        if (c->cursor + 1 == id)
            write_event(c, id, ts_ms, type, data);
        else
            pump(c); /* still replaying: the store has it */
    }
}

static void subscribe(client *c, json_t *id, json_t *params)
{
    agent_api *api = c->api;
    json_t *since_j = params ? json_object_get(params, "since") : NULL;
    uint64_t since = api->ev->last, first = 0;
    if (since_j) {
        if (!json_is_integer(since_j) || json_integer_value(since_j) < 0) {
            fail_now(c, id, AGENT_E_PARAMS, "since must be an event id (an integer >= 0)");
            return;
        }
        since = (uint64_t)json_integer_value(since_j);
    }
    if (agent_store_event_first(api->ev->st, &first)) {
        fail_now(c, id, AGENT_E_INTERNAL, "the store failed");
        return;
    }
    /* Events before `first` were pruned: say so rather than pretend. */
    int gap = first > 0 && since + 1 < first;
    if (since > api->ev->last) since = api->ev->last;
    if (id) {
        json_t *m = envelope(id);
        json_t *r = json_object();
        if (!m || !r) {
            json_decref(m);
            json_decref(r);
            client_close(c, "out of memory");
            return;
        }
        json_object_set_new(r, "last", json_integer((json_int_t)api->ev->last));
        json_object_set_new(r, "first", json_integer((json_int_t)first));
        json_object_set_new(r, "gap", json_boolean(gap));
        json_object_set_new(m, "result", r);
        send_json(c, m);
    }
    c->subscribed = 1;
    c->cursor = since;
    pump(c);
}

/* ---- requests ---- */

static void handle_line(client *c, const char *line, size_t len)
{
    agent_api_msg d;
    if (agent_api_msg_decode(line, len, &d)) {
        fail_now(c, d.id, d.err, d.why);
        agent_api_msg_clear(&d);
        return;
    }
    json_t *id = d.id, *params = d.params;
    const char *name = d.method;
    agent_api *api = c->api;
    if (!strcmp(name, "subscribe")) {
        subscribe(c, id, params);
    } else if (!strcmp(name, "unsubscribe")) {
        c->subscribed = 0;
        if (id) {
            json_t *m = envelope(id);
            if (m) {
                json_object_set_new(m, "result", json_null());
                send_json(c, m);
            }
        }
    } else {
        size_t i;
        for (i = 0; i < api->n_methods; i++)
            if (!strcmp(api->methods[i].name, name)) break;
        if (i == api->n_methods) {
            fail_now(c, id, AGENT_E_NO_METHOD, "no such method");
        } else {
            agent_api_req *req = calloc(1, sizeof(*req));
            if (!req) {
                client_close(c, "out of memory");
            } else {
                req->api = api;
                req->client = c->num;
                req->id = id ? json_incref(id) : NULL;
                c->outstanding++;
                api->methods[i].fn(api->ctx, req, params);
            }
        }
    }
    agent_api_msg_clear(&d);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    client *c = h->data;
    size_t want = 64 * 1024;
    if (c->in_cap - c->in_len < want) {
        size_t cap = c->in_len + want;
        char *p = realloc(c->in, cap);
        if (!p) {
            *buf = uv_buf_init(NULL, 0);
            return;
        }
        c->in = p;
        c->in_cap = cap;
    }
    *buf = uv_buf_init(c->in + c->in_len, (unsigned)(c->in_cap - c->in_len));
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    client *c = s->data;
    if (nread == UV_EOF) {
        c->eof = 1;
        uv_read_stop(s);
        maybe_finish(c);
        return;
    }
    if (nread < 0) {
        client_close(c, uv_strerror((int)nread));
        return;
    }
    c->in_len += (size_t)nread;
    size_t start = 0;
    for (size_t i = c->in_len - (size_t)nread; i < c->in_len && !c->closing; i++) {
        if (c->in[i] != '\n') continue;
        size_t n = i - start;
        if (n && c->in[start + n - 1] == '\r') n--;
        if (n) handle_line(c, c->in + start, n);
        start = i + 1;
    }
    if (c->closing) return;
    memmove(c->in, c->in + start, c->in_len - start);
    c->in_len -= start;
    if (c->in_len > AGENT_API_LINE_MAX) {
        fail_now(c, NULL, AGENT_E_INVALID_REQUEST, "line too long");
        client_close(c, "a request line over the limit");
    }
}

/* ---- connections ---- */

static void api_maybe_free(agent_api *api)
{
    if (api->stopping && api->open_handles == 0 && !api->clients) free(api);
}

static void client_freed(uv_handle_t *h)
{
    client *c = h->data;
    agent_api *api = c->api;
    for (client **pp = &api->clients; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    api->n_clients--;
    free(c->in);
    free(c);
    api_maybe_free(api);
}

static void client_close(client *c, const char *why)
{
    if (c->closing) return;
    c->closing = 1;
    if (why)
        fprintf(stderr, "sixchat: api: client %llu cut off: %s\n", (unsigned long long)c->num, why);
    uv_close((uv_handle_t *)&c->pipe, client_freed);
}

/* Only the agent's own user may talk to it (the socket mode says the same). */
static int same_uid(uv_pipe_t *p)
{
    uv_os_fd_t fd;
    struct ucred cr;
    socklen_t len = sizeof(cr);
    if (uv_fileno((uv_handle_t *)p, &fd) != 0) return 0;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0 || len != sizeof(cr)) return 0;
    return cr.uid == getuid();
}

static void on_connect(uv_stream_t *server, int status)
{
    agent_api *api = server->data;
    if (status < 0 || api->stopping) return;
    client *c = calloc(1, sizeof(*c));
    if (!c) return;
    c->api = api;
    c->num = ++api->next_num;
    if (uv_pipe_init(api->loop, &c->pipe, 0) != 0) {
        free(c);
        return;
    }
    c->pipe.data = c;
    c->next = api->clients;
    api->clients = c;
    api->n_clients++;
    if (uv_accept(server, (uv_stream_t *)&c->pipe) != 0) {
        client_close(c, "accept failed");
        return;
    }
    if (!same_uid(&c->pipe)) {
        client_close(c, "another user (SO_PEERCRED)");
        return;
    }
    if (api->n_clients > AGENT_API_CLIENTS_MAX) {
        client_close(c, "too many API clients");
        return;
    }
    if (uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, read_cb) != 0)
        client_close(c, "read failed");
}

static void on_sweep(uv_timer_t *t)
{
    agent_api *api = t->data;
    uint64_t now = sc_clock_ms();
    client *next;
    for (client *c = api->clients; c; c = next) {
        next = c->next;
        if (!c->closing && queued(c) > 0 && now - c->progress_ms > api->opts.stall_ms)
            client_close(c, "it stopped reading");
    }
}

/* 1 when something accepts connections at path (a running agent). */
static int answering(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    struct sockaddr_un a;
    memset(&a, 0, sizeof(a));
    a.sun_family = AF_UNIX;
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
    int ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

static void handle_closed(uv_handle_t *h)
{
    agent_api *api = h->data;
    api->open_handles--;
    api_maybe_free(api);
}

int agent_api_start(uv_loop_t *loop, const char *path, const agent_api_method *m, size_t n,
                    void *ctx, agent_events *ev, const agent_api_opts *opts, agent_api **out)
{
    *out = NULL;
    agent_api *api = calloc(1, sizeof(*api));
    if (!api) return SC_ERR_NOMEM;
    if (strlen(path) >= sizeof(api->path)) {
        free(api);
        return SC_ERR_ARG;
    }
    snprintf(api->path, sizeof(api->path), "%s", path);
    api->loop = loop;
    api->methods = m;
    api->n_methods = n;
    api->ctx = ctx;
    api->ev = ev;
    api->opts.stall_ms = opts && opts->stall_ms ? opts->stall_ms : AGENT_API_STALL_MS;
    api->opts.out_max = opts && opts->out_max ? opts->out_max : AGENT_API_OUT_MAX;
    if (answering(path)) {
        free(api);
        return SC_ERR_STATE;
    }
    (void)unlink(path); /* a stale socket of an agent that died */
    if (uv_pipe_init(loop, &api->server, 0) != 0) {
        free(api);
        return SC_ERR_IO;
    }
    api->server.data = api;
    api->open_handles = 1;
    /* umask makes the socket 0600 from its creation: no window in which
     * another user could connect (the uid check would refuse them too). */
    mode_t old = umask(0177);
    int rc = uv_pipe_bind(&api->server, path);
    umask(old);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&api->server, 16, on_connect);
    if (rc == 0) rc = uv_timer_init(loop, &api->sweep);
    if (rc != 0) {
        fprintf(stderr, "sixchat: api: %s: %s\n", path, uv_strerror(rc));
        api->stopping = 1;
        uv_close((uv_handle_t *)&api->server, handle_closed);
        return SC_ERR_IO;
    }
    api->sweep.data = api;
    api->open_handles = 2;
    if (uv_timer_start(&api->sweep, on_sweep, 1000, 1000) != 0) {
        agent_api_stop(api);
        return SC_ERR_IO;
    }
    uv_unref((uv_handle_t *)&api->sweep);
    agent_events_set_sink(ev, on_event, api);
    *out = api;
    return SC_OK;
}

void agent_api_stop(agent_api *api)
{
    if (!api || api->stopping) return;
    api->stopping = 1;
    agent_events_set_sink(api->ev, NULL, NULL);
    (void)unlink(api->path);
    client *next;
    for (client *c = api->clients; c; c = next) {
        next = c->next;
        client_close(c, NULL);
    }
    uv_close((uv_handle_t *)&api->server, handle_closed);
    uv_close((uv_handle_t *)&api->sweep, handle_closed);
}

void agent_api_notify(agent_api *api, const char *method, json_t *params)
{
    if (!api || api->stopping || !params) {
        json_decref(params);
        return;
    }
    json_t *m = json_pack("{s:s,s:s,s:o}", "jsonrpc", "2.0", "method", method, "params", params);
    char *s = m ? json_dumps(m, JSON_COMPACT) : NULL;
    json_decref(m);
    if (!s) return;
    client *next;
    for (client *c = api->clients; c; c = next) {
        next = c->next;
        if (c->subscribed && !c->closing) send_raw(c, s, strlen(s));
    }
    free(s);
}

size_t agent_api_clients(const agent_api *api)
{
    return api->n_clients;
}
