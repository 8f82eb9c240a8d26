/*
 * agent_net.h - the network side (agent_net.c): the registry connection and the peer
 * sessions, started and stopped by the top (agent.c).
 */
#ifndef AGENT_NET_H
#define AGENT_NET_H

#include "agent_ctx.h"

/* Starts the registry connection and the listeners. Prints nothing. */
SC_MUST_CHECK int agent_net_start(agent *a, char *err, size_t errcap);
/* Stops both; done(a) runs once everything is closed (unregistered). */
void agent_net_stop(agent *a, void (*done)(agent *a));
/* "ADDR:PORT" of the first listener ("" when none). */
void agent_net_listen_addr(agent *a, char *out, size_t cap);
/* Make sure messages to peer go: send on an up session, else dial (lookup first). */
void agent_net_kick(agent *a, const char *peer);
/* Sends a stanza to (peer, device) (device NULL: every device); > 0 when queued somewhere. */
int agent_net_send(agent *a, const char *peer, const char *device, const sc_stanza *st);
/* File bytes to (peer, device): agent_peer_send_file's SC_OK, SC_ERR_TOO_LARGE, SC_ERR_STATE. */
int agent_net_send_file(agent *a, const char *peer, const char *device, const char *id,
                        uint64_t offset, const uint8_t *data, size_t len);
/* The set of blocked users changed: refuse them in the handshake from now on. */
void agent_net_blocked_changed(agent *a);
/* Status fields of the network (registration, NAT, sessions) added to obj. */
void agent_net_status(agent *a, json_t *obj);
/* Looks user up on the registry; the answer goes to req. */
void agent_net_lookup(agent *a, agent_api_req *req, const char *user);
/* The devices of peer known now (from the last view), for per-device outbox tracking. */
size_t agent_net_devices(agent *a, const char *peer, char (*out)[IRP_DEVICE_MAX + 1], size_t max);

#endif
