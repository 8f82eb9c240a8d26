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

#include "agent_peer.h"
#include "agent_xfer.h"
#include "sc_testcert.h"
#include "sixchat/platform.h"

#define BOUND_MS 30000 /* a hang, not a slow machine */
#define MAX_EV 4096

static uv_loop_t loop;
static uv_timer_t guard;
static sc_testcert *root;
static char *root_pem;
static char tmp[200]; /* the test's directory */
static char cur[240]; /* this test case's */

typedef struct party {
    char user[64], device[32];
    char *chain, *key;
    uint8_t fp[32];
    char db[300], dl[300];
    agent_store *st;
    agent_peer *p;
    agent_xfer *x;
    int ups, downs;
    uint64_t bytes_in;  /* file bytes handed to agent_xfer_file_data */
    uint64_t up_sid;    /* the latest session up */
    uint64_t bytes_new; /* file bytes that came on it */
    uint64_t cut_at;    /* close the session once bytes_in passes this (0: never) */
    int n_ev;
    char ev_type[MAX_EV][32];
    char ev_id[MAX_EV][72];
    uint64_t ev_offset[MAX_EV];
    char ev_state[MAX_EV][16];
    char ev_path[MAX_EV][600];
} party;

static party alice, bob;

/* ---- the parties ---- */

static sc_config *make_config(void *ctx)
{
    party *x = ctx;
    static const char *const domains[] = {"example.org"};
    sc_config *cfg = sc_config_new();
    if (!cfg) return NULL;
    sc_config_set_random(cfg, sc_random_system, NULL);
    if (sc_config_set_identity_pem(cfg, x->chain, strlen(x->chain), x->key, strlen(x->key)) ||
        sc_config_add_trust_anchor_pem(cfg, root_pem, strlen(root_pem), domains, 1)) {
        sc_config_free(cfg);
        return NULL;
    }
    return cfg;
}

static void p_up(void *ctx, const agent_peer_info *i)
{
    party *x = ctx;
    x->ups++;
    x->up_sid = i->sid;
    x->bytes_new = 0;
    agent_xfer_session_up(x->x, i->user, i->device);
}

static void p_down(void *ctx, const agent_peer_info *i, agent_peer_down_why why, int err)
{
    party *x = ctx;
    (void)why, (void)err;
    x->downs++;
    agent_xfer_session_down(x->x, i->user, i->device);
}

static void p_stanza(void *ctx, const agent_peer_info *i, const sc_stanza *st)
{
    party *x = ctx;
    (void)agent_xfer_stanza(x->x, i->user, i->device, st);
}

static void p_file(void *ctx, const agent_peer_info *i, const char *id, uint64_t offset,
                   const uint8_t *data, size_t len)
{
    party *x = ctx;
    x->bytes_in += len;
    if (i->sid == x->up_sid) x->bytes_new += len;
    agent_xfer_file_data(x->x, i->user, i->device, id, offset, data, len);
    if (x->cut_at && x->bytes_in >= x->cut_at) {
        x->cut_at = 0;
        (void)agent_peer_close_user(x->p, i->user, NULL);
    }
}

static void p_drained(void *ctx, const agent_peer_info *i)
{
    party *x = ctx;
    agent_xfer_drained(x->x, i->user, i->device);
}

static void p_dial(void *ctx, const agent_peer_dial_result *r)
{
    if (r->err) fprintf(stderr, "[%s] dial %s: %s\n", ((party *)ctx)->user, r->user, r->why);
}

static void p_log(void *ctx, const char *line)
{
    fprintf(stderr, "[%s] %s\n", ((party *)ctx)->user, line);
}

static int x_send(void *ctx, const char *peer, const char *device, const sc_stanza *st)
{
    party *x = ctx;
    int rc = agent_peer_send(x->p, peer, device, st);
    return rc > 0 ? rc : 0;
}

static int x_send_file(void *ctx, const char *peer, const char *device, const char *id,
                       uint64_t off, const uint8_t *d, size_t n)
{
    return agent_peer_send_file(((party *)ctx)->p, peer, device, id, off, d, n);
}

static void x_emit(void *ctx, const char *type, json_t *data)
{
    party *x = ctx;
    assert_true(x->n_ev < MAX_EV);
    int i = x->n_ev++;
    snprintf(x->ev_type[i], sizeof(x->ev_type[i]), "%s", type);
    const char *s = json_string_value(json_object_get(data, "id"));
    snprintf(x->ev_id[i], sizeof(x->ev_id[i]), "%s", s ? s : "");
    x->ev_offset[i] = (uint64_t)json_integer_value(json_object_get(data, "offset"));
    s = json_string_value(json_object_get(data, "state"));
    snprintf(x->ev_state[i], sizeof(x->ev_state[i]), "%s", s ? s : "");
    s = json_string_value(json_object_get(data, "path"));
    snprintf(x->ev_path[i], sizeof(x->ev_path[i]), "%s", s ? s : "");
    json_decref(data);
}

static void xfer_start(party *x)
{
    agent_xfer_env env = {.loop = &loop,
                          .st = x->st,
                          .downloads = x->dl,
                          .ctx = x,
                          .send = x_send,
                          .send_file = x_send_file,
                          .emit = x_emit,
                          .log = p_log};
    assert_int_equal(agent_xfer_new(&env, &x->x), SC_OK);
}

static void peer_start(party *x)
{
    static const char *const listen[] = {"127.0.0.1:0"};
    char err[256];
    agent_peer_opts po = {.loop = &loop,
                          .make_config = make_config,
                          .config_ctx = x,
                          .device_id = x->device,
                          .listen = listen,
                          .n_listen = 1,
                          .cb = {.up = p_up,
                                 .down = p_down,
                                 .stanza = p_stanza,
                                 .file_data = p_file,
                                 .drained = p_drained,
                                 .dial_result = p_dial,
                                 .log = p_log},
                          .ctx = x};
    assert_int_equal(agent_peer_new(&po, &x->p, err, sizeof(err)), SC_OK);
}

static void party_start(party *x, const char *name)
{
    int64_t now = (int64_t)time(NULL);
    memset(x, 0, sizeof(*x));
    snprintf(x->user, sizeof(x->user), "%s@example.org", name);
    snprintf(x->device, sizeof(x->device), "dev-%s", name);
    sc_testcert_opts o = {.key_type = SC_TESTKEY_P256,
                          .user_id = x->user,
                          .not_before = now - 3600,
                          .not_after = now + 86400};
    sc_testcert *tc = sc_testcert_user(root, &o);
    x->chain = sc_testcert_cert_pem(tc);
    x->key = sc_testcert_key_pem(tc);
    sc_testcert_free(tc);
    sc_testcert_fingerprint(x->chain, x->fp);
    snprintf(x->db, sizeof(x->db), "%s/%s.db", cur, name);
    snprintf(x->dl, sizeof(x->dl), "%s/%s-downloads", cur, name);
    assert_int_equal(mkdir(x->dl, 0700), 0);
    assert_int_equal(agent_store_open(x->db, &x->st), SC_OK);
    peer_start(x);
    xfer_start(x);
}

/* Stops the party's modules (the store stays on disk); the loop closes their handles. */
static void party_halt(party *x)
{
    agent_xfer_free(x->x);
    agent_peer_free(x->p);
    x->x = NULL;
    x->p = NULL;
}

static void party_stop(party *x)
{
    party_halt(x);
    agent_store_close(x->st);
    free(x->chain);
    free(x->key);
}

static void on_guard(uv_timer_t *t)
{
    (void)t;
}

static void run_until(int (*cond)(void *), void *arg)
{
    uint64_t until = sc_clock_ms() + BOUND_MS;
    uv_timer_start(&guard, on_guard, 10, 10);
    while (!cond(arg)) {
        if (sc_clock_ms() > until) fail_msg("the condition did not hold within %d ms", BOUND_MS);
        (void)uv_run(&loop, UV_RUN_ONCE);
    }
    uv_timer_stop(&guard);
}

static void drain(void)
{
    uv_timer_stop(&guard);
    uv_unref((uv_handle_t *)&guard);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    uv_ref((uv_handle_t *)&guard);
}

/* ---- what the tests wait for ---- */

static int up_count(void *arg)
{
    return ((party *)arg)->ups > 0;
}

static int down_count(void *arg)
{
    return ((party *)arg)->downs > 0;
}

typedef struct want_ev {
    party *x;
    const char *type;
    int from; /* only events from this index on */
} want_ev;

static int find_ev(party *x, const char *type, int from)
{
    for (int i = from; i < x->n_ev; i++)
        if (!strcmp(x->ev_type[i], type)) return i;
    return -1;
}

static int has_ev(void *arg)
{
    want_ev *w = arg;
    return find_ev(w->x, w->type, w->from) >= 0;
}

static int wait_ev(party *x, const char *type, int from)
{
    want_ev w = {x, type, from};
    run_until(has_ev, &w);
    return find_ev(x, type, from);
}

static void dial(party *from, party *to)
{
    agent_peer_view v;
    memset(&v, 0, sizeof(v));
    snprintf(v.user, sizeof(v.user), "%s", to->user);
    v.n_devices = 1;
    snprintf(v.devices[0].id, sizeof(v.devices[0].id), "%s", to->device);
    assert_int_equal(agent_peer_listen_addr(to->p, 0, &v.devices[0].addrs[0]), SC_OK);
    v.devices[0].n_addrs = 1;
    memcpy(v.cert_fps[0], to->fp, 32);
    v.n_certs = 1;
    from->ups = to->ups = 0;
    assert_int_equal(agent_peer_dial(from->p, &v, NULL), SC_OK);
    run_until(up_count, from);
    run_until(up_count, to);
}

static void make_contact(party *x, const char *user)
{
    agent_contact c;
    memset(&c, 0, sizeof(c));
    snprintf(c.user, sizeof(c.user), "%s", user);
    c.added_ms = 1;
    assert_int_equal(agent_store_contact_put(x->st, &c), SC_OK);
}

/* A file of n pseudo-random bytes (seeded: reproducible). */
static void write_file(const char *path, size_t n, unsigned seed)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint32_t s = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        assert_int_equal(fputc((int)(s >> 16) & 0xff, f), (int)(s >> 16) & 0xff);
    }
    assert_int_equal(fclose(f), 0);
}

static void sha256_file(const char *path, uint8_t out[32])
{
    size_t len = 0;
    char *d = sc_testcert_read_file(path, &len);
    assert_non_null(d);
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(d, len, out, &n, EVP_sha256(), NULL), 1);
    free(d);
}

typedef struct sent {
    int done, err;
    char id[72];
} sent;

static void on_sent(void *ctx, int err, const char *id, const char *why)
{
    sent *s = ctx;
    (void)why;
    s->done = 1;
    s->err = err;
    snprintf(s->id, sizeof(s->id), "%s", id ? id : "");
}

static int sent_done(void *arg)
{
    return ((sent *)arg)->done;
}

static void send_file(party *from, party *to, const char *path, sent *s)
{
    memset(s, 0, sizeof(*s));
    assert_int_equal(agent_xfer_send(from->x, to->user, path, on_sent, s), SC_OK);
    run_until(sent_done, s);
    assert_int_equal(s->err, SC_OK);
}

/* Names in dir (not . and ..), joined by '|', sorted by readdir order. */
static void list_dir(const char *dir, char *out, size_t cap)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    out[0] = '\0';
    assert_non_null(d);
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        size_t k = strlen(out);
        snprintf(out + k, cap - k, "%s%s", k ? "|" : "", e->d_name);
    }
    closedir(d);
}

/* ---- setup ---- */

static int setup(void **state)
{
    (void)state;
    int64_t now = (int64_t)time(NULL);
    snprintf(tmp, sizeof(tmp), "/tmp/sc-xfer-XXXXXX");
    if (!mkdtemp(tmp)) return -1;
    root = sc_testcert_root(SC_TESTKEY_P256, "xfer test root", now - 86400, now + 86400 * 30);
    root_pem = sc_testcert_cert_pem(root);
    if (uv_loop_init(&loop) || uv_timer_init(&loop, &guard)) return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    uv_close((uv_handle_t *)&guard, NULL);
    if (uv_run(&loop, UV_RUN_DEFAULT) || uv_loop_close(&loop)) return -1;
    sc_testcert_free(root);
    free(root_pem);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

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
    send_file(&alice, &bob, src, &s);
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
    send_file(&alice, &bob, src, &s);
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
    send_file(&alice, &bob, src, &s);
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
    send_file(&alice, &bob, src, &s);
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
    send_file(&alice, &bob, src, &s);
    wait_ev(&bob, "transfer.refused", 0);
    wait_ev(&alice, "transfer.rejected", 0);
    char names[1024];
    list_dir(bob.dl, names, sizeof(names));
    assert_string_equal(names, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sanitise_table),
        cmocka_unit_test_setup_teardown(test_transfer_checksum, each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(test_name_stays_inside, each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(test_resume_after_cut, each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(test_resume_after_receiver_restart, each_setup,
                                        each_teardown),
        cmocka_unit_test_setup_teardown(test_bad_checksum, each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(test_too_large_refused, each_setup, each_teardown),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
