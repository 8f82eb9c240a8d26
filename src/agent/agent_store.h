/*
 * agent_store.h - the agent's durable state in one SQLite database
 * (docs/AGENT-API.md 6 describes the schema and its durability).
 *
 * WAL journal, synchronous=NORMAL: a commit is a write() into the WAL, so
 * once a call here has returned, a crash or kill -9 of the agent loses
 * nothing; a power loss may lose the transactions since the last WAL
 * checkpoint (the operating system had them, the disk not yet). No fsync
 * on the event loop's path.
 *
 * Every function returns SC_OK or SC_ERR_IO (SQLite failed: the store logs
 * the message to stderr once), SC_ERR_ARG, SC_ERR_NOMEM. Strings handed to
 * callbacks live only during the callback.
 */
#ifndef AGENT_STORE_H
#define AGENT_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "sixchat/error.h"

typedef struct agent_store agent_store;

/* Message direction. */
enum { AGENT_DIR_OUT = 0, AGENT_DIR_IN = 1 };

/* Message states (the strings are the API's, docs/AGENT-API.md 4). */
typedef enum agent_msg_state {
    AGENT_MSG_QUEUED = 0, /* out: in the outbox, not yet sent to any device */
    AGENT_MSG_SENT,       /* out: sent on a session, no receipt yet */
    AGENT_MSG_DELIVERED,  /* out: a receipt came back */
    AGENT_MSG_READ,       /* out: the peer's read marker covers it; in: we read it */
    AGENT_MSG_FAILED,     /* out: expired or refused; reason says why */
    AGENT_MSG_CANCELLED,  /* out: cancelled by the user from the outbox */
    AGENT_MSG_RECEIVED,   /* in: stored, receipt sent */
} agent_msg_state;

const char *agent_msg_state_name(agent_msg_state s);

/* Opens (creating when missing) the database at path; the file is 0600. */
SC_MUST_CHECK int agent_store_open(const char *path, agent_store **out);
void agent_store_close(agent_store *st);

/* Groups several writes in one transaction (one WAL append). Not nested. */
SC_MUST_CHECK int agent_store_begin(agent_store *st);
SC_MUST_CHECK int agent_store_commit(agent_store *st);
void agent_store_rollback(agent_store *st);

/* ---- settings (identity included: "user", "irp", "ca_fp", ...) ---- */
SC_MUST_CHECK int agent_store_set(agent_store *st, const char *key, const char *value);
/* *found = 0 and buf = "" when the key is not set; SC_ERR_TOO_LARGE when it does not fit. */
SC_MUST_CHECK int agent_store_get(agent_store *st, const char *key, char *buf, size_t cap,
                                  int *found);

/* ---- contacts ---- */
#define AGENT_USER_MAX 254
#define AGENT_NAME_MAX 128
#define AGENT_ADDR_MAX 64 /* "[v6]:port" */

typedef struct agent_contact {
    char user[AGENT_USER_MAX + 1];
    char display[AGENT_NAME_MAX + 1];
    uint8_t fp[32]; /* pinned SHA-256 of the certificate (DER) */
    int has_fp;
    uint8_t new_fp[32]; /* a different certificate seen, waiting for `trust` */
    int has_new_fp;
    int verified; /* the user compared fingerprints (`trust`) */
    int blocked;
    char last_addr[AGENT_ADDR_MAX + 1]; /* last address that worked, "" if none */
    uint64_t added_ms;
} agent_contact;

/* *found = 0 when user is not a contact. */
SC_MUST_CHECK int agent_store_contact_get(agent_store *st, const char *user, agent_contact *c,
                                          int *found);
/* Inserts or replaces every field. */
SC_MUST_CHECK int agent_store_contact_put(agent_store *st, const agent_contact *c);
/* *removed = 1 when there was one. */
SC_MUST_CHECK int agent_store_contact_remove(agent_store *st, const char *user, int *removed);
typedef void (*agent_contact_fn)(void *ctx, const agent_contact *c);
SC_MUST_CHECK int agent_store_contact_list(agent_store *st, agent_contact_fn fn, void *ctx);

/* ---- messages ---- */
#define AGENT_MSGID_MAX 64

typedef struct agent_msg {
    int64_t seq; /* local order (rowid) */
    const char *id;
    const char *peer;
    int dir;
    const char *text;
    size_t text_len;
    uint64_t ts_ms;     /* the sender's timestamp */
    uint64_t stored_ms; /* when this store took it */
    uint64_t delivered_ms;
    uint64_t read_ms;
    agent_msg_state state;
    const char *reason; /* failed: why; "" otherwise */
} agent_msg;
typedef void (*agent_msg_fn)(void *ctx, const agent_msg *m);

/*
 * An outgoing message: the message row and its outbox row in one
 * transaction (durable when this returns). *seq receives its local order.
 */
SC_MUST_CHECK int agent_store_msg_queue(agent_store *st, const char *peer, const char *id,
                                        const char *text, size_t len, uint64_t now_ms,
                                        uint64_t expires_ms, int64_t *seq);

/*
 * An incoming message. *dup = 1 (and nothing stored) when this peer already
 * sent a message with this id: the receiver's half of exactly-once.
 */
SC_MUST_CHECK int agent_store_msg_receive(agent_store *st, const char *peer, const char *id,
                                          const char *text, size_t len, uint64_t ts_ms,
                                          uint64_t now_ms, int64_t *seq, int *dup);

/* The message (peer, dir, id); *found = 0 when absent. */
SC_MUST_CHECK int agent_store_msg_get(agent_store *st, const char *peer, int dir, const char *id,
                                      agent_msg_fn fn, void *ctx, int *found);

/*
 * Moves message seq to state (with its timestamp and reason) when that is
 * forward: queued < sent < delivered < read; failed/cancelled only from
 * queued or sent. *changed = 1 when it moved.
 */
SC_MUST_CHECK int agent_store_msg_set_state(agent_store *st, int64_t seq, agent_msg_state state,
                                            uint64_t now_ms, const char *reason, int *changed);

/*
 * Marks read every message with peer in direction dir up to and including
 * the one with id (by local order): out: queued/sent/delivered -> read (a
 * read marker implies delivery); in: received -> read. *count receives how
 * many changed; *found = 0 when there is no message id.
 */
SC_MUST_CHECK int agent_store_msg_read_upto(agent_store *st, const char *peer, int dir,
                                            const char *id, uint64_t now_ms, int *count,
                                            int *found);

/* The id of the newest message from peer in direction dir; *found = 0 when none. */
SC_MUST_CHECK int agent_store_msg_last_id(agent_store *st, const char *peer, int dir, char *id,
                                          size_t cap, int *found);

/*
 * The last `limit` messages with peer (all peers when NULL), oldest first;
 * with search, only those whose text matches it (FTS5, as a phrase).
 */
SC_MUST_CHECK int agent_store_history(agent_store *st, const char *peer, const char *search,
                                      unsigned limit, agent_msg_fn fn, void *ctx);

/* ---- outbox (per device) ---- */

/* Every message waiting for peer, oldest first (what a new session sends). */
SC_MUST_CHECK int agent_store_outbox_list(agent_store *st, const char *peer, agent_msg_fn fn,
                                          void *ctx);
/*
 * Waiting messages for peer without a receipt from device, oldest first:
 * what goes on a session with that device after every (re)connect.
 */
SC_MUST_CHECK int agent_store_outbox_pending(agent_store *st, const char *peer, const char *device,
                                             agent_msg_fn fn, void *ctx);
/*
 * The same, only those not yet sent to any device (AGENT_MSG_QUEUED): what
 * a new message adds to a session that is up. Read through an index of the
 * queued ones, so its cost does not grow with the messages in flight.
 */
SC_MUST_CHECK int agent_store_outbox_queued(agent_store *st, const char *peer, const char *device,
                                            agent_msg_fn fn, void *ctx);
/* Records a receipt from device for message seq. */
SC_MUST_CHECK int agent_store_outbox_receipt(agent_store *st, int64_t seq, const char *device,
                                             uint64_t now_ms);
/* *has = 1 when device sent a receipt for seq. */
SC_MUST_CHECK int agent_store_outbox_has_receipt(agent_store *st, int64_t seq, const char *device,
                                                 int *has);
/* Takes seq out of the outbox (delivered everywhere, failed or cancelled). */
SC_MUST_CHECK int agent_store_outbox_remove(agent_store *st, int64_t seq);
/* Messages whose expiry is at or before now_ms, oldest first. */
SC_MUST_CHECK int agent_store_outbox_expired(agent_store *st, uint64_t now_ms, agent_msg_fn fn,
                                             void *ctx);
/* Count of messages in the outbox (all peers). */
SC_MUST_CHECK int agent_store_outbox_count(agent_store *st, uint64_t *n);

/*
 * Bytes of text in unread incoming messages (state received) from users
 * who are not contacts: from peer in *peer_bytes, from all of them in
 * *all_bytes (agent_msgs_cap.c).
 */
SC_MUST_CHECK int agent_store_msg_unknown_usage(agent_store *st, const char *peer,
                                                uint64_t *peer_bytes, uint64_t *all_bytes);

/* ---- events (numbered, bounded window) ---- */
typedef struct agent_event_row {
    uint64_t id;
    uint64_t ts_ms;
    const char *type;
    const char *data; /* a JSON object */
} agent_event_row;
typedef int (*agent_event_fn)(void *ctx, const agent_event_row *e); /* non-zero stops */

/* Appends event id (the caller numbers them: last + 1). */
SC_MUST_CHECK int agent_store_event_add(agent_store *st, uint64_t id, uint64_t ts_ms,
                                        const char *type, const char *data);
/* The highest event id kept (0 when none ever was). */
SC_MUST_CHECK int agent_store_event_last(agent_store *st, uint64_t *id);
/* The lowest event id kept (0 when none). */
SC_MUST_CHECK int agent_store_event_first(agent_store *st, uint64_t *id);
/* Events with id > since, in order, at most limit (0: no limit). */
SC_MUST_CHECK int agent_store_event_since(agent_store *st, uint64_t since, unsigned limit,
                                          agent_event_fn fn, void *ctx);
/* Deletes events with id <= last - keep. */
SC_MUST_CHECK int agent_store_event_prune(agent_store *st, uint64_t keep);

#endif
