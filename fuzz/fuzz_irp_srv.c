/*
 * fuzz_irp_srv.c - a DNS answer to the SRV query for a registry
 * (irp_srv_parse, docs/IRP.md 2.1), then its RFC 2782 order.
 *
 * Oracles: the status is one of the documented ones; on success there are
 * 1..cap targets, each a host name we may connect to (1..253 bytes of
 * letters, digits, '-', '_' and '.') with a port other than 0; ordering
 * keeps the same targets and sorts them by priority.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "irp_srv.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) abort();                                                                      \
    } while (0)

static uint32_t counter(void *arg)
{
    uint32_t *c = arg;
    return *c = *c * 1103515245u + 12345u;
}

static void check_host(const char *h)
{
    size_t n = strnlen(h, IRP_SRV_HOST_MAX + 1);
    CHECK(n >= 1 && n <= IRP_SRV_HOST_MAX);
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.');
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    irp_srv_target t[4], before[4];
    size_t n = 99;
    int st = irp_srv_parse(data, size, t, 4, &n);
    CHECK(st == 0 || st == IRP_NOT_FOUND || st == IRP_UNAVAILABLE || st == IRP_GONE ||
          st == IRP_BAD_REQUEST);
    if (st != 0) return 0;
    CHECK(n >= 1 && n <= 4);
    uint32_t portsum = 0;
    for (size_t i = 0; i < n; i++) {
        check_host(t[i].host);
        CHECK(t[i].port != 0);
        portsum += t[i].port;
    }
    memcpy(before, t, sizeof t);
    uint32_t seed = (uint32_t)size;
    irp_srv_order(t, n, counter, &seed);
    for (size_t i = 0; i < n; i++) {
        portsum -= t[i].port;
        if (i > 0) CHECK(t[i - 1].priority <= t[i].priority);
        int found = 0; /* every target ordered was one parsed */
        for (size_t k = 0; k < n && !found; k++)
            found = memcmp(&t[i], &before[k], sizeof t[i]) == 0;
        CHECK(found);
    }
    CHECK(portsum == 0);
    return 0;
}
