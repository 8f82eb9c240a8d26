/*
 * agent_api_msg.h - one line of the local API decoded into a JSON-RPC 2.0
 * request (docs/AGENT-API.md 3), without I/O: the socket side
 * (agent_api.c) and the fuzz target share it.
 */
#ifndef AGENT_API_MSG_H
#define AGENT_API_MSG_H

#include <jansson.h>
#include <stddef.h>

/* A decoded request; the pointers borrow from msg (free with agent_api_msg_clear). */
typedef struct agent_api_msg {
    json_t *msg;        /* the whole object */
    json_t *id;         /* NULL: a notification; else a string, an integer or null */
    const char *method; /* NUL-terminated */
    json_t *params;     /* NULL or an object */
    /* On failure: the error code (AGENT_E_PARSE, _INVALID_REQUEST, _PARAMS),
       its message, and the id to answer with when one could be read. */
    int err;
    const char *why;
} agent_api_msg;

/*
 * Decodes line (len bytes, no newline). Returns 0 with m filled, or -1 with
 * m->err and m->why set (and m->id when it is usable in the error answer;
 * m still owns it: call agent_api_msg_clear in both cases).
 */
int agent_api_msg_decode(const char *line, size_t len, agent_api_msg *m);
void agent_api_msg_clear(agent_api_msg *m);

#endif
