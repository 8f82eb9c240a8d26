/*
 * irpd_server.c - a connection's reads (irpd_server.h; docs/IRP.md 3, 5.3):
 * the handshake, read batches framed and dispatched to irpd_handlers,
 * deferred requests answered, a parked request handled once the writes
 * before it are durable, reading resumed. Output and closing:
 * irpd_server_out.c; answers in order: irpd_server_pend.c; TLS context and
 * accepting: irpd_server_tls.c; start and stop: irpd_server_run.c.
 */
#include "irpd_server_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int handle_doc(conn *c, const uint8_t *doc, size_t len);
static int blocked(const conn *c);
static void conn_drive(conn *c);

/* Appends one framed status response to out. 0 or -1. */
static int put_status(sc_buf *out, const char *id, int status, const char *msg)
{
    size_t start = irp_frame_begin(out);

    if (irp_resp_write_status(out, id, status, msg) != 0 || irp_frame_end(out, start) != 0)
        return -1;
    return sc_buf_ok(out) ? 0 : -1;
}

/* ---- answers that wait for the writer thread (docs/IRP.md 10.2) ---------------- */

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
    if (!c->closing && rc == 0 && irpd__srv_send_held(c) != 0) rc = -1;
    sc_buf_reset(&c->held);
    /* then what their changes mean for others */
    while (sent != NULL) {
        pend *p = sent;
        sent = p->next;
        if (p->has_res) irpd__srv_after_write(c->srv, c, &p->res);
        irpd__srv_pend_free(p);
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
        if (irpd__srv_send_held(c) != 0) rc = -1;
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
    if (res.wop != NULL) return irpd__srv_queue_write(c, res.wop);
    return irpd__srv_answered(c, off, &res);
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
    if (irpd__srv_send_held(c) != 0) rc = -1;
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
            return res.wop != NULL ? irpd__srv_wop_abandon(s, res.wop) : -1;
        memcpy(c->parked, doc, len);
        c->parked_len = len;
        /* 7.6: the record of its certificate, which it waits for */
        if (res.wop != NULL && irpd__srv_queue_write(c, res.wop) != 0) return -1;
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
        return irpd__srv_queue_write(c, res.wop);
    }
    return irpd__srv_answered(c, off, &res);
}

/* A refused frame header: one response without id, then close (docs/IRP.md 3.4). */
static void frame_error(conn *c, int status)
{
    sc_buf out;

    sc_buf_init_public(&out, 0);
    if (put_status(&out, NULL, status, status == IRP_TOO_LARGE ? "frame too large" : "bad frame") ==
        0)
        (void)irpd__srv_conn_send(c, out.data, out.len);
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
        if (c->held.len + irpd__srv_conn_queued(c) > OUT_CAP) {
            c->paused = 1; /* the rest stays in the TLS buffers until the client reads */
            break;
        }
    }
    if (irpd__srv_send_held(c) != 0) fatal = 1;
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
        if (!c->close_when_sent) irpd__srv_arm_idle(c);
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

void irpd__srv_read_again(conn *c)
{
    if (blocked(c)) return; /* reading resumes once the login or writes are answered */
    if (uv_read_start((uv_stream_t *)&c->tcp, irpd__srv_on_alloc, irpd__srv_on_read) != 0) {
        irpd__srv_conn_close(c);
        return;
    }
    conn_drive(c); /* requests already received and decrypted wait in the TLS buffers */
}
