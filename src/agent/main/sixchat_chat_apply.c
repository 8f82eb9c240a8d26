/*
 * sixchat_chat_apply.c - what the agent's events, notifications and
 * answers (docs/AGENT-API.md 4-5) change in the chat's model. Events about
 * other users are counted (for `since`) and otherwise ignored.
 */
#include <string.h>
#include <strings.h>

#include "sixchat_chat.h"

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static uint64_t jts(json_t *o, const char *k)
{
    json_int_t v = json_integer_value(json_object_get(o, k));
    return v > 0 ? (uint64_t)v : 0;
}

/* User IDs compare without case in their domain; the whole ID is compared so here. */
static int is_peer(const chat_model *m, json_t *data, const char *key)
{
    return !strcasecmp(jstr(data, key), m->peer);
}

int chat_apply_event(chat_model *m, json_t *ev, uint64_t now)
{
    uint64_t id = jts(ev, "id");
    if (id > m->last_event) m->last_event = id;
    const char *type = jstr(ev, "type");
    json_t *d = json_object_get(ev, "data");
    if (!json_is_object(d)) return 0;
    if (!strncmp(type, "message.", 8)) {
        if (!is_peer(m, d, "peer")) return 0;
        const char *what = type + 8;
        const char *mid = jstr(d, "id");
        if (!strcmp(what, "queued")) {
            (void)chat_model_upsert(m, mid, CHAT_OUT, jts(d, "ts"), jstr(d, "text"),
                                    CHAT_ST_QUEUED);
        } else if (!strcmp(what, "received")) {
            if (!chat_model_find(m, mid)) m->unread++;
            (void)chat_model_upsert(m, mid, CHAT_IN, jts(d, "ts"), jstr(d, "text"), CHAT_ST_NONE);
            m->typing_until = 0; /* a message ends the typing state (PROTOCOL.md 10.2) */
        } else if (!strcmp(what, "read")) {
            /* dir "out": the peer's read marker; "in" is our own reading. */
            if (!strcmp(jstr(d, "dir"), "out")) chat_model_read_upto(m, mid);
        } else if (!strcmp(what, "failed")) {
            if (chat_model_set_state(m, mid, CHAT_ST_FAILED))
                chat_model_info(m, now, "not delivered: %s", jstr(d, "reason"));
        } else {
            (void)chat_model_set_state(m, mid, chat_state_parse(what));
        }
        return 1;
    }
    if (!strcmp(type, "session.up") && is_peer(m, d, "user")) {
        m->sessions++;
        m->online = 1;
        return 1;
    }
    if (!strcmp(type, "session.down") && is_peer(m, d, "user")) {
        if (m->sessions > 0) m->sessions--;
        if (!m->sessions) m->typing_until = 0; /* the end of the session ends typing */
        return 1;
    }
    if (!strcmp(type, "presence") && is_peer(m, d, "user")) {
        m->online = !strcmp(jstr(d, "presence"), "online");
        if (!m->online) m->typing_until = 0;
        return 1;
    }
    if (!strcmp(type, "peer.offline") && is_peer(m, d, "user")) {
        m->online = 0;
        return 1;
    }
    return 0;
}

void chat_apply_typing(chat_model *m, json_t *params, uint64_t now)
{
    if (!is_peer(m, params, "peer")) return;
    m->typing_until = !strcmp(jstr(params, "state"), "on") ? now + CHAT_TYPING_SHOW_MS : 0;
}

void chat_apply_history(chat_model *m, json_t *result)
{
    json_t *arr = json_object_get(result, "messages");
    if (!json_is_array(arr)) return;
    /* What is there already came from events after the subscription: it
     * stays after the history (upserts keep one line per id). */
    chat_msg *old = m->msgs;
    size_t n_old = m->n;
    m->msgs = NULL;
    m->n = m->cap = 0;
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x)
    {
        int out = !strcmp(jstr(x, "dir"), "out");
        const char *st = jstr(x, "state");
        (void)chat_model_upsert(m, jstr(x, "id"), out ? CHAT_OUT : CHAT_IN, jts(x, "ts"),
                                jstr(x, "text"), out ? chat_state_parse(st) : CHAT_ST_NONE);
        if (!out && !strcmp(st, "received")) m->unread++;
    }
    for (size_t k = 0; k < n_old; k++) {
        chat_msg *o = &old[k];
        chat_msg *y = chat_model_upsert(m, o->id, o->kind, o->ts, o->text, o->state);
        (void)y;
        free(o->text);
    }
    free(old);
}

void chat_apply_lookup(chat_model *m, json_t *result)
{
    const char *p = jstr(result, "presence");
    /* A session we hold says more than the registry. */
    if (!m->sessions && p[0]) m->online = !strcmp(p, "online");
}
