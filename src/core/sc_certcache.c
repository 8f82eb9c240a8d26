/*
 * sc_certcache.c - see sc_certcache.h.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "sc_alloc.h"
#include "sc_certcache.h"

struct sc_certcache {
    CRYPTO_RWLOCK *lock;
    size_t next; /* insertion position: FIFO eviction keeps the code trivial */
    struct {
        uint8_t hash[32];
        X509 *x;
    } e[SC_CERTCACHE_SIZE];
    size_t next_v;
    sc_verified v[SC_CERTCACHE_SIZE];
};

sc_certcache *sc_certcache_new(void)
{
    sc_certcache *c = sc__calloc(1, sizeof *c);
    if (c == NULL) return NULL;
    if ((c->lock = CRYPTO_THREAD_lock_new()) == NULL) {
        sc__free(c);
        return NULL;
    }
    return c;
}

void sc_certcache_free(sc_certcache *c)
{
    if (c == NULL) return;
    for (size_t i = 0; i < SC_CERTCACHE_SIZE; i++)
        X509_free(c->e[i].x);
    CRYPTO_THREAD_lock_free(c->lock);
    sc__free(c);
}

void sc_certcache_clear(sc_certcache *c)
{
    if (c == NULL || !CRYPTO_THREAD_write_lock(c->lock)) return;
    for (size_t i = 0; i < SC_CERTCACHE_SIZE; i++) {
        X509_free(c->e[i].x);
        c->e[i].x = NULL;
    }
    memset(c->v, 0, sizeof c->v);
    c->next = c->next_v = 0;
    CRYPTO_THREAD_unlock(c->lock);
}

X509 *sc_certcache_get(sc_certcache *c, const uint8_t hash[32])
{
    X509 *found = NULL;
    if (c == NULL || !CRYPTO_THREAD_read_lock(c->lock)) return NULL;
    for (size_t i = 0; i < SC_CERTCACHE_SIZE && found == NULL; i++)
        if (c->e[i].x != NULL && memcmp(c->e[i].hash, hash, 32) == 0 && X509_up_ref(c->e[i].x))
            found = c->e[i].x;
    CRYPTO_THREAD_unlock(c->lock);
    return found;
}

void sc_certcache_put(sc_certcache *c, const uint8_t hash[32], X509 *x)
{
    if (c == NULL || !X509_up_ref(x)) return;
    if (!CRYPTO_THREAD_write_lock(c->lock)) {
        X509_free(x);
        return;
    }
    X509_free(c->e[c->next].x);
    memcpy(c->e[c->next].hash, hash, 32);
    c->e[c->next].x = x;
    c->next = (c->next + 1) % SC_CERTCACHE_SIZE;
    CRYPTO_THREAD_unlock(c->lock);
}

int sc_certcache_get_verified(sc_certcache *c, const uint8_t key[32], int64_t now, sc_verified *out)
{
    int found = 0;
    if (c == NULL || !CRYPTO_THREAD_read_lock(c->lock)) return 0;
    for (size_t i = 0; i < SC_CERTCACHE_SIZE && !found; i++) {
        const sc_verified *v = &c->v[i];
        if (v->not_after != 0 && memcmp(v->key, key, 32) == 0 && now >= v->not_before &&
            now <= v->not_after) {
            *out = *v;
            found = 1;
        }
    }
    CRYPTO_THREAD_unlock(c->lock);
    return found;
}

void sc_certcache_put_verified(sc_certcache *c, const sc_verified *v)
{
    if (c == NULL || !CRYPTO_THREAD_write_lock(c->lock)) return;
    c->v[c->next_v] = *v;
    c->next_v = (c->next_v + 1) % SC_CERTCACHE_SIZE;
    CRYPTO_THREAD_unlock(c->lock);
}
