/*
 * agent_methods_domains.h - the API methods on other domains
 * (agent_methods_domains.c), listed in agent_methods[].
 */
#ifndef AGENT_METHODS_DOMAINS_H
#define AGENT_METHODS_DOMAINS_H

#include "agent_ctx.h"

/* trust-domain {domain, ca_fingerprint, ca_pem} and domains (docs/AGENT-API.md 4). */
void agent_m_trust_domain(void *ctx, agent_api_req *req, json_t *params);
void agent_m_domains(void *ctx, agent_api_req *req, json_t *params);

#endif
