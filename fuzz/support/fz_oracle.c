/*
 * fz_oracle.c - see fz_oracle.h.
 */
#include "fz_oracle.h"

#include <stdio.h>
#include <string.h>

#include "sc_record.h"
#include "sc_session_int.h"
#include "sc_stanza_codec.h"
#include "fz_check.h"

static void fz_touch(fz_events *e, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        e->sum += b[i];
}

void fz_on_event(void *ctx, sc_session *s, const sc_event *ev)
{
    fz_events *e = ctx;
    if (fz_trace())
        fprintf(stderr, "  event %d role %d state %d%s%s\n", (int)ev->type, (int)s->role,
                (int)s->state, ev->type == SC_EV_ERROR ? ": " : "",
                ev->type == SC_EV_ERROR ? sc_strerror(ev->u.err) : "");
    FZ_CHECK(e->errors == 0 && e->closed == 0); /* nothing after the end */
    switch (ev->type) {
    case SC_EV_HANDSHAKE_DONE: {
        FZ_CHECK(e->done++ == 0);
        const char *id = ev->u.handshake.peer_id;
        FZ_CHECK(id != NULL && sc_cert_valid_user_id(id));
        FZ_CHECK(sc_session_peer_id(s) != NULL && strcmp(sc_session_peer_id(s), id) == 0);
        FZ_CHECK(ev->u.handshake.peer_cert != NULL && ev->u.handshake.peer_cert_len > 0);
        fz_touch(e, ev->u.handshake.peer_cert, ev->u.handshake.peer_cert_len);
        fz_touch(e, ev->u.handshake.peer_fingerprint, 32);
        FZ_CHECK(ev->u.handshake.suite && ev->u.handshake.group && ev->u.handshake.sigalg);
        FZ_CHECK(ev->u.handshake.kex == SC_KEX_ECDHE || ev->u.handshake.kex == SC_KEX_KT);
        FZ_CHECK(sc_session_established(s));
        break;
    }
    case SC_EV_STANZA: {
        const sc_stanza *st = ev->u.stanza;
        FZ_CHECK(e->done == 1);
        e->stanzas++;
        /* Pings are answered inside the library and never reported. */
        FZ_CHECK(st->type >= SC_STANZA_MSG && st->type <= SC_STANZA_MSG_REJECT &&
                 st->type != SC_STANZA_PING);
        /* typing alone has no id (PROTOCOL.md 10.2). */
        if (st->type == SC_STANZA_TYPING)
            FZ_CHECK(st->id == NULL && (st->typing == SC_TYPING_ON || st->typing == SC_TYPING_OFF));
        else
            FZ_CHECK(st->id != NULL && sc_stanza_valid_id(st->id, strlen(st->id)));
        if ((st->type == SC_STANZA_FILE_REJECT || st->type == SC_STANZA_MSG_REJECT) &&
            st->reason != NULL)
            FZ_CHECK(strlen(st->reason) <= SC_STANZA_REASON_MAX);
        if (st->type == SC_STANZA_MSG) {
            FZ_CHECK(st->text_len <= SC_STANZA_TEXT_MAX && (st->text || !st->text_len));
            fz_touch(e, st->text, st->text_len);
        }
        if (st->type == SC_STANZA_FILE_OFFER) {
            size_t n = strlen(st->name);
            FZ_CHECK(n > 0 && n <= SC_STANZA_NAME_MAX && strchr(st->name, '/') == NULL);
        }
        break;
    }
    case SC_EV_FILE_DATA:
        FZ_CHECK(e->done == 1);
        e->files++;
        FZ_CHECK(sc_stanza_valid_id(ev->u.file.id, strlen(ev->u.file.id)));
        FZ_CHECK(ev->u.file.len <= UINT64_MAX - ev->u.file.offset);
        fz_touch(e, ev->u.file.data, ev->u.file.len);
        break;
    case SC_EV_KEY_UPDATE:
        FZ_CHECK(e->done == 1 && ev->u.key_update.generation >= 1);
        e->key_updates++;
        break;
    case SC_EV_CLOSED:
        FZ_CHECK(e->done == 1);
        e->closed++;
        break;
    case SC_EV_ERROR:
        e->errors++;
        e->err = ev->u.err;
        FZ_CHECK(ev->u.err != SC_OK && ev->u.err == sc_session_error(s));
        break;
    default:
        FZ_CHECK(!"unknown event type");
    }
}

/* ---- handshake messages fed past the record layer -------------------------- */

/*
 * Feeds one decrypted handshake message with sc__hs_recv, as on_record
 * would after opening a record, and checks the outcome: success moves the
 * state machine on, failure leaves it where it was and is an alert (peer
 * input never causes a local error other than running out of memory), and
 * the handshake only completes with the one identity that can prove itself
 * here (want_peer).
 */
int fz_hs_msg(sc_session *s, fz_events *ev, const uint8_t *p, size_t n, int plaintext,
              const char *want_peer)
{
    sc_state before = s->state;
    int rc = sc__hs_recv(s, p, n, plaintext);
    if (fz_trace())
        fprintf(stderr, "  handshake message in state %d: %s\n", (int)before, sc_strerror(rc));
    if (rc != SC_OK) {
        FZ_CHECK(SC_ERR_IS_ALERT(rc) || rc == SC_ERR_NOMEM);
        FZ_CHECK(s->state == before);
        return rc;
    }
    FZ_CHECK(s->state == before + 1 ||
             (s->state == SC_ST_ESTABLISHED &&
              (before == SC_ST_I_WAIT_FINISHED || before == SC_ST_R_WAIT_FINISHED)));
    if (s->state == SC_ST_ESTABLISHED) {
        FZ_CHECK(ev->done == 1 && s->hs == NULL && sc_session_established(s));
        FZ_CHECK(strcmp(sc_session_peer_id(s), want_peer) == 0);
        FZ_CHECK(s->tx.active && s->rx.active);
    }
    return rc;
}

/* Input as handshake messages: one (the whole input), or many, each led by a u16 length. */
void fz_hs_msgs(sc_session *s, fz_events *ev, fz_in *in, int many, const char *want_peer)
{
    size_t n;
    const uint8_t *p;
    if (!many) {
        p = fz_bytes(in, in->len, &n);
        (void)fz_hs_msg(s, ev, p, n, 0, want_peer);
        return;
    }
    while (in->len > 0) {
        p = fz_bytes(in, fz_u16(in), &n);
        if (fz_hs_msg(s, ev, p, n, 0, want_peer) != SC_OK) break;
    }
}

/* After feeding a stream: the error is sticky and reported once; an early alert is in clear. */
void fz_check_after_recv(sc_session *s, fz_events *ev, int rc)
{
    FZ_CHECK(rc == sc_session_error(s) && ev->errors == (rc != SC_OK));
    if (rc != SC_OK) {
        FZ_CHECK(ev->err == rc && !sc_session_established(s) && s->hs == NULL);
        FZ_CHECK(sc_session_recv(s, (const uint8_t *)"x", 1, FZ_NOW_MS) == rc);
    }
    if (SC_ERR_IS_ALERT(rc) && !s->tx.active) {
        const uint8_t *p;
        size_t n = sc_session_output(s, &p);
        const uint8_t want[5] = {SC_FRAME_ALERT, 0, 0, 1, (uint8_t)SC_ERR_ALERT_CODE(rc)};
        FZ_CHECK(n >= 5 && memcmp(p + n - 5, want, 5) == 0);
    }
}
