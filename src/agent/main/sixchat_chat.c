/*
 * sixchat_chat.c - `sixchat chat USER`: the terminal chat as a client of
 * the running agent (docs/AGENT-API.md): subscribe to events (again with
 * `since` after the agent went away and came back), the history,
 * `send`, `typing` and `read`, and `send-file` for /file. One poll() over
 * standard input and the agent's socket: a slow agent never freezes the
 * keyboard, and the answers are matched to their requests by id.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sixchat_chat.h"
#include "sixchat_cli.h"

const char sx_help_chat[] =
    "NAME\n    sixchat chat - talk with a user in the terminal\n\n"
    "SYNOPSIS\n    sixchat chat [--history N] USER\n\n"
    "DESCRIPTION\n"
    "    A full-screen chat with USER through the running agent: the conversation\n"
    "    with times and the delivery state of each message of yours (queued, sent,\n"
    "    delivered, read, failed), a status line with USER's online state and a\n"
    "    typing indicator, and an input line. Enter sends the line. Messages shown\n"
    "    are marked read (the agent sends read markers unless the read_markers\n"
    "    setting is off); typing notices go while you type and are never queued.\n"
    "    When the agent goes away the chat waits for it and catches up on every\n"
    "    event it missed.\n\n"
    "KEYS\n"
    "    Left, Right, Home/ctrl-a, End/ctrl-e  move; Backspace, Delete  erase;\n"
    "    ctrl-u  erase to the start; ctrl-k  erase to the end; Up, Down  lines\n"
    "    entered before; PgUp, PgDn  scroll; ctrl-l  redraw; ctrl-d on an empty\n"
    "    line  quit.\n\n"
    "COMMANDS\n"
    "    /file PATH  offer a file to USER (sixchat send-file)\n"
    "    /quit       leave (also ctrl-d, ctrl-c)\n"
    "    /help       these commands\n\n"
    "OPTIONS\n"
    "    --history N  messages of the history shown at start (default 200)\n"
    "    --help       this page\n\n"
    "EXIT STATUS\n"
    "    0  left with /quit\n"
    "    1  no terminal, or the agent refused\n"
    "    2  usage error\n"
    "    3  the agent is not running (start it with `sixchat up`)\n";

#define RECONNECT_MS 1000
#define MAX_PENDING 64

/* What a request was for: its answer is handled accordingly. */
typedef enum req_kind {
    REQ_OTHER = 0,
    REQ_SUBSCRIBE,
    REQ_HISTORY,
    REQ_LOOKUP,
    REQ_SEND,
    REQ_FILE,
} req_kind;

typedef struct chat {
    sx_ctx *x;
    chat_model m;
    sx_client c; /* fd -1 while not connected */
    struct {
        long id;
        req_kind kind;
    } pending[MAX_PENDING];
    unsigned history;
    uint64_t retry_at;
    int have_history;
} chat;

static volatile sig_atomic_t quit_signal;

static void on_quit_signal(int s)
{
    (void)s;
    quit_signal = 1;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void disconnect(chat *ch)
{
    if (ch->c.fd >= 0) sx_close(&ch->c);
    ch->c.fd = -1;
    ch->m.connected = 0;
    ch->m.sessions = 0; /* unknown until the events say again */
    memset(ch->pending, 0, sizeof(ch->pending));
    ch->retry_at = now_ms() + RECONNECT_MS;
}

/* Sends a request; its answer comes through the poll loop. */
static void request(chat *ch, const char *method, json_t *params, req_kind kind)
{
    if (ch->c.fd < 0) {
        json_decref(params);
        if (kind == REQ_SEND || kind == REQ_FILE)
            chat_model_info(&ch->m, now_ms(), "not connected to the agent: try again shortly");
        return;
    }
    long id = sx_send(&ch->c, method, params);
    if (id < 0) {
        disconnect(ch);
        return;
    }
    for (int i = 0; i < MAX_PENDING; i++)
        if (!ch->pending[i].id) {
            ch->pending[i].id = id;
            ch->pending[i].kind = kind;
            break;
        }
}

static void mark_read(chat *ch)
{
    if (!ch->m.unread || ch->c.fd < 0) return;
    ch->m.unread = 0;
    request(ch, "read", json_pack("{s:s}", "peer", ch->m.peer), REQ_OTHER);
}

/* Connects quietly (the first connection reports "not running" itself). */
static int connect_agent(chat *ch)
{
    int saved = dup(STDERR_FILENO);
    FILE *null = fopen("/dev/null", "w");
    /* sx_connect prints why it failed; inside the chat screen that would
     * scribble over it, so its stderr goes nowhere while it retries. */
    if (null && saved >= 0) dup2(fileno(null), STDERR_FILENO);
    int rc = sx_connect(&ch->c, ch->x->paths.sock);
    if (null && saved >= 0) dup2(saved, STDERR_FILENO);
    if (saved >= 0) close(saved);
    if (null) fclose(null);
    if (rc) {
        ch->c.fd = -1;
        return rc;
    }
    ch->m.connected = 1;
    /* Subscribe first: every event after it arrives, and the history asked
     * next covers what came before; the model keeps one line per id. */
    json_t *sp = json_object();
    if (ch->m.last_event)
        json_object_set_new(sp, "since", json_integer((json_int_t)ch->m.last_event));
    request(ch, "subscribe", sp, REQ_SUBSCRIBE);
    if (!ch->have_history)
        request(ch, "history",
                json_pack("{s:s,s:I}", "peer", ch->m.peer, "limit", (json_int_t)ch->history),
                REQ_HISTORY);
    request(ch, "lookup", json_pack("{s:s}", "user", ch->m.peer), REQ_LOOKUP);
    return 0;
}

static void answer(chat *ch, json_t *j)
{
    long id = (long)json_integer_value(json_object_get(j, "id"));
    req_kind kind = REQ_OTHER;
    for (int i = 0; i < MAX_PENDING; i++)
        if (ch->pending[i].id == id) {
            kind = ch->pending[i].kind;
            ch->pending[i].id = 0;
            break;
        }
    json_t *err = json_object_get(j, "error");
    json_t *res = json_object_get(j, "result");
    uint64_t now = now_ms();
    const char *msg = json_string_value(json_object_get(err, "message"));
    int code = (int)json_integer_value(json_object_get(err, "code"));
    switch (kind) {
    case REQ_SUBSCRIBE:
        if (!err) {
            json_int_t last = json_integer_value(json_object_get(res, "last"));
            if (!ch->m.last_event && last > 0) ch->m.last_event = (uint64_t)last;
            if (json_is_true(json_object_get(res, "gap")))
                chat_model_info(&ch->m, now, "some events were missed: reopen the chat to see all");
        }
        break;
    case REQ_HISTORY:
        if (!err) {
            chat_apply_history(&ch->m, res);
            ch->have_history = 1;
            mark_read(ch);
        }
        break;
    case REQ_LOOKUP:
        if (!err) chat_apply_lookup(&ch->m, res);
        break;
    case REQ_SEND:
        if (err)
            chat_model_info(&ch->m, now, "not sent: %s", msg ? msg : "the agent refused");
        else if (json_object_get(res, "held"))
            chat_model_info(&ch->m, now, "%s", json_string_value(json_object_get(res, "held")));
        break;
    case REQ_FILE:
        if (err && code == -32601)
            chat_model_info(&ch->m, now, "file transfer is not available in this agent");
        else if (err)
            chat_model_info(&ch->m, now, "file not sent: %s", msg ? msg : "the agent refused");
        else
            chat_model_info(&ch->m, now, "file offered (sixchat transfers shows its progress)");
        break;
    default:
        break;
    }
}

/* One object from the agent: an answer, an event or a notification. */
static void incoming(chat *ch, json_t *j)
{
    const char *method = json_string_value(json_object_get(j, "method"));
    json_t *params = json_object_get(j, "params");
    uint64_t now = now_ms();
    if (!method) {
        answer(ch, j);
        return;
    }
    if (!strcmp(method, "event")) {
        if (chat_apply_event(&ch->m, params, now)) mark_read(ch);
    } else if (!strcmp(method, "typing")) {
        chat_apply_typing(&ch->m, params, now);
    }
}

/* Reads what the socket has (it is readable) and handles every whole line. */
static void read_agent(chat *ch)
{
    sx_client *c = &ch->c;
    if (c->cap - c->len < 65536) {
        size_t cap = c->cap ? 2 * c->cap : 65536;
        char *p = cap <= 8u * 1024 * 1024 ? realloc(c->buf, cap) : NULL;
        if (!p) {
            disconnect(ch); /* a line beyond any the agent sends */
            return;
        }
        c->buf = p;
        c->cap = cap;
    }
    ssize_t k = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
    if (k < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (k <= 0) {
        chat_model_info(&ch->m, now_ms(), "the agent went away; waiting for it");
        disconnect(ch);
        return;
    }
    c->len += (size_t)k;
    char *nl;
    while (ch->c.fd >= 0 && (nl = memchr(c->buf, '\n', c->len))) {
        size_t n = (size_t)(nl - c->buf);
        json_t *j = json_loadb(c->buf, n, 0, NULL);
        memmove(c->buf, nl + 1, c->len - n - 1);
        c->len -= n + 1;
        if (j) incoming(ch, j);
        json_decref(j);
    }
}

static void typing_notice(chat *ch, int changed)
{
    int t = chat_typing_tick(&ch->m, now_ms(), changed);
    if (t >= 0 && ch->c.fd >= 0)
        request(ch, "typing", json_pack("{s:s,s:s}", "peer", ch->m.peer, "state", t ? "on" : "off"),
                REQ_OTHER);
}

/* Enter: a command, or a message. Returns 1 to quit. */
static int submit(chat *ch)
{
    char *line = chat_input_take(&ch->m.in);
    uint64_t now = now_ms();
    int quit = 0;
    if (!line) return 0;
    if (!strcmp(line, "/quit") || !strcmp(line, "/q")) {
        quit = 1;
    } else if (!strcmp(line, "/help")) {
        chat_model_info(&ch->m, now, "/file PATH offers a file; /quit leaves; PgUp/PgDn scroll");
    } else if (!strncmp(line, "/file", 5) && (line[5] == ' ' || !line[5])) {
        const char *p = line + 5 + strspn(line + 5, " ");
        char abs[PATH_MAX];
        if (!*p)
            chat_model_info(&ch->m, now, "usage: /file PATH");
        else if (!realpath(p, abs))
            chat_model_info(&ch->m, now, "%s: %s", p, strerror(errno));
        else
            request(ch, "send-file", json_pack("{s:s,s:s}", "to", ch->m.peer, "path", abs),
                    REQ_FILE);
    } else if (line[0] == '/' && line[1] != '/') {
        chat_model_info(&ch->m, now, "unknown command %s (/help lists them; // sends a /)", line);
    } else if (line[strspn(line, " \t")]) {
        const char *text = line[0] == '/' ? line + 1 : line;
        request(ch, "send", json_pack("{s:s,s:s}", "to", ch->m.peer, "text", text), REQ_SEND);
        chat_typing_sent_message(&ch->m);
        ch->m.scroll = 0;
    }
    if (!quit) typing_notice(ch, 1);
    free(line);
    return quit;
}

static int loop(chat *ch)
{
    for (;;) {
        uint64_t now = now_ms();
        if (quit_signal) return 0;
        if (ch->c.fd < 0 && now >= ch->retry_at && connect_agent(ch))
            ch->retry_at = now + RECONNECT_MS;
        typing_notice(ch, 0);
        chat_view_draw(&ch->m, now);
        struct pollfd p[2] = {{.fd = STDIN_FILENO, .events = POLLIN},
                              {.fd = ch->c.fd, .events = POLLIN}};
        /* Wakes at least each second: the typing indicator's expiry, the
         * idle "off", reconnecting. Nothing waits on this timeout. */
        int r = poll(p, ch->c.fd >= 0 ? 2 : 1, 1000);
        if (r < 0 && errno != EINTR) return 1;
        /* Keys (and KEY_RESIZE after a SIGWINCH, which interrupts poll). */
        for (;;) {
            chat_action a = chat_view_keys(&ch->m);
            if (a == CHAT_ACT_NONE) break;
            if (a == CHAT_ACT_QUIT) return 0;
            if (a == CHAT_ACT_SUBMIT && submit(ch)) return 0;
            if (a == CHAT_ACT_EDIT) typing_notice(ch, 1);
        }
        if (r > 0 && ch->c.fd >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) read_agent(ch);
        if (r > 0 && (p[0].revents & (POLLHUP | POLLERR))) return 0; /* the terminal went away */
    }
}

int sx_cmd_chat(sx_ctx *x, int argc, char **argv)
{
    const char *pos[1], *hist = NULL;
    int n;
    sx_opt opts[] = {{"--history", 1, &hist, NULL}};
    int rc = sx_parse(x, "chat", argc, argv, opts, 1, pos, 1, &n);
    if (rc >= 0) return rc;
    if (n != 1 || !strchr(pos[0], '@'))
        return sx_usage("chat", "give the user to chat with (user@domain)");
    chat ch;
    memset(&ch, 0, sizeof(ch));
    ch.x = x;
    ch.history = 200;
    if (hist) {
        char *end;
        unsigned long v = strtoul(hist, &end, 10);
        if (*end || end == hist || v > 100000) return sx_usage("chat", "--history: a number");
        ch.history = (unsigned)v;
    }
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr, "sixchat: chat needs a terminal (use `send` and `events` in scripts)\n");
        return SX_EXIT_FAIL;
    }
    chat_model_init(&ch.m, pos[0]);
    /* Not running at the start: say so in one line, as every command does. */
    if ((rc = sx_connect(&ch.c, x->paths.sock))) {
        chat_model_free(&ch.m);
        return rc;
    }
    sx_close(&ch.c);
    ch.c.fd = -1;
    setlocale(LC_ALL, "");
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_quit_signal; /* no SA_RESTART: poll returns, the loop ends */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (connect_agent(&ch)) ch.retry_at = now_ms() + RECONNECT_MS;
    if (chat_view_open()) {
        fprintf(stderr, "sixchat: cannot use this terminal\n");
        disconnect(&ch);
        chat_model_free(&ch.m);
        return SX_EXIT_FAIL;
    }
    rc = loop(&ch);
    if (ch.m.typing_sent && ch.c.fd >= 0)
        (void)sx_send(&ch.c, "typing", json_pack("{s:s,s:s}", "peer", ch.m.peer, "state", "off"));
    chat_view_close();
    if (ch.c.fd >= 0) sx_close(&ch.c);
    chat_model_free(&ch.m);
    return rc ? SX_EXIT_FAIL : SX_EXIT_OK;
}
