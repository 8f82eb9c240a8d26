/*
 * bench_agent_peers.c - many peers holding End2End Direct sessions with one
 * agent, for the agent's capacity and idle-memory figures (issue 8, "It
 * must show" 4; bench/agent.sh, bench/README.md "The agent").
 *
 *   bench_agent_peers --irpd-dir DIR --connect IP:PORT --user AGENT_USER
 *                     --count N [--first K] [--parallel P] [--domain D]
 *
 * Each peer is a distinct user (peer<K+i>@D) with its own P-256 key and a
 * certificate the registry's CA (loaded from DIR, as irpd itself loads it)
 * issues exactly as irpd issues one to an enrolling user, so the agent
 * sees what it would see from N real users. Each peer connects from its
 * own loopback source address (127.77.x.y), as real peers come from their
 * own addresses: the agent's per-source attempt limit is not what is
 * measured. Each runs the handshake as initiator, expects AGENT_USER, and
 * sends its device stanza (PROTOCOL.md 10.2); a session counts as up when
 * the agent's device stanza has arrived. At most P handshakes are in
 * flight at once (a burst of N would only measure the listen backlog).
 *
 * Prints "certs N MS" once the certificates are made (untimed for the
 * figures), then "up N MS" when every session is up (MS: from the first
 * connect to the last device stanza). Then holds the sessions, answering
 * whatever the agent sends (pings), until standard input reaches end of
 * file, and closes them in order. Exit status 1 if a session fails.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "irpd_ca.h"
#include "sixchat/config.h"
#include "sixchat/error.h"
#include "sixchat/platform.h"
#include "sixchat/session.h"

typedef struct peer {
    int fd;
    int idx;
    sc_config *cfg;
    sc_session *s;
    int state; /* 0 idle, 1 connecting, 2 handshake, 3 up, 4 failed */
} peer;

static int g_ep;
static int g_up, g_failed, g_inflight;
static const char *g_agent_user;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static char *pem_of_x509(X509 *x, size_t *len)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *out = NULL;
    BUF_MEM *m;
    if (b && PEM_write_bio_X509(b, x) && BIO_get_mem_ptr(b, &m) && (out = malloc(m->length + 1))) {
        memcpy(out, m->data, m->length);
        out[m->length] = '\0';
        *len = m->length;
    }
    BIO_free(b);
    return out;
}

/* A key, a CSR for it, the registry's certificate for user, as an sc_config. */
static sc_config *make_peer(const irpd_ca *ca, const char *ca_pem, size_t ca_len,
                            const char *domain, const char *user)
{
    sc_config *cfg = NULL;
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509_REQ *req = X509_REQ_new();
    uint8_t *der = NULL;
    irpd_issued iss;
    memset(&iss, 0, sizeof(iss));
    BIO *kb = BIO_new(BIO_s_mem());
    X509 *leaf = NULL;
    char *leaf_pem = NULL;
    size_t leaf_len = 0;
    irpd_ca_err err;
    int dlen;
    if (!k || !req || !kb || !X509_REQ_set_pubkey(req, k) || !X509_REQ_sign(req, k, EVP_sha256()) ||
        (dlen = i2d_X509_REQ(req, &der)) <= 0)
        goto out;
    if (irpd_ca_issue_user(ca, der, (size_t)dlen, user, time(NULL), 0, &iss, &err) != IRPD_CA_OK) {
        fprintf(stderr, "bench_agent_peers: issue %s: %s\n", user, err.msg);
        goto out;
    }
    const uint8_t *p = iss.der;
    leaf = d2i_X509(NULL, &p, (long)iss.der_len);
    BUF_MEM *km;
    if (!leaf || !(leaf_pem = pem_of_x509(leaf, &leaf_len)) ||
        !PEM_write_bio_PrivateKey(kb, k, NULL, NULL, 0, NULL, NULL) || !BIO_get_mem_ptr(kb, &km))
        goto out;
    cfg = sc_config_new();
    if (!cfg || sc_config_set_identity_pem(cfg, leaf_pem, leaf_len, km->data, km->length) ||
        sc_config_add_trust_anchor_pem(cfg, ca_pem, ca_len, &domain, 1)) {
        fprintf(stderr, "bench_agent_peers: config of %s refused\n", user);
        sc_config_free(cfg);
        cfg = NULL;
        goto out;
    }
    sc_config_set_random(cfg, sc_random_system, NULL);
out:
    free(leaf_pem);
    X509_free(leaf);
    irpd_issued_clear(&iss);
    OPENSSL_free(der);
    X509_REQ_free(req);
    EVP_PKEY_free(k);
    BIO_free(kb); /* the key's PEM was in memory only; BIO_free releases it */
    return cfg;
}

static void fail(peer *p, const char *why)
{
    if (p->state == 4) return;
    if (p->state != 3)
        g_inflight--;
    else
        g_up--;
    p->state = 4;
    g_failed++;
    fprintf(stderr, "bench_agent_peers: peer %d: %s (%s)\n", p->idx, why,
            p->s ? sc_strerror(sc_session_error(p->s)) : "-");
}

/* Writes what the session has queued; the socket buffers are ample for a handshake. */
static void flush(peer *p)
{
    const uint8_t *d;
    size_t n;
    while (p->s && (n = sc_session_output(p->s, &d)) > 0) {
        ssize_t w = send(p->fd, d, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN) fail(p, "write");
            return; /* the rest goes at the next event */
        }
        sc_session_output_consume(p->s, (size_t)w);
    }
}

static void on_event(void *ctx, sc_session *s, const sc_event *ev)
{
    peer *p = ctx;
    if (ev->type == SC_EV_HANDSHAKE_DONE) {
        char dev[32];
        snprintf(dev, sizeof(dev), "bench-%d", p->idx);
        sc_stanza st = {.type = SC_STANZA_DEVICE, .id = dev};
        if (sc_session_send_stanza(s, &st)) fail(p, "device stanza");
    } else if (ev->type == SC_EV_STANZA && ev->u.stanza->type == SC_STANZA_DEVICE &&
               p->state == 2) {
        p->state = 3;
        g_inflight--;
        g_up++;
    } else if (ev->type == SC_EV_CLOSED || ev->type == SC_EV_ERROR) {
        fail(p, ev->type == SC_EV_CLOSED ? "the agent closed the session" : "session error");
    }
}

static int start(peer *p, const struct sockaddr_in *to)
{
    struct sockaddr_in src = {.sin_family = AF_INET};
    /* 127.77.x.y, y in 1..250: one source address per peer. */
    src.sin_addr.s_addr = htonl((127u << 24) | (77u << 16) | ((unsigned)(p->idx / 250) << 8) |
                                (unsigned)(p->idx % 250 + 1));
    p->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (p->fd < 0) {
        fprintf(stderr, "bench_agent_peers: socket: %s\n", strerror(errno));
        return -1;
    }
    if (bind(p->fd, (struct sockaddr *)&src, sizeof(src)) != 0 ||
        (connect(p->fd, (const struct sockaddr *)to, sizeof(*to)) != 0 && errno != EINPROGRESS)) {
        fprintf(stderr, "bench_agent_peers: connect from 127.77.x.y: %s\n", strerror(errno));
        return -1;
    }
    struct epoll_event e = {.events = EPOLLIN | EPOLLOUT, .data.ptr = p};
    if (epoll_ctl(g_ep, EPOLL_CTL_ADD, p->fd, &e) != 0) return -1;
    p->state = 1;
    g_inflight++;
    return 0;
}

static void on_io(peer *p, uint32_t evs)
{
    static uint8_t buf[65536];
    if (p->state == 4) return;
    if (p->state == 1 && (evs & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int soerr = 0;
        socklen_t l = sizeof(soerr);
        if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &soerr, &l) != 0 || soerr) {
            fail(p, "connect refused");
            return;
        }
        struct epoll_event e = {.events = EPOLLIN, .data.ptr = p};
        if (epoll_ctl(g_ep, EPOLL_CTL_MOD, p->fd, &e) != 0 ||
            sc_session_new(p->cfg, SC_ROLE_INITIATOR, sc_clock_ms(), &p->s) ||
            sc_session_set_expected_peer(p->s, g_agent_user)) {
            fail(p, "session");
            return;
        }
        sc_session_set_callback(p->s, on_event, p);
        p->state = 2;
        if (sc_session_start(p->s)) fail(p, "start");
        flush(p);
        return;
    }
    if (!(evs & (EPOLLIN | EPOLLHUP | EPOLLERR)) || !p->s) return;
    for (;;) {
        ssize_t r = recv(p->fd, buf, sizeof(buf), 0);
        if (r > 0) {
            if (sc_session_recv(p->s, buf, (size_t)r, sc_clock_ms())) {
                flush(p);
                fail(p, "bad input");
                return;
            }
            continue;
        }
        if (r == 0) {
            fail(p, "the agent closed the connection");
            return;
        }
        if (errno == EINTR) continue;
        break;
    }
    flush(p);
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *connect_to = NULL, *domain = "example.org";
    int count = 0, first = 0, parallel = 16;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--irpd-dir"))
            dir = argv[i + 1];
        else if (!strcmp(argv[i], "--connect"))
            connect_to = argv[i + 1];
        else if (!strcmp(argv[i], "--user"))
            g_agent_user = argv[i + 1];
        else if (!strcmp(argv[i], "--count"))
            count = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--first"))
            first = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--parallel"))
            parallel = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--domain"))
            domain = argv[i + 1];
    }
    char ip[64];
    const char *colon = connect_to ? strrchr(connect_to, ':') : NULL;
    if (!dir || !colon || !g_agent_user || count <= 0 || parallel <= 0 ||
        (size_t)(colon - connect_to) >= sizeof(ip)) {
        fprintf(stderr, "usage: bench_agent_peers --irpd-dir DIR --connect IP:PORT --user USER "
                        "--count N [--first K] [--parallel P] [--domain D]\n");
        return 2;
    }
    memcpy(ip, connect_to, (size_t)(colon - connect_to));
    ip[colon - connect_to] = '\0';
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    if (inet_pton(AF_INET, ip, &to.sin_addr) != 1) return 2;

    /* One descriptor per session, and some. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)count + 64) {
        rl.rlim_cur = rl.rlim_max < (rlim_t)count + 64 ? rl.rlim_max : (rlim_t)count + 64;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }

    irpd_ca *ca = NULL;
    irpd_ca_err err;
    if (irpd_ca_load(dir, &ca, &err) != IRPD_CA_OK) {
        fprintf(stderr, "bench_agent_peers: the registry's CA in %s: %s\n", dir, err.msg);
        return 1;
    }
    size_t ca_len = 0;
    char *ca_pem = pem_of_x509(irpd_ca_cert(ca), &ca_len);
    peer *peers = calloc((size_t)count, sizeof(peer));
    if (!ca_pem || !peers) return 1;
    double t0 = now_ms();
    for (int i = 0; i < count; i++) {
        char user[128];
        snprintf(user, sizeof(user), "peer%05d@%s", first + i, domain);
        peers[i].idx = first + i;
        peers[i].fd = -1;
        if (!(peers[i].cfg = make_peer(ca, ca_pem, ca_len, domain, user))) return 1;
    }
    printf("certs %d %.0f\n", count, now_ms() - t0);
    fflush(stdout);

    g_ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event se = {.events = EPOLLIN, .data.ptr = NULL};
    if (g_ep < 0 || epoll_ctl(g_ep, EPOLL_CTL_ADD, 0, &se) != 0) {
        fprintf(stderr, "bench_agent_peers: epoll\n");
        return 1;
    }
    int next = 0, done_reported = 0, stdin_open = 1;
    double t1 = now_ms();
    struct epoll_event evs[256];
    while (stdin_open || !done_reported) {
        while (next < count && g_inflight < parallel)
            if (start(&peers[next++], &to)) return 1;
        if (!done_reported && g_up + g_failed == count) {
            printf("up %d %.0f\n", g_up, now_ms() - t1);
            fflush(stdout);
            done_reported = 1;
            if (g_failed) break;
        }
        int n = epoll_wait(g_ep, evs, 256, 1000);
        if (n < 0 && errno != EINTR) break;
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == NULL) {
                char b[256];
                if (read(0, b, sizeof(b)) <= 0) {
                    stdin_open = 0;
                    epoll_ctl(g_ep, EPOLL_CTL_DEL, 0, NULL);
                }
                continue;
            }
            on_io(evs[i].data.ptr, evs[i].events);
        }
    }
    /* Closed in order: close_notify, then the socket. */
    for (int i = 0; i < count; i++) {
        peer *p = &peers[i];
        if (p->s && p->state == 3 && sc_session_close(p->s) == SC_OK) flush(p);
        if (p->fd >= 0) close(p->fd);
        sc_session_free(p->s);
        sc_config_free(p->cfg);
    }
    free(peers);
    free(ca_pem);
    irpd_ca_free(ca);
    return g_failed ? 1 : 0;
}
