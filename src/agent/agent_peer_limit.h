/*
 * agent_peer_limit.h - the counters that keep one hostile peer from hurting
 * the others (issue 8, "Limits"): a token bucket for a peer's incoming
 * stanzas, and a table of recent connection attempts per source address.
 * Plain arithmetic on times the caller passes in (milliseconds); no clock.
 */
#ifndef AGENT_PEER_LIMIT_H
#define AGENT_PEER_LIMIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/*
 * Token bucket: `rate` tokens a second up to `burst`. Tokens may go
 * negative (a stanza already received is still delivered); the owner then
 * pauses reading until agent_peer_bucket_wait() says the debt is paid.
 */
typedef struct agent_peer_bucket {
    double tokens;
    uint64_t last_ms;
} agent_peer_bucket;

void agent_peer_bucket_init(agent_peer_bucket *b, uint32_t burst, uint64_t now_ms);

/* Takes one token. Returns 1 while the bucket holds at least zero tokens after it. */
int agent_peer_bucket_take(agent_peer_bucket *b, uint32_t rate, uint32_t burst, uint64_t now_ms);

/* Milliseconds until the bucket holds one token again (0: it does now). */
uint64_t agent_peer_bucket_wait(agent_peer_bucket *b, uint32_t rate, uint32_t burst,
                                uint64_t now_ms);

/* Connection attempts per source address in a fixed window. */
#define AGENT_PEER_SOURCES 1024 /* sources remembered; the oldest window is forgotten first */

typedef struct agent_peer_source {
    struct sockaddr_storage host; /* port ignored; IPv6 compared by its /64 */
    uint64_t window_start;
    uint32_t count;
    int logged; /* a refusal of this window was logged already */
} agent_peer_source;

typedef struct agent_peer_sources {
    agent_peer_source e[AGENT_PEER_SOURCES];
    size_t n;
} agent_peer_sources;

/*
 * Counts an attempt from `from`. Returns 1 when it is within `limit`
 * attempts per `window_ms`, else 0; *first_refusal is 1 for the first
 * refusal of a window (so one log line per source and window).
 */
int agent_peer_sources_admit(agent_peer_sources *t, const struct sockaddr *from, uint32_t limit,
                             uint64_t window_ms, uint64_t now_ms, int *first_refusal);

#endif
