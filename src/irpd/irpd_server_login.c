/*
 * irpd_server_login.c - deferred requests (logins, docs/IRP.md 6.4; RSA key
 * checks of enrolments, 6.5) whose expensive part runs in libuv's thread
 * pool: at most a few at once server-wide, a bounded queue, the
 * connection's later requests held so answers stay in order.
 */
#include "irpd_server_int.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/err.h>

/* ---- logins: the password check in the thread pool (docs/IRP.md 6.4) ------------- */

static void login_pump(irpd_server *s);

/* Answers the login as the current read batch's next response (held like handle_doc's). */
static int login_answer(conn *c, irpd_deferred *lg)
{
    irpd_server *s = c->srv;
    irpd_hresult res;
    int64_t now = irpd__srv_now_s();
    size_t off = c->held.len;

    if (!c->batch && irpd_store_batch_begin(s->st) == IRP_OK) c->batch = 1;
    if (irpd_deferred_finish(&s->h, &c->sess, lg, now, &c->held, &res) != 0) return -1;
    return irpd__srv_answered(c, off, &res);
}

/* Queues the login's check; the connection handles nothing more until it is answered. */
int irpd__srv_login_defer(conn *c, irpd_deferred *lg)
{
    irpd_server *s = c->srv;
    login_job *j = NULL;
    int rc;

    if (s->n_lq < LOGIN_QUEUE_MAX) j = calloc(1, sizeof(*j));
    if (j == NULL) {
        irpd_deferred_cancel(lg, IRP_UNAVAILABLE, "too many requests in progress: try later");
        rc = login_answer(c, lg);
        irpd_deferred_free(lg);
        return rc;
    }
    j->srv = s;
    j->c = c;
    j->lg = lg;
    if (s->lq_tail != NULL)
        s->lq_tail->next = j;
    else
        s->lq_head = j;
    s->lq_tail = j;
    s->n_lq++;
    c->login = j;
    login_pump(s);
    return 0;
}

/* Keeps the rest of a decrypted chunk after a deferred login. 0 or -1 (memory). */
int irpd__srv_keep_rest(conn *c, const uint8_t *p, size_t n)
{
    if (c->rest == NULL && (c->rest = malloc(READ_CHUNK)) == NULL) return -1;
    memcpy(c->rest, p, n); /* n <= READ_CHUNK: what is left of one chunk */
    c->rest_off = 0;
    c->rest_len = n;
    return 0;
}

/* Sends the login's answer and goes on with the connection's requests. */
static void login_resume(conn *c, login_job *j, int go_on)
{
    irpd_server *s = c->srv;
    int rc;

    c->login = NULL;
    if (c->close_when_sent) return; /* ends anyway (revoked, failed): nobody to answer */
    rc = login_answer(c, j->lg);
    if (irpd__srv_batch_end(c) != 0) rc = -1;
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
    irpd__srv_conn_drive(c); /* the requests after the login wait in rest and the TLS buffers */
}

static void login_work(uv_work_t *req)
{
    login_job *j = (login_job *)req;

    irpd_deferred_work(j->lg); /* touches only j->lg: never the connection */
}

static void login_after(uv_work_t *req, int status)
{
    login_job *j = (login_job *)req;
    irpd_server *s = j->srv;

    (void)status; /* not verified: irpd_deferred_finish answers 500 */
    s->n_running--;
    login_pump(s);
    if (j->c != NULL) login_resume(j->c, j, 1);
    irpd_deferred_free(j->lg);
    free(j);
}

/* Starts waiting checks while fewer than LOGIN_WORKERS run. */
static void login_pump(irpd_server *s)
{
    while (s->n_running < LOGIN_WORKERS && s->lq_head != NULL) {
        login_job *j = s->lq_head;

        s->lq_head = j->next;
        if (s->lq_head == NULL) s->lq_tail = NULL;
        s->n_lq--;
        j->next = NULL;
        j->running = 1;
        s->n_running++;
        /* 9.1: its place in the failure counters was taken when it was admitted */
        if (uv_queue_work(&s->loop, &j->req, login_work, login_after) != 0)
            abort(); /* fails only for a NULL work_cb */
    }
}

void irpd__srv_logins_cancel(irpd_server *s)
{
    login_job *j;

    while ((j = s->lq_head) != NULL) {
        s->lq_head = j->next;
        if (s->lq_head == NULL) s->lq_tail = NULL;
        s->n_lq--;
        irpd_deferred_cancel(j->lg, IRP_UNAVAILABLE, "the registry is shutting down");
        if (j->c != NULL) login_resume(j->c, j, 0);
        irpd_deferred_free(j->lg);
        free(j);
    }
}
