/*
 * irp_client_srv.c - the SRV query (irp_client_srv.h): libresolv's
 * res_nquery on a private resolver state (so a chosen server does not
 * change the process's), the answer parsed and ordered by irp_srv.c.
 */
#define _DEFAULT_SOURCE 1 /* h_errno codes and hstrerror (netdb.h) */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irp_client_srv.h"

/* "IPV4[:PORT]" into a resolver address (port 53 when omitted). */
static int dns_addr(const char *dns, struct sockaddr_in *sa)
{
    char ip[INET_ADDRSTRLEN];
    const char *colon = strchr(dns, ':');
    size_t n = colon ? (size_t)(colon - dns) : strlen(dns);
    unsigned long port = 53;
    if (n == 0 || n >= sizeof ip) return -1;
    memcpy(ip, dns, n);
    ip[n] = '\0';
    if (colon) {
        char *end;
        port = strtoul(colon + 1, &end, 10);
        if (*end != '\0' || port == 0 || port > 65535) return -1;
    }
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, ip, &sa->sin_addr) == 1 ? 0 : -1;
}

static uint32_t srv_rand(void *arg)
{
    (void)arg;
    uint32_t r = 0;
    /* Spreads load, no secret: on failure every client takes the first of a priority. */
    if (RAND_bytes((unsigned char *)&r, sizeof r) != 1) r = 0;
    return r;
}

/* The query itself; *answer_len < 0 with *herr set when there is no answer. */
static int query(const char *qname, const char *dns, uint8_t *ans, int cap, int *herr)
{
    struct __res_state st;
    memset(&st, 0, sizeof st);
    if (res_ninit(&st) != 0) return -1;
    if (dns != NULL) {
        struct sockaddr_in sa;
        if (dns_addr(dns, &sa) != 0) {
            res_nclose(&st);
            return -2;
        }
        st.nsaddr_list[0] = sa;
        st.nscount = 1;
    }
    st.retrans = 2; /* seconds per try, three tries: a dead server costs about 6 s */
    st.retry = 3;
    int len = res_nquery(&st, qname, ns_c_in, ns_t_srv, ans, cap);
    *herr = st.res_h_errno;
    res_nclose(&st);
    return len;
}

int irp_srv_resolve(const char *domain, const char *dns, irp_srv_target *out, size_t cap, size_t *n,
                    char *err, size_t err_cap)
{
    char qname[IRP_SRV_HOST_MAX + 1];
    uint8_t ans[NS_MAXMSG < 65536 ? NS_MAXMSG : 65536];
    int herr = 0, st;
    *n = 0;
    if (out == NULL || cap == 0 || irp_srv_qname(domain, qname, sizeof qname) != 0) {
        snprintf(err, err_cap, "%s is not a domain name", domain ? domain : "(null)");
        return SC_ERR_ARG;
    }
    int len = query(qname, dns, ans, (int)sizeof ans, &herr);
    if (len == -2) {
        snprintf(err, err_cap, "the DNS server %s is not IPV4[:PORT]", dns);
        return SC_ERR_ARG;
    }
    if (len < 0) /* res_nquery hides the answer of NXDOMAIN and NODATA behind h_errno */
        st = herr == HOST_NOT_FOUND || herr == NO_DATA ? IRP_NOT_FOUND : IRP_UNAVAILABLE;
    else
        st = irp_srv_parse(ans, (size_t)len, out, cap, n);
    if (st == IRP_NOT_FOUND) { /* IRP.md 2.1: no SRV record, the domain itself on 4604 */
        snprintf(out[0].host, sizeof out[0].host, "%s", domain);
        out[0].port = IRP_SRV_PORT;
        out[0].priority = out[0].weight = 0;
        *n = 1;
        return 0;
    }
    if (st == IRP_GONE)
        snprintf(err, err_cap, "%s says it runs no registry (its SRV target is \".\")", domain);
    else if (st == IRP_UNAVAILABLE)
        snprintf(err, err_cap, "no answer from the DNS for %s (%s)", qname, hstrerror(herr));
    else if (st != 0)
        snprintf(err, err_cap, "a malformed DNS answer for %s", qname);
    if (st != 0) return st;
    irp_srv_order(out, *n, srv_rand, NULL);
    return 0;
}

typedef struct srv_job {
    uv_work_t work;
    char domain[IRP_SRV_HOST_MAX + 1];
    char dns[64];
    int has_dns, status;
    irp_srv_target t[IRP_SRV_MAX];
    size_t n;
    char err[256];
    irp_srv_cb cb;
    void *arg;
} srv_job;

static void srv_work(uv_work_t *w)
{
    srv_job *j = w->data;
    j->status = irp_srv_resolve(j->domain, j->has_dns ? j->dns : NULL, j->t, IRP_SRV_MAX, &j->n,
                                j->err, sizeof j->err);
}

static void srv_done(uv_work_t *w, int status)
{
    srv_job *j = w->data;
    if (status == UV_ECANCELED) {
        j->status = SC_ERR_STATE;
        j->n = 0;
        snprintf(j->err, sizeof j->err, "the lookup was cancelled");
    }
    j->cb(j->arg, j->status, j->t, j->n, j->err);
    free(j);
}

int irp_srv_resolve_async(uv_loop_t *loop, const char *domain, const char *dns, irp_srv_cb cb,
                          void *arg)
{
    if (loop == NULL || cb == NULL || domain == NULL || strlen(domain) > IRP_SRV_HOST_MAX ||
        (dns != NULL && strlen(dns) >= sizeof(((srv_job *)0)->dns)))
        return SC_ERR_ARG;
    srv_job *j = calloc(1, sizeof *j);
    if (j == NULL) return SC_ERR_NOMEM;
    memcpy(j->domain, domain, strlen(domain) + 1);
    if (dns != NULL) {
        memcpy(j->dns, dns, strlen(dns) + 1);
        j->has_dns = 1;
    }
    j->cb = cb;
    j->arg = arg;
    j->work.data = j;
    if (uv_queue_work(loop, &j->work, srv_work, srv_done) != 0) {
        free(j);
        return SC_ERR_NOMEM;
    }
    return 0;
}
