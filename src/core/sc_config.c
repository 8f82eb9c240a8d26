/*
 * sc_config.c - building an endpoint configuration (sixchat/config.h).
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include "sc_alloc.h"
#include "sc_base64.h"
#include "sc_config_int.h"
#include "sc_xml.h"

sc_config *sc_config_new(void)
{
    SC_ERRQ_GUARD;
    sc_config *cfg = sc__calloc(1, sizeof *cfg);
    if (cfg == NULL) return NULL;
    if (sc_policy_init(&cfg->policy) != SC_OK) {
        sc__free(cfg);
        return NULL;
    }
    sc_buf_init(&cfg->cert_msg, 0);
    cfg->suites[0] = SC_SUITE_AES_256_GCM;
    cfg->suites[1] = SC_SUITE_CHACHA20_POLY1305;
    cfg->n_suites = 2;
    cfg->groups[0] = SC_GROUP_X25519;
    cfg->n_groups = 1;
    cfg->hs_timeout_ms = SC_DEFAULT_HS_TIMEOUT_MS;
    cfg->ku_records = SC_DEFAULT_KU_RECORDS;
    cfg->ku_bytes = SC_DEFAULT_KU_BYTES;
    return cfg;
}

static void clear_identity(sc_config *cfg)
{
    X509_free(cfg->leaf);
    EVP_PKEY_free(cfg->key); /* OpenSSL wipes key material on free */
    cfg->leaf = NULL;
    cfg->key = NULL;
    cfg->sigalg = 0;
    cfg->user_id[0] = '\0';
    sc_buf_dispose(&cfg->cert_msg);
}

void sc_config_free(sc_config *cfg)
{
    SC_ERRQ_GUARD;
    if (cfg == NULL) return;
    clear_identity(cfg);
    sc_policy_free(&cfg->policy);
    OPENSSL_cleanse(cfg, sizeof *cfg);
    sc__free(cfg);
}

void sc_config_set_random(sc_config *cfg, sc_random_fn fn, void *ctx)
{
    cfg->rand = fn;
    cfg->rand_ctx = ctx;
}

int sc__config_random(const sc_config *cfg, uint8_t *out, size_t n)
{
    return cfg->rand(cfg->rand_ctx, out, n) == 0 ? SC_OK : SC_ERR_RANDOM;
}

/* Appends <c>B64(DER)</c> for one certificate. */
static int put_cert(sc_buf *b, X509 *x)
{
    unsigned char *der = NULL;
    int len = i2d_X509(x, &der);
    if (len <= 0) return SC_ERR_CRYPTO;
    int ret = len > SC_CERT_MAX_DER ? SC_ERR_CONFIG : SC_OK;
    if (ret == SC_OK) {
        sc_xml_w_open(b, "c");
        sc_xml_w_end_open(b);
        sc_base64_encode(b, der, (size_t)len);
        sc_xml_w_close(b, "c");
    }
    OPENSSL_free(der);
    return ret;
}

/* Reads the chain PEM and builds the <cert> message (PROTOCOL.md 7.3) once. */
static int load_chain(sc_config *cfg, const char *pem, size_t len)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    X509 *x;
    size_t n = 0;
    int ret = SC_OK;
    if (bio == NULL) return SC_ERR_NOMEM;
    sc_xml_w_open(&cfg->cert_msg, "cert");
    sc_xml_w_end_open(&cfg->cert_msg);
    while (ret == SC_OK && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (n == SC_CERT_MAX_CHAIN)
            ret = SC_ERR_CONFIG;
        else
            ret = put_cert(&cfg->cert_msg, x);
        if (n++ == 0 && ret == SC_OK)
            cfg->leaf = x;
        else
            X509_free(x);
    }
    /* The loop ends on "no start line"; SC_ERRQ_GUARD drops it, and only it. */
    BIO_free(bio);
    if (ret == SC_OK && n == 0) ret = SC_ERR_PARSE;
    sc_xml_w_close(&cfg->cert_msg, "cert");
    if (ret == SC_OK && !sc_buf_ok(&cfg->cert_msg)) ret = SC_ERR_NOMEM;
    /* The message must fit one record and the XML profile, or every handshake would fail. */
    if (ret == SC_OK && cfg->cert_msg.len > SC_XML_MAX_DOC) ret = SC_ERR_CONFIG;
    return ret;
}

int sc_config_set_identity_pem(sc_config *cfg, const char *chain_pem, size_t chain_len,
                               const char *key_pem, size_t key_len)
{
    SC_ERRQ_GUARD;
    BIO *bio = NULL;
    int ret;
    if (cfg == NULL || chain_pem == NULL || key_pem == NULL || chain_len > INT32_MAX ||
        key_len > INT32_MAX)
        return SC_ERR_ARG;
    clear_identity(cfg);
    if ((ret = load_chain(cfg, chain_pem, chain_len)) != SC_OK) goto out;
    ret = SC_ERR_PARSE;
    if ((bio = BIO_new_mem_buf(key_pem, (int)key_len)) == NULL ||
        (cfg->key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) == NULL)
        goto out;
    ret = SC_ERR_CONFIG;
    if (X509_check_private_key(cfg->leaf, cfg->key) != 1) goto out;
    if ((cfg->sigalg = sc_sigalg_for_key(cfg->key)) == 0) goto out;
    if (sc_cert_user_id(cfg->leaf, cfg->user_id, sizeof cfg->user_id) != SC_OK) goto out;
    /* Our own leaf meets the rules a peer holds it to (8.2 step 7), or no peer accepts it. */
    if (!cfg->skip_local_checks && !sc_cert_leaf_usage_ok(cfg->leaf)) goto out;
    /* Read once here: the check per session then allocates nothing and cannot fail. */
    cfg->not_before = sc_cert_time_epoch(X509_get0_notBefore(cfg->leaf));
    cfg->not_after = sc_cert_time_epoch(X509_get0_notAfter(cfg->leaf));
    ret = X509_digest(cfg->leaf, EVP_sha256(), cfg->fingerprint, NULL) ? SC_OK : SC_ERR_CRYPTO;
out:
    BIO_free(bio);
    if (ret != SC_OK) clear_identity(cfg);
    return ret;
}

int sc__config_check_validity(const sc_config *cfg, uint64_t now_ms)
{
    int64_t now = (int64_t)(now_ms / 1000); /* whole seconds, as path validation (8.2) */
    if (cfg->skip_local_checks || cfg->leaf == NULL) return SC_OK;
    return now >= cfg->not_before && now <= cfg->not_after ? SC_OK : SC_ERR_CONFIG;
}

void sc__config_skip_local_checks(sc_config *cfg)
{
    cfg->skip_local_checks = 1;
}

int sc_config_add_trust_anchor_pem(sc_config *cfg, const char *pem, size_t len,
                                   const char *const *domains, size_t n_domains)
{
    SC_ERRQ_GUARD;
    /* Never unbound here: a peer's anchors always vouch for named domains only. */
    if (cfg == NULL || domains == NULL || n_domains == 0) return SC_ERR_ARG;
    return sc_policy_add_anchors_pem(&cfg->policy, pem, len, domains, n_domains);
}

int sc_config_allow_identity(sc_config *cfg, const char *id)
{
    return sc_policy_allow_id(&cfg->policy, id);
}

int sc_config_block_identity(sc_config *cfg, const char *id)
{
    return sc_policy_block_id(&cfg->policy, id);
}

int sc_config_allow_issuer(sc_config *cfg, const uint8_t fp[32])
{
    return sc_policy_allow_issuer(&cfg->policy, fp);
}

int sc_config_block_issuer_pem(sc_config *cfg, const char *pem, size_t len)
{
    SC_ERRQ_GUARD;
    if (cfg == NULL) return SC_ERR_ARG;
    return sc_policy_block_issuer_pem(&cfg->policy, pem, len);
}

/* Parses a space-separated list of names; each must be known and appear once. */
static int parse_list(const char *list, int (*lookup)(const char *, size_t), int *out, size_t max,
                      size_t *n_out)
{
    size_t n = 0;
    const char *p = list;
    if (list == NULL) return SC_ERR_ARG;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *start = p;
        while (*p && *p != ' ')
            p++;
        if (p == start) break;
        int v = lookup(start, (size_t)(p - start));
        if (v == 0 || n == max) return SC_ERR_PARSE;
        for (size_t i = 0; i < n; i++)
            if (out[i] == v) return SC_ERR_PARSE;
        out[n++] = v;
    }
    if (n == 0) return SC_ERR_PARSE;
    *n_out = n;
    return SC_OK;
}

int sc_config_set_suites(sc_config *cfg, const char *list)
{
    int v[SC_SUITE_COUNT];
    size_t n;
    int ret = parse_list(list, sc_suite_by_name, v, SC_SUITE_COUNT, &n);
    if (ret == SC_OK) {
        memcpy(cfg->suites, v, n * sizeof v[0]);
        cfg->n_suites = n;
    }
    return ret;
}

int sc_config_set_groups(sc_config *cfg, const char *list)
{
    int v[SC_GROUP_COUNT];
    size_t n;
    int ret = parse_list(list, sc_group_by_name, v, SC_GROUP_COUNT, &n);
    if (ret == SC_OK) {
        memcpy(cfg->groups, v, n * sizeof v[0]);
        cfg->n_groups = n;
    }
    return ret;
}

void sc_config_enable_key_transport(sc_config *cfg, int on)
{
    cfg->allow_kt = on != 0;
}

void sc_config_set_handshake_timeout(sc_config *cfg, uint64_t ms)
{
    cfg->hs_timeout_ms = ms ? ms : SC_DEFAULT_HS_TIMEOUT_MS;
}

/* PROTOCOL.md 5.4: the defaults are also the most the protocol allows under one key. */
int sc_config_set_key_update_limits(sc_config *cfg, uint64_t records, uint64_t bytes)
{
    if (cfg == NULL || records > SC_DEFAULT_KU_RECORDS || bytes > SC_DEFAULT_KU_BYTES)
        return SC_ERR_ARG;
    cfg->ku_records = records ? records : SC_DEFAULT_KU_RECORDS;
    cfg->ku_bytes = bytes ? bytes : SC_DEFAULT_KU_BYTES;
    return SC_OK;
}

int sc_config_fingerprint(const sc_config *cfg, uint8_t out[32])
{
    if (cfg->leaf == NULL) return SC_ERR_CONFIG;
    memcpy(out, cfg->fingerprint, 32);
    return SC_OK;
}

const char *sc_config_user_id(const sc_config *cfg)
{
    return cfg->leaf ? cfg->user_id : NULL;
}
