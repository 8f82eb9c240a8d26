/*
 * agent_methods_xfer.c - file transfers in the agent: the module's start
 * and stop with the agent's store, events and network, and the local API
 * methods `send-file`, `transfers`, `accept`, `reject`
 * (docs/AGENT-API.md 4.9; events in 5).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_methods_xfer.h"
#include "agent_net.h"
#include "agent_params.h"
#include "agent_xfer.h"

/* ---- the module's environment: the agent's store, events and network ---- */

static int env_send(void *ctx, const char *peer, const char *device, const sc_stanza *st)
{
    int rc = agent_net_send(ctx, peer, device, st);
    return rc > 0 ? rc : 0;
}

static int env_send_file(void *ctx, const char *peer, const char *device, const char *id,
                         uint64_t offset, const uint8_t *data, size_t len)
{
    return agent_net_send_file(ctx, peer, device, id, offset, data, len);
}

static void env_emit(void *ctx, const char *type, json_t *data)
{
    agent_emit(ctx, type, data);
}

static void env_kick(void *ctx, const char *peer)
{
    agent_net_kick(ctx, peer);
}

int agent_files_start(agent *a)
{
    agent_xfer_env env = {.loop = a->loop,
                          .st = a->st,
                          .downloads = a->paths.downloads,
                          .ctx = a,
                          .send = env_send,
                          .send_file = env_send_file,
                          .emit = env_emit,
                          .kick = env_kick};
    return agent_xfer_new(&env, &a->xfer);
}

void agent_files_stop(agent *a)
{
    agent_xfer_free(a->xfer);
    a->xfer = NULL;
}

/* ---- methods ---- */

static const char *param_str(json_t *params, const char *name)
{
    json_t *v = params ? json_object_get(params, name) : NULL;
    return json_is_string(v) && json_string_length(v) ? json_string_value(v) : NULL;
}

/* The agent of a file method; NULL (the request answered) when transfers are off. */
static agent *files_agent(void *ctx, agent_api_req *req)
{
    agent *a = ctx;
    if (!a->xfer)
        agent_api_fail(req, AGENT_E_STATE, "file transfers are not available in this agent", NULL);
    return a->xfer ? a : NULL;
}

typedef struct send_req {
    agent *a;
    agent_api_req *req;
    char peer[AGENT_USER_MAX + 1];
} send_req;

static void sent(void *ctx, int err, const char *id, const char *why)
{
    send_req *s = ctx;
    if (err) {
        agent_api_fail(s->req,
                       err == SC_ERR_IO && !strstr(why, "read") ? AGENT_E_INTERNAL : AGENT_E_PARAMS,
                       why, NULL);
        free(s);
        return;
    }
    agent_xfer_rec r;
    int found = 0;
    json_t *res = NULL;
    if (agent_store_xfer_get(s->a->st, s->peer, AGENT_DIR_OUT, id, &r, &found) == SC_OK && found)
        res = agent_xfer_json(s->a->xfer, &r);
    if (res)
        agent_api_reply(s->req, res);
    else
        agent_api_reply(s->req, json_pack("{s:s,s:s}", "id", id, "state", AGENT_XS_OFFERED));
    free(s);
}

void agent_m_send_file(void *ctx, agent_api_req *req, json_t *params)
{
    agent *a = files_agent(ctx, req);
    if (!a) return;
    const char *to = param_str(params, "to"), *path = param_str(params, "path");
    if (!to || !strchr(to, '@') || strlen(to) > AGENT_USER_MAX) {
        agent_api_fail(req, AGENT_E_PARAMS, "missing parameter: to (a user ID, user@domain)", NULL);
        return;
    }
    if (!path || path[0] != '/') {
        agent_api_fail(req, AGENT_E_PARAMS, "missing parameter: path (an absolute file path)",
                       NULL);
        return;
    }
    agent_contact c;
    int found = 0;
    if (agent_store_contact_get(a->st, to, &c, &found)) {
        agent_api_fail(req, AGENT_E_INTERNAL, "the agent's store failed (see its log)", NULL);
        return;
    }
    if (found && c.blocked) {
        agent_api_fail(req, AGENT_E_BLOCKED, "this user is blocked: unblock them first", NULL);
        return;
    }
    /* Sending to someone makes them a contact, as `send` does (trust on first use). */
    if (!found) {
        memset(&c, 0, sizeof(c));
        snprintf(c.user, sizeof(c.user), "%s", to);
        c.added_ms = agent_now();
        if (agent_store_contact_put(a->st, &c)) {
            agent_api_fail(req, AGENT_E_INTERNAL, "the agent's store failed (see its log)", NULL);
            return;
        }
    }
    send_req *s = calloc(1, sizeof(*s));
    if (!s) {
        agent_api_fail(req, AGENT_E_INTERNAL, "out of memory", NULL);
        return;
    }
    s->a = a;
    s->req = req;
    snprintf(s->peer, sizeof(s->peer), "%s", to);
    /* The answer comes once the file is hashed (thread pool) and the offer recorded. */
    if (agent_xfer_send(a->xfer, to, path, sent, s)) {
        free(s);
        agent_api_fail(req, AGENT_E_PARAMS, "the file cannot be offered (path too long?)", NULL);
    }
}

typedef struct list_ctx {
    agent *a;
    json_t *arr;
} list_ctx;

static void add_row(void *ctx, const agent_xfer_rec *r)
{
    list_ctx *l = ctx;
    json_t *o = agent_xfer_json(l->a->xfer, r);
    if (o) json_array_append_new(l->arr, o);
}

void agent_m_transfers(void *ctx, agent_api_req *req, json_t *params)
{
    agent *a = ctx;
    json_t *open = params ? json_object_get(params, "open") : NULL;
    json_int_t limit;
    if (agent_param_limit(req, params, &limit)) return;
    list_ctx l = {a, json_array()};
    if (!l.arr || agent_store_xfer_list(a->st, param_str(params, "peer"), json_is_true(open),
                                        (unsigned)limit, add_row, &l)) {
        json_decref(l.arr);
        agent_api_fail(req, AGENT_E_INTERNAL, "the agent's store failed (see its log)", NULL);
        return;
    }
    agent_api_reply(req, json_pack("{s:o}", "transfers", l.arr));
}

/* The transfer id as the list shows it, for the answer. */
static json_t *find_json(agent *a, const char *id)
{
    list_ctx l = {a, json_array()};
    json_t *found = NULL;
    if (l.arr && agent_store_xfer_list(a->st, NULL, 0, 0, add_row, &l) == SC_OK) {
        size_t i;
        json_t *v;
        json_array_foreach(l.arr, i, v)
        {
            if (!strcmp(json_string_value(json_object_get(v, "id")), id)) {
                found = json_incref(v);
                break;
            }
        }
    }
    json_decref(l.arr);
    return found;
}

void agent_m_accept(void *ctx, agent_api_req *req, json_t *params)
{
    agent *a = files_agent(ctx, req);
    if (!a) return;
    const char *id = param_str(params, "id"), *why = NULL;
    if (!id) {
        agent_api_fail(req, AGENT_E_PARAMS, "missing parameter: id (a transfer id)", NULL);
        return;
    }
    int rc = agent_xfer_accept(a->xfer, id, &why);
    if (rc) {
        agent_api_fail(req, rc == SC_ERR_ARG ? AGENT_E_NOT_FOUND : AGENT_E_STATE,
                       why ? why : "not accepted", NULL);
        return;
    }
    json_t *r = find_json(a, id);
    agent_api_reply(req, r ? r : json_pack("{s:s,s:s}", "id", id, "state", AGENT_XS_RECEIVING));
}

void agent_m_reject(void *ctx, agent_api_req *req, json_t *params)
{
    agent *a = files_agent(ctx, req);
    if (!a) return;
    const char *id = param_str(params, "id"), *reason = param_str(params, "reason");
    if (!id) {
        agent_api_fail(req, AGENT_E_PARAMS, "missing parameter: id (a transfer id)", NULL);
        return;
    }
    /* The reason goes to the peer: one line of at most 256 bytes (docs/PROTOCOL.md 10.1). */
    if (reason && (strlen(reason) > SC_STANZA_REASON_MAX || strpbrk(reason, "\r\n\t"))) {
        agent_api_fail(req, AGENT_E_PARAMS, "reason: one line of at most 256 bytes", NULL);
        return;
    }
    if (agent_xfer_reject(a->xfer, id, reason)) {
        agent_api_fail(req, AGENT_E_NOT_FOUND, "no unfinished transfer with this id", NULL);
        return;
    }
    json_t *r = find_json(a, id);
    agent_api_reply(req, r ? r : json_pack("{s:s}", "id", id));
}
