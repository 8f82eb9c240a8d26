/*
 * agent_hex.c - hex text and random ids (agent_hex.h).
 */
#include "agent_hex.h"

#include "sixchat/platform.h"

void agent_hex(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

int agent_new_id(char out[33])
{
    uint8_t r[16];
    if (sc_random_system(NULL, r, sizeof(r)) != SC_OK) return SC_ERR_RANDOM;
    agent_hex(r, sizeof(r), out);
    return SC_OK;
}
