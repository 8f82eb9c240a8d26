/*
 * agent_peer_testlib.h - what the peer layer's tests share: certificates
 * valid around the real clock (the manager reads sc_clock_ms()), one libuv
 * loop, "parties" (a manager plus a record of its callbacks) and a runner
 * that turns the loop until a condition holds. No sleeps: the bound on the
 * runner only catches a hang.
 */
#ifndef AGENT_PEER_TESTLIB_H
#define AGENT_PEER_TESTLIB_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "agent_peer.h"
#include "sc_testcert.h"

#define T_MAX_EVENTS 256
#define T_BOUND_MS 20000 /* a hang, not a slow machine */

typedef struct t_pki {
    sc_testcert *root, *other_root;
    char *root_pem;
} t_pki;

typedef struct t_party {
    char user[128];
    char *chain, *key;
    uint8_t fp[32];
    const char *trust_pem;
    agent_peer *p;
    /* callbacks seen */
    int ups, downs, stanzas, dials, logs, drains, freed;
    uint64_t up_sid;
    int up_initiator;
    char up_user[128], up_device[80];
    uint8_t up_fp[32];
    agent_peer_down_why down_why[T_MAX_EVENTS];
    int down_err[T_MAX_EVENTS];
    char down_user[T_MAX_EVENTS][128];
    char stanza_id[T_MAX_EVENTS][72];
    char stanza_text[T_MAX_EVENTS][128];
    int dial_err[T_MAX_EVENTS];
    char dial_why[T_MAX_EVENTS][512];
    int dial_pin_mismatch[T_MAX_EVENTS];
    uint8_t dial_seen_fp[32];
    char log[T_MAX_EVENTS][512];
    uint8_t *file;
    size_t file_len;
} t_party;

extern t_pki t_g;
extern uv_loop_t t_loop;

/* cmocka group setup/teardown: the PKI and the loop. */
int t_setup(void **state);
int t_teardown(void **state);

/*
 * Makes the party's certificate (under the test root, or under other_root
 * when untrusted) and starts its manager on 127.0.0.1:0 with these limits
 * (NULL: defaults).
 */
void t_party_start(t_party *x, const char *user, const char *device, int untrusted,
                   const agent_peer_limits *lim);

/* The same user and certificate (the key restored) on another device. */
void t_party_start_same_key(t_party *x, const t_party *src, const char *device);

/* Frees the manager (and the party's certificate); t_drain() then closes its handles. */
void t_party_stop(t_party *x);

/* Runs the loop until no handle is left (after every party is stopped). */
void t_drain(void);

/* The view a registry would give of x: its device at its listening address, its certificate. */
void t_view(const t_party *x, const char *device, agent_peer_view *v);

/* An agent_peer_config_fn: the party's identity, the test root as anchor for example.org. */
sc_config *t_make_config(void *party);

/* Runs the loop until cond(arg) is true; fails the test after T_BOUND_MS. */
void t_run_until(int (*cond)(void *), void *arg);

/* Sends a msg stanza with this id and text; returns agent_peer_send's result. */
int t_send_msg(t_party *from, const char *to, const char *id, const char *text);

/* 1 when some log line of x contains needle. */
int t_logged(const t_party *x, const char *needle);

/* Conditions for t_run_until. */
int t_cond_up(void *party);      /* at least one session up */
int t_cond_dialled(void *party); /* a dial result arrived */

/* A TCP socket connected to x's listener (blocking), for raw bytes. */
int t_raw_connect(const t_party *x);

#endif
