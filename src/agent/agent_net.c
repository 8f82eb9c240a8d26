/*
 * agent_net.c - the agent's network side (with agent_net_reg.c and
 * agent_net_peers.c below it): the registry connection
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
#include "agent_net_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent_msgs.h"
#include "agent_peer_addr.h"
#include "sixchat/platform.h"

#define PEM_MAX (64 * 1024)

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
    po.device_id = a->device;
    po.listen = a->opts.n_listen ? a->opts.listen : NULL;
    po.n_listen = a->opts.n_listen;
    if (a->opts.idle_ms) po.limits.idle_ms = a->opts.idle_ms;
    po.limits.stanza_rate = a->opts.stanza_rate;
    po.limits.conn_per_source = a->opts.conn_per_source;
    agent_net__peer_cb(n, &po);
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
        ro.dns = a->opts.dns;
        /* `init --irp DOMAIN`, a name without a port: found by DNS SRV at every connection
         * (docs/IRP.md 2.1; without a record, the name itself on 4604 as before). */
        unsigned char ip[16];
        if (port == 0 && inet_pton(AF_INET, host, ip) != 1 && inet_pton(AF_INET6, host, ip) != 1) {
            ro.srv_domain = host;
            ro.host = NULL;
        }
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
        agent_net__reg_cb(n, &ro);
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
    agent_net__maybe_ready(n);
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

static void own_reg_stop(agent_net *n)
{
    if (n->reg)
        agent_reg_stop(n->reg, reg_stopped, n->a); /* unregisters first */
    else
        reg_stopped(n->a);
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
    agent_net__foreign_stop(n, own_reg_stop); /* other domains' registries first */
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
    peer_entry *e = agent_net__entry(n, peer, 1);
    if (!e) return;
    /* Sessions up: the new messages go on each device's session now (a
     * copy of the list: sending may end a session and change it). */
    char devs[IRP_MAX_BINDINGS][IRP_DEVICE_MAX + 1];
    size_t sent = e->n_up;
    for (size_t i = 0; i < sent; i++)
        snprintf(devs[i], sizeof(devs[i]), "%s", e->up[i].id);
    if (sent) agent_msg_send_new(a, peer, (const char(*)[IRP_DEVICE_MAX + 1]) devs, sent);
    agent_net__watch(n, e);
    if (sent) return;
    if (e->have_view && e->view.n_devices)
        agent_net__dial_view(n, &e->view);
    else if (!e->looking_up)
        agent_net__look_up(n, peer, NULL);
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
        json_t *r = json_pack("{s:s,s:o,s:i,s:I,s:b}", "state", agent_net__reg_state_name(s->state),
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
    agent_net__look_up(a->net, user, req);
}

size_t agent_net_devices(agent *a, const char *peer, char (*out)[IRP_DEVICE_MAX + 1], size_t max)
{
    agent_net *n = a->net;
    peer_entry *e = n ? agent_net__entry(n, peer, 0) : NULL;
    if (!e || !e->have_view) return 0;
    size_t k = 0;
    for (size_t i = 0; i < e->view.n_devices && k < max; i++)
        snprintf(out[k++], IRP_DEVICE_MAX + 1, "%s", e->view.devices[i].id);
    return k;
}
