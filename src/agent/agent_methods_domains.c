/*
 * agent_methods_domains.c - the local API's `trust-domain` and `domains`
 * (docs/AGENT-API.md 4): the other domains whose users the agent may talk
 * to (agent_domains.h).
 */
#include <string.h>

#include "agent_domains.h"
#include "agent_methods_domains.h"
#include "agent_net.h"

static const char *str(json_t *params, const char *name)
{
    return json_string_value(json_object_get(params, name));
}

void agent_m_trust_domain(void *ctx, agent_api_req *req, json_t *params)
{
    agent *a = ctx;
    const char *dom = str(params, "domain"), *fp = str(params, "ca_fingerprint");
    const char *pem = str(params, "ca_pem");
    char own[AGENT_DOMAIN_MAX + 1], err[256] = "";
    if (!dom || !fp || !pem) {
        agent_api_fail(req, AGENT_E_PARAMS, "domain, ca_fingerprint and ca_pem are needed", NULL);
        return;
    }
    int rc = agent_domains_add(a->st, agent_domain_of(a->user, own) == SC_OK ? own : NULL, dom, fp,
                               pem, err, sizeof(err));
    if (rc == SC_ERR_ARG || rc == SC_ERR_TOO_LARGE) {
        agent_api_fail(req, AGENT_E_PARAMS, err, NULL);
        return;
    }
    if (rc != SC_OK) {
        agent_api_fail(req, AGENT_E_INTERNAL, "the store failed", NULL);
        return;
    }
    agent_domain d;
    int found = 0;
    if (agent_domains_get(a->st, dom, &d, &found) != SC_OK || !found) {
        agent_domain_clear(&d);
        agent_api_fail(req, AGENT_E_INTERNAL, "the store failed", NULL);
        return;
    }
    /* New sessions get the anchor: the same rebuild a change of the block list makes. */
    agent_net_blocked_changed(a);
    agent_emit(a, "domain.trusted",
               json_pack("{s:s,s:s}", "domain", d.name, "ca_fingerprint", d.ca_fp));
    agent_api_reply(req, json_pack("{s:s,s:s}", "domain", d.name, "ca_fingerprint", d.ca_fp));
    agent_domain_clear(&d);
}

void agent_m_domains(void *ctx, agent_api_req *req, json_t *params)
{
    agent *a = ctx;
    char names[AGENT_DOMAINS_MAX][AGENT_DOMAIN_MAX + 1];
    size_t n = 0;
    (void)params;
    if (agent_domains_list(a->st, names, &n) != SC_OK) {
        agent_api_fail(req, AGENT_E_INTERNAL, "the store failed", NULL);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        agent_domain d;
        int found = 0;
        if (agent_domains_get(a->st, names[i], &d, &found) == SC_OK && found)
            json_array_append_new(
                arr, json_pack("{s:s,s:s}", "domain", d.name, "ca_fingerprint", d.ca_fp));
        agent_domain_clear(&d);
    }
    agent_api_reply(req, json_pack("{s:o}", "domains", arr));
}
