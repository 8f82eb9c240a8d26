/*
 * agent_peer.c - the peer manager (agent_peer.h): listeners, the table of
 * connections and dials, the checks after the handshake, one session per
 * peer device, and the owner's callbacks.
 *
 * Connections (agent_conn.c) and dials (agent_dial.c) report here through
 * their ops tables; this file calls them, never the other way round.
 */
#include "agent_peer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent_conn.h"
#include "agent_dial.h"
#include "agent_peer_addr.h"
#include "sixchat/platform.h"

#define READ_BUF (64 * 1024)

typedef struct listener {
    uv_tcp_t tcp;
    agent_peer *p;
    struct sockaddr_storage addr;
} listener;

struct agent_peer {
    uv_loop_t *loop;
    agent_peer_callbacks cb;
    void *ctx;
    agent_peer_config_fn make_config;
    void *config_ctx;
    char device[AGENT_PEER_DEVICE_MAX + 1];
    char user[IRP_USER_MAX + 1]; /* ours, from the configuration */
    uint8_t fp[32];              /* ours */
    agent_conn_env env;
    agent_conn_cfg *cfg; /* for new sessions */
    listener *ls;
    size_t n_ls, open_ls;
    agent_conn *conns;
    size_t n_conns;
    agent_dial *dials;
    size_t n_dials;
    uint64_t next_sid;
    char **blocked;
    size_t n_blocked;
    agent_peer_sources *sources;
    agent_peer_counts counts;
    int freeing, told;
};

static const agent_conn_ops conn_ops;
static const agent_dial_ops dial_ops;

/* ---- small helpers ----------------------------------------------------------- */

static void plog(agent_peer *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void plog(agent_peer *p, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* The peer chose some of these bytes (its user ID): keep the line one printable line. */
    for (char *q = line; *q; q++)
        if ((unsigned char)*q < 0x20 || *q == 0x7f) *q = '?';
    if (p->cb.log)
        p->cb.log(p->ctx, line);
    else
        fprintf(stderr, "sixchat: %s\n", line);
}

static int valid_device(const char *d)
{
    size_t n = d ? strlen(d) : 0;
    if (n == 0 || n > AGENT_PEER_DEVICE_MAX) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = d[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static void info_of(const agent_conn *c, agent_peer_info *i)
{
    i->sid = c->sid;
    i->user = c->user;
    i->device = c->device;
    i->cert_fp = c->fp;
    i->cert_der = c->cert_der;
    i->cert_len = c->cert_len;
    i->addr = (const struct sockaddr *)&c->addr;
    i->initiator = c->initiator;
}

static int is_blocked(const agent_peer *p, const char *user)
{
    for (size_t i = 0; i < p->n_blocked; i++)
        if (strcasecmp(p->blocked[i], user) == 0) return 1;
    return 0;
}

static void maybe_release(agent_peer *p)
{
    void (*freed)(void *) = p->cb.freed;
    void *ctx = p->ctx;
    if (!p->freeing || p->open_ls || p->n_conns || p->n_dials) return;
    for (size_t i = 0; i < p->n_blocked; i++)
        free(p->blocked[i]);
    free(p->blocked);
    agent_conn_cfg_unref(p->cfg);
    free(p->env.rbuf);
    free(p->sources);
    free(p->ls);
    int told = p->told;
    free(p);
    if (told && freed) freed(ctx);
}

static void link_conn(agent_peer *p, agent_conn *c)
{
    c->sid = ++p->next_sid;
    c->prev = NULL;
    c->next = p->conns;
    if (p->conns) p->conns->prev = c;
    p->conns = c;
    p->n_conns++;
}

/* A fresh configuration for new sessions: the owner's, plus our block list and timeout. */
static int make_cfg(agent_peer *p, char *const *blocked, size_t n, agent_conn_cfg **out)
{
    sc_config *cfg = p->make_config(p->config_ctx);
    int ret = SC_OK;
    if (cfg == NULL) return SC_ERR_CONFIG;
    for (size_t i = 0; ret == SC_OK && i < n; i++)
        ret = sc_config_block_identity(cfg, blocked[i]);
    if (ret != SC_OK) {
        sc_config_free(cfg);
        return ret;
    }
    sc_config_set_handshake_timeout(cfg, p->env.lim.handshake_timeout_ms);
    *out = agent_conn_cfg_new(cfg);
    return *out ? SC_OK : SC_ERR_NOMEM;
}

/* ---- one session per peer device ------------------------------------------------ */

/* One peer device: user ID (ignoring case) and the device id it announced. */
static int same_peer(const agent_conn *a, const agent_conn *b)
{
    return strcasecmp(a->user, b->user) == 0 && strcmp(a->device, b->device) == 0;
}

/* Orders (user ID, device ID, certificate fingerprint) tuples. */
static int tuple_cmp(const char *ua, const char *da, const uint8_t *fa, const char *ub,
                     const char *db, const uint8_t *fb)
{
    int cmp = strcasecmp(ua, ub);
    if (cmp == 0) cmp = strcmp(da, db);
    if (cmp == 0) cmp = memcmp(fa, fb, 32);
    return cmp;
}

/*
 * Which of two sessions with one peer device stays. Both agents must pick
 * the same one without talking: the session dialled by the side whose
 * (user ID, device ID, certificate fingerprint) sorts lower; both sides know
 * both tuples once the device stanzas are through. Two sessions dialled by
 * the same side (a peer that reconnected while its old connection
 * lingers): the newer one, since the older is the one likely dead.
 */
static agent_conn *winner(const agent_peer *p, agent_conn *newer, agent_conn *older)
{
    int cmp;
    if (newer->initiator == older->initiator) return newer;
    cmp = tuple_cmp(p->user, p->device, p->fp, newer->user, newer->device, newer->fp);
    if (cmp == 0) return newer; /* talking to ourselves: no order to agree on */
    int we_lower = cmp < 0;
    return newer->initiator == we_lower ? newer : older;
}

static void go_down(agent_peer *p, agent_conn *c, agent_peer_down_why why, int err)
{
    agent_peer_info info;
    if (!c->up) return;
    c->up = 0;
    if (p->freeing || p->cb.down == NULL) return;
    info_of(c, &info);
    p->cb.down(p->ctx, &info, why, err);
}

/* After the device stanza: admission, the duplicate rule, `up`, the dial's result. */
static void finish_up(agent_peer *p, agent_conn *c)
{
    agent_peer_info info;
    agent_dial *d;
    info_of(c, &info);
    if (p->cb.admit && p->cb.admit(p->ctx, &info) != 0) {
        p->counts.failed++;
        agent_conn_fail(c, AGENT_PEER_DOWN_ERROR, SC_ERR_ACCESS_DENIED,
                        "refused by the agent's policy (contacts only, or a changed certificate)");
        return;
    }
    d = c->dial;
    c->dial = NULL;
    c->device_known = 1;
    for (agent_conn *o = p->conns; o != NULL; o = o->next) {
        if (o == c || !o->up || !same_peer(o, c)) continue;
        if (winner(p, c, o) == c) {
            go_down(p, o, AGENT_PEER_DOWN_DUPLICATE, SC_OK);
            agent_conn_close(o, AGENT_PEER_DOWN_DUPLICATE);
        } else {
            agent_conn_close(c, AGENT_PEER_DOWN_DUPLICATE);
            if (d != NULL) agent_dial_attempt_won(d, c); /* the device has its session */
            return;
        }
    }
    c->up = 1;
    c->up_since_ms = sc_clock_ms();
    if (p->cb.up) p->cb.up(p->ctx, &info);
    if (d != NULL) agent_dial_attempt_won(d, c);
}

static int device_up(const agent_peer *p, const char *user, const char *device)
{
    for (const agent_conn *c = p->conns; c != NULL; c = c->next)
        if (c->up && strcasecmp(c->user, user) == 0 && strcmp(c->device, device) == 0) return 1;
    return 0;
}

/* ---- connection events ------------------------------------------------------------- */

static void on_handshake(void *owner, agent_conn *c, const sc_event *ev)
{
    agent_peer *p = owner;
    const char *reason = NULL;
    int err = SC_ERR_ACCESS_DENIED;
    snprintf(c->user, sizeof c->user, "%s", ev->u.handshake.peer_id);
    memcpy(c->fp, ev->u.handshake.peer_fingerprint, 32);
    if ((c->cert_der = malloc(ev->u.handshake.peer_cert_len)) == NULL) {
        agent_conn_fail(c, AGENT_PEER_DOWN_ERROR, SC_ERR_NOMEM, "out of memory");
        return;
    }
    memcpy(c->cert_der, ev->u.handshake.peer_cert, ev->u.handshake.peer_cert_len);
    c->cert_len = ev->u.handshake.peer_cert_len;
    c->authed = 1;
    /* A block made while this handshake ran used the previous configuration. */
    if (is_blocked(p, c->user))
        reason = "the user is blocked";
    else if (c->dial != NULL)
        err = agent_dial_check_cert(c->dial, c->fp, &reason);
    if (reason != NULL) {
        p->counts.failed++;
        agent_conn_fail(c, AGENT_PEER_DOWN_ERROR, err ? err : SC_ERR_ACCESS_DENIED, reason);
        return;
    }
    /*
     * PROTOCOL.md 10.2: each side sends `device` first; the session becomes
     * that device's when the peer's arrives. For the initiator it is also
     * the responder's acceptance: the initiator's handshake completes before
     * the responder has checked the initiator's certificate (flight 3 is the
     * last), so a responder that refuses us (blocked, unknown CA, its
     * policy) does so only afterwards, instead of sending its device.
     */
    sc_stanza dev = {.type = SC_STANZA_DEVICE, .id = p->device};
    if ((err = agent_conn_send_stanza(c, &dev)) != SC_OK) {
        agent_conn_fail(c, AGENT_PEER_DOWN_ERROR, err, sc_strerror(err));
        return;
    }
    c->confirming = 1;
    agent_conn_set_deadline(c, sc_clock_ms() + p->env.lim.handshake_timeout_ms,
                            "the peer did not say its device after the handshake");
}

/* The peer's first stanza: its device (on_handshake). Anything else ends the session. */
static void on_device(agent_peer *p, agent_conn *c, const sc_stanza *st)
{
    c->confirming = 0;
    agent_conn_set_deadline(c, 0, NULL);
    if (st->type != SC_STANZA_DEVICE) {
        agent_conn_fail(c, AGENT_PEER_DOWN_ERROR, SC_ERR_UNEXPECTED_MESSAGE,
                        "the peer's first stanza was not its device");
        return;
    }
    snprintf(c->device, sizeof c->device, "%s", st->id);
    finish_up(p, c);
}

static void on_stanza(void *owner, agent_conn *c, const sc_stanza *st)
{
    agent_peer *p = owner;
    agent_peer_info info;
    if (st->type == SC_STANZA_PING || st->type == SC_STANZA_PONG) return;
    if (c->confirming) {
        on_device(p, c, st);
        return;
    }
    if (st->type == SC_STANZA_DEVICE) {
        /* PROTOCOL.md 10.2: sent once, never changed; a second one with another id ends it. */
        if (strcmp(st->id, c->device) != 0)
            agent_conn_fail(c, AGENT_PEER_DOWN_ERROR, SC_ERR_UNEXPECTED_MESSAGE,
                            "the peer changed its device id within the session");
        return;
    }
    /* Stanzas that arrive on a session being closed are still the peer's, authenticated. */
    if (!c->device_known || p->freeing || p->cb.stanza == NULL) return;
    info_of(c, &info);
    p->cb.stanza(p->ctx, &info, st);
}

static void on_file(void *owner, agent_conn *c, const char *id, uint64_t offset,
                    const uint8_t *data, size_t len)
{
    agent_peer *p = owner;
    agent_peer_info info;
    if (c->confirming) {
        c->confirming = 0;
        agent_conn_fail(c, AGENT_PEER_DOWN_ERROR, SC_ERR_UNEXPECTED_MESSAGE,
                        "the peer sent file data before its device");
        return;
    }
    if (!c->device_known || p->freeing || p->cb.file_data == NULL) return;
    info_of(c, &info);
    p->cb.file_data(p->ctx, &info, id, offset, data, len);
}

static void on_drained(void *owner, agent_conn *c)
{
    agent_peer *p = owner;
    agent_peer_info info;
    if (!c->up || p->freeing || p->cb.drained == NULL) return;
    info_of(c, &info);
    p->cb.drained(p->ctx, &info);
}

static void on_closing(void *owner, agent_conn *c, agent_peer_down_why why, int err,
                       const char *reason)
{
    agent_peer *p = owner;
    char where[AGENT_PEER_ADDR_STRLEN];
    int bad =
        why == AGENT_PEER_DOWN_ERROR || why == AGENT_PEER_DOWN_SLOW || why == AGENT_PEER_DOWN_PING;
    if (p->freeing) return;
    agent_peer_addr_str((const struct sockaddr *)&c->addr, where);
    /* One line per connection that ended badly; a dial's refused connect is its result's. */
    if (bad && c->state != AGENT_CONN_CONNECTING)
        plog(p, "peer %s%s%s: connection ended: %s", where, c->authed ? " " : "",
             c->authed ? c->user : "", reason);
    if (bad && !c->authed && c->state != AGENT_CONN_CONNECTING) p->counts.failed++;
    if (c->dial != NULL) {
        agent_dial *d = c->dial;
        c->dial = NULL;
        if (device_up(p, d->user, d->device))
            agent_dial_attempt_won(d, c); /* lost a simultaneous dial: the device has its session */
        else
            agent_dial_attempt_failed(d, c, (const struct sockaddr *)&c->addr, err, reason);
    }
    go_down(p, c, why, err);
}

static void on_ended(void *owner, agent_conn *c)
{
    agent_peer *p = owner;
    if (c->prev)
        c->prev->next = c->next;
    else
        p->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    p->n_conns--;
    maybe_release(p);
}

static const agent_conn_ops conn_ops = {
    .handshake = on_handshake,
    .stanza = on_stanza,
    .file = on_file,
    .closing = on_closing,
    .drained = on_drained,
    .ended = on_ended,
};

/* ---- dial events --------------------------------------------------------------------- */

static agent_conn *on_attempt(void *owner, agent_dial *d, const struct sockaddr *addr, int *err)
{
    agent_peer *p = owner;
    agent_conn *c;
    if (p->n_conns >= p->env.lim.max_sessions) {
        *err = SC_ERR_STATE;
        return NULL;
    }
    if ((c = agent_conn_connect(&p->env, addr, p->cfg, d->user, err)) == NULL) return NULL;
    link_conn(p, c);
    c->dial = d;
    return c;
}

static void on_cancel(void *owner, agent_dial *d, agent_conn *c)
{
    (void)owner, (void)d;
    c->dial = NULL;
    agent_conn_abort(c);
}

static void on_dial_done(void *owner, agent_dial *d, const agent_peer_dial_result *res)
{
    agent_peer *p = owner;
    (void)d;
    if (!p->freeing && p->cb.dial_result) p->cb.dial_result(p->ctx, res);
}

static void on_dial_ended(void *owner, agent_dial *d)
{
    agent_peer *p = owner;
    if (d->prev)
        d->prev->next = d->next;
    else
        p->dials = d->next;
    if (d->next) d->next->prev = d->prev;
    p->n_dials--;
    maybe_release(p);
}

static const agent_dial_ops dial_ops = {
    .attempt = on_attempt,
    .cancel = on_cancel,
    .done = on_dial_done,
    .ended = on_dial_ended,
};

/* ---- listening ------------------------------------------------------------------------ */

static void on_connection(uv_stream_t *server, int status)
{
    listener *l = server->data;
    agent_peer *p = l->p;
    agent_conn *c;
    char where[AGENT_PEER_ADDR_STRLEN];
    int first = 0;
    if (status < 0 || p->freeing) return;
    if ((c = agent_conn_accept(&p->env, server, p->cfg)) == NULL) return;
    link_conn(p, c);
    if (c->state == AGENT_CONN_DEAD) return; /* accept failed; it ends by itself */
    agent_peer_addr_str((const struct sockaddr *)&c->addr, where);
    if (p->n_conns > p->env.lim.max_sessions) {
        /* Log the first refusal and then one in a thousand, not a line per attempt. */
        if (p->counts.refused_cap++ % 1000 == 0)
            plog(p, "peer %s: connection refused: %zu connections already (max_sessions)", where,
                 p->n_conns - 1);
        agent_conn_abort(c);
        return;
    }
    if (!agent_peer_sources_admit(p->sources, (const struct sockaddr *)&c->addr,
                                  p->env.lim.conn_per_source, p->env.lim.conn_window_ms,
                                  sc_clock_ms(), &first)) {
        p->counts.refused_rate++;
        if (first)
            plog(p, "peer %s: connection refused: more than %u attempts from it in %llu ms", where,
                 p->env.lim.conn_per_source, (unsigned long long)p->env.lim.conn_window_ms);
        agent_conn_abort(c);
    }
}

static void on_listener_closed(uv_handle_t *h)
{
    listener *l = h->data;
    l->p->open_ls--;
    maybe_release(l->p);
}

static int start_listener(agent_peer *p, const char *text, char *errbuf, size_t errlen)
{
    listener *l = &p->ls[p->n_ls];
    int namelen = (int)sizeof l->addr, r;
    if (agent_peer_addr_parse(text, &l->addr) != SC_OK) {
        if (errbuf) snprintf(errbuf, errlen, "listen address %s: not ADDR:PORT", text);
        return SC_ERR_ARG;
    }
    if ((r = uv_tcp_init(p->loop, &l->tcp)) != 0) {
        if (errbuf) snprintf(errbuf, errlen, "listen on %s: %s", text, uv_strerror(r));
        return SC_ERR_IO;
    }
    l->p = p;
    l->tcp.data = l;
    p->open_ls++;
    p->n_ls++;
    /* "[::]" takes IPv4 too (dual-stack): flags 0 leaves IPV6_V6ONLY off. */
    if ((r = uv_tcp_bind(&l->tcp, (const struct sockaddr *)&l->addr, 0)) != 0 ||
        (r = uv_listen((uv_stream_t *)&l->tcp, 128, on_connection)) != 0 ||
        (r = uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&l->addr, &namelen)) != 0) {
        if (errbuf) snprintf(errbuf, errlen, "listen on %s: %s", text, uv_strerror(r));
        return SC_ERR_IO;
    }
    return SC_OK;
}

/* ---- the API ------------------------------------------------------------------------------ */

static void fill_limits(agent_peer_limits *l, const agent_peer_limits *in)
{
    *l = *in;
    if (!l->max_sessions) l->max_sessions = 4096;
    if (!l->conn_per_source) l->conn_per_source = 20;
    if (!l->conn_window_ms) l->conn_window_ms = 10000;
    if (!l->stanza_rate) l->stanza_rate = 5000;
    if (!l->stanza_burst) l->stanza_burst = 2 * l->stanza_rate;
    if (!l->max_output) l->max_output = 4u << 20;
    if (!l->handshake_timeout_ms) l->handshake_timeout_ms = 10000;
    if (!l->idle_ms) l->idle_ms = 600000;
    if (!l->ping_ms) l->ping_ms = 60000;
    if (!l->stagger_ms) l->stagger_ms = 250;
    if (!l->linger_ms) l->linger_ms = 2000;
}

int agent_peer_new(const agent_peer_opts *opts, agent_peer **out, char *errbuf, size_t errlen)
{
    static const char *const def[] = {AGENT_PEER_DEFAULT_LISTEN};
    const char *const *addrs;
    size_t n_addrs;
    agent_peer *p;
    int ret;
    *out = NULL;
    if (errbuf && errlen) errbuf[0] = '\0';
    if (opts == NULL || opts->loop == NULL || opts->make_config == NULL ||
        !valid_device(opts->device_id)) {
        if (errbuf) snprintf(errbuf, errlen, "peer layer: missing loop, configuration or device");
        return SC_ERR_ARG;
    }
    addrs = opts->n_listen ? opts->listen : def;
    n_addrs = opts->no_listen ? 0 : opts->n_listen ? opts->n_listen : 1;
    if ((p = calloc(1, sizeof *p)) == NULL) return SC_ERR_NOMEM;
    p->loop = opts->loop;
    p->cb = opts->cb;
    p->ctx = opts->ctx;
    p->make_config = opts->make_config;
    p->config_ctx = opts->config_ctx;
    snprintf(p->device, sizeof p->device, "%s", opts->device_id);
    fill_limits(&p->env.lim, &opts->limits);
    p->env.loop = opts->loop;
    p->env.ops = &conn_ops;
    p->env.owner = p;
    p->env.rbuf_len = READ_BUF;
    p->freeing = 1; /* until the end: a failure below frees through maybe_release */
    if ((p->env.rbuf = malloc(READ_BUF)) == NULL ||
        (p->sources = calloc(1, sizeof *p->sources)) == NULL ||
        (n_addrs && (p->ls = calloc(n_addrs, sizeof *p->ls)) == NULL)) {
        maybe_release(p);
        return SC_ERR_NOMEM;
    }
    if ((ret = make_cfg(p, NULL, 0, &p->cfg)) != SC_OK) {
        if (errbuf) snprintf(errbuf, errlen, "peer layer: cannot build the session configuration");
        maybe_release(p);
        return ret;
    }
    const char *me = sc_config_user_id(p->cfg->cfg);
    if (me == NULL || sc_config_fingerprint(p->cfg->cfg, p->fp) != SC_OK) {
        if (errbuf) snprintf(errbuf, errlen, "peer layer: the configuration has no identity");
        maybe_release(p);
        return SC_ERR_CONFIG;
    }
    snprintf(p->user, sizeof p->user, "%s", me);
    for (size_t i = 0; i < n_addrs; i++)
        if ((ret = start_listener(p, addrs[i], errbuf, errlen)) != SC_OK) {
            for (size_t j = 0; j < p->n_ls; j++)
                uv_close((uv_handle_t *)&p->ls[j].tcp, on_listener_closed);
            maybe_release(p); /* now, or when the loop has closed the listeners */
            return ret;
        }
    p->freeing = 0;
    *out = p;
    return SC_OK;
}

void agent_peer_free(agent_peer *p)
{
    if (p == NULL) return;
    p->freeing = 1;
    p->told = 1; /* `freed` is for the owner's free, not for a failed agent_peer_new */
    for (size_t i = 0; i < p->n_ls; i++)
        uv_close((uv_handle_t *)&p->ls[i].tcp, on_listener_closed);
    for (agent_dial *d = p->dials; d != NULL; d = d->next)
        agent_dial_cancel(d, SC_ERR_CLOSED, "the agent is stopping");
    for (agent_conn *c = p->conns; c != NULL; c = c->next)
        agent_conn_shutdown(c);
    maybe_release(p);
}

int agent_peer_listen_addr(const agent_peer *p, size_t i, struct sockaddr_storage *out)
{
    if (p == NULL || i >= p->n_ls) return SC_ERR_ARG;
    *out = p->ls[i].addr;
    return SC_OK;
}

int agent_peer_dial(agent_peer *p, const agent_peer_view *view, const agent_peer_dial_opts *opts)
{
    const agent_peer_dial_opts none = {0};
    size_t matched = 0;
    if (opts == NULL) opts = &none;
    if (p == NULL || view == NULL || view->user[0] == '\0' || p->freeing) return SC_ERR_ARG;
    for (size_t i = 0; i < view->n_devices && i < IRP_MAX_BINDINGS; i++) {
        const agent_device *dev = &view->devices[i];
        int up = 0, dialling = 0;
        agent_dial *d;
        if (opts->device != NULL && strcmp(opts->device, dev->id) != 0) continue;
        matched++;
        for (agent_dial *x = p->dials; x != NULL; x = x->next)
            if (!x->done && strcasecmp(x->user, view->user) == 0 && strcmp(x->device, dev->id) == 0)
                dialling = 1;
        if (dialling) continue;
        up = device_up(p, view->user, dev->id);
        d = agent_dial_new(p->loop, &dial_ops, p, view, i, opts->pin, opts->first,
                           p->env.lim.stagger_ms);
        if (d == NULL) return SC_ERR_NOMEM;
        d->prev = NULL;
        d->next = p->dials;
        if (p->dials) p->dials->prev = d;
        p->dials = d;
        p->n_dials++;
        if (up)
            agent_dial_start_satisfied(d);
        else
            agent_dial_start(d);
    }
    if (matched == 0) return SC_ERR_ARG;
    return SC_OK;
}

static int conn_matches(const agent_conn *c, const char *user, const char *device)
{
    return strcasecmp(c->user, user) == 0 && (device == NULL || strcmp(c->device, device) == 0);
}

int agent_peer_send(agent_peer *p, const char *user, const char *device, const sc_stanza *st)
{
    int n = 0, ret;
    if (p == NULL || user == NULL || st == NULL) return SC_ERR_ARG;
    for (agent_conn *c = p->conns; c != NULL; c = c->next) {
        if (!c->up || !conn_matches(c, user, device)) continue;
        if ((ret = agent_conn_send_stanza(c, st)) == SC_OK)
            n++;
        else if (ret == SC_ERR_ARG || ret == SC_ERR_TOO_LARGE)
            return SC_ERR_ARG;
    }
    return n > 0 ? n : SC_ERR_STATE;
}

int agent_peer_send_file(agent_peer *p, const char *user, const char *device, const char *id,
                         uint64_t offset, const uint8_t *data, size_t len)
{
    if (p == NULL || user == NULL || device == NULL || id == NULL) return SC_ERR_ARG;
    for (agent_conn *c = p->conns; c != NULL; c = c->next)
        if (c->up && conn_matches(c, user, device))
            return agent_conn_send_file(c, id, offset, data, len);
    return SC_ERR_STATE;
}

int agent_peer_close_user(agent_peer *p, const char *user, const char *device)
{
    int n = 0;
    if (p == NULL || user == NULL) return 0;
    for (agent_dial *d = p->dials; d != NULL; d = d->next)
        if (!d->done && strcasecmp(d->user, user) == 0 &&
            (device == NULL || strcmp(d->device, device) == 0))
            agent_dial_cancel(d, SC_ERR_CLOSED, "closed by the agent");
    for (agent_conn *c = p->conns; c != NULL; c = c->next) {
        if (!c->authed || c->state == AGENT_CONN_DEAD || !conn_matches(c, user, device)) continue;
        if (c->up) n++;
        go_down(p, c, AGENT_PEER_DOWN_LOCAL, SC_OK);
        agent_conn_close(c, AGENT_PEER_DOWN_LOCAL);
    }
    return n;
}

int agent_peer_set_blocked(agent_peer *p, const char *const *users, size_t n)
{
    char **copy = NULL;
    agent_conn_cfg *cfg = NULL;
    int ret = SC_OK;
    if (p == NULL || (n > 0 && users == NULL)) return SC_ERR_ARG;
    if (n > 0 && (copy = calloc(n, sizeof *copy)) == NULL) return SC_ERR_NOMEM;
    for (size_t i = 0; ret == SC_OK && i < n; i++)
        if (users[i] == NULL || (copy[i] = strdup(users[i])) == NULL)
            ret = users[i] == NULL ? SC_ERR_ARG : SC_ERR_NOMEM;
    if (ret == SC_OK) ret = make_cfg(p, copy, n, &cfg);
    if (ret != SC_OK) {
        for (size_t i = 0; i < n; i++)
            free(copy[i]);
        free(copy);
        return ret;
    }
    for (size_t i = 0; i < p->n_blocked; i++)
        free(p->blocked[i]);
    free(p->blocked);
    p->blocked = copy;
    p->n_blocked = n;
    agent_conn_cfg_unref(p->cfg);
    p->cfg = cfg;
    for (size_t i = 0; i < n; i++)
        (void)agent_peer_close_user(p, copy[i], NULL);
    return SC_OK;
}

size_t agent_peer_list(const agent_peer *p, agent_peer_status *out, size_t max)
{
    size_t n = 0;
    if (p == NULL) return 0;
    for (const agent_conn *c = p->conns; c != NULL; c = c->next) {
        if (!c->up) continue;
        if (n < max) {
            agent_peer_status *s = &out[n];
            memset(s, 0, sizeof *s);
            s->sid = c->sid;
            snprintf(s->user, sizeof s->user, "%s", c->user);
            snprintf(s->device, sizeof s->device, "%s", c->device);
            memcpy(s->cert_fp, c->fp, 32);
            s->addr = c->addr;
            s->initiator = c->initiator;
            s->up_since_ms = c->up_since_ms;
            s->last_activity_ms = c->last_act_ms;
            s->stanzas_in = c->stanzas_in;
            s->stanzas_out = c->stanzas_out;
            s->bytes_in = c->bytes_in;
            s->bytes_out = c->bytes_out;
            s->queued = agent_conn_queued(c);
        }
        n++;
    }
    return n;
}

void agent_peer_get_counts(const agent_peer *p, agent_peer_counts *out)
{
    memset(out, 0, sizeof *out);
    if (p == NULL) return;
    *out = p->counts;
    out->up = out->handshaking = 0;
    out->connections = p->n_conns;
    for (const agent_conn *c = p->conns; c != NULL; c = c->next) {
        if (c->up)
            out->up++;
        else if (c->state == AGENT_CONN_HANDSHAKE || c->state == AGENT_CONN_CONNECTING)
            out->handshaking++;
    }
    out->dialling = 0;
    for (const agent_dial *d = p->dials; d != NULL; d = d->next)
        if (!d->done) out->dialling++;
}
