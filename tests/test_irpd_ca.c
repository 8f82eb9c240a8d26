/*
 * test_irpd_ca.c - the registry's certificate authority (src/irpd/irpd_ca.c;
 * docs/IRP.md 6.5 and 7.5; docs/PROTOCOL.md 8 for what peers accept).
 *
 * CSRs are made in code with OpenSSL's X509_REQ API for every key type, and
 * by the `openssl req` command-line tool. Every issued certificate must pass
 * both `openssl verify -purpose sslclient` (run as a program, at the test's
 * fixed time) and sc_cert_verify, the check peers run. Files go to a
 * mkdtemp directory removed at the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "sixchat/error.h"
#include "sc_cert.h"
#include "sc_testcert.h"
#include "irpd_ca.h"

#define NOW SC_TESTCERT_NOW
#define DAY INT64_C(86400)
#define ALICE "alice@example.org"
#define HOST "irp.example.org"

/* ---- fixture: one P-256 CA with a server certificate, and a scratch directory ---- */

typedef struct fx {
    irpd_ca *ca;
    char dir[64];
    char *ca_pem; /* the CA certificate as PEM */
} fx;

static char *cert_pem(X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data, *s;
    long n;

    assert_non_null(b);
    assert_int_equal(PEM_write_bio_X509(b, x), 1);
    n = BIO_get_mem_data(b, &data);
    s = malloc((size_t)n + 1);
    assert_non_null(s);
    memcpy(s, data, (size_t)n);
    s[n] = '\0';
    BIO_free(b);
    return s;
}

static int fx_setup(void **state)
{
    static const char *const ips[] = {"192.0.2.10", "2001:db8::10"};
    irpd_ca_opts o = {IRPD_KEY_P256, HOST, 0, NULL, 0};
    fx *f = calloc(1, sizeof *f);
    irpd_ca_err e;

    if (f == NULL) return -1;
    strcpy(f->dir, "/tmp/test_irpd_ca.XXXXXX");
    if (mkdtemp(f->dir) == NULL) return -1;
    if (irpd_ca_create(&o, NOW, &f->ca, &e) != IRPD_CA_OK) return -1;
    if (irpd_ca_make_server(f->ca, HOST, ips, 2, NOW, 0, &e) != IRPD_CA_OK) return -1;
    f->ca_pem = cert_pem(irpd_ca_cert(f->ca));
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    fx *f = *state;
    char cmd[128];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", f->dir);
    irpd_ca_free(f->ca);
    free(f->ca_pem);
    free(f);
    return 0;
}

/* ---- helpers --------------------------------------------------------------- */

/* Runs a shell command (output to the test log); returns its exit status. */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    int st;

    va_start(ap, fmt);
    assert_true(vsnprintf(cmd, sizeof cmd, fmt, ap) < (int)sizeof cmd);
    va_end(ap);
    st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    FILE *fp;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
}

static const EVP_MD *md_for(EVP_PKEY *k)
{
    return EVP_PKEY_is_a(k, "ED25519") || EVP_PKEY_is_a(k, "ED448") ? NULL : EVP_sha256();
}

/*
 * A DER CSR for key's public key, signed by signer (normally key itself),
 * asking for subject CN=cn and the given extensions (OpenSSL config syntax
 * pairs nid/value, ending with 0).
 */
static uint8_t *make_csr_ext(EVP_PKEY *key, EVP_PKEY *signer, const char *cn, size_t *len, ...)
{
    X509_REQ *req = X509_REQ_new();
    X509_NAME *name = X509_NAME_new();
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    unsigned char *der = NULL;
    va_list ap;
    int nid, n;

    assert_true(req != NULL && name != NULL && exts != NULL);
    assert_int_equal(X509_REQ_set_version(req, X509_REQ_VERSION_1), 1);
    assert_int_equal(
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0),
        1);
    assert_int_equal(X509_REQ_set_subject_name(req, name), 1);
    assert_int_equal(X509_REQ_set_pubkey(req, key), 1);
    va_start(ap, len);
    while ((nid = va_arg(ap, int)) != 0) {
        const char *value = va_arg(ap, const char *);
        X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, NULL, nid, value);
        assert_non_null(ext);
        sk_X509_EXTENSION_push(exts, ext);
    }
    va_end(ap);
    if (sk_X509_EXTENSION_num(exts) > 0) assert_int_equal(X509_REQ_add_extensions(req, exts), 1);
    assert_true(X509_REQ_sign(req, signer, md_for(signer)) > 0);
    n = i2d_X509_REQ(req, &der);
    assert_true(n > 0);
    *len = (size_t)n;
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_NAME_free(name);
    X509_REQ_free(req);
    return der;
}

static uint8_t *make_csr(EVP_PKEY *key, size_t *len)
{
    return make_csr_ext(key, key, "whoever", len, 0);
}

static X509 *decode(const irpd_issued *is)
{
    const unsigned char *p = is->der;
    X509 *x = d2i_X509(NULL, &p, (long)is->der_len);

    assert_non_null(x);
    assert_ptr_equal(p, is->der + is->der_len);
    return x;
}

/* Checks an issued certificate with the verifier peers use, CA as the only anchor. */
static void peer_accepts(const char *ca_pem, const irpd_issued *is, const char *user)
{
    sc_policy p;
    sc_peer_chain c;
    const uint8_t *der[1] = {is->der};
    size_t len[1] = {is->der_len};

    assert_int_equal(sc_policy_init(&p), SC_OK);
    assert_int_equal(sc_policy_add_anchors_pem(&p, ca_pem, strlen(ca_pem), NULL, 0), SC_OK);
    assert_int_equal(sc_cert_decode_chain(der, len, 1, &c), SC_OK);
    assert_string_equal(c.user_id, user);
    assert_memory_equal(c.fingerprint, is->fingerprint, 32);
    assert_int_equal(sc_cert_check_identity(&p, &c, user), SC_OK);
    assert_int_equal(sc_cert_verify(&p, &c, NOW), SC_OK);
    sc_peer_chain_clear(&c);
    sc_policy_free(&p);
}

/* `openssl verify` at the test's fixed time, with the purpose given (sslclient / sslserver). */
static void cli_verifies(const char *dir, const char *ca_file, const char *leaf_file,
                         const char *purpose)
{
    assert_int_equal(run("openssl verify -x509_strict -attime %lld -purpose %s -CAfile %s/%s "
                         "%s/%s >&2",
                         (long long)NOW, purpose, dir, ca_file, dir, leaf_file),
                     0);
}

static void write_issued(const char *dir, const char *name, const irpd_issued *is)
{
    X509 *x = decode(is);
    char *pem = cert_pem(x);

    write_file(dir, name, pem);
    free(pem);
    X509_free(x);
}

/* Is the extension present and critical? -1 absent, else its criticality. */
static int ext_critical(X509 *x, int nid)
{
    int i = X509_get_ext_by_NID(x, nid, -1);
    return i < 0 ? -1 : X509_EXTENSION_get_critical(X509_get_ext(x, i));
}

static void assert_msg_contains(const irpd_ca_err *e, const char *needle)
{
    if (strstr(e->msg, needle) == NULL) fail_msg("message \"%s\" lacks \"%s\"", e->msg, needle);
}

/* ---- the CA and the server certificate -------------------------------------- */

static void test_ca_certificate(void **state)
{
    fx *f = *state;
    X509 *ca = irpd_ca_cert(f->ca);
    char cn[128];
    BASIC_CONSTRAINTS *bc;
    int crit = 0;

    assert_true(
        X509_NAME_get_text_by_NID(X509_get_subject_name(ca), NID_commonName, cn, sizeof cn) > 0);
    assert_string_equal(cn, "sixchat registry CA " HOST);
    assert_int_equal(X509_NAME_cmp(X509_get_subject_name(ca), X509_get_issuer_name(ca)), 0);
    assert_int_equal(X509_get_version(ca), X509_VERSION_3);
    assert_true(EVP_PKEY_is_a(irpd_ca_key(f->ca), "EC"));
    assert_int_equal(X509_get_signature_nid(ca), NID_ecdsa_with_SHA256);
    assert_int_equal(X509_verify(ca, X509_get0_pubkey(ca)), 1);

    bc = X509_get_ext_d2i(ca, NID_basic_constraints, &crit, NULL);
    assert_non_null(bc);
    assert_true(bc->ca);
    assert_non_null(bc->pathlen);
    assert_int_equal(ASN1_INTEGER_get(bc->pathlen), 0);
    assert_int_equal(crit, 1);
    BASIC_CONSTRAINTS_free(bc);
    assert_int_equal(ext_critical(ca, NID_key_usage), 1);
    assert_int_equal(X509_get_key_usage(ca), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
    assert_non_null(X509_get0_subject_key_id(ca));
    assert_non_null(X509_get0_authority_key_id(ca));
    assert_int_equal(
        ASN1_OCTET_STRING_cmp(X509_get0_subject_key_id(ca), X509_get0_authority_key_id(ca)), 0);
    /* Ten years from five minutes ago. */
    assert_int_equal(ASN1_TIME_cmp_time_t(X509_get0_notBefore(ca), (time_t)(NOW - 300)), 0);
    assert_int_equal(ASN1_TIME_cmp_time_t(X509_get0_notAfter(ca), (time_t)(NOW + 3650 * DAY)), 0);
    /* A positive random serial of 128 bits. */
    char serial[IRPD_SERIAL_HEX_MAX + 1];
    assert_int_equal(irpd_ca_serial_hex(ca, serial, sizeof serial), IRPD_CA_OK);
    assert_int_equal(strlen(serial), 32);
}

static void test_server_certificate(void **state)
{
    fx *f = *state;
    X509 *s = irpd_ca_server_cert(f->ca);
    char cn[128];

    assert_non_null(s);
    assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(s), NID_commonName, cn, sizeof cn) >
                0);
    assert_string_equal(cn, HOST);
    assert_int_equal(X509_check_host(s, HOST, 0, 0, NULL), 1);
    assert_int_equal(X509_check_host(s, "other.example.org", 0, 0, NULL), 0);
    assert_int_equal(X509_check_ip_asc(s, "192.0.2.10", 0), 1);
    assert_int_equal(X509_check_ip_asc(s, "2001:db8::10", 0), 1);
    assert_int_equal(X509_check_ip_asc(s, "192.0.2.11", 0), 0);
    assert_true(X509_get_extended_key_usage(s) & XKU_SSL_SERVER);
    assert_false(X509_get_extended_key_usage(s) & XKU_SSL_CLIENT);
    assert_int_equal(X509_check_ca(s), 0);
    assert_int_equal(X509_check_private_key(s, irpd_ca_server_key(f->ca)), 1);
    assert_int_equal(X509_verify(s, X509_get0_pubkey(irpd_ca_cert(f->ca))), 1);
    assert_non_null(X509_get0_authority_key_id(s));
    assert_int_equal(ASN1_TIME_cmp_time_t(X509_get0_notAfter(s), (time_t)(NOW + 730 * DAY)), 0);
}

static void test_server_certificate_inputs(void **state)
{
    static const char *const bad_ip[] = {"192.0.2.300"};
    static const char *const null_ip[] = {NULL};
    fx *f = *state;
    irpd_ca_opts o = {IRPD_KEY_ED25519, "x", 0, NULL, 0};
    irpd_ca *ca;
    irpd_ca_err e;
    X509 *s;

    assert_int_equal(irpd_ca_create(&o, NOW, &ca, &e), IRPD_CA_OK);
    assert_null(irpd_ca_server_cert(ca));
    /* No way to smuggle another name in through the host. */
    assert_int_equal(irpd_ca_make_server(ca, "a.example,DNS:evil.example", NULL, 0, NOW, 0, &e),
                     IRPD_CA_INVALID);
    assert_msg_contains(&e, "DNS host name");
    assert_int_equal(irpd_ca_make_server(ca, "", NULL, 0, NOW, 0, &e), IRPD_CA_INVALID);
    assert_int_equal(irpd_ca_make_server(ca, "-a.example", NULL, 0, NOW, 0, &e), IRPD_CA_INVALID);
    assert_int_equal(irpd_ca_make_server(ca, "a..example", NULL, 0, NOW, 0, &e), IRPD_CA_INVALID);
    assert_int_equal(irpd_ca_make_server(ca, HOST, bad_ip, 1, NOW, 0, &e), IRPD_CA_INVALID);
    assert_msg_contains(&e, "192.0.2.300");
    assert_int_equal(irpd_ca_make_server(ca, HOST, null_ip, 1, NOW, 0, &e), IRPD_CA_INVALID);
    assert_null(irpd_ca_server_cert(ca));

    /* A host given as an address is an iPAddress name; the CA's key type is kept. */
    assert_int_equal(irpd_ca_make_server(ca, "2001:db8::1", NULL, 0, NOW, 0, &e), IRPD_CA_OK);
    s = irpd_ca_server_cert(ca);
    assert_int_equal(X509_check_ip_asc(s, "2001:db8::1", 0), 1);
    assert_true(EVP_PKEY_is_a(irpd_ca_server_key(ca), "ED25519"));
    assert_int_equal(X509_get_signature_nid(s), NID_ED25519);
    /* A lifetime past the CA's end is cut to it. */
    assert_int_equal(irpd_ca_make_server(ca, HOST, NULL, 0, NOW, 30 * 365 * DAY, &e), IRPD_CA_OK);
    assert_int_equal(ASN1_TIME_compare(X509_get0_notAfter(irpd_ca_server_cert(ca)),
                                       X509_get0_notAfter(irpd_ca_cert(ca))),
                     0);
    irpd_ca_free(ca);

    /* The CA name is cut to the 64 bytes a CN may hold; non-ASCII is refused. */
    char longname[200];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    o.name = longname;
    assert_int_equal(irpd_ca_create(&o, NOW, &ca, &e), IRPD_CA_OK);
    irpd_ca_free(ca);
    o.name = "caf\xc3\xa9";
    assert_int_equal(irpd_ca_create(&o, NOW, &ca, &e), IRPD_CA_INVALID);
    assert_null(ca);
    (void)f;
}

static void test_save_load(void **state)
{
    fx *f = *state;
    char sub[128], path[256];
    struct stat st;
    irpd_ca *loaded;
    irpd_ca_err e;
    uint8_t fp1[32], fp2[32];
    char hex[65], line[256];
    mode_t old;
    static const struct {
        const char *name;
        mode_t mode;
    } files[] = {{"ca.key", 0600}, {"server.key", 0600}, {"ca.pem", 0644}, {"server.pem", 0644}};

    snprintf(sub, sizeof sub, "%s/state", f->dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    /* Exact modes whatever the umask: neither widened by 000 nor narrowed by 077. */
    old = umask(0);
    assert_int_equal(irpd_ca_save(f->ca, sub, &e), IRPD_CA_OK);
    umask(old);
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", sub, files[i].name);
        assert_int_equal(stat(path, &st), 0);
        if ((st.st_mode & 0777) != files[i].mode)
            fail_msg("%s has mode %03o", files[i].name, (unsigned)(st.st_mode & 0777));
    }
    /* Never overwrites, and leaves what is there alone. */
    assert_int_equal(irpd_ca_save(f->ca, sub, &e), IRPD_CA_EXISTS);
    assert_msg_contains(&e, "already exists");
    snprintf(path, sizeof path, "%s/ca.key", sub);
    assert_int_equal(stat(path, &st), 0);

    assert_int_equal(irpd_ca_load(sub, &loaded, &e), IRPD_CA_OK);
    assert_int_equal(irpd_ca_fingerprint(f->ca, fp1), IRPD_CA_OK);
    assert_int_equal(irpd_ca_fingerprint(loaded, fp2), IRPD_CA_OK);
    assert_memory_equal(fp1, fp2, 32);
    assert_int_equal(X509_cmp(irpd_ca_server_cert(f->ca), irpd_ca_server_cert(loaded)), 0);
    assert_int_equal(EVP_PKEY_eq(irpd_ca_key(f->ca), irpd_ca_key(loaded)), 1);
    assert_int_equal(EVP_PKEY_eq(irpd_ca_server_key(f->ca), irpd_ca_server_key(loaded)), 1);

    /* The fingerprint is what `openssl x509 -fingerprint -sha256` says. */
    assert_int_equal(irpd_ca_fingerprint_hex(loaded, hex), IRPD_CA_OK);
    assert_int_equal(strlen(hex), 64);
    snprintf(path, sizeof path,
             "openssl x509 -noout -fingerprint -sha256 -in %s/ca.pem | sed 's/.*=//; s/://g' | "
             "tr A-F a-f",
             sub);
    FILE *p = popen(path, "r");
    assert_non_null(p);
    assert_non_null(fgets(line, sizeof line, p));
    assert_int_equal(pclose(p), 0);
    line[strcspn(line, "\n")] = '\0';
    assert_string_equal(line, hex);

    /* The server certificate verifies for TLS server use at the CLI, and only for that. */
    cli_verifies(sub, "ca.pem", "server.pem", "sslserver");
    assert_int_not_equal(run("openssl verify -attime %lld -purpose sslclient -CAfile %s/ca.pem "
                             "%s/server.pem >&2 2>/dev/null",
                             (long long)NOW, sub, sub),
                         0);

    /* An issued certificate from the reloaded CA verifies with the original anchor. */
    EVP_PKEY *k = sc_testkey_new(SC_TESTKEY_P256);
    size_t len;
    uint8_t *csr = make_csr(k, &len);
    irpd_issued is;
    assert_int_equal(irpd_ca_issue_user(loaded, csr, len, ALICE, NOW, 0, &is, &e), IRPD_CA_OK);
    peer_accepts(f->ca_pem, &is, ALICE);
    irpd_issued_clear(&is);
    OPENSSL_free(csr);
    EVP_PKEY_free(k);
    irpd_ca_free(loaded);

    /* A key file others may read is refused, as ssh does. */
    snprintf(path, sizeof path, "%s/ca.key", sub);
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(irpd_ca_load(sub, &loaded, &e), IRPD_CA_INTERNAL);
    assert_null(loaded);
    assert_msg_contains(&e, "chmod 600");
    assert_int_equal(chmod(path, 0600), 0);

    /* Missing files are reported by name. */
    snprintf(path, sizeof path, "%s/server.key", sub);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(irpd_ca_load(sub, &loaded, &e), IRPD_CA_INTERNAL);
    assert_msg_contains(&e, "server.key");
    snprintf(path, sizeof path, "%s/nowhere", f->dir);
    assert_int_equal(irpd_ca_save(f->ca, path, &e), IRPD_CA_INTERNAL);
}

static void test_from_pem_mismatch(void **state)
{
    fx *f = *state;
    irpd_ca_opts o = {IRPD_KEY_P256, "other", 0, NULL, 0};
    irpd_ca *other, *ca;
    irpd_ca_err e;
    sc_testcert *root = sc_testcert_root(SC_TESTKEY_P256, "r", NOW - DAY, NOW + 365 * DAY);
    char *root_key = sc_testcert_key_pem(root);
    char *root_pem = sc_testcert_cert_pem(root);
    char *srv = cert_pem(irpd_ca_server_cert(f->ca));
    const char *garbage = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";

    assert_int_equal(irpd_ca_create(&o, NOW, &other, &e), IRPD_CA_OK);
    /* The other CA's key with our certificate. */
    BIO *b = BIO_new(BIO_s_mem());
    char *kdata;
    assert_int_equal(PEM_write_bio_PrivateKey(b, irpd_ca_key(other), NULL, NULL, 0, NULL, NULL), 1);
    long klen = BIO_get_mem_data(b, &kdata);
    assert_int_equal(irpd_ca_from_pem(f->ca_pem, strlen(f->ca_pem), kdata, (size_t)klen, NULL, 0,
                                      NULL, 0, &ca, &e),
                     IRPD_CA_INVALID);
    assert_msg_contains(&e, "does not match");
    assert_null(ca);
    assert_int_equal(irpd_ca_from_pem(f->ca_pem, strlen(f->ca_pem), garbage, strlen(garbage), NULL,
                                      0, NULL, 0, &ca, &e),
                     IRPD_CA_INVALID);
    /* A server certificate (with its own key) from another CA. */
    BIO *sb = BIO_new(BIO_s_mem());
    char *sdata;
    assert_int_equal(
        PEM_write_bio_PrivateKey(sb, irpd_ca_server_key(f->ca), NULL, NULL, 0, NULL, NULL), 1);
    long slen = BIO_get_mem_data(sb, &sdata);
    assert_int_equal(irpd_ca_from_pem(root_pem, strlen(root_pem), root_key, strlen(root_key), srv,
                                      strlen(srv), sdata, (size_t)slen, &ca, &e),
                     IRPD_CA_INVALID);
    assert_msg_contains(&e, "not issued by the CA");
    /* The server key must match the server certificate. */
    BIO *cb = BIO_new(BIO_s_mem());
    char *cdata;
    assert_int_equal(PEM_write_bio_PrivateKey(cb, irpd_ca_key(f->ca), NULL, NULL, 0, NULL, NULL),
                     1);
    long clen = BIO_get_mem_data(cb, &cdata);
    assert_int_equal(irpd_ca_from_pem(f->ca_pem, strlen(f->ca_pem), cdata, (size_t)clen, srv,
                                      strlen(srv), kdata, (size_t)klen, &ca, &e),
                     IRPD_CA_INVALID);
    assert_msg_contains(&e, "server private key does not match");
    /* With the right one it loads; and a server certificate needs its key. */
    assert_int_equal(irpd_ca_from_pem(f->ca_pem, strlen(f->ca_pem), cdata, (size_t)clen, srv,
                                      strlen(srv), sdata, (size_t)slen, &ca, &e),
                     IRPD_CA_OK);
    irpd_ca_free(ca);
    assert_int_equal(irpd_ca_from_pem(f->ca_pem, strlen(f->ca_pem), cdata, (size_t)clen, srv,
                                      strlen(srv), NULL, 0, &ca, &e),
                     IRPD_CA_INVALID);
    BIO_free(cb);
    BIO_free(sb);
    /* Any CA made elsewhere can be loaded (and then issues). */
    assert_int_equal(irpd_ca_from_pem(root_pem, strlen(root_pem), root_key, strlen(root_key), NULL,
                                      0, NULL, 0, &ca, &e),
                     IRPD_CA_OK);
    irpd_ca_free(ca);
    BIO_free(b);
    free(srv);
    free(root_key);
    free(root_pem);
    sc_testcert_free(root);
    irpd_ca_free(other);
}

/* ---- issuing ------------------------------------------------------------------ */

/* Everything a user certificate must say, whatever the CSR asked for. */
static void check_user_cert(fx *f, const irpd_issued *is, const char *user, int rsa)
{
    X509 *x = decode(is);
    char cn[300], serial[IRPD_SERIAL_HEX_MAX + 1];
    GENERAL_NAMES *names;
    BASIC_CONSTRAINTS *bc;
    uint8_t fp[32];
    unsigned int fplen;
    int crit = -1;
    uint32_t ku = KU_DIGITAL_SIGNATURE | (rsa ? KU_KEY_ENCIPHERMENT : 0);

    /* Subject CN=user only (no other attribute from the CSR). */
    assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(x)), 1);
    assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn) >
                0);
    assert_string_equal(cn, user);
    assert_int_equal(
        X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(irpd_ca_cert(f->ca))), 0);
    /* Exactly these six extensions. */
    assert_int_equal(X509_get_ext_count(x), 6);
    names = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
    assert_non_null(names);
    assert_int_equal(sk_GENERAL_NAME_num(names), 1);
    assert_int_equal(sk_GENERAL_NAME_value(names, 0)->type, GEN_EMAIL);
    GENERAL_NAMES_free(names);
    assert_int_equal(crit, 0);
    assert_int_equal(sc_cert_user_id(x, cn, sizeof cn), SC_OK);
    assert_string_equal(cn, user);
    assert_int_equal(X509_get_extended_key_usage(x), XKU_SSL_CLIENT);
    assert_int_equal(X509_get_key_usage(x), ku);
    assert_int_equal(ext_critical(x, NID_key_usage), 1);
    bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
    assert_non_null(bc);
    assert_false(bc->ca);
    BASIC_CONSTRAINTS_free(bc);
    assert_int_equal(X509_check_ca(x), 0);
    assert_non_null(X509_get0_subject_key_id(x));
    assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x),
                                           X509_get0_subject_key_id(irpd_ca_cert(f->ca))),
                     0);
    /* Validity, serial and fingerprint as reported. */
    assert_int_equal(is->not_before, NOW - 300);
    assert_int_equal(is->not_after, NOW + 365 * DAY);
    assert_int_equal(ASN1_TIME_cmp_time_t(X509_get0_notBefore(x), (time_t)is->not_before), 0);
    assert_int_equal(ASN1_TIME_cmp_time_t(X509_get0_notAfter(x), (time_t)is->not_after), 0);
    assert_int_equal(irpd_ca_serial_hex(x, serial, sizeof serial), IRPD_CA_OK);
    assert_string_equal(serial, is->serial_hex);
    assert_int_equal(strlen(serial), 32);
    assert_int_equal(strspn(serial, "0123456789abcdef"), 32);
    assert_int_equal(X509_digest(x, EVP_sha256(), fp, &fplen), 1);
    assert_memory_equal(fp, is->fingerprint, 32);
    assert_int_equal(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
    X509_free(x);
}

static void test_issue_each_key_type(void **state)
{
    static const struct {
        sc_testkey_type type;
        int rsa;
        const char *name;
    } types[] = {
        {SC_TESTKEY_ED25519, 0, "ed25519"},
        {SC_TESTKEY_P256, 0, "p256"},
        {SC_TESTKEY_P384, 0, "p384"},
        {SC_TESTKEY_RSA2048, 1, "rsa2048"},
    };
    fx *f = *state;
    irpd_ca_err e;
    char leaf[64];

    write_file(f->dir, "ca.pem", f->ca_pem);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        EVP_PKEY *k = sc_testkey_new(types[i].type);
        size_t len;
        uint8_t *csr = make_csr(k, &len);
        irpd_issued is;
        irpd_client who;
        const uint8_t *der[1];
        size_t dlen[1];

        if (irpd_ca_issue_user(f->ca, csr, len, ALICE, NOW, 0, &is, &e) != IRPD_CA_OK)
            fail_msg("%s: %d %s", types[i].name, e.status, e.msg);
        assert_int_equal(e.status, 0);
        assert_string_equal(e.msg, "");
        check_user_cert(f, &is, ALICE, types[i].rsa);
        /* The issued key is the CSR's key. */
        X509 *x = decode(&is);
        assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), k), 1);
        X509_free(x);

        peer_accepts(f->ca_pem, &is, ALICE);
        snprintf(leaf, sizeof leaf, "leaf-%s.pem", types[i].name);
        write_issued(f->dir, leaf, &is);
        cli_verifies(f->dir, "ca.pem", leaf, "sslclient");

        /* And the registry itself authenticates it. */
        der[0] = is.der;
        dlen[0] = is.der_len;
        assert_int_equal(irpd_ca_verify_client_der(f->ca, der, dlen, 1, NOW, &who, &e), IRPD_CA_OK);
        assert_string_equal(who.user_id, ALICE);
        assert_string_equal(who.serial_hex, is.serial_hex);
        assert_memory_equal(who.fingerprint, is.fingerprint, 32);
        assert_int_equal(who.issued_here, 1);

        irpd_issued_clear(&is);
        assert_null(is.der);
        OPENSSL_free(csr);
        EVP_PKEY_free(k);
    }
}

static void test_ed25519_ca(void **state)
{
    fx *f = *state;
    irpd_ca_opts o = {IRPD_KEY_ED25519, "ed", 0, NULL, 0};
    irpd_ca *ca;
    irpd_ca_err e;
    EVP_PKEY *k = sc_testkey_new(SC_TESTKEY_P256);
    size_t len;
    uint8_t *csr = make_csr(k, &len);
    irpd_issued is;
    char *pem;

    assert_int_equal(irpd_ca_create(&o, NOW, &ca, &e), IRPD_CA_OK);
    assert_int_equal(X509_get_signature_nid(irpd_ca_cert(ca)), NID_ED25519);
    assert_int_equal(irpd_ca_issue_user(ca, csr, len, "bob@example.org", NOW, 0, &is, &e),
                     IRPD_CA_OK);
    X509 *x = decode(&is);
    assert_int_equal(X509_get_signature_nid(x), NID_ED25519);
    X509_free(x);
    pem = cert_pem(irpd_ca_cert(ca));
    peer_accepts(pem, &is, "bob@example.org");
    write_file(f->dir, "ed-ca.pem", pem);
    write_issued(f->dir, "ed-leaf.pem", &is);
    cli_verifies(f->dir, "ed-ca.pem", "ed-leaf.pem", "sslclient");
    free(pem);
    irpd_issued_clear(&is);
    OPENSSL_free(csr);
    EVP_PKEY_free(k);
    irpd_ca_free(ca);
}

/* A CSR made by the openssl command-line tool, asking for far more than it gets. */
static void test_issue_cli_csr(void **state)
{
    static const struct {
        const char *name;
        const char *newkey;
    } kinds[] = {
        {"cli-ec", "-newkey ec -pkeyopt ec_paramgen_curve:P-256"},
        {"cli-ed", "-newkey ed25519"},
    };
    fx *f = *state;
    irpd_ca_err e;
    char path[256], leaf[64];

    write_file(f->dir, "ca.pem", f->ca_pem);
    for (size_t i = 0; i < 2; i++) {
        const char *n = kinds[i].name;
        size_t len;
        uint8_t *csr;
        irpd_issued is;

        assert_int_equal(run("openssl req -new %s -noenc -keyout %s/%s.key "
                             "-subj '/CN=root/emailAddress=root@evil.example' "
                             "-addext 'basicConstraints=critical,CA:TRUE' "
                             "-addext 'keyUsage=critical,keyCertSign' "
                             "-addext 'subjectAltName=email:mallory@evil.example' "
                             "-outform DER -out %s/%s.csr 2>&1 >&2",
                             kinds[i].newkey, f->dir, n, f->dir, n),
                         0);
        snprintf(path, sizeof path, "%s/%s.csr", f->dir, n);
        csr = (uint8_t *)sc_testcert_read_file(path, &len);
        assert_non_null(csr);
        if (irpd_ca_issue_user(f->ca, csr, len, ALICE, NOW, 0, &is, &e) != IRPD_CA_OK)
            fail_msg("%s: %s", n, e.msg);
        check_user_cert(f, &is, ALICE, 0);
        peer_accepts(f->ca_pem, &is, ALICE);
        snprintf(leaf, sizeof leaf, "%s.pem", n);
        write_issued(f->dir, leaf, &is);
        cli_verifies(f->dir, "ca.pem", leaf, "sslclient");
        /* The certificate's key is the one the tool wrote. */
        assert_int_equal(run("openssl x509 -in %s/%s -noout -pubkey > %s/%s.pub1 && "
                             "openssl pkey -in %s/%s.key -pubout > %s/%s.pub2 && "
                             "cmp -s %s/%s.pub1 %s/%s.pub2",
                             f->dir, leaf, f->dir, n, f->dir, n, f->dir, n, f->dir, n, f->dir, n),
                         0);
        irpd_issued_clear(&is);
        free(csr);
    }
}

static void test_requested_extensions_ignored(void **state)
{
    fx *f = *state;
    irpd_ca_err e;
    EVP_PKEY *k = sc_testkey_new(SC_TESTKEY_P256);
    size_t len;
    uint8_t *csr = make_csr_ext(
        k, k, "root", &len, NID_basic_constraints, "critical,CA:TRUE", NID_subject_alt_name,
        "email:other@example.org,DNS:evil.example,email:" ALICE, NID_key_usage,
        "critical,keyCertSign,cRLSign", NID_ext_key_usage, "serverAuth,codeSigning",
        NID_name_constraints, "permitted;email:example.org", 0);
    irpd_issued is;

    assert_int_equal(irpd_ca_issue_user(f->ca, csr, len, ALICE, NOW, 0, &is, &e), IRPD_CA_OK);
    /* Six extensions, all ours: CA:FALSE, one SAN (alice), clientAuth only, digitalSignature. */
    check_user_cert(f, &is, ALICE, 0);
    X509 *x = decode(&is);
    assert_int_equal(X509_get_ext_by_NID(x, NID_name_constraints, -1), -1);
    assert_false(X509_get_extended_key_usage(x) & XKU_SSL_SERVER);
    assert_false(X509_get_key_usage(x) & KU_KEY_CERT_SIGN);
    X509_free(x);
    irpd_issued_clear(&is);
    OPENSSL_free(csr);
    EVP_PKEY_free(k);
}

static void test_bad_signature(void **state)
{
    fx *f = *state;
    irpd_ca_err e;
    EVP_PKEY *k = sc_testkey_new(SC_TESTKEY_P256);
    EVP_PKEY *other = sc_testkey_new(SC_TESTKEY_P256);
    EVP_PKEY *ed = sc_testkey_new(SC_TESTKEY_ED25519);
    size_t len;
    uint8_t *csr;
    irpd_issued is;

    /* Someone else's public key, signed with our own: no proof of possession. */
    csr = make_csr_ext(k, other, "x", &len, 0);
    assert_int_equal(irpd_ca_issue_user(f->ca, csr, len, ALICE, NOW, 0, &is, &e), IRPD_CA_INVALID);
    assert_int_equal(e.status, IRPD_CA_INVALID);
    assert_msg_contains(&e, "proof of possession");
    assert_null(is.der);
    OPENSSL_free(csr);

    /* A flipped bit in an Ed25519 signature (the last bytes of the DER). */
    csr = make_csr(ed, &len);
    csr[len - 1] ^= 0x01;
    assert_int_equal(irpd_ca_issue_user(f->ca, csr, len, ALICE, NOW, 0, &is, &e), IRPD_CA_INVALID);
    assert_msg_contains(&e, "proof of possession");
    csr[len - 1] ^= 0x01;
    /* ... and in the signed part: the CN (the signature no longer covers it). */
    uint8_t *cn = memchr(csr, 'w', len); /* "whoever" */
    assert_non_null(cn);
    *cn = 'W';
    assert_int_equal(irpd_ca_issue_user(f->ca, csr, len, ALICE, NOW, 0, &is, &e), IRPD_CA_INVALID);
    assert_msg_contains(&e, "proof of possession");
    OPENSSL_free(csr);

    EVP_PKEY_free(k);
    EVP_PKEY_free(other);
    EVP_PKEY_free(ed);
}

static void test_weak_and_unsupported_keys(void **state)
{
    static const struct {
        sc_testkey_type type;
        const char *why;
    } refused[] = {
        {SC_TESTKEY_RSA1024, "too weak"},
        {SC_TESTKEY_ED448, "not supported"},
        {SC_TESTKEY_P521, "P-256 or P-384"},
    };
    fx *f = *state;
    irpd_ca_err e;

    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        EVP_PKEY *k = sc_testkey_new(refused[i].type);
        size_t len;
        uint8_t *csr = make_csr(k, &len);
        irpd_issued is;

        assert_int_equal(irpd_ca_issue_user(f->ca, csr, len, ALICE, NOW, 0, &is, &e),
                         IRPD_CA_INVALID);
        assert_msg_contains(&e, refused[i].why);
        assert_null(is.der);
        OPENSSL_free(csr);
        EVP_PKEY_free(k);
    }
}

static void test_invalid_requests(void **state)
{
    fx *f = *state;
    irpd_ca_err e;
    EVP_PKEY *k = sc_testkey_new(SC_TESTKEY_ED25519);
    size_t len;
    uint8_t *csr = make_csr(k, &len), *big;
    irpd_issued is;
    static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x00};

    ERR_clear_error();

    /* User IDs the peers would refuse are refused here first. */
    assert_int_equal(irpd_ca_issue_user(f->ca, csr, len, "alice", NOW, 0, &is, &e),
                     IRPD_CA_INVALID);
    assert_msg_contains(&e, "user ID");
    assert_int_equal(irpd_ca_issue_user(f->ca, csr, len, "al ice@example.org", NOW, 0, &is, &e),
                     IRPD_CA_INVALID);
    assert_int_equal(irpd_ca_issue_user(f->ca, csr, len, NULL, NOW, 0, &is, &e), IRPD_CA_INVALID);

    /* Not DER, trailing bytes, empty, too large. */
    assert_int_equal(irpd_ca_issue_user(f->ca, junk, sizeof junk, ALICE, NOW, 0, &is, &e),
                     IRPD_CA_INVALID);
    assert_msg_contains(&e, "PKCS#10");
    big = malloc(IRPD_CA_CSR_MAX + 1);
    assert_non_null(big);
    memcpy(big, csr, len);
    big[len] = 0;
    assert_int_equal(irpd_ca_issue_user(f->ca, big, len + 1, ALICE, NOW, 0, &is, &e),
                     IRPD_CA_INVALID);
    assert_int_equal(irpd_ca_issue_user(f->ca, csr, len - 1, ALICE, NOW, 0, &is, &e),
                     IRPD_CA_INVALID);
    assert_int_equal(irpd_ca_issue_user(f->ca, csr, 0, ALICE, NOW, 0, &is, &e), IRPD_CA_INVALID);
    memset(big, 0x30, IRPD_CA_CSR_MAX + 1);
    assert_int_equal(irpd_ca_issue_user(f->ca, big, IRPD_CA_CSR_MAX + 1, ALICE, NOW, 0, &is, &e),
                     IRPD_CA_INVALID);
    assert_msg_contains(&e, "larger");
    free(big);
    assert_int_equal(irpd_ca_issue_user(f->ca, csr, len, ALICE, NOW, 0, NULL, &e),
                     IRPD_CA_INTERNAL);
    /* Once the CA has expired nothing is issued. */
    assert_int_equal(irpd_ca_issue_user(f->ca, csr, len, ALICE, NOW + 3651 * DAY, 0, &is, &e),
                     IRPD_CA_INTERNAL);
    assert_msg_contains(&e, "expired");
    /* err may be NULL. */
    assert_int_equal(irpd_ca_issue_user(f->ca, junk, sizeof junk, ALICE, NOW, 0, &is, NULL),
                     IRPD_CA_INVALID);
    /* The error queue is left as it was. */
    assert_int_equal(ERR_peek_error(), 0);
    OPENSSL_free(csr);
    EVP_PKEY_free(k);
}

static void test_lifetime(void **state)
{
    fx *f = *state;
    irpd_ca_err e;
    EVP_PKEY *k = sc_testkey_new(SC_TESTKEY_ED25519);
    size_t len;
    uint8_t *csr = make_csr(k, &len);
    irpd_issued is;
    int64_t ca_end = NOW + 3650 * DAY;

    assert_int_equal(irpd_ca_issue_user(f->ca, csr, len, ALICE, NOW, 7 * DAY, &is, &e), IRPD_CA_OK);
    assert_int_equal(is.not_before, NOW - 300);
    assert_int_equal(is.not_after, NOW + 7 * DAY);
    irpd_issued_clear(&is);
    /* Never past the CA's own end. */
    assert_int_equal(irpd_ca_issue_user(f->ca, csr, len, ALICE, NOW, 20 * 365 * DAY, &is, &e),
                     IRPD_CA_OK);
    assert_int_equal(is.not_after, ca_end);
    peer_accepts(f->ca_pem, &is, ALICE);
    irpd_issued_clear(&is);
    OPENSSL_free(csr);
    EVP_PKEY_free(k);
}

/* A user ID longer than a CN may be: empty subject, critical subjectAltName (RFC 5280). */
static void test_long_user_id(void **state)
{
    fx *f = *state;
    irpd_ca_err e;
    EVP_PKEY *k = sc_testkey_new(SC_TESTKEY_P256);
    size_t len;
    uint8_t *csr = make_csr(k, &len);
    irpd_issued is;
    char user[SC_USER_ID_MAX + 1];
    int crit = -1;

    memset(user, 'u', SC_USER_ID_MAX);
    user[SC_USER_ID_MAX] = '\0';
    memcpy(user + SC_USER_ID_MAX - 12, "@example.org", 12);
    assert_int_equal(irpd_ca_issue_user(f->ca, csr, len, user, NOW, 0, &is, &e), IRPD_CA_OK);
    X509 *x = decode(&is);
    assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(x)), 0);
    GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
    assert_non_null(names);
    assert_int_equal(crit, 1);
    GENERAL_NAMES_free(names);
    X509_free(x);
    peer_accepts(f->ca_pem, &is, user);
    write_file(f->dir, "ca.pem", f->ca_pem);
    write_issued(f->dir, "leaf-long.pem", &is);
    cli_verifies(f->dir, "ca.pem", "leaf-long.pem", "sslclient");
    irpd_issued_clear(&is);
    OPENSSL_free(csr);
    EVP_PKEY_free(k);
}

#define N_ISSUES 100

static void test_serials_unique(void **state)
{
    fx *f = *state;
    irpd_ca_err e;
    EVP_PKEY *k = sc_testkey_new(SC_TESTKEY_ED25519);
    size_t len;
    uint8_t *csr = make_csr(k, &len);
    static char serials[N_ISSUES][IRPD_SERIAL_HEX_MAX + 1];

    for (size_t i = 0; i < N_ISSUES; i++) {
        irpd_issued is;
        assert_int_equal(irpd_ca_issue_user(f->ca, csr, len, ALICE, NOW, 0, &is, &e), IRPD_CA_OK);
        assert_int_equal(strlen(is.serial_hex), 32);
        assert_true(is.serial_hex[0] != '0'); /* IRP.md 4.2: no leading zero */
        X509 *x = decode(&is);
        const ASN1_INTEGER *s = X509_get0_serialNumber(x);
        assert_int_equal(ASN1_STRING_type(s), V_ASN1_INTEGER); /* positive */
        X509_free(x);
        strcpy(serials[i], is.serial_hex);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(serials[i], serials[j]);
        irpd_issued_clear(&is);
    }
    OPENSSL_free(csr);
    EVP_PKEY_free(k);
}

/* ---- verifying client certificates --------------------------------------------- */

static void test_verify_client(void **state)
{
    fx *f = *state;
    irpd_ca_err e;
    irpd_client who;
    /* An external CA, and one that copies our CA's name. */
    sc_testcert *ext =
        sc_testcert_root(SC_TESTKEY_P256, "external CA", NOW - DAY, NOW + 3650 * DAY);
    char ca_cn[128];
    assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(irpd_ca_cert(f->ca)),
                                          NID_commonName, ca_cn, sizeof ca_cn) > 0);
    sc_testcert *fake = sc_testcert_root(SC_TESTKEY_P256, ca_cn, NOW - DAY, NOW + 3650 * DAY);
    sc_testcert_opts o = {.key_type = SC_TESTKEY_P256, .user_id = "carol@other.example"};
    sc_testcert *carol = sc_testcert_user(ext, &o);
    sc_testcert *mallory = sc_testcert_user(fake, &o);
    char *ext_pem = sc_testcert_cert_pem(ext), *fake_pem = sc_testcert_cert_pem(fake);
    size_t clen, mlen;
    uint8_t *cder = sc_testcert_der(carol, &clen), *mder = sc_testcert_der(mallory, &mlen);
    const uint8_t *der[1] = {cder};
    size_t dlen[1] = {clen};

    /* Not trusted yet. */
    assert_int_equal(irpd_ca_verify_client_der(f->ca, der, dlen, 1, NOW, &who, &e), IRPD_CA_AUTH);
    assert_int_equal(e.sc, SC_ERR_UNKNOWN_CA);
    assert_msg_contains(&e, "not issued by a CA this registry trusts");
    assert_string_equal(who.user_id, "");
    assert_int_equal(irpd_ca_add_trusted_pem(f->ca, "nothing", 7, "other.example", &e),
                     IRPD_CA_INVALID);

    /* Trusted: accepted, and known to be external. */
    assert_int_equal(irpd_ca_add_trusted_pem(f->ca, ext_pem, strlen(ext_pem), "other.example", &e),
                     IRPD_CA_OK);
    assert_int_equal(irpd_ca_verify_client_der(f->ca, der, dlen, 1, NOW, &who, &e), IRPD_CA_OK);
    assert_string_equal(who.user_id, "carol@other.example");
    assert_int_equal(who.issued_here, 0);
    /* The same through the X509 entry point (as libssl hands it over, with and without leaf). */
    STACK_OF(X509) *sk = sk_X509_new_null();
    assert_int_equal(irpd_ca_verify_client(f->ca, carol->cert, NULL, NOW, &who, &e), IRPD_CA_OK);
    sk_X509_push(sk, carol->cert);
    assert_int_equal(irpd_ca_verify_client(f->ca, carol->cert, sk, NOW, &who, &e), IRPD_CA_OK);
    assert_string_equal(who.user_id, "carol@other.example");
    sk_X509_free(sk);
    assert_int_equal(irpd_ca_verify_client(f->ca, NULL, NULL, NOW, &who, &e), IRPD_CA_AUTH);
    assert_int_equal(e.sc, SC_ERR_CERTIFICATE_REQUIRED);

    /* Time is the caller's. */
    assert_int_equal(irpd_ca_verify_client_der(f->ca, der, dlen, 1, NOW + 400 * DAY, &who, &e),
                     IRPD_CA_AUTH);
    assert_int_equal(e.sc, SC_ERR_CERTIFICATE_EXPIRED);
    assert_int_equal(irpd_ca_verify_client_der(f->ca, der, dlen, 1, NOW - 2 * DAY, &who, &e),
                     IRPD_CA_AUTH);
    assert_int_equal(e.sc, SC_ERR_CERTIFICATE_NOT_YET_VALID);

    /* A CA that merely copies our name is issued_here = 0 (once trusted at all). */
    assert_int_equal(
        irpd_ca_add_trusted_pem(f->ca, fake_pem, strlen(fake_pem), "other.example", &e),
        IRPD_CA_OK);
    der[0] = mder;
    dlen[0] = mlen;
    assert_int_equal(irpd_ca_verify_client_der(f->ca, der, dlen, 1, NOW, &who, &e), IRPD_CA_OK);
    assert_int_equal(who.issued_here, 0);

    /* A server certificate is no client certificate; garbage is no certificate. */
    uint8_t *sder = NULL;
    int slen = i2d_X509(irpd_ca_server_cert(f->ca), &sder);
    der[0] = sder;
    dlen[0] = (size_t)slen;
    assert_int_equal(irpd_ca_verify_client_der(f->ca, der, dlen, 1, NOW, &who, &e), IRPD_CA_AUTH);
    assert_int_equal(e.sc, SC_ERR_BAD_CERTIFICATE); /* no rfc822Name */
    dlen[0] = 10;
    assert_int_equal(irpd_ca_verify_client_der(f->ca, der, dlen, 1, NOW, &who, &e), IRPD_CA_AUTH);
    assert_int_equal(irpd_ca_verify_client_der(f->ca, der, dlen, 0, NOW, &who, &e), IRPD_CA_AUTH);
    assert_int_equal(e.sc, SC_ERR_CERTIFICATE_REQUIRED);
    OPENSSL_free(sder);

    free(cder);
    free(mder);
    free(ext_pem);
    free(fake_pem);
    sc_testcert_free(carol);
    sc_testcert_free(mallory);
    sc_testcert_free(ext);
    sc_testcert_free(fake);
}

/* ---- served domains (docs/IRP.md 7.5, 7.6) ---------------------------------------- */

static void verify_one(irpd_ca *ca, const irpd_issued *is, int want, int want_sc)
{
    const uint8_t *der[1] = {is->der};
    size_t len[1] = {is->der_len};
    irpd_client who;
    irpd_ca_err e;

    assert_int_equal(irpd_ca_verify_client_der(ca, der, len, 1, NOW, &who, &e), want);
    if (want != IRPD_CA_OK) assert_int_equal(e.sc, want_sc);
}

static void test_served_domains(void **state)
{
    static const char *const doms[] = {"example.org"};
    fx *f = *state;
    irpd_ca_opts o = {IRPD_KEY_P256, "dom", 0, doms, 1};
    irpd_ca *ca;
    irpd_ca_err e;
    irpd_issued alice, mallory;
    EVP_PKEY *k = sc_testkey_new(SC_TESTKEY_P256);
    size_t len;
    uint8_t *csr = make_csr(k, &len);
    NAME_CONSTRAINTS *nc;
    GENERAL_SUBTREE *st;
    char *pem;

    assert_int_equal(irpd_ca_create(&o, NOW, &ca, &e), IRPD_CA_OK);
    /* Critical nameConstraints: exactly one permitted rfc822Name, the host form. */
    assert_int_equal(ext_critical(irpd_ca_cert(ca), NID_name_constraints), 1);
    nc = X509_get_ext_d2i(irpd_ca_cert(ca), NID_name_constraints, NULL, NULL);
    assert_non_null(nc);
    assert_null(nc->excludedSubtrees);
    assert_int_equal(sk_GENERAL_SUBTREE_num(nc->permittedSubtrees), 1);
    st = sk_GENERAL_SUBTREE_value(nc->permittedSubtrees, 0);
    assert_int_equal(st->base->type, GEN_EMAIL);
    assert_string_equal((const char *)ASN1_STRING_get0_data(st->base->d.rfc822Name), "example.org");
    NAME_CONSTRAINTS_free(nc);
    pem = cert_pem(irpd_ca_cert(ca));
    write_file(f->dir, "nc-ca.pem", pem);

    /* A served user's certificate passes the peers' verifier and openssl verify. */
    assert_int_equal(irpd_ca_issue_user(ca, csr, len, ALICE, NOW, 0, &alice, &e), IRPD_CA_OK);
    peer_accepts(pem, &alice, ALICE);
    write_issued(f->dir, "nc-alice.pem", &alice);
    cli_verifies(f->dir, "nc-ca.pem", "nc-alice.pem", "sslclient");

    /*
     * Signed by the same key for another domain (irpd_ca refuses to, below;
     * before irpd_ca_set_domains nothing stops it here): every verifier
     * holding the CA certificate refuses it by its name constraints.
     */
    assert_int_equal(irpd_ca_issue_user(ca, csr, len, "mallory@partner.org", NOW, 0, &mallory, &e),
                     IRPD_CA_OK);
    write_issued(f->dir, "nc-mallory.pem", &mallory);
    assert_int_not_equal(run("openssl verify -attime %lld -CAfile %s/nc-ca.pem %s/nc-mallory.pem "
                             ">/dev/null 2>&1",
                             (long long)NOW, f->dir, f->dir),
                         0);
    verify_one(ca, &mallory, IRPD_CA_AUTH, SC_ERR_DOMAIN_MISMATCH);

    /* A served domain outside the constraints is refused (its certificates would not verify). */
    assert_int_equal(irpd_ca_set_domains(ca, "example.org partner.org", &e), IRPD_CA_INVALID);
    assert_msg_contains(&e, "do not permit partner.org");
    assert_int_equal(irpd_ca_set_domains(ca, "sub.example.org", &e), IRPD_CA_INVALID);

    /* With its served domains set the CA refuses, and does not vouch for, other domains. */
    assert_int_equal(irpd_ca_set_domains(ca, "example.org", &e), IRPD_CA_OK);
    verify_one(ca, &alice, IRPD_CA_OK, 0);
    verify_one(ca, &mallory, IRPD_CA_AUTH, SC_ERR_DOMAIN_MISMATCH);
    irpd_issued_clear(&mallory);
    assert_int_equal(irpd_ca_issue_user(ca, csr, len, "mallory@partner.org", NOW, 0, &mallory, &e),
                     IRPD_CA_INVALID);
    assert_msg_contains(&e, "not in a domain this registry serves");

    /* An external CA vouches for its own domains only. */
    sc_testcert *ext = sc_testcert_root(SC_TESTKEY_P256, "partner CA", NOW - DAY, NOW + 3650 * DAY);
    sc_testcert_opts co = {.key_type = SC_TESTKEY_P256, .user_id = "carol@partner.org"};
    sc_testcert *carol = sc_testcert_user(ext, &co);
    co.user_id = "bob@example.org";
    sc_testcert *bob = sc_testcert_user(ext, &co);
    char *ext_pem = sc_testcert_cert_pem(ext);
    irpd_client who;
    assert_int_equal(irpd_ca_add_trusted_pem(ca, ext_pem, strlen(ext_pem), "", &e),
                     IRPD_CA_INVALID);
    assert_int_equal(irpd_ca_add_trusted_pem(ca, ext_pem, strlen(ext_pem), "partner.org", &e),
                     IRPD_CA_OK);
    assert_int_equal(irpd_ca_verify_client(ca, carol->cert, NULL, NOW, &who, &e), IRPD_CA_OK);
    assert_string_equal(who.user_id, "carol@partner.org");
    assert_int_equal(who.issued_here, 0);
    assert_int_equal(irpd_ca_verify_client(ca, bob->cert, NULL, NOW, &who, &e), IRPD_CA_AUTH);
    assert_int_equal(e.sc, SC_ERR_UNKNOWN_CA);
    co.user_id = "dave@elsewhere.org";
    sc_testcert *dave = sc_testcert_user(ext, &co);
    assert_int_equal(irpd_ca_verify_client(ca, dave->cert, NULL, NOW, &who, &e), IRPD_CA_AUTH);
    assert_int_equal(e.sc, SC_ERR_DOMAIN_MISMATCH);

    sc_testcert_free(carol);
    sc_testcert_free(bob);
    sc_testcert_free(dave);
    sc_testcert_free(ext);
    free(ext_pem);
    irpd_issued_clear(&alice);
    irpd_issued_clear(&mallory);
    free(pem);
    OPENSSL_free(csr);
    EVP_PKEY_free(k);
    irpd_ca_free(ca);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ca_certificate),
        cmocka_unit_test(test_server_certificate),
        cmocka_unit_test(test_server_certificate_inputs),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_from_pem_mismatch),
        cmocka_unit_test(test_issue_each_key_type),
        cmocka_unit_test(test_ed25519_ca),
        cmocka_unit_test(test_issue_cli_csr),
        cmocka_unit_test(test_requested_extensions_ignored),
        cmocka_unit_test(test_bad_signature),
        cmocka_unit_test(test_weak_and_unsupported_keys),
        cmocka_unit_test(test_invalid_requests),
        cmocka_unit_test(test_lifetime),
        cmocka_unit_test(test_long_user_id),
        cmocka_unit_test(test_serials_unique),
        cmocka_unit_test(test_verify_client),
        cmocka_unit_test(test_served_domains),
    };
    return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
