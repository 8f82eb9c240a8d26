/*
 * agent_msgs.h - messages and the outbox (agent_msgs.c).
 */
#ifndef AGENT_MSGS_H
#define AGENT_MSGS_H

#include "agent_ctx.h"

/*
 * Queues text for peer (durable when this returns), emits message.queued,
 * and hands it to the network (sent now when a session is up, otherwise
 * when the peer comes back). id receives the message id. Errors:
 * SC_ERR_ARG, SC_ERR_TOO_LARGE, SC_ERR_IO.
 */
SC_MUST_CHECK int agent_msg_send(agent *a, const char *peer, const char *text, size_t len,
                                 char id[33]);

/*
 * Sends, in order, the outbox messages that device has not acknowledged:
 * all of them (only_queued 0, a new session), or only those not yet sent
 * anywhere (only_queued 1: a message queued while the session is up).
 */
void agent_msg_flush(agent *a, const char *peer, const char *device, int only_queued);

/*
 * The messages not yet sent anywhere go, in order, on the sessions up with
 * each of devs (a message queued while sessions are up: every device of
 * the user gets it, not only the first).
 */
void agent_msg_send_new(agent *a, const char *peer, const char (*devs)[IRP_DEVICE_MAX + 1],
                        size_t n_devs);

/* A session with (peer, device) is up: send every message it has not acknowledged, in order. */
void agent_msg_session_up(agent *a, const char *peer, const char *device);

/* A stanza arrived from (peer, device): message, receipt, read marker. */
void agent_msg_stanza(agent *a, const char *peer, const char *device, const sc_stanza *st);

/*
 * Marks incoming messages from peer read up to id (NULL: the newest),
 * emits message.read, and sends a read marker when the setting allows.
 * SC_ERR_ARG: no message id from peer.
 */
SC_MUST_CHECK int agent_msg_mark_read(agent *a, const char *peer, const char *id, int *count);

/* Fails every outbox message whose expiry has passed (message.failed). */
void agent_msg_expire(agent *a);

#endif
