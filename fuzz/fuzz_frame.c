/*
 * fuzz_frame.c - the byte stream into a fresh responder (sc_session_recv):
 * frame reassembly, the header bounds checked before any allocation, and
 * dispatch by frame type and state (docs/PROTOCOL.md 3.1, 3.2, 7.6).
 *
 * Input: 4 bytes of chunk sizes, 1 byte of flags, then the stream.
 *
 * Oracles:
 *   - the split does not matter: the stream is fed once whole and once in
 *     chunks (sizes cycle through the 4 bytes; 0 means "all that is left"),
 *     and both sessions must end with the same error, the same events and
 *     byte-identical output;
 *   - the first error is sticky: every later call returns it, and it is
 *     reported exactly once through SC_EV_ERROR;
 *   - an alert we raise before we have a sending key goes out as the last
 *     frame, a plaintext ALERT carrying its code;
 *   - flag bit 0: a tick past the handshake deadline times out any session
 *     still in the handshake; bit 1: end of stream without close_notify is
 *     a truncation. Bits 2-3 pick the responder's configuration variant
 *     (fuzz_common.h; 2 accepts key transport).
 * The OpenSSL RNG is reseeded as in the recorded handshake, so flight 1
 * followed by flight 3 (see the seeds) completes a real handshake here.
 */
#include "fuzz_common.h"

typedef struct fz_run {
    fz_events ev;
    int rc;
    int state;
    fz_msg out;
} fz_run;

static void run(const uint8_t sizes[4], uint8_t flags, const uint8_t *data, size_t len, int chunked,
                fz_run *r)
{
    sc_session *s = fz_session(((flags >> 2) & 3) % FZ_VARIANTS, SC_ROLE_RESPONDER, &r->ev);
    size_t off = 0, k = 0;
    int rc = SC_OK;
    fz_ossl_seed(FZ_SEED_R_F1);
    while (off < len) {
        size_t n = chunked && sizes[k % 4] ? sizes[k % 4] : len - off;
        k++;
        if (n > len - off) n = len - off;
        int ret = sc_session_recv(s, data + off, n, FZ_NOW_MS);
        if (rc != SC_OK) FZ_CHECK(ret == rc); /* sticky */
        rc = ret;
        off += n;
    }
    FZ_CHECK(rc == sc_session_error(s) && r->ev.errors == (rc != SC_OK));
    if (rc != SC_OK) FZ_CHECK(r->ev.err == rc && !sc_session_established(s));

    /* A locally detected error without a sending key ends the output with a plaintext alert. */
    if (SC_ERR_IS_ALERT(rc) && !s->tx.active) {
        const uint8_t *p;
        size_t n = sc_session_output(s, &p);
        FZ_CHECK(n >= 5);
        const uint8_t want[5] = {SC_FRAME_ALERT, 0, 0, 1, (uint8_t)SC_ERR_ALERT_CODE(rc)};
        FZ_CHECK(memcmp(p + n - 5, want, 5) == 0);
    }

    if (flags & 1) {
        int in_handshake = s->state < SC_ST_ESTABLISHED;
        int t = sc_session_tick(s, FZ_NOW_MS + 60000);
        if (rc != SC_OK)
            FZ_CHECK(t == rc);
        else if (in_handshake)
            FZ_CHECK(t == SC_ERR_TIMEOUT && r->ev.errors == 1);
        else
            FZ_CHECK(t == SC_OK);
        rc = sc_session_error(s);
    }
    if (flags & 2) {
        int closed = s->state == SC_ST_CLOSED;
        int e = sc_session_eof(s);
        FZ_CHECK(closed ? e == SC_OK : e == (rc != SC_OK ? rc : SC_ERR_TRUNCATED));
        if (!closed) FZ_CHECK(r->ev.errors == 1);
        rc = sc_session_error(s);
    }
    r->rc = rc;
    r->state = s->state;
    fz_take(s, &r->out);
    sc_session_free(s);
}

/* A seed: chunk sizes, flags, then the stream (see the top). */
static void frame_seed(sc_buf *b, uint8_t s0, uint8_t s1, uint8_t s2, uint8_t s3, uint8_t flags)
{
    const uint8_t hdr[5] = {s0, s1, s2, s3, flags};
    fz_seed_begin(b, -1);
    sc_buf_put(b, hdr, 5);
}

static void write_seeds(const char *dir)
{
    const fz_flights *f = fz_flights_get(0);
    sc_buf b;
    static const struct {
        const char *name;
        uint8_t hdr[5];
        const char *bytes;
        size_t len;
    } raw[] = {
        {"alert_fatal", {0, 0, 0, 0, 0}, "\x03\x00\x00\x01\x28", 5},
        {"alert_close_early", {0, 0, 0, 0, 0}, "\x03\x00\x00\x01\x00", 5},
        {"alert_len2", {1, 0, 0, 0, 0}, "\x03\x00\x00\x02\x00\x00", 6},
        {"hello_oversize", {2, 0, 0, 0, 0}, "\x01\x00\x10\x01", 4},
        {"hello_empty", {0, 0, 0, 0, 0}, "\x01\x00\x00\x00", 4},
        {"record_oversize", {0, 0, 0, 0, 0}, "\x02\x00\x40\x12", 4},
        {"record_undersize",
         {0, 0, 0, 0, 0},
         "\x02\x00\x00\x10"
         "0123456789abcdef",
         20},
        {"record_before_keys",
         {9, 0, 0, 0, 0},
         "\x02\x00\x00\x11"
         "0123456789abcdefg",
         21},
        {"unknown_type", {0, 0, 0, 0, 0}, "\x09\x00\x00\x01\x00", 5},
    };
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        frame_seed(&b, raw[i].hdr[0], raw[i].hdr[1], raw[i].hdr[2], raw[i].hdr[3], raw[i].hdr[4]);
        sc_buf_put(&b, raw[i].bytes, raw[i].len);
        fz_seed(dir, raw[i].name, &b);
    }
    frame_seed(&b, 0, 0, 0, 0, 0);
    sc_buf_put(&b, f->f1.p, f->f1.len);
    fz_seed(dir, "f1_whole", &b);
    frame_seed(&b, 1, 1, 1, 1, 0);
    sc_buf_put(&b, f->f1.p, f->f1.len);
    fz_seed(dir, "f1_bytewise", &b);
    frame_seed(&b, 5, 0, 0, 0, 1);
    sc_buf_put(&b, f->f1.p, f->f1.len / 2);
    fz_seed(dir, "f1_truncated_timeout", &b);
    frame_seed(&b, 100, 0, 0, 0, 0);
    sc_buf_put(&b, f->f1.p, f->f1.len);
    sc_buf_put(&b, f->f1.p, f->f1.len);
    fz_seed(dir, "f1_twice", &b);
    frame_seed(&b, 2, 0, 0, 0, 2);
    sc_buf_put(&b, f->f1.p, f->f1.len);
    sc_buf_put(&b, "\x02\x00", 2);
    fz_seed(dir, "f1_partial_header_eof", &b);
    /* Flight 1 then flight 3: a whole handshake, whatever the split. */
    frame_seed(&b, 3, 7, 200, 0, 0);
    sc_buf_put(&b, f->f1.p, f->f1.len);
    sc_buf_put(&b, f->f3.p, f->f3.len);
    fz_seed(dir, "f1_f3_split", &b);
    frame_seed(&b, 4, 1, 255, 2, 3);
    sc_buf_put(&b, f->f1.p, f->f1.len);
    sc_buf_put(&b, f->f3.p, f->f3.len);
    fz_seed(dir, "f1_f3_tick_eof", &b);
    frame_seed(&b, 0, 0, 0, 0, 0);
    sc_buf_put(&b, f->f1.p, f->f1.len);
    sc_buf_put(&b, f->f3.p, f->f3.len);
    b.data[5 + f->f1.len + 20] ^= 1;
    fz_seed(dir, "f1_f3_flipped", &b);
    const fz_flights *kt = fz_flights_get(2);
    frame_seed(&b, 0, 0, 0, 0, 2 << 2);
    sc_buf_put(&b, kt->f1.p, kt->f1.len);
    sc_buf_put(&b, kt->f3.p, kt->f3.len);
    fz_seed(dir, "f1_f3_kt", &b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_run whole, split;
    const char *seeds = fz_seeds_dir();
    if (seeds) write_seeds(seeds);
    if (size < 5) return 0;
    fz_world_init();
    run(data, data[4], data + 5, size - 5, 0, &whole);
    run(data, data[4], data + 5, size - 5, 1, &split);
    FZ_CHECK(whole.rc == split.rc && whole.state == split.state);
    FZ_CHECK(whole.ev.done == split.ev.done && whole.ev.errors == split.ev.errors &&
             whole.ev.closed == split.ev.closed && whole.ev.err == split.ev.err);
    FZ_CHECK(whole.out.len == split.out.len &&
             memcmp(whole.out.p, split.out.p, whole.out.len) == 0);
    free(whole.out.p);
    free(split.out.p);
    return 0;
}
