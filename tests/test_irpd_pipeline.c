/*
 * test_irpd_pipeline.c - the request pipeline and its operation table
 * (src/irpd/irpd_pipeline.c, src/irpd/irpd_ops.c) without sockets: a real
 * CA, a real SQLite store in a temporary directory, sessions of every
 * identity of docs/IRP.md 7.1, and one request per operation.
 *
 * The expected access of each operation is written out here from
 * docs/IRP.md 6.0 and 7.1, independently of the table, and every
 * (operation, identity) pair is run through irpd_handle: a pair the spec
 * refuses must get its 401 or 403 and nothing else; a pair it allows must
 * not. The identity re-check hook must run before every operation that acts
 * on the connection's certificate, and its refusal must stop the handler.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "irp_frame.h"
#include "irpd_handlers.h"
#include "irpd_ops.h"
#include "irpd_secret.h"

#ifndef SC_SOURCE_DIR
#define SC_SOURCE_DIR "."
#endif

#define NOW 1767225600

typedef struct fx {
    char dir[64];
    irpd_ca *ca;
    irpd_store *st;
    irpd_config cfg;
    irpd_hctx h;
} fx;

enum { ANON, PW, CERT, ADMIN, N_WHO };
static const char *const who_name[N_WHO] = {"anonymous", "password", "certificate", "admin"};

/* One request per op, valid for the codec; what the op's access is for each identity. */
static const struct {
    irp_op op;
    const char *doc;
    int deny[N_WHO]; /* 0: allowed, else the status that refuses it */
    int identity;    /* acts on the connection's certificate identity */
} cases[] = {
    {IRP_OP_CAPABILITIES, "<req id=\"1\" op=\"capabilities\"/>", {0, 0, 0, 0}, 0},
    {IRP_OP_CA_CERTS, "<req id=\"1\" op=\"ca-certs\"/>", {0, 0, 0, 0}, 0},
    {IRP_OP_PING, "<req id=\"1\" op=\"ping\"/>", {0, 0, 0, 0}, 0},
    {IRP_OP_LOGIN,
     "<req id=\"1\" op=\"login\" user=\"nobody@example.org\" password=\"x\"/>",
     {0, 0, 0, 0},
     0},
    {IRP_OP_ENROLL, "<req id=\"1\" op=\"enroll\"><csr>AAAA</csr></req>", {401, 0, 401, 401}, 0},
    {IRP_OP_RENEW, "<req id=\"1\" op=\"renew\"><csr>AAAA</csr></req>", {401, 401, 0, 0}, 1},
    {IRP_OP_REGISTER,
     "<req id=\"1\" op=\"register\" device=\"d\" port=\"4605\" "
     "seq=\"1\"><addr>192.0.2.1</addr></req>",
     {401, 401, 0, 0},
     1},
    {IRP_OP_UNREGISTER, "<req id=\"1\" op=\"unregister\" device=\"d\"/>", {401, 401, 0, 0}, 1},
    {IRP_OP_LOOKUP, "<req id=\"1\" op=\"lookup\" user=\"bob@example.org\"/>", {401, 401, 0, 0}, 1},
    {IRP_OP_WATCH, "<req id=\"1\" op=\"watch\" user=\"bob@example.org\"/>", {401, 401, 0, 0}, 1},
    {IRP_OP_UNWATCH,
     "<req id=\"1\" op=\"unwatch\" user=\"bob@example.org\"/>",
     {401, 401, 0, 0},
     1},
    {IRP_OP_CERT_STATUS, "<req id=\"1\" op=\"cert-status\" serial=\"1f\"/>", {401, 401, 0, 0}, 1},
    {IRP_OP_REVOKE, "<req id=\"1\" op=\"revoke\" serial=\"1f\"/>", {401, 401, 0, 0}, 1},
    {IRP_OP_USER_INFO, "<req id=\"1\" op=\"user-info\"/>", {401, 401, 0, 0}, 1},
    {IRP_OP_LOOKUP_POLICY, "<req id=\"1\" op=\"lookup-policy\"/>", {401, 401, 0, 0}, 1},
    {IRP_OP_ACCESS_LOG, "<req id=\"1\" op=\"access-log\"/>", {401, 401, 0, 0}, 1},
    {IRP_OP_PKCS12_PUT,
     "<req id=\"1\" op=\"pkcs12-put\"><p12>AAAA</p12></req>",
     {401, 401, 0, 0},
     1},
    {IRP_OP_PKCS12_GET, "<req id=\"1\" op=\"pkcs12-get\"/>", {401, 0, 0, 0}, 1},
    {IRP_OP_LIST_USERS, "<req id=\"1\" op=\"list-users\"/>", {401, 401, 403, 0}, 1},
};
#define N_CASES (sizeof(cases) / sizeof(cases[0]))

static int fx_setup(void **state)
{
    irpd_ca_opts o = {IRPD_KEY_P256, "test", 0, NULL, 0};
    irpd_store_opts so = {.flags = IRPD_STORE_CREATE};
    fx *f = calloc(1, sizeof *f);
    char path[128];
    irpd_ca_err e;

    if (f == NULL) return -1;
    strcpy(f->dir, "/tmp/test_irpd_pipeline.XXXXXX");
    if (mkdtemp(f->dir) == NULL) return -1;
    if (irpd_ca_create(&o, NOW, &f->ca, &e) != IRPD_CA_OK) return -1;
    if (irpd_ca_make_server(f->ca, "127.0.0.1", NULL, 0, NOW, 0, &e) != IRPD_CA_OK) return -1;
    snprintf(path, sizeof path, "%s/irpd.db", f->dir);
    if (irpd_store_open_sqlite(path, &so, &f->st) != 0) return -1;
    irpd_config_defaults(&f->cfg);
    snprintf(f->cfg.admins[0], sizeof f->cfg.admins[0], "root@example.org");
    f->cfg.n_admins = 1;
    snprintf(f->cfg.domains[0], sizeof f->cfg.domains[0], "example.org");
    f->cfg.n_domains = 1;
    if (irpd_hctx_init(&f->h, f->ca, f->st, &f->cfg) != 0) return -1;
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    fx *f = *state;
    char cmd[128];

    irpd_hctx_clear(&f->h);
    irpd_store_close(f->st);
    irpd_ca_free(f->ca);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", f->dir);
    free(f);
    return 0;
}

static void session_of(irpd_session *s, int who)
{
    irpd_session_init(s);
    if (who == PW) {
        s->pw_auth = 1;
        snprintf(s->pw_user, sizeof s->pw_user, "carol@example.org");
    } else if (who == CERT || who == ADMIN) {
        s->cert_auth = 1;
        snprintf(s->client.user_id, sizeof s->client.user_id, "%s",
                 who == ADMIN ? "root@example.org" : "alice@example.org");
        s->client.issued_here = 1;
    }
}

/* Runs doc on s; returns the response's status (and checks one frame was written). */
static int run(fx *f, irpd_session *s, const char *doc)
{
    irpd_hresult res;
    sc_buf out;
    int st;

    sc_buf_init_public(&out, 0);
    assert_int_equal(irpd_handle(&f->h, s, (const uint8_t *)doc, strlen(doc), NOW,
                                 (int64_t)NOW * 1000, &out, &res, NULL),
                     0);
    assert_true(out.len > 4);
    assert_int_equal(out.data[0], 0x10);
    st = res.status;
    sc_buf_dispose(&out);
    return st;
}

/* Every op of version 1 has a row, and it is the row of that op. */
static void test_table_complete(void **state)
{
    (void)state;
    for (int op = IRP_OP_NONE + 1; op < IRP_OP_COUNT; op++) {
        const irpd_opdef *d = irpd_op_def((irp_op)op);
        assert_non_null(d);
        assert_int_equal(d->op, op);
        assert_non_null(d->run);
    }
    assert_null(irpd_op_def(IRP_OP_NONE));
    assert_int_equal(N_CASES, IRP_OP_COUNT - 1);
}

/* docs/IRP.md 6.0 / 7.1: every (operation, identity) pair gets the access the spec says. */
static void test_access_enforced(void **state)
{
    fx *f = *state;

    for (size_t i = 0; i < N_CASES; i++) {
        for (int w = 0; w < N_WHO; w++) {
            irpd_session s;
            int st;

            session_of(&s, w);
            st = run(f, &s, cases[i].doc);
            if (cases[i].deny[w] != 0 && st != cases[i].deny[w])
                fail_msg("%s as %s: %d, expected %d", irp_op_name(cases[i].op), who_name[w], st,
                         cases[i].deny[w]);
            /* a login may be 401 for its own reason: the password */
            if (cases[i].deny[w] == 0 && (st == 403 || (st == 401 && cases[i].op != IRP_OP_LOGIN)))
                fail_msg("%s as %s: refused with %d", irp_op_name(cases[i].op), who_name[w], st);
            /* a refused request left the session as it was */
            if (cases[i].deny[w] != 0) assert_int_equal(s.pw_auth, w == PW);
            irpd_session_clear(&s);
        }
    }
}

static int recheck_calls;
static int recheck_refuse(const irpd_hctx *h, irpd_session *s, int64_t now, int *wrote, char *msg,
                          size_t cap)
{
    (void)h;
    (void)s;
    (void)now;
    (void)wrote;
    recheck_calls++;
    snprintf(msg, cap, "certificate revoked");
    return IRP_AUTH_REQUIRED;
}

/* The identity re-check runs before every op acting on the certificate, and its refusal holds. */
static void test_identity_recheck(void **state)
{
    fx *f = *state;

    f->h.recheck = recheck_refuse;
    for (size_t i = 0; i < N_CASES; i++) {
        irpd_session s;
        int st;

        session_of(&s, ADMIN); /* allowed every op acting on a certificate */
        recheck_calls = 0;
        st = run(f, &s, cases[i].doc);
        if (cases[i].identity) {
            if (recheck_calls != 1) fail_msg("%s: no re-check", irp_op_name(cases[i].op));
            assert_int_equal(st, 401);
        } else {
            assert_int_equal(recheck_calls, 0);
        }
        irpd_session_clear(&s);
    }
    /* not on anonymous connections: they have no certificate to re-check */
    {
        irpd_session s;
        session_of(&s, ANON);
        recheck_calls = 0;
        assert_int_equal(run(f, &s, "<req id=\"1\" op=\"lookup\" user=\"b@example.org\"/>"), 401);
        assert_int_equal(recheck_calls, 0);
        irpd_session_clear(&s);
    }
    f->h.recheck = NULL;
}

/*
 * docs/IRP.md 2.1, 6.0, 7.1: a certificate of a domain the registry does not
 * serve may read, never write; users of other domains are not found; an
 * external certificate with an administrator's name is no administrator.
 */
static void test_served_domains(void **state)
{
    static const struct {
        const char *doc;
        int status;
    } foreign[] = {
        {"<req id=\"1\" op=\"register\" device=\"d\" port=\"4605\" "
         "seq=\"1\"><addr>192.0.2.1</addr></req>",
         403},
        {"<req id=\"1\" op=\"renew\"><csr>AAAA</csr></req>", 403},
        {"<req id=\"1\" op=\"pkcs12-put\"><p12>AAAA</p12></req>", 403},
        {"<req id=\"1\" op=\"lookup-policy\"/>", 403},
        {"<req id=\"1\" op=\"access-log\"/>", 403},
        {"<req id=\"1\" op=\"revoke\" serial=\"1f\"/>", 403},
        {"<req id=\"1\" op=\"user-info\"><info name=\"note\">x</info></req>", 403},
        {"<req id=\"1\" op=\"ping\"/>", 200},
        {"<req id=\"1\" op=\"cert-status\" serial=\"1f\"/>", 200},
        {"<req id=\"1\" op=\"lookup\" user=\"nobody@example.org\"/>", 404},
        {"<req id=\"1\" op=\"unwatch\" user=\"nobody@example.org\"/>", 200},
    };
    fx *f = *state;
    irpd_session s;

    irpd_session_init(&s);
    s.cert_auth = 1;
    snprintf(s.client.user_id, sizeof s.client.user_id, "mallory@partner.org");
    for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
        int st = run(f, &s, foreign[i].doc);
        if (st != foreign[i].status)
            fail_msg("foreign certificate: %s: %d, not %d", foreign[i].doc, st, foreign[i].status);
    }
    irpd_session_clear(&s);

    /* a served user looking up another domain's user: not known here */
    session_of(&s, CERT);
    assert_int_equal(run(f, &s, "<req id=\"1\" op=\"lookup\" user=\"m@partner.org\"/>"), 404);
    assert_int_equal(run(f, &s, "<req id=\"1\" op=\"watch\" user=\"m@partner.org\"/>"), 404);
    assert_int_equal(run(f, &s, "<req id=\"1\" op=\"user-info\" user=\"m@partner.org\"/>"), 404);
    irpd_session_clear(&s);

    /* root@example.org is an administrator with our CA's certificate only */
    session_of(&s, ADMIN);
    assert_int_equal(run(f, &s, "<req id=\"1\" op=\"list-users\"/>"), 200);
    s.client.issued_here = 0;
    assert_int_equal(run(f, &s, "<req id=\"1\" op=\"list-users\"/>"), 403);
    irpd_session_clear(&s);
}

/* The document decides, in any spelling: op="&#108;ogin" is a login and held against its limits. */
static void test_limits_on_parsed_request(void **state)
{
    fx *f = *state;
    irpd_policy pol;
    irpd_config c;
    int got[3] = {0, 0, 0};

    irpd_config_defaults(&c);
    c.login_fail_user = 2;
    assert_int_equal(irpd_policy_init(&pol, &c), 0);
    f->h.pol = &pol;
    for (int i = 0; i < 4; i++) {
        irpd_session s;
        int st;
        session_of(&s, ANON);
        st = run(
            f, &s,
            i % 2 ? "<req id='1' op='login' user='dave@example.org' password='x'/>"
                  : "<req id=\"1\" op=\"&#108;ogin\" user=\"DAVE@example.org\" password=\"x\"/>");
        got[st == 401 ? 0 : st == 429 ? 1 : 2]++;
        irpd_session_clear(&s);
    }
    assert_int_equal(got[0], 2);
    assert_int_equal(got[1], 2);
    assert_int_equal(got[2], 0);
    f->h.pol = NULL;
    irpd_policy_free(&pol);
}

/* The deferred login holds its place until answered: concurrent ones get only what is left. */
static void test_deferred_logins_counted(void **state)
{
    fx *f = *state;
    irpd_session s[6];
    irpd_deferred *lg[6];
    irpd_policy pol;
    irpd_config c;
    int deferred = 0, n401 = 0;

    irpd_config_defaults(&c);
    c.login_fail_user = 3;
    assert_int_equal(irpd_policy_init(&pol, &c), 0);
    f->h.pol = &pol;
    for (int i = 0; i < 6; i++) {
        const char *doc = "<req id=\"1\" op=\"login\" user=\"erin@example.org\" password=\"x\"/>";
        irpd_hresult res;
        sc_buf out;

        session_of(&s[i], ANON);
        s[i].has_peer = 1;
        assert_int_equal(irp_addr_parse("192.0.2.1", 9, &s[i].peer), 0);
        s[i].peer.ip[s[i].peer.family == 4 ? 3 : 15] = (uint8_t)(10 + i);
        sc_buf_init_public(&out, 0);
        assert_int_equal(irpd_handle(&f->h, &s[i], (const uint8_t *)doc, strlen(doc), NOW,
                                     (int64_t)NOW * 1000, &out, &res, &lg[i]),
                         0);
        if (lg[i] != NULL)
            deferred++;
        else
            assert_int_equal(res.status, 429);
        sc_buf_dispose(&out);
    }
    assert_int_equal(deferred, 3);
    for (int i = 0; i < 6; i++) {
        irpd_hresult res;
        sc_buf out;
        if (lg[i] == NULL) continue;
        irpd_deferred_work(lg[i]);
        sc_buf_init_public(&out, 0);
        assert_int_equal(irpd_deferred_finish(&f->h, &s[i], lg[i], NOW, &out, &res), 0);
        n401 += res.status == 401;
        irpd_deferred_free(lg[i]);
        sc_buf_dispose(&out);
    }
    assert_int_equal(n401, 3);
    for (int i = 0; i < 6; i++)
        irpd_session_clear(&s[i]);
    f->h.pol = NULL;
    irpd_policy_free(&pol);
}

/* A fresh enrolment token for user, stored; its text into tok. */
static void new_token(fx *f, const char *user, char tok[IRPD_TOKEN_LEN + 1])
{
    uint8_t th[IRPD_TOKEN_HASH_LEN];

    assert_int_equal(irpd_token_new(tok), 0);
    assert_int_equal(irpd_token_hash(tok, IRPD_TOKEN_LEN, th), 0);
    assert_int_equal(irpd_store_token_add(f->st, th, user, NOW + 3600, "test", NOW), 0);
}

/* The base64 of a CSR for a fresh RSA-2048 key (malloc'd). */
static char *rsa_csr_b64(void)
{
    EVP_PKEY *k = EVP_RSA_gen(2048);
    X509_REQ *r = X509_REQ_new();
    unsigned char *der = NULL;
    char *b64;
    int n;

    assert_non_null(k);
    assert_non_null(r);
    assert_int_equal(X509_REQ_set_pubkey(r, k), 1);
    assert_true(X509_REQ_sign(r, k, EVP_sha256()) > 0);
    n = i2d_X509_REQ(r, &der);
    assert_true(n > 0);
    b64 = malloc((size_t)n * 2 + 4);
    assert_non_null(b64);
    assert_int_equal(EVP_EncodeBlock((unsigned char *)b64, der, n) > 0, 1);
    OPENSSL_free(der);
    X509_REQ_free(r);
    EVP_PKEY_free(k);
    return b64;
}

/* The committed CSR for a made-up 16384-bit RSA modulus (tests/irpd/csr.sh). */
static char *big_csr_b64(void)
{
    char path[512], *b = malloc(8192);
    FILE *fp;
    size_t n;

    snprintf(path, sizeof path, "%s/tests/irpd/data/rsa16384-unsigned.csr.b64", SC_SOURCE_DIR);
    fp = fopen(path, "r");
    assert_non_null(fp);
    assert_non_null(b);
    n = fread(b, 1, 8191, fp);
    fclose(fp);
    while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == '\r'))
        n--;
    b[n] = '\0';
    return b;
}

/*
 * Finding 4: a 16384-bit RSA CSR is refused at once (no deferred work); an
 * RSA key check is deferred, and another connection's lookup is answered
 * while it waits (the loop is free); the deferred enrolment then completes.
 */
static void test_csr_checks_off_loop(void **state)
{
    fx *f = *state;
    char tok[IRPD_TOKEN_LEN + 1], doc[16384];
    char *big = big_csr_b64(), *rsa = rsa_csr_b64();
    irpd_session anon, other;
    irpd_deferred *d = NULL;
    irpd_hresult res;
    sc_buf out;

    session_of(&anon, ANON);
    session_of(&other, CERT);
    new_token(f, "frank@example.org", tok);
    snprintf(doc, sizeof doc, "<req id=\"b\" op=\"enroll\" token=\"%s\"><csr>%s</csr></req>", tok,
             big);
    sc_buf_init_public(&out, 0);
    assert_int_equal(irpd_handle(&f->h, &anon, (const uint8_t *)doc, strlen(doc), NOW,
                                 (int64_t)NOW * 1000, &out, &res, &d),
                     0);
    assert_null(d); /* refused before anything was computed on the key */
    assert_int_equal(res.status, 422);
    assert_non_null(strstr((const char *)out.data + 4, "too large"));
    sc_buf_reset(&out);

    snprintf(doc, sizeof doc, "<req id=\"r\" op=\"enroll\" token=\"%s\"><csr>%s</csr></req>", tok,
             rsa);
    assert_int_equal(irpd_handle(&f->h, &anon, (const uint8_t *)doc, strlen(doc), NOW,
                                 (int64_t)NOW * 1000, &out, &res, &d),
                     0);
    assert_non_null(d); /* the RSA key check waits for a worker */
    assert_int_equal(out.len, 0);
    /* meanwhile the loop answers another connection */
    assert_int_equal(run(f, &other, "<req id=\"l\" op=\"lookup\" user=\"nobody@example.org\"/>"),
                     404);
    irpd_deferred_work(d);
    assert_int_equal(irpd_deferred_finish(&f->h, &anon, d, NOW, &out, &res), 0);
    assert_int_equal(res.status, 200);
    assert_int_equal(res.write, 1);
    irpd_deferred_free(d);
    sc_buf_dispose(&out);
    irpd_session_clear(&anon);
    irpd_session_clear(&other);
    free(big);
    free(rsa);
}

/* Finding 4: refused CSRs count against the token; the third uses it up. */
static void test_refusals_use_token(void **state)
{
    fx *f = *state;
    char tok[IRPD_TOKEN_LEN + 1], doc[16384];
    char *big = big_csr_b64(), *rsa = rsa_csr_b64();
    irpd_session anon;
    irpd_policy pol;

    assert_int_equal(irpd_policy_init(&pol, NULL), 0);
    f->h.pol = &pol;
    session_of(&anon, ANON);
    new_token(f, "gina@example.org", tok);
    snprintf(doc, sizeof doc, "<req id=\"b\" op=\"enroll\" token=\"%s\"><csr>%s</csr></req>", tok,
             big);
    for (int i = 0; i < IRPD_TOKEN_REFUSALS_MAX; i++)
        assert_int_equal(run(f, &anon, doc), 422);
    snprintf(doc, sizeof doc, "<req id=\"r\" op=\"enroll\" token=\"%s\"><csr>%s</csr></req>", tok,
             rsa);
    assert_int_equal(run(f, &anon, doc), 410);
    irpd_session_clear(&anon);
    f->h.pol = NULL;
    irpd_policy_free(&pol);
    free(big);
    free(rsa);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_complete),
        cmocka_unit_test(test_access_enforced),
        cmocka_unit_test(test_identity_recheck),
        cmocka_unit_test(test_served_domains),
        cmocka_unit_test(test_limits_on_parsed_request),
        cmocka_unit_test(test_deferred_logins_counted),
        cmocka_unit_test(test_csr_checks_off_loop),
        cmocka_unit_test(test_refusals_use_token),
    };
    return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
