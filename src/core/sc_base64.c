/*
 * sc_base64.c - strict canonical base64 (RFC 4648 section 4; docs/PROTOCOL.md 3.3).
 *
 * Base64 in this protocol carries secrets (the KT premaster ciphertext,
 * finished MACs), so mapping symbols to values uses no table lookup and no
 * branch on the symbol: the decoder's timing depends only on the length.
 * Only the padding, whose position is public, is examined with branches.
 */
#include "sc_base64.h"

#include <limits.h>
#include <openssl/crypto.h>

/* All ones if lo <= c <= hi, else 0. Arguments are below 256, so each difference has its top bit
 * set exactly when it went negative. */
static uint32_t ct_in_range(uint32_t c, uint32_t lo, uint32_t hi)
{
    return 0u - (((lo - 1 - c) & (c - hi - 1)) >> 31);
}

/* The 6-bit value of symbol c, or 0xffffffff if c is not in the alphabet. */
static uint32_t b64_value(uint8_t c)
{
    uint32_t v = 0xffffffffu;
    /* At most one range matches; adding value+1 cancels the initial -1. */
    v += ct_in_range(c, 'A', 'Z') & (c - 'A' + 1);
    v += ct_in_range(c, 'a', 'z') & (c - 'a' + 27);
    v += ct_in_range(c, '0', '9') & (c - '0' + 53);
    v += ct_in_range(c, '+', '+') & 63;
    v += ct_in_range(c, '/', '/') & 64;
    return v;
}

/* The symbol for 6-bit value v: start from 'A' and shift at each boundary of the alphabet. */
static char b64_symbol(uint32_t v)
{
    uint32_t c = 'A' + v;
    c += ct_in_range(v, 26, 63) & ('a' - 'A' - 26);
    c += ct_in_range(v, 52, 63) & ('0' - 'a' - 26);
    c += ct_in_range(v, 62, 63) & ('+' - '0' - 10);
    c += ct_in_range(v, 63, 63) & ('/' - '+' - 1);
    return (char)c;
}

void sc_base64_encode(sc_buf *out, const uint8_t *p, size_t n)
{
    if (n > (SIZE_MAX / 4 - 1) * 3) {
        out->failed = 1;
        return;
    }
    if (sc_buf_reserve(out, (n + 2) / 3 * 4) != 0) return;
    for (size_t i = 0; i < n; i += 3) {
        size_t rem = n - i < 3 ? n - i : 3;
        uint32_t w = (uint32_t)p[i] << 16;
        if (rem > 1) w |= (uint32_t)p[i + 1] << 8;
        if (rem > 2) w |= p[i + 2];
        char q[4] = {b64_symbol(w >> 18), b64_symbol((w >> 12) & 63),
                     rem > 1 ? b64_symbol((w >> 6) & 63) : '=', rem > 2 ? b64_symbol(w & 63) : '='};
        sc_buf_put(out, q, 4);
    }
}

size_t sc_base64_decoded_max(size_t n)
{
    return n % 4 != 0 ? SIZE_MAX : n / 4 * 3;
}

long sc_base64_decode(const char *s, size_t n, uint8_t *out, size_t outcap)
{
    const uint8_t *u = (const uint8_t *)s;
    if (n % 4 != 0 || n / 4 * 3 > LONG_MAX) return -1;
    if (n == 0) return 0;

    /* "xx==" or "xxx=" only; a lone '=' before a non-'=' is not padding. */
    size_t pad = 0;
    if (u[n - 1] == '=') pad = u[n - 2] == '=' ? 2 : 1;
    size_t outlen = n / 4 * 3 - pad;
    if (outlen > outcap) return -1;

    uint32_t bad = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        size_t sym = i + 4 == n ? 4 - pad : 4; /* symbols carrying data in this quantum */
        uint32_t w = 0;
        for (size_t k = 0; k < sym; k++) {
            uint32_t v = b64_value(u[i + k]);
            bad |= v;
            w |= (v & 63) << (18 - 6 * k);
        }
        /* Canonical form: the bits of the last symbol that fall outside the data must be 0. */
        if (sym == 2)
            bad |= (w & 0xffff) << 6;
        else if (sym == 3)
            bad |= (w & 0xff) << 6;
        out[o++] = (uint8_t)(w >> 16);
        if (sym > 2) out[o++] = (uint8_t)(w >> 8);
        if (sym > 3) out[o++] = (uint8_t)w;
    }
    /* An invalid symbol (value 0xffffffff) or stray trailing bits set bits above the low 6. */
    if (bad & ~(uint32_t)63) {
        OPENSSL_cleanse(out, o);
        return -1;
    }
    return (long)o;
}
