/*
 * fz_oracle.h - the checks a fuzz target makes on what a session does: every
 * event as it arrives, a handshake message fed past the record layer, and
 * the session's state after a stream was fed.
 */
#ifndef FZ_ORACLE_H
#define FZ_ORACLE_H

#include <stddef.h>
#include <stdint.h>

#include "sixchat/sixchat.h"
#include "fz_input.h"

/* What a session reported; every event is checked on arrival. */
typedef struct fz_events {
    int done, stanzas, files, key_updates, closed, errors;
    int err;
    unsigned sum; /* every byte an event points at is read, so ASan sees an overread */
} fz_events;

/* The sc_event_fn: records into ctx (an fz_events) and checks every event. */
void fz_on_event(void *ctx, sc_session *s, const sc_event *ev);

/*
 * Feeds one decrypted handshake message with sc__hs_recv, as on_record
 * would after opening a record, and checks the outcome: success moves the
 * state machine on, failure leaves it where it was and is an alert (peer
 * input never causes a local error other than running out of memory), and
 * the handshake only completes with the one identity that can prove itself
 * here (want_peer).
 */
int fz_hs_msg(sc_session *s, fz_events *ev, const uint8_t *p, size_t n, int plaintext,
              const char *want_peer);

/* Input as handshake messages: one (the whole input), or many, each led by a u16 length. */
void fz_hs_msgs(sc_session *s, fz_events *ev, fz_in *in, int many, const char *want_peer);

/* After feeding a stream: the error is sticky and reported once; an early alert is in clear. */
void fz_check_after_recv(sc_session *s, fz_events *ev, int rc);

#endif
