/*
 * sc_platform.c - the OS-facing helpers of sixchat/platform.h. They are
 * outside src/core on purpose: the protocol core stays sans-I/O.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include "sixchat/platform.h"

int sc_random_system(void *ctx, uint8_t *out, size_t len)
{
    (void)ctx;
    return len <= INT32_MAX && RAND_bytes(out, (int)len) == 1 ? 0 : -1;
}

void sc_wipe(void *p, size_t n)
{
    if (p != NULL) OPENSSL_cleanse(p, n);
}

uint64_t sc_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int sc_read_file(const char *path, size_t max, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0;
    int ret = SC_ERR_IO;
    if (f == NULL) return SC_ERR_IO;
    if ((buf = malloc(max + 1)) == NULL) {
        ret = SC_ERR_NOMEM;
        goto out;
    }
    n = fread(buf, 1, max + 1, f);
    if (ferror(f)) goto out;
    if (n > max) {
        ret = SC_ERR_TOO_LARGE;
        goto out;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    buf = NULL;
    ret = SC_OK;
out:
    free(buf);
    int saved = errno;
    fclose(f);
    errno = saved; /* callers report why a read failed */
    return ret;
}
