/*
 * sc_stanza_codec.h - application stanzas as schemas (docs/PROTOCOL.md 10).
 */
#ifndef SC_STANZA_CODEC_H
#define SC_STANZA_CODEC_H

#include "sixchat/stanza.h"
#include "sc_buf.h"
#include "sc_xml.h"

/*
 * Validates st (the rules of PROTOCOL.md 10.1, as the parser applies them)
 * and appends its XML. SC_ERR_ARG if a field breaks them (nothing appended
 * then), SC_ERR_NOMEM if the buffer failed.
 */
int sc_stanza_write(sc_buf *b, const sc_stanza *st);

/*
 * Parses a stanza; pointers in *st borrow the tree. An unknown root element
 * sets st->type = 0 and returns SC_OK (ignored for forward compatibility);
 * a malformed known stanza is SC_ERR_DECODE_ERROR.
 */
int sc_stanza_parse(const sc_xml_node *root, sc_stanza *st);

/* 1 if s[0..n) is a valid stanza or transfer id. */
int sc_stanza_valid_id(const char *s, size_t n);

/*
 * 1 if s[0..n) is UTF-8 of XML 1.0 characters only (TAB, LF, CR and no
 * other control below 0x20; no surrogate, U+FFFE or U+FFFF): message text
 * and file names, in XML and in the compact form alike (PROTOCOL.md 10.1).
 */
int sc_stanza_valid_text(const char *s, size_t n);

#endif
