/*
 * sc_handshake.c - the handshake state machine (docs/PROTOCOL.md 7).
 *
 *   I -> R  ihello                         (plaintext HELLO frame)
 *   R -> I  rhello, {cert, verify, finished}   under r_hs
 *   I -> R  {cert, verify, finished}           under i_hs
 *
 * Every received message goes through one table of (state, frame kind,
 * message, handler, next state); anything else is unexpected_message.
 * Handlers parse into a struct first (sc_hsmsg.c), then change state.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include "sc_alloc.h"
#include "sc_keysched.h"
#include "sc_session_int.h"
#include "sc_spki.h"

static const char ctx_initiator[] = "e2ed1 initiator verify";
static const char ctx_responder[] = "e2ed1 responder verify";

/* We accept every signature algorithm version 1 defines. */
static void all_sigalgs(sc_alglist *l)
{
    l->n = 0;
    for (int a = 1; a <= SC_SIG_COUNT; a++)
        l->v[l->n++] = a;
}

int sc__hs_new(sc_session *s)
{
    if ((s->hs = sc__calloc(1, sizeof *s->hs)) == NULL) return SC_ERR_NOMEM;
    return sc_transcript_init(&s->hs->th);
}

void sc__hs_free(sc_session *s)
{
    sc_hs *hs = s->hs;
    if (hs == NULL) return;
    sc_transcript_clear(&hs->th);
    for (size_t i = 0; i < SC_GROUP_COUNT; i++)
        sc_kex_clear(&hs->kex[i]);
    sc_peer_chain_clear(&hs->peer);
    sc_certmsg_clear(&hs->certs);
    EVP_PKEY_free(hs->peer_key);
    sc__free(hs->known_cert);
    OPENSSL_cleanse(hs, sizeof *hs);
    sc__free(hs);
    s->hs = NULL;
}

/* ---- sending ----------------------------------------------------------- */

static int send_hello(sc_session *s, const sc_buf *msg)
{
    sc_frame_put(&s->out, SC_FRAME_HELLO, msg->data, msg->len);
    if (!sc_buf_ok(&s->out)) return SC_ERR_NOMEM;
    return sc_transcript_add(&s->hs->th, msg->data, msg->len);
}

static int send_hs_record(sc_session *s, const uint8_t *msg, size_t len)
{
    int ret = sc_transcript_add(&s->hs->th, msg, len);
    if (ret == SC_OK) ret = sc_record_seal(&s->tx, &s->out, SC_INNER_HANDSHAKE, msg, len, NULL, 0);
    return ret;
}

/* signature input = context || 0x00 || TH (PROTOCOL.md 7.4) */
static void sig_input(uint8_t *buf, size_t *len, sc_role signer, const uint8_t th[SC_HASH_LEN])
{
    const char *ctx = signer == SC_ROLE_INITIATOR ? ctx_initiator : ctx_responder;
    size_t n = strlen(ctx);
    memcpy(buf, ctx, n);
    buf[n] = 0;
    memcpy(buf + n + 1, th, SC_HASH_LEN);
    *len = n + 1 + SC_HASH_LEN;
}

/* cert, verify, finished under our handshake key: the second half of flights 2 and 3. */
static int send_auth(sc_session *s)
{
    const sc_config *cfg = s->cfg;
    uint8_t th[SC_HASH_LEN], in[64], mac[SC_HASH_LEN];
    size_t in_len;
    sc_verifymsg vm;
    sc_buf b;
    int ret;
    sc_buf_init(&b, 0);
    if ((ret = send_hs_record(s, cfg->cert_msg.data, cfg->cert_msg.len)) != SC_OK ||
        (ret = sc_transcript_hash(&s->hs->th, th)) != SC_OK)
        goto out;
    sig_input(in, &in_len, s->role, th);
    vm.alg = cfg->sigalg;
    if ((ret = sc_sign(cfg->key, cfg->sigalg, in, in_len, &b)) != SC_OK) goto out;
    if (b.len > SC_SIG_MAX) {
        ret = SC_ERR_INTERNAL;
        goto out;
    }
    memcpy(vm.sig, b.data, b.len);
    vm.sig_len = b.len;
    sc_buf_reset(&b);
    if ((ret = sc_verify_write(&b, &vm)) != SC_OK ||
        (ret = send_hs_record(s, b.data, b.len)) != SC_OK ||
        (ret = sc_transcript_hash(&s->hs->th, th)) != SC_OK)
        goto out;
    const uint8_t *own_hs = s->role == SC_ROLE_INITIATOR ? s->hs->i_hs : s->hs->r_hs;
    sc_buf_reset(&b);
    if ((ret = sc_ks_finished(own_hs, th, mac)) != SC_OK ||
        (ret = sc_finished_write(&b, mac)) != SC_OK)
        goto out;
    ret = send_hs_record(s, b.data, b.len);
out:
    sc_buf_dispose(&b);
    OPENSSL_cleanse(mac, sizeof mac);
    return ret;
}

/* ---- initiator --------------------------------------------------------- */

/* Splits the certificates given in advance (sc_session_set_peer_cert) and decodes them. */
static int known_chain(const sc_hs *hs, sc_peer_chain *c)
{
    const uint8_t *der[SC_CERT_MAX_CHAIN];
    size_t len[SC_CERT_MAX_CHAIN], n = 0;
    const unsigned char *p = hs->known_cert, *end = hs->known_cert + hs->known_cert_len;
    int ret;
    ERR_set_mark();
    while (p < end && n < SC_CERT_MAX_CHAIN) {
        const unsigned char *start = p;
        X509 *x = d2i_X509(NULL, &p, (long)(end - p));
        X509_free(x);
        if (x == NULL) break; /* checked when it was set: cannot happen */
        der[n] = start;
        len[n++] = (size_t)(p - start);
    }
    ERR_pop_to_mark();
    ret = sc_cert_decode_chain(der, len, n, c);
    return ret;
}

/*
 * Key transport only when enabled and the responder's RSA certificate is
 * known ahead and allows keyEncipherment; otherwise ECDHE, which every
 * responder accepts. The certificate is checked as if the responder had
 * sent it (PROTOCOL.md 7.8, 8.2) before anything is encrypted to its key:
 * if it would be refused, the handshake fails here, before the ihello.
 * *out is NULL (ECDHE) or the key to encrypt to.
 */
static int kt_target(sc_session *s, EVP_PKEY **out)
{
    const sc_policy *pol = &s->cfg->policy;
    sc_peer_chain c;
    int ret;
    *out = NULL;
    if (!s->cfg->allow_kt || s->hs->known_cert == NULL) return SC_OK;
    if ((ret = known_chain(s->hs, &c)) != SC_OK) return ret;
    if (EVP_PKEY_get_base_id(X509_get0_pubkey(c.leaf)) == EVP_PKEY_RSA) {
        if ((ret = sc_cert_check_identity(pol, &c, s->expected_peer)) == SC_OK)
            ret = sc_cert_verify(pol, &c, (int64_t)(s->now_ms / 1000));
        if (ret == SC_OK && sc_cert_kt_usage_ok(c.leaf) && (*out = X509_get_pubkey(c.leaf)) == NULL)
            ret = SC_ERR_NOMEM;
    }
    sc_peer_chain_clear(&c);
    /* Our own refusal of a certificate we were given: nothing goes to the peer. */
    if (ret != SC_OK) s->wire_alert = -1;
    return ret;
}

static int build_ihello(sc_session *s, sc_ihello *m)
{
    const sc_config *cfg = s->cfg;
    sc_hs *hs = s->hs;
    uint8_t rnd[32];
    int ret;
    memset(m, 0, sizeof *m);
    if ((ret = sc__config_random(cfg, m->random, SC_RANDOM_LEN)) != SC_OK) return ret;
    memcpy(m->suites.v, cfg->suites, cfg->n_suites * sizeof(int));
    m->suites.n = cfg->n_suites;
    all_sigalgs(&m->sigs);
    EVP_PKEY *pk;
    if ((ret = kt_target(s, &pk)) != SC_OK) return ret;
    if (pk != NULL) {
        sc_buf ct;
        sc_buf_init(&ct, SC_KT_MAX);
        ret = sc__config_random(cfg, hs->kt_secret, SC_HASH_LEN);
        if (ret == SC_OK) ret = sc_oaep_encrypt(pk, hs->kt_secret, SC_HASH_LEN, &ct);
        if (ret == SC_OK) {
            memcpy(m->kt, ct.data, ct.len);
            m->kt_len = ct.len;
            hs->kt = 1;
        }
        sc_buf_dispose(&ct);
        EVP_PKEY_free(pk);
        return ret;
    }
    memcpy(m->groups.v, cfg->groups, cfg->n_groups * sizeof(int));
    m->groups.n = cfg->n_groups;
    for (size_t i = 0; i < cfg->n_groups && ret == SC_OK; i++) {
        if ((ret = sc__config_random(cfg, rnd, sizeof rnd)) == SC_OK &&
            (ret = sc_kex_keygen(&hs->kex[i], cfg->groups[i], rnd)) == SC_OK) {
            m->shares[i].group = cfg->groups[i];
            memcpy(m->shares[i].pub, hs->kex[i].pub, hs->kex[i].pub_len);
            m->shares[i].len = hs->kex[i].pub_len;
            hs->n_kex = m->n_shares = i + 1;
        }
    }
    OPENSSL_cleanse(rnd, sizeof rnd);
    return ret;
}

int sc__hs_start(sc_session *s)
{
    sc_ihello m;
    sc_buf b;
    int ret;
    sc_buf_init(&b, SC_MAX_HELLO);
    if ((ret = build_ihello(s, &m)) == SC_OK && (ret = sc_ihello_write(&b, &m)) == SC_OK)
        ret = send_hello(s, &b);
    sc_buf_dispose(&b);
    if (!sc_buf_ok(&b) && ret == SC_OK) ret = SC_ERR_INTERNAL;
    if (ret == SC_OK) sc__set_state(s, SC_ST_I_WAIT_RHELLO);
    return ret;
}

/* Derives the handshake secrets from DS and TH1 and installs both directions. */
static int enter_handshake_keys(sc_session *s, const uint8_t ds[SC_HASH_LEN])
{
    sc_hs *hs = s->hs;
    uint8_t th1[SC_HASH_LEN];
    int ret, init = s->role == SC_ROLE_INITIATOR;
    if ((ret = sc_transcript_hash(&hs->th, th1)) != SC_OK ||
        (ret = sc_ks_handshake(ds, th1, hs->i_hs, hs->r_hs, hs->ms)) != SC_OK)
        return ret;
    if ((ret = sc_dir_install(&s->tx, s->suite, init ? hs->i_hs : hs->r_hs, 1)) != SC_OK)
        return ret;
    return sc_dir_install(&s->rx, s->suite, init ? hs->r_hs : hs->i_hs, 0);
}

static int on_rhello(sc_session *s, const sc_xml_node *root, const uint8_t *th_before)
{
    sc_hs *hs = s->hs;
    sc_rhello m;
    uint8_t ds[SC_HASH_LEN];
    int ret = sc_rhello_parse(root, &m);
    if (ret != SC_OK) return ret;
    int offered = 0;
    for (size_t i = 0; i < s->cfg->n_suites; i++)
        offered |= s->cfg->suites[i] == m.suite;
    if (!offered) return SC_ERR_ILLEGAL_PARAMETER;
    /*
     * m.sigs is checked only once the responder is authenticated
     * (on_i_finished): refusing here would tell an unauthenticated
     * responder our key type (PROTOCOL.md 7.2).
     */
    if (m.kt != hs->kt) return SC_ERR_ILLEGAL_PARAMETER;
    if (hs->kt) {
        memcpy(ds, hs->kt_secret, SC_HASH_LEN);
    } else {
        const sc_kex_key *k = NULL;
        for (size_t i = 0; i < hs->n_kex; i++)
            if (hs->kex[i].group == m.share.group) k = &hs->kex[i];
        if (k == NULL) return SC_ERR_ILLEGAL_PARAMETER;
        if ((ret = sc_kex_derive(k, m.share.pub, m.share.len, ds)) != SC_OK) return ret;
        hs->group = k->group;
    }
    s->suite = m.suite;
    hs->peer_sigs = m.sigs;
    ret = enter_handshake_keys(s, ds);
    OPENSSL_cleanse(ds, sizeof ds);
    return ret;
}

/* ---- responder --------------------------------------------------------- */

static int derive_application_secrets(sc_session *s);

static int choose_suite(const sc_config *cfg, const sc_ihello *m)
{
    for (size_t i = 0; i < cfg->n_suites; i++)
        if (sc_alglist_has(&m->suites, cfg->suites[i])) return cfg->suites[i];
    return 0;
}

/* Fills r's share (or kt flag) and ds from the initiator's offer. */
static int responder_kex(sc_session *s, const sc_ihello *m, sc_rhello *r, uint8_t ds[32])
{
    const sc_config *cfg = s->cfg;
    uint8_t rnd[32];
    int ret;
    if (m->kt_len) {
        if (!cfg->allow_kt || !sc_cert_kt_usage_ok(cfg->leaf)) return SC_ERR_HANDSHAKE_FAILURE;
        r->kt = s->hs->kt = 1;
        return sc_oaep_decrypt(cfg->key, m->kt, m->kt_len, ds, SC_HASH_LEN);
    }
    for (size_t g = 0; g < cfg->n_groups; g++)
        for (size_t i = 0; i < m->n_shares; i++) {
            if (m->shares[i].group != cfg->groups[g]) continue;
            sc_kex_key *k = &s->hs->kex[0];
            if ((ret = sc__config_random(cfg, rnd, sizeof rnd)) == SC_OK)
                ret = sc_kex_keygen(k, cfg->groups[g], rnd);
            OPENSSL_cleanse(rnd, sizeof rnd);
            if (ret != SC_OK) return ret;
            s->hs->n_kex = 1;
            s->hs->group = k->group;
            r->share.group = k->group;
            memcpy(r->share.pub, k->pub, k->pub_len);
            r->share.len = k->pub_len;
            return sc_kex_derive(k, m->shares[i].pub, m->shares[i].len, ds);
        }
    return SC_ERR_HANDSHAKE_FAILURE;
}

static int on_ihello(sc_session *s, const sc_xml_node *root, const uint8_t *th_before)
{
    sc_ihello *m = sc__malloc(sizeof *m);
    sc_rhello r;
    uint8_t ds[SC_HASH_LEN];
    sc_buf b;
    int ret;
    if (m == NULL) return SC_ERR_NOMEM;
    sc_buf_init(&b, SC_MAX_HELLO);
    memset(&r, 0, sizeof r);
    if ((ret = sc_ihello_parse(root, m)) != SC_OK) goto out;
    ret = SC_ERR_HANDSHAKE_FAILURE;
    if ((s->suite = r.suite = choose_suite(s->cfg, m)) == 0) goto out;
    if (!sc_alglist_has(&m->sigs, s->cfg->sigalg)) goto out;
    s->hs->peer_sigs = m->sigs;
    all_sigalgs(&r.sigs);
    if ((ret = sc__config_random(s->cfg, r.random, SC_RANDOM_LEN)) != SC_OK ||
        (ret = responder_kex(s, m, &r, ds)) != SC_OK || (ret = sc_rhello_write(&b, &r)) != SC_OK ||
        (ret = send_hello(s, &b)) != SC_OK || (ret = enter_handshake_keys(s, ds)) != SC_OK)
        goto out;
    /* Flight 2 is complete: from here on we send under r_ap (alerts only, until flight 3). */
    if ((ret = send_auth(s)) == SC_OK && (ret = derive_application_secrets(s)) == SC_OK)
        ret = sc_dir_install(&s->tx, s->suite, s->hs->r_ap, 1);
out:
    OPENSSL_cleanse(ds, sizeof ds);
    OPENSSL_cleanse(m, sizeof *m);
    sc__free(m);
    sc_buf_dispose(&b);
    return ret;
}

/* ---- both roles: the peer's authentication ------------------------------ */

/*
 * The cert message: only the leaf's public key is read now. Nothing that a
 * cache or our policy decides runs before the peer has proved that key
 * (PROTOCOL.md 8.2), so refusing a replayed chain costs the same whether or
 * not we met its owner, and says nothing of whom we expect or block.
 */
static int on_cert(sc_session *s, const sc_xml_node *root, const uint8_t *th_before)
{
    sc_hs *hs = s->hs;
    int ret = sc_certmsg_parse(root, &hs->certs);
    if (ret != SC_OK) return ret;
    if ((ret = sc_spki_leaf_key(&s->cfg->policy.spki, hs->certs.der[0], hs->certs.len[0],
                                &hs->peer_key)) != SC_OK)
        return ret;
    hs->peer_sigalg = sc_sigalg_for_key(hs->peer_key);
    return hs->peer_sigalg ? SC_OK : SC_ERR_UNSUPPORTED_CERTIFICATE;
}

/*
 * The checks of PROTOCOL.md 8.2 once the peer has proved its key: decoding
 * through the certificate cache, the identity checks, path validation (or
 * the verified-chain cache), domain binding and the policy lists.
 */
static int check_peer_chain(sc_session *s)
{
    sc_hs *hs = s->hs;
    int ret = sc_cert_decode_chain_cached(&s->cfg->policy, hs->certs.der, hs->certs.len,
                                          hs->certs.n, &hs->peer);
    if (ret != SC_OK) return ret;
    /* The key the signature was checked with is the key of the certificate we now judge. */
    int same = sc_spki_matches(hs->peer.leaf, hs->certs.der[0], hs->certs.len[0]);
    if (same <= 0) return same < 0 ? SC_ERR_NOMEM : SC_ERR_BAD_CERTIFICATE;
    sc_certmsg_clear(&hs->certs);
    if ((ret = sc_cert_check_identity(&s->cfg->policy, &hs->peer, s->expected_peer)) != SC_OK)
        return ret;
    if (hs->known_cert) {
        uint8_t fp[32];
        if ((ret = sc_sha256(hs->known_cert, hs->known_leaf_len, fp)) != SC_OK) return ret;
        if (CRYPTO_memcmp(fp, hs->peer.fingerprint, 32) != 0) return SC_ERR_IDENTITY_MISMATCH;
    }
    return sc_cert_verify(&s->cfg->policy, &hs->peer, (int64_t)(s->now_ms / 1000));
}

static int on_verify(sc_session *s, const sc_xml_node *root, const uint8_t *th_before)
{
    sc_verifymsg m;
    uint8_t in[64];
    size_t in_len;
    int ret = sc_verify_parse(root, &m);
    if (ret != SC_OK) return ret;
    if (m.alg != s->hs->peer_sigalg) return SC_ERR_ILLEGAL_PARAMETER;
    sig_input(in, &in_len, s->role == SC_ROLE_INITIATOR ? SC_ROLE_RESPONDER : SC_ROLE_INITIATOR,
              th_before);
    if ((ret = sc_verify(s->hs->peer_key, m.alg, in, in_len, m.sig, m.sig_len)) != SC_OK)
        return ret;
    s->hs->peer_proven = 1;
    return check_peer_chain(s);
}

static int check_finished(sc_session *s, const sc_xml_node *root, const uint8_t *th_before)
{
    const uint8_t *peer_hs = s->role == SC_ROLE_INITIATOR ? s->hs->r_hs : s->hs->i_hs;
    uint8_t got[SC_HASH_LEN], want[SC_HASH_LEN];
    int ret = sc_finished_parse(root, got);
    if (ret == SC_OK) ret = sc_ks_finished(peer_hs, th_before, want);
    if (ret == SC_OK && CRYPTO_memcmp(got, want, SC_HASH_LEN) != 0) ret = SC_ERR_DECRYPT_ERROR;
    OPENSSL_cleanse(want, sizeof want);
    return ret;
}

/*
 * Application secrets and the exporter from TH2, the transcript through the
 * responder's finished (PROTOCOL.md 6): as in TLS 1.3, the responder can
 * then protect what it sends after flight 2, alerts about flight 3
 * included, with a key the initiator already holds.
 */
static int derive_application_secrets(sc_session *s)
{
    uint8_t th2[SC_HASH_LEN];
    int ret = sc_transcript_hash(&s->hs->th, th2);
    if (ret == SC_OK)
        ret = sc_ks_application(s->hs->ms, th2, s->hs->i_ap, s->hs->r_ap, s->exporter);
    return ret;
}

/* The authenticated peer, kept after the handshake state is wiped. */
static int keep_peer(sc_session *s)
{
    sc_hs *hs = s->hs;
    unsigned char *der = NULL;
    int len = i2d_X509(hs->peer.leaf, &der);
    if (len <= 0) return SC_ERR_NOMEM;
    s->peer_cert = der; /* OPENSSL_malloc'd: freed with OPENSSL_free */
    s->peer_cert_len = (size_t)len;
    memcpy(s->peer_id, hs->peer.user_id, sizeof s->peer_id);
    memcpy(s->peer_fp, hs->peer.fingerprint, 32);
    s->kex = hs->kt ? SC_KEX_KT : SC_KEX_ECDHE;
    return SC_OK;
}

static int on_i_finished(sc_session *s, const sc_xml_node *root, const uint8_t *th_before)
{
    int ret = check_finished(s, root, th_before);
    /* The responder is authenticated: now its sigs may refuse our key (PROTOCOL.md 7.2). */
    if (ret == SC_OK && !sc_alglist_has(&s->hs->peer_sigs, s->cfg->sigalg))
        ret = SC_ERR_HANDSHAKE_FAILURE;
    if (ret == SC_OK) ret = derive_application_secrets(s);
    if (ret == SC_OK) ret = send_auth(s); /* still under i_hs */
    if (ret == SC_OK) ret = sc_dir_install(&s->tx, s->suite, s->hs->i_ap, 1);
    if (ret == SC_OK) ret = sc_dir_install(&s->rx, s->suite, s->hs->r_ap, 0);
    if (ret == SC_OK) ret = keep_peer(s);
    return ret;
}

static int on_r_finished(sc_session *s, const sc_xml_node *root, const uint8_t *th_before)
{
    int ret = check_finished(s, root, th_before);
    if (ret == SC_OK) ret = sc_dir_install(&s->rx, s->suite, s->hs->i_ap, 0);
    if (ret == SC_OK) ret = keep_peer(s);
    return ret;
}

/* ---- dispatch ---------------------------------------------------------- */

typedef int (*hs_handler)(sc_session *s, const sc_xml_node *root, const uint8_t *th_before);

static const struct {
    sc_state state;
    int plaintext;
    sc_msg_kind kind;
    hs_handler fn;
    sc_state next;
} transitions[] = {
    {SC_ST_I_WAIT_RHELLO, 1, SC_MSG_RHELLO, on_rhello, SC_ST_I_WAIT_CERT},
    {SC_ST_I_WAIT_CERT, 0, SC_MSG_CERT, on_cert, SC_ST_I_WAIT_VERIFY},
    {SC_ST_I_WAIT_VERIFY, 0, SC_MSG_VERIFY, on_verify, SC_ST_I_WAIT_FINISHED},
    {SC_ST_I_WAIT_FINISHED, 0, SC_MSG_FINISHED, on_i_finished, SC_ST_ESTABLISHED},
    {SC_ST_R_WAIT_IHELLO, 1, SC_MSG_IHELLO, on_ihello, SC_ST_R_WAIT_CERT},
    {SC_ST_R_WAIT_CERT, 0, SC_MSG_CERT, on_cert, SC_ST_R_WAIT_VERIFY},
    {SC_ST_R_WAIT_VERIFY, 0, SC_MSG_VERIFY, on_verify, SC_ST_R_WAIT_FINISHED},
    {SC_ST_R_WAIT_FINISHED, 0, SC_MSG_FINISHED, on_r_finished, SC_ST_ESTABLISHED},
};

static void emit_done(sc_session *s)
{
    sc_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = SC_EV_HANDSHAKE_DONE;
    ev.u.handshake.peer_id = s->peer_id;
    ev.u.handshake.peer_cert = s->peer_cert;
    ev.u.handshake.peer_cert_len = s->peer_cert_len;
    ev.u.handshake.peer_fingerprint = s->peer_fp;
    ev.u.handshake.suite = sc_suite_name(s->suite);
    ev.u.handshake.group = s->hs->kt ? "kt" : sc_group_name(s->hs->group);
    ev.u.handshake.sigalg = sc_sigalg_name(s->hs->peer_sigalg);
    ev.u.handshake.kex = s->kex;
    sc__hs_free(s); /* handshake secrets are not needed any more */
    sc__emit(s, &ev);
}

/*
 * The alert the peer gets for a failed handshake message (PROTOCOL.md 9.2):
 * until its signature has verified, every failure to authenticate it is
 * decrypt_error, whatever the reason we report locally.
 */
static void choose_wire_alert(sc_session *s, int err)
{
    int authenticating = s->state == SC_ST_I_WAIT_CERT || s->state == SC_ST_I_WAIT_VERIFY ||
                         s->state == SC_ST_R_WAIT_CERT || s->state == SC_ST_R_WAIT_VERIFY;
    int refusal = SC_ERR_IS_ALERT(err) || err == SC_ERR_DOMAIN_MISMATCH;
    if (authenticating && refusal && !s->hs->peer_proven)
        s->wire_alert = SC_ALERT_DECRYPT_ERROR;
    else if (err == SC_ERR_DOMAIN_MISMATCH)
        s->wire_alert = SC_ALERT_UNKNOWN_CA;
}

/*
 * A handler that fails after queuing part or all of a flight (flight 2 in
 * on_ihello, flight 3 in on_i_finished: only local failures, out of memory,
 * can happen there) withdraws it: the peer would otherwise read our finished,
 * move to its next key, and then fail to open the alert sealed under the old
 * one (bad_record_mac instead of internal_error; found by tests/test_oom.c).
 * Without a sending key the alert goes as a plaintext ALERT frame, which the
 * peer accepts until its handshake completes (PROTOCOL.md 3.2), as it has not.
 */
static void withdraw_flight(sc_session *s, size_t out_len)
{
    sc_record_abort(&s->out, out_len);
    s->out.failed = 0; /* what failed to fit was withdrawn with the rest */
    sc_dir_clear(&s->tx);
}

int sc__hs_recv(sc_session *s, const uint8_t *msg, size_t len, int plaintext)
{
    sc_xml_doc *doc = NULL;
    uint8_t th_before[SC_HASH_LEN];
    size_t out_len = s->out.len;
    int ret;
    if (s->hs == NULL) return SC_ERR_UNEXPECTED_MESSAGE; /* no handshake in progress */
    if ((ret = sc_xml_parse(msg, len, &doc)) != SC_OK) return ret;
    const sc_xml_node *root = sc_xml_root(doc);
    sc_msg_kind kind = sc_hsmsg_kind(root);
    size_t i, n = sizeof transitions / sizeof transitions[0];
    for (i = 0; i < n; i++)
        if (transitions[i].state == s->state && transitions[i].plaintext == plaintext &&
            transitions[i].kind == kind)
            break;
    ret = SC_ERR_UNEXPECTED_MESSAGE;
    if (i < n && (ret = sc_transcript_hash(&s->hs->th, th_before)) == SC_OK &&
        (ret = sc_transcript_add(&s->hs->th, msg, len)) == SC_OK &&
        (ret = transitions[i].fn(s, root, th_before)) == SC_OK) {
        sc__set_state(s, transitions[i].next);
        if (transitions[i].next == SC_ST_ESTABLISHED) emit_done(s);
    } else if (i < n) {
        choose_wire_alert(s, ret);
        if (s->out.len > out_len || !sc_buf_ok(&s->out)) withdraw_flight(s, out_len);
    }
    sc_xml_free(doc);
    return ret;
}
