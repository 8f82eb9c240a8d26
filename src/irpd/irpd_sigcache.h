/*
 * irpd_sigcache.h - a signed lookup answer reused while it stays the same
 * (docs/IRP.md 7.4 "Caching", 10.5).
 *
 * Signing is most of the work of a lookup (bench/README.md, "What limits
 * the lookups"), and the signed bytes name neither the requester nor the
 * request: one signature serves every requester of the same user. The
 * cache keeps, per looked-up user, the last signed bytes (TBS), their `at`
 * and the signature. Every lookup is still read from the store, checked
 * for access and audited as before; only then, when the answer just read
 * gives the very same TBS with the cached `at` (same bindings, same
 * certificates and statuses, same user), the cached `at` and signature are
 * given to it instead of a new signature. Any change of a user's bindings
 * or certificates, made by this process, by `irpd` commands in another
 * process or by another registry instance on the same store, changes the
 * TBS, so it is signed afresh: the cache needs no invalidation to be
 * correct. A cached signature is reused for at most IRPD_SIGCACHE_MAX_AGE
 * seconds (IRP.md allows 60; agents accept answers up to 60 s old, 7.4
 * step 4, so the answers stay well inside that), and only with the
 * registry key and certificate it was made with.
 *
 * Slots are chosen by a hash of the user ID (one entry per slot: a user
 * whose slot another took is signed afresh). The cache belongs to one
 * thread (the loop's irpd_hctx); nothing in it is secret (signatures are
 * public), so entries are freed without wiping.
 */
#ifndef IRPD_SIGCACHE_H
#define IRPD_SIGCACHE_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "sc_buf.h"
#include "irp_msg.h"

#define IRPD_SIGCACHE_MAX_AGE 10 /* seconds */
#define IRPD_SIGCACHE_SLOTS 1024 /* the loop's cache: at most ~1024 answers (a few MB) */

typedef struct irpd_sigcache irpd_sigcache;

/* A cache of `slots` entries (1 or more); NULL when out of memory. */
irpd_sigcache *irpd_sigcache_new(size_t slots);
void irpd_sigcache_free(irpd_sigcache *c);

/*
 * Signs the lookup answer r (status, user, bindings and certificates
 * set; r->at is set here) as irp_lookup_sign does, at `now`; or, when the
 * cache holds an answer for r->user signed with this key and certificate
 * at most IRPD_SIGCACHE_MAX_AGE seconds before now whose TBS equals r's
 * TBS with that answer's `at`, sets r->at to that `at` and r->sig to that
 * signature (copied into store, which must outlive r's use). The fresh
 * signature is then cached. Returns irp_lookup_sign's codes (SC_ERR_NOMEM
 * when the cache could not keep an entry is not an error: the answer is
 * signed and simply not cached).
 */
SC_MUST_CHECK int irpd_sigcache_sign(irpd_sigcache *c, irp_resp *r, uint64_t now, EVP_PKEY *key,
                                     X509 *cert, sc_buf *store);

/* What the cache did so far (for tests and the benchmark). */
typedef struct irpd_sigcache_stats {
    unsigned long long hits;  /* answers given a cached signature */
    unsigned long long signs; /* answers signed afresh */
} irpd_sigcache_stats;
void irpd_sigcache_get_stats(const irpd_sigcache *c, irpd_sigcache_stats *out);

#endif
