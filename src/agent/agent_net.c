/*
 * agent_net.c - the agent's network side: the registry (agent_reg) and the
 * peer sessions (agent_peer). This first version has neither yet: the
 * agent serves its local API and store, queues messages in the outbox, and
 * says plainly that it is not connected.
 */
#include "agent.h"

#include <stdio.h>
#include <string.h>

int agent_net_start(agent *a, char *err, size_t errcap)
{
    (void)err;
    (void)errcap;
    if (a->on_ready) a->on_ready(a);
    return SC_OK;
}

void agent_net_stop(agent *a, void (*done)(agent *a))
{
    done(a);
}

void agent_net_listen_addr(agent *a, char *out, size_t cap)
{
    (void)a;
    if (cap) out[0] = '\0';
}

void agent_net_kick(agent *a, const char *peer)
{
    (void)a;
    (void)peer;
}

int agent_net_send(agent *a, const char *peer, const char *device, const sc_stanza *st)
{
    return SC_ERR_STATE;
}

void agent_net_blocked_changed(agent *a) {}

void agent_net_status(agent *a, json_t *obj)
{
    json_object_set_new(obj, "registration", json_pack("{s:s}", "state", "none"));
}

void agent_net_lookup(agent *a, agent_api_req *req, const char *user)
{
    agent_api_fail(req, AGENT_E_REGISTRY, "this agent has no registry connection", NULL);
}

size_t agent_net_devices(agent *a, const char *peer, char (*out)[IRP_DEVICE_MAX + 1], size_t max)
{
    return 0;
}
