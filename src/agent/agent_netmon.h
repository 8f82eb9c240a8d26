/*
 * agent_netmon.h - tells the agent when the machine's addresses change, so
 * that it registers again at once (docs/IRP.md 6.7: "at once whenever its
 * addresses change"; issue 8: within a second). On Linux a netlink route
 * socket subscribed to RTMGRP_IPV4_IFADDR and RTMGRP_IPV6_IFADDR, polled on
 * the loop; a burst of messages (one address change sends several) gives
 * one callback, settle_ms after the last. Elsewhere start fails with
 * SC_ERR_STATE and the agent relies on its periodic registration.
 */
#ifndef AGENT_NETMON_H
#define AGENT_NETMON_H

#include <uv.h>

typedef struct agent_netmon agent_netmon;

typedef void (*agent_netmon_cb)(void *ctx);

/*
 * Opens the monitor on loop; cb(ctx) runs on the loop after changes.
 * settle_ms 0 = 100. Returns 0, SC_ERR_IO (the socket could not be opened
 * or bound), SC_ERR_STATE (no netlink here), SC_ERR_NOMEM.
 */
int agent_netmon_start(uv_loop_t *loop, unsigned settle_ms, agent_netmon_cb cb, void *ctx,
                       agent_netmon **out);

/* Stops, closes the socket and frees nm once libuv closed the handles; then closed(ctx). */
void agent_netmon_close(agent_netmon *nm, void (*closed)(void *ctx), void *ctx);

#endif
