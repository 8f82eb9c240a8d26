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

static irp_addr_class classify6(const uint8_t *p)
{
    static const uint8_t zero[15];
    if (memcmp(p, zero, 15) == 0)
        return p[15] == 0 ? IRP_ADDR_UNSPECIFIED : p[15] == 1 ? IRP_ADDR_LOOPBACK : IRP_ADDR_GLOBAL;
    if (p[0] == 0xfe && (p[1] & 0xc0) == 0x80) return IRP_ADDR_LINK_LOCAL;
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
