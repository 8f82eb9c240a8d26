/*
 * sc_compact.h - the compact message, inner type 0x06 (docs/PROTOCOL.md
 * 5.3, 10.4): a chat message or a receipt as a few binary fields instead of
 * an XML stanza. The application sees the same sc_stanza either way.
 */
#ifndef SC_COMPACT_H
#define SC_COMPACT_H

#include "sixchat/stanza.h"
#include "sc_buf.h"

/* The kind byte (PROTOCOL.md 10.4). */
enum { SC_COMPACT_MSG = 1, SC_COMPACT_RECEIPT = 2 };

/* Fixed part: kind, idlen, ts; the id and the text follow (10.4). */
#define SC_COMPACT_FIXED 10

/* 1 if st is a type the compact form carries (msg, receipt). */
int sc_compact_carries(const sc_stanza *st);

/* Exact content length of st in compact form (st must be carried). */
size_t sc_compact_len(const sc_stanza *st);

/*
 * Validates st (the rules of PROTOCOL.md 10.1, the same as for the XML
 * stanza) and appends its compact content. SC_ERR_ARG if a field breaks
 * them (nothing appended then), SC_ERR_NOMEM if the buffer failed.
 */
int sc_compact_write(sc_buf *b, const sc_stanza *st);

/*
 * Parses compact content p[0..len). On success st describes it: its id is
 * copied, NUL-terminated, into id; its text borrows p. An unknown kind sets
 * st->type = 0 and returns SC_OK (ignored, 10.4); anything malformed is
 * SC_ERR_DECODE_ERROR.
 */
int sc_compact_parse(const uint8_t *p, size_t len, char id[SC_STANZA_ID_MAX + 1], sc_stanza *st);

#endif
