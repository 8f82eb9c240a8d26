/*
 * fuzz_agent_filename.c - a file name offered by a peer, made safe for the
 * downloads directory (agent_xfer_sanitise, docs/AGENT-API.md: the
 * transfer object's name).
 *
 * Oracles: the result is one path component that cannot leave the
 * directory, hide or disguise itself: not empty, at most
 * AGENT_XFER_NAME_KEEP bytes, no '/', '\\', C0 or C1 control or
 * bidirectional control character, no leading dot, space or dash, valid
 * UTF-8 (RFC 3629); and sanitising it again changes nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent_xfer.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) abort();                                                                      \
    } while (0)

/* Length of the UTF-8 character at p (n bytes left), 0 if it is not one
 * (RFC 3629: no overlong form, no surrogate, nothing above U+10FFFF). */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    if (p[0] < 0x80) return 1;
    size_t k = (p[0] & 0xe0) == 0xc0   ? 2
               : (p[0] & 0xf0) == 0xe0 ? 3
               : (p[0] & 0xf8) == 0xf0 ? 4
                                       : 0;
    if (!k || k > n) return 0;
    uint32_t cp = p[0] & (0x7f >> k);
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < least[k] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return k;
}

static void check_safe(const char *name)
{
    size_t n = strlen(name);
    CHECK(n > 0 && n <= AGENT_XFER_NAME_KEEP);
    CHECK(name[0] != '.' && name[0] != ' ' && name[0] != '-');
    const unsigned char *p = (const unsigned char *)name;
    for (size_t i = 0; i < n;) {
        CHECK(p[i] >= 0x20 && p[i] != 0x7f && p[i] != '/' && p[i] != '\\');
        size_t k = utf8_len(p + i, n - i);
        CHECK(k > 0);
        /* No C1 control (C2 80..C2 9F) and no bidirectional control
         * (U+061C, U+200E/F, U+202A..E, U+2066..9). */
        CHECK(!(k == 2 && p[i] == 0xc2 && p[i + 1] <= 0x9f));
        CHECK(!(k == 2 && p[i] == 0xd8 && p[i + 1] == 0x9c));
        if (k == 3 && p[i] == 0xe2 && p[i + 1] == 0x80) {
            CHECK(p[i + 2] != 0x8e && p[i + 2] != 0x8f);
            CHECK(p[i + 2] < 0xaa || p[i + 2] > 0xae);
        }
        CHECK(
            !(k == 3 && p[i] == 0xe2 && p[i + 1] == 0x81 && p[i + 2] >= 0xa6 && p[i + 2] <= 0xa9));
        i += k;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    char *in = malloc(size + 1);
    CHECK(in != NULL);
    memcpy(in, data, size);
    in[size] = '\0';
    char out[AGENT_XFER_NAME_KEEP + 1], again[AGENT_XFER_NAME_KEEP + 1];
    agent_xfer_sanitise(in, out);
    check_safe(out);
    agent_xfer_sanitise(out, again);
    CHECK(strcmp(out, again) == 0);
    free(in);
    return 0;
}
