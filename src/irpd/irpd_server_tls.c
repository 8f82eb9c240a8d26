/*
 * irpd_server_tls.c - the TLS context, client certificate verification,
 * listening and accepting connections (irpd_server.h; docs/IRP.md 3.1, 3.3).
 */
#include "irpd_server_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sixchat/error.h"

/* ---- TLS context --------------------------------------------------------------- */

static int map_verify_error(int sc)
{
    switch (sc) {
    case SC_ERR_UNKNOWN_CA:
        return X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
    case SC_ERR_CERTIFICATE_EXPIRED:
        return X509_V_ERR_CERT_HAS_EXPIRED;
    case SC_ERR_CERTIFICATE_REVOKED:
        return X509_V_ERR_CERT_REVOKED;
    case SC_ERR_DOMAIN_MISMATCH: /* no trusted CA may vouch for the domain (3.3 step 1) */
        return X509_V_ERR_PERMITTED_VIOLATION;
    default:
        return X509_V_ERR_CERT_REJECTED;
    }
}

/*
 * docs/IRP.md 3.3: the whole client chain is checked by irpd_ca (the rules
 * peers apply) and against the store's revocations; a refused certificate
 * fails the handshake with its alert rather than falling back to anonymous.
 */
static int verify_chain_cb(X509_STORE_CTX *xs, void *arg)
{
    irpd_server *s = arg;
    SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    conn *c = ssl != NULL ? SSL_get_app_data(ssl) : NULL;
    X509 *leaf = X509_STORE_CTX_get0_cert(xs);
    irpd_client who;
    irpd_ca_err err;
    irpd_cert rec;
    int st;

    if (c == NULL || leaf == NULL) return 0;
    if (irpd_ca_verify_client(s->ca, leaf, X509_STORE_CTX_get0_untrusted(xs), irpd__srv_now_s(),
                              &who, &err) != IRPD_CA_OK) {
        fprintf(stderr, "irpd: info: %s client certificate refused: %s\n", c->peer, err.msg);
        X509_STORE_CTX_set_error(xs, map_verify_error(err.sc));
        return 0;
    }
    st = irpd_store_cert_get_fp(s->st, who.fingerprint, &rec, NULL, 0);
    if (st == IRP_NOT_FOUND && who.issued_here)
        st = irpd_store_cert_get_serial(s->st, who.serial_hex, &rec, NULL, 0);
    if ((st == 0 && rec.status == IRPD_CERT_REVOKED) || (st != 0 && st != IRP_NOT_FOUND)) {
        fprintf(stderr, "irpd: info: %s client certificate %s refused: %s\n", c->peer,
                who.serial_hex, st == 0 ? "revoked" : "store failure");
        X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REVOKED);
        return 0;
    }
    /*
     * docs/IRP.md 3.3 step 5: the registry records every certificate its CA
     * issues; one it has no record of (a database restored from before it
     * was issued, a key used outside irpd) is refused, not trusted blindly.
     */
    if (st == IRP_NOT_FOUND && who.issued_here) {
        fprintf(stderr,
                "irpd: info: %s client certificate %s refused: issued by this CA but "
                "not in the database\n",
                c->peer, who.serial_hex);
        X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REJECTED);
        return 0;
    }
    if (irpd_session_set_cert(&c->sess, leaf, &who) != 0) {
        X509_STORE_CTX_set_error(xs, X509_V_ERR_OUT_OF_MEM);
        return 0;
    }
    return 1;
}

/* Accepts every chain at the first stage: verify_chain_cb decides. */
static int verify_accept(int ok, X509_STORE_CTX *xs)
{
    (void)ok;
    (void)xs;
    return 1;
}

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    static const unsigned char irp1[] = {'i', 'r', 'p', '/', '1'};
    unsigned int i = 0;

    (void)ssl;
    (void)arg;
    while (i < inlen) {
        unsigned int n = in[i];
        if (i + 1 + n > inlen) break;
        if (n == sizeof(irp1) && memcmp(in + i + 1, irp1, n) == 0) {
            *out = in + i + 1;
            *outlen = (unsigned char)n;
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + n;
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL; /* docs/IRP.md 3.1: no_application_protocol */
}

SSL_CTX *irpd__srv_make_ctx(irpd_server *s)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    if (ctx == NULL) return NULL;
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
        !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
        SSL_CTX_use_certificate(ctx, irpd_ca_server_cert(s->ca)) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, irpd_ca_server_key(s->ca)) != 1 ||
        SSL_CTX_add1_chain_cert(ctx, irpd_ca_cert(s->ca)) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1 || !SSL_CTX_set1_groups_list(ctx, "X25519:P-256")) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    /* 3.1: no tickets, no resumption, no early data */
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    (void)SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    (void)SSL_CTX_set_max_early_data(ctx, 0);
    /* an idle connection gives its record buffers back (bench/README.md: memory per held
     * connection) */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    /* 3.3: ask for a client certificate, do not require one */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_accept);
    SSL_CTX_set_cert_verify_callback(ctx, verify_chain_cb, s);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
    return ctx;
}

/* ---- accepting ------------------------------------------------------------------- */

static void peer_of(conn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    char a[IRP_ADDR_STRLEN];

    snprintf(c->peer, sizeof(c->peer), "?");
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0) return;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        c->sess.has_peer = irp_addr_set(&c->sess.peer, 4, (const uint8_t *)&in->sin_addr) == 0;
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *in = (struct sockaddr_in6 *)&ss;
        c->sess.has_peer = irp_addr_set(&c->sess.peer, 6, in->sin6_addr.s6_addr) == 0;
    }
    if (c->sess.has_peer && irp_addr_format(&c->sess.peer, a) == 0)
        snprintf(c->peer, sizeof(c->peer), "%s", a);
}

/* Same IPv4 address, or same IPv6 /64 (one site's hosts share a /64). */
static int same_source(const irp_addr *a, const irp_addr *b)
{
    if (a->family != b->family) return 0;
    return memcmp(a->ip, b->ip, a->family == 4 ? 4 : 8) == 0;
}

/* docs/IRP.md 9.3: one source cannot take every connection slot. */
static size_t conns_from(irpd_server *s, const conn *c)
{
    size_t n = 0;
    for (const conn *o = s->conns; o != NULL; o = o->next)
        if (o != c && !o->closing && o->sess.has_peer && same_source(&o->sess.peer, &c->sess.peer))
            n++;
    return n;
}

static void on_connection(uv_stream_t *server, int status)
{
    listener *l = server->data;
    irpd_server *s = l->srv;
    conn *c;

    if (status < 0 || s->stopping) return;
    c = calloc(1, sizeof(*c));
    if (c == NULL) return;
    c->srv = s;
    uv_tcp_init(&s->loop, &c->tcp);
    uv_timer_init(&s->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->handles_open = 2;
    irp_framer_init(&c->fr);
    sc_buf_init_public(&c->held, 0);
    irpd_session_init(&c->sess);
    c->next = s->conns;
    if (s->conns != NULL) s->conns->prev = c;
    s->conns = c;
    s->n_conns++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        irpd__srv_conn_close(c);
        return;
    }
    peer_of(c);
    if (s->n_conns > s->cfg->max_connections) {
        fprintf(stderr, "irpd: info: %s refused: %zu connections\n", c->peer, s->n_conns - 1);
        irpd__srv_conn_close(c);
        return;
    }
    if (c->sess.has_peer && conns_from(s, c) >= s->cfg->max_per_addr) {
        fprintf(stderr, "irpd: info: %s refused: %u connections from this source\n", c->peer,
                (unsigned)s->cfg->max_per_addr);
        irpd__srv_conn_close(c);
        return;
    }
    c->tls = irp_tlspump_new(s->ctx, 1);
    if (c->tls == NULL) {
        irpd__srv_conn_close(c);
        return;
    }
    SSL_set_app_data(irp_tlspump_ssl(c->tls), c);
    uv_tcp_nodelay(&c->tcp, 1);
    uv_timer_start(&c->timer, irpd__srv_on_timeout, (uint64_t)s->cfg->handshake_timeout * 1000, 0);
    if (uv_read_start((uv_stream_t *)&c->tcp, irpd__srv_on_alloc, irpd__srv_on_read) != 0)
        irpd__srv_conn_close(c);
}

int irpd__srv_listen_on(irpd_server *s, const char *spec)
{
    char host[IRPD_CONFIG_STR_MAX], shown[IRP_ADDR_STRLEN];
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    uint16_t port;
    listener *l = &s->lis[s->n_lis];
    int r;

    if (irpd_config_split_listen(spec, host, sizeof(host), &port) != 0) {
        fprintf(stderr, "irpd: error: bad listen address '%s'\n", spec);
        return -1;
    }
    if (strchr(host, ':') != NULL)
        r = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss);
    else
        r = uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
    if (r != 0) {
        fprintf(stderr, "irpd: error: bad listen address '%s'\n", spec);
        return -1;
    }
    uv_tcp_init(&s->loop, &l->tcp);
    l->tcp.data = l;
    l->srv = s;
    s->n_lis++;
    if ((r = uv_tcp_bind(&l->tcp, (struct sockaddr *)&ss, 0)) != 0 ||
        (r = uv_listen((uv_stream_t *)&l->tcp, 511, on_connection)) != 0 ||
        (r = uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&ss, &len)) != 0) {
        fprintf(stderr, "irpd: error: listen on %s: %s\n", spec, uv_strerror(r));
        return -1;
    }
    if (ss.ss_family == AF_INET6) {
        uv_ip6_name((struct sockaddr_in6 *)&ss, shown, sizeof(shown));
        port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        printf("irpd ready on [%s]:%u\n", shown, (unsigned)port);
    } else {
        uv_ip4_name((struct sockaddr_in *)&ss, shown, sizeof(shown));
        port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        printf("irpd ready on %s:%u\n", shown, (unsigned)port);
    }
    fflush(stdout);
    return 0;
}
