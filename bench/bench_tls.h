/*
 * bench_tls.h - the yardstick: OpenSSL TLS 1.3 with client certificates on
 * both ends, both ends in one thread over a memory BIO pair.
 *
 * Alice's certificate is the client's, Bob's the server's. Each side
 * requires and verifies the other's certificate against the root
 * (SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT on both; no hostname
 * check). TLS 1.3 only. Nothing is ever resumed: every SSL object is new and
 * no session is offered, so every handshake is a full one.
 */
#ifndef BENCH_TLS_H
#define BENCH_TLS_H

#include <stddef.h>
#include "bench_certs.h"

typedef enum bench_tls_profile {
    /*
     * As an expert would set it up: one SSL_CTX per side shared by all
     * connections; the chain (leaf + intermediate) set once with
     * SSL_CTX_add1_chain_cert and SSL_MODE_NO_AUTO_CHAIN (no chain building
     * per handshake); trust store holding only the root; SSL_OP_NO_TICKET,
     * SSL_CTX_set_num_tickets(0) and SSL_SESS_CACHE_OFF (no tickets, no
     * session cache: nothing is stored that would never be used).
     */
    BENCH_TLS_TUNED = 0,
    /*
     * OpenSSL's defaults: leaf only, chain built from the store per
     * handshake (auto chain; the store holds root and intermediate), default
     * tickets (2 stateless tickets per handshake, read by the client) and
     * default session cache. Still one SSL_CTX per side.
     */
    BENCH_TLS_DEFAULT = 1,
    /* TUNED plus SSL_MODE_RELEASE_BUFFERS (idle connections drop their I/O buffers). */
    BENCH_TLS_TUNED_RELEASE_BUFFERS = 2,
} bench_tls_profile;

typedef struct bench_tls bench_tls;

/*
 * The two SSL_CTX (client: alice[keytype], server: bob[keytype]).
 * ciphersuites: a TLS 1.3 suite list such as "TLS_AES_256_GCM_SHA384", or
 * NULL for OpenSSL's default list. NULL on failure (reason on stderr).
 */
bench_tls *bench_tls_new(const bench_certs *c, int keytype, bench_tls_profile profile,
                         const char *ciphersuites);
void bench_tls_free(bench_tls *t);

/*
 * Runs n full handshakes, each on a new client/server SSL pair and BIO pair
 * (creation and freeing included, SSL_CTX setup not). *seconds is the
 * elapsed time. Returns BENCH_OK or BENCH_FAILED.
 */
int bench_tls_handshakes(bench_tls *t, int n, double *seconds);

/*
 * After one (untimed) handshake, times n messages of len bytes (1..16384)
 * client -> server: SSL_write of one record, SSL_read of it. *seconds covers
 * sealing and opening. Returns BENCH_OK or BENCH_FAILED.
 */
int bench_tls_records(bench_tls *t, size_t len, int n, double *seconds);

/*
 * Memory held by one idle connection after the handshake (tickets, if any,
 * processed), per side, counted by the bench_mem allocator (which must be
 * installed): bytes allocated by that side's SSL object and not freed. The
 * BIO pair (our stand-in for the kernel's socket buffers) is not counted.
 * *leftover: bytes still attributed to either side after both SSL objects
 * were freed (growth of shared caches; ideally 0). *heap_pair: for
 * comparison, the growth of the whole malloc heap (mallinfo2) while the
 * idle pair exists, both sides plus the BIO pair plus malloc's and the
 * counting allocator's per-block overhead. Warm-up handshakes run first so
 * that lazily filled global caches are not charged.
 * Returns BENCH_OK, BENCH_UNAVAILABLE (no counting allocator) or BENCH_FAILED.
 */
int bench_tls_idle_memory(bench_tls *t, long long *client_bytes, long long *server_bytes,
                          long long *leftover, long long *heap_pair);

/* Checks that a full handshake succeeds and prints what was negotiated. */
int bench_tls_describe(bench_tls *t, char *buf, size_t len);

#endif
