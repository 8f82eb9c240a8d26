/*
 * irpd_server.c - the connection loop: output, closing, read batches and
 * dispatch to irpd_handlers, timeouts (irpd_server.h; docs/IRP.md 3).
 * TLS context and accepting: irpd_server_tls.c; start and stop:
 * irpd_server_run.c.
 */
#include "irpd_server_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WATCH_IDLE_S 900 /* docs/IRP.md 3.6: idle with a watch */
/*
 * docs/IRP.md 9.3: output a connection may have waiting before the server
 * stops reading its requests. Checked between decrypted chunks, so a client
 * that pipelines without reading makes the server hold at most this plus
 * the answers to one chunk of requests, then nothing more until it reads.
 */
#define OUT_CAP (256 * 1024)

static void arm_idle(conn *c);
static int batch_end(conn *c);
static void conn_drive(conn *c);
static int answered(conn *c, size_t off, const irpd_hresult *res);

static size_t queued(conn *c)
{
    return uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);
}

int64_t irpd__srv_now_s(void)
{
    return (int64_t)time(NULL);
}

/* ---- closing ------------------------------------------------------------------ */

static void conn_freed(uv_handle_t *hd)
{
    conn *c = hd->data;

    if (--c->handles_open > 0) return;
    irp_tlspump_free(c->tls);
    irp_framer_free(&c->fr);
    sc_buf_dispose(&c->held);
    free(c->hl);
    free(c->acts);
    free(c->rest);
    irpd_session_clear(&c->sess);
    free(c);
}

void irpd__srv_conn_close(conn *c)
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
    if (c->login != NULL) {
        defer_job *j = c->login;
        c->login = NULL;
        irpd__srv_defer_forget(s, j);
    }
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->tcp, conn_freed);
    uv_close((uv_handle_t *)&c->timer, conn_freed);
}

void irpd__srv_conn_close_soon(conn *c)
{
    c->close_when_sent = 1;
    if (c->writes == 0) irpd__srv_conn_close(c);
}

void irpd__srv_conn_stop(conn *c)
{
    if (c->closing) return;
    if (c->hs_done) {
        irpd__srv_end_watches(c, IRP_CHANGE_SHUTDOWN, irpd__srv_now_s());
        irp_tlspump_close(c->tls);
        irpd__srv_conn_flush(c);
    }
    irpd__srv_conn_close_soon(c);
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
        irpd__srv_conn_close(c);
        return;
    }
    if (c->close_when_sent && c->writes == 0) {
        irpd__srv_conn_close(c);
        return;
    }
    if (c->out_t0 != 0 && uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) == 0) {
        c->out_t0 = 0; /* the client reads again */
        if (c->hs_done && !c->close_when_sent) arm_idle(c);
    }
    /* The client took enough of its answers: read (and answer) its requests again. */
    if (c->paused && queued(c) < OUT_CAP / 2) {
        c->paused = 0;
        if (c->login != NULL) return; /* reading resumes once the login is answered */
        if (uv_read_start((uv_stream_t *)&c->tcp, irpd__srv_on_alloc, irpd__srv_on_read) != 0) {
            irpd__srv_conn_close(c);
            return;
        }
        conn_drive(c); /* requests already received and decrypted wait in the TLS buffers */
    }
}

/* Hands what TLS produced to libuv. */
void irpd__srv_conn_flush(conn *c)
{
    size_t n;

    while (!c->closing && (n = irp_tlspump_pending(c->tls)) > 0) {
        wreq *w = malloc(sizeof(*w));
        char *p = malloc(n);

        if (w == NULL || p == NULL) {
            free(w);
            free(p);
            irpd__srv_conn_close(c);
            return;
        }
        n = irp_tlspump_take(c->tls, (uint8_t *)p, n);
        w->c = c;
        w->buf = uv_buf_init(p, (unsigned)n);
        if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &w->buf, 1, on_written) != 0) {
            free(w);
            free(p);
            irpd__srv_conn_close(c);
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

/* Encrypts out[0..len) for the connection (the pump never refuses output). */
static int conn_send(conn *c, const uint8_t *p, size_t len)
{
    return irp_tlspump_write(c->tls, p, len) == SC_OK ? 0 : -1;
}

/* ---- events to watchers, closing revoked connections ------------------------------- */

void irpd__srv_notify_watchers(irpd_server *s, const char *user, irp_change why, int64_t now)
{
    conn *c;

    for (c = s->conns; c != NULL; c = c->next) {
        sc_buf out;
        if (c->closing || !c->hs_done || !irpd_session_watches(&c->sess, user)) continue;
        sc_buf_init_public(&out, 0);
        if (irpd_event_build(&s->h, &c->sess, user, why, 0, now, &out) == 0 &&
            conn_send(c, out.data, out.len) == 0)
            irpd__srv_conn_flush(c);
        else
            irpd__srv_conn_close_soon(c);
        sc_buf_dispose(&out);
    }
}

void irpd__srv_end_watches(conn *c, irp_change why, int64_t now)
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

void irpd__srv_conn_end_identity(conn *c, int64_t now)
{
    irpd__srv_end_watches(c, IRP_CHANGE_REVOKE, now);
    irp_tlspump_close(c->tls);
    irpd__srv_conn_flush(c);
    irpd__srv_conn_close_soon(c);
}

/* docs/IRP.md 6.12: after the answer, connections of a revoked certificate end. */
static void close_revoked(irpd_server *s, const uint8_t fp[32], int64_t now)
{
    conn *c, *next;

    for (c = s->conns; c != NULL; c = next) {
        next = c->next;
        if (c->closing || !c->sess.cert_auth || memcmp(c->sess.client.fingerprint, fp, 32) != 0)
            continue;
        irpd__srv_conn_end_identity(c, now);
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
            irpd__srv_conn_close_soon(o);
        else if (r > 0)
            irpd__srv_conn_flush(o);
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

/* ---- the read batch ------------------------------------------------------------- */

/* ---- deferred requests (their work runs in irpd_server_defer.c's queue) -------------- */

/* Answers a deferred request as the current read batch's next response. */
static int deferred_answer(conn *c, irpd_deferred *d)
{
    irpd_server *s = c->srv;
    irpd_hresult res;
    size_t off = c->held.len;

    if (!c->batch && irpd_store_batch_begin(s->st) == IRP_OK) c->batch = 1;
    if (irpd_deferred_finish(&s->h, &c->sess, d, irpd__srv_now_s(), &c->held, &res) != 0) return -1;
    return answered(c, off, &res);
}

/* Hands d to the worker queue; the connection handles nothing more until it is answered. */
static int defer(conn *c, irpd_deferred *d)
{
    int rc;

    if (irpd__srv_defer(c->srv, c, d) == 0) return 0;
    irpd_deferred_cancel(d, IRP_UNAVAILABLE, "too many requests in progress: try later");
    rc = deferred_answer(c, d);
    irpd_deferred_free(d);
    return rc;
}

/* Keeps the rest of a decrypted chunk after a deferred request. 0 or -1 (memory). */
static int keep_rest(conn *c, const uint8_t *p, size_t n)
{
    if (c->rest == NULL && (c->rest = malloc(READ_CHUNK)) == NULL) return -1;
    memcpy(c->rest, p, n); /* n <= READ_CHUNK: what is left of one chunk */
    c->rest_off = 0;
    c->rest_len = n;
    return 0;
}

void irpd__srv_deferred_done(conn *c, irpd_deferred *d, int go_on)
{
    irpd_server *s = c->srv;
    int rc;

    c->login = NULL;
    if (c->close_when_sent) return; /* ends anyway (revoked, failed): nobody to answer */
    rc = deferred_answer(c, d);
    if (batch_end(c) != 0) rc = -1;
    uv_update_time(&s->loop); /* the answer may have taken a while (a commit) */
    if (c->closing || c->close_when_sent) return;
    if (rc != 0) {
        irpd__srv_conn_flush(c);
        irpd__srv_conn_close_soon(c);
        return;
    }
    if (!go_on) return;
    if (s->stopping) {
        irpd__srv_conn_stop(c);
        return;
    }
    if (c->paused) return; /* on_written reads again once the client took its output */
    if (uv_read_start((uv_stream_t *)&c->tcp, irpd__srv_on_alloc, irpd__srv_on_read) != 0) {
        irpd__srv_conn_close(c);
        return;
    }
    conn_drive(c); /* the requests after it wait in rest and the TLS buffers */
}

/*
 * Handles one document of the current read batch through the request
 * pipeline (irpd_handle): its response is held in c->held until
 * batch_end. A login is deferred (c->login set): the batch ends
 * there. Returns 0, or -1 when the connection must close (memory).
 */
static int handle_doc(conn *c, const uint8_t *doc, size_t len)
{
    irpd_server *s = c->srv;
    irpd_deferred *lg = NULL;
    irpd_hresult res;
    int64_t now = irpd__srv_now_s();
    size_t off = c->held.len;

    if (!c->batch && irpd_store_batch_begin(s->st) == IRP_OK) c->batch = 1;
    memset(&res, 0, sizeof(res));
    if (irpd_handle(&s->h, &c->sess, doc, len, now, (int64_t)uv_now(&s->loop), &c->held, &res,
                    &lg) != 0)
        return -1;
    if (lg != NULL) return defer(c, lg);
    return answered(c, off, &res);
}

static int answered(conn *c, size_t off, const irpd_hresult *res)
{
    action a;

    if ((res->write && res->status == IRP_OK) || res->wrote) c->dirty = 1;
    if (res->ended) c->stop_rd = 1; /* 11.4: the identity no longer holds: answer, then close */
    if (add_held(c, off, res->id) != 0) return -1;
    log_request(c, res);
    memset(&a, 0, sizeof(a));
    if (res->changed) {
        snprintf(a.user, sizeof(a.user), "%s", res->changed_user);
        a.why = res->change;
        if (add_action(c, &a) != 0) return -1;
    }
    if (res->policy_changed) {
        memset(&a, 0, sizeof(a));
        a.policy = 1;
        snprintf(a.user, sizeof(a.user), "%s", res->policy_user);
        if (add_action(c, &a) != 0) return -1;
        memset(&a, 0, sizeof(a));
    }
    if (res->revoked) {
        a.revoked = 1;
        memcpy(a.fp, res->revoked_fp, 32);
        if (add_action(c, &a) != 0) return -1;
        /* 6.12: the revoked certificate's own connection ends after this answer */
        if (c->sess.cert_auth && memcmp(c->sess.client.fingerprint, res->revoked_fp, 32) == 0)
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
    irpd__srv_conn_flush(c);
    for (i = 0; i < c->n_acts; i++) {
        int64_t now = irpd__srv_now_s();
        if (c->acts[i].revoked)
            close_revoked(s, c->acts[i].fp, now);
        else if (c->acts[i].policy)
            end_disallowed_watches(s, c->acts[i].user, now);
        else
            irpd__srv_notify_watchers(s, c->acts[i].user, c->acts[i].why, now);
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
    irp_tlspump_close(c->tls);
    irpd__srv_conn_flush(c);
    irpd__srv_conn_close_soon(c);
}

/* Frames p[0..n) and handles each document, up to a deferred login. Returns the bytes used. */
static size_t feed_plain(conn *c, const uint8_t *p, size_t n, int *ferr, int *fatal)
{
    size_t off = 0;

    while (off < n && !c->stop_rd && c->login == NULL) {
        const uint8_t *doc;
        size_t used = 0, dlen;
        int r = irp_framer_feed(&c->fr, p + off, n - off, &used, &doc, &dlen);
        off += used;
        if (r == IRP_FEED_DOC) {
            if (handle_doc(c, doc, dlen) != 0) {
                *fatal = 1;
                break;
            }
        } else if (r != IRP_FEED_NEED) {
            *ferr = r;
            break;
        }
    }
    return off;
}

/*
 * Reads all plaintext TLS has, frames it and handles each document; the
 * documents of one read callback form one batch (group commit, 10.2). A
 * login ends the batch: what follows it waits until it is answered.
 */
static void conn_read_plain(conn *c)
{
    int ferr = 0, eof = 0, fatal = 0;

    if (c->rest_off < c->rest_len) {
        c->rest_off +=
            feed_plain(c, c->rest + c->rest_off, c->rest_len - c->rest_off, &ferr, &fatal);
        if (c->rest_off >= c->rest_len) c->rest_off = c->rest_len = 0;
    }
    while (!fatal && ferr == 0 && !c->stop_rd && c->login == NULL) {
        size_t n = 0, used;
        int r = irp_tlspump_read(c->tls, c->srv->plain, sizeof(c->srv->plain), &n);

        if (r != SC_OK || n == 0) {
            if (r != SC_OK) eof = r == SC_ERR_CLOSED ? 1 : 2;
            break;
        }
        used = feed_plain(c, c->srv->plain, n, &ferr, &fatal);
        if (fatal || ferr != 0 || c->stop_rd) break;
        if (c->login != NULL) {
            if (used < n && keep_rest(c, c->srv->plain + used, n - used) != 0) fatal = 1;
            break;
        }
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
        if (eof == 1) irp_tlspump_close(c->tls);
        irpd__srv_conn_flush(c);
        irpd__srv_conn_close_soon(c);
    }
}

void irpd__srv_on_timeout(uv_timer_t *t)
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
    irpd__srv_conn_close(c);
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
    uv_timer_start(&c->timer, irpd__srv_on_timeout, deadline > now ? deadline - now : 0, 0);
}

/* docs/IRP.md 9.3: connections authenticated as one user, this one excluded. */
static size_t conns_of_user(irpd_server *s, const conn *c)
{
    size_t n = 0;
    for (const conn *o = s->conns; o != NULL; o = o->next)
        if (o != c && !o->closing && o->hs_done && o->sess.cert_auth &&
            strcmp(o->sess.client.user_id, c->sess.client.user_id) == 0)
            n++;
    return n;
}

static void conn_drive(conn *c)
{
    if (c->login != NULL) return; /* its answer comes first (login_resume) */
    if (!c->hs_done) {
        int done = 0;
        int r = irp_tlspump_handshake(c->tls, &done);
        if (r != SC_OK || !done) {
            irpd__srv_conn_flush(c); /* the next flight, or the alert */
            if (r != SC_OK) {
                fprintf(stderr, "irpd: info: %s handshake failed: %s\n", c->peer,
                        irp_tlspump_reason(c->tls));
                irpd__srv_conn_close_soon(c);
            }
            return;
        }
        c->hs_done = 1;
        if (c->sess.cert_auth && conns_of_user(c->srv, c) >= c->srv->cfg->max_per_user) {
            fprintf(stderr, "irpd: info: %s refused: %u connections of %s\n", c->peer,
                    (unsigned)c->srv->cfg->max_per_user, c->sess.client.user_id);
            irpd__srv_conn_close(c);
            return;
        }
    }
    c->last_rd = uv_now(&c->srv->loop);
    conn_read_plain(c);
    /*
     * The batch may have taken a while (a commit, many requests): timers of
     * every connection are armed from the loop's cached time, so refresh it
     * (issue 7: a bystander was cut by a timeout computed from stale time).
     */
    uv_update_time(&c->srv->loop);
    if (!c->closing) {
        irpd__srv_conn_flush(c);
        if ((c->paused || c->login != NULL) && !c->closing) uv_read_stop((uv_stream_t *)&c->tcp);
        if (!c->close_when_sent) arm_idle(c);
    }
}

void irpd__srv_on_alloc(uv_handle_t *hd, size_t want, uv_buf_t *buf)
{
    conn *c = hd->data;
    (void)want;
    *buf = uv_buf_init((char *)c->srv->rd, sizeof(c->srv->rd));
}

void irpd__srv_on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    conn *c = st->data;

    if (n == 0) return;
    if (n < 0) {
        irpd__srv_conn_close(c);
        return;
    }
    if (c->close_when_sent) return; /* ignore input after we decided to close */
    if (irp_tlspump_feed(c->tls, (const uint8_t *)buf->base, (size_t)n) != SC_OK) {
        irpd__srv_conn_close(c);
        return;
    }
    conn_drive(c);
}
