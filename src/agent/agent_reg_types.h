/*
 * agent_reg_types.h - the registry side's handle and lookup answer, apart
 * from agent_reg.h so that the files below agent_reg.c (agent_reg_watch.c,
 * agent_reg_view.c) name them without reaching up into the top file.
 */
#ifndef AGENT_REG_TYPES_H
#define AGENT_REG_TYPES_H

#include "agent_types.h"

typedef struct agent_reg agent_reg;

/*
 * The answer to a lookup. status 0: view is verified and has devices.
 * AGENT_REG_OFFLINE: verified, the user has no live binding (view has
 * their certificates). Else view is NULL and msg says why in a sentence a
 * person understands ("bob@example.org has no registered address: they are
 * offline", "no user bob@example.org", "the registry is not reachable ...").
 */
typedef void (*agent_reg_lookup_cb)(void *ctx, int status, const char *msg,
                                    const agent_peer_view *view);

#endif
