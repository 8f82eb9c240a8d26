/*
 * sc_crypto.c - OpenSSL behind one small interface (see sc_crypto.h).
 */
#include <limits.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include "sixchat/error.h"
#include "sc_crypto.h"

/* ---- the error queue (see SC_ERRQ_GUARD) ----------------------------------- */

int sc__errq_mark(void)
{
    /* Returns 0 on an empty queue without setting a mark; the pop then empties it, as it was. */
    return ERR_set_mark();
}

void sc__errq_pop(int *mark)
{
    (void)mark;
    (void)ERR_pop_to_mark();
}

/* ---- names ---------------------------------------------------------- */

static const char *const suite_names[] = {NULL, "aes-256-gcm", "chacha20-poly1305"};
static const char *const group_names[] = {NULL, "x25519", "p256"};
static const char *const sig_names[] = {NULL, "ed25519", "ecdsa-p256-sha256", "ecdsa-p384-sha384",
                                        "rsa-pss-sha256"};

static const char *name_at(const char *const *t, size_t n, int i)
{
    return (i > 0 && (size_t)i < n) ? t[i] : "unknown";
}

static int index_of(const char *const *t, size_t n, const char *s, size_t len)
{
    for (size_t i = 1; i < n; i++)
        if (strlen(t[i]) == len && memcmp(t[i], s, len) == 0) return (int)i;
    return 0;
}

#define COUNT(t) (sizeof(t) / sizeof((t)[0]))
const char *sc_suite_name(int s)
{
    return name_at(suite_names, COUNT(suite_names), s);
}
const char *sc_group_name(int g)
{
    return name_at(group_names, COUNT(group_names), g);
}
const char *sc_sigalg_name(int a)
{
    return name_at(sig_names, COUNT(sig_names), a);
}
int sc_suite_by_name(const char *s, size_t n)
{
    return index_of(suite_names, COUNT(suite_names), s, n);
}
int sc_group_by_name(const char *s, size_t n)
{
    return index_of(group_names, COUNT(group_names), s, n);
}
int sc_sigalg_by_name(const char *s, size_t n)
{
    return index_of(sig_names, COUNT(sig_names), s, n);
}

/* ---- algorithms fetched once ------------------------------------------- */

/*
 * OpenSSL 3 looks an algorithm up by name on every implicit use
 * (EVP_sha256(), EVP_PKEY_CTX_new_id(HKDF)), taking locks each time. We fetch
 * each one once per process and only read them afterwards, and keep an HMAC
 * context with its digest already set to duplicate per use.
 */
static CRYPTO_ONCE algs_once = CRYPTO_ONCE_STATIC_INIT;
static struct {
    EVP_MD *sha256;
    EVP_CIPHER *aes_gcm, *chacha;
    EVP_MAC *hmac;
    EVP_MAC_CTX *hmac_tmpl;
} algs;

static void algs_init(void)
{
    OSSL_PARAM p[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA2-256", 0),
        OSSL_PARAM_construct_end()};
    algs.sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    algs.aes_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    algs.chacha = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
    algs.hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (algs.hmac && (algs.hmac_tmpl = EVP_MAC_CTX_new(algs.hmac)) != NULL &&
        !EVP_MAC_CTX_set_params(algs.hmac_tmpl, p)) {
        EVP_MAC_CTX_free(algs.hmac_tmpl);
        algs.hmac_tmpl = NULL;
    }
}

static int algs_ready(void)
{
    return CRYPTO_THREAD_run_once(&algs_once, algs_init) && algs.sha256 && algs.aes_gcm &&
           algs.chacha && algs.hmac_tmpl;
}

/* ---- HKDF, HMAC, hashes --------------------------------------------- */

/* HMAC-SHA256(key, a || b) */
static int hmac2(const uint8_t *key, size_t key_len, const uint8_t *a, size_t a_len,
                 const uint8_t *b, size_t b_len, uint8_t out[SC_HASH_LEN])
{
    EVP_MAC_CTX *c;
    size_t olen = 0;
    int ok;
    if (!algs_ready()) return SC_ERR_CRYPTO;
    if ((c = EVP_MAC_CTX_dup(algs.hmac_tmpl)) == NULL) return SC_ERR_NOMEM;
    ok = EVP_MAC_init(c, key, key_len, NULL) && EVP_MAC_update(c, a, a_len) &&
         (b_len == 0 || EVP_MAC_update(c, b, b_len)) && EVP_MAC_final(c, out, &olen, SC_HASH_LEN) &&
         olen == SC_HASH_LEN;
    EVP_MAC_CTX_free(c);
    return ok ? SC_OK : SC_ERR_CRYPTO;
}

/* RFC 5869 Extract: PRK = HMAC(salt, IKM); an absent salt is HashLen zero bytes. */
int sc_hkdf_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                    uint8_t out[SC_HASH_LEN])
{
    static const uint8_t zeros[SC_HASH_LEN];
    if (salt_len == 0) {
        salt = zeros;
        salt_len = sizeof zeros;
    }
    return hmac2(salt, salt_len, ikm, ikm_len, NULL, 0, out);
}

/*
 * RFC 5869 Expand with info = HkdfLabel (PROTOCOL.md 6.1):
 * u16 length || u8 len || "e2ed1 " label || u8 len || context.
 * Our outputs are at most one hash long, so Expand is T(1) = HMAC(PRK, info || 0x01).
 */
int sc_hkdf_expand_label(const uint8_t secret[SC_HASH_LEN], const char *label, const uint8_t *ctx,
                         size_t ctx_len, uint8_t *out, size_t out_len)
{
    static const char prefix[] = "e2ed1 ";
    uint8_t info[2 + 1 + 255 + 1 + 255 + 1], t[SC_HASH_LEN];
    size_t plen = sizeof prefix - 1, llen = strlen(label), n = 0;
    if (plen + llen > 255 || ctx_len > 255 || out_len == 0 || out_len > SC_HASH_LEN)
        return SC_ERR_ARG;
    info[n++] = (uint8_t)(out_len >> 8);
    info[n++] = (uint8_t)out_len;
    info[n++] = (uint8_t)(plen + llen);
    memcpy(info + n, prefix, plen);
    n += plen;
    memcpy(info + n, label, llen);
    n += llen;
    info[n++] = (uint8_t)ctx_len;
    if (ctx_len) memcpy(info + n, ctx, ctx_len);
    n += ctx_len;
    info[n++] = 0x01;
    int ret = hmac2(secret, SC_HASH_LEN, info, n, NULL, 0, t);
    if (ret == SC_OK) memcpy(out, t, out_len);
    OPENSSL_cleanse(t, sizeof t);
    return ret;
}

int sc_hmac_sha256(const uint8_t key[SC_HASH_LEN], const uint8_t *data, size_t len,
                   uint8_t out[SC_HASH_LEN])
{
    return hmac2(key, SC_HASH_LEN, data, len, NULL, 0, out);
}

int sc_sha256(const uint8_t *data, size_t len, uint8_t out[SC_HASH_LEN])
{
    if (!algs_ready()) return SC_ERR_CRYPTO;
    return EVP_Digest(data, len, out, NULL, algs.sha256, NULL) ? SC_OK : SC_ERR_CRYPTO;
}

int sc_transcript_init(sc_transcript *t)
{
    if (!algs_ready()) return SC_ERR_CRYPTO;
    t->md = EVP_MD_CTX_new();
    if (t->md == NULL) return SC_ERR_NOMEM;
    return EVP_DigestInit_ex(t->md, algs.sha256, NULL) ? SC_OK : SC_ERR_CRYPTO;
}

int sc_transcript_add(sc_transcript *t, const uint8_t *msg, size_t len)
{
    uint8_t hdr[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                      (uint8_t)len};
    if (len > UINT32_MAX) return SC_ERR_ARG;
    return EVP_DigestUpdate(t->md, hdr, 4) && EVP_DigestUpdate(t->md, msg, len) ? SC_OK
                                                                                : SC_ERR_CRYPTO;
}

int sc_transcript_hash(const sc_transcript *t, uint8_t out[SC_HASH_LEN])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c != NULL && EVP_MD_CTX_copy_ex(c, t->md) && EVP_DigestFinal_ex(c, out, NULL);
    EVP_MD_CTX_free(c);
    return ok ? SC_OK : SC_ERR_CRYPTO;
}

void sc_transcript_clear(sc_transcript *t)
{
    EVP_MD_CTX_free(t->md);
    t->md = NULL;
}

/* ---- AEAD ------------------------------------------------------------ */

int sc_aead_init(sc_aead *a, int suite, const uint8_t key[SC_KEY_LEN], const uint8_t iv[SC_IV_LEN],
                 int enc)
{
    if (!algs_ready()) return SC_ERR_CRYPTO;
    const EVP_CIPHER *c = suite == SC_SUITE_AES_256_GCM         ? algs.aes_gcm
                          : suite == SC_SUITE_CHACHA20_POLY1305 ? algs.chacha
                                                                : NULL;
    if (c == NULL) return SC_ERR_ARG;
    if (a->ctx == NULL && (a->ctx = EVP_CIPHER_CTX_new()) == NULL) return SC_ERR_NOMEM;
    /* The key is set once; each record only sets its nonce (aead_set_nonce). */
    if (!EVP_CipherInit_ex(a->ctx, c, NULL, key, NULL, enc)) return SC_ERR_CRYPTO;
    /*
     * Both providers take a whole 12-byte nonce as the "fixed IV" parameter:
     * ChaCha20-Poly1305 as exactly 12 bytes, AES-GCM as length (size_t)-1,
     * which restores the whole IV (what EVP_CTRL_AEAD_SET_IV_FIXED with -1
     * passes down).
     */
    a->nonce_param_len = suite == SC_SUITE_AES_256_GCM ? (size_t)-1 : SC_IV_LEN;
    memcpy(a->iv, iv, SC_IV_LEN);
    a->seq = 0;
    a->enc = enc;
    a->split = suite == SC_SUITE_AES_256_GCM;
    return SC_OK;
}

/* PROTOCOL.md 5.2: the per-record nonce is the IV XOR the 64-bit sequence number, right-aligned. */
static void aead_nonce(const sc_aead *a, uint8_t nonce[SC_IV_LEN])
{
    memcpy(nonce, a->iv, SC_IV_LEN);
    for (int i = 0; i < 8; i++)
        nonce[SC_IV_LEN - 1 - i] ^= (uint8_t)(a->seq >> (8 * i));
}

/*
 * Starts a record: sets its nonce and, when opening, the expected tag, in one
 * call to the provider, keeping the key schedule. A full
 * EVP_CipherInit_ex2(ctx, NULL, NULL, nonce, ...) per record does the same
 * but first asks the provider for the IV length through OSSL_PARAM, and the
 * tag through EVP_CIPHER_CTX_ctrl builds its OSSL_PARAM again each time:
 * together about a third of the AEAD's cost on a 100-byte record (measured
 * in bench/README.md). Both providers reset their per-message state here
 * (GCM marks the IV buffered, ChaCha20-Poly1305 starts a new MAC at the next
 * update); tests/test_crypto.c checks every record against a full
 * re-initialisation, so a provider that did not would fail there.
 */
static int aead_start(sc_aead *a, const uint8_t nonce[SC_IV_LEN], const uint8_t *tag)
{
    OSSL_PARAM p[3] = {{OSSL_CIPHER_PARAM_AEAD_TLS1_IV_FIXED, OSSL_PARAM_OCTET_STRING,
                        (void *)nonce, a->nonce_param_len, OSSL_PARAM_UNMODIFIED},
                       {OSSL_CIPHER_PARAM_AEAD_TAG, OSSL_PARAM_OCTET_STRING, (void *)tag,
                        SC_TAG_LEN, OSSL_PARAM_UNMODIFIED},
                       OSSL_PARAM_END};
    if (tag == NULL) p[1] = p[2];
    return EVP_CIPHER_CTX_set_params(a->ctx, p);
}

int sc_aead_seal(sc_aead *a, const uint8_t *aad, size_t aad_len, uint8_t *buf, size_t len,
                 uint8_t tag[SC_TAG_LEN])
{
    return sc_aead_seal2(a, aad, aad_len, buf, len, NULL, 0, tag);
}

/*
 * How the tail gets into buf, decided by measurement (bench/README.md,
 * "Bulk records"): AES-GCM encrypts it straight from the caller's memory,
 * once the head is padded to a 64-byte boundary with its first bytes (an
 * update split inside a block was slower); OpenSSL's ChaCha20-Poly1305
 * runs its fast path only on a single update, so there the tail is copied
 * after the head and the whole sealed at once, which still beat the split.
 */
#define SC_AEAD_SPLIT_ALIGN 64

static int aead_seal_parts(sc_aead *a, uint8_t *buf, size_t len, const uint8_t *tail,
                           size_t tail_len)
{
    int outl;
    size_t fill = a->split ? (SC_AEAD_SPLIT_ALIGN - len % SC_AEAD_SPLIT_ALIGN) % SC_AEAD_SPLIT_ALIGN
                           : tail_len;
    if (fill > tail_len) fill = tail_len;
    if (fill > 0) memcpy(buf + len, tail, fill);
    len += fill;
    tail += fill;
    tail_len -= fill;
    return (len == 0 || EVP_CipherUpdate(a->ctx, buf, &outl, buf, (int)len)) &&
           (tail_len == 0 || EVP_CipherUpdate(a->ctx, buf + len, &outl, tail, (int)tail_len));
}

int sc_aead_seal2(sc_aead *a, const uint8_t *aad, size_t aad_len, uint8_t *buf, size_t len,
                  const uint8_t *tail, size_t tail_len, uint8_t tag[SC_TAG_LEN])
{
    uint8_t nonce[SC_IV_LEN];
    OSSL_PARAM get_tag[2] = {{OSSL_CIPHER_PARAM_AEAD_TAG, OSSL_PARAM_OCTET_STRING, tag, SC_TAG_LEN,
                              OSSL_PARAM_UNMODIFIED},
                             OSSL_PARAM_END};
    int outl;
    if (a->seq == UINT64_MAX) return SC_ERR_STATE; /* a nonce must never repeat */
    if (len > INT_MAX || tail_len > INT_MAX - len || aad_len > INT_MAX) return SC_ERR_ARG;
    aead_nonce(a, nonce);
    if (!aead_start(a, nonce, NULL) || !EVP_CipherUpdate(a->ctx, NULL, &outl, aad, (int)aad_len) ||
        !aead_seal_parts(a, buf, len, tail, tail_len) ||
        !EVP_CipherFinal_ex(a->ctx, buf + len + tail_len, &outl) ||
        !EVP_CIPHER_CTX_get_params(a->ctx, get_tag)) {
        OPENSSL_cleanse(buf, len + tail_len); /* plaintext may be left in buf */
        return SC_ERR_CRYPTO;
    }
    a->seq++;
    return SC_OK;
}

int sc_aead_open(sc_aead *a, const uint8_t *aad, size_t aad_len, const uint8_t *in, uint8_t *out,
                 size_t len, const uint8_t tag[SC_TAG_LEN])
{
    uint8_t nonce[SC_IV_LEN];
    int outl;
    if (a->seq == UINT64_MAX) return SC_ERR_BAD_RECORD_MAC;
    if (len > INT_MAX || aad_len > INT_MAX) return SC_ERR_ARG;
    aead_nonce(a, nonce);
    if (!aead_start(a, nonce, tag) || !EVP_CipherUpdate(a->ctx, NULL, &outl, aad, (int)aad_len) ||
        !EVP_CipherUpdate(a->ctx, out, &outl, in, (int)len))
        return SC_ERR_CRYPTO;
    /* The tag check happens in Final; failure means forged, replayed or reordered. */
    if (EVP_CipherFinal_ex(a->ctx, out + outl, &outl) <= 0) {
        OPENSSL_cleanse(out, len);
        return SC_ERR_BAD_RECORD_MAC;
    }
    a->seq++;
    return SC_OK;
}

void sc_aead_clear(sc_aead *a)
{
    EVP_CIPHER_CTX_free(a->ctx); /* wipes the expanded key */
    OPENSSL_cleanse(a, sizeof *a);
}

/* ---- key exchange ------------------------------------------------------ */

size_t sc_kex_pub_len(int group)
{
    return group == SC_GROUP_X25519 ? 32 : group == SC_GROUP_P256 ? 65 : 0;
}

/*
 * Frees params after wiping every value in them: they hold a copy of the
 * private scalar (issue 6, finding 9). OSSL_PARAM_clear_free() only came
 * with OpenSSL 3.2, and OSSL_PARAM_free() wipes only values the builder put
 * in the secure heap, which a scalar from BN_bin2bn() is not.
 */
static void params_wipe_free(OSSL_PARAM *params)
{
    for (OSSL_PARAM *q = params; q != NULL && q->key != NULL; q++)
        if (q->data != NULL) OPENSSL_cleanse(q->data, q->data_size);
    OSSL_PARAM_free(params);
}

/* P-256 from a caller-chosen scalar: compute the public point, then import both. */
static int p256_from_scalar(sc_kex_key *k, const uint8_t rnd[32])
{
    int ret = SC_ERR_CRYPTO;
    EC_GROUP *grp = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    BIGNUM *d = BN_bin2bn(rnd, 32, NULL);
    EC_POINT *pt = grp ? EC_POINT_new(grp) : NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    if (!grp || !d || !pt || !bld) goto out;
    /* A scalar of 0 or >= n would be rejected by any peer; 2^-32 odds, so fail loudly. */
    if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(grp)) >= 0) {
        ret = SC_ERR_RANDOM;
        goto out;
    }
    if (!EC_POINT_mul(grp, pt, d, NULL, NULL, NULL) ||
        EC_POINT_point2oct(grp, pt, POINT_CONVERSION_UNCOMPRESSED, k->pub, 65, NULL) != 65)
        goto out;
    if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, k->pub, 65) ||
        (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
        goto out;
    pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (pctx && EVP_PKEY_fromdata_init(pctx) > 0 &&
        EVP_PKEY_fromdata(pctx, &k->priv, EVP_PKEY_KEYPAIR, params) > 0) {
        k->pub_len = 65;
        ret = SC_OK;
    }
out:
    EVP_PKEY_CTX_free(pctx);
    params_wipe_free(params);
    OSSL_PARAM_BLD_free(bld);
    EC_POINT_free(pt);
    BN_clear_free(d);
    EC_GROUP_free(grp);
    return ret;
}

int sc_kex_keygen(sc_kex_key *k, int group, const uint8_t rnd[32])
{
    memset(k, 0, sizeof *k);
    k->group = group;
    if (group == SC_GROUP_X25519) {
        size_t len = 32;
        k->priv = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, rnd, 32);
        if (k->priv == NULL || !EVP_PKEY_get_raw_public_key(k->priv, k->pub, &len))
            return SC_ERR_CRYPTO;
        k->pub_len = len;
        return SC_OK;
    }
    if (group == SC_GROUP_P256) return p256_from_scalar(k, rnd);
    return SC_ERR_ARG;
}

int sc_ossl_nomem(unsigned long before)
{
    /* With a queue empty before the call, the oldest error is the root cause. */
    unsigned long first = before == 0 ? ERR_peek_error() : 0, last = ERR_peek_last_error();
    return ERR_GET_REASON(first) == ERR_R_MALLOC_FAILURE ||
           ERR_GET_REASON(last) == ERR_R_MALLOC_FAILURE;
}

/* After an OpenSSL call failed on the peer's input: the peer's error, or ours. */
static int peer_or_nomem(unsigned long before, int peer_err)
{
    return sc_ossl_nomem(before) ? SC_ERR_NOMEM : peer_err;
}

/* The peer's public value, or an error: SC_ERR_ILLEGAL_PARAMETER for a bad one. */
static int import_peer(int group, const uint8_t *peer, size_t len, EVP_PKEY **out)
{
    unsigned long before = ERR_peek_error();
    if (group == SC_GROUP_X25519) {
        if (len != 32) return SC_ERR_ILLEGAL_PARAMETER;
        /* Any 32 bytes are an X25519 public value: a failure here is memory. */
        *out = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, 32);
        return *out != NULL ? SC_OK : SC_ERR_NOMEM;
    }
    if (len != 65 || peer[0] != 4) return SC_ERR_ILLEGAL_PARAMETER; /* uncompressed points only */
    OSSL_PARAM params[3] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)peer, len),
        OSSL_PARAM_construct_end()};
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    int ret = SC_ERR_NOMEM;
    /* fromdata checks that the point lies on the curve. */
    if (pctx != NULL && EVP_PKEY_fromdata_init(pctx) > 0)
        ret = EVP_PKEY_fromdata(pctx, out, EVP_PKEY_PUBLIC_KEY, params) > 0
                  ? SC_OK
                  : peer_or_nomem(before, SC_ERR_ILLEGAL_PARAMETER);
    EVP_PKEY_CTX_free(pctx);
    return ret;
}

int sc_kex_derive(const sc_kex_key *k, const uint8_t *peer, size_t peer_len,
                  uint8_t out[SC_HASH_LEN])
{
    EVP_PKEY *pp = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    size_t olen = SC_HASH_LEN;
    int ret;
    unsigned long before = ERR_peek_error();
    (void)ERR_set_mark(); /* the peer's value may fail inside OpenSSL: drop its errors */
    if ((ret = import_peer(k->group, peer, peer_len, &pp)) != SC_OK) goto out;
    ret = SC_ERR_NOMEM;
    if ((pctx = EVP_PKEY_CTX_new(k->priv, NULL)) == NULL || EVP_PKEY_derive_init(pctx) <= 0)
        goto out;
    /* set_peer and derive refuse a point of small order (X25519: an all-zero result). */
    ret = SC_ERR_ILLEGAL_PARAMETER;
    if (EVP_PKEY_derive_set_peer(pctx, pp) <= 0 || EVP_PKEY_derive(pctx, out, &olen) <= 0 ||
        olen != SC_HASH_LEN) {
        ret = peer_or_nomem(before, SC_ERR_ILLEGAL_PARAMETER);
        goto out;
    }
    /* An all-zero result means a low-order peer point (RFC 7748 section 6.1). */
    static const uint8_t zeros[SC_HASH_LEN];
    ret = CRYPTO_memcmp(out, zeros, SC_HASH_LEN) != 0 ? SC_OK : SC_ERR_ILLEGAL_PARAMETER;
out:
    EVP_PKEY_CTX_free(pctx);
    EVP_PKEY_free(pp);
    (void)ERR_pop_to_mark();
    return ret;
}

void sc_kex_clear(sc_kex_key *k)
{
    EVP_PKEY_free(k->priv);
    OPENSSL_cleanse(k, sizeof *k);
}

/* ---- signatures ---------------------------------------------------------- */

int sc_sigalg_for_key(EVP_PKEY *key)
{
    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_ED25519:
        return SC_SIG_ED25519;
    case EVP_PKEY_RSA:
        return EVP_PKEY_get_bits(key) >= 2048 ? SC_SIG_RSA_PSS_SHA256 : 0;
    case EVP_PKEY_EC: {
        char name[32];
        if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name,
                                            NULL))
            return 0;
        if (strcmp(name, "prime256v1") == 0) return SC_SIG_ECDSA_P256_SHA256;
        if (strcmp(name, "secp384r1") == 0) return SC_SIG_ECDSA_P384_SHA384;
        return 0;
    }
    default:
        return 0;
    }
}

static const EVP_MD *sig_md(int alg)
{
    switch (alg) {
    case SC_SIG_ECDSA_P256_SHA256:
    case SC_SIG_RSA_PSS_SHA256:
        return EVP_sha256();
    case SC_SIG_ECDSA_P384_SHA384:
        return EVP_sha384();
    default:
        return NULL; /* Ed25519 hashes internally */
    }
}

static int sig_setup(EVP_MD_CTX *mctx, EVP_PKEY *key, int alg, int sign)
{
    EVP_PKEY_CTX *pctx = NULL;
    int ok = sign ? EVP_DigestSignInit(mctx, &pctx, sig_md(alg), NULL, key)
                  : EVP_DigestVerifyInit(mctx, &pctx, sig_md(alg), NULL, key);
    if (ok > 0 && alg == SC_SIG_RSA_PSS_SHA256)
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) > 0 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) > 0;
    return ok > 0;
}

int sc_sign(EVP_PKEY *key, int alg, const uint8_t *msg, size_t len, sc_buf *out)
{
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    size_t sig_len = 0;
    int ret = SC_ERR_CRYPTO;
    if (mctx == NULL) return SC_ERR_NOMEM;
    if (sig_setup(mctx, key, alg, 1) && EVP_DigestSign(mctx, NULL, &sig_len, msg, len) > 0) {
        if (sc_buf_reserve(out, sig_len) != 0)
            ret = SC_ERR_NOMEM;
        else if (EVP_DigestSign(mctx, out->data + out->len, &sig_len, msg, len) > 0) {
            out->len += sig_len;
            ret = SC_OK;
        }
    }
    EVP_MD_CTX_free(mctx);
    return ret;
}

int sc_verify(EVP_PKEY *key, int alg, const uint8_t *msg, size_t len, const uint8_t *sig,
              size_t sig_len)
{
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    int ret = SC_ERR_DECRYPT_ERROR;
    if (mctx == NULL) return SC_ERR_NOMEM;
    unsigned long before = ERR_peek_error();
    (void)ERR_set_mark(); /* a bad signature pushes errors: drop them */
    /* The key and algorithm were checked with the certificate: a setup failure is ours. */
    if (!sig_setup(mctx, key, alg, 0)) {
        ret = SC_ERR_NOMEM;
    } else {
        int r = EVP_DigestVerify(mctx, sig, sig_len, msg, len);
        ret = r == 1 ? SC_OK : peer_or_nomem(before, SC_ERR_DECRYPT_ERROR);
    }
    (void)ERR_pop_to_mark();
    EVP_MD_CTX_free(mctx);
    return ret;
}

/* ---- key transport ----------------------------------------------------- */

static EVP_PKEY_CTX *oaep_ctx(EVP_PKEY *key, int enc)
{
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new(key, NULL);
    if (pctx == NULL) return NULL;
    if ((enc ? EVP_PKEY_encrypt_init(pctx) : EVP_PKEY_decrypt_init(pctx)) <= 0 ||
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
        EVP_PKEY_CTX_set_rsa_oaep_md(pctx, EVP_sha256()) <= 0 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) <= 0) {
        EVP_PKEY_CTX_free(pctx);
        return NULL;
    }
    return pctx;
}

int sc_oaep_encrypt(EVP_PKEY *pub, const uint8_t *in, size_t len, sc_buf *out)
{
    EVP_PKEY_CTX *pctx;
    size_t olen = 0;
    int ret = SC_ERR_CRYPTO;
    if (EVP_PKEY_get_base_id(pub) != EVP_PKEY_RSA) return SC_ERR_HANDSHAKE_FAILURE;
    if ((pctx = oaep_ctx(pub, 1)) == NULL) return SC_ERR_CRYPTO;
    if (EVP_PKEY_encrypt(pctx, NULL, &olen, in, len) > 0) {
        if (sc_buf_reserve(out, olen) != 0)
            ret = SC_ERR_NOMEM;
        else if (EVP_PKEY_encrypt(pctx, out->data + out->len, &olen, in, len) > 0) {
            out->len += olen;
            ret = SC_OK;
        }
    }
    EVP_PKEY_CTX_free(pctx);
    return ret;
}

int sc_oaep_decrypt(EVP_PKEY *priv, const uint8_t *in, size_t len, uint8_t *out, size_t out_len)
{
    uint8_t tmp[1024]; /* RSA up to 8192 bits */
    size_t olen = sizeof tmp;
    int ret = SC_ERR_DECRYPT_ERROR;
    EVP_PKEY_CTX *pctx = oaep_ctx(priv, 0);
    if (pctx == NULL) return SC_ERR_CRYPTO;
    unsigned long before = ERR_peek_error();
    (void)ERR_set_mark(); /* a ciphertext that does not decrypt pushes errors: drop them */
    if (len <= sizeof tmp && EVP_PKEY_decrypt(pctx, tmp, &olen, in, len) > 0 && olen == out_len) {
        memcpy(out, tmp, out_len);
        ret = SC_OK;
    } else {
        ret = peer_or_nomem(before, SC_ERR_DECRYPT_ERROR);
    }
    (void)ERR_pop_to_mark();
    OPENSSL_cleanse(tmp, sizeof tmp);
    EVP_PKEY_CTX_free(pctx);
    return ret;
}
