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
static int handle_doc(conn *c, const uint8_t *doc, size_t len);
static int blocked(const conn *c);
static void conn_drive(conn *c);
static void log_request(conn *c, const irpd_hresult *res);
static int answered(conn *c, size_t off, const irpd_hresult *res);
static int queue_write(conn *c, irpd_wop *wop);
static int send_held(conn *c);
static void after_write(irpd_server *s, conn *c, const irpd_hresult *res);

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
    free(c->parked);
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
    while (c->pq_head != NULL) {
        pend *p = c->pq_head;
        c->pq_head = p->next;
        if (p->wop != NULL) { /* the writer's until done: then finished without an answer */
            p->c = NULL;
            continue;
        }
        if (p->has_res) after_write(s, NULL, &p->res); /* durable: others still hear of it */
        sc_buf_dispose(&p->out);
        free(p);
    }
    c->pq_tail = NULL;
    c->n_pq = 0;
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
        if (blocked(c)) return; /* reading resumes once the login or writes are answered */
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

/* Appends one framed status response to out. 0 or -1. */
static int put_status(sc_buf *out, const char *id, int status, const char *msg)
{
    size_t start = irp_frame_begin(out);

    if (irp_resp_write_status(out, id, status, msg) != 0 || irp_frame_end(out, start) != 0)
        return -1;
    return sc_buf_ok(out) ? 0 : -1;
}

/* ---- answers that wait for the writer thread (docs/IRP.md 10.2) ---------------- */

static void pend_free(pend *p)
{
    sc_buf_dispose(&p->out);
    free(p);
}

static void pend_push(conn *c, pend *p)
{
    p->next = NULL;
    if (c->pq_tail != NULL)
        c->pq_tail->next = p;
    else
        c->pq_head = p;
    c->pq_tail = p;
    c->n_pq++;
}

/* Whether the connection must handle nothing more for now (a login, a parked request, a full
 * queue). */
static int blocked(const conn *c)
{
    return c->login != NULL || c->parked != NULL || c->n_pq >= PEND_MAX;
}

/*
 * Sends the connection's answers from the head of its queue while they are
 * ready; once none waits, a parked request is handled and reading resumes.
 */
static void pq_pump(conn *c)
{
    pend *sent = NULL, **tail = &sent;
    int rc = 0;

    c->pump_due = 0;
    /* the ready answers at the head, in one TLS write */
    while (c->pq_head != NULL && c->pq_head->wop == NULL) {
        pend *p = c->pq_head;
        c->pq_head = p->next;
        if (c->pq_head == NULL) c->pq_tail = NULL;
        c->n_pq--;
        sc_buf_put(&c->held, p->out.data, p->out.len);
        p->next = NULL;
        *tail = p;
        tail = &p->next;
    }
    if (!sc_buf_ok(&c->held)) rc = -1;
    if (!c->closing && rc == 0 && send_held(c) != 0) rc = -1;
    sc_buf_reset(&c->held);
    /* then what their changes mean for others */
    while (sent != NULL) {
        pend *p = sent;
        sent = p->next;
        if (p->has_res) after_write(c->srv, c, &p->res);
        pend_free(p);
    }
    if (c->closing) return;
    if (rc != 0) {
        irpd__srv_conn_close_soon(c);
        return;
    }
    if (c->close_when_sent || c->stop_rd || c->pq_head != NULL || !c->wait_pq) return;
    c->wait_pq = 0;
    if (c->parked != NULL) {
        uint8_t *doc = c->parked;
        size_t len = c->parked_len;
        c->parked = NULL;
        rc = handle_doc(c, doc, len);
        free(doc);
        if (send_held(c) != 0) rc = -1;
        if (c->closing || c->close_when_sent) return;
        if (rc != 0) {
            irpd__srv_conn_flush(c);
            irpd__srv_conn_close_soon(c);
            return;
        }
    }
    if (c->srv->stopping) {
        irpd__srv_conn_stop(c);
        return;
    }
    if (blocked(c)) {
        c->wait_pq = c->login == NULL;
        return;
    }
    if (c->paused) return; /* on_written reads again once the client took its output */
    if (uv_read_start((uv_stream_t *)&c->tcp, irpd__srv_on_alloc, irpd__srv_on_read) != 0) {
        irpd__srv_conn_close(c);
        return;
    }
    conn_drive(c); /* the requests after it wait in rest and the TLS buffers */
}

/* 6.12: the revoked certificate's own connection handles nothing after this answer. */
static int own_revoked(const conn *c, const irpd_hresult *res)
{
    return res->status == IRP_OK && res->revoked && c->sess.cert_auth &&
           memcmp(c->sess.client.fingerprint, res->revoked_fp, 32) == 0;
}

/* What a durable change means for others: events to watchers, revoked connections end. */
static void after_write(irpd_server *s, conn *c, const irpd_hresult *res)
{
    int64_t now = irpd__srv_now_s();

    if (res->status != IRP_OK && !res->ended) return; /* ended: its certificate's connections */
    if (res->changed) irpd__srv_notify_watchers(s, res->changed_user, res->change, now);
    if (res->policy_changed) end_disallowed_watches(s, res->policy_user, now);
    if (res->revoked) close_revoked(s, res->revoked_fp, now);
}

/* irpd_writer_job.apply, on the writer thread. */
static irp_status pend_apply(irpd_store *w, irpd_writer_job *job)
{
    return irpd_wop_apply(((pend *)job->arg)->wop, w, &job->wrote);
}

/* irpd_writer_job.done, on the loop: the answer is ready; send what is. */
static void pend_done(irpd_writer_job *job, irp_status applied, irp_status committed)
{
    pend *p = job->arg;
    irpd_server *s = p->srv;
    conn *c = p->c;
    irpd_wop *wop = p->wop;
    int rc;

    p->wop = NULL;
    rc = irpd_wop_finish(&s->h, wop, applied, committed, c != NULL ? &p->out : NULL, &p->res);
    p->has_res = 1;
    if (committed != 0)
        fprintf(stderr, "irpd: error: commit failed: %s\n", irpd_store_errmsg(s->wst));
    if (c == NULL) {
        after_write(s, NULL, &p->res);
        pend_free(p);
        return;
    }
    if (!p->res.silent) log_request(c, &p->res);
    if (own_revoked(c, &p->res)) c->stop_rd = 1;
    if (rc != 0) {
        after_write(s, NULL, &p->res);
        p->has_res = 0;
        irpd__srv_conn_close(c); /* memory: the answer is lost, the connection too */
        return;
    }
    if (!c->pump_due) { /* sent once the round is over (irpd__srv_writer_drained) */
        c->pump_due = 1;
        c->pump_next = s->pump;
        s->pump = c;
    }
}

void irpd__srv_writer_drained(void *arg)
{
    irpd_server *s = arg;
    conn *c;

    /* the connections stay allocated until their handles close, after this callback */
    while ((c = s->pump) != NULL) {
        s->pump = c->pump_next;
        c->pump_next = NULL;
        if (c->pump_due && !c->closing) pq_pump(c);
        c->pump_due = 0;
    }
}

/*
 * A write that will not be applied, on a connection about to close: settles
 * its counters and frees it. Nobody is answered (out NULL), so the answer
 * that could not be built changes nothing; the caller's -1 closes.
 */
static int wop_abandon(irpd_server *s, irpd_wop *wop)
{
    irpd_hresult r2;

    int rc = irpd_wop_finish(&s->h, wop, IRP_INTERNAL, 0, NULL, &r2);

    return rc < 0 ? rc : -1; /* the caller closes the connection either way */
}

static int queue_write(conn *c, irpd_wop *wop)
{
    irpd_server *s = c->srv;
    pend *p;
    irpd_hresult r2;

    if (s->wr == NULL) { /* the writer stopped (shutdown): not done, said so */
        size_t off = c->held.len;
        if (irpd_wop_finish(&s->h, wop, IRP_UNAVAILABLE, 0, &c->held, &r2) != 0) return -1;
        return answered(c, off, &r2);
    }
    if ((p = calloc(1, sizeof(*p))) == NULL) return wop_abandon(s, wop);
    /* answers before it go first */
    if (c->pq_head == NULL && send_held(c) != 0) {
        free(p);
        return wop_abandon(s, wop);
    }
    sc_buf_init_public(&p->out, 0);
    p->srv = s;
    p->c = c;
    p->wop = wop;
    p->job.apply = pend_apply;
    p->job.done = pend_done;
    p->job.arg = p;
    if (irpd_writer_submit(s->wr, &p->job) != 0) { /* only once stop began: as above */
        size_t off = c->held.len;
        pend_free(p);
        if (irpd_wop_finish(&s->h, wop, IRP_UNAVAILABLE, 0, &c->held, &r2) != 0) return -1;
        return answered(c, off, &r2);
    }
    pend_push(c, p);
    return 0;
}

/* Moves the answer framed at held[off..] behind the connection's waiting ones. 0 or -1. */
static int queue_ready(conn *c, size_t off)
{
    pend *p = calloc(1, sizeof(*p));

    if (p == NULL) return -1;
    sc_buf_init_public(&p->out, 0);
    sc_buf_put(&p->out, c->held.data + off, c->held.len - off);
    if (!sc_buf_ok(&p->out)) {
        pend_free(p);
        return -1;
    }
    c->held.len = off;
    p->srv = c->srv;
    p->c = c;
    pend_push(c, p);
    return 0;
}

/* ---- deferred requests (their work runs in irpd_server_defer.c's queue) -------------- */

/*
 * Answers a deferred request as the connection's next response; a write it
 * leaves (a refused login's audit record) goes to the writer thread first,
 * the answer waiting for it.
 */
static int deferred_answer(conn *c, irpd_deferred *d)
{
    irpd_server *s = c->srv;
    irpd_hresult res;
    size_t off = c->held.len;

    if (irpd_deferred_finish(&s->h, &c->sess, d, irpd__srv_now_s(), &c->held, &res) != 0) return -1;
    if (res.wop != NULL) return queue_write(c, res.wop);
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
    if (send_held(c) != 0) rc = -1;
    uv_update_time(&s->loop); /* the answer may have taken a while (a record written here) */
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

/* ---- the read ------------------------------------------------------------------- */

/*
 * Handles one document through the request pipeline (irpd_handle). Its
 * answer goes to c->held (sent at the end of the read), or behind the
 * answers waiting for writes; a write goes to the writer thread, a login to
 * the thread pool; a request that is not a write, while writes of this
 * connection are not durable yet, is parked until they are. Returns 0, or
 * -1 when the connection must close (memory).
 */
static int handle_doc(conn *c, const uint8_t *doc, size_t len)
{
    irpd_server *s = c->srv;
    irpd_deferred *lg = NULL;
    irpd_hresult res;
    int64_t now = irpd__srv_now_s();
    size_t off = c->held.len;
    int r;

    memset(&res, 0, sizeof(res));
    c->sess.writes_pending = c->pq_head != NULL;
    r = irpd_handle(&s->h, &c->sess, doc, len, now, (int64_t)uv_now(&s->loop), &c->held, &res, &lg);
    if (r < 0) return -1;
    if (r == 1) { /* handed in again once the writes before it are over */
        if ((c->parked = malloc(len)) == NULL)
            return res.wop != NULL ? wop_abandon(s, res.wop) : -1;
        memcpy(c->parked, doc, len);
        c->parked_len = len;
        /* 7.6: the record of its certificate, which it waits for */
        if (res.wop != NULL && queue_write(c, res.wop) != 0) return -1;
        if (c->pq_head == NULL) { /* not queued (the writer stopped): at once */
            uint8_t *again = c->parked;
            c->parked = NULL;
            r = handle_doc(c, again, len);
            free(again);
            return r;
        }
        return 0;
    }
    if (lg != NULL) return defer(c, lg);
    if (res.wop != NULL) {
        if (res.reads_first) irpd__srv_reads_flush(s); /* 6.15: the answer lists them */
        return queue_write(c, res.wop);
    }
    return answered(c, off, &res);
}

static int answered(conn *c, size_t off, const irpd_hresult *res)
{
    if (!sc_buf_ok(&c->held)) return -1;
    if (res->silent) return 0; /* nothing was answered */
    if (c->pq_head != NULL && queue_ready(c, off) != 0) return -1;
    if (res->ended) c->stop_rd = 1; /* 11.4: the identity no longer holds: answer, then close */
    log_request(c, res);
    if (!(res->changed || res->revoked || res->policy_changed)) return 0;
    if (res->status != IRP_OK && !res->ended) return 0;
    /* changed on the loop (everything without a writer) or an identity that ended: the
     * answer goes first */
    if (own_revoked(c, res)) c->stop_rd = 1;
    if (c->pq_head == NULL && send_held(c) != 0) return -1;
    after_write(c->srv, c, res);
    return 0;
}

/* Sends the answers of this read (docs/IRP.md 5.3: in order). -1 when sending failed. */
static int send_held(conn *c)
{
    int rc = 0;

    if (c->held.len > 0 && conn_send(c, c->held.data, c->held.len) != 0) rc = -1;
    sc_buf_reset(&c->held);
    irpd__srv_conn_flush(c);
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

    while (off < n && !c->stop_rd && !blocked(c)) {
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
    while (!fatal && ferr == 0 && !c->stop_rd && !blocked(c)) {
        size_t n = 0, used;
        int r = irp_tlspump_read(c->tls, c->srv->plain, sizeof(c->srv->plain), &n);

        if (r != SC_OK || n == 0) {
            if (r != SC_OK) eof = r == SC_ERR_CLOSED ? 1 : 2;
            break;
        }
        used = feed_plain(c, c->srv->plain, n, &ferr, &fatal);
        if (fatal || ferr != 0 || c->stop_rd) break;
        if (blocked(c)) {
            if (used < n && keep_rest(c, c->srv->plain + used, n - used) != 0) fatal = 1;
            break;
        }
        if (c->held.len + queued(c) > OUT_CAP) {
            c->paused = 1; /* the rest stays in the TLS buffers until the client reads */
            break;
        }
    }
    if (send_held(c) != 0) fatal = 1;
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
    if (blocked(c)) return; /* its answers come first (irpd__srv_deferred_done, pq_pump) */
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
     * The batch may have taken a while (many requests): timers of every
     * connection are armed from the loop's cached time, so refresh it
     * (issue 7: a bystander was cut by a timeout computed from stale time).
     */
    uv_update_time(&c->srv->loop);
    if (!c->closing) {
        irpd__srv_conn_flush(c);
        if (!c->closing && c->login == NULL && blocked(c)) c->wait_pq = 1;
        if ((c->paused || blocked(c)) && !c->closing) uv_read_stop((uv_stream_t *)&c->tcp);
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
