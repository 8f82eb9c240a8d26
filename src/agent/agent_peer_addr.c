/*
 * agent_peer_addr.c - see agent_peer_addr.h.
 */
#include "agent_peer_addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sixchat/error.h"

static int parse_port(const char *s, in_port_t *out)
{
    char *end = NULL;
    unsigned long v;
    if (*s < '0' || *s > '9') return SC_ERR_ARG;
    v = strtoul(s, &end, 10);
    if (*end != '\0' || v > 65535) return SC_ERR_ARG;
    *out = htons((uint16_t)v);
    return SC_OK;
}

int agent_peer_addr_parse(const char *text, struct sockaddr_storage *out)
{
    char host[INET6_ADDRSTRLEN];
    const char *colon;
    size_t n;
    memset(out, 0, sizeof *out);
    if (text == NULL) return SC_ERR_ARG;
    if (text[0] == '[') {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)out;
        const char *close = strchr(text, ']');
        if (close == NULL || close[1] != ':') return SC_ERR_ARG;
        n = (size_t)(close - text - 1);
        if (n == 0 || n >= sizeof host) return SC_ERR_ARG;
        memcpy(host, text + 1, n);
        host[n] = '\0';
        a6->sin6_family = AF_INET6;
        if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1) return SC_ERR_ARG;
        return parse_port(close + 2, &a6->sin6_port);
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)out;
    colon = strrchr(text, ':');
    if (colon == NULL) return SC_ERR_ARG;
    n = (size_t)(colon - text);
    if (n == 0 || n >= sizeof host) return SC_ERR_ARG;
    memcpy(host, text, n);
    host[n] = '\0';
    a4->sin_family = AF_INET;
    if (inet_pton(AF_INET, host, &a4->sin_addr) != 1) return SC_ERR_ARG;
    return parse_port(colon + 1, &a4->sin_port);
}

void agent_peer_addr_str(const struct sockaddr *sa, char out[AGENT_PEER_ADDR_STRLEN])
{
    char host[INET6_ADDRSTRLEN];
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)sa;
        if (inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof host) != NULL) {
            snprintf(out, AGENT_PEER_ADDR_STRLEN, "[%s]:%u", host, ntohs(a6->sin6_port));
            return;
        }
    } else if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a4 = (const struct sockaddr_in *)sa;
        if (inet_ntop(AF_INET, &a4->sin_addr, host, sizeof host) != NULL) {
            snprintf(out, AGENT_PEER_ADDR_STRLEN, "%s:%u", host, ntohs(a4->sin_port));
            return;
        }
    }
    snprintf(out, AGENT_PEER_ADDR_STRLEN, "?");
}

size_t agent_peer_addr_len(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET6) return sizeof(struct sockaddr_in6);
    if (sa->sa_family == AF_INET) return sizeof(struct sockaddr_in);
    return 0;
}

int agent_peer_addr_same_host(const struct sockaddr *a, const struct sockaddr *b)
{
    if (a->sa_family != b->sa_family) return 0;
    if (a->sa_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                      &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
    if (a->sa_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    return 0;
}

int agent_peer_addr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
    if (!agent_peer_addr_same_host(a, b)) return 0;
    if (a->sa_family == AF_INET6)
        return ((const struct sockaddr_in6 *)a)->sin6_port ==
               ((const struct sockaddr_in6 *)b)->sin6_port;
    return ((const struct sockaddr_in *)a)->sin_port == ((const struct sockaddr_in *)b)->sin_port;
}
