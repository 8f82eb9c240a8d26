/*
 * irp_client.h - an asynchronous IRP client on a libuv loop (docs/IRP.md).
 *
 * One irp_client is one connection to a registry: TCP (uv_getaddrinfo,
 * uv_tcp_connect, every resolved address in turn), TLS 1.3 with OpenSSL
 * over memory (irp_tlspump; ALPN irp/1, SNI for DNS names), the registry
 * authenticated as docs/IRP.md 3.2 says: the chain must verify to a trust
 * anchor, which is the certificate of the presented chain (or of ca_pem)
 * whose SHA-256 equals the pin, and/or the certificates of ca_pem; the leaf
 * must name the host dialled (dNSName without wildcards, or iPAddress) and
 * allow serverAuth. Nothing is sent before that check succeeded.
 *
 * Requests are pipelined: irp_client_request may be called at any time
 * after irp_client_connect (requests made before the handshake completes
 * are sent when it does). The client assigns ids ("1", "2", ...) and matches
 * responses in order (docs/IRP.md 3.5), checking the echoed id. Events
 * (watch) go to the event callback.
 *
 * Errors. Every callback gets a status and a human-readable message: the
 * registry's status codes (docs/IRP.md 5.3) for answers, and the local
 * codes IRP_CLIENT_* (600 and above, never sent on the wire) when the
 * client failed: no answer arrived because the connection could not be
 * made, was refused by TLS, timed out, or closed. A failure of the
 * connection fails every outstanding request with that status; the client
 * must then be closed (a new one connects again).
 *
 * No call blocks. Callbacks run on the loop thread. irp_client_close may be
 * called from any callback; the memory is released once libuv has closed
 * the handles (run the loop).
 */
#ifndef IRP_CLIENT_H
#define IRP_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include <openssl/x509.h>

#include "sixchat/error.h"
#include "irp_msg.h"

/* Local statuses (not on the wire). */
enum {
    IRP_CLIENT_CONNECT = 601,  /* name resolution or TCP connect failed */
    IRP_CLIENT_TLS = 602,      /* TLS handshake failed or the registry was not authenticated */
    IRP_CLIENT_TIMEOUT = 604,  /* connect or a request timed out (the connection is closed) */
    IRP_CLIENT_CLOSED = 605,   /* the connection closed before the answer (or irp_client_close) */
    IRP_CLIENT_PROTOCOL = 606, /* the registry sent a bad frame, document or an unexpected answer */
};

typedef struct irp_client irp_client;

typedef struct irp_client_opts {
    /* Trust: at least one of ca_fp and ca_pem. */
    const char *ca_fp;  /* SHA-256 of the registry CA certificate (DER): 64 hex digits
                           (colons and upper case accepted) */
    const char *ca_pem; /* PEM text of one or more trust anchors */
    /* Client certificate (optional): PEM chain, leaf first, and its key. */
    const char *cert_pem;
    const char *key_pem;
    const char *server_name;     /* name to check in the server certificate; default: the host */
    unsigned connect_timeout_ms; /* resolve + TCP + TLS; 0 = 10000 */
    unsigned request_timeout_ms; /* each request, counted from when it is sent; 0 = 30000 */
} irp_client_opts;

/* Connection result: status 0 when connected, else IRP_CLIENT_* and msg. */
typedef void (*irp_connect_cb)(void *ctx, int status, const char *msg);
/* The answer to one request (resp->status, resp->msg are always set). resp is valid during the
 * call. */
typedef void (*irp_response_cb)(void *ctx, const irp_resp *resp);
/* A pushed event (watch). */
typedef void (*irp_event_cb)(void *ctx, const irp_event *ev);
/* The connection failed or closed after it was established (not called for irp_client_close). */
typedef void (*irp_lost_cb)(void *ctx, int status, const char *msg);

/*
 * Creates a client on loop. Returns 0, SC_ERR_ARG (no trust given, bad
 * fingerprint), SC_ERR_PARSE (a PEM did not load; *c is NULL) or
 * SC_ERR_NOMEM. err (if not NULL, errcap bytes) receives a message.
 */
SC_MUST_CHECK int irp_client_new(uv_loop_t *loop, const irp_client_opts *opts, irp_client **c,
                                 char *err, size_t errcap);

/* Where events and a lost connection are reported. */
void irp_client_set_event_cb(irp_client *c, irp_event_cb ev, irp_lost_cb lost, void *ctx);

/* Starts connecting to host (name or IP literal), port. cb is called once. 0 or SC_ERR_STATE/ARG.
 */
SC_MUST_CHECK int irp_client_connect(irp_client *c, const char *host, uint16_t port,
                                     irp_connect_cb cb, void *ctx);

/*
 * Sends req (its id is replaced by one the client assigns; the rest is
 * copied out at once). cb is called exactly once, with the answer or a
 * local failure, unless this returns an error: SC_ERR_ARG (the request
 * does not validate), SC_ERR_TOO_LARGE, SC_ERR_STATE (not connecting or
 * connected, or failed), SC_ERR_NOMEM.
 */
SC_MUST_CHECK int irp_client_request(irp_client *c, const irp_req *req, irp_response_cb cb,
                                     void *ctx);

/* Requests sent and not answered yet. */
size_t irp_client_pending(const irp_client *c);

/* The registry's certificate once connected (borrowed), for irp_lookup_verify. */
X509 *irp_client_peer_cert(const irp_client *c);

/*
 * Ends the connection (TLS close_notify) and releases c once the loop has
 * run the handle close callbacks. Outstanding requests are answered with
 * IRP_CLIENT_CLOSED first.
 */
void irp_client_close(irp_client *c);

/* Name of a local status ("timeout"), or irp_status_name for the others. */
const char *irp_client_status_name(int status);

#endif
