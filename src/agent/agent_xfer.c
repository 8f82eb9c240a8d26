/*
 * agent_xfer.c - the transfer module (agent_xfer.h): its life, the list of
 * unfinished transfers, the stanzas' dispatch, and the sender's half
 * (offer, stream from the accepted offset within the peer layer's output
 * bound, file-done). The receiver's half is agent_xfer_recv.c; the list
 * and the helpers every file shares are agent_xfer_list.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_hex.h"
#include "agent_xfer_int.h"
#include "sixchat/platform.h"

/*
 * A refused chunk waits for `drained`; this retry is the safety net for a
 * drained that does not come (the peer layer reports it only when a write
 * request completes, not when the kernel took everything at once).
 */
#define RETRY_MS 20

static void schedule(agent_xfer *x, uint64_t ms);

/* ---- life ---- */

static void load_one(void *ctx, const agent_xfer_rec *r)
{
    agent_xfer *x = ctx;
    if (!xf__add(x, r)) xf__log(x, "transfer %s: not resumed (out of memory)", r->id);
}

int agent_xfer_new(const agent_xfer_env *env, agent_xfer **out)
{
    *out = NULL;
    if (!env || !env->loop || !env->st || !env->downloads || !env->send || !env->send_file ||
        !env->emit)
        return SC_ERR_ARG;
    agent_xfer *x = calloc(1, sizeof(*x));
    if (!x) return SC_ERR_NOMEM;
    x->env = *env;
    x->buf = malloc(AGENT_XFER_CHUNK);
    x->dirfd = open(env->downloads, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (!x->buf || x->dirfd < 0 || uv_timer_init(env->loop, &x->pump) != 0) {
        int rc = x->buf ? SC_ERR_IO : SC_ERR_NOMEM;
        if (x->dirfd >= 0) close(x->dirfd);
        free(x->buf);
        free(x);
        return rc;
    }
    x->pump.data = x;
    x->works++; /* the timer, until its close callback */
    /* Every unfinished transfer waits for a session with its peer (resume). */
    if (agent_store_xfer_list(env->st, NULL, 1, 0, load_one, x)) {
        agent_xfer_free(x); /* freed once the loop has closed the timer */
        return SC_ERR_IO;
    }
    for (xf *f = x->list; f; f = f->next)
        if (env->kick && agent_xfer_wants(x, f->r.peer)) env->kick(env->ctx, f->r.peer);
    *out = x;
    return SC_OK;
}

static void pump_closed(uv_handle_t *h)
{
    agent_xfer *x = h->data;
    x->works--;
    xf__release_check(x);
}

void agent_xfer_free(agent_xfer *x)
{
    if (!x) return;
    while (x->list) {
        xf *f = x->list;
        if (f->r.offset != f->saved) xf__save(x, f);
        xf__drop(x, f);
    }
    x->freeing = 1;
    uv_close((uv_handle_t *)&x->pump, pump_closed);
}

int agent_xfer_wants(const agent_xfer *x, const char *peer)
{
    for (const xf *f = x->list; f; f = f->next)
        if (!strcasecmp(f->r.peer, peer) && strcmp(f->r.state, AGENT_XS_SENT) &&
            !(f->r.dir == AGENT_DIR_IN && !strcmp(f->r.state, AGENT_XS_OFFERED)))
            return 1;
    return 0;
}

/* ---- sender ---- */

static int send_offer(agent_xfer *x, xf *f, const char *device)
{
    sc_stanza st = {
        .type = SC_STANZA_FILE_OFFER, .id = f->r.id, .name = f->r.name, .size = f->r.size};
    memcpy(st.sha256, f->r.sha256, 32);
    return x->env.send(x->env.ctx, f->r.peer, device, &st);
}

/* Stops the stream (the session went, or it will restart elsewhere); the row keeps the offset. */
static void out_pause(agent_xfer *x, xf *f)
{
    f->streaming = f->blocked = 0;
    if (f->fd >= 0) {
        close(f->fd);
        f->fd = -1;
    }
    xf__save(x, f);
}

/*
 * Hands chunks to the peer layer until it refuses one (its output is above
 * half of max_output: `drained` resumes) or the file is out, then sends
 * file-done. Each turn reads at most what fits the output bound, in
 * AGENT_XFER_CHUNK reads, so the loop is never held for long.
 */
static void out_pump(agent_xfer *x, xf *f)
{
    f->blocked = 0;
    while (f->streaming && f->r.offset < f->r.size) {
        uint64_t left = f->r.size - f->r.offset;
        size_t want = left < AGENT_XFER_CHUNK ? (size_t)left : AGENT_XFER_CHUNK;
        ssize_t k = pread(f->fd, x->buf, want, (off_t)f->r.offset);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            xf__finish(x, f, AGENT_XS_FAILED, "the file became shorter while it was sent",
                       "transfer.failed");
            return;
        }
        int rc = x->env.send_file(x->env.ctx, f->r.peer, f->r.device, f->r.id, f->r.offset, x->buf,
                                  (size_t)k);
        if (rc == SC_ERR_TOO_LARGE) {
            f->blocked = 1;
            schedule(x, RETRY_MS);
            return;
        }
        if (rc != SC_OK) {
            out_pause(x, f); /* the session is gone: the next one resumes */
            return;
        }
        f->r.offset += (uint64_t)k;
        xf__progress(x, f);
    }
    if (!f->streaming) return;
    sc_stanza done = {.type = SC_STANZA_FILE_DONE, .id = f->r.id};
    memcpy(done.sha256, f->r.sha256, 32);
    if (x->env.send(x->env.ctx, f->r.peer, f->r.device, &done) <= 0) {
        out_pause(x, f);
        return;
    }
    /* Not final: the receiver may still ask for bytes again (a cut before they arrived). */
    snprintf(f->r.state, sizeof(f->r.state), "%s", AGENT_XS_SENT);
    out_pause(x, f);
    xf__emit(x, "transfer.sent", f);
}

static void on_pump(uv_timer_t *t)
{
    agent_xfer *x = t->data;
    xf *next;
    int blocked = 0;
    for (xf *f = x->list; f; f = next) {
        next = f->next;
        if (f->r.dir == AGENT_DIR_OUT && f->streaming && (f->blocked || !f->pumped)) {
            f->pumped = 1;
            out_pump(x, f);
        }
    }
    for (xf *f = x->list; f; f = f->next)
        blocked |= f->r.dir == AGENT_DIR_OUT && f->streaming && f->blocked;
    if (blocked) uv_timer_start(&x->pump, on_pump, RETRY_MS, 0);
}

/* Runs the senders soon, from the loop: never inside a peer-layer callback, whose output the
 * peer layer flushes only when the callback returns. */
static void schedule(agent_xfer *x, uint64_t ms)
{
    if (!x->freeing) uv_timer_start(&x->pump, on_pump, ms, 0);
}

/* (Re)opens the source and checks it is still the file that was offered. */
static int out_open(agent_xfer *x, xf *f)
{
    struct stat sb;
    if (f->fd >= 0) return SC_OK;
    int fd = open(f->r.path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        xf__finish(x, f, AGENT_XS_FAILED, "the file cannot be opened any more", "transfer.failed");
        return SC_ERR_IO;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size != f->r.size) {
        close(fd);
        xf__finish(x, f, AGENT_XS_FAILED, "the file changed size since it was offered",
                   "transfer.failed");
        return SC_ERR_IO;
    }
    f->fd = fd;
    return SC_OK;
}

static void on_accept(agent_xfer *x, const char *peer, const char *device, const sc_stanza *st)
{
    xf *f = xf__find(x, peer, AGENT_DIR_OUT, st->id);
    if (!f) return; /* unknown, or finished (rejected, cancelled): nothing to send */
    if (st->offset > f->r.size) {
        xf__log(x, "transfer %s: %s asked for bytes from %llu of %llu: ignored", f->r.id, peer,
                (unsigned long long)st->offset, (unsigned long long)f->r.size);
        return;
    }
    /* The first device that accepts gets the file (a user's other devices do not). */
    if (f->r.device[0] && strcmp(f->r.device, device)) return;
    /*
     * The receiver asks on its session-up and again when our repeated offer
     * reaches it, by then with what it has received since, and that answer
     * may come after the stream is over. A session delivers in order and
     * loses nothing, so an offset within the bytes this session's stream
     * already carried is on its way (or arrived), not missing: only a new
     * session (accepted_at reset when one ends) or an offset before the
     * stream's start starts it again.
     */
    if (f->accepted_at != UINT64_MAX && st->offset >= f->accepted_at && st->offset <= f->r.offset)
        return;
    int first = !f->r.device[0] || !strcmp(f->r.state, AGENT_XS_OFFERED);
    snprintf(f->r.device, sizeof(f->r.device), "%s", device);
    if (out_open(x, f)) return;
    snprintf(f->r.state, sizeof(f->r.state), "%s", AGENT_XS_SENDING);
    f->r.offset = st->offset;
    f->accepted_at = st->offset;
    f->streaming = 1;
    xf__save(x, f);
    f->pumped = 0;
    xf__emit(x, first ? "transfer.accepted" : "transfer.resumed", f);
    schedule(x, 0);
}

static void on_reject(agent_xfer *x, const char *peer, const sc_stanza *st)
{
    xf *f = xf__find(x, peer, AGENT_DIR_OUT, st->id);
    if (!f) return; /* unknown: ignored (docs/PROTOCOL.md 10.2) */
    char why[AGENT_XFER_REASON_MAX + 1];
    snprintf(why, sizeof(why), "%s", st->reason && st->reason[0] ? st->reason : "declined");
    xf__finish(x, f, AGENT_XS_REJECTED, why, "transfer.rejected");
}

/* ---- hashing the file to offer ---- */

typedef struct send_job {
    char peer[AGENT_USER_MAX + 1];
    char path[AGENT_PATH_MAX];
    agent_xfer_sent_fn done;
    void *done_ctx;
} send_job;

static void hashed(agent_xfer *x, void *arg, int err, uint64_t size, const uint8_t digest[32])
{
    send_job *j = arg;
    char id[33], why[160];
    if (x->freeing) {
        free(j);
        return;
    }
    uint64_t max = xf__setting(x, AGENT_XFER_SET_MAX);
    if (err) {
        snprintf(why, sizeof(why), "%s",
                 err == SC_ERR_ARG ? "not a regular file" : "the file cannot be read");
        j->done(j->done_ctx, err, NULL, why);
        free(j);
        return;
    }
    if (size > max) {
        snprintf(why, sizeof(why), "the file is larger than the limit (%llu MiB, setting %s)",
                 (unsigned long long)(max >> 20), AGENT_XFER_SET_MAX);
        j->done(j->done_ctx, SC_ERR_TOO_LARGE, NULL, why);
        free(j);
        return;
    }
    agent_xfer_rec r;
    memset(&r, 0, sizeof(r));
    const char *base = strrchr(j->path, '/');
    base = base ? base + 1 : j->path;
    /* What the peer sees: one path component, as docs/PROTOCOL.md 10.1 wants. */
    agent_xfer_sanitise(base, r.name);
    if (agent_new_id(id)) {
        j->done(j->done_ctx, SC_ERR_RANDOM, NULL, "no random source");
        free(j);
        return;
    }
    snprintf(r.id, sizeof(r.id), "%s", id);
    snprintf(r.peer, sizeof(r.peer), "%s", j->peer);
    r.dir = AGENT_DIR_OUT;
    r.size = size;
    memcpy(r.sha256, digest, 32);
    snprintf(r.state, sizeof(r.state), "%s", AGENT_XS_OFFERED);
    snprintf(r.path, sizeof(r.path), "%s", j->path);
    r.created_ms = r.updated_ms = xf__now();
    xf *f = NULL;
    if (agent_store_xfer_put(x->env.st, &r) || !(f = xf__add(x, &r))) {
        j->done(j->done_ctx, SC_ERR_IO, NULL, "the agent's store failed");
        free(j);
        return;
    }
    xf__emit(x, "transfer.offered", f);
    j->done(j->done_ctx, SC_OK, r.id, NULL);
    free(j);
    /* To every device up now; otherwise at the next session (kick asks for one). */
    if (send_offer(x, f, NULL) <= 0 && x->env.kick) x->env.kick(x->env.ctx, f->r.peer);
}

int agent_xfer_send(agent_xfer *x, const char *peer, const char *path, agent_xfer_sent_fn done,
                    void *done_ctx)
{
    if (!peer || !strchr(peer, '@') || strlen(peer) > AGENT_USER_MAX || !path || path[0] != '/' ||
        strlen(path) >= AGENT_PATH_MAX || !done)
        return SC_ERR_ARG;
    send_job *j = calloc(1, sizeof(*j));
    if (!j) return SC_ERR_NOMEM;
    snprintf(j->peer, sizeof(j->peer), "%s", peer);
    snprintf(j->path, sizeof(j->path), "%s", path);
    j->done = done;
    j->done_ctx = done_ctx;
    int rc = xf__hash(x, -1, j->path, 0, hashed, j);
    if (rc) free(j);
    return rc;
}

/* ---- the user ---- */

static xf *find_id(agent_xfer *x, const char *id, int dir)
{
    for (xf *f = x->list; f; f = f->next)
        if (!strcmp(f->r.id, id) && (dir < 0 || f->r.dir == dir)) return f;
    return NULL;
}

int agent_xfer_accept(agent_xfer *x, const char *id, const char **why)
{
    xf *f = find_id(x, id, AGENT_DIR_IN);
    *why = NULL;
    if (!f || strcmp(f->r.state, AGENT_XS_OFFERED)) {
        *why = "no incoming offer with this id waits for an answer";
        return SC_ERR_ARG;
    }
    return xf__recv_start(x, f, why);
}

int agent_xfer_reject(agent_xfer *x, const char *id, const char *reason)
{
    xf *f = find_id(x, id, -1);
    if (!f) return SC_ERR_ARG;
    if (f->r.dir == AGENT_DIR_OUT) {
        /* No stanza withdraws an offer (docs/PROTOCOL.md 10.2): we stop sending. */
        xf__finish(x, f, AGENT_XS_CANCELLED, "cancelled by you", "transfer.cancelled");
        return SC_OK;
    }
    sc_stanza st = {.type = SC_STANZA_FILE_REJECT, .id = f->r.id, .reason = reason};
    (void)x->env.send(x->env.ctx, f->r.peer, f->r.device[0] ? f->r.device : NULL, &st);
    if (!strcmp(f->r.state, AGENT_XS_RECEIVING)) xf__part_remove(x, f);
    xf__finish(x, f, AGENT_XS_REJECTED, "rejected by you", "transfer.rejected");
    return SC_OK;
}

/* ---- the peer layer ---- */

void agent_xfer_session_up(agent_xfer *x, const char *peer, const char *device)
{
    xf *next;
    for (xf *f = x->list; f; f = next) {
        next = f->next; /* an entry may finish (and go) below */
        if (strcasecmp(f->r.peer, peer)) continue;
        if (f->r.dir == AGENT_DIR_IN) {
            xf__recv_session_up(x, f, device);
            continue;
        }
        /* Offered or under way: offer again; the receiver answers with its offset. */
        if ((!strcmp(f->r.state, AGENT_XS_OFFERED) || !strcmp(f->r.state, AGENT_XS_SENDING)) &&
            (!f->r.device[0] || !strcmp(f->r.device, device)))
            (void)send_offer(x, f, device);
    }
}

void agent_xfer_session_down(agent_xfer *x, const char *peer, const char *device)
{
    for (xf *f = x->list; f; f = f->next) {
        if (strcasecmp(f->r.peer, peer) || strcmp(f->r.device, device)) continue;
        if (f->r.dir == AGENT_DIR_OUT && f->streaming) out_pause(x, f);
        f->accepted_at = UINT64_MAX; /* the next session's accept starts a stream */
        if (f->r.dir == AGENT_DIR_IN && f->r.offset != f->saved) xf__save(x, f);
        f->asked_gap = 0;
    }
}

void agent_xfer_drained(agent_xfer *x, const char *peer, const char *device)
{
    for (xf *f = x->list; f; f = f->next)
        if (f->r.dir == AGENT_DIR_OUT && f->blocked && !strcasecmp(f->r.peer, peer) &&
            !strcmp(f->r.device, device))
            schedule(x, 0);
}

int agent_xfer_stanza(agent_xfer *x, const char *peer, const char *device, const sc_stanza *st)
{
    switch (st->type) {
    case SC_STANZA_FILE_OFFER:
        xf__recv_offer(x, peer, device, st);
        return 1;
    case SC_STANZA_FILE_ACCEPT:
        on_accept(x, peer, device, st);
        return 1;
    case SC_STANZA_FILE_DONE:
        xf__recv_done(x, peer, device, st);
        return 1;
    case SC_STANZA_FILE_REJECT:
        on_reject(x, peer, st);
        return 1;
    default:
        return 0;
    }
}
