/*
 * sc_alloc.h - every allocation of src/core goes through these, so that the
 * embedder's allocator (sixchat/alloc.h) sees all of them and a test can
 * fail any one (issue 6, out-of-memory paths).
 */
#ifndef SC_ALLOC_H
#define SC_ALLOC_H

#include <stddef.h>
#include "sixchat/alloc.h"

void *sc__malloc(size_t n);
/* Zero-filled; NULL also when n * size overflows. */
void *sc__calloc(size_t n, size_t size);
void *sc__realloc(void *p, size_t n);
void sc__free(void *p);
char *sc__strdup(const char *s);

#endif
