/*
 * sixchat_demo.c - the reference for embedding libsixchat: one End2End
 * Direct conversation over a real TCP connection.
 *
 * The library is sans-I/O: it never touches sockets, clocks or files. The
 * embedder owns all three and has exactly four duties, all in run() below:
 *   1. feed every received byte to sc_session_recv();
 *   2. send whatever sc_session_output() holds (short writes are fine);
 *   3. call sc_session_tick() once sc_session_deadline() has passed;
 *   4. report the end of the byte stream with sc_session_eof().
 * Everything the protocol produces (peer authenticated, stanza, key update,
 * close, failure) comes back as events through one callback, on_event().
 *
 * This file links against the shared library and includes only the public
 * header, so it also proves that the exported API suffices for a client.
 * libcrypto is used directly only to read our own user ID from our own
 * certificate for the log prefix (the library does not export it) and to
 * wipe buffers that held key material (sc_wipe).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sixchat/sixchat.h>

#define PEM_MAX (64 * 1024) /* no sane certificate chain or key is larger */
#define LINGER_MS 2000      /* after the close_notify exchange: wait this long for the TCP FIN */
#define PROG "sixchat-demo"

typedef struct opts {
    int listen;
    const char *cert, *key, *ca, *ca_domain, *peer, *to, *bind, *port;
} opts;

/* One side of the conversation. The callback reaches it through ctx. */
typedef struct app {
    sc_role role;
    sc_session *s;
    char user_id[256]; /* from our certificate */
    char name[40];     /* its local part: the log prefix and the stanza id prefix */
    int msgs_sent, replies_seen;
    int we_closed;   /* we sent close_notify first */
    int peer_closed; /* the peer's close_notify arrived */
    int failed;      /* an error was reported; the exit status will be 1 */
} app;

/* The demo script: the initiator says these, the responder answers each. */
static const char *const initiator_lines[4] = {
    "Hi Bob, it's Alice.", "Is this channel really end to end?", "Good. Rotating keys next.",
    "Sent under the new key. Bye!"};
static const char *const responder_lines[4] = {"Hello Alice!",
                                               "Yes: only the two certified ends hold the keys.",
                                               "Go ahead.", "Read it under the new key. Bye!"};

static void say(const app *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const app *a, const char *fmt, ...)
{
    va_list ap;
    printf("[%s] ", a->name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

/*
 * Reports the first error only (later ones are its consequences) and makes
 * the exit status 1. SC_ERR_IO means a system call failed: errno says why.
 */
static int check(app *a, int ret, const char *what)
{
    if (ret != SC_OK && !a->failed) {
        a->failed = 1;
        fprintf(stderr, "[%s] error: %s: %s%s%s\n", a->name, what, sc_strerror(ret),
                ret == SC_ERR_IO ? ": " : "", ret == SC_ERR_IO ? strerror(errno) : "");
    }
    return ret;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
}

/* The peer's text is untrusted: escape control bytes so it cannot drive the terminal. */
static void say_msg(const app *a, const char *dir, const char *id, const char *t, size_t len)
{
    char shown[4 * 200 + 1];
    size_t o = 0;
    for (size_t i = 0; i < len && i < 200; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
            o += (size_t)snprintf(shown + o, 5, "\\x%02x", c);
        else
            shown[o++] = (char)c;
    }
    shown[o] = '\0';
    say(a, "%s msg %s: \"%s\"%s", dir, id, shown, len > 200 ? "..." : "");
}

/* ---- the conversation, driven by events -------------------------------- */

static void send_msg(app *a, const char *text)
{
    char id[SC_STANZA_ID_MAX + 1];
    snprintf(id, sizeof id, "%s-%d", a->name, ++a->msgs_sent);
    sc_stanza st = {.type = SC_STANZA_MSG,
                    .id = id,
                    .ts = sc_clock_ms(),
                    .text = text,
                    .text_len = strlen(text)};
    if (check(a, sc_session_send_stanza(a->s, &st), "sending a message") == SC_OK)
        say_msg(a, "->", id, text, st.text_len);
}

/* Initiator: after the third reply, update keys both ways, say goodbye, close. */
static void initiator_next(app *a)
{
    if (a->replies_seen < 3) {
        send_msg(a, initiator_lines[a->replies_seen]);
    } else if (a->replies_seen == 3) {
        say(a, "-> key_update, asking the peer to update too");
        if (check(a, sc_session_key_update(a->s, 1), "key update") != SC_OK) return;
        send_msg(a, initiator_lines[3]);
        /* The peer may still send until it reads our close_notify; we keep reading. */
        if (check(a, sc_session_close(a->s), "close") == SC_OK) {
            a->we_closed = 1;
            say(a, "-> close_notify");
        }
    }
}

/* Responder: acknowledge each message with a receipt (same id), then reply. */
static void responder_answer(app *a, const sc_stanza *msg)
{
    sc_stanza rc = {.type = SC_STANZA_RECEIPT, .id = msg->id, .ts = sc_clock_ms()};
    if (check(a, sc_session_send_stanza(a->s, &rc), "sending a receipt") != SC_OK) return;
    say(a, "-> receipt for %s", msg->id);
    send_msg(a, responder_lines[(a->msgs_sent) % 4]);
}

static void on_stanza(app *a, const sc_stanza *st)
{
    switch (st->type) {
    case SC_STANZA_MSG:
        say_msg(a, "<-", st->id, st->text, st->text_len);
        if (a->role == SC_ROLE_RESPONDER) {
            responder_answer(a, st);
        } else {
            a->replies_seen++;
            initiator_next(a);
        }
        break;
    case SC_STANZA_RECEIPT:
        say(a, "<- receipt for %s", st->id);
        break;
    default: /* pings are answered by the library; files are not part of this demo */
        say(a, "<- stanza type %d, id %s (ignored)", (int)st->type,
            st->id ? st->id : "-"); /* typing has no id */
        break;
    }
}

/*
 * Runs inside sc_session_recv(), _tick(), _eof() and the sending calls.
 * Sending from here is allowed (it only queues output); freeing the session
 * is not. Stanza pointers are valid only during the call.
 */
static void on_event(void *ctx, sc_session *s, const sc_event *ev)
{
    app *a = ctx;
    (void)s;
    switch (ev->type) {
    case SC_EV_HANDSHAKE_DONE: {
        char fp[2 * 16 + 1];
        hex(ev->u.handshake.peer_fingerprint, 16, fp);
        say(a,
            "handshake done: peer %s, suite %s, group %s, peer signature %s, peer "
            "fingerprint %s...",
            ev->u.handshake.peer_id, ev->u.handshake.suite, ev->u.handshake.group,
            ev->u.handshake.sigalg, fp);
        if (a->role == SC_ROLE_INITIATOR) initiator_next(a);
        break;
    }
    case SC_EV_STANZA:
        on_stanza(a, ev->u.stanza);
        break;
    case SC_EV_KEY_UPDATE:
        say(a, "key update: %s sending key is now generation %" PRIu64,
            ev->u.key_update.outbound ? "our" : "the peer's", ev->u.key_update.generation);
        break;
    case SC_EV_CLOSED:
        a->peer_closed = 1;
        say(a, "<- close_notify: the peer closed the session");
        /* Answering is the protocol's job, so the library queued our close_notify already. */
        if (!a->we_closed) say(a, "-> close_notify (the library's answer)");
        break;
    case SC_EV_ERROR:
        check(a, ev->u.err, "session failed");
        break;
    default: /* file data: not part of this demo */
        break;
    }
}

/* ---- the I/O loop: the embedder's four duties --------------------------- */

/*
 * Writes as much pending output as the socket takes now. On a non-blocking
 * socket a short write is normal: consume what was taken, keep the rest for
 * when poll() reports POLLOUT. MSG_NOSIGNAL: a dead peer is an error, not SIGPIPE.
 */
static int flush(app *a, int fd)
{
    const uint8_t *p;
    size_t n;
    while ((n = sc_session_output(a->s, &p)) > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return SC_OK;
        if (w < 0) return SC_ERR_IO;
        sc_session_output_consume(a->s, (size_t)w);
    }
    return SC_OK;
}

/* Milliseconds poll() may sleep: until the session's timer or our linger limit. */
static int poll_timeout(const app *a, uint64_t linger_until)
{
    uint64_t now = sc_clock_ms(), until = sc_session_deadline(a->s);
    if (linger_until < until) until = linger_until;
    if (until == UINT64_MAX) return -1; /* no timer: after the handshake, wait for the peer */
    if (until <= now) return 0;
    return until - now > INT_MAX ? INT_MAX : (int)(until - now);
}

static int run(app *a, int fd)
{
    uint8_t buf[16 * 1024];
    uint64_t linger_until = UINT64_MAX;
    for (;;) {
        const uint8_t *p;
        if (flush(a, fd) != SC_OK) {
            check(a, SC_ERR_IO, "send");
            break;
        }
        /* After a failure the output holds the alert for the peer; it went out just above. */
        if (a->failed) break;
        int pending = sc_session_output(a->s, &p) > 0;
        /* Both close_notify are through: end our TCP direction, then wait for the peer's. */
        if (a->peer_closed && !pending && linger_until == UINT64_MAX) {
            shutdown(fd, SHUT_WR);
            linger_until = sc_clock_ms() + LINGER_MS;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN | (pending ? POLLOUT : 0)};
        int n = poll(&pfd, 1, poll_timeout(a, linger_until));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            check(a, SC_ERR_IO, "poll");
            break;
        }
        uint64_t now = sc_clock_ms();
        if (n == 0) {
            if (now >= linger_until) break;                /* the session itself ended in order */
            check(a, sc_session_tick(a->s, now), "timer"); /* handshake stalled? */
            continue;
        }
        if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR))) continue; /* POLLOUT only */
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
        if (r < 0) {
            check(a, SC_ERR_IO, "receive");
            break;
        }
        if (r == 0) { /* SC_OK only if the peer closed in order; else truncation */
            check(a, sc_session_eof(a->s), "end of stream");
            break;
        }
        check(a, sc_session_recv(a->s, buf, (size_t)r, now), "receive");
    }
    sc_wipe(buf, sizeof buf);
    if (!a->failed) say(a, "connection closed");
    return a->failed ? 1 : 0;
}

/* ---- sockets ------------------------------------------------------------ */

/* "[v6]:port" or "v4:port", numeric. */
static void addr_str(const struct sockaddr *sa, socklen_t len, char *out, size_t out_len)
{
    char host[INET6_ADDRSTRLEN + 16], serv[16];
    if (getnameinfo(sa, len, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        snprintf(out, out_len, "?");
    else
        snprintf(out, out_len, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
}

/* Binds, prints the ready line (the real port when --port 0), accepts one peer. */
static int accept_one(const opts *o, app *a)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char where[96];
    int on = 1, off = 0, lfd = -1, fd = -1;
    int gai = getaddrinfo(o->bind, o->port, &hints, &ai);
    if (gai != 0) {
        fprintf(stderr, "[%s] error: address %s port %s: %s\n", a->name, o->bind, o->port,
                gai_strerror(gai));
        return -1;
    }
    if ((lfd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol)) < 0 ||
        setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        /* "::" should take IPv4 peers too; some systems make IPv6 sockets v6-only. */
        (ai->ai_family == AF_INET6 &&
         setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) != 0) ||
        bind(lfd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(lfd, 1) != 0 ||
        getsockname(lfd, (struct sockaddr *)&ss, &len) != 0) {
        check(a, SC_ERR_IO, "listen");
        goto out;
    }
    addr_str((struct sockaddr *)&ss, len, where, sizeof where);
    say(a, "listening on %s", where);
    do {
        len = sizeof ss;
        fd = accept(lfd, (struct sockaddr *)&ss, &len);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        check(a, SC_ERR_IO, "accept");
        goto out;
    }
    addr_str((struct sockaddr *)&ss, len, where, sizeof where);
    say(a, "connected: accepted %s", where);
out:
    if (lfd >= 0) close(lfd); /* one connection only */
    freeaddrinfo(ai);
    return fd;
}

/* Tries each address of --to in turn. A blocking connect keeps the example short. */
static int dial(const opts *o, app *a)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL, *ai;
    char where[96];
    int fd = -1;
    int gai = getaddrinfo(o->to, o->port, &hints, &res);
    if (gai != 0) {
        fprintf(stderr, "[%s] error: address %s port %s: %s\n", a->name, o->to, o->port,
                gai_strerror(gai));
        return -1;
    }
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        if ((fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol)) < 0) continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
        int saved = errno; /* report why connect failed, not close */
        close(fd);
        errno = saved;
        fd = -1;
    }
    if (fd < 0) {
        check(a, SC_ERR_IO, "connect");
    } else {
        addr_str(ai->ai_addr, ai->ai_addrlen, where, sizeof where);
        say(a, "connected to %s", where);
    }
    freeaddrinfo(res);
    return fd;
}

/* ---- configuration ------------------------------------------------------ */

/* Our user ID, as the library read it from our certificate, and a short name from it. */
static int read_user_id(const sc_config *cfg, app *a)
{
    const char *id = sc_config_user_id(cfg);
    if (id == NULL || strlen(id) >= sizeof a->user_id) return SC_ERR_CONFIG;
    strcpy(a->user_id, id);
    /* The prefix doubles as stanza id prefix: keep it to [A-Za-z0-9._-]. */
    size_t i;
    for (i = 0; a->user_id[i] && a->user_id[i] != '@' && i < 32; i++) {
        char c = a->user_id[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '-' || c == '_';
        a->name[i] = ok ? c : '_';
    }
    a->name[i] = '\0';
    return SC_OK;
}

static int load_config(const opts *o, app *a, sc_config **out)
{
    char *chain = NULL, *key = NULL, *ca = NULL;
    size_t chain_len = 0, key_len = 0, ca_len = 0;
    const char *what = "configuration";
    sc_config *cfg = sc_config_new();
    int ret = cfg ? SC_OK : SC_ERR_NOMEM;
    if (ret == SC_OK && (ret = sc_read_file(o->cert, PEM_MAX, &chain, &chain_len)) != SC_OK)
        what = o->cert;
    if (ret == SC_OK && (ret = sc_read_file(o->key, PEM_MAX, &key, &key_len)) != SC_OK)
        what = o->key;
    if (ret == SC_OK && (ret = sc_read_file(o->ca, PEM_MAX, &ca, &ca_len)) != SC_OK) what = o->ca;
    if (ret == SC_OK &&
        (ret = sc_config_set_identity_pem(cfg, chain, chain_len, key, key_len)) != SC_OK)
        what = "certificate and key";
    if (ret == SC_OK) {
        /*
         * The anchors vouch for one domain only (PROTOCOL.md 8.2): --ca-domain,
         * or by default our own, as when --ca is our own registry's CA.
         */
        const char *own = sc_config_user_id(cfg);
        const char *domain = o->ca_domain ? o->ca_domain : (own ? strchr(own, '@') + 1 : "");
        if ((ret = sc_config_add_trust_anchor_pem(cfg, ca, ca_len, &domain, 1)) != SC_OK)
            what = "trust anchors (--ca, --ca-domain)";
    }
    if (ret == SC_OK && (ret = read_user_id(cfg, a)) != SC_OK) what = "own user ID";
    check(a, ret, what);
    /* The library keeps its own copy of the key; ours must not linger in freed memory. */
    if (key != NULL) sc_wipe(key, key_len);
    free(chain);
    free(key);
    free(ca);
    /* The caller's source of randomness: the core never opens the OS one itself. */
    if (ret == SC_OK) sc_config_set_random(cfg, sc_random_system, NULL);
    if (ret != SC_OK) sc_config_free(cfg);
    *out = ret == SC_OK ? cfg : NULL;
    return ret;
}

/* ---- command line ------------------------------------------------------- */

static const char help_text[] =
    "NAME\n"
    "    " PROG " - one End2End Direct conversation: the libsixchat embedding example\n\n"
    "SYNOPSIS\n"
    "    " PROG " listen --cert CHAIN.pem --key KEY.pem --ca CA.pem [--port N] [--bind ADDR]\n"
    "                 [--peer USER@DOMAIN]\n"
    "    " PROG " connect --cert CHAIN.pem --key KEY.pem --ca CA.pem --peer USER@DOMAIN\n"
    "                 --to ADDR [--port N]\n\n"
    "DESCRIPTION\n"
    "    listen accepts one TCP connection as the responder; connect dials as the initiator.\n"
    "    After the mutually authenticated handshake the initiator sends three messages, each\n"
    "    answered by a receipt and a reply; it then updates its keys, asking the peer to do\n"
    "    the same, sends a fourth message and closes. Each event is printed on one line,\n"
    "    prefixed with the user name from our own certificate, e.g. [alice].\n\n"
    "OPTIONS\n"
    "    --cert CHAIN.pem    our certificate, then any intermediates; it names our user ID\n"
    "                        in subjectAltName email\n"
    "    --key KEY.pem       its private key (P-256, P-384, Ed25519 or RSA)\n"
    "    --ca CA.pem         the trust anchors for the peer's certificate\n"
    "    --ca-domain DOMAIN  the domain whose users those anchors may certify (default: the\n"
    "                        domain of our own user ID); a peer of another domain is refused\n"
    "    --peer USER@DOMAIN  the user the peer must prove to be (required to connect)\n"
    "    --to ADDR           the address or host name to connect to\n"
    "    --bind ADDR         the numeric address to listen on (default ::, dual stack)\n"
    "    --port N            the TCP port (default 4605); listen --port 0 picks a free one,\n"
    "                        shown on the line \"listening on ADDR:PORT\"\n\n"
    "EXAMPLES\n"
    "    " PROG " listen --cert bob-chain.pem --key bob.key --ca root.pem\n"
    "    " PROG " connect --cert alice-chain.pem --key alice.key --ca root.pem \\\n"
    "        --peer bob@example.org --to ::1\n"
    "    scripts/demo-library.sh BUILD_DIR makes certificates and runs both sides.\n\n"
    "EXIT STATUS\n"
    "    0  the conversation completed and closed in order\n"
    "    1  a failure (file, network, handshake or protocol), explained on stderr\n"
    "    2  a usage error\n";

/* Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->port = "4605"; /* SC_DEFAULT_PORT, as the string getaddrinfo() wants */
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(help_text, stdout);
            return 0;
        }
    if (argc < 2 || (strcmp(argv[1], "listen") != 0 && strcmp(argv[1], "connect") != 0)) {
        fprintf(stderr, PROG ": usage: " PROG " listen|connect OPTIONS (see --help)\n");
        return 2;
    }
    o->listen = strcmp(argv[1], "listen") == 0;
    for (int i = 2; i < argc; i++) {
        const char *k = argv[i], **v = NULL;
        if (strcmp(k, "--cert") == 0) v = &o->cert;
        if (strcmp(k, "--key") == 0) v = &o->key;
        if (strcmp(k, "--ca") == 0) v = &o->ca;
        if (strcmp(k, "--ca-domain") == 0) v = &o->ca_domain;
        if (strcmp(k, "--peer") == 0) v = &o->peer;
        if (strcmp(k, "--port") == 0) v = &o->port;
        if (strcmp(k, "--to") == 0 && !o->listen) v = &o->to;
        if (strcmp(k, "--bind") == 0 && o->listen) v = &o->bind;
        if (v == NULL || i + 1 >= argc) {
            fprintf(stderr, PROG ": %s: %s (see --help)\n", k,
                    v ? "missing value" : "unknown option here");
            return 2;
        }
        *v = argv[++i];
    }
    if (!o->cert || !o->key || !o->ca || (!o->listen && (!o->peer || !o->to))) {
        fprintf(stderr, PROG ": missing %s (see --help)\n",
                o->listen ? "--cert, --key or --ca" : "--cert, --key, --ca, --peer or --to");
        return 2;
    }
    if (o->bind == NULL) o->bind = "::";
    return -1;
}

int main(int argc, char **argv)
{
    opts o;
    app a;
    sc_config *cfg = NULL;
    uint8_t fp[32];
    char fp_hex[2 * 16 + 1];
    int fd = -1, status = 1;

    /* Line-buffered even into a pipe: scripts wait for the "listening on" line. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    memset(&a, 0, sizeof a);
    snprintf(a.name, sizeof a.name, PROG);
    int ret = parse_args(argc, argv, &o);
    if (ret >= 0) return ret;
    a.role = o.listen ? SC_ROLE_RESPONDER : SC_ROLE_INITIATOR;
    if (load_config(&o, &a, &cfg) != SC_OK) return 1;
    if (check(&a, sc_config_fingerprint(cfg, fp), "own fingerprint") != SC_OK) goto out;
    hex(fp, 16, fp_hex);
    say(&a, "identity %s, fingerprint %s..., %s", a.user_id, fp_hex,
        o.listen ? "responder" : "initiator");

    if ((fd = o.listen ? accept_one(&o, &a) : dial(&o, &a)) < 0) goto out;
    /* poll() decides when to read and write; no call may block the loop. */
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
        check(&a, SC_ERR_IO, "socket");
        goto out;
    }
    /* Created only now: the handshake timer starts with the session. */
    if (check(&a, sc_session_new(cfg, a.role, sc_clock_ms(), &a.s), "new session") != SC_OK)
        goto out;
    sc_session_set_callback(a.s, on_event, &a);
    if (o.peer != NULL &&
        check(&a, sc_session_set_expected_peer(a.s, o.peer), "expected peer") != SC_OK)
        goto out;
    if (check(&a, sc_session_start(a.s), "start") != SC_OK) goto out; /* initiator: ihello */
    status = run(&a, fd);
out:
    if (fd >= 0) close(fd);
    sc_session_free(a.s);
    sc_config_free(cfg);
    return status;
}
