/*
 * irpd_store.c - what every backend of irpd_store.h shares: the checks that
 * refuse what the schema or the protocol cannot hold, so every backend
 * refuses the same things (irpd_store.h, "Backend interface"). Nothing here
 * knows a database.
 */
#include <string.h>

#include "irpd_store_int.h"
#include "sc_cert.h"

/* ---- validation: refuse what the schema or the protocol cannot hold ---------- */

int irpd__store_valid_user(const char *s)
{
    return sc_cert_valid_user_id(s);
}

/* 1..max bytes of [A-Za-z0-9._-] (device ids) or [a-z0-9-] (info names: lower). */
int irpd__store_valid_id(const char *s, size_t max, int lower)
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
int irpd__store_valid_ascii(const char *s, size_t min, size_t max, int space)
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
int irpd__store_valid_utf8(const unsigned char *s, size_t n, int ws)
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
int irpd__store_valid_opt_text(const char *s)
{
    if (s == NULL) return 1;
    size_t n = strnlen(s, IRPD_STORE_TEXT_MAX + 1);
    return n <= IRPD_STORE_TEXT_MAX && irpd__store_valid_utf8((const unsigned char *)s, n, 0);
}

/* Lowercase copy of a hex serial into out (IRPD_STORE_SERIAL_MAX + 1 bytes); 0 if not hex. */
int irpd__store_canon_serial(const char *s, char *out)
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

/* ASCII case-insensitive equality: how SQLite's NOCASE and sc_cert compare user IDs. */
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

/* seq is a u64, SQLite integers are signed: store the same 64 bits (compared in C). */
int64_t irpd__store_seq_to_db(uint64_t x)
{
    return x <= INT64_MAX ? (int64_t)x : -(int64_t)(UINT64_MAX - x) - 1;
}

uint64_t irpd__store_seq_from_db(int64_t v)
{
    return v >= 0 ? (uint64_t)v : UINT64_MAX - (uint64_t)(-(v + 1));
}

int irpd__store_valid_reason(const char *reason)
{
    return irpd__store_valid_ascii(reason, 1, IRPD_STORE_REASON_MAX, 0);
}

int irpd__store_valid_binding(const irpd_binding *b, int64_t now)
{
    if (b == NULL || !irpd__store_valid_user(b->user) ||
        !irpd__store_valid_id(b->device, IRPD_STORE_DEVICE_MAX, 0) || b->port == 0 ||
        b->n_addrs == 0 || b->n_addrs > IRPD_STORE_ADDRS_MAX || b->expires <= now ||
        !irpd__store_valid_ascii(b->seen, 0, IRPD_STORE_ADDR_MAX, 0))
        return 0;
    for (size_t i = 0; i < b->n_addrs; i++)
        if (!irpd__store_valid_ascii(b->addrs[i], 1, IRPD_STORE_ADDR_MAX, 0)) return 0;
    return 1;
}

int irpd__store_lookup_args_ok(const char *viewer, const char *target, unsigned flags)
{
    return irpd__store_valid_user(target) &&
           (viewer != NULL ? irpd__store_valid_user(viewer) : (flags & IRPD_LOOKUP_ANY) != 0);
}
