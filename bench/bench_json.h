/*
 * bench_json.h - collecting figures, medians, the table and results.json.
 *
 * A figure compares our protocol with the TLS yardstick on one quantity:
 * {name, unit, ours, tls, ratio}. "ours" is absent (null in JSON) while
 * our side is not available. Each side keeps one sample per repetition;
 * ours and tls are the medians. ratio is ours / tls taken per repetition
 * (the two were measured back to back, so a slow spell of a shared
 * machine hits both) and then the median of those; when the sides do not
 * have the same number of samples, the ratio of the medians.
 */
#ifndef BENCH_JSON_H
#define BENCH_JSON_H

#include <stddef.h>

#define BENCH_MAX_SAMPLES 64

typedef struct bench_figure {
    char name[96];
    char unit[24];
    int higher_is_better; /* 1: rates; 0: memory */
    int ours_state;       /* BENCH_OK, BENCH_UNAVAILABLE or BENCH_FAILED */
    int tls_state;
    int n_ours, n_tls;
    double ours[BENCH_MAX_SAMPLES];
    double tls[BENCH_MAX_SAMPLES];
} bench_figure;

typedef struct bench_results {
    bench_figure *fig;
    size_t count, cap;
} bench_results;

void bench_results_init(bench_results *r);
void bench_results_free(bench_results *r);

/* Adds a figure (both sides start UNAVAILABLE, no samples); NULL when out of memory. */
bench_figure *bench_results_add(bench_results *r, const char *name, const char *unit,
                                int higher_is_better);

/*
 * Records the outcome of one measurement of a side: rc BENCH_OK adds value
 * as a sample; BENCH_UNAVAILABLE / BENCH_FAILED mark the side (a failure
 * sticks and discards the side's samples).
 */
void bench_figure_ours(bench_figure *f, int rc, double value);
void bench_figure_tls(bench_figure *f, int rc, double value);

/* Median of the samples; 0 when there are none. */
double bench_median(const double *v, int n);

/* The figure's medians and ratio; each returns 1 if the value exists. */
int bench_figure_values(const bench_figure *f, double *ours, double *tls, double *ratio,
                        int *have_ours, int *have_tls);

/* Prints the table: name, unit, ours, tls, ratio (ours / tls). */
void bench_results_print(const bench_results *r, const char *title);

/*
 * Writes the figures to path as a JSON array. If path already holds a JSON
 * array (the figures of an earlier program of the same run), the new
 * figures are appended to it. Returns 0 or -1.
 */
int bench_results_write_json(const bench_results *r, const char *path);

#endif
