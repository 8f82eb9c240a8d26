/*
 * bench_irpd_commit.c - does a bystander's lookup keep its latency while
 * the registry commits? (issue 7 F7; docs/IRP.md 10.2).
 *
 * One libuv loop plays the registry's event loop. A bystander's lookup is
 * due every millisecond (a repeating timer); its latency is the time from
 * when it was due to when its answer is ready, so a loop stalled by a
 * commit shows up as late lookups. Meanwhile, another timer produces load:
 * - "login flood": 1000 failed-login audit records a second, each its own
 *   durable record (IRP.md 10.4);
 * - "registration burst": 1000 register a second over 200 users.
 * Two ways to commit:
 * - "inline": the loop calls the store and each write commits (fsync) on
 *   the loop, as irpd did before issue 7;
 * - "writer": the loop reads on its own connection and hands each write to
 *   the writer thread (irpd_writer.h), which commits in groups.
 * Prints, per way and phase, lookup latency percentiles and the writes
 * done. The database lives in the current directory unless a directory is
 * given: run it on the disk the registry would use (no tmpfs), e.g.
 *   build/bench/bench_irpd_commit build
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "irpd_store.h"
#include "irpd_writer.h"

#define NOW INT64_C(1800000000)
#define N_USERS 200
#define PHASE_MS 3000
#define MAX_SAMPLES (PHASE_MS + 1000)
#define MAX_PENDING 256 /* writes in flight before the producer waits (a server's input cap) */

enum { LOAD_NONE, LOAD_LOGIN, LOAD_REGISTER };
static const char *const LOAD_NAME[] = {"idle", "login flood", "registration burst"};

typedef struct bench {
    uv_loop_t loop;
    uv_timer_t lookups, load, stop;
    irpd_store *r, *w; /* inline: r == w, no writer */
    irpd_writer *wr;
    int load_kind;
    uint64_t t0, n_lookups; /* hrtime of the first due lookup */
    double lat_us[MAX_SAMPLES];
    size_t n_lat;
    uint64_t writes, write_fail, seq, seq0; /* seq0: the phase's first */
} bench;

typedef struct wjob {
    irpd_writer_job job;
    int kind;
    uint64_t seq;
    bench *b;
} wjob;

static int on_bind(void *arg, const irpd_binding *bd)
{
    (void)bd;
    ++*(int *)arg;
    return 0;
}

/* Elapsed whole milliseconds since t0: how many lookups (and writes) are due by now. */
static uint64_t due_count(const bench *b)
{
    uint64_t now = uv_hrtime();
    return now > b->t0 ? (now - b->t0) / 1000000u + 1 : 0;
}

/* Open loop: every lookup due by now runs, late ones measured from when they were due. */
static void on_lookup_due(uv_timer_t *t)
{
    bench *b = t->data;
    irpd_lookup_cb cb = {on_bind, NULL};
    while (b->n_lookups < due_count(b)) {
        uint64_t due = b->t0 + b->n_lookups * 1000000u;
        int n = 0;
        if (irpd_store_lookup(b->r, "bystander@example.org", "user0@example.org", NOW, 0, &cb, &n,
                              NULL) != 0)
            fprintf(stderr, "lookup: %s\n", irpd_store_errmsg(b->r));
        uint64_t done = uv_hrtime();
        if (b->n_lat < MAX_SAMPLES) b->lat_us[b->n_lat++] = done > due ? (done - due) / 1e3 : 0;
        b->n_lookups++;
    }
}

static irp_status do_write(irpd_store *st, int kind, uint64_t seq)
{
    char user[64];
    snprintf(user, sizeof user, "user%d@example.org", (int)(seq % N_USERS));
    if (kind == LOAD_LOGIN)
        return irpd_store_audit_add(st, NOW, NULL, "login-failed", user, "wrong password");
    irpd_binding bd;
    memset(&bd, 0, sizeof bd);
    snprintf(bd.user, sizeof bd.user, "%s", user);
    snprintf(bd.device, sizeof bd.device, "phone");
    bd.seq = seq + 1;
    bd.port = 4605;
    bd.n_addrs = 1;
    snprintf(bd.addrs[0], sizeof bd.addrs[0], "2001:db8::%x", (unsigned)(seq % 65536));
    bd.expires = NOW + 600;
    return irpd_store_binding_put(st, &bd, NULL, user, NOW);
}

static irp_status apply_job(irpd_store *w, irpd_writer_job *j)
{
    wjob *x = (wjob *)j;
    return do_write(w, x->kind, x->seq);
}

static void done_job(irpd_writer_job *j, irp_status applied, irp_status committed)
{
    wjob *x = (wjob *)j;
    if (applied == 0 && committed == 0)
        x->b->writes++;
    else
        x->b->write_fail++;
    free(x);
}

/* The load: every write due by now (at most 50 a turn), inline or to the writer. */
static void on_load(uv_timer_t *t)
{
    bench *b = t->data;
    for (int k = 0; k < 50 && b->seq - b->seq0 < due_count(b); k++) {
        if (b->wr == NULL) { /* inline: the loop commits */
            if (do_write(b->w, b->load_kind, b->seq++) == 0)
                b->writes++;
            else
                b->write_fail++;
            continue;
        }
        if (irpd_writer_pending(b->wr) >= MAX_PENDING) return;
        wjob *x = calloc(1, sizeof *x);
        if (x == NULL) return;
        x->job.apply = apply_job;
        x->job.done = done_job;
        x->kind = b->load_kind;
        x->seq = b->seq++;
        x->b = b;
        if (irpd_writer_submit(b->wr, &x->job) != 0) free(x);
    }
}

static void on_stop(uv_timer_t *t)
{
    bench *b = t->data;
    uv_timer_stop(&b->lookups);
    uv_timer_stop(&b->load);
    uv_stop(&b->loop);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(const double *v, size_t n, double p)
{
    size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
    return n > 0 ? v[i] : 0;
}

static void phase(bench *b, const char *way, int kind)
{
    b->load_kind = kind;
    b->n_lat = 0;
    b->n_lookups = 0;
    b->writes = b->write_fail = 0;
    b->seq0 = b->seq;
    uv_update_time(&b->loop);
    b->t0 = uv_hrtime() + 1000000u;
    uv_timer_start(&b->lookups, on_lookup_due, 1, 1);
    if (kind != LOAD_NONE) uv_timer_start(&b->load, on_load, 1, 1);
    uv_timer_start(&b->stop, on_stop, PHASE_MS, 0);
    uv_run(&b->loop, UV_RUN_DEFAULT);
    while (b->wr != NULL && irpd_writer_pending(b->wr) > 0) /* count the phase's writes */
        uv_run(&b->loop, UV_RUN_ONCE);
    qsort(b->lat_us, b->n_lat, sizeof *b->lat_us, cmp_d);
    printf("%-7s %-19s lookups %5zu  latency us p50 %7.0f p90 %7.0f p99 %7.0f max %7.0f  "
           "writes %5" PRIu64 " (%" PRIu64 " failed)\n",
           way, LOAD_NAME[kind], b->n_lat, pct(b->lat_us, b->n_lat, 50),
           pct(b->lat_us, b->n_lat, 90), pct(b->lat_us, b->n_lat, 99),
           b->n_lat > 0 ? b->lat_us[b->n_lat - 1] : 0, b->writes, b->write_fail);
}

static irpd_store *open_db(const char *path)
{
    irpd_store *st = NULL;
    irpd_store_opts o = {.flags = IRPD_STORE_CREATE};
    if (irpd_store_open_sqlite(path, &o, &st) != 0) {
        fprintf(stderr, "open %s: %s\n", path, irpd_store_errmsg(st));
        exit(1);
    }
    return st;
}

static void run_way(const char *dir, const char *way, int threaded)
{
    static bench b;
    char path[512];
    snprintf(path, sizeof path, "%s/bench_irpd_commit.%d.db", dir, (int)getpid());
    memset(&b, 0, sizeof b);
    if (uv_loop_init(&b.loop) != 0) exit(1);
    b.r = open_db(path);
    for (int i = 0; i < N_USERS; i++) { /* the users, and the bystander */
        char u[64];
        snprintf(u, sizeof u, "user%d@example.org", i);
        if (irpd_store_user_add(b.r, u, "bench", NOW) != 0) exit(1);
    }
    if (irpd_store_user_add(b.r, "bystander@example.org", "bench", NOW) != 0) exit(1);
    b.w = b.r;
    if (threaded) {
        b.w = open_db(path);
        if (irpd_writer_start(&b.wr, &b.loop, b.w) != 0) exit(1);
    }
    uv_timer_init(&b.loop, &b.lookups);
    uv_timer_init(&b.loop, &b.load);
    uv_timer_init(&b.loop, &b.stop);
    b.lookups.data = b.load.data = b.stop.data = &b;
    phase(&b, way, LOAD_NONE);
    phase(&b, way, LOAD_LOGIN);
    phase(&b, way, LOAD_REGISTER);
    irpd_writer_stop(b.wr);
    uv_close((uv_handle_t *)&b.lookups, NULL);
    uv_close((uv_handle_t *)&b.load, NULL);
    uv_close((uv_handle_t *)&b.stop, NULL);
    uv_run(&b.loop, UV_RUN_DEFAULT);
    uv_loop_close(&b.loop);
    if (threaded) irpd_store_close(b.w);
    irpd_store_close(b.r);
    static const char *const sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char p[600];
        snprintf(p, sizeof p, "%s%s", path, sfx[i]);
        unlink(p);
    }
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    printf("bystander lookups due every 1 ms for %d ms per phase; load 1000 writes/s; db in %s\n",
           PHASE_MS, dir);
    run_way(dir, "inline", 0);
    run_way(dir, "writer", 1);
    return 0;
}
