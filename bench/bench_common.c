/*
 * bench_common.c - names shared by the benchmark programs.
 */
#include "bench_common.h"

const char *bench_key_name(int keytype)
{
    switch (keytype) {
    case BENCH_KEY_P256:
        return "P-256";
    case BENCH_KEY_ED25519:
        return "Ed25519";
    case BENCH_KEY_RSA2048:
        return "RSA-2048";
    default:
        return "?";
    }
}

const char *bench_suite_name(int suite)
{
    return suite == BENCH_SUITE_CHACHA20_POLY1305 ? "chacha20-poly1305" : "aes-256-gcm";
}

const char *bench_suite_tls_name(int suite)
{
    return suite == BENCH_SUITE_CHACHA20_POLY1305 ? "TLS_CHACHA20_POLY1305_SHA256"
                                                  : "TLS_AES_256_GCM_SHA384";
}
