/*
 * irp_srv.h - finding a domain's registry with DNS SRV (docs/IRP.md 2.1,
 * RFC 2782): `_irp._tcp.DOMAIN`, targets tried by priority, then weight.
 *
 * The answer is parsed without I/O (irp_srv.c, fuzzed by fuzz_irp_srv);
 * the query itself runs libresolv's blocking resolver, so irp_client_srv.c
 * calls it on libuv's thread pool. SRV answers are not authenticated: the
 * registry CA pinned for the domain (docs/IRP.md 3.2) is what makes a forged
 * answer harmless, so nothing here is trusted beyond where to connect.
 */
#ifndef IRP_SRV_H
#define IRP_SRV_H

#include <stddef.h>
#include <stdint.h>

#include "sixchat/error.h"
#include "irp_status.h"

#define IRP_SRV_MAX 16       /* targets kept from one answer; the rest are ignored */
#define IRP_SRV_HOST_MAX 253 /* a DNS name in text, without the final dot */
#define IRP_SRV_PORT 4604    /* the registry's port when there is no SRV record */

typedef struct irp_srv_target {
    char host[IRP_SRV_HOST_MAX + 1];
    uint16_t port, priority, weight;
} irp_srv_target;

/*
 * The SRV records of class IN in the answer section of the DNS response
 * msg[0..len), up to cap of them in answer order, into out (*n of them).
 * Returns 0; IRP_NOT_FOUND when the answer holds no SRV record (the
 * caller may fall back to the domain itself); IRP_UNAVAILABLE when the
 * only target is "." (RFC 2782: the service is decidedly not offered);
 * IRP_BAD_REQUEST when msg is not a well-formed DNS response.
 */
SC_MUST_CHECK int irp_srv_parse(const uint8_t *msg, size_t len, irp_srv_target *out, size_t cap,
                                size_t *n);

/*
 * Puts t[0..n) in the order RFC 2782 says to try them: ascending priority;
 * within one priority, each next target drawn with probability
 * proportional to its weight (weight 0 only rarely first). rnd returns a
 * uniform 32-bit value.
 */
void irp_srv_order(irp_srv_target *t, size_t n, uint32_t (*rnd)(void *arg), void *arg);

/* "_irp._tcp." DOMAIN into out (cap bytes); SC_ERR_ARG when it does not fit or is not a name. */
SC_MUST_CHECK int irp_srv_qname(const char *domain, char *out, size_t cap);

#endif
