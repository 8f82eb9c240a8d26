/*
 * agent_hex.h - lower-case hex text of bytes, and the agent's random ids
 * (messages, transfers): one writer for every fingerprint and id the agent
 * shows, stores or sends.
 */
#ifndef AGENT_HEX_H
#define AGENT_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "sixchat/error.h"

/* Writes 2 * n lower-case hex digits of p and a NUL to out (2 * n + 1 bytes). */
void agent_hex(const uint8_t *p, size_t n, char *out);

/* A fresh id: 16 random bytes as 32 hex digits. SC_OK or SC_ERR_RANDOM. */
SC_MUST_CHECK int agent_new_id(char out[33]);

#endif
