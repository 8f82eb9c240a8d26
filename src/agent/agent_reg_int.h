/*
 * agent_reg_int.h - the state agent_reg.c (connection, registration,
 * stop) and agent_reg_watch.c (watches, lookups, presence) share, and the
 * helpers of agent_reg_addrs.c and agent_reg_view.c. Calls go one way:
 * agent_reg.c -> agent_reg_watch.c -> agent_reg_view.c (which also keeps
 * the clock); the handle's type is in agent_reg_types.h.
 */
#ifndef AGENT_REG_INT_H
#define AGENT_REG_INT_H

#include <openssl/x509.h>

#include "agent_netmon.h"
#include "agent_reg.h"
#include "irp_client.h"
#include "irp_client_srv.h"

#define AGENT_REG_MAX_WATCH 64      /* the registry's per-connection limit (docs/IRP.md 6.10) */
#define AGENT_REG_PING_MS 60000     /* below the registry's idle limits (3.6) */
#define AGENT_REG_LOOKUP_MAX_AGE 60 /* seconds (7.4, verifying step 4) */

typedef struct agent_reg_watch_ent {
    char user[IRP_USER_MAX + 1];
    unsigned changes;     /* binding updates seen; a lookup answer for an older one is stale */
    agent_peer_view last; /* last delivered (its certificates serve an offline event) */
    agent_peer_view next; /* the event's bindings while its lookup is outstanding */
} agent_reg_watch_ent;

/* A call to make on the next loop iteration (lookups without a connection). */
typedef struct agent_reg_deferred {
    struct agent_reg_deferred *next;
    agent_reg_lookup_cb cb;
    void *ctx;
    char msg[IRP_MSG_MAX + IRP_USER_MAX + 64];
} agent_reg_deferred;

struct agent_reg {
    uv_loop_t *loop;
    agent_reg_opts o; /* strings point at the copies below */
    char *host, *ca_fp, *ca_pem, *cert_pem, *key_pem;
    char *srv_domain, *dns;
    /* The SRV answer being tried (srv_domain): the next target is targets[next_target]. */
    irp_srv_target targets[IRP_SRV_MAX];
    size_t n_targets, next_target;
    struct agent_reg_srv *srv; /* the query in flight, or NULL */
    char user[IRP_USER_MAX + 1];
    char device[IRP_DEVICE_MAX + 1];
    irp_addr fixed[IRP_MAX_ADDRS];
    size_t n_fixed;
    int use_fixed;

    irp_client *c;
    unsigned gen;  /* connection number: answers of an older one are ignored */
    int connected; /* handshake done on c */
    int started, stopping;
    unsigned backoff_ms;
    uint64_t last_seq;

    irp_addr addrs[IRP_MAX_ADDRS]; /* the set registered (or being registered) */
    size_t n_addrs;
    int reg_pending, reg_dirty, registered;

    uv_timer_t t_refresh, t_retry, t_ping, t_defer;
    agent_netmon *nm;
    int open_handles;

    agent_reg_status st;
    char msg[512];
    char nat_msg[1024];

    agent_reg_watch_ent *watches[AGENT_REG_MAX_WATCH];
    size_t n_watch;
    agent_reg_deferred *deferred;

    void (*done)(void *ctx);
    void *done_ctx;
};

/* ---- agent_reg_addrs.c ---- */
/*
 * The machine's usable addresses, best first (IPv6 global, IPv4 global,
 * unique-local, private, shared; then loopback and link-local when
 * allow_local), at most IRP_MAX_ADDRS, no duplicates. 0 or SC_ERR_IO.
 */
int agent__reg_addrs_collect(int allow_local, irp_addr out[IRP_MAX_ADDRS], size_t *n);
/* 1 when the two sets hold the same addresses (any order). */
int agent__reg_addrs_same(const irp_addr *a, size_t na, const irp_addr *b, size_t nb);

/* ---- agent_reg_view.c ---- */
/* Wall-clock seconds. */
uint64_t agent__reg_now(void);
/* view <- user and bindings (addresses with the binding's port); certificates untouched. */
void agent__reg_view_bindings(agent_peer_view *view, const char *user, const irp_binding *b,
                              size_t n);
/*
 * Checks a lookup answer (docs/IRP.md 7.4 verifying: signature by
 * registry_cert, user asked for, at no older than 60 s before now) and
 * fills view. Returns 0 (online), AGENT_REG_OFFLINE, AGENT_REG_BAD_SIG or
 * the answer's failing status; msg receives a sentence a person
 * understands in every case but 0.
 */
int agent__reg_check_lookup(const irp_resp *resp, X509 *registry_cert, const char *user,
                            uint64_t now, agent_peer_view *view, char *msg, size_t cap);
/* A sentence for a failed registry request about user (404, 403, local failures...). */
void agent__reg_explain(int status, const char *resp_msg, const char *user, char *msg, size_t cap);

/* ---- agent_reg_watch.c ---- */
/* Sends a watch for every user of the set (after a (re)connection). */
void agent__reg_watch_all(agent_reg *r);
/* A pushed event of the connection. */
void agent__reg_on_event(agent_reg *r, const irp_event *ev);
/* t_defer's callback: answers the deferred lookups. */
void agent__reg_on_defer(uv_timer_t *t);
/* Frees the watch set and answers deferred lookups with IRP_CLIENT_CLOSED (stop). */
void agent__reg_watch_free(agent_reg *r);

#endif
