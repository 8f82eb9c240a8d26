/*
 * Compiles only where the core's internal headers are reachable
 * (docs/ARCHITECTURE.md 10): tests/CMakeLists.txt builds it against targets
 * that must NOT reach them, and expects the build to fail.
 */
#include "sc_crypto.h"

int sc_layering_probe(void);

int sc_layering_probe(void)
{
    return 0;
}
