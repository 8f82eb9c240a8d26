/*
 * agent_reg_watch.c - watches (docs/IRP.md 6.10) and verified lookups
 * (6.9, 7.4) on the agent's registry connection, delivered as
 * agent_peer_view.
 *
 * A binding event carries the user's complete set of bindings but no
 * certificates (5.4), and the peer layer needs both: the addresses to dial
 * and the certificates a peer may present. So an event in which the user
 * has devices is followed by a lookup, and its verified answer is what the
 * owner gets; an event without devices (offline) is delivered at once.
 * Each watched user counts its updates: a lookup answer that belongs to an
 * older update than the latest is dropped (the newer one brings its own).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent_reg_int.h"
#include "sixchat/error.h"

enum { LK_LOOKUP = 1, LK_WATCH_LOOKUP, LK_WATCH, LK_UNWATCH };

typedef struct lk_req {
    agent_reg *r;
    unsigned gen;
    int kind;
    char user[IRP_USER_MAX + 1];
    agent_reg_lookup_cb cb; /* LK_LOOKUP */
    void *ctx;
    unsigned changes; /* LK_WATCH_LOOKUP: the update it belongs to */
    irp_change reason;
} lk_req;

static agent_reg_watch_ent *find(agent_reg *r, const char *user, size_t *idx)
{
    size_t i;
    for (i = 0; i < r->n_watch; i++)
        if (strcasecmp(r->watches[i]->user, user) == 0) {
            if (idx != NULL) *idx = i;
            return r->watches[i];
        }
    return NULL;
}

static void remove_at(agent_reg *r, size_t i)
{
    free(r->watches[i]);
    r->watches[i] = r->watches[--r->n_watch];
}

static lk_req *new_req(agent_reg *r, int kind, const char *user)
{
    lk_req *x = calloc(1, sizeof(*x));
    if (x == NULL) return NULL;
    x->r = r;
    x->gen = r->gen;
    x->kind = kind;
    snprintf(x->user, sizeof(x->user), "%s", user);
    return x;
}

static void deliver(agent_reg *r, agent_reg_watch_ent *e, const agent_peer_view *v,
                    irp_change reason)
{
    char msg[IRP_USER_MAX + 64];
    if (v != &e->last) e->last = *v;
    snprintf(msg, sizeof(msg), "%s is %s", e->user, v->n_devices > 0 ? "online" : "offline");
    if (r->o.on_presence != NULL) r->o.on_presence(r->o.ctx, 0, msg, &e->last, reason);
}

/*
 * The lookup after an event failed: the event's addresses with the
 * certificates last verified, or none after a revocation (one of them is
 * revoked and we cannot tell which).
 */
static void deliver_unverified(agent_reg *r, agent_reg_watch_ent *e, irp_change reason)
{
    if (reason == IRP_CHANGE_REVOKE) {
        e->next.n_certs = 0;
    } else {
        memcpy(e->next.cert_fps, e->last.cert_fps, sizeof(e->next.cert_fps));
        e->next.n_certs = e->last.n_certs;
    }
    deliver(r, e, &e->next, reason);
}

/* The watch failed or ended: tell the owner and forget the user. */
static void refuse(agent_reg *r, size_t i, int status, const char *msg)
{
    agent_peer_view *v = calloc(1, sizeof(*v));
    agent_reg_watch_ent *e = r->watches[i];
    if (v != NULL) snprintf(v->user, sizeof(v->user), "%s", e->user);
    if (r->o.on_presence != NULL && v != NULL)
        r->o.on_presence(r->o.ctx, status, msg, v, IRP_CHANGE_NONE);
    free(v);
    remove_at(r, i);
}

/* ---- lookups ----------------------------------------------------------------------------------
 */

static void on_lookup(void *ctx, const irp_resp *resp)
{
    lk_req *x = ctx;
    agent_reg *r = x->r;
    agent_peer_view *v = calloc(1, sizeof(*v));
    char msg[IRP_MSG_MAX + IRP_USER_MAX + 128];
    int st;
    X509 *cert = r->c != NULL && x->gen == r->gen ? irp_client_peer_cert(r->c) : NULL;

    if (v == NULL) {
        st = SC_ERR_NOMEM;
        snprintf(msg, sizeof(msg), "out of memory");
    } else {
        st = agent__reg_check_lookup(resp, cert, x->user, agent__reg_now(), v, msg, sizeof(msg));
    }
    if (x->kind == LK_LOOKUP) {
        x->cb(x->ctx, st, msg, st == 0 || st == AGENT_REG_OFFLINE ? v : NULL);
    } else if (x->gen == r->gen && !r->stopping && resp->status < 600) {
        agent_reg_watch_ent *e = find(r, x->user, NULL);
        if (e != NULL && e->changes == x->changes) {
            if (st == 0 || st == AGENT_REG_OFFLINE) {
                deliver(r, e, v, x->reason);
            } else {
                deliver_unverified(r, e, x->reason);
            }
        }
    }
    free(v);
    free(x);
}

int agent_reg_lookup(agent_reg *r, const char *user, agent_reg_lookup_cb cb, void *ctx)
{
    lk_req *x;
    irp_req q;

    if (r == NULL || user == NULL || cb == NULL || !irp_valid_user(user)) return SC_ERR_ARG;
    if (r->c == NULL || r->stopping) {
        agent_reg_deferred *d = calloc(1, sizeof(*d));
        if (d == NULL) return SC_ERR_NOMEM;
        d->cb = cb;
        d->ctx = ctx;
        agent__reg_explain(AGENT_REG_NOT_CONNECTED, "no connection now", user, d->msg,
                           sizeof(d->msg));
        /* Appended: deferred answers come in the order they were asked. */
        if (r->deferred == NULL) {
            r->deferred = d;
        } else {
            agent_reg_deferred *t = r->deferred;
            while (t->next != NULL)
                t = t->next;
            t->next = d;
        }
        uv_timer_start(&r->t_defer, agent__reg_on_defer, 0, 0);
        return 0;
    }
    x = new_req(r, LK_LOOKUP, user);
    if (x == NULL) return SC_ERR_NOMEM;
    x->cb = cb;
    x->ctx = ctx;
    irp_req_init(&q);
    q.op = IRP_OP_LOOKUP;
    q.user = user;
    if (irp_client_request(r->c, &q, on_lookup, x) != 0) {
        free(x);
        return SC_ERR_NOMEM;
    }
    return 0;
}

void agent__reg_on_defer(uv_timer_t *t)
{
    agent_reg *r = t->data;
    agent_reg_deferred *d = r->deferred, *next;
    r->deferred = NULL;
    for (; d != NULL; d = next) {
        next = d->next;
        d->cb(d->ctx, AGENT_REG_NOT_CONNECTED, d->msg, NULL);
        free(d);
    }
}

/* ---- watches ----------------------------------------------------------------------------------
 */

/* A new set of bindings for e: deliver it (offline) or look the user up first. */
static void update(agent_reg *r, agent_reg_watch_ent *e, const irp_binding *b, size_t n,
                   irp_change reason)
{
    lk_req *x;
    irp_req q;

    e->changes++;
    agent__reg_view_bindings(&e->next, e->user, b, n);
    /* Offline needs no lookup, unless a certificate was revoked: the view must lose it (6.12). */
    if (n == 0 && reason != IRP_CHANGE_REVOKE) {
        e->last.n_devices = 0;
        deliver(r, e, &e->last, reason);
        return;
    }
    x = new_req(r, LK_WATCH_LOOKUP, e->user);
    if (x != NULL) {
        x->changes = e->changes;
        x->reason = reason;
        irp_req_init(&q);
        q.op = IRP_OP_LOOKUP;
        q.user = e->user;
        if (irp_client_request(r->c, &q, on_lookup, x) == 0) return;
        free(x);
    }
    deliver_unverified(r, e, reason);
}

static void on_watch(void *ctx, const irp_resp *resp)
{
    lk_req *x = ctx;
    agent_reg *r = x->r;
    size_t i;
    agent_reg_watch_ent *e;

    if (x->gen == r->gen && !r->stopping && resp->status < 600 &&
        (e = find(r, x->user, &i)) != NULL) {
        if (resp->status == IRP_OK) {
            update(r, e, resp->bindings, resp->n_bindings, IRP_CHANGE_NONE);
        } else {
            char msg[IRP_MSG_MAX + IRP_USER_MAX + 128];
            agent__reg_explain(resp->status, resp->msg, x->user, msg, sizeof(msg));
            if (resp->status == IRP_FORBIDDEN)
                snprintf(msg, sizeof(msg), "%s does not allow you to watch them", x->user);
            refuse(r, i, resp->status, msg);
        }
    }
    free(x);
}

static void on_unwatch(void *ctx, const irp_resp *resp)
{
    (void)resp;
    free(ctx);
}

static void send_watch(agent_reg *r, const char *user, int kind)
{
    lk_req *x;
    irp_req q;

    if (r->c == NULL) return; /* sent on the next connection */
    x = new_req(r, kind, user);
    if (x == NULL) return;
    irp_req_init(&q);
    q.op = kind == LK_WATCH ? IRP_OP_WATCH : IRP_OP_UNWATCH;
    q.user = user;
    if (irp_client_request(r->c, &q, kind == LK_WATCH ? on_watch : on_unwatch, x) != 0) free(x);
}

void agent__reg_watch_all(agent_reg *r)
{
    size_t i;
    for (i = 0; i < r->n_watch; i++)
        send_watch(r, r->watches[i]->user, LK_WATCH);
}

int agent_reg_watch(agent_reg *r, const char *user)
{
    agent_reg_watch_ent *e;

    if (r == NULL || user == NULL || !irp_valid_user(user) || r->stopping) return SC_ERR_ARG;
    if (find(r, user, NULL) != NULL) return 0;
    if (r->n_watch >= AGENT_REG_MAX_WATCH) return SC_ERR_TOO_LARGE;
    e = calloc(1, sizeof(*e));
    if (e == NULL) return SC_ERR_NOMEM;
    snprintf(e->user, sizeof(e->user), "%s", user);
    snprintf(e->last.user, sizeof(e->last.user), "%s", user);
    r->watches[r->n_watch++] = e;
    send_watch(r, user, LK_WATCH);
    return 0;
}

int agent_reg_unwatch(agent_reg *r, const char *user)
{
    size_t i;
    if (r == NULL || user == NULL || find(r, user, &i) == NULL) return SC_ERR_ARG;
    remove_at(r, i);
    send_watch(r, user, LK_UNWATCH);
    return 0;
}

void agent__reg_on_event(agent_reg *r, const irp_event *ev)
{
    size_t i;
    agent_reg_watch_ent *e = ev->user != NULL ? find(r, ev->user, &i) : NULL;

    if (e == NULL) return; /* unwatched meanwhile */
    if (ev->type == IRP_EVENT_BINDING) {
        update(r, e, ev->bindings, ev->n_bindings, ev->reason);
    } else if (ev->type == IRP_EVENT_WATCH_END && ev->reason == IRP_CHANGE_POLICY) {
        char msg[IRP_USER_MAX + 64];
        snprintf(msg, sizeof(msg), "%s no longer allows you to watch them", e->user);
        refuse(r, i, IRP_FORBIDDEN, msg);
    }
    /* watch-end for shutdown or revoke: the connection closes next, and the watch is made
     * again on the next one (5.4). */
}

void agent__reg_watch_free(agent_reg *r)
{
    agent_reg_deferred *d = r->deferred, *next;
    while (r->n_watch > 0)
        remove_at(r, r->n_watch - 1);
    r->deferred = NULL;
    for (; d != NULL; d = next) {
        char msg[IRP_MSG_MAX];
        next = d->next;
        snprintf(msg, sizeof(msg), "the registry connection was closed");
        d->cb(d->ctx, IRP_CLIENT_CLOSED, msg, NULL);
        free(d);
    }
}
