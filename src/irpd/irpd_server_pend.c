/*
 * irpd_server_pend.c - a connection's answers in request order (docs/IRP.md
 * 5.3, 10.2): an answer goes out with the others of its read (held), or,
 * while writes of the connection are on the writer thread, waits behind
 * them in the connection's queue (pend) until they are durable. Of the
 * server files it calls only irpd_server_out.c; irpd_server.c sends the
 * queue's ready head (pq_pump) after each round of the writer's.
 */
#include "irpd_server_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void log_request(conn *c, const irpd_hresult *res)
{
    const char *op = res->op != IRP_OP_NONE ? irp_op_name(res->op) : "-";
    const char *user = c->sess.cert_auth ? c->sess.client.user_id
                       : c->sess.pw_auth ? c->sess.pw_user
                                         : "-";

    char line[512];
    int n = snprintf(line, sizeof(line), "irpd: info: %s %s %s id=%s status=%d%s%s\n", c->peer,
                     user, op, res->id[0] != '\0' ? res->id : "-", res->status,
                     res->detail[0] != '\0' ? " " : "", res->detail);

    if (n <= 0) return;
    if ((size_t)n >= sizeof(line)) { /* cut, still one line */
        n = (int)sizeof(line) - 1;
        line[n - 1] = '\n';
    }
    /* gathered: one write per round of answers instead of one per request (bench/README.md) */
    sc_buf_put(&c->srv->log, (const uint8_t *)line, (size_t)n);
    if (!sc_buf_ok(&c->srv->log)) {
        sc_buf_reset(&c->srv->log);
        (void)fwrite(line, 1, (size_t)n, stderr);
    } else if (c->srv->log.len >= 65536) {
        irpd__srv_log_flush(c->srv);
    }
}

/* ---- answers that wait for the writer thread (docs/IRP.md 10.2) ---------------- */

void irpd__srv_pend_free(pend *p)
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

/* 6.12: the revoked certificate's own connection handles nothing after this answer. */
static int own_revoked(const conn *c, const irpd_hresult *res)
{
    return res->status == IRP_OK && res->revoked && c->sess.cert_auth &&
           memcmp(c->sess.client.fingerprint, res->revoked_fp, 32) == 0;
}

/* Sends the answers of this read (docs/IRP.md 5.3: in order). -1 when sending failed. */
int irpd__srv_send_held(conn *c)
{
    int rc = 0;

    if (c->held.len > 0 && irpd__srv_conn_send(c, c->held.data, c->held.len) != 0) rc = -1;
    sc_buf_reset(&c->held);
    irpd__srv_conn_flush(c);
    return rc;
}

/* Moves the answer framed at held[off..] behind the connection's waiting ones. 0 or -1. */
static int queue_ready(conn *c, size_t off)
{
    pend *p = calloc(1, sizeof(*p));

    if (p == NULL) return -1;
    sc_buf_init_public(&p->out, 0);
    sc_buf_put(&p->out, c->held.data + off, c->held.len - off);
    if (!sc_buf_ok(&p->out)) {
        irpd__srv_pend_free(p);
        return -1;
    }
    c->held.len = off;
    p->srv = c->srv;
    p->c = c;
    pend_push(c, p);
    return 0;
}

int irpd__srv_answered(conn *c, size_t off, const irpd_hresult *res)
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
    if (c->pq_head == NULL && irpd__srv_send_held(c) != 0) return -1;
    irpd__srv_after_write(c->srv, c, res);
    return 0;
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
        irpd__srv_after_write(s, NULL, &p->res);
        irpd__srv_pend_free(p);
        return;
    }
    if (!p->res.silent) log_request(c, &p->res);
    if (own_revoked(c, &p->res)) c->stop_rd = 1;
    if (rc != 0) {
        irpd__srv_after_write(s, NULL, &p->res);
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

/*
 * A write that will not be applied, on a connection about to close: settles
 * its counters and frees it. Nobody is answered (out NULL), so the answer
 * that could not be built changes nothing; the caller's -1 closes.
 */
int irpd__srv_wop_abandon(irpd_server *s, irpd_wop *wop)
{
    irpd_hresult r2;

    int rc = irpd_wop_finish(&s->h, wop, IRP_INTERNAL, 0, NULL, &r2);

    return rc < 0 ? rc : -1; /* the caller closes the connection either way */
}

int irpd__srv_queue_write(conn *c, irpd_wop *wop)
{
    irpd_server *s = c->srv;
    pend *p;
    irpd_hresult r2;

    if (s->wr == NULL) { /* the writer stopped (shutdown): not done, said so */
        size_t off = c->held.len;
        if (irpd_wop_finish(&s->h, wop, IRP_UNAVAILABLE, 0, &c->held, &r2) != 0) return -1;
        return irpd__srv_answered(c, off, &r2);
    }
    if ((p = calloc(1, sizeof(*p))) == NULL) return irpd__srv_wop_abandon(s, wop);
    /* answers before it go first */
    if (c->pq_head == NULL && irpd__srv_send_held(c) != 0) {
        free(p);
        return irpd__srv_wop_abandon(s, wop);
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
        irpd__srv_pend_free(p);
        if (irpd_wop_finish(&s->h, wop, IRP_UNAVAILABLE, 0, &c->held, &r2) != 0) return -1;
        return irpd__srv_answered(c, off, &r2);
    }
    pend_push(c, p);
    return 0;
}
