/*
 * agent_params.h - parameters shared by the local API's methods
 * (agent_methods.c, agent_methods_xfer.c; docs/AGENT-API.md 4).
 */
#ifndef AGENT_PARAMS_H
#define AGENT_PARAMS_H

#include "agent_api.h"

/*
 * The optional "limit" of a listing method (default 50) into *limit; a
 * value that is not an integer >= 0 answers req with an error and returns
 * -1 (the method then returns without answering).
 */
int agent_param_limit(agent_api_req *req, json_t *params, json_int_t *limit);

#endif
