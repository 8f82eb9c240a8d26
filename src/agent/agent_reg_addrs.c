/*
 * agent_reg_addrs.c - which of the machine's addresses the agent registers
 * (issue 8; the classes docs/IRP.md 6.7 step 1 accepts): global,
 * unique-local, private and shared addresses always; loopback and
 * link-local only with allow_local (a registry accepts those only with
 * --allow-local, for tests on one machine). IPv6 first: peers race the
 * addresses in the order given, IPv6 first (RFC 8305).
 */
#include <string.h>
#include <uv.h>

#include "agent_reg_int.h"
#include "sixchat/error.h"

/* Rank of an address in the registered list; -1: never registered. */
static int rank(const irp_addr *a, int allow_local)
{
    switch (irp_addr_classify(a)) {
    case IRP_ADDR_GLOBAL:
        return a->family == 6 ? 0 : 1;
    case IRP_ADDR_ULA:
        return 2;
    case IRP_ADDR_PRIVATE:
        return 3;
    case IRP_ADDR_SHARED:
        return 4;
    case IRP_ADDR_LOOPBACK:
        return allow_local ? (a->family == 6 ? 5 : 6) : -1;
    case IRP_ADDR_LINK_LOCAL:
        return allow_local ? 7 : -1;
    default:
        return -1;
    }
}

int agent__reg_addrs_collect(int allow_local, irp_addr out[IRP_MAX_ADDRS], size_t *n)
{
    uv_interface_address_t *ifs = NULL;
    int count = 0, i, j, rk;
    size_t k = 0;

    *n = 0;
    if (uv_interface_addresses(&ifs, &count) != 0) return SC_ERR_IO;
    /* One pass per rank keeps the kernel's order within a rank. */
    for (rk = 0; rk <= 7 && k < IRP_MAX_ADDRS; rk++) {
        for (i = 0; i < count && k < IRP_MAX_ADDRS; i++) {
            irp_addr a;
            int fam = ifs[i].address.address4.sin_family, dup = 0, rc;
            if (fam == AF_INET)
                rc = irp_addr_set(&a, 4, (const uint8_t *)&ifs[i].address.address4.sin_addr);
            else if (fam == AF_INET6)
                rc = irp_addr_set(&a, 6, (const uint8_t *)&ifs[i].address.address6.sin6_addr);
            else
                continue;
            if (rc != 0) continue;
            if (rank(&a, allow_local) != rk) continue;
            for (j = 0; j < (int)k; j++)
                if (irp_addr_equal(&out[j], &a)) dup = 1;
            if (!dup) out[k++] = a;
        }
    }
    uv_free_interface_addresses(ifs, count);
    *n = k;
    return 0;
}

int agent__reg_addrs_same(const irp_addr *a, size_t na, const irp_addr *b, size_t nb)
{
    size_t i, j;
    if (na != nb) return 0;
    for (i = 0; i < na; i++) {
        int found = 0;
        for (j = 0; j < nb && !found; j++)
            found = irp_addr_equal(&a[i], &b[j]);
        if (!found) return 0;
    }
    return 1;
}
