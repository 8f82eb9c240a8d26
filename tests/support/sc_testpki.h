/*
 * sc_testpki.h - the PKI most tests need: a root, an intermediate, the users
 * alice@example.org and bob@example.org under it, and an unrelated second
 * root; made in code (sc_testcert.h) or read from the certificates the
 * openssl command-line tool made (tests/certs/mkcerts.sh, $SC_CLI_CERTS).
 */
#ifndef SC_TESTPKI_H
#define SC_TESTPKI_H

#include "sc_testcert.h"

typedef struct sc_testpki {
    sc_testcert *root, *inter, *alice, *bob, *other_root; /* NULL for CLI certificates */
    char *root_pem, *inter_pem, *other_root_pem;
    char *alice_chain, *alice_key, *bob_chain, *bob_key; /* chains: leaf then intermediate */
} sc_testpki;

/* PEM of leaf followed by inter (malloc'd). */
char *sc_testpki_chain(const sc_testcert *leaf, const sc_testcert *inter);

/*
 * Makes everything, P-256 CAs valid from 30 days before SC_TESTCERT_NOW for a
 * year. NULL options give a good P-256 alice (resp. bob).
 */
void sc_testpki_make(sc_testpki *k, const sc_testcert_opts *alice, const sc_testcert_opts *bob);

/* The same with only the users' key types chosen. */
void sc_testpki_make_types(sc_testpki *k, sc_testkey_type alice, sc_testkey_type bob);

/* Reads $SC_CLI_CERTS/name; a missing directory or file fails the test (never a skip). */
char *sc_testpki_cli_file(const char *name);

/* The openssl-CLI PKI: root -> inter -> {alice,bob}-TYPE ("p256", "ed25519", "rsa2048"). */
void sc_testpki_cli(sc_testpki *k, const char *type);

void sc_testpki_free(sc_testpki *k);

#endif
