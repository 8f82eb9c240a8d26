/*
 * sc_config_int.h - the inside of sc_config, shared by the core modules.
 */
#ifndef SC_CONFIG_INT_H
#define SC_CONFIG_INT_H

#include <openssl/x509.h>
#include "sixchat/config.h"
#include "sc_buf.h"
#include "sc_cert.h"
#include "sc_crypto.h"

#define SC_DEFAULT_HS_TIMEOUT_MS 10000
#define SC_DEFAULT_KU_RECORDS (UINT64_C(1) << 20)
#define SC_DEFAULT_KU_BYTES (UINT64_C(1) << 34)

struct sc_config {
    sc_random_fn rand;
    void *rand_ctx;

    /* Local identity. cert_msg is our <cert> handshake message, built once. */
    X509 *leaf;
    EVP_PKEY *key;
    int sigalg;
    char user_id[SC_USER_ID_MAX + 1];
    uint8_t fingerprint[32];
    sc_buf cert_msg;

    sc_policy policy;
    int suites[SC_SUITE_COUNT];
    size_t n_suites;
    int groups[SC_GROUP_COUNT];
    size_t n_groups;
    int allow_kt;
    uint64_t hs_timeout_ms;
    uint64_t ku_records;
    uint64_t ku_bytes;
    int skip_local_checks;         /* sc__config_skip_local_checks */
    int64_t not_before, not_after; /* the leaf's validity, read once at configuration */
};

/*
 * The local certificate at now_ms (PROTOCOL.md 8.2, "the local identity must
 * meet the same rules"): SC_ERR_CONFIG when it is expired or not yet valid,
 * so the user hears it from us rather than as the peer's alert.
 */
int sc__config_check_validity(const sc_config *cfg, uint64_t now_ms);

/*
 * Tests only: skip the checks of our own certificate (usage at
 * configuration, validity at session start), so a test can present a
 * certificate the peer must refuse. Call before setting the identity.
 */
void sc__config_skip_local_checks(sc_config *cfg);

/* Fills out with n bytes from the caller's random source (SC_ERR_RANDOM on failure). */
int sc__config_random(const sc_config *cfg, uint8_t *out, size_t n);

#endif
