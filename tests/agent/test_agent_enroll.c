/*
 * test_agent_enroll.c - the CLI's identity helpers (agent_enroll.h)
 * against a real irpd on loopback: keys and CSRs of each type, written
 * 0600 whatever the umask; enrolment by token and by password; a wrong pin
 * refused before anything is written; the CA fetched and pinned; an
 * identity checked; the PKCS#12 backup with the algorithms IRP.md 6.16
 * requires, stored and restored, a wrong passphrase refused.
 */
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "agent_enroll.h"
#include "agent_enroll_int.h"
#include "irp_client.h"
#include "irp_status.h"
#include "reg_irpd.h"
#include "sixchat/error.h"

static reg_irpd T;

static int setup(void **state)
{
    (void)state;
    if (reg_irpd_init(&T) != 0 || reg_irpd_start(&T, 0) != 0) return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    reg_irpd_cleanup(&T);
    return 0;
}

static agent_irp_target target(void)
{
    agent_irp_target t;
    memset(&t, 0, sizeof(t));
    t.host = "127.0.0.1";
    t.port = T.port;
    t.ca_fp = T.ca_fp;
    return t;
}

static char *path(const char *name, const char *ext)
{
    static char bufs[8][400];
    static int k;
    k = (k + 1) % 8;
    return reg_irpd_path(&T, name, ext, bufs[k], sizeof(bufs[k]));
}

static unsigned file_mode(const char *p)
{
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    return (unsigned)(st.st_mode & 07777);
}

static X509 *load_cert(const char *p)
{
    FILE *f = fopen(p, "r");
    X509 *x = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f != NULL) fclose(f);
    assert_non_null(x);
    return x;
}

static EVP_PKEY *load_key(const char *p)
{
    FILE *f = fopen(p, "r");
    EVP_PKEY *k = f != NULL ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f != NULL) fclose(f);
    assert_non_null(k);
    return k;
}

/* The CSR: self-signature good, CN and the first rfc822Name are the user. */
static void check_csr(const char *p, const char *user, int want_id)
{
    FILE *f = fopen(p, "r");
    X509_REQ *q = f != NULL ? PEM_read_X509_REQ(f, NULL, NULL, NULL) : NULL;
    EVP_PKEY *k;
    char cn[300];
    STACK_OF(X509_EXTENSION) * exts;
    GENERAL_NAMES *gens;
    const GENERAL_NAME *gn;
    int i;

    if (f != NULL) fclose(f);
    assert_non_null(q);
    k = X509_REQ_get0_pubkey(q);
    assert_non_null(k);
    assert_int_equal(EVP_PKEY_get_id(k), want_id);
    assert_int_equal(X509_REQ_verify(q, k), 1);
    assert_true(X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(q), NID_commonName, cn,
                                          sizeof(cn)) > 0);
    assert_string_equal(cn, user);
    exts = X509_REQ_get_extensions(q);
    assert_non_null(exts);
    i = X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1);
    assert_true(i >= 0);
    gens = X509V3_EXT_d2i(sk_X509_EXTENSION_value(exts, i));
    assert_non_null(gens);
    gn = sk_GENERAL_NAME_value(gens, 0);
    assert_int_equal(gn->type, GEN_EMAIL);
    assert_memory_equal(ASN1_STRING_get0_data(gn->d.rfc822Name), user, strlen(user));
    GENERAL_NAMES_free(gens);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_REQ_free(q);
}

static void test_key_types_and_modes(void **state)
{
    static const struct {
        const char *name;
        int id;
    } types[] = {{"p256", EVP_PKEY_EC}, {"ed25519", EVP_PKEY_ED25519}, {"rsa2048", EVP_PKEY_RSA}};
    char err[256];
    size_t i;
    mode_t old = umask(0); /* the widest umask: the key must still be 0600 */
    (void)state;

    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        agent_key_type kt;
        char name[32];
        snprintf(name, sizeof(name), "k_%s", types[i].name);
        assert_int_equal(agent_key_type_parse(types[i].name, &kt), 0);
        assert_int_equal(agent_enroll_make_key("kim@example.org", kt, path(name, "key"),
                                               path(name, "csr"), err, sizeof(err)),
                         0);
        assert_int_equal(file_mode(path(name, "key")), 0600);
        check_csr(path(name, "csr"), "kim@example.org", types[i].id);
    }
    umask(old);
    /* An existing key is never replaced (it may be the only copy). */
    {
        char *before = reg_irpd_slurp(path("k_p256", "key"));
        assert_int_equal(agent_enroll_make_key("kim@example.org", AGENT_KEY_P256,
                                               path("k_p256", "key"), path("k_x", "csr"), err,
                                               sizeof(err)),
                         SC_ERR_IO);
        assert_non_null(strstr(err, "exists"));
        char *after = reg_irpd_slurp(path("k_p256", "key"));
        assert_string_equal(before, after);
        free(before);
        free(after);
    }
    assert_int_equal(agent_enroll_make_key("not a user", AGENT_KEY_P256, path("k_y", "key"),
                                           path("k_y", "csr"), err, sizeof(err)),
                     SC_ERR_ARG);
    assert_int_equal(access(path("k_y", "key"), F_OK), -1);
    {
        agent_key_type kt;
        assert_int_equal(agent_key_type_parse("dsa", &kt), SC_ERR_ARG);
    }
}

static void test_enroll_token(void **state)
{
    agent_irp_target t = target();
    char tok[64], err[512], user[300];
    X509 *leaf, *ca;
    EVP_PKEY *key;
    (void)state;

    assert_int_equal(reg_irpd_token(&T, "alice@example.org", tok), 0);
    assert_int_equal(agent_enroll_make_key("alice@example.org", AGENT_KEY_P256,
                                           path("alice", "key"), path("alice", "csr"), err,
                                           sizeof(err)),
                     0);
    assert_int_equal(agent_enroll_run(&t, tok, NULL, NULL, path("alice", "key"),
                                      path("alice", "csr"), path("alice", "pem"),
                                      path("alice", "ca"), user, err, sizeof(err)),
                     0);
    assert_string_equal(user, "alice@example.org");
    leaf = load_cert(path("alice", "pem"));
    key = load_key(path("alice", "key"));
    assert_int_equal(X509_check_private_key(leaf, key), 1);
    ca = load_cert(path("alice", "ca"));
    assert_true(agent__enroll_fp_matches(ca, T.ca_fp));
    assert_int_equal(X509_check_issued(ca, leaf), X509_V_OK);
    X509_free(leaf);
    X509_free(ca);
    EVP_PKEY_free(key);

    /* The token is spent: 410, and the message says so. */
    assert_int_equal(agent_enroll_run(&t, tok, NULL, NULL, path("alice", "key"),
                                      path("alice", "csr"), path("alice2", "pem"), NULL, NULL, err,
                                      sizeof(err)),
                     IRP_GONE);
    assert_non_null(strstr(err, "410"));
    assert_int_equal(access(path("alice2", "pem"), F_OK), -1);
    /* Not a token at all: refused before connecting. */
    assert_int_equal(agent_enroll_run(&t, "short", NULL, NULL, path("alice", "key"),
                                      path("alice", "csr"), path("alice2", "pem"), NULL, NULL, err,
                                      sizeof(err)),
                     SC_ERR_ARG);
}

static void test_enroll_password(void **state)
{
    agent_irp_target t = target();
    char err[512], user[300];
    X509 *leaf;
    EVP_PKEY *key;
    (void)state;

    assert_int_equal(reg_irpd_passwd(&T, "rob@example.org", "correct horse battery"), 0);
    assert_int_equal(agent_enroll_make_key("rob@example.org", AGENT_KEY_RSA2048, path("rob", "key"),
                                           path("rob", "csr"), err, sizeof(err)),
                     0);
    assert_int_equal(agent_enroll_run(&t, NULL, "rob@example.org", "wrong horse",
                                      path("rob", "key"), path("rob", "csr"), path("rob", "pem"),
                                      NULL, NULL, err, sizeof(err)),
                     IRP_AUTH_REQUIRED);
    assert_null(strstr(err, "wrong horse")); /* no secret in a message */
    assert_int_equal(access(path("rob", "pem"), F_OK), -1);
    assert_int_equal(agent_enroll_run(&t, NULL, "rob@example.org", "correct horse battery",
                                      path("rob", "key"), path("rob", "csr"), path("rob", "pem"),
                                      NULL, user, err, sizeof(err)),
                     0);
    assert_string_equal(user, "rob@example.org");
    leaf = load_cert(path("rob", "pem"));
    key = load_key(path("rob", "key"));
    assert_int_equal(X509_check_private_key(leaf, key), 1);
    X509_free(leaf);
    EVP_PKEY_free(key);
}

static void test_wrong_pin(void **state)
{
    agent_irp_target t = target();
    char tok[64], err[512];
    (void)state;

    t.ca_fp = "00000000000000000000000000000000000000000000000000000000000000ff";
    assert_int_equal(reg_irpd_token(&T, "pat@example.org", tok), 0);
    assert_int_equal(agent_enroll_make_key("pat@example.org", AGENT_KEY_ED25519, path("pat", "key"),
                                           path("pat", "csr"), err, sizeof(err)),
                     0);
    assert_int_equal(agent_enroll_run(&t, tok, NULL, NULL, path("pat", "key"), path("pat", "csr"),
                                      path("pat", "pem"), path("pat", "ca"), NULL, err,
                                      sizeof(err)),
                     IRP_CLIENT_TLS);
    assert_int_equal(access(path("pat", "pem"), F_OK), -1);
    assert_int_equal(access(path("pat", "ca"), F_OK), -1);
    assert_int_equal(agent_enroll_fetch_ca(&t, path("pat", "ca"), err, sizeof(err)),
                     IRP_CLIENT_TLS);
    /* With the right pin the same token still works (nothing was sent before). */
    t.ca_fp = T.ca_fp;
    assert_int_equal(agent_enroll_run(&t, tok, NULL, NULL, path("pat", "key"), path("pat", "csr"),
                                      path("pat", "pem"), NULL, NULL, err, sizeof(err)),
                     0);
}

static void test_fetch_ca_and_check(void **state)
{
    agent_irp_target t = target();
    char err[512], user[300];
    X509 *a, *b;
    (void)state;

    assert_int_equal(reg_irpd_enroll(&T, "cid", "cid@example.org"), 0);
    assert_int_equal(agent_enroll_fetch_ca(&t, path("fetched", "ca"), err, sizeof(err)), 0);
    a = load_cert(path("fetched", "ca"));
    b = load_cert(T.ca_path);
    assert_int_equal(X509_cmp(a, b), 0);
    X509_free(a);
    X509_free(b);
    assert_int_equal(agent_enroll_check(path("cid", "pem"), path("cid", "key"),
                                        path("fetched", "ca"), user, err, sizeof(err)),
                     0);
    assert_string_equal(user, "cid@example.org");
    /* Another key: refused. */
    assert_int_equal(agent_enroll_make_key("cid@example.org", AGENT_KEY_P256,
                                           path("cid_other", "key"), path("cid_other", "csr"), err,
                                           sizeof(err)),
                     0);
    assert_int_not_equal(agent_enroll_check(path("cid", "pem"), path("cid_other", "key"),
                                            path("fetched", "ca"), user, err, sizeof(err)),
                         0);
    assert_non_null(strstr(err, "not for this key"));
    /* Another CA (made by the openssl command line): refused. */
    {
        char cmd[1200];
        snprintf(cmd, sizeof(cmd),
                 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                 "-keyout '%s' -subj /CN=other-ca -days 2 -out '%s' 2>/dev/null",
                 path("other", "key"), path("other", "ca"));
        assert_int_equal(system(cmd), 0);
    }
    assert_int_not_equal(agent_enroll_check(path("cid", "pem"), path("cid", "key"),
                                            path("other", "ca"), user, err, sizeof(err)),
                         0);
    assert_non_null(strstr(err, "does not verify"));
}

/* What `openssl pkcs12 -info` says of the backup: the algorithms of IRP.md 6.16. */
static void check_p12_algorithms(const char *file, const char *pass)
{
    char cmd[1024], out[8192];
    size_t n;
    FILE *p;

    snprintf(cmd, sizeof(cmd), "openssl pkcs12 -in '%s' -info -noout -passin 'pass:%s' 2>&1", file,
             pass);
    p = popen(cmd, "r");
    assert_non_null(p);
    n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    pclose(p);
    assert_non_null(strstr(out, "MAC: sha256, Iteration 600000"));
    assert_non_null(strstr(out, "Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 600000, "
                                "PRF hmacWithSHA256"));
    assert_non_null(strstr(out, "PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration "
                                "600000, PRF hmacWithSHA256"));
}

static void test_backup_restore(void **state)
{
    agent_irp_target t = target();
    char err[512];
    unsigned char *der = NULL;
    size_t len = 0;
    X509 *orig, *back;
    EVP_PKEY *key;
    char *k1, *k2;
    (void)state;

    assert_int_equal(reg_irpd_enroll(&T, "bea", "bea@example.org"), 0);
    assert_int_equal(agent__enroll_p12_pack(path("bea", "pem"), path("bea", "key"), "s3cret pass",
                                            &der, &len, err, sizeof(err)),
                     0);
    assert_int_equal(agent__enroll_write(path("bea", "p12"), der, len, 0600, 0, err, sizeof(err)),
                     0);
    OPENSSL_free(der);
    check_p12_algorithms(path("bea", "p12"), "s3cret pass");

    /* Nothing stored yet: a restore says so. */
    assert_int_equal(reg_irpd_passwd(&T, "bea@example.org", "login pw"), 0);
    assert_int_equal(agent_enroll_restore(&t, "bea@example.org", "login pw", "s3cret pass",
                                          path("bea_new", "key"), path("bea_new", "pem"), err,
                                          sizeof(err)),
                     IRP_NOT_FOUND);
    assert_non_null(strstr(err, "no backup"));

    assert_int_equal(agent_enroll_backup(&t, path("bea", "pem"), path("bea", "key"), "s3cret pass",
                                         err, sizeof(err)),
                     0);
    /* A wrong passphrase: refused, nothing written. */
    assert_int_equal(agent_enroll_restore(&t, "bea@example.org", "login pw", "guess",
                                          path("bea_new", "key"), path("bea_new", "pem"), err,
                                          sizeof(err)),
                     SC_ERR_CRYPTO);
    assert_non_null(strstr(err, "wrong passphrase"));
    assert_int_equal(access(path("bea_new", "key"), F_OK), -1);
    /* The right one, on the "new machine": the same key and certificate, the key 0600. */
    assert_int_equal(agent_enroll_restore(&t, "bea@example.org", "login pw", "s3cret pass",
                                          path("bea_new", "key"), path("bea_new", "pem"), err,
                                          sizeof(err)),
                     0);
    assert_int_equal(file_mode(path("bea_new", "key")), 0600);
    orig = load_cert(path("bea", "pem"));
    back = load_cert(path("bea_new", "pem"));
    assert_int_equal(X509_cmp(orig, back), 0);
    key = load_key(path("bea_new", "key"));
    assert_int_equal(X509_check_private_key(orig, key), 1);
    k1 = reg_irpd_slurp(path("bea", "key"));
    k2 = reg_irpd_slurp(path("bea_new", "key"));
    assert_string_equal(k1, k2);
    free(k1);
    free(k2);
    X509_free(orig);
    X509_free(back);
    EVP_PKEY_free(key);
    /* The restored identity enrols nothing new but works: check it against the CA. */
    assert_int_equal(agent_enroll_check(path("bea_new", "pem"), path("bea_new", "key"), T.ca_path,
                                        NULL, err, sizeof(err)),
                     0);
}

int main(void)
{
    /* As the agent does (agent.c): a peer that vanished is EPIPE on its socket, not a signal
     * that ends the whole test program (it did once, under load, in test_ping_keepalive). */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_types_and_modes), cmocka_unit_test(test_enroll_token),
        cmocka_unit_test(test_enroll_password),     cmocka_unit_test(test_wrong_pin),
        cmocka_unit_test(test_fetch_ca_and_check),  cmocka_unit_test(test_backup_restore),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
