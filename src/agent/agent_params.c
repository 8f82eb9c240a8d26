/*
 * agent_params.c - parameters shared by the local API's methods
 * (docs/AGENT-API.md 4).
 */
#include "agent_params.h"

int agent_param_limit(agent_api_req *req, json_t *params, json_int_t *limit)
{
    json_t *lim = params ? json_object_get(params, "limit") : NULL;
    *limit = 50;
    if (lim) {
        if (!json_is_integer(lim) || json_integer_value(lim) < 0) {
            agent_api_fail(req, AGENT_E_PARAMS, "limit must be an integer >= 0", NULL);
            return -1;
        }
        *limit = json_integer_value(lim);
    }
    return 0;
}
