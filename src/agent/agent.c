/*
 * agent.c - `sixchat up`: opens the store, starts the local API and the
 * network side, runs the loop, and stops cleanly on SIGTERM or SIGINT
 * (unregistering from the registry, closing sessions, removing the socket).
 */
#include "agent.h"
#include "agent_methods.h"
#include "agent_msgs.h"
#include "agent_net.h"
#include "agent_hex.h"
#include "agent_methods_xfer.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sixchat/platform.h"

/* The device id: made once, kept in the store (one per machine's agent). */
static int load_device(agent *a)
{
    int found = 0;
    if (agent_store_get(a->st, "device", a->device, sizeof(a->device), &found)) return SC_ERR_IO;
    if (found && a->device[0]) return SC_OK;
    char id[33];
    if (agent_new_id(id)) return SC_ERR_RANDOM;
    snprintf(a->device, sizeof(a->device), "d-%.16s", id);
    return agent_store_set(a->st, "device", a->device);
}

static void on_tick(uv_timer_t *t)
{
    agent_msg_expire(t->data);
}

static void closed_cb(uv_handle_t *h)
{
    (void)h;
}

static void net_stopped(agent *a)
{
    agent_files_stop(a);
    /* Everything else is closed; the loop ends once these are. */
    uv_close((uv_handle_t *)&a->tick, closed_cb);
    uv_close((uv_handle_t *)&a->sig_term, closed_cb);
    uv_close((uv_handle_t *)&a->sig_int, closed_cb);
}

static void agent_stop(agent *a)
{
    if (a->stopping) return;
    a->stopping = 1;
    fprintf(stderr, "sixchat: stopping\n");
    agent_api_stop(a->api);
    a->api = NULL;
    agent_net_stop(a, net_stopped);
}

static void on_signal(uv_signal_t *s, int signum)
{
    (void)signum;
    agent_stop(s->data);
}

static void agent_ready(agent *a)
{
    char addr[96];
    agent_net_listen_addr(a, addr, sizeof(addr));
    printf("sixchat ready as %s on %s\n", a->user, addr[0] ? addr : "(not listening)");
    fflush(stdout);
}

int agent_run(const agent_opts *o)
{
    agent *a = calloc(1, sizeof(*a));
    uv_loop_t loop;
    char err[512];
    int rc = 1, found = 0, loop_ok = 0;
    if (!a) return 1;
    a->opts = *o;
    a->started_ms = agent_now();
    signal(SIGPIPE, SIG_IGN); /* a vanished API client or peer: EPIPE on its socket alone */
    if (agent_paths_init(&a->paths, o->home)) {
        fprintf(stderr, "sixchat: no usable home directory (set --home or SIXCHAT_HOME)\n");
        goto out;
    }
    if (agent_paths_create(&a->paths)) {
        fprintf(stderr, "sixchat: cannot create %s: %m\n", a->paths.data);
        goto out;
    }
    if (agent_store_open(a->paths.store, &a->st)) {
        fprintf(stderr, "sixchat: cannot open the store %s\n", a->paths.store);
        goto out;
    }
    if (agent_store_get(a->st, "user", a->user, sizeof(a->user), &found) || !found) {
        fprintf(stderr,
                "sixchat: no identity in %s yet: run `sixchat init` and `sixchat enroll` "
                "first\n",
                a->paths.data);
        goto out;
    }
    if (load_device(a) || agent_events_init(&a->ev, a->st, 0)) {
        fprintf(stderr, "sixchat: the store %s cannot be read\n", a->paths.store);
        goto out;
    }
    agent_settings_load(a);
    a->net_send = agent_net_send;
    a->net_kick = agent_net_kick;
    a->net_devices = agent_net_devices;
    a->on_ready = agent_ready;
    a->on_stop = agent_stop;
    if (uv_loop_init(&loop) != 0) goto out;
    loop_ok = 1;
    a->loop = &loop;
    int e = agent_api_start(&loop, a->paths.sock, agent_methods, agent_n_methods, a, &a->ev, NULL,
                            &a->api);
    if (e == SC_ERR_STATE) {
        fprintf(stderr, "sixchat: an agent is already running for %s (its socket %s answers)\n",
                a->paths.data, a->paths.sock);
        goto out;
    }
    if (e) {
        fprintf(stderr, "sixchat: cannot listen on %s\n", a->paths.sock);
        goto out;
    }
    uv_signal_init(&loop, &a->sig_term);
    uv_signal_init(&loop, &a->sig_int);
    uv_timer_init(&loop, &a->tick);
    a->sig_term.data = a->sig_int.data = a->tick.data = a;
    uv_signal_start(&a->sig_term, on_signal, SIGTERM);
    uv_signal_start(&a->sig_int, on_signal, SIGINT);
    /* Expiry is checked at start and every minute: a day-scale deadline. */
    uv_timer_start(&a->tick, on_tick, 0, 60000);
    if (agent_net_start(a, err, sizeof(err))) {
        fprintf(stderr, "sixchat: %s\n", err);
        agent_stop(a);
        uv_run(&loop, UV_RUN_DEFAULT);
        goto out;
    }
    /* After the network: unfinished transfers ask it for sessions with their peers. */
    if (agent_files_start(a))
        fprintf(stderr, "sixchat: file transfers are off: %s cannot be used\n", a->paths.downloads);
    agent_emit(a, "agent.started", json_pack("{s:s,s:s}", "user", a->user, "device", a->device));
    uv_run(&loop, UV_RUN_DEFAULT);
    rc = 0;
out:
    if (a->api) {
        agent_api_stop(a->api);
        uv_run(&loop, UV_RUN_DEFAULT);
    }
    if (loop_ok && uv_loop_close(&loop) != 0)
        fprintf(stderr, "sixchat: the loop still had handles at exit\n");
    agent_store_close(a->st);
    free(a);
    return rc;
}
