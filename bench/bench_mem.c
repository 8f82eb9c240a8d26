/*
 * bench_mem.c - the counting allocator (see bench_mem.h).
 */
#include "bench_mem.h"

#include <malloc.h>
#include <stddef.h>
#include <stdlib.h>
#include <openssl/crypto.h>

/* The prefix of every block; its size keeps the user pointer max-aligned. */
typedef union mem_hdr {
    max_align_t align;
    struct {
        size_t size;
        int tag;
    } h;
} mem_hdr;

static long long live[BENCH_MEM_TAGS];
static int cur_tag = BENCH_MEM_OTHER;
static int installed;

static void *count_malloc(size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    if (n == 0 || n > (size_t)-1 - sizeof(mem_hdr)) return NULL;
    mem_hdr *h = malloc(sizeof(mem_hdr) + n);
    if (h == NULL) return NULL;
    h->h.size = n;
    h->h.tag = cur_tag;
    live[cur_tag] += (long long)n;
    return h + 1;
}

static void count_free(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    if (p == NULL) return;
    mem_hdr *h = (mem_hdr *)p - 1;
    live[h->h.tag] -= (long long)h->h.size;
    free(h);
}

/* A reallocated block keeps the tag of its first allocation. */
static void *count_realloc(void *p, size_t n, const char *file, int line)
{
    if (p == NULL) return count_malloc(n, file, line);
    if (n == 0) {
        count_free(p, file, line);
        return NULL;
    }
    if (n > (size_t)-1 - sizeof(mem_hdr)) return NULL;
    mem_hdr *old = (mem_hdr *)p - 1;
    size_t old_size = old->h.size;
    int tag = old->h.tag;
    mem_hdr *h = realloc(old, sizeof(mem_hdr) + n);
    if (h == NULL) return NULL;
    live[tag] += (long long)n - (long long)old_size;
    h->h.size = n;
    return h + 1;
}

int bench_mem_install(void)
{
    if (!CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free)) return -1;
    installed = 1;
    return 0;
}

int bench_mem_installed(void)
{
    return installed;
}

int bench_mem_set_tag(int tag)
{
    int prev = cur_tag;
    if (tag >= 0 && tag < BENCH_MEM_TAGS) cur_tag = tag;
    return prev;
}

long long bench_mem_live(int tag)
{
    return (tag >= 0 && tag < BENCH_MEM_TAGS) ? live[tag] : 0;
}

size_t bench_mem_heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks;
}
