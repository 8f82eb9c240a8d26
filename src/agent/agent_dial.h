/*
 * agent_dial.h - reaching one device of a user: its addresses raced as
 * Happy Eyeballs does (RFC 8305): the list interleaves the families, IPv6
 * first (section 4), a new attempt starts every stagger_ms (section 5, the
 * "Connection Attempt Delay", 250 ms recommended) or at once when one
 * fails, and the first attempt whose handshake completes with an accepted
 * certificate wins; the others are cancelled.
 *
 * The dial knows addresses and certificate fingerprints, not sockets: it
 * asks its owner (agent_peer.c) to start and cancel attempts through
 * agent_dial_ops, and the owner tells it how each attempt ended.
 */
#ifndef AGENT_DIAL_H
#define AGENT_DIAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "agent_peer.h"
#include "agent_types.h"

typedef struct agent_dial agent_dial;
struct agent_conn;

typedef struct agent_dial_ops {
    /* Starts an attempt to addr; NULL when it cannot start (*err says why). */
    struct agent_conn *(*attempt)(void *owner, agent_dial *d, const struct sockaddr *addr,
                                  int *err);
    /* Cancels a losing attempt (the dial forgets it first). */
    void (*cancel)(void *owner, agent_dial *d, struct agent_conn *c);
    /* The outcome, once. */
    void (*done)(void *owner, agent_dial *d, const agent_peer_dial_result *res);
    /* The dial's timer is closed; it is freed when this returns. */
    void (*ended)(void *owner, agent_dial *d);
} agent_dial_ops;

#define AGENT_DIAL_ADDRS (IRP_MAX_ADDRS + 1) /* the device's, plus the last one that worked */

struct agent_dial {
    const agent_dial_ops *ops;
    void *owner;
    agent_dial *prev, *next; /* the owner's list */
    char user[IRP_USER_MAX + 1];
    char device[IRP_DEVICE_MAX + 1];
    uint8_t fps[IRP_MAX_CERTS][32];
    size_t n_fps;
    uint8_t pin[32];
    int has_pin;
    struct sockaddr_storage addrs[AGENT_DIAL_ADDRS];
    size_t n_addrs, next_addr;
    struct agent_conn *att[AGENT_DIAL_ADDRS];
    size_t n_att;
    uv_timer_t timer;
    uint64_t stagger_ms;
    char why[1024];
    int last_err, pin_mismatch, done, satisfied;
    uint8_t seen_fp[32];
};

/*
 * Makes the dial of view->devices[dev] (addresses ordered as above, `first`
 * in front when given). Returns NULL when out of memory.
 */
agent_dial *agent_dial_new(uv_loop_t *loop, const agent_dial_ops *ops, void *owner,
                           const agent_peer_view *view, size_t dev, const uint8_t *pin,
                           const struct sockaddr *first, uint64_t stagger_ms);

/* Starts the first attempt (the outcome always comes later, through `done`). */
void agent_dial_start(agent_dial *d);

/* The device has a session already: reports success from the loop, dials nothing. */
void agent_dial_start_satisfied(agent_dial *d);

/*
 * The certificate an attempt's peer proved: SC_OK when it is one the
 * registry published (and the pinned one, when pinned), else an error with
 * *reason set to a static line; a published but unpinned certificate also
 * sets pin_mismatch and seen_fp.
 */
int agent_dial_check_cert(agent_dial *d, const uint8_t fp[32], const char **reason);

/* The attempt c, to addr, ended before winning (reason: one line). */
void agent_dial_attempt_failed(agent_dial *d, struct agent_conn *c, const struct sockaddr *addr,
                               int err, const char *reason);

/* The attempt c won: the others are cancelled and `done` reports success. */
void agent_dial_attempt_won(agent_dial *d, struct agent_conn *c);

/* Gives up: cancels every attempt; `done` reports err with reason. */
void agent_dial_cancel(agent_dial *d, int err, const char *reason);

/* 1 when c is one of the dial's live attempts. */
int agent_dial_has(const agent_dial *d, const struct agent_conn *c);

#endif
