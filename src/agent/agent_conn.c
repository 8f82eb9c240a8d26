/*
 * agent_conn.c - one sc_session over one uv_tcp_t (agent_conn.h).
 *
 * The core's events arrive while sc_session_recv/_tick/_eof run
 * (sixchat/session.h); the owner's callbacks run from there and may close or
 * fail this connection, so every such call is bracketed by in_callback and
 * the output is sent and the connection torn down only after it returns
 * (post()).
 */
#include "agent_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sixchat/platform.h"

typedef struct wreq {
    uv_write_t req;
    size_t len;
    uint8_t data[];
} wreq;

/* Internal state beside the public struct: kept here so the header stays about the interface. */
typedef struct conn_priv {
    agent_conn c; /* first: an agent_conn * is a conn_priv * */
    uv_connect_t creq;
    char expected[IRP_USER_MAX + 1];
    int dead_pending, over_rate, peer_closed;
    int silent; /* never reported to the owner: no `ended` */
} conn_priv;

static conn_priv *priv(agent_conn *c)
{
    return (conn_priv *)c;
}

static void arm(agent_conn *c);
static void post(agent_conn *c, int ret);

static void on_closed(uv_handle_t *h)
{
    agent_conn *c = h->data;
    if (--c->handles > 0) return;
    if (!priv(c)->silent) c->env->ops->ended(c->env->owner, c);
    sc_session_free(c->s);
    agent_conn_cfg_unref(c->cfg);
    free(c->cert_der);
    free(priv(c));
}

/* Closes the handles; `ended` follows from the loop. Pending writes are cancelled. */
static void teardown(agent_conn *c)
{
    if (c->state == AGENT_CONN_DEAD) return;
    c->state = AGENT_CONN_DEAD;
    uv_close((uv_handle_t *)&c->tcp, on_closed);
    uv_close((uv_handle_t *)&c->timer, on_closed);
}

static void report_closing(agent_conn *c, agent_peer_down_why why, int err, const char *reason)
{
    if (c->closing_reported) return;
    c->closing_reported = 1;
    if (c->env->ops->closing) c->env->ops->closing(c->env->owner, c, why, err, reason);
}

static void on_write(uv_write_t *req, int status)
{
    wreq *r = (wreq *)req;
    agent_conn *c = req->data;
    c->queued -= r->len;
    free(r);
    if (c->state == AGENT_CONN_DEAD) return;
    if (status < 0) {
        agent_conn_fail(c, AGENT_PEER_DOWN_ERROR, SC_ERR_IO, uv_strerror(status));
        return;
    }
    if (c->queued == 0 && c->drain_wanted) {
        c->drain_wanted = 0;
        if (c->env->ops->drained) c->env->ops->drained(c->env->owner, c);
    }
    post(c, SC_OK);
}

/*
 * Moves the session's output to the socket: what the kernel takes now
 * directly (uv_try_write), the rest copied into a write request, since the
 * session's buffer moves as more is queued. try_only: never queue (the
 * connection is about to close and would cancel it anyway).
 */
static int flush(agent_conn *c, int try_only)
{
    const uint8_t *p;
    size_t n;
    if (c->state == AGENT_CONN_DEAD || c->state == AGENT_CONN_CONNECTING || c->s == NULL) return 0;
    while ((n = sc_session_output(c->s, &p)) > 0) {
        if (c->queued == 0) {
            uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);
            int w = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
            if (w > 0) {
                c->bytes_out += (uint64_t)w;
                sc_session_output_consume(c->s, (size_t)w);
                continue;
            }
            if (w != UV_EAGAIN) return w;
        }
        if (try_only) return 0;
        wreq *r = malloc(sizeof *r + n);
        if (r == NULL) return UV_ENOMEM;
        memcpy(r->data, p, n);
        r->len = n;
        r->req.data = c;
        uv_buf_t b = uv_buf_init((char *)r->data, (unsigned)n);
        int e = uv_write(&r->req, (uv_stream_t *)&c->tcp, &b, 1, on_write);
        if (e != 0) {
            free(r);
            return e;
        }
        c->queued += n;
        c->bytes_out += n;
        sc_session_output_consume(c->s, n);
    }
    return 0;
}

void agent_conn_fail(agent_conn *c, agent_peer_down_why why, int err, const char *reason)
{
    if (c->state == AGENT_CONN_DEAD) return;
    report_closing(c, why, err, reason);
    /* Our own refusal of an established peer (its certificate, a limit): say goodbye in order. */
    if (c->state == AGENT_CONN_OPEN && sc_session_error(c->s) == SC_OK &&
        sc_session_close(c->s) != SC_OK) {
        /* failed as well: the core queued an alert instead, which goes out the same way */
    }
    if (c->in_callback) {
        priv(c)->dead_pending = 1; /* post() sends the alert and closes */
        return;
    }
    (void)flush(c, 1); /* the alert, if the socket takes it now; the peer is not waited for */
    teardown(c);
}

void agent_conn_abort(agent_conn *c)
{
    if (c->state == AGENT_CONN_DEAD) return;
    c->closing_reported = 1;
    if (c->in_callback) {
        priv(c)->dead_pending = 1;
        return;
    }
    teardown(c);
}

void agent_conn_shutdown(agent_conn *c)
{
    if (c->state == AGENT_CONN_DEAD) return;
    c->closing_reported = 1;
    if (c->state == AGENT_CONN_OPEN && sc_session_close(c->s) == SC_OK) (void)flush(c, 1);
    agent_conn_abort(c);
}

void agent_conn_close(agent_conn *c, agent_peer_down_why why)
{
    if (c->state == AGENT_CONN_DEAD || c->state == AGENT_CONN_CLOSING) return;
    if (c->state != AGENT_CONN_OPEN) { /* nothing established to close in order */
        agent_conn_fail(c, why, SC_OK, "closed before the handshake completed");
        return;
    }
    int ret = sc_session_close(c->s);
    report_closing(c, why, ret, ret == SC_OK ? "closed" : sc_strerror(ret));
    c->state = AGENT_CONN_CLOSING;
    c->linger_until = sc_clock_ms() + c->env->lim.linger_ms;
    if (!c->in_callback) post(c, SC_OK);
}

void agent_conn_set_deadline(agent_conn *c, uint64_t until_ms, const char *why)
{
    c->deadline_ms = until_ms;
    c->deadline_why = why;
    if (!c->in_callback && c->state != AGENT_CONN_DEAD) arm(c);
}

size_t agent_conn_queued(const agent_conn *c)
{
    const uint8_t *p;
    return c->queued + (c->s ? sc_session_output(c->s, &p) : 0);
}

/* ---- events from the core ----------------------------------------------- */

static void on_event(void *ctx, sc_session *s, const sc_event *ev)
{
    agent_conn *c = ctx;
    const agent_conn_ops *ops = c->env->ops;
    uint64_t now = sc_clock_ms();
    (void)s;
    if (c->state == AGENT_CONN_DEAD || priv(c)->dead_pending) return;
    switch (ev->type) {
    case SC_EV_HANDSHAKE_DONE:
        c->state = AGENT_CONN_OPEN;
        c->last_act_ms = now;
        ops->handshake(c->env->owner, c, ev);
        break;
    case SC_EV_STANZA:
        c->stanzas_in++;
        /* PROTOCOL.md 10: the core answers pings; a pong is news only to the owner's confirmation.
         */
        if (ev->u.stanza->type == SC_STANZA_PONG || ev->u.stanza->type == SC_STANZA_PING) {
            ops->stanza(c->env->owner, c, ev->u.stanza);
            break;
        }
        c->last_act_ms = now;
        if (!agent_peer_bucket_take(&c->bucket, c->env->lim.stanza_rate, c->env->lim.stanza_burst,
                                    now))
            priv(c)->over_rate = 1;
        ops->stanza(c->env->owner, c, ev->u.stanza);
        break;
    case SC_EV_FILE_DATA:
        c->last_act_ms = now;
        ops->file(c->env->owner, c, ev->u.file.id, ev->u.file.offset, ev->u.file.data,
                  ev->u.file.len);
        break;
    case SC_EV_CLOSED:
        /* The core queued our close_notify in answer; post() sends it and closes. */
        priv(c)->peer_closed = 1;
        report_closing(c, AGENT_PEER_DOWN_CLOSED, SC_OK, "the peer closed the session");
        c->state = AGENT_CONN_CLOSING;
        c->linger_until = now + c->env->lim.linger_ms;
        break;
    case SC_EV_ERROR: /* the call that raised it returns the same error: post() handles it */
    case SC_EV_KEY_UPDATE:
        break;
    }
}

/*
 * After every call into the core: failure, output, the output bound,
 * the stanza rate, the end of an orderly close, the timer.
 */
static void post(agent_conn *c, int ret)
{
    int e;
    if (c->state == AGENT_CONN_DEAD) return;
    if (priv(c)->dead_pending) {
        (void)flush(c, 1);
        teardown(c);
        return;
    }
    if (ret != SC_OK) { /* the core queued its alert: send it and close */
        if (ret == SC_ERR_TRUNCATED && c->state == AGENT_CONN_CLOSING) {
            teardown(c); /* the peer dropped the socket after our close_notify: fine */
            return;
        }
        agent_conn_fail(c, AGENT_PEER_DOWN_ERROR, ret, sc_strerror(ret));
        return;
    }
    if ((e = flush(c, 0)) != 0) {
        agent_conn_fail(c, AGENT_PEER_DOWN_ERROR, SC_ERR_IO, uv_strerror(e));
        return;
    }
    if (c->queued > c->env->lim.max_output) {
        agent_conn_fail(c, AGENT_PEER_DOWN_SLOW, SC_ERR_IO, "the peer does not read: output limit");
        return;
    }
    if (priv(c)->over_rate && c->reading && !c->paused) {
        /* Stop reading: TCP pushes back on the peer until its bucket refills. */
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->paused = 1;
    }
    if (c->state == AGENT_CONN_CLOSING && priv(c)->peer_closed && c->queued == 0) {
        teardown(c);
        return;
    }
    arm(c);
}

/* ---- reading -------------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    agent_conn *c = h->data;
    (void)suggested;
    *buf = uv_buf_init((char *)c->env->rbuf, (unsigned)c->env->rbuf_len);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    agent_conn *c = st->data;
    int ret;
    (void)buf;
    if (c->state == AGENT_CONN_DEAD || nread == 0) return;
    if (nread < 0) {
        if (nread != UV_EOF) {
            agent_conn_fail(c, AGENT_PEER_DOWN_ERROR, SC_ERR_IO, uv_strerror((int)nread));
            return;
        }
        uv_read_stop(st);
        c->reading = 0;
        if (c->state == AGENT_CONN_CLOSING) { /* our close_notify went; the peer is gone */
            teardown(c);
            return;
        }
        c->in_callback = 1;
        ret = sc_session_eof(c->s);
        c->in_callback = 0;
        if (ret == SC_OK) ret = SC_ERR_TRUNCATED; /* nothing more can come */
        post(c, ret);
        return;
    }
    c->bytes_in += (uint64_t)nread;
    c->last_in_ms = sc_clock_ms();
    c->ping_sent_ms = 0; /* any input proves the peer alive */
    c->in_callback = 1;
    ret = sc_session_recv(c->s, c->env->rbuf, (size_t)nread, c->last_in_ms);
    c->in_callback = 0;
    post(c, ret);
}

static int start_reading(agent_conn *c)
{
    int e = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (e == 0) c->reading = 1;
    return e;
}

/* ---- timers ---------------------------------------------------------------- */

static uint64_t next_due(agent_conn *c, uint64_t now)
{
    const agent_peer_limits *l = &c->env->lim;
    uint64_t due = UINT64_MAX;
#define EARLIER(t)                                                                                 \
    do {                                                                                           \
        uint64_t t_ = (t);                                                                         \
        if (t_ < due) due = t_;                                                                    \
    } while (0)
    switch (c->state) {
    case AGENT_CONN_CONNECTING:
        EARLIER(c->created_ms + l->handshake_timeout_ms);
        break;
    case AGENT_CONN_HANDSHAKE:
        EARLIER(sc_session_deadline(c->s));
        break;
    case AGENT_CONN_OPEN:
        if (c->deadline_ms) EARLIER(c->deadline_ms);
        if (l->idle_ms != UINT64_MAX) EARLIER(c->last_act_ms + l->idle_ms);
        EARLIER((c->ping_sent_ms ? c->ping_sent_ms : c->last_in_ms) + l->ping_ms);
        break;
    case AGENT_CONN_CLOSING:
        EARLIER(c->linger_until);
        break;
    case AGENT_CONN_DEAD:
        return UINT64_MAX;
    }
    if (c->paused)
        EARLIER(now + agent_peer_bucket_wait(&c->bucket, l->stanza_rate, l->stanza_burst, now));
#undef EARLIER
    return due;
}

static void on_timer(uv_timer_t *t)
{
    agent_conn *c = t->data;
    const agent_peer_limits *l = &c->env->lim;
    uint64_t now = sc_clock_ms();
    int ret = SC_OK;
    if (c->state == AGENT_CONN_DEAD) return;
    if (c->paused &&
        agent_peer_bucket_wait(&c->bucket, l->stanza_rate, l->stanza_burst, now) == 0) {
        c->paused = 0;
        priv(c)->over_rate = 0;
        if (start_reading(c) != 0) {
            agent_conn_fail(c, AGENT_PEER_DOWN_ERROR, SC_ERR_IO, "cannot read the socket");
            return;
        }
    }
    switch (c->state) {
    case AGENT_CONN_CONNECTING:
        if (now >= c->created_ms + l->handshake_timeout_ms) {
            agent_conn_fail(c, AGENT_PEER_DOWN_ERROR, SC_ERR_IO, "connection timed out");
            return;
        }
        break;
    case AGENT_CONN_HANDSHAKE:
        if (now >= sc_session_deadline(c->s)) {
            c->in_callback = 1;
            ret = sc_session_tick(c->s, now);
            c->in_callback = 0;
        }
        break;
    case AGENT_CONN_OPEN:
        if (c->deadline_ms && now >= c->deadline_ms) {
            agent_conn_fail(c, AGENT_PEER_DOWN_ERROR, SC_ERR_TIMEOUT, c->deadline_why);
            return;
        }
        if (l->idle_ms != UINT64_MAX && now >= c->last_act_ms + l->idle_ms) {
            agent_conn_close(c, AGENT_PEER_DOWN_IDLE);
            return;
        }
        if (c->ping_sent_ms && now >= c->ping_sent_ms + l->ping_ms) {
            agent_conn_fail(c, AGENT_PEER_DOWN_PING, SC_ERR_IO, "the peer did not answer a ping");
            return;
        }
        if (!c->ping_sent_ms && now >= c->last_in_ms + l->ping_ms) {
            char id[24];
            snprintf(id, sizeof id, "p%llu", (unsigned long long)++c->ping_seq);
            sc_stanza ping = {.type = SC_STANZA_PING, .id = id};
            ret = sc_session_send_stanza(c->s, &ping);
            c->ping_sent_ms = now;
            c->stanzas_out++;
        }
        break;
    case AGENT_CONN_CLOSING:
        if (now >= c->linger_until) {
            teardown(c); /* the peer never answered our close_notify */
            return;
        }
        break;
    case AGENT_CONN_DEAD:
        return;
    }
    post(c, ret);
}

static void arm(agent_conn *c)
{
    uint64_t now = sc_clock_ms(), due = next_due(c, now);
    if (due == UINT64_MAX) {
        uv_timer_stop(&c->timer);
        return;
    }
    uv_timer_start(&c->timer, on_timer, due > now ? due - now : 0, 0);
}

/* ---- creation ---------------------------------------------------------------- */

static agent_conn *conn_new(agent_conn_env *env, agent_conn_cfg *cfg, int initiator)
{
    conn_priv *cp = calloc(1, sizeof *cp);
    agent_conn *c;
    if (cp == NULL) return NULL;
    c = &cp->c;
    c->env = env;
    c->initiator = initiator;
    c->created_ms = c->last_in_ms = c->last_act_ms = sc_clock_ms();
    agent_peer_bucket_init(&c->bucket, env->lim.stanza_burst, c->created_ms);
    if (uv_tcp_init(env->loop, &c->tcp) != 0) {
        free(cp);
        return NULL;
    }
    c->tcp.data = c;
    c->handles = 1;
    c->cfg = agent_conn_cfg_ref(cfg);
    if (uv_timer_init(env->loop, &c->timer) != 0) { /* cannot fail on Linux; closed if it does */
        cp->silent = 1;
        c->state = AGENT_CONN_DEAD;
        uv_close((uv_handle_t *)&c->tcp, on_closed);
        return NULL;
    }
    c->timer.data = c;
    c->handles = 2;
    return c;
}

static int start_session(agent_conn *c, sc_role role)
{
    int ret = sc_session_new(c->cfg->cfg, role, sc_clock_ms(), &c->s);
    if (ret != SC_OK) return ret;
    sc_session_set_callback(c->s, on_event, c);
    if (role == SC_ROLE_INITIATOR) {
        if ((ret = sc_session_set_expected_peer(c->s, priv(c)->expected)) != SC_OK ||
            (ret = sc_session_start(c->s)) != SC_OK)
            return ret;
    }
    c->state = AGENT_CONN_HANDSHAKE;
    (void)uv_tcp_nodelay(&c->tcp, 1); /* one stanza, one segment: latency over throughput */
    return start_reading(c) == 0 ? SC_OK : SC_ERR_IO;
}

agent_conn *agent_conn_accept(agent_conn_env *env, uv_stream_t *server, agent_conn_cfg *cfg)
{
    agent_conn *c = conn_new(env, cfg, 0);
    int len = (int)sizeof c->addr, ret;
    if (c == NULL) {
        uv_tcp_t *t = malloc(sizeof *t);
        if (t != NULL && uv_tcp_init(env->loop, t) == 0) {
            if (uv_accept(server, (uv_stream_t *)t) != 0) {
                /* nothing pending after all */
            }
            uv_close((uv_handle_t *)t, (uv_close_cb)free);
        } else {
            free(t);
        }
        return NULL;
    }
    c->state = AGENT_CONN_HANDSHAKE;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 ||
        uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&c->addr, &len) != 0) {
        c->closing_reported = 1;
        teardown(c);
        return c; /* ends without a report; the owner forgets it at `ended` */
    }
    if ((ret = start_session(c, SC_ROLE_RESPONDER)) != SC_OK) {
        agent_conn_fail(c, AGENT_PEER_DOWN_ERROR, ret, sc_strerror(ret));
        return c;
    }
    arm(c);
    return c;
}

static void on_connect(uv_connect_t *req, int status)
{
    agent_conn *c = req->data;
    int ret;
    if (c->state == AGENT_CONN_DEAD) return; /* cancelled */
    if (status < 0) {
        agent_conn_fail(c, AGENT_PEER_DOWN_ERROR, SC_ERR_IO, uv_strerror(status));
        return;
    }
    if ((ret = start_session(c, SC_ROLE_INITIATOR)) != SC_OK) {
        agent_conn_fail(c, AGENT_PEER_DOWN_ERROR, ret, sc_strerror(ret));
        return;
    }
    if (c->env->ops->connected) c->env->ops->connected(c->env->owner, c);
    post(c, SC_OK);
}

agent_conn *agent_conn_connect(agent_conn_env *env, const struct sockaddr *addr,
                               agent_conn_cfg *cfg, const char *user, int *err)
{
    agent_conn *c = conn_new(env, cfg, 1);
    int e;
    *err = SC_ERR_NOMEM;
    if (c == NULL) return NULL;
    snprintf(priv(c)->expected, sizeof priv(c)->expected, "%s", user);
    memcpy(&c->addr, addr,
           addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
    c->state = AGENT_CONN_CONNECTING;
    priv(c)->creq.data = c;
    if ((e = uv_tcp_connect(&priv(c)->creq, &c->tcp, addr, on_connect)) != 0) {
        /* No callback comes for a connect that did not start: close quietly. */
        c->closing_reported = 1;
        priv(c)->silent = 1;
        teardown(c);
        *err = SC_ERR_IO;
        return NULL;
    }
    arm(c);
    *err = SC_OK;
    return c;
}

/* ---- sending ------------------------------------------------------------------ */

int agent_conn_send_stanza(agent_conn *c, const sc_stanza *st)
{
    int ret;
    if (c->state != AGENT_CONN_OPEN) return SC_ERR_STATE;
    if ((ret = sc_session_send_stanza(c->s, st)) != SC_OK) {
        if (ret == SC_ERR_ARG || ret == SC_ERR_TOO_LARGE)
            return ret; /* the stanza, not the session */
        if (!c->in_callback) post(c, ret);
        return ret;
    }
    c->stanzas_out++;
    if (st->type != SC_STANZA_PING && st->type != SC_STANZA_PONG) c->last_act_ms = sc_clock_ms();
    if (!c->in_callback) post(c, SC_OK);
    return SC_OK;
}

int agent_conn_send_file(agent_conn *c, const char *id, uint64_t offset, const uint8_t *data,
                         size_t len)
{
    int ret;
    if (c->state != AGENT_CONN_OPEN) return SC_ERR_STATE;
    if (agent_conn_queued(c) > c->env->lim.max_output / 2) {
        c->drain_wanted = 1;
        return SC_ERR_TOO_LARGE;
    }
    if ((ret = sc_session_send_file_data(c->s, id, offset, data, len)) != SC_OK) {
        if (ret == SC_ERR_ARG || ret == SC_ERR_TOO_LARGE) return ret;
        if (!c->in_callback) post(c, ret);
        return ret;
    }
    c->last_act_ms = sc_clock_ms();
    if (!c->in_callback) post(c, SC_OK);
    return SC_OK;
}
