/*
 * fuzz_base64.c - strict canonical base64 (src/core/sc_base64.c).
 *
 * Oracles: an accepted input is canonical, so encoding what it decoded to
 * gives back the input byte for byte; the decoder never writes past the
 * capacity it is given; and any bytes, encoded, decode to themselves.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sc_base64.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) abort();                                                                      \
    } while (0)

static void check_decode(const uint8_t *data, size_t size)
{
    size_t max = sc_base64_decoded_max(size);
    size_t cap = max == SIZE_MAX ? 0 : max;
    /* Exactly cap bytes, so ASan sees a write past the stated capacity. */
    uint8_t *out = malloc(cap > 0 ? cap : 1);
    CHECK(out != NULL);
    long n = sc_base64_decode((const char *)data, size, out, cap);
    if (n < 0) {
        free(out);
        return;
    }
    CHECK(size % 4 == 0 && (size_t)n <= cap && cap - (size_t)n <= 2);

    sc_buf b;
    sc_buf_init(&b, 0);
    sc_base64_encode(&b, out, (size_t)n);
    CHECK(sc_buf_ok(&b) && b.len == size && (size == 0 || memcmp(b.data, data, size) == 0));
    sc_buf_dispose(&b);
    /* One byte less room than needed is refused, not truncated. */
    if (n > 0) CHECK(sc_base64_decode((const char *)data, size, out, (size_t)n - 1) == -1);
    free(out);
}

static void check_encode(const uint8_t *data, size_t size)
{
    sc_buf b;
    sc_buf_init(&b, 0);
    sc_base64_encode(&b, data, size);
    CHECK(sc_buf_ok(&b) && b.len == (size + 2) / 3 * 4);
    uint8_t *out = malloc(size > 0 ? size : 1);
    CHECK(out != NULL);
    CHECK(sc_base64_decode((const char *)b.data, b.len, out, size) == (long)size);
    CHECK(size == 0 || memcmp(out, data, size) == 0);
    free(out);
    sc_buf_dispose(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_decode(data, size);
    check_encode(data, size);
    return 0;
}
