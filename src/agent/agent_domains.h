/*
 * agent_domains.h - the other domains whose users the agent may talk to
 * (issue 9, "Domains that find each other"; docs/IRP.md 2.1): for each, the
 * registry CA pinned by the user (`sixchat trust-domain DOMAIN
 * --ca-fingerprint HEX`) and that CA's certificate. The agent finds the
 * domain's registry with DNS SRV, authenticates it by this pin, and accepts
 * a certificate for a user of the domain only from this CA (the core binds
 * each trust anchor to its domains: docs/PROTOCOL.md 8.2).
 *
 * Kept in the store's settings: "domains" lists the names, "domain:NAME"
 * holds "FP\nPEM".
 */
#ifndef AGENT_DOMAINS_H
#define AGENT_DOMAINS_H

#include <stddef.h>

#include "agent_store.h"

#define AGENT_DOMAINS_MAX 32      /* other domains an agent trusts */
#define AGENT_DOMAIN_MAX 253      /* a DNS name */
#define AGENT_DOMAIN_CA_MAX 16384 /* the CA certificate, PEM */

typedef struct agent_domain {
    char name[AGENT_DOMAIN_MAX + 1]; /* lowercase */
    char ca_fp[65];                  /* lowercase hex, SHA-256 of the CA certificate */
    char *ca_pem;                    /* the CA certificate (malloc'd; agent_domain_clear) */
    size_t ca_len;
} agent_domain;

/* The domain part of a user ID, lowercased into out; 0, or SC_ERR_ARG when there is none. */
SC_MUST_CHECK int agent_domain_of(const char *user, char out[AGENT_DOMAIN_MAX + 1]);

/*
 * Trusts domain: ca_pem must hold a CA certificate whose SHA-256 is ca_fp
 * (hex, colons allowed); only that certificate is kept. Replaces an earlier
 * pin of the same domain. own: the agent's own domain, which cannot be
 * added. 0, SC_ERR_ARG (err says why), SC_ERR_TOO_LARGE (too many), or a
 * store error.
 */
SC_MUST_CHECK int agent_domains_add(agent_store *st, const char *own, const char *domain,
                                    const char *ca_fp, const char *ca_pem, char *err, size_t cap);

/* The pin of domain: *found 0 when it is not trusted. d->ca_pem is the caller's to clear. */
SC_MUST_CHECK int agent_domains_get(agent_store *st, const char *domain, agent_domain *d,
                                    int *found);

/* The trusted domains' names, at most AGENT_DOMAINS_MAX; *n of them. */
SC_MUST_CHECK int agent_domains_list(agent_store *st, char (*names)[AGENT_DOMAIN_MAX + 1],
                                     size_t *n);

void agent_domain_clear(agent_domain *d);

#endif
