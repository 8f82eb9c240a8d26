/*
 * sc_testrng.c - see sc_testrng.h.
 */
#include "sc_testrng.h"

#include <string.h>
#include <openssl/evp.h>

int sc_test_rng_fn(void *ctx, uint8_t *out, size_t len)
{
    sc_test_rng *r = ctx;
    if (r->fail) return -1;
    while (len > 0) {
        uint8_t in[16], d[32];
        for (int i = 0; i < 8; i++) {
            in[i] = (uint8_t)(r->seed >> (8 * i));
            in[8 + i] = (uint8_t)(r->counter >> (8 * i));
        }
        r->counter++;
        if (!EVP_Digest(in, sizeof in, d, NULL, EVP_sha256(), NULL)) return -1;
        size_t n = len < sizeof d ? len : sizeof d;
        memcpy(out, d, n);
        out += n;
        len -= n;
    }
    return 0;
}
