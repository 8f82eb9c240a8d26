/*
 * agent_conn_cfg.c - see agent_conn_cfg.h.
 */
#include "agent_conn_cfg.h"

#include <stdlib.h>

agent_conn_cfg *agent_conn_cfg_new(sc_config *cfg)
{
    agent_conn_cfg *c = malloc(sizeof *c);
    if (c == NULL) {
        sc_config_free(cfg);
        return NULL;
    }
    c->cfg = cfg;
    c->refs = 1;
    return c;
}

agent_conn_cfg *agent_conn_cfg_ref(agent_conn_cfg *c)
{
    c->refs++;
    return c;
}

void agent_conn_cfg_unref(agent_conn_cfg *c)
{
    if (c == NULL || --c->refs > 0) return;
    sc_config_free(c->cfg);
    free(c);
}
