/*
 * agent_net_reg.c - the registry side of the agent's network: verified
 * lookups (for the API and to dial), watching users so their return to
 * the registry (a watch event, not polling) dials them and the outbox
 * goes, and the registration's status (issue 8, "Reaching a peer").
 */
#include "agent_net_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent_hex.h"
#include "agent_peer_addr.h"
#include "agent_xfer.h"

typedef struct lookup_req {
    struct lookup_req *next; /* in foreign_reg.waiting */
    agent *a;
    agent_api_req *req; /* NULL: an internal lookup to dial */
    char user[AGENT_USER_MAX + 1];
} lookup_req;

static void lookup_done(void *ctx, int status, const char *msg, const agent_peer_view *view);
static void on_presence(void *ctx, int status, const char *msg, const agent_peer_view *view,
                        irp_change reason);

/* ---- the registries of other domains (issue 9; docs/IRP.md 2.1) ---- */

/*
 * A registry of another domain is opened by the first lookup of one of
 * its users: that lookup and any made before the connection is up wait
 * for it (instead of a "not connected" answer), and get an answer when
 * the attempt fails.
 */
static void on_foreign_status(void *ctx, const agent_reg_status *st)
{
    foreign_reg *f = ctx;
    if (st->state == AGENT_REG_STOPPED) return;
    if (st->msg && st->msg[0]) fprintf(stderr, "sixchat: other domain's registry: %s\n", st->msg);
    if (st->state != AGENT_REG_REGISTERED && st->state != AGENT_REG_RETRYING) return;
    f->connected = st->state == AGENT_REG_REGISTERED;
    lookup_req *w = f->waiting;
    f->waiting = NULL;
    while (w) {
        lookup_req *l = w;
        w = w->next;
        if (f->connected && agent_reg_lookup(f->reg, l->user, lookup_done, l) == SC_OK) continue;
        lookup_done(l, AGENT_REG_NOT_CONNECTED, st->msg, NULL);
    }
}

static void on_foreign_presence(void *ctx, int status, const char *msg, const agent_peer_view *view,
                                irp_change reason)
{
    foreign_reg *f = ctx;
    on_presence(f->n, status, msg, view, reason);
}

/* Opens the registry of a trusted other domain: found by SRV, pinned to its CA. */
static foreign_reg *foreign_open(agent_net *n, const agent_domain *d, char *why, size_t cap)
{
    foreign_reg *f = calloc(1, sizeof(*f));
    if (!f) {
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    f->n = n;
    snprintf(f->domain, sizeof(f->domain), "%s", d->name);
    agent_reg_opts ro;
    memset(&ro, 0, sizeof(ro));
    ro.srv_domain = d->name;
    ro.dns = n->a->opts.dns;
    ro.ca_fp = d->ca_fp;
    ro.cert_pem = n->cert_pem; /* our certificate: the registry reads for a foreign CA's users */
    ro.key_pem = n->key_pem;
    ro.user = n->a->user;
    ro.device = n->a->device;
    ro.reads_only = 1;
    ro.on_status = on_foreign_status;
    ro.on_presence = on_foreign_presence;
    ro.ctx = f;
    char err[256] = "";
    int rc = agent_reg_new(n->a->loop, &ro, &f->reg, err, sizeof(err));
    if (rc == SC_OK) rc = agent_reg_start(f->reg);
    if (rc != SC_OK) {
        snprintf(why, cap, "the registry of %s: %s", d->name, err[0] ? err : sc_strerror(rc));
        if (f->reg) agent_reg_stop(f->reg, NULL, NULL);
        free(f);
        return NULL;
    }
    f->next = n->foreign;
    n->foreign = f;
    return f;
}

/* agent_net__reg_for, and the other domain's entry (NULL for the agent's own registry). */
static agent_reg *reg_for(agent_net *n, const char *user, foreign_reg **out, char *why, size_t cap)
{
    *out = NULL;
    char dom[AGENT_DOMAIN_MAX + 1], own[AGENT_DOMAIN_MAX + 1];
    if (agent_domain_of(user, dom) != SC_OK) {
        snprintf(why, cap, "not a user ID: %s", user);
        return NULL;
    }
    if (agent_domain_of(n->a->user, own) == SC_OK && !strcmp(dom, own)) {
        if (!n->reg) snprintf(why, cap, "this agent runs without a registry");
        return n->reg;
    }
    for (foreign_reg *f = n->foreign; f; f = f->next)
        if (!strcmp(f->domain, dom)) {
            *out = f;
            return f->reg;
        }
    agent_domain d;
    int found = 0;
    if (agent_domains_get(n->a->st, dom, &d, &found) != SC_OK || !found) {
        snprintf(why, cap,
                 "%s is in %s, a domain this agent does not trust yet: compare its registry's "
                 "CA fingerprint with its administrator, then run `sixchat trust-domain %s "
                 "--ca-fingerprint HEX`",
                 user, dom, dom);
        agent_domain_clear(&d);
        return NULL;
    }
    foreign_reg *f = foreign_open(n, &d, why, cap);
    agent_domain_clear(&d);
    *out = f;
    return f ? f->reg : NULL;
}

agent_reg *agent_net__reg_for(agent_net *n, const char *user, char *why, size_t cap)
{
    foreign_reg *f;
    return reg_for(n, user, &f, why, cap);
}

static void foreign_stopped(void *ctx)
{
    agent_net *n = ctx;
    if (--n->foreign_stopping == 0 && n->foreign_done) n->foreign_done(n);
}

void agent_net__foreign_stop(agent_net *n, void (*done)(agent_net *n))
{
    n->foreign_done = done;
    n->foreign_stopping = 1; /* held until every stop is asked for */
    while (n->foreign) {
        foreign_reg *f = n->foreign;
        n->foreign = f->next;
        while (f->waiting) {
            lookup_req *l = f->waiting;
            f->waiting = l->next;
            lookup_done(l, AGENT_REG_NOT_CONNECTED, "the agent is stopping", NULL);
        }
        n->foreign_stopping++;
        agent_reg_stop(f->reg, foreign_stopped, n);
        free(f);
    }
    foreign_stopped(n);
}

/* ---- lookups and watches ---- */

void agent_net__look_up(agent_net *n, const char *user, agent_api_req *req)
{
    char why[512];
    foreign_reg *f;
    agent_reg *reg = reg_for(n, user, &f, why, sizeof(why));
    if (!reg) {
        if (req)
            agent_api_fail(req, AGENT_E_REGISTRY, why, NULL);
        else
            fprintf(stderr, "sixchat: lookup of %s: %s\n", user, why);
        return;
    }
    lookup_req *l = calloc(1, sizeof(*l));
    if (!l) {
        if (req) agent_api_fail(req, AGENT_E_INTERNAL, "out of memory", NULL);
        return;
    }
    l->a = n->a;
    l->req = req;
    snprintf(l->user, sizeof(l->user), "%s", user);
    if (f && !f->connected) { /* answered once the connection is made (on_foreign_status) */
        l->next = f->waiting;
        f->waiting = l;
    } else if (agent_reg_lookup(reg, user, lookup_done, l)) {
        if (req) agent_api_fail(req, AGENT_E_PARAMS, "not a user ID", NULL);
        free(l);
        return;
    }
    if (!req) {
        peer_entry *e = agent_net__entry(n, user, 1);
        if (e) e->looking_up = 1;
    }
}

void agent_net__watch(agent_net *n, peer_entry *e)
{
    char why[512];
    if (e->watching) return;
    agent_reg *reg = agent_net__reg_for(n, e->user, why, sizeof(why));
    if (!reg) return; /* the lookup says why */
    int rc = agent_reg_watch(reg, e->user);
    if (rc == SC_OK)
        e->watching = 1;
    else if (rc == SC_ERR_TOO_LARGE)
        fprintf(stderr,
                "sixchat: cannot watch %s: the registry's limit of watched users is "
                "reached; messages to them go when they are looked up again\n",
                e->user);
}

static json_t *view_json(const agent_peer_view *v)
{
    json_t *devs = json_array(), *certs = json_array();
    for (size_t i = 0; i < v->n_devices; i++) {
        json_t *addrs = json_array();
        for (size_t k = 0; k < v->devices[i].n_addrs; k++) {
            char s[AGENT_PEER_ADDR_STRLEN];
            agent_peer_addr_str((const struct sockaddr *)&v->devices[i].addrs[k], s);
            json_array_append_new(addrs, json_string(s));
        }
        json_array_append_new(devs, json_pack("{s:s,s:o,s:I}", "id", v->devices[i].id, "addresses",
                                              addrs, "expires", (json_int_t)v->devices[i].expires));
    }
    for (size_t i = 0; i < v->n_certs; i++) {
        char h[65], g[80];
        size_t k = 0;
        agent_hex(v->cert_fps[i], 32, h);
        for (int j = 0; j < 64; j++) {
            if (j && j % 4 == 0) g[k++] = ' ';
            g[k++] = (char)(h[j] >= 'a' ? h[j] - 32 : h[j]);
        }
        g[k] = '\0';
        json_array_append_new(certs, json_pack("{s:s,s:s}", "hex", h, "grouped", g));
    }
    return json_pack("{s:s,s:s,s:o,s:o}", "user", v->user, "presence",
                     v->n_devices ? "online" : "offline", "devices", devs, "certificates", certs);
}

static void lookup_done(void *ctx, int status, const char *msg, const agent_peer_view *view)
{
    lookup_req *l = ctx;
    agent *a = l->a;
    agent_net *n = a->net;
    if (!n || n->stopping) {
        if (l->req) agent_api_fail(l->req, AGENT_E_REGISTRY, "the agent is stopping", NULL);
        free(l);
        return;
    }
    peer_entry *e = agent_net__entry(n, l->user, !l->req);
    if (e && !l->req) e->looking_up = 0;
    if ((status == 0 || status == AGENT_REG_OFFLINE) && view && e) {
        e->view = *view;
        e->have_view = 1;
    }
    if (l->req) {
        if (status == 0 || status == AGENT_REG_OFFLINE)
            agent_api_reply(l->req, view_json(view));
        else
            agent_api_fail(l->req, status == 404 ? AGENT_E_NOT_FOUND : AGENT_E_REGISTRY,
                           msg ? msg : "the lookup failed", NULL);
    } else if (status == 0 && view) {
        agent_net__dial_view(n, view);
    } else if (status == AGENT_REG_OFFLINE) {
        agent_emit(a, "peer.offline",
                   json_pack("{s:s,s:s}", "user", l->user, "message",
                             msg ? msg : "no registered address: the messages wait in the outbox"));
    } else {
        fprintf(stderr, "sixchat: lookup of %s: %s\n", l->user, msg ? msg : "failed");
    }
    free(l);
}

/* ---- registry callbacks ---- */

const char *agent_net__reg_state_name(agent_reg_state s)
{
    static const char *names[] = {"connecting", "registered", "no-address",
                                  "refused",    "retrying",   "stopped"};
    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

void agent_net__maybe_ready(agent_net *n)
{
    if (n->ready_done || n->stopping) return;
    if (n->reg && !n->registered) return;
    n->ready_done = 1;
    if (n->a->on_ready) n->a->on_ready(n->a);
}

static void on_reg_status(void *ctx, const agent_reg_status *st)
{
    agent_net *n = ctx;
    if (st->state == AGENT_REG_STOPPED) return;
    if (st->msg) fprintf(stderr, "sixchat: registry: %s\n", st->msg);
    if (st->state == AGENT_REG_REGISTERED) {
        if (st->nat && st->nat_msg && !n->registered)
            fprintf(stderr, "sixchat: WARNING: %s\n", st->nat_msg);
        n->registered = 1;
        agent_net__maybe_ready(n);
    }
    json_t *d = json_pack("{s:s}", "state", agent_net__reg_state_name(st->state));
    if (st->nat) json_object_set_new(d, "nat", json_true());
    agent_emit(n->a, "registry.status", d);
}

static void on_presence(void *ctx, int status, const char *msg, const agent_peer_view *view,
                        irp_change reason)
{
    agent_net *n = ctx;
    if (!view) return;
    peer_entry *e = agent_net__entry(n, view->user, 1);
    if (status != 0) {
        if (e) e->watching = 0;
        return;
    }
    if (e) {
        e->view = *view;
        e->have_view = 1;
    }
    agent_emit(n->a, "presence",
               json_pack("{s:s,s:s}", "user", view->user, "presence",
                         view->n_devices ? "online" : "offline"));
    /* Back online: what waits for them goes now (the watch, not polling). */
    if (view->n_devices && (agent_net__has_outbox(n->a, view->user) ||
                            (n->a->xfer && agent_xfer_wants(n->a->xfer, view->user))))
        agent_net__dial_view(n, view);
}

void agent_net__reg_cb(agent_net *n, agent_reg_opts *ro)
{
    ro->on_status = on_reg_status;
    ro->on_presence = on_presence;
    ro->ctx = n;
}
