/*
 * agent_text.h - text that came from a peer, made safe to show on a
 * terminal, and the one UTF-8 decoder of the agent and its program.
 *
 * XML 1.0 lets a peer's message carry CR, the C1 controls (U+0080..U+009F;
 * U+009B is CSI to many terminals, so "\u009B2J" clears the screen) and the
 * bidirectional controls (U+202E makes "evil\u202Etxt.exe" read as
 * "evilexe.txt"). Whatever shows a peer's string to a person (the CLI's
 * human output, the terminal chat, the downloads directory's names) passes
 * it through here; JSON output needs none of this (JSON escapes it).
 */
#ifndef AGENT_TEXT_H
#define AGENT_TEXT_H

#include <stddef.h>
#include <stdint.h>

/*
 * The valid UTF-8 sequence (RFC 3629) at s[0..len): its length 1..4 with
 * its code point in *cp, or 0 when s does not start one (len 0, a
 * continuation or C0/C1/F5..FF lead byte, a cut sequence, an overlong form,
 * a surrogate or beyond U+10FFFF); then *cp is the first byte.
 */
size_t agent_utf8_next(const char *s, size_t len, uint32_t *cp);

/*
 * 1 for a code point that must not reach a terminal as it is: C0 controls
 * (TAB and LF included; callers that keep lines decide about those), DEL,
 * C1 controls, and the bidirectional controls U+061C, U+200E, U+200F,
 * U+202A..U+202E and U+2066..U+2069.
 */
int agent_text_unsafe_cp(uint32_t cp);

/* Flags of agent_text_display. */
#define AGENT_TEXT_LINES 1u /* message text: LF and TAB stay as they are */

/*
 * A copy of s[0..len) that is safe to print (malloc'd, NUL-terminated;
 * NULL when out of memory): every unsafe code point becomes the visible
 * escape "\uXXXX" (LF and TAB stay with AGENT_TEXT_LINES), every byte that
 * is not valid UTF-8 becomes U+FFFD. Everything else is unchanged.
 */
char *agent_text_display(const char *s, size_t len, unsigned flags);

#endif
