/*
 * xfer_testlib.c - see xfer_testlib.h.
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

#include "sixchat/platform.h"
#include "xfer_testlib.h"

uv_loop_t loop;
uv_timer_t guard;
sc_testcert *root;
char *root_pem;
char tmp[200];
char cur[240];

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
    party *x = ctx;
    int rc = agent_peer_send_file(x->p, peer, device, id, off, d, n);
    if (rc == SC_OK) x->bytes_out += n;
    if (x->on_out) x->on_out(x);
    return rc;
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
    if (strcmp(type, "transfer.progress")) /* the sequence, for a failure's output */
        fprintf(stderr, "[%s] %s offset %llu\n", x->user, type,
                (unsigned long long)x->ev_offset[i]);
    if (x->on_event) x->on_event(x, type, data);
    json_decref(data);
}

void xfer_start(party *x)
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

void peer_start(party *x)
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

void party_start(party *x, const char *name)
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
    party_open(x, name);
}

void party_open(party *x, const char *name)
{
    struct stat sb;
    sc_testcert_fingerprint(x->chain, x->fp);
    snprintf(x->db, sizeof(x->db), "%s/%s.db", cur, name);
    snprintf(x->dl, sizeof(x->dl), "%s/%s-downloads", cur, name);
    if (stat(x->dl, &sb) != 0) assert_int_equal(mkdir(x->dl, 0700), 0);
    assert_int_equal(agent_store_open(x->db, &x->st), SC_OK);
    peer_start(x);
    xfer_start(x);
}

/* Stops the party's modules (the store stays on disk); the loop closes their handles. */
void party_halt(party *x)
{
    agent_xfer_free(x->x);
    agent_peer_free(x->p);
    x->x = NULL;
    x->p = NULL;
}

void party_stop(party *x)
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

void run_until(int (*cond)(void *), void *arg)
{
    uint64_t until = sc_clock_ms() + BOUND_MS;
    uv_timer_start(&guard, on_guard, 10, 10);
    while (!cond(arg)) {
        if (sc_clock_ms() > until) fail_msg("the condition did not hold within %d ms", BOUND_MS);
        (void)uv_run(&loop, UV_RUN_ONCE);
    }
    uv_timer_stop(&guard);
}

void drain(void)
{
    uv_timer_stop(&guard);
    uv_unref((uv_handle_t *)&guard);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    uv_ref((uv_handle_t *)&guard);
}

/* ---- what the tests wait for ---- */

int up_count(void *arg)
{
    return ((party *)arg)->ups > 0;
}

int down_count(void *arg)
{
    return ((party *)arg)->downs > 0;
}

int find_ev(party *x, const char *type, int from)
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

int wait_ev(party *x, const char *type, int from)
{
    want_ev w = {x, type, from};
    run_until(has_ev, &w);
    return find_ev(x, type, from);
}

void dial_addr(party *from, const char *user, const char *device, const uint8_t fp[32],
               const struct sockaddr_storage *addr)
{
    agent_peer_view v;
    memset(&v, 0, sizeof(v));
    snprintf(v.user, sizeof(v.user), "%s", user);
    v.n_devices = 1;
    snprintf(v.devices[0].id, sizeof(v.devices[0].id), "%s", device);
    v.devices[0].addrs[0] = *addr;
    v.devices[0].n_addrs = 1;
    memcpy(v.cert_fps[0], fp, 32);
    v.n_certs = 1;
    from->ups = 0;
    assert_int_equal(agent_peer_dial(from->p, &v, NULL), SC_OK);
    run_until(up_count, from);
}

void dial(party *from, party *to)
{
    struct sockaddr_storage ss;
    assert_int_equal(agent_peer_listen_addr(to->p, 0, &ss), SC_OK);
    to->ups = 0;
    dial_addr(from, to->user, to->device, to->fp, &ss);
    run_until(up_count, to);
}

void make_contact(party *x, const char *user)
{
    agent_contact c;
    memset(&c, 0, sizeof(c));
    snprintf(c.user, sizeof(c.user), "%s", user);
    c.added_ms = 1;
    assert_int_equal(agent_store_contact_put(x->st, &c), SC_OK);
}

/* A file of n pseudo-random bytes (seeded: reproducible). */
void write_file(const char *path, size_t n, unsigned seed)
{
    FILE *f = fopen(path, "wb");
    static uint8_t buf[65536];
    assert_non_null(f);
    uint32_t s = seed * 2654435761u + 1;
    while (n > 0) {
        size_t k = n < sizeof(buf) ? n : sizeof(buf);
        for (size_t i = 0; i < k; i++) {
            s = s * 1103515245u + 12345u;
            buf[i] = (uint8_t)(s >> 16);
        }
        assert_int_equal(fwrite(buf, 1, k, f), k);
        n -= k;
    }
    assert_int_equal(fclose(f), 0);
}

void sha256_file(const char *path, uint8_t out[32])
{
    FILE *f = fopen(path, "rb");
    static uint8_t buf[65536];
    size_t k;
    unsigned int n = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_non_null(f);
    assert_non_null(md);
    assert_int_equal(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
    while ((k = fread(buf, 1, sizeof(buf), f)) > 0)
        assert_int_equal(EVP_DigestUpdate(md, buf, k), 1);
    assert_int_equal(EVP_DigestFinal_ex(md, out, &n), 1);
    EVP_MD_CTX_free(md);
    fclose(f);
}

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

void send_file(party *from, const char *to, const char *path, sent *s)
{
    memset(s, 0, sizeof(*s));
    assert_int_equal(agent_xfer_send(from->x, to, path, on_sent, s), SC_OK);
    run_until(sent_done, s);
    assert_int_equal(s->err, SC_OK);
}

/* Names in dir (not . and ..), joined by '|', sorted by readdir order. */
void list_dir(const char *dir, char *out, size_t cap)
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

/* ---- cmocka group setup ---- */

int xt_setup(void **state)
{
    (void)state;
    int64_t now = (int64_t)time(NULL);
    snprintf(tmp, sizeof(tmp), "/tmp/sc-xfer-XXXXXX");
    if (!mkdtemp(tmp)) return -1;
    snprintf(cur, sizeof(cur), "%s", tmp);
    root = sc_testcert_root(SC_TESTKEY_P256, "xfer test root", now - 86400, now + 86400 * 30);
    root_pem = sc_testcert_cert_pem(root);
    if (uv_loop_init(&loop) || uv_timer_init(&loop, &guard)) return -1;
    return 0;
}

int xt_teardown(void **state)
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
