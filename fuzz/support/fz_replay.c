/*
 * fz_replay.c - see fz_replay.h.
 */
#include "fz_replay.h"

#include <string.h>

#include "sc_record.h"

/* Decrypts the handshake records of a flight with a handshake secret: the plaintexts. */
static void fz_open_flight(const fz_msg *flight, size_t off, int suite,
                           const uint8_t secret[SC_HASH_LEN], fz_msg *out[3])
{
    sc_dir d;
    sc_buf plain;
    memset(&d, 0, sizeof d);
    sc_buf_init(&plain, 0);
    FZ_CHECK(sc_dir_install(&d, suite, secret, 0) == SC_OK);
    for (int i = 0; i < 3; i++) {
        size_t n = fz_frame_len(flight->p + off, flight->len - off), clen;
        uint8_t inner;
        const uint8_t *c;
        FZ_CHECK(n > 0 && flight->p[off] == SC_FRAME_RECORD);
        FZ_CHECK(sc_record_open(&d, flight->p + off, n, &plain, &inner, &c, &clen) == SC_OK);
        FZ_CHECK(inner == SC_INNER_HANDSHAKE);
        fz_msg_set(out[i], c, clen);
        off += n;
    }
    FZ_CHECK(off == flight->len);
    sc_buf_dispose(&plain);
    sc_dir_clear(&d);
}

static void fz_recv_ok(sc_session *s, const uint8_t *p, size_t n, uint64_t seed)
{
    fz_ossl_seed(seed);
    FZ_CHECK(sc_session_recv(s, p, n, FZ_NOW_MS) == SC_OK);
}

/* Runs the variant's handshake once, keeping every flight and plaintext. */
const fz_flights *fz_flights_get(int v)
{
    fz_flights *f = &fz_w.fl[v];
    fz_events ei, er;
    fz_world_init();
    if (fz_w.recorded[v]) return f;
    fz_w.recorded[v] = 1;
    sc_session *i = fz_session(v, SC_ROLE_INITIATOR, &ei);
    sc_session *r = fz_session(v, SC_ROLE_RESPONDER, &er);
    fz_ossl_seed(FZ_SEED_I_START);
    FZ_CHECK(sc_session_start(i) == SC_OK);
    fz_take(i, &f->f1);
    fz_msg_set(&f->ihello, f->f1.p + SC_FRAME_HDR, f->f1.len - SC_FRAME_HDR);

    fz_recv_ok(r, f->f1.p, f->f1.len, FZ_SEED_R_F1);
    fz_take(r, &f->f2);
    f->f2_hello = fz_frame_len(f->f2.p, f->f2.len);
    FZ_CHECK(f->f2_hello > 0 && f->f2.p[0] == SC_FRAME_HELLO);
    fz_msg_set(&f->rhello, f->f2.p + SC_FRAME_HDR, f->f2_hello - SC_FRAME_HDR);
    fz_msg *r3[3] = {&f->rcert, &f->rverify, &f->rfin};
    fz_open_flight(&f->f2, f->f2_hello, r->suite, r->hs->r_hs, r3);

    fz_recv_ok(i, f->f2.p, f->f2.len, FZ_SEED_I_F2);
    FZ_CHECK(ei.done == 1 && sc_session_established(i));
    fz_take(i, &f->f3);
    fz_msg *i3[3] = {&f->icert, &f->iverify, &f->ifin};
    fz_open_flight(&f->f3, 0, r->suite, r->hs->i_hs, i3);

    fz_recv_ok(r, f->f3.p, f->f3.len, FZ_SEED_R_F3);
    FZ_CHECK(er.done == 1 && sc_session_established(r));
    FZ_CHECK(fz_pending(r) == 0);
    f->suite = i->suite;
    memcpy(f->i_ap, i->tx.secret, SC_HASH_LEN);
    memcpy(f->r_ap, r->tx.secret, SC_HASH_LEN);
    FZ_CHECK(memcmp(r->rx.secret, f->i_ap, SC_HASH_LEN) == 0);
    sc_session_free(i);
    sc_session_free(r);
    return f;
}

/* An initiator that has sent flight 1 and waits for the rhello. */
sc_session *fz_initiator_started(int v, fz_events *ev)
{
    const fz_flights *f = fz_flights_get(v);
    sc_session *s = fz_session(v, SC_ROLE_INITIATOR, ev);
    fz_ossl_seed(FZ_SEED_I_START);
    FZ_CHECK(sc_session_start(s) == SC_OK);
    const uint8_t *out;
    size_t n = sc_session_output(s, &out);
    FZ_CHECK(n == f->f1.len && memcmp(out, f->f1.p, n) == 0); /* the replay is exact */
    sc_session_output_consume(s, n);
    FZ_CHECK(s->state == SC_ST_I_WAIT_RHELLO);
    return s;
}

/* An initiator that accepted the real rhello and waits for the responder's cert. */
sc_session *fz_initiator_wait_cert(int v, fz_events *ev)
{
    const fz_flights *f = fz_flights_get(v);
    sc_session *s = fz_initiator_started(v, ev);
    fz_recv_ok(s, f->f2.p, f->f2_hello, FZ_SEED_I_F2);
    FZ_CHECK(s->state == SC_ST_I_WAIT_CERT && fz_pending(s) == 0);
    return s;
}

/* A responder that took flight 1, sent flight 2 and waits for the initiator's cert. */
sc_session *fz_responder_wait_cert(int v, fz_events *ev)
{
    const fz_flights *f = fz_flights_get(v);
    sc_session *s = fz_session(v, SC_ROLE_RESPONDER, ev);
    fz_recv_ok(s, f->f1.p, f->f1.len, FZ_SEED_R_F1);
    const uint8_t *out;
    size_t n = sc_session_output(s, &out);
    FZ_CHECK(n == f->f2.len && memcmp(out, f->f2.p, n) == 0);
    sc_session_output_consume(s, n);
    FZ_CHECK(s->state == SC_ST_R_WAIT_CERT);
    return s;
}

/* A session of either role with the handshake done, in the recorded state. */
sc_session *fz_established(int v, sc_role role, fz_events *ev)
{
    const fz_flights *f = fz_flights_get(v);
    sc_session *s;
    if (role == SC_ROLE_RESPONDER) {
        s = fz_responder_wait_cert(v, ev);
        fz_recv_ok(s, f->f3.p, f->f3.len, FZ_SEED_R_F3);
        FZ_CHECK(fz_pending(s) == 0);
    } else {
        s = fz_initiator_started(v, ev);
        fz_recv_ok(s, f->f2.p, f->f2.len, FZ_SEED_I_F2);
        const uint8_t *out;
        size_t n = sc_session_output(s, &out);
        FZ_CHECK(n == f->f3.len && memcmp(out, f->f3.p, n) == 0);
        sc_session_output_consume(s, n);
    }
    FZ_CHECK(ev->done == 1 && sc_session_established(s));
    FZ_CHECK(memcmp(s->tx.secret, role == SC_ROLE_INITIATOR ? f->i_ap : f->r_ap, SC_HASH_LEN) == 0);
    return s;
}
