/*
 * agent_peer_addr.h - "ADDR:PORT" text to socket addresses and back, as the
 * command line (`sixchat up --listen`) and the log lines write them:
 * "[2001:db8::1]:4605" for IPv6, "192.0.2.1:4605" for IPv4. Numeric only:
 * the peer layer never resolves names (addresses come from the registry).
 */
#ifndef AGENT_PEER_ADDR_H
#define AGENT_PEER_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

/* Longest text agent_peer_addr_str writes, with the NUL. */
#define AGENT_PEER_ADDR_STRLEN 64

/*
 * Parses "[v6]:port" or "v4:port" (port 0..65535). Returns 0, or
 * SC_ERR_ARG when the text is not one of those forms.
 */
int agent_peer_addr_parse(const char *text, struct sockaddr_storage *out);

/* Writes the address as text ("?" for a family other than IPv4 and IPv6). */
void agent_peer_addr_str(const struct sockaddr *sa, char out[AGENT_PEER_ADDR_STRLEN]);

/* Length of the sockaddr for its family (0 for other families). */
size_t agent_peer_addr_len(const struct sockaddr *sa);

/* 1 when both have the same family, address and port. */
int agent_peer_addr_equal(const struct sockaddr *a, const struct sockaddr *b);

/* 1 when both have the same family and address (the port is ignored). */
int agent_peer_addr_same_host(const struct sockaddr *a, const struct sockaddr *b);

#endif
