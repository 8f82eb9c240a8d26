/*
 * test_agent_xfer.c - file transfers (agent_xfer) between two agents in one
 * process: each with its own SQLite store, downloads directory, and peer
 * manager (agent_peer) on loopback, so the bytes go through real
 * End2End Direct sessions over real TCP. Covers: a transfer with the
 * checksum equal, names made safe inside the downloads directory,
 * resume after the connection is cut mid-file and after a restart of the
 * receiver (from its offset, not from zero), refusal of a bad checksum
 * leaving no file, and the size limit.
 */
#include <signal.h>
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "sixchat/platform.h"
#include "xfer_testlib.h"

static party alice, bob;

/* ---- setup ---- */

/* Each test gets fresh parties in a fresh directory under tmp. */
static int each_setup(void **state)
{
    static int n;
    (void)state;
    snprintf(cur, sizeof(cur), "%s/t%d", tmp, ++n);
    if (mkdir(cur, 0700)) return -1;
    party_start(&alice, "alice");
    party_start(&bob, "bob");
    return 0;
}

static int each_teardown(void **state)
{
    (void)state;
    party_stop(&alice);
    party_stop(&bob);
    drain();
    return 0;
}

/* ---- tests ---- */

/* A contact's file is accepted at once, arrives whole, and has the checksum offered. */
static void test_transfer_checksum(void **state)
{
    (void)state;
    char src[400];
    snprintf(src, sizeof(src), "%s/../photo.jpg", bob.dl);
    write_file(src, 3 * 1024 * 1024 + 17, 1);
    make_contact(&bob, alice.user);
    dial(&alice, &bob);
    sent s;
    send_file(&alice, bob.user, src, &s);
    int i = wait_ev(&bob, "transfer.done", 0);
    assert_string_equal(bob.ev_id[i], s.id);
    char want[600];
    snprintf(want, sizeof(want), "%s/photo.jpg", bob.dl);
    assert_string_equal(bob.ev_path[i], want);
    uint8_t a[32], b[32];
    sha256_file(src, a);
    sha256_file(want, b);
    assert_memory_equal(a, b, 32);
    wait_ev(&alice, "transfer.sent", 0);
    /* Nothing else in downloads: the .part is gone. */
    char names[1024];
    list_dir(bob.dl, names, sizeof(names));
    assert_string_equal(names, "photo.jpg");
    agent_xfer_rec r;
    int found = 0;
    assert_int_equal(agent_store_xfer_get(bob.st, alice.user, AGENT_DIR_IN, s.id, &r, &found),
                     SC_OK);
    assert_true(found);
    assert_string_equal(r.state, "done");
    assert_int_equal(r.offset, 3 * 1024 * 1024 + 17);
}

static void test_sanitise_table(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"../../x", "_.._x"},
        {"..", "file"},
        {".", "file"},
        {"", "file"},
        {".bashrc", "bashrc"},
        {"a/b\\c", "a_b_c"},
        {"tab\there", "tab_here"},
        {"bell\x07.txt", "bell_.txt"},
        {"-rf", "rf"},
        {"ok name.pdf", "ok name.pdf"},
        {"caf\xc3\xa9.txt", "caf\xc3\xa9.txt"},
        {"bad\xff\xfe.txt", "bad__.txt"},
        {"trail.", "trail"},
    };
    char out[AGENT_XFER_NAME_KEEP + 1];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        agent_xfer_sanitise(cases[i].in, out);
        assert_string_equal(out, cases[i].out);
    }
    /* Too long: bounded, cut on a character, the extension kept. */
    char lng[1200];
    size_t k = 0;
    for (int i = 0; i < 300; i++) {
        memcpy(lng + k, "\xc3\xa9", 2);
        k += 2;
    }
    memcpy(lng + k, ".tar.gz", 8);
    agent_xfer_sanitise(lng, out);
    assert_true(strlen(out) <= AGENT_XFER_NAME_KEEP);
    assert_string_equal(out + strlen(out) - 3, ".gz");
    assert_true(((unsigned char)out[strlen(out) - 4] & 0xC0) != 0x80 ||
                ((unsigned char)out[strlen(out) - 5] & 0xE0) == 0xC0);
}

/*
 * An offer named "../../x" (the core refuses '/' on the wire; the module
 * must not rely on it) lands inside downloads, and nothing appears beside
 * or above it.
 */
static void test_name_stays_inside(void **state)
{
    (void)state;
    make_contact(&bob, alice.user);
    sc_stanza st = {.type = SC_STANZA_FILE_OFFER, .id = "evil1", .name = "../../x", .size = 10};
    memset(st.sha256, 0xab, 32);
    assert_int_equal(agent_xfer_stanza(bob.x, alice.user, alice.device, &st), 1);
    int i = find_ev(&bob, "transfer.accepted", 0);
    assert_true(i >= 0);
    char names[1024];
    list_dir(bob.dl, names, sizeof(names));
    assert_string_equal(names, "_.._x.part");
    char up[700];
    snprintf(up, sizeof(up), "%s/../../x", bob.dl);
    assert_int_equal(access(up, F_OK), -1);
    snprintf(up, sizeof(up), "%s/../x", bob.dl);
    assert_int_equal(access(up, F_OK), -1);
    /* A symlink planted at the .part's name is not followed: a fresh name is taken. */
    char target[600], link[600];
    snprintf(target, sizeof(target), "%s/../outside", bob.dl);
    snprintf(link, sizeof(link), "%s/y.part", bob.dl);
    assert_int_equal(symlink(target, link), 0);
    sc_stanza st2 = {.type = SC_STANZA_FILE_OFFER, .id = "evil2", .name = "y", .size = 10};
    memset(st2.sha256, 0xcd, 32);
    assert_int_equal(agent_xfer_stanza(bob.x, alice.user, alice.device, &st2), 1);
    assert_int_equal(access(target, F_OK), -1);
    snprintf(link, sizeof(link), "%s/y (1).part", bob.dl);
    assert_int_equal(access(link, F_OK), 0);
}

/* The connection is cut mid-file; the next session resumes from the receiver's offset. */
static void test_resume_after_cut(void **state)
{
    (void)state;
    char src[400];
    const size_t size = 12 * 1024 * 1024;
    snprintf(src, sizeof(src), "%s/../big.bin", bob.dl);
    write_file(src, size, 2);
    make_contact(&bob, alice.user);
    dial(&alice, &bob);
    bob.cut_at = 3 * 1024 * 1024;
    sent s;
    send_file(&alice, bob.user, src, &s);
    /* Cut: bob closes the session once 3 MiB arrived; both see it end. */
    alice.downs = bob.downs = 0;
    while (bob.cut_at)
        (void)uv_run(&loop, UV_RUN_ONCE);
    run_until(down_count, &alice);
    run_until(down_count, &bob);
    agent_xfer_rec r;
    int found = 0;
    assert_int_equal(agent_store_xfer_get(bob.st, alice.user, AGENT_DIR_IN, s.id, &r, &found),
                     SC_OK);
    assert_true(found);
    assert_string_equal(r.state, "receiving");
    int from = alice.n_ev;
    dial(&alice, &bob);
    int i = wait_ev(&alice, "transfer.resumed", from);
    uint64_t resumed_at = alice.ev_offset[i];
    assert_true(resumed_at >= 3 * 1024 * 1024);
    assert_true(resumed_at < size);
    wait_ev(&bob, "transfer.done", 0);
    /* Not restarted from zero: on the new session, only the missing bytes travelled. */
    assert_int_equal(bob.bytes_new, size - resumed_at);
    char dst[600];
    snprintf(dst, sizeof(dst), "%s/big.bin", bob.dl);
    uint8_t a[32], b[32];
    sha256_file(src, a);
    sha256_file(dst, b);
    assert_memory_equal(a, b, 32);
}

/* The receiver stops (its modules freed, as a restart) mid-file and starts again from its store. */
static void test_resume_after_receiver_restart(void **state)
{
    (void)state;
    char src[400];
    const size_t size = 8 * 1024 * 1024;
    snprintf(src, sizeof(src), "%s/../restart.bin", bob.dl);
    write_file(src, size, 3);
    make_contact(&bob, alice.user);
    dial(&alice, &bob);
    bob.cut_at = 2 * 1024 * 1024;
    sent s;
    send_file(&alice, bob.user, src, &s);
    alice.downs = 0;
    while (bob.cut_at)
        (void)uv_run(&loop, UV_RUN_ONCE);
    party_halt(&bob);
    run_until(down_count, &alice);
    /* Up again with the same store and downloads (new listener, new sessions). */
    peer_start(&bob);
    xfer_start(&bob);
    int from = alice.n_ev;
    dial(&alice, &bob);
    int i = wait_ev(&alice, "transfer.resumed", from);
    assert_true(alice.ev_offset[i] >= 2 * 1024 * 1024);
    uint64_t resumed_at = alice.ev_offset[i];
    i = wait_ev(&bob, "transfer.done", 0);
    assert_int_equal(bob.bytes_new, size - resumed_at);
    uint8_t a[32], b[32];
    sha256_file(src, a);
    sha256_file(bob.ev_path[i], b);
    assert_memory_equal(a, b, 32);
}

static int bob_has_1mb(void *arg)
{
    (void)arg;
    return bob.bytes_in >= 1024 * 1024;
}

/*
 * The receiver answers a repeated offer with the offset it has now, while
 * the bytes after it are already on their way: the sender must not send
 * them again (it did before: under load the re-offer's answer arrived after
 * the stream had started, and megabytes went twice).
 */
static void test_late_accept_sends_nothing_twice(void **state)
{
    (void)state;
    char src[400];
    const size_t size = 8 * 1024 * 1024;
    snprintf(src, sizeof(src), "%s/../late.bin", bob.dl);
    write_file(src, size, 8);
    make_contact(&bob, alice.user);
    dial(&alice, &bob);
    sent s;
    send_file(&alice, bob.user, src, &s);
    run_until(bob_has_1mb, NULL);
    /* The offer again, as a new session's would arrive late (the module's own entry point). */
    agent_xfer_rec r;
    int found = 0;
    assert_int_equal(agent_store_xfer_get(bob.st, alice.user, AGENT_DIR_IN, s.id, &r, &found),
                     SC_OK);
    assert_true(found);
    sc_stanza offer = {.type = SC_STANZA_FILE_OFFER, .id = s.id, .name = "late.bin", .size = size};
    memcpy(offer.sha256, r.sha256, 32);
    assert_int_equal(agent_xfer_stanza(bob.x, alice.user, alice.device, &offer), 1);
    wait_ev(&bob, "transfer.done", 0);
    assert_int_equal(bob.bytes_new, size);
    assert_int_equal(find_ev(&alice, "transfer.resumed", 0), -1);
    /* An answer that arrives after the whole stream went (it did under ASan) starts nothing. */
    wait_ev(&alice, "transfer.sent", 0);
    uint64_t out = alice.bytes_out;
    sc_stanza acc = {.type = SC_STANZA_FILE_ACCEPT, .id = s.id, .offset = 1024 * 1024};
    assert_int_equal(agent_xfer_stanza(alice.x, bob.user, bob.device, &acc), 1);
    acc.offset = 0;
    assert_int_equal(agent_xfer_stanza(alice.x, bob.user, bob.device, &acc), 1);
    assert_int_equal(find_ev(&alice, "transfer.resumed", 0), -1);
    assert_int_equal(alice.bytes_out, out);
}

/* Bytes that do not hash to the offered digest: no final file, no .part, both sides told. */
static void test_bad_checksum(void **state)
{
    (void)state;
    char src[400];
    snprintf(src, sizeof(src), "%s/../doc.txt", bob.dl);
    write_file(src, 200000, 4);
    /* Not a contact: the offer waits for the user, long enough to change the file. */
    dial(&alice, &bob);
    sent s;
    send_file(&alice, bob.user, src, &s);
    int i = wait_ev(&bob, "transfer.offered", 0);
    assert_string_equal(bob.ev_id[i], s.id);
    write_file(src, 200000, 5); /* same size, other bytes */
    const char *why = NULL;
    assert_int_equal(agent_xfer_accept(bob.x, s.id, &why), SC_OK);
    i = wait_ev(&bob, "transfer.failed", 0);
    assert_string_equal(bob.ev_state[i], "failed");
    i = wait_ev(&alice, "transfer.rejected", 0);
    char names[1024];
    list_dir(bob.dl, names, sizeof(names));
    assert_string_equal(names, "");
    assert_int_equal(find_ev(&bob, "transfer.done", 0), -1);
}

/* Offers over the size setting are refused; the sender hears why. */
static void test_too_large_refused(void **state)
{
    (void)state;
    char src[400];
    snprintf(src, sizeof(src), "%s/../large.bin", bob.dl);
    write_file(src, 2 * 1024 * 1024, 6);
    assert_int_equal(agent_store_set(bob.st, AGENT_XFER_SET_MAX, "1"), SC_OK);
    dial(&alice, &bob);
    sent s;
    send_file(&alice, bob.user, src, &s);
    wait_ev(&bob, "transfer.refused", 0);
    wait_ev(&alice, "transfer.rejected", 0);
    char names[1024];
    list_dir(bob.dl, names, sizeof(names));
    assert_string_equal(names, "");
}

int main(void)
{
    /* As the agent does (agent.c): a peer that vanished is EPIPE on its socket, not a signal
     * that ends the whole test program (it did once, under load, in test_ping_keepalive). */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sanitise_table),
        cmocka_unit_test_setup_teardown(test_transfer_checksum, each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(test_name_stays_inside, each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(test_resume_after_cut, each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(test_resume_after_receiver_restart, each_setup,
                                        each_teardown),
        cmocka_unit_test_setup_teardown(test_late_accept_sends_nothing_twice, each_setup,
                                        each_teardown),
        cmocka_unit_test_setup_teardown(test_bad_checksum, each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(test_too_large_refused, each_setup, each_teardown),
    };
    return cmocka_run_group_tests(tests, xt_setup, xt_teardown);
}
