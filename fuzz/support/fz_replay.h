/*
 * fz_replay.h - one real in-memory handshake per variant, recorded once
 * (fz_flights_get), and helpers that bring a fresh session to a given
 * handshake state by feeding it the recorded flights: sessions cannot be
 * cloned, but the same flights with the same seeds give the same state,
 * which the helpers check (FZ_CHECK) every time.
 */
#ifndef FZ_REPLAY_H
#define FZ_REPLAY_H

#include "fz_world.h"

/* Runs the variant's handshake once, keeping every flight and plaintext. */
const fz_flights *fz_flights_get(int v);

/* An initiator that has sent flight 1 and waits for the rhello. */
sc_session *fz_initiator_started(int v, fz_events *ev);

/* An initiator that accepted the real rhello and waits for the responder's cert. */
sc_session *fz_initiator_wait_cert(int v, fz_events *ev);

/* A responder that took flight 1, sent flight 2 and waits for the initiator's cert. */
sc_session *fz_responder_wait_cert(int v, fz_events *ev);

/* A session of either role with the handshake done, in the recorded state. */
sc_session *fz_established(int v, sc_role role, fz_events *ev);

#endif
