/*
 * agent_methods.h - the local API's methods (agent_methods.c).
 */
#ifndef AGENT_METHODS_H
#define AGENT_METHODS_H

#include "agent_ctx.h"

extern const agent_api_method agent_methods[];
/* Reads the settings from the store (at start, and after `settings`). */
void agent_settings_load(agent *a);
extern const size_t agent_n_methods;

#endif
