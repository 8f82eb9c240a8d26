/*
 * agent_methods_xfer.h - file transfers in the agent (agent_methods_xfer.c):
 * the module's start and stop, and the API methods for agent_methods[].
 */
#ifndef AGENT_METHODS_XFER_H
#define AGENT_METHODS_XFER_H

#include "agent_ctx.h"

/* Creates a->xfer (after the store and events, before the network). SC_OK or agent_xfer_new's. */
SC_MUST_CHECK int agent_files_start(agent *a);
/* Frees a->xfer; the loop must run afterwards (agent_xfer_free). */
void agent_files_stop(agent *a);

/* The methods (docs/AGENT-API.md 4.9), listed in agent_methods[]. */
void agent_m_send_file(void *ctx, agent_api_req *req, json_t *params);
void agent_m_transfers(void *ctx, agent_api_req *req, json_t *params);
void agent_m_accept(void *ctx, agent_api_req *req, json_t *params);
void agent_m_reject(void *ctx, agent_api_req *req, json_t *params);

#endif
