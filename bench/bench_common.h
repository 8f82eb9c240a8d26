/*
 * bench_common.h - shared enums and the clock of the benchmark harness.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <time.h>

/* Key type of the two leaf certificates (alice and bob). */
enum {
    BENCH_KEY_P256 = 0,
    BENCH_KEY_ED25519 = 1,
    BENCH_KEY_RSA2048 = 2,
    BENCH_KEY_COUNT = 3,
};

/* AEAD of the record layer. */
enum {
    BENCH_SUITE_AES_256_GCM = 0,       /* ours "aes-256-gcm", TLS_AES_256_GCM_SHA384 */
    BENCH_SUITE_CHACHA20_POLY1305 = 1, /* ours "chacha20-poly1305", TLS_CHACHA20_POLY1305_SHA256 */
    BENCH_SUITE_COUNT = 2,
};

/* Return codes of the measuring functions (ours and TLS). */
enum {
    BENCH_OK = 0,
    BENCH_UNAVAILABLE = -1, /* not implemented (yet): report "not available" */
    BENCH_FAILED = -2,      /* something broke: report "failed" */
};

/* "P-256", "Ed25519", "RSA-2048". */
const char *bench_key_name(int keytype);
/* "aes-256-gcm" / "chacha20-poly1305" (our names). */
const char *bench_suite_name(int suite);
/* "TLS_AES_256_GCM_SHA384" / "TLS_CHACHA20_POLY1305_SHA256". */
const char *bench_suite_tls_name(int suite);

/*
 * The benchmark clock, in seconds: the CPU time of this process (both ends
 * run in this one thread, so it is the cost of the work; other programs
 * competing for the cores do not inflate it as they would wall time).
 */
static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif
