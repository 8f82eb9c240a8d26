/*
 * irp_client.c - asynchronous IRP client: libuv TCP, OpenSSL TLS 1.3 over
 * memory BIOs, IRP framing, pipelined requests matched in order. The TLS
 * context and the registry certificate check are in irp_client_tls.c.
 */
#include "irp_client_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/ssl.h>

#include "irp_frame.h"
#include "sixchat/error.h"

const char *irp_client_status_name(int status)
{
    switch (status) {
    case IRP_CLIENT_CONNECT:
        return "connect-failed";
    case IRP_CLIENT_TLS:
        return "tls-failed";
    case IRP_CLIENT_TIMEOUT:
        return "timeout";
    case IRP_CLIENT_CLOSED:
        return "closed";
    case IRP_CLIENT_PROTOCOL:
        return "protocol-error";
    default:
        return irp_status_name(status);
    }
}

static void maybe_free(irp_client *c)
{
    pend *p;
    if (!c->closing || c->refs > 0) return;
    while ((p = c->head) != NULL) {
        c->head = p->next;
        free(p);
    }
    if (c->ai_list != NULL) uv_freeaddrinfo(c->ai_list);
    irp_tlspump_free(c->tls);
    SSL_CTX_free(c->ctx);
    sk_X509_pop_free(c->anchors, X509_free);
    irp_framer_free(&c->fr);
    sc_xml_parser_free(c->xp);
    free(c);
}

static void on_handle_closed(uv_handle_t *h)
{
    irp_client *c = h->data;
    if (h != (uv_handle_t *)&c->timer) free(h);
    c->refs--;
    maybe_free(c);
}

static void close_tcp(irp_client *c)
{
    if (c->tcp != NULL) {
        uv_close((uv_handle_t *)c->tcp, on_handle_closed);
        c->tcp = NULL;
    }
}

/* Answers every pending request with a local status. Callbacks may close c. */
static void fail_pending(irp_client *c, int status, const char *msg)
{
    pend *p;
    while ((p = c->head) != NULL) {
        irp_resp r;
        c->head = p->next;
        if (c->head == NULL) c->tail = NULL;
        c->n_pend--;
        irp_resp_init(&r);
        memcpy(r.id, p->id, sizeof(r.id));
        r.status = status;
        r.msg = msg;
        if (p->cb != NULL) p->cb(p->ctx, &r);
        free(p);
    }
}

/* The connection failed: tell whoever waits. */
static void fail(irp_client *c, int status, const char *msg)
{
    int was = c->state;
    char m[512];

    if (c->state == ST_FAILED) return;
    snprintf(m, sizeof(m), "%s", msg);
    c->state = ST_FAILED;
    uv_timer_stop(&c->timer);
    close_tcp(c);
    if (was < ST_READY && c->ccb != NULL) {
        irp_connect_cb cb = c->ccb;
        c->ccb = NULL;
        cb(c->cctx, status, m);
    }
    fail_pending(c, status, m);
    if (was == ST_READY && !c->closing && c->lcb != NULL) c->lcb(c->ectx, status, m);
}

int irp_client_new(uv_loop_t *loop, const irp_client_opts *o, irp_client **out, char *err,
                   size_t errcap)
{
    irp_client *c;
    int r;
    char dummy[8];

    if (err == NULL) {
        err = dummy;
        errcap = sizeof(dummy);
    }
    *out = NULL;
    if (loop == NULL || o == NULL || (o->ca_fp == NULL && o->ca_pem == NULL)) {
        snprintf(err, errcap, "a CA fingerprint or CA certificate is required");
        return SC_ERR_ARG;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) return SC_ERR_NOMEM;
    c->loop = loop;
    c->closing = 1; /* for maybe_free on the error paths below */
    irp_framer_init(&c->fr);
    c->xp = sc_xml_parser_new();
    c->anchors = sk_X509_new_null();
    c->ctx = SSL_CTX_new(TLS_client_method());
    if (c->xp == NULL || c->anchors == NULL || c->ctx == NULL) {
        maybe_free(c);
        return SC_ERR_NOMEM;
    }
    r = irp__client_tls_init(c, o, err, errcap);
    if (r != 0) {
        maybe_free(c);
        return r;
    }
    c->connect_ms = o->connect_timeout_ms ? o->connect_timeout_ms : 10000;
    c->req_ms = o->request_timeout_ms ? o->request_timeout_ms : 30000;
    if (o->server_name != NULL) snprintf(c->name, sizeof(c->name), "%s", o->server_name);
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    c->refs = 1;
    c->closing = 0;
    c->next_id = 1;
    *out = c;
    return 0;
}

void irp_client_set_event_cb(irp_client *c, irp_event_cb ev, irp_lost_cb lost, void *ctx)
{
    c->ecb = ev;
    c->lcb = lost;
    c->ectx = ctx;
}

size_t irp_client_pending(const irp_client *c)
{
    return c->n_pend;
}

X509 *irp_client_peer_cert(const irp_client *c)
{
    return c->tls != NULL && c->state == ST_READY
               ? SSL_get0_peer_certificate(irp_tlspump_ssl(c->tls))
               : NULL;
}

/* ---- I/O -------------------------------------------------------------------------- */

typedef struct wreq {
    uv_write_t req;
    uv_buf_t buf;
} wreq;

static void on_written(uv_write_t *req, int status)
{
    wreq *w = (wreq *)req;
    irp_client *c = req->data;
    free(w);
    if (status < 0 && status != UV_ECANCELED && c != NULL && !c->closing) {
        char m[128];
        snprintf(m, sizeof(m), "write to the registry failed: %s", uv_strerror(status));
        fail(c, IRP_CLIENT_CLOSED, m);
    }
}

/* Sends the ciphertext the TLS pump has ready. */
static void flush_out(irp_client *c)
{
    size_t n;
    while (c->tcp != NULL && (n = irp_tlspump_pending(c->tls)) > 0) {
        wreq *w = malloc(sizeof(*w) + n);
        if (w == NULL) {
            fail(c, IRP_CLIENT_CLOSED, "out of memory");
            return;
        }
        n = irp_tlspump_take(c->tls, (uint8_t *)(w + 1), n);
        w->buf = uv_buf_init((char *)(w + 1), (unsigned)n);
        w->req.data = c;
        if (uv_write(&w->req, (uv_stream_t *)c->tcp, &w->buf, 1, on_written) != 0) {
            free(w);
            fail(c, IRP_CLIENT_CLOSED, "write to the registry failed");
            return;
        }
    }
}

static void ssl_fail(irp_client *c, int status, const char *what)
{
    char m[512];
    const char *why = c->tls != NULL ? irp_tlspump_reason(c->tls) : "";
    if (c->verr[0] != '\0')
        snprintf(m, sizeof(m), "%s: %s", what, c->verr);
    else if (why[0] != '\0')
        snprintf(m, sizeof(m), "%s: %s", what, why);
    else
        snprintf(m, sizeof(m), "%s", what);
    fail(c, status, m);
}

static void arm_timer(irp_client *c);

static void on_timer(uv_timer_t *t)
{
    irp_client *c = t->data;
    char m[384];
    if (c->state < ST_READY) {
        snprintf(m, sizeof(m), "connecting to %s timed out after %u ms", c->host, c->connect_ms);
        fail(c, IRP_CLIENT_TIMEOUT, m);
    } else if (c->head != NULL) {
        snprintf(m, sizeof(m), "no answer from the registry within %u ms", c->req_ms);
        fail(c, IRP_CLIENT_TIMEOUT, m);
    }
}

static void arm_timer(irp_client *c)
{
    if (c->state == ST_READY) {
        if (c->head != NULL)
            uv_timer_start(&c->timer, on_timer, c->req_ms, 0);
        else
            uv_timer_stop(&c->timer);
    }
}

static void deliver(irp_client *c, const uint8_t *doc, size_t len)
{
    irp_resp resp;
    irp_event ev;
    int is_event = 0, r;

    irp_resp_init(&resp);
    irp_event_init(&ev);
    r = irp_server_doc_parse(c->xp, doc, len, &resp, &ev, &is_event);
    if (r != 0) {
        char m[256];
        snprintf(m, sizeof(m), "unparsable document from the registry (%d: %s)", r,
                 is_event ? ev.err : resp.err);
        irp_resp_clear(&resp);
        irp_event_clear(&ev);
        fail(c, IRP_CLIENT_PROTOCOL, m);
        return;
    }
    if (is_event) {
        if (c->ecb != NULL) c->ecb(c->ectx, &ev);
        irp_event_clear(&ev);
        return;
    }
    if (c->head == NULL) {
        char m[384];
        int st = resp.id[0] == '\0' ? resp.status : IRP_CLIENT_PROTOCOL;
        snprintf(m, sizeof(m), "unexpected answer from the registry: %d %s", resp.status,
                 resp.msg != NULL ? resp.msg : "");
        irp_resp_clear(&resp);
        fail(c, st, m);
        return;
    }
    if (resp.id[0] != '\0' && strcmp(resp.id, c->head->id) != 0) {
        char m[256];
        snprintf(m, sizeof(m), "answer id \"%s\" where \"%s\" was expected", resp.id, c->head->id);
        irp_resp_clear(&resp);
        fail(c, IRP_CLIENT_PROTOCOL, m);
        return;
    }
    {
        pend *p = c->head;
        c->head = p->next;
        if (c->head == NULL) c->tail = NULL;
        c->n_pend--;
        arm_timer(c);
        if (p->cb != NULL) p->cb(p->ctx, &resp);
        free(p);
    }
    irp_resp_clear(&resp);
}

static void on_handshake_done(irp_client *c)
{
    c->state = ST_READY;
    uv_timer_stop(&c->timer);
    flush_out(c); /* requests queued before the handshake was done */
    arm_timer(c);
    if (c->ccb != NULL) {
        irp_connect_cb cb = c->ccb;
        c->ccb = NULL;
        cb(c->cctx, 0, "connected");
    }
}

/* Drives TLS after input arrived. */
static void drive(irp_client *c)
{
    if (c->state == ST_HANDSHAKE) {
        int done = 0;
        int r = irp_tlspump_handshake(c->tls, &done);
        flush_out(c);
        if (r != SC_OK) {
            ssl_fail(c, IRP_CLIENT_TLS, "TLS handshake failed");
            return;
        }
        if (!done) return;
        on_handshake_done(c);
    }
    while (c->state == ST_READY && !c->closing) {
        uint8_t buf[16384];
        size_t off = 0, n = 0;
        int r = irp_tlspump_read(c->tls, buf, sizeof(buf), &n);
        if (r != SC_OK || n == 0) {
            flush_out(c);
            if (r == SC_OK) return; /* more input needed */
            if (r == SC_ERR_CLOSED)
                fail(c, IRP_CLIENT_CLOSED, "the registry closed the connection");
            else if (!c->got_doc)
                /* TLS 1.3: the registry checks our certificate after we finished */
                ssl_fail(c, IRP_CLIENT_TLS, "TLS handshake refused by the registry");
            else
                ssl_fail(c, IRP_CLIENT_CLOSED, "TLS connection failed");
            return;
        }
        while (off < n && c->state == ST_READY && !c->closing) {
            const uint8_t *doc;
            size_t used = 0, dlen;
            int fr = irp_framer_feed(&c->fr, buf + off, n - off, &used, &doc, &dlen);
            off += used;
            if (fr == IRP_FEED_NEED) continue;
            if (fr != IRP_FEED_DOC) {
                fail(c, IRP_CLIENT_PROTOCOL, "bad frame from the registry");
                return;
            }
            c->got_doc = 1;
            deliver(c, doc, dlen);
        }
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    buf->base = malloc(suggested);
    buf->len = buf->base != NULL ? suggested : 0;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    irp_client *c = s->data;
    if (nread > 0 && c->state >= ST_HANDSHAKE && c->state != ST_FAILED) {
        int r = irp_tlspump_feed(c->tls, (const uint8_t *)buf->base, (size_t)nread);
        free(buf->base);
        if (r != SC_OK) {
            fail(c, IRP_CLIENT_CLOSED, "out of memory");
            return;
        }
        drive(c);
        return;
    }
    free(buf->base);
    if (nread < 0) {
        if (c->state == ST_HANDSHAKE) {
            /* the server aborted the handshake; OpenSSL may know why (alert) */
            char m[256];
            snprintf(m, sizeof(m), "connection closed during the TLS handshake (%s)",
                     nread == UV_EOF ? "eof" : uv_strerror((int)nread));
            if (c->verr[0] != '\0')
                ssl_fail(c, IRP_CLIENT_TLS, "TLS handshake failed");
            else
                fail(c, IRP_CLIENT_TLS, m);
        } else {
            fail(c, IRP_CLIENT_CLOSED,
                 nread == UV_EOF ? "the registry closed the connection" : uv_strerror((int)nread));
        }
    }
}

static void try_next(irp_client *c, int last_err);

static void on_connected(uv_connect_t *req, int status)
{
    irp_client *c = req->data;
    uv_tcp_t *tcp = (uv_tcp_t *)req->handle;
    free(req);
    if (c->closing || c->state != ST_CONNECTING || tcp != c->tcp) return;
    if (status < 0) {
        close_tcp(c);
        try_next(c, status);
        return;
    }
    c->state = ST_HANDSHAKE;
    uv_read_start((uv_stream_t *)c->tcp, on_alloc, on_read);
    drive(c);
}

static void try_next(irp_client *c, int last_err)
{
    while (c->ai_cur != NULL) {
        struct addrinfo *ai = c->ai_cur;
        uv_connect_t *req;
        c->ai_cur = ai->ai_next;
        c->tcp = malloc(sizeof(*c->tcp));
        req = malloc(sizeof(*req));
        if (c->tcp == NULL || req == NULL) {
            free(c->tcp);
            free(req);
            c->tcp = NULL;
            fail(c, IRP_CLIENT_CONNECT, "out of memory");
            return;
        }
        uv_tcp_init(c->loop, c->tcp);
        c->tcp->data = c;
        c->refs++;
        uv_tcp_nodelay(c->tcp, 1);
        req->data = c;
        last_err = uv_tcp_connect(req, c->tcp, ai->ai_addr, on_connected);
        if (last_err == 0) return;
        free(req);
        close_tcp(c);
    }
    {
        char m[384];
        snprintf(m, sizeof(m), "cannot connect to %s: %s", c->host,
                 last_err != 0 ? uv_strerror(last_err) : "no address");
        fail(c, IRP_CLIENT_CONNECT, m);
    }
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    irp_client *c = req->data;
    c->refs--;
    if (c->closing) {
        if (res != NULL) uv_freeaddrinfo(res);
        maybe_free(c);
        return;
    }
    if (status < 0) {
        char m[384];
        snprintf(m, sizeof(m), "cannot resolve %s: %s", c->host, uv_strerror(status));
        fail(c, IRP_CLIENT_CONNECT, m);
        return;
    }
    c->ai_list = res;
    c->ai_cur = res;
    c->state = ST_CONNECTING;
    try_next(c, 0);
}

int irp_client_connect(irp_client *c, const char *host, uint16_t port, irp_connect_cb cb, void *ctx)
{
    struct addrinfo hints;
    char ps[8];
    if (c->state != ST_IDLE || c->closing) return SC_ERR_STATE;
    if (host == NULL || strlen(host) >= sizeof(c->host) || port == 0) return SC_ERR_ARG;
    snprintf(c->host, sizeof(c->host), "%s", host);
    if (c->name[0] == '\0') snprintf(c->name, sizeof(c->name), "%s", host);
    snprintf(ps, sizeof(ps), "%u", (unsigned)port);
    /* the pump exists from now on: requests made while connecting wait in it */
    c->tls = irp_tlspump_new(c->ctx, 0);
    if (c->tls == NULL) return SC_ERR_NOMEM;
    if (!irp__is_ip_literal(c->host) &&
        SSL_set_tlsext_host_name(irp_tlspump_ssl(c->tls), c->host) != 1) {
        irp_tlspump_free(c->tls);
        c->tls = NULL;
        return SC_ERR_ARG;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    c->ccb = cb;
    c->cctx = ctx;
    c->gai.data = c;
    c->state = ST_RESOLVING;
    if (uv_getaddrinfo(c->loop, &c->gai, on_resolved, c->host, ps, &hints) != 0) {
        c->state = ST_IDLE;
        irp_tlspump_free(c->tls);
        c->tls = NULL;
        return SC_ERR_ARG;
    }
    c->refs++;
    uv_timer_start(&c->timer, on_timer, c->connect_ms, 0);
    return 0;
}

int irp_client_request(irp_client *c, const irp_req *req, irp_response_cb cb, void *ctx)
{
    irp_req copy = *req;
    sc_buf out;
    size_t start;
    pend *p;
    int r;

    if (c->closing || c->state == ST_IDLE || c->state == ST_FAILED) return SC_ERR_STATE;
    snprintf(copy.id, sizeof(copy.id), "%llu", (unsigned long long)c->next_id);
    sc_buf_init_public(&out, 0);
    start = irp_frame_begin(&out);
    r = irp_req_write(&out, &copy);
    if (r == 0) r = irp_frame_end(&out, start);
    if (r == 0 && !sc_buf_ok(&out)) r = SC_ERR_NOMEM;
    if (r != 0) {
        sc_buf_dispose(&out);
        return r;
    }
    p = calloc(1, sizeof(*p));
    if (p == NULL) {
        sc_buf_dispose(&out);
        return SC_ERR_NOMEM;
    }
    c->next_id++;
    memcpy(p->id, copy.id, sizeof(p->id));
    p->cb = cb;
    p->ctx = ctx;
    /* before the handshake is done the pump holds it, then sends it first */
    r = irp_tlspump_write(c->tls, out.data, out.len);
    sc_buf_dispose(&out);
    if (r != SC_OK) {
        free(p);
        return r == SC_ERR_NOMEM ? r : SC_ERR_STATE;
    }
    if (c->state == ST_READY) flush_out(c);
    if (c->tail != NULL)
        c->tail->next = p;
    else
        c->head = p;
    c->tail = p;
    c->n_pend++;
    if (c->n_pend == 1) arm_timer(c);
    return 0;
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    irp_client *c = req->data;
    uv_tcp_t *tcp = (uv_tcp_t *)req->handle;
    (void)status;
    free(req);
    uv_close((uv_handle_t *)tcp, on_handle_closed);
    c->refs--; /* the shutdown request; the close callback drops the tcp ref */
    maybe_free(c);
}

void irp_client_close(irp_client *c)
{
    if (c == NULL || c->closing) return;
    c->closing = 1;
    c->ccb = NULL;
    fail_pending(c, IRP_CLIENT_CLOSED, "the client closed the connection");
    if (c->state == ST_RESOLVING) uv_cancel((uv_req_t *)&c->gai);
    if (c->state == ST_READY && c->tcp != NULL) {
        uv_shutdown_t *sd = malloc(sizeof(*sd));
        irp_tlspump_close(c->tls); /* close_notify */
        flush_out(c);
        uv_read_stop((uv_stream_t *)c->tcp);
        if (sd != NULL) {
            sd->data = c;
            if (uv_shutdown(sd, (uv_stream_t *)c->tcp, on_shutdown) == 0) {
                c->tcp = NULL; /* on_shutdown closes it */
                c->refs++;
            } else {
                free(sd);
            }
        }
    }
    c->state = ST_FAILED;
    close_tcp(c);
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}
