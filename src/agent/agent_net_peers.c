/*
 * agent_net_peers.c - the peer sessions of the agent's network side: who
 * is up on which device, dialling a user's devices, the peer layer's
 * callbacks into the outbox, events and transfers, and trust on first use
 * (issue 8, "Contacts and trust"): a contact's certificate is pinned at
 * the first session; a different one later is refused, stored as the
 * contact's new fingerprint, and announced (contact.cert_changed) until
 * `trust`.
 */
#include "agent_net_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent_hex.h"
#include "agent_msgs.h"
#include "agent_peer_addr.h"
#include "agent_xfer.h"
#include "sixchat/config.h"
#include "sixchat/platform.h"

peer_entry *agent_net__entry(agent_net *n, const char *user, int create)
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
    peer_entry *e = agent_net__entry(n, user, delta > 0);
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

/*
 * The CA of every trusted other domain, bound to that domain alone: a
 * certificate for one of its users is accepted only from it, and it vouches
 * for no one else (docs/PROTOCOL.md 8.2). A domain whose CA does not load
 * is left out with a log line; its users then fail the handshake.
 */
static void add_domain_anchors(agent_net *n, sc_config *cfg)
{
    char names[AGENT_DOMAINS_MAX][AGENT_DOMAIN_MAX + 1];
    size_t k = 0;
    if (agent_domains_list(n->a->st, names, &k) != SC_OK) return;
    for (size_t i = 0; i < k; i++) {
        agent_domain d;
        int found = 0;
        const char *dom = names[i];
        if (agent_domains_get(n->a->st, names[i], &d, &found) == SC_OK && found &&
            sc_config_add_trust_anchor_pem(cfg, d.ca_pem, d.ca_len, &dom, 1) != SC_OK)
            fprintf(stderr, "sixchat: the CA of %s does not load: its users cannot connect\n",
                    names[i]);
        agent_domain_clear(&d);
    }
}

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
    add_domain_anchors(n, cfg);
    sc_config_set_random(cfg, sc_random_system, NULL);
    return cfg;
}

/* ---- peers ---- */

void agent_net__dial_view(agent_net *n, const agent_peer_view *view)
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

/* ---- the outbox's view ---- */

static void count_one(void *ctx, const agent_msg *m)
{
    (*(int *)ctx)++;
}

int agent_net__has_outbox(agent *a, const char *user)
{
    int k = 0;
    if (agent_store_outbox_list(a->st, user, count_one, &k)) return 0;
    return k > 0;
}

void agent_net__peer_cb(agent_net *n, agent_peer_opts *po)
{
    po->make_config = make_config;
    po->config_ctx = n;
    po->cb.up = on_up;
    po->cb.down = on_down;
    po->cb.stanza = on_stanza;
    po->cb.file_data = on_file_data;
    po->cb.drained = on_drained;
    po->cb.dial_result = on_dial_result;
    po->cb.admit = on_admit;
    po->cb.log = on_log;
    po->ctx = n;
}
