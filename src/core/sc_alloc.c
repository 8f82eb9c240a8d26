/*
 * sc_alloc.c - the library's allocator hook (sixchat/alloc.h).
 *
 * The only process-wide state of the library besides OpenSSL's: three
 * function pointers, set once before first use, then only read. The flag
 * "already used" is atomic so that a late sc_set_allocator() is refused
 * rather than racing with allocations on other threads.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "sc_alloc.h"

static sc_malloc_fn a_malloc = malloc;
static sc_realloc_fn a_realloc = realloc;
static sc_free_fn a_free = free;
static atomic_int a_used;

int sc_set_allocator(sc_malloc_fn m, sc_realloc_fn r, sc_free_fn f)
{
    if (m == NULL || r == NULL || f == NULL) return SC_ERR_ARG;
    /* Memory from one allocator must never reach another's free. */
    if (atomic_load_explicit(&a_used, memory_order_relaxed) &&
        (m != a_malloc || r != a_realloc || f != a_free))
        return SC_ERR_STATE;
    a_malloc = m;
    a_realloc = r;
    a_free = f;
    return SC_OK;
}

void *sc__malloc(size_t n)
{
    if (!atomic_load_explicit(&a_used, memory_order_relaxed))
        atomic_store_explicit(&a_used, 1, memory_order_relaxed);
    return a_malloc(n ? n : 1);
}

void *sc__calloc(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size) return NULL;
    void *p = sc__malloc(n * size);
    if (p != NULL) memset(p, 0, n * size);
    return p;
}

void *sc__realloc(void *p, size_t n)
{
    if (p == NULL) return sc__malloc(n);
    return a_realloc(p, n ? n : 1);
}

void sc__free(void *p)
{
    if (p != NULL) a_free(p);
}

char *sc__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = sc__malloc(n);
    if (p != NULL) memcpy(p, s, n);
    return p;
}
