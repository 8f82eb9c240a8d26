/*
 * agent_enroll_irp.c - one short exchange with the registry for the
 * command line (agent_enroll_int.h): a private libuv loop, the IRP client
 * (irp_client.h), every request pipelined (docs/IRP.md 3.5), the answers
 * handed over in order, then the connection closed and the loop run dry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "agent_enroll_int.h"
#include "irp_client.h"
#include "sixchat/error.h"

typedef struct exch {
    irp_client *c;
    uv_timer_t timer;
    agent__enroll_resp_fn on_resp;
    void *ctx;
    size_t n, answered;
    int rc, finished;
    char *err;
    size_t errcap;
} exch;

typedef struct slot {
    exch *x;
    size_t i;
} slot;

static void finish(exch *x, int rc)
{
    if (x->finished) return;
    x->finished = 1;
    x->rc = rc;
    uv_timer_stop(&x->timer);
    irp_client_close(x->c);
}

static void on_resp(void *ctx, const irp_resp *r)
{
    slot *s = ctx;
    exch *x = s->x;
    int rc;

    x->answered++;
    if (x->finished) return;
    if (r->status < 200 || r->status > 299) {
        agent__enroll_err(x->err, x->errcap, 0, "the registry answered %d %s: %s", r->status,
                          irp_client_status_name(r->status), r->msg != NULL ? r->msg : "");
        finish(x, r->status);
        return;
    }
    rc = x->on_resp != NULL ? x->on_resp(x->ctx, s->i, r) : 0;
    if (rc != 0 || x->answered == x->n) finish(x, rc);
}

static void on_connect(void *ctx, int status, const char *msg)
{
    exch *x = ctx;
    if (status != 0 && !x->finished) {
        agent__enroll_err(x->err, x->errcap, 0, "cannot reach the registry: %s", msg);
        finish(x, status);
    }
}

static void on_timeout(uv_timer_t *t)
{
    exch *x = t->data;
    agent__enroll_err(x->err, x->errcap, 0, "the registry did not answer in time");
    finish(x, IRP_CLIENT_TIMEOUT);
}

int agent__enroll_exchange(const agent_irp_target *t, const char *cert_pem, const char *key_pem,
                           const irp_req *reqs, size_t n, agent__enroll_resp_fn fn, void *ctx,
                           char *err, size_t errcap)
{
    uv_loop_t loop;
    irp_client_opts o;
    exch x;
    slot *slots = NULL;
    char *ca_pem = NULL, cerr[256];
    size_t i;
    int rc;

    if (t == NULL || t->host == NULL || (t->ca_fp == NULL && t->ca_path == NULL) || n == 0)
        return agent__enroll_err(err, errcap, SC_ERR_ARG,
                                 "the registry's host and CA fingerprint are needed");
    if (t->ca_path != NULL && (ca_pem = agent__enroll_read(t->ca_path, NULL)) == NULL)
        return agent__enroll_err(err, errcap, SC_ERR_IO, "cannot read %s", t->ca_path);
    memset(&o, 0, sizeof(o));
    o.ca_fp = t->ca_fp;
    o.ca_pem = ca_pem;
    o.cert_pem = cert_pem;
    o.key_pem = key_pem;
    memset(&x, 0, sizeof(x));
    x.on_resp = fn;
    x.ctx = ctx;
    x.n = n;
    x.err = err;
    x.errcap = errcap;
    slots = calloc(n, sizeof(*slots));
    if (slots == NULL || uv_loop_init(&loop) != 0) {
        free(slots);
        free(ca_pem);
        return agent__enroll_err(err, errcap, SC_ERR_NOMEM, "out of memory");
    }
    rc = irp_client_new(&loop, &o, &x.c, cerr, sizeof(cerr));
    free(ca_pem);
    if (rc != 0) {
        uv_loop_close(&loop);
        free(slots);
        return agent__enroll_err(err, errcap, rc, "%s", cerr);
    }
    uv_timer_init(&loop, &x.timer);
    x.timer.data = &x;
    uv_timer_start(&x.timer, on_timeout, t->timeout_ms ? t->timeout_ms : 30000, 0);
    rc = irp_client_connect(x.c, t->host, t->port ? t->port : IRP_PORT, on_connect, &x);
    if (rc != 0) {
        agent__enroll_err(err, errcap, 0, "cannot connect to %s", t->host);
        finish(&x, rc);
    }
    for (i = 0; i < n && !x.finished; i++) {
        slots[i].x = &x;
        slots[i].i = i;
        rc = irp_client_request(x.c, &reqs[i], on_resp, &slots[i]);
        if (rc != 0) {
            agent__enroll_err(err, errcap, 0, "a request could not be sent (%d)", rc);
            /* the requests sent so far are answered with "closed" by the close */
            x.n = i;
            finish(&x, rc);
        }
    }
    while (!x.finished)
        uv_run(&loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&x.timer, NULL);
    uv_run(&loop, UV_RUN_DEFAULT); /* the client's handles close */
    rc = uv_loop_close(&loop);
    free(slots);
    (void)rc;
    return x.rc;
}

void agent__enroll_login(irp_req *q, const char *user, const char *password)
{
    irp_req_init(q);
    q->op = IRP_OP_LOGIN;
    q->user = user;
    q->password = password;
    q->password_len = strlen(password);
}
