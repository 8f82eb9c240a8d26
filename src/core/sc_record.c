/*
 * sc_record.c - frames and the record layer (docs/PROTOCOL.md 3, 5).
 */
#include <string.h>
#include <openssl/crypto.h>
#include "sixchat/error.h"
#include "sc_keysched.h"
#include "sc_record.h"

int sc_frame_check(const uint8_t hdr[SC_FRAME_HDR], uint32_t *body_len)
{
    uint32_t len = sc_load_u24(hdr + 1), min, max;
    switch (hdr[0]) {
    case SC_FRAME_HELLO:
        min = 1, max = SC_MAX_HELLO;
        break;
    case SC_FRAME_RECORD:
        min = SC_MIN_RECORD, max = SC_MAX_RECORD;
        break;
    case SC_FRAME_ALERT:
        min = 1, max = 1;
        break;
    default:
        return SC_ERR_UNEXPECTED_MESSAGE;
    }
    if (len > max) return SC_ERR_RECORD_OVERFLOW;
    if (len < min) return SC_ERR_DECODE_ERROR;
    *body_len = len;
    return SC_OK;
}

void sc_frame_put(sc_buf *out, uint8_t type, const uint8_t *body, size_t len)
{
    sc_buf_put_u8(out, type);
    sc_buf_put_u24(out, (uint32_t)len);
    sc_buf_put(out, body, len);
}

static int install_keys(sc_dir *d, int enc)
{
    uint8_t key[SC_KEY_LEN], iv[SC_IV_LEN];
    int ret = sc_ks_traffic(d->secret, key, iv);
    if (ret == SC_OK) ret = sc_aead_init(&d->aead, d->suite, key, iv, enc);
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(iv, sizeof iv);
    d->records = d->bytes = 0;
    d->active = ret == SC_OK;
    return ret;
}

int sc_dir_install(sc_dir *d, int suite, const uint8_t secret[SC_HASH_LEN], int enc)
{
    memcpy(d->secret, secret, SC_HASH_LEN);
    d->suite = suite;
    return install_keys(d, enc);
}

/*
 * The next generation is built beside the current one and swapped in only
 * when whole: a key update that runs out of memory leaves the current key
 * in place, so the alert that follows is sealed under a key the peer holds
 * (found by tests/test_oom.c; it got bad_record_mac).
 */
int sc_dir_next(const sc_dir *d, sc_dir *next)
{
    memset(next, 0, sizeof *next);
    memcpy(next->secret, d->secret, SC_HASH_LEN);
    next->suite = d->suite;
    next->generation = d->generation + 1;
    int ret = sc_ks_next(next->secret);
    if (ret == SC_OK) ret = install_keys(next, d->aead.enc);
    if (ret != SC_OK) sc_dir_clear(next);
    return ret;
}

void sc_dir_replace(sc_dir *d, sc_dir *next)
{
    sc_dir_clear(d);
    *d = *next;
    OPENSSL_cleanse(next, sizeof *next);
}

int sc_dir_update(sc_dir *d)
{
    sc_dir next;
    int ret = sc_dir_next(d, &next);
    if (ret == SC_OK) sc_dir_replace(d, &next);
    return ret;
}

void sc_dir_clear(sc_dir *d)
{
    sc_aead_clear(&d->aead);
    OPENSSL_cleanse(d, sizeof *d);
}

size_t sc_record_begin(sc_buf *out, uint8_t inner)
{
    size_t start = out->len;
    sc_buf_put_u8(out, SC_FRAME_RECORD);
    sc_buf_put_u24(out, 0); /* the length is known at sc_record_finish */
    sc_buf_put_u8(out, inner);
    return start;
}

void sc_record_abort(sc_buf *out, size_t start)
{
    if (out->data != NULL && out->len > start) OPENSSL_cleanse(out->data + start, out->len - start);
    out->len = start;
}

/* Seals the record begun at start, its plaintext being what follows it in out, then tail. */
static int finish(sc_dir *d, sc_buf *out, size_t start, const uint8_t *tail, size_t tail_len)
{
    size_t head = out->len - start - SC_FRAME_HDR, plen = head + tail_len;
    int ret = SC_ERR_NOMEM;
    if (!sc_buf_ok(out)) goto fail;
    ret = SC_ERR_TOO_LARGE;
    if (plen - 1 > SC_MAX_PLAINTEXT) goto fail;
    ret = SC_ERR_NOMEM;
    if (sc_buf_reserve(out, tail_len + SC_TAG_LEN) != 0) goto fail;
    uint8_t *p = out->data + start;
    sc_store_u24(p + 1, (uint32_t)(plen + SC_TAG_LEN));
    /* The head is encrypted in place, the tail into out after it (sc_crypto.h). */
    ret = sc_aead_seal2(&d->aead, p, SC_FRAME_HDR, p + SC_FRAME_HDR, head, tail, tail_len,
                        p + SC_FRAME_HDR + plen);
    if (ret != SC_OK) goto fail;
    out->len += tail_len + SC_TAG_LEN;
    d->records++;
    d->bytes += plen;
    return SC_OK;
fail:
    sc_record_abort(out, start);
    return ret;
}

int sc_record_finish(sc_dir *d, sc_buf *out, size_t start)
{
    return finish(d, out, start, NULL, 0);
}

int sc_record_seal(sc_dir *d, sc_buf *out, uint8_t inner, const uint8_t *a, size_t a_len,
                   const uint8_t *b, size_t b_len)
{
    if (a_len + b_len > SC_MAX_PLAINTEXT) return SC_ERR_TOO_LARGE;
    /* Room for all of it first, so the plaintext is never in a block that gets reallocated. */
    if (sc_buf_reserve(out, SC_FRAME_HDR + 1 + a_len + b_len + SC_TAG_LEN) != 0)
        return SC_ERR_NOMEM;
    size_t start = sc_record_begin(out, inner);
    if (a_len) sc_buf_put(out, a, a_len);
    return finish(d, out, start, b, b_len);
}

int sc_record_open(sc_dir *d, const uint8_t *frame, size_t frame_len, sc_buf *plain, uint8_t *inner,
                   const uint8_t **content, size_t *content_len)
{
    size_t clen = frame_len - SC_FRAME_HDR - SC_TAG_LEN;
    int ret;
    sc_buf_reset(plain);
    if (sc_buf_reserve(plain, clen) != 0) return SC_ERR_NOMEM;
    /* Decrypt straight from the received bytes: no copy of the ciphertext. */
    ret = sc_aead_open(&d->aead, frame, SC_FRAME_HDR, frame + SC_FRAME_HDR, plain->data, clen,
                       frame + SC_FRAME_HDR + clen);
    if (ret != SC_OK) return ret;
    plain->len = clen;
    d->records++;
    d->bytes += clen;
    *inner = plain->data[0];
    *content = plain->data + 1;
    *content_len = clen - 1;
    return SC_OK;
}
