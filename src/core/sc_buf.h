/*
 * sc_buf.h - the two byte types of the core (a growable writer that wipes, a reader that cannot
 * overrun).
 *
 * sc_buf: a growable writer. Every reallocation and the final free wipe the
 * old memory, so a buffer may hold secrets. Allocation failure is sticky:
 * after one, every append is a no-op and sc_buf_ok() returns 0, so callers
 * may append several fields and check once.
 *
 * sc_rd: a bounded reader over borrowed bytes. Every read checks the bound
 * and fails (returns 0, sets the reader's error flag) instead of overrunning.
 */
#ifndef SC_BUF_H
#define SC_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct sc_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t limit; /* 0: no limit; else appends past it fail */
    int failed;
    int is_public; /* holds only public bytes (ciphertext): never wiped */
} sc_buf;

void sc_buf_init(sc_buf *b, size_t limit);
/*
 * For buffers that only ever hold what goes on the wire (a session's output
 * after sealing, a partial received frame): no wiping, which would only
 * cost time.
 */
void sc_buf_init_public(sc_buf *b, size_t limit);
/* Wipes and frees the storage; the buffer is empty and reusable after. */
void sc_buf_dispose(sc_buf *b);
/* Ensures room for n more bytes. Returns 0 on success, -1 on failure. */
int sc_buf_reserve(sc_buf *b, size_t n);
int sc_buf_ok(const sc_buf *b);
void sc_buf_put(sc_buf *b, const void *p, size_t n);
void sc_buf_put_u8(sc_buf *b, uint8_t v);
void sc_buf_put_u16(sc_buf *b, uint16_t v);
void sc_buf_put_u24(sc_buf *b, uint32_t v);
void sc_buf_put_u32(sc_buf *b, uint32_t v);
void sc_buf_put_u64(sc_buf *b, uint64_t v);
void sc_buf_put_str(sc_buf *b, const char *s);
/* Removes the first n bytes (n <= len), moving the rest down; wipes the tail. */
void sc_buf_consume(sc_buf *b, size_t n);
/* Sets len to 0 and wipes the used part; keeps the storage. */
void sc_buf_reset(sc_buf *b);

typedef struct sc_rd {
    const uint8_t *p;
    size_t len;
    size_t off;
    int failed;
} sc_rd;

void sc_rd_init(sc_rd *r, const uint8_t *p, size_t len);
size_t sc_rd_left(const sc_rd *r);
int sc_rd_u8(sc_rd *r, uint8_t *v);
int sc_rd_u16(sc_rd *r, uint16_t *v);
int sc_rd_u24(sc_rd *r, uint32_t *v);
int sc_rd_u32(sc_rd *r, uint32_t *v);
int sc_rd_u64(sc_rd *r, uint64_t *v);
/* Points *out at the next n bytes (no copy) and advances. */
int sc_rd_bytes(sc_rd *r, size_t n, const uint8_t **out);

/* Big-endian store/load helpers for fixed headers. */
static inline void sc_store_u24(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 16);
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)v;
}
static inline uint32_t sc_load_u24(const uint8_t *p)
{
    return ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2];
}

#endif
