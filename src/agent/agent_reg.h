/*
 * agent_reg.h - the agent's registry side (issue 8): one long-lived IRP
 * connection to the user's registry, authenticated with the user's
 * certificate (docs/IRP.md 3.3), on the agent's libuv loop. No call blocks.
 *
 * What it does, once started:
 *  - registers the machine's usable addresses (docs/IRP.md 6.7) with the
 *    listen port and the device id: global, unique-local, private and
 *    shared (100.64/10) addresses from uv_interface_addresses; loopback and
 *    link-local only with allow_local (the tests' option; the registry must
 *    run with --allow-local to accept them); IPv6 before IPv4, at most
 *    IRP_MAX_ADDRS;
 *  - registers again at half the granted lifetime (6.7, "the reference
 *    agent at half the granted lifetime"), and within a second when the
 *    machine's addresses change (agent_netmon: netlink on Linux);
 *  - reports every change of its state through the status callback: the
 *    addresses registered, the expiry, and the NAT verdict of the registry
 *    (resp nat/seen, 6.7) with a plain message saying that direct messaging
 *    needs a globally routable address and what to do about it;
 *  - when the connection is lost (or cannot be made) it connects again
 *    with an exponential backoff, registers again and watches again every
 *    user it was asked to watch;
 *  - keeps the connection alive with a ping every 60 s (3.6: a connection
 *    without requests is closed by the registry after 120 s, 900 s with
 *    watches);
 *  - on agent_reg_stop: unregisters the device (6.8), then closes.
 *
 * Watch (6.10) and lookup (6.9) give agent_peer_view (agent_types.h): a
 * user's live devices with their addresses (port set) and the SHA-256 of
 * each valid certificate the registry published. Lookup answers are
 * verified: the registry's signature (7.4) against the certificate of the
 * TLS connection (irp_lookup_verify), the user asked for, and an `at` at
 * most 60 s old. A watch event carries bindings only (5.4), so for an event
 * in which the user has devices the module looks the user up (verified) and
 * delivers that view; an event without devices (offline) is delivered at
 * once, with the certificates last known, except after a revocation (its
 * view comes from a lookup too, so the revoked certificate is gone).
 *
 * Every callback runs on the loop thread. None may free the agent_reg
 * (use agent_reg_stop, which may be called from a callback).
 */
#ifndef AGENT_REG_H
#define AGENT_REG_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "agent_reg_types.h"
#include "agent_types.h"
#include "irp_msg.h"

/*
 * Statuses of lookup and watch results, besides 0 (success), the registry's
 * codes (irp_status.h: 403 not allowed, 404 unknown user ...) and the IRP
 * client's local ones (irp_client.h: IRP_CLIENT_CONNECT, _TLS, _TIMEOUT,
 * _CLOSED, _PROTOCOL). Never on the wire.
 */
enum {
    AGENT_REG_OFFLINE = 700,      /* the user is known but has no live binding (the view has
                                     their certificates and n_devices 0) */
    AGENT_REG_BAD_SIG = 701,      /* the lookup answer's signature, user or time does not check */
    AGENT_REG_NOT_CONNECTED = 702 /* no registry connection now (it is being retried) */
};

typedef enum agent_reg_state {
    AGENT_REG_CONNECTING = 0, /* connecting (first time or after a loss) */
    AGENT_REG_REGISTERED,     /* registered: addrs, expires, nat are valid */
    AGENT_REG_NO_ADDRESS,     /* connected, but the machine has no usable address */
    AGENT_REG_REFUSED,        /* the registry refused the registration (error, msg) */
    AGENT_REG_RETRYING,       /* the connection failed or was lost; retry in retry_ms */
    AGENT_REG_STOPPED         /* agent_reg_stop finished: unregistered (or tried) and closed */
} agent_reg_state;

/* What the owner shows in `status`. Valid during the callback only. */
typedef struct agent_reg_status {
    agent_reg_state state;
    /* The addresses registered (or, when not registered, those to register). */
    char addrs[IRP_MAX_ADDRS][IRP_ADDR_STRLEN];
    size_t n_addrs;
    uint16_t port;    /* the listen port registered */
    uint32_t granted; /* seconds granted by the last registration */
    uint64_t expires; /* Unix seconds: when the registration ends unless renewed */
    /* NAT verdict of the last registration (docs/IRP.md 6.7). */
    int nat;                    /* 1: the registry sees another address than those registered */
    char seen[IRP_ADDR_STRLEN]; /* the address the registry saw ("" if it gave none) */
    const char *nat_msg;        /* when nat: a plain explanation and what to do; else NULL */
    int error;                  /* REFUSED/RETRYING: the status (IRP code or IRP_CLIENT_*) */
    const char *msg;            /* a line for a person: what happened ("registered as ...") */
    unsigned retry_ms;          /* RETRYING: when the next attempt is made */
} agent_reg_status;

typedef void (*agent_reg_status_cb)(void *ctx, const agent_reg_status *st);

/*
 * A watched user's presence changed (or the watch was set up: the first
 * call gives the current view). status 0: view is the user's current view
 * (n_devices 0 = offline). Otherwise the watch failed or ended (403: the
 * user does not allow it, 404: unknown user; the user is then removed from
 * the watch set) and view holds only the user ID; msg says why. reason is
 * what the registry said happened (IRP_CHANGE_REGISTER, _UNREGISTER,
 * _EXPIRE, _REVOKE; IRP_CHANGE_NONE for the initial view).
 */
typedef void (*agent_reg_presence_cb)(void *ctx, int status, const char *msg,
                                      const agent_peer_view *view, irp_change reason);

typedef struct agent_reg_opts {
    /* The registry and how to trust it (irp_client_opts): at least one of ca_fp, ca_pem. */
    const char *host;       /* name or IP literal; NULL with srv_domain */
    const char *srv_domain; /* find the registry of this domain by DNS SRV at every connection
                               (docs/IRP.md 2.1: targets in order, the domain on 4604 without
                               a record); the pin is what authenticates what it finds */
    const char *dns;        /* "IPV4[:PORT]": the DNS server to ask instead of the system's */
    int reads_only;         /* a registry of another domain: lookups and watches only, no
                               registration, no address monitor (listen_port unused) */
    uint16_t port;          /* 0 = IRP_PORT (4604) */
    const char *ca_fp;      /* pinned SHA-256 of the registry CA certificate, hex */
    const char *ca_pem;     /* PEM text of the registry CA certificate(s) */
    /* The user's identity: PEM text of the certificate chain (leaf first) and key. */
    const char *cert_pem;
    const char *key_pem;
    const char *user;     /* the user ID the certificate names (sent as register's user) */
    const char *device;   /* device id, 1..64 of [A-Za-z0-9._-] */
    uint16_t listen_port; /* the E2ED port to register (1..65535) */
    uint32_t lifetime;    /* requested registration lifetime, s; 0 = the registry's default */
    int allow_local;      /* also register loopback and link-local addresses (tests) */
    /*
     * A fixed list of IP literals to register instead of the machine's
     * addresses (an --advertise option; tests use it to claim an address
     * the registry does not see, which gives the NAT verdict). NULL: the
     * machine's, followed by the address monitor.
     */
    const char *const *addrs;
    size_t n_addrs;
    int no_netmon;               /* do not watch the machine's addresses (tests) */
    unsigned backoff_min_ms;     /* first reconnect delay; 0 = 500 */
    unsigned backoff_max_ms;     /* cap of the doubling; 0 = 30000 */
    unsigned request_timeout_ms; /* 0 = 15000 */
    agent_reg_status_cb on_status;
    agent_reg_presence_cb on_presence;
    void *ctx; /* passed to both callbacks */
} agent_reg_opts;

/*
 * Creates the registry side on loop. The strings of opts are copied.
 * Returns 0, SC_ERR_ARG (missing host, trust, identity, device, port),
 * SC_ERR_PARSE (a PEM does not load), SC_ERR_NOMEM; err (errcap bytes, may
 * be NULL) receives a message.
 */
int agent_reg_new(uv_loop_t *loop, const agent_reg_opts *opts, agent_reg **out, char *err,
                  size_t errcap);

/* Connects, registers and starts the address monitor. 0 or SC_ERR_STATE (already started). */
int agent_reg_start(agent_reg *r);

/*
 * The machine's addresses may have changed: enumerate them again and
 * register at once if they differ. The address monitor calls this; an
 * owner may too (a SIGHUP, a test).
 */
void agent_reg_addrs_changed(agent_reg *r);

/* The current state, as last reported (valid until the next loop iteration). */
const agent_reg_status *agent_reg_get_status(const agent_reg *r);

/*
 * Watches user (6.10): presence changes go to on_presence. The user stays
 * in the watch set until unwatched (or refused), across reconnections.
 * Watching a watched user does nothing. 0, SC_ERR_ARG (not a user ID),
 * SC_ERR_TOO_LARGE (64 users already: the registry's limit), SC_ERR_NOMEM.
 */
int agent_reg_watch(agent_reg *r, const char *user);
/* Ends the watch of user (no more presence calls for them). 0 or SC_ERR_ARG. */
int agent_reg_unwatch(agent_reg *r, const char *user);

/*
 * Looks user up (6.9) and verifies the answer (7.4). cb is called exactly
 * once, never from inside this call, unless this returns an error:
 * SC_ERR_ARG (not a user ID), SC_ERR_NOMEM. When there is no connection
 * now, cb gets AGENT_REG_NOT_CONNECTED on the next loop iteration.
 */
int agent_reg_lookup(agent_reg *r, const char *user, agent_reg_lookup_cb cb, void *ctx);

/*
 * Stops: unregisters the device (waits for the answer at most
 * request_timeout_ms), closes the connection and the timers, then calls
 * on_status with AGENT_REG_STOPPED, then done(ctx) (may be NULL), and frees
 * r. Outstanding lookups are answered with IRP_CLIENT_CLOSED first. r must
 * not be used after this call.
 */
void agent_reg_stop(agent_reg *r, void (*done)(void *ctx), void *ctx);

/* Fills view from a lookup answer (bindings, valid certificates); no checks. For tests/tools. */
void agent_reg_view_from_resp(agent_peer_view *view, const irp_resp *resp);

#endif
