/*
 * irpd_secret.c - password hashes and enrolment tokens. The interface, the
 * encoding and every error are documented in irpd_secret.h.
 *
 * scrypt is OpenSSL's (EVP_KDF "SCRYPT"), base64 is sc_base64 (strict and
 * canonical, so a stored hash has exactly one spelling), comparison is
 * CRYPTO_memcmp. The parser reads the encoding field by field, bounds every
 * number before using it, and never allocates.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "sixchat/error.h"
#include "sc_base64.h"
#include "sc_buf.h"
#include "irpd_secret.h"

#define PW_SCHEME "scrypt"
#define B64_MAX 88 /* base64 of IRPD_PW_DK_MAX bytes */

/* Parameters and bytes of one hash, as parsed or about to be encoded. */
typedef struct pw_params {
    unsigned log2n;
    uint32_t r, p;
    uint8_t salt[IRPD_PW_DK_MAX];
    size_t salt_len;
    uint8_t dk[IRPD_PW_DK_MAX];
    size_t dk_len;
} pw_params;

static void pw_params_wipe(pw_params *pp)
{
    OPENSSL_cleanse(pp, sizeof *pp);
}

/* Memory scrypt needs (RFC 7914: 128 r N for V, 128 r p for B), with room for its work space. */
static uint64_t scrypt_mem(unsigned log2n, uint32_t r, uint32_t p)
{
    return 128u * (uint64_t)r * (((uint64_t)1 << log2n) + p + 2);
}

static int params_in_bounds(const pw_params *pp)
{
    return pp->log2n >= IRPD_PW_LOG2N_MIN && pp->log2n <= IRPD_PW_LOG2N_MAX && pp->r >= 1 &&
           pp->r <= IRPD_PW_R_MAX && pp->p >= 1 && pp->p <= IRPD_PW_P_MAX &&
           scrypt_mem(pp->log2n, pp->r, pp->p) <= IRPD_PW_MAXMEM &&
           pp->salt_len >= IRPD_PW_SALT_MIN && pp->salt_len <= IRPD_PW_DK_MAX &&
           pp->dk_len >= IRPD_PW_DK_MIN && pp->dk_len <= IRPD_PW_DK_MAX;
}

/* scrypt(pw, salt, N, r, p) into out[0..out_len). Returns 0 or an sc_err. */
static int scrypt_derive(const char *pw, size_t pw_len, const pw_params *pp, uint8_t *out,
                         size_t out_len)
{
    EVP_KDF *kdf = NULL;
    EVP_KDF_CTX *kctx = NULL;
    OSSL_PARAM params[7], *q = params;
    uint64_t n = (uint64_t)1 << pp->log2n;
    uint32_t r = pp->r, p = pp->p;
    /*
     * OpenSSL's default limit (32 MiB) is just below what N=2^15, r=8 needs
     * (128 r (N + 2) bytes): give exactly what the parameters need.
     */
    uint64_t maxmem = scrypt_mem(pp->log2n, r, p) + 4096;
    int ret = SC_ERR_CRYPTO;

    ERR_set_mark();
    kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
    kctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    if (kctx == NULL) goto out;
    /* The password may be empty in the dummy check; OSSL_PARAM wants a non-NULL pointer. */
    *q++ =
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)(pw ? pw : ""), pw_len);
    *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)pp->salt, pp->salt_len);
    *q++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
    *q++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r);
    *q++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p);
    *q++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem);
    *q = OSSL_PARAM_construct_end();
    if (EVP_KDF_derive(kctx, out, out_len, params) == 1) ret = SC_OK;
out:
    if (ret != SC_OK) OPENSSL_cleanse(out, out_len);
    EVP_KDF_CTX_free(kctx); /* the context wipes its copy of the password */
    EVP_KDF_free(kdf);
    ERR_pop_to_mark();
    return ret;
}

/* ---- the encoding ---------------------------------------------------------- */

/* A decimal number of 1..3 digits without a leading zero, into *v. */
static int parse_small_uint(const char *s, size_t n, uint32_t *v)
{
    uint32_t x = 0;

    if (n == 0 || n > 3 || (s[0] == '0' && n > 1)) return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        x = x * 10 + (uint32_t)(s[i] - '0');
    }
    *v = x;
    return 1;
}

/*
 * Splits "scrypt$L$R$P$SALT$DK" into its six fields (no empty field, no
 * seventh) and parses them into *pp. Returns 1 or 0.
 */
static int pw_parse(const char *enc, pw_params *pp)
{
    const char *field[6];
    size_t flen[6], nf = 0, total;
    const char *s = enc, *end;
    uint32_t log2n;
    long n;

    memset(pp, 0, sizeof *pp);
    if (enc == NULL) return 0;
    total = strnlen(enc, IRPD_PW_ENCODED_MAX + 1);
    if (total > IRPD_PW_ENCODED_MAX) return 0;
    end = enc + total;
    while (nf < 6) {
        const char *d = memchr(s, '$', (size_t)(end - s));
        const char *fe = d != NULL ? d : end;
        field[nf] = s;
        flen[nf] = (size_t)(fe - s);
        nf++;
        if (d == NULL) break;
        s = d + 1;
    }
    if (nf != 6 || field[5] + flen[5] != end) return 0;
    if (flen[0] != strlen(PW_SCHEME) || memcmp(field[0], PW_SCHEME, flen[0]) != 0) return 0;
    if (!parse_small_uint(field[1], flen[1], &log2n) ||
        !parse_small_uint(field[2], flen[2], &pp->r) ||
        !parse_small_uint(field[3], flen[3], &pp->p))
        return 0;
    pp->log2n = log2n;
    if (flen[4] > B64_MAX || flen[5] > B64_MAX) return 0;
    n = sc_base64_decode(field[4], flen[4], pp->salt, sizeof pp->salt);
    if (n < 0) return 0;
    pp->salt_len = (size_t)n;
    n = sc_base64_decode(field[5], flen[5], pp->dk, sizeof pp->dk);
    if (n < 0) return 0;
    pp->dk_len = (size_t)n;
    return params_in_bounds(pp);
}

/* Writes the encoding of *pp into out (cap bytes, NUL-terminated). Returns 0 or an sc_err. */
static int pw_encode(const pw_params *pp, char *out, size_t cap)
{
    sc_buf b;
    char head[48];
    int ret = SC_ERR_NOMEM;

    sc_buf_init(&b, IRPD_PW_ENCODED_MAX);
    snprintf(head, sizeof head, PW_SCHEME "$%u$%u$%u$", pp->log2n, (unsigned)pp->r,
             (unsigned)pp->p);
    sc_buf_put_str(&b, head);
    sc_base64_encode(&b, pp->salt, pp->salt_len);
    sc_buf_put_u8(&b, '$');
    sc_base64_encode(&b, pp->dk, pp->dk_len);
    if (!sc_buf_ok(&b)) goto out;
    ret = SC_ERR_TOO_LARGE;
    if (b.len + 1 > cap) goto out;
    memcpy(out, b.data, b.len);
    out[b.len] = '\0';
    ret = SC_OK;
out:
    sc_buf_dispose(&b); /* wipes the copy of the derived key */
    return ret;
}

/* ---- passwords ------------------------------------------------------------- */

int irpd_pw_hash(const char *pw, size_t len, char *out, size_t cap)
{
    pw_params pp;
    int ret;

    if (out != NULL && cap > 0) out[0] = '\0';
    if (pw == NULL || len == 0 || len > IRPD_PW_MAX || out == NULL) return SC_ERR_ARG;
    memset(&pp, 0, sizeof pp);
    pp.log2n = IRPD_PW_LOG2N;
    pp.r = IRPD_PW_R;
    pp.p = IRPD_PW_P;
    pp.salt_len = IRPD_PW_SALT_LEN;
    pp.dk_len = IRPD_PW_HASH_LEN;
    ret = SC_ERR_RANDOM;
    if (RAND_bytes(pp.salt, (int)pp.salt_len) != 1) goto out;
    ret = scrypt_derive(pw, len, &pp, pp.dk, pp.dk_len);
    if (ret == SC_OK) ret = pw_encode(&pp, out, cap);
out:
    pw_params_wipe(&pp);
    return ret;
}

int irpd_pw_verify(const char *pw, size_t len, const char *encoded)
{
    pw_params pp;
    uint8_t dk[IRPD_PW_DK_MAX];
    int ret, usable = pw != NULL && len > 0 && len <= IRPD_PW_MAX;

    if (encoded == NULL) {
        /* No such user: the same work with the current parameters, then a refusal. */
        memset(&pp, 0, sizeof pp);
        pp.log2n = IRPD_PW_LOG2N;
        pp.r = IRPD_PW_R;
        pp.p = IRPD_PW_P;
        pp.salt_len = IRPD_PW_SALT_LEN;
        pp.dk_len = IRPD_PW_HASH_LEN;
    } else if (!pw_parse(encoded, &pp)) {
        pw_params_wipe(&pp);
        return SC_ERR_PARSE;
    }
    /* An unusable password still costs a derivation: refusing it fast would be an oracle. */
    ret = scrypt_derive(usable ? pw : "", usable ? len : 0, &pp, dk, pp.dk_len);
    if (ret == SC_OK) {
        int same = CRYPTO_memcmp(dk, pp.dk, pp.dk_len) == 0;
        ret = same && usable && encoded != NULL ? IRPD_SECRET_OK : IRPD_SECRET_MISMATCH;
    }
    OPENSSL_cleanse(dk, sizeof dk);
    pw_params_wipe(&pp);
    return ret;
}

int irpd_pw_needs_rehash(const char *encoded)
{
    pw_params pp;
    int r = !pw_parse(encoded, &pp) || pp.log2n != IRPD_PW_LOG2N || pp.r != IRPD_PW_R ||
            pp.p != IRPD_PW_P || pp.salt_len != IRPD_PW_SALT_LEN || pp.dk_len != IRPD_PW_HASH_LEN;

    pw_params_wipe(&pp);
    return r;
}

/* ---- enrolment tokens ------------------------------------------------------ */

int irpd_token_new(char out[IRPD_TOKEN_LEN + 1])
{
    uint8_t raw[IRPD_TOKEN_BYTES];
    sc_buf b;
    int ret = SC_ERR_RANDOM;

    if (out == NULL) return SC_ERR_ARG;
    out[0] = '\0';
    sc_buf_init(&b, 0);
    if (RAND_bytes(raw, sizeof raw) != 1) goto out;
    sc_base64_encode(&b, raw, sizeof raw);
    ret = SC_ERR_NOMEM;
    if (!sc_buf_ok(&b)) goto out;
    /* Standard base64 of 16 bytes is 22 symbols and "==": map to base64url, drop the padding. */
    for (size_t i = 0; i < IRPD_TOKEN_LEN; i++) {
        char c = (char)b.data[i];
        out[i] = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    out[IRPD_TOKEN_LEN] = '\0';
    ret = SC_OK;
out:
    OPENSSL_cleanse(raw, sizeof raw);
    sc_buf_dispose(&b);
    return ret;
}

static int b64url_value(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

int irpd_token_valid(const char *s, size_t len)
{
    int v = 0;

    if (s == NULL || len != IRPD_TOKEN_LEN) return 0;
    for (size_t i = 0; i < len; i++) {
        if ((v = b64url_value(s[i])) < 0) return 0;
    }
    /* 22 symbols carry 132 bits: the last symbol's low 4 bits are not part of the 128. */
    return (v & 15) == 0;
}

int irpd_token_hash(const char *s, size_t len, uint8_t out[IRPD_TOKEN_HASH_LEN])
{
    int r;

    if (out == NULL) return SC_ERR_ARG;
    if (!irpd_token_valid(s, len)) return SC_ERR_PARSE;
    ERR_set_mark();
    r = EVP_Digest(s, len, out, NULL, EVP_sha256(), NULL);
    ERR_pop_to_mark();
    return r == 1 ? SC_OK : SC_ERR_CRYPTO;
}
