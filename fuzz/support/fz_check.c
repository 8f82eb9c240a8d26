/*
 * fz_check.c - see fz_check.h.
 */
#include "fz_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <openssl/err.h>

void fz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: fuzz oracle failed: %s\n", file, line, what);
    ERR_print_errors_fp(stderr);
    abort();
}

int fz_trace(void)
{
    static int on = -1;
    if (on < 0) on = getenv("FZ_TRACE") != NULL;
    return on;
}
