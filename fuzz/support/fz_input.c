/*
 * fz_input.c - see fz_input.h.
 */
#include "fz_input.h"

uint8_t fz_u8(fz_in *in)
{
    if (in->len == 0) return 0;
    in->len--;
    return *in->p++;
}

uint16_t fz_u16(fz_in *in)
{
    uint16_t hi = fz_u8(in);
    return (uint16_t)(hi << 8 | fz_u8(in));
}

uint64_t fz_u64(fz_in *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | fz_u8(in);
    return v;
}

const uint8_t *fz_bytes(fz_in *in, size_t n, size_t *got)
{
    const uint8_t *p = in->p;
    if (n > in->len) n = in->len;
    in->p += n;
    in->len -= n;
    *got = n;
    return p;
}
