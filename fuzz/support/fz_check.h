/*
 * fz_check.h - how a fuzz target reports a finding, and its fixed clock.
 *
 * Any failure of the setup, and any broken oracle, aborts: that is how a
 * fuzzer reports a finding.
 */
#ifndef FZ_CHECK_H
#define FZ_CHECK_H

#include <stdint.h>

#define FZ_CHECK(cond)                                                                             \
    do {                                                                                           \
        if (!(cond)) fz_fail(__FILE__, __LINE__, #cond);                                           \
    } while (0)

/* Prints what failed and OpenSSL's error queue, then aborts. */
void fz_fail(const char *file, int line, const char *what);

/* 2026-01-01T00:00:00Z, inside every certificate's validity. */
#define FZ_NOW_S INT64_C(1767225600)
#define FZ_NOW_MS ((uint64_t)FZ_NOW_S * 1000)

/* FZ_TRACE=1 in the environment prints every event and handshake result: for triage. */
int fz_trace(void);

#endif
