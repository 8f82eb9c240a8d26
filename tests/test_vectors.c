/*
 * test_vectors.c - the published test vectors of docs/PROTOCOL.md 14.
 *
 * Runs a fully deterministic handshake, one message each way (compact
 * form, PROTOCOL.md 10.4) and then one XML stanza, a read marker, from the
 * initiator (its second record, sequence number 1; PROTOCOL.md 10.2) between
 * alice@example.org (initiator) and bob@example.org (responder), whose fixed
 * Ed25519 certificates live in tests/vectors/ (made once by
 * tests/certs/mkcerts.sh --vectors, valid 2025-01-01 to 2045-01-01, under an
 * Ed25519 root). Every input is fixed: the random source of each side is the
 * stream SHA-256(seed as u64 LE || counter as u64 LE) of tests/support/
 * sc_testrng.c with seed 1 (initiator) and 2 (responder), one 32-byte block per
 * draw; the time is 2026-01-01T00:00:00Z; Ed25519 signatures are
 * deterministic.
 *
 * The test then recomputes, from the public bytes on the wire plus the
 * ephemeral private keys drawn from the known random streams, every secret
 * of the key schedule twice - once with the internal functions of
 * sc_keysched.h / sc_crypto.h and once with a from-the-spec reference built
 * on bare HMAC-SHA-256 - opens every record with a reference AEAD (nonce =
 * iv XOR seq, AAD = frame header), re-signs each signature input, recomputes
 * each Finished, and finally compares all of it, byte for byte, with the
 * values stored in tests/vectors/handshake-*.txt. Any change of a single
 * byte on the wire or in the schedule fails the test.
 *
 * Regenerating (only after a deliberate change of the wire format):
 *     SC_VECTORS_WRITE=1 build/tests/test_vectors
 * rewrites tests/vectors/handshake-*.txt instead of comparing (the
 * self-checks above still run). Then update docs/PROTOCOL.md 14.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include "sc_pair.h"
#include "sc_testcert.h"
#include "sc_base64.h"
#include "sc_crypto.h"
#include "sc_keysched.h"
#include "sc_record.h"

#ifndef SC_SOURCE_DIR
#define SC_SOURCE_DIR "."
#endif

#define NOW_MS UINT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define EXPORT_LABEL "EXPORTER-vectors"
/* The initiator's read marker for m2, sent as its second record (PROTOCOL.md 10.2, 14.1). */
#define READ_XML "<read id=\"m2\" ts=\"1767225603000\"/>"

/* ---- one vector's parameters ------------------------------------------- */

typedef struct vec_spec {
    const char *file;  /* under tests/vectors/ */
    const char *title; /* first line of the file */
    const char *i_suites, *i_groups, *r_suites, *r_groups;
    int suite;  /* what the responder must pick */
    int i_p256; /* the initiator also sends a P-256 share */
} vec_spec;

/* ---- named values ------------------------------------------------------ */

#define MAX_VALUES 80

typedef struct named {
    char name[40];
    uint8_t *v;
    size_t len;
    int text; /* also rendered as text in a comment (XML messages) */
} named;

typedef struct values {
    named e[MAX_VALUES];
    size_t n;
} values;

static void put_value(values *vs, const char *name, const void *p, size_t len, int text)
{
    assert_true(vs->n < MAX_VALUES);
    named *e = &vs->e[vs->n++];
    snprintf(e->name, sizeof e->name, "%s", name);
    e->v = malloc(len ? len : 1);
    assert_non_null(e->v);
    if (len) memcpy(e->v, p, len);
    e->len = len;
    e->text = text;
}

#define PUT(vs, name, p, len) put_value((vs), (name), (p), (len), 0)
#define PUT_TEXT(vs, name, p, len) put_value((vs), (name), (p), (len), 1)

static void values_free(values *vs)
{
    for (size_t i = 0; i < vs->n; i++)
        free(vs->e[i].v);
    vs->n = 0;
}

/* ---- a reference key schedule on bare HMAC-SHA-256 (PROTOCOL.md 6) ------- */

static void ref_hmac(const uint8_t *key, size_t klen, const uint8_t *d, size_t dlen,
                     uint8_t out[32])
{
    unsigned int olen = 32;
    assert_non_null(HMAC(EVP_sha256(), key, (int)klen, d, dlen, out, &olen));
    assert_int_equal(olen, 32);
}

/* HKDF-Extract(salt, IKM) = HMAC(salt, IKM) */
static void ref_extract(const uint8_t salt[32], const uint8_t ikm[32], uint8_t out[32])
{
    ref_hmac(salt, 32, ikm, 32, out);
}

/*
 * ExpandLabel(S, L, C, n) = HKDF-Expand(S, HkdfLabel, n) with
 * HkdfLabel = u16 n || u8 (6 + |L|) || "e2ed1 " || L || u8 |C| || C.
 * For n <= 32, HKDF-Expand is the first n bytes of HMAC(S, HkdfLabel || 0x01).
 */
static void ref_expand_label(const uint8_t s[32], const char *label, const uint8_t *ctx,
                             size_t ctx_len, uint8_t *out, size_t n)
{
    uint8_t info[600], t[32];
    size_t k = 0, llen = strlen(label);
    assert_true(n <= 32 && ctx_len <= 255 && 6 + llen <= 255);
    info[k++] = (uint8_t)(n >> 8);
    info[k++] = (uint8_t)n;
    info[k++] = (uint8_t)(6 + llen);
    memcpy(info + k, "e2ed1 ", 6);
    k += 6;
    memcpy(info + k, label, llen);
    k += llen;
    info[k++] = (uint8_t)ctx_len;
    if (ctx_len) memcpy(info + k, ctx, ctx_len);
    k += ctx_len;
    info[k++] = 0x01;
    ref_hmac(s, 32, info, k, t);
    memcpy(out, t, n);
}

/* ---- the transcript: u32 BE length || bytes, per message (PROTOCOL.md 6.2) ---- */

typedef struct transcript {
    uint8_t *p;
    size_t len;
} transcript;

static void tr_add(transcript *t, const uint8_t *msg, size_t len)
{
    t->p = realloc(t->p, t->len + 4 + len);
    assert_non_null(t->p);
    t->p[t->len++] = (uint8_t)(len >> 24);
    t->p[t->len++] = (uint8_t)(len >> 16);
    t->p[t->len++] = (uint8_t)(len >> 8);
    t->p[t->len++] = (uint8_t)len;
    memcpy(t->p + t->len, msg, len);
    t->len += len;
}

static void tr_hash(const transcript *t, uint8_t out[32])
{
    assert_non_null(SHA256(t->p, t->len, out));
}

/* ---- frames and a reference record opener (PROTOCOL.md 3, 5) ----------- */

typedef struct frame {
    uint8_t type;
    const uint8_t *hdr; /* 4 bytes, then the body */
    const uint8_t *body;
    size_t len;
} frame;

/* Splits a flight into frames; asserts that it splits exactly. */
static size_t split(const uint8_t *p, size_t len, frame *f, size_t max)
{
    size_t n = 0, off = 0;
    while (off < len) {
        assert_true(n < max && len - off >= 4);
        size_t blen = ((size_t)p[off + 1] << 16) | ((size_t)p[off + 2] << 8) | p[off + 3];
        assert_true(len - off - 4 >= blen);
        f[n].type = p[off];
        f[n].hdr = p + off;
        f[n].body = p + off + 4;
        f[n].len = blen;
        n++;
        off += 4 + blen;
    }
    return n;
}

/*
 * Opens a RECORD frame with nothing but the spec: nonce = iv XOR (0^32 ||
 * u64 BE seq), AAD = the 4-byte frame header, body = ciphertext || 16-byte
 * tag. Returns the malloc'd plaintext (inner type || content).
 */
static uint8_t *ref_open(int suite, const uint8_t key[32], const uint8_t iv[12], uint64_t seq,
                         const frame *f, size_t *plen)
{
    const EVP_CIPHER *c =
        suite == SC_SUITE_AES_256_GCM ? EVP_aes_256_gcm() : EVP_chacha20_poly1305();
    uint8_t nonce[12];
    size_t clen;
    int outl, fin;
    assert_int_equal(f->type, SC_FRAME_RECORD);
    assert_true(f->len >= 17);
    clen = f->len - 16;
    memcpy(nonce, iv, 12);
    for (int i = 0; i < 8; i++)
        nonce[11 - i] ^= (uint8_t)(seq >> (8 * i));
    uint8_t *out = malloc(clen);
    assert_non_null(out);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    assert_non_null(ctx);
    assert_true(EVP_DecryptInit_ex(ctx, c, NULL, NULL, NULL));
    assert_true(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL));
    assert_true(EVP_DecryptInit_ex(ctx, NULL, NULL, key, nonce));
    assert_true(EVP_DecryptUpdate(ctx, NULL, &outl, f->hdr, 4));
    assert_true(EVP_DecryptUpdate(ctx, out, &outl, f->body, (int)clen));
    assert_true(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, (void *)(f->body + clen)));
    fin = EVP_DecryptFinal_ex(ctx, out + outl, &outl);
    EVP_CIPHER_CTX_free(ctx);
    assert_int_equal(fin, 1); /* the tag verifies */
    *plen = clen;
    return out;
}

/* ---- small helpers ----------------------------------------------------- */

static char *b64(const uint8_t *p, size_t n)
{
    sc_buf b;
    sc_buf_init(&b, 0);
    sc_base64_encode(&b, p, n);
    sc_buf_put_u8(&b, 0);
    assert_true(sc_buf_ok(&b));
    char *s = strdup((const char *)b.data);
    sc_buf_dispose(&b);
    assert_non_null(s);
    return s;
}

static int contains(const uint8_t *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; k <= n && i <= n - k; i++)
        if (memcmp(hay + i, needle, k) == 0) return 1;
    return 0;
}

/* Asserts that msg is exactly open || B64(p) || close. */
static void assert_b64_element(const uint8_t *msg, size_t len, const char *open, const uint8_t *p,
                               size_t n, const char *close)
{
    char *enc = b64(p, n), *want;
    size_t wlen = strlen(open) + strlen(enc) + strlen(close);
    want = malloc(wlen + 1);
    assert_non_null(want);
    snprintf(want, wlen + 1, "%s%s%s", open, enc, close);
    assert_int_equal(len, wlen);
    assert_memory_equal(msg, want, wlen);
    free(want);
    free(enc);
}

/* The bytes between open and close of an element known to be open ... close. */
static void b64_inner(const uint8_t *msg, size_t len, const char *open, const char *close,
                      uint8_t *out, size_t cap, size_t *out_len)
{
    size_t ol = strlen(open), cl = strlen(close);
    assert_true(len > ol + cl);
    assert_memory_equal(msg, open, ol);
    assert_memory_equal(msg + len - cl, close, cl);
    long n = sc_base64_decode((const char *)msg + ol, len - ol - cl, out, cap);
    assert_true(n > 0);
    *out_len = (size_t)n;
}

static char *read_vec_file(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/vectors/%s", SC_SOURCE_DIR, name);
    char *s = sc_testcert_read_file(path, len);
    if (s == NULL) fprintf(stderr, "test_vectors: cannot read %s\n", path);
    assert_non_null(s);
    return s;
}

static EVP_PKEY *read_key(const char *name)
{
    size_t len;
    char *pem = read_vec_file(name, &len);
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    free(pem);
    assert_non_null(k);
    return k;
}

/* DER of the first certificate in a PEM file. */
static uint8_t *read_cert_der(const char *name, size_t *der_len)
{
    size_t len;
    char *pem = read_vec_file(name, &len);
    uint8_t *der[1];
    size_t dl[1];
    assert_int_equal(sc_testcert_pem_to_der(pem, der, dl, 1), 1);
    free(pem);
    *der_len = dl[0];
    return der[0];
}

/* Ed25519 is deterministic: the signature over `in` must be exactly `sig`. */
static void assert_resign(EVP_PKEY *key, const uint8_t *in, size_t in_len, const uint8_t *sig,
                          size_t sig_len)
{
    uint8_t out[64];
    size_t olen = sizeof out;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    assert_non_null(m);
    assert_int_equal(EVP_DigestSignInit(m, NULL, NULL, NULL, key), 1);
    assert_int_equal(EVP_DigestSign(m, out, &olen, in, in_len), 1);
    EVP_MD_CTX_free(m);
    assert_int_equal(olen, sig_len);
    assert_memory_equal(out, sig, sig_len);
}

static void sig_input(const char *ctx, const uint8_t th[32], uint8_t *out, size_t *len)
{
    size_t n = strlen(ctx);
    memcpy(out, ctx, n);
    out[n] = 0;
    memcpy(out + n + 1, th, 32);
    *len = n + 1 + 32;
}

/* Both schedules must agree: the internal functions and the reference. */
static void same(const uint8_t *a, const uint8_t *b, size_t n)
{
    assert_memory_equal(a, b, n);
}

/* Traffic key and IV of a secret, checked against the reference, stored as NAME_key/NAME_iv. */
static void put_traffic(values *vs, const char *name, const uint8_t secret[32], uint8_t key[32],
                        uint8_t iv[12])
{
    uint8_t rk[32], riv[12];
    char n[40];
    assert_int_equal(sc_ks_traffic(secret, key, iv), SC_OK);
    ref_expand_label(secret, "key", NULL, 0, rk, 32);
    ref_expand_label(secret, "iv", NULL, 0, riv, 12);
    same(key, rk, 32);
    same(iv, riv, 12);
    snprintf(n, sizeof n, "%s_key", name);
    PUT(vs, n, key, 32);
    snprintf(n, sizeof n, "%s_iv", name);
    PUT(vs, n, iv, 12);
}

/*
 * One side's authentication flight (cert, verify, finished under its
 * handshake secret). Adds the messages to the transcript and the values.
 */
static void check_auth_flight(values *vs, transcript *tr, const frame *f, int suite,
                              const uint8_t hs[32], const uint8_t key[32], const uint8_t iv[12],
                              int initiator, const uint8_t *cert_der, size_t cert_len,
                              EVP_PKEY *signer)
{
    const char *who = initiator ? "i" : "r";
    const char *ctx = initiator ? "e2ed1 initiator verify" : "e2ed1 responder verify";
    uint8_t *pt[3], th[32], in[64], sig[128], fk[32], rfk[32], mac[32], rmac[32];
    size_t plen[3], in_len, sig_len;
    char n[40];

    for (int k = 0; k < 3; k++) {
        pt[k] = ref_open(suite, key, iv, (uint64_t)k, &f[k], &plen[k]);
        assert_int_equal(pt[k][0], SC_INNER_HANDSHAKE);
    }

    /* <cert><c>B64(leaf DER)</c></cert>: the chain is the leaf alone. */
    assert_b64_element(pt[0] + 1, plen[0] - 1, "<cert><c>", cert_der, cert_len, "</c></cert>");
    snprintf(n, sizeof n, "%s_cert", who);
    PUT_TEXT(vs, n, pt[0] + 1, plen[0] - 1);
    tr_add(tr, pt[0] + 1, plen[0] - 1);
    tr_hash(tr, th);
    snprintf(n, sizeof n, "th_%s_cert", who);
    PUT(vs, n, th, 32);

    /* <verify alg="ed25519">B64(sig)</verify> over context || 0x00 || TH. */
    b64_inner(pt[1] + 1, plen[1] - 1, "<verify alg=\"ed25519\">", "</verify>", sig, sizeof sig,
              &sig_len);
    sig_input(ctx, th, in, &in_len);
    snprintf(n, sizeof n, "%s_signature_input", who);
    PUT(vs, n, in, in_len);
    assert_resign(signer, in, in_len, sig, sig_len);
    snprintf(n, sizeof n, "%s_signature", who);
    PUT(vs, n, sig, sig_len);
    snprintf(n, sizeof n, "%s_verify", who);
    PUT_TEXT(vs, n, pt[1] + 1, plen[1] - 1);
    tr_add(tr, pt[1] + 1, plen[1] - 1);
    tr_hash(tr, th);
    snprintf(n, sizeof n, "th_%s_verify", who);
    PUT(vs, n, th, 32);

    /* <finished>B64(HMAC(finished_key, TH))</finished> */
    assert_int_equal(sc_ks_finished(hs, th, mac), SC_OK);
    ref_expand_label(hs, "finished", NULL, 0, rfk, 32);
    ref_hmac(rfk, 32, th, 32, rmac);
    same(mac, rmac, 32);
    assert_int_equal(sc_hkdf_expand_label(hs, "finished", NULL, 0, fk, 32), SC_OK);
    same(fk, rfk, 32);
    snprintf(n, sizeof n, "%s_finished_key", who);
    PUT(vs, n, fk, 32);
    snprintf(n, sizeof n, "%s_finished_mac", who);
    PUT(vs, n, mac, 32);
    assert_b64_element(pt[2] + 1, plen[2] - 1, "<finished>", mac, 32, "</finished>");
    snprintf(n, sizeof n, "%s_finished", who);
    PUT_TEXT(vs, n, pt[2] + 1, plen[2] - 1);
    tr_add(tr, pt[2] + 1, plen[2] - 1);

    for (int k = 0; k < 3; k++)
        free(pt[k]);
}

/*
 * The compact message of PROTOCOL.md 10.4, spelt out from the spec rather
 * than by the library's writer: kind 1, idlen, ts as u64 big-endian, id, text.
 */
static size_t ref_compact_msg(uint8_t *out, const char *id, uint64_t ts, const char *text)
{
    size_t idlen = strlen(id), tlen = strlen(text), n = 0;
    out[n++] = 0x01;
    out[n++] = (uint8_t)idlen;
    for (int i = 7; i >= 0; i--)
        out[n++] = (uint8_t)(ts >> (8 * i));
    memcpy(out + n, id, idlen);
    memcpy(out + n + idlen, text, tlen);
    return n + idlen + tlen;
}

/*
 * Opens one application record (sequence number seq) and checks it carries
 * exactly `want` under the inner type `inner`.
 */
static void check_app_record(values *vs, const char *name, const uint8_t *rec, size_t len,
                             int suite, const uint8_t key[32], const uint8_t iv[12], uint64_t seq,
                             uint8_t inner, const uint8_t *want, size_t want_len)
{
    frame f[2];
    size_t plen;
    char n[40];
    assert_int_equal(split(rec, len, f, 2), 1);
    uint8_t *pt = ref_open(suite, key, iv, seq, &f[0], &plen);
    assert_int_equal(pt[0], inner);
    assert_int_equal(plen - 1, want_len);
    assert_memory_equal(pt + 1, want, plen - 1);
    snprintf(n, sizeof n, "%s_plaintext", name);
    PUT(vs, n, pt, plen);
    free(pt);
}

/* ---- the vector file --------------------------------------------------- */

static void write_hex(FILE *fp, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(fp, "%02x", p[i]);
}

static void write_file(const vec_spec *spec, const values *vs)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/vectors/%s", SC_SOURCE_DIR, spec->file);
    FILE *fp = fopen(path, "w");
    if (fp == NULL) fprintf(stderr, "test_vectors: cannot write %s\n", path);
    assert_non_null(fp);
    fprintf(fp,
            "# End2End Direct version 1 test vector: %s\n"
            "#\n"
            "# Written by tests/test_vectors.c; docs/PROTOCOL.md section 14 explains every\n"
            "# value. The test recomputes all of them and fails if any byte differs.\n"
            "# Regenerate (only after a deliberate change of the wire format) with\n"
            "#     SC_VECTORS_WRITE=1 build/tests/test_vectors\n"
            "#\n"
            "# Format: one \"name = lowercase hex\" per line; lines starting with '#' are\n"
            "# comments (the XML messages are repeated there as text for reading).\n"
            "#\n"
            "# Inputs:\n"
            "#   initiator alice@example.org: tests/vectors/alice.pem, alice.key (Ed25519)\n"
            "#   responder bob@example.org:   tests/vectors/bob.pem, bob.key (Ed25519)\n"
            "#   trust anchor of both:        tests/vectors/root.pem (Ed25519)\n"
            "#   now_ms = %llu (2026-01-01T00:00:00Z) for both sides\n"
            "#   random: block k of side with seed s = SHA-256(u64le(s) || u64le(k)),\n"
            "#           seed 1 = initiator, seed 2 = responder, one block per draw\n"
            "#   initiator suites \"%s\", groups \"%s\"\n"
            "#   responder suites \"%s\", groups \"%s\"\n"
            "#   messages (compact, inner type 0x06): id m1 ts %llu I->R, id m2 ts %llu R->I\n"
            "#   then I->R (stanza, inner type 0x03, i_ap seq 1): " READ_XML "\n"
            "#   exporter label for export_vectors: \"" EXPORT_LABEL "\"\n",
            spec->title, (unsigned long long)NOW_MS, spec->i_suites, spec->i_groups, spec->r_suites,
            spec->r_groups, (unsigned long long)(NOW_MS + 1000),
            (unsigned long long)(NOW_MS + 2000));
    for (size_t i = 0; i < vs->n; i++) {
        const named *e = &vs->e[i];
        if (e->text) {
            fprintf(fp, "\n# %s (text):\n# ", e->name);
            fwrite(e->v, 1, e->len, fp);
            fprintf(fp, "\n");
        }
        fprintf(fp, "%s = ", e->name);
        write_hex(fp, e->v, e->len);
        fprintf(fp, "\n");
    }
    assert_int_equal(fclose(fp), 0);
    fprintf(stderr, "test_vectors: wrote %s\n", path);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Compares vs with the file: same names, same order, same bytes. */
static void compare_file(const vec_spec *spec, const values *vs)
{
    size_t len, idx = 0;
    char *text = read_vec_file(spec->file, &len);
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#' || line[0] == '\0') continue;
        char *eq = strstr(line, " = ");
        assert_non_null(eq);
        *eq = '\0';
        const char *hex = eq + 3;
        if (idx >= vs->n) fail_msg("%s: extra value %s in the file", spec->file, line);
        const named *e = &vs->e[idx++];
        if (strcmp(line, e->name) != 0)
            fail_msg("%s: expected value %s, the file has %s", spec->file, e->name, line);
        size_t hl = strlen(hex);
        if (hl != 2 * e->len)
            fail_msg("%s: %s is %zu bytes, the file has %zu", spec->file, e->name, e->len, hl / 2);
        for (size_t i = 0; i < e->len; i++) {
            int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
            if (hi < 0 || lo < 0) fail_msg("%s: %s is not lowercase hex", spec->file, e->name);
            if ((uint8_t)(hi << 4 | lo) != e->v[i])
                fail_msg("%s: %s differs at byte %zu", spec->file, e->name, i);
        }
    }
    if (idx != vs->n) fail_msg("%s: value %s missing from the file", spec->file, vs->e[idx].name);
    free(text);
}

/* ---- the run ----------------------------------------------------------- */

static void send_msg(sc_session *s, const char *id, uint64_t ts, const char *text)
{
    sc_stanza st = {
        .type = SC_STANZA_MSG, .id = id, .ts = ts, .text = text, .text_len = strlen(text)};
    assert_int_equal(sc_session_send_stanza(s, &st), SC_OK);
}

static void deliver(sc_session *to, const uint8_t *p, size_t len)
{
    assert_int_equal(sc_session_recv(to, p, len, NOW_MS), SC_OK);
}

static void run_vector(const vec_spec *spec)
{
    values vs = {0};
    sc_pair p;
    sc_test_rng rng_i = {.seed = 1}, rng_r = {.seed = 2};
    size_t n_root, n_alice_c, n_alice_k, n_bob_c, n_bob_k;
    char *root = read_vec_file("root.pem", &n_root);
    char *alice_c = read_vec_file("alice.pem", &n_alice_c);
    char *alice_k = read_vec_file("alice.key", &n_alice_k);
    char *bob_c = read_vec_file("bob.pem", &n_bob_c);
    char *bob_k = read_vec_file("bob.key", &n_bob_k);
    EVP_PKEY *alice_key = read_key("alice.key"), *bob_key = read_key("bob.key");
    size_t alice_der_len, bob_der_len;
    uint8_t *alice_der = read_cert_der("alice.pem", &alice_der_len);
    uint8_t *bob_der = read_cert_der("bob.pem", &bob_der_len);

    sc_config *ci = sc_party_config(alice_c, alice_k, root, &rng_i);
    sc_config *cr = sc_party_config(bob_c, bob_k, root, &rng_r);
    assert_int_equal(sc_config_set_suites(ci, spec->i_suites), SC_OK);
    assert_int_equal(sc_config_set_groups(ci, spec->i_groups), SC_OK);
    assert_int_equal(sc_config_set_suites(cr, spec->r_suites), SC_OK);
    assert_int_equal(sc_config_set_groups(cr, spec->r_groups), SC_OK);
    sc_pair_init(&p, ci, cr, NOW_MS);
    assert_int_equal(sc_session_set_expected_peer(p.i.s, "bob@example.org"), SC_OK);
    assert_int_equal(sc_session_set_expected_peer(p.r.s, "alice@example.org"), SC_OK);

    /* ---- run the sessions, capturing each flight ---- */
    size_t f1_len, f2_len, f3_len, none_len, a1_len, a2_len, a3_len;
    assert_int_equal(sc_session_start(p.i.s), SC_OK);
    uint8_t *f1 = sc_pair_take(p.i.s, &f1_len);
    deliver(p.r.s, f1, f1_len);
    uint8_t *f2 = sc_pair_take(p.r.s, &f2_len);
    deliver(p.i.s, f2, f2_len);
    assert_int_equal(p.i.handshakes, 1);
    uint8_t *f3 = sc_pair_take(p.i.s, &f3_len);
    deliver(p.r.s, f3, f3_len);
    assert_int_equal(p.r.handshakes, 1);
    free(sc_pair_take(p.r.s, &none_len));
    assert_int_equal(none_len, 0); /* the responder sends nothing after flight 3 */
    assert_string_equal(p.i.suite, sc_suite_name(spec->suite));
    assert_string_equal(p.i.group, "x25519");
    assert_string_equal(p.i.sigalg, "ed25519");
    assert_string_equal(p.i.peer_id, "bob@example.org");
    assert_string_equal(p.r.peer_id, "alice@example.org");

    send_msg(p.i.s, "m1", NOW_MS + 1000, "Hello Bob!");
    uint8_t *a1 = sc_pair_take(p.i.s, &a1_len);
    deliver(p.r.s, a1, a1_len);
    send_msg(p.r.s, "m2", NOW_MS + 2000, "Hi Alice, <3");
    uint8_t *a2 = sc_pair_take(p.r.s, &a2_len);
    deliver(p.i.s, a2, a2_len);
    assert_int_equal(p.r.n_stanzas, 1);
    assert_string_equal(p.r.stanza_text[0], "Hello Bob!");
    assert_int_equal(p.i.n_stanzas, 1);
    assert_string_equal(p.i.stanza_text[0], "Hi Alice, <3");
    sc_stanza read = {.type = SC_STANZA_READ, .id = "m2", .ts = NOW_MS + 3000};
    assert_int_equal(sc_session_send_stanza(p.i.s, &read), SC_OK);
    uint8_t *a3 = sc_pair_take(p.i.s, &a3_len);
    deliver(p.r.s, a3, a3_len);
    assert_int_equal(p.r.n_stanzas, 2);
    assert_int_equal(p.r.stanza_type[1], SC_STANZA_READ);
    assert_string_equal(p.r.stanza_id[1], "m2");

    /* ---- the random streams: initiator random, one key per group; responder random, key ---- */
    sc_test_rng ri = {.seed = 1}, rr = {.seed = 2};
    uint8_t i_random[32], i_xpriv[32], i_ppriv[32], r_random[32], r_xpriv[32];
    sc_kex_key ik_x, ik_p, rk_x;
    assert_int_equal(sc_test_rng_fn(&ri, i_random, 32), 0);
    assert_int_equal(sc_test_rng_fn(&ri, i_xpriv, 32), 0);
    assert_int_equal(sc_kex_keygen(&ik_x, SC_GROUP_X25519, i_xpriv), SC_OK);
    PUT(&vs, "i_random", i_random, 32);
    PUT(&vs, "i_x25519_priv", i_xpriv, 32);
    PUT(&vs, "i_x25519_pub", ik_x.pub, ik_x.pub_len);
    if (spec->i_p256) {
        assert_int_equal(sc_test_rng_fn(&ri, i_ppriv, 32), 0);
        assert_int_equal(sc_kex_keygen(&ik_p, SC_GROUP_P256, i_ppriv), SC_OK);
        PUT(&vs, "i_p256_priv", i_ppriv, 32);
        PUT(&vs, "i_p256_pub", ik_p.pub, ik_p.pub_len);
    }
    assert_int_equal(sc_test_rng_fn(&rr, r_random, 32), 0);
    assert_int_equal(sc_test_rng_fn(&rr, r_xpriv, 32), 0);
    assert_int_equal(sc_kex_keygen(&rk_x, SC_GROUP_X25519, r_xpriv), SC_OK);
    PUT(&vs, "r_random", r_random, 32);
    PUT(&vs, "r_x25519_priv", r_xpriv, 32);
    PUT(&vs, "r_x25519_pub", rk_x.pub, rk_x.pub_len);
    /* Each side drew exactly those blocks and no more. */
    assert_int_equal(rng_i.counter, ri.counter);
    assert_int_equal(rng_r.counter, rr.counter);

    PUT(&vs, "flight1", f1, f1_len);
    PUT(&vs, "flight2", f2, f2_len);
    PUT(&vs, "flight3", f3, f3_len);
    PUT(&vs, "app_i_to_r", a1, a1_len);
    PUT(&vs, "app_r_to_i", a2, a2_len);

    /* ---- flight 1: one HELLO frame, the ihello; flight 2 starts with the rhello ---- */
    frame fr1[2], fr2[5], fr3[4];
    assert_int_equal(split(f1, f1_len, fr1, 2), 1);
    assert_int_equal(fr1[0].type, SC_FRAME_HELLO);
    assert_int_equal(split(f2, f2_len, fr2, 5), 4);
    assert_int_equal(fr2[0].type, SC_FRAME_HELLO);
    assert_int_equal(split(f3, f3_len, fr3, 4), 3);
    const uint8_t *ihello = fr1[0].body, *rhello = fr2[0].body;
    size_t ihello_len = fr1[0].len, rhello_len = fr2[0].len;
    char attr[128], *e;
    e = b64(i_random, 32);
    snprintf(attr, sizeof attr, " r=\"%s\"", e);
    assert_true(contains(ihello, ihello_len, attr));
    free(e);
    e = b64(ik_x.pub, 32);
    snprintf(attr, sizeof attr, "<share g=\"x25519\">%s</share>", e);
    assert_true(contains(ihello, ihello_len, attr));
    free(e);
    if (spec->i_p256) {
        e = b64(ik_p.pub, 65);
        snprintf(attr, sizeof attr, "<share g=\"p256\">%s</share>", e);
        assert_true(contains(ihello, ihello_len, attr));
        free(e);
    }
    e = b64(r_random, 32);
    snprintf(attr, sizeof attr, " r=\"%s\"", e);
    assert_true(contains(rhello, rhello_len, attr));
    free(e);
    e = b64(rk_x.pub, 32);
    snprintf(attr, sizeof attr, "<share g=\"x25519\">%s</share>", e);
    assert_true(contains(rhello, rhello_len, attr));
    free(e);
    snprintf(attr, sizeof attr, " suite=\"%s\"", sc_suite_name(spec->suite));
    assert_true(contains(rhello, rhello_len, attr));
    PUT_TEXT(&vs, "ihello", ihello, ihello_len);
    PUT_TEXT(&vs, "rhello", rhello, rhello_len);

    /* ---- DS and the handshake secrets ---- */
    uint8_t ds[32], ds2[32], th1[32], hs[32], derived[32], i_hs[32], r_hs[32], ms[32];
    uint8_t ref_i_hs[32], ref_r_hs[32], ref_ms[32];
    static const uint8_t zeros[32];
    assert_int_equal(sc_kex_derive(&ik_x, rk_x.pub, rk_x.pub_len, ds), SC_OK);
    assert_int_equal(sc_kex_derive(&rk_x, ik_x.pub, ik_x.pub_len, ds2), SC_OK);
    same(ds, ds2, 32);
    PUT(&vs, "ds", ds, 32);

    transcript tr = {0};
    tr_add(&tr, ihello, ihello_len);
    tr_add(&tr, rhello, rhello_len);
    tr_hash(&tr, th1);
    PUT(&vs, "th1", th1, 32);

    assert_int_equal(sc_ks_handshake(ds, th1, i_hs, r_hs, ms), SC_OK);
    assert_int_equal(sc_hkdf_extract(zeros, 32, ds, 32, hs), SC_OK);
    ref_extract(zeros, ds, derived); /* reuse as scratch: the reference HS */
    same(hs, derived, 32);
    ref_expand_label(hs, "i hs", th1, 32, ref_i_hs, 32);
    ref_expand_label(hs, "r hs", th1, 32, ref_r_hs, 32);
    ref_expand_label(hs, "derived", NULL, 0, derived, 32);
    ref_extract(derived, zeros, ref_ms);
    same(i_hs, ref_i_hs, 32);
    same(r_hs, ref_r_hs, 32);
    same(ms, ref_ms, 32);
    PUT(&vs, "hs", hs, 32);
    uint8_t i_hs_key[32], i_hs_iv[12], r_hs_key[32], r_hs_iv[12];
    PUT(&vs, "i_hs", i_hs, 32);
    put_traffic(&vs, "i_hs", i_hs, i_hs_key, i_hs_iv);
    PUT(&vs, "r_hs", r_hs, 32);
    put_traffic(&vs, "r_hs", r_hs, r_hs_key, r_hs_iv);
    PUT(&vs, "derived", derived, 32);
    PUT(&vs, "ms", ms, 32);

    /* ---- the two authentication flights ---- */
    for (int k = 1; k <= 3; k++)
        assert_int_equal(fr2[k].type, SC_FRAME_RECORD);
    check_auth_flight(&vs, &tr, &fr2[1], spec->suite, r_hs, r_hs_key, r_hs_iv, 0, bob_der,
                      bob_der_len, bob_key);
    /* TH2 ends with the responder's finished (PROTOCOL.md 6). */
    uint8_t th2[32], i_ap[32], r_ap[32], exp[32], ref[32];
    tr_hash(&tr, th2);
    check_auth_flight(&vs, &tr, &fr3[0], spec->suite, i_hs, i_hs_key, i_hs_iv, 1, alice_der,
                      alice_der_len, alice_key);

    /* ---- application secrets ---- */
    PUT(&vs, "th2", th2, 32);
    assert_int_equal(sc_ks_application(ms, th2, i_ap, r_ap, exp), SC_OK);
    ref_expand_label(ms, "i ap", th2, 32, ref, 32);
    same(i_ap, ref, 32);
    ref_expand_label(ms, "r ap", th2, 32, ref, 32);
    same(r_ap, ref, 32);
    ref_expand_label(ms, "exporter", th2, 32, ref, 32);
    same(exp, ref, 32);
    uint8_t i_ap_key[32], i_ap_iv[12], r_ap_key[32], r_ap_iv[12];
    PUT(&vs, "i_ap", i_ap, 32);
    put_traffic(&vs, "i_ap", i_ap, i_ap_key, i_ap_iv);
    PUT(&vs, "r_ap", r_ap, 32);
    put_traffic(&vs, "r_ap", r_ap, r_ap_key, r_ap_iv);
    PUT(&vs, "exporter", exp, 32);

    uint8_t ex_i[32], ex_r[32];
    assert_int_equal(sc_session_export(p.i.s, EXPORT_LABEL, ex_i), SC_OK);
    assert_int_equal(sc_session_export(p.r.s, EXPORT_LABEL, ex_r), SC_OK);
    ref_expand_label(exp, EXPORT_LABEL, NULL, 0, ref, 32);
    same(ex_i, ref, 32);
    same(ex_r, ref, 32);
    PUT(&vs, "export_vectors", ref, 32);

    /* ---- the first application record of each direction ---- */
    uint8_t want[128];
    size_t want_len = ref_compact_msg(want, "m1", NOW_MS + 1000, "Hello Bob!");
    check_app_record(&vs, "app_i_to_r", a1, a1_len, spec->suite, i_ap_key, i_ap_iv, 0, 0x06, want,
                     want_len);
    want_len = ref_compact_msg(want, "m2", NOW_MS + 2000, "Hi Alice, <3");
    check_app_record(&vs, "app_r_to_i", a2, a2_len, spec->suite, r_ap_key, r_ap_iv, 0, 0x06, want,
                     want_len);
    /* The read marker: XML exactly as 4.3 writes it, the initiator's second record. */
    PUT(&vs, "app_read_i_to_r", a3, a3_len);
    check_app_record(&vs, "app_read_i_to_r", a3, a3_len, spec->suite, i_ap_key, i_ap_iv, 1, 0x03,
                     (const uint8_t *)READ_XML, strlen(READ_XML));

    /* ---- compare with, or write, the file ---- */
    const char *w = getenv("SC_VECTORS_WRITE");
    if (w != NULL && strcmp(w, "1") == 0)
        write_file(spec, &vs);
    else
        compare_file(spec, &vs);

    values_free(&vs);
    free(tr.p);
    sc_kex_clear(&ik_x);
    if (spec->i_p256) sc_kex_clear(&ik_p);
    sc_kex_clear(&rk_x);
    free(f1);
    free(f2);
    free(f3);
    free(a1);
    free(a2);
    free(a3);
    free(alice_der);
    free(bob_der);
    EVP_PKEY_free(alice_key);
    EVP_PKEY_free(bob_key);
    free(root);
    free(alice_c);
    free(alice_k);
    free(bob_c);
    free(bob_k);
    sc_pair_free(&p);
}

/* X25519, ChaCha20-Poly1305: the responder prefers ChaCha, the initiator offers both suites. */
static void test_vector_chacha(void **state)
{
    static const vec_spec spec = {
        .file = "handshake-chacha.txt",
        .title = "X25519, chacha20-poly1305, Ed25519 certificates",
        .i_suites = "aes-256-gcm chacha20-poly1305",
        .i_groups = "x25519",
        .r_suites = "chacha20-poly1305 aes-256-gcm",
        .r_groups = "x25519",
        .suite = SC_SUITE_CHACHA20_POLY1305,
        .i_p256 = 0,
    };
    (void)state;
    run_vector(&spec);
}

/* X25519 chosen from two shares (X25519 and P-256), AES-256-GCM. */
static void test_vector_aes(void **state)
{
    static const vec_spec spec = {
        .file = "handshake-aes.txt",
        .title = "X25519 (P-256 share also offered), aes-256-gcm, Ed25519 certificates",
        .i_suites = "aes-256-gcm chacha20-poly1305",
        .i_groups = "x25519 p256",
        .r_suites = "aes-256-gcm chacha20-poly1305",
        .r_groups = "x25519",
        .suite = SC_SUITE_AES_256_GCM,
        .i_p256 = 1,
    };
    (void)state;
    run_vector(&spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_chacha),
        cmocka_unit_test(test_vector_aes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
