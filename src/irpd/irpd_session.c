/*
 * irpd_session.c - a connection's session as the handlers see it (who it
 * is, what it watches) and the per-request scratch with its failure
 * message. It sits below both the operation handlers and the identity
 * re-check (irpd_identity.c), which use it; it calls neither.
 */
#define _DEFAULT_SOURCE /* timegm */
#include "irpd_handlers_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <openssl/crypto.h>

void irpd_session_init(irpd_session *s)
{
    memset(s, 0, sizeof(*s));
}

void irpd_session_clear(irpd_session *s)
{
    free(s->cert_der);
    free(s->watches);
    OPENSSL_cleanse(s, sizeof(*s));
}

static int64_t asn1_time_unix(const ASN1_TIME *t)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
    return (int64_t)timegm(&tm);
}

int irpd_session_set_cert(irpd_session *s, X509 *leaf, const irpd_client *who)
{
    unsigned char *der = NULL;
    int n = i2d_X509(leaf, &der);

    if (n <= 0) return -1;
    free(s->cert_der);
    s->cert_der = malloc((size_t)n);
    if (s->cert_der == NULL) {
        OPENSSL_free(der);
        return -1;
    }
    memcpy(s->cert_der, der, (size_t)n);
    OPENSSL_free(der);
    s->cert_der_len = (size_t)n;
    s->cert_not_before = asn1_time_unix(X509_get0_notBefore(leaf));
    s->cert_not_after = asn1_time_unix(X509_get0_notAfter(leaf));
    s->client = *who;
    s->cert_auth = 1;
    return 0;
}

int irpd_session_watches(const irpd_session *s, const char *user)
{
    size_t i;

    for (i = 0; i < s->n_watches; i++)
        if (strcasecmp(s->watches[i], user) == 0) return 1;
    return 0;
}

int irpd__fail(hscratch *x, int status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(x->msg, sizeof(x->msg), fmt, ap);
    va_end(ap);
    return status;
}

int irpd__store_fail(const irpd_hctx *h, hscratch *x, int st, const char *what)
{
    if (st == IRP_INTERNAL)
        fprintf(stderr, "irpd: error: store: %s: %s\n", what, irpd_store_errmsg(h->st));
    return irpd__fail(x, st, "%s: %s", what, irp_status_name(st));
}

void irpd__scratch_reset(hscratch *x)
{
    for (size_t i = 0; i < IRP_MAX_CERTS; i++) {
        free(x->der[i]);
        x->der[i] = NULL;
    }
    irpd_issued_clear(&x->issued);
    sc_buf_reset(&x->sig);
    if (x->p12_used > 0) OPENSSL_cleanse(x->p12, x->p12_used);
    x->p12_used = 0;
    x->user[0] = '\0';
    x->msg[0] = '\0';
    x->bad = 0;
}

int irpd__is_admin(const irpd_hctx *h, const irpd_session *s)
{
    /* 7.1: the name alone is not enough: an external CA could certify root@example.org */
    return s->cert_auth && s->client.issued_here && irpd_config_is_admin(h->cfg, s->client.user_id);
}

void irpd__session_cert(const irpd_session *s, irpd_cert *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->serial, sizeof(c->serial), "%s", s->client.serial_hex);
    snprintf(c->user, sizeof(c->user), "%s", s->client.user_id);
    c->der = s->cert_der;
    c->der_len = s->cert_der_len;
    c->not_before = s->cert_not_before;
    c->not_after = s->cert_not_after;
}
