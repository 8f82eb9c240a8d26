/*
 * test_agent_store.c - the agent's SQLite store on a real file: settings,
 * contacts, messages and their states, receiver dedupe, the outbox per
 * device, expiry, FTS5 search, numbered events with a bounded window, and
 * that what a call wrote is there after closing and reopening.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent_events.h"
#include "agent_paths.h"
#include "agent_store.h"

typedef struct fixture {
    char dir[64];
    char path[128];
    agent_store *st;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/agent-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/sixchat.db", f->dir);
    assert_int_equal(agent_store_open(f->path, &f->st), SC_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    agent_store_close(f->st);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void reopen(fixture *f)
{
    agent_store_close(f->st);
    assert_int_equal(agent_store_open(f->path, &f->st), SC_OK);
}

/* Collects message rows: ids joined by ',' and the last row's fields. */
typedef struct rows {
    char ids[1024];
    int n;
    agent_msg last;
    char last_text[256];
    char last_reason[128];
    int64_t seqs[64];
} rows;

static void collect(void *ctx, const agent_msg *m)
{
    rows *r = ctx;
    if (r->n) strcat(r->ids, ",");
    strcat(r->ids, m->id);
    if (r->n < 64) r->seqs[r->n] = m->seq;
    r->n++;
    r->last = *m;
    snprintf(r->last_text, sizeof(r->last_text), "%.*s", (int)m->text_len, m->text);
    snprintf(r->last_reason, sizeof(r->last_reason), "%s", m->reason);
}

static void test_file_mode_and_settings(void **state)
{
    fixture *f = *state;
    struct stat sb;
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);

    char buf[64];
    int found = 1;
    assert_int_equal(agent_store_get(f->st, "user", buf, sizeof(buf), &found), SC_OK);
    assert_int_equal(found, 0);
    assert_int_equal(agent_store_set(f->st, "user", "alice@example.org"), SC_OK);
    assert_int_equal(agent_store_set(f->st, "user", "alice@example.net"), SC_OK);
    reopen(f);
    assert_int_equal(agent_store_get(f->st, "user", buf, sizeof(buf), &found), SC_OK);
    assert_int_equal(found, 1);
    assert_string_equal(buf, "alice@example.net");
    char tiny[4];
    assert_int_equal(agent_store_get(f->st, "user", tiny, sizeof(tiny), &found), SC_ERR_TOO_LARGE);
}

static void count_contact(void *ctx, const agent_contact *c)
{
    (*(int *)ctx)++;
}

static void test_contacts(void **state)
{
    fixture *f = *state;
    agent_contact c, g;
    int found, removed, n = 0;
    memset(&c, 0, sizeof(c));
    snprintf(c.user, sizeof(c.user), "bob@example.org");
    snprintf(c.display, sizeof(c.display), "Bob");
    memset(c.fp, 0xab, 32);
    c.has_fp = 1;
    c.blocked = 1;
    snprintf(c.last_addr, sizeof(c.last_addr), "[::1]:4605");
    c.added_ms = 42;
    assert_int_equal(agent_store_contact_put(f->st, &c), SC_OK);
    reopen(f);
    /* User IDs compare without case (the domain part is case-insensitive). */
    assert_int_equal(agent_store_contact_get(f->st, "BOB@example.org", &g, &found), SC_OK);
    assert_int_equal(found, 1);
    assert_string_equal(g.display, "Bob");
    assert_int_equal(g.has_fp, 1);
    assert_memory_equal(g.fp, c.fp, 32);
    assert_int_equal(g.has_new_fp, 0);
    assert_int_equal(g.blocked, 1);
    assert_int_equal(g.verified, 0);
    assert_string_equal(g.last_addr, "[::1]:4605");
    assert_int_equal(g.added_ms, 42);

    g.blocked = 0;
    memset(g.new_fp, 0xcd, 32);
    g.has_new_fp = 1;
    assert_int_equal(agent_store_contact_put(f->st, &g), SC_OK);
    assert_int_equal(agent_store_contact_get(f->st, "bob@example.org", &c, &found), SC_OK);
    assert_int_equal(c.blocked, 0);
    assert_int_equal(c.has_new_fp, 1);

    memset(&c, 0, sizeof(c));
    snprintf(c.user, sizeof(c.user), "carol@example.org");
    assert_int_equal(agent_store_contact_put(f->st, &c), SC_OK);
    assert_int_equal(agent_store_contact_list(f->st, count_contact, &n), SC_OK);
    assert_int_equal(n, 2);
    assert_int_equal(agent_store_contact_remove(f->st, "carol@example.org", &removed), SC_OK);
    assert_int_equal(removed, 1);
    assert_int_equal(agent_store_contact_remove(f->st, "carol@example.org", &removed), SC_OK);
    assert_int_equal(removed, 0);
    assert_int_equal(agent_store_contact_get(f->st, "carol@example.org", &c, &found), SC_OK);
    assert_int_equal(found, 0);
}

static void test_outbox_durable_and_per_device(void **state)
{
    fixture *f = *state;
    int64_t s1, s2, s3;
    assert_int_equal(
        agent_store_msg_queue(f->st, "bob@example.org", "m1", "one", 3, 1000, 5000, &s1), SC_OK);
    assert_int_equal(
        agent_store_msg_queue(f->st, "bob@example.org", "m2", "two", 3, 1001, 5001, &s2), SC_OK);
    assert_int_equal(
        agent_store_msg_queue(f->st, "carol@example.org", "m3", "three", 5, 1002, 9000, &s3),
        SC_OK);
    assert_true(s1 < s2 && s2 < s3);
    /* Our ids are unique: queueing one twice is refused, nothing changes. */
    int64_t sx;
    assert_int_equal(agent_store_msg_queue(f->st, "bob@example.org", "m1", "x", 1, 1003, 5000, &sx),
                     SC_ERR_ARG);
    reopen(f); /* durable once the call returned */

    uint64_t n;
    assert_int_equal(agent_store_outbox_count(f->st, &n), SC_OK);
    assert_int_equal(n, 3);
    rows r = {0};
    assert_int_equal(agent_store_outbox_list(f->st, "bob@example.org", collect, &r), SC_OK);
    assert_string_equal(r.ids, "m1,m2");
    assert_int_equal(r.last.state, AGENT_MSG_QUEUED);

    /* Device d1 acknowledges m1: d1 still needs m2, d2 needs both. */
    assert_int_equal(agent_store_outbox_receipt(f->st, s1, "d1", 2000), SC_OK);
    assert_int_equal(agent_store_outbox_receipt(f->st, s1, "d1", 2001), SC_OK); /* repeat: no-op */
    memset(&r, 0, sizeof(r));
    assert_int_equal(agent_store_outbox_pending(f->st, "bob@example.org", "d1", collect, &r),
                     SC_OK);
    assert_string_equal(r.ids, "m2");
    memset(&r, 0, sizeof(r));
    assert_int_equal(agent_store_outbox_pending(f->st, "bob@example.org", "d2", collect, &r),
                     SC_OK);
    assert_string_equal(r.ids, "m1,m2");
    int has;
    assert_int_equal(agent_store_outbox_has_receipt(f->st, s1, "d1", &has), SC_OK);
    assert_int_equal(has, 1);
    assert_int_equal(agent_store_outbox_has_receipt(f->st, s1, "d2", &has), SC_OK);
    assert_int_equal(has, 0);

    assert_int_equal(agent_store_outbox_remove(f->st, s1), SC_OK);
    memset(&r, 0, sizeof(r));
    assert_int_equal(agent_store_outbox_pending(f->st, "bob@example.org", "d2", collect, &r),
                     SC_OK);
    assert_string_equal(r.ids, "m2");

    /* Expiry: m2 (5001) is due at 6000, m3 (9000) is not. */
    memset(&r, 0, sizeof(r));
    assert_int_equal(agent_store_outbox_expired(f->st, 6000, collect, &r), SC_OK);
    assert_string_equal(r.ids, "m2");
}

static void test_states_forward_only(void **state)
{
    fixture *f = *state;
    int64_t s;
    int ch, found;
    rows r = {0};
    assert_int_equal(agent_store_msg_queue(f->st, "bob@example.org", "m1", "hi", 2, 1000, 9000, &s),
                     SC_OK);
    assert_int_equal(agent_store_msg_set_state(f->st, s, AGENT_MSG_SENT, 1100, NULL, &ch), SC_OK);
    assert_int_equal(ch, 1);
    assert_int_equal(agent_store_msg_set_state(f->st, s, AGENT_MSG_DELIVERED, 1200, NULL, &ch),
                     SC_OK);
    assert_int_equal(ch, 1);
    assert_int_equal(agent_store_msg_set_state(f->st, s, AGENT_MSG_READ, 1300, NULL, &ch), SC_OK);
    assert_int_equal(ch, 1);
    /* A late receipt does not move read back to delivered, nor can it fail now. */
    assert_int_equal(agent_store_msg_set_state(f->st, s, AGENT_MSG_DELIVERED, 1400, NULL, &ch),
                     SC_OK);
    assert_int_equal(ch, 0);
    assert_int_equal(agent_store_msg_set_state(f->st, s, AGENT_MSG_FAILED, 1400, "x", &ch), SC_OK);
    assert_int_equal(ch, 0);
    assert_int_equal(
        agent_store_msg_get(f->st, "bob@example.org", AGENT_DIR_OUT, "m1", collect, &r, &found),
        SC_OK);
    assert_int_equal(found, 1);
    assert_int_equal(r.last.state, AGENT_MSG_READ);
    assert_int_equal(r.last.delivered_ms, 1200);
    assert_int_equal(r.last.read_ms, 1300);
    assert_string_equal(agent_msg_state_name(r.last.state), "read");

    int64_t s2;
    assert_int_equal(
        agent_store_msg_queue(f->st, "bob@example.org", "m2", "yo", 2, 1000, 9000, &s2), SC_OK);
    assert_int_equal(
        agent_store_msg_set_state(f->st, s2, AGENT_MSG_FAILED, 1500, "expired after 30 days", &ch),
        SC_OK);
    assert_int_equal(ch, 1);
    memset(&r, 0, sizeof(r));
    assert_int_equal(
        agent_store_msg_get(f->st, "bob@example.org", AGENT_DIR_OUT, "m2", collect, &r, &found),
        SC_OK);
    assert_int_equal(r.last.state, AGENT_MSG_FAILED);
    assert_string_equal(r.last_reason, "expired after 30 days");
    assert_int_equal(agent_store_msg_set_state(f->st, s2, AGENT_MSG_SENT, 1600, NULL, &ch), SC_OK);
    assert_int_equal(ch, 0);
}

static void test_read_markers(void **state)
{
    fixture *f = *state;
    int64_t s[4];
    int ch, count, found, dup;
    char id[8];
    for (int i = 0; i < 4; i++) {
        snprintf(id, sizeof(id), "o%d", i);
        assert_int_equal(agent_store_msg_queue(f->st, "bob@example.org", id, "x", 1, 10, 99, &s[i]),
                         SC_OK);
    }
    assert_int_equal(agent_store_msg_set_state(f->st, s[0], AGENT_MSG_DELIVERED, 20, NULL, &ch),
                     SC_OK);
    assert_int_equal(agent_store_msg_set_state(f->st, s[1], AGENT_MSG_SENT, 20, NULL, &ch), SC_OK);
    assert_int_equal(agent_store_msg_set_state(f->st, s[3], AGENT_MSG_CANCELLED, 20, "c", &ch),
                     SC_OK);
    /* The marker names o3: o0..o2 become read (o2 was queued: the marker implies
     * delivery), the cancelled o3 stays cancelled. */
    assert_int_equal(agent_store_msg_read_upto(f->st, "bob@example.org", AGENT_DIR_OUT, "o3", 30,
                                               &count, &found),
                     SC_OK);
    assert_int_equal(found, 1);
    assert_int_equal(count, 3);
    rows r = {0};
    assert_int_equal(agent_store_history(f->st, "bob@example.org", NULL, 0, collect, &r), SC_OK);
    assert_int_equal(r.last.state, AGENT_MSG_CANCELLED);
    memset(&r, 0, sizeof(r));
    assert_int_equal(
        agent_store_msg_get(f->st, "bob@example.org", AGENT_DIR_OUT, "o2", collect, &r, &found),
        SC_OK);
    assert_int_equal(r.last.state, AGENT_MSG_READ);
    assert_int_equal(r.last.delivered_ms, 30);
    assert_int_equal(r.last.read_ms, 30);
    /* Again: nothing changes. An unknown id: not found. */
    assert_int_equal(agent_store_msg_read_upto(f->st, "bob@example.org", AGENT_DIR_OUT, "o3", 40,
                                               &count, &found),
                     SC_OK);
    assert_int_equal(count, 0);
    assert_int_equal(agent_store_msg_read_upto(f->st, "bob@example.org", AGENT_DIR_OUT, "zz", 40,
                                               &count, &found),
                     SC_OK);
    assert_int_equal(found, 0);
    /* Incoming: the newest id, and received -> read for that peer only. */
    int64_t q;
    assert_int_equal(
        agent_store_msg_receive(f->st, "bob@example.org", "i1", "a", 1, 1, 2, &q, &dup), SC_OK);
    assert_int_equal(
        agent_store_msg_receive(f->st, "bob@example.org", "i2", "b", 1, 1, 3, &q, &dup), SC_OK);
    assert_int_equal(
        agent_store_msg_receive(f->st, "eve@example.org", "i3", "c", 1, 1, 4, &q, &dup), SC_OK);
    char last[AGENT_MSGID_MAX + 1];
    assert_int_equal(
        agent_store_msg_last_id(f->st, "bob@example.org", AGENT_DIR_IN, last, sizeof(last), &found),
        SC_OK);
    assert_int_equal(found, 1);
    assert_string_equal(last, "i2");
    assert_int_equal(
        agent_store_msg_read_upto(f->st, "bob@example.org", AGENT_DIR_IN, "i2", 50, &count, &found),
        SC_OK);
    assert_int_equal(count, 2);
    memset(&r, 0, sizeof(r));
    assert_int_equal(
        agent_store_msg_get(f->st, "eve@example.org", AGENT_DIR_IN, "i3", collect, &r, &found),
        SC_OK);
    assert_int_equal(r.last.state, AGENT_MSG_RECEIVED);
}

static void test_receive_dedupe(void **state)
{
    fixture *f = *state;
    int64_t s;
    int dup;
    assert_int_equal(
        agent_store_msg_receive(f->st, "alice@example.org", "a1", "hello", 5, 10, 20, &s, &dup),
        SC_OK);
    assert_int_equal(dup, 0);
    assert_true(s > 0);
    /* The same id from the same peer again (a resend after a cut): dropped. */
    assert_int_equal(
        agent_store_msg_receive(f->st, "alice@example.org", "a1", "hello", 5, 10, 30, &s, &dup),
        SC_OK);
    assert_int_equal(dup, 1);
    /* The same id from someone else is another message. */
    assert_int_equal(
        agent_store_msg_receive(f->st, "carol@example.org", "a1", "hi", 2, 10, 30, &s, &dup),
        SC_OK);
    assert_int_equal(dup, 0);
    /* And our own outgoing message with that id is not confused with it. */
    int64_t so;
    assert_int_equal(
        agent_store_msg_queue(f->st, "alice@example.org", "a1", "mine", 4, 40, 90, &so), SC_OK);
    rows r = {0};
    assert_int_equal(agent_store_history(f->st, "alice@example.org", NULL, 0, collect, &r), SC_OK);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.last_text, "mine");
}

static void test_history_search(void **state)
{
    fixture *f = *state;
    int64_t s;
    int dup;
    const char *texts[] = {"the quick brown fox", "lazy dogs sleep", "a \"quoted\" fox jumps",
                           "nothing here", "FOX in capitals"};
    char id[8];
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof(id), "h%d", i);
        assert_int_equal(agent_store_msg_receive(f->st, "bob@example.org", id, texts[i],
                                                 strlen(texts[i]), 100 + i, 200 + i, &s, &dup),
                         SC_OK);
    }
    assert_int_equal(agent_store_msg_receive(f->st, "carol@example.org", "c1", "fox of carol", 12,
                                             1, 2, &s, &dup),
                     SC_OK);
    rows r = {0};
    assert_int_equal(agent_store_history(f->st, "bob@example.org", "fox", 0, collect, &r), SC_OK);
    assert_string_equal(r.ids, "h0,h2,h4");
    memset(&r, 0, sizeof(r));
    assert_int_equal(agent_store_history(f->st, NULL, "fox", 0, collect, &r), SC_OK);
    assert_int_equal(r.n, 4);
    /* Search text is a phrase, never FTS5 syntax: quotes and operators are literal. */
    memset(&r, 0, sizeof(r));
    assert_int_equal(
        agent_store_history(f->st, "bob@example.org", "\"quoted\" fox", 0, collect, &r), SC_OK);
    assert_string_equal(r.ids, "h2");
    memset(&r, 0, sizeof(r));
    assert_int_equal(agent_store_history(f->st, "bob@example.org", "fox OR dogs", 0, collect, &r),
                     SC_OK);
    assert_int_equal(r.n, 0);
    /* limit: the last N, oldest first. */
    memset(&r, 0, sizeof(r));
    assert_int_equal(agent_store_history(f->st, "bob@example.org", NULL, 2, collect, &r), SC_OK);
    assert_string_equal(r.ids, "h3,h4");
}

typedef struct evs {
    uint64_t ids[64];
    int n;
    char last_type[32];
    char last_data[128];
} evs;

static int collect_ev(void *ctx, const agent_event_row *e)
{
    evs *v = ctx;
    if (v->n < 64) v->ids[v->n] = e->id;
    v->n++;
    snprintf(v->last_type, sizeof(v->last_type), "%s", e->type);
    snprintf(v->last_data, sizeof(v->last_data), "%s", e->data);
    return 0;
}

static void sink(void *ctx, uint64_t id, uint64_t ts, const char *type, const char *data)
{
    evs *v = ctx;
    if (v->n < 64) v->ids[v->n] = id;
    v->n++;
}

static void test_events_numbered_and_windowed(void **state)
{
    fixture *f = *state;
    agent_events ev;
    evs live = {0};
    assert_int_equal(agent_events_init(&ev, f->st, 16), SC_OK);
    agent_events_set_sink(&ev, sink, &live);
    uint64_t id;
    for (int i = 0; i < 10; i++) {
        json_t *d = json_pack("{s:i}", "n", i);
        assert_int_equal(agent_events_emit(&ev, "test.tick", d, 1000 + i, &id), SC_OK);
        assert_int_equal(id, (uint64_t)i + 1);
    }
    assert_int_equal(live.n, 10);
    /* Numbering continues across a restart: last + 1, never reused. */
    reopen(f);
    assert_int_equal(agent_events_init(&ev, f->st, 16), SC_OK);
    assert_int_equal(ev.last, 10);
    evs got = {0};
    assert_int_equal(agent_store_event_since(f->st, 7, 0, collect_ev, &got), SC_OK);
    assert_int_equal(got.n, 3);
    assert_int_equal(got.ids[0], 8);
    assert_string_equal(got.last_type, "test.tick");
    assert_string_equal(got.last_data, "{\"n\":9}");
    /* The window: after 40 more, only about the last 16 (+1/8) are kept, contiguous. */
    for (int i = 0; i < 40; i++)
        assert_int_equal(agent_events_emit(&ev, "test.tick", NULL, 2000, &id), SC_OK);
    assert_int_equal(id, 50);
    uint64_t first;
    assert_int_equal(agent_store_event_first(f->st, &first), SC_OK);
    assert_true(first > 1 && first <= 50 - 16 + 1);
    memset(&got, 0, sizeof(got));
    assert_int_equal(agent_store_event_since(f->st, 0, 0, collect_ev, &got), SC_OK);
    assert_int_equal((uint64_t)got.n, 50 - first + 1);
    for (int i = 1; i < got.n && i < 64; i++)
        assert_int_equal(got.ids[i], got.ids[i - 1] + 1);
    assert_string_equal(got.last_data, "{}");
}

static void test_paths(void **state)
{
    agent_paths p;
    unsetenv("SIXCHAT_HOME");
    assert_int_equal(agent_paths_init(&p, "/tmp/h"), SC_OK);
    assert_string_equal(p.store, "/tmp/h/sixchat.db");
    assert_string_equal(p.sock, "/tmp/h/agent.sock");
    setenv("SIXCHAT_HOME", "/tmp/e", 1);
    assert_int_equal(agent_paths_init(&p, NULL), SC_OK);
    assert_string_equal(p.key, "/tmp/e/key.pem");
    /* --home wins over SIXCHAT_HOME. */
    assert_int_equal(agent_paths_init(&p, "/tmp/h"), SC_OK);
    assert_string_equal(p.data, "/tmp/h");
    unsetenv("SIXCHAT_HOME");
    setenv("HOME", "/home/u", 1);
    setenv("XDG_DATA_HOME", "/xd", 1);
    setenv("XDG_RUNTIME_DIR", "/run/user/1", 1);
    assert_int_equal(agent_paths_init(&p, NULL), SC_OK);
    assert_string_equal(p.store, "/xd/sixchat/sixchat.db");
    assert_string_equal(p.sock, "/run/user/1/sixchat/agent.sock");
    /* Relative XDG values are ignored (XDG base directory spec). */
    setenv("XDG_DATA_HOME", "rel", 1);
    unsetenv("XDG_RUNTIME_DIR");
    assert_int_equal(agent_paths_init(&p, NULL), SC_OK);
    assert_string_equal(p.store, "/home/u/.local/share/sixchat/sixchat.db");
    assert_string_equal(p.sock, "/home/u/.local/share/sixchat/agent.sock");
    /* A socket path that would not fit sun_path is refused up front. */
    char longdir[200];
    memset(longdir, 'a', sizeof(longdir) - 1);
    longdir[0] = '/';
    longdir[sizeof(longdir) - 1] = '\0';
    assert_int_equal(agent_paths_init(&p, longdir), SC_ERR_ARG);
}

/* What strangers store: unread incoming text in bytes, contacts and read messages excluded. */
static void test_unknown_usage(void **state)
{
    fixture *f = *state;
    int64_t seq;
    int dup = 0, count = 0, found = 0;
    uint64_t mine, all;
    assert_int_equal(agent_store_msg_unknown_usage(f->st, "eve@example.org", &mine, &all), SC_OK);
    assert_true(mine == 0 && all == 0);
    /* "\xc3\xa9" is one character and two bytes: bytes count. */
    assert_int_equal(
        agent_store_msg_receive(f->st, "eve@example.org", "e1", "caf\xc3\xa9", 5, 1, 1, &seq, &dup),
        SC_OK);
    assert_int_equal(
        agent_store_msg_receive(f->st, "eve@example.org", "e2", "0123456789", 10, 2, 2, &seq, &dup),
        SC_OK);
    assert_int_equal(
        agent_store_msg_receive(f->st, "mallory@example.org", "m1", "abc", 3, 3, 3, &seq, &dup),
        SC_OK);
    assert_int_equal(
        agent_store_msg_receive(f->st, "bob@example.org", "b1", "a contact", 9, 4, 4, &seq, &dup),
        SC_OK);
    /* Ours to a stranger never count. */
    assert_int_equal(
        agent_store_msg_queue(f->st, "eve@example.org", "o1", "outgoing", 8, 5, 99, &seq), SC_OK);
    agent_contact c;
    memset(&c, 0, sizeof(c));
    snprintf(c.user, sizeof(c.user), "bob@example.org");
    assert_int_equal(agent_store_contact_put(f->st, &c), SC_OK);
    assert_int_equal(agent_store_msg_unknown_usage(f->st, "EVE@example.org", &mine, &all), SC_OK);
    assert_int_equal(mine, 15);
    assert_int_equal(all, 18);
    /* Read: no longer counted. */
    assert_int_equal(
        agent_store_msg_read_upto(f->st, "eve@example.org", AGENT_DIR_IN, "e1", 6, &count, &found),
        SC_OK);
    assert_int_equal(agent_store_msg_unknown_usage(f->st, "eve@example.org", &mine, &all), SC_OK);
    assert_int_equal(mine, 10);
    assert_int_equal(all, 13);
    /* A stranger who becomes a contact: no longer counted either. */
    snprintf(c.user, sizeof(c.user), "Mallory@example.org");
    assert_int_equal(agent_store_contact_put(f->st, &c), SC_OK);
    assert_int_equal(agent_store_msg_unknown_usage(f->st, "eve@example.org", &mine, &all), SC_OK);
    assert_int_equal(all, 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_file_mode_and_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contacts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outbox_durable_and_per_device, setup, teardown),
        cmocka_unit_test_setup_teardown(test_states_forward_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_markers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receive_dedupe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_search, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_numbered_and_windowed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_usage, setup, teardown),
        cmocka_unit_test(test_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
