/*
 * sixchat_chat_input.c - the chat's input line: code points with a
 * cursor, readline-like editing, a history of the lines entered, and the
 * horizontal window shown on the terminal; plus the UTF-8 helpers. No
 * terminal here (tests/agent/test_sixchat_chat_model.c drives it).
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* wcwidth, localtime_r, strdup */
#endif
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "agent_text.h"
#include "sixchat_chat.h"

/* ---- UTF-8 (RFC 3629) ---- */

size_t chat_utf8_put(uint32_t cp, char *o)
{
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t chat_utf8_decode(const char *s, size_t len, uint32_t *out, size_t max)
{
    size_t i = 0, n = 0;
    while (i < len && n < max) {
        uint32_t cp;
        size_t k = agent_utf8_next(s + i, len - i, &cp);
        /* Not UTF-8 (a cut, overlong or surrogate sequence...): one U+FFFD for the byte. */
        out[n++] = k ? cp : 0xFFFD;
        i += k ? k : 1;
    }
    return n;
}

int chat_cp_width(uint32_t cp)
{
    int w = wcwidth((wchar_t)cp);
    return w < 0 ? 1 : w;
}

/* ---- the line ---- */

void chat_input_init(chat_input *in)
{
    memset(in, 0, sizeof(*in));
}

void chat_input_free(chat_input *in)
{
    free(in->cp);
    for (size_t i = 0; i < in->nhist; i++)
        free(in->hist[i]);
    free(in->draft);
    memset(in, 0, sizeof(*in));
}

static int reserve(chat_input *in, size_t n)
{
    if (n <= in->cap) return 0;
    size_t cap = in->cap ? in->cap : 64;
    while (cap < n)
        cap *= 2;
    uint32_t *p = realloc(in->cp, cap * sizeof(*p));
    if (!p) return -1;
    in->cp = p;
    in->cap = cap;
    return 0;
}

int chat_input_insert(chat_input *in, uint32_t cp)
{
    /* Control characters (and bidirectional ones, agent_text.h) have no
     * place in a one-line input (PROTOCOL.md 10.1 refuses most anyway). */
    if (agent_text_unsafe_cp(cp) || cp > 0x10FFFF) return -1;
    if (in->len >= CHAT_INPUT_MAX || reserve(in, in->len + 1)) return -1;
    memmove(in->cp + in->cur + 1, in->cp + in->cur, (in->len - in->cur) * sizeof(*in->cp));
    in->cp[in->cur++] = cp;
    in->len++;
    return 0;
}

void chat_input_backspace(chat_input *in)
{
    if (!in->cur) return;
    memmove(in->cp + in->cur - 1, in->cp + in->cur, (in->len - in->cur) * sizeof(*in->cp));
    in->cur--;
    in->len--;
}

void chat_input_delete(chat_input *in)
{
    if (in->cur == in->len) return;
    memmove(in->cp + in->cur, in->cp + in->cur + 1, (in->len - in->cur - 1) * sizeof(*in->cp));
    in->len--;
}

void chat_input_left(chat_input *in)
{
    if (in->cur) in->cur--;
}

void chat_input_right(chat_input *in)
{
    if (in->cur < in->len) in->cur++;
}

void chat_input_home(chat_input *in)
{
    in->cur = 0;
}

void chat_input_end(chat_input *in)
{
    in->cur = in->len;
}

void chat_input_kill_back(chat_input *in)
{
    memmove(in->cp, in->cp + in->cur, (in->len - in->cur) * sizeof(*in->cp));
    in->len -= in->cur;
    in->cur = 0;
}

void chat_input_kill_fwd(chat_input *in)
{
    in->len = in->cur;
}

int chat_input_set(chat_input *in, const char *utf8)
{
    size_t n = strlen(utf8);
    size_t max = n < CHAT_INPUT_MAX ? n : CHAT_INPUT_MAX;
    if (reserve(in, max ? max : 1)) return -1;
    in->len = chat_utf8_decode(utf8, n, in->cp, max);
    in->cur = in->len;
    in->scroll = 0;
    return 0;
}

char *chat_input_text(const chat_input *in)
{
    char *s = malloc(in->len * 4 + 1);
    if (!s) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < in->len; i++)
        k += chat_utf8_put(in->cp[i], s + k);
    s[k] = '\0';
    return s;
}

/* ---- history ---- */

void chat_input_hist_up(chat_input *in)
{
    if (in->hpos == 0) return;
    if (in->hpos == in->nhist) {
        /* Leaving the new line: keep it for the way back down. */
        free(in->draft);
        in->draft = chat_input_text(in);
        if (!in->draft) return;
    }
    in->hpos--;
    (void)chat_input_set(in, in->hist[in->hpos]);
}

void chat_input_hist_down(chat_input *in)
{
    if (in->hpos >= in->nhist) return;
    in->hpos++;
    if (in->hpos == in->nhist) {
        (void)chat_input_set(in, in->draft ? in->draft : "");
        free(in->draft);
        in->draft = NULL;
    } else {
        (void)chat_input_set(in, in->hist[in->hpos]);
    }
}

char *chat_input_take(chat_input *in)
{
    char *s = chat_input_text(in);
    if (!s) return NULL;
    if (s[0] && (!in->nhist || strcmp(in->hist[in->nhist - 1], s))) {
        char *copy = strdup(s);
        if (copy) {
            if (in->nhist == CHAT_HIST_MAX) {
                free(in->hist[0]);
                memmove(in->hist, in->hist + 1, (CHAT_HIST_MAX - 1) * sizeof(in->hist[0]));
                in->nhist--;
            }
            in->hist[in->nhist++] = copy;
        }
    }
    in->hpos = in->nhist;
    free(in->draft);
    in->draft = NULL;
    in->len = in->cur = in->scroll = 0;
    return s;
}

/* ---- the visible part ---- */

void chat_input_view(chat_input *in, int width, char *out, size_t cap, int *cursor_col)
{
    if (width < 2) width = 2;
    if (in->scroll > in->cur) in->scroll = in->cur;
    /* The cursor needs its own column at the end: keep the columns before it below width. */
    for (;;) {
        int cols = 0;
        for (size_t i = in->scroll; i < in->cur; i++)
            cols += chat_cp_width(in->cp[i]);
        if (cols < width || in->scroll == in->cur) {
            *cursor_col = cols;
            break;
        }
        in->scroll++;
    }
    size_t k = 0;
    int cols = 0;
    for (size_t i = in->scroll; i < in->len; i++) {
        int w = chat_cp_width(in->cp[i]);
        if (cols + w > width || k + 5 > cap) break;
        k += chat_utf8_put(in->cp[i], out + k);
        cols += w;
    }
    if (cap) out[k < cap ? k : cap - 1] = '\0';
}
