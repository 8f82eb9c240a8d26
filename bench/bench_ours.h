/*
 * bench_ours.h - OUR side of every figure: libsixchat sessions, both ends
 * in one thread, bytes passed between them in memory.
 *
 * Every function returns BENCH_OK (0) with its measurement filled in,
 * BENCH_UNAVAILABLE (-1) while not implemented (the programs then print
 * "ours: not available"), or BENCH_FAILED (-2) on failure (printed as
 * FAILED; the benchmark still completes). Do not pass an sc_err through:
 * SC_ERR_NOMEM is -1 too. Print the reason of a failure on stderr.
 *
 * Setup (configs, certificates decoded into sc_config) is NOT timed; only
 * the work a TLS connection would also do is. Time with bench_now() (CPU
 * time of the process), as the TLS side does. Alice (c->alice[keytype]) is
 * the initiator, Bob (c->bob[keytype]) the responder; both trust
 * c->root_pem.
 */
#ifndef BENCH_OURS_H
#define BENCH_OURS_H

#include <stddef.h>
#include "bench_certs.h"

/*
 * n complete first-contact handshakes (new sc_session pair each time, both
 * peers authenticated; sessions created and freed inside the timing, the
 * sc_config pair shared). *seconds: bench_now() time for all n.
 * Compared with TLS 1.3 full handshakes (tuned, and default settings).
 */
int bench_ours_handshakes(const bench_certs *c, int keytype, int n, double *seconds);
/*
 * bench_ours_handshakes measures first contact with a new peer whose CA
 * (the intermediate) each side has seen before from other peers, the usual
 * case. This is first contact with nothing seen before: the intermediate is
 * decoded and verified too.
 */
int bench_ours_handshakes_new_ca(const bench_certs *c, int keytype, int n, double *seconds);

/*
 * As bench_ours_handshakes, but between peers who have met before (the
 * peer's verified chain is in the bounded cache; the transcript signature
 * is still checked every time). Warm the cache before timing.
 * Compared with tuned TLS 1.3 full handshakes.
 */
int bench_ours_handshakes_known(const bench_certs *c, int keytype, int n, double *seconds);

/*
 * After one untimed handshake with `suite` (BENCH_SUITE_*), n messages of
 * len application bytes each (len is 16384 for bulk, 100 for small
 * messages) from initiator to responder: sealed by the initiator, the
 * output fed to the responder, opened and delivered as an event.
 * *seconds covers sealing and opening of all n.
 */
int bench_ours_records(const bench_certs *c, int keytype, int suite, size_t len, int n,
                       double *seconds);

/*
 * Bytes held by one idle session per side right after the handshake: all
 * that the sc_session holds (its own receive and output buffers included,
 * as OpenSSL's record buffers are counted for TLS), but not what the
 * harness uses to carry bytes between the two ends (the BIO pair for TLS).
 * Exclude memory shared by all sessions (sc_config, caches) by warming up
 * first, as the TLS side does. See bench_mem.h for the counting allocator;
 * bench_handshake --memory installs it before anything else runs.
 */
int bench_ours_idle_memory(const bench_certs *c, int keytype, long long *initiator_bytes,
                           long long *responder_bytes);

#endif
