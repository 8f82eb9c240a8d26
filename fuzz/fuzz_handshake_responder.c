/*
 * fuzz_handshake_responder.c - the responder's side of the handshake
 * (sc_handshake.c: on_ihello, on_cert, on_verify, check_finished and the
 * certificate policy of sc_cert.c).
 *
 * Input: one mode byte, then the payload.
 *   mode & 3 == 0, 3: raw. The payload is what the initiator sent, fed to a
 *     fresh responder with sc_session_recv. The OpenSSL RNG is reseeded as
 *     in the recorded handshake, so the real flight 1 + flight 3 completes.
 *   mode & 3 == 1: deep. A fresh responder is replayed to the point where it
 *     has sent flight 2 and waits for flight 3; the payload is then one
 *     decrypted handshake message, fed straight to sc__hs_recv(s, .., 0).
 *     This reaches the <cert>, <verify> and <finished> parsers, chain
 *     decoding, the identity and issuer lists and path validation without
 *     forging AEAD records.
 *   mode & 3 == 2: deep, several messages, each led by a u16 length, so the
 *     real <cert> can be followed by a mutated <verify> or <finished>.
 *   (mode >> 2) & 3: configuration variant (fuzz_common.h): 1 = P-256,
 *     ChaCha20-Poly1305 and an allow list, 2 = key transport to bob's RSA
 *     key (the payload's <kt> reaches RSA-OAEP decryption), 3 = 0. The deep
 *     modes take 2 as 0: after flight 1 key transport changes nothing here,
 *     and replaying flight 1 would cost two RSA private-key operations.
 *
 * Oracles (fuzz_common.h): sticky errors reported once, peer input only ever
 * causing alerts, state moving one step per accepted message, and a
 * completed handshake only ever naming alice@example.org, the one identity
 * whose key signs here.
 */
#include "fuzz_common.h"

/* The real ihello, changed by edit, as a HELLO frame after the raw mode byte. */
static void ihello_seed(const char *dir, const char *name, const fz_msg *real,
                        void (*edit)(sc_ihello *))
{
    static sc_ihello m;
    sc_xml_doc *doc = NULL;
    sc_buf x, b;
    FZ_CHECK(sc_xml_parse(real->p, real->len, &doc) == SC_OK);
    FZ_CHECK(sc_ihello_parse(sc_xml_root(doc), &m) == SC_OK);
    sc_xml_free(doc);
    edit(&m);
    sc_buf_init(&x, 0);
    FZ_CHECK(sc_ihello_write(&x, &m) == SC_OK);
    fz_seed_begin(&b, 0);
    sc_frame_put(&b, SC_FRAME_HELLO, x.data, x.len);
    fz_seed(dir, name, &b);
    sc_buf_dispose(&x);
}

static void p256_only(sc_ihello *m) /* the responder then uses its second group */
{
    m->shares[0] = m->shares[1];
    m->n_shares = m->groups.n = 1;
    m->groups.v[0] = SC_GROUP_P256;
}

static void bad_point(sc_ihello *m)
{
    p256_only(m);
    m->shares[0].pub[10] ^= 1;
}

static void key_transport(sc_ihello *m) /* not enabled here: handshake_failure */
{
    m->n_shares = 0;
    m->kt_len = 256;
    memset(m->kt, 0x42, m->kt_len);
}

static void rsa_only(sc_ihello *m) /* bob signs with P-256 */
{
    m->sigs.n = 1;
    m->sigs.v[0] = SC_SIG_RSA_PSS_SHA256;
}

static void write_seeds(const char *dir)
{
    const fz_flights *f0 = fz_flights_get(0), *f1 = fz_flights_get(1), *f2 = fz_flights_get(2);
    const fz_bad_certs *bad = fz_bad_certs_get();
    sc_buf b;

    fz_seed_begin(&b, 0);
    sc_buf_put(&b, f0->f1.p, f0->f1.len);
    sc_buf_put(&b, f0->f3.p, f0->f3.len);
    fz_seed(dir, "raw_f1_f3", &b);
    fz_seed_begin(&b, 4);
    sc_buf_put(&b, f1->f1.p, f1->f1.len);
    sc_buf_put(&b, f1->f3.p, f1->f3.len);
    fz_seed(dir, "raw_v1_f1_f3", &b);
    fz_seed_begin(&b, 8);
    sc_buf_put(&b, f2->f1.p, f2->f1.len);
    sc_buf_put(&b, f2->f3.p, f2->f3.len);
    fz_seed(dir, "raw_v2_kt_f1_f3", &b);
    ihello_seed(dir, "raw_ihello_p256_only", &f0->ihello, p256_only);
    ihello_seed(dir, "raw_ihello_bad_point", &f0->ihello, bad_point);
    ihello_seed(dir, "raw_ihello_kt", &f0->ihello, key_transport);
    ihello_seed(dir, "raw_ihello_sigs_rsa", &f0->ihello, rsa_only);
    fz_seed_begin(&b, 0);
    sc_buf_put(&b, f0->f1.p, f0->f1.len);
    size_t v = 0; /* <ihello v="1" ...: version 2 instead */
    while (v + 5 <= b.len && memcmp(b.data + v, "v=\"1\"", 5) != 0)
        v++;
    FZ_CHECK(v + 5 <= b.len);
    b.data[v + 3] = '2';
    fz_seed(dir, "raw_ihello_v2", &b);

    fz_seed_bytes(dir, "deep_icert", 1, f0->icert.p, f0->icert.len);
    fz_seed_bytes(dir, "deep_cert_empty", 1, "<cert/>", 7);
    const struct {
        const char *name;
        int mode;
        const fz_cert *c[2];
        size_t n;
    } certs[] = {
        {"deep_cert_mallory_blocked", 1, {&bad->mallory}, 1},
        {"deep_cert_expired", 1, {&bad->expired}, 1},
        {"deep_cert_not_yet_valid", 1, {&bad->future}, 1},
        {"deep_cert_server_eku", 1, {&bad->server_eku}, 1},
        {"deep_cert_unknown_ca", 1, {&bad->evil_bob, &bad->evil_root}, 2},
        {"deep_v1_cert_not_allowed", 5, {&fz_w.bob}, 1},
    };
    for (size_t i = 0; i < sizeof certs / sizeof certs[0]; i++) {
        fz_seed_begin(&b, certs[i].mode);
        fz_seed_certmsg(&b, certs[i].c, certs[i].n);
        fz_seed(dir, certs[i].name, &b);
    }
    const struct {
        const char *name;
        int mode;
        const fz_msg *m[3];
    } seqs[] = {
        {"deep_seq_full", 2, {&f0->icert, &f0->iverify, &f0->ifin}},
        {"deep_seq_v1_full", 2 | 4, {&f1->icert, &f1->iverify, &f1->ifin}},
        {"deep_seq_bad_verify", 2, {&f0->icert, &f0->rverify, NULL}},
        {"deep_seq_bad_finished", 2, {&f0->icert, &f0->iverify, &f0->rfin}},
    };
    for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
        fz_seed_begin(&b, seqs[i].mode);
        for (size_t k = 0; k < 3 && seqs[i].m[k]; k++)
            fz_seed_msg(&b, seqs[i].m[k]);
        fz_seed(dir, seqs[i].name, &b);
    }
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
    case 1:
    case 2:
        s = fz_responder_wait_cert(v == 2 ? 0 : v, &ev);
        fz_ossl_seed(FZ_SEED_R_F3);
        fz_hs_msgs(s, &ev, &in, (mode & 3) == 2, "alice@example.org");
        break;
    default: {
        s = fz_session(v, SC_ROLE_RESPONDER, &ev);
        FZ_CHECK(sc_session_start(s) == SC_OK); /* nothing to do for a responder */
        fz_ossl_seed(FZ_SEED_R_F1);
        int rc = sc_session_recv(s, in.p, in.len, FZ_NOW_MS);
        fz_check_after_recv(s, &ev, rc);
        if (sc_session_established(s))
            FZ_CHECK(strcmp(sc_session_peer_id(s), "alice@example.org") == 0);
        break;
    }
    }
    sc_session_free(s);
    return 0;
}
