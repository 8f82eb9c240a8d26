/*
 * agent_reg_view.c - from the registry's answers to agent_peer_view, and
 * the checks a lookup answer passes first (docs/IRP.md 7.4, "Verifying").
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <openssl/evp.h>

#include "agent_reg_int.h"
#include "irp_sig.h"
#include "sixchat/error.h"

/* The clock a lookup answer's age is measured with (7.4 step 4) and registration expiry shown by.
 */
uint64_t agent__reg_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec;
}

void agent__reg_view_bindings(agent_peer_view *view, const char *user, const irp_binding *b,
                              size_t n)
{
    size_t i, j;

    snprintf(view->user, sizeof(view->user), "%s", user != NULL ? user : "");
    view->n_devices = 0;
    for (i = 0; i < n && i < IRP_MAX_BINDINGS; i++) {
        agent_device *d = &view->devices[view->n_devices++];
        memset(d, 0, sizeof(*d));
        snprintf(d->id, sizeof(d->id), "%s", b[i].device != NULL ? b[i].device : "");
        d->expires = b[i].expires;
        for (j = 0; j < b[i].n_addrs && j < IRP_MAX_ADDRS; j++) {
            struct sockaddr_storage *ss = &d->addrs[d->n_addrs++];
            if (b[i].addrs[j].family == 4) {
                struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
                s4->sin_family = AF_INET;
                s4->sin_port = htons(b[i].port);
                memcpy(&s4->sin_addr, b[i].addrs[j].ip, 4);
            } else {
                struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
                s6->sin6_family = AF_INET6;
                s6->sin6_port = htons(b[i].port);
                memcpy(&s6->sin6_addr, b[i].addrs[j].ip, 16);
            }
        }
    }
}

void agent_reg_view_from_resp(agent_peer_view *view, const irp_resp *resp)
{
    size_t i;

    memset(view, 0, sizeof(*view));
    agent__reg_view_bindings(view, resp->user, resp->bindings, resp->n_bindings);
    /* Only valid certificates may authenticate the peer (6.9: revoked ones come without DER). */
    for (i = 0; i < resp->n_certs && view->n_certs < IRP_MAX_CERTS; i++) {
        const irp_cert *c = &resp->certs[i];
        unsigned int len = 0;
        if (c->state != IRP_CERT_VALID || c->der == NULL) continue;
        if (EVP_Digest(c->der, c->der_len, view->cert_fps[view->n_certs], &len, EVP_sha256(),
                       NULL) != 1 ||
            len != 32)
            continue;
        view->n_certs++;
    }
}

void agent__reg_explain(int status, const char *resp_msg, const char *user, char *msg, size_t cap)
{
    const char *m = resp_msg != NULL ? resp_msg : "";
    switch (status) {
    case IRP_NOT_FOUND:
        snprintf(msg, cap, "the registry knows no user %s", user);
        break;
    case IRP_FORBIDDEN:
        snprintf(msg, cap, "%s does not allow you to look them up", user);
        break;
    case IRP_AUTH_REQUIRED:
        snprintf(msg, cap, "the registry did not accept our certificate: %s", m);
        break;
    case IRP_RATE_LIMITED:
    case IRP_UNAVAILABLE:
        snprintf(msg, cap, "the registry is busy, try again later: %s", m);
        break;
    case IRP_CLIENT_CONNECT:
    case IRP_CLIENT_TLS:
    case IRP_CLIENT_TIMEOUT:
    case IRP_CLIENT_CLOSED:
    case IRP_CLIENT_PROTOCOL:
    case AGENT_REG_NOT_CONNECTED:
        snprintf(msg, cap, "the registry is not reachable (%s): cannot look %s up now", m, user);
        break;
    default:
        snprintf(msg, cap, "the registry answered %d (%s) about %s: %s", status,
                 irp_status_name(status), user, m);
    }
}

int agent__reg_check_lookup(const irp_resp *resp, X509 *registry_cert, const char *user,
                            uint64_t now, agent_peer_view *view, char *msg, size_t cap)
{
    if (resp->status != IRP_OK) {
        agent__reg_explain(resp->status, resp->msg, user, msg, cap);
        return resp->status;
    }
    /* 7.4 steps 1 to 3: the registry's signature over the answer as we parsed it. */
    if (!resp->has_sig || registry_cert == NULL || irp_lookup_verify(resp, registry_cert) != 0) {
        snprintf(msg, cap, "the registry's answer about %s is not signed by the registry: ignored",
                 user);
        return AGENT_REG_BAD_SIG;
    }
    /* Step 4: about whom we asked, and fresh (a replayed old answer would send us to old
     * addresses and certificates). */
    if (resp->user == NULL || strcasecmp(resp->user, user) != 0) {
        snprintf(msg, cap, "the registry's answer is about %s, not %s: ignored",
                 resp->user != NULL ? resp->user : "nobody", user);
        return AGENT_REG_BAD_SIG;
    }
    if (resp->at + AGENT_REG_LOOKUP_MAX_AGE < now) {
        snprintf(msg, cap,
                 "the registry's answer about %s is %llu s old (at most %d): check the clock", user,
                 (unsigned long long)(now - resp->at), AGENT_REG_LOOKUP_MAX_AGE);
        return AGENT_REG_BAD_SIG;
    }
    agent_reg_view_from_resp(view, resp);
    if (view->n_devices == 0) {
        snprintf(msg, cap, "%s has no registered address: they are offline", user);
        return AGENT_REG_OFFLINE;
    }
    snprintf(msg, cap, "%s has %zu device%s online", user, view->n_devices,
             view->n_devices == 1 ? "" : "s");
    return 0;
}
