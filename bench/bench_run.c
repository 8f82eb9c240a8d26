/*
 * bench_run.c - see bench_run.h.
 */
#include "bench_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [--reps N] [--time SECONDS] [--json PATH] [--memory]\n", prog);
}

int bench_parse_opts(int argc, char **argv, bench_opts *o)
{
    o->reps = 5;
    o->seconds = 0.5;
    o->json = NULL;
    o->memory = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--memory") == 0) {
            o->memory = 1;
            continue;
        }
        if (i + 1 >= argc) {
            usage(argv[0]);
            return -1;
        }
        const char *v = argv[++i];
        char *end = NULL;
        if (strcmp(a, "--reps") == 0) {
            long r = strtol(v, &end, 10);
            if (*end != '\0' || r < 1 || r > 64) {
                usage(argv[0]);
                return -1;
            }
            o->reps = (int)r;
        } else if (strcmp(a, "--time") == 0) {
            double s = strtod(v, &end);
            if (*end != '\0' || !(s > 0.0 && s <= 60.0)) {
                usage(argv[0]);
                return -1;
            }
            o->seconds = s;
        } else if (strcmp(a, "--json") == 0) {
            o->json = v;
        } else {
            usage(argv[0]);
            return -1;
        }
    }
    return 0;
}

int bench_calibrate(bench_run_fn fn, void *ctx, double target, int *n)
{
    int k = 1;
    for (int round = 0; round < 40; round++) {
        double s = 0;
        int rc = fn(ctx, k, &s);
        if (rc != BENCH_OK) return rc;
        if (s >= target * 0.1 || k >= 100000000) {
            double want = s > 0 ? (double)k * target / s : (double)k;
            if (want < 1) want = 1;
            if (want > 1e9) want = 1e9;
            *n = (int)want;
            return BENCH_OK;
        }
        k *= 4;
    }
    *n = k;
    return BENCH_OK;
}
