/*
 * agent_store_xfer.h - file transfers in the store (the `transfers`
 * table, docs/AGENT-API.md 6): one row per (peer, direction, id), its
 * state, how far it got, and the local file (the source for a sender, the
 * .part then the final name in the downloads directory for a receiver).
 *
 * Errors as in agent_store.h: SC_ERR_IO (logged), SC_ERR_ARG.
 */
#ifndef AGENT_STORE_XFER_H
#define AGENT_STORE_XFER_H

#include <stdint.h>

#include "agent_paths.h"
#include "agent_store.h"
#include "irp_msg.h"

#define AGENT_XFER_ID_MAX 64
#define AGENT_XFER_STATE_MAX 15
#define AGENT_XFER_REASON_MAX 256

/* States, as stored and as the API shows them (docs/AGENT-API.md 4.9). */
#define AGENT_XS_OFFERED "offered"     /* out: offered, no accept yet; in: waits for the user */
#define AGENT_XS_SENDING "sending"     /* out: accepted, bytes going */
#define AGENT_XS_SENT "sent"           /* out: every byte and file-done handed to the session */
#define AGENT_XS_RECEIVING "receiving" /* in: accepted, bytes arriving into the .part */
#define AGENT_XS_DONE "done"           /* in: digest checked, file at its final name */
#define AGENT_XS_REJECTED "rejected"   /* either: declined (reason says by whom, why) */
#define AGENT_XS_FAILED "failed"       /* either: bad digest, file gone, too large ... */
#define AGENT_XS_CANCELLED "cancelled" /* out: the user stopped it */

typedef struct agent_xfer_rec {
    char id[AGENT_XFER_ID_MAX + 1];
    char peer[AGENT_USER_MAX + 1];
    int dir; /* AGENT_DIR_OUT / AGENT_DIR_IN */
    char name[256];
    uint64_t size;
    uint8_t sha256[32];
    uint64_t offset; /* out: bytes handed to the session; in: bytes in the .part */
    char state[AGENT_XFER_STATE_MAX + 1];
    /* out: the source file (absolute); in: the file's name in downloads (.part until done) */
    char path[AGENT_PATH_MAX];
    char device[IRP_DEVICE_MAX + 1]; /* the peer's device that accepted / offered ("" none) */
    char reason[AGENT_XFER_REASON_MAX + 1];
    uint64_t created_ms, updated_ms;
} agent_xfer_rec;

typedef void (*agent_xfer_rec_fn)(void *ctx, const agent_xfer_rec *r);

/* Inserts or replaces the row (peer, dir, id) with every field of r. */
SC_MUST_CHECK int agent_store_xfer_put(agent_store *st, const agent_xfer_rec *r);
/* Updates state, offset, path, device, reason and updated_ms of (peer, dir, id). */
SC_MUST_CHECK int agent_store_xfer_update(agent_store *st, const agent_xfer_rec *r);
/* The row (peer, dir, id); *found = 0 when absent. */
SC_MUST_CHECK int agent_store_xfer_get(agent_store *st, const char *peer, int dir, const char *id,
                                       agent_xfer_rec *r, int *found);
/*
 * Rows newest first, at most limit (0: all): of peer (NULL: every peer);
 * unfinished only (not done, rejected, failed, cancelled) when `open`.
 */
SC_MUST_CHECK int agent_store_xfer_list(agent_store *st, const char *peer, int open, unsigned limit,
                                        agent_xfer_rec_fn fn, void *ctx);
/* Incoming offers waiting for the user from senders who are not contacts. */
SC_MUST_CHECK int agent_store_xfer_pending_unknown(agent_store *st, uint64_t *n);

#endif
