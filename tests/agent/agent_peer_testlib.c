/*
 * agent_peer_testlib.c - see agent_peer_testlib.h.
 */
#include "agent_peer_testlib.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sixchat/platform.h"

t_pki t_g;
uv_loop_t t_loop;
static uv_timer_t guard;

static void on_guard(uv_timer_t *t)
{
    (void)t; /* wakes uv_run(UV_RUN_ONCE) so the runner re-checks its condition */
}

int t_setup(void **state)
{
    int64_t now = (int64_t)time(NULL);
    (void)state;
    t_g.root = sc_testcert_root(SC_TESTKEY_P256, "agent test root", now - 86400, now + 30 * 86400);
    t_g.other_root =
        sc_testcert_root(SC_TESTKEY_P256, "someone else's root", now - 86400, now + 30 * 86400);
    t_g.root_pem = sc_testcert_cert_pem(t_g.root);
    if (uv_loop_init(&t_loop) != 0 || uv_timer_init(&t_loop, &guard) != 0) return -1;
    return 0;
}

int t_teardown(void **state)
{
    (void)state;
    uv_close((uv_handle_t *)&guard, NULL);
    if (uv_run(&t_loop, UV_RUN_DEFAULT) != 0 || uv_loop_close(&t_loop) != 0) return -1;
    sc_testcert_free(t_g.root);
    sc_testcert_free(t_g.other_root);
    free(t_g.root_pem);
    return 0;
}

sc_config *t_make_config(void *ctx)
{
    const t_party *x = ctx;
    static const char *const domains[] = {"example.org"};
    sc_config *cfg = sc_config_new();
    if (cfg == NULL) return NULL;
    sc_config_set_random(cfg, sc_random_system, NULL);
    if (sc_config_set_identity_pem(cfg, x->chain, strlen(x->chain), x->key, strlen(x->key)) !=
            SC_OK ||
        sc_config_add_trust_anchor_pem(cfg, x->trust_pem, strlen(x->trust_pem), domains, 1) !=
            SC_OK) {
        sc_config_free(cfg);
        return NULL;
    }
    return cfg;
}

static void on_up(void *ctx, const agent_peer_info *i)
{
    t_party *x = ctx;
    x->ups++;
    x->up_sid = i->sid;
    x->up_initiator = i->initiator;
    snprintf(x->up_user, sizeof x->up_user, "%s", i->user);
    snprintf(x->up_device, sizeof x->up_device, "%s", i->device);
    memcpy(x->up_fp, i->cert_fp, 32);
    assert_non_null(i->cert_der);
    assert_true(i->cert_len > 0);
}

static void on_down(void *ctx, const agent_peer_info *i, agent_peer_down_why why, int err)
{
    t_party *x = ctx;
    assert_true(x->downs < T_MAX_EVENTS);
    snprintf(x->down_user[x->downs], sizeof x->down_user[0], "%s", i->user);
    x->down_why[x->downs] = why;
    x->down_err[x->downs] = err;
    x->downs++;
}

static void on_stanza(void *ctx, const agent_peer_info *i, const sc_stanza *st)
{
    t_party *x = ctx;
    (void)i;
    if (x->stanzas >= T_MAX_EVENTS) { /* counted, not kept */
        x->stanzas++;
        return;
    }
    snprintf(x->stanza_id[x->stanzas], sizeof x->stanza_id[0], "%s", st->id);
    if (st->type == SC_STANZA_MSG)
        snprintf(x->stanza_text[x->stanzas], sizeof x->stanza_text[0], "%.*s",
                 (int)(st->text_len < 127 ? st->text_len : 127), st->text);
    x->stanzas++;
}

static void on_file(void *ctx, const agent_peer_info *i, const char *id, uint64_t offset,
                    const uint8_t *data, size_t len)
{
    t_party *x = ctx;
    (void)i, (void)id;
    x->file = realloc(x->file, (size_t)offset + len);
    assert_non_null(x->file);
    memcpy(x->file + offset, data, len);
    if (offset + len > x->file_len) x->file_len = (size_t)offset + len;
}

static void on_drained(void *ctx, const agent_peer_info *i)
{
    t_party *x = ctx;
    (void)i;
    x->drains++;
}

static void on_dial(void *ctx, const agent_peer_dial_result *r)
{
    t_party *x = ctx;
    assert_true(x->dials < T_MAX_EVENTS);
    x->dial_err[x->dials] = r->err;
    snprintf(x->dial_why[x->dials], sizeof x->dial_why[0], "%s", r->why);
    x->dial_pin_mismatch[x->dials] = r->pin_mismatch;
    if (r->pin_mismatch) memcpy(x->dial_seen_fp, r->seen_fp, 32);
    x->dials++;
}

static void on_freed(void *ctx)
{
    ((t_party *)ctx)->freed++;
}

static void on_log(void *ctx, const char *line)
{
    t_party *x = ctx;
    fprintf(stderr, "[%s] %s\n", x->user, line);
    if (x->logs < T_MAX_EVENTS) snprintf(x->log[x->logs], sizeof x->log[0], "%s", line);
    x->logs++;
}

static void start(t_party *x, const char *device, const agent_peer_limits *lim);

void t_party_start(t_party *x, const char *user, const char *device, int untrusted,
                   const agent_peer_limits *lim)
{
    int64_t now = (int64_t)time(NULL);
    memset(x, 0, sizeof *x);
    snprintf(x->user, sizeof x->user, "%s", user);
    sc_testcert_opts o = {.key_type = SC_TESTKEY_P256,
                          .user_id = user,
                          .not_before = now - 3600,
                          .not_after = now + 30 * 86400};
    sc_testcert *tc = sc_testcert_user(untrusted ? t_g.other_root : t_g.root, &o);
    x->chain = sc_testcert_cert_pem(tc);
    x->key = sc_testcert_key_pem(tc);
    sc_testcert_free(tc);
    start(x, device, lim);
}

void t_party_start_same_key(t_party *x, const t_party *src, const char *device)
{
    memset(x, 0, sizeof *x);
    snprintf(x->user, sizeof x->user, "%s", src->user);
    x->chain = strdup(src->chain);
    x->key = strdup(src->key);
    assert_non_null(x->chain);
    assert_non_null(x->key);
    start(x, device, NULL);
}

static void start(t_party *x, const char *device, const agent_peer_limits *lim)
{
    static const char *const listen[] = {"127.0.0.1:0"};
    char err[256];
    sc_testcert_fingerprint(x->chain, x->fp);
    x->trust_pem = t_g.root_pem;
    agent_peer_opts po = {.loop = &t_loop,
                          .make_config = t_make_config,
                          .config_ctx = x,
                          .device_id = device,
                          .listen = listen,
                          .n_listen = 1,
                          .cb = {.up = on_up,
                                 .down = on_down,
                                 .stanza = on_stanza,
                                 .file_data = on_file,
                                 .drained = on_drained,
                                 .dial_result = on_dial,
                                 .log = on_log,
                                 .freed = on_freed},
                          .ctx = x};
    if (lim != NULL) po.limits = *lim;
    assert_int_equal(agent_peer_new(&po, &x->p, err, sizeof err), SC_OK);
}

void t_party_stop(t_party *x)
{
    agent_peer_free(x->p);
    x->p = NULL;
    free(x->chain);
    free(x->key);
    free(x->file);
    x->chain = x->key = NULL;
    x->file = NULL;
}

void t_drain(void)
{
    /* With the guard stopped, the loop ends once every manager's handles are closed. */
    uv_timer_stop(&guard);
    uv_unref((uv_handle_t *)&guard);
    assert_int_equal(uv_run(&t_loop, UV_RUN_DEFAULT), 0);
    uv_ref((uv_handle_t *)&guard);
}

void t_view(const t_party *x, const char *device, agent_peer_view *v)
{
    memset(v, 0, sizeof *v);
    snprintf(v->user, sizeof v->user, "%s", x->user);
    v->n_devices = 1;
    snprintf(v->devices[0].id, sizeof v->devices[0].id, "%s", device);
    assert_int_equal(agent_peer_listen_addr(x->p, 0, &v->devices[0].addrs[0]), SC_OK);
    v->devices[0].n_addrs = 1;
    memcpy(v->cert_fps[0], x->fp, 32);
    v->n_certs = 1;
}

void t_run_until(int (*cond)(void *), void *arg)
{
    uint64_t until = sc_clock_ms() + T_BOUND_MS;
    uv_timer_start(&guard, on_guard, 10, 10);
    while (!cond(arg)) {
        if (sc_clock_ms() > until) {
            uv_timer_stop(&guard);
            fail_msg("the condition did not hold within %d ms", T_BOUND_MS);
        }
        (void)uv_run(&t_loop, UV_RUN_ONCE);
    }
    uv_timer_stop(&guard);
}

int t_send_msg(t_party *from, const char *to, const char *id, const char *text)
{
    sc_stanza st = {.type = SC_STANZA_MSG,
                    .id = id,
                    .ts = sc_clock_ms(),
                    .text = text,
                    .text_len = strlen(text)};
    return agent_peer_send(from->p, to, NULL, &st);
}

int t_logged(const t_party *x, const char *needle)
{
    for (int i = 0; i < x->logs && i < T_MAX_EVENTS; i++)
        if (strstr(x->log[i], needle) != NULL) return 1;
    return 0;
}

int t_cond_up(void *party)
{
    return ((t_party *)party)->ups > 0;
}

int t_cond_dialled(void *party)
{
    return ((t_party *)party)->dials > 0;
}

int t_raw_connect(const t_party *x)
{
    struct sockaddr_storage ss;
    int fd;
    assert_int_equal(agent_peer_listen_addr(x->p, 0, &ss), SC_OK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&ss, sizeof(struct sockaddr_in)), 0);
    return fd;
}
