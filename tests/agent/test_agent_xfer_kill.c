/*
 * test_agent_xfer_kill.c - a 100 MB file, the receiver killed (-9) in the
 * middle, restarted, the transfer resumed from the receiver's offset (not
 * from zero), the checksum equal (issue 8, "It must show").
 *
 * The sender (alice) runs in this process; the receiver (bob) is this
 * program again (`--receiver DIR FD`) in its own process, with its own
 * SQLite store and downloads directory in DIR, so SIGKILL leaves exactly
 * what a crashed agent leaves. Bytes go through real End2End Direct
 * sessions over TCP on loopback.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sixchat/platform.h"
#include "xfer_testlib.h"

#define SIZE (100u * 1000 * 1000) /* 100 MB */
#define KILL_AT (40u * 1000 * 1000)

static party alice;
static pid_t child = -1;
static int child_fd = -1; /* the receiver's lines: "port N", "done", "failed" */
static int killed;
static uint64_t out_at_resume;

/* ---- the receiver's process ---- */

static int report_fd = -1;

static void receiver_event(party *x, const char *type, json_t *d)
{
    (void)x, (void)d;
    if (!strcmp(type, "transfer.done")) dprintf(report_fd, "done\n");
    if (!strcmp(type, "transfer.failed")) dprintf(report_fd, "failed\n");
}

static char *read_or_die(const char *dir, const char *name)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    char *s = sc_testcert_read_file(path, NULL);
    if (!s) {
        fprintf(stderr, "receiver: cannot read %s\n", path);
        exit(1);
    }
    return s;
}

static int receiver_main(const char *dir, int fd)
{
    static party bob;
    struct sockaddr_storage ss;
    snprintf(cur, sizeof(cur), "%s", dir);
    report_fd = fd;
    root_pem = read_or_die(dir, "root.pem");
    bob.chain = read_or_die(dir, "bob.crt");
    bob.key = read_or_die(dir, "bob.key");
    snprintf(bob.user, sizeof(bob.user), "bob@example.org");
    snprintf(bob.device, sizeof(bob.device), "dev-bob");
    bob.on_event = receiver_event;
    if (uv_loop_init(&loop) || uv_timer_init(&loop, &guard)) return 1;
    party_open(&bob, "bob");
    if (agent_peer_listen_addr(bob.p, 0, &ss)) return 1;
    dprintf(fd, "port %u\n", ntohs(((struct sockaddr_in *)&ss)->sin_port));
    uv_run(&loop, UV_RUN_DEFAULT); /* until killed */
    return 0;
}

/* ---- the sender's side ---- */

static void write_text(const char *name, const char *text)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/%s", cur, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

/* Reads one line from the receiver (blocking). */
static void child_line(char *out, size_t cap)
{
    size_t k = 0;
    while (k + 1 < cap) {
        char c;
        ssize_t n = read(child_fd, &c, 1);
        if (n < 0 && errno == EINTR) continue;
        assert_int_equal(n, 1);
        if (c == '\n') break;
        out[k++] = c;
    }
    out[k] = '\0';
}

/* Starts the receiver's process; returns its listening address. */
static void spawn(struct sockaddr_storage *ss)
{
    int p[2];
    char fdtext[16], line[64];
    assert_int_equal(pipe(p), 0);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        close(p[0]);
        snprintf(fdtext, sizeof(fdtext), "%d", p[1]);
        execl("/proc/self/exe", "test_agent_xfer_kill", "--receiver", cur, fdtext, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    child_fd = p[0];
    child_line(line, sizeof(line));
    unsigned port = 0;
    assert_int_equal(sscanf(line, "port %u", &port), 1);
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    memset(ss, 0, sizeof(*ss));
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    a->sin_addr.s_addr = htonl(0x7f000001);
}

static void reap(int sig)
{
    int status;
    if (child <= 0) return;
    if (sig) kill(child, sig);
    assert_int_equal(waitpid(child, &status, 0), child);
    child = -1;
    close(child_fd);
    child_fd = -1;
}

static void kill_mid_file(party *x)
{
    if (!killed && x->bytes_out >= KILL_AT) {
        killed = 1;
        assert_int_equal(kill(child, SIGKILL), 0);
    }
}

static void on_alice_event(party *x, const char *type, json_t *d)
{
    (void)d;
    if (!strcmp(type, "transfer.resumed")) out_at_resume = x->bytes_out;
}

static char done_line[64];

static int receiver_said(void *arg)
{
    (void)arg;
    size_t k = strlen(done_line);
    char c;
    while (k + 1 < sizeof(done_line) && read(child_fd, &c, 1) == 1) {
        if (c == '\n') return 1;
        done_line[k++] = c;
        done_line[k] = '\0';
    }
    return 0;
}

static void test_kill_receiver_mid_file(void **state)
{
    (void)state;
    int64_t now = (int64_t)time(NULL);
    struct sockaddr_storage ss;
    char path[500], part[600], dst[600];
    uint8_t bob_fp[32];

    /* bob's identity and store, prepared here for the receiver's process */
    sc_testcert_opts o = {.key_type = SC_TESTKEY_P256,
                          .user_id = "bob@example.org",
                          .not_before = now - 3600,
                          .not_after = now + 86400};
    sc_testcert *tc = sc_testcert_user(root, &o);
    char *crt = sc_testcert_cert_pem(tc), *key = sc_testcert_key_pem(tc);
    write_text("root.pem", root_pem);
    write_text("bob.crt", crt);
    write_text("bob.key", key);
    sc_testcert_fingerprint(crt, bob_fp);
    free(crt);
    free(key);
    sc_testcert_free(tc);
    agent_store *st;
    snprintf(path, sizeof(path), "%s/bob.db", cur);
    assert_int_equal(agent_store_open(path, &st), SC_OK);
    agent_contact c;
    memset(&c, 0, sizeof(c));
    snprintf(c.user, sizeof(c.user), "alice@example.org");
    c.added_ms = 1;
    assert_int_equal(agent_store_contact_put(st, &c), SC_OK);
    agent_store_close(st);

    party_start(&alice, "alice");
    alice.on_out = kill_mid_file;
    alice.on_event = on_alice_event;
    snprintf(path, sizeof(path), "%s/big.bin", cur);
    write_file(path, SIZE, 7);

    uint64_t t0 = sc_clock_ms();
    spawn(&ss);
    dial_addr(&alice, "bob@example.org", "dev-bob", bob_fp, &ss);
    alice.downs = 0;
    sent s;
    send_file(&alice, "bob@example.org", path, &s);
    /* kill -9 once 40 MB were handed to the session; the session ends */
    run_until(down_count, &alice);
    assert_true(killed);
    reap(0);
    snprintf(part, sizeof(part), "%s/bob-downloads/big.bin.part", cur);
    struct stat sb;
    assert_int_equal(stat(part, &sb), 0);
    uint64_t have = (uint64_t)sb.st_size;
    assert_true(have > 0);
    assert_true(have < SIZE);

    /* restart: the receiver asks from its .part, the sender sends only the rest */
    int from = alice.n_ev;
    spawn(&ss);
    assert_int_equal(fcntl(child_fd, F_SETFL, O_NONBLOCK), 0);
    dial_addr(&alice, "bob@example.org", "dev-bob", bob_fp, &ss);
    int i = wait_ev(&alice, "transfer.resumed", from);
    uint64_t resumed = alice.ev_offset[i];
    assert_int_equal(resumed, have);
    done_line[0] = '\0';
    run_until(receiver_said, NULL);
    assert_string_equal(done_line, "done");
    wait_ev(&alice, "transfer.sent", from);
    assert_int_equal(alice.bytes_out - out_at_resume, SIZE - resumed);
    uint64_t t1 = sc_clock_ms();

    snprintf(dst, sizeof(dst), "%s/bob-downloads/big.bin", cur);
    uint8_t a[32], b[32];
    sha256_file(path, a);
    sha256_file(dst, b);
    assert_memory_equal(a, b, 32);
    assert_int_equal(access(part, F_OK), -1);
    fprintf(stderr,
            "figures: 100 MB, receiver killed with %llu bytes in its .part, resumed from %llu, "
            "%llu bytes sent after the restart, %llu ms in all\n",
            (unsigned long long)have, (unsigned long long)resumed,
            (unsigned long long)(alice.bytes_out - out_at_resume), (unsigned long long)(t1 - t0));
    reap(SIGKILL);
    party_stop(&alice);
    drain();
}

static int teardown(void **state)
{
    if (child > 0) reap(SIGKILL);
    return xt_teardown(state);
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "--receiver")) return receiver_main(argv[2], atoi(argv[3]));
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_receiver_mid_file),
    };
    return cmocka_run_group_tests(tests, xt_setup, teardown);
}
