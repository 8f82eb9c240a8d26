/*
 * sc_testpki.c - see sc_testpki.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "sc_testpki.h"

#define DAY INT64_C(86400)

char *sc_testpki_chain(const sc_testcert *leaf, const sc_testcert *inter)
{
    char *l = sc_testcert_cert_pem(leaf), *i = sc_testcert_cert_pem(inter);
    char *c = sc_testcert_concat(l, i, NULL);
    free(l);
    free(i);
    return c;
}

void sc_testpki_make(sc_testpki *k, const sc_testcert_opts *a, const sc_testcert_opts *b)
{
    int64_t nb = SC_TESTCERT_NOW - 30 * DAY, na = SC_TESTCERT_NOW + 365 * DAY;
    sc_testcert_opts da = {.key_type = SC_TESTKEY_P256, .user_id = "alice@example.org"};
    sc_testcert_opts db = {.key_type = SC_TESTKEY_P256, .user_id = "bob@example.org"};
    memset(k, 0, sizeof *k);
    k->root = sc_testcert_root(SC_TESTKEY_P256, "Test Root", nb, na);
    k->inter = sc_testcert_ca(k->root, SC_TESTKEY_P256, "Test Intermediate", nb, na);
    k->other_root = sc_testcert_root(SC_TESTKEY_P256, "Other Root", nb, na);
    k->alice = sc_testcert_user(k->inter, a ? a : &da);
    k->bob = sc_testcert_user(k->inter, b ? b : &db);
    k->root_pem = sc_testcert_cert_pem(k->root);
    k->inter_pem = sc_testcert_cert_pem(k->inter);
    k->other_root_pem = sc_testcert_cert_pem(k->other_root);
    k->alice_chain = sc_testpki_chain(k->alice, k->inter);
    k->alice_key = sc_testcert_key_pem(k->alice);
    k->bob_chain = sc_testpki_chain(k->bob, k->inter);
    k->bob_key = sc_testcert_key_pem(k->bob);
}

void sc_testpki_make_types(sc_testpki *k, sc_testkey_type alice, sc_testkey_type bob)
{
    sc_testcert_opts a = {.key_type = alice, .user_id = "alice@example.org"};
    sc_testcert_opts b = {.key_type = bob, .user_id = "bob@example.org"};
    sc_testpki_make(k, &a, &b);
}

char *sc_testpki_cli_file(const char *name)
{
    const char *dir = getenv("SC_CLI_CERTS");
    char path[4096];
    if (dir == NULL) fail_msg("SC_CLI_CERTS is not set: run through ctest (fixture certs_cli)");
    assert_true(snprintf(path, sizeof path, "%s/%s", dir, name) < (int)sizeof path);
    char *s = sc_testcert_read_file(path, NULL);
    if (s == NULL) fail_msg("cannot read %s (did tests/certs/mkcerts.sh run?)", path);
    return s;
}

void sc_testpki_cli(sc_testpki *k, const char *type)
{
    char name[64];
    memset(k, 0, sizeof *k);
    k->root_pem = sc_testpki_cli_file("root.pem");
    snprintf(name, sizeof name, "alice-%s-chain.pem", type);
    k->alice_chain = sc_testpki_cli_file(name);
    snprintf(name, sizeof name, "alice-%s.key", type);
    k->alice_key = sc_testpki_cli_file(name);
    snprintf(name, sizeof name, "bob-%s-chain.pem", type);
    k->bob_chain = sc_testpki_cli_file(name);
    snprintf(name, sizeof name, "bob-%s.key", type);
    k->bob_key = sc_testpki_cli_file(name);
}

void sc_testpki_free(sc_testpki *k)
{
    sc_testcert_free(k->root);
    sc_testcert_free(k->inter);
    sc_testcert_free(k->other_root);
    sc_testcert_free(k->alice);
    sc_testcert_free(k->bob);
    free(k->root_pem);
    free(k->inter_pem);
    free(k->other_root_pem);
    free(k->alice_chain);
    free(k->alice_key);
    free(k->bob_chain);
    free(k->bob_key);
    memset(k, 0, sizeof *k);
}
