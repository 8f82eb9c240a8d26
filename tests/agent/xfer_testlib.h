/*
 * xfer_testlib.h - what the transfer tests share: "parties" (an agent's
 * store, downloads directory, peer manager on 127.0.0.1 and transfer
 * module on one libuv loop, with a record of its events), certificates
 * made in code, and a runner that turns the loop until a condition holds
 * (no sleeps: the bound only catches a hang).
 */
#ifndef XFER_TESTLIB_H
#define XFER_TESTLIB_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

#include "agent_peer.h"
#include "agent_xfer.h"
#include "sc_testcert.h"

#define BOUND_MS 60000 /* a hang, not a slow machine */
#define MAX_EV 4096

extern uv_loop_t loop;
extern uv_timer_t guard;
extern sc_testcert *root;
extern char *root_pem;
extern char tmp[200]; /* the test program's directory */
extern char cur[240]; /* this test case's */

typedef struct party {
    char user[64], device[32];
    char *chain, *key;
    uint8_t fp[32];
    char db[300], dl[300];
    agent_store *st;
    agent_peer *p;
    agent_xfer *x;
    int ups, downs;
    uint64_t bytes_in;               /* file bytes handed to agent_xfer_file_data */
    uint64_t up_sid;                 /* the latest session up */
    uint64_t bytes_new;              /* file bytes that came on it */
    uint64_t bytes_out;              /* file bytes the peer layer took from agent_xfer */
    void (*on_out)(struct party *x); /* after each chunk offered to the peer layer */
    void (*on_event)(struct party *x, const char *type, json_t *data);
    uint64_t cut_at; /* close the session once bytes_in passes this (0: never) */
    int n_ev;
    char ev_type[MAX_EV][32];
    char ev_id[MAX_EV][72];
    uint64_t ev_offset[MAX_EV];
    char ev_state[MAX_EV][16];
    char ev_path[MAX_EV][600];
} party;

typedef struct want_ev {
    party *x;
    const char *type;
    int from; /* only events from this index on */
} want_ev;

typedef struct sent {
    int done, err;
    char id[72];
} sent;

/* cmocka group setup and teardown: tmp (removed after), root, loop. */
int xt_setup(void **state);
int xt_teardown(void **state);
/* Fresh certificate for NAME@example.org under root, then party_open. */
void party_start(party *x, const char *name);
/* With x->chain and x->key set: store cur/NAME.db, downloads cur/NAME-downloads, peer, xfer. */
void party_open(party *x, const char *name);
/* The transfer module and the peer manager again on the same store (a restart). */
void xfer_start(party *x);
void peer_start(party *x);
/* Frees the modules (the store stays open); the loop closes their handles. */
void party_halt(party *x);
void party_stop(party *x);
/* Runs the loop until cond(arg); fails the test after BOUND_MS. */
void run_until(int (*cond)(void *), void *arg);
/* Runs the loop until nothing is left (after every party stopped). */
void drain(void);
int up_count(void *arg);
int down_count(void *arg);
/* Index of the first event of type from index `from` on, or -1; wait_ev waits for it. */
int find_ev(party *x, const char *type, int from);
int wait_ev(party *x, const char *type, int from);
/* Dials (user, device) at addr, pinned to fp; waits for from's session up. */
void dial_addr(party *from, const char *user, const char *device, const uint8_t fp[32],
               const struct sockaddr_storage *addr);
/* Dials `to` and waits until both have the session up. */
void dial(party *from, party *to);
void make_contact(party *x, const char *user);
/* n pseudo-random bytes from seed. */
void write_file(const char *path, size_t n, unsigned seed);
void sha256_file(const char *path, uint8_t out[32]);
/* agent_xfer_send, waiting for its answer (SC_OK asserted). */
void send_file(party *from, const char *to, const char *path, sent *s);
/* The names in dir joined by '|'. */
void list_dir(const char *dir, char *out, size_t cap);

#endif
