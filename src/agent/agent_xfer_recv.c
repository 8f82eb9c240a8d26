/*
 * agent_xfer_recv.c - the receiver's half of a transfer (agent_xfer.h):
 * deciding on an offer (automatic from contacts up to the size setting,
 * otherwise the user's; limits on size, free space and offers from
 * strangers), asking for bytes from the size of the .part (a new transfer,
 * a resumed one, a gap), writing them, and keeping the file only when its
 * SHA-256 is the one offered (docs/PROTOCOL.md 10.2: "A receiver SHOULD
 * check the digest before it treats a file as complete").
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_xfer_int.h"

static void send_reject(agent_xfer *x, const char *peer, const char *device, const char *id,
                        const char *reason)
{
    sc_stanza st = {.type = SC_STANZA_FILE_REJECT, .id = id, .reason = reason};
    (void)x->env.send(x->env.ctx, peer, device && device[0] ? device : NULL, &st);
}

/* An offer refused before it was recorded: the user still hears of it. */
static void refused(agent_xfer *x, const char *peer, const char *device, const sc_stanza *st,
                    const char *reason)
{
    char name[AGENT_XFER_NAME_KEEP + 1];
    agent_xfer_sanitise(st->name, name);
    send_reject(x, peer, device, st->id, reason);
    json_t *d = json_pack("{s:s,s:s,s:s,s:I,s:s}", "id", st->id, "peer", peer, "name", name, "size",
                          (json_int_t)st->size, "reason", reason);
    if (d) x->env.emit(x->env.ctx, "transfer.refused", d);
}

/* The .part open, its size as the offset (after a restart it is the truth: bytes are written
 * before the row is). A .part that went away starts the transfer again from zero. */
static int part_ready(agent_xfer *x, xf *f)
{
    struct stat sb;
    if (f->fd >= 0) return SC_OK;
    if (xf__part_open(x, f) == SC_OK && fstat(f->fd, &sb) == 0) {
        uint64_t have = (uint64_t)sb.st_size;
        /* Longer than the file: not ours to trust; start it again. */
        if (have > f->r.size && ftruncate(f->fd, 0) == 0) have = 0;
        if (have > f->r.size) have = f->r.size;
        f->r.offset = have;
        return SC_OK;
    }
    if (f->fd >= 0) {
        close(f->fd);
        f->fd = -1;
    }
    xf__log(x, "transfer %s: its .part is gone: starting again from 0", f->r.id);
    if (xf__part_create(x, f)) {
        xf__finish(x, f, AGENT_XS_FAILED, "the downloads directory refused the file",
                   "transfer.failed");
        return SC_ERR_IO;
    }
    f->r.offset = 0;
    xf__save(x, f);
    return SC_OK;
}

static void verified(agent_xfer *x, void *arg, int err, uint64_t size, const uint8_t d[32])
{
    xf *f = arg;
    (void)size;
    f->busy--;
    f->verifying = 0;
    if (f->dead) {
        if (!f->busy) {
            if (f->fd >= 0) close(f->fd);
            free(f);
        }
        return;
    }
    if (err) {
        xf__log(x, "transfer %s: the received file cannot be read back to check it", f->r.id);
        xf__finish(x, f, AGENT_XS_FAILED, "the received file cannot be read back",
                   "transfer.failed");
        return;
    }
    if (CRYPTO_memcmp(d, f->r.sha256, 32) != 0) {
        /* Nothing of it is kept: no final file, no .part (a new offer starts afresh). */
        xf__part_remove(x, f);
        send_reject(x, f->r.peer, f->r.device, f->r.id,
                    "the bytes received do not have the SHA-256 offered");
        xf__finish(x, f, AGENT_XS_FAILED,
                   "the bytes received do not have the SHA-256 offered: discarded",
                   "transfer.failed");
        return;
    }
    if (f->fd >= 0) {
        close(f->fd);
        f->fd = -1;
    }
    if (xf__part_finish(x, f)) {
        xf__finish(x, f, AGENT_XS_FAILED, "the verified file could not be given its name",
                   "transfer.failed");
        return;
    }
    xf__finish(x, f, AGENT_XS_DONE, NULL, "transfer.done");
}

static void verify(agent_xfer *x, xf *f)
{
    if (f->verifying || part_ready(x, f)) return;
    f->verifying = 1;
    f->busy++;
    if (xf__hash(x, f->fd, NULL, f->r.size, verified, f)) {
        f->verifying = 0;
        f->busy--;
        xf__log(x, "transfer %s: cannot check the file now; at the next session", f->r.id);
    }
}

/* Asks the sender for the bytes from what the .part holds, or checks a complete one. */
static void ask(agent_xfer *x, xf *f)
{
    if (f->verifying || part_ready(x, f)) return;
    if (f->r.offset >= f->r.size) {
        verify(x, f);
        return;
    }
    sc_stanza st = {.type = SC_STANZA_FILE_ACCEPT, .id = f->r.id, .offset = f->r.offset};
    (void)x->env.send(x->env.ctx, f->r.peer, f->r.device[0] ? f->r.device : NULL, &st);
}

int xf__recv_start(agent_xfer *x, xf *f, const char **why)
{
    *why = NULL;
    if (xf__disk_free(x) < f->r.size + AGENT_XFER_DISK_MARGIN) {
        *why = "not enough free space in the downloads directory";
        return SC_ERR_TOO_LARGE;
    }
    if (xf__part_create(x, f)) {
        *why = "the downloads directory refused the file (see the agent's log)";
        return SC_ERR_IO;
    }
    snprintf(f->r.state, sizeof(f->r.state), "%s", AGENT_XS_RECEIVING);
    f->r.offset = 0;
    xf__save(x, f);
    xf__emit(x, "transfer.accepted", f);
    ask(x, f);
    return SC_OK;
}

void xf__recv_session_up(agent_xfer *x, xf *f, const char *device)
{
    if (strcmp(f->r.state, AGENT_XS_RECEIVING)) return;
    if (f->r.device[0] && strcmp(f->r.device, device)) return;
    f->asked_gap = 0;
    ask(x, f);
}

/* A transfer from peer that finished earlier: answer its offer as before. */
static int answer_finished(agent_xfer *x, const char *peer, const char *device, const char *id)
{
    agent_xfer_rec r;
    int found = 0;
    if (agent_store_xfer_get(x->env.st, peer, AGENT_DIR_IN, id, &r, &found) || !found) return 0;
    if (!strcmp(r.state, AGENT_XS_DONE)) {
        /* We have it all: the sender has nothing to send but file-done. */
        sc_stanza st = {.type = SC_STANZA_FILE_ACCEPT, .id = id, .offset = r.size};
        (void)x->env.send(x->env.ctx, peer, device, &st);
    } else {
        send_reject(x, peer, device, id, r.reason[0] ? r.reason : "declined");
    }
    return 1;
}

void xf__recv_offer(agent_xfer *x, const char *peer, const char *device, const sc_stanza *st)
{
    xf *f = xf__find(x, peer, AGENT_DIR_IN, st->id);
    if (f) {
        /* Offered again (a new session): resume from the .part, or keep waiting for the user. */
        if (!strcmp(f->r.state, AGENT_XS_RECEIVING)) xf__recv_session_up(x, f, device);
        return;
    }
    if (answer_finished(x, peer, device, st->id)) return;
    agent_contact c;
    int contact = 0;
    if (agent_store_contact_get(x->env.st, peer, &c, &contact)) return;
    if (contact && c.blocked) {
        refused(x, peer, device, st, "declined");
        return;
    }
    uint64_t max = xf__setting(x, AGENT_XFER_SET_MAX);
    if (st->size > max) {
        char why[128];
        snprintf(why, sizeof(why), "the file is larger than this agent accepts (%llu MiB)",
                 (unsigned long long)(max >> 20));
        refused(x, peer, device, st, why);
        return;
    }
    uint64_t waiting = 0;
    if (!contact) {
        /* A stranger's offers cost a row each until the user answers: a bounded number. */
        if (agent_store_xfer_pending_unknown(x->env.st, &waiting)) return;
        if (waiting >= AGENT_XFER_PENDING_UNKNOWN_MAX) {
            refused(x, peer, device, st, "too many offers are waiting for an answer; try later");
            return;
        }
    }
    agent_xfer_rec r;
    memset(&r, 0, sizeof(r));
    snprintf(r.id, sizeof(r.id), "%s", st->id);
    snprintf(r.peer, sizeof(r.peer), "%s", peer);
    r.dir = AGENT_DIR_IN;
    agent_xfer_sanitise(st->name, r.name);
    r.size = st->size;
    memcpy(r.sha256, st->sha256, 32);
    snprintf(r.state, sizeof(r.state), "%s", AGENT_XS_OFFERED);
    snprintf(r.device, sizeof(r.device), "%s", device);
    r.created_ms = r.updated_ms = xf__now();
    if (agent_store_xfer_put(x->env.st, &r) || !(f = xf__add(x, &r))) {
        xf__log(x, "transfer %s from %s: not recorded (store failed)", st->id, peer);
        return;
    }
    const char *why = NULL;
    if (contact && st->size <= xf__setting(x, AGENT_XFER_SET_AUTO)) {
        xf__emit(x, "transfer.offered", f);
        if (xf__recv_start(x, f, &why) == SC_OK) return;
        snprintf(f->r.reason, sizeof(f->r.reason), "not accepted automatically: %s", why);
        xf__save(x, f);
    }
    /* The user decides: `sixchat transfers`, `accept`, `reject`. */
    json_t *d = agent_xfer_json(x, &f->r);
    if (d) {
        json_object_set_new(d, "ask", json_true());
        x->env.emit(x->env.ctx, why ? "transfer.ask" : "transfer.offered", d);
    }
}

void xf__recv_done(agent_xfer *x, const char *peer, const char *device, const sc_stanza *st)
{
    xf *f = xf__find(x, peer, AGENT_DIR_IN, st->id);
    if (!f || strcmp(f->r.state, AGENT_XS_RECEIVING) || strcmp(f->r.device, device)) return;
    if (CRYPTO_memcmp(st->sha256, f->r.sha256, 32) != 0) {
        xf__part_remove(x, f);
        send_reject(x, peer, device, f->r.id, "file-done names another SHA-256 than the offer");
        xf__finish(x, f, AGENT_XS_FAILED,
                   "the sender's final SHA-256 is not the one it offered: discarded",
                   "transfer.failed");
        return;
    }
    /* Everything sent but not everything here (a gap): ask again for the rest. */
    if (f->r.offset < f->r.size) ask(x, f);
}

void agent_xfer_file_data(agent_xfer *x, const char *peer, const char *device, const char *id,
                          uint64_t offset, const uint8_t *data, size_t len)
{
    xf *f = xf__find(x, peer, AGENT_DIR_IN, id);
    /* Bytes for a transfer we did not accept (or stopped) are dropped (docs/PROTOCOL.md 10.2). */
    if (!f || strcmp(f->r.state, AGENT_XS_RECEIVING) || f->verifying ||
        strcmp(f->r.device, device) || part_ready(x, f))
        return;
    uint64_t have = f->r.offset;
    if (offset + len <= have) return; /* already here (sent again after a re-accept) */
    if (offset > have) {
        /* Missing bytes before these: ask once for the rest from what we have. */
        if (!f->asked_gap) {
            f->asked_gap = 1;
            ask(x, f);
        }
        return;
    }
    data += have - offset;
    len -= (size_t)(have - offset);
    if (len > f->r.size - have) {
        xf__part_remove(x, f);
        send_reject(x, peer, device, f->r.id, "more bytes than offered");
        xf__finish(x, f, AGENT_XS_FAILED, "the sender sent more bytes than it offered",
                   "transfer.failed");
        return;
    }
    /* One record's bytes (at most 16 KiB) per write: bounded work on the loop. */
    while (len > 0) {
        ssize_t k = pwrite(f->fd, data, len, (off_t)f->r.offset);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            char why[160];
            snprintf(why, sizeof(why), "writing the file failed: %s", strerror(errno));
            xf__part_remove(x, f);
            send_reject(x, peer, device, f->r.id, "the receiver could not write the file");
            xf__finish(x, f, AGENT_XS_FAILED, why, "transfer.failed");
            return;
        }
        data += k;
        len -= (size_t)k;
        f->r.offset += (uint64_t)k;
    }
    f->asked_gap = 0;
    xf__progress(x, f);
    if (f->r.offset == f->r.size) verify(x, f);
}
