/*
 * fuzz_record.c - an established session: record open, inner types,
 * alerts, key update, close, stanzas and file data in both directions
 * (sc_session.c after the handshake, sc_record.c).
 *
 * Every input starts from a real handshake replayed in memory (see
 * fuzz_common.h); the peer's traffic secrets are known, so the fuzzer can
 * speak as the peer without forging anything.
 *
 * Input: one mode byte, then the payload.
 *   mode & 3 == 0: raw. The payload is fed to sc_session_recv as is.
 *   mode & 3 == 1: sealed. The payload is a list of records, each
 *     inner u8 || len u16 || content, sealed with the peer's real sending
 *     direction (sc_record_seal) and delivered one by one: this reaches
 *     on_stanza, on_file_data, on_key_update and on_alert with any content.
 *   mode & 3 == 2, 3: script. Operations on the session itself: send a
 *     stanza or file data built from the input, key update, close, deliver
 *     a sealed or raw record, end of stream.
 *   mode & 4: the session under test is the initiator (else the responder).
 *   mode & 8: configuration variant 1 (ChaCha20-Poly1305, P-256, automatic
 *     key update after 5 records). Not variant 2: after the handshake key
 *     transport changes nothing, and replaying it costs two RSA private-key
 *     operations per input.
 *
 * Oracles:
 *   - everything the session sends is opened by the peer's receiving
 *     direction and must authenticate and carry content the peer accepts
 *     (fz_reader): a sent stanza parses, file data headers are valid, key
 *     updates are followed in step;
 *   - what the API accepted arrives unchanged: a stanza sent parses back to
 *     the same fields, file data arrives whole, in order, split as promised;
 *   - sc_session_send_stanza only refuses with SC_ERR_ARG / SC_ERR_TOO_LARGE
 *     and never fails the session for a bad argument;
 *   - protocol reactions: a ping is answered by a pong with its id, a key
 *     update request by a key update, close_notify by close_notify (once);
 *   - errors are sticky and reported once; nothing but alerts follows our
 *     close_notify.
 */
#include "fuzz_common.h"

#define FZ_LOG_MAX 64

/* One record the session sent, as its peer decrypted it. */
typedef struct fz_rec {
    uint8_t inner;
    uint8_t *p;
    size_t len;
} fz_rec;

/*
 * Opens everything an established session sends with the peer's receive
 * direction. Every frame must be a record that authenticates (after the
 * handshake even alerts travel in records) and whose content a peer would
 * accept; a key_update is followed, as the peer would.
 */
typedef struct fz_reader {
    sc_dir rx;
    sc_buf plain;
    int got_close; /* close_notify seen: only alerts may follow */
    fz_rec log[FZ_LOG_MAX];
    size_t n;
} fz_reader;

static void fz_reader_init(fz_reader *r, int suite, const uint8_t secret[SC_HASH_LEN])
{
    memset(r, 0, sizeof *r);
    sc_buf_init(&r->plain, 0);
    FZ_CHECK(sc_dir_install(&r->rx, suite, secret, 0) == SC_OK);
}

static void fz_reader_clear_log(fz_reader *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->log[i].p);
    r->n = 0;
}

static void fz_reader_free(fz_reader *r)
{
    fz_reader_clear_log(r);
    sc_buf_dispose(&r->plain);
    sc_dir_clear(&r->rx);
}

/* The checks the receiving side applies to each inner type (sc_session.c on_record). */
static void fz_check_content(uint8_t inner, const uint8_t *p, size_t len)
{
    switch (inner) {
    case SC_INNER_ALERT:
    case SC_INNER_KEY_UPDATE:
        FZ_CHECK(len == 1 && (inner == SC_INNER_ALERT || p[0] <= 1));
        break;
    case SC_INNER_STANZA: {
        sc_xml_doc *doc = NULL;
        sc_stanza st;
        FZ_CHECK(sc_xml_parse(p, len, &doc) == SC_OK);
        FZ_CHECK(sc_stanza_parse(sc_xml_root(doc), &st) == SC_OK && st.type != 0);
        sc_xml_free(doc);
        break;
    }
    case SC_INNER_COMPACT: {
        char id[SC_STANZA_ID_MAX + 1];
        sc_stanza st;
        FZ_CHECK(sc_compact_parse(p, len, id, &st) == SC_OK && st.type != 0);
        break;
    }
    case SC_INNER_FILE_DATA: {
        sc_rd r;
        uint8_t idlen = 0;
        const uint8_t *id = NULL;
        uint64_t off = 0;
        sc_rd_init(&r, p, len);
        FZ_CHECK(sc_rd_u8(&r, &idlen) && sc_rd_bytes(&r, idlen, &id) && sc_rd_u64(&r, &off));
        FZ_CHECK(sc_stanza_valid_id((const char *)id, idlen));
        FZ_CHECK(sc_rd_left(&r) <= UINT64_MAX - off);
        break;
    }
    default:
        FZ_CHECK(!"a session sent a record its peer must refuse");
    }
}

/* Reads and consumes all of s's output. */
static void fz_reader_drain(fz_reader *r, sc_session *s)
{
    const uint8_t *p;
    size_t len = sc_session_output(s, &p), off = 0;
    while (off < len) {
        size_t n = fz_frame_len(p + off, len - off), clen;
        uint8_t inner;
        const uint8_t *c;
        FZ_CHECK(n > 0 && p[off] == SC_FRAME_RECORD); /* whole frames, records only */
        FZ_CHECK(sc_record_open(&r->rx, p + off, n, &r->plain, &inner, &c, &clen) == SC_OK);
        fz_check_content(inner, c, clen);
        /* After our close_notify only an alert (of a failure after it) may follow. */
        FZ_CHECK(!r->got_close || inner == SC_INNER_ALERT);
        if (inner == SC_INNER_KEY_UPDATE) FZ_CHECK(sc_dir_update(&r->rx) == SC_OK);
        if (inner == SC_INNER_ALERT && c[0] == SC_ALERT_CLOSE_NOTIFY) r->got_close = 1;
        if (r->n < FZ_LOG_MAX) {
            fz_rec *e = &r->log[r->n++];
            e->inner = inner;
            e->p = malloc(clen ? clen : 1);
            FZ_CHECK(e->p != NULL);
            memcpy(e->p, c, clen);
            e->len = clen;
        }
        off += n;
    }
    sc_session_output_consume(s, len);
}

typedef struct fz_ctx {
    sc_session *s;
    fz_events ev;
    sc_dir tx;    /* the peer's sending direction */
    fz_reader rd; /* the peer's receiving direction */
} fz_ctx;

/* The session's state, the way the send functions judge it. */
static int can_send(const sc_session *s)
{
    return s->state == SC_ST_ESTABLISHED && !s->err && !s->sent_close;
}

/* The first error is kept, reported once, and ends the session. */
static void check_sticky(fz_ctx *c)
{
    FZ_CHECK(c->ev.errors == (c->s->err != SC_OK));
    if (c->s->err) FZ_CHECK(c->ev.err == c->s->err && !sc_session_established(c->s));
}

/* The i-th logged record the session sent, or NULL. */
static const fz_rec *logged(const fz_ctx *c, size_t i)
{
    return i < c->rd.n ? &c->rd.log[i] : NULL;
}

/* Finds a record of the given inner type and content in the log. */
static int log_has(const fz_ctx *c, uint8_t inner, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < c->rd.n; i++)
        if (c->rd.log[i].inner == inner && c->rd.log[i].len == n &&
            memcmp(c->rd.log[i].p, p, n) == 0)
            return 1;
    return 0;
}

/* A valid ping's id (copied into id), or 0. */
static int ping_id(const uint8_t *p, size_t n, char id[SC_STANZA_ID_MAX + 1], int *known)
{
    sc_xml_doc *doc = NULL;
    sc_stanza st;
    int ping = 0;
    *known = 0;
    if (sc_xml_parse(p, n, &doc) != SC_OK) return 0;
    if (sc_stanza_parse(sc_xml_root(doc), &st) == SC_OK && st.type != 0) {
        *known = st.type != SC_STANZA_PING;
        if (st.type == SC_STANZA_PING) {
            ping = 1;
            snprintf(id, SC_STANZA_ID_MAX + 1, "%s", st.id);
        }
    }
    sc_xml_free(doc);
    return ping;
}

/* Seals one record as the peer and delivers it; checks how the session reacted. */
static void deliver(fz_ctx *c, uint8_t inner, const uint8_t *p, size_t n)
{
    sc_session *s = c->s;
    sc_buf wire;
    char id[SC_STANZA_ID_MAX + 1];
    int known = 0, ping = inner == SC_INNER_STANZA && ping_id(p, n, id, &known);
    int was_established = s->state == SC_ST_ESTABLISHED && !s->err;
    int was_closed = s->state == SC_ST_CLOSED, sent_close = s->sent_close;
    fz_events before = c->ev;

    sc_buf_init(&wire, 0);
    FZ_CHECK(n <= SC_MAX_PLAINTEXT);
    FZ_CHECK(sc_record_seal(&c->tx, &wire, inner, p, n, NULL, 0) == SC_OK);
    if (inner == SC_INNER_KEY_UPDATE && n == 1 && p[0] <= 1) FZ_CHECK(sc_dir_update(&c->tx) == 0);
    int closed_before = s->sent_close;
    /* A raw step may have left part of a frame buffered: the record's bytes then
     * complete that frame first, so what follows says nothing of this record. */
    int partial_before = s->in.len > 0;
    int rc = sc_session_recv(s, wire.data, wire.len, FZ_NOW_MS);
    sc_buf_dispose(&wire);
    check_sticky(c);
    FZ_CHECK(rc == s->err);
    fz_reader_clear_log(&c->rd);
    fz_reader_drain(&c->rd, s);
    if (partial_before) return;
    if (was_closed) {
        /* After the peer's close_notify nothing counts and nothing is answered. */
        FZ_CHECK(rc == SC_OK && c->rd.n == 0 && s->state == SC_ST_CLOSED);
        return;
    }
    if (!was_established || rc != SC_OK) {
        /* The peer's fatal alert is not answered. */
        if (SC_ERR_IS_PEER_ALERT(rc) && was_established) FZ_CHECK(c->rd.n == 0);
        /* Nothing follows our own close_notify, not even an alert. */
        if (closed_before) FZ_CHECK(c->rd.n == 0);
        /* A failure we detected goes to the peer as its alert, under our key. */
        if (SC_ERR_IS_ALERT(rc) && was_established && !closed_before) {
            const fz_rec *last = logged(c, c->rd.n - 1);
            FZ_CHECK(last && last->inner == SC_INNER_ALERT && last->p[0] == SC_ERR_ALERT_CODE(rc));
        }
        return;
    }
    switch (inner) {
    case SC_INNER_STANZA:
        FZ_CHECK(c->ev.stanzas == before.stanzas + known);
        if (ping && !sent_close) {
            sc_buf pong;
            sc_stanza st = {.type = SC_STANZA_PONG, .id = id};
            sc_buf_init(&pong, 0);
            FZ_CHECK(sc_stanza_write(&pong, &st) == SC_OK);
            FZ_CHECK(log_has(c, SC_INNER_STANZA, pong.data, pong.len));
            sc_buf_dispose(&pong);
        }
        break;
    case SC_INNER_COMPACT: {
        char cid[SC_STANZA_ID_MAX + 1];
        sc_stanza st;
        /* Accepted: it parses, and a known kind reached the application. */
        FZ_CHECK(sc_compact_parse(p, n, cid, &st) == SC_OK);
        FZ_CHECK(c->ev.stanzas == before.stanzas + (st.type != 0));
        break;
    }
    case SC_INNER_FILE_DATA:
        FZ_CHECK(c->ev.files == before.files + 1);
        break;
    case SC_INNER_KEY_UPDATE:
        FZ_CHECK(c->ev.key_updates > before.key_updates);
        if (p[0] == 1 && !sent_close)
            FZ_CHECK(log_has(c, SC_INNER_KEY_UPDATE, (const uint8_t *)"", 1));
        break;
    case SC_INNER_ALERT:
        /* Only close_notify is not fatal. */
        FZ_CHECK(p[0] == SC_ALERT_CLOSE_NOTIFY && s->state == SC_ST_CLOSED && c->ev.closed == 1);
        if (!sent_close) FZ_CHECK(log_has(c, SC_INNER_ALERT, (const uint8_t *)"", 1));
        break;
    default:
        FZ_CHECK(!"an unknown inner type was accepted");
    }
}

/* Fields of a stanza to send, taken from the input. */
static void send_stanza(fz_ctx *c, fz_in *in)
{
    sc_session *s = c->s;
    char id[80], name[300];
    size_t n;
    const uint8_t *p;
    sc_stanza st;
    memset(&st, 0, sizeof st);
    st.type = (sc_stanza_type)(fz_u8(in) % 16); /* 1..12 known, the rest refused */
    p = fz_bytes(in, fz_u8(in) % 72, &n);
    memcpy(id, p, n);
    id[n] = '\0';
    st.id = id;
    st.ts = fz_u64(in);
    st.text = (const char *)fz_bytes(in, fz_u16(in) % 16400, &st.text_len);
    p = fz_bytes(in, fz_u16(in) % 290, &n);
    memcpy(name, p, n);
    name[n] = '\0';
    st.name = name;
    st.size = fz_u64(in);
    st.offset = fz_u64(in);
    p = fz_bytes(in, 32, &n);
    memcpy(st.sha256, p, n);
    /* From fields already read, so that older inputs keep their layout: typing's state (2 is
     * invalid) and the optional reason of file-reject and msg-reject (the name's bytes). */
    st.typing = (sc_typing_state)(st.offset % 3);
    st.reason = st.size & 1 ? name : NULL;

    int ok = can_send(s), err = s->err;
    int rc = sc_session_send_stanza(s, &st);
    check_sticky(c);
    fz_reader_clear_log(&c->rd);
    fz_reader_drain(&c->rd, s);
    if (!ok) {
        FZ_CHECK(rc == (err ? err : SC_ERR_STATE) && c->rd.n == 0);
        return;
    }
    /* A stanza the caller got wrong is refused; it never ends the session. */
    FZ_CHECK(rc == SC_OK || rc == SC_ERR_ARG || rc == SC_ERR_TOO_LARGE);
    if (st.type < SC_STANZA_MSG || st.type > SC_STANZA_MSG_REJECT ||
        (st.type != SC_STANZA_TYPING && !sc_stanza_valid_id(id, strlen(id))))
        FZ_CHECK(rc == SC_ERR_ARG);
    if (rc != SC_OK) {
        FZ_CHECK(sc_session_established(s) && c->rd.n == 0);
        return;
    }
    /* One stanza record, perhaps followed by an automatic key update. */
    /* Messages and receipts go in compact form (PROTOCOL.md 10.4), the rest as XML. */
    const fz_rec *r = logged(c, 0);
    int compact = st.type == SC_STANZA_MSG || st.type == SC_STANZA_RECEIPT;
    FZ_CHECK(r && r->inner == (compact ? SC_INNER_COMPACT : SC_INNER_STANZA));
    FZ_CHECK(c->rd.n == 1 || (c->rd.n == 2 && c->rd.log[1].inner == SC_INNER_KEY_UPDATE));
    sc_xml_doc *doc = NULL;
    sc_stanza got;
    char got_id[SC_STANZA_ID_MAX + 1];
    if (compact) {
        FZ_CHECK(sc_compact_parse(r->p, r->len, got_id, &got) == SC_OK);
    } else {
        FZ_CHECK(sc_xml_parse(r->p, r->len, &doc) == SC_OK);
        FZ_CHECK(sc_stanza_parse(sc_xml_root(doc), &got) == SC_OK);
    }
    FZ_CHECK(got.type == st.type);
    if (st.type == SC_STANZA_TYPING) /* no id on the wire (PROTOCOL.md 10.2) */
        FZ_CHECK(got.id == NULL);
    else
        FZ_CHECK(strcmp(got.id, st.id) == 0);
    switch (st.type) {
    case SC_STANZA_MSG:
        FZ_CHECK(got.ts == st.ts && got.text_len == st.text_len);
        FZ_CHECK(st.text_len == 0 || memcmp(got.text, st.text, st.text_len) == 0);
        break;
    case SC_STANZA_RECEIPT:
    case SC_STANZA_READ:
        FZ_CHECK(got.ts == st.ts);
        break;
    case SC_STANZA_TYPING:
        FZ_CHECK(got.typing == st.typing);
        break;
    case SC_STANZA_FILE_REJECT:
    case SC_STANZA_MSG_REJECT:
        FZ_CHECK((got.reason == NULL) == (st.reason == NULL));
        FZ_CHECK(st.reason == NULL || strcmp(got.reason, st.reason) == 0);
        break;
    case SC_STANZA_FILE_OFFER:
        FZ_CHECK(strcmp(got.name, st.name) == 0 && got.size == st.size);
        FZ_CHECK(memcmp(got.sha256, st.sha256, 32) == 0);
        break;
    case SC_STANZA_FILE_ACCEPT:
        FZ_CHECK(got.offset == st.offset);
        break;
    case SC_STANZA_FILE_DONE:
        FZ_CHECK(memcmp(got.sha256, st.sha256, 32) == 0);
        break;
    default:
        break;
    }
    sc_xml_free(doc);
}

static void send_file(fz_ctx *c, fz_in *in)
{
    sc_session *s = c->s;
    char id[80];
    size_t n, len;
    const uint8_t *p = fz_bytes(in, fz_u8(in) % 72, &n);
    memcpy(id, p, n);
    id[n] = '\0';
    uint64_t offset = fz_u64(in);
    const uint8_t *data = fz_bytes(in, fz_u16(in), &len);

    /* A bad id, or a range past 2^64 (the peer would refuse it), is the caller's error. */
    int ok = can_send(s), err = s->err;
    sc_state state = s->state;
    int valid = sc_stanza_valid_id(id, strlen(id)) && len <= UINT64_MAX - offset;
    int rc = sc_session_send_file_data(s, id, offset, data, len);
    check_sticky(c);
    fz_reader_clear_log(&c->rd);
    fz_reader_drain(&c->rd, s);
    if (!valid) {
        FZ_CHECK(rc == SC_ERR_ARG && c->rd.n == 0 && s->err == err && s->state == state);
        return;
    }
    if (!ok) {
        FZ_CHECK(rc == (err ? err : SC_ERR_STATE) && c->rd.n == 0);
        return;
    }
    FZ_CHECK(rc == SC_OK);
    /* File data records in order, covering [offset, offset + len) exactly. */
    size_t idlen = strlen(id), got = 0, records = 0, max = SC_MAX_PLAINTEXT - (1 + idlen + 8);
    for (size_t i = 0; i < c->rd.n; i++) {
        const fz_rec *r = &c->rd.log[i];
        if (r->inner == SC_INNER_KEY_UPDATE) continue;
        FZ_CHECK(r->inner == SC_INNER_FILE_DATA && r->len >= 1 + idlen + 8);
        FZ_CHECK(r->p[0] == idlen && memcmp(r->p + 1, id, idlen) == 0);
        uint64_t off = 0;
        for (int k = 0; k < 8; k++)
            off = off << 8 | r->p[1 + idlen + k];
        size_t chunk = r->len - (1 + idlen + 8);
        FZ_CHECK(off == offset + got && chunk <= max && got + chunk <= len);
        FZ_CHECK(chunk == 0 || memcmp(r->p + 1 + idlen + 8, data + got, chunk) == 0);
        got += chunk;
        records++;
    }
    FZ_CHECK(got == len && records == (len == 0 ? 1 : (len + max - 1) / max));
}

static void key_update(fz_ctx *c, int request)
{
    int ok = can_send(c->s), err = c->s->err, kus = c->ev.key_updates;
    int rc = sc_session_key_update(c->s, request);
    check_sticky(c);
    fz_reader_clear_log(&c->rd);
    fz_reader_drain(&c->rd, c->s);
    if (!ok) {
        FZ_CHECK(rc == (err ? err : SC_ERR_STATE) && c->rd.n == 0);
        return;
    }
    uint8_t want = (uint8_t)request;
    FZ_CHECK(rc == SC_OK && c->rd.n == 1 && log_has(c, SC_INNER_KEY_UPDATE, &want, 1));
    FZ_CHECK(c->ev.key_updates == kus + 1);
}

static void close_session(fz_ctx *c)
{
    sc_session *s = c->s;
    int err = s->err, sent = s->sent_close, st = s->state;
    int rc = sc_session_close(s);
    fz_reader_clear_log(&c->rd);
    fz_reader_drain(&c->rd, s);
    if (err) {
        FZ_CHECK(rc == err);
    } else if (sent) {
        FZ_CHECK(rc == SC_OK && c->rd.n == 0);
    } else {
        FZ_CHECK(st == SC_ST_ESTABLISHED || st == SC_ST_CLOSED);
        FZ_CHECK(rc == SC_OK && s->sent_close && c->rd.n == 1 &&
                 log_has(c, SC_INNER_ALERT, (const uint8_t *)"", 1));
    }
}

static void raw(fz_ctx *c, const uint8_t *p, size_t n)
{
    int rc = sc_session_recv(c->s, p, n, FZ_NOW_MS);
    check_sticky(c);
    FZ_CHECK(rc == c->s->err);
    fz_reader_clear_log(&c->rd);
    fz_reader_drain(&c->rd, c->s);
}

/* inner u8 || len u16 || content, as the peer sends it. */
static void deliver_from(fz_ctx *c, fz_in *in)
{
    size_t n;
    uint8_t inner = fz_u8(in);
    const uint8_t *p = fz_bytes(in, fz_u16(in) % (SC_MAX_PLAINTEXT + 1), &n);
    deliver(c, inner, p, n);
}

static void script(fz_ctx *c, fz_in *in)
{
    size_t n;
    const uint8_t *p;
    while (in->len > 0) {
        switch (fz_u8(in) % 8) {
        case 0:
            send_stanza(c, in);
            break;
        case 1:
            send_file(c, in);
            break;
        case 2:
            key_update(c, fz_u8(in) & 1);
            break;
        case 3:
            close_session(c);
            break;
        case 4:
        case 5:
            deliver_from(c, in);
            break;
        case 6:
            p = fz_bytes(in, fz_u16(in), &n);
            raw(c, p, n);
            break;
        default: {
            int closed = c->s->state == SC_ST_CLOSED, err = c->s->err;
            int rc = sc_session_eof(c->s);
            FZ_CHECK(rc == (closed ? SC_OK : err ? err : SC_ERR_TRUNCATED));
            check_sticky(c);
            return;
        }
        }
    }
}

/* ---- seeds ------------------------------------------------------------------ */

/* A sealed-mode record: inner u8 || len u16 || content. */
static void seed_rec(sc_buf *b, uint8_t inner, const void *p, size_t n)
{
    sc_buf_put_u8(b, inner);
    sc_buf_put_u16(b, (uint16_t)n);
    sc_buf_put(b, p, n);
}

static void seed_str(sc_buf *b, uint8_t inner, const char *s)
{
    seed_rec(b, inner, s, strlen(s));
}

static void seed_file_data(sc_buf *b, const char *id, uint64_t off, const void *p, size_t n)
{
    sc_buf c;
    sc_buf_init(&c, 0);
    sc_buf_put_u8(&c, (uint8_t)strlen(id));
    sc_buf_put_str(&c, id);
    sc_buf_put_u64(&c, off);
    sc_buf_put(&c, p, n);
    seed_rec(b, SC_INNER_FILE_DATA, c.data, c.len);
    sc_buf_dispose(&c);
}

/* Script op 0: type, id, ts, text, name, size, offset, sha256 (as send_stanza reads them). */
static void seed_send_stanza(sc_buf *b, uint8_t type, const char *id, uint64_t ts, const char *text,
                             const char *name, uint64_t size)
{
    sc_buf_put_u8(b, 0);
    sc_buf_put_u8(b, type);
    sc_buf_put_u8(b, (uint8_t)strlen(id));
    sc_buf_put_str(b, id);
    sc_buf_put_u64(b, ts);
    sc_buf_put_u16(b, (uint16_t)strlen(text));
    sc_buf_put_str(b, text);
    sc_buf_put_u16(b, (uint16_t)strlen(name));
    sc_buf_put_str(b, name);
    sc_buf_put_u64(b, size);
    sc_buf_put_u64(b, 0);
    for (int i = 0; i < 32; i++)
        sc_buf_put_u8(b, (uint8_t)(i * 7));
}

/* Script op 1: id, offset, len u16, data. */
static void seed_send_file(sc_buf *b, const char *id, uint64_t offset, size_t n)
{
    sc_buf_put_u8(b, 1);
    sc_buf_put_u8(b, (uint8_t)strlen(id));
    sc_buf_put_str(b, id);
    sc_buf_put_u64(b, offset);
    sc_buf_put_u16(b, (uint16_t)n);
    for (size_t i = 0; i < n; i++)
        sc_buf_put_u8(b, (uint8_t)(i * 13));
}

static void write_seeds(const char *dir)
{
    const fz_flights *f = fz_flights_get(0);
    static const uint8_t data[300] = {1, 2, 3};
    sc_buf b;

    fz_seed_begin(&b, 1);
    seed_str(&b, SC_INNER_STANZA, FZ_ST_MSG);
    fz_seed(dir, "sealed_msg", &b);
    fz_seed_begin(&b, 1);
    seed_str(&b, SC_INNER_STANZA, FZ_ST_PING);
    seed_str(&b, SC_INNER_STANZA, FZ_ST_PONG);
    seed_str(&b, SC_INNER_STANZA, FZ_ST_RECEIPT);
    fz_seed(dir, "sealed_ping_pong_receipt", &b);
    fz_seed_begin(&b, 1);
    seed_str(&b, SC_INNER_STANZA, FZ_ST_OFFER);
    seed_str(&b, SC_INNER_STANZA, FZ_ST_ACCEPT);
    seed_file_data(&b, "f1", 0, data, sizeof data);
    seed_str(&b, SC_INNER_STANZA, FZ_ST_DONE);
    fz_seed(dir, "sealed_file_transfer", &b);
    fz_seed_begin(&b, 1);
    seed_str(&b, SC_INNER_STANZA, "<future-thing id=\"x\" level=\"9\"/>");
    seed_str(&b, SC_INNER_STANZA, FZ_ST_MSG);
    fz_seed(dir, "sealed_unknown_stanza", &b);
    /* The stanzas the user agent added (PROTOCOL.md 10.2), device first as agents send it. */
    fz_seed_begin(&b, 1);
    seed_str(&b, SC_INNER_STANZA, FZ_ST_DEVICE);
    seed_str(&b, SC_INNER_STANZA, FZ_ST_TYPING);
    seed_str(&b, SC_INNER_STANZA, FZ_ST_READ);
    seed_str(&b, SC_INNER_STANZA, FZ_ST_REJECT);
    seed_str(&b, SC_INNER_STANZA, "<typing state=\"maybe\"/>");
    fz_seed(dir, "sealed_agent_stanzas", &b);
    fz_seed_begin(&b, 1);
    seed_rec(&b, SC_INNER_KEY_UPDATE, "\x01", 1);
    seed_str(&b, SC_INNER_STANZA, FZ_ST_MSG);
    seed_rec(&b, SC_INNER_KEY_UPDATE, "\x00", 1);
    seed_str(&b, SC_INNER_STANZA, FZ_ST_PING);
    fz_seed(dir, "sealed_key_update", &b);
    fz_seed_begin(&b, 1);
    seed_rec(&b, SC_INNER_KEY_UPDATE, "\x02", 1);
    fz_seed(dir, "sealed_key_update_bad", &b);
    fz_seed_begin(&b, 1);
    seed_rec(&b, SC_INNER_ALERT, "\x00", 1);
    seed_str(&b, SC_INNER_STANZA, FZ_ST_MSG);
    fz_seed(dir, "sealed_close", &b);
    fz_seed_begin(&b, 1);
    seed_rec(&b, SC_INNER_ALERT, "\x28", 1);
    fz_seed(dir, "sealed_alert_fatal", &b);
    fz_seed_begin(&b, 1);
    seed_rec(&b, SC_INNER_HANDSHAKE, f->ifin.p, f->ifin.len);
    fz_seed(dir, "sealed_handshake_late", &b);
    fz_seed_begin(&b, 1);
    seed_rec(&b, 9, "\x00", 1);
    fz_seed(dir, "sealed_inner_unknown", &b);
    fz_seed_begin(&b, 1 | 4 | 8);
    for (int i = 0; i < 7; i++)
        seed_str(&b, SC_INNER_STANZA, FZ_ST_MSG);
    seed_str(&b, SC_INNER_STANZA, FZ_ST_PING);
    fz_seed(dir, "sealed_v1_initiator_many", &b);

    /* Raw: the initiator's first application records, as the responder receives them. */
    sc_dir d;
    memset(&d, 0, sizeof d);
    FZ_CHECK(sc_dir_install(&d, f->suite, f->i_ap, 1) == SC_OK);
    fz_seed_begin(&b, 0);
    FZ_CHECK(sc_record_seal(&d, &b, SC_INNER_STANZA, (const uint8_t *)FZ_ST_MSG, strlen(FZ_ST_MSG),
                            NULL, 0) == SC_OK);
    FZ_CHECK(sc_record_seal(&d, &b, SC_INNER_STANZA, (const uint8_t *)FZ_ST_PING,
                            strlen(FZ_ST_PING), NULL, 0) == SC_OK);
    sc_buf copy;
    fz_seed_begin(&copy, -1);
    sc_buf_put(&copy, b.data, b.len);
    fz_seed(dir, "raw_msg_ping", &b);
    copy.data[copy.len - 1] ^= 1;
    fz_seed(dir, "raw_bad_tag", &copy);
    sc_dir_clear(&d);
    fz_seed_bytes(dir, "raw_plain_alert", 0, "\x03\x00\x00\x01\x00", 5);

    /* Scripts. */
    fz_seed_begin(&b, 2);
    seed_send_stanza(&b, SC_STANZA_MSG, "m7", FZ_NOW_MS, "hi <there>&\r\n", "", 0);
    seed_send_stanza(&b, SC_STANZA_FILE_OFFER, "f9", 0, "", "a \"b\".txt", 1000);
    seed_send_file(&b, "f9", 0, 1000);
    sc_buf_put(&b, "\x02\x01", 2); /* key update, requesting the peer's */
    sc_buf_put_u8(&b, 4);          /* deliver a ping */
    seed_str(&b, SC_INNER_STANZA, FZ_ST_PING);
    sc_buf_put_u8(&b, 4); /* deliver a key update request */
    seed_rec(&b, SC_INNER_KEY_UPDATE, "\x01", 1);
    sc_buf_put_u8(&b, 3); /* close */
    sc_buf_put_u8(&b, 7); /* end of stream */
    fz_seed(dir, "script_mixed", &b);
    /* Sending them: typing (offset 0: off), read, file-reject with a reason (odd size: the
     * name is the reason), device, and a file-reject whose reason has a control character. */
    fz_seed_begin(&b, 2);
    seed_send_stanza(&b, SC_STANZA_DEVICE, "laptop-1", 0, "", "", 0);
    seed_send_stanza(&b, SC_STANZA_TYPING, "", 0, "", "", 0);
    seed_send_stanza(&b, SC_STANZA_READ, "m7", FZ_NOW_MS, "", "", 0);
    seed_send_stanza(&b, SC_STANZA_FILE_REJECT, "f9", 0, "", "no <thanks> & \"bye\"", 1);
    seed_send_stanza(&b, SC_STANZA_FILE_REJECT, "f9", 0, "", "two\nlines", 1);
    fz_seed(dir, "script_agent_stanzas", &b);
    fz_seed_begin(&b, 2 | 4 | 8);
    for (int k = 0; k < 7; k++)
        seed_send_stanza(&b, SC_STANZA_MSG, "m1", (uint64_t)k, "12345", "", 0);
    sc_buf_put_u8(&b, 4);
    seed_rec(&b, SC_INNER_ALERT, "\x00", 1);
    sc_buf_put_u8(&b, 7);
    fz_seed(dir, "script_v1_auto_key_update", &b);
    fz_seed_begin(&b, 2);
    seed_send_file(&b, "big", UINT64_C(1) << 40, 6000); /* more than one record */
    fz_seed(dir, "script_file_large", &b);
    /* Text that escaping grows past a record: SC_ERR_TOO_LARGE, the session lives on. */
    static char lt[3400];
    memset(lt, '&', sizeof lt - 1); /* &amp;: 5 bytes each */
    fz_seed_begin(&b, 2);
    seed_send_stanza(&b, SC_STANZA_MSG, "m2", 1, lt, "", 0);
    seed_send_stanza(&b, SC_STANZA_MSG, "m3", 2, "after", "", 0);
    fz_seed(dir, "script_msg_escapes_too_large", &b);
    /* Regression: file data whose range ran past 2^64 was sent, and refused by the peer. */
    fz_seed_begin(&b, 2);
    seed_send_file(&b, "f", UINT64_MAX, 2);
    fz_seed(dir, "bug_file_offset_overflow", &b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_ctx c;
    fz_in in = {data, size};
    const char *seeds = fz_seeds_dir();
    if (seeds) write_seeds(seeds);
    if (size < 1) return 0;
    uint8_t mode = fz_u8(&in);
    int v = (mode >> 3) & 1;
    sc_role role = mode & 4 ? SC_ROLE_INITIATOR : SC_ROLE_RESPONDER;
    fz_world_init();
    const fz_flights *f = fz_flights_get(v);
    fz_ossl_seed(FZ_SEED_INPUT);
    memset(&c, 0, sizeof c);
    c.s = fz_established(v, role, &c.ev);
    /* The peer sends with the other role's secret and reads with ours. */
    int init = role == SC_ROLE_INITIATOR;
    FZ_CHECK(sc_dir_install(&c.tx, f->suite, init ? f->r_ap : f->i_ap, 1) == SC_OK);
    fz_reader_init(&c.rd, f->suite, init ? f->i_ap : f->r_ap);
    fz_ossl_seed(FZ_SEED_INPUT);

    switch (mode & 3) {
    case 0:
        raw(&c, in.p, in.len);
        break;
    case 1:
        while (in.len > 0 && !c.s->err)
            deliver_from(&c, &in);
        break;
    default:
        script(&c, &in);
        break;
    }
    sc_session_free(c.s);
    sc_dir_clear(&c.tx);
    fz_reader_free(&c.rd);
    return 0;
}
