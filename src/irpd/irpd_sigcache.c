/*
 * irpd_sigcache.c - a signed lookup answer reused while it stays the same
 * (docs/IRP.md 7.4 "Caching"; irpd_sigcache.h says why it needs no
 * invalidation: a cached signature is given only to an answer whose
 * signed bytes are the cached ones).
 */
#include "irpd_sigcache.h"

#include <stdlib.h>
#include <string.h>

#include "irp_sig.h"
#include "sixchat/error.h"

typedef struct entry {
    int used;
    uint64_t at;   /* the `at` the signature covers */
    EVP_PKEY *key; /* the key and certificate it was made with (references held, so */
    X509 *cert;    /* that a pointer equal to these is these) */
    sc_buf tbs;    /* the signed bytes */
    sc_buf sig;
    int alg;
    uint8_t fp[32];
} entry;

struct irpd_sigcache {
    entry *e;
    size_t n;
    sc_buf scratch; /* the TBS of the answer being checked */
    irpd_sigcache_stats stats;
};

static void entry_clear(entry *e)
{
    EVP_PKEY_free(e->key);
    X509_free(e->cert);
    e->key = NULL;
    e->cert = NULL;
    e->used = 0;
    sc_buf_reset(&e->tbs);
    sc_buf_reset(&e->sig);
}

irpd_sigcache *irpd_sigcache_new(size_t slots)
{
    irpd_sigcache *c;

    if (slots == 0) return NULL;
    if ((c = calloc(1, sizeof(*c))) == NULL) return NULL;
    if ((c->e = calloc(slots, sizeof(*c->e))) == NULL) {
        free(c);
        return NULL;
    }
    c->n = slots;
    for (size_t i = 0; i < slots; i++) {
        sc_buf_init_public(&c->e[i].tbs, 0);
        sc_buf_init_public(&c->e[i].sig, 0);
    }
    sc_buf_init_public(&c->scratch, 0);
    return c;
}

void irpd_sigcache_free(irpd_sigcache *c)
{
    if (c == NULL) return;
    for (size_t i = 0; i < c->n; i++) {
        entry_clear(&c->e[i]);
        sc_buf_dispose(&c->e[i].tbs);
        sc_buf_dispose(&c->e[i].sig);
    }
    sc_buf_dispose(&c->scratch);
    free(c->e);
    free(c);
}

void irpd_sigcache_get_stats(const irpd_sigcache *c, irpd_sigcache_stats *out)
{
    if (c == NULL)
        memset(out, 0, sizeof(*out));
    else
        *out = c->stats;
}

/* FNV-1a of the user ID: the slot. */
static entry *slot(irpd_sigcache *c, const char *user)
{
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *p = (const unsigned char *)user; *p != '\0'; p++)
        h = (h ^ *p) * 1099511628211ull;
    return &c->e[h % c->n];
}

/* The cached signature, if it covers r with the cached `at`: 1 (r signed), 0, or -1 (memory). */
static int try_hit(irpd_sigcache *c, entry *e, irp_resp *r, uint64_t now, EVP_PKEY *key, X509 *cert,
                   sc_buf *store)
{
    if (!e->used || e->key != key || e->cert != cert || now < e->at ||
        now - e->at > IRPD_SIGCACHE_MAX_AGE)
        return 0;
    r->at = e->at;
    sc_buf_reset(&c->scratch);
    if (irp_lookup_tbs(&c->scratch, r) != SC_OK) return 0; /* signed afresh, which will say */
    /* public bytes: an ordinary comparison */
    if (c->scratch.len != e->tbs.len || memcmp(c->scratch.data, e->tbs.data, e->tbs.len) != 0)
        return 0;
    sc_buf_reset(store);
    sc_buf_put(store, e->sig.data, e->sig.len);
    if (!sc_buf_ok(store)) return -1;
    r->has_sig = 1;
    r->sig.alg = e->alg;
    memcpy(r->sig.key, e->fp, sizeof(e->fp));
    r->sig.sig = store->data;
    r->sig.sig_len = store->len;
    return 1;
}

/* Keeps r's fresh signature in e; on failure e is left empty (not cached, nothing lost). */
static void keep(entry *e, const irp_resp *r, EVP_PKEY *key, X509 *cert)
{
    entry_clear(e);
    if (irp_lookup_tbs(&e->tbs, r) != SC_OK) return;
    sc_buf_put(&e->sig, r->sig.sig, r->sig.sig_len);
    if (!sc_buf_ok(&e->tbs) || !sc_buf_ok(&e->sig) || EVP_PKEY_up_ref(key) != 1) {
        entry_clear(e);
        return;
    }
    e->key = key;
    if (X509_up_ref(cert) != 1) {
        entry_clear(e);
        return;
    }
    e->cert = cert;
    e->at = r->at;
    e->alg = r->sig.alg;
    memcpy(e->fp, r->sig.key, sizeof(e->fp));
    e->used = 1;
}

int irpd_sigcache_sign(irpd_sigcache *c, irp_resp *r, uint64_t now, EVP_PKEY *key, X509 *cert,
                       sc_buf *store)
{
    entry *e = NULL;
    int rc;

    if (r == NULL || key == NULL || cert == NULL || store == NULL) return SC_ERR_ARG;
    if (c != NULL && r->user != NULL) {
        e = slot(c, r->user);
        if ((rc = try_hit(c, e, r, now, key, cert, store)) < 0) return SC_ERR_NOMEM;
        if (rc == 1) {
            c->stats.hits++;
            return SC_OK;
        }
    }
    r->at = now;
    if ((rc = irp_lookup_sign(r, key, cert, store)) != SC_OK) return rc;
    if (e != NULL) {
        c->stats.signs++;
        keep(e, r, key, cert);
    }
    return SC_OK;
}
