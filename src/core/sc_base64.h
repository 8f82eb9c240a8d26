/*
 * sc_base64.h - strict standard base64 (RFC 4648 section 4, with padding)
 * as used in XML text and attributes (docs/PROTOCOL.md 3.3).
 *
 * Decoding accepts only the canonical form: alphabet A-Z a-z 0-9 + /, length
 * a multiple of 4, '=' only as final padding, unused bits in the last
 * symbol zero, no whitespace. Anything else is an error.
 */
#ifndef SC_BASE64_H
#define SC_BASE64_H

#include <stddef.h>
#include <stdint.h>
#include "sc_buf.h"

/* Appends the encoding of p[0..n) to out (no NUL). */
void sc_base64_encode(sc_buf *out, const uint8_t *p, size_t n);

/* Exact decoded size of a canonical encoding of length n, or SIZE_MAX if n % 4 != 0. */
size_t sc_base64_decoded_max(size_t n);

/*
 * Decodes s[0..n) into out (capacity outcap). Returns the decoded length,
 * or -1 on any deviation from the canonical form or if it would not fit.
 */
long sc_base64_decode(const char *s, size_t n, uint8_t *out, size_t outcap);

#endif
