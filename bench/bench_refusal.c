/*
 * bench_refusal.c - does refusing a replayed chain take longer or shorter
 * when we met its owner before? (docs/PROTOCOL.md 8.2, 11.4; issue 6
 * finding 2.)
 *
 * A middleman who replays bob's public chain, but cannot sign for it, is
 * refused on the transcript signature. If the certificate caches were
 * consulted before that signature, the refusal of a chain we cached would
 * be faster than of one we never saw, and timing it would tell the
 * middleman whom we met recently. This program times exactly that: the
 * initiator's processing of the impostor's flight 2 (sc_session_recv until
 * it fails), for a "known" bob (his real handshake just filled our caches)
 * and an "unknown" bob (caches emptied), interleaved sample by sample.
 *
 * It prints both medians, their ratio, and the Mann-Whitney U statistic as
 * a z score: |z| below about 3 means the two distributions cannot be told
 * apart from these samples. Wall time (CLOCK_MONOTONIC) is used because
 * that is what a network observer sees; on a shared machine the noise is
 * large, so the statistic, not any single figure, is the result. It is a
 * measurement, not a pass/fail test: it always exits 0 unless setup fails.
 *
 *   bench_refusal [--samples N] [--key p256|ed25519|rsa2048]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_certs.h"
#include "bench_common.h"
#include "sc_certcache.h"
#include "sc_config_int.h" /* the caches, and a key swapped in for the impostor */
#include "sixchat/sixchat.h"

static int rand_fn(void *ctx, uint8_t *out, size_t len)
{
    (void)ctx;
    return sc_random_system(ctx, out, len);
}

static sc_config *config(const bench_certs *c, const bench_identity *id)
{
    static const char *const domains[] = {"example.org"};
    sc_config *cfg = sc_config_new();
    if (cfg == NULL) return NULL;
    sc_config_set_random(cfg, rand_fn, NULL);
    if (sc_config_set_identity_pem(cfg, id->chain_pem, id->chain_pem_len, id->key_pem,
                                   id->key_pem_len) != SC_OK ||
        sc_config_add_trust_anchor_pem(cfg, c->root_pem, c->root_pem_len, domains, 1) != SC_OK) {
        sc_config_free(cfg);
        return NULL;
    }
    return cfg;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Moves all of from's output into to; returns the first error of to. */
static int move(sc_session *from, sc_session *to, uint64_t now)
{
    const uint8_t *p;
    size_t n = sc_session_output(from, &p);
    int ret = n ? sc_session_recv(to, p, n, now) : SC_OK;
    sc_session_output_consume(from, n);
    return ret;
}

/*
 * One handshake of initiator config ci against responder config cr. With
 * time_ns set, the initiator's processing of flight 2 is timed and must fail.
 */
static int run(sc_config *ci, sc_config *cr, uint64_t *time_ns)
{
    uint64_t now = sc_clock_ms();
    sc_session *i = NULL, *r = NULL;
    int ret = -1;
    if (sc_session_new(ci, SC_ROLE_INITIATOR, now, &i) != SC_OK ||
        sc_session_new(cr, SC_ROLE_RESPONDER, now, &r) != SC_OK ||
        sc_session_set_expected_peer(i, "bob@example.org") != SC_OK ||
        sc_session_start(i) != SC_OK || move(i, r, now) != SC_OK)
        goto out;
    if (time_ns != NULL) {
        const uint8_t *p;
        size_t n = sc_session_output(r, &p);
        uint64_t t0 = now_ns();
        int err = sc_session_recv(i, p, n, now);
        *time_ns = now_ns() - t0;
        ret = err == SC_ERR_DECRYPT_ERROR ? 0 : -1;
        if (ret != 0) fprintf(stderr, "bench_refusal: unexpected %s\n", sc_strerror(err));
        goto out;
    }
    for (int k = 0; k < 4; k++)
        if (move(r, i, now) != SC_OK || move(i, r, now) != SC_OK) goto out;
    ret = sc_session_established(i) && sc_session_established(r) ? 0 : -1;
out:
    sc_session_free(i);
    sc_session_free(r);
    return ret;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static double median(uint64_t *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_u64);
    return n % 2 ? (double)v[n / 2] : ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2.0;
}

/* Mann-Whitney U of a against b as a z score (normal approximation, ties averaged). */
static double mann_whitney_z(const uint64_t *a, const uint64_t *b, size_t n)
{
    size_t total = 2 * n;
    struct item {
        uint64_t v;
        int from_a;
    } *all = malloc(total * sizeof *all);
    double rank_a = 0;
    if (all == NULL) return NAN;
    for (size_t i = 0; i < n; i++) {
        all[i] = (struct item){a[i], 1};
        all[n + i] = (struct item){b[i], 0};
    }
    qsort(all, total, sizeof *all, cmp_u64); /* v is the first member */
    for (size_t i = 0; i < total;) {
        size_t j = i;
        while (j < total && all[j].v == all[i].v)
            j++;
        double r = (double)(i + 1 + j) / 2.0; /* average rank of the tie group */
        for (size_t k = i; k < j; k++)
            if (all[k].from_a) rank_a += r;
        i = j;
    }
    free(all);
    double u = rank_a - (double)n * (double)(n + 1) / 2.0;
    double mu = (double)n * (double)n / 2.0;
    double sigma = sqrt((double)n * (double)n * (double)(total + 1) / 12.0);
    return (u - mu) / sigma;
}

int main(int argc, char **argv)
{
    size_t samples = 2000;
    int key = BENCH_KEY_P256;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--samples") == 0) samples = (size_t)strtoul(argv[i + 1], NULL, 10);
        if (strcmp(argv[i], "--key") == 0)
            key = strcmp(argv[i + 1], "ed25519") == 0   ? BENCH_KEY_ED25519
                  : strcmp(argv[i + 1], "rsa2048") == 0 ? BENCH_KEY_RSA2048
                                                        : BENCH_KEY_P256;
    }
    if (samples < 10) samples = 10;

    bench_certs c;
    if (bench_certs_generate(&c) != 0) return 1;
    sc_config *ci = config(&c, &c.alice[key]);
    sc_config *bob = config(&c, &c.bob[key]);
    sc_config *impostor = config(&c, &c.bob[key]);
    uint64_t *known = malloc(samples * sizeof *known), *unknown = malloc(samples * sizeof *unknown);
    if (ci == NULL || bob == NULL || impostor == NULL || known == NULL || unknown == NULL) {
        fprintf(stderr, "bench_refusal: setup failed\n");
        return 1;
    }
    /* bob's public chain, signed with a key of the impostor's own (same algorithm). */
    const bench_identity *other = &c.alice[key];
    sc_config *donor = config(&c, other);
    if (donor == NULL) return 1;
    EVP_PKEY *tmp = impostor->key;
    impostor->key = donor->key;
    donor->key = tmp;

    if (run(ci, bob, NULL) != 0) {
        fprintf(stderr, "bench_refusal: the real handshake failed\n");
        return 1;
    }
    int errors = 0;
    for (size_t s = 0; s < samples; s++) {
        /*
         * Each measurement follows a real handshake with bob (the same work
         * just before), the unknown one after emptying the caches; which of
         * the two goes first alternates, so the order biases neither.
         */
        for (int half = 0; half < 2; half++) {
            int cached = (half == 0) == (s % 2 == 0);
            errors |= run(ci, bob, NULL);
            if (!cached) sc_certcache_clear(ci->policy.cache);
            errors |= run(ci, impostor, cached ? &known[s] : &unknown[s]);
        }
    }
    if (errors) {
        fprintf(stderr, "bench_refusal: a handshake did not go as planned\n");
        return 1;
    }
    double z = mann_whitney_z(known, unknown, samples);
    double mk = median(known, samples), mu = median(unknown, samples);
    printf("refusal of a replayed %s chain with a bad signature (%zu samples each, wall time)\n",
           key == BENCH_KEY_P256      ? "P-256"
           : key == BENCH_KEY_ED25519 ? "Ed25519"
                                      : "RSA-2048",
           samples);
    printf("  met before (cached):   median %8.1f us\n", mk / 1000.0);
    printf("  never met (uncached):  median %8.1f us\n", mu / 1000.0);
    printf("  ratio cached/uncached: %.3f\n", mk / mu);
    printf("  Mann-Whitney z:        %+.2f  (|z| < 3: indistinguishable at these samples)\n", z);
    free(known);
    free(unknown);
    sc_config_free(ci);
    sc_config_free(bob);
    sc_config_free(impostor);
    sc_config_free(donor);
    bench_certs_free(&c);
    return 0;
}
