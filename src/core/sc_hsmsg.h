/*
 * sc_hsmsg.h - the handshake messages as schemas (docs/PROTOCOL.md 7).
 *
 * Each message has a struct, a parse function (XML tree -> struct, touching
 * no session state) and a write function (struct -> XML bytes). Parsers
 * return SC_ERR_DECODE_ERROR for anything malformed, SC_ERR_ILLEGAL_PARAMETER
 * for well-formed but contradictory values, SC_ERR_PROTOCOL_VERSION for a
 * version other than 1.
 */
#ifndef SC_HSMSG_H
#define SC_HSMSG_H

#include <stddef.h>
#include <stdint.h>
#include "sc_buf.h"
#include "sc_cert.h"
#include "sc_crypto.h"
#include "sc_xml.h"

#define SC_RANDOM_LEN 32
#define SC_MAX_SHARES 4
#define SC_MAX_LIST 8   /* names per list attribute */
#define SC_KT_MAX 1024  /* RSA-OAEP ciphertext bytes (RSA up to 8192 bits) */
#define SC_SIG_MAX 1024 /* signature bytes */

/* Message kinds, by root element name. */
typedef enum {
    SC_MSG_NONE = 0,
    SC_MSG_IHELLO,
    SC_MSG_RHELLO,
    SC_MSG_CERT,
    SC_MSG_VERIFY,
    SC_MSG_FINISHED,
} sc_msg_kind;

sc_msg_kind sc_hsmsg_kind(const sc_xml_node *root);

typedef struct sc_share {
    int group;
    uint8_t pub[SC_KEX_PUB_MAX];
    size_t len;
} sc_share;

/* A list of known algorithm ids; unknown names are skipped (extensibility). */
typedef struct sc_alglist {
    int v[SC_MAX_LIST];
    size_t n;
} sc_alglist;

int sc_alglist_has(const sc_alglist *l, int v);

typedef struct sc_ihello {
    uint8_t random[SC_RANDOM_LEN];
    sc_alglist suites, groups, sigs;
    sc_share shares[SC_MAX_SHARES];
    size_t n_shares;
    uint8_t kt[SC_KT_MAX]; /* key transport ciphertext, kt_len > 0 in KT mode */
    size_t kt_len;
} sc_ihello;

typedef struct sc_rhello {
    uint8_t random[SC_RANDOM_LEN];
    int suite;
    sc_alglist sigs;
    int kt; /* 1 in key-transport mode (then no share) */
    sc_share share;
} sc_rhello;

/* Decoded <cert>: DER certificates in one buffer, leaf first. */
typedef struct sc_certmsg {
    const uint8_t *der[SC_CERT_MAX_CHAIN];
    size_t len[SC_CERT_MAX_CHAIN];
    size_t n;
    uint8_t *storage;
} sc_certmsg;

typedef struct sc_verifymsg {
    int alg;
    uint8_t sig[SC_SIG_MAX];
    size_t sig_len;
} sc_verifymsg;

int sc_ihello_parse(const sc_xml_node *root, sc_ihello *out);
int sc_ihello_write(sc_buf *b, const sc_ihello *m);
int sc_rhello_parse(const sc_xml_node *root, sc_rhello *out);
int sc_rhello_write(sc_buf *b, const sc_rhello *m);
/* On success out->storage must be freed with sc_certmsg_clear. */
int sc_certmsg_parse(const sc_xml_node *root, sc_certmsg *out);
void sc_certmsg_clear(sc_certmsg *m);
int sc_verify_parse(const sc_xml_node *root, sc_verifymsg *out);
int sc_verify_write(sc_buf *b, const sc_verifymsg *m);
int sc_finished_parse(const sc_xml_node *root, uint8_t mac[SC_HASH_LEN]);
int sc_finished_write(sc_buf *b, const uint8_t mac[SC_HASH_LEN]);

#endif
