/*
 * fz_rand.c - see fz_rand.h.
 */
#include "fz_rand.h"

#include <openssl/rand.h>

#include "fz_check.h"

/*
 * OpenSSL's RNG, made deterministic (splitmix64: the nonces only need to be
 * reproducible here, not secret). Steps of the recorded handshake reseed it
 * with their own constant so that a replay signs with the same nonce.
 *
 * Each request is served from its own stream, keyed by the step's seed, the
 * request's length and how many requests of that length came before in the
 * step. OpenSSL caches RSA blinding in the key and refreshes it only every
 * so often, so a private-key operation draws (modulus-sized) randomness or
 * not depending on the key's history; with one shared stream that would
 * shift the PSS salt drawn after it and a replay would sign differently.
 */
static struct {
    uint64_t seed;
    struct {
        int len;
        uint64_t count;
    } by_len[16];
    size_t n;
    uint64_t other; /* requests past 16 distinct lengths */
} fz_ossl;

static uint64_t fz_mix(uint64_t z)
{
    z += UINT64_C(0x9E3779B97F4A7C15);
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

void fz_ossl_seed(uint64_t seed)
{
    fz_ossl.seed = seed;
    fz_ossl.n = 0;
    fz_ossl.other = 0;
}

static int fz_ossl_bytes(unsigned char *buf, int num)
{
    size_t i = 0;
    uint64_t k;
    while (i < fz_ossl.n && fz_ossl.by_len[i].len != num)
        i++;
    if (i == fz_ossl.n && i < 16)
        fz_ossl.by_len[fz_ossl.n++].len = num, fz_ossl.by_len[i].count = 0;
    k = i < 16 ? fz_ossl.by_len[i].count++ : UINT64_C(1) << 32 | fz_ossl.other++;
    uint64_t state = fz_mix(fz_mix(fz_mix(fz_ossl.seed) ^ (uint64_t)num) ^ k);
    for (int j = 0; j < num; j += 8) {
        uint64_t z = fz_mix(state += UINT64_C(0x9E3779B97F4A7C15));
        for (int b = 0; b < 8 && j + b < num; b++)
            buf[j + b] = (unsigned char)(z >> (8 * b));
    }
    return 1;
}

static int fz_ossl_status(void)
{
    return 1;
}

/* The only way in OpenSSL 3.0 to replace its RNG in-process is the deprecated RAND_METHOD. */
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
void fz_ossl_rand_install(void)
{
    static const RAND_METHOD method = {NULL, fz_ossl_bytes, NULL,
                                       NULL, fz_ossl_bytes, fz_ossl_status};
    FZ_CHECK(RAND_set_rand_method(&method) == 1);
}
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
