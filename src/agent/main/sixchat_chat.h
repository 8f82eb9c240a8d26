/*
 * sixchat_chat.h - `sixchat chat USER`, the interactive terminal chat.
 *
 * Three layers, so that everything but the drawing is tested without a
 * terminal (tests/agent/test_sixchat_chat_model.c):
 *   - the model (sixchat_chat_model.c): the input line (code points,
 *     cursor, editing, history), the scrollback (messages with times and
 *     delivery states), the peer's online and typing state, and how all of
 *     it is laid out in rows of a given width;
 *   - the API glue (sixchat_chat_apply.c): what the agent's events and
 *     answers (docs/AGENT-API.md 4-5) change in the model;
 *   - the terminal (sixchat_chat_view.c, ncursesw) and the command itself
 *     (sixchat_chat.c: the socket and standard input polled together).
 */
#ifndef SIXCHAT_CHAT_H
#define SIXCHAT_CHAT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define CHAT_MAX_MSGS 2000 /* scrollback kept; the oldest leave first */
#define CHAT_HIST_MAX 100  /* input lines remembered for up/down */
#define CHAT_INPUT_MAX                                                                             \
    16000 /* code points in the input line (the text limit in bytes is the agent's) */
#define CHAT_ID_MAX 64

/* Typing notices (docs/PROTOCOL.md 10.2). */
#define CHAT_TYPING_REPEAT_MS 5000 /* repeat "on" at most this often */
#define CHAT_TYPING_IDLE_MS 10000  /* "off" after this long without input */
#define CHAT_TYPING_SHOW_MS 15000  /* the peer's "on" shown this long at most */

/* ---- the input line ---- */

typedef struct chat_input {
    uint32_t *cp; /* code points */
    size_t len, cap;
    size_t cur;    /* cursor: 0..len */
    size_t scroll; /* first code point shown (horizontal scrolling) */
    char *hist[CHAT_HIST_MAX];
    size_t nhist;
    size_t hpos; /* nhist: editing a new line; else the history entry shown */
    char *draft; /* the new line, kept while browsing the history */
} chat_input;

void chat_input_init(chat_input *in);
void chat_input_free(chat_input *in);

/* Editing. Insert refuses control characters and a full line (returns -1). */
int chat_input_insert(chat_input *in, uint32_t cp);
void chat_input_backspace(chat_input *in);
void chat_input_delete(chat_input *in); /* the character under the cursor */
void chat_input_left(chat_input *in);
void chat_input_right(chat_input *in);
void chat_input_home(chat_input *in);
void chat_input_end(chat_input *in);
void chat_input_kill_back(chat_input *in); /* ctrl-u: from the start to the cursor */
void chat_input_kill_fwd(chat_input *in);  /* ctrl-k: from the cursor to the end */
/* Replaces the line with UTF-8 text (cursor at its end). -1 when out of memory. */
int chat_input_set(chat_input *in, const char *utf8);

/* History: up shows the previous line entered, down the next (then the draft). */
void chat_input_hist_up(chat_input *in);
void chat_input_hist_down(chat_input *in);

/*
 * The line as UTF-8 (malloc'd; NULL when out of memory). take also
 * clears the line and remembers it in the history (not when empty, nor
 * when it repeats the last entry).
 */
char *chat_input_text(const chat_input *in);
char *chat_input_take(chat_input *in);

/*
 * What the input line shows in width columns: the UTF-8 text (at most cap
 * bytes with its NUL) from the first visible code point, and the cursor's
 * column. Scrolls so that the cursor stays visible.
 */
void chat_input_view(chat_input *in, int width, char *out, size_t cap, int *cursor_col);

/* ---- the conversation ---- */

typedef enum chat_kind {
    CHAT_OUT = 0, /* ours */
    CHAT_IN = 1,  /* theirs */
    CHAT_INFO = 2 /* the program's own notes (errors, help) */
} chat_kind;

/* Delivery states in their order (a state moves only forward, as in the agent). */
typedef enum chat_state {
    CHAT_ST_NONE = 0, /* in and info lines */
    CHAT_ST_QUEUED,
    CHAT_ST_SENT,
    CHAT_ST_DELIVERED,
    CHAT_ST_READ,
    CHAT_ST_FAILED,
    CHAT_ST_CANCELLED,
} chat_state;

/* The state named as the agent names it ("queued", ...); CHAT_ST_NONE for others. */
chat_state chat_state_parse(const char *s);
const char *chat_state_name(chat_state s);

typedef struct chat_msg {
    char id[CHAT_ID_MAX + 1]; /* "" for info lines */
    chat_kind kind;
    uint64_t ts; /* ms since the epoch */
    char *text;
    chat_state state;
} chat_msg;

typedef struct chat_model {
    char peer[256]; /* the user chatted with */
    char peer_name[64];
    chat_msg *msgs;
    size_t n, cap;
    chat_input in;
    int online;            /* -1 unknown, 0 offline, 1 online */
    int sessions;          /* sessions with the peer we saw come up, less those that went down */
    uint64_t typing_until; /* the peer types until then (0: not typing) */
    int connected;         /* to our own agent */
    size_t scroll;         /* rows scrolled back from the newest (page up/down) */
    int unread;            /* messages received and not yet marked read */
    /* our own typing notices */
    int typing_sent; /* the last notice we sent said "on" */
    uint64_t typing_sent_ms;
    uint64_t last_input_ms;
    uint64_t last_event; /* the newest event id seen: `subscribe since` after a reconnect */
} chat_model;

int chat_model_init(chat_model *m, const char *peer);
void chat_model_free(chat_model *m);

/*
 * Adds the message id or, when it is there already, updates it (text when
 * given, state only forward). id NULL or "": always a new line. Returns the
 * message or NULL when out of memory.
 */
chat_msg *chat_model_upsert(chat_model *m, const char *id, chat_kind kind, uint64_t ts,
                            const char *text, chat_state state);
chat_msg *chat_model_find(chat_model *m, const char *id);
/* Moves message id to state when that is forward; 1 when it changed. */
int chat_model_set_state(chat_model *m, const char *id, chat_state state);
/* A read marker from the peer: our messages up to and including id are read. */
void chat_model_read_upto(chat_model *m, const char *id);
/* A note of the program (formatted like printf). */
void chat_model_info(chat_model *m, uint64_t now, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * The scrollback laid out: each message as "HH:MM name: text [state]",
 * wrapped at spaces to width columns (continuation rows indented), the
 * newest at the bottom, `m->scroll` rows back. Fills at most height rows
 * (out[0] the top one; each malloc'd UTF-8, the caller frees them) and
 * returns how many; with fewer rows than height they are the top ones.
 * m->scroll is clamped to what there is.
 */
size_t chat_model_rows(chat_model *m, int width, int height, char **out);

/* The status line: peer, online state, typing indicator, connection to our agent. */
void chat_model_status(const chat_model *m, uint64_t now, char *out, size_t cap);

/*
 * Our typing notices (PROTOCOL.md 10.2): call after each input change
 * (changed = 1) and now and then (changed = 0). Returns 1 to send "on", 0
 * to send "off", -1 to send nothing; the model remembers what it said.
 */
int chat_typing_tick(chat_model *m, uint64_t now, int changed);
/* The message went: the peer ends the typing state by itself (PROTOCOL.md 10.2). */
void chat_typing_sent_message(chat_model *m);

/* ---- UTF-8 ---- */

/* Decodes up to max code points (invalid bytes become U+FFFD); returns the count. */
size_t chat_utf8_decode(const char *s, size_t len, uint32_t *out, size_t max);
/* Encodes one code point into out (4 bytes room); returns its length. */
size_t chat_utf8_put(uint32_t cp, char *out);
/* Columns a code point takes (wcwidth; 1 when unknown, 0 for combining marks). */
int chat_cp_width(uint32_t cp);

/* ---- sixchat_chat_apply.c: the agent's words into the model ---- */

/* An event (params of the "event" notification); 1 when it concerns the peer. */
int chat_apply_event(chat_model *m, json_t *event, uint64_t now);
/* A "typing" notification's params. */
void chat_apply_typing(chat_model *m, json_t *params, uint64_t now);
/* The result of `history` (messages oldest first), merged before what is there. */
void chat_apply_history(chat_model *m, json_t *result);
/* The result of `lookup`: the registry's presence of the peer. */
void chat_apply_lookup(chat_model *m, json_t *result);

/* ---- sixchat_chat_view.c: the terminal ---- */

typedef enum chat_action {
    CHAT_ACT_NONE = 0,
    CHAT_ACT_EDIT,   /* the input changed */
    CHAT_ACT_SUBMIT, /* enter: the line is to be sent or run */
    CHAT_ACT_QUIT,
} chat_action;

int chat_view_open(void); /* initscr and its settings; -1 when no terminal */
void chat_view_close(void);
void chat_view_draw(chat_model *m, uint64_t now);
/* Reads every key waiting; returns the strongest action they caused. */
chat_action chat_view_keys(chat_model *m);

#endif
