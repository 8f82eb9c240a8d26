/*
 * irpd_store.c - the front of irpd_store.h: every irpd_store_ function
 * checks its arguments here, once, for every backend, and only then calls
 * the backend's entry (irpd_store_int.h). What each function refuses is
 * said once, at its declaration in irpd_store.h; the checks below are
 * those sentences in code. Nothing here knows a database.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "irpd_store_int.h"
#include "sc_cert.h"
#include "sc_crypto.h"

/* ---- validation: refuse what the schema or the protocol cannot hold ---------- */

static int valid_user(const char *s)
{
    return sc_cert_valid_user_id(s);
}

/* 1..max bytes of [A-Za-z0-9._-] (device ids) or [a-z0-9-] (info names: lower). */
static int valid_id(const char *s, size_t max, int lower)
{
    size_t n = s != NULL ? strnlen(s, max + 1) : 0;
    if (n == 0 || n > max) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                 (!lower && ((c >= 'A' && c <= 'Z') || c == '.' || c == '_'));
        if (!ok) return 0;
    }
    return 1;
}

/* min..max bytes of printable ASCII; a space only when `space`. */
static int valid_ascii(const char *s, size_t min, size_t max, int space)
{
    size_t n = s != NULL ? strnlen(s, max + 1) : 0;
    if (n < min || n > max) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c > 0x7e || c < 0x20 || (c == 0x20 && !space)) return 0;
    }
    return 1;
}

/*
 * n bytes of well-formed UTF-8 without control characters (C0, DEL, C1),
 * except TAB, LF and CR when `ws` (XML text allows those, IRP.md 4.2).
 */
static int valid_utf8(const unsigned char *s, size_t n, int ws)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i], len, cp;
        if (c < 0x80) {
            if ((c < 0x20 && !(ws && (c == '\t' || c == '\n' || c == '\r'))) || c == 0x7f) return 0;
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            len = 2, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            len = 3, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            len = 4, cp = c & 0x07;
        else
            return 0;
        if (i + len > n) return 0;
        for (unsigned k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return 0;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp <= 0x9f)
            return 0;
        i += len;
    }
    return 1;
}

/* NULL, or at most IRPD_STORE_TEXT_MAX bytes of text on one line (audit fields). */
static int valid_opt_text(const char *s)
{
    if (s == NULL) return 1;
    size_t n = strnlen(s, IRPD_STORE_TEXT_MAX + 1);
    return n <= IRPD_STORE_TEXT_MAX && valid_utf8((const unsigned char *)s, n, 0);
}

/* Lowercase copy of a hex serial into out (IRPD_STORE_SERIAL_MAX + 1 bytes); 0 if not hex. */
static int canon_serial(const char *s, char *out)
{
    size_t n = s != NULL ? strnlen(s, IRPD_STORE_SERIAL_MAX + 1) : 0;
    if (n == 0 || n > IRPD_STORE_SERIAL_MAX) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'F') c = (char)(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return 0;
        out[i] = c;
    }
    out[n] = '\0';
    return 1;
}

/* ASCII case-insensitive equality (irpd_store_int.h). */
int irpd__store_same_user(const char *a, const char *b)
{
    for (;; a++, b++) {
        char x = *a, y = *b;
        if (x >= 'A' && x <= 'Z') x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = (char)(y - 'A' + 'a');
        if (x != y) return 0;
        if (x == '\0') return 1;
    }
}

/* seq to and from the database (irpd_store_int.h). */
int64_t irpd__store_seq_to_db(uint64_t x)
{
    return x <= INT64_MAX ? (int64_t)x : -(int64_t)(UINT64_MAX - x) - 1;
}

uint64_t irpd__store_seq_from_db(int64_t v)
{
    return v >= 0 ? (uint64_t)v : UINT64_MAX - (uint64_t)(-(v + 1));
}

static int valid_reason(const char *reason)
{
    return valid_ascii(reason, 1, IRPD_STORE_REASON_MAX, 0);
}

static int valid_binding(const irpd_binding *b, int64_t now)
{
    if (b == NULL || !valid_user(b->user) || !valid_id(b->device, IRPD_STORE_DEVICE_MAX, 0) ||
        b->port == 0 || b->n_addrs == 0 || b->n_addrs > IRPD_STORE_ADDRS_MAX || b->expires <= now ||
        !valid_ascii(b->seen, 0, IRPD_STORE_ADDR_MAX, 0))
        return 0;
    for (size_t i = 0; i < b->n_addrs; i++)
        if (!valid_ascii(b->addrs[i], 1, IRPD_STORE_ADDR_MAX, 0)) return 0;
    return 1;
}

static int lookup_args_ok(const char *viewer, const char *target, unsigned flags)
{
    return valid_user(target) &&
           (viewer != NULL ? valid_user(viewer) : (flags & IRPD_LOOKUP_ANY) != 0);
}

/* ---- errors -------------------------------------------------------------------- */

irp_status irpd__store_failf(irpd_store *st, irp_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->errmsg, sizeof st->errmsg, fmt, ap);
    va_end(ap);
    return status;
}

#define BAD(what, why) irpd__store_failf(st, IRP_BAD_REQUEST, "%s: %s", what, why)

/* A store whose open failed answers IRP_INTERNAL (irpd_store.h, "Callbacks" ff.). */
#define REQUIRE_USABLE(st)                                                                         \
    do {                                                                                           \
        if (!(st)->usable) return irpd__store_failf((st), IRP_INTERNAL, "the store is not open");  \
    } while (0)

/*
 * A certificate record given as input: checked, then copied with its serial
 * in lowercase and its fingerprint computed (what a backend receives).
 */
static irp_status cert_in(irpd_store *st, const char *what, const irpd_cert *c, irpd_cert *out)
{
    if (c == NULL || !valid_user(c->user) || c->der == NULL || c->der_len == 0 ||
        c->der_len > IRPD_STORE_CERT_DER_MAX || c->not_after <= c->not_before)
        return BAD(what, "invalid certificate record");
    *out = *c;
    if (!canon_serial(c->serial, out->serial)) return BAD(what, "invalid certificate serial");
    if (sc_sha256(c->der, c->der_len, out->fingerprint) != 0)
        return irpd__store_failf(st, IRP_INTERNAL, "%s: SHA-256 failed", what);
    return 0;
}

/* ---- opening, closing, group commit ------------------------------------------------ */

void irpd_store_close(irpd_store *st)
{
    if (st != NULL) st->ops->close(st);
}

const char *irpd_store_errmsg(const irpd_store *st)
{
    return st != NULL ? st->errmsg : "out of memory";
}

irp_status irpd_store_batch_begin(irpd_store *st)
{
    REQUIRE_USABLE(st);
    return st->ops->batch_begin(st);
}

irp_status irpd_store_batch_commit(irpd_store *st)
{
    REQUIRE_USABLE(st);
    return st->ops->batch_commit(st);
}

void irpd_store_batch_rollback(irpd_store *st)
{
    if (st->usable) st->ops->batch_rollback(st);
}

irp_status irpd_store_flush(irpd_store *st)
{
    REQUIRE_USABLE(st);
    return st->ops->flush(st);
}

irp_status irpd_store_reads_take(irpd_store *st, irpd_audit_cb cb, void *arg)
{
    REQUIRE_USABLE(st);
    if (cb == NULL) return BAD("reads_take", "no callback");
    return st->ops->reads_take(st, cb, arg);
}

/* ---- users ----------------------------------------------------------------------------- */

irp_status irpd_store_user_add(irpd_store *st, const char *name, const char *actor, int64_t now)
{
    REQUIRE_USABLE(st);
    if (!valid_user(name) || !valid_opt_text(actor))
        return BAD("user-add", "invalid user ID or actor");
    return st->ops->user_add(st, name, actor, now);
}

irp_status irpd_store_user_get(irpd_store *st, const char *name, irpd_user *out)
{
    REQUIRE_USABLE(st);
    if (!valid_user(name) || out == NULL) return BAD("user-get", "invalid user ID");
    return st->ops->user_get(st, name, out);
}

irp_status irpd_store_user_list(irpd_store *st, const char *after, size_t limit, int64_t now,
                                irpd_user_cb cb, void *arg)
{
    REQUIRE_USABLE(st);
    if ((after != NULL && !valid_user(after)) || cb == NULL)
        return BAD("list-users", "invalid user ID or no callback");
    return st->ops->user_list(st, after, limit, now, cb, arg);
}

irp_status irpd_store_user_set_password(irpd_store *st, const char *name, const uint8_t *hash,
                                        size_t hash_len, const uint8_t *salt, size_t salt_len,
                                        const char *actor, int64_t now)
{
    REQUIRE_USABLE(st);
    if (!valid_user(name) || !valid_opt_text(actor) ||
        (hash != NULL && (hash_len == 0 || hash_len > IRPD_STORE_PW_MAX ||
                          (salt == NULL && salt_len != 0) || salt_len > IRPD_STORE_SALT_MAX)))
        return BAD("passwd", "invalid user ID, hash or salt");
    if (hash == NULL) hash_len = salt_len = 0, salt = NULL;
    return st->ops->user_set_password(st, name, hash, hash_len, salt, salt_len, actor, now);
}

irp_status irpd_store_user_set_admin(irpd_store *st, const char *name, int admin, const char *actor,
                                     int64_t now)
{
    REQUIRE_USABLE(st);
    if (!valid_user(name) || !valid_opt_text(actor)) return BAD("admin", "invalid user ID");
    return st->ops->user_set_admin(st, name, admin != 0, actor, now);
}

irp_status irpd_store_user_set_access(irpd_store *st, const char *name, irpd_access access,
                                      const char *const *allow, size_t n_allow, const char *actor,
                                      int64_t now)
{
    REQUIRE_USABLE(st);
    if (n_allow > IRPD_STORE_ALLOW_MAX)
        return irpd__store_failf(st, IRP_TOO_LARGE, "lookup-policy: %zu allowed users (at most %d)",
                                 n_allow, IRPD_STORE_ALLOW_MAX);
    int ok = valid_user(name) && valid_opt_text(actor) && access >= IRPD_ACCESS_ANYONE &&
             access <= IRPD_ACCESS_NOBODY &&
             (n_allow == 0 || (allow != NULL && access == IRPD_ACCESS_LIST));
    for (size_t i = 0; ok && i < n_allow; i++) {
        ok = valid_user(allow[i]);
        for (size_t j = 0; ok && j < i; j++)
            ok = !irpd__store_same_user(allow[i], allow[j]);
    }
    if (!ok) return BAD("lookup-policy", "invalid access, or an invalid or repeated user ID");
    return st->ops->user_set_access(st, name, access, allow, n_allow, actor, now);
}

irp_status irpd_store_allow_list(irpd_store *st, const char *name, irpd_name_cb cb, void *arg)
{
    REQUIRE_USABLE(st);
    if (!valid_user(name) || cb == NULL)
        return BAD("lookup-policy", "invalid user ID or no callback");
    return st->ops->allow_list(st, name, cb, arg);
}

irp_status irpd_store_info_set(irpd_store *st, const char *user, const irpd_info *items, size_t n,
                               const char *actor, int64_t now)
{
    const char *what = "user-info";
    REQUIRE_USABLE(st);
    if (!valid_user(user) || !valid_opt_text(actor) || (items == NULL && n > 0))
        return BAD(what, "invalid user ID");
    if (n > IRPD_STORE_INFO_MAX)
        return irpd__store_failf(st, IRP_TOO_LARGE, "%s: %zu items (at most %d)", what, n,
                                 IRPD_STORE_INFO_MAX);
    for (size_t i = 0; i < n; i++) {
        if (!valid_id(items[i].name, IRPD_STORE_INFO_NAME_MAX, 1) ||
            (items[i].value == NULL && items[i].value_len > 0))
            return BAD(what, "invalid item name");
        for (size_t j = 0; j < i; j++)
            if (strcmp(items[i].name, items[j].name) == 0)
                return irpd__store_failf(st, IRP_BAD_REQUEST, "%s: item %s given twice", what,
                                         items[i].name);
        if (items[i].value_len > IRPD_STORE_INFO_VALUE_MAX)
            return irpd__store_failf(st, IRP_TOO_LARGE, "%s: item %s over %d bytes", what,
                                     items[i].name, IRPD_STORE_INFO_VALUE_MAX);
        if (!valid_utf8((const unsigned char *)items[i].value, items[i].value_len, 1))
            return irpd__store_failf(st, IRP_BAD_REQUEST, "%s: item %s is not text", what,
                                     items[i].name);
    }
    return st->ops->info_set(st, user, items, n, actor, now);
}

irp_status irpd_store_info_get(irpd_store *st, const char *user, irpd_info_cb cb, void *arg)
{
    REQUIRE_USABLE(st);
    if (!valid_user(user) || cb == NULL) return BAD("user-info", "invalid user ID or no callback");
    return st->ops->info_get(st, user, cb, arg);
}

/* ---- enrolment tokens ------------------------------------------------------------------ */

irp_status irpd_store_token_add(irpd_store *st, const uint8_t hash[32], const char *user,
                                int64_t expires, const char *actor, int64_t now)
{
    REQUIRE_USABLE(st);
    if (hash == NULL || !valid_user(user) || expires <= now || !valid_opt_text(actor))
        return BAD("token", "invalid user ID or expiry");
    return st->ops->token_add(st, hash, user, expires, actor, now);
}

irp_status irpd_store_token_check(irpd_store *st, const uint8_t hash[32], int64_t now,
                                  char *user_out)
{
    REQUIRE_USABLE(st);
    if (hash == NULL) return BAD("token", "no hash");
    return st->ops->token_check(st, hash, now, user_out);
}

irp_status irpd_store_token_consume(irpd_store *st, const uint8_t hash[32], int64_t now,
                                    char *user_out, const char *actor)
{
    REQUIRE_USABLE(st);
    if (hash == NULL || !valid_opt_text(actor)) return BAD("token", "no hash or invalid actor");
    return st->ops->token_consume(st, hash, now, user_out, actor);
}

/* ---- certificates ------------------------------------------------------------------------ */

irp_status irpd_store_enroll(irpd_store *st, const uint8_t *token_hash, const irpd_cert *cert,
                             const char *actor, int64_t now, irpd_revocation *sup)
{
    irpd_cert c;
    REQUIRE_USABLE(st);
    irp_status status = cert_in(st, "enroll", cert, &c);
    if (status != 0) return status;
    if (!valid_opt_text(actor)) return BAD("enroll", "invalid actor");
    return st->ops->enroll(st, token_hash, &c, actor, now, sup);
}

irp_status irpd_store_cert_add(irpd_store *st, const irpd_cert *cert, const uint8_t *keep_fp,
                               const char *actor, int64_t now, irpd_revocation *sup)
{
    irpd_cert c;
    REQUIRE_USABLE(st);
    irp_status status = cert_in(st, "renew", cert, &c);
    if (status != 0) return status;
    if (!valid_opt_text(actor)) return BAD("renew", "invalid actor");
    return st->ops->cert_add(st, &c, keep_fp, actor, now, sup);
}

irp_status irpd_store_cert_get_serial(irpd_store *st, const char *serial, irpd_cert *out,
                                      uint8_t *der, size_t der_cap)
{
    char hex[IRPD_STORE_SERIAL_MAX + 1];
    REQUIRE_USABLE(st);
    if (!canon_serial(serial, hex) || out == NULL) return BAD("cert-status", "invalid serial");
    return st->ops->cert_get_serial(st, hex, out, der, der_cap);
}

irp_status irpd_store_cert_get_fp(irpd_store *st, const uint8_t fp[32], irpd_cert *out,
                                  uint8_t *der, size_t der_cap)
{
    REQUIRE_USABLE(st);
    if (fp == NULL || out == NULL) return BAD("cert-status", "no fingerprint");
    return st->ops->cert_get_fp(st, fp, out, der, der_cap);
}

irp_status irpd_store_cert_list(irpd_store *st, const char *user, irpd_cert_cb cb, void *arg)
{
    REQUIRE_USABLE(st);
    if (!valid_user(user)) return BAD("cert-list", "invalid user ID");
    return st->ops->cert_list(st, user, cb, arg);
}

irp_status irpd_store_cert_revoke(irpd_store *st, const char *serial, const uint8_t *fp,
                                  const char *reason, const char *actor, int64_t now,
                                  irpd_revocation *out)
{
    char hex[IRPD_STORE_SERIAL_MAX + 1];
    REQUIRE_USABLE(st);
    if (reason == NULL) reason = "unspecified";
    if ((serial == NULL) == (fp == NULL) || (serial != NULL && !canon_serial(serial, hex)) ||
        !valid_reason(reason) || !valid_opt_text(actor))
        return BAD("revoke", "give a serial or a fingerprint, and a reason");
    return st->ops->cert_revoke(st, serial != NULL ? hex : NULL, fp, reason, actor, now, out);
}

irp_status irpd_store_user_revoke(irpd_store *st, const char *user, const char *reason,
                                  const char *actor, int64_t now, irpd_revocation *out)
{
    REQUIRE_USABLE(st);
    if (reason == NULL) reason = "unspecified";
    if (!valid_user(user) || !valid_reason(reason) || !valid_opt_text(actor))
        return BAD("revoke", "invalid user ID or reason");
    return st->ops->user_revoke(st, user, reason, actor, now, out);
}

irp_status irpd_store_cert_record(irpd_store *st, const irpd_cert *cert, const char *actor,
                                  int64_t now)
{
    irpd_cert c;
    REQUIRE_USABLE(st);
    irp_status status = cert_in(st, "cert-record", cert, &c);
    if (status != 0) return status;
    if (!valid_opt_text(actor)) return BAD("cert-record", "invalid actor");
    return st->ops->cert_record(st, &c, actor, now);
}

/* ---- bindings ------------------------------------------------------------------------------ */

irp_status irpd_store_binding_put(irpd_store *st, const irpd_binding *b, const irpd_cert *auth_cert,
                                  const char *actor, int64_t now)
{
    irpd_cert auth;
    REQUIRE_USABLE(st);
    if (!valid_binding(b, now) || !valid_opt_text(actor)) return BAD("register", "invalid binding");
    if (auth_cert != NULL) {
        irp_status status = cert_in(st, "register", auth_cert, &auth);
        if (status != 0) return status;
    }
    return st->ops->binding_put(st, b, auth_cert != NULL ? &auth : NULL, actor, now);
}

irp_status irpd_store_binding_delete(irpd_store *st, const char *user, const char *device,
                                     const uint64_t *seq, const char *actor, int64_t now,
                                     size_t *n_ended)
{
    REQUIRE_USABLE(st);
    if (!valid_user(user) || (device != NULL && !valid_id(device, IRPD_STORE_DEVICE_MAX, 0)) ||
        (seq != NULL && device == NULL) || !valid_opt_text(actor))
        return BAD("unregister", "invalid user ID, device or seq");
    return st->ops->binding_delete(st, user, device, seq, actor, now, n_ended);
}

irp_status irpd_store_binding_list(irpd_store *st, const char *user, int64_t now,
                                   irpd_binding_cb cb, void *arg)
{
    REQUIRE_USABLE(st);
    if (!valid_user(user)) return BAD("bindings", "invalid user ID");
    return st->ops->binding_list(st, user, now, cb, arg);
}

irp_status irpd_store_sweep(irpd_store *st, int64_t now, irpd_binding_cb cb, void *arg,
                            size_t *n_expired)
{
    REQUIRE_USABLE(st);
    return st->ops->sweep(st, now, cb, arg, n_expired);
}

/* ---- lookup ---------------------------------------------------------------------------------- */

irp_status irpd_store_access_check(irpd_store *st, const char *viewer, const char *target,
                                   unsigned flags)
{
    REQUIRE_USABLE(st);
    if (!lookup_args_ok(viewer, target, flags)) return BAD("lookup", "invalid user ID");
    return st->ops->access_check(st, viewer, target, flags);
}

irp_status irpd_store_lookup(irpd_store *st, const char *viewer, const char *target, int64_t now,
                             unsigned flags, const irpd_lookup_cb *cb, void *arg, char *user_out)
{
    REQUIRE_USABLE(st);
    if (!lookup_args_ok(viewer, target, flags)) return BAD("lookup", "invalid user ID");
    return st->ops->lookup(st, viewer, target, now, flags, cb, arg, user_out);
}

irp_status irpd_store_access_log(irpd_store *st, const char *owner, int64_t after_id, size_t limit,
                                 irpd_audit_cb cb, void *arg)
{
    REQUIRE_USABLE(st);
    if (!valid_user(owner) || cb == NULL)
        return BAD("access-log", "invalid user ID or no callback");
    return st->ops->access_log(st, owner, after_id, limit, cb, arg);
}

/* ---- PKCS#12 backups --------------------------------------------------------------------------
 */

irp_status irpd_store_p12_put(irpd_store *st, const char *user, const uint8_t *blob, size_t len,
                              const char *actor, int64_t now)
{
    REQUIRE_USABLE(st);
    if (!valid_user(user) || blob == NULL || len == 0 || !valid_opt_text(actor))
        return BAD("pkcs12-put", "invalid user ID or empty backup");
    if (len > IRPD_STORE_P12_MAX)
        return irpd__store_failf(st, IRP_TOO_LARGE, "pkcs12-put: %zu bytes (at most %d)", len,
                                 IRPD_STORE_P12_MAX);
    return st->ops->p12_put(st, user, blob, len, actor, now);
}

irp_status irpd_store_p12_get(irpd_store *st, const char *user, uint8_t *buf, size_t cap,
                              size_t *len, int64_t *updated)
{
    REQUIRE_USABLE(st);
    if (!valid_user(user) || buf == NULL || len == NULL)
        return BAD("pkcs12-get", "invalid user ID");
    return st->ops->p12_get(st, user, buf, cap, len, updated);
}

/* ---- audit ----------------------------------------------------------------------------------- */

irp_status irpd_store_audit_add(irpd_store *st, int64_t now, const char *actor, const char *op,
                                const char *target, const char *detail)
{
    REQUIRE_USABLE(st);
    if (!valid_ascii(op, 1, IRPD_STORE_OP_MAX, 0) || !valid_opt_text(actor) ||
        !valid_opt_text(target) || !valid_opt_text(detail))
        return BAD("audit", "invalid op or text");
    return st->ops->audit_add(st, now, actor, op, target, detail);
}

irp_status irpd_store_audit_list(irpd_store *st, const char *target, int64_t after_id, size_t limit,
                                 irpd_audit_cb cb, void *arg)
{
    REQUIRE_USABLE(st);
    if (!valid_opt_text(target) || cb == NULL) return BAD("audit", "invalid target or no callback");
    return st->ops->audit_list(st, target, after_id, limit, cb, arg);
}
