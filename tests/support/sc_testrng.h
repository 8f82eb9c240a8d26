/*
 * sc_testrng.h - the deterministic random stream of tests, fuzz targets and
 * benchmarks: an sc_random_fn that yields SHA-256(seed || counter) blocks
 * (seed and counter little-endian, 8 bytes each), so the same seed gives
 * the same bytes in every process.
 */
#ifndef SC_TESTRNG_H
#define SC_TESTRNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct sc_test_rng {
    uint64_t seed;
    uint64_t counter; /* blocks drawn so far; 0 rewinds the stream */
    int fail;         /* when set, the source reports failure */
} sc_test_rng;

/* An sc_random_fn over ctx, an sc_test_rng. */
int sc_test_rng_fn(void *ctx, uint8_t *out, size_t len);

#endif
