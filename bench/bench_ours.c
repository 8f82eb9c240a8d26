/*
 * bench_ours.c - OUR side of the benchmarks (see bench_ours.h): libsixchat
 * sessions, both ends in this thread, bytes handed over in memory straight
 * from one session's output buffer to the other's sc_session_recv().
 */
#include "bench_ours.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "bench_mem.h"
#include <openssl/pem.h>
#include <openssl/sha.h>
#include "sc_certcache.h"
#include "sc_config_int.h" /* the certificate cache, to emulate first contact */
#include "sixchat/sixchat.h"

typedef struct side {
    sc_config *cfg;
    sc_session *s;
    int done;
    uint64_t delivered; /* application bytes delivered by events */
} side;

typedef struct ours {
    side i, r;
} ours;

static void on_event(void *ctx, sc_session *s, const sc_event *ev)
{
    side *sd = ctx;
    (void)s;
    if (ev->type == SC_EV_HANDSHAKE_DONE) sd->done = 1;
    if (ev->type == SC_EV_FILE_DATA) sd->delivered += ev->u.file.len;
    if (ev->type == SC_EV_STANZA && ev->u.stanza->type == SC_STANZA_MSG)
        sd->delivered += ev->u.stanza->text_len;
    if (ev->type == SC_EV_ERROR) fprintf(stderr, "ours: %s\n", sc_strerror(ev->u.err));
}

/* Every bench user is @example.org (bench_certs.c). */
static const char *const bench_domains[] = {"example.org"};

static sc_config *make_config(const bench_identity *id, const bench_certs *c, const char *suite)
{
    sc_config *cfg = sc_config_new();
    if (cfg == NULL) return NULL;
    sc_config_set_random(cfg, sc_random_system, NULL);
    if (sc_config_set_identity_pem(cfg, id->chain_pem, id->chain_pem_len, id->key_pem,
                                   id->key_pem_len) != SC_OK ||
        sc_config_add_trust_anchor_pem(cfg, c->root_pem, c->root_pem_len, bench_domains, 1) !=
            SC_OK ||
        (suite && sc_config_set_suites(cfg, suite) != SC_OK)) {
        fprintf(stderr, "ours: cannot configure %s\n", id->user);
        sc_config_free(cfg);
        return NULL;
    }
    return cfg;
}

static int ours_init(ours *o, const bench_certs *c, int keytype, const char *suite)
{
    memset(o, 0, sizeof *o);
    o->i.cfg = make_config(&c->alice[keytype], c, suite);
    o->r.cfg = make_config(&c->bob[keytype], c, suite);
    return o->i.cfg && o->r.cfg ? 0 : -1;
}

static void ours_free_sessions(ours *o)
{
    sc_session_free(o->i.s);
    sc_session_free(o->r.s);
    o->i.s = o->r.s = NULL;
    o->i.done = o->r.done = 0;
}

static void ours_free(ours *o)
{
    ours_free_sessions(o);
    sc_config_free(o->i.cfg);
    sc_config_free(o->r.cfg);
}

/* Hands one side's pending output to the other; returns bytes moved or -1. */
static long move(side *from, side *to, uint64_t now)
{
    const uint8_t *p;
    size_t n = sc_session_output(from->s, &p);
    if (n == 0) return 0;
    if (sc_session_recv(to->s, p, n, now) != SC_OK) return -1;
    sc_session_output_consume(from->s, n);
    return (long)n;
}

static int pump(ours *o, uint64_t now)
{
    for (;;) {
        long a = move(&o->i, &o->r, now), b = move(&o->r, &o->i, now);
        if (a < 0 || b < 0) return -1;
        if (a == 0 && b == 0) return 0;
    }
}

static int handshake(ours *o)
{
    uint64_t now = sc_clock_ms();
    if (sc_session_new(o->i.cfg, SC_ROLE_INITIATOR, now, &o->i.s) != SC_OK ||
        sc_session_new(o->r.cfg, SC_ROLE_RESPONDER, now, &o->r.s) != SC_OK)
        return -1;
    sc_session_set_callback(o->i.s, on_event, &o->i);
    sc_session_set_callback(o->r.s, on_event, &o->r);
    if (sc_session_set_expected_peer(o->i.s, "bob@example.org") != SC_OK ||
        sc_session_start(o->i.s) != SC_OK || pump(o, now) != 0 || !o->i.done || !o->r.done)
        return -1;
    return 0;
}

enum { FIRST_CONTACT, FIRST_CONTACT_NEW_CA, KNOWN_PEER };

/* Puts the intermediate CA certificate in one side's decode cache, as another peer of that CA
 * would. */
static int seen_ca(sc_config *cfg, const bench_certs *c)
{
    BIO *bio = BIO_new_mem_buf(c->intermediate_pem, (int)c->intermediate_pem_len);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    unsigned char *der = NULL;
    int len = x ? i2d_X509(x, &der) : -1;
    uint8_t hash[32];
    if (len > 0 && SHA256(der, (size_t)len, hash) != NULL)
        sc_certcache_put(cfg->policy.cache, hash, x);
    OPENSSL_free(der);
    X509_free(x);
    BIO_free(bio);
    return len > 0 ? 0 : -1;
}

/* Untimed: makes the next handshake the first between these two peers. */
static int forget_peers(ours *o, const bench_certs *c, int mode)
{
    sc_certcache_clear(o->i.cfg->policy.cache);
    sc_certcache_clear(o->r.cfg->policy.cache);
    if (mode == FIRST_CONTACT_NEW_CA) return 0;
    return seen_ca(o->i.cfg, c) == 0 && seen_ca(o->r.cfg, c) == 0 ? 0 : -1;
}

static int run_handshakes(const bench_certs *c, int keytype, int n, double *seconds, int mode)
{
    ours o;
    double total = 0;
    int ret = BENCH_FAILED;
    if (ours_init(&o, c, keytype, NULL) != 0) goto out;
    if (handshake(&o) != 0) goto out; /* warm-up: caches filled for KNOWN_PEER */
    ours_free_sessions(&o);
    for (int k = 0; k < n; k++) {
        if (mode != KNOWN_PEER && forget_peers(&o, c, mode) != 0) goto out;
        double t0 = bench_now();
        int rc = handshake(&o);
        ours_free_sessions(&o);
        total += bench_now() - t0;
        if (rc != 0) goto out;
    }
    *seconds = total;
    ret = BENCH_OK;
out:
    if (ret != BENCH_OK) fprintf(stderr, "ours: handshake failed\n");
    ours_free(&o);
    return ret;
}

int bench_ours_handshakes(const bench_certs *c, int keytype, int n, double *seconds)
{
    return run_handshakes(c, keytype, n, seconds, FIRST_CONTACT);
}

int bench_ours_handshakes_new_ca(const bench_certs *c, int keytype, int n, double *seconds)
{
    return run_handshakes(c, keytype, n, seconds, FIRST_CONTACT_NEW_CA);
}

int bench_ours_handshakes_known(const bench_certs *c, int keytype, int n, double *seconds)
{
    return run_handshakes(c, keytype, n, seconds, KNOWN_PEER);
}

/* Bulk data goes as file data (raw bytes); small messages as chat messages (compact form,
 * PROTOCOL.md 10.4). */
static int send_one(sc_session *s, const uint8_t *buf, size_t len, uint64_t k)
{
    if (len > 1000) return sc_session_send_file_data(s, "bench", k * len, buf, len);
    sc_stanza st = {
        .type = SC_STANZA_MSG, .id = "m", .ts = 0, .text = (const char *)buf, .text_len = len};
    return sc_session_send_stanza(s, &st);
}

int bench_ours_records(const bench_certs *c, int keytype, int suite, size_t len, int n,
                       double *seconds)
{
    ours o;
    uint8_t *buf = malloc(len);
    int ret = BENCH_FAILED;
    uint64_t now = sc_clock_ms();
    if (buf == NULL || ours_init(&o, c, keytype, bench_suite_name(suite)) != 0) goto out;
    memset(buf, 'x', len);
    if (handshake(&o) != 0) goto out;
    double t0 = bench_now();
    for (int k = 0; k < n; k++) {
        if (send_one(o.i.s, buf, len, (uint64_t)k) != SC_OK || move(&o.i, &o.r, now) < 0) goto out;
    }
    *seconds = bench_now() - t0;
    if (o.r.delivered != (uint64_t)n * len) {
        fprintf(stderr, "ours: delivered %llu of %llu bytes\n", (unsigned long long)o.r.delivered,
                (unsigned long long)n * len);
        goto out;
    }
    ret = BENCH_OK;
out:
    ours_free(&o);
    free(buf);
    return ret;
}

/*
 * Heap growth (glibc mallinfo2: our malloc() and OpenSSL's together, block
 * overheads included) for K idle established pairs, split by freeing one
 * side first.
 */
int bench_ours_idle_memory(const bench_certs *c, int keytype, long long *initiator_bytes,
                           long long *responder_bytes)
{
    enum { K = 32 };
    ours o;
    sc_session *is[K] = {0}, *rs[K] = {0};
    int ret = BENCH_FAILED;
    if (ours_init(&o, c, keytype, NULL) != 0 || handshake(&o) != 0) goto out;
    ours_free_sessions(&o); /* warm: caches and OpenSSL's own tables filled */
    long long h0 = (long long)bench_mem_heap_in_use();
    for (int k = 0; k < K; k++) {
        if (handshake(&o) != 0) goto out;
        is[k] = o.i.s;
        rs[k] = o.r.s;
        o.i.s = o.r.s = NULL;
        o.i.done = o.r.done = 0;
    }
    long long h1 = (long long)bench_mem_heap_in_use();
    for (int k = 0; k < K; k++)
        sc_session_free(rs[k]), rs[k] = NULL;
    long long h2 = (long long)bench_mem_heap_in_use();
    *initiator_bytes = (h2 - h0) / K;
    *responder_bytes = (h1 - h2) / K;
    ret = BENCH_OK;
out:
    for (int k = 0; k < K; k++)
        sc_session_free(is[k]), sc_session_free(rs[k]);
    ours_free(&o);
    return ret;
}
