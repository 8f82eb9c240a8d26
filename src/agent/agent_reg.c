/*
 * agent_reg.c - the registry connection of the agent (agent_reg.h): make
 * it, register on it, keep the registration fresh, get it back after a
 * loss, and end it with an unregister. Watches and lookups on the same
 * connection are agent_reg_watch.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/crypto.h>

#include "agent_reg_int.h"
#include "sixchat/error.h"

enum { REQ_REGISTER = 1, REQ_UNREGISTER, REQ_PING, REQ_STOP };

typedef struct reg_req {
    agent_reg *r;
    unsigned gen;
    int kind;
} reg_req;

static void do_register(agent_reg *r);
static void connect_now(agent_reg *r);
static void finish_stop(agent_reg *r);

/* 6.7 step 2: strictly increasing per device, across restarts too: the time in ms. */
static uint64_t next_seq(agent_reg *r)
{
    struct timespec ts;
    uint64_t ms;
    clock_gettime(CLOCK_REALTIME, &ts);
    ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    r->last_seq = ms > r->last_seq ? ms : r->last_seq + 1;
    return r->last_seq;
}

static void fill_addr_text(agent_reg *r)
{
    size_t i;
    r->st.n_addrs = 0;
    for (i = 0; i < r->n_addrs; i++)
        if (irp_addr_format(&r->addrs[i], r->st.addrs[r->st.n_addrs]) == 0) r->st.n_addrs++;
}

static void report(agent_reg *r, agent_reg_state state)
{
    r->st.state = state;
    r->st.msg = r->msg;
    r->st.port = r->o.listen_port;
    r->st.nat_msg = r->st.nat ? r->nat_msg : NULL;
    if (r->o.on_status != NULL) r->o.on_status(r->o.ctx, &r->st);
}

static int send_req(agent_reg *r, const irp_req *q, int kind, irp_response_cb cb)
{
    reg_req *x = malloc(sizeof(*x));
    int rc;
    if (x == NULL) return SC_ERR_NOMEM;
    x->r = r;
    x->gen = r->gen;
    x->kind = kind;
    rc = irp_client_request(r->c, q, cb, x);
    if (rc != 0) free(x);
    return rc;
}

/* ---- losing and getting the connection back ------------------------------------------------ */

static void on_retry(uv_timer_t *t)
{
    connect_now(t->data);
}

/* The connection is gone (or never came): close it, retry after the backoff. */
static void lost(agent_reg *r, int status, const char *why)
{
    irp_client *c = r->c;
    if (r->stopping) return;
    r->c = NULL;
    r->gen++;
    r->connected = 0;
    r->registered = 0;
    r->reg_pending = 0;
    r->reg_dirty = 0;
    r->st.nat = 0;
    r->st.seen[0] = '\0';
    r->st.expires = 0;
    uv_timer_stop(&r->t_refresh);
    if (c != NULL) irp_client_close(c);
    r->st.error = status;
    r->st.retry_ms = r->backoff_ms;
    snprintf(r->msg, sizeof(r->msg), "registry %s:%u: %s; trying again in %u.%u s", r->host,
             r->o.port, why, r->backoff_ms / 1000, (r->backoff_ms % 1000) / 100);
    report(r, AGENT_REG_RETRYING);
    if (r->next_target < r->n_targets) { /* another SRV target: try it now */
        uv_timer_start(&r->t_retry, on_retry, 0, 0);
        return;
    }
    uv_timer_start(&r->t_retry, on_retry, r->backoff_ms, 0);
    r->backoff_ms =
        r->backoff_ms * 2 > r->o.backoff_max_ms ? r->o.backoff_max_ms : r->backoff_ms * 2;
}

static void on_lost(void *ctx, int status, const char *msg)
{
    agent_reg *r = ctx;
    lost(r, status, msg);
}

static void on_event(void *ctx, const irp_event *ev)
{
    agent_reg *r = ctx;
    if (!r->stopping) agent__reg_on_event(r, ev);
}

static void on_connected(void *ctx, int status, const char *msg)
{
    agent_reg *r = ctx;
    if (r->stopping) return;
    if (status != 0) {
        lost(r, status, msg);
        return;
    }
    r->connected = 1;
    r->backoff_ms = r->o.backoff_min_ms;
    r->n_targets = r->next_target = 0; /* after a loss: ask the DNS again */
    if (r->o.reads_only) {
        snprintf(r->msg, sizeof(r->msg), "connected to the registry %s:%u", r->host, r->o.port);
        report(r, AGENT_REG_REGISTERED);
    }
}

/* The IRP client's options: the registry's trust and the user's identity (the copies in r). */
static void client_opts(const agent_reg *r, irp_client_opts *co)
{
    memset(co, 0, sizeof(*co));
    co->ca_fp = r->ca_fp;
    co->ca_pem = r->ca_pem;
    co->cert_pem = r->cert_pem;
    co->key_pem = r->key_pem;
}

static void connect_to(agent_reg *r);

/* The SRV query of one connection attempt; r NULL once the agent_reg stopped. */
typedef struct agent_reg_srv {
    agent_reg *r;
} agent_reg_srv;

static void on_srv(void *arg, int status, const irp_srv_target *t, size_t n, const char *err)
{
    agent_reg_srv *q = arg;
    agent_reg *r = q->r;
    free(q);
    if (r == NULL) return;
    r->srv = NULL;
    if (status != 0 || n == 0) {
        lost(r, IRP_CLIENT_CONNECT, err);
        return;
    }
    memcpy(r->targets, t, n * sizeof(*t));
    r->n_targets = n;
    r->next_target = 0;
    connect_to(r);
}

/*
 * A registry found by SRV: the next target of the last answer, or a new
 * query once they are all tried (each failure moves to the next, as RFC
 * 2782 says; a new answer may have changed).
 */
static void connect_now(agent_reg *r)
{
    if (r->srv_domain == NULL) {
        connect_to(r);
        return;
    }
    if (r->next_target < r->n_targets) {
        connect_to(r);
        return;
    }
    agent_reg_srv *q = calloc(1, sizeof(*q));
    if (q == NULL) {
        lost(r, SC_ERR_NOMEM, "out of memory");
        return;
    }
    q->r = r;
    snprintf(r->msg, sizeof(r->msg), "looking up the registry of %s (DNS SRV)", r->srv_domain);
    report(r, AGENT_REG_CONNECTING);
    if (irp_srv_resolve_async(r->loop, r->srv_domain, r->dns, on_srv, q) != 0) {
        free(q);
        lost(r, IRP_CLIENT_CONNECT, "cannot start the DNS lookup");
        return;
    }
    r->srv = q;
}

/* Points r->host and port at the next SRV target; 0 or SC_ERR_NOMEM. */
static int take_target(agent_reg *r)
{
    const irp_srv_target *t = &r->targets[r->next_target++];
    char *h = strdup(t->host);
    if (h == NULL) return SC_ERR_NOMEM;
    free(r->host);
    r->host = h;
    r->o.port = t->port;
    return 0;
}

static void connect_to(agent_reg *r)
{
    irp_client_opts co;
    char err[256];
    int rc;

    if (r->srv_domain != NULL && take_target(r) != 0) {
        lost(r, SC_ERR_NOMEM, "out of memory");
        return;
    }
    client_opts(r, &co);
    co.request_timeout_ms = r->o.request_timeout_ms;
    rc = irp_client_new(r->loop, &co, &r->c, err, sizeof(err));
    if (rc != 0) {
        r->c = NULL;
        lost(r, rc, err);
        return;
    }
    irp_client_set_event_cb(r->c, on_event, on_lost, r);
    snprintf(r->msg, sizeof(r->msg), "connecting to the registry %s:%u", r->host, r->o.port);
    report(r, AGENT_REG_CONNECTING);
    if (irp_client_connect(r->c, r->host, r->o.port, on_connected, r) != 0) {
        lost(r, IRP_CLIENT_CONNECT, "cannot start connecting");
        return;
    }
    /* Requests made now are sent once the handshake completes (irp_client.h). */
    if (!r->o.reads_only) do_register(r);
    agent__reg_watch_all(r);
}

/* ---- registration (docs/IRP.md 6.7) ------------------------------------------------------ */

static void on_refresh(uv_timer_t *t)
{
    do_register(t->data);
}

static void set_nat(agent_reg *r, const irp_resp *resp)
{
    char list[IRP_MAX_ADDRS * (IRP_ADDR_STRLEN + 2)] = "";
    size_t i;

    r->st.nat = resp->nat;
    r->st.seen[0] = '\0';
    if (resp->has_seen && irp_addr_format(&resp->seen, r->st.seen) != 0) r->st.seen[0] = '\0';
    if (!resp->nat) return;
    for (i = 0; i < r->st.n_addrs; i++) {
        if (i > 0) strcat(list, ", ");
        strcat(list, r->st.addrs[i]);
    }
    /* 6.7: say plainly what the verdict means and what to do. */
    snprintf(r->nat_msg, sizeof(r->nat_msg),
             "the registry sees this machine as %s, but it registered %s: it is probably "
             "behind NAT (or a proxy). Peers outside this network may not reach it: End2End "
             "Direct needs a globally routable address. Use a network that gives this machine "
             "a public IPv6 (or IPv4) address, or forward TCP port %u on the NAT to it and "
             "advertise the public address",
             r->st.seen[0] ? r->st.seen : "another address", list, r->o.listen_port);
}

static void on_register(void *ctx, const irp_resp *resp)
{
    reg_req *x = ctx;
    agent_reg *r = x->r;
    int stale = x->gen != r->gen || r->stopping;

    free(x);
    if (stale) return;
    r->reg_pending = 0;
    if (resp->status >= 600) return; /* the connection failed: on_lost/on_connected retry */
    if (resp->status == IRP_OK) {
        unsigned half = resp->granted / 2;
        r->registered = 1;
        r->st.error = 0;
        r->st.granted = resp->granted;
        r->st.expires = agent__reg_now() + resp->granted;
        fill_addr_text(r);
        set_nat(r, resp);
        snprintf(r->msg, sizeof(r->msg), "registered %s as %s on %zu address%s, port %u, for %u s",
                 r->device, r->user, r->st.n_addrs, r->st.n_addrs == 1 ? "" : "es",
                 r->o.listen_port, resp->granted);
        report(r, AGENT_REG_REGISTERED);
        /* 6.7: again before expires; the reference agent at half the granted lifetime. */
        uv_timer_start(&r->t_refresh, on_refresh, (uint64_t)(half ? half : 1) * 1000, 0);
    } else {
        unsigned wait = r->backoff_ms > 5000 ? r->backoff_ms : 5000;
        r->registered = 0;
        r->st.error = resp->status;
        snprintf(r->msg, sizeof(r->msg), "the registry refused the registration: %d %s",
                 resp->status, resp->msg != NULL ? resp->msg : "");
        report(r, AGENT_REG_REFUSED);
        uv_timer_start(&r->t_refresh, on_refresh, wait, 0);
    }
    if (r->reg_dirty) {
        r->reg_dirty = 0;
        do_register(r);
    }
}

static void on_unregister(void *ctx, const irp_resp *resp)
{
    reg_req *x = ctx;
    agent_reg *r = x->r;
    int stale = x->gen != r->gen;
    int kind = x->kind;

    free(x);
    if (kind == REQ_STOP) {
        if (r->stopping && !stale) finish_stop(r);
        return;
    }
    (void)resp;
    if (stale || r->stopping) return;
    r->reg_pending = 0;
    if (r->reg_dirty) {
        r->reg_dirty = 0;
        do_register(r);
    }
}

/* The addresses to register now. */
static void current_addrs(agent_reg *r, irp_addr out[IRP_MAX_ADDRS], size_t *n)
{
    if (r->use_fixed) {
        memcpy(out, r->fixed, sizeof(r->fixed));
        *n = r->n_fixed;
    } else if (agent__reg_addrs_collect(r->o.allow_local, out, n) != 0) {
        *n = 0;
    }
}

static void do_register(agent_reg *r)
{
    irp_req q;
    irp_addr now[IRP_MAX_ADDRS];
    size_t n = 0;

    if (r->c == NULL || r->stopping || r->o.reads_only) return;
    if (r->reg_pending) {
        r->reg_dirty = 1; /* once the answer is in */
        return;
    }
    uv_timer_stop(&r->t_refresh);
    current_addrs(r, now, &n);
    irp_req_init(&q);
    if (n == 0) {
        r->n_addrs = 0;
        fill_addr_text(r);
        snprintf(r->msg, sizeof(r->msg),
                 "this machine has no usable address (global, unique-local or private)%s: "
                 "not registered",
                 r->o.allow_local ? "" : " and local ones are not allowed");
        r->st.nat = 0;
        report(r, AGENT_REG_NO_ADDRESS);
        if (!r->registered) return;
        /* 6.8: the old addresses are wrong now; peers should not dial them. */
        r->registered = 0;
        q.op = IRP_OP_UNREGISTER;
        q.user = r->user;
        q.device = r->device;
        q.has_seq = 1;
        q.seq = next_seq(r);
        if (send_req(r, &q, REQ_UNREGISTER, on_unregister) == 0) r->reg_pending = 1;
        return;
    }
    memcpy(r->addrs, now, sizeof(now));
    r->n_addrs = n;
    q.op = IRP_OP_REGISTER;
    q.user = r->user;
    q.device = r->device;
    q.port = r->o.listen_port;
    q.lifetime = r->o.lifetime;
    q.has_seq = 1;
    q.seq = next_seq(r);
    memcpy(q.addrs, now, sizeof(now));
    q.n_addrs = n;
    if (send_req(r, &q, REQ_REGISTER, on_register) == 0) r->reg_pending = 1;
}

void agent_reg_addrs_changed(agent_reg *r)
{
    irp_addr now[IRP_MAX_ADDRS];
    size_t n = 0;

    if (r == NULL || r->stopping || r->c == NULL) return;
    current_addrs(r, now, &n);
    if (r->registered && agent__reg_addrs_same(now, n, r->addrs, r->n_addrs)) return;
    do_register(r);
}

static void on_netmon(void *ctx)
{
    agent_reg_addrs_changed(ctx);
}

/* ---- ping (3.6) ------------------------------------------------------------------------------ */

static void on_pong(void *ctx, const irp_resp *resp)
{
    (void)resp;
    free(ctx); /* a failed ping is a lost connection, which on_lost handles */
}

static void on_ping(uv_timer_t *t)
{
    agent_reg *r = t->data;
    irp_req q;
    if (r->c == NULL || !r->connected || r->stopping) return;
    irp_req_init(&q);
    q.op = IRP_OP_PING;
    (void)send_req(r, &q, REQ_PING, on_pong);
}

/* ---- life cycle ------------------------------------------------------------------------------ */

static char *dup_or_null(const char *s, int *bad)
{
    char *d;
    if (s == NULL) return NULL;
    d = strdup(s);
    if (d == NULL) *bad = 1;
    return d;
}

static void free_strings(agent_reg *r)
{
    free(r->host);
    free(r->ca_fp);
    free(r->ca_pem);
    free(r->cert_pem);
    free(r->srv_domain);
    free(r->dns);
    if (r->key_pem != NULL) {
        OPENSSL_cleanse(r->key_pem, strlen(r->key_pem));
        free(r->key_pem);
    }
}

int agent_reg_new(uv_loop_t *loop, const agent_reg_opts *o, agent_reg **out, char *err,
                  size_t errcap)
{
    agent_reg *r;
    irp_client *probe = NULL;
    irp_client_opts co;
    int bad = 0, rc;
    size_t i;
    char dummy[8];

    if (err == NULL) {
        err = dummy;
        errcap = sizeof(dummy);
    }
    *out = NULL;
    if (loop == NULL || o == NULL || (o->host == NULL && o->srv_domain == NULL) ||
        (o->ca_fp == NULL && o->ca_pem == NULL) || o->cert_pem == NULL || o->key_pem == NULL) {
        snprintf(err, errcap, "the registry, its CA and the user's certificate and key are needed");
        return SC_ERR_ARG;
    }
    if (o->user == NULL || !irp_valid_user(o->user)) {
        snprintf(err, errcap, "not a user ID: %s", o->user != NULL ? o->user : "(none)");
        return SC_ERR_ARG;
    }
    if (o->device == NULL || !irp_valid_id(o->device, strlen(o->device))) {
        snprintf(err, errcap, "a device id is 1 to 64 of A-Z a-z 0-9 . _ -");
        return SC_ERR_ARG;
    }
    if ((o->listen_port == 0 && !o->reads_only) || o->n_addrs > IRP_MAX_ADDRS) {
        snprintf(err, errcap,
                 o->listen_port == 0 ? "the listen port is needed" : "at most 8 addresses");
        return SC_ERR_ARG;
    }
    r = calloc(1, sizeof(*r));
    if (r == NULL) return SC_ERR_NOMEM;
    r->loop = loop;
    r->o = *o;
    if (r->o.port == 0) r->o.port = IRP_PORT;
    if (r->o.backoff_min_ms == 0) r->o.backoff_min_ms = 500;
    if (r->o.backoff_max_ms < r->o.backoff_min_ms)
        r->o.backoff_max_ms = r->o.backoff_min_ms > 30000 ? r->o.backoff_min_ms : 30000;
    if (r->o.request_timeout_ms == 0) r->o.request_timeout_ms = 15000;
    r->backoff_ms = r->o.backoff_min_ms;
    snprintf(r->user, sizeof(r->user), "%s", o->user);
    snprintf(r->device, sizeof(r->device), "%s", o->device);
    r->host = dup_or_null(o->host, &bad);
    r->ca_fp = dup_or_null(o->ca_fp, &bad);
    r->ca_pem = dup_or_null(o->ca_pem, &bad);
    r->cert_pem = dup_or_null(o->cert_pem, &bad);
    r->key_pem = dup_or_null(o->key_pem, &bad);
    r->srv_domain = dup_or_null(o->srv_domain, &bad);
    r->dns = dup_or_null(o->dns, &bad);
    if (r->host == NULL && r->srv_domain != NULL) r->host = dup_or_null(o->srv_domain, &bad);
    r->o.host = r->o.ca_fp = r->o.ca_pem = r->o.cert_pem = r->o.key_pem = NULL;
    r->o.srv_domain = r->o.dns = NULL;
    r->o.user = r->o.device = NULL;
    r->o.addrs = NULL;
    if (bad) {
        free_strings(r);
        free(r);
        return SC_ERR_NOMEM;
    }
    if (o->addrs != NULL) {
        r->use_fixed = 1;
        for (i = 0; i < o->n_addrs; i++)
            if (irp_addr_parse(o->addrs[i], strlen(o->addrs[i]), &r->fixed[r->n_fixed++]) != 0) {
                snprintf(err, errcap, "not an IP address: %s", o->addrs[i]);
                free_strings(r);
                free(r);
                return SC_ERR_ARG;
            }
    }
    /* Load the PEMs once now, so that a bad file is an error here and not a retry loop. */
    client_opts(r, &co);
    rc = irp_client_new(loop, &co, &probe, err, errcap);
    if (rc != 0) {
        free_strings(r);
        free(r);
        return rc;
    }
    irp_client_close(probe);
    uv_timer_init(loop, &r->t_refresh);
    uv_timer_init(loop, &r->t_retry);
    uv_timer_init(loop, &r->t_ping);
    uv_timer_init(loop, &r->t_defer);
    r->t_refresh.data = r->t_retry.data = r->t_ping.data = r->t_defer.data = r;
    r->open_handles = 4;
    r->st.state = AGENT_REG_CONNECTING;
    r->st.msg = "";
    *out = r;
    return 0;
}

int agent_reg_start(agent_reg *r)
{
    if (r == NULL || r->started || r->stopping) return SC_ERR_STATE;
    r->started = 1;
    if (!r->use_fixed && !r->o.no_netmon && !r->o.reads_only)
        (void)agent_netmon_start(r->loop, 0, on_netmon, r, &r->nm); /* else: periodic only */
    uv_timer_start(&r->t_ping, on_ping, AGENT_REG_PING_MS, AGENT_REG_PING_MS);
    connect_now(r);
    return 0;
}

const agent_reg_status *agent_reg_get_status(const agent_reg *r)
{
    return &r->st;
}

/* ---- stop ------------------------------------------------------------------------------------ */

static void handle_done(agent_reg *r)
{
    if (--r->open_handles > 0) return;
    snprintf(r->msg, sizeof(r->msg), "stopped");
    report(r, AGENT_REG_STOPPED);
    if (r->done != NULL) r->done(r->done_ctx);
    free_strings(r);
    free(r);
}

static void on_handle_closed(uv_handle_t *h)
{
    handle_done(h->data);
}

static void on_netmon_closed(void *ctx)
{
    handle_done(ctx);
}

static void finish_stop(agent_reg *r)
{
    irp_client *c = r->c;
    r->c = NULL;
    r->gen++;
    if (c != NULL) irp_client_close(c); /* answers outstanding lookups with "closed" */
    agent__reg_watch_free(r);
    uv_close((uv_handle_t *)&r->t_refresh, on_handle_closed);
    uv_close((uv_handle_t *)&r->t_retry, on_handle_closed);
    uv_close((uv_handle_t *)&r->t_ping, on_handle_closed);
    uv_close((uv_handle_t *)&r->t_defer, on_handle_closed);
    if (r->nm != NULL) {
        r->open_handles++;
        agent_netmon_close(r->nm, on_netmon_closed, r);
        r->nm = NULL;
    }
}

void agent_reg_stop(agent_reg *r, void (*done)(void *ctx), void *ctx)
{
    irp_req q;

    if (r == NULL || r->stopping) return;
    r->stopping = 1;
    r->done = done;
    r->done_ctx = ctx;
    if (r->srv != NULL) r->srv->r = NULL; /* its answer, when it comes, goes nowhere */
    r->srv = NULL;
    uv_timer_stop(&r->t_refresh);
    uv_timer_stop(&r->t_retry);
    uv_timer_stop(&r->t_ping);
    if (r->c == NULL || !r->connected || !(r->registered || r->reg_pending)) {
        finish_stop(r);
        return;
    }
    /* 6.8: peers stop dialling us at once instead of at expiry. */
    irp_req_init(&q);
    q.op = IRP_OP_UNREGISTER;
    q.user = r->user;
    q.device = r->device;
    q.has_seq = 1;
    q.seq = next_seq(r);
    if (send_req(r, &q, REQ_STOP, on_unregister) != 0) finish_stop(r);
}
