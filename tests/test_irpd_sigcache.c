/*
 * test_irpd_sigcache.c - the signed-answer cache (src/irpd/irpd_sigcache.h,
 * docs/IRP.md 7.4 "Caching"): a signature is reused only for an answer
 * whose signed bytes are the same, made with the same key, at most
 * IRPD_SIGCACHE_MAX_AGE seconds before; any change of the user's bindings
 * or certificates, a later time, another user or another registry key is
 * signed afresh; every answer given verifies (irp_lookup_verify).
 *
 * The registry key is P-256 (the default): ECDSA signatures are random, so
 * two identical signature bytes show that one was reused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "irp_addr.h"
#include "irp_msg.h"
#include "irp_sig.h"
#include "irpd_ca.h"
#include "irpd_sigcache.h"

#define NOW 1767225600

typedef struct fx {
    irpd_ca *ca, *ca2; /* two registries: two keys and certificates */
    irpd_sigcache *c;
    uint8_t der[3];
} fx;

static int fx_setup(void **state)
{
    irpd_ca_opts o = {IRPD_KEY_P256, "test", 0, NULL, 0};
    irpd_ca_err e;
    fx *f = calloc(1, sizeof(*f));

    if (f == NULL) return -1;
    if (irpd_ca_create(&o, NOW - 100, &f->ca, &e) != IRPD_CA_OK ||
        irpd_ca_make_server(f->ca, "127.0.0.1", NULL, 0, NOW - 100, 0, &e) != IRPD_CA_OK ||
        irpd_ca_create(&o, NOW - 100, &f->ca2, &e) != IRPD_CA_OK ||
        irpd_ca_make_server(f->ca2, "127.0.0.1", NULL, 0, NOW - 100, 0, &e) != IRPD_CA_OK)
        return -1;
    if ((f->c = irpd_sigcache_new(IRPD_SIGCACHE_SLOTS)) == NULL) return -1;
    memcpy(f->der, "\x30\x01\x00", 3);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    fx *f = *state;
    irpd_sigcache_free(f->c);
    irpd_ca_free(f->ca);
    irpd_ca_free(f->ca2);
    free(f);
    return 0;
}

/* A lookup answer for user: one binding (seq, address) and one certificate in state cs. */
static void answer(fx *f, irp_resp *r, const char *user, uint64_t seq, const char *addr,
                   irp_cert_state cs)
{
    irp_resp_init(r);
    r->status = 200;
    r->user = user;
    r->n_bindings = 1;
    r->bindings[0].device = "laptop";
    assert_int_equal(irp_addr_parse(addr, strlen(addr), &r->bindings[0].addrs[0]), 0);
    r->bindings[0].n_addrs = 1;
    r->bindings[0].port = 4605;
    r->bindings[0].expires = NOW + 3600;
    r->bindings[0].updated = NOW;
    r->bindings[0].seq = seq;
    r->n_certs = 1;
    r->certs[0].state = cs;
    r->certs[0].serial = "5eed";
    r->certs[0].not_after = NOW + 86400;
    if (cs == IRP_CERT_VALID) {
        r->certs[0].der = f->der;
        r->certs[0].der_len = sizeof(f->der);
    } else {
        r->certs[0].revoked = NOW;
        r->certs[0].reason = IRP_REASON_KEY_COMPROMISE;
    }
}

/* Signs r through the cache with registry ca at now; checks it verifies; copies the signature. */
static void sign(fx *f, irpd_ca *ca, irp_resp *r, uint64_t now, sc_buf *store, uint8_t *sig,
                 size_t *sig_len)
{
    assert_int_equal(
        irpd_sigcache_sign(f->c, r, now, irpd_ca_server_key(ca), irpd_ca_server_cert(ca), store),
        0);
    assert_true(r->has_sig);
    assert_int_equal(irp_lookup_verify(r, irpd_ca_server_cert(ca)), 0);
    assert_true(r->sig.sig_len <= IRP_SIG_MAX);
    memcpy(sig, r->sig.sig, r->sig.sig_len);
    *sig_len = r->sig.sig_len;
}

static int same_sig(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    return al == bl && memcmp(a, b, al) == 0;
}

static void stats(fx *f, unsigned long long hits, unsigned long long signs)
{
    irpd_sigcache_stats s;
    irpd_sigcache_get_stats(f->c, &s);
    assert_int_equal(s.hits, hits);
    assert_int_equal(s.signs, signs);
}

/* The same answer again within the age limit: the first `at` and signature, no new signature. */
static void test_same_answer_reused(void **state)
{
    fx *f = *state;
    irp_resp r;
    sc_buf st;
    uint8_t s1[IRP_SIG_MAX], s2[IRP_SIG_MAX];
    size_t l1, l2;

    sc_buf_init_public(&st, 0);
    answer(f, &r, "bob@example.org", 7, "192.0.2.7", IRP_CERT_VALID);
    sign(f, f->ca, &r, NOW, &st, s1, &l1);
    assert_int_equal(r.at, NOW);
    answer(f, &r, "bob@example.org", 7, "192.0.2.7", IRP_CERT_VALID);
    sign(f, f->ca, &r, NOW + IRPD_SIGCACHE_MAX_AGE, &st, s2, &l2);
    assert_int_equal(r.at, NOW);
    assert_true(same_sig(s1, l1, s2, l2));
    stats(f, 1, 1);
    sc_buf_dispose(&st);
}

/* A changed binding (a new register: seq, address) or certificate (revoked) is signed afresh. */
static void test_change_signed_afresh(void **state)
{
    fx *f = *state;
    irp_resp r;
    sc_buf st;
    uint8_t s1[IRP_SIG_MAX], s2[IRP_SIG_MAX], s3[IRP_SIG_MAX], s4[IRP_SIG_MAX];
    size_t l1, l2, l3, l4;

    sc_buf_init_public(&st, 0);
    answer(f, &r, "bob@example.org", 7, "192.0.2.7", IRP_CERT_VALID);
    sign(f, f->ca, &r, NOW, &st, s1, &l1);
    answer(f, &r, "bob@example.org", 8, "192.0.2.7", IRP_CERT_VALID); /* re-registered */
    sign(f, f->ca, &r, NOW + 1, &st, s2, &l2);
    assert_int_equal(r.at, NOW + 1);
    assert_int_equal(r.bindings[0].seq, 8);
    assert_false(same_sig(s1, l1, s2, l2));
    answer(f, &r, "bob@example.org", 8, "198.51.100.1", IRP_CERT_VALID); /* moved */
    sign(f, f->ca, &r, NOW + 2, &st, s3, &l3);
    assert_int_equal(r.at, NOW + 2);
    assert_false(same_sig(s2, l2, s3, l3));
    answer(f, &r, "bob@example.org", 8, "198.51.100.1", IRP_CERT_REVOKED); /* revoked */
    sign(f, f->ca, &r, NOW + 3, &st, s4, &l4);
    assert_int_equal(r.at, NOW + 3);
    assert_false(same_sig(s3, l3, s4, l4));
    /* and the answer before the change is not given back: unregistered = no binding */
    answer(f, &r, "bob@example.org", 8, "198.51.100.1", IRP_CERT_REVOKED);
    r.n_bindings = 0;
    sign(f, f->ca, &r, NOW + 4, &st, s1, &l1);
    assert_int_equal(r.at, NOW + 4);
    stats(f, 0, 5);
    sc_buf_dispose(&st);
}

/* Older than the limit, or a clock that went back: signed afresh with the new time. */
static void test_age_limit(void **state)
{
    fx *f = *state;
    irp_resp r;
    sc_buf st;
    uint8_t s1[IRP_SIG_MAX], s2[IRP_SIG_MAX];
    size_t l1, l2;

    sc_buf_init_public(&st, 0);
    answer(f, &r, "bob@example.org", 7, "192.0.2.7", IRP_CERT_VALID);
    sign(f, f->ca, &r, NOW, &st, s1, &l1);
    answer(f, &r, "bob@example.org", 7, "192.0.2.7", IRP_CERT_VALID);
    sign(f, f->ca, &r, NOW + IRPD_SIGCACHE_MAX_AGE + 1, &st, s2, &l2);
    assert_int_equal(r.at, NOW + IRPD_SIGCACHE_MAX_AGE + 1);
    assert_false(same_sig(s1, l1, s2, l2));
    answer(f, &r, "bob@example.org", 7, "192.0.2.7", IRP_CERT_VALID);
    sign(f, f->ca, &r, NOW, &st, s1, &l1); /* the clock stepped back */
    assert_int_equal(r.at, NOW);
    stats(f, 0, 3);
    sc_buf_dispose(&st);
}

/* Two users, a small cache (one slot: they evict each other), another registry key. */
static void test_users_and_keys(void **state)
{
    fx *f = *state;
    irp_resp r;
    sc_buf st;
    uint8_t s1[IRP_SIG_MAX], s2[IRP_SIG_MAX];
    size_t l1, l2;

    irpd_sigcache_free(f->c);
    assert_non_null(f->c = irpd_sigcache_new(1));
    sc_buf_init_public(&st, 0);
    answer(f, &r, "bob@example.org", 7, "192.0.2.7", IRP_CERT_VALID);
    sign(f, f->ca, &r, NOW, &st, s1, &l1);
    answer(f, &r, "carol@example.org", 7, "192.0.2.7", IRP_CERT_VALID);
    sign(f, f->ca, &r, NOW, &st, s2, &l2);
    assert_string_equal(r.user, "carol@example.org");
    answer(f, &r, "bob@example.org", 7, "192.0.2.7", IRP_CERT_VALID);
    sign(f, f->ca, &r, NOW, &st, s2, &l2);
    assert_false(same_sig(s1, l1, s2, l2)); /* carol took the slot */
    answer(f, &r, "bob@example.org", 7, "192.0.2.7", IRP_CERT_VALID);
    sign(f, f->ca2, &r, NOW, &st, s1, &l1); /* another key: its own signature */
    assert_false(same_sig(s1, l1, s2, l2));
    assert_int_not_equal(irp_lookup_verify(&r, irpd_ca_server_cert(f->ca)), 0);
    answer(f, &r, "bob@example.org", 7, "192.0.2.7", IRP_CERT_VALID);
    sign(f, f->ca2, &r, NOW + 1, &st, s2, &l2);
    assert_true(same_sig(s1, l1, s2, l2));
    stats(f, 1, 4);
    /* without a cache, every answer is signed */
    answer(f, &r, "bob@example.org", 7, "192.0.2.7", IRP_CERT_VALID);
    assert_int_equal(irpd_sigcache_sign(NULL, &r, NOW, irpd_ca_server_key(f->ca),
                                        irpd_ca_server_cert(f->ca), &st),
                     0);
    assert_int_equal(irp_lookup_verify(&r, irpd_ca_server_cert(f->ca)), 0);
    sc_buf_dispose(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_same_answer_reused, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_change_signed_afresh, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_age_limit, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_users_and_keys, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
