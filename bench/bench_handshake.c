/*
 * bench_handshake.c - handshakes per second and idle memory per session:
 * libsixchat against OpenSSL TLS 1.3 with client certificates, both ends in
 * one thread. Timing by default; idle memory with --memory (a separate run,
 * see main). See bench/README.md.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_certs.h"
#include "bench_common.h"
#include "bench_json.h"
#include "bench_mem.h"
#include "bench_ours.h"
#include "bench_run.h"
#include "bench_tls.h"

typedef struct hs_ctx {
    const bench_certs *certs;
    int keytype;
    bench_tls *tls;
} hs_ctx;

static int run_tls(void *p, int n, double *s)
{
    return bench_tls_handshakes(((hs_ctx *)p)->tls, n, s);
}

static int run_ours(void *p, int n, double *s)
{
    hs_ctx *h = p;
    return bench_ours_handshakes(h->certs, h->keytype, n, s);
}

static int run_ours_new_ca(void *p, int n, double *s)
{
    hs_ctx *h = p;
    return bench_ours_handshakes_new_ca(h->certs, h->keytype, n, s);
}

static int run_ours_known(void *p, int n, double *s)
{
    hs_ctx *h = p;
    return bench_ours_handshakes_known(h->certs, h->keytype, n, s);
}

/* One timed run of n operations as a rate (operations per second). */
static int rate(bench_run_fn fn, void *ctx, int n, double *out)
{
    double s = 0;
    int rc = fn(ctx, n, &s);
    if (rc == BENCH_OK) *out = s > 0 ? (double)n / s : 0;
    return rc;
}

/* A side that calibrated successfully: its n; otherwise rc says why not. */
typedef struct side {
    bench_run_fn fn;
    void *ctx;
    int rc;
    int n;
} side;

static void side_init(side *sd, bench_run_fn fn, void *ctx, double target)
{
    sd->fn = fn;
    sd->ctx = ctx;
    sd->n = 0;
    sd->rc = bench_calibrate(fn, ctx, target, &sd->n);
}

static int side_rate(side *sd, double *out)
{
    if (sd->rc != BENCH_OK) return sd->rc;
    int rc = rate(sd->fn, sd->ctx, sd->n, out);
    if (rc != BENCH_OK) sd->rc = rc;
    return rc;
}

static int handshakes(const bench_certs *certs, int k, const bench_opts *o, bench_results *res)
{
    char name[96];
    bench_tls *tuned = bench_tls_new(certs, k, BENCH_TLS_TUNED, NULL);
    bench_tls *deflt = bench_tls_new(certs, k, BENCH_TLS_DEFAULT, NULL);
    if (tuned == NULL || deflt == NULL) {
        bench_tls_free(tuned);
        bench_tls_free(deflt);
        return -1;
    }
    char desc[256];
    if (bench_tls_describe(tuned, desc, sizeof(desc)) == BENCH_OK)
        printf("TLS tuned,   %-8s: %s\n", bench_key_name(k), desc);
    if (bench_tls_describe(deflt, desc, sizeof(desc)) == BENCH_OK)
        printf("TLS default, %-8s: %s\n", bench_key_name(k), desc);
    fflush(stdout);

    snprintf(name, sizeof(name), "handshake %s, first contact vs TLS tuned", bench_key_name(k));
    bench_figure *f_tuned = bench_results_add(res, name, "hs/s", 1);
    snprintf(name, sizeof(name), "handshake %s, first contact vs TLS default", bench_key_name(k));
    bench_figure *f_deflt = bench_results_add(res, name, "hs/s", 1);
    snprintf(name, sizeof(name), "handshake %s, first contact, new CA vs TLS tuned",
             bench_key_name(k));
    bench_figure *f_newca = bench_results_add(res, name, "hs/s", 1);
    snprintf(name, sizeof(name), "handshake %s, known peer vs TLS tuned", bench_key_name(k));
    bench_figure *f_known = bench_results_add(res, name, "hs/s", 1);
    if (f_tuned == NULL || f_deflt == NULL || f_newca == NULL || f_known == NULL) {
        bench_tls_free(tuned);
        bench_tls_free(deflt);
        return -1;
    }

    hs_ctx ct = {certs, k, tuned}, cd = {certs, k, deflt}, co = {certs, k, NULL};
    side s_ours, s_newca, s_known, s_tuned, s_deflt;
    side_init(&s_ours, run_ours, &co, o->seconds);
    side_init(&s_newca, run_ours_new_ca, &co, o->seconds);
    side_init(&s_known, run_ours_known, &co, o->seconds);
    side_init(&s_tuned, run_tls, &ct, o->seconds);
    side_init(&s_deflt, run_tls, &cd, o->seconds);

    /* Alternate ours and TLS within each repetition. */
    for (int r = 0; r < o->reps; r++) {
        double v = 0;
        int rc = side_rate(&s_ours, &v);
        bench_figure_ours(f_tuned, rc, v);
        bench_figure_ours(f_deflt, rc, v);
        rc = side_rate(&s_tuned, &v);
        bench_figure_tls(f_tuned, rc, v);
        bench_figure_tls(f_newca, rc, v);
        bench_figure_tls(f_known, rc, v);
        rc = side_rate(&s_newca, &v);
        bench_figure_ours(f_newca, rc, v);
        rc = side_rate(&s_known, &v);
        bench_figure_ours(f_known, rc, v);
        rc = side_rate(&s_deflt, &v);
        bench_figure_tls(f_deflt, rc, v);
    }
    bench_tls_free(tuned);
    bench_tls_free(deflt);
    return 0;
}

static int memory(const bench_certs *certs, int k, const bench_opts *o, bench_results *res)
{
    static const struct {
        bench_tls_profile profile;
        const char *label;
    } profiles[] = {
        {BENCH_TLS_TUNED, "TLS tuned"},
        {BENCH_TLS_TUNED_RELEASE_BUFFERS, "TLS tuned+RELEASE_BUFFERS"},
    };
    for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
        bench_tls *t = bench_tls_new(certs, k, profiles[i].profile, NULL);
        if (t == NULL) return -1;
        char name[96];
        snprintf(name, sizeof(name), "idle memory %s, initiator vs %s client", bench_key_name(k),
                 profiles[i].label);
        bench_figure *fi = bench_results_add(res, name, "bytes", 0);
        snprintf(name, sizeof(name), "idle memory %s, responder vs %s server", bench_key_name(k),
                 profiles[i].label);
        bench_figure *fr = bench_results_add(res, name, "bytes", 0);
        if (fi == NULL || fr == NULL) {
            bench_tls_free(t);
            return -1;
        }
        int reps = o->reps < 3 ? o->reps : 3; /* deterministic up to noise */
        for (int r = 0; r < reps; r++) {
            long long oi = 0, orr = 0;
            int rc = bench_ours_idle_memory(certs, k, &oi, &orr);
            bench_figure_ours(fi, rc, (double)oi);
            bench_figure_ours(fr, rc, (double)orr);
            long long cb = 0, sb = 0, left = 0, heap = 0;
            rc = bench_tls_idle_memory(t, &cb, &sb, &left, &heap);
            bench_figure_tls(fi, rc, (double)cb);
            bench_figure_tls(fr, rc, (double)sb);
            if (rc == BENCH_OK && r == 0)
                printf("%s, %s idle pair: client %lld B, server %lld B (OpenSSL allocator), "
                       "left after free %lld B; whole heap grew %lld B incl. BIO pair\n",
                       profiles[i].label, bench_key_name(k), cb, sb, left, heap);
        }
        bench_tls_free(t);
    }
    return 0;
}

int main(int argc, char **argv)
{
    bench_opts o;
    if (bench_parse_opts(argc, argv, &o) != 0) return 2;
    /*
     * Memory is measured in its own run (--memory): the counting allocator
     * must be in place before the first OpenSSL call, and it is kept out of
     * the timed runs, where its small per-allocation cost would weigh on
     * OpenSSL's ~8,000 allocations per TLS handshake pair.
     */
    if (o.memory && bench_mem_install() != 0)
        fprintf(stderr, "bench_handshake: counting allocator not installed; "
                        "memory figures unavailable\n");
    bench_certs certs;
    if (bench_certs_generate(&certs) != 0) return 1;
    bench_results res;
    bench_results_init(&res);
    int rc = 0;
    if (o.memory) {
        printf("bench_handshake --memory: idle connection after the handshake, per side\n");
        rc = memory(&certs, BENCH_KEY_P256, &o, &res);
    } else {
        printf("bench_handshake: %d repetitions of %.2f s CPU time per measurement; medians\n",
               o.reps, o.seconds);
        for (int k = 0; k < BENCH_KEY_COUNT && rc == 0; k++)
            rc = handshakes(&certs, k, &o, &res);
    }
    if (rc != 0) fprintf(stderr, "bench_handshake: the TLS yardstick could not be set up\n");
    bench_results_print(&res, o.memory ? "Idle memory per session (bytes held after the handshake)"
                                       : "Handshakes (both ends in one thread)");
    if (o.json != NULL && bench_results_write_json(&res, o.json) != 0) rc = -1;
    bench_results_free(&res);
    bench_certs_free(&certs);
    return rc == 0 ? 0 : 1;
}
