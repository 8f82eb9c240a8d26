/*
 * irp_srv.c - DNS SRV answers for a registry (irp_srv.h): parsed with
 * libresolv's message parser, every length bounded by it and by us, and
 * ordered as RFC 2782 says. No I/O here.
 */
#include <arpa/nameser.h>
#include <resolv.h>
#include <string.h>

#include "irp_srv.h"

/* A host name we will connect to: LDH labels of 1..63 bytes, at most IRP_SRV_HOST_MAX in all. */
static int host_ok(const char *s)
{
    size_t n = strlen(s), label = 0;
    if (n == 0 || n > IRP_SRV_HOST_MAX) return 0;
    for (size_t i = 0; i <= n; i++) {
        char c = s[i];
        if (c == '.' || c == '\0') {
            if (label == 0 || label > 63) return 0;
            label = 0;
            continue;
        }
        int ldh = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        if (!ldh) return 0; /* dn_expand's escapes (\032, \.) are not host names */
        label++;
    }
    return 1;
}

int irp_srv_qname(const char *domain, char *out, size_t cap)
{
    static const char prefix[] = "_irp._tcp.";
    if (domain == NULL || !host_ok(domain)) return SC_ERR_ARG;
    size_t n = strlen(domain);
    if (sizeof(prefix) - 1 + n > IRP_SRV_HOST_MAX || sizeof(prefix) + n > cap) return SC_ERR_ARG;
    memcpy(out, prefix, sizeof(prefix) - 1);
    memcpy(out + sizeof(prefix) - 1, domain, n + 1);
    return 0;
}

/* One SRV record's data (RFC 2782: priority, weight, port, target) into t; 1 if usable, 0 if not.
 */
static int srv_rdata(const ns_msg *h, const ns_rr *rr, irp_srv_target *t, int *root)
{
    char name[NS_MAXDNAME];
    const unsigned char *rd = ns_rr_rdata(*rr);
    size_t rdlen = ns_rr_rdlen(*rr);
    if (rdlen < 7) return -1;
    int used = dn_expand(ns_msg_base(*h), ns_msg_end(*h), rd + 6, name, sizeof name);
    if (used < 1 || (size_t)used != rdlen - 6) return -1; /* the target fills the data exactly */
    t->priority = (uint16_t)ns_get16(rd);
    t->weight = (uint16_t)ns_get16(rd + 2);
    t->port = (uint16_t)ns_get16(rd + 4);
    if (name[0] == '\0' || strcmp(name, ".") == 0) {
        *root = 1;
        return 0;
    }
    if (t->port == 0 || !host_ok(name)) return 0;
    memcpy(t->host, name, strlen(name) + 1);
    return 1;
}

int irp_srv_parse(const uint8_t *msg, size_t len, irp_srv_target *out, size_t cap, size_t *n)
{
    ns_msg h;
    int root = 0;
    *n = 0;
    if (msg == NULL || len > 65535 || ns_initparse(msg, (int)len, &h) != 0) return IRP_BAD_REQUEST;
    if (!ns_msg_getflag(h, ns_f_qr)) return IRP_BAD_REQUEST; /* a query, not an answer */
    int rcode = ns_msg_getflag(h, ns_f_rcode);
    if (rcode == ns_r_nxdomain) return IRP_NOT_FOUND;
    if (rcode != ns_r_noerror)
        return IRP_UNAVAILABLE; /* SERVFAIL, REFUSED: the DNS, not the domain */
    for (int i = 0; i < ns_msg_count(h, ns_s_an); i++) {
        ns_rr rr;
        if (ns_parserr(&h, ns_s_an, i, &rr) != 0) return IRP_BAD_REQUEST;
        if (ns_rr_type(rr) != ns_t_srv || ns_rr_class(rr) != ns_c_in) continue;
        if (*n == cap) continue; /* keep parsing: a malformed record still fails the answer */
        int ok = srv_rdata(&h, &rr, &out[*n], &root);
        if (ok < 0) return IRP_BAD_REQUEST;
        *n += (size_t)ok;
    }
    if (*n == 0) return root ? IRP_GONE : IRP_NOT_FOUND;
    return 0;
}

static void swap(irp_srv_target *a, irp_srv_target *b)
{
    irp_srv_target t = *a;
    *a = *b;
    *b = t;
}

/* RFC 2782's selection within one priority: zero weights first, then draws by running sum. */
static void order_group(irp_srv_target *t, size_t n, uint32_t (*rnd)(void *), void *arg)
{
    for (size_t k = 0; k + 1 < n; k++) {
        size_t z = k;
        for (size_t i = k; i < n; i++)
            if (t[i].weight == 0) swap(&t[z++], &t[i]);
        uint32_t total = 0;
        for (size_t i = k; i < n; i++)
            total += t[i].weight;
        uint32_t r = rnd(arg) % (total + 1), sum = 0;
        size_t pick = n - 1;
        for (size_t i = k; i < n; i++) {
            sum += t[i].weight;
            if (sum >= r) {
                pick = i;
                break;
            }
        }
        swap(&t[k], &t[pick]);
    }
}

void irp_srv_order(irp_srv_target *t, size_t n, uint32_t (*rnd)(void *), void *arg)
{
    for (size_t i = 1; i < n; i++) /* insertion sort by priority: n <= IRP_SRV_MAX */
        for (size_t j = i; j > 0 && t[j - 1].priority > t[j].priority; j--)
            swap(&t[j - 1], &t[j]);
    for (size_t a = 0; a < n;) {
        size_t b = a;
        while (b < n && t[b].priority == t[a].priority)
            b++;
        order_group(t + a, b - a, rnd, arg);
        a = b;
    }
}
