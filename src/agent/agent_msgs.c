/*
 * agent_msgs.c - messages and the outbox (docs/AGENT-API.md 4):
 * queueing durably, sending what a device has not acknowledged whenever a
 * session with it comes up (so everything without a receipt is sent again
 * after a reconnect), storing incoming messages once (the receiver drops a
 * repeated id), receipts per device, and expiry with a reason.
 */
#include "agent_msgs.h"
#include "agent_hex.h"
#include "agent_msgs_cap.h"
#include "agent_xfer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int msg_send(agent *a, const char *peer, const char *device, const sc_stanza *st)
{
    return a->net_send ? a->net_send(a, peer, device, st) : SC_ERR_STATE;
}

int agent_msg_send(agent *a, const char *peer, const char *text, size_t len, char id[33])
{
    int64_t seq;
    int rc;
    if (!peer || !peer[0] || strlen(peer) > AGENT_USER_MAX || !strchr(peer, '@')) return SC_ERR_ARG;
    if (len == 0) return SC_ERR_ARG;
    if (len > SC_STANZA_TEXT_MAX) return SC_ERR_TOO_LARGE;
    if ((rc = agent_new_id(id))) return rc;
    uint64_t now = agent_now();
    if ((rc = agent_store_msg_queue(a->st, peer, id, text, len, now, now + a->expiry_ms, &seq)))
        return rc;
    json_t *d = json_pack("{s:s,s:s,s:s%,s:I}", "id", id, "peer", peer, "text", text, len, "ts",
                          (json_int_t)now);
    agent_emit(a, "message.queued", d);
    if (a->net_kick) a->net_kick(a, peer);
    return SC_OK;
}

/* A copy of the outbox rows a session must get: taken before sending,
 * because sending changes states in the same tables. */
typedef struct pending {
    struct {
        int64_t seq;
        char id[AGENT_MSGID_MAX + 1];
        char peer[AGENT_USER_MAX + 1];
        uint64_t ts;
        agent_msg_state state;
        char *text;
        size_t len;
    } * v;
    size_t n, cap;
    int oom;
} pending;

static void take(void *ctx, const agent_msg *m)
{
    pending *p = ctx;
    if (p->oom) return;
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 16;
        void *nv = realloc(p->v, cap * sizeof(*p->v));
        if (!nv) {
            p->oom = 1;
            return;
        }
        p->v = nv;
        p->cap = cap;
    }
    char *t = malloc(m->text_len + 1);
    if (!t) {
        p->oom = 1;
        return;
    }
    memcpy(t, m->text, m->text_len);
    t[m->text_len] = '\0';
    p->v[p->n].seq = m->seq;
    snprintf(p->v[p->n].id, sizeof(p->v[p->n].id), "%s", m->id);
    snprintf(p->v[p->n].peer, sizeof(p->v[p->n].peer), "%s", m->peer);
    p->v[p->n].ts = m->ts_ms;
    p->v[p->n].state = m->state;
    p->v[p->n].text = t;
    p->v[p->n].len = m->text_len;
    p->n++;
}

static void pending_free(pending *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i].text);
    free(p->v);
}

void agent_msg_flush(agent *a, const char *peer, const char *device, int only_queued)
{
    pending p = {0};
    /* Only the new ones: reading every message in flight made each send cost O(in flight). */
    int rc = only_queued ? agent_store_outbox_queued(a->st, peer, device, take, &p)
                         : agent_store_outbox_pending(a->st, peer, device, take, &p);
    if (rc || p.oom) {
        fprintf(stderr, "sixchat: outbox of %s not read; it is sent at the next session\n", peer);
        pending_free(&p);
        return;
    }
    uint64_t now = agent_now();
    for (size_t i = 0; i < p.n; i++) {
        if (only_queued && p.v[i].state != AGENT_MSG_QUEUED) continue;
        sc_stanza st = {.type = SC_STANZA_MSG,
                        .id = p.v[i].id,
                        .ts = p.v[i].ts,
                        .text = p.v[i].text,
                        .text_len = p.v[i].len};
        /* In order, on this device's session only: it stops at the first
         * failure, and the rest waits for the next session. */
        if (msg_send(a, peer, device, &st) <= 0) break;
        int changed = 0;
        if (agent_store_msg_set_state(a->st, p.v[i].seq, AGENT_MSG_SENT, now, NULL, &changed))
            continue;
        if (changed)
            agent_emit(a, "message.sent",
                       json_pack("{s:s,s:s,s:s}", "id", p.v[i].id, "peer", peer, "device", device));
    }
    pending_free(&p);
}

void agent_msg_send_new(agent *a, const char *peer, const char (*devs)[IRP_DEVICE_MAX + 1],
                        size_t n_devs)
{
    pending p = {0};
    int failed[IRP_MAX_BINDINGS] = {0};
    if (n_devs > IRP_MAX_BINDINGS) n_devs = IRP_MAX_BINDINGS;
    /* No device's receipts filter "not yet sent anywhere": "" names none. */
    if (agent_store_outbox_queued(a->st, peer, "", take, &p) || p.oom) {
        fprintf(stderr, "sixchat: outbox of %s not read; it is sent at the next session\n", peer);
        pending_free(&p);
        return;
    }
    uint64_t now = agent_now();
    for (size_t i = 0; i < p.n; i++) {
        sc_stanza st = {.type = SC_STANZA_MSG,
                        .id = p.v[i].id,
                        .ts = p.v[i].ts,
                        .text = p.v[i].text,
                        .text_len = p.v[i].len};
        int sent = 0, changed = 0;
        /* Every device gets it; one that failed gets nothing after it (order), until its
         * next session sends everything it has not acknowledged. */
        for (size_t d = 0; d < n_devs; d++) {
            if (failed[d]) continue;
            if (msg_send(a, peer, devs[d], &st) <= 0) {
                failed[d] = 1;
                continue;
            }
            sent = 1;
            agent_emit(
                a, "message.sent",
                json_pack("{s:s,s:s,s:s}", "id", p.v[i].id, "peer", peer, "device", devs[d]));
        }
        if (sent &&
            agent_store_msg_set_state(a->st, p.v[i].seq, AGENT_MSG_SENT, now, NULL, &changed))
            fprintf(stderr, "sixchat: message %s: its state was not saved\n", p.v[i].id);
    }
    pending_free(&p);
}

void agent_msg_session_up(agent *a, const char *peer, const char *device)
{
    /* Everything this device has not acknowledged, again: a receipt may
     * have been lost with the last connection; the receiver drops repeats. */
    agent_msg_flush(a, peer, device, 0);
}

static void send_receipt(agent *a, const char *peer, const char *device, const char *id)
{
    sc_stanza r = {.type = SC_STANZA_RECEIPT, .id = id, .ts = agent_now()};
    (void)msg_send(a, peer, device, &r);
}

typedef struct found_msg {
    int64_t seq;
    agent_msg_state state;
} found_msg;

static void found(void *ctx, const agent_msg *m)
{
    found_msg *f = ctx;
    f->seq = m->seq;
    f->state = m->state;
}

/*
 * A new message from a stranger beyond what we keep from them
 * (agent_msgs_cap.h): 1 when it was refused (msg-reject sent, logged, an
 * event), -1 when the store could not tell (nothing stored, no answer: the
 * sender tries again), 0 to store it.
 */
static int refused(agent *a, const char *peer, const char *device, const sc_stanza *st)
{
    char why[SC_STANZA_REASON_MAX + 1];
    int rc = agent_msg_cap_check(a, peer, st->text_len, why, sizeof(why));
    if (rc <= 0) return rc ? -1 : 0; /* a contact (one lookup), or within the bounds */
    /* A repeat of a message we kept is answered with a receipt, whatever the bound says now. */
    int stored = 0;
    found_msg f;
    if (agent_store_msg_get(a->st, peer, AGENT_DIR_IN, st->id, found, &f, &stored)) return -1;
    if (stored) return 0;
    sc_stanza r = {.type = SC_STANZA_MSG_REJECT, .id = st->id, .reason = why};
    (void)msg_send(a, peer, device, &r);
    fprintf(stderr, "sixchat: message %s from %s refused: %s\n", st->id, peer, why);
    agent_emit(a, "message.refused",
               json_pack("{s:s,s:s,s:s,s:I,s:s}", "id", st->id, "peer", peer, "device", device,
                         "size", (json_int_t)st->text_len, "reason", why));
    return 1;
}

static void on_msg(agent *a, const char *peer, const char *device, const sc_stanza *st)
{
    int64_t seq;
    int dup = 0;
    uint64_t now = agent_now();
    if (refused(a, peer, device, st)) return;
    if (agent_store_msg_receive(a->st, peer, st->id, st->text, st->text_len, st->ts, now, &seq,
                                &dup)) {
        /* Not stored: no receipt, so the sender keeps it and sends it again. */
        return;
    }
    if (!dup)
        agent_emit(a, "message.received",
                   json_pack("{s:s,s:s,s:s,s:s%,s:I,s:I}", "id", st->id, "peer", peer, "device",
                             device, "text", st->text, st->text_len, "ts", (json_int_t)st->ts,
                             "received", (json_int_t)now));
    /* A repeat gets a receipt too: the first one may have been lost in a cut. */
    send_receipt(a, peer, device, st->id);
}

/* The message leaves the outbox once every device we know of acknowledged it. */
static void maybe_done(agent *a, const char *peer, int64_t seq)
{
    char devs[IRP_MAX_BINDINGS][IRP_DEVICE_MAX + 1];
    size_t n = a->net_devices ? a->net_devices(a, peer, devs, IRP_MAX_BINDINGS) : 0;
    for (size_t i = 0; i < n; i++) {
        int has = 0;
        if (agent_store_outbox_has_receipt(a->st, seq, devs[i], &has) || !has) return;
    }
    if (agent_store_outbox_remove(a->st, seq))
        fprintf(stderr, "sixchat: outbox: a delivered message stays queued (store failed)\n");
}

static void on_receipt(agent *a, const char *peer, const char *device, const sc_stanza *st)
{
    found_msg f = {0};
    int ok = 0, changed = 0;
    if (agent_store_msg_get(a->st, peer, AGENT_DIR_OUT, st->id, found, &f, &ok) || !ok)
        return; /* not ours: ignored */
    uint64_t now = agent_now();
    if (agent_store_outbox_receipt(a->st, f.seq, device, now)) return;
    if (agent_store_msg_set_state(a->st, f.seq, AGENT_MSG_DELIVERED, now, NULL, &changed) ==
            SC_OK &&
        changed)
        agent_emit(a, "message.delivered",
                   json_pack("{s:s,s:s,s:s,s:I}", "id", st->id, "peer", peer, "device", device,
                             "ts", (json_int_t)now));
    maybe_done(a, peer, f.seq);
}

/*
 * The peer refused our message st->id (msg-reject, PROTOCOL.md 10.2): it
 * failed, with their reason, and leaves the outbox (not sent again). A
 * message another device already acknowledged stays delivered.
 */
static void on_msg_reject(agent *a, const char *peer, const char *device, const sc_stanza *st)
{
    found_msg f = {0};
    int ok = 0, changed = 0;
    if (agent_store_msg_get(a->st, peer, AGENT_DIR_OUT, st->id, found, &f, &ok) || !ok)
        return; /* not ours: ignored */
    char reason[AGENT_USER_MAX + SC_STANZA_REASON_MAX + 32];
    snprintf(reason, sizeof(reason), "refused by %s%s%s", peer,
             st->reason && st->reason[0] ? ": " : "", st->reason ? st->reason : "");
    if (agent_store_msg_set_state(a->st, f.seq, AGENT_MSG_FAILED, agent_now(), reason, &changed) ||
        !changed)
        return;
    if (agent_store_outbox_remove(a->st, f.seq))
        fprintf(stderr, "sixchat: outbox: a refused message stays queued (store failed)\n");
    agent_emit(a, "message.failed",
               json_pack("{s:s,s:s,s:s,s:s}", "id", st->id, "peer", peer, "device", device,
                         "reason", reason));
}

/* The peer read our messages up to st->id (a read marker, PROTOCOL.md 10.2). */
static void on_read(agent *a, const char *peer, const char *device, const sc_stanza *st)
{
    int count = 0, found = 0;
    if (agent_store_msg_read_upto(a->st, peer, AGENT_DIR_OUT, st->id, agent_now(), &count,
                                  &found) ||
        !found || !count)
        return;
    agent_emit(a, "message.read",
               json_pack("{s:s,s:s,s:s,s:s,s:i}", "peer", peer, "device", device, "dir", "out",
                         "id", st->id, "count", count));
}

int agent_msg_mark_read(agent *a, const char *peer, const char *id, int *count)
{
    char last[AGENT_MSGID_MAX + 1];
    int found = 0, rc;
    *count = 0;
    if (!id) {
        if ((rc = agent_store_msg_last_id(a->st, peer, AGENT_DIR_IN, last, sizeof(last), &found)))
            return rc;
        if (!found) return SC_OK;
        id = last;
    }
    if ((rc = agent_store_msg_read_upto(a->st, peer, AGENT_DIR_IN, id, agent_now(), count, &found)))
        return rc;
    if (!found) return SC_ERR_ARG;
    if (*count)
        agent_emit(
            a, "message.read",
            json_pack("{s:s,s:s,s:s,s:i}", "peer", peer, "dir", "in", "id", id, "count", *count));
    /* The marker goes to the sessions up now, never through the outbox. */
    if (a->read_markers && *count) {
        sc_stanza r = {.type = SC_STANZA_READ, .id = id, .ts = agent_now()};
        (void)msg_send(a, peer, NULL, &r);
    }
    return SC_OK;
}

void agent_msg_stanza(agent *a, const char *peer, const char *device, const sc_stanza *st)
{
    switch (st->type) {
    case SC_STANZA_READ:
        on_read(a, peer, device, st);
        break;
    case SC_STANZA_TYPING:
        agent_api_notify(a->api, "typing",
                         json_pack("{s:s,s:s,s:s}", "peer", peer, "device", device, "state",
                                   st->typing == SC_TYPING_ON ? "on" : "off"));
        break;
    case SC_STANZA_MSG:
        on_msg(a, peer, device, st);
        break;
    case SC_STANZA_RECEIPT:
        on_receipt(a, peer, device, st);
        break;
    case SC_STANZA_MSG_REJECT:
        on_msg_reject(a, peer, device, st);
        break;
    default:
        /* file-offer, -accept, -done, -reject: agent_xfer (pings are the peer layer's) */
        if (a->xfer) (void)agent_xfer_stanza(a->xfer, peer, device, st);
        break;
    }
}

void agent_msg_expire(agent *a)
{
    pending p = {0};
    uint64_t now = agent_now();
    if (agent_store_outbox_expired(a->st, now, take, &p) || p.oom) {
        pending_free(&p);
        return;
    }
    char reason[128];
    snprintf(reason, sizeof(reason), "not delivered within %llu days: the peer was not reachable",
             (unsigned long long)(a->expiry_ms / 86400000ULL));
    for (size_t i = 0; i < p.n; i++) {
        int changed = 0;
        if (agent_store_msg_set_state(a->st, p.v[i].seq, AGENT_MSG_FAILED, now, reason, &changed))
            continue;
        if (agent_store_outbox_remove(a->st, p.v[i].seq)) continue;
        if (changed)
            agent_emit(
                a, "message.failed",
                json_pack("{s:s,s:s,s:s}", "id", p.v[i].id, "peer", p.v[i].peer, "reason", reason));
    }
    pending_free(&p);
}
