/*
 * agent_net.c - the agent's network side: the registry connection
 * (agent_reg: registration, watch, verified lookups) and the peer sessions
 * (agent_peer: listen, dial, one session per device), joined to the store
 * and the outbox (issue 8, "Reaching a peer", "Contacts and trust").
 *
 * Reaching a peer: when a message is queued for a user with a session up,
 * it goes at once; otherwise the user is looked up (verified) and every
 * device dialled; whether or not that works, the user is watched, so when
 * the registry reports them back (a watch event, not polling) they are
 * dialled and the outbox goes. Trust on first use: a contact's certificate
 * is pinned at the first session; a different one later is refused, stored
 * as the contact's new fingerprint, and announced (contact.cert_changed)
 * until `trust`.
 */
#include "agent.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent_hex.h"
#include "agent_peer.h"
#include "agent_peer_addr.h"
#include "agent_xfer.h"
#include "agent_reg.h"
#include "sixchat/config.h"
#include "sixchat/platform.h"

#define PEM_MAX (64 * 1024)

/* What the agent knows about one user it talks to. */
typedef struct peer_entry {
    struct peer_entry *next;
    char user[AGENT_USER_MAX + 1];
    agent_peer_view view; /* the last view (lookup or watch) */
    int have_view;
    int watching;
    int looking_up;
    /* Devices with a session up, and how many sessions each (a simultaneous
     * dial may report the losing session down after the winner is up). */
    struct {
        char id[IRP_DEVICE_MAX + 1];
        unsigned sessions;
    } up[IRP_MAX_BINDINGS];
    size_t n_up;
} peer_entry;

struct agent_net {
    agent *a;
    agent_reg *reg;
    agent_peer *peer;
    char *cert_pem, *key_pem, *ca_pem;
    size_t cert_len, key_len, ca_len;
    char domain[AGENT_USER_MAX + 1];
    peer_entry *peers;
    int registered;
    int ready_done;
    int stopping;
    void (*stop_done)(agent *a);
};

typedef struct lookup_req {
    agent *a;
    agent_api_req *req; /* NULL: an internal lookup to dial */
    char user[AGENT_USER_MAX + 1];
} lookup_req;

static peer_entry *entry(agent_net *n, const char *user, int create)
{
    for (peer_entry *e = n->peers; e; e = e->next)
        if (!strcasecmp(e->user, user)) return e;
    if (!create) return NULL;
    peer_entry *e = calloc(1, sizeof(*e));
    if (!e) return NULL;
    snprintf(e->user, sizeof(e->user), "%s", user);
    e->next = n->peers;
    n->peers = e;
    return e;
}

/* Counts a session of (user, device) up (delta 1) or down (-1). */
static void track_up(agent_net *n, const char *user, const char *device, int delta)
{
    peer_entry *e = entry(n, user, delta > 0);
    if (!e) return;
    size_t i;
    for (i = 0; i < e->n_up; i++)
        if (!strcmp(e->up[i].id, device)) break;
    if (i == e->n_up) {
        if (delta < 0 || e->n_up == IRP_MAX_BINDINGS) return;
        snprintf(e->up[i].id, sizeof(e->up[i].id), "%s", device);
        e->up[i].sessions = 0;
        e->n_up++;
    }
    if (delta > 0) {
        e->up[i].sessions++;
    } else if (e->up[i].sessions && --e->up[i].sessions == 0) {
        e->up[i] = e->up[e->n_up - 1];
        e->n_up--;
    }
}

/* ---- the sessions' configuration ---- */

static sc_config *make_config(void *ctx)
{
    agent_net *n = ctx;
    sc_config *cfg = sc_config_new();
    if (!cfg) return NULL;
    const char *dom = n->domain;
    if (sc_config_set_identity_pem(cfg, n->cert_pem, n->cert_len, n->key_pem, n->key_len) ||
        sc_config_add_trust_anchor_pem(cfg, n->ca_pem, n->ca_len, &dom, 1)) {
        sc_config_free(cfg);
        return NULL;
    }
    sc_config_set_random(cfg, sc_random_system, NULL);
    return cfg;
}

/* ---- peers ---- */

static int has_outbox(agent *a, const char *user);

static void dial_view(agent_net *n, const agent_peer_view *view)
{
    agent_contact c;
    int found = 0;
    agent_peer_dial_opts o;
    memset(&o, 0, sizeof(o));
    if (agent_store_contact_get(n->a->st, view->user, &c, &found) == SC_OK && found) {
        if (c.blocked) return;
        if (c.has_new_fp) return; /* held until `trust` */
        if (c.has_fp) o.pin = c.fp;
    }
    if (view->n_devices == 0) return;
    int rc = agent_peer_dial(n->peer, view, &o);
    if (rc) fprintf(stderr, "sixchat: cannot dial %s: %s\n", view->user, sc_strerror(rc));
}

static void lookup_done(void *ctx, int status, const char *msg, const agent_peer_view *view);

static void look_up(agent_net *n, const char *user, agent_api_req *req)
{
    if (!n->reg) {
        if (req) agent_api_fail(req, AGENT_E_REGISTRY, "this agent runs without a registry", NULL);
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
    if (agent_reg_lookup(n->reg, user, lookup_done, l)) {
        if (req) agent_api_fail(req, AGENT_E_PARAMS, "not a user ID", NULL);
        free(l);
        return;
    }
    if (!req) {
        peer_entry *e = entry(n, user, 1);
        if (e) e->looking_up = 1;
    }
}

static void watch(agent_net *n, peer_entry *e)
{
    if (!n->reg || e->watching) return;
    int rc = agent_reg_watch(n->reg, e->user);
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
    peer_entry *e = entry(n, l->user, !l->req);
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
        dial_view(n, view);
    } else if (status == AGENT_REG_OFFLINE) {
        agent_emit(a, "peer.offline",
                   json_pack("{s:s,s:s}", "user", l->user, "message",
                             msg ? msg : "no registered address: the messages wait in the outbox"));
    } else {
        fprintf(stderr, "sixchat: lookup of %s: %s\n", l->user, msg ? msg : "failed");
    }
    free(l);
}

/* ---- peer layer callbacks ---- */

static void on_up(void *ctx, const agent_peer_info *p)
{
    agent_net *n = ctx;
    agent *a = n->a;
    char addr[AGENT_PEER_ADDR_STRLEN];
    agent_peer_addr_str(p->addr, addr);
    agent_contact c;
    int found = 0;
    if (agent_store_contact_get(a->st, p->user, &c, &found) == SC_OK && found &&
        strcmp(c.last_addr, addr)) {
        snprintf(c.last_addr, sizeof(c.last_addr), "%s", addr);
        if (agent_store_contact_put(a->st, &c))
            fprintf(stderr, "sixchat: contact %s not updated (store failed)\n", p->user);
    }
    track_up(n, p->user, p->device, 1);
    agent_emit(a, "session.up",
               json_pack("{s:s,s:s,s:s,s:b}", "user", p->user, "device", p->device, "addr", addr,
                         "initiator", p->initiator));
    agent_msg_session_up(a, p->user, p->device);
    if (a->xfer) agent_xfer_session_up(a->xfer, p->user, p->device);
}

static const char *down_name(agent_peer_down_why w)
{
    switch (w) {
    case AGENT_PEER_DOWN_CLOSED:
        return "closed";
    case AGENT_PEER_DOWN_LOCAL:
        return "local";
    case AGENT_PEER_DOWN_IDLE:
        return "idle";
    case AGENT_PEER_DOWN_DUPLICATE:
        return "duplicate";
    case AGENT_PEER_DOWN_PING:
        return "ping-timeout";
    case AGENT_PEER_DOWN_SLOW:
        return "slow";
    default:
        return "error";
    }
}

static void on_down(void *ctx, const agent_peer_info *p, agent_peer_down_why why, int err)
{
    agent_net *n = ctx;
    track_up(n, p->user, p->device, -1);
    json_t *d =
        json_pack("{s:s,s:s,s:s}", "user", p->user, "device", p->device, "why", down_name(why));
    if (err) json_object_set_new(d, "error", json_string(sc_strerror(err)));
    agent_emit(n->a, "session.down", d);
    if (n->a->xfer) agent_xfer_session_down(n->a->xfer, p->user, p->device);
}

static void on_file_data(void *ctx, const agent_peer_info *p, const char *id, uint64_t offset,
                         const uint8_t *data, size_t len)
{
    agent_net *n = ctx;
    if (n->a->xfer) agent_xfer_file_data(n->a->xfer, p->user, p->device, id, offset, data, len);
}

static void on_drained(void *ctx, const agent_peer_info *p)
{
    agent_net *n = ctx;
    if (n->a->xfer) agent_xfer_drained(n->a->xfer, p->user, p->device);
}

static void on_stanza(void *ctx, const agent_peer_info *p, const sc_stanza *st)
{
    agent_net *n = ctx;
    agent_msg_stanza(n->a, p->user, p->device, st);
}

static void on_dial_result(void *ctx, const agent_peer_dial_result *r)
{
    agent_net *n = ctx;
    agent *a = n->a;
    if (r->err == SC_OK) {
        /* Up (new or already): anything queued since goes now. */
        agent_msg_flush(a, r->user, r->device, 1);
        return;
    }
    if (r->pin_mismatch && r->seen_fp) {
        agent_contact c;
        int found = 0;
        if (agent_store_contact_get(a->st, r->user, &c, &found) == SC_OK && found &&
            (!c.has_new_fp || memcmp(c.new_fp, r->seen_fp, 32))) {
            memcpy(c.new_fp, r->seen_fp, 32);
            c.has_new_fp = 1;
            if (agent_store_contact_put(a->st, &c) == SC_OK) {
                char h[65];
                agent_hex(r->seen_fp, 32, h);
                agent_emit(a, "contact.cert_changed",
                           json_pack("{s:s,s:s,s:s}", "user", r->user, "new_fingerprint", h,
                                     "message",
                                     "this contact now presents another certificate: their "
                                     "messages wait until you compare fingerprints and run "
                                     "`sixchat trust`"));
            }
        }
        return;
    }
    agent_emit(a, "dial.failed",
               json_pack("{s:s,s:s,s:s}", "user", r->user, "device", r->device, "why",
                         r->why ? r->why : sc_strerror(r->err)));
}

/*
 * Who may hold a session (after the certificate checks of the peer layer):
 * not a blocked user, only contacts with contacts_only, and a contact only
 * with the pinned certificate (pinned here at the first session).
 */
static int on_admit(void *ctx, const agent_peer_info *p)
{
    agent_net *n = ctx;
    agent *a = n->a;
    agent_contact c;
    int found = 0;
    if (agent_store_contact_get(a->st, p->user, &c, &found)) return 1;
    if (!found) return a->contacts_only ? 1 : 0;
    if (c.blocked) return 1;
    if (!c.has_fp) {
        memcpy(c.fp, p->cert_fp, 32);
        c.has_fp = 1;
        if (agent_store_contact_put(a->st, &c)) return 1;
        char h[65];
        agent_hex(c.fp, 32, h);
        agent_emit(a, "contact.pinned", json_pack("{s:s,s:s}", "user", c.user, "fingerprint", h));
        return 0;
    }
    if (memcmp(c.fp, p->cert_fp, 32) == 0) return 0;
    if (!c.has_new_fp || memcmp(c.new_fp, p->cert_fp, 32)) {
        memcpy(c.new_fp, p->cert_fp, 32);
        c.has_new_fp = 1;
        if (agent_store_contact_put(a->st, &c) == SC_OK) {
            char h[65];
            agent_hex(c.new_fp, 32, h);
            agent_emit(a, "contact.cert_changed",
                       json_pack("{s:s,s:s,s:s}", "user", c.user, "new_fingerprint", h, "message",
                                 "this contact now presents another certificate: their messages "
                                 "wait until you compare fingerprints and run `sixchat trust`"));
        }
    }
    return 1;
}

static void on_log(void *ctx, const char *line)
{
    fprintf(stderr, "sixchat: %s\n", line);
}

/* ---- registry callbacks ---- */

static const char *reg_state_name(agent_reg_state s)
{
    static const char *names[] = {"connecting", "registered", "no-address",
                                  "refused",    "retrying",   "stopped"};
    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

static void maybe_ready(agent_net *n)
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
        maybe_ready(n);
    }
    json_t *d = json_pack("{s:s}", "state", reg_state_name(st->state));
    if (st->nat) json_object_set_new(d, "nat", json_true());
    agent_emit(n->a, "registry.status", d);
}

static void on_presence(void *ctx, int status, const char *msg, const agent_peer_view *view,
                        irp_change reason)
{
    agent_net *n = ctx;
    if (!view) return;
    peer_entry *e = entry(n, view->user, 1);
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
    if (view->n_devices &&
        (has_outbox(n->a, view->user) || (n->a->xfer && agent_xfer_wants(n->a->xfer, view->user))))
        dial_view(n, view);
}

/* ---- the outbox's view ---- */

static void count_one(void *ctx, const agent_msg *m)
{
    (*(int *)ctx)++;
}

static int has_outbox(agent *a, const char *user)
{
    int k = 0;
    if (agent_store_outbox_list(a->st, user, count_one, &k)) return 0;
    return k > 0;
}

typedef struct peers_ctx {
    agent *a;
    char users[64][AGENT_USER_MAX + 1];
    size_t n;
} peers_ctx;

static void outbox_peer(void *ctx, const agent_msg *m)
{
    peers_ctx *p = ctx;
    for (size_t i = 0; i < p->n; i++)
        if (!strcasecmp(p->users[i], m->peer)) return;
    if (p->n < 64) snprintf(p->users[p->n++], sizeof(p->users[0]), "%s", m->peer);
}

/* ---- lifecycle ---- */

static int load_file(const char *path, char **out, size_t *len, char *err, size_t errcap)
{
    if (sc_read_file(path, PEM_MAX, out, len)) {
        snprintf(err, errcap, "cannot read %s: run `sixchat init` and `sixchat enroll` first",
                 path);
        return SC_ERR_IO;
    }
    return SC_OK;
}

/*
 * The IP literals of the --listen addresses when every one is specific (no
 * [::] or 0.0.0.0); 0 otherwise (then the machine's addresses are registered).
 */
static size_t listen_ips(agent *a, char out[][INET6_ADDRSTRLEN], const char **ptrs)
{
    size_t k = 0;
    for (size_t i = 0; i < a->opts.n_listen && i < AGENT_MAX_LISTEN; i++) {
        struct sockaddr_storage ss;
        if (agent_peer_addr_parse(a->opts.listen[i], &ss)) return 0;
        const void *ip;
        if (ss.ss_family == AF_INET6) {
            const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
            if (IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr)) return 0;
            ip = &s6->sin6_addr;
        } else {
            const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;
            if (s4->sin_addr.s_addr == htonl(INADDR_ANY)) return 0;
            ip = &s4->sin_addr;
        }
        if (!inet_ntop(ss.ss_family, ip, out[k], INET6_ADDRSTRLEN)) return 0;
        ptrs[k] = out[k];
        k++;
    }
    return k;
}

int agent_net_start(agent *a, char *err, size_t errcap)
{
    agent_net *n = calloc(1, sizeof(*n));
    if (!n) {
        snprintf(err, errcap, "out of memory");
        return SC_ERR_NOMEM;
    }
    n->a = a;
    a->net = n;
    if (load_file(a->paths.cert, &n->cert_pem, &n->cert_len, err, errcap) ||
        load_file(a->paths.key, &n->key_pem, &n->key_len, err, errcap) ||
        load_file(a->paths.ca, &n->ca_pem, &n->ca_len, err, errcap))
        return SC_ERR_IO;
    const char *at = strchr(a->user, '@');
    snprintf(n->domain, sizeof(n->domain), "%s", at ? at + 1 : "");
    char ca_domains[256];
    int found = 0;
    if (agent_store_get(a->st, "ca_domain", ca_domains, sizeof(ca_domains), &found) == SC_OK &&
        found && ca_domains[0])
        snprintf(n->domain, sizeof(n->domain), "%.200s", ca_domains);

    agent_peer_opts po;
    memset(&po, 0, sizeof(po));
    po.loop = a->loop;
    po.make_config = make_config;
    po.config_ctx = n;
    po.device_id = a->device;
    po.listen = a->opts.n_listen ? a->opts.listen : NULL;
    po.n_listen = a->opts.n_listen;
    if (a->opts.idle_ms) po.limits.idle_ms = a->opts.idle_ms;
    po.cb.up = on_up;
    po.cb.down = on_down;
    po.cb.stanza = on_stanza;
    po.cb.file_data = on_file_data;
    po.cb.drained = on_drained;
    po.cb.dial_result = on_dial_result;
    po.cb.admit = on_admit;
    po.cb.log = on_log;
    po.ctx = n;
    char perr[256] = "";
    int rc = agent_peer_new(&po, &n->peer, perr, sizeof(perr));
    if (rc) {
        snprintf(err, errcap, "cannot listen: %s", perr[0] ? perr : sc_strerror(rc));
        return rc;
    }
    agent_net_blocked_changed(a);

    if (!a->opts.no_registry) {
        char irp[256], host[256], ca_fp[80];
        if (agent_store_get(a->st, "irp", irp, sizeof(irp), &found) || !found) {
            snprintf(err, errcap,
                     "no registry configured: run `sixchat init --irp HOST[:PORT]` "
                     "(or start with --no-registry)");
            return SC_ERR_CONFIG;
        }
        uint16_t port = 0;
        snprintf(host, sizeof(host), "%s", irp);
        char *colon = strrchr(host, ':');
        if (colon && !strchr(colon, ']') && (host[0] != '[' || colon[-1] == ']')) {
            port = (uint16_t)atoi(colon + 1);
            *colon = '\0';
        }
        if (host[0] == '[') {
            size_t l = strlen(host);
            memmove(host, host + 1, l);
            if (l >= 2 && host[l - 2] == ']') host[l - 2] = '\0';
        }
        if (agent_store_get(a->st, "ca_fp", ca_fp, sizeof(ca_fp), &found) || !found)
            ca_fp[0] = '\0';
        struct sockaddr_storage la;
        if (agent_peer_listen_addr(n->peer, 0, &la)) {
            snprintf(err, errcap, "no listening address to register");
            return SC_ERR_CONFIG;
        }
        agent_reg_opts ro;
        memset(&ro, 0, sizeof(ro));
        ro.host = host;
        ro.port = port;
        ro.ca_fp = ca_fp[0] ? ca_fp : NULL;
        ro.ca_pem = n->ca_pem;
        ro.cert_pem = n->cert_pem;
        ro.key_pem = n->key_pem;
        ro.user = a->user;
        ro.device = a->device;
        ro.listen_port = ntohs(la.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&la)->sin6_port
                                                        : ((struct sockaddr_in *)&la)->sin_port);
        ro.lifetime = a->opts.lifetime_s;
        ro.allow_local = a->opts.allow_local;
        ro.addrs = a->opts.n_advertise ? a->opts.advertise : NULL;
        ro.n_addrs = a->opts.n_advertise;
        /* Listening on specific addresses only: those are the ones to
         * register (a peer dialling another address of the machine would
         * only meet a refusal, and Happy Eyeballs would wait for it). */
        char fixed[AGENT_MAX_LISTEN][INET6_ADDRSTRLEN];
        const char *fixed_p[AGENT_MAX_LISTEN];
        size_t n_fixed = listen_ips(a, fixed, fixed_p);
        if (!ro.addrs && n_fixed) {
            ro.addrs = fixed_p;
            ro.n_addrs = n_fixed;
        }
        ro.on_status = on_reg_status;
        ro.on_presence = on_presence;
        ro.ctx = n;
        char rerr[256] = "";
        rc = agent_reg_new(a->loop, &ro, &n->reg, rerr, sizeof(rerr));
        if (rc == SC_OK) rc = agent_reg_start(n->reg);
        if (rc) {
            snprintf(err, errcap, "registry: %s", rerr[0] ? rerr : sc_strerror(rc));
            return rc;
        }
        /* Everyone with messages waiting is watched: their return sends them. */
        peers_ctx pc = {.a = a};
        if (agent_store_outbox_list(a->st, NULL, outbox_peer, &pc) == SC_OK)
            for (size_t i = 0; i < pc.n; i++)
                agent_net_kick(a, pc.users[i]);
    }
    maybe_ready(n);
    return SC_OK;
}

static void reg_stopped(void *ctx)
{
    agent *a = ctx;
    agent_net *n = a->net;
    n->reg = NULL;
    agent_peer_free(n->peer);
    n->peer = NULL;
    void (*done)(agent *) = n->stop_done;
    while (n->peers) {
        peer_entry *e = n->peers;
        n->peers = e->next;
        free(e);
    }
    if (n->key_pem) sc_wipe(n->key_pem, n->key_len);
    free(n->cert_pem);
    free(n->key_pem);
    free(n->ca_pem);
    free(n);
    a->net = NULL;
    if (done) done(a);
}

void agent_net_stop(agent *a, void (*done)(agent *a))
{
    agent_net *n = a->net;
    if (!n) {
        done(a);
        return;
    }
    n->stopping = 1;
    n->stop_done = done;
    if (n->reg)
        agent_reg_stop(n->reg, reg_stopped, a); /* unregisters first */
    else
        reg_stopped(a);
}

void agent_net_listen_addr(agent *a, char *out, size_t cap)
{
    struct sockaddr_storage ss;
    if (cap) out[0] = '\0';
    if (!a->net || !a->net->peer || agent_peer_listen_addr(a->net->peer, 0, &ss)) return;
    char s[AGENT_PEER_ADDR_STRLEN];
    agent_peer_addr_str((const struct sockaddr *)&ss, s);
    snprintf(out, cap, "%s", s);
}

void agent_net_kick(agent *a, const char *peer)
{
    agent_net *n = a->net;
    if (!n || n->stopping) return;
    peer_entry *e = entry(n, peer, 1);
    if (!e) return;
    /* Sessions up: the new messages go on each device's session now (a
     * copy of the list: sending may end a session and change it). */
    char devs[IRP_MAX_BINDINGS][IRP_DEVICE_MAX + 1];
    size_t sent = e->n_up;
    for (size_t i = 0; i < sent; i++)
        snprintf(devs[i], sizeof(devs[i]), "%s", e->up[i].id);
    for (size_t i = 0; i < sent; i++)
        agent_msg_flush(a, peer, devs[i], 1);
    watch(n, e);
    if (sent) return;
    if (e->have_view && e->view.n_devices)
        dial_view(n, &e->view);
    else if (!e->looking_up)
        look_up(n, peer, NULL);
}

int agent_net_send(agent *a, const char *peer, const char *device, const sc_stanza *st)
{
    if (!a->net || !a->net->peer) return SC_ERR_STATE;
    return agent_peer_send(a->net->peer, peer, device, st);
}

int agent_net_send_file(agent *a, const char *peer, const char *device, const char *id,
                        uint64_t offset, const uint8_t *data, size_t len)
{
    if (!a->net || !a->net->peer) return SC_ERR_STATE;
    return agent_peer_send_file(a->net->peer, peer, device, id, offset, data, len);
}

typedef struct blocked_ctx {
    char (*users)[AGENT_USER_MAX + 1];
    size_t n, cap;
} blocked_ctx;

static void collect_blocked(void *ctx, const agent_contact *c)
{
    blocked_ctx *b = ctx;
    if (!c->blocked) return;
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 16;
        void *p = realloc(b->users, cap * sizeof(*b->users));
        if (!p) return;
        b->users = p;
        b->cap = cap;
    }
    snprintf(b->users[b->n++], AGENT_USER_MAX + 1, "%s", c->user);
}

void agent_net_blocked_changed(agent *a)
{
    agent_net *n = a->net;
    if (!n || !n->peer) return;
    blocked_ctx b = {0};
    if (agent_store_contact_list(a->st, collect_blocked, &b) == SC_OK) {
        const char **list = calloc(b.n ? b.n : 1, sizeof(*list));
        if (list) {
            for (size_t i = 0; i < b.n; i++)
                list[i] = b.users[i];
            int rc = agent_peer_set_blocked(n->peer, list, b.n);
            if (rc)
                fprintf(stderr, "sixchat: the block list was not applied: %s\n", sc_strerror(rc));
            free(list);
        }
    }
    free(b.users);
}

void agent_net_status(agent *a, json_t *obj)
{
    agent_net *n = a->net;
    if (!n) return;
    char listen[AGENT_PEER_ADDR_STRLEN + 8];
    agent_net_listen_addr(a, listen, sizeof(listen));
    json_object_set_new(obj, "listen", json_string(listen));
    if (n->reg) {
        const agent_reg_status *s = agent_reg_get_status(n->reg);
        json_t *addrs = json_array();
        for (size_t i = 0; i < s->n_addrs; i++)
            json_array_append_new(addrs, json_string(s->addrs[i]));
        json_t *r = json_pack("{s:s,s:o,s:i,s:I,s:b}", "state", reg_state_name(s->state),
                              "addresses", addrs, "port", (int)s->port, "expires",
                              (json_int_t)s->expires, "nat", s->nat);
        if (s->seen[0]) json_object_set_new(r, "seen", json_string(s->seen));
        if (s->nat && s->nat_msg) json_object_set_new(r, "nat_message", json_string(s->nat_msg));
        if (s->msg) json_object_set_new(r, "message", json_string(s->msg));
        json_object_set_new(obj, "registration", r);
    } else {
        json_object_set_new(obj, "registration", json_pack("{s:s}", "state", "none"));
    }
    agent_peer_counts c;
    agent_peer_get_counts(n->peer, &c);
    agent_peer_status st[32];
    size_t up = agent_peer_list(n->peer, st, 32);
    json_t *peers = json_array();
    for (size_t i = 0; i < up && i < 32; i++) {
        char s[AGENT_PEER_ADDR_STRLEN];
        agent_peer_addr_str((const struct sockaddr *)&st[i].addr, s);
        json_array_append_new(peers,
                              json_pack("{s:s,s:s,s:s,s:b,s:I}", "user", st[i].user, "device",
                                        st[i].device, "addr", s, "initiator", st[i].initiator,
                                        "since", (json_int_t)st[i].up_since_ms));
    }
    json_object_set_new(obj, "sessions",
                        json_pack("{s:I,s:I,s:I,s:o}", "up", (json_int_t)c.up, "handshaking",
                                  (json_int_t)c.handshaking, "dialling", (json_int_t)c.dialling,
                                  "peers", peers));
}

void agent_net_lookup(agent *a, agent_api_req *req, const char *user)
{
    if (!a->net) {
        agent_api_fail(req, AGENT_E_REGISTRY, "the agent is stopping", NULL);
        return;
    }
    look_up(a->net, user, req);
}

size_t agent_net_devices(agent *a, const char *peer, char (*out)[IRP_DEVICE_MAX + 1], size_t max)
{
    agent_net *n = a->net;
    peer_entry *e = n ? entry(n, peer, 0) : NULL;
    if (!e || !e->have_view) return 0;
    size_t k = 0;
    for (size_t i = 0; i < e->view.n_devices && k < max; i++)
        snprintf(out[k++], IRP_DEVICE_MAX + 1, "%s", e->view.devices[i].id);
    return k;
}
