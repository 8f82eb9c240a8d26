/*
 * fz_input.h - reads fields off a fuzz input.
 */
#ifndef FZ_INPUT_H
#define FZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

/* Reads fields off the fuzz input; past the end every read yields zeros. */
typedef struct fz_in {
    const uint8_t *p;
    size_t len;
} fz_in;

uint8_t fz_u8(fz_in *in);
uint16_t fz_u16(fz_in *in); /* big-endian */
uint64_t fz_u64(fz_in *in); /* big-endian */

/* Up to n bytes (fewer at the end of the input); *got receives how many. */
const uint8_t *fz_bytes(fz_in *in, size_t n, size_t *got);

#endif
