/*
 * test_crypto.c - the OpenSSL adapter (sc_crypto.c) and the key schedule
 * (sc_keysched.c): HKDF against RFC 5869 and against OpenSSL's own HKDF,
 * AEAD round trips and forgeries, key exchange, signatures, OAEP.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include "sc_crypto.h"
#include "sc_keysched.h"
#include "sc_testcert.h"
#include "sixchat/error.h"

static void unhex(const char *h, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sscanf(h + 2 * i, "%2hhx", &out[i]);
}

/* RFC 5869 A.1: the PRK. */
static void test_hkdf_extract_rfc5869(void **st)
{
    uint8_t ikm[22], salt[13], prk[32], want[32];
    memset(ikm, 0x0b, sizeof ikm);
    for (int i = 0; i < 13; i++)
        salt[i] = (uint8_t)i;
    unhex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5", want, 32);
    assert_int_equal(sc_hkdf_extract(salt, sizeof salt, ikm, sizeof ikm, prk), SC_OK);
    assert_memory_equal(prk, want, 32);
}

/* Our Expand-Label equals OpenSSL's HKDF-Expand over the documented HkdfLabel bytes. */
static void test_expand_label_matches_openssl(void **st)
{
    uint8_t secret[32], ctx[32], ours[32], theirs[32];
    for (int i = 0; i < 32; i++)
        secret[i] = (uint8_t)(i * 7), ctx[i] = (uint8_t)(255 - i);
    for (size_t len = 12; len <= 32; len += 20) {
        uint8_t info[64];
        size_t n = 0;
        info[n++] = 0;
        info[n++] = (uint8_t)len;
        info[n++] = 10;
        memcpy(info + n, "e2ed1 i hs", 10);
        n += 10;
        info[n++] = 32;
        memcpy(info + n, ctx, 32);
        n += 32;
        EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
        EVP_KDF_CTX *kc = EVP_KDF_CTX_new(kdf);
        int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
        OSSL_PARAM p[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
                          OSSL_PARAM_construct_int("mode", &mode),
                          OSSL_PARAM_construct_octet_string("key", secret, 32),
                          OSSL_PARAM_construct_octet_string("info", info, n),
                          OSSL_PARAM_construct_end()};
        assert_int_equal(EVP_KDF_derive(kc, theirs, len, p), 1);
        EVP_KDF_CTX_free(kc);
        EVP_KDF_free(kdf);
        assert_int_equal(sc_hkdf_expand_label(secret, "i hs", ctx, 32, ours, len), SC_OK);
        assert_memory_equal(ours, theirs, len);
    }
    assert_int_equal(sc_hkdf_expand_label(secret, "x", ctx, 32, ours, 33), SC_ERR_ARG);
}

static void aead_roundtrip(int suite)
{
    uint8_t key[32] = {1}, iv[12] = {2}, aad[4] = {2, 0, 0, 9}, buf[64], tag[16];
    sc_aead enc = {0}, dec = {0};
    assert_int_equal(sc_aead_init(&enc, suite, key, iv, 1), SC_OK);
    assert_int_equal(sc_aead_init(&dec, suite, key, iv, 0), SC_OK);
    for (int round = 0; round < 3; round++) {
        memset(buf, 'a' + round, sizeof buf);
        assert_int_equal(sc_aead_seal(&enc, aad, 4, buf, sizeof buf, tag), SC_OK);
        uint8_t plain[64];
        memset(plain, 'a' + round, sizeof plain);
        assert_memory_not_equal(buf, plain, sizeof buf);
        if (round == 1) { /* a forged tag fails and does not advance the sequence */
            tag[0] ^= 1;
            uint8_t copy[64];
            memcpy(copy, buf, 64);
            assert_int_equal(sc_aead_open(&dec, aad, 4, copy, copy, 64, tag),
                             SC_ERR_BAD_RECORD_MAC);
            tag[0] ^= 1;
        }
        assert_int_equal(sc_aead_open(&dec, aad, 4, buf, buf, sizeof buf, tag), SC_OK);
        for (size_t i = 0; i < sizeof buf; i++)
            assert_int_equal(buf[i], 'a' + round);
    }
    assert_int_equal(enc.seq, 3);
    sc_aead_clear(&enc);
    sc_aead_clear(&dec);
}

static void test_aead_aes(void **st)
{
    aead_roundtrip(SC_SUITE_AES_256_GCM);
}
static void test_aead_chacha(void **st)
{
    aead_roundtrip(SC_SUITE_CHACHA20_POLY1305);
}

/*
 * sc_aead sets each record's nonce (and, opening, its tag) on a context
 * keyed once; it must give exactly what a context initialised afresh with
 * key and nonce gives, record after record and after a re-key (PROTOCOL.md
 * 5.2, 5.4). The reference below is independent: a new context per record.
 */
static void reference_seal(int suite, const uint8_t key[32], const uint8_t nonce[12],
                           const uint8_t *aad, const uint8_t *in, uint8_t *out, int len,
                           uint8_t tag[16])
{
    EVP_CIPHER *c = EVP_CIPHER_fetch(
        NULL, suite == SC_SUITE_AES_256_GCM ? "AES-256-GCM" : "ChaCha20-Poly1305", NULL);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0;
    assert_non_null(c);
    assert_non_null(ctx);
    assert_int_equal(EVP_EncryptInit_ex2(ctx, c, key, nonce, NULL), 1);
    assert_int_equal(EVP_EncryptUpdate(ctx, NULL, &n, aad, 4), 1);
    assert_int_equal(EVP_EncryptUpdate(ctx, out, &n, in, len), 1);
    assert_int_equal(EVP_EncryptFinal_ex(ctx, out + n, &n), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag), 1);
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(c);
}

static void aead_matches_fresh_context(int suite)
{
    static const int lens[] = {100, 0, 1, 15, 64, 112, 1000, 16400, 100};
    uint8_t key[32], iv[12], aad[4] = {2, 0, 0, 0}, nonce[12], tag[16], ref_tag[16];
    static uint8_t plain[16400], buf[16400], ref[16400];
    for (size_t i = 0; i < sizeof plain; i++)
        plain[i] = (uint8_t)(i * 7 + 3);
    for (int k = 0; k < 2; k++) { /* a second key: the re-key path (sc_dir_update) */
        sc_aead enc = {0}, dec = {0};
        memset(key, 0x40 + k, sizeof key);
        memset(iv, 0x90 - k, sizeof iv);
        assert_int_equal(sc_aead_init(&enc, suite, key, iv, 1), SC_OK);
        assert_int_equal(sc_aead_init(&dec, suite, key, iv, 0), SC_OK);
        for (size_t r = 0; r < sizeof lens / sizeof lens[0]; r++) {
            int len = lens[r];
            memcpy(nonce, iv, 12);
            nonce[11] ^= (uint8_t)r;
            aad[3] = (uint8_t)r;
            reference_seal(suite, key, nonce, aad, plain, ref, len, ref_tag);
            memcpy(buf, plain, (size_t)len);
            assert_int_equal(sc_aead_seal(&enc, aad, 4, buf, (size_t)len, tag), SC_OK);
            assert_memory_equal(buf, ref, (size_t)len);
            assert_memory_equal(tag, ref_tag, 16);
            /* Opening the reference's output, not our own: both directions checked. */
            assert_int_equal(sc_aead_open(&dec, aad, 4, ref, buf, (size_t)len, ref_tag), SC_OK);
            assert_memory_equal(buf, plain, (size_t)len);
        }
        /* The next nonce is fixed now: a record sealed for another one does not open. */
        memcpy(nonce, iv, 12);
        nonce[11] ^= 0x55;
        reference_seal(suite, key, nonce, aad, plain, ref, 100, ref_tag);
        assert_int_equal(sc_aead_open(&dec, aad, 4, ref, buf, 100, ref_tag), SC_ERR_BAD_RECORD_MAC);
        sc_aead_clear(&enc);
        sc_aead_clear(&dec);
    }
}

/*
 * sc_aead_seal2 seals a head in place and a tail from the caller's memory
 * (the record layer's bulk path, sc_record.c): for every split of the
 * plaintext, including splits inside a cipher block, the bytes and the tag
 * are those of one seal of the whole.
 */
static void aead_split_matches_whole(int suite)
{
    static const size_t lens[] = {0, 1, 17, 100, 16399};
    uint8_t key[32], iv[12], aad[4] = {2, 0, 0, 0}, nonce[12], tag[16], ref_tag[16];
    static uint8_t plain[16400], buf[16400], ref[16400];
    for (size_t i = 0; i < sizeof plain; i++)
        plain[i] = (uint8_t)(i * 13 + 5);
    memset(key, 0x21, sizeof key);
    memset(iv, 0x7e, sizeof iv);
    sc_aead enc = {0};
    assert_int_equal(sc_aead_init(&enc, suite, key, iv, 1), SC_OK);
    uint64_t seq = 0;
    for (size_t r = 0; r < sizeof lens / sizeof lens[0]; r++) {
        size_t len = lens[r], splits[] = {0, 1, 15, 16, 17, len / 2, len};
        for (size_t j = 0; j < sizeof splits / sizeof splits[0]; j++, seq++) {
            size_t head = splits[j] < len ? splits[j] : len;
            memcpy(nonce, iv, 12);
            for (int b = 0; b < 8; b++)
                nonce[11 - b] ^= (uint8_t)(seq >> (8 * b));
            reference_seal(suite, key, nonce, aad, plain, ref, (int)len, ref_tag);
            memset(buf, 0xee, sizeof buf);
            memcpy(buf, plain, head);
            assert_int_equal(sc_aead_seal2(&enc, aad, 4, buf, head, plain + head, len - head, tag),
                             SC_OK);
            assert_memory_equal(buf, ref, len);
            assert_memory_equal(tag, ref_tag, 16);
            assert_int_equal(buf[len], 0xee); /* nothing written past the plaintext */
        }
    }
    sc_aead_clear(&enc);
}

static void test_aead_split_matches_whole(void **st)
{
    (void)st;
    aead_split_matches_whole(SC_SUITE_AES_256_GCM);
    aead_split_matches_whole(SC_SUITE_CHACHA20_POLY1305);
}

static void test_aead_aes_matches_fresh_context(void **st)
{
    aead_matches_fresh_context(SC_SUITE_AES_256_GCM);
}
static void test_aead_chacha_matches_fresh_context(void **st)
{
    aead_matches_fresh_context(SC_SUITE_CHACHA20_POLY1305);
}

static void kex_agree(int group)
{
    uint8_t ra[32], rb[32], sa[32], sb[32];
    sc_kex_key a, b;
    memset(ra, 0x11, 32);
    memset(rb, 0x22, 32);
    assert_int_equal(sc_kex_keygen(&a, group, ra), SC_OK);
    assert_int_equal(sc_kex_keygen(&b, group, rb), SC_OK);
    assert_int_equal(a.pub_len, sc_kex_pub_len(group));
    assert_int_equal(sc_kex_derive(&a, b.pub, b.pub_len, sa), SC_OK);
    assert_int_equal(sc_kex_derive(&b, a.pub, a.pub_len, sb), SC_OK);
    assert_memory_equal(sa, sb, 32);
    uint8_t bad[65] = {0}; /* X25519: a low-order point; P-256: not on the curve */
    if (group == SC_GROUP_P256) bad[0] = 4;
    assert_int_equal(sc_kex_derive(&a, bad, a.pub_len, sa), SC_ERR_ILLEGAL_PARAMETER);
    assert_int_equal(sc_kex_derive(&a, b.pub, b.pub_len - 1, sa), SC_ERR_ILLEGAL_PARAMETER);
    sc_kex_clear(&a);
    sc_kex_clear(&b);
}

static void test_kex_x25519(void **st)
{
    kex_agree(SC_GROUP_X25519);
}
static void test_kex_p256(void **st)
{
    kex_agree(SC_GROUP_P256);
}

static void sign_verify(sc_testkey_type t, int alg)
{
    EVP_PKEY *k = sc_testkey_new(t);
    sc_buf sig;
    sc_buf_init(&sig, 0);
    assert_int_equal(sc_sigalg_for_key(k), alg);
    assert_int_equal(sc_sign(k, alg, (const uint8_t *)"transcript", 10, &sig), SC_OK);
    assert_int_equal(sc_verify(k, alg, (const uint8_t *)"transcript", 10, sig.data, sig.len),
                     SC_OK);
    assert_int_equal(sc_verify(k, alg, (const uint8_t *)"transcripT", 10, sig.data, sig.len),
                     SC_ERR_DECRYPT_ERROR);
    sc_buf_dispose(&sig);
    EVP_PKEY_free(k);
}

static void test_signatures(void **st)
{
    sign_verify(SC_TESTKEY_ED25519, SC_SIG_ED25519);
    sign_verify(SC_TESTKEY_P256, SC_SIG_ECDSA_P256_SHA256);
    sign_verify(SC_TESTKEY_P384, SC_SIG_ECDSA_P384_SHA384);
    sign_verify(SC_TESTKEY_RSA2048, SC_SIG_RSA_PSS_SHA256);
    EVP_PKEY *small = sc_testkey_new(SC_TESTKEY_RSA1024);
    assert_int_equal(sc_sigalg_for_key(small), 0);
    EVP_PKEY_free(small);
}

static void test_oaep(void **st)
{
    EVP_PKEY *k = sc_testkey_new(SC_TESTKEY_RSA2048);
    uint8_t secret[32], back[32];
    sc_buf ct;
    sc_buf_init(&ct, 0);
    memset(secret, 0x5a, 32);
    assert_int_equal(sc_oaep_encrypt(k, secret, 32, &ct), SC_OK);
    assert_int_equal(ct.len, 256);
    assert_int_equal(sc_oaep_decrypt(k, ct.data, ct.len, back, 32), SC_OK);
    assert_memory_equal(secret, back, 32);
    ct.data[10] ^= 1;
    assert_int_equal(sc_oaep_decrypt(k, ct.data, ct.len, back, 32), SC_ERR_DECRYPT_ERROR);
    sc_buf_dispose(&ct);
    EVP_PKEY_free(k);
}

/* Key update changes the secret deterministically and never returns to the old one. */
static void test_key_update_chain(void **st)
{
    uint8_t s[32] = {9}, first[32];
    memcpy(first, s, 32);
    assert_int_equal(sc_ks_next(s), SC_OK);
    assert_memory_not_equal(s, first, 32);
    uint8_t again[32] = {9};
    assert_int_equal(sc_ks_next(again), SC_OK);
    assert_memory_equal(s, again, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hkdf_extract_rfc5869),
        cmocka_unit_test(test_expand_label_matches_openssl),
        cmocka_unit_test(test_aead_aes),
        cmocka_unit_test(test_aead_chacha),
        cmocka_unit_test(test_aead_aes_matches_fresh_context),
        cmocka_unit_test(test_aead_chacha_matches_fresh_context),
        cmocka_unit_test(test_aead_split_matches_whole),
        cmocka_unit_test(test_kex_x25519),
        cmocka_unit_test(test_kex_p256),
        cmocka_unit_test(test_signatures),
        cmocka_unit_test(test_oaep),
        cmocka_unit_test(test_key_update_chain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
