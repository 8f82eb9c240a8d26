/*
 * fz_seeds.h - the generator mode that writes each target's seed corpus.
 *
 * Generator mode. With FZ_WRITE_SEEDS=DIR in the environment, a target's
 * first call writes its seed corpus into DIR, then runs its input as usual:
 *
 *   for t in frame handshake_initiator handshake_responder record stanza hsmsg; do
 *       rm -rf fuzz/corpus/$t && mkdir fuzz/corpus/$t &&
 *       FZ_WRITE_SEEDS=fuzz/corpus/$t build/fuzz/fuzz_$t /dev/null
 *   done
 *
 * The seeds hold real flight bytes and ciphertext, so regenerate them when
 * the handshake messages or the key schedule change. Everything they depend
 * on is deterministic: an unchanged tree regenerates the same files.
 */
#ifndef FZ_SEEDS_H
#define FZ_SEEDS_H

#include <stddef.h>

#include "sc_buf.h"
#include "fz_pki.h"
#include "fz_world.h"

/* DIR of FZ_WRITE_SEEDS on the first call of the process, NULL otherwise. */
const char *fz_seeds_dir(void);

/* Starts a seed: an empty buffer, with the mode byte first unless mode < 0. */
void fz_seed_begin(sc_buf *b, int mode);

/* Writes b to DIR/name and disposes of it. */
void fz_seed(const char *dir, const char *name, sc_buf *b);

/* A seed that is one mode byte (or none) and one byte string. */
void fz_seed_bytes(const char *dir, const char *name, int mode, const void *p, size_t n);

/* One handshake message led by its u16 length (the deep modes' sequences). */
void fz_seed_msg(sc_buf *b, const fz_msg *m);

/* <cert><c>B64 DER</c>...</cert> of the given certificates. */
void fz_seed_certmsg(sc_buf *b, const fz_cert *const *certs, size_t n);

/* Certificates that each break one rule of the policy, for seeds. */
typedef struct fz_bad_certs {
    fz_cert mallory;    /* blocked identity (responder config) */
    fz_cert expired;    /* bob, expired */
    fz_cert future;     /* bob, not yet valid */
    fz_cert server_eku; /* bob, serverAuth only */
    fz_cert evil_root;  /* a CA nobody trusts */
    fz_cert evil_bob;   /* bob, issued by it */
} fz_bad_certs;

/* Made once per process, signed by the world's root (evil_bob by evil_root). */
const fz_bad_certs *fz_bad_certs_get(void);

/* Stanzas for the seeds of fuzz_stanza and fuzz_record. */
#define FZ_SHA_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define FZ_ST_MSG "<msg id=\"m1\" ts=\"1767225600000\">hello, bob &amp; &lt;friends&gt;</msg>"
#define FZ_ST_RECEIPT "<receipt id=\"m1\" ts=\"1767225600001\"/>"
#define FZ_ST_PING "<ping id=\"p-1\"/>"
#define FZ_ST_PONG "<pong id=\"p-1\"/>"
#define FZ_ST_OFFER                                                                                \
    "<file-offer id=\"f1\" name=\"photo.jpg\" size=\"5000\" sha256=\"" FZ_SHA_EMPTY "\"/>"
#define FZ_ST_ACCEPT "<file-accept id=\"f1\" offset=\"0\"/>"
#define FZ_ST_DONE "<file-done id=\"f1\" sha256=\"" FZ_SHA_EMPTY "\"/>"
#define FZ_ST_TYPING "<typing state=\"on\"/>"
#define FZ_ST_READ "<read id=\"m1\" ts=\"1767225600002\"/>"
#define FZ_ST_REJECT "<file-reject id=\"f1\" reason=\"too large\"/>"
#define FZ_ST_DEVICE "<device id=\"laptop-1\"/>"

#endif
