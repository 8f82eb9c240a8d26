/*
 * agent.h - the user agent (`sixchat up`): one libuv loop holding the
 * store, the numbered events, the local API, the registry side
 * (agent_reg) and the peer sessions (agent_peer) (docs/ARCHITECTURE.md,
 * the agent). agent.c is the top (start, stop, signals, timers); it calls
 * down into agent_msgs.c (messages and the outbox), agent_methods.c (the
 * API methods), agent_methods_xfer.c (file transfers) and agent_net.c
 * (registry and peers), which share the state of agent_ctx.h.
 */
#ifndef AGENT_H
#define AGENT_H

#include "agent_ctx.h"

/* Runs the agent until SIGTERM/SIGINT; returns the process exit code. */
int agent_run(const agent_opts *o);

#endif
