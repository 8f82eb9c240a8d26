/*
 * agent_conn_cfg.h - an sc_config shared by sessions, with a reference
 * count. The core reads a session's config for the session's whole life and
 * an sc_config must not change while sessions use it (sixchat/config.h:
 * "build one, then share it read-only"; the block list is a growable array
 * the handshake reads). So a change of the block list makes a new config for
 * new sessions, and each config is freed when its last session is gone.
 */
#ifndef AGENT_CONN_CFG_H
#define AGENT_CONN_CFG_H

#include <stddef.h>

#include "sixchat/config.h"

typedef struct agent_conn_cfg {
    sc_config *cfg;
    size_t refs;
} agent_conn_cfg;

/* Wraps cfg (taken over) with one reference. NULL when out of memory (cfg is then freed). */
agent_conn_cfg *agent_conn_cfg_new(sc_config *cfg);

agent_conn_cfg *agent_conn_cfg_ref(agent_conn_cfg *c);

/* Drops a reference; the last one frees the config (wiping its key). NULL is allowed. */
void agent_conn_cfg_unref(agent_conn_cfg *c);

#endif
