/*
 * sixchat/config.h - what an endpoint is and whom it trusts.
 *
 * An sc_config holds the local identity (certificate chain and private key),
 * the trust anchors, the peer policy (allow and block lists), the offered
 * algorithms, the limits and the caller's random source. Build one, then
 * share it read-only among any number of sessions (also across threads).
 * It must outlive every session created from it.
 *
 * The core never touches files, clocks or the OS random source: PEM comes in
 * as memory, time as an argument, randomness through sc_random_fn.
 */
#ifndef SIXCHAT_CONFIG_H
#define SIXCHAT_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "sixchat/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sc_config sc_config;

/*
 * Fills out[0..len) with cryptographically secure random bytes.
 * Returns 0 on success, non-zero on failure (the handshake then fails with
 * SC_ERR_RANDOM). sc_random_system() in sixchat/platform.h is one.
 */
typedef int (*sc_random_fn)(void *ctx, uint8_t *out, size_t len);

/* Creates an empty configuration. Returns NULL when out of memory. */
SC_API sc_config *sc_config_new(void);

/* Frees cfg and wipes its private key. NULL is allowed. */
SC_API void sc_config_free(sc_config *cfg);

/* Sets the random source (required). */
SC_API void sc_config_set_random(sc_config *cfg, sc_random_fn fn, void *ctx);

/*
 * Sets the local identity from PEM: chain_pem holds the leaf certificate
 * first, then any intermediates (the trust anchor may be omitted); key_pem
 * the matching private key (Ed25519, ECDSA P-256/P-384 or RSA >= 2048).
 * The leaf must name a user in subjectAltName rfc822Name and be usable for
 * the protocol as a peer checks it (docs/PROTOCOL.md 8.2 step 7):
 * extendedKeyUsage with clientAuth, keyUsage (if present) with
 * digitalSignature. Its validity period is checked at sc_session_new().
 * Errors: SC_ERR_PARSE (bad PEM), SC_ERR_CONFIG (key does not match the
 * certificate, no rfc822Name, unsupported key type, wrong key usages),
 * SC_ERR_NOMEM. OpenSSL's error queue is left as the caller left it.
 */
SC_API SC_MUST_CHECK int sc_config_set_identity_pem(sc_config *cfg, const char *chain_pem,
                                                    size_t chain_len, const char *key_pem,
                                                    size_t key_len);

/*
 * Adds every certificate in pem as a trust anchor that may certify the users
 * of the n_domains domains listed, and no others (docs/PROTOCOL.md 8.2,
 * 11.1): each registry's CA vouches for its own domains only, so trusting
 * two registries does not let either impersonate the other's users.
 * A domain is written as in user IDs ("example.org": users @example.org
 * exactly); a leading dot (".example.org") covers every subdomain instead,
 * as X.509 name constraints read it. Matching ignores ASCII case. A CA that
 * itself carries name constraints is held to them as well.
 * Adding the same certificate again adds the domains to its list.
 * Errors: SC_ERR_ARG (no domain, or a domain that is empty or holds '@',
 * a space or a non-ASCII byte), SC_ERR_PARSE (no certificate in pem),
 * SC_ERR_NOMEM.
 */
SC_API SC_MUST_CHECK int sc_config_add_trust_anchor_pem(sc_config *cfg, const char *pem, size_t len,
                                                        const char *const *domains,
                                                        size_t n_domains);

/*
 * Peer policy (docs/PROTOCOL.md 8.3). Identities are user IDs
 * ("alice@example.org", compared case-insensitively). Allowed issuers are
 * SHA-256 fingerprints of a CA certificate anywhere in the peer's verified
 * path. Blocked issuers are given as CA certificates (PEM, one or more):
 * a CA in the peer's path is blocked when it has the subject name or the
 * public key of one of them, so the same CA re-certified (same key, same
 * name, a new certificate) stays blocked. Block lists win. If any allow
 * entry exists, a peer must match one.
 * sc_config_block_issuer_pem errors: SC_ERR_ARG, SC_ERR_PARSE (no
 * certificate in pem), SC_ERR_NOMEM.
 */
SC_API SC_MUST_CHECK int sc_config_allow_identity(sc_config *cfg, const char *user_id);
SC_API SC_MUST_CHECK int sc_config_block_identity(sc_config *cfg, const char *user_id);
SC_API SC_MUST_CHECK int sc_config_allow_issuer(sc_config *cfg, const uint8_t sha256[32]);
SC_API SC_MUST_CHECK int sc_config_block_issuer_pem(sc_config *cfg, const char *pem, size_t len);

/*
 * Algorithm preferences as space-separated names, most preferred first.
 * suites: "aes-256-gcm", "chacha20-poly1305" (default: both, AES first).
 * groups: "x25519", "p256" (default: "x25519"). An initiator sends a key
 * share for every group listed. Errors: SC_ERR_PARSE on an unknown name.
 */
SC_API SC_MUST_CHECK int sc_config_set_suites(sc_config *cfg, const char *list);
SC_API SC_MUST_CHECK int sc_config_set_groups(sc_config *cfg, const char *list);

/*
 * Key transport (RSA-OAEP of a session secret to the responder's RSA
 * certificate key). It has NO forward secrecy. Off by default; both ends
 * must enable it: a responder accepts it only when enabled and its own RSA
 * certificate's keyUsage includes keyEncipherment; an initiator uses it only
 * when enabled and the session was given the responder's RSA certificate
 * (sc_session_set_peer_cert), and only after that certificate passed the
 * same checks as a received one (chain, domain, policy, expected peer) and
 * carries keyUsage keyEncipherment (docs/PROTOCOL.md 7.8).
 */
SC_API void sc_config_enable_key_transport(sc_config *cfg, int on);

/* Per-state handshake timeout in milliseconds (default 10000). */
SC_API void sc_config_set_handshake_timeout(sc_config *cfg, uint64_t ms);

/*
 * Automatic key update after this many records or bytes sealed under one
 * key, whichever first. Defaults and ceilings: 2^20 records, 2^34 bytes
 * (docs/PROTOCOL.md 5.4: a sender MUST update by then); lower limits are
 * allowed. Zero keeps the default. Errors: SC_ERR_ARG for a value above its
 * ceiling (the configuration is then unchanged).
 */
SC_API SC_MUST_CHECK int sc_config_set_key_update_limits(sc_config *cfg, uint64_t records,
                                                         uint64_t bytes);

/* The local user ID (the leaf's rfc822Name), or NULL before an identity is set. */
SC_API const char *sc_config_user_id(const sc_config *cfg);

/* The SHA-256 fingerprint of the local leaf certificate. SC_ERR_CONFIG if none. */
SC_API SC_MUST_CHECK int sc_config_fingerprint(const sc_config *cfg, uint8_t out[32]);

#ifdef __cplusplus
}
#endif
#endif
