/*
 * bench_mem.h - a counting allocator for OpenSSL, to measure the memory a
 * connection holds.
 *
 * bench_mem_install() hands OpenSSL (CRYPTO_set_mem_functions) an allocator
 * that prefixes every block with its size and the "tag" current when it was
 * allocated. The caller sets the tag (e.g. BENCH_MEM_CLIENT) around the work
 * of one side; bench_mem_live(tag) is then the number of bytes allocated
 * under that tag and not yet freed, whichever tag is current at the free.
 * Counts are bytes requested (malloc's own per-block overhead not included).
 *
 * Only memory allocated through OPENSSL_malloc() and friends is seen. Code
 * that calls malloc() directly is measured with bench_mem_heap_in_use()
 * instead (glibc mallinfo2: every byte in use on the heap, process-wide).
 */
#ifndef BENCH_MEM_H
#define BENCH_MEM_H

#include <stddef.h>

enum {
    BENCH_MEM_OTHER = 0,  /* setup, transport buffers, anything else */
    BENCH_MEM_CLIENT = 1, /* TLS client / our initiator */
    BENCH_MEM_SERVER = 2, /* TLS server / our responder */
    BENCH_MEM_TAGS = 3,
};

/* Must run before any other OpenSSL call. Returns 0 on success, -1 if too late. */
int bench_mem_install(void);
/* 1 if the counting allocator is in place. */
int bench_mem_installed(void);
/* Makes tag current for the following allocations; returns the previous tag. */
int bench_mem_set_tag(int tag);
/* Bytes allocated under tag and not yet freed. */
long long bench_mem_live(int tag);
/* Bytes in use on the whole malloc heap (glibc mallinfo2). */
size_t bench_mem_heap_in_use(void);

#endif
