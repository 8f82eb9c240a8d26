/*
 * irp_client_int.h - the inside of irp_client, shared by irp_client.c (the
 * connection, requests and callbacks) and irp_client_tls.c (the TLS
 * context, the registry certificate check and CA pinning). Internal: the
 * irp__ prefix.
 */
#ifndef IRP_CLIENT_INT_H
#define IRP_CLIENT_INT_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>

#include "sixchat/error.h"
#include "irp_client.h"
#include "irp_frame.h"
#include "irp_tlspump.h"
#include "sc_buf.h"
#include "sc_xml.h"

enum { ST_IDLE = 0, ST_RESOLVING, ST_CONNECTING, ST_HANDSHAKE, ST_READY, ST_FAILED };

typedef struct pend {
    struct pend *next;
    char id[IRP_ID_MAX + 1];
    irp_response_cb cb;
    void *ctx;
} pend;

struct irp_client {
    uv_loop_t *loop;
    uv_tcp_t *tcp; /* current attempt; freed by its close callback */
    uv_timer_t timer;
    uv_getaddrinfo_t gai;
    struct addrinfo *ai_list, *ai_cur;
    int refs; /* timer, gai in flight, tcp handles, shutdown in flight */
    int state, closing;

    SSL_CTX *ctx;
    irp_tlspump *tls; /* from irp_client_connect on */
    STACK_OF(X509) * anchors;
    int has_pin;
    uint8_t pin[32];
    char host[256];
    char name[256];
    unsigned connect_ms, req_ms;

    irp_connect_cb ccb;
    void *cctx;
    irp_event_cb ecb;
    irp_lost_cb lcb;
    void *ectx;

    irp_framer fr;
    sc_xml_parser *xp;
    pend *head, *tail;
    size_t n_pend;
    uint64_t next_id;
    int got_doc;    /* a document arrived since the handshake */
    char verr[256]; /* why the certificate check failed */
};

/*
 * Sets up c->ctx for c (already allocated, with c->anchors) from o: the pin
 * (ca_fp), the trust anchors (ca_pem), TLS 1.3 only, ALPN irp/1, the
 * registry certificate check (docs/IRP.md 3.2) and the client certificate.
 * Returns 0, SC_ERR_ARG or SC_ERR_PARSE with a message in err (errcap
 * bytes); the caller then frees c.
 */
SC_MUST_CHECK int irp__client_tls_init(irp_client *c, const irp_client_opts *o, char *err,
                                       size_t errcap);

/* 1 if s is an IPv4 or IPv6 literal (no SNI, iPAddress check), else 0. */
int irp__is_ip_literal(const char *s);

#endif
