/*
 * bench_irpd_server.c - the registry's server benchmark (issue 9,
 * bench/README.md "Server benchmark"): a load generator on src/irp (the
 * TLS pump irp_tlspump, the framer irp_frame, the reference writer and
 * parser irp_msg) holding many TLS 1.3 connections to a real irpd, each
 * authenticated by its own client certificate, in one thread (epoll).
 *
 *   bench_irpd_server --connect HOST:PORT --ca CA.pem --users DIR --n-users N
 *                     --mode lookup|register|watch|hold [--conns C] [--depth P]
 *                     [--ms MS] [--warmup MS] [--target USER] [--pid IRPD_PID]
 *                     [--json FILE --name NAME [--anchor RATE] [--anchor-cpu RATE]]
 *
 * DIR holds u0.pem/u0.key .. u<N-1>.pem/.key (users u0@..); connection i
 * presents certificate i mod N. Modes (P requests in flight per connection,
 * P = 1 is one at a time):
 *   lookup   every connection looks up TARGET: answers 200 per second;
 *            every answer must be 200 and signed (its sig element is
 *            checked on the first answer of each connection, the rest
 *            must carry one);
 *   register every connection registers its own device (seq increasing):
 *            durable registrations (200) per second;
 *   watch    C-1 connections watch TARGET, connection 0 (TARGET's own
 *            certificate, u0) registers pipelined: events delivered per
 *            second, summed over the watchers;
 *   hold     C connections opened, each answering one lookup, then held:
 *            irpd's resident memory (VmRSS of --pid) before and after,
 *            per connection.
 * Prints one line: the rate, and with --pid the CPU time irpd used
 * meanwhile (/proc/PID/stat, all its threads) and so the rate per irpd CPU
 * second, which a shared machine disturbs far less than the rate. With
 * --json both are appended to FILE (bench_json.h) as figures: "ours" is
 * ours, the "tls" column the anchor given (Redis over TLS, its rate and its
 * rate per redis-server CPU second, measured by bench/irpd_server.sh),
 * absent when none. Exit 0, 1 when the run failed, 2 for usage.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "bench_common.h"
#include "bench_json.h"
#include "irp_frame.h"
#include "irp_msg.h"
#include "irp_sig.h"
#include "irp_tlspump.h"

enum { M_LOOKUP, M_REGISTER, M_WATCH, M_HOLD };

typedef struct conn {
    int fd, idx;
    irp_tlspump *tp;
    irp_framer fr;
    int hs_done, want_out, closed;
    unsigned long long sent, got, seq;
    int checked; /* the first signed answer was verified */
    uint8_t *ct; /* ciphertext not yet written to the socket */
    size_t ct_len, ct_cap;
} conn;

typedef struct load {
    int mode, depth, n_users, n_conns;
    const char *target;
    struct sockaddr_in sa;
    SSL_CTX **ctx; /* one per user certificate */
    conn *c;
    int ep;
    sc_xml_parser *xp;
    int measuring;
    unsigned long long counted, failed, unsigned_answers, bad_sig, ready;
    unsigned long long seq0;
} load;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_irpd_server: %s\n", what);
    exit(1);
}

/* Moves the pump's ciphertext to the socket; what the socket refuses waits in c->ct. */
static void flush_conn(load *L, conn *c)
{
    for (;;) {
        ssize_t w;
        if (c->ct_len == 0) {
            size_t p = irp_tlspump_pending(c->tp);
            if (p == 0) break;
            if (p > c->ct_cap) {
                uint8_t *n = realloc(c->ct, p);
                if (n == NULL) die("out of memory");
                c->ct = n;
                c->ct_cap = p;
            }
            c->ct_len = irp_tlspump_take(c->tp, c->ct, p);
        }
        w = send(c->fd, c->ct, c->ct_len, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (w < 0) {
            c->closed = 1;
            return;
        }
        memmove(c->ct, c->ct + w, c->ct_len - (size_t)w);
        c->ct_len -= (size_t)w;
    }
    {
        int want = c->ct_len > 0;
        if (want != c->want_out) {
            struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0u),
                                     .data.u32 = (uint32_t)c->idx};
            if (epoll_ctl(L->ep, EPOLL_CTL_MOD, c->fd, &ev) != 0) die("epoll_ctl");
            c->want_out = want;
        }
    }
}

/* Appends one request of the mode to out (as the client it is). */
static void put_request(load *L, conn *c, sc_buf *out)
{
    char doc[320];
    int n;
    if (L->mode == M_REGISTER || (L->mode == M_WATCH && c->idx == 0)) {
        /* its own device, seq strictly increasing (IRP.md 6.4) across runs too */
        n = snprintf(doc, sizeof(doc),
                     "<req id=\"r\" op=\"register\" device=\"b%d\" port=\"4605\" "
                     "seq=\"%llu\"><addr>192.0.2.%d</addr></req>",
                     c->idx, L->seq0 + c->seq++, 1 + c->idx % 200);
    } else if (L->mode == M_WATCH) {
        n = snprintf(doc, sizeof(doc), "<req id=\"w\" op=\"watch\" user=\"%s\"/>", L->target);
    } else {
        n = snprintf(doc, sizeof(doc), "<req id=\"k\" op=\"lookup\" user=\"%s\"/>", L->target);
    }
    if (irp_frame_put(out, (const uint8_t *)doc, (size_t)n) != 0) die("frame");
    c->sent++;
}

/*
 * Tops the connection up to its pipelining depth; a watcher and a held
 * connection send one request in all; the watch driver starts once every
 * watch is in place.
 */
static void fill(load *L, conn *c)
{
    sc_buf out;
    unsigned long long limit = (unsigned long long)L->depth;
    int one_shot = L->mode == M_HOLD || (L->mode == M_WATCH && c->idx != 0);

    if (c->closed) return;
    if (one_shot) {
        if (c->sent > 0) return;
        limit = 1;
    } else if (L->mode == M_WATCH && L->ready < (unsigned long long)L->n_conns - 1) {
        return;
    }
    if (c->sent - c->got >= limit) return;
    sc_buf_init_public(&out, 0);
    while (c->sent - c->got < limit)
        put_request(L, c, &out);
    if (!sc_buf_ok(&out) || irp_tlspump_write(c->tp, out.data, out.len) != SC_OK) die("tls write");
    sc_buf_dispose(&out);
}

/* One document from the registry. */
static void on_doc(load *L, conn *c, const uint8_t *doc, size_t len)
{
    irp_resp resp;
    irp_event ev;
    int is_event = 0;
    int full = (L->mode == M_LOOKUP && !c->checked) || L->mode == M_WATCH || L->mode == M_HOLD;

    if (!full) {
        /* the cheap check a pipelining client does: status, and a sig on every lookup answer */
        if (len < 40 || memcmp(doc, "<resp ", 6) != 0) die("unexpected document");
        c->got++;
        if (memmem(doc, len, "status=\"200\"", 12) == NULL) {
            L->failed++;
            if (L->failed < 4) fprintf(stderr, "answer: %.*s\n", (int)len, (const char *)doc);
        } else if (L->mode == M_LOOKUP && memmem(doc, len, "<sig ", 5) == NULL) {
            L->unsigned_answers++;
        } else if (L->measuring) {
            L->counted++;
        }
        return;
    }
    irp_resp_init(&resp);
    irp_event_init(&ev);
    if (irp_server_doc_parse(L->xp, doc, len, &resp, &ev, &is_event) != 0) die("bad document");
    if (is_event) {
        if (L->measuring) L->counted++;
        irp_event_clear(&ev);
        return;
    }
    c->got++;
    if (resp.status != 200) {
        L->failed++;
        if (L->failed < 4) fprintf(stderr, "answer: %.*s\n", (int)len, (const char *)doc);
    } else if (L->mode == M_LOOKUP) {
        X509 *sc = SSL_get1_peer_certificate(irp_tlspump_ssl(c->tp));
        if (!resp.has_sig || irp_lookup_verify(&resp, sc) != 0) L->bad_sig++;
        X509_free(sc);
        c->checked = 1;
        if (L->measuring) L->counted++;
    } else if (!(L->mode == M_WATCH && c->idx == 0)) {
        L->ready++; /* hold: answered; watch: in place */
    }
    irp_resp_clear(&resp);
}

static void on_readable(load *L, conn *c)
{
    uint8_t buf[65536];
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
            c->closed = 1;
            return;
        }
        if (n < 0) break;
        if (irp_tlspump_feed(c->tp, buf, (size_t)n) != SC_OK) die("feed");
        if (!c->hs_done) {
            int done = 0;
            if (irp_tlspump_handshake(c->tp, &done) != SC_OK) {
                fprintf(stderr, "bench_irpd_server: handshake %d: %s\n", c->idx,
                        irp_tlspump_reason(c->tp));
                exit(1);
            }
            if (!done) continue;
            c->hs_done = 1;
            fill(L, c);
        }
        for (;;) {
            uint8_t pt[65536];
            size_t got = 0, off = 0;
            int rc = irp_tlspump_read(c->tp, pt, sizeof(pt), &got);
            if (rc != SC_OK) {
                c->closed = 1;
                return;
            }
            if (got == 0) break;
            while (off < got) {
                const uint8_t *doc;
                size_t used = 0, dlen;
                int r = irp_framer_feed(&c->fr, pt + off, got - off, &used, &doc, &dlen);
                off += used;
                if (r == IRP_FEED_NEED) continue;
                if (r != IRP_FEED_DOC) die("bad frame");
                on_doc(L, c, doc, dlen);
            }
        }
        fill(L, c);
    }
    flush_conn(L, c);
}

static void open_conn(load *L, int i)
{
    conn *c = &L->c[i];
    int one = 1, done = 0;
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};

    c->idx = i;
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0) die("socket (raise ulimit -n)");
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, (struct sockaddr *)&L->sa, sizeof(L->sa)) != 0) die("connect");
    if (fcntl(c->fd, F_SETFL, O_NONBLOCK) != 0) die("fcntl");
    c->tp = irp_tlspump_new(L->ctx[i % L->n_users], 0);
    if (c->tp == NULL) die("tls");
    irp_framer_init(&c->fr);
    if (irp_tlspump_handshake(c->tp, &done) != SC_OK) die("handshake start");
    if (epoll_ctl(L->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) die("epoll_ctl");
    flush_conn(L, c);
}

/* Runs the loop until until_s (absolute, now_s). */
static void run_loop(load *L, double until_s)
{
    struct epoll_event evs[256];
    for (;;) {
        int n, k;
        double t = now_s();
        if (t >= until_s) return;
        n = epoll_wait(L->ep, evs, 256, 50);
        if (n < 0 && errno != EINTR) die("epoll_wait");
        for (k = 0; k < n; k++) {
            conn *c = &L->c[evs[k].data.u32];
            if (c->closed) continue;
            if (evs[k].events & EPOLLOUT) flush_conn(L, c);
            if (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(L, c);
            if (c->closed) {
                fprintf(stderr, "bench_irpd_server: connection %d closed by the registry\n",
                        c->idx);
                exit(1);
            }
        }
    }
}

static int all_ready(load *L)
{
    unsigned long long want =
        L->mode == M_WATCH ? (unsigned long long)L->n_conns - 1 : (unsigned long long)L->n_conns;
    return L->ready >= want;
}

static long rss_kb(int pid)
{
    char path[64], line[256];
    long kb = -1;
    FILE *f;
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    if ((f = fopen(path, "r")) == NULL) return -1;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, "VmRSS:", 6) == 0) kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

/* CPU seconds (user + system, all threads) the process has used; -1 when unreadable. */
static double cpu_s(int pid)
{
    char path[64], buf[1024], *p;
    unsigned long long ut = 0, st = 0;
    size_t n;
    FILE *f;
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    if (pid <= 0 || (f = fopen(path, "r")) == NULL) return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* after "(comm)": state is field 3, utime 14, stime 15 (proc(5)) */
    if ((p = strrchr(buf, ')')) == NULL ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* This process's CPU seconds: the load generator's own share of the cores. */
static double gen_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static SSL_CTX *user_ctx(const char *ca, const char *dir, int i)
{
    char cert[512], key[512];
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) return NULL;
    snprintf(cert, sizeof(cert), "%s/u%d.pem", dir, i);
    snprintf(key, sizeof(key), "%s/u%d.key", dir, i);
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_alpn_protos(ctx, (const unsigned char *)"\x05irp/1", 6);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1 ||
        SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        fprintf(stderr, "bench_irpd_server: cannot load %s / %s / %s\n", ca, cert, key);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static int usage(void)
{
    fprintf(stderr, "usage: bench_irpd_server --connect IP:PORT --ca CA --users DIR --n-users N "
                    "--mode lookup|register|watch|hold [--conns C] [--depth P] [--ms MS] "
                    "[--warmup MS] [--target USER] [--pid PID] [--json FILE --name NAME "
                    "[--anchor RATE] [--anchor-cpu RATE]]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *connect_to = NULL, *ca = NULL, *dir = NULL, *mode = NULL, *json = NULL,
               *name = NULL, *anchor = NULL, *anchor_cpu = NULL;
    double ms = 3000, warmup = 500, rate = 0, t0, t1, c0, c1, g0, per_cpu = 0;
    int i, pid = 0;
    long rss0 = -1, rss1 = -1;
    load L;
    char host[64];
    const char *colon;
    struct timespec ts;

    memset(&L, 0, sizeof(L));
    L.depth = 1;
    L.n_conns = 0;
    L.target = "u0@example.org";
    for (i = 1; i + 1 < argc; i += 2) {
        const char *o = argv[i], *v = argv[i + 1];
        if (strcmp(o, "--connect") == 0)
            connect_to = v;
        else if (strcmp(o, "--ca") == 0)
            ca = v;
        else if (strcmp(o, "--users") == 0)
            dir = v;
        else if (strcmp(o, "--n-users") == 0)
            L.n_users = atoi(v);
        else if (strcmp(o, "--mode") == 0)
            mode = v;
        else if (strcmp(o, "--conns") == 0)
            L.n_conns = atoi(v);
        else if (strcmp(o, "--depth") == 0)
            L.depth = atoi(v);
        else if (strcmp(o, "--ms") == 0)
            ms = atof(v);
        else if (strcmp(o, "--warmup") == 0)
            warmup = atof(v);
        else if (strcmp(o, "--target") == 0)
            L.target = v;
        else if (strcmp(o, "--pid") == 0)
            pid = atoi(v);
        else if (strcmp(o, "--json") == 0)
            json = v;
        else if (strcmp(o, "--name") == 0)
            name = v;
        else if (strcmp(o, "--anchor") == 0)
            anchor = v;
        else if (strcmp(o, "--anchor-cpu") == 0)
            anchor_cpu = v;
        else
            return usage();
    }
    if (i != argc || connect_to == NULL || ca == NULL || dir == NULL || mode == NULL ||
        L.n_users <= 0 || L.depth <= 0 || ms <= 0 || (json != NULL && name == NULL))
        return usage();
    if (strcmp(mode, "lookup") == 0)
        L.mode = M_LOOKUP;
    else if (strcmp(mode, "register") == 0)
        L.mode = M_REGISTER;
    else if (strcmp(mode, "watch") == 0)
        L.mode = M_WATCH;
    else if (strcmp(mode, "hold") == 0)
        L.mode = M_HOLD;
    else
        return usage();
    if (L.n_conns <= 0) L.n_conns = L.n_users;
    if (L.mode == M_WATCH && L.n_conns < 2) return usage();
    colon = strrchr(connect_to, ':');
    if (colon == NULL || (size_t)(colon - connect_to) >= sizeof(host)) return usage();
    memcpy(host, connect_to, (size_t)(colon - connect_to));
    host[colon - connect_to] = '\0';
    L.sa.sin_family = AF_INET;
    L.sa.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &L.sa.sin_addr) != 1) return usage();
    clock_gettime(CLOCK_REALTIME, &ts);
    L.seq0 = (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000;

    L.ctx = calloc((size_t)L.n_users, sizeof(*L.ctx));
    L.c = calloc((size_t)L.n_conns, sizeof(*L.c));
    if (L.ctx == NULL || L.c == NULL) die("out of memory");
    for (i = 0; i < L.n_users; i++)
        if ((L.ctx[i] = user_ctx(ca, dir, i)) == NULL) return 1;
    L.xp = sc_xml_parser_new();
    if ((L.ep = epoll_create1(0)) < 0 || L.xp == NULL) die("setup");

    if (pid > 0) rss0 = rss_kb(pid);
    /* Connections open in batches so that the listen backlog never overflows. */
    for (i = 0; i < L.n_conns; i++) {
        open_conn(&L, i);
        if (i % 64 == 63) run_loop(&L, now_s() + 0.02);
    }
    if (L.mode == M_HOLD || L.mode == M_WATCH) {
        double deadline = now_s() + 60;
        while (!all_ready(&L) && now_s() < deadline)
            run_loop(&L, now_s() + 0.1);
        if (!all_ready(&L)) die("not every connection was answered within 60 s");
    }
    if (L.mode == M_HOLD) {
        if (pid > 0) rss1 = rss_kb(pid);
        if (L.failed > 0) die("a lookup failed");
        if (rss0 < 0 || rss1 < 0) die("no --pid, or its memory cannot be read");
        rate = (double)(rss1 - rss0) * 1024.0 / L.n_conns;
        printf("hold %d connections: irpd VmRSS %ld kB -> %ld kB, %.0f bytes per connection\n",
               L.n_conns, rss0, rss1, rate);
    } else {
        if (L.mode == M_WATCH) {
            fill(&L, &L.c[0]);
            flush_conn(&L, &L.c[0]);
        }
        run_loop(&L, now_s() + warmup / 1e3);
        L.measuring = 1;
        L.counted = 0;
        c0 = cpu_s(pid);
        g0 = gen_cpu_s();
        t0 = now_s();
        run_loop(&L, t0 + ms / 1e3);
        t1 = now_s();
        c1 = cpu_s(pid);
        L.measuring = 0;
        rate = (double)L.counted / (t1 - t0);
        printf("%s %d connections, %d in flight each: %.0f per second (%llu in %.2f s)", mode,
               L.n_conns, L.depth, rate, L.counted, t1 - t0);
        if (c0 >= 0 && c1 > c0 && L.counted > 0) {
            per_cpu = (double)L.counted / (c1 - c0);
            printf("; irpd used %.2f CPU s: %.0f per irpd CPU second, %.1f us each", c1 - c0,
                   per_cpu, (c1 - c0) * 1e6 / (double)L.counted);
        }
        printf("; the generator %.2f CPU s\n", gen_cpu_s() - g0);
        if (L.failed > 0 || L.unsigned_answers > 0 || L.bad_sig > 0) {
            fprintf(stderr,
                    "bench_irpd_server: %llu answers not 200, %llu lookups unsigned, %llu bad "
                    "signatures\n",
                    L.failed, L.unsigned_answers, L.bad_sig);
            return 1;
        }
    }
    if (json != NULL) {
        bench_results r;
        bench_figure *f;
        bench_results_init(&r);
        f = bench_results_add(&r, name, L.mode == M_HOLD ? "bytes" : "1/s", L.mode != M_HOLD);
        if (f == NULL) die("out of memory");
        bench_figure_ours(f, BENCH_OK, rate);
        if (anchor != NULL && atof(anchor) > 0) bench_figure_tls(f, BENCH_OK, atof(anchor));
        if (per_cpu > 0) {
            char n2[96];
            snprintf(n2, sizeof(n2), "%.70s, per CPU s", name);
            if ((f = bench_results_add(&r, n2, "1/CPU-s", 1)) == NULL) die("out of memory");
            bench_figure_ours(f, BENCH_OK, per_cpu);
            if (anchor_cpu != NULL && atof(anchor_cpu) > 0)
                bench_figure_tls(f, BENCH_OK, atof(anchor_cpu));
        }
        if (bench_results_write_json(&r, json) != 0) die("cannot write the JSON file");
        bench_results_free(&r);
    }
    for (i = 0; i < L.n_conns; i++) {
        irp_tlspump_free(L.c[i].tp);
        irp_framer_free(&L.c[i].fr);
        free(L.c[i].ct);
        close(L.c[i].fd);
    }
    for (i = 0; i < L.n_users; i++)
        SSL_CTX_free(L.ctx[i]);
    free(L.ctx);
    free(L.c);
    sc_xml_parser_free(L.xp);
    close(L.ep);
    return 0;
}
