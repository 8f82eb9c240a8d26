/*
 * sc_keysched.c - docs/PROTOCOL.md 6, written as the spec reads.
 */
#include <string.h>
#include <openssl/crypto.h>
#include "sixchat/error.h"
#include "sc_keysched.h"

static const uint8_t zeros[SC_HASH_LEN];

int sc_ks_handshake(const uint8_t ds[SC_HASH_LEN], const uint8_t th1[SC_HASH_LEN],
                    uint8_t i_hs[SC_HASH_LEN], uint8_t r_hs[SC_HASH_LEN], uint8_t ms[SC_HASH_LEN])
{
    uint8_t hs[SC_HASH_LEN], derived[SC_HASH_LEN];
    int ret;
    if ((ret = sc_hkdf_extract(zeros, SC_HASH_LEN, ds, SC_HASH_LEN, hs)) == SC_OK &&
        (ret = sc_hkdf_expand_label(hs, "i hs", th1, SC_HASH_LEN, i_hs, SC_HASH_LEN)) == SC_OK &&
        (ret = sc_hkdf_expand_label(hs, "r hs", th1, SC_HASH_LEN, r_hs, SC_HASH_LEN)) == SC_OK &&
        (ret = sc_hkdf_expand_label(hs, "derived", NULL, 0, derived, SC_HASH_LEN)) == SC_OK)
        ret = sc_hkdf_extract(derived, SC_HASH_LEN, zeros, SC_HASH_LEN, ms);
    OPENSSL_cleanse(hs, sizeof hs);
    OPENSSL_cleanse(derived, sizeof derived);
    return ret;
}

int sc_ks_application(const uint8_t ms[SC_HASH_LEN], const uint8_t th2[SC_HASH_LEN],
                      uint8_t i_ap[SC_HASH_LEN], uint8_t r_ap[SC_HASH_LEN],
                      uint8_t exp[SC_HASH_LEN])
{
    int ret;
    if ((ret = sc_hkdf_expand_label(ms, "i ap", th2, SC_HASH_LEN, i_ap, SC_HASH_LEN)) == SC_OK &&
        (ret = sc_hkdf_expand_label(ms, "r ap", th2, SC_HASH_LEN, r_ap, SC_HASH_LEN)) == SC_OK)
        ret = sc_hkdf_expand_label(ms, "exporter", th2, SC_HASH_LEN, exp, SC_HASH_LEN);
    return ret;
}

int sc_ks_finished(const uint8_t hs_secret[SC_HASH_LEN], const uint8_t th[SC_HASH_LEN],
                   uint8_t mac[SC_HASH_LEN])
{
    uint8_t fk[SC_HASH_LEN];
    int ret = sc_hkdf_expand_label(hs_secret, "finished", NULL, 0, fk, SC_HASH_LEN);
    if (ret == SC_OK) ret = sc_hmac_sha256(fk, th, SC_HASH_LEN, mac);
    OPENSSL_cleanse(fk, sizeof fk);
    return ret;
}

int sc_ks_traffic(const uint8_t secret[SC_HASH_LEN], uint8_t key[SC_KEY_LEN], uint8_t iv[SC_IV_LEN])
{
    int ret = sc_hkdf_expand_label(secret, "key", NULL, 0, key, SC_KEY_LEN);
    if (ret == SC_OK) ret = sc_hkdf_expand_label(secret, "iv", NULL, 0, iv, SC_IV_LEN);
    return ret;
}

int sc_ks_next(uint8_t secret[SC_HASH_LEN])
{
    uint8_t next[SC_HASH_LEN];
    int ret = sc_hkdf_expand_label(secret, "ku", NULL, 0, next, SC_HASH_LEN);
    if (ret == SC_OK) memcpy(secret, next, SC_HASH_LEN);
    OPENSSL_cleanse(next, sizeof next);
    return ret;
}
