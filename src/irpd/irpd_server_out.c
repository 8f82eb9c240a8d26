/*
 * irpd_server_out.c - a connection's output and closing (docs/IRP.md 3):
 * what TLS produced handed to libuv, closing at once or once sent, the
 * timeouts (3.6), and what a durable change means for other connections
 * (watch events, revoked certificates' connections, policy rechecks). The
 * lowest of the server files: of the others it calls only
 * irpd_server_defer.c; it resumes reading through irpd_server.read_again.
 */
#include "irpd_server_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WATCH_IDLE_S 900 /* docs/IRP.md 3.6: idle with a watch */

size_t irpd__srv_conn_queued(conn *c)
{
    return uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);
}

int64_t irpd__srv_now_s(void)
{
    return (int64_t)time(NULL);
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
void irpd__srv_arm_idle(conn *c)
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
        if (p->has_res)
            irpd__srv_after_write(s, NULL, &p->res); /* durable: others still hear of it */
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
        if (c->hs_done && !c->close_when_sent) irpd__srv_arm_idle(c);
    }
    /* The client took enough of its answers: read (and answer) its requests again. */
    if (c->paused && irpd__srv_conn_queued(c) < OUT_CAP / 2) {
        c->paused = 0;
        c->srv->read_again(c); /* irpd__srv_read_again */
    }
}

/* Hands what TLS produced to libuv. */
void irpd__srv_log_flush(irpd_server *s)
{
    if (s->log.len == 0) return;
    /* stderr is unbuffered: one write for every line gathered */
    (void)fwrite(s->log.data, 1, s->log.len, stderr);
    sc_buf_reset(&s->log);
}

void irpd__srv_conn_flush(conn *c)
{
    size_t n;

    irpd__srv_log_flush(c->srv);

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
        if (c->hs_done && !c->close_when_sent) irpd__srv_arm_idle(c);
    }
}

/* Encrypts out[0..len) for the connection (the pump never refuses output). */
int irpd__srv_conn_send(conn *c, const uint8_t *p, size_t len)
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
            irpd__srv_conn_send(c, out.data, out.len) == 0)
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
            (void)irpd__srv_conn_send(c, out.data, out.len);
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

/* ---- what a durable change means for others --------------------------------------- */

/* docs/IRP.md 6.14: a tightened policy ends the watches it no longer allows (watch-end). */
static void end_disallowed_watches(irpd_server *s, const char *owner, int64_t now)
{
    for (conn *o = s->conns; o != NULL; o = o->next) {
        if (o->closing || !o->hs_done || o->sess.n_watches == 0) continue;
        sc_buf ev;
        sc_buf_init_public(&ev, 0);
        int r = irpd_policy_recheck(&s->h, &o->sess, owner, now, &ev);
        if (r < 0 || (r > 0 && irpd__srv_conn_send(o, ev.data, ev.len) != 0))
            irpd__srv_conn_close_soon(o);
        else if (r > 0)
            irpd__srv_conn_flush(o);
        sc_buf_dispose(&ev);
    }
}

/* What a durable change means for others: events to watchers, revoked connections end. */
void irpd__srv_after_write(irpd_server *s, conn *c, const irpd_hresult *res)
{
    int64_t now = irpd__srv_now_s();

    if (res->status != IRP_OK && !res->ended) return; /* ended: its certificate's connections */
    if (res->changed) irpd__srv_notify_watchers(s, res->changed_user, res->change, now);
    if (res->policy_changed) end_disallowed_watches(s, res->policy_user, now);
    if (res->revoked) close_revoked(s, res->revoked_fp, now);
}
