/*
 * test_sixchat_chat_model.c - the terminal chat's model without a
 * terminal: the input line (editing, UTF-8 and wide characters, history,
 * the visible window), the scrollback (states forward only, read markers
 * as positions, the history merged before live events), the layout in
 * rows (wrapping at spaces, long words, scrolling back), the status line
 * and the typing notices' timing rules (PROTOCOL.md 10.2).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <locale.h>
#include <cmocka.h>

#include "sixchat_chat.h"

static void type(chat_input *in, const char *utf8)
{
    uint32_t cp[256];
    size_t n = chat_utf8_decode(utf8, strlen(utf8), cp, 256);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(chat_input_insert(in, cp[i]), 0);
}

static void assert_line(chat_input *in, const char *want)
{
    char *s = chat_input_text(in);
    assert_non_null(s);
    assert_string_equal(s, want);
    free(s);
}

static void test_utf8(void **state)
{
    (void)state;
    uint32_t cp[16];
    /* é (2 bytes), 日 (3), 😀 (4) */
    const char *s = "a\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80";
    assert_int_equal(chat_utf8_decode(s, strlen(s), cp, 16), 4);
    assert_int_equal(cp[1], 0xE9);
    assert_int_equal(cp[2], 0x65E5);
    assert_int_equal(cp[3], 0x1F600);
    char out[8];
    assert_int_equal(chat_utf8_put(0x1F600, out), 4);
    assert_memory_equal(out, "\xf0\x9f\x98\x80", 4);
    /* A lone continuation byte, an overlong form, a surrogate, a truncated sequence. */
    const char *bad = "\x80"
                      "\xc0\xaf"
                      "\xed\xa0\x80"
                      "\xe6\x97";
    size_t n = chat_utf8_decode(bad, strlen(bad), cp, 16);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(cp[i], 0xFFFD);
    assert_true(n >= 4);
    /* Widths: a CJK character takes two columns, a combining accent none. */
    assert_int_equal(chat_cp_width('a'), 1);
    assert_int_equal(chat_cp_width(0x65E5), 2);
    assert_int_equal(chat_cp_width(0x0301), 0);
}

static void test_editing(void **state)
{
    (void)state;
    chat_input in;
    chat_input_init(&in);
    type(&in, "helo");
    chat_input_left(&in);
    type(&in, "l");
    assert_line(&in, "hello");
    chat_input_home(&in);
    type(&in, ">");
    chat_input_end(&in);
    type(&in, "!");
    assert_line(&in, ">hello!");
    chat_input_backspace(&in);
    chat_input_home(&in);
    chat_input_delete(&in);
    assert_line(&in, "hello");
    assert_int_equal(in.cur, 0);
    chat_input_backspace(&in); /* at the start: nothing */
    chat_input_left(&in);
    assert_int_equal(in.cur, 0);
    chat_input_end(&in);
    chat_input_right(&in);
    assert_int_equal(in.cur, 5);
    chat_input_delete(&in); /* at the end: nothing */
    assert_line(&in, "hello");
    /* ctrl-u erases before the cursor, ctrl-k after it. */
    chat_input_left(&in);
    chat_input_left(&in);
    chat_input_kill_back(&in);
    assert_line(&in, "lo");
    assert_int_equal(in.cur, 0);
    chat_input_right(&in);
    chat_input_kill_fwd(&in);
    assert_line(&in, "l");
    /* Control characters are refused. */
    assert_int_equal(chat_input_insert(&in, '\n'), -1);
    assert_int_equal(chat_input_insert(&in, 0x1B), -1);
    assert_int_equal(chat_input_insert(&in, 0x7F), -1);
    assert_line(&in, "l");
    chat_input_free(&in);
}

static void test_editing_utf8(void **state)
{
    (void)state;
    chat_input in;
    chat_input_init(&in);
    type(&in, "gr\xc3\xbc\xc3\x9f"
              "e \xe6\x97\xa5\xe6\x9c\xac"); /* "grüße 日本" */
    assert_int_equal(in.len, 8);
    /* Backspace takes one character (code point), not one byte. */
    chat_input_backspace(&in);
    assert_line(&in, "gr\xc3\xbc\xc3\x9f"
                     "e \xe6\x97\xa5");
    chat_input_home(&in);
    chat_input_right(&in);
    chat_input_right(&in);
    chat_input_delete(&in);
    assert_line(&in, "gr\xc3\x9f"
                     "e \xe6\x97\xa5");
    type(&in, "\xc3\xb6");
    assert_line(&in, "gr\xc3\xb6\xc3\x9f"
                     "e \xe6\x97\xa5");
    chat_input_free(&in);
}

static void test_history(void **state)
{
    (void)state;
    chat_input in;
    chat_input_init(&in);
    type(&in, "first");
    free(chat_input_take(&in));
    type(&in, "second");
    char *s = chat_input_take(&in);
    assert_string_equal(s, "second");
    free(s);
    assert_int_equal(in.len, 0);
    free(chat_input_take(&in)); /* empty: not remembered */
    type(&in, "second");
    free(chat_input_take(&in)); /* a repeat: not remembered twice */
    assert_int_equal(in.nhist, 2);
    type(&in, "draft");
    chat_input_hist_up(&in);
    assert_line(&in, "second");
    chat_input_hist_up(&in);
    assert_line(&in, "first");
    chat_input_hist_up(&in); /* the oldest stays */
    assert_line(&in, "first");
    chat_input_hist_down(&in);
    assert_line(&in, "second");
    chat_input_hist_down(&in);
    assert_line(&in, "draft"); /* the line being written comes back */
    chat_input_hist_down(&in);
    assert_line(&in, "draft");
    /* An entry recalled and edited is a new line; the history is unchanged. */
    chat_input_hist_up(&in);
    type(&in, "!");
    s = chat_input_take(&in);
    assert_string_equal(s, "second!");
    free(s);
    assert_int_equal(in.nhist, 3);
    assert_string_equal(in.hist[1], "second");
    /* Bounded: the oldest go. */
    for (int i = 0; i < CHAT_HIST_MAX + 5; i++) {
        char b[16];
        snprintf(b, sizeof(b), "l%d", i);
        type(&in, b);
        free(chat_input_take(&in));
    }
    assert_int_equal(in.nhist, CHAT_HIST_MAX);
    assert_string_equal(in.hist[CHAT_HIST_MAX - 1], "l104");
    chat_input_free(&in);
}

static void test_input_view(void **state)
{
    (void)state;
    chat_input in;
    chat_input_init(&in);
    char out[256];
    int col;
    type(&in, "abcdefghij");
    chat_input_view(&in, 6, out, sizeof(out), &col);
    /* The cursor at the end keeps its own column: the last 5 characters. */
    assert_string_equal(out, "fghij");
    assert_int_equal(col, 5);
    chat_input_home(&in);
    chat_input_view(&in, 6, out, sizeof(out), &col);
    assert_string_equal(out, "abcdef");
    assert_int_equal(col, 0);
    chat_input_free(&in);
    /* Wide characters count two columns. */
    chat_input_init(&in);
    type(&in, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"); /* 日本語 */
    chat_input_view(&in, 5, out, sizeof(out), &col);
    assert_string_equal(out, "\xe6\x9c\xac\xe8\xaa\x9e");
    assert_int_equal(col, 4);
    chat_input_free(&in);
}

static void test_states_and_read(void **state)
{
    (void)state;
    chat_model m;
    chat_model_init(&m, "bob@example.org");
    assert_string_equal(m.peer_name, "bob");
    assert_non_null(chat_model_upsert(&m, "a", CHAT_OUT, 1000, "one", CHAT_ST_QUEUED));
    assert_non_null(chat_model_upsert(&m, "b", CHAT_IN, 2000, "two", CHAT_ST_NONE));
    assert_non_null(chat_model_upsert(&m, "c", CHAT_OUT, 3000, "three", CHAT_ST_QUEUED));
    assert_non_null(chat_model_upsert(&m, "d", CHAT_OUT, 4000, "four", CHAT_ST_QUEUED));
    assert_int_equal(chat_model_set_state(&m, "a", CHAT_ST_DELIVERED), 1);
    assert_int_equal(chat_model_set_state(&m, "a", CHAT_ST_SENT), 0); /* never backwards */
    assert_int_equal(chat_model_set_state(&m, "a", CHAT_ST_FAILED), 0);
    assert_int_equal(chat_model_set_state(&m, "c", CHAT_ST_SENT), 1);
    assert_int_equal(chat_model_set_state(&m, "nope", CHAT_ST_SENT), 0);
    /* The same id again updates, it does not add. */
    assert_non_null(chat_model_upsert(&m, "c", CHAT_OUT, 3000, "three", CHAT_ST_QUEUED));
    assert_int_equal(m.n, 4);
    assert_int_equal(chat_model_find(&m, "c")->state, CHAT_ST_SENT);
    /* A read marker for c covers a and c (ours up to it), not d; not their b. */
    chat_model_read_upto(&m, "c");
    assert_int_equal(chat_model_find(&m, "a")->state, CHAT_ST_READ);
    assert_int_equal(chat_model_find(&m, "b")->state, CHAT_ST_NONE);
    assert_int_equal(chat_model_find(&m, "c")->state, CHAT_ST_READ);
    assert_int_equal(chat_model_find(&m, "d")->state, CHAT_ST_QUEUED);
    assert_int_equal(chat_state_parse("delivered"), CHAT_ST_DELIVERED);
    assert_int_equal(chat_state_parse("bogus"), CHAT_ST_NONE);
    /* The scrollback is bounded: the oldest leave. */
    for (int i = 0; i < CHAT_MAX_MSGS; i++)
        chat_model_info(&m, 5000, "note %d", i);
    assert_int_equal(m.n, CHAT_MAX_MSGS);
    assert_null(chat_model_find(&m, "d"));
    chat_model_free(&m);
}

static size_t rows(chat_model *m, int w, int h, char **out)
{
    memset(out, 0, sizeof(char *) * (size_t)h);
    return chat_model_rows(m, w, h, out);
}

static void free_rows(char **r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(r[i]);
}

static void test_rows(void **state)
{
    (void)state;
    chat_model m;
    char *r[16];
    chat_model_init(&m, "bob@example.org");
    /* 13:05 UTC (TZ=UTC for this test). */
    uint64_t t = (uint64_t)(13 * 3600 + 5 * 60) * 1000;
    chat_model_upsert(&m, "a", CHAT_OUT, t, "hello there", CHAT_ST_DELIVERED);
    chat_model_upsert(&m, "b", CHAT_IN, t, "hi", CHAT_ST_NONE);
    size_t n = rows(&m, 40, 10, r);
    assert_int_equal(n, 2);
    assert_string_equal(r[0], "13:05 me: hello there [delivered]");
    assert_string_equal(r[1], "13:05 bob: hi");
    free_rows(r, n);
    /* Wrapped at spaces; continuation rows indented under the text. */
    n = rows(&m, 20, 10, r);
    assert_int_equal(n, 4);
    assert_string_equal(r[0], "13:05 me: hello");
    assert_string_equal(r[1], "      there");
    assert_string_equal(r[2], "      [delivered]");
    assert_string_equal(r[3], "13:05 bob: hi");
    free_rows(r, n);
    /* Only the newest rows fit; scrolling back shows older ones. */
    n = rows(&m, 20, 2, r);
    assert_int_equal(n, 2);
    assert_string_equal(r[0], "      [delivered]");
    assert_string_equal(r[1], "13:05 bob: hi");
    free_rows(r, n);
    m.scroll = 2;
    n = rows(&m, 20, 2, r);
    assert_string_equal(r[0], "13:05 me: hello");
    assert_string_equal(r[1], "      there");
    free_rows(r, n);
    m.scroll = 100; /* beyond the top: clamped */
    n = rows(&m, 20, 2, r);
    assert_int_equal(m.scroll, 2);
    assert_string_equal(r[0], "13:05 me: hello");
    free_rows(r, n);
    m.scroll = 0;
    chat_model_free(&m);

    /* A word longer than the row is cut; wide characters by columns; newlines break. */
    chat_model_init(&m, "bob@example.org");
    chat_model_upsert(&m, "x", CHAT_IN, t, "abcdefghijklmnopqrstuvwxyz", CHAT_ST_NONE);
    n = rows(&m, 16, 10, r);
    assert_int_equal(n, 4);
    assert_string_equal(r[0], "13:05 bob:");
    assert_string_equal(r[1], "      abcdefghij");
    assert_string_equal(r[2], "      klmnopqrst");
    assert_string_equal(r[3], "      uvwxyz");
    free_rows(r, n);
    chat_model_free(&m);
    chat_model_init(&m, "bob@example.org");
    chat_model_upsert(&m, "y", CHAT_IN, t,
                      "\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5", CHAT_ST_NONE);
    chat_model_upsert(&m, "z", CHAT_IN, t, "one\ntwo", CHAT_ST_NONE);
    n = rows(&m, 13, 10, r);
    /* The text does not fit after "13:05 bob: ": it breaks at that space, then
     * three two-column characters per row of 7 columns. */
    assert_int_equal(n, 6);
    assert_string_equal(r[0], "13:05 bob:");
    assert_string_equal(r[1], "      \xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5");
    assert_string_equal(r[2], "      \xe6\x97\xa5\xe6\x97\xa5");
    assert_string_equal(r[3], "13:05 bob:"); /* "one" would end in column 14 */
    assert_string_equal(r[4], "      one");
    assert_string_equal(r[5], "      two");
    free_rows(r, n);
    chat_model_free(&m);
}

static json_t *ev(uint64_t id, const char *type, const char *data)
{
    json_t *d = json_loads(data, 0, NULL);
    assert_non_null(d);
    return json_pack("{s:I,s:I,s:s,s:o}", "id", (json_int_t)id, "ts", (json_int_t)1, "type", type,
                     "data", d);
}

static void apply(chat_model *m, uint64_t id, const char *type, const char *data, int want)
{
    json_t *e = ev(id, type, data);
    assert_int_equal(chat_apply_event(m, e, 1000), want);
    json_decref(e);
}

static void test_apply(void **state)
{
    (void)state;
    chat_model m;
    chat_model_init(&m, "bob@example.org");
    /* Live events first (subscribed before the history came). */
    apply(&m, 10, "message.queued",
          "{\"id\":\"m2\",\"peer\":\"bob@example.org\",\"text\":\"new\",\"ts\":5}", 1);
    apply(&m, 11, "message.queued",
          "{\"id\":\"x\",\"peer\":\"carol@example.org\",\"text\":\"other\",\"ts\":5}", 0);
    apply(&m, 12, "message.sent", "{\"id\":\"m2\",\"peer\":\"bob@example.org\",\"device\":\"d\"}",
          1);
    assert_int_equal(m.last_event, 12);
    json_t *h =
        json_loads("{\"messages\":[{\"id\":\"m1\",\"dir\":\"in\",\"text\":\"old\",\"ts\":1,"
                   "\"state\":\"received\"},{\"id\":\"m2\",\"dir\":\"out\",\"text\":\"new\","
                   "\"ts\":5,\"state\":\"queued\"}]}",
                   0, NULL);
    chat_apply_history(&m, h);
    json_decref(h);
    assert_int_equal(m.n, 2);
    assert_string_equal(m.msgs[0].id, "m1");
    assert_string_equal(m.msgs[1].id, "m2");
    assert_int_equal(m.msgs[1].state, CHAT_ST_SENT); /* the event's newer state stays */
    assert_int_equal(m.unread, 1);
    apply(&m, 13, "message.delivered",
          "{\"id\":\"m2\",\"peer\":\"bob@example.org\",\"device\":\"d\",\"ts\":6}", 1);
    assert_int_equal(m.msgs[1].state, CHAT_ST_DELIVERED);
    apply(&m, 14, "message.read",
          "{\"id\":\"m2\",\"peer\":\"bob@example.org\",\"dir\":\"out\",\"count\":1}", 1);
    assert_int_equal(m.msgs[1].state, CHAT_ST_READ);
    /* Presence and sessions; typing until a message, an off, or 15 s. */
    apply(&m, 15, "session.up", "{\"user\":\"bob@example.org\",\"device\":\"d\"}", 1);
    assert_int_equal(m.online, 1);
    json_t *t = json_pack("{s:s,s:s}", "peer", "bob@example.org", "state", "on");
    chat_apply_typing(&m, t, 1000);
    json_decref(t);
    char st[256];
    chat_model_status(&m, 1000, st, sizeof(st));
    assert_non_null(strstr(st, "online"));
    assert_non_null(strstr(st, "bob is typing"));
    chat_model_status(&m, 1000 + CHAT_TYPING_SHOW_MS, st, sizeof(st));
    assert_null(strstr(st, "typing"));
    apply(&m, 16, "message.received",
          "{\"id\":\"m3\",\"peer\":\"bob@example.org\",\"text\":\"hey\",\"ts\":7}", 1);
    assert_int_equal(m.typing_until, 0);
    assert_int_equal(m.unread, 2);
    apply(&m, 17, "session.down",
          "{\"user\":\"bob@example.org\",\"device\":\"d\",\"why\":\"idle\"}", 1);
    apply(&m, 18, "presence", "{\"user\":\"bob@example.org\",\"presence\":\"offline\"}", 1);
    chat_model_status(&m, 2000, st, sizeof(st));
    assert_non_null(strstr(st, "offline"));
    chat_model_free(&m);
}

static void test_typing_notices(void **state)
{
    (void)state;
    chat_model m;
    chat_model_init(&m, "bob@example.org");
    uint64_t t = 100000;
    type(&m.in, "h");
    assert_int_equal(chat_typing_tick(&m, t, 1), 1); /* on */
    type(&m.in, "i");
    assert_int_equal(chat_typing_tick(&m, t + 1000, 1), -1); /* not again within 5 s */
    assert_int_equal(chat_typing_tick(&m, t + 5000, 1), 1);  /* repeated while typing */
    assert_int_equal(chat_typing_tick(&m, t + 9000, 0), -1);
    /* 10 s without input: off, once. */
    assert_int_equal(chat_typing_tick(&m, t + 15000, 0), 0);
    assert_int_equal(chat_typing_tick(&m, t + 16000, 0), -1);
    /* The line cleared: off. */
    assert_int_equal(chat_typing_tick(&m, t + 20000, 1), 1);
    chat_input_kill_back(&m.in);
    assert_int_equal(chat_typing_tick(&m, t + 20500, 1), 0);
    /* Sending the message ends the state without an off. */
    type(&m.in, "x");
    assert_int_equal(chat_typing_tick(&m, t + 30000, 1), 1);
    free(chat_input_take(&m.in));
    chat_typing_sent_message(&m);
    assert_int_equal(chat_typing_tick(&m, t + 30001, 1), -1);
    chat_model_free(&m);
}

/* A peer's C1 CSI, CR and U+202E never reach the terminal; they show as escapes. */
static void test_rows_peer_controls(void **state)
{
    (void)state;
    chat_model m;
    char *r[8];
    chat_model_init(&m, "bob@example.org");
    uint64_t t = (uint64_t)(13 * 3600 + 5 * 60) * 1000;
    chat_model_upsert(&m, "h", CHAT_IN, t,
                      "a\xc2\x9b"
                      "2Jb\rc\xe2\x80\xaeZ\td",
                      CHAT_ST_NONE);
    size_t n = rows(&m, 80, 8, r);
    assert_int_equal(n, 1);
    assert_string_equal(r[0], "13:05 bob: a\\u009B2Jb\\u000Dc\\u202EZ d");
    free_rows(r, n);
    chat_model_free(&m);
    /* The input line refuses them too (the user's own text, kept clean). */
    chat_input in;
    chat_input_init(&in);
    assert_int_equal(chat_input_insert(&in, 0x9B), -1);
    assert_int_equal(chat_input_insert(&in, 0x202E), -1);
    assert_int_equal(chat_input_insert(&in, 0x2067), -1);
    chat_input_free(&in);
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    if (!setlocale(LC_CTYPE, "C.UTF-8")) {
        fprintf(stderr, "no C.UTF-8 locale: wide character widths unknown\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8),           cmocka_unit_test(test_editing),
        cmocka_unit_test(test_editing_utf8),   cmocka_unit_test(test_history),
        cmocka_unit_test(test_input_view),     cmocka_unit_test(test_states_and_read),
        cmocka_unit_test(test_rows),           cmocka_unit_test(test_apply),
        cmocka_unit_test(test_typing_notices), cmocka_unit_test(test_rows_peer_controls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
