/*
 * agent_types.h - what the agent's modules pass between them: a peer's
 * devices as the registry published them (agent_reg fills it from a
 * verified lookup or a watch event; agent_peer dials from it; the outbox
 * tracks delivery per device). Plain data, no behaviour.
 */
#ifndef AGENT_TYPES_H
#define AGENT_TYPES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "irp_msg.h"

/* One registered device of a user: its id and where it listens. */
typedef struct agent_device {
    char id[IRP_DEVICE_MAX + 1];
    struct sockaddr_storage addrs[IRP_MAX_ADDRS]; /* port set in each */
    size_t n_addrs;
    uint64_t expires; /* Unix seconds */
} agent_device;

/* A user as the registry sees them: live devices and valid certificates. */
typedef struct agent_peer_view {
    char user[IRP_USER_MAX + 1];
    agent_device devices[IRP_MAX_BINDINGS];
    size_t n_devices;                    /* 0: offline */
    uint8_t cert_fps[IRP_MAX_CERTS][32]; /* SHA-256 of each valid certificate (DER) */
    size_t n_certs;
} agent_peer_view;

#endif
