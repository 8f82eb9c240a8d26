/*
 * fuzz_agent_api.c - one line of the agent's local API decoded as a
 * JSON-RPC 2.0 request (src/agent/agent_api_msg.c, docs/AGENT-API.md 3).
 *
 * Oracles: an accepted line has a string method, params absent or an
 * object, an id absent, a string, an integer or null; written back out
 * and decoded again it gives the same method and id. A refused line gets
 * one of the three codes the document lists for malformed requests, a
 * message, and an id only when it is a string or an integer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent_api.h"
#include "agent_api_msg.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) abort();                                                                      \
    } while (0)

static void check_refused(const agent_api_msg *m)
{
    CHECK(m->err == AGENT_E_PARSE || m->err == AGENT_E_INVALID_REQUEST || m->err == AGENT_E_PARAMS);
    CHECK(m->why && m->why[0]);
    CHECK(!m->id || json_is_string(m->id) || json_is_integer(m->id) || json_is_null(m->id));
}

static void check_round_trip(const agent_api_msg *m)
{
    char *text = json_dumps(m->msg, JSON_COMPACT);
    CHECK(text != NULL);
    agent_api_msg again;
    CHECK(agent_api_msg_decode(text, strlen(text), &again) == 0);
    CHECK(strcmp(again.method, m->method) == 0);
    CHECK((again.id == NULL) == (m->id == NULL));
    if (m->id) CHECK(json_equal(again.id, m->id));
    CHECK((again.params == NULL) == (m->params == NULL));
    agent_api_msg_clear(&again);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    agent_api_msg m;
    if (agent_api_msg_decode((const char *)data, size, &m)) {
        check_refused(&m);
    } else {
        CHECK(m.method != NULL);
        CHECK(!m.params || json_is_object(m.params));
        CHECK(!m.id || json_is_string(m.id) || json_is_integer(m.id) || json_is_null(m.id));
        check_round_trip(&m);
    }
    agent_api_msg_clear(&m);
    return 0;
}
