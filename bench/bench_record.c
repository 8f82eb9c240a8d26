/*
 * bench_record.c - record-layer throughput: bulk 16 KiB records (MB/s) and
 * 100-byte messages (messages/s), one way, sealed by one end and opened by
 * the other in the same thread; for AES-256-GCM and ChaCha20-Poly1305.
 * libsixchat against OpenSSL TLS 1.3. See bench/README.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "bench_certs.h"
#include "bench_common.h"
#include "bench_json.h"
#include "bench_ours.h"
#include "bench_run.h"
#include "bench_tls.h"

#define BULK_LEN 16384
#define SMALL_LEN 100

typedef struct rec_ctx {
    const bench_certs *certs;
    int suite;
    size_t len;
    bench_tls *tls;
} rec_ctx;

static int run_tls(void *p, int n, double *s)
{
    rec_ctx *r = p;
    return bench_tls_records(r->tls, r->len, n, s);
}

static int run_ours(void *p, int n, double *s)
{
    rec_ctx *r = p;
    return bench_ours_records(r->certs, BENCH_KEY_P256, r->suite, r->len, n, s);
}

/*
 * For reference only (printed, not a figure): the AEAD alone through EVP,
 * seal then open of n messages of len bytes with a 5-byte AAD and a fresh
 * nonce per message, no framing at all.
 */
static int run_aead(void *p, int n, double *seconds)
{
    rec_ctx *r = p;
    const EVP_CIPHER *ciph =
        r->suite == BENCH_SUITE_CHACHA20_POLY1305 ? EVP_chacha20_poly1305() : EVP_aes_256_gcm();
    EVP_CIPHER_CTX *enc = EVP_CIPHER_CTX_new(), *dec = EVP_CIPHER_CTX_new();
    unsigned char key[32], iv[12], nonce[12], aad[5] = {0x17, 0x03, 0x03, 0, 0}, tag[16];
    unsigned char *pt = malloc(r->len), *ct = malloc(r->len), *out = malloc(r->len);
    int rc = BENCH_FAILED, l = 0;
    if (enc == NULL || dec == NULL || pt == NULL || ct == NULL || out == NULL ||
        RAND_bytes(key, sizeof(key)) != 1 || RAND_bytes(iv, sizeof(iv)) != 1 ||
        !EVP_EncryptInit_ex(enc, ciph, NULL, key, NULL) ||
        !EVP_DecryptInit_ex(dec, ciph, NULL, key, NULL))
        goto done;
    memset(pt, 0x5a, r->len);
    double t0 = bench_now();
    for (int i = 0; i < n; i++) {
        memcpy(nonce, iv, sizeof(nonce));
        for (int b = 0; b < 4; b++)
            nonce[11 - b] ^= (unsigned char)((unsigned)i >> (8 * b));
        if (!EVP_EncryptInit_ex(enc, NULL, NULL, NULL, nonce) ||
            !EVP_EncryptUpdate(enc, NULL, &l, aad, sizeof(aad)) ||
            !EVP_EncryptUpdate(enc, ct, &l, pt, (int)r->len) ||
            !EVP_EncryptFinal_ex(enc, ct + l, &l) ||
            !EVP_CIPHER_CTX_ctrl(enc, EVP_CTRL_AEAD_GET_TAG, 16, tag) ||
            !EVP_DecryptInit_ex(dec, NULL, NULL, NULL, nonce) ||
            !EVP_DecryptUpdate(dec, NULL, &l, aad, sizeof(aad)) ||
            !EVP_DecryptUpdate(dec, out, &l, ct, (int)r->len) ||
            !EVP_CIPHER_CTX_ctrl(dec, EVP_CTRL_AEAD_SET_TAG, 16, tag) ||
            EVP_DecryptFinal_ex(dec, out + l, &l) <= 0)
            goto done;
    }
    *seconds = bench_now() - t0;
    rc = memcmp(out, pt, r->len) == 0 ? BENCH_OK : BENCH_FAILED;
done:
    EVP_CIPHER_CTX_free(enc);
    EVP_CIPHER_CTX_free(dec);
    free(pt);
    free(ct);
    free(out);
    return rc;
}

/* Value of one run in the figure's unit: MB/s (10^6 bytes) for bulk, messages/s else. */
static double to_unit(size_t len, int n, double s)
{
    if (s <= 0) return 0;
    return len == BULK_LEN ? (double)n * (double)len / s / 1e6 : (double)n / s;
}

typedef struct side {
    bench_run_fn fn;
    void *ctx;
    int rc, n;
} side;

static void side_init(side *sd, bench_run_fn fn, void *ctx, double target)
{
    sd->fn = fn;
    sd->ctx = ctx;
    sd->n = 0;
    sd->rc = bench_calibrate(fn, ctx, target, &sd->n);
}

static int side_value(side *sd, size_t len, double *out)
{
    if (sd->rc != BENCH_OK) return sd->rc;
    double s = 0;
    int rc = sd->fn(sd->ctx, sd->n, &s);
    if (rc != BENCH_OK) {
        sd->rc = rc;
        return rc;
    }
    *out = to_unit(len, sd->n, s);
    return BENCH_OK;
}

static int records(const bench_certs *certs, int suite, const bench_opts *o, bench_results *res)
{
    bench_tls *t =
        bench_tls_new(certs, BENCH_KEY_P256, BENCH_TLS_TUNED, bench_suite_tls_name(suite));
    if (t == NULL) return -1;
    char desc[256];
    if (bench_tls_describe(t, desc, sizeof(desc)) == BENCH_OK)
        printf("TLS tuned, %s: %s\n", bench_suite_name(suite), desc);
    fflush(stdout);
    static const size_t lens[] = {BULK_LEN, SMALL_LEN};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        size_t len = lens[i];
        char name[96];
        if (len == BULK_LEN)
            snprintf(name, sizeof(name), "bulk 16 KiB records, %s", bench_suite_name(suite));
        else
            snprintf(name, sizeof(name), "%zu-byte messages, %s", len, bench_suite_name(suite));
        bench_figure *f = bench_results_add(res, name, len == BULK_LEN ? "MB/s" : "msg/s", 1);
        if (f == NULL) {
            bench_tls_free(t);
            return -1;
        }
        rec_ctx rc_tls = {certs, suite, len, t}, rc_ours = {certs, suite, len, NULL};
        side s_ours, s_tls;
        side_init(&s_ours, run_ours, &rc_ours, o->seconds);
        side_init(&s_tls, run_tls, &rc_tls, o->seconds);
        for (int r = 0; r < o->reps; r++) {
            double v = 0;
            int rc = side_value(&s_ours, len, &v);
            bench_figure_ours(f, rc, v);
            rc = side_value(&s_tls, len, &v);
            bench_figure_tls(f, rc, v);
        }
        /* The ceiling: the AEAD alone, a shorter measurement. */
        side s_aead;
        side_init(&s_aead, run_aead, &rc_tls, o->seconds / 2);
        double samples[3];
        int ns = 0;
        for (int r = 0; r < 3; r++) {
            double v;
            if (side_value(&s_aead, len, &v) == BENCH_OK) samples[ns++] = v;
        }
        if (ns > 0)
            printf("  reference: %s alone (EVP seal+open, %zu bytes): %.0f %s\n",
                   bench_suite_name(suite), len, bench_median(samples, ns),
                   len == BULK_LEN ? "MB/s" : "msg/s");
    }
    bench_tls_free(t);
    return 0;
}

int main(int argc, char **argv)
{
    bench_opts o;
    if (bench_parse_opts(argc, argv, &o) != 0) return 2;
    bench_certs certs;
    if (bench_certs_generate(&certs) != 0) return 1;
    bench_results res;
    bench_results_init(&res);
    printf("bench_record: %d repetitions of %.2f s CPU time per measurement; medians; one way, "
           "P-256 certificates\n",
           o.reps, o.seconds);
    int rc = 0;
    for (int s = 0; s < BENCH_SUITE_COUNT && rc == 0; s++)
        rc = records(&certs, s, &o, &res);
    if (rc != 0) fprintf(stderr, "bench_record: the TLS yardstick could not be set up\n");
    bench_results_print(&res, "Record layer, one way (both ends in one thread)");
    if (o.json != NULL && bench_results_write_json(&res, o.json) != 0) rc = -1;
    bench_results_free(&res);
    bench_certs_free(&certs);
    return rc == 0 ? 0 : 1;
}
