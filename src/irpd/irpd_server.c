/*
 * irpd_server.c - libuv listener, TLS over memory BIOs, framing, dispatch
 * (irpd_server.h; docs/IRP.md 3).
 */
#include "irpd_server.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <uv.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "irp_frame.h"
#include "irpd_handlers.h"
#include "irpd_ratelimit.h"
#include "sixchat/error.h"

#define READ_CHUNK 16384
#define WATCH_IDLE_S 900 /* docs/IRP.md 3.6: idle with a watch */
/*
 * docs/IRP.md 9.3: output a connection may have waiting before the server
 * stops reading its requests. Checked between decrypted chunks, so a client
 * that pipelines without reading makes the server hold at most this plus
 * the answers to one chunk of requests, then nothing more until it reads.
 */
#define OUT_CAP (256 * 1024)

typedef struct irpd_server irpd_server;

/* A response held until its read batch commits (docs/IRP.md 10.2). */
typedef struct held {
    size_t off, len; /* in conn.held */
    char id[IRP_ID_MAX + 1];
    int has_id;
    int tainted; /* produced after a change of the batch: 500 if the commit fails */
} held;

/* What to do once the batch committed: tell watchers, close revoked connections. */
typedef struct action {
    int revoked; /* 0: bindings of user changed (why); 1: fp revoked */
    int policy;  /* user changed their lookup policy: recheck every watch of them */
    char user[IRPD_STORE_USER_MAX + 1];
    irp_change why;
    uint8_t fp[32];
} action;

typedef struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    irpd_server *srv;
    SSL *ssl;
    BIO *rbio, *wbio; /* owned by ssl */
    irp_framer fr;
    irpd_session sess;
    char peer[IRP_ADDR_STRLEN + 8];
    int hs_done;
    int closing;         /* uv_close called */
    int close_when_sent; /* close once queued writes are done */
    int handles_open;    /* tcp and timer: free when both closed */
    size_t writes;       /* uv_write requests in flight */
    /* the read batch (group commit) */
    int batch;   /* irpd_store_batch_begin succeeded */
    int dirty;   /* a request of the batch may have changed something */
    int stop_rd; /* stop handling this read's requests (own certificate revoked) */
    sc_buf held; /* framed responses, in order */
    held *hl;
    size_t n_hl, cap_hl;
    action *acts;
    size_t n_acts, cap_acts;
    /* timeouts (docs/IRP.md 3.6), uv_now milliseconds; 0 = not running */
    uint64_t last_rd, frame_t0, out_t0;
    int paused; /* reading stopped until the client takes its output (OUT_CAP) */
    struct conn *prev, *next;
} conn;

typedef struct listener {
    uv_tcp_t tcp;
    irpd_server *srv;
} listener;

struct irpd_server {
    uv_loop_t loop;
    const irpd_config *cfg;
    irpd_ca *ca;
    irpd_store *st;
    SSL_CTX *ctx;
    irpd_hctx h;
    listener lis[IRPD_CONFIG_MAX_LISTEN];
    size_t n_lis;
    uv_signal_t sigterm, sigint;
    uv_timer_t tick;
    unsigned ticks;
    conn *conns;
    size_t n_conns;
    int stopping;
    irpd_ratelimit rl_user, rl_addr; /* docs/IRP.md 9.1 */
    uint8_t rd[READ_CHUNK];          /* libuv reads land here; consumed at once */
    uint8_t plain[READ_CHUNK];       /* decrypted bytes */
};

static void arm_idle(conn *c);
static void conn_drive(conn *c);
static void on_alloc(uv_handle_t *hd, size_t want, uv_buf_t *buf);
static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf);

static size_t queued(conn *c)
{
    return uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);
}

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

/* ---- closing ------------------------------------------------------------------ */

static void conn_freed(uv_handle_t *hd)
{
    conn *c = hd->data;

    if (--c->handles_open > 0) return;
    SSL_free(c->ssl);
    irp_framer_free(&c->fr);
    sc_buf_dispose(&c->held);
    free(c->hl);
    free(c->acts);
    irpd_session_clear(&c->sess);
    free(c);
}

static void conn_close(conn *c)
{
    irpd_server *s = c->srv;

    if (c->closing) return;
    c->closing = 1;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next != NULL) c->next->prev = c->prev;
    s->n_conns--;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->tcp, conn_freed);
    uv_close((uv_handle_t *)&c->timer, conn_freed);
}

static void conn_close_soon(conn *c)
{
    c->close_when_sent = 1;
    if (c->writes == 0) conn_close(c);
}

/* ---- output ------------------------------------------------------------------- */

typedef struct wreq {
    uv_write_t req;
    conn *c;
    uv_buf_t buf;
} wreq;

static void on_written(uv_write_t *req, int status)
{
    wreq *w = (wreq *)req;
    conn *c = w->c;

    free(w->buf.base);
    free(w);
    c->writes--;
    if (c->closing) return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    if (c->close_when_sent && c->writes == 0) {
        conn_close(c);
        return;
    }
    if (c->out_t0 != 0 && uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) == 0) {
        c->out_t0 = 0; /* the client reads again */
        if (c->hs_done && !c->close_when_sent) arm_idle(c);
    }
    /* The client took enough of its answers: read (and answer) its requests again. */
    if (c->paused && queued(c) < OUT_CAP / 2) {
        c->paused = 0;
        if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
            conn_close(c);
            return;
        }
        conn_drive(c); /* requests already received and decrypted wait in the TLS buffers */
    }
}

/* Hands what TLS produced to libuv. */
static void conn_flush(conn *c)
{
    size_t n;

    while (!c->closing && (n = BIO_ctrl_pending(c->wbio)) > 0) {
        wreq *w = malloc(sizeof(*w));
        char *p = malloc(n);
        int got;

        if (w == NULL || p == NULL) {
            free(w);
            free(p);
            conn_close(c);
            return;
        }
        got = BIO_read(c->wbio, p, (int)n);
        if (got <= 0) {
            free(w);
            free(p);
            return;
        }
        w->c = c;
        w->buf = uv_buf_init(p, (unsigned)got);
        if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &w->buf, 1, on_written) != 0) {
            free(w);
            free(p);
            conn_close(c);
            return;
        }
        c->writes++;
    }
    /* 3.6: output the client does not take starts the write timeout */
    if (!c->closing && c->out_t0 == 0 &&
        uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > 0) {
        c->out_t0 = uv_now(&c->srv->loop);
        if (c->hs_done && !c->close_when_sent) arm_idle(c);
    }
}

/* Encrypts out[0..len) for the connection (a memory BIO never refuses). */
static int conn_send(conn *c, const uint8_t *p, size_t len)
{
    size_t off = 0;

    while (off < len) {
        int n = SSL_write(c->ssl, p + off, (int)(len - off));
        if (n <= 0) return -1;
        off += (size_t)n;
    }
    return 0;
}

/* ---- events to watchers, closing revoked connections ------------------------------- */

static void notify_watchers(irpd_server *s, const char *user, irp_change why, int64_t now)
{
    conn *c;

    for (c = s->conns; c != NULL; c = c->next) {
        sc_buf out;
        if (c->closing || !c->hs_done || !irpd_session_watches(&c->sess, user)) continue;
        sc_buf_init_public(&out, 0);
        if (irpd_event_build(&s->h, &c->sess, user, why, 0, now, &out) == 0 &&
            conn_send(c, out.data, out.len) == 0)
            conn_flush(c);
        else
            conn_close_soon(c);
        sc_buf_dispose(&out);
    }
}

static void end_watches(conn *c, irp_change why, int64_t now)
{
    size_t i;

    for (i = 0; i < c->sess.n_watches; i++) {
        sc_buf out;
        sc_buf_init_public(&out, 0);
        if (irpd_event_build(&c->srv->h, &c->sess, c->sess.watches[i], why, 1, now, &out) == 0)
            (void)conn_send(c, out.data, out.len);
        sc_buf_dispose(&out);
    }
    c->sess.n_watches = 0;
}

/* docs/IRP.md 6.12: after the answer, connections of a revoked certificate end. */
static void close_revoked(irpd_server *s, const uint8_t fp[32], int64_t now)
{
    conn *c, *next;

    for (c = s->conns; c != NULL; c = next) {
        next = c->next;
        if (c->closing || !c->sess.cert_auth || memcmp(c->sess.client.fingerprint, fp, 32) != 0)
            continue;
        end_watches(c, IRP_CHANGE_REVOKE, now);
        (void)SSL_shutdown(c->ssl);
        conn_flush(c);
        conn_close_soon(c);
    }
}

/* ---- requests ------------------------------------------------------------------ */

/* docs/IRP.md 6.14: a tightened policy ends the watches it no longer allows (watch-end). */
static void end_disallowed_watches(irpd_server *s, const char *owner, int64_t now)
{
    for (conn *o = s->conns; o != NULL; o = o->next) {
        if (o->closing || !o->hs_done || o->sess.n_watches == 0) continue;
        sc_buf ev;
        sc_buf_init_public(&ev, 0);
        int r = irpd_policy_recheck(&s->h, &o->sess, owner, now, &ev);
        if (r < 0 || (r > 0 && conn_send(o, ev.data, ev.len) != 0))
            conn_close_soon(o);
        else if (r > 0)
            conn_flush(o);
        sc_buf_dispose(&ev);
    }
}

static void log_request(conn *c, const irpd_hresult *res)
{
    const char *op = res->op != IRP_OP_NONE ? irp_op_name(res->op) : "-";
    const char *user = c->sess.cert_auth ? c->sess.client.user_id
                       : c->sess.pw_auth ? c->sess.pw_user
                                         : "-";

    fprintf(stderr, "irpd: info: %s %s %s id=%s status=%d%s%s\n", c->peer, user, op,
            res->id[0] != '\0' ? res->id : "-", res->status, res->detail[0] != '\0' ? " " : "",
            res->detail);
}

/* Ops that may change stored data (docs/IRP.md 6.0; the gets of the last three too). */
static int may_write(irp_op op)
{
    switch (op) {
    case IRP_OP_ENROLL:
    case IRP_OP_RENEW:
    case IRP_OP_REGISTER:
    case IRP_OP_UNREGISTER:
    case IRP_OP_REVOKE:
    case IRP_OP_USER_INFO:
    case IRP_OP_LOOKUP_POLICY:
    case IRP_OP_PKCS12_PUT:
        return 1;
    default:
        return 0;
    }
}

static int add_action(conn *c, const action *a)
{
    if (c->n_acts == c->cap_acts) {
        size_t cap = c->cap_acts != 0 ? c->cap_acts * 2 : 8;
        action *n = realloc(c->acts, cap * sizeof(*n));
        if (n == NULL) return -1;
        c->acts = n;
        c->cap_acts = cap;
    }
    c->acts[c->n_acts++] = *a;
    return 0;
}

/* Records the response framed at held[off..] (id may be NULL). */
static int add_held(conn *c, size_t off, const char *id)
{
    held *h;

    if (!sc_buf_ok(&c->held)) return -1;
    if (c->n_hl == c->cap_hl) {
        size_t cap = c->cap_hl != 0 ? c->cap_hl * 2 : 16;
        held *n = realloc(c->hl, cap * sizeof(*n));
        if (n == NULL) return -1;
        c->hl = n;
        c->cap_hl = cap;
    }
    h = &c->hl[c->n_hl++];
    h->off = off;
    h->len = c->held.len - off;
    h->has_id = id != NULL && id[0] != '\0';
    snprintf(h->id, sizeof(h->id), "%s", h->has_id ? id : "");
    h->tainted = c->dirty;
    return 0;
}

/* Appends one framed status response to out. 0 or -1. */
static int put_status(sc_buf *out, const char *id, int status, const char *msg)
{
    size_t start = irp_frame_begin(out);

    if (irp_resp_write_status(out, id, status, msg) != 0 || irp_frame_end(out, start) != 0)
        return -1;
    return sc_buf_ok(out) ? 0 : -1;
}

/*
 * docs/IRP.md 9.1: a login or a token enroll from a source address, or a
 * login for a user, that used up its failures is answered 429 unprocessed.
 * Fills what the caller needs to count a failure afterwards.
 */
static int has_sub(const uint8_t *p, size_t len, const char *sub)
{
    size_t n = strlen(sub), i;

    for (i = 0; i + n <= len; i++)
        if (memcmp(p + i, sub, n) == 0) return 1;
    return 0;
}

typedef struct rl_req {
    int login, token_enroll;
    char id[IRP_ID_MAX + 1];
    char ukey[IRPD_RL_KEY_MAX], akey[IRPD_RL_KEY_MAX];
} rl_req;

static int rl_check(conn *c, const uint8_t *doc, size_t len, int64_t now, rl_req *q)
{
    irpd_server *s = c->srv;
    irp_req r;

    memset(q, 0, sizeof(*q));
    if (!has_sub(doc, len, "\"login\"") && !has_sub(doc, len, "\"enroll\"")) return 0;
    irp_req_init(&r);
    if (irp_req_parse_with(s->h.xp, &r, doc, len) == 0) {
        if (r.op == IRP_OP_LOGIN && r.user != NULL) {
            q->login = 1;
            irpd_rl_user_key(r.user, q->ukey);
        } else if (r.op == IRP_OP_ENROLL && r.token != NULL) {
            q->token_enroll = 1;
        }
        snprintf(q->id, sizeof(q->id), "%s", r.id);
    }
    irp_req_clear(&r);
    if (!q->login && !q->token_enroll) return 0;
    if (c->sess.has_peer) irpd_rl_addr_key(&c->sess.peer, q->akey);
    if (q->login && irpd_rl_blocked(&s->rl_user, q->ukey, now)) return 1;
    if (q->akey[0] != '\0' && irpd_rl_blocked(&s->rl_addr, q->akey, now)) return 1;
    return 0;
}

static void rl_count(conn *c, const rl_req *q, int status, int64_t now)
{
    irpd_server *s = c->srv;

    if (q->login && status == IRP_AUTH_REQUIRED) {
        irpd_rl_fail(&s->rl_user, q->ukey, now);
        if (q->akey[0] != '\0') irpd_rl_fail(&s->rl_addr, q->akey, now);
    } else if (q->token_enroll &&
               (status == IRP_AUTH_REQUIRED || status == IRP_FORBIDDEN || status == IRP_GONE)) {
        if (q->akey[0] != '\0') irpd_rl_fail(&s->rl_addr, q->akey, now);
    }
}

/*
 * Handles one document of the current read batch: its response is held in
 * c->held until batch_end. Returns 0, or -1 when the connection must close
 * (memory).
 */
static int handle_doc(conn *c, const uint8_t *doc, size_t len)
{
    irpd_server *s = c->srv;
    irpd_hresult res;
    int64_t now = now_s();
    size_t off = c->held.len;
    rl_req q;
    action a;

    if (!c->batch && irpd_store_batch_begin(s->st) == IRP_OK) c->batch = 1;
    if (rl_check(c, doc, len, now, &q)) {
        fprintf(stderr, "irpd: info: %s - %s id=%s status=429 too many failures\n", c->peer,
                q.login ? "login" : "enroll", q.id[0] != '\0' ? q.id : "-");
        if (put_status(&c->held, q.id, IRP_RATE_LIMITED, "too many failed attempts: try later") !=
            0)
            return -1;
        return add_held(c, off, q.id);
    }
    memset(&res, 0, sizeof(res));
    if (irpd_handle(&s->h, &c->sess, doc, len, now, &c->held, &res) != 0) return -1;
    rl_count(c, &q, res.status, now);
    if (may_write(res.op) && res.status == IRP_OK) c->dirty = 1;
    if (add_held(c, off, res.id) != 0) return -1;
    log_request(c, &res);
    memset(&a, 0, sizeof(a));
    if (res.changed) {
        snprintf(a.user, sizeof(a.user), "%s", res.changed_user);
        a.why = res.change;
        if (add_action(c, &a) != 0) return -1;
    }
    if (res.policy_changed) {
        memset(&a, 0, sizeof(a));
        a.policy = 1;
        snprintf(a.user, sizeof(a.user), "%s", res.policy_user);
        if (add_action(c, &a) != 0) return -1;
        memset(&a, 0, sizeof(a));
    }
    if (res.revoked) {
        a.revoked = 1;
        memcpy(a.fp, res.revoked_fp, 32);
        if (add_action(c, &a) != 0) return -1;
        /* 6.12: the revoked certificate's own connection ends after this answer */
        if (c->sess.cert_auth && memcmp(c->sess.client.fingerprint, res.revoked_fp, 32) == 0)
            c->stop_rd = 1;
    }
    return 0;
}

/*
 * Ends the read batch: commits it (docs/IRP.md 10.2), then sends the held
 * responses in order (500 for those after a change if the commit failed),
 * then tells watchers and closes revoked connections. -1 when sending failed.
 */
static int batch_end(conn *c)
{
    irpd_server *s = c->srv;
    int ok = 1, rc = 0;
    size_t i;

    if (c->batch) {
        c->batch = 0;
        if (irpd_store_batch_commit(s->st) != IRP_OK) {
            ok = 0;
            fprintf(stderr, "irpd: error: %s commit failed: %s\n", c->peer,
                    irpd_store_errmsg(s->st));
        }
    }
    if (ok) {
        if (c->held.len > 0 && conn_send(c, c->held.data, c->held.len) != 0) rc = -1;
    } else {
        for (i = 0; i < c->n_hl && rc == 0; i++) {
            const held *h = &c->hl[i];
            if (h->tainted) {
                sc_buf o;
                sc_buf_init_public(&o, 0);
                if (put_status(&o, h->has_id ? h->id : NULL, IRP_INTERNAL,
                               "internal error: not stored") != 0 ||
                    conn_send(c, o.data, o.len) != 0)
                    rc = -1;
                sc_buf_dispose(&o);
            } else if (conn_send(c, c->held.data + h->off, h->len) != 0) {
                rc = -1;
            }
        }
        c->n_acts = 0; /* nothing changed */
    }
    sc_buf_reset(&c->held);
    c->n_hl = 0;
    c->dirty = 0;
    conn_flush(c);
    for (i = 0; i < c->n_acts; i++) {
        int64_t now = now_s();
        if (c->acts[i].revoked)
            close_revoked(s, c->acts[i].fp, now);
        else if (c->acts[i].policy)
            end_disallowed_watches(s, c->acts[i].user, now);
        else
            notify_watchers(s, c->acts[i].user, c->acts[i].why, now);
    }
    c->n_acts = 0;
    return rc;
}

/* A refused frame header: one response without id, then close (docs/IRP.md 3.4). */
static void frame_error(conn *c, int status)
{
    sc_buf out;

    sc_buf_init_public(&out, 0);
    if (put_status(&out, NULL, status, status == IRP_TOO_LARGE ? "frame too large" : "bad frame") ==
        0)
        (void)conn_send(c, out.data, out.len);
    sc_buf_dispose(&out);
    fprintf(stderr, "irpd: info: %s frame refused status=%d, closing\n", c->peer, status);
    (void)SSL_shutdown(c->ssl);
    conn_flush(c);
    conn_close_soon(c);
}

/*
 * Reads all plaintext TLS has, frames it and handles each document; the
 * documents of one read callback form one batch (group commit, 10.2).
 */
static void conn_read_plain(conn *c)
{
    int ferr = 0, eof = 0, fatal = 0;

    for (;;) {
        int n = SSL_read(c->ssl, c->srv->plain, sizeof(c->srv->plain));
        size_t off = 0;

        if (n <= 0) {
            int e = SSL_get_error(c->ssl, n);
            if (e != SSL_ERROR_WANT_READ) eof = e == SSL_ERROR_ZERO_RETURN ? 1 : 2;
            break;
        }
        while (off < (size_t)n && !c->stop_rd) {
            const uint8_t *doc;
            size_t used = 0, dlen;
            int r =
                irp_framer_feed(&c->fr, c->srv->plain + off, (size_t)n - off, &used, &doc, &dlen);
            off += used;
            if (r == IRP_FEED_DOC) {
                if (handle_doc(c, doc, dlen) != 0) {
                    fatal = 1;
                    break;
                }
            } else if (r != IRP_FEED_NEED) {
                ferr = r;
                break;
            }
        }
        if (fatal || ferr != 0 || c->stop_rd) break;
        if (c->held.len + queued(c) > OUT_CAP) {
            c->paused = 1; /* the rest stays in the TLS buffers until the client reads */
            break;
        }
    }
    if (batch_end(c) != 0) fatal = 1;
    if (c->closing || c->close_when_sent) return;
    if (ferr != 0 && !fatal) {
        frame_error(c, ferr);
        return;
    }
    if (fatal || eof != 0 || c->stop_rd) {
        if (eof == 1) (void)SSL_shutdown(c->ssl);
        conn_flush(c);
        conn_close_soon(c);
    }
}

static void on_timeout(uv_timer_t *t)
{
    conn *c = t->data;
    uint64_t now = uv_now(t->loop);
    const irpd_config *cfg = c->srv->cfg;
    const char *what = !c->hs_done ? "handshake"
                       : c->out_t0 != 0 && now - c->out_t0 >= (uint64_t)cfg->write_timeout * 1000
                           ? "write"
                       : c->frame_t0 != 0 ? "frame"
                                          : "idle";

    fprintf(stderr, "irpd: info: %s %s timeout, closing\n", c->peer, what);
    conn_close(c);
}

/* docs/IRP.md 3.6: the earliest of the idle, frame and write deadlines. */
static void arm_idle(conn *c)
{
    const irpd_config *cfg = c->srv->cfg;
    uint64_t now = uv_now(&c->srv->loop), deadline;
    uint64_t idle = (uint64_t)(c->sess.n_watches > 0 ? WATCH_IDLE_S : cfg->idle_timeout) * 1000;

    if (c->closing || !c->hs_done) return;
    if (irp_framer_pending(&c->fr) > 0) {
        if (c->frame_t0 == 0) c->frame_t0 = now;
    } else {
        c->frame_t0 = 0;
    }
    deadline = c->last_rd + idle;
    if (c->frame_t0 != 0 && c->frame_t0 + (uint64_t)cfg->frame_timeout * 1000 < deadline)
        deadline = c->frame_t0 + (uint64_t)cfg->frame_timeout * 1000;
    if (c->out_t0 != 0 && c->out_t0 + (uint64_t)cfg->write_timeout * 1000 < deadline)
        deadline = c->out_t0 + (uint64_t)cfg->write_timeout * 1000;
    uv_timer_start(&c->timer, on_timeout, deadline > now ? deadline - now : 0, 0);
}

static void conn_drive(conn *c)
{
    if (!c->hs_done) {
        int r = SSL_do_handshake(c->ssl);
        if (r != 1) {
            int e = SSL_get_error(c->ssl, r);
            conn_flush(c); /* the next flight, or the alert */
            if (e != SSL_ERROR_WANT_READ) {
                unsigned long err = ERR_peek_last_error();
                fprintf(stderr, "irpd: info: %s handshake failed: %s\n", c->peer,
                        err != 0 ? ERR_reason_error_string(err) : "connection error");
                ERR_clear_error();
                conn_close_soon(c);
            }
            return;
        }
        c->hs_done = 1;
    }
    c->last_rd = uv_now(&c->srv->loop);
    conn_read_plain(c);
    if (!c->closing) {
        conn_flush(c);
        if (c->paused && !c->closing) uv_read_stop((uv_stream_t *)&c->tcp);
        if (!c->close_when_sent) arm_idle(c);
    }
}

static void on_alloc(uv_handle_t *hd, size_t want, uv_buf_t *buf)
{
    conn *c = hd->data;
    (void)want;
    *buf = uv_buf_init((char *)c->srv->rd, sizeof(c->srv->rd));
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    conn *c = st->data;

    if (n == 0) return;
    if (n < 0) {
        conn_close(c);
        return;
    }
    if (c->close_when_sent) return; /* ignore input after we decided to close */
    if (BIO_write(c->rbio, buf->base, (int)n) != (int)n) {
        conn_close(c);
        return;
    }
    conn_drive(c);
}

/* ---- TLS context --------------------------------------------------------------- */

static int map_verify_error(int sc)
{
    switch (sc) {
    case SC_ERR_UNKNOWN_CA:
        return X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
    case SC_ERR_CERTIFICATE_EXPIRED:
        return X509_V_ERR_CERT_HAS_EXPIRED;
    case SC_ERR_CERTIFICATE_REVOKED:
        return X509_V_ERR_CERT_REVOKED;
    default:
        return X509_V_ERR_CERT_REJECTED;
    }
}

/*
 * docs/IRP.md 3.3: the whole client chain is checked by irpd_ca (the rules
 * peers apply) and against the store's revocations; a refused certificate
 * fails the handshake with its alert rather than falling back to anonymous.
 */
static int verify_chain_cb(X509_STORE_CTX *xs, void *arg)
{
    irpd_server *s = arg;
    SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    conn *c = ssl != NULL ? SSL_get_app_data(ssl) : NULL;
    X509 *leaf = X509_STORE_CTX_get0_cert(xs);
    irpd_client who;
    irpd_ca_err err;
    irpd_cert rec;
    int st;

    if (c == NULL || leaf == NULL) return 0;
    if (irpd_ca_verify_client(s->ca, leaf, X509_STORE_CTX_get0_untrusted(xs), now_s(), &who,
                              &err) != IRPD_CA_OK) {
        fprintf(stderr, "irpd: info: %s client certificate refused: %s\n", c->peer, err.msg);
        X509_STORE_CTX_set_error(xs, map_verify_error(err.sc));
        return 0;
    }
    st = irpd_store_cert_get_fp(s->st, who.fingerprint, &rec, NULL, 0);
    if (st == IRP_NOT_FOUND && who.issued_here)
        st = irpd_store_cert_get_serial(s->st, who.serial_hex, &rec, NULL, 0);
    if ((st == IRP_OK && rec.status == IRPD_CERT_REVOKED) ||
        (st != IRP_OK && st != IRP_NOT_FOUND)) {
        fprintf(stderr, "irpd: info: %s client certificate %s refused: %s\n", c->peer,
                who.serial_hex, st == IRP_OK ? "revoked" : "store failure");
        X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REVOKED);
        return 0;
    }
    if (irpd_session_set_cert(&c->sess, leaf, &who) != 0) {
        X509_STORE_CTX_set_error(xs, X509_V_ERR_OUT_OF_MEM);
        return 0;
    }
    return 1;
}

/* Accepts every chain at the first stage: verify_chain_cb decides. */
static int verify_accept(int ok, X509_STORE_CTX *xs)
{
    (void)ok;
    (void)xs;
    return 1;
}

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    static const unsigned char irp1[] = {'i', 'r', 'p', '/', '1'};
    unsigned int i = 0;

    (void)ssl;
    (void)arg;
    while (i < inlen) {
        unsigned int n = in[i];
        if (i + 1 + n > inlen) break;
        if (n == sizeof(irp1) && memcmp(in + i + 1, irp1, n) == 0) {
            *out = in + i + 1;
            *outlen = (unsigned char)n;
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + n;
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL; /* docs/IRP.md 3.1: no_application_protocol */
}

static SSL_CTX *make_ctx(irpd_server *s)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    if (ctx == NULL) return NULL;
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
        !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
        SSL_CTX_use_certificate(ctx, irpd_ca_server_cert(s->ca)) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, irpd_ca_server_key(s->ca)) != 1 ||
        SSL_CTX_add1_chain_cert(ctx, irpd_ca_cert(s->ca)) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1 || !SSL_CTX_set1_groups_list(ctx, "X25519:P-256")) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    /* 3.1: no tickets, no resumption, no early data */
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    (void)SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    (void)SSL_CTX_set_max_early_data(ctx, 0);
    /* 3.3: ask for a client certificate, do not require one */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_accept);
    SSL_CTX_set_cert_verify_callback(ctx, verify_chain_cb, s);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
    return ctx;
}

/* ---- accepting ------------------------------------------------------------------- */

static void peer_of(conn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    char a[IRP_ADDR_STRLEN];

    snprintf(c->peer, sizeof(c->peer), "?");
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0) return;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        c->sess.has_peer = irp_addr_set(&c->sess.peer, 4, (const uint8_t *)&in->sin_addr) == 0;
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *in = (struct sockaddr_in6 *)&ss;
        c->sess.has_peer = irp_addr_set(&c->sess.peer, 6, in->sin6_addr.s6_addr) == 0;
    }
    if (c->sess.has_peer && irp_addr_format(&c->sess.peer, a) == 0)
        snprintf(c->peer, sizeof(c->peer), "%s", a);
}

static void on_connection(uv_stream_t *server, int status)
{
    listener *l = server->data;
    irpd_server *s = l->srv;
    conn *c;

    if (status < 0 || s->stopping) return;
    c = calloc(1, sizeof(*c));
    if (c == NULL) return;
    c->srv = s;
    uv_tcp_init(&s->loop, &c->tcp);
    uv_timer_init(&s->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->handles_open = 2;
    irp_framer_init(&c->fr);
    sc_buf_init_public(&c->held, 0);
    irpd_session_init(&c->sess);
    c->next = s->conns;
    if (s->conns != NULL) s->conns->prev = c;
    s->conns = c;
    s->n_conns++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c);
        return;
    }
    peer_of(c);
    if (s->n_conns > s->cfg->max_connections) {
        fprintf(stderr, "irpd: info: %s refused: %zu connections\n", c->peer, s->n_conns - 1);
        conn_close(c);
        return;
    }
    c->ssl = SSL_new(s->ctx);
    c->rbio = BIO_new(BIO_s_mem());
    c->wbio = BIO_new(BIO_s_mem());
    if (c->ssl == NULL || c->rbio == NULL || c->wbio == NULL) {
        BIO_free(c->rbio);
        BIO_free(c->wbio);
        conn_close(c);
        return;
    }
    SSL_set_bio(c->ssl, c->rbio, c->wbio);
    SSL_set_app_data(c->ssl, c);
    SSL_set_accept_state(c->ssl);
    uv_tcp_nodelay(&c->tcp, 1);
    uv_timer_start(&c->timer, on_timeout, (uint64_t)s->cfg->handshake_timeout * 1000, 0);
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) conn_close(c);
}

static int listen_on(irpd_server *s, const char *spec)
{
    char host[IRPD_CONFIG_STR_MAX], shown[IRP_ADDR_STRLEN];
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    uint16_t port;
    listener *l = &s->lis[s->n_lis];
    int r;

    if (irpd_config_split_listen(spec, host, sizeof(host), &port) != 0) {
        fprintf(stderr, "irpd: error: bad listen address '%s'\n", spec);
        return -1;
    }
    if (strchr(host, ':') != NULL)
        r = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss);
    else
        r = uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
    if (r != 0) {
        fprintf(stderr, "irpd: error: bad listen address '%s'\n", spec);
        return -1;
    }
    uv_tcp_init(&s->loop, &l->tcp);
    l->tcp.data = l;
    l->srv = s;
    s->n_lis++;
    if ((r = uv_tcp_bind(&l->tcp, (struct sockaddr *)&ss, 0)) != 0 ||
        (r = uv_listen((uv_stream_t *)&l->tcp, 511, on_connection)) != 0 ||
        (r = uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&ss, &len)) != 0) {
        fprintf(stderr, "irpd: error: listen on %s: %s\n", spec, uv_strerror(r));
        return -1;
    }
    if (ss.ss_family == AF_INET6) {
        uv_ip6_name((struct sockaddr_in6 *)&ss, shown, sizeof(shown));
        port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        printf("irpd ready on [%s]:%u\n", shown, (unsigned)port);
    } else {
        uv_ip4_name((struct sockaddr_in *)&ss, shown, sizeof(shown));
        port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        printf("irpd ready on %s:%u\n", shown, (unsigned)port);
    }
    fflush(stdout);
    return 0;
}

/* ---- timers, signals, shutdown --------------------------------------------------- */

typedef struct swept {
    char users[64][IRPD_STORE_USER_MAX + 1];
    size_t n;
} swept;

static int on_swept(void *arg, const irpd_binding *b)
{
    swept *w = arg;
    size_t i;

    for (i = 0; i < w->n; i++)
        if (strcasecmp(w->users[i], b->user) == 0) return 0;
    if (w->n < 64) snprintf(w->users[w->n++], sizeof(w->users[0]), "%s", b->user);
    return 0;
}

/* Every second: write queued lookup records (10.4); every 5 s: the sweep (10.3). */
static void on_tick(uv_timer_t *t)
{
    irpd_server *s = t->data;
    int64_t now = now_s();

    if (irpd_store_flush(s->st) != IRP_OK)
        fprintf(stderr, "irpd: error: audit flush: %s\n", irpd_store_errmsg(s->st));
    if (++s->ticks % 5 == 0) {
        swept w;
        size_t n = 0, i;
        w.n = 0;
        if (irpd_store_sweep(s->st, now, on_swept, &w, &n) != IRP_OK) {
            fprintf(stderr, "irpd: error: sweep: %s\n", irpd_store_errmsg(s->st));
            return;
        }
        if (n > 0) fprintf(stderr, "irpd: info: sweep: %zu binding(s) expired\n", n);
        for (i = 0; i < w.n; i++)
            notify_watchers(s, w.users[i], IRP_CHANGE_EXPIRE, now);
    }
}

static void close_any(uv_handle_t *hd, void *arg)
{
    (void)arg;
    if (!uv_is_closing(hd)) uv_close(hd, NULL);
}

/* 10.6: stop accepting; requests already read were answered in their read callback. */
static void on_signal(uv_signal_t *sig, int signum)
{
    irpd_server *s = sig->data;
    conn *c, *next;
    size_t i;

    if (s->stopping) return;
    s->stopping = 1;
    s->h.shutting_down = 1;
    fprintf(stderr, "irpd: info: signal %d: shutting down\n", signum);
    for (i = 0; i < s->n_lis; i++)
        uv_close((uv_handle_t *)&s->lis[i].tcp, NULL);
    uv_timer_stop(&s->tick);
    uv_close((uv_handle_t *)&s->tick, NULL);
    uv_close((uv_handle_t *)&s->sigterm, NULL);
    uv_close((uv_handle_t *)&s->sigint, NULL);
    for (c = s->conns; c != NULL; c = next) {
        next = c->next;
        if (c->hs_done) {
            end_watches(c, IRP_CHANGE_SHUTDOWN, now_s());
            (void)SSL_shutdown(c->ssl);
            conn_flush(c);
        }
        conn_close_soon(c);
    }
}

int irpd_server_run(const char *dir, const irpd_config *cfg)
{
    irpd_server *s = calloc(1, sizeof(*s));
    char path[4096];
    irpd_ca_err err;
    unsigned char *der = NULL;
    int n, rc = 1;
    size_t i;
    irp_status st;

    if (s == NULL) return 1;
    s->cfg = cfg;
    signal(SIGPIPE, SIG_IGN);
    if (irpd_ca_load(dir, &s->ca, &err) != IRPD_CA_OK) {
        fprintf(stderr, "irpd: error: %s: %s\n", dir, err.msg);
        goto out;
    }
    for (i = 0; i < cfg->n_trusted; i++) {
        if (irpd_ca_add_trusted_file(s->ca, cfg->trusted_ca[i], &err) != IRPD_CA_OK) {
            fprintf(stderr, "irpd: error: trusted_ca %s: %s\n", cfg->trusted_ca[i], err.msg);
            goto out;
        }
    }
    snprintf(path, sizeof(path), "%s/%s", dir, IRPD_DB_FILE);
    st = irpd_store_open_sqlite(path, NULL, &s->st);
    if (st != IRP_OK) {
        fprintf(stderr, "irpd: error: %s\n", irpd_store_errmsg(s->st));
        goto out;
    }
    if ((s->ctx = make_ctx(s)) == NULL) {
        fprintf(stderr, "irpd: error: TLS setup failed\n");
        goto out;
    }
    n = i2d_X509(irpd_ca_cert(s->ca), &der);
    if (n <= 0) goto out;
    s->h.ca = s->ca;
    s->h.st = s->st;
    s->h.cfg = cfg;
    s->h.ca_der = der;
    s->h.ca_der_len = (size_t)n;
    if ((s->h.xp = sc_xml_parser_new()) == NULL) goto out;
    if (irpd_rl_init(&s->rl_user, cfg->login_fail_user, cfg->login_fail_window) != 0 ||
        irpd_rl_init(&s->rl_addr, cfg->login_fail_addr, cfg->login_fail_window) != 0)
        goto out;

    uv_loop_init(&s->loop);
    uv_signal_init(&s->loop, &s->sigterm);
    uv_signal_init(&s->loop, &s->sigint);
    s->sigterm.data = s->sigint.data = s;
    uv_signal_start(&s->sigterm, on_signal, SIGTERM);
    uv_signal_start(&s->sigint, on_signal, SIGINT);
    uv_timer_init(&s->loop, &s->tick);
    s->tick.data = s;
    uv_timer_start(&s->tick, on_tick, 1000, 1000);
    if (cfg->n_listen == 0) {
        if (listen_on(s, "[::]:4604") != 0) goto stop;
    }
    for (i = 0; i < cfg->n_listen; i++)
        if (listen_on(s, cfg->listen[i]) != 0) goto stop;
    rc = 0;
    uv_run(&s->loop, UV_RUN_DEFAULT);
    goto done;
stop:
    uv_walk(&s->loop, close_any, NULL);
    uv_run(&s->loop, UV_RUN_DEFAULT);
done:
    if (uv_loop_close(&s->loop) != 0) {
        uv_walk(&s->loop, close_any, NULL);
        uv_run(&s->loop, UV_RUN_DEFAULT);
        (void)uv_loop_close(&s->loop);
    }
    if (s->st != NULL && irpd_store_flush(s->st) != IRP_OK) rc = 1;
    if (rc == 0) fprintf(stderr, "irpd: info: stopped\n");
out:
    if (s->h.xp != NULL) sc_xml_parser_free(s->h.xp);
    irpd_rl_free(&s->rl_user);
    irpd_rl_free(&s->rl_addr);
    OPENSSL_free(der);
    SSL_CTX_free(s->ctx);
    irpd_store_close(s->st);
    irpd_ca_free(s->ca);
    free(s);
    return rc;
}
