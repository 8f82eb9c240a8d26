/*
 * sixchat_chat_model.c - the chat's conversation: messages with their
 * times and delivery states, the peer's online and typing state, our own
 * typing notices, and the layout of it all in rows of a given width. No
 * terminal here (tests/agent/test_sixchat_chat_model.c drives it).
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* wcwidth, localtime_r, strdup */
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent_text.h"
#include "sixchat_chat.h"

static const char *const STATE_NAMES[] = {
    [CHAT_ST_NONE] = "",
    [CHAT_ST_QUEUED] = "queued",
    [CHAT_ST_SENT] = "sent",
    [CHAT_ST_DELIVERED] = "delivered",
    [CHAT_ST_READ] = "read",
    [CHAT_ST_FAILED] = "failed",
    [CHAT_ST_CANCELLED] = "cancelled",
};

chat_state chat_state_parse(const char *s)
{
    if (!s) return CHAT_ST_NONE;
    for (int i = 1; i <= CHAT_ST_CANCELLED; i++)
        if (!strcmp(s, STATE_NAMES[i])) return (chat_state)i;
    return CHAT_ST_NONE;
}

const char *chat_state_name(chat_state s)
{
    return (unsigned)s <= CHAT_ST_CANCELLED ? STATE_NAMES[s] : "";
}

int chat_model_init(chat_model *m, const char *peer)
{
    memset(m, 0, sizeof(*m));
    snprintf(m->peer, sizeof(m->peer), "%s", peer);
    /* The local part names the peer in the scrollback (user@domain). */
    snprintf(m->peer_name, sizeof(m->peer_name), "%.*s", (int)strcspn(peer, "@"), peer);
    m->online = -1;
    chat_input_init(&m->in);
    return 0;
}

void chat_model_free(chat_model *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->msgs[i].text);
    free(m->msgs);
    chat_input_free(&m->in);
    memset(m, 0, sizeof(*m));
}

chat_msg *chat_model_find(chat_model *m, const char *id)
{
    if (!id || !id[0]) return NULL;
    /* Newest first: updates are nearly always about recent messages. */
    for (size_t i = m->n; i-- > 0;)
        if (!strcmp(m->msgs[i].id, id)) return &m->msgs[i];
    return NULL;
}

/* A state moves forward only (as the agent's do): failed/cancelled only from queued/sent. */
static int forward(chat_state from, chat_state to)
{
    if (to == CHAT_ST_NONE || to == from) return 0;
    if (to == CHAT_ST_FAILED || to == CHAT_ST_CANCELLED)
        return from == CHAT_ST_NONE || from == CHAT_ST_QUEUED || from == CHAT_ST_SENT;
    if (from == CHAT_ST_FAILED || from == CHAT_ST_CANCELLED) return 0;
    return to > from;
}

chat_msg *chat_model_upsert(chat_model *m, const char *id, chat_kind kind, uint64_t ts,
                            const char *text, chat_state state)
{
    chat_msg *x = chat_model_find(m, id);
    if (x) {
        if (text && !x->text[0]) {
            char *t = strdup(text);
            if (t) {
                free(x->text);
                x->text = t;
            }
        }
        if (forward(x->state, state)) x->state = state;
        return x;
    }
    if (m->n == CHAT_MAX_MSGS) {
        free(m->msgs[0].text);
        memmove(m->msgs, m->msgs + 1, (m->n - 1) * sizeof(*m->msgs));
        m->n--;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 64;
        chat_msg *p = realloc(m->msgs, cap * sizeof(*p));
        if (!p) return NULL;
        m->msgs = p;
        m->cap = cap;
    }
    char *t = strdup(text ? text : "");
    if (!t) return NULL;
    x = &m->msgs[m->n++];
    memset(x, 0, sizeof(*x));
    snprintf(x->id, sizeof(x->id), "%s", id ? id : "");
    x->kind = kind;
    x->ts = ts;
    x->text = t;
    x->state = state;
    return x;
}

int chat_model_set_state(chat_model *m, const char *id, chat_state state)
{
    chat_msg *x = chat_model_find(m, id);
    if (!x || !forward(x->state, state)) return 0;
    x->state = state;
    return 1;
}

void chat_model_read_upto(chat_model *m, const char *id)
{
    /* A read marker covers id and every message of ours before it (PROTOCOL.md 10.2). */
    chat_msg *x = chat_model_find(m, id);
    if (!x) return;
    for (chat_msg *p = m->msgs; p <= x; p++)
        if (p->kind == CHAT_OUT && forward(p->state, CHAT_ST_READ)) p->state = CHAT_ST_READ;
}

void chat_model_info(chat_model *m, uint64_t now, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    (void)chat_model_upsert(m, NULL, CHAT_INFO, now, buf, CHAT_ST_NONE);
}

/* ---- layout ---- */

/* One message as the text of its rows (before wrapping). */
static char *msg_line(const chat_model *m, const chat_msg *x)
{
    char hm[8] = "--:--";
    time_t t = (time_t)(x->ts / 1000);
    struct tm tm;
    if (x->ts && localtime_r(&t, &tm)) strftime(hm, sizeof(hm), "%H:%M", &tm);
    const char *who = x->kind == CHAT_OUT ? "me" : x->kind == CHAT_IN ? m->peer_name : "*";
    /*
     * The text is the peer's: a C1 control (U+009B is CSI), CR or a
     * bidirectional control would reach the terminal through ncurses as it
     * is (it passes U+0080..U+009F and U+202E on in a UTF-8 locale), so
     * they are shown as escapes (agent_text.h); LF breaks the row in wrap(),
     * TAB becomes a space (ncurses would expand it past the row's width).
     */
    char *text = agent_text_display(x->text, strlen(x->text), AGENT_TEXT_LINES);
    if (!text) return NULL;
    for (char *p = text; (p = strchr(p, '\t')) != NULL;)
        *p = ' ';
    size_t cap = strlen(text) + strlen(who) + 48;
    char *s = malloc(cap);
    if (s && x->kind == CHAT_OUT && x->state != CHAT_ST_NONE)
        snprintf(s, cap, "%s %s: %s [%s]", hm, who, text, chat_state_name(x->state));
    else if (s)
        snprintf(s, cap, "%s %s: %s", hm, who, text);
    free(text);
    return s;
}

#define CHAT_INDENT 6 /* continuation rows start under the text, after "HH:MM " */

/* Appends code points [a, b) of cp to a new malloc'd UTF-8 row, indented by ind. */
static char *row_of(const uint32_t *cp, size_t a, size_t b, int ind)
{
    char *r = malloc((b - a) * 4 + (size_t)ind + 1);
    if (!r) return NULL;
    size_t k = 0;
    for (int i = 0; i < ind; i++)
        r[k++] = ' ';
    for (size_t i = a; i < b; i++)
        k += chat_utf8_put(cp[i], r + k);
    r[k] = '\0';
    return r;
}

/*
 * Wraps one line to width columns: breaks after the last space that fits,
 * or inside a word longer than the row. Newlines in the text break too.
 * Rows go to out (at most max); returns how many there are (even beyond max).
 */
static size_t wrap(const char *text, int width, char **out, size_t max)
{
    size_t len = strlen(text), n = 0;
    uint32_t *cp = malloc((len + 1) * sizeof(*cp));
    if (!cp) return 0;
    size_t ncp = chat_utf8_decode(text, len, cp, len + 1);
    size_t start = 0;
    int first = 1;
    while (start < ncp || first) {
        int ind = first ? 0 : CHAT_INDENT;
        int avail = width - ind > 1 ? width - ind : 1;
        int cols = 0;
        size_t i = start, brk = 0, next;
        int have_brk = 0;
        while (i < ncp && cp[i] != '\n') {
            int w = chat_cp_width(cp[i]);
            if (cols + w > avail) break;
            cols += w;
            if (cp[i] == ' ') {
                brk = i;
                have_brk = 1;
            }
            i++;
        }
        size_t end;
        if (i >= ncp || cp[i] == '\n') {
            end = i;
            next = i < ncp ? i + 1 : i;
        } else if (have_brk && brk > start) {
            end = brk;
            next = brk + 1; /* the space at the break is not shown */
        } else {
            end = i > start ? i : start + 1; /* a character wider than the row still goes */
            next = end;
        }
        if (n < max && !(out[n] = row_of(cp, start, end, ind))) break; /* out of memory */
        n++;
        start = next;
        first = 0;
        if (start >= ncp) break;
    }
    free(cp);
    return n;
}

size_t chat_model_rows(chat_model *m, int width, int height, char **out)
{
    if (height <= 0) return 0;
    if (width < CHAT_INDENT + 2) width = CHAT_INDENT + 2;
    size_t want = (size_t)height + m->scroll;
    /* Collect rows newest first into a ring of `want`, walking messages backwards. */
    char **ring = calloc(want, sizeof(*ring));
    if (!ring) return 0;
    size_t got = 0; /* rows collected, newest first (ring[0] is the bottom row) */
    for (size_t i = m->n; i-- > 0 && got < want;) {
        char *line = msg_line(m, &m->msgs[i]);
        if (!line) break;
        char *tmp[256];
        size_t nr = wrap(line, width, tmp, 256);
        if (nr > 256) nr = 256;
        free(line);
        for (size_t r = nr; r-- > 0;) {
            if (got < want)
                ring[got++] = tmp[r];
            else
                free(tmp[r]);
        }
    }
    /* Scrolled back further than there is: stop at the oldest row. */
    if (got < want) m->scroll = got > (size_t)height ? got - (size_t)height : 0;
    size_t skip = m->scroll; /* the newest rows below the window */
    size_t n = 0;
    for (size_t r = got; r-- > skip && n < (size_t)height;)
        out[n++] = ring[r], ring[r] = NULL;
    for (size_t r = 0; r < got; r++)
        free(ring[r]);
    free(ring);
    return n;
}

void chat_model_status(const chat_model *m, uint64_t now, char *out, size_t cap)
{
    const char *on = m->online > 0 ? "online" : m->online == 0 ? "offline" : "presence unknown";
    int typing = m->typing_until && now < m->typing_until;
    snprintf(out, cap, " %s - %s%s%s%s", m->peer, on, typing ? " - " : "",
             typing ? m->peer_name : "", typing ? " is typing..." : "");
    if (!m->connected) {
        size_t k = strlen(out);
        snprintf(out + k, cap - k, " - not connected to the agent (retrying)");
    }
    if (m->scroll) {
        size_t k = strlen(out);
        snprintf(out + k, cap - k, " - scrolled back (PgDn)");
    }
}

/* ---- our typing notices (PROTOCOL.md 10.2) ---- */

int chat_typing_tick(chat_model *m, uint64_t now, int changed)
{
    if (changed) m->last_input_ms = now;
    int composing = m->in.len > 0 && now - m->last_input_ms < CHAT_TYPING_IDLE_MS;
    /* A line recalled and sent unchanged is not composing; only input counts. */
    if (composing && changed) {
        if (!m->typing_sent || now - m->typing_sent_ms >= CHAT_TYPING_REPEAT_MS) {
            m->typing_sent = 1;
            m->typing_sent_ms = now;
            return 1;
        }
        return -1;
    }
    if (!composing && m->typing_sent) {
        m->typing_sent = 0;
        m->typing_sent_ms = now;
        return 0;
    }
    return -1;
}

void chat_typing_sent_message(chat_model *m)
{
    m->typing_sent = 0;
}
