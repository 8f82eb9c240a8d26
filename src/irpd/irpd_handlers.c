/*
 * irpd_handlers.c - one function per operation of docs/IRP.md 6.
 *
 * Each handler fills an irp_resp (status 200 and its content) or returns the
 * error status with a message; irpd_handle writes whichever it was. Strings
 * a response points at live in a per-request scratch (hscratch) that dies
 * with the call.
 */
#define _DEFAULT_SOURCE /* timegm */
#include "irpd_handlers_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/sha.h>
#include <strings.h>
#include <time.h>
#include <openssl/crypto.h>

#include "irp_frame.h"
#include "irp_sig.h"
#include "irpd_sigcache.h"
#include "irpd_secret.h"

/* RFC 5280 reason names in docs/IRP.md 13.5 form, indexed by irp_reason. */
static const char *const reason_names[] = {
    NULL,
    "unspecified",
    "key-compromise",
    "ca-compromise",
    "affiliation-changed",
    "superseded",
    "cessation-of-operation",
    "privilege-withdrawn",
};

static irp_reason reason_of(const char *s)
{
    size_t i;

    for (i = 1; i < sizeof(reason_names) / sizeof(reason_names[0]); i++)
        if (strcmp(reason_names[i], s) == 0) return (irp_reason)i;
    return IRP_REASON_UNSPECIFIED;
}

/* ---- response pieces ---------------------------------------------------------- */

static void resp_cert(irp_cert *o, const irpd_cert *c, int64_t now, int with_user, hscratch *x,
                      size_t slot)
{
    memset(o, 0, sizeof(*o));
    memcpy(x->serials[slot], c->serial, strlen(c->serial) + 1);
    o->serial = x->serials[slot][0] != '\0' ? x->serials[slot] : NULL;
    o->has_fp = 1;
    memcpy(o->fp, c->fingerprint, 32);
    o->not_after = c->not_after > 0 ? (uint64_t)c->not_after : 0;
    if (c->status == IRPD_CERT_REVOKED) {
        o->state = IRP_CERT_REVOKED;
        o->revoked = (uint64_t)c->revoked_at;
        o->reason = reason_of(c->reason);
    } else {
        o->state = c->not_after <= now ? IRP_CERT_EXPIRED : IRP_CERT_VALID;
    }
    if (with_user) {
        snprintf(x->users[slot], sizeof(x->users[slot]), "%s", c->user);
        o->user = x->users[slot];
    }
}

int irpd__collect_binding(void *arg, const irpd_binding *b)
{
    irpd__collect *c = arg;
    irp_binding *o;
    size_t i, slot = c->r->n_bindings;

    if (slot >= IRP_MAX_BINDINGS) return 0; /* the store keeps at most 8 */
    o = &c->r->bindings[slot];
    memset(o, 0, sizeof(*o));
    snprintf(c->x->devices[slot], sizeof(c->x->devices[slot]), "%s", b->device);
    o->device = c->x->devices[slot];
    for (i = 0; i < b->n_addrs && i < IRP_MAX_ADDRS; i++) {
        if (irp_addr_parse(b->addrs[i], strlen(b->addrs[i]), &o->addrs[o->n_addrs]) != 0) {
            c->x->bad = 1;
            return 1;
        }
        o->n_addrs++;
    }
    o->port = b->port;
    o->expires = (uint64_t)b->expires;
    o->updated = (uint64_t)b->updated;
    o->seq = b->seq;
    c->r->n_bindings++;
    return 0;
}

static int collect_cert(void *arg, const irpd_cert *cert)
{
    irpd__collect *c = arg;
    size_t slot = c->r->n_certs;
    irp_cert *o;

    if (slot >= IRP_MAX_CERTS) return 0;
    o = &c->r->certs[slot];
    resp_cert(o, cert, c->now, 0, c->x, slot);
    if (cert->der != NULL && cert->der_len > 0) {
        c->x->der[slot] = malloc(cert->der_len);
        if (c->x->der[slot] == NULL) {
            c->x->bad = 1;
            return 1;
        }
        memcpy(c->x->der[slot], cert->der, cert->der_len);
        o->der = c->x->der[slot];
        o->der_len = cert->der_len;
    }
    c->r->n_certs++;
    return 0;
}

/* ---- operations ---------------------------------------------------------------- */

/* Ops this registry answers (capabilities): every op of version 1. */
#define OPS_OFFERED (((1u << IRP_OP_COUNT) - 1u) & ~(1u << IRP_OP_NONE))

/* The lower clamp of granted lifetimes: 60 (6.7) unless a test's min_lifetime lowers it. */
static uint32_t lifetime_min(const irpd_hctx *h)
{
    uint32_t m = h->cfg != NULL ? h->cfg->min_lifetime : 0;

    return m >= 1 && m <= IRP_LIFETIME_MIN ? m : IRP_LIFETIME_MIN;
}

/* 6.1 */
int irpd__op_capabilities(const irpd_hctx *h, irpd_session *s, const irp_req *q, irpd_opctx *o)
{
    irp_resp *r = o->r;

    r->has_caps = 1;
    r->caps.versions = 1u << IRP_VERSION;
    r->caps.ops = OPS_OFFERED;
    r->caps.logins = IRP_LOGIN_PASSWORD | IRP_LOGIN_TOKEN | IRP_LOGIN_CERTIFICATE;
    r->has_limits = 1;
    r->limits.doc = IRP_MAX_DOC;
    r->limits.addrs = IRP_MAX_ADDRS;
    r->limits.devices = IRPD_STORE_DEVICES_MAX;
    r->limits.lifetime_min = lifetime_min(h);
    r->limits.lifetime_max = IRP_LIFETIME_MAX;
    r->limits.lifetime_default = IRP_LIFETIME_DEFAULT;
    r->limits.pipeline = 32;
    r->limits.watches = IRPD_MAX_WATCHES;
    return 0;
}

/* 6.2 */
int irpd__op_ca_certs(const irpd_hctx *h, irpd_session *s, const irp_req *q, irpd_opctx *o)
{
    irp_resp *r = o->r;

    r->n_certs = 1;
    r->certs[0].der = h->ca_der;
    r->certs[0].der_len = h->ca_der_len;
    return 0;
}

/* 6.3 */
int irpd__op_ping(const irpd_hctx *h, irpd_session *s, const irp_req *q, irpd_opctx *o)
{
    snprintf(o->x->msg, sizeof(o->x->msg), "pong");
    return 0;
}

static int acting_user_ok(const irpd_session *s, const irp_req *q, hscratch *x)
{
    if (q->user != NULL && strcasecmp(q->user, s->client.user_id) != 0)
        return irpd__fail(x, IRP_FORBIDDEN, "you are %s, not %s", s->client.user_id, q->user);
    return 0;
}

/* 6.7 */
int irpd__op_register(const irpd_hctx *h, irpd_session *s, const irp_req *q, irpd_opctx *o)
{
    IRPD_OP_UNPACK(o);
    irpd_binding b;
    irpd_cert auth;
    uint32_t granted;
    size_t i;
    int st;

    if ((st = acting_user_ok(s, q, x)) != 0) return st;
    /* 1. addresses */
    for (i = 0; i < q->n_addrs; i++) {
        irp_addr_class cl = irp_addr_classify(&q->addrs[i]);
        int ok = cl == IRP_ADDR_GLOBAL || cl == IRP_ADDR_PRIVATE || cl == IRP_ADDR_SHARED ||
                 cl == IRP_ADDR_ULA ||
                 ((cl == IRP_ADDR_LOOPBACK || cl == IRP_ADDR_LINK_LOCAL) && h->cfg->allow_local);
        if (!ok) {
            char a[IRP_ADDR_STRLEN];
            if (irp_addr_format(&q->addrs[i], a) != 0) snprintf(a, sizeof(a), "an address");
            return irpd__fail(x, IRP_INVALID, "%s is %s: refused", a, irp_addr_class_name(cl));
        }
    }
    /* 4. lifetime */
    granted = q->lifetime == 0 ? IRP_LIFETIME_DEFAULT : q->lifetime;
    if (granted < lifetime_min(h)) granted = lifetime_min(h);
    if (granted > IRP_LIFETIME_MAX) granted = IRP_LIFETIME_MAX;
    /* 5. the certificate must fit a lookup answer */
    if (s->cert_der_len > IRP_PUBLISH_CERT_MAX)
        return irpd__fail(x, IRP_INVALID, "certificate too large to publish");

    memset(&b, 0, sizeof(b));
    snprintf(b.user, sizeof(b.user), "%s", s->client.user_id);
    snprintf(b.device, sizeof(b.device), "%s", q->device);
    b.seq = q->seq;
    b.port = q->port;
    b.n_addrs = q->n_addrs;
    for (i = 0; i < q->n_addrs; i++)
        if (irp_addr_format(&q->addrs[i], b.addrs[i]) != 0)
            return irpd__fail(x, IRP_INTERNAL, "internal error: address");
    if (s->has_peer && irp_addr_format(&s->peer, b.seen) != 0)
        return irpd__fail(x, IRP_INTERNAL, "internal error: address");
    b.expires = now + (int64_t)granted;
    b.updated = now;

    irpd__session_cert(s, &auth);

    /* 2, 3, 6 */
    st = irpd_store_binding_put(h->st, &b, &auth, s->client.user_id, now);
    if (st == IRP_NOT_FOUND && !s->client.issued_here) {
        /* 7.6: an external CA's user becomes known by registering */
        int ua = irpd_store_user_add(h->st, s->client.user_id, s->client.user_id, now);
        if (ua != 0 && ua != IRP_CONFLICT) return irpd__store_fail(h, x, ua, "register");
        if (ua == 0) res->wrote = 1; /* stays even if the binding is refused (10.2) */
        st = irpd_store_binding_put(h->st, &b, &auth, s->client.user_id, now);
    }
    if (st == IRP_CONFLICT)
        return irpd__fail(x, st, "stale sequence number or too many devices (seq %llu)",
                          (unsigned long long)q->seq);
    if (st == IRP_FORBIDDEN) return irpd__fail(x, st, "certificate revoked or not yours");
    if (st == IRP_NOT_FOUND) return irpd__fail(x, st, "no such user %s", s->client.user_id);
    if (st != 0) return irpd__store_fail(h, x, st, "register");

    r->granted = granted;
    if (s->has_peer) {
        r->has_seen = 1;
        r->seen = s->peer;
        r->nat = 1;
        for (i = 0; i < q->n_addrs; i++)
            if (irp_addr_equal(&q->addrs[i], &s->peer)) r->nat = 0;
    }
    res->changed = 1;
    snprintf(res->changed_user, sizeof(res->changed_user), "%s", s->client.user_id);
    res->change = IRP_CHANGE_REGISTER;
    snprintf(res->detail, sizeof(res->detail), "device=%s granted=%u%s", q->device,
             (unsigned)granted, r->nat ? " nat" : "");
    return 0;
}

/* 6.8 */
int irpd__op_unregister(const irpd_hctx *h, irpd_session *s, const irp_req *q, irpd_opctx *o)
{
    IRPD_OP_UNPACK(o);
    size_t n = 0;
    int st;

    if ((st = acting_user_ok(s, q, x)) != 0) return st;
    st = irpd_store_binding_delete(h->st, s->client.user_id, q->all ? NULL : q->device,
                                   q->has_seq ? &q->seq : NULL, s->client.user_id, now, &n);
    if (st == IRP_NOT_FOUND) return irpd__fail(x, st, "no live binding of that device");
    if (st == IRP_CONFLICT) return irpd__fail(x, st, "stale sequence number");
    if (st != 0) return irpd__store_fail(h, x, st, "unregister");
    if (n > 0) {
        res->changed = 1;
        snprintf(res->changed_user, sizeof(res->changed_user), "%s", s->client.user_id);
        res->change = IRP_CHANGE_UNREGISTER;
    }
    return 0;
}

/* 6.9 */
int irpd__op_lookup(const irpd_hctx *h, irpd_session *s, const irp_req *q, irpd_opctx *o)
{
    IRPD_OP_UNPACK(o);
    irpd_lookup_cb cb = {irpd__collect_binding, collect_cert};
    irpd__collect c = {r, x, now};
    unsigned flags = irpd__is_admin(h, s) ? IRPD_LOOKUP_ANY : 0;
    int st;

    st = irpd_store_lookup(h->st, s->client.user_id, q->user, now, flags, &cb, &c, x->user);
    if (st == IRP_FORBIDDEN)
        return irpd__fail(x, st, "%s does not allow you to look them up", q->user);
    if (st == IRP_NOT_FOUND) return irpd__fail(x, st, "no such user %s", q->user);
    if (st != 0 || x->bad) return irpd__store_fail(h, x, x->bad ? IRP_INTERNAL : st, "lookup");
    r->status = IRP_OK; /* part of the signed bytes */
    r->user = x->user;
    /* 7.4: signed with the registry certificate's key, sets r->at; the signature of an
     * identical answer made at most IRPD_SIGCACHE_MAX_AGE s ago is reused (7.4 "Caching") */
    if (irpd_sigcache_sign(h->sigs, r, (uint64_t)now, irpd_ca_server_key(h->ca),
                           irpd_ca_server_cert(h->ca), &x->sig) != 0)
        return irpd__fail(x, IRP_INTERNAL, "could not sign the answer");
    snprintf(x->msg, sizeof(x->msg), "%zu binding(s)", r->n_bindings);
    return 0;
}

/* 6.10 */
int irpd__op_watch(const irpd_hctx *h, irpd_session *s, const irp_req *q, irpd_opctx *o)
{
    IRPD_OP_UNPACK(o);
    irpd_lookup_cb cb = {irpd__collect_binding, NULL};
    irpd__collect c = {r, x, now};
    unsigned flags = IRPD_LOOKUP_WATCH | (irpd__is_admin(h, s) ? IRPD_LOOKUP_ANY : 0);
    int st;

    if (!irpd_session_watches(s, q->user) && s->n_watches >= IRPD_MAX_WATCHES)
        return irpd__fail(x, IRP_CONFLICT, "at most %d watches per connection", IRPD_MAX_WATCHES);
    st = irpd_store_lookup(h->st, s->client.user_id, q->user, now, flags, &cb, &c, x->user);
    if (st == IRP_FORBIDDEN)
        return irpd__fail(x, st, "%s does not allow you to watch them", q->user);
    if (st == IRP_NOT_FOUND) return irpd__fail(x, st, "no such user %s", q->user);
    if (st != 0 || x->bad) return irpd__store_fail(h, x, x->bad ? IRP_INTERNAL : st, "watch");
    if (!irpd_session_watches(s, x->user)) {
        if (s->watches == NULL) {
            s->watches = calloc(IRPD_MAX_WATCHES, sizeof(*s->watches));
            if (s->watches == NULL) return irpd__fail(x, IRP_INTERNAL, "out of memory");
        }
        snprintf(s->watches[s->n_watches++], sizeof(s->watches[0]), "%s", x->user);
    }
    r->user = x->user;
    r->at = (uint64_t)now;
    return 0;
}

int irpd__op_unwatch(const irpd_hctx *h, irpd_session *s, const irp_req *q, irpd_opctx *o)
{
    IRPD_OP_UNPACK(o);
    size_t i;

    for (i = 0; i < s->n_watches; i++) {
        if (strcasecmp(s->watches[i], q->user) == 0) {
            memmove(s->watches[i], s->watches[s->n_watches - 1], sizeof(s->watches[0]));
            s->n_watches--;
            break;
        }
    }
    return 0;
}

/* Finds a certificate by serial or fingerprint: 0, IRP_NOT_FOUND, or a failure. */
static int cert_find(const irpd_hctx *h, const irp_req *q, irpd_cert *c)
{
    memset(c, 0, sizeof(*c));
    if (q->serial != NULL) return irpd_store_cert_get_serial(h->st, q->serial, c, NULL, 0);
    return irpd_store_cert_get_fp(h->st, q->fp, c, NULL, 0);
}

static int check_one_of(const irp_req *q, hscratch *x)
{
    if ((q->serial != NULL) == (q->has_fp != 0))
        return irpd__fail(x, IRP_BAD_REQUEST, "give exactly one of serial and fp");
    return 0;
}

/* 6.11 */
int irpd__op_cert_status(const irpd_hctx *h, irpd_session *s, const irp_req *q, irpd_opctx *o)
{
    IRPD_OP_UNPACK(o);
    irpd_cert c;
    int st, show_user;

    if ((st = check_one_of(q, x)) != 0) return st;
    st = cert_find(h, q, &c);
    r->n_certs = 1;
    if (st == IRP_NOT_FOUND) {
        r->certs[0].state = IRP_CERT_UNKNOWN;
        if (q->serial != NULL) {
            snprintf(x->serials[0], sizeof(x->serials[0]), "%s", q->serial);
            r->certs[0].serial = x->serials[0];
        }
        return 0;
    }
    if (st != 0) return irpd__store_fail(h, x, st, "cert-status");
    /* 7.3: the user is shown only to whom the owner's policy allows */
    show_user = irpd_store_access_check(h->st, s->client.user_id, c.user,
                                        irpd__is_admin(h, s) ? IRPD_LOOKUP_ANY : 0) == 0;
    resp_cert(&r->certs[0], &c, now, show_user, x, 0);
    return 0;
}

/* 6.12 */
int irpd__op_revoke(const irpd_hctx *h, irpd_session *s, const irp_req *q, irpd_opctx *o)
{
    IRPD_OP_UNPACK(o);
    irpd_revocation rev;
    irpd_cert c;
    int st;

    if ((st = check_one_of(q, x)) != 0) return st;
    st = cert_find(h, q, &c);
    if (st == IRP_NOT_FOUND) return irpd__fail(x, st, "no such certificate");
    if (st != 0) return irpd__store_fail(h, x, st, "revoke");
    if (strcasecmp(c.user, s->client.user_id) != 0 && !irpd__is_admin(h, s))
        return irpd__fail(x, IRP_FORBIDDEN, "only the owner or an administrator may revoke it");
    memset(&rev, 0, sizeof(rev));
    st = irpd_store_cert_revoke(h->st, q->serial, q->serial != NULL ? NULL : q->fp,
                                q->reason != IRP_REASON_NONE ? reason_names[q->reason] : NULL,
                                s->client.user_id, now, &rev);
    if (st != 0) return irpd__store_fail(h, x, st, "revoke");
    if (cert_find(h, q, &c) != 0) return irpd__store_fail(h, x, IRP_INTERNAL, "revoke");
    resp_cert(&r->certs[0], &c, now, 1, x, 0);
    r->n_certs = 1;
    if (rev.n_certs > 0) {
        res->revoked = 1;
        memcpy(res->revoked_fp, c.fingerprint, 32);
        res->changed = 1;
        snprintf(res->changed_user, sizeof(res->changed_user), "%s", c.user);
        res->change = IRP_CHANGE_REVOKE;
    }
    snprintf(res->detail, sizeof(res->detail), "serial=%s bindings-ended=%zu", c.serial,
             rev.n_bindings);
    return 0;
}

/* ---- dispatch ------------------------------------------------------------------- */

static int write_resp(sc_buf *out, const irp_resp *r)
{
    size_t start = irp_frame_begin(out);
    int rc;

    if (irp_resp_write(out, r) == 0) return irp_frame_end(out, start) == 0 ? 0 : -1;
    /* nothing written: irp_frame_end removes the empty frame (anything else: close) */
    if (irp_frame_end(out, start) != SC_ERR_TOO_LARGE) return -1;
    start = irp_frame_begin(out);
    rc = irp_resp_write_status(out, r->id, IRP_INTERNAL, "could not write the answer");
    return irp_frame_end(out, start) == 0 && rc == 0 ? 0 : -1;
}

int irpd__answer(sc_buf *out, irp_resp *r, const char *id, int st, hscratch *x, irpd_hresult *res)
{
    int rc;

    res->status = st == 0 ? IRP_OK : st; /* the edge: 0 inside, 200 on the wire */
    if (st == 0) {
        snprintf(r->id, sizeof(r->id), "%s", id);
        r->status = IRP_OK;
        r->msg = x->msg[0] != '\0' ? x->msg : "ok";
        rc = write_resp(out, r);
    } else {
        size_t start = irp_frame_begin(out);
        rc = irp_resp_write_status(out, id, st, x->msg);
        rc = irp_frame_end(out, start) == 0 && rc == 0 ? 0 : -1;
        if (res->detail[0] == '\0') snprintf(res->detail, sizeof(res->detail), "%.90s", x->msg);
    }
    return rc;
}

int irpd_event_build(const irpd_hctx *h, irpd_session *s, const char *user, irp_change reason,
                     int end, int64_t now, sc_buf *out)
{
    irp_resp tmp; /* bindings are collected into a response, then moved into the event */
    irp_event e;
    hscratch *x = h->x;
    irpd__collect c;
    size_t start;
    int rc = -1;

    irpd__scratch_reset(x);
    irp_resp_init(&tmp);
    irp_event_init(&e);
    c.r = &tmp;
    c.x = x;
    c.now = now;
    if (!end &&
        (irpd_store_binding_list(h->st, user, now, irpd__collect_binding, &c) != 0 || x->bad))
        goto out;
    e.type = end ? IRP_EVENT_WATCH_END : IRP_EVENT_BINDING;
    e.user = user;
    e.seq = ++s->event_seq;
    e.at = (uint64_t)now;
    e.reason = reason;
    memcpy(e.bindings, tmp.bindings, sizeof(tmp.bindings));
    e.n_bindings = tmp.n_bindings;
    start = irp_frame_begin(out);
    rc = irp_event_write(out, &e);
    rc = irp_frame_end(out, start) == 0 && rc == 0 ? 0 : -1;
out:
    irpd__scratch_reset(x);
    return rc;
}
