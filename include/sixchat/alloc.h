/*
 * sixchat/alloc.h - the allocator libsixchat uses.
 *
 * By default the library allocates with the C library's malloc, realloc and
 * free. An embedder that wants its own allocator (an arena, accounting, or a
 * test that fails the Nth allocation) installs it once, before any other
 * call into the library, and keeps it for the life of the process. Memory
 * that OpenSSL and expat allocate on the library's behalf follows too:
 * expat's through these functions, OpenSSL's through the embedder's own
 * CRYPTO_set_mem_functions(), which the library never calls.
 */
#ifndef SIXCHAT_ALLOC_H
#define SIXCHAT_ALLOC_H

#include <stddef.h>
#include "sixchat/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Same contracts as malloc, realloc and free; a NULL return means out of memory. */
typedef void *(*sc_malloc_fn)(size_t n);
typedef void *(*sc_realloc_fn)(void *p, size_t n);
typedef void (*sc_free_fn)(void *p);

/*
 * Installs the allocator. All three functions are required. Call it once,
 * before anything else in the library has allocated (before the first
 * sc_config_new()), from one thread. Errors: SC_ERR_ARG (a NULL function),
 * SC_ERR_STATE (the library has already allocated with another allocator;
 * nothing is changed).
 */
SC_API SC_MUST_CHECK int sc_set_allocator(sc_malloc_fn m, sc_realloc_fn r, sc_free_fn f);

#ifdef __cplusplus
}
#endif
#endif
