/*
 * agent_peer.c - the peer manager (agent_peer.h). First cut: options,
 * configuration and listeners; sessions follow.
 */
#include "agent_peer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_peer_addr.h"

typedef struct listener {
    uv_tcp_t tcp;
    agent_peer *p;
    struct sockaddr_storage addr;
} listener;

struct agent_peer {
    uv_loop_t *loop;
    agent_peer_opts opts;
    char device[AGENT_PEER_DEVICE_MAX + 1];
    sc_config *cfg;
    listener *ls;
    size_t n_ls;
    size_t open_handles; /* closed asynchronously; the manager is freed at zero */
    int freeing;
};

static int valid_device(const char *d)
{
    size_t n = d ? strlen(d) : 0;
    if (n == 0 || n > AGENT_PEER_DEVICE_MAX) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = d[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static void maybe_release(agent_peer *p)
{
    if (p->freeing && p->open_handles == 0) {
        free(p->ls);
        sc_config_free(p->cfg);
        free(p);
    }
}

static void on_handle_closed(uv_handle_t *h)
{
    agent_peer *p = h->data;
    p->open_handles--;
    maybe_release(p);
}

static void on_connection(uv_stream_t *server, int status)
{
    uv_tcp_t *c;
    (void)status;
    /* Not yet served: accept and close, so the backlog does not fill. */
    c = malloc(sizeof *c);
    if (c == NULL || uv_tcp_init(server->loop, c) != 0) {
        free(c);
        return;
    }
    if (uv_accept(server, (uv_stream_t *)c) != 0) {
    }
    uv_close((uv_handle_t *)c, (uv_close_cb)free);
}

static int start_listener(agent_peer *p, const char *text, char *errbuf, size_t errlen)
{
    listener *l = &p->ls[p->n_ls];
    int namelen = (int)sizeof l->addr, r;
    if (agent_peer_addr_parse(text, &l->addr) != SC_OK) {
        if (errbuf) snprintf(errbuf, errlen, "listen address %s: not ADDR:PORT", text);
        return SC_ERR_ARG;
    }
    if ((r = uv_tcp_init(p->loop, &l->tcp)) != 0) {
        if (errbuf) snprintf(errbuf, errlen, "listen on %s: %s", text, uv_strerror(r));
        return SC_ERR_IO;
    }
    l->p = p;
    l->tcp.data = p;
    p->open_handles++;
    p->n_ls++;
    if ((r = uv_tcp_bind(&l->tcp, (const struct sockaddr *)&l->addr, 0)) != 0 ||
        (r = uv_listen((uv_stream_t *)&l->tcp, 128, on_connection)) != 0 ||
        (r = uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&l->addr, &namelen)) != 0) {
        if (errbuf) snprintf(errbuf, errlen, "listen on %s: %s", text, uv_strerror(r));
        return SC_ERR_IO;
    }
    return SC_OK;
}

int agent_peer_new(const agent_peer_opts *opts, agent_peer **out, char *errbuf, size_t errlen)
{
    static const char *const def[] = {AGENT_PEER_DEFAULT_LISTEN};
    const char *const *addrs;
    size_t n_addrs;
    agent_peer *p;
    int ret = SC_OK;
    *out = NULL;
    if (errbuf && errlen) errbuf[0] = '\0';
    if (opts == NULL || opts->loop == NULL || opts->make_config == NULL ||
        !valid_device(opts->device_id)) {
        if (errbuf) snprintf(errbuf, errlen, "peer layer: missing loop, configuration or device");
        return SC_ERR_ARG;
    }
    addrs = opts->n_listen ? opts->listen : def;
    n_addrs = opts->no_listen ? 0 : opts->n_listen ? opts->n_listen : 1;
    if ((p = calloc(1, sizeof *p)) == NULL) return SC_ERR_NOMEM;
    p->loop = opts->loop;
    p->opts = *opts;
    snprintf(p->device, sizeof p->device, "%s", opts->device_id);
    if ((p->cfg = opts->make_config(opts->config_ctx)) == NULL) {
        if (errbuf) snprintf(errbuf, errlen, "peer layer: no configuration");
        free(p);
        return SC_ERR_CONFIG;
    }
    if (n_addrs && (p->ls = calloc(n_addrs, sizeof *p->ls)) == NULL) ret = SC_ERR_NOMEM;
    for (size_t i = 0; ret == SC_OK && i < n_addrs; i++)
        ret = start_listener(p, addrs[i], errbuf, errlen);
    if (ret != SC_OK) {
        agent_peer_free(p);
        return ret;
    }
    *out = p;
    return SC_OK;
}

void agent_peer_free(agent_peer *p)
{
    if (p == NULL) return;
    p->freeing = 1;
    for (size_t i = 0; i < p->n_ls; i++)
        uv_close((uv_handle_t *)&p->ls[i].tcp, on_handle_closed);
    maybe_release(p);
}

int agent_peer_listen_addr(const agent_peer *p, size_t i, struct sockaddr_storage *out)
{
    if (p == NULL || i >= p->n_ls) return SC_ERR_ARG;
    *out = p->ls[i].addr;
    return SC_OK;
}

int agent_peer_dial(agent_peer *p, const agent_peer_view *view, const agent_peer_dial_opts *opts)
{
    (void)p, (void)view, (void)opts;
    return SC_ERR_STATE;
}

int agent_peer_send(agent_peer *p, const char *user, const char *device, const sc_stanza *st)
{
    (void)p, (void)user, (void)device, (void)st;
    return SC_ERR_STATE;
}

int agent_peer_send_file(agent_peer *p, const char *user, const char *device, const char *id,
                         uint64_t offset, const uint8_t *data, size_t len)
{
    (void)p, (void)user, (void)device, (void)id, (void)offset, (void)data, (void)len;
    return SC_ERR_STATE;
}

int agent_peer_close_user(agent_peer *p, const char *user, const char *device)
{
    (void)p, (void)user, (void)device;
    return 0;
}

int agent_peer_set_blocked(agent_peer *p, const char *const *users, size_t n)
{
    (void)p, (void)users, (void)n;
    return SC_ERR_STATE;
}

size_t agent_peer_list(const agent_peer *p, agent_peer_status *out, size_t max)
{
    (void)p, (void)out, (void)max;
    return 0;
}

void agent_peer_get_counts(const agent_peer *p, agent_peer_counts *out)
{
    (void)p;
    memset(out, 0, sizeof *out);
}
