/*
 * sixchat/platform.h - the few helpers that touch the operating system.
 * They live outside the sans-I/O core (src/platform/) so that programs
 * embedding the library do not have to write them.
 */
#ifndef SIXCHAT_PLATFORM_H
#define SIXCHAT_PLATFORM_H

#include <stddef.h>
#include <stdint.h>
#include "sixchat/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An sc_random_fn backed by OpenSSL's RAND_bytes (seeded by the OS). ctx is unused. */
SC_API int sc_random_system(void *ctx, uint8_t *out, size_t len);

/* Milliseconds since the Unix epoch: the now_ms of sc_session_* and stanza timestamps. */
SC_API uint64_t sc_clock_ms(void);

/* Overwrites p[0..n) with zeros in a way the compiler cannot remove (for key PEM buffers). */
SC_API void sc_wipe(void *p, size_t n);

/*
 * Reads a whole file (at most max bytes) into a NUL-terminated malloc'd
 * buffer. Returns SC_OK, SC_ERR_IO (errno tells why) or SC_ERR_TOO_LARGE.
 * The caller frees (after sc_wipe if it held a key).
 */
SC_API SC_MUST_CHECK int sc_read_file(const char *path, size_t max, char **out, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
