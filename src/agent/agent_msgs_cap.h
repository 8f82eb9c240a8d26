/*
 * agent_msgs_cap.h - how much the agent keeps from strangers (issue 8,
 * "Limits"; docs/AGENT-API.md, settings unknown_sender_kb and
 * unknown_total_kb). Anyone with a valid certificate may write to us
 * (unless contacts_only), so what is stored from users who are not
 * contacts is bounded: the unread text from each such sender, and from
 * all of them together. A message beyond either bound is refused with
 * msg-reject (docs/PROTOCOL.md 10.2) and not stored.
 */
#ifndef AGENT_MSGS_CAP_H
#define AGENT_MSGS_CAP_H

#include <stddef.h>

#include "agent_ctx.h"

/*
 * Whether a new message of len bytes from peer may be stored: 0 yes (a
 * contact, or within both bounds), 1 no (why says so, for the sender:
 * one line), or SC_ERR_IO when the store cannot tell (then nothing is
 * stored and no answer sent, so that the sender tries again later).
 */
int agent_msg_cap_check(agent *a, const char *peer, size_t len, char *why, size_t cap);

#endif
