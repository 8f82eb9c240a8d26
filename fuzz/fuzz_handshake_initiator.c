/*
 * fuzz_handshake_initiator.c - the initiator's side of the handshake
 * (sc_handshake.c: on_rhello, on_cert, on_verify, on_i_finished and the
 * certificate policy of sc_cert.c), with bob@example.org as the expected
 * peer.
 *
 * Input: one mode byte, then the payload.
 *   mode & 3 == 0: raw. A fresh initiator has sent flight 1; the payload is
 *     what the responder sent, fed with sc_session_recv (the real flight 2
 *     completes the handshake).
 *   mode & 3 == 1: deep. The initiator has accepted the real rhello and waits
 *     for the responder's <cert>; the payload is one decrypted handshake
 *     message, fed straight to sc__hs_recv(s, .., 0).
 *   mode & 3 == 2: deep, several messages, each led by a u16 length.
 *   mode & 3 == 3: the payload is the rhello itself, fed as the body of a
 *     HELLO frame with sc__hs_recv(s, .., 1): suite, share and list checks.
 *   (mode >> 2) & 3: configuration variant (fuzz_common.h): 1 = the
 *     responder picks P-256 and ChaCha20-Poly1305, 2 = key transport (we
 *     know bob's RSA certificate ahead and it must be the one presented),
 *     3 = 0.
 *
 * Oracles: those of fuzz_common.h, the handshake only completing with
 * bob@example.org, and an accepted rhello installing both handshake keys
 * with a suite we offered.
 */
#include "fuzz_common.h"

/* Handwritten rhellos: a fixed random, then suite, sigs and share. */
#define RHELLO_HEAD "<rhello v=\"1\" r=\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\" "
#define X25519_SHARE "<share g=\"x25519\">3dLN/CH7TSh6O73ScJp263VlAJEkpPp0vL7YHzvyQBw=</share>"

static void write_seeds(const char *dir)
{
    const fz_flights *f0 = fz_flights_get(0), *f1 = fz_flights_get(1), *f2 = fz_flights_get(2);
    const fz_bad_certs *bad = fz_bad_certs_get();
    sc_buf b;

    fz_seed_bytes(dir, "raw_f2", 0, f0->f2.p, f0->f2.len);
    fz_seed_bytes(dir, "raw_v1_f2", 4, f1->f2.p, f1->f2.len);
    fz_seed_bytes(dir, "raw_rhello_only", 0, f0->f2.p, f0->f2_hello);
    fz_seed_bytes(dir, "raw_v2_kt_f2", 8, f2->f2.p, f2->f2.len);
    fz_seed_begin(&b, 0);
    sc_buf_put(&b, f0->f2.p, f0->f2.len);
    b.data[1 + f0->f2_hello + 40] ^= 0x80; /* inside the first record */
    fz_seed(dir, "raw_f2_flipped", &b);

    fz_seed_bytes(dir, "deep_rcert", 1, f0->rcert.p, f0->rcert.len);
    const struct {
        const char *name;
        const fz_cert *c[2];
        size_t n;
    } certs[] = {
        {"deep_cert_identity_mismatch", {&fz_w.alice}, 1}, /* we expect bob */
        {"deep_cert_expired", {&bad->expired}, 1},
        {"deep_cert_unknown_ca", {&bad->evil_bob, &bad->evil_root}, 2},
    };
    for (size_t i = 0; i < sizeof certs / sizeof certs[0]; i++) {
        fz_seed_begin(&b, 1);
        fz_seed_certmsg(&b, certs[i].c, certs[i].n);
        fz_seed(dir, certs[i].name, &b);
    }
    const struct {
        const char *name;
        int mode;
        const fz_msg *m[3];
    } seqs[] = {
        {"deep_seq_full", 2, {&f0->rcert, &f0->rverify, &f0->rfin}},
        {"deep_seq_v2_full", 2 | 8, {&f2->rcert, &f2->rverify, &f2->rfin}},
        {"deep_seq_bad_finished", 2, {&f0->rcert, &f0->rverify, &f0->ifin}},
    };
    for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
        fz_seed_begin(&b, seqs[i].mode);
        for (size_t k = 0; k < 3; k++)
            fz_seed_msg(&b, seqs[i].m[k]);
        fz_seed(dir, seqs[i].name, &b);
    }

    fz_seed_bytes(dir, "rhello_real", 3, f0->rhello.p, f0->rhello.len);
    fz_seed_bytes(dir, "rhello_v1_real", 7, f1->rhello.p, f1->rhello.len);
    fz_seed_bytes(dir, "rhello_v2_kt_real", 3 | 8, f2->rhello.p, f2->rhello.len);
    /* P-256 and ChaCha20-Poly1305: both offered in variant 0 too. */
    fz_seed_bytes(dir, "rhello_v1_in_v0", 3, f1->rhello.p, f1->rhello.len);
    static const struct {
        const char *name, *xml;
    } rhellos[] = {
        {"rhello_kt", RHELLO_HEAD "suite=\"aes-256-gcm\" sigs=\"ecdsa-p256-sha256\" kex=\"kt\"/>"},
        {"rhello_unknown_suite",
         RHELLO_HEAD "suite=\"aes-128-gcm\" sigs=\"ecdsa-p256-sha256\">" X25519_SHARE "</rhello>"},
        {"rhello_sigs_ed25519_only",
         RHELLO_HEAD "suite=\"aes-256-gcm\" sigs=\"ed25519\">" X25519_SHARE "</rhello>"},
        {"rhello_x25519_zero",
         RHELLO_HEAD "suite=\"aes-256-gcm\" sigs=\"ecdsa-p256-sha256\"><share "
                     "g=\"x25519\">AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=</share></rhello>"},
    };
    for (size_t i = 0; i < sizeof rhellos / sizeof rhellos[0]; i++)
        fz_seed_bytes(dir, rhellos[i].name, 3, rhellos[i].xml, strlen(rhellos[i].xml));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_events ev;
    fz_in in = {data, size};
    sc_session *s;
    const char *seeds = fz_seeds_dir();
    if (seeds) write_seeds(seeds);
    if (size < 1) return 0;
    uint8_t mode = fz_u8(&in);
    int v = ((mode >> 2) & 3) % FZ_VARIANTS;
    fz_world_init();
    fz_ossl_seed(FZ_SEED_INPUT);
    switch (mode & 3) {
    case 0: {
        s = fz_initiator_started(v, &ev);
        fz_ossl_seed(FZ_SEED_I_F2);
        int rc = sc_session_recv(s, in.p, in.len, FZ_NOW_MS);
        fz_check_after_recv(s, &ev, rc);
        if (sc_session_established(s))
            FZ_CHECK(strcmp(sc_session_peer_id(s), "bob@example.org") == 0);
        break;
    }
    case 1:
    case 2:
        s = fz_initiator_wait_cert(v, &ev);
        fz_ossl_seed(FZ_SEED_I_F2);
        fz_hs_msgs(s, &ev, &in, (mode & 3) == 2, "bob@example.org");
        break;
    default: {
        s = fz_initiator_started(v, &ev);
        fz_ossl_seed(FZ_SEED_I_F2);
        if (fz_hs_msg(s, &ev, in.p, in.len, 1, "bob@example.org") == SC_OK) {
            FZ_CHECK(s->state == SC_ST_I_WAIT_CERT && s->tx.active && s->rx.active);
            FZ_CHECK(s->suite == SC_SUITE_AES_256_GCM || s->suite == SC_SUITE_CHACHA20_POLY1305);
        }
        break;
    }
    }
    sc_session_free(s);
    return 0;
}
