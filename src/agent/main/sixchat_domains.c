/*
 * sixchat_domains.c - `sixchat trust-domain` and `sixchat domains`: the
 * other domains whose users this agent may talk to (agent_domains.h,
 * docs/AGENT-API.md 4). trust-domain finds the domain's registry (DNS SRV,
 * or --irp), fetches its CA certificate over a connection pinned to the
 * fingerprint the user compared, and hands it to the running agent, which
 * checks the fingerprint again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_enroll.h"
#include "irp_client_srv.h"
#include "sixchat_cli.h"

const char sx_help_trust_domain[] =
    "NAME\n    sixchat trust-domain - talk with the users of another domain\n\n"
    "SYNOPSIS\n    sixchat trust-domain DOMAIN --ca-fingerprint HEX [--irp HOST[:PORT]]\n"
    "                         [--dns IPV4[:PORT]] [--json]\n\n"
    "DESCRIPTION\n"
    "    Users of another domain (bob@other.example) are looked up on that\n"
    "    domain's registry, found with DNS SRV _irp._tcp.DOMAIN (docs/IRP.md 2.1),\n"
    "    and their certificates are accepted only from that registry's CA. Ask\n"
    "    the domain's administrator for the CA fingerprint (irpd init prints it)\n"
    "    over a channel you trust: DNS answers are not authenticated, the\n"
    "    fingerprint is what makes a forged one harmless. This fetches the CA\n"
    "    certificate from the registry over a connection pinned to HEX and gives\n"
    "    it to the running agent. Running it again replaces the domain's pin.\n\n"
    "OPTIONS\n"
    "    --ca-fingerprint HEX  SHA-256 of the domain's registry CA certificate\n"
    "    --irp HOST[:PORT]     the registry, instead of looking it up in the DNS\n"
    "    --dns IPV4[:PORT]     the DNS server to ask instead of the system's\n" SX_HELP_OPTS
    "\n" SX_HELP_EXIT;

const char sx_help_domains[] =
    "NAME\n    sixchat domains - the other domains this agent trusts\n\n"
    "SYNOPSIS\n    sixchat domains [--json]\n\n"
    "DESCRIPTION\n"
    "    One line per domain added with `sixchat trust-domain`: the domain and the\n"
    "    fingerprint of its registry CA.\n\n"
    "OPTIONS\n" SX_HELP_OPTS "\n" SX_HELP_EXIT;

/* HOST[:PORT] ([v6]:port for an IPv6 literal) into one target; -1 when it does not parse. */
static int split_irp(const char *s, char *host, size_t cap, uint16_t *port)
{
    const char *colon = strrchr(s, ':');
    size_t n = strlen(s);
    *port = 0;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end) return -1;
        colon = end[1] == ':' ? end + 1 : NULL;
        s++;
        n = (size_t)(end - s);
    } else if (colon && strchr(s, ':') != colon) {
        colon = NULL; /* a bare IPv6 literal */
    } else if (colon) {
        n = (size_t)(colon - s);
    }
    if (colon) {
        char *e;
        unsigned long p = strtoul(colon + 1, &e, 10);
        if (*e || p == 0 || p > 65535) return -1;
        *port = (uint16_t)p;
    }
    if (n == 0 || n >= cap) return -1;
    memcpy(host, s, n);
    host[n] = '\0';
    return 0;
}

/* The pinned CA of domain's registry into a temporary file at path (0 or an exit code). */
static int fetch_ca(const char *domain, const char *fp, const char *irp, const char *dns,
                    const char *path)
{
    irp_srv_target t[IRP_SRV_MAX];
    size_t n = 0;
    char err[512] = "";
    if (irp) {
        if (split_irp(irp, t[0].host, sizeof(t[0].host), &t[0].port) != 0)
            return sx_usage("trust-domain", "--irp: HOST[:PORT]");
        n = 1;
    } else if (irp_srv_resolve(domain, dns, t, IRP_SRV_MAX, &n, err, sizeof(err)) != 0) {
        fprintf(stderr, "sixchat: trust-domain: %s\n", err);
        return SX_EXIT_FAIL;
    }
    for (size_t i = 0; i < n; i++) { /* RFC 2782: the next target when one fails */
        agent_irp_target tg = {.host = t[i].host, .port = t[i].port, .ca_fp = fp};
        if (agent_enroll_fetch_ca(&tg, path, err, sizeof(err)) == 0) return 0;
        fprintf(stderr, "sixchat: trust-domain: %s port %u: %s\n", t[i].host, t[i].port, err);
    }
    return SX_EXIT_FAIL;
}

/* The fetched certificate's PEM text (at most 64 KiB), or NULL. */
static char *read_pem(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = f ? malloc(65536) : NULL;
    size_t n = buf ? fread(buf, 1, 65535, f) : 0;
    if (f) fclose(f);
    if (buf && (n == 0 || n == 65535)) {
        free(buf);
        return NULL;
    }
    if (buf) buf[n] = '\0';
    return buf;
}

static void show_domain(json_t *r)
{
    printf("%s: registry CA %s\n", json_string_value(json_object_get(r, "domain")),
           json_string_value(json_object_get(r, "ca_fingerprint")));
}

int sx_cmd_trust_domain(sx_ctx *x, int argc, char **argv)
{
    const char *pos[1], *fp = NULL, *irp = NULL, *dns = NULL;
    int n;
    sx_opt o[] = {
        {"--ca-fingerprint", 1, &fp, NULL}, {"--irp", 1, &irp, NULL}, {"--dns", 1, &dns, NULL}};
    int rc = sx_parse(x, "trust-domain", argc, argv, o, 3, pos, 1, &n);
    if (rc >= 0) return rc;
    if (n != 1) return sx_usage("trust-domain", "which domain?");
    if (!fp) return sx_usage("trust-domain", "--ca-fingerprint HEX is needed (compare it first)");
    char path[] = "/tmp/sixchat-ca-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        perror("sixchat: trust-domain");
        return SX_EXIT_FAIL;
    }
    close(fd);
    rc = fetch_ca(pos[0], fp, irp, dns ? dns : getenv("SIXCHAT_DNS"), path);
    char *pem = rc == 0 ? read_pem(path) : NULL;
    unlink(path);
    if (rc) return rc;
    if (!pem) {
        fprintf(stderr, "sixchat: trust-domain: cannot read the fetched certificate\n");
        return SX_EXIT_FAIL;
    }
    json_t *p = json_pack("{s:s,s:s,s:s}", "domain", pos[0], "ca_fingerprint", fp, "ca_pem", pem);
    free(pem);
    return sx_run_method(x, "trust-domain", p, show_domain);
}

static void show_domains(json_t *r)
{
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(r, "domains"), i, d) show_domain(d);
}

int sx_cmd_domains(sx_ctx *x, int argc, char **argv)
{
    const char *pos[1];
    int n;
    int rc = sx_parse(x, "domains", argc, argv, NULL, 0, pos, 0, &n);
    if (rc >= 0) return rc;
    return sx_run_method(x, "domains", json_object(), show_domains);
}
