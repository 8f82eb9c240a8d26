/*
 * test_agent_peer.c - the peer layer (src/agent/agent_peer.h) over real TCP
 * on loopback: managers in one process, one libuv loop, certificates made in
 * code and valid around the real clock (the manager reads sc_clock_ms()).
 * No sleeps: the loop runs until a condition holds, with a generous bound
 * that only catches a hang.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "agent_peer.h"
#include "agent_peer_addr.h"
#include "sc_testcert.h"
#include "sixchat/platform.h"

/* ---- certificates valid now ------------------------------------------- */

typedef struct pki {
    sc_testcert *root;
    char *root_pem;
} pki;

typedef struct ident {
    char *chain, *key;
    const char *root_pem;
} ident;

static pki g_pki;

static void pki_make(void)
{
    int64_t now = (int64_t)time(NULL);
    g_pki.root =
        sc_testcert_root(SC_TESTKEY_P256, "agent test root", now - 86400, now + 30 * 86400);
    g_pki.root_pem = sc_testcert_cert_pem(g_pki.root);
}

static void ident_make(ident *id, const char *user)
{
    int64_t now = (int64_t)time(NULL);
    sc_testcert_opts o = {.key_type = SC_TESTKEY_P256,
                          .user_id = user,
                          .not_before = now - 3600,
                          .not_after = now + 30 * 86400};
    sc_testcert *tc = sc_testcert_user(g_pki.root, &o);
    id->chain = sc_testcert_cert_pem(tc);
    id->key = sc_testcert_key_pem(tc);
    id->root_pem = g_pki.root_pem;
    sc_testcert_free(tc);
}

static void ident_free(ident *id)
{
    free(id->chain);
    free(id->key);
}

static sc_config *make_config(void *ctx)
{
    const ident *id = ctx;
    static const char *const domains[] = {"example.org"};
    sc_config *cfg = sc_config_new();
    if (cfg == NULL) return NULL;
    sc_config_set_random(cfg, sc_random_system, NULL);
    if (sc_config_set_identity_pem(cfg, id->chain, strlen(id->chain), id->key, strlen(id->key)) !=
            SC_OK ||
        sc_config_add_trust_anchor_pem(cfg, id->root_pem, strlen(id->root_pem), domains, 1) !=
            SC_OK) {
        sc_config_free(cfg);
        return NULL;
    }
    return cfg;
}

static int setup(void **state)
{
    (void)state;
    pki_make();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sc_testcert_free(g_pki.root);
    free(g_pki.root_pem);
    return 0;
}

/* ---- tests --------------------------------------------------------------- */

/* Listening on an ephemeral port reports the real port; free leaves nothing behind. */
static void test_listen_and_free(void **state)
{
    (void)state;
    uv_loop_t loop;
    ident alice;
    agent_peer *p = NULL;
    struct sockaddr_storage ss;
    char err[256];
    const char *const listen[] = {"127.0.0.1:0", "[::1]:0"};
    assert_int_equal(uv_loop_init(&loop), 0);
    ident_make(&alice, "alice@example.org");
    agent_peer_opts o = {.loop = &loop,
                         .make_config = make_config,
                         .config_ctx = &alice,
                         .device_id = "laptop",
                         .listen = listen,
                         .n_listen = 2};
    assert_int_equal(agent_peer_new(&o, &p, err, sizeof err), SC_OK);
    assert_int_equal(agent_peer_listen_addr(p, 0, &ss), SC_OK);
    assert_int_equal(ss.ss_family, AF_INET);
    assert_int_not_equal(((struct sockaddr_in *)&ss)->sin_port, 0);
    assert_int_equal(agent_peer_listen_addr(p, 1, &ss), SC_OK);
    assert_int_equal(ss.ss_family, AF_INET6);
    assert_int_equal(agent_peer_listen_addr(p, 2, &ss), SC_ERR_ARG);
    agent_peer_free(p);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
    ident_free(&alice);
}

/* A bad listen address or device ID is refused with a line saying which. */
static void test_bad_options(void **state)
{
    (void)state;
    uv_loop_t loop;
    ident alice;
    agent_peer *p = NULL;
    char err[256];
    const char *const bad[] = {"localhost:4605"};
    assert_int_equal(uv_loop_init(&loop), 0);
    ident_make(&alice, "alice@example.org");
    agent_peer_opts o = {.loop = &loop,
                         .make_config = make_config,
                         .config_ctx = &alice,
                         .device_id = "laptop",
                         .listen = bad,
                         .n_listen = 1};
    assert_int_equal(agent_peer_new(&o, &p, err, sizeof err), SC_ERR_ARG);
    assert_null(p);
    assert_non_null(strstr(err, "localhost:4605"));
    o.listen = NULL, o.n_listen = 0, o.no_listen = 1, o.device_id = "bad device";
    assert_int_equal(agent_peer_new(&o, &p, err, sizeof err), SC_ERR_ARG);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
    ident_free(&alice);
}

/* The address syntax of --listen and of log lines. */
static void test_addr_text(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    char s[AGENT_PEER_ADDR_STRLEN];
    assert_int_equal(agent_peer_addr_parse("[::]:4605", &ss), SC_OK);
    agent_peer_addr_str((struct sockaddr *)&ss, s);
    assert_string_equal(s, "[::]:4605");
    assert_int_equal(agent_peer_addr_parse("192.0.2.1:0", &ss), SC_OK);
    agent_peer_addr_str((struct sockaddr *)&ss, s);
    assert_string_equal(s, "192.0.2.1:0");
    assert_int_equal(agent_peer_addr_parse("[::1]", &ss), SC_ERR_ARG);
    assert_int_equal(agent_peer_addr_parse("::1:80", &ss), SC_ERR_ARG);
    assert_int_equal(agent_peer_addr_parse("1.2.3.4:65536", &ss), SC_ERR_ARG);
    assert_int_equal(agent_peer_addr_parse("1.2.3.4:", &ss), SC_ERR_ARG);
    assert_int_equal(agent_peer_addr_parse("[fe80::1]:x", &ss), SC_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_text),
        cmocka_unit_test(test_listen_and_free),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
