/*
 * agent_xfer_int.h - what the transfer module's files share
 * (agent_xfer.c: the module, the sender and the stanzas' dispatch;
 * agent_xfer_recv.c: the receiver; agent_xfer_file.c: names, the
 * downloads directory and hashing on the thread pool; agent_xfer_list.c:
 * the list and the shared helpers). Calls go one way, in that order.
 * Not for other modules.
 */
#ifndef AGENT_XFER_INT_H
#define AGENT_XFER_INT_H

#include "agent_xfer.h"

/* One unfinished transfer, as the loop drives it (its row, plus what runs now). */
typedef struct xf {
    struct xf *next;
    agent_xfer_rec r;
    int fd;               /* out: the source; in: the .part; -1 when closed */
    int streaming;        /* out: bytes go to (peer, r.device) now */
    int blocked;          /* out: a chunk was refused: waits for drained */
    int pumped;           /* out: the stream has run since its accept */
    uint64_t accepted_at; /* out: the offset of the accept the stream started from */
    uint64_t saved;       /* the offset last written to the store */
    uint64_t progress_ms; /* loop time of the last progress event */
    int verifying;        /* in: the digest is being computed on the pool */
    int asked_gap;        /* in: a file-accept was sent again for missing bytes */
    int busy;             /* pool work refers to this entry */
    int dead;             /* out of the list; freed when the work ends */
} xf;

struct agent_xfer {
    agent_xfer_env env;
    int dirfd; /* the downloads directory */
    xf *list;
    int works;       /* thread-pool jobs under way */
    int freeing;     /* agent_xfer_free was called */
    uint8_t *buf;    /* AGENT_XFER_CHUNK bytes for the sender's reads */
    uv_timer_t pump; /* runs the senders outside the peer layer's callbacks */
};

/* ---- agent_xfer_list.c (the bottom: calls none of the other files) ---- */
void xf__log(agent_xfer *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint64_t xf__now(void);
/* The entry (peer, dir, id) of the list, or NULL. */
xf *xf__find(agent_xfer *x, const char *peer, int dir, const char *id);
/* Writes the row (updated_ms now); logs a failure. */
void xf__save(agent_xfer *x, xf *f);
/* Emits type with the transfer as data. */
void xf__emit(agent_xfer *x, const char *type, xf *f);
/* A progress event at most every second, and the row every few MiB. */
void xf__progress(agent_xfer *x, xf *f);
/* Takes f out of the list; frees it now, or when its pool work ends. */
void xf__drop(agent_xfer *x, xf *f);
/* Moves f to a final state with reason, emits type, closes and drops it. */
void xf__finish(agent_xfer *x, xf *f, const char *state, const char *reason, const char *type);
/* Adds a copy of r to the list; NULL on OOM. */
xf *xf__add(agent_xfer *x, const agent_xfer_rec *r);
/* Frees the module once agent_xfer_free was called and no pool work is left. */
void xf__release_check(agent_xfer *x);
/* Reads a setting in MiB as bytes. */
uint64_t xf__setting(agent_xfer *x, const char *key);
/* Lowercase hex of a digest. */
void xf__hex(const uint8_t d[32], char out[65]);

/* ---- agent_xfer_recv.c ---- */
void xf__recv_offer(agent_xfer *x, const char *peer, const char *device, const sc_stanza *st);
void xf__recv_done(agent_xfer *x, const char *peer, const char *device, const sc_stanza *st);
void xf__recv_session_up(agent_xfer *x, xf *f, const char *device);
/* Starts receiving the waiting offer f (the user's or the automatic accept). */
int xf__recv_start(agent_xfer *x, xf *f, const char **why);

/* ---- agent_xfer_file.c ---- */
/*
 * Creates NAME.part (or "NAME (N).part") for f in the downloads directory
 * with O_EXCL, where neither it nor NAME exists yet; f->r.path gets the
 * .part's name and f->fd the descriptor.
 */
int xf__part_create(agent_xfer *x, xf *f);
/* Opens f's existing .part (O_NOFOLLOW, a regular file); -1 when it is gone. */
int xf__part_open(agent_xfer *x, xf *f);
/* Links the verified .part to a free final name and removes the .part; f->r.path gets it. */
int xf__part_finish(agent_xfer *x, xf *f);
/* Removes f's .part (a failed or rejected transfer). */
void xf__part_remove(agent_xfer *x, xf *f);
/* Bytes free for an unprivileged user on the downloads file system. */
uint64_t xf__disk_free(agent_xfer *x);

/* SHA-256 of the first size bytes of fd (or of the file at path when fd < 0), on the pool. */
typedef void (*xf_hash_fn)(agent_xfer *x, void *arg, int err, uint64_t size,
                           const uint8_t digest[32]);
int xf__hash(agent_xfer *x, int fd, const char *path, uint64_t size, xf_hash_fn fn, void *arg);

#endif
