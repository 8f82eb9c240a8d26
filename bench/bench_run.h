/*
 * bench_run.h - command line and run-length calibration shared by the
 * benchmark programs.
 */
#ifndef BENCH_RUN_H
#define BENCH_RUN_H

typedef struct bench_opts {
    int reps;         /* repetitions; each figure reports medians (default 5) */
    double seconds;   /* target duration of one measurement (default 0.5) */
    const char *json; /* results file to write or extend; NULL: none */
    int memory;       /* --memory: measure memory instead of time (bench_handshake) */
} bench_opts;

/*
 * Parses [--reps N] [--time SECONDS] [--json PATH] [--memory]. Returns 0,
 * or -1 after printing usage.
 */
int bench_parse_opts(int argc, char **argv, bench_opts *o);

/* Runs the measured operation n times; returns BENCH_* and the elapsed time. */
typedef int (*bench_run_fn)(void *ctx, int n, double *seconds);

/*
 * Finds n such that fn(ctx, n) takes about target seconds (the calibration
 * runs double as warm-up). Returns BENCH_OK or fn's error.
 */
int bench_calibrate(bench_run_fn fn, void *ctx, double target, int *n);

#endif
