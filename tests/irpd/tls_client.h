/*
 * tls_client.h - the blocking TLS 1.3 client the irpd test tools share
 * (irp_probe, irp_load): connect to HOST:PORT, trust the registry CA,
 * present a client certificate when given, check the IP the test dialled.
 * Test tools only: the library's client is src/irp/irp_client.h.
 */
#ifndef TLS_CLIENT_H
#define TLS_CLIENT_H

#include <arpa/inet.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

/*
 * Binds fd to the IPv4 source address in $TC_BIND, if set: tests of the
 * per-address limits (docs/IRP.md 9.1) speak from many loopback addresses.
 * 0, or -1 when it is set and cannot be used.
 */
static int tc_bind_source(int fd, int family)
{
    const char *src = getenv("TC_BIND");
    struct sockaddr_in sa;

    if (src == NULL || src[0] == '\0') return 0;
    if (family != AF_INET) return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    if (inet_pton(AF_INET, src, &sa.sin_addr) != 1) return -1;
    return bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : -1;
}

/* A TCP connection to "host:port" or "[v6]:port"; host (cap bytes) gets the host part. */
static int tc_tcp_connect(const char *hostport, char *host, size_t cap)
{
    struct addrinfo hints, *res = NULL, *ai;
    const char *colon = strrchr(hostport, ':');
    char port[16];
    int fd = -1;
    size_t hl;

    if (colon == NULL) return -1;
    hl = (size_t)(colon - hostport);
    if (hostport[0] == '[') {
        hostport++;
        hl -= 2;
    }
    if (hl >= cap) return -1;
    memcpy(host, hostport, hl);
    host[hl] = '\0';
    snprintf(port, sizeof(port), "%s", colon + 1);
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &res) != 0) return -1;
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) continue;
        if (tc_bind_source(fd, ai->ai_family) == 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/*
 * Connects and completes the TLS 1.3 handshake. cert/key may be NULL (no
 * client certificate); reads time out after rcv_timeout_s. Free with
 * tc_close. Prints why on stderr (prefixed by who) and returns
 * NULL on failure; *exit_code is then 2 for a setup error, 1 for a network one.
 */
static SSL *tc_connect(const char *who, const char *hostport, const char *ca, const char *cert,
                       const char *key, int alpn, int rcv_timeout_s, int *exit_code)
{
    char host[256];
    struct timeval tv = {rcv_timeout_s, 0};
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl;
    int fd;

    /* A registry killed mid-write must end a test tool with an error, not SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    *exit_code = 2;
    if (ctx == NULL) return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
        fprintf(stderr, "%s: cannot load %s\n", who, ca);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (cert != NULL && (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
                         SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)) {
        fprintf(stderr, "%s: cannot load %s / %s\n", who, cert, key);
        return NULL;
    }
    if (alpn) SSL_CTX_set_alpn_protos(ctx, (const unsigned char *)"\x05irp/1", 6);
    *exit_code = 1;
    fd = tc_tcp_connect(hostport, host, sizeof(host));
    if (fd < 0) {
        fprintf(stderr, "%s: cannot connect to %s\n", who, hostport);
        return NULL;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ssl = SSL_new(ctx);
    SSL_CTX_free(ctx); /* the SSL keeps its own reference */
    SSL_set_fd(ssl, fd);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
    if (SSL_connect(ssl) != 1) {
        fprintf(stderr, "%s: handshake failed\n", who);
        ERR_print_errors_fp(stderr);
        return NULL;
    }
    return ssl;
}

static void tc_close(SSL *ssl)
{
    int fd = SSL_get_fd(ssl);
    SSL_free(ssl);
    if (fd >= 0) close(fd);
}

#endif
