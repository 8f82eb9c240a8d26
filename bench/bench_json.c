/*
 * bench_json.c - figures, medians, table and JSON (see bench_json.h).
 */
#include "bench_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"

void bench_results_init(bench_results *r)
{
    memset(r, 0, sizeof(*r));
}

void bench_results_free(bench_results *r)
{
    free(r->fig);
    memset(r, 0, sizeof(*r));
}

bench_figure *bench_results_add(bench_results *r, const char *name, const char *unit,
                                int higher_is_better)
{
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        bench_figure *f = realloc(r->fig, cap * sizeof(*f));
        if (f == NULL) return NULL;
        r->fig = f;
        r->cap = cap;
    }
    bench_figure *f = &r->fig[r->count++];
    memset(f, 0, sizeof(*f));
    snprintf(f->name, sizeof(f->name), "%s", name);
    snprintf(f->unit, sizeof(f->unit), "%s", unit);
    f->higher_is_better = higher_is_better;
    f->ours_state = BENCH_UNAVAILABLE;
    f->tls_state = BENCH_UNAVAILABLE;
    return f;
}

static void side_add(int *state, double *v, int *n, int rc, double value)
{
    if (*state == BENCH_FAILED) return;
    if (rc == BENCH_OK) {
        if (*n < BENCH_MAX_SAMPLES && isfinite(value)) v[(*n)++] = value;
        *state = BENCH_OK;
    } else if (rc == BENCH_UNAVAILABLE) {
        if (*n == 0) *state = BENCH_UNAVAILABLE;
    } else {
        *state = BENCH_FAILED;
        *n = 0;
    }
}

void bench_figure_ours(bench_figure *f, int rc, double value)
{
    side_add(&f->ours_state, f->ours, &f->n_ours, rc, value);
}

void bench_figure_tls(bench_figure *f, int rc, double value)
{
    side_add(&f->tls_state, f->tls, &f->n_tls, rc, value);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(const double *v, int n)
{
    if (n <= 0) return 0.0;
    double s[BENCH_MAX_SAMPLES];
    if (n > BENCH_MAX_SAMPLES) n = BENCH_MAX_SAMPLES;
    memcpy(s, v, (size_t)n * sizeof(double));
    qsort(s, (size_t)n, sizeof(double), cmp_double);
    return (n % 2) ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
}

/* 1 and the median if the side has samples. */
static int side_value(int state, const double *v, int n, double *out)
{
    if (state != BENCH_OK || n == 0) return 0;
    *out = bench_median(v, n);
    return 1;
}

int bench_figure_values(const bench_figure *f, double *ours, double *tls, double *ratio,
                        int *have_ours, int *have_tls)
{
    *have_ours = side_value(f->ours_state, f->ours, f->n_ours, ours);
    *have_tls = side_value(f->tls_state, f->tls, f->n_tls, tls);
    if (!*have_ours || !*have_tls || *tls <= 0) return 0;
    if (f->n_ours == f->n_tls) {
        double q[BENCH_MAX_SAMPLES];
        int n = 0;
        for (int i = 0; i < f->n_ours; i++)
            if (f->tls[i] > 0) q[n++] = f->ours[i] / f->tls[i];
        if (n == f->n_ours) {
            *ratio = bench_median(q, n);
            return 1;
        }
    }
    *ratio = *ours / *tls;
    return 1;
}

static void fmt_value(char *buf, size_t len, int state, int have, double v)
{
    if (have) {
        if (v >= 100.0)
            snprintf(buf, len, "%.0f", v);
        else
            snprintf(buf, len, "%.2f", v);
    } else {
        snprintf(buf, len, "%s", state == BENCH_FAILED ? "FAILED" : "n/a");
    }
}

void bench_results_print(const bench_results *r, const char *title)
{
    int ours_missing = 0, ours_failed = 0;
    printf("\n%s\n", title);
    printf("%-64s %-6s %10s %10s %7s\n", "name", "unit", "ours", "tls", "ratio");
    for (size_t i = 0; i < r->count; i++) {
        const bench_figure *f = &r->fig[i];
        double o = 0, t = 0, q = 0;
        int ho, ht;
        int hq = bench_figure_values(f, &o, &t, &q, &ho, &ht);
        char so[32], st[32], sr[32];
        fmt_value(so, sizeof(so), f->ours_state, ho, o);
        fmt_value(st, sizeof(st), f->tls_state, ht, t);
        if (hq)
            snprintf(sr, sizeof(sr), "%.2f%s", q, f->higher_is_better ? "" : "*");
        else
            snprintf(sr, sizeof(sr), "-");
        if (f->ours_state == BENCH_FAILED)
            ours_failed++;
        else if (!ho)
            ours_missing = 1;
        printf("%-64s %-6s %10s %10s %7s\n", f->name, f->unit, so, st, sr);
    }
    printf("ours, tls: medians; ratio: median of ours / tls per repetition; "
           "* = lower is better.\n");
    if (ours_missing) printf("ours: not available\n");
    if (ours_failed) printf("ours: FAILED for %d figure(s)\n", ours_failed);
}

static void json_string(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(fp, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(fp, "\\u%04x", ch);
        else
            fputc(ch, fp);
    }
    fputc('"', fp);
}

static void json_number(FILE *fp, int have, double v)
{
    if (have && isfinite(v))
        fprintf(fp, "%.6g", v);
    else
        fputs("null", fp);
}

/* Reads the objects of an existing JSON array in path (text between [ and ]). */
static char *existing_items(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                fclose(fp);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, 4096, fp);
        len += got;
        if (got == 0) break;
    }
    fclose(fp);
    if (buf == NULL) return NULL;
    buf[len] = '\0';
    char *open = strchr(buf, '[');
    char *close = strrchr(buf, ']');
    if (open == NULL || close == NULL || close < open) {
        free(buf);
        return NULL;
    }
    *close = '\0';
    char *start = open + 1;
    while (*start == ' ' || *start == '\n' || *start == '\r' || *start == '\t')
        start++;
    char *end = start + strlen(start);
    while (end > start && (end[-1] == ' ' || end[-1] == '\n' || end[-1] == '\r' ||
                           end[-1] == '\t' || end[-1] == ','))
        end--;
    *end = '\0';
    memmove(buf, start, (size_t)(end - start) + 1);
    return buf;
}

int bench_results_write_json(const bench_results *r, const char *path)
{
    char *prior = existing_items(path);
    FILE *fp = fopen(path, "wb");
    if (fp == NULL) {
        free(prior);
        perror(path);
        return -1;
    }
    fputs("[\n", fp);
    int first = 1;
    if (prior != NULL && prior[0] != '\0') {
        fprintf(fp, "  %s", prior);
        first = 0;
    }
    free(prior);
    for (size_t i = 0; i < r->count; i++) {
        const bench_figure *f = &r->fig[i];
        double o = 0, t = 0, q = 0;
        int ho, ht;
        int hq = bench_figure_values(f, &o, &t, &q, &ho, &ht);
        fputs(first ? "  " : ",\n  ", fp);
        first = 0;
        fputs("{\"name\": ", fp);
        json_string(fp, f->name);
        fputs(", \"unit\": ", fp);
        json_string(fp, f->unit);
        fputs(", \"ours\": ", fp);
        json_number(fp, ho, o);
        fputs(", \"tls\": ", fp);
        json_number(fp, ht, t);
        fputs(", \"ratio\": ", fp);
        json_number(fp, hq, q);
        fprintf(fp, ", \"better\": \"%s\"", f->higher_is_better ? "higher" : "lower");
        fprintf(fp, ", \"samples\": {\"ours\": %d, \"tls\": %d}}", f->n_ours, f->n_tls);
    }
    fputs("\n]\n", fp);
    if (fclose(fp) != 0) {
        perror(path);
        return -1;
    }
    return 0;
}
