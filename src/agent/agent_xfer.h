/*
 * agent_xfer.h - file transfers of the user agent (issue 8, "Files";
 * docs/PROTOCOL.md 10.2 for the stanzas, docs/AGENT-API.md 4.9 for what a
 * client sees).
 *
 * Both sides of a transfer, as one module on the agent's libuv loop:
 *   - sender: `agent_xfer_send` hashes the file (SHA-256, on the thread
 *     pool), records the transfer, and offers it (`file-offer` id, name,
 *     size, sha256) to every up session of the peer. The first device that
 *     answers `file-accept` gets the bytes from the offset it asked for, in
 *     bounded chunks, as fast as the peer layer's output buffer allows (a
 *     refused chunk waits for `drained`), then `file-done`;
 *   - receiver: an offer from a contact up to the auto-accept size is
 *     accepted at once; any other offer waits for the user (`accept`,
 *     `reject`), and offers from non-contacts are capped. Bytes go to
 *     `NAME.part` in the downloads directory (opened relative to the
 *     directory's descriptor, O_NOFOLLOW, O_EXCL when new); when every byte
 *     is there, the file is hashed on the thread pool and, only when the
 *     digest is the offered one, linked to its final name (never replacing
 *     a file) and the .part removed. A bad digest removes the .part, fails
 *     the transfer, and tells the sender with `file-reject`;
 *   - resume: whenever a session with the peer comes up, the sender offers
 *     its unfinished transfers again and the receiver asks for each of its
 *     unfinished ones from the size of its .part (`file-accept` offset), so a
 *     cut connection or a restart of either agent costs only the bytes in
 *     flight. Progress is kept in the store (agent_store_xfer.c).
 *
 * Everything runs on the loop thread; file reads and writes are bounded
 * chunks (one read of AGENT_XFER_CHUNK, one write of a record's bytes), and
 * whole-file hashing runs on libuv's thread pool.
 */
#ifndef AGENT_XFER_H
#define AGENT_XFER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "agent_store.h"
#include "agent_store_xfer.h"
#include "agent_xfer_defs.h"
#include "sixchat/error.h"
#include "sixchat/stanza.h"

/* What the module needs from the agent; every call runs on the loop. */
typedef struct agent_xfer_env {
    uv_loop_t *loop;
    agent_store *st;
    const char *downloads; /* the directory received files go to (exists) */
    void *ctx;             /* passed to every function below */
    /* Sends a stanza to (peer, device); device NULL: every device. > 0 when queued. */
    int (*send)(void *ctx, const char *peer, const char *device, const sc_stanza *st);
    /* agent_peer_send_file: SC_OK, SC_ERR_TOO_LARGE (wait for drained), SC_ERR_STATE. */
    int (*send_file)(void *ctx, const char *peer, const char *device, const char *id,
                     uint64_t offset, const uint8_t *data, size_t len);
    /* Records event type with data (reference taken). */
    void (*emit)(void *ctx, const char *type, json_t *data);
    /* Asks for a session with peer (dial it); NULL: nothing. */
    void (*kick)(void *ctx, const char *peer);
    /* One log line without newline; NULL: stderr. */
    void (*log)(void *ctx, const char *line);
} agent_xfer_env;

/*
 * Creates the module: opens the downloads directory and loads the
 * unfinished transfers from the store. env is copied (its strings must
 * outlive the module). Errors: SC_ERR_IO (the directory or the store),
 * SC_ERR_NOMEM, SC_ERR_ARG.
 */
SC_MUST_CHECK int agent_xfer_new(const agent_xfer_env *env, agent_xfer **out);

/*
 * Stops every transfer (the store keeps where each one was) and frees the
 * module once the thread pool has finished its work: the owner must let
 * the loop run afterwards. NULL is allowed.
 */
void agent_xfer_free(agent_xfer *x);

/* The outcome of agent_xfer_send: err SC_OK and the transfer's id, or why not. */
typedef void (*agent_xfer_sent_fn)(void *ctx, int err, const char *id, const char *why);

/*
 * Offers the file at path (absolute; a regular file, at most the
 * file_max_mb setting) to peer. The hash runs on the thread pool; done
 * is called once, later (never from inside this call), with the
 * transfer's id once it is recorded and offered (or queued for the next
 * session: kick asks for one). Errors through done: SC_ERR_ARG (not a
 * regular file, not absolute, bad peer), SC_ERR_TOO_LARGE, SC_ERR_IO.
 */
SC_MUST_CHECK int agent_xfer_send(agent_xfer *x, const char *peer, const char *path,
                                  agent_xfer_sent_fn done, void *done_ctx);

/*
 * The user accepts the incoming offer id (from any peer: ids are looked up
 * as the API shows them). SC_ERR_ARG: no such waiting offer; SC_ERR_TOO_LARGE:
 * not enough free space; SC_ERR_IO. *why receives a sentence on failure.
 */
SC_MUST_CHECK int agent_xfer_accept(agent_xfer *x, const char *id, const char **why);

/*
 * The user rejects the incoming transfer id (waiting or under way), or
 * cancels the outgoing transfer id. reason (may be NULL) goes to the
 * peer. SC_ERR_ARG: no such unfinished transfer.
 */
SC_MUST_CHECK int agent_xfer_reject(agent_xfer *x, const char *id, const char *reason);

/* ---- from the peer layer (agent_peer callbacks) ---- */
void agent_xfer_session_up(agent_xfer *x, const char *peer, const char *device);
void agent_xfer_session_down(agent_xfer *x, const char *peer, const char *device);
/* A file-offer, file-accept, file-done or file-reject; returns 1 when it was one. */
int agent_xfer_stanza(agent_xfer *x, const char *peer, const char *device, const sc_stanza *st);
void agent_xfer_file_data(agent_xfer *x, const char *peer, const char *device, const char *id,
                          uint64_t offset, const uint8_t *data, size_t len);
void agent_xfer_drained(agent_xfer *x, const char *peer, const char *device);

/* 1 when peer has unfinished transfers either way (worth a session). */
int agent_xfer_wants(const agent_xfer *x, const char *peer);

/* A transfer as the API shows it (docs/AGENT-API.md 4.9); NULL on OOM. */
json_t *agent_xfer_json(const agent_xfer *x, const agent_xfer_rec *r);

/*
 * Sanitises a name offered by a peer into one path component: '/', '\\',
 * C0 and C1 controls and bidirectional controls become '_', leading dots and spaces go, invalid
 * UTF-8 becomes '_', at most AGENT_XFER_NAME_KEEP bytes (cut on a
 * character boundary, keeping a short extension), never empty ("file").
 * out must hold AGENT_XFER_NAME_KEEP + 1 bytes.
 */
void agent_xfer_sanitise(const char *in, char *out);

#endif
