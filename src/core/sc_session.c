/*
 * sc_session.c - the public session API: framing of the byte stream, the
 * record layer after the handshake, stanzas, key update, alerts, close and
 * timers (docs/PROTOCOL.md 3, 5, 9, 10). The handshake itself is in
 * sc_handshake.c.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include "sc_alloc.h"
#include "sc_compact.h"
#include "sc_keysched.h"
#include "sc_session_int.h"
#include "sc_stanza_codec.h"

static int fail(sc_session *s, int err);

int sc_session_new(const sc_config *cfg, sc_role role, uint64_t now_ms, sc_session **out)
{
    SC_ERRQ_GUARD;
    sc_session *s;
    int ret;
    if (cfg == NULL || out == NULL || (role != SC_ROLE_INITIATOR && role != SC_ROLE_RESPONDER))
        return SC_ERR_ARG;
    if (cfg->key == NULL || cfg->rand == NULL || cfg->policy.n_anchors == 0) return SC_ERR_CONFIG;
    if ((ret = sc__config_check_validity(cfg, now_ms)) != SC_OK) return ret;
    if ((s = sc__calloc(1, sizeof *s)) == NULL) return SC_ERR_NOMEM;
    s->cfg = cfg;
    s->role = role;
    s->now_ms = now_ms;
    sc_buf_init_public(&s->out, 0);           /* ciphertext and public handshake bytes */
    sc_buf_init_public(&s->in, SC_MAX_FRAME); /* a received frame, still encrypted */
    sc_buf_init(&s->plain, 0);
    if ((ret = sc__hs_new(s)) != SC_OK) {
        sc_session_free(s);
        return ret;
    }
    sc__set_state(s, role == SC_ROLE_INITIATOR ? SC_ST_I_START : SC_ST_R_WAIT_IHELLO);
    *out = s;
    return SC_OK;
}

void sc_session_free(sc_session *s)
{
    SC_ERRQ_GUARD;
    if (s == NULL) return;
    sc__hs_free(s);
    sc_dir_clear(&s->tx);
    sc_dir_clear(&s->rx);
    sc_buf_dispose(&s->out);
    sc_buf_dispose(&s->in);
    sc_buf_dispose(&s->plain);
    sc_xml_parser_free(s->xml);
    sc__free(s->expected_peer);
    OPENSSL_free(s->peer_cert);
    OPENSSL_cleanse(s, sizeof *s);
    sc__free(s);
}

void sc_session_set_callback(sc_session *s, sc_event_fn fn, void *ctx)
{
    s->cb = fn;
    s->cb_ctx = ctx;
}

static int before_start(const sc_session *s)
{
    return s->state == SC_ST_I_START || (s->state == SC_ST_R_WAIT_IHELLO && s->in.len == 0);
}

int sc_session_set_expected_peer(sc_session *s, const char *user_id)
{
    if (s == NULL || !sc_cert_valid_user_id(user_id)) return SC_ERR_ARG;
    if (!before_start(s)) return SC_ERR_STATE;
    sc__free(s->expected_peer);
    if ((s->expected_peer = sc__strdup(user_id)) == NULL) return SC_ERR_NOMEM;
    return SC_OK;
}

int sc_session_set_any_peer(sc_session *s)
{
    if (s == NULL || s->role != SC_ROLE_INITIATOR) return SC_ERR_ARG;
    if (!before_start(s)) return SC_ERR_STATE;
    s->any_peer = 1;
    return SC_OK;
}

/* A leaf and up to 3 intermediates, DER back to back (PROTOCOL.md 7.3 limits). */
int sc_session_set_peer_cert(sc_session *s, const uint8_t *der, size_t len)
{
    SC_ERRQ_GUARD;
    const unsigned char *p = der;
    size_t leaf_len = 0, n = 0;
    if (s == NULL || der == NULL || len == 0 || len > SC_CERT_MAX_DER * SC_CERT_MAX_CHAIN)
        return SC_ERR_ARG;
    if (!before_start(s) || s->hs == NULL) return SC_ERR_STATE;
    while (p < der + len) {
        const unsigned char *start = p;
        X509 *x = d2i_X509(NULL, &p, (long)(der + len - p));
        X509_free(x);
        if (x == NULL || n == SC_CERT_MAX_CHAIN || (size_t)(p - start) > SC_CERT_MAX_DER)
            return SC_ERR_ARG;
        if (n++ == 0) leaf_len = (size_t)(p - start);
    }
    sc__free(s->hs->known_cert);
    s->hs->known_cert_len = 0;
    if ((s->hs->known_cert = sc__malloc(len)) == NULL) return SC_ERR_NOMEM;
    memcpy(s->hs->known_cert, der, len);
    s->hs->known_cert_len = len;
    s->hs->known_leaf_len = leaf_len;
    return SC_OK;
}

int sc_session_start(sc_session *s)
{
    SC_ERRQ_GUARD;
    if (s == NULL) return SC_ERR_ARG;
    if (s->err) return s->err;
    if (s->role == SC_ROLE_RESPONDER) return SC_OK;
    if (s->state != SC_ST_I_START) return SC_ERR_STATE;
    /* An initiator says whom it means to reach, or says it means anyone (PROTOCOL.md 8.2). */
    if (s->expected_peer == NULL && !s->any_peer) return SC_ERR_CONFIG;
    int ret = sc__hs_start(s);
    return ret == SC_OK ? SC_OK : fail(s, ret);
}

/* ---- alerts and failure ------------------------------------------------ */

/* In a record when we have a sending key, else as a plaintext ALERT frame. */
static void send_alert(sc_session *s, uint8_t code)
{
    if (s->tx.active) {
        if (sc_record_seal(&s->tx, &s->out, SC_INNER_ALERT, &code, 1, NULL, 0) == SC_OK) return;
    }
    sc_frame_put(&s->out, SC_FRAME_ALERT, &code, 1);
}

/* Makes err sticky, tells the peer when we detected it, and reports it once. */
static int fail(sc_session *s, int err)
{
    if (s->err) return s->err;
    s->err = err;
    if (s->sent_close || s->wire_alert < 0)
        ; /* nothing follows our close_notify, not even an alert */
    else if (s->wire_alert > 0)
        send_alert(s, (uint8_t)s->wire_alert); /* the handshake chose it (PROTOCOL.md 9.2) */
    else if (SC_ERR_IS_ALERT(err))
        send_alert(s, (uint8_t)SC_ERR_ALERT_CODE(err));
    else if (err < 0 && err != SC_ERR_TRUNCATED)
        send_alert(s, SC_ALERT_INTERNAL_ERROR); /* a local failure: do not leave the peer waiting */
    s->state = SC_ST_FAILED;
    s->deadline = UINT64_MAX;
    sc__hs_free(s);
    sc_event ev = {.type = SC_EV_ERROR, .u.err = err};
    sc__emit(s, &ev);
    return err;
}

static int on_alert(sc_session *s, const uint8_t *p, size_t len)
{
    if (len != 1) return SC_ERR_DECODE_ERROR;
    /* Any other alert is fatal; the peer already knows, so nothing goes back. */
    if (p[0] != SC_ALERT_CLOSE_NOTIFY) return fail(s, SC_ERR_PEER_ALERT(p[0]));
    if (s->state != SC_ST_ESTABLISHED) return SC_ERR_UNEXPECTED_MESSAGE;
    if (!s->sent_close) {
        send_alert(s, SC_ALERT_CLOSE_NOTIFY);
        s->sent_close = 1;
    }
    s->state = SC_ST_CLOSED;
    sc_event ev = {.type = SC_EV_CLOSED};
    sc__emit(s, &ev);
    return SC_OK;
}

/* ---- sending application data ------------------------------------------ */

static int send_key_update(sc_session *s, uint8_t request)
{
    sc_dir next;
    /* The new key first: once the key_update is queued, the peer expects it (5.4). */
    int ret = sc_dir_next(&s->tx, &next);
    if (ret == SC_OK)
        ret = sc_record_seal(&s->tx, &s->out, SC_INNER_KEY_UPDATE, &request, 1, NULL, 0);
    if (ret == SC_OK)
        sc_dir_replace(&s->tx, &next);
    else
        sc_dir_clear(&next);
    if (ret == SC_OK) {
        sc_event ev = {.type = SC_EV_KEY_UPDATE};
        ev.u.key_update.outbound = 1;
        ev.u.key_update.generation = s->tx.generation;
        sc__emit(s, &ev);
    }
    return ret;
}

/* Rolls the sending key when it has protected enough (PROTOCOL.md 5.4). */
static int after_seal(sc_session *s)
{
    if (s->tx.records >= s->cfg->ku_records || s->tx.bytes >= s->cfg->ku_bytes)
        return send_key_update(s, 0);
    return SC_OK;
}

static int can_send(const sc_session *s)
{
    if (s->err) return s->err;
    if (s->state != SC_ST_ESTABLISHED || s->sent_close) return SC_ERR_STATE;
    return SC_OK;
}

/*
 * The content is written straight into the output buffer and encrypted
 * there. While plaintext sits in it the buffer wipes what it outgrows.
 * Messages and receipts go in compact form (PROTOCOL.md 10.4): their size
 * is known, so room for the whole record is reserved at once and the
 * plaintext is never moved; the other stanzas as XML.
 */
static int send_stanza(sc_session *s, const sc_stanza *st)
{
    int ret, compact = sc_compact_carries(st);
    size_t room = compact ? SC_FRAME_HDR + 1 + sc_compact_len(st) + SC_TAG_LEN : 256;
    if (compact && room > SC_FRAME_HDR + 1 + SC_COMPACT_FIXED + SC_STANZA_ID_MAX +
                              SC_STANZA_TEXT_MAX + SC_TAG_LEN)
        return SC_ERR_ARG; /* an id or text over its limit: refused below, reserve nothing */
    if (sc_buf_reserve(&s->out, room) != 0) return SC_ERR_NOMEM;
    s->out.is_public = 0;
    size_t start = sc_record_begin(&s->out, compact ? SC_INNER_COMPACT : SC_INNER_STANZA);
    ret = compact ? sc_compact_write(&s->out, st) : sc_stanza_write(&s->out, st);
    /* Valid text can still escape past the peer's document limit: the caller's error. */
    if (ret == SC_OK && !compact && s->out.len - start - SC_FRAME_HDR - 1 > SC_XML_MAX_DOC)
        ret = SC_ERR_TOO_LARGE;
    if (ret == SC_OK && !sc_buf_ok(&s->out)) ret = SC_ERR_NOMEM;
    if (ret == SC_OK)
        ret = sc_record_finish(&s->tx, &s->out, start);
    else
        sc_record_abort(&s->out, start);
    s->out.is_public = 1;
    return ret == SC_OK ? after_seal(s) : ret;
}

int sc_session_send_stanza(sc_session *s, const sc_stanza *st)
{
    SC_ERRQ_GUARD;
    int ret;
    if (s == NULL || st == NULL) return SC_ERR_ARG;
    if ((ret = can_send(s)) != SC_OK) return ret;
    ret = send_stanza(s, st);
    /* A stanza the caller got wrong is their error; anything else ends the session. */
    return ret == SC_OK || ret == SC_ERR_ARG || ret == SC_ERR_TOO_LARGE ? ret : fail(s, ret);
}

int sc_session_send_file_data(sc_session *s, const char *id, uint64_t offset, const uint8_t *data,
                              size_t len)
{
    SC_ERRQ_GUARD;
    uint8_t hdr[1 + SC_STANZA_ID_MAX + 8];
    size_t idlen = id ? strlen(id) : 0, hlen = 1 + idlen + 8;
    int ret;
    /* A range past 2^64 would wrap the offset; the peer refuses it (decode_error). */
    if (s == NULL || !sc_stanza_valid_id(id, idlen) || (data == NULL && len) ||
        len > UINT64_MAX - offset)
        return SC_ERR_ARG;
    if ((ret = can_send(s)) != SC_OK) return ret;
    hdr[0] = (uint8_t)idlen;
    memcpy(hdr + 1, id, idlen);
    do {
        size_t n = len < SC_MAX_PLAINTEXT - hlen ? len : SC_MAX_PLAINTEXT - hlen;
        for (int i = 0; i < 8; i++)
            hdr[1 + idlen + i] = (uint8_t)(offset >> (56 - 8 * i));
        ret = sc_record_seal(&s->tx, &s->out, SC_INNER_FILE_DATA, hdr, hlen, data, n);
        if (ret == SC_OK) ret = after_seal(s);
        if (ret != SC_OK) return fail(s, ret);
        data += n;
        len -= n;
        offset += n;
    } while (len > 0);
    return SC_OK;
}

int sc_session_key_update(sc_session *s, int request_peer)
{
    SC_ERRQ_GUARD;
    int ret;
    if (s == NULL) return SC_ERR_ARG;
    if ((ret = can_send(s)) != SC_OK) return ret;
    ret = send_key_update(s, request_peer ? 1 : 0);
    return ret == SC_OK ? ret : fail(s, ret);
}

int sc_session_close(sc_session *s)
{
    SC_ERRQ_GUARD;
    if (s == NULL) return SC_ERR_ARG;
    if (s->err) return s->err;
    if (s->sent_close) return SC_OK;
    if (s->state != SC_ST_ESTABLISHED && s->state != SC_ST_CLOSED) return SC_ERR_STATE;
    send_alert(s, SC_ALERT_CLOSE_NOTIFY);
    s->sent_close = 1;
    return sc_buf_ok(&s->out) ? SC_OK : fail(s, SC_ERR_NOMEM);
}

/* ---- receiving application records ------------------------------------- */

static int on_stanza(sc_session *s, const uint8_t *p, size_t len)
{
    sc_xml_doc *doc = NULL;
    sc_stanza st;
    int ret;
    if (s->xml == NULL && (s->xml = sc_xml_parser_new()) == NULL) return SC_ERR_NOMEM;
    if ((ret = sc_xml_parse_with(s->xml, p, len, &doc)) != SC_OK) return ret;
    if ((ret = sc_stanza_parse(sc_xml_root(doc), &st)) == SC_OK && st.type != 0) {
        if (st.type == SC_STANZA_PING) {
            sc_stanza pong = {.type = SC_STANZA_PONG, .id = st.id};
            /* Keepalives are answered here so every embedder gets them right. */
            if (!s->sent_close) ret = send_stanza(s, &pong);
        } else {
            sc_event ev = {.type = SC_EV_STANZA, .u.stanza = &st};
            sc__emit(s, &ev);
        }
    }
    sc_xml_free(doc);
    return ret;
}

/* A msg or receipt in compact form; the application sees the same event as for XML. */
static int on_compact(sc_session *s, const uint8_t *p, size_t len)
{
    char id[SC_STANZA_ID_MAX + 1];
    sc_stanza st;
    int ret = sc_compact_parse(p, len, id, &st);
    if (ret == SC_OK && st.type != 0) {
        sc_event ev = {.type = SC_EV_STANZA, .u.stanza = &st};
        sc__emit(s, &ev);
    }
    return ret;
}

static int on_file_data(sc_session *s, const uint8_t *p, size_t len)
{
    sc_rd r;
    uint8_t idlen;
    const uint8_t *id;
    uint64_t offset;
    char idstr[SC_STANZA_ID_MAX + 1];
    sc_rd_init(&r, p, len);
    if (!sc_rd_u8(&r, &idlen) || !sc_rd_bytes(&r, idlen, &id) || !sc_rd_u64(&r, &offset) ||
        !sc_stanza_valid_id((const char *)id, idlen) || sc_rd_left(&r) > UINT64_MAX - offset)
        return SC_ERR_DECODE_ERROR;
    memcpy(idstr, id, idlen);
    idstr[idlen] = '\0';
    sc_event ev = {.type = SC_EV_FILE_DATA};
    ev.u.file.id = idstr;
    ev.u.file.offset = offset;
    ev.u.file.data = p + r.off;
    ev.u.file.len = sc_rd_left(&r);
    sc__emit(s, &ev);
    return SC_OK;
}

static int on_key_update(sc_session *s, const uint8_t *p, size_t len)
{
    int ret;
    if (len != 1 || p[0] > 1) return SC_ERR_DECODE_ERROR;
    if ((ret = sc_dir_update(&s->rx)) != SC_OK) return ret;
    sc_event ev = {.type = SC_EV_KEY_UPDATE};
    ev.u.key_update.outbound = 0;
    ev.u.key_update.generation = s->rx.generation;
    sc__emit(s, &ev);
    /* Answer a request once; the answer does not request, so this cannot loop. */
    if (p[0] == 1 && !s->sent_close && s->state == SC_ST_ESTABLISHED) return send_key_update(s, 0);
    return SC_OK;
}

static int on_record(sc_session *s, const uint8_t *frame, size_t frame_len)
{
    uint8_t inner;
    const uint8_t *p;
    size_t len;
    int ret;
    if (!s->rx.active) return SC_ERR_UNEXPECTED_MESSAGE;
    if ((ret = sc_record_open(&s->rx, frame, frame_len, &s->plain, &inner, &p, &len)) != SC_OK)
        return ret;
    if (inner == SC_INNER_ALERT) return on_alert(s, p, len);
    if (inner == SC_INNER_HANDSHAKE) return sc__hs_recv(s, p, len, 0);
    if (s->state != SC_ST_ESTABLISHED) return SC_ERR_UNEXPECTED_MESSAGE;
    switch (inner) {
    case SC_INNER_COMPACT:
        return on_compact(s, p, len);
    case SC_INNER_STANZA:
        return on_stanza(s, p, len);
    case SC_INNER_FILE_DATA:
        return on_file_data(s, p, len);
    case SC_INNER_KEY_UPDATE:
        return on_key_update(s, p, len);
    default:
        return SC_ERR_UNEXPECTED_MESSAGE;
    }
}

/* One whole frame, header checked. */
static int on_frame(sc_session *s, const uint8_t *frame, size_t len)
{
    const uint8_t *body = frame + SC_FRAME_HDR;
    size_t body_len = len - SC_FRAME_HDR;
    if (s->state == SC_ST_CLOSED) return SC_OK; /* nothing counts after close_notify */
    switch (frame[0]) {
    case SC_FRAME_RECORD:
        return on_record(s, frame, len);
    case SC_FRAME_HELLO:
        return sc__hs_recv(s, body, body_len, 1);
    default: /* SC_FRAME_ALERT: accepted until the handshake completes (PROTOCOL.md 3.2) */
        if (s->state == SC_ST_ESTABLISHED) return SC_ERR_UNEXPECTED_MESSAGE;
        return on_alert(s, body, body_len);
    }
}

/*
 * The frame header, checked before any room is reserved: the type's limits,
 * and before the handshake is done no record longer than a handshake
 * message, so an unauthenticated peer can make us hold 16 KiB at most.
 */
static int check_header(const sc_session *s, const uint8_t *hdr, uint32_t *body_len)
{
    int ret = sc_frame_check(hdr, body_len);
    if (ret == SC_OK && hdr[0] == SC_FRAME_RECORD &&
        s->state<SC_ST_ESTABLISHED && * body_len> SC_MAX_HS_RECORD)
        ret = SC_ERR_RECORD_OVERFLOW;
    return ret;
}

/*
 * Buffers at most one partial frame; whole frames in `data` are processed in
 * place. The header is checked before any room is reserved for the body.
 */
int sc_session_recv(sc_session *s, const uint8_t *data, size_t len, uint64_t now_ms)
{
    SC_ERRQ_GUARD;
    uint32_t body_len = 0;
    int ret = SC_OK;
    if (s == NULL || (data == NULL && len)) return SC_ERR_ARG;
    if (s->err) return s->err;
    s->now_ms = now_ms;
    while (len > 0 && ret == SC_OK && !s->err) {
        if (s->in.len > 0 || len < SC_FRAME_HDR) {
            size_t want = SC_FRAME_HDR;
            if (s->in.len >= SC_FRAME_HDR) want += sc_load_u24(s->in.data + 1);
            size_t take = want - s->in.len < len ? want - s->in.len : len;
            sc_buf_put(&s->in, data, take);
            if (!sc_buf_ok(&s->in)) return fail(s, SC_ERR_NOMEM);
            data += take;
            len -= take;
            if (s->in.len == SC_FRAME_HDR) {
                if ((ret = check_header(s, s->in.data, &body_len)) != SC_OK) break;
                if (body_len && sc_buf_reserve(&s->in, body_len) != 0) return fail(s, SC_ERR_NOMEM);
                continue;
            }
            if (s->in.len < want) continue;
            ret = on_frame(s, s->in.data, s->in.len);
            sc_buf_dispose(&s->in); /* an idle session holds no receive buffer */
            continue;
        }
        if ((ret = check_header(s, data, &body_len)) != SC_OK) break;
        if (len < SC_FRAME_HDR + body_len) {
            if (sc_buf_reserve(&s->in, SC_FRAME_HDR + body_len) != 0) return fail(s, SC_ERR_NOMEM);
            sc_buf_put(&s->in, data, len);
            break;
        }
        ret = on_frame(s, data, SC_FRAME_HDR + body_len);
        data += SC_FRAME_HDR + body_len;
        len -= SC_FRAME_HDR + body_len;
    }
    sc_buf_dispose(&s->plain); /* decrypted bytes do not outlive the call */
    if (ret != SC_OK) return fail(s, ret);
    if (!sc_buf_ok(&s->out)) return fail(s, SC_ERR_NOMEM);
    return s->err;
}

int sc_session_eof(sc_session *s)
{
    SC_ERRQ_GUARD;
    if (s == NULL) return SC_ERR_ARG;
    if (s->state == SC_ST_CLOSED) return SC_OK;
    if (s->err) return s->err;
    /* The transport is gone: record the truncation without an alert nobody reads. */
    s->err = SC_ERR_TRUNCATED;
    s->state = SC_ST_FAILED;
    s->deadline = UINT64_MAX;
    sc__hs_free(s);
    sc_event ev = {.type = SC_EV_ERROR, .u.err = SC_ERR_TRUNCATED};
    sc__emit(s, &ev);
    return SC_ERR_TRUNCATED;
}

int sc_session_tick(sc_session *s, uint64_t now_ms)
{
    SC_ERRQ_GUARD;
    if (s == NULL) return SC_ERR_ARG;
    if (s->err) return s->err;
    s->now_ms = now_ms;
    if (now_ms >= s->deadline) return fail(s, SC_ERR_TIMEOUT);
    return SC_OK;
}

uint64_t sc_session_deadline(const sc_session *s)
{
    return s->deadline;
}

size_t sc_session_output(sc_session *s, const uint8_t **data)
{
    *data = s->out.data;
    return s->out.len;
}

void sc_session_output_consume(sc_session *s, size_t n)
{
    if (n >= s->out.len)
        sc_buf_dispose(&s->out); /* idle sessions keep no send buffer either */
    else
        sc_buf_consume(&s->out, n);
}

int sc_session_established(const sc_session *s)
{
    return s->state == SC_ST_ESTABLISHED && !s->err;
}

int sc_session_error(const sc_session *s)
{
    return s->err;
}

const char *sc_session_peer_id(const sc_session *s)
{
    return s->peer_cert ? s->peer_id : NULL;
}

int sc_session_export(const sc_session *s, const char *label, uint8_t out[32])
{
    SC_ERRQ_GUARD;
    if (s == NULL || label == NULL || strlen(label) > 200) return SC_ERR_ARG;
    if (s->peer_cert == NULL) return SC_ERR_STATE;
    return sc_hkdf_expand_label(s->exporter, label, NULL, 0, out, 32);
}
