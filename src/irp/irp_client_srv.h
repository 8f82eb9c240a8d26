/*
 * irp_client_srv.h - asking the DNS where a domain's registry is
 * (docs/IRP.md 2.1): the SRV query through libresolv, blocking, and the
 * same on libuv's thread pool for an event loop.
 */
#ifndef IRP_CLIENT_SRV_H
#define IRP_CLIENT_SRV_H

#include <uv.h>

#include "irp_srv.h"

/*
 * Queries `_irp._tcp.DOMAIN` and fills out[0..*n) in the order to try
 * (irp_srv_order). With no SRV record for the name (NXDOMAIN or no data),
 * one target: DOMAIN itself on IRP_SRV_PORT, as IRP.md 2.1 allows.
 * dns: NULL for the system's resolvers (resolv.conf), or "IPV4[:PORT]"
 * to ask that server only (tests, split-horizon setups).
 * Returns 0, IRP_GONE (the domain publishes "." : no registry),
 * IRP_UNAVAILABLE (no answer, or the DNS server failed), IRP_BAD_REQUEST
 * (a malformed answer) or SC_ERR_ARG; err gets a sentence for a person.
 * Blocks for up to about 6 s: never call it on an event loop.
 */
SC_MUST_CHECK int irp_srv_resolve(const char *domain, const char *dns, irp_srv_target *out,
                                  size_t cap, size_t *n, char *err, size_t err_cap);

/* The answer of irp_srv_resolve_async: status and targets as above. */
typedef void (*irp_srv_cb)(void *arg, int status, const irp_srv_target *t, size_t n,
                           const char *err);

/*
 * irp_srv_resolve on libuv's thread pool; cb runs on loop's thread (also
 * when the loop is closing: status SC_ERR_STATE then). Returns 0 or
 * SC_ERR_ARG / SC_ERR_NOMEM, and then cb is never called.
 */
SC_MUST_CHECK int irp_srv_resolve_async(uv_loop_t *loop, const char *domain, const char *dns,
                                        irp_srv_cb cb, void *arg);

#endif
