/*
 * agent_peer_limit.c - see agent_peer_limit.h.
 */
#include "agent_peer_limit.h"

#include <netinet/in.h>
#include <string.h>

#include "agent_peer_addr.h"

void agent_peer_bucket_init(agent_peer_bucket *b, uint32_t burst, uint64_t now_ms)
{
    b->tokens = burst;
    b->last_ms = now_ms;
}

static void refill(agent_peer_bucket *b, uint32_t rate, uint32_t burst, uint64_t now_ms)
{
    if (now_ms > b->last_ms) {
        b->tokens += (double)(now_ms - b->last_ms) * rate / 1000.0;
        if (b->tokens > burst) b->tokens = burst;
    }
    /* A clock that steps back must not mint tokens later: restart from now. */
    b->last_ms = now_ms;
}

int agent_peer_bucket_take(agent_peer_bucket *b, uint32_t rate, uint32_t burst, uint64_t now_ms)
{
    refill(b, rate, burst, now_ms);
    b->tokens -= 1.0;
    return b->tokens >= 0.0;
}

uint64_t agent_peer_bucket_wait(agent_peer_bucket *b, uint32_t rate, uint32_t burst,
                                uint64_t now_ms)
{
    refill(b, rate, burst, now_ms);
    if (b->tokens >= 1.0 || rate == 0) return 0;
    return (uint64_t)((1.0 - b->tokens) * 1000.0 / rate) + 1;
}

/*
 * One source is an IPv4 address or an IPv6 /64: a host usually holds a whole
 * /64 (RFC 4291 2.5.4 interface identifiers), so counting single IPv6
 * addresses would let one host take as many attempts as it has addresses.
 */
static int same_source(const struct sockaddr *a, const struct sockaddr *b)
{
    if (a->sa_family == AF_INET6 && b->sa_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                      &((const struct sockaddr_in6 *)b)->sin6_addr, 8) == 0;
    return agent_peer_addr_same_host(a, b);
}

int agent_peer_sources_admit(agent_peer_sources *t, const struct sockaddr *from, uint32_t limit,
                             uint64_t window_ms, uint64_t now_ms, int *first_refusal)
{
    agent_peer_source *e = NULL, *oldest = NULL;
    *first_refusal = 0;
    for (size_t i = 0; i < t->n; i++) {
        agent_peer_source *x = &t->e[i];
        if (same_source((const struct sockaddr *)&x->host, from)) {
            e = x;
            break;
        }
        if (oldest == NULL || x->window_start < oldest->window_start) oldest = x;
    }
    if (e == NULL) {
        e = t->n < AGENT_PEER_SOURCES ? &t->e[t->n++] : oldest;
        memset(e, 0, sizeof *e);
        memcpy(&e->host, from, agent_peer_addr_len(from));
        e->window_start = now_ms;
    }
    if (now_ms < e->window_start || now_ms - e->window_start >= window_ms) {
        e->window_start = now_ms;
        e->count = 0;
        e->logged = 0;
    }
    if (e->count < limit) {
        e->count++;
        return 1;
    }
    if (!e->logged) *first_refusal = 1;
    e->logged = 1;
    return 0;
}
