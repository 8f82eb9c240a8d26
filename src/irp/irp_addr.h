/*
 * irp_addr.h - IP addresses in IRP messages (docs/IRP.md 4.2, 6.7).
 *
 * On the wire an address is an IP literal (text for inet_pton: dotted quad
 * or RFC 4291 IPv6, no zone, no brackets, no port). In memory it is the
 * binary address and its family. An IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) is stored as the IPv4 address it denotes, so that a
 * dual-stack server's view of an IPv4 peer compares equal to the peer's
 * own claim.
 */
#ifndef IRP_ADDR_H
#define IRP_ADDR_H

#include <stddef.h>
#include <stdint.h>

#include "sixchat/error.h"
#include "irp_status.h"

#define IRP_ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */

typedef struct irp_addr {
    uint8_t family; /* 4 or 6 */
    uint8_t ip[16]; /* IPv4: the first 4 bytes, the rest zero */
} irp_addr;

/*
 * Parses the literal s[0..n). Returns 0, or IRP_INVALID (422) when it is
 * not an IP literal (empty, too long, a zone, a host name ...).
 */
SC_MUST_CHECK int irp_addr_parse(const char *s, size_t n, irp_addr *out);
/* Sets *out from a binary address of family 4 (4 bytes) or 6 (16 bytes). SC_ERR_ARG otherwise. */
SC_MUST_CHECK int irp_addr_set(irp_addr *out, int family, const uint8_t *ip);
/* Writes the canonical text (RFC 5952 for IPv6) with a NUL. SC_ERR_ARG for a bad family. */
SC_MUST_CHECK int irp_addr_format(const irp_addr *a, char out[IRP_ADDR_STRLEN]);
int irp_addr_equal(const irp_addr *a, const irp_addr *b);

/*
 * What kind of address (docs/IRP.md 6.7 says which ones a registry accepts).
 * An IPv6 address that embeds an IPv4 one (NAT64 64:ff9b::/96, 6to4
 * 2002::/16, Teredo's client, ::ffff:0:a.b.c.d, ::a.b.c.d) has the class of
 * the embedded address; ::a.b.c.d with a global one, and fec0::/10, are
 * reserved.
 */
typedef enum irp_addr_class {
    IRP_ADDR_GLOBAL = 0,  /* everything not below */
    IRP_ADDR_PRIVATE,     /* 10/8, 172.16/12, 192.168/16 */
    IRP_ADDR_SHARED,      /* 100.64/10 (carrier-grade NAT) */
    IRP_ADDR_ULA,         /* fc00::/7 */
    IRP_ADDR_LOOPBACK,    /* 127/8, ::1 */
    IRP_ADDR_LINK_LOCAL,  /* 169.254/16, fe80::/10 */
    IRP_ADDR_UNSPECIFIED, /* 0/8, :: */
    IRP_ADDR_MULTICAST,   /* 224/4, ff00::/8 */
    IRP_ADDR_RESERVED,    /* 240/4 (with 255.255.255.255), fec0::/10 */
} irp_addr_class;

irp_addr_class irp_addr_classify(const irp_addr *a);
/* A short name of the class ("loopback"), for reasons in responses and logs. */
const char *irp_addr_class_name(irp_addr_class c);

#endif
