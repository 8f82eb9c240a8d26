/*
 * irp_addr.c - IP literals in IRP messages (docs/IRP.md 4.2, 6.7).
 *
 * inet_pton does the parsing, inet_ntop the writing: both are exact and
 * round-trip, and neither resolves names.
 */
#include "irp_addr.h"

#include <arpa/inet.h>
#include <string.h>

#include "sixchat/error.h"

/* The longest literal inet_pton can accept: ffff:...:ffff:255.255.255.255. */
#define IRP_ADDR_TEXT_MAX 45

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int irp_addr_set(irp_addr *out, int family, const uint8_t *ip)
{
    if (out == NULL || ip == NULL || (family != 4 && family != 6)) return SC_ERR_ARG;
    memset(out, 0, sizeof *out);
    if (family == 6 && memcmp(ip, v4mapped_prefix, 12) == 0) {
        /* ::ffff:a.b.c.d is the IPv4 address a.b.c.d (what a dual-stack socket reports). */
        out->family = 4;
        memcpy(out->ip, ip + 12, 4);
        return SC_OK;
    }
    out->family = (uint8_t)family;
    memcpy(out->ip, ip, family == 4 ? 4 : 16);
    return SC_OK;
}

int irp_addr_parse(const char *s, size_t n, irp_addr *out)
{
    char text[IRP_ADDR_TEXT_MAX + 1];
    uint8_t ip[16];
    memset(out, 0, sizeof *out);
    if (s == NULL || n == 0 || n > IRP_ADDR_TEXT_MAX || memchr(s, '\0', n) != NULL)
        return IRP_INVALID;
    memcpy(text, s, n);
    text[n] = '\0';
    int family = memchr(s, ':', n) != NULL ? 6 : 4;
    if (inet_pton(family == 6 ? AF_INET6 : AF_INET, text, ip) != 1) return IRP_INVALID;
    return irp_addr_set(out, family, ip) == SC_OK ? 0 : IRP_INVALID;
}

int irp_addr_format(const irp_addr *a, char out[IRP_ADDR_STRLEN])
{
    out[0] = '\0';
    if (a == NULL || (a->family != 4 && a->family != 6)) return SC_ERR_ARG;
    if (inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->ip, out, IRP_ADDR_STRLEN) == NULL)
        return SC_ERR_ARG;
    return SC_OK;
}

int irp_addr_equal(const irp_addr *a, const irp_addr *b)
{
    return a->family == b->family && memcmp(a->ip, b->ip, a->family == 4 ? 4 : 16) == 0;
}

static irp_addr_class classify4(const uint8_t *p)
{
    if (p[0] == 0) return IRP_ADDR_UNSPECIFIED;
    if (p[0] == 127) return IRP_ADDR_LOOPBACK;
    if (p[0] == 169 && p[1] == 254) return IRP_ADDR_LINK_LOCAL;
    if (p[0] == 10 || (p[0] == 172 && (p[1] & 0xf0) == 16) || (p[0] == 192 && p[1] == 168))
        return IRP_ADDR_PRIVATE;
    if (p[0] == 100 && (p[1] & 0xc0) == 64) return IRP_ADDR_SHARED;
    if ((p[0] & 0xf0) == 224) return IRP_ADDR_MULTICAST;
    if ((p[0] & 0xf0) == 240) return IRP_ADDR_RESERVED;
    return IRP_ADDR_GLOBAL;
}

/*
 * The IPv4 address that an IPv6 address carries by a standard embedding, if
 * any: a host reached through it is the IPv4 host, so a loopback, private or
 * multicast IPv4 address stays what it is behind an IPv6 prefix.
 * Returns the kind of embedding, 0 for none.
 */
enum { EMB_NONE = 0, EMB_COMPAT, EMB_OTHER };
static int embedded_ipv4(const uint8_t *p, uint8_t v4[4])
{
    static const uint8_t zero[12];
    static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b}; /* 64:ff9b::/96, RFC 6052 2.1 */
    static const uint8_t translated[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0};
    if (memcmp(p, zero, 12) == 0) { /* ::a.b.c.d, IPv4-compatible (RFC 4291 2.5.5.1) */
        memcpy(v4, p + 12, 4);
        return EMB_COMPAT;
    }
    if (memcmp(p, nat64, 12) == 0 || memcmp(p, translated, 12) == 0) {
        /* NAT64 and ::ffff:0:a.b.c.d, IPv4-translated (RFC 2765 2.1) */
        memcpy(v4, p + 12, 4);
        return EMB_OTHER;
    }
    if (p[0] == 0x20 && p[1] == 0x02) { /* 2002:V4ADDR::/48, 6to4 (RFC 3056 2) */
        memcpy(v4, p + 2, 4);
        return EMB_OTHER;
    }
    if (p[0] == 0x20 && p[1] == 0x01 && p[2] == 0 && p[3] == 0) {
        /* Teredo 2001::/32: the client's address, bits inverted, last (RFC 4380 4) */
        for (int i = 0; i < 4; i++)
            v4[i] = (uint8_t)~p[12 + i];
        return EMB_OTHER;
    }
    return EMB_NONE;
}

static irp_addr_class classify6(const uint8_t *p)
{
    static const uint8_t zero[15];
    uint8_t v4[4];
    if (memcmp(p, zero, 15) == 0 && p[15] <= 1)
        return p[15] == 0 ? IRP_ADDR_UNSPECIFIED : IRP_ADDR_LOOPBACK;
    int emb = embedded_ipv4(p, v4);
    if (emb != EMB_NONE) {
        irp_addr_class c = classify4(v4);
        /* IPv4-compatible addresses are deprecated and routed nowhere (RFC 4291 2.5.5.1) */
        return c == IRP_ADDR_GLOBAL && emb == EMB_COMPAT ? IRP_ADDR_RESERVED : c;
    }
    if (p[0] == 0xfe && (p[1] & 0xc0) == 0x80) return IRP_ADDR_LINK_LOCAL;
    /* fec0::/10, site-local: deprecated (RFC 3879), reserved by IETF */
    if (p[0] == 0xfe && (p[1] & 0xc0) == 0xc0) return IRP_ADDR_RESERVED;
    if ((p[0] & 0xfe) == 0xfc) return IRP_ADDR_ULA;
    if (p[0] == 0xff) return IRP_ADDR_MULTICAST;
    return IRP_ADDR_GLOBAL;
}

irp_addr_class irp_addr_classify(const irp_addr *a)
{
    if (a->family == 4) return classify4(a->ip);
    if (a->family == 6) return classify6(a->ip);
    return IRP_ADDR_RESERVED;
}

const char *irp_addr_class_name(irp_addr_class c)
{
    switch (c) {
    case IRP_ADDR_GLOBAL:
        return "global";
    case IRP_ADDR_PRIVATE:
        return "private";
    case IRP_ADDR_SHARED:
        return "shared (carrier-grade NAT)";
    case IRP_ADDR_ULA:
        return "unique-local";
    case IRP_ADDR_LOOPBACK:
        return "loopback";
    case IRP_ADDR_LINK_LOCAL:
        return "link-local";
    case IRP_ADDR_UNSPECIFIED:
        return "unspecified";
    case IRP_ADDR_MULTICAST:
        return "multicast";
    case IRP_ADDR_RESERVED:
        return "reserved";
    }
    return "unknown";
}
