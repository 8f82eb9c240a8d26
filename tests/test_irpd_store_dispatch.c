/*
 * test_irpd_store_dispatch.c - "the store validates once" (irpd_store.h):
 * every irpd_store_ function checks its arguments itself, before any
 * backend sees them, so a backend cannot forget a check.
 *
 * The backend here is a probe: each vtable entry only counts that it was
 * called and keeps what it was handed. Each operation is called with each
 * kind of argument irpd_store.h says it refuses: the status must be the
 * documented one and the probe must not have been called; then once with
 * valid arguments: the probe is called once, with the normalised values
 * irpd_store_int.h promises (lowercase serials, computed fingerprints, a
 * default revocation reason). A store whose open failed answers
 * IRP_INTERNAL before any check. (Before the dispatchers were real
 * functions, every refused call here reached the backend.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/sha.h>

#include "irpd_store_int.h"

#define NOW INT64_C(1800000000)
#define U "alice@example.org"

typedef struct probe {
    irpd_store base;
    int calls;
    char serial[IRPD_STORE_SERIAL_MAX + 1]; /* the last serial handed on */
    uint8_t fp[32];                         /* the last certificate fingerprint handed on */
    char reason[IRPD_STORE_REASON_MAX + 1];
} probe;

#define P(st) ((probe *)(st))

static void p_close(irpd_store *st)
{
    (void)st;
}
static irp_status p_none(irpd_store *st)
{
    P(st)->calls++;
    return 0;
}
static void p_rollback(irpd_store *st)
{
    P(st)->calls++;
}
static irp_status p_user_add(irpd_store *st, const char *n, const char *a, int64_t now)
{
    return p_none(st);
}
static irp_status p_user_get(irpd_store *st, const char *n, irpd_user *o)
{
    return p_none(st);
}
static irp_status p_user_list(irpd_store *st, const char *af, size_t l, int64_t now,
                              irpd_user_cb cb, void *arg)
{
    return p_none(st);
}
static irp_status p_set_pw(irpd_store *st, const char *n, const uint8_t *h, size_t hl,
                           const uint8_t *s, size_t sl, const char *a, int64_t now)
{
    return p_none(st);
}
static irp_status p_set_admin(irpd_store *st, const char *n, int ad, const char *a, int64_t now)
{
    return p_none(st);
}
static irp_status p_set_access(irpd_store *st, const char *n, irpd_access ac, const char *const *al,
                               size_t na, const char *a, int64_t now)
{
    return p_none(st);
}
static irp_status p_allow_list(irpd_store *st, const char *n, irpd_name_cb cb, void *arg)
{
    return p_none(st);
}
static irp_status p_info_set(irpd_store *st, const char *u, const irpd_info *it, size_t n,
                             const char *a, int64_t now)
{
    return p_none(st);
}
static irp_status p_info_get(irpd_store *st, const char *u, irpd_info_cb cb, void *arg)
{
    return p_none(st);
}
static irp_status p_token_add(irpd_store *st, const uint8_t h[32], const char *u, int64_t e,
                              const char *a, int64_t now)
{
    return p_none(st);
}
static irp_status p_token_check(irpd_store *st, const uint8_t h[32], int64_t now, char *uo)
{
    return p_none(st);
}
static irp_status p_token_consume(irpd_store *st, const uint8_t h[32], int64_t now, char *uo,
                                  const char *a)
{
    return p_none(st);
}
static irp_status keep_cert(irpd_store *st, const irpd_cert *c)
{
    snprintf(P(st)->serial, sizeof P(st)->serial, "%s", c->serial);
    memcpy(P(st)->fp, c->fingerprint, 32);
    return p_none(st);
}
static irp_status p_enroll(irpd_store *st, const uint8_t *th, const irpd_cert *c, const char *a,
                           int64_t now, irpd_revocation *sup)
{
    return keep_cert(st, c);
}
static irp_status p_cert_add(irpd_store *st, const irpd_cert *c, const uint8_t *k, const char *a,
                             int64_t now, irpd_revocation *sup)
{
    return keep_cert(st, c);
}
static irp_status p_get_serial(irpd_store *st, const char *serial, irpd_cert *o, uint8_t *d,
                               size_t cap)
{
    snprintf(P(st)->serial, sizeof P(st)->serial, "%s", serial);
    return p_none(st);
}
static irp_status p_get_fp(irpd_store *st, const uint8_t fp[32], irpd_cert *o, uint8_t *d,
                           size_t cap)
{
    return p_none(st);
}
static irp_status p_cert_list(irpd_store *st, const char *u, irpd_cert_cb cb, void *arg)
{
    return p_none(st);
}
static irp_status p_cert_revoke(irpd_store *st, const char *serial, const uint8_t *fp,
                                const char *reason, const char *a, int64_t now, irpd_revocation *o)
{
    snprintf(P(st)->serial, sizeof P(st)->serial, "%s", serial != NULL ? serial : "");
    snprintf(P(st)->reason, sizeof P(st)->reason, "%s", reason);
    return p_none(st);
}
static irp_status p_user_revoke(irpd_store *st, const char *u, const char *reason, const char *a,
                                int64_t now, irpd_revocation *o)
{
    snprintf(P(st)->reason, sizeof P(st)->reason, "%s", reason);
    return p_none(st);
}
static irp_status p_cert_record(irpd_store *st, const irpd_cert *c, const char *a, int64_t now)
{
    return keep_cert(st, c);
}
static irp_status p_binding_put(irpd_store *st, const irpd_binding *b, const irpd_cert *ac,
                                const char *a, int64_t now)
{
    return ac != NULL ? keep_cert(st, ac) : p_none(st);
}
static irp_status p_binding_delete(irpd_store *st, const char *u, const char *d,
                                   const uint64_t *seq, const char *a, int64_t now, size_t *n)
{
    return p_none(st);
}
static irp_status p_binding_list(irpd_store *st, const char *u, int64_t now, irpd_binding_cb cb,
                                 void *arg)
{
    return p_none(st);
}
static irp_status p_sweep(irpd_store *st, int64_t now, irpd_binding_cb cb, void *arg, size_t *n)
{
    return p_none(st);
}
static irp_status p_access_check(irpd_store *st, const char *v, const char *t, unsigned f)
{
    return p_none(st);
}
static irp_status p_lookup(irpd_store *st, const char *v, const char *t, int64_t now, unsigned f,
                           const irpd_lookup_cb *cb, void *arg, char *uo)
{
    return p_none(st);
}
static irp_status p_access_log(irpd_store *st, const char *o, int64_t after, size_t l,
                               irpd_audit_cb cb, void *arg)
{
    return p_none(st);
}
static irp_status p_p12_put(irpd_store *st, const char *u, const uint8_t *b, size_t l,
                            const char *a, int64_t now)
{
    return p_none(st);
}
static irp_status p_p12_get(irpd_store *st, const char *u, uint8_t *b, size_t cap, size_t *l,
                            int64_t *up)
{
    return p_none(st);
}
static irp_status p_audit_add(irpd_store *st, int64_t now, const char *a, const char *op,
                              const char *t, const char *d)
{
    return p_none(st);
}
static irp_status p_reads_take(irpd_store *st, irpd_audit_cb cb, void *arg)
{
    return p_none(st);
}
static irp_status p_audit_list(irpd_store *st, const char *t, int64_t after, size_t l,
                               irpd_audit_cb cb, void *arg)
{
    return p_none(st);
}

static const irpd_store_ops PROBE_OPS = {
    .name = "probe",
    .close = p_close,
    .batch_begin = p_none,
    .batch_commit = p_none,
    .batch_rollback = p_rollback,
    .flush = p_none,
    .reads_take = p_reads_take,
    .user_add = p_user_add,
    .user_get = p_user_get,
    .user_list = p_user_list,
    .user_set_password = p_set_pw,
    .user_set_admin = p_set_admin,
    .user_set_access = p_set_access,
    .allow_list = p_allow_list,
    .info_set = p_info_set,
    .info_get = p_info_get,
    .token_add = p_token_add,
    .token_check = p_token_check,
    .token_consume = p_token_consume,
    .enroll = p_enroll,
    .cert_add = p_cert_add,
    .cert_get_serial = p_get_serial,
    .cert_get_fp = p_get_fp,
    .cert_list = p_cert_list,
    .cert_revoke = p_cert_revoke,
    .user_revoke = p_user_revoke,
    .cert_record = p_cert_record,
    .binding_put = p_binding_put,
    .binding_delete = p_binding_delete,
    .binding_list = p_binding_list,
    .sweep = p_sweep,
    .access_check = p_access_check,
    .lookup = p_lookup,
    .access_log = p_access_log,
    .p12_put = p_p12_put,
    .p12_get = p_p12_get,
    .audit_add = p_audit_add,
    .audit_list = p_audit_list,
};

static probe PR;

static irpd_store *fresh(void)
{
    memset(&PR, 0, sizeof PR);
    PR.base.ops = &PROBE_OPS;
    PR.base.usable = 1;
    return &PR.base;
}

/* Refused with `want`, and the backend never called. */
#define REFUSED(want, call)                                                                        \
    do {                                                                                           \
        PR.calls = 0;                                                                              \
        assert_int_equal((call), (want));                                                          \
        assert_int_equal(PR.calls, 0);                                                             \
        assert_true(irpd_store_errmsg(&PR.base)[0] != '\0');                                       \
    } while (0)

/* Passed on, once. */
#define PASSED(call)                                                                               \
    do {                                                                                           \
        PR.calls = 0;                                                                              \
        assert_int_equal((call), 0);                                                               \
        assert_int_equal(PR.calls, 1);                                                             \
    } while (0)

static int cb_user(void *a, const irpd_user *u)
{
    return 0;
}
static int cb_name(void *a, const char *n)
{
    return 0;
}
static int cb_info(void *a, const irpd_info *i)
{
    return 0;
}
static int cb_audit(void *a, const irpd_audit_row *r)
{
    return 0;
}

static const char *BAD_USERS[] = {NULL, "", "no-at-sign", "a b@example.org", "x@"};

static void test_users(void **state)
{
    irpd_store *st = fresh();
    irpd_user u;
    const uint8_t hash[4] = {1, 2, 3, 4};
    char longtext[IRPD_STORE_TEXT_MAX + 2];
    memset(longtext, 'a', sizeof longtext - 1);
    longtext[sizeof longtext - 1] = '\0';

    for (size_t i = 0; i < sizeof BAD_USERS / sizeof *BAD_USERS; i++) {
        const char *b = BAD_USERS[i];
        REFUSED(IRP_BAD_REQUEST, irpd_store_user_add(st, b, "cli", NOW));
        REFUSED(IRP_BAD_REQUEST, irpd_store_user_get(st, b, &u));
        REFUSED(IRP_BAD_REQUEST, irpd_store_user_set_admin(st, b, 1, "cli", NOW));
        REFUSED(IRP_BAD_REQUEST, irpd_store_allow_list(st, b, cb_name, NULL));
        REFUSED(IRP_BAD_REQUEST, irpd_store_info_get(st, b, cb_info, NULL));
        REFUSED(IRP_BAD_REQUEST, irpd_store_cert_list(st, b, NULL, NULL));
        REFUSED(IRP_BAD_REQUEST, irpd_store_binding_list(st, b, NOW, NULL, NULL));
        REFUSED(IRP_BAD_REQUEST, irpd_store_user_revoke(st, b, NULL, "cli", NOW, NULL));
        REFUSED(IRP_BAD_REQUEST, irpd_store_access_log(st, b, 0, 10, cb_audit, NULL));
        REFUSED(IRP_BAD_REQUEST, irpd_store_p12_get(st, b, (uint8_t[4]){0}, 4, &(size_t){0}, NULL));
        REFUSED(IRP_BAD_REQUEST, irpd_store_lookup(st, U, b, NOW, 0, NULL, NULL, NULL));
        REFUSED(IRP_BAD_REQUEST, irpd_store_access_check(st, U, b, 0));
        if (b != NULL)
            REFUSED(IRP_BAD_REQUEST, irpd_store_lookup(st, b, U, NOW, 0, NULL, NULL, NULL));
    }
    REFUSED(IRP_BAD_REQUEST, irpd_store_user_add(st, U, longtext, NOW)); /* actor too long */
    REFUSED(IRP_BAD_REQUEST, irpd_store_user_add(st, U, "line\nbreak", NOW));
    REFUSED(IRP_BAD_REQUEST, irpd_store_user_get(st, U, NULL));
    REFUSED(IRP_BAD_REQUEST, irpd_store_user_list(st, "bad", 10, NOW, cb_user, NULL));
    REFUSED(IRP_BAD_REQUEST, irpd_store_user_list(st, NULL, 10, NOW, NULL, NULL));
    REFUSED(IRP_BAD_REQUEST, irpd_store_allow_list(st, U, NULL, NULL));
    REFUSED(IRP_BAD_REQUEST, irpd_store_reads_take(st, NULL, NULL));
    REFUSED(IRP_BAD_REQUEST, irpd_store_info_get(st, U, NULL, NULL));
    REFUSED(IRP_BAD_REQUEST, irpd_store_lookup(st, NULL, U, NOW, 0, NULL, NULL, NULL));
    /* password: empty, too long, salt length without salt, salt too long */
    REFUSED(IRP_BAD_REQUEST, irpd_store_user_set_password(st, U, hash, 0, NULL, 0, "cli", NOW));
    REFUSED(IRP_BAD_REQUEST,
            irpd_store_user_set_password(st, U, hash, IRPD_STORE_PW_MAX + 1, NULL, 0, "cli", NOW));
    REFUSED(IRP_BAD_REQUEST, irpd_store_user_set_password(st, U, hash, 4, NULL, 2, "cli", NOW));
    REFUSED(IRP_BAD_REQUEST, irpd_store_user_set_password(st, U, hash, 4, hash,
                                                          IRPD_STORE_SALT_MAX + 1, "cli", NOW));
    /* access: out of range, a list for another access, a repeated or invalid entry, too many */
    const char *allow2[] = {"bob@example.org", "BOB@example.org"};
    const char *allow_bad[] = {"bob"};
    const char *many[IRPD_STORE_ALLOW_MAX + 1];
    for (size_t i = 0; i < IRPD_STORE_ALLOW_MAX + 1; i++)
        many[i] = "bob@example.org";
    REFUSED(IRP_BAD_REQUEST, irpd_store_user_set_access(st, U, (irpd_access)7, NULL, 0, U, NOW));
    REFUSED(IRP_BAD_REQUEST,
            irpd_store_user_set_access(st, U, IRPD_ACCESS_ANYONE, allow2, 1, U, NOW));
    REFUSED(IRP_BAD_REQUEST,
            irpd_store_user_set_access(st, U, IRPD_ACCESS_LIST, allow2, 2, U, NOW));
    REFUSED(IRP_BAD_REQUEST,
            irpd_store_user_set_access(st, U, IRPD_ACCESS_LIST, allow_bad, 1, U, NOW));
    REFUSED(IRP_TOO_LARGE, irpd_store_user_set_access(st, U, IRPD_ACCESS_LIST, many,
                                                      IRPD_STORE_ALLOW_MAX + 1, U, NOW));

    PASSED(irpd_store_user_add(st, U, NULL, NOW));
    PASSED(irpd_store_user_get(st, "Alice@Example.org", &u));
    PASSED(irpd_store_user_list(st, NULL, 10, NOW, cb_user, NULL));
    PASSED(irpd_store_user_set_password(st, U, hash, 4, NULL, 0, "cli", NOW));
    PASSED(irpd_store_user_set_password(st, U, NULL, 0, NULL, 0, "cli", NOW));
    PASSED(irpd_store_user_set_access(st, U, IRPD_ACCESS_LIST, allow2, 1, U, NOW));
    PASSED(irpd_store_lookup(st, NULL, U, NOW, IRPD_LOOKUP_ANY, NULL, NULL, NULL));
    PASSED(irpd_store_access_check(st, "bob@example.org", U, 0));
}

static void test_info_tokens_p12_audit(void **state)
{
    irpd_store *st = fresh();
    uint8_t h[32] = {0};
    char big[IRPD_STORE_INFO_VALUE_MAX + 1];
    memset(big, 'x', sizeof big);
    irpd_info ok = {"display-name", "Alice", 5};
    irpd_info bad_name = {"Display", "Alice", 5};
    irpd_info ctrl = {"display-name", "A\x01", 2};
    irpd_info badutf = {"display-name", "\xc0\x80", 2};
    irpd_info toolong = {"display-name", big, sizeof big};
    irpd_info twice[2] = {ok, ok};
    irpd_info nine[IRPD_STORE_INFO_MAX + 1];
    for (size_t i = 0; i < IRPD_STORE_INFO_MAX + 1; i++)
        nine[i] = ok;

    REFUSED(IRP_BAD_REQUEST, irpd_store_info_set(st, U, &bad_name, 1, U, NOW));
    REFUSED(IRP_BAD_REQUEST, irpd_store_info_set(st, U, &ctrl, 1, U, NOW));
    REFUSED(IRP_BAD_REQUEST, irpd_store_info_set(st, U, &badutf, 1, U, NOW));
    REFUSED(IRP_BAD_REQUEST, irpd_store_info_set(st, U, twice, 2, U, NOW));
    REFUSED(IRP_BAD_REQUEST, irpd_store_info_set(st, U, NULL, 1, U, NOW));
    REFUSED(IRP_TOO_LARGE, irpd_store_info_set(st, U, &toolong, 1, U, NOW));
    REFUSED(IRP_TOO_LARGE, irpd_store_info_set(st, U, nine, IRPD_STORE_INFO_MAX + 1, U, NOW));
    PASSED(irpd_store_info_set(st, U, &ok, 1, U, NOW));

    REFUSED(IRP_BAD_REQUEST, irpd_store_token_add(st, NULL, U, NOW + 10, "cli", NOW));
    REFUSED(IRP_BAD_REQUEST, irpd_store_token_add(st, h, "bad", NOW + 10, "cli", NOW));
    REFUSED(IRP_BAD_REQUEST, irpd_store_token_add(st, h, U, NOW, "cli", NOW)); /* expired */
    REFUSED(IRP_BAD_REQUEST, irpd_store_token_check(st, NULL, NOW, NULL));
    REFUSED(IRP_BAD_REQUEST, irpd_store_token_consume(st, NULL, NOW, NULL, "cli"));
    PASSED(irpd_store_token_add(st, h, U, NOW + 10, "cli", NOW));
    PASSED(irpd_store_token_check(st, h, NOW, NULL));
    PASSED(irpd_store_token_consume(st, h, NOW, NULL, "cli"));

    uint8_t blob[IRPD_STORE_P12_MAX + 1] = {0};
    REFUSED(IRP_BAD_REQUEST, irpd_store_p12_put(st, U, NULL, 4, U, NOW));
    REFUSED(IRP_BAD_REQUEST, irpd_store_p12_put(st, U, blob, 0, U, NOW));
    REFUSED(IRP_TOO_LARGE, irpd_store_p12_put(st, U, blob, sizeof blob, U, NOW));
    REFUSED(IRP_BAD_REQUEST, irpd_store_p12_get(st, U, NULL, 4, &(size_t){0}, NULL));
    REFUSED(IRP_BAD_REQUEST, irpd_store_p12_get(st, U, blob, 4, NULL, NULL));
    PASSED(irpd_store_p12_put(st, U, blob, 10, U, NOW));

    REFUSED(IRP_BAD_REQUEST, irpd_store_audit_add(st, NOW, NULL, NULL, NULL, NULL));
    REFUSED(IRP_BAD_REQUEST, irpd_store_audit_add(st, NOW, NULL, "login failed", NULL, NULL));
    REFUSED(IRP_BAD_REQUEST, irpd_store_audit_add(st, NOW, NULL, "login-failed", "a\tb", NULL));
    REFUSED(IRP_BAD_REQUEST, irpd_store_audit_list(st, NULL, 0, 10, NULL, NULL));
    PASSED(irpd_store_audit_add(st, NOW, NULL, "login-failed", U, "wrong password"));
    PASSED(irpd_store_audit_list(st, NULL, 0, 10, cb_audit, NULL));
}

static void test_certs_and_bindings(void **state)
{
    irpd_store *st = fresh();
    const uint8_t der[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    uint8_t want_fp[32];
    irpd_cert c, out;
    irpd_binding b;
    SHA256(der, sizeof der, want_fp);

    memset(&c, 0, sizeof c);
    snprintf(c.serial, sizeof c.serial, "0A1B");
    snprintf(c.user, sizeof c.user, "%s", U);
    c.der = der;
    c.der_len = sizeof der;
    c.not_before = NOW;
    c.not_after = NOW + 100;
    irpd_cert bad = c;
    snprintf(bad.serial, sizeof bad.serial, "xyz");
    REFUSED(IRP_BAD_REQUEST, irpd_store_enroll(st, NULL, &bad, U, NOW, NULL));
    bad = c;
    bad.not_after = bad.not_before;
    REFUSED(IRP_BAD_REQUEST, irpd_store_cert_add(st, &bad, NULL, U, NOW, NULL));
    bad = c;
    bad.der_len = IRPD_STORE_CERT_DER_MAX + 1;
    REFUSED(IRP_BAD_REQUEST, irpd_store_enroll(st, NULL, &bad, U, NOW, NULL));
    bad = c;
    bad.der = NULL;
    REFUSED(IRP_BAD_REQUEST, irpd_store_cert_add(st, &bad, NULL, U, NOW, NULL));
    REFUSED(IRP_BAD_REQUEST, irpd_store_enroll(st, NULL, NULL, U, NOW, NULL));

    /* normalised: lowercase serial, fingerprint computed (the caller's is ignored) */
    memset(c.fingerprint, 0xee, 32);
    PASSED(irpd_store_enroll(st, NULL, &c, U, NOW, NULL));
    assert_string_equal(PR.serial, "0a1b");
    assert_memory_equal(PR.fp, want_fp, 32);
    PASSED(irpd_store_cert_add(st, &c, NULL, U, NOW, NULL));
    assert_memory_equal(PR.fp, want_fp, 32);
    memset(c.fingerprint, 0xee, 32);
    PASSED(irpd_store_cert_record(st, &c, U, NOW));
    assert_string_equal(PR.serial, "0a1b");
    assert_memory_equal(PR.fp, want_fp, 32);
    REFUSED(IRP_BAD_REQUEST, irpd_store_cert_record(st, &bad, U, NOW));
    REFUSED(IRP_BAD_REQUEST, irpd_store_cert_record(st, NULL, U, NOW));

    REFUSED(IRP_BAD_REQUEST, irpd_store_cert_get_serial(st, "12g", &out, NULL, 0));
    REFUSED(IRP_BAD_REQUEST, irpd_store_cert_get_serial(st, "", &out, NULL, 0));
    REFUSED(IRP_BAD_REQUEST, irpd_store_cert_get_serial(st, "ab", NULL, NULL, 0));
    REFUSED(IRP_BAD_REQUEST, irpd_store_cert_get_fp(st, NULL, &out, NULL, 0));
    PASSED(irpd_store_cert_get_serial(st, "ABCDEF", &out, NULL, 0));
    assert_string_equal(PR.serial, "abcdef");

    REFUSED(IRP_BAD_REQUEST, irpd_store_cert_revoke(st, NULL, NULL, NULL, "cli", NOW, NULL));
    REFUSED(IRP_BAD_REQUEST, irpd_store_cert_revoke(st, "ab", want_fp, NULL, "cli", NOW, NULL));
    REFUSED(IRP_BAD_REQUEST, irpd_store_cert_revoke(st, "ab", NULL, "key compromise", "cli", NOW,
                                                    NULL)); /* a space */
    REFUSED(IRP_BAD_REQUEST, irpd_store_user_revoke(st, U, "", "cli", NOW, NULL));
    PASSED(irpd_store_cert_revoke(st, "AB", NULL, NULL, "cli", NOW, NULL));
    assert_string_equal(PR.serial, "ab");
    assert_string_equal(PR.reason, "unspecified");
    PASSED(irpd_store_user_revoke(st, U, NULL, "cli", NOW, NULL));
    assert_string_equal(PR.reason, "unspecified");

    memset(&b, 0, sizeof b);
    snprintf(b.user, sizeof b.user, "%s", U);
    snprintf(b.device, sizeof b.device, "phone");
    b.seq = 1;
    b.port = 7000;
    b.n_addrs = 1;
    snprintf(b.addrs[0], sizeof b.addrs[0], "2001:db8::1");
    b.expires = NOW + 60;
    irpd_binding bb = b;
    bb.port = 0;
    REFUSED(IRP_BAD_REQUEST, irpd_store_binding_put(st, &bb, NULL, U, NOW));
    bb = b;
    bb.n_addrs = 0;
    REFUSED(IRP_BAD_REQUEST, irpd_store_binding_put(st, &bb, NULL, U, NOW));
    bb = b;
    bb.n_addrs = IRPD_STORE_ADDRS_MAX + 1;
    REFUSED(IRP_BAD_REQUEST, irpd_store_binding_put(st, &bb, NULL, U, NOW));
    bb = b;
    snprintf(bb.device, sizeof bb.device, "a/b");
    REFUSED(IRP_BAD_REQUEST, irpd_store_binding_put(st, &bb, NULL, U, NOW));
    bb = b;
    bb.expires = NOW;
    REFUSED(IRP_BAD_REQUEST, irpd_store_binding_put(st, &bb, NULL, U, NOW));
    bb = b;
    snprintf(bb.addrs[0], sizeof bb.addrs[0], "a b");
    REFUSED(IRP_BAD_REQUEST, irpd_store_binding_put(st, &bb, NULL, U, NOW));
    bad = c;
    snprintf(bad.serial, sizeof bad.serial, "-1");
    REFUSED(IRP_BAD_REQUEST, irpd_store_binding_put(st, &b, &bad, U, NOW)); /* auth_cert */
    PASSED(irpd_store_binding_put(st, &b, &c, U, NOW));
    assert_string_equal(PR.serial, "0a1b");
    assert_memory_equal(PR.fp, want_fp, 32);

    uint64_t seq = 2;
    REFUSED(IRP_BAD_REQUEST, irpd_store_binding_delete(st, U, NULL, &seq, U, NOW, NULL));
    REFUSED(IRP_BAD_REQUEST, irpd_store_binding_delete(st, U, "", NULL, U, NOW, NULL));
    PASSED(irpd_store_binding_delete(st, U, "phone", &seq, U, NOW, NULL));
    PASSED(irpd_store_binding_delete(st, U, NULL, NULL, U, NOW, NULL));
    PASSED(irpd_store_sweep(st, NOW, NULL, NULL, NULL));
}

/* A store whose open failed: IRP_INTERNAL, before any argument check, the backend untouched. */
static void test_unusable(void **state)
{
    irpd_store *st = fresh();
    irpd_user u;
    PR.base.usable = 0;
    REFUSED(IRP_INTERNAL, irpd_store_user_get(st, U, &u));
    REFUSED(IRP_INTERNAL, irpd_store_user_get(st, "bad", &u));
    REFUSED(IRP_INTERNAL, irpd_store_batch_begin(st));
    REFUSED(IRP_INTERNAL, irpd_store_batch_commit(st));
    REFUSED(IRP_INTERNAL, irpd_store_flush(st));
    REFUSED(IRP_INTERNAL, irpd_store_reads_take(st, cb_audit, NULL));
    REFUSED(IRP_INTERNAL, irpd_store_sweep(st, NOW, NULL, NULL, NULL));
    PR.calls = 0;
    irpd_store_batch_rollback(st);
    assert_int_equal(PR.calls, 0);
    assert_string_equal(irpd_store_errmsg(NULL), "out of memory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_users),
        cmocka_unit_test(test_info_tokens_p12_audit),
        cmocka_unit_test(test_certs_and_bindings),
        cmocka_unit_test(test_unusable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
