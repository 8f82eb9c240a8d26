/*
 * agent_net_int.h - what the files of the agent's network side share
 * (agent_net.c the lifecycle and the public calls, agent_net_reg.c the
 * registry side, agent_net_peers.c the peer sessions and trust): the
 * state and the calls between them, which go down only (agent_net ->
 * agent_net_reg -> agent_net_peers).
 */
#ifndef AGENT_NET_INT_H
#define AGENT_NET_INT_H

#include "agent_domains.h"
#include "agent_net.h"
#include "agent_peer.h"
#include "agent_reg.h"

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

/* The registry of another domain (agent_domains.h): lookups and watches only. */
typedef struct foreign_reg {
    struct foreign_reg *next;
    agent_net *n;
    char domain[AGENT_DOMAIN_MAX + 1];
    agent_reg *reg;
    int connected;
    struct lookup_req *waiting; /* lookups asked before the first connection */
} foreign_reg;

struct agent_net {
    agent *a;
    agent_reg *reg;
    foreign_reg *foreign; /* opened on the first lookup or watch of one of their users */
    size_t foreign_stopping;
    agent_peer *peer;
    char *cert_pem, *key_pem, *ca_pem;
    size_t cert_len, key_len, ca_len;
    char domain[AGENT_USER_MAX + 1];
    peer_entry *peers;
    int registered;
    int ready_done;
    int stopping;
    void (*stop_done)(agent *a);
    void (*foreign_done)(agent_net *n);
};

/* ---- agent_net_peers.c: the peer sessions and trust ---- */

/* The entry of user (created when create and missing; NULL when out of memory or absent). */
peer_entry *agent_net__entry(agent_net *n, const char *user, int create);
/* Dials the devices of view unless the user is blocked or their new certificate is held. */
void agent_net__dial_view(agent_net *n, const agent_peer_view *view);
/* Whether the outbox holds a message for user. */
int agent_net__has_outbox(agent *a, const char *user);
/* Sets the peer layer's configuration maker, callbacks and their ctx (n) in po. */
void agent_net__peer_cb(agent_net *n, agent_peer_opts *po);

/* ---- agent_net_reg.c: the registry side ---- */

/* Looks user up; req NULL: an internal lookup that dials the answer. */
void agent_net__look_up(agent_net *n, const char *user, agent_api_req *req);
/* Watches e's user on the registry (once). */
void agent_net__watch(agent_net *n, peer_entry *e);
const char *agent_net__reg_state_name(agent_reg_state s);
/* Reports readiness once (registered, or no registry). */
void agent_net__maybe_ready(agent_net *n);
/* Sets the registry's status and presence callbacks and their ctx (n) in ro. */
void agent_net__reg_cb(agent_net *n, agent_reg_opts *ro);
/*
 * The registry that answers for user: the agent's own for its domain, else
 * the registry of a trusted other domain (opened now, found by DNS SRV and
 * pinned to that domain's CA); NULL with a sentence in why (a user of a
 * domain not trusted, no memory).
 */
agent_reg *agent_net__reg_for(agent_net *n, const char *user, char *why, size_t cap);
/* Stops every registry of another domain; done(n) once all are stopped (at once when none). */
void agent_net__foreign_stop(agent_net *n, void (*done)(agent_net *n));

#endif
