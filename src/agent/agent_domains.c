/*
 * agent_domains.c - the trusted other domains in the store (agent_domains.h).
 */
#include <ctype.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_domains.h"
#include "agent_hex.h"
#include "irp_srv.h"

#define LIST_KEY "domains"
#define LIST_MAX (AGENT_DOMAINS_MAX * (AGENT_DOMAIN_MAX + 1) + 1)

__attribute__((format(printf, 4, 5))) static int err_(char *err, size_t cap, int rc,
                                                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (cap) vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return rc;
}

/* A domain name (what irp_srv_qname accepts) lowercased into out. */
static int canon(const char *s, char out[AGENT_DOMAIN_MAX + 1])
{
    char q[IRP_SRV_HOST_MAX + 1];
    if (s == NULL || strlen(s) > AGENT_DOMAIN_MAX || irp_srv_qname(s, q, sizeof q) != 0)
        return SC_ERR_ARG;
    size_t i = 0;
    for (; s[i]; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[i] = '\0';
    return 0;
}

int agent_domain_of(const char *user, char out[AGENT_DOMAIN_MAX + 1])
{
    const char *at = user ? strrchr(user, '@') : NULL;
    return at ? canon(at + 1, out) : SC_ERR_ARG;
}

/* 64 lowercase hex digits from hex with optional colons; 0 or -1. */
static int canon_fp(const char *hex, char out[65])
{
    size_t k = 0;
    for (; hex && *hex; hex++) {
        if (*hex == ':') continue;
        if (k == 64 || !isxdigit((unsigned char)*hex)) return -1;
        out[k++] = (char)tolower((unsigned char)*hex);
    }
    out[k] = '\0';
    return k == 64 ? 0 : -1;
}

/* The certificate of pem whose SHA-256 is fp, as PEM text (malloc'd), if it is a CA. */
static char *pinned_ca(const char *pem, const char *fp, char *err, size_t cap)
{
    BIO *in = BIO_new_mem_buf(pem, -1), *out = NULL;
    X509 *x, *found = NULL;
    char *text = NULL;
    while (in && !found && (x = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL) {
        unsigned char d[32];
        unsigned int n = 0;
        char hex[65];
        if (X509_digest(x, EVP_sha256(), d, &n) && n == 32) {
            agent_hex(d, 32, hex);
            if (strcmp(hex, fp) == 0) found = x;
        }
        if (found != x) X509_free(x);
    }
    if (!found)
        err_(err, cap, 0, "no certificate with the fingerprint %s was given", fp);
    else if (X509_check_ca(found) < 1)
        err_(err, cap, 0, "the certificate with the fingerprint %s is not a CA", fp);
    else if ((out = BIO_new(BIO_s_mem())) != NULL && PEM_write_bio_X509(out, found)) {
        char *p;
        long len = BIO_get_mem_data(out, &p);
        if (len > 0 && len < AGENT_DOMAIN_CA_MAX && (text = malloc((size_t)len + 1)) != NULL) {
            memcpy(text, p, (size_t)len);
            text[len] = '\0';
        }
    }
    X509_free(found);
    BIO_free(out);
    BIO_free(in);
    return text;
}

int agent_domains_list(agent_store *st, char (*names)[AGENT_DOMAIN_MAX + 1], size_t *n)
{
    char *list = malloc(LIST_MAX);
    int found = 0;
    *n = 0;
    if (list == NULL) return SC_ERR_NOMEM;
    int rc = agent_store_get(st, LIST_KEY, list, LIST_MAX, &found);
    for (char *save = NULL, *t = rc == 0 && found ? strtok_r(list, " ", &save) : NULL;
         t != NULL && *n < AGENT_DOMAINS_MAX; t = strtok_r(NULL, " ", &save))
        if (canon(t, names[*n]) == 0) (*n)++;
    free(list);
    return rc;
}

int agent_domains_get(agent_store *st, const char *domain, agent_domain *d, int *found)
{
    char key[AGENT_DOMAIN_MAX + 8], *val;
    memset(d, 0, sizeof(*d));
    *found = 0;
    if (canon(domain, d->name) != 0) return SC_ERR_ARG;
    snprintf(key, sizeof key, "domain:%s", d->name);
    if ((val = malloc(AGENT_DOMAIN_CA_MAX + 66)) == NULL) return SC_ERR_NOMEM;
    int rc = agent_store_get(st, key, val, AGENT_DOMAIN_CA_MAX + 66, found);
    char *nl = rc == 0 && *found ? strchr(val, '\n') : NULL;
    if (nl && nl - val == 64) {
        memcpy(d->ca_fp, val, 64);
        d->ca_len = strlen(nl + 1);
        d->ca_pem = malloc(d->ca_len + 1);
        if (d->ca_pem) memcpy(d->ca_pem, nl + 1, d->ca_len + 1);
        rc = d->ca_pem ? 0 : SC_ERR_NOMEM;
    } else if (rc == 0) {
        *found = 0;
    }
    free(val);
    return rc;
}

/* Adds name to the list unless it is there. */
static int list_add(agent_store *st, const char *name)
{
    char names[AGENT_DOMAINS_MAX][AGENT_DOMAIN_MAX + 1];
    size_t n = 0;
    int rc = agent_domains_list(st, names, &n);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(names[i], name)) return 0;
    if (n == AGENT_DOMAINS_MAX) return SC_ERR_TOO_LARGE;
    char *list = malloc(LIST_MAX);
    if (list == NULL) return SC_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += (size_t)snprintf(list + k, LIST_MAX - k, "%s ", names[i]);
    snprintf(list + k, LIST_MAX - k, "%s", name);
    rc = agent_store_set(st, LIST_KEY, list);
    free(list);
    return rc;
}

int agent_domains_add(agent_store *st, const char *own, const char *domain, const char *ca_fp,
                      const char *ca_pem, char *err, size_t cap)
{
    char name[AGENT_DOMAIN_MAX + 1], own_c[AGENT_DOMAIN_MAX + 1], fp[65], key[AGENT_DOMAIN_MAX + 8];
    if (canon(domain, name) != 0)
        return err_(err, cap, SC_ERR_ARG, "not a domain name: %s", domain ? domain : "");
    if (own && canon(own, own_c) == 0 && !strcmp(own_c, name))
        return err_(err, cap, SC_ERR_ARG, "%s is this agent's own domain", name);
    if (canon_fp(ca_fp, fp) != 0)
        return err_(err, cap, SC_ERR_ARG, "a fingerprint is 64 hex digits (SHA-256)");
    if (ca_pem == NULL || strlen(ca_pem) > AGENT_DOMAIN_CA_MAX)
        return err_(err, cap, SC_ERR_ARG, "the CA certificate (PEM) is missing or too large");
    char *pem = pinned_ca(ca_pem, fp, err, cap);
    if (pem == NULL) return SC_ERR_ARG;
    size_t len = strlen(pem);
    char *val = malloc(64 + 1 + len + 1);
    int rc = SC_ERR_NOMEM;
    if (val) {
        memcpy(val, fp, 64);
        val[64] = '\n';
        memcpy(val + 65, pem, len + 1);
        snprintf(key, sizeof key, "domain:%s", name);
        if ((rc = agent_store_begin(st)) == 0) {
            rc = agent_store_set(st, key, val);
            if (rc == 0) rc = list_add(st, name);
            if (rc == 0)
                rc = agent_store_commit(st);
            else
                agent_store_rollback(st);
        }
    }
    if (rc == SC_ERR_TOO_LARGE) err_(err, cap, rc, "at most %d other domains", AGENT_DOMAINS_MAX);
    free(val);
    free(pem);
    return rc;
}

void agent_domain_clear(agent_domain *d)
{
    free(d->ca_pem);
    memset(d, 0, sizeof(*d));
}
