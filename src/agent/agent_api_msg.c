/*
 * agent_api_msg.c - decoding one API line (agent_api_msg.h).
 */
#include "agent_api_msg.h"

#include <string.h>

#include "agent_api.h"

static int fail(agent_api_msg *m, int err, const char *why, json_t *id)
{
    m->err = err;
    m->why = why;
    m->id = id;
    m->method = NULL;
    m->params = NULL;
    return -1;
}

int agent_api_msg_decode(const char *line, size_t len, agent_api_msg *m)
{
    memset(m, 0, sizeof(*m));
    json_error_t jerr;
    m->msg = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!m->msg) return fail(m, AGENT_E_PARSE, "not JSON", NULL);
    if (!json_is_object(m->msg))
        return fail(m, AGENT_E_INVALID_REQUEST, "not a JSON-RPC 2.0 request", NULL);
    json_t *id = json_object_get(m->msg, "id");
    json_t *method = json_object_get(m->msg, "method");
    json_t *params = json_object_get(m->msg, "params");
    json_t *ver = json_object_get(m->msg, "jsonrpc");
    int id_ok = !id || json_is_string(id) || json_is_integer(id) || json_is_null(id);
    if (!json_is_string(ver) || strcmp(json_string_value(ver), "2.0") || !json_is_string(method) ||
        !id_ok)
        return fail(m, AGENT_E_INVALID_REQUEST, "not a JSON-RPC 2.0 request",
                    json_is_string(id) || json_is_integer(id) ? id : NULL);
    if (params && !json_is_object(params))
        return fail(m, AGENT_E_PARAMS, "params must be an object", id);
    m->id = id;
    m->method = json_string_value(method);
    m->params = params;
    return 0;
}

void agent_api_msg_clear(agent_api_msg *m)
{
    json_decref(m->msg);
    memset(m, 0, sizeof(*m));
}
