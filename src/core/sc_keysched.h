/*
 * sc_keysched.h - the key schedule of docs/PROTOCOL.md 6, step by step.
 * All secrets are SC_HASH_LEN bytes; callers wipe what they keep.
 */
#ifndef SC_KEYSCHED_H
#define SC_KEYSCHED_H

#include <stdint.h>
#include "sc_crypto.h"

/* HS = Extract(0, DS); i_hs, r_hs from TH1; MS = Extract(derived, 0). */
int sc_ks_handshake(const uint8_t ds[SC_HASH_LEN], const uint8_t th1[SC_HASH_LEN],
                    uint8_t i_hs[SC_HASH_LEN], uint8_t r_hs[SC_HASH_LEN], uint8_t ms[SC_HASH_LEN]);
/* i_ap, r_ap and the exporter secret from MS and TH2. */
int sc_ks_application(const uint8_t ms[SC_HASH_LEN], const uint8_t th2[SC_HASH_LEN],
                      uint8_t i_ap[SC_HASH_LEN], uint8_t r_ap[SC_HASH_LEN],
                      uint8_t exp[SC_HASH_LEN]);
/* HMAC(finished_key(hs_secret), th). */
int sc_ks_finished(const uint8_t hs_secret[SC_HASH_LEN], const uint8_t th[SC_HASH_LEN],
                   uint8_t mac[SC_HASH_LEN]);
/* Record key and IV of a traffic secret. */
int sc_ks_traffic(const uint8_t secret[SC_HASH_LEN], uint8_t key[SC_KEY_LEN],
                  uint8_t iv[SC_IV_LEN]);
/* The next traffic secret after a key update, replacing secret in place. */
int sc_ks_next(uint8_t secret[SC_HASH_LEN]);

#endif
