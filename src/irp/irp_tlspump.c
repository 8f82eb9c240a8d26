/*
 * irp_tlspump.c - TLS over memory BIOs without I/O (irp_tlspump.h).
 *
 * OpenSSL reads ciphertext from one memory BIO and writes to another; both
 * grow as needed, so SSL_write never waits and "want read" only ever means
 * "feed me more". Errors are mapped once, here, to sixchat/error.h codes.
 */
#include "irp_tlspump.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/x509.h>

struct irp_tlspump {
    SSL *ssl;
    BIO *rbio, *wbio; /* owned by ssl */
    int done;         /* handshake complete */
    int failed;       /* the code of the failure that ended the connection, 0 while none */
    int closed;       /* our close_notify is queued */
    int peer_closed;  /* the peer's close_notify arrived: we may still write (RFC 8446 6.1) */
    uint8_t *early;   /* plaintext queued before the handshake was done */
    size_t early_len, early_cap;
    char reason[160];
};

irp_tlspump *irp_tlspump_new(SSL_CTX *ctx, int is_server)
{
    irp_tlspump *p = calloc(1, sizeof(*p));
    if (p == NULL) return NULL;
    p->ssl = SSL_new(ctx);
    p->rbio = BIO_new(BIO_s_mem());
    p->wbio = BIO_new(BIO_s_mem());
    if (p->ssl == NULL || p->rbio == NULL || p->wbio == NULL) {
        BIO_free(p->rbio);
        BIO_free(p->wbio);
        SSL_free(p->ssl);
        free(p);
        ERR_clear_error();
        return NULL;
    }
    /* empty input means "retry when more arrives", never end of stream */
    BIO_set_mem_eof_return(p->rbio, -1);
    SSL_set_bio(p->ssl, p->rbio, p->wbio);
    if (is_server)
        SSL_set_accept_state(p->ssl);
    else
        SSL_set_connect_state(p->ssl);
    return p;
}

void irp_tlspump_free(irp_tlspump *p)
{
    if (p == NULL) return;
    SSL_free(p->ssl); /* frees the BIOs */
    if (p->early != NULL) OPENSSL_cleanse(p->early, p->early_cap);
    free(p->early);
    free(p);
}

SSL *irp_tlspump_ssl(irp_tlspump *p)
{
    return p->ssl;
}

int irp_tlspump_done(const irp_tlspump *p)
{
    return p->done;
}

const char *irp_tlspump_reason(const irp_tlspump *p)
{
    return p->reason;
}

/* Our own check of the peer's certificate failed: which alert it was. */
static int verify_code(long v)
{
    switch (v) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
        return SC_ERR_UNKNOWN_CA;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return SC_ERR_CERTIFICATE_EXPIRED;
    case X509_V_ERR_CERT_REVOKED:
        return SC_ERR_CERTIFICATE_REVOKED;
    default:
        return SC_ERR_BAD_CERTIFICATE;
    }
}

/*
 * The outcome of an SSL call that returned r: 1 when it only needs more
 * input, else the failure (recorded, with its reason; the error queue is
 * emptied so that it cannot be blamed on the next connection).
 */
static int outcome(irp_tlspump *p, int r)
{
    int e = SSL_get_error(p->ssl, r), code;
    unsigned long err = ERR_peek_last_error();
    const char *why = err != 0 ? ERR_reason_error_string(err) : NULL;

    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        return 1;
    }
    if (e == SSL_ERROR_ZERO_RETURN) {
        ERR_clear_error();
        p->peer_closed = 1;
        snprintf(p->reason, sizeof(p->reason), "close_notify");
        if (!p->done) p->failed = SC_ERR_CLOSED; /* a handshake cut short */
        return SC_ERR_CLOSED;
    }
    if (e == SSL_ERROR_SSL && ERR_GET_LIB(err) == ERR_LIB_SSL &&
        ERR_GET_REASON(err) >= SSL_AD_REASON_OFFSET &&
        ERR_GET_REASON(err) < SSL_AD_REASON_OFFSET + 256) {
        /* OpenSSL reports an alert from the peer as reason 1000 + its code */
        code = SC_PEER_ALERT_BASE + (ERR_GET_REASON(err) - SSL_AD_REASON_OFFSET);
    } else if (e == SSL_ERROR_SSL && ERR_GET_LIB(err) == ERR_LIB_SSL &&
               ERR_GET_REASON(err) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        code = verify_code(SSL_get_verify_result(p->ssl));
    } else if (e == SSL_ERROR_SYSCALL) {
        code = SC_ERR_TRUNCATED; /* not with memory BIOs; kept for completeness */
    } else {
        code = p->done ? SC_ERR_DECODE_ERROR : SC_ERR_HANDSHAKE_FAILURE;
    }
    snprintf(p->reason, sizeof(p->reason), "%s", why != NULL ? why : "connection error");
    ERR_clear_error();
    p->failed = code;
    return code;
}

static int write_all(irp_tlspump *p, const uint8_t *pt, size_t n)
{
    while (n > 0) {
        int chunk = n > INT_MAX ? INT_MAX : (int)n;
        int r = SSL_write(p->ssl, pt, chunk);
        if (r <= 0) {
            int o = outcome(p, r);
            /* a memory BIO never refuses output: "again" would be a broken BIO */
            return o == 1 ? (p->failed = SC_ERR_CRYPTO) : o;
        }
        pt += r;
        n -= (size_t)r;
    }
    return SC_OK;
}

int irp_tlspump_feed(irp_tlspump *p, const uint8_t *ct, size_t n)
{
    while (n > 0) {
        int chunk = n > INT_MAX ? INT_MAX : (int)n;
        int w = BIO_write(p->rbio, ct, chunk);
        if (w <= 0) {
            ERR_clear_error();
            return SC_ERR_NOMEM;
        }
        ct += w;
        n -= (size_t)w;
    }
    return SC_OK;
}

int irp_tlspump_handshake(irp_tlspump *p, int *done)
{
    int r, st;

    *done = p->done;
    if (p->failed != 0) return p->failed;
    if (p->done) return SC_OK;
    r = SSL_do_handshake(p->ssl);
    if (r != 1) {
        int o = outcome(p, r);
        return o == 1 ? SC_OK : o;
    }
    p->done = 1;
    *done = 1;
    if (p->early_len > 0) {
        st = write_all(p, p->early, p->early_len);
        OPENSSL_cleanse(p->early, p->early_len);
        p->early_len = 0;
        if (st != SC_OK) return st;
    }
    return SC_OK;
}

int irp_tlspump_read(irp_tlspump *p, uint8_t *buf, size_t cap, size_t *got)
{
    int r;

    *got = 0;
    if (p->failed != 0) return p->failed;
    if (!p->done) return SC_ERR_STATE;
    if (p->peer_closed) return SC_ERR_CLOSED;
    if (cap == 0) return SC_OK;
    r = SSL_read(p->ssl, buf, cap > INT_MAX ? INT_MAX : (int)cap);
    if (r > 0) {
        *got = (size_t)r;
        return SC_OK;
    }
    r = outcome(p, r);
    return r == 1 ? SC_OK : r;
}

int irp_tlspump_write(irp_tlspump *p, const uint8_t *pt, size_t n)
{
    if (p->failed != 0) return p->failed;
    if (p->closed) return SC_ERR_STATE;
    if (p->done) return write_all(p, pt, n);
    if (n > p->early_cap - p->early_len) {
        size_t cap = p->early_cap > 0 ? p->early_cap : 1024;
        uint8_t *q;
        while (cap - p->early_len < n) {
            if (cap > SIZE_MAX / 2) return SC_ERR_NOMEM;
            cap *= 2;
        }
        q = malloc(cap);
        if (q == NULL) return SC_ERR_NOMEM;
        if (p->early_len > 0) memcpy(q, p->early, p->early_len);
        if (p->early != NULL) OPENSSL_cleanse(p->early, p->early_cap);
        free(p->early);
        p->early = q;
        p->early_cap = cap;
    }
    memcpy(p->early + p->early_len, pt, n);
    p->early_len += n;
    return SC_OK;
}

void irp_tlspump_close(irp_tlspump *p)
{
    if (!p->done || p->failed != 0 || p->closed) return;
    p->closed = 1;
    (void)SSL_shutdown(p->ssl); /* queues close_notify; the peer's is not awaited */
    ERR_clear_error();
}

size_t irp_tlspump_pending(const irp_tlspump *p)
{
    return BIO_ctrl_pending(p->wbio);
}

size_t irp_tlspump_take(irp_tlspump *p, uint8_t *out, size_t cap)
{
    int r;
    if (cap == 0) return 0;
    r = BIO_read(p->wbio, out, cap > INT_MAX ? INT_MAX : (int)cap);
    return r > 0 ? (size_t)r : 0;
}
