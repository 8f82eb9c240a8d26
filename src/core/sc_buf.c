/*
 * sc_buf.c - the growable writer and the bounded reader (a growable writer that wipes, a reader
 * that cannot overrun).
 *
 * A writer may hold key material at any moment, so no byte it ever held is
 * released to the allocator without being wiped first: growth copies into a
 * fresh block and wipes the old one instead of calling sc__realloc().
 *
 * Invariant: no byte past len holds anything not yet wiped, because every
 * operation that shortens the buffer (consume, reset) wipes what it drops,
 * and a failed decryption into reserved space wipes itself. So wiping
 * [0, len) on free or growth is enough; wiping the whole capacity cost a
 * 32 KiB memset per bulk record.
 */
#define _DEFAULT_SOURCE /* explicit_bzero */
#include "sc_buf.h"
#include "sc_alloc.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

/* Smallest block we allocate, so that a run of small appends does not realloc per byte. */
#define SC_BUF_MIN_CAP 64

/*
 * Wipes what a buffer dropped. explicit_bzero is a plain memset the compiler
 * may not remove, as OPENSSL_cleanse is, but runs at memset speed: a 16 KiB
 * record of plaintext is wiped per record on the bulk path, where
 * OPENSSL_cleanse's byte loop cost an eighth of the time.
 */
static void wipe(const sc_buf *b, uint8_t *p, size_t n)
{
    if (!b->is_public && n > 0) explicit_bzero(p, n);
}

void sc_buf_init_public(sc_buf *b, size_t limit)
{
    sc_buf_init(b, limit);
    b->is_public = 1;
}

void sc_buf_init(sc_buf *b, size_t limit)
{
    memset(b, 0, sizeof(*b));
    b->limit = limit;
}

void sc_buf_dispose(sc_buf *b)
{
    if (b->data != NULL) {
        wipe(b, b->data, b->len);
        sc__free(b->data);
    }
    int pub = b->is_public;
    sc_buf_init(b, b->limit);
    b->is_public = pub;
}

int sc_buf_reserve(sc_buf *b, size_t n)
{
    if (b->failed) return -1;
    if (n > SIZE_MAX - b->len || (b->limit != 0 && b->len + n > b->limit)) goto fail;
    size_t need = b->len + n;
    if (need <= b->cap) return 0;

    size_t cap = b->cap < SC_BUF_MIN_CAP ? SC_BUF_MIN_CAP : b->cap;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    /* Never hold more memory than the limit allows the buffer to use. */
    if (b->limit != 0 && cap > b->limit) cap = b->limit;

    uint8_t *p = sc__malloc(cap);
    if (p == NULL) goto fail;
    if (b->data != NULL) {
        memcpy(p, b->data, b->len);
        wipe(b, b->data, b->len);
        sc__free(b->data);
    }
    b->data = p;
    b->cap = cap;
    return 0;

fail:
    /* Sticky, so that a caller appending several fields checks once at the end. */
    b->failed = 1;
    return -1;
}

int sc_buf_ok(const sc_buf *b)
{
    return !b->failed;
}

void sc_buf_put(sc_buf *b, const void *p, size_t n)
{
    if (sc_buf_reserve(b, n) != 0 || n == 0) return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void sc_buf_put_u8(sc_buf *b, uint8_t v)
{
    sc_buf_put(b, &v, 1);
}

void sc_buf_put_u16(sc_buf *b, uint16_t v)
{
    uint8_t t[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    sc_buf_put(b, t, sizeof(t));
}

void sc_buf_put_u24(sc_buf *b, uint32_t v)
{
    uint8_t t[3];
    sc_store_u24(t, v);
    sc_buf_put(b, t, sizeof(t));
}

void sc_buf_put_u32(sc_buf *b, uint32_t v)
{
    uint8_t t[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    sc_buf_put(b, t, sizeof(t));
}

void sc_buf_put_u64(sc_buf *b, uint64_t v)
{
    sc_buf_put_u32(b, (uint32_t)(v >> 32));
    sc_buf_put_u32(b, (uint32_t)v);
}

void sc_buf_put_str(sc_buf *b, const char *s)
{
    sc_buf_put(b, s, strlen(s));
}

void sc_buf_consume(sc_buf *b, size_t n)
{
    /* Consuming more than is there is a caller bug; emptying is the safe reading of it. */
    if (n >= b->len) {
        sc_buf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    wipe(b, b->data + b->len, n);
}

void sc_buf_reset(sc_buf *b)
{
    if (b->data != NULL) wipe(b, b->data, b->len);
    b->len = 0;
    /* A reset buffer starts a new message, so an earlier failure no longer applies. */
    b->failed = 0;
}

void sc_rd_init(sc_rd *r, const uint8_t *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->off = 0;
    r->failed = 0;
}

size_t sc_rd_left(const sc_rd *r)
{
    return r->len - r->off;
}

/*
 * The one place that checks the bound. Once failed, the reader stays failed,
 * so a parser reading several fields cannot resynchronise on garbage.
 */
static int rd_take(sc_rd *r, size_t n, const uint8_t **out)
{
    *out = NULL;
    if (r->failed || n > r->len - r->off) {
        r->failed = 1;
        return 0;
    }
    /* A reader over no bytes may have a NULL base; offsetting NULL, even by 0, is undefined. */
    if (r->p != NULL) *out = r->p + r->off;
    r->off += n;
    return 1;
}

int sc_rd_u8(sc_rd *r, uint8_t *v)
{
    const uint8_t *p;
    int ok = rd_take(r, 1, &p);
    *v = ok ? p[0] : 0;
    return ok;
}

int sc_rd_u16(sc_rd *r, uint16_t *v)
{
    const uint8_t *p;
    int ok = rd_take(r, 2, &p);
    *v = ok ? (uint16_t)((p[0] << 8) | p[1]) : 0;
    return ok;
}

int sc_rd_u24(sc_rd *r, uint32_t *v)
{
    const uint8_t *p;
    int ok = rd_take(r, 3, &p);
    *v = ok ? sc_load_u24(p) : 0;
    return ok;
}

int sc_rd_u32(sc_rd *r, uint32_t *v)
{
    const uint8_t *p;
    int ok = rd_take(r, 4, &p);
    *v = ok ? ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3] : 0;
    return ok;
}

int sc_rd_u64(sc_rd *r, uint64_t *v)
{
    const uint8_t *p;
    int ok = rd_take(r, 8, &p);
    *v = 0;
    for (int i = 0; ok && i < 8; i++)
        *v = (*v << 8) | p[i];
    return ok;
}

int sc_rd_bytes(sc_rd *r, size_t n, const uint8_t **out)
{
    return rd_take(r, n, out);
}
