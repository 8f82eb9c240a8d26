/*
 * agent_text.c - a peer's text made safe to show, and the UTF-8 decoder
 * (agent_text.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_text.h"

size_t agent_utf8_next(const char *str, size_t len, uint32_t *cp)
{
    const unsigned char *s = (const unsigned char *)str;
    if (len == 0) {
        *cp = 0;
        return 0;
    }
    *cp = s[0];
    if (s[0] < 0x80) return 1;
    /* Lead bytes per RFC 3629: C0, C1 and F5..FF never start a character. */
    size_t n = s[0] > 0xF4 ? 0 : s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
    if (n == 0 || n > len) return 0;
    uint32_t v = s[0] & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = v << 6 | (s[i] & 0x3F);
    }
    static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < least[n] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return n;
}

int agent_text_unsafe_cp(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x061C || cp == 0x200E ||
           cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

char *agent_text_display(const char *s, size_t len, unsigned flags)
{
    /* Worst case: every byte an escape of 6 ("\u0001") or U+FFFD (3). */
    if (len > (SIZE_MAX - 1) / 6) return NULL;
    char *out = malloc(len * 6 + 1);
    if (!out) return NULL;
    size_t i = 0, k = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = agent_utf8_next(s + i, len - i, &cp);
        if (n == 0) {
            memcpy(out + k, "\xEF\xBF\xBD", 3); /* U+FFFD for the byte */
            k += 3;
            i++;
            continue;
        }
        int keep = (flags & AGENT_TEXT_LINES) && (cp == '\n' || cp == '\t');
        if (agent_text_unsafe_cp(cp) && !keep) {
            k += (size_t)snprintf(out + k, 7, "\\u%04X", (unsigned)cp);
        } else {
            memcpy(out + k, s + i, n);
            k += n;
        }
        i += n;
    }
    out[k] = '\0';
    return out;
}
