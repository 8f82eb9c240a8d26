/*
 * sixchat_up.c - `sixchat up`: the agent in the foreground (agent.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "sixchat_cli.h"

int sx_cmd_up(sx_ctx *x, int argc, char **argv)
{
    agent_opts o;
    memset(&o, 0, sizeof(o));
    o.home = x->home;
    const char *pos[1], *idle = NULL, *lifetime = NULL, *rate = NULL, *per_source = NULL,
                        *dns = NULL;
    int n, no_registry = 0;
    for (int i = 0; i < argc; i++) {
        /* --listen and --advertise repeat: collected here, the rest by sx_parse. */
        if ((!strcmp(argv[i], "--listen") || !strcmp(argv[i], "--advertise")) && i + 1 < argc) {
            int adv = argv[i][2] == 'a';
            size_t *cnt = adv ? &o.n_advertise : &o.n_listen;
            if (*cnt >= AGENT_MAX_LISTEN)
                return sx_usage("up", "at most 8 --listen and 8 --advertise");
            (adv ? o.advertise : o.listen)[(*cnt)++] = argv[i + 1];
            memmove(argv + i, argv + i + 2, (size_t)(argc - i - 2) * sizeof(*argv));
            argc -= 2;
            i--;
        }
    }
    sx_opt opts[] = {{"--allow-local", 0, NULL, &o.allow_local},
                     {"--no-registry", 0, NULL, &no_registry},
                     {"--idle", 1, &idle, NULL},
                     {"--lifetime", 1, &lifetime, NULL},
                     {"--peer-rate", 1, &rate, NULL},
                     {"--conn-per-source", 1, &per_source, NULL},
                     {"--dns", 1, &dns, NULL}};
    int rc = sx_parse(x, "up", argc, argv, opts, sizeof(opts) / sizeof(opts[0]), pos, 0, &n);
    if (rc >= 0) return rc;
    o.no_registry = no_registry;
    o.dns = dns ? dns : getenv("SIXCHAT_DNS");
    if (idle) o.idle_ms = strtoull(idle, NULL, 10) * 1000ULL;
    if (lifetime) o.lifetime_s = (uint32_t)strtoul(lifetime, NULL, 10);
    /* The benchmarks' knobs (bench/README.md): the defaults stay for everyone else. */
    if (rate) o.stanza_rate = (uint32_t)strtoul(rate, NULL, 10);
    if (per_source) o.conn_per_source = (uint32_t)strtoul(per_source, NULL, 10);
    return agent_run(&o);
}
