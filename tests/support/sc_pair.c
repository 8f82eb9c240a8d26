/*
 * sc_pair.c - the in-memory two-party harness (see sc_pair.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "sc_pair.h"
#include "sc_config_int.h"

static sc_config *party_config(const char *chain_pem, const char *key_pem, const char *trust_pem,
                               sc_test_rng *rng, int unchecked)
{
    static sc_test_rng default_rng = {.seed = 42};
    sc_config *cfg = sc_config_new();
    assert_non_null(cfg);
    if (unchecked) sc__config_skip_local_checks(cfg);
    assert_int_equal(
        sc_config_set_identity_pem(cfg, chain_pem, strlen(chain_pem), key_pem, strlen(key_pem)),
        SC_OK);
    /* Every user of the test PKIs is @example.org. */
    static const char *const domains[] = {"example.org"};
    assert_int_equal(sc_config_add_trust_anchor_pem(cfg, trust_pem, strlen(trust_pem), domains, 1),
                     SC_OK);
    sc_config_set_random(cfg, sc_test_rng_fn, rng ? rng : &default_rng);
    return cfg;
}

sc_config *sc_party_config(const char *chain_pem, const char *key_pem, const char *trust_pem,
                           sc_test_rng *rng)
{
    return party_config(chain_pem, key_pem, trust_pem, rng, 0);
}

sc_config *sc_party_config_unchecked(const char *chain_pem, const char *key_pem,
                                     const char *trust_pem, sc_test_rng *rng)
{
    return party_config(chain_pem, key_pem, trust_pem, rng, 1);
}

static void record(void *ctx, sc_session *s, const sc_event *ev)
{
    sc_party *pa = ctx;
    (void)s;
    switch (ev->type) {
    case SC_EV_HANDSHAKE_DONE:
        pa->handshakes++;
        snprintf(pa->peer_id, sizeof pa->peer_id, "%s", ev->u.handshake.peer_id);
        snprintf(pa->suite, sizeof pa->suite, "%s", ev->u.handshake.suite);
        snprintf(pa->group, sizeof pa->group, "%s", ev->u.handshake.group);
        snprintf(pa->sigalg, sizeof pa->sigalg, "%s", ev->u.handshake.sigalg);
        pa->kex = ev->u.handshake.kex;
        break;
    case SC_EV_STANZA: {
        const sc_stanza *st = ev->u.stanza;
        int n = pa->n_stanzas;
        assert_true(n < SC_PARTY_MAX_STANZAS);
        pa->stanza_type[n] = st->type;
        snprintf(pa->stanza_id[n], sizeof pa->stanza_id[n], "%s",
                 st->id ? st->id : ""); /* typing has none */
        if (st->type == SC_STANZA_MSG) {
            pa->stanza_text[n] = malloc(st->text_len + 1);
            assert_non_null(pa->stanza_text[n]);
            memcpy(pa->stanza_text[n], st->text, st->text_len);
            pa->stanza_text[n][st->text_len] = '\0';
        }
        pa->n_stanzas++;
        break;
    }
    case SC_EV_FILE_DATA: {
        size_t end = (size_t)ev->u.file.offset + ev->u.file.len;
        if (end > pa->file_len) {
            pa->file = realloc(pa->file, end);
            assert_non_null(pa->file);
            memset(pa->file + pa->file_len, 0, end - pa->file_len);
            pa->file_len = end;
        }
        memcpy(pa->file + ev->u.file.offset, ev->u.file.data, ev->u.file.len);
        break;
    }
    case SC_EV_KEY_UPDATE:
        if (ev->u.key_update.outbound)
            pa->key_updates_out++;
        else
            pa->key_updates_in++;
        break;
    case SC_EV_CLOSED:
        pa->closed++;
        break;
    case SC_EV_ERROR:
        pa->error = ev->u.err;
        pa->errors++;
        break;
    }
}

static void party_init(sc_party *pa, sc_config *cfg, sc_role role, uint64_t now)
{
    pa->cfg = cfg;
    assert_int_equal(sc_session_new(cfg, role, now, &pa->s), SC_OK);
    /* Most tests are about anything but the expected peer: those that are set one. */
    if (role == SC_ROLE_INITIATOR) assert_int_equal(sc_session_set_any_peer(pa->s), SC_OK);
    sc_session_set_callback(pa->s, record, pa);
}

void sc_pair_init(sc_pair *p, sc_config *icfg, sc_config *rcfg, uint64_t now_ms)
{
    memset(p, 0, sizeof *p);
    p->now_ms = now_ms;
    party_init(&p->i, icfg, SC_ROLE_INITIATOR, now_ms);
    party_init(&p->r, rcfg, SC_ROLE_RESPONDER, now_ms);
}

static int party_try_init(sc_party *pa, sc_config *cfg, sc_role role, uint64_t now)
{
    pa->cfg = cfg;
    int ret = sc_session_new(cfg, role, now, &pa->s);
    if (ret == SC_OK) sc_session_set_callback(pa->s, record, pa);
    return ret;
}

int sc_pair_try_init(sc_pair *p, sc_config *icfg, sc_config *rcfg, uint64_t now_ms)
{
    memset(p, 0, sizeof *p);
    p->now_ms = now_ms;
    int ri = party_try_init(&p->i, icfg, SC_ROLE_INITIATOR, now_ms);
    int rr = party_try_init(&p->r, rcfg, SC_ROLE_RESPONDER, now_ms);
    return ri != SC_OK ? ri : rr;
}

static void party_free(sc_party *pa)
{
    sc_session_free(pa->s);
    sc_config_free(pa->cfg);
    for (int i = 0; i < pa->n_stanzas; i++)
        free(pa->stanza_text[i]);
    free(pa->file);
}

void sc_pair_free(sc_pair *p)
{
    party_free(&p->i);
    party_free(&p->r);
    free(p->trace);
    memset(p, 0, sizeof *p);
}

uint8_t *sc_pair_take(sc_session *s, size_t *len)
{
    const uint8_t *data;
    size_t n = sc_session_output(s, &data);
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    if (n) memcpy(copy, data, n);
    sc_session_output_consume(s, n);
    *len = n;
    return copy;
}

/* Moves one side's output to the other; returns the bytes moved. */
static size_t move(sc_pair *p, sc_party *from, sc_party *to, int from_initiator)
{
    size_t n;
    uint8_t *buf = sc_pair_take(from->s, &n);
    if (n && p->tamper) p->tamper(p->tamper_ctx, from_initiator, buf, &n);
    if (n) {
        p->trace = realloc(p->trace, p->trace_len + n);
        assert_non_null(p->trace);
        memcpy(p->trace + p->trace_len, buf, n);
        p->trace_len += n;
        int ret = sc_session_recv(to->s, buf, n, p->now_ms);
        if (ret != SC_OK) {
            if (from_initiator)
                p->recv_err_r = ret;
            else
                p->recv_err_i = ret;
        }
    }
    free(buf);
    return n;
}

int sc_pair_pump(sc_pair *p)
{
    int rounds = 0;
    for (;;) {
        size_t a = move(p, &p->i, &p->r, 1);
        size_t b = move(p, &p->r, &p->i, 0);
        if (a == 0 && b == 0) break;
        rounds++;
        assert_true(rounds < 10000);
    }
    return rounds;
}

int sc_pair_handshake(sc_pair *p)
{
    assert_int_equal(sc_session_start(p->i.s), SC_OK);
    sc_pair_pump(p);
    return p->i.handshakes == 1 && p->r.handshakes == 1;
}

int sc_pair_trace_has(const sc_pair *p, const void *needle, size_t len)
{
    if (len == 0 || len > p->trace_len) return 0;
    for (size_t i = 0; i + len <= p->trace_len; i++)
        if (memcmp(p->trace + i, needle, len) == 0) return 1;
    return 0;
}
