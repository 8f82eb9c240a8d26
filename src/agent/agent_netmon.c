/*
 * agent_netmon.c - address changes from the kernel (agent_netmon.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_netmon.h"
#include "sixchat/error.h"

#ifdef __linux__
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#endif

struct agent_netmon {
    uv_poll_t poll;
    uv_timer_t settle;
    int fd;
    unsigned settle_ms;
    int open_handles;
    agent_netmon_cb cb;
    void *ctx;
    void (*closed)(void *ctx);
    void *closed_ctx;
};

#ifdef __linux__
static void on_settled(uv_timer_t *t)
{
    agent_netmon *nm = t->data;
    nm->cb(nm->ctx);
}

/* Reads every queued message; 1 if one of them is an address change (or some were lost). */
static int drain(agent_netmon *nm)
{
    union {
        char buf[8192];
        struct nlmsghdr align;
    } u;
    int changed = 0;

    for (;;) {
        ssize_t n = recv(nm->fd, u.buf, sizeof(u.buf), 0);
        struct nlmsghdr *h;
        if (n < 0) {
            if (errno == EINTR) continue;
            /* ENOBUFS: the kernel dropped messages; something changed that we did not see. */
            if (errno == ENOBUFS) changed = 1;
            break;
        }
        if (n == 0) break;
        for (h = (struct nlmsghdr *)u.buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n))
            if (h->nlmsg_type == RTM_NEWADDR || h->nlmsg_type == RTM_DELADDR) changed = 1;
    }
    return changed;
}

static void on_readable(uv_poll_t *p, int status, int events)
{
    agent_netmon *nm = p->data;
    (void)events;
    if (status < 0 || drain(nm)) uv_timer_start(&nm->settle, on_settled, nm->settle_ms, 0);
}
#endif

int agent_netmon_start(uv_loop_t *loop, unsigned settle_ms, agent_netmon_cb cb, void *ctx,
                       agent_netmon **out)
{
#ifdef __linux__
    agent_netmon *nm;
    struct sockaddr_nl sa;
    int fd;

    *out = NULL;
    if (cb == NULL) return SC_ERR_ARG;
    fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return SC_ERR_IO;
    memset(&sa, 0, sizeof(sa));
    sa.nl_family = AF_NETLINK;
    sa.nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return SC_ERR_IO;
    }
    nm = calloc(1, sizeof(*nm));
    if (nm == NULL) {
        close(fd);
        return SC_ERR_NOMEM;
    }
    nm->fd = fd;
    nm->cb = cb;
    nm->ctx = ctx;
    nm->settle_ms = settle_ms ? settle_ms : 100;
    if (uv_poll_init(loop, &nm->poll, fd) != 0) {
        close(fd);
        free(nm);
        return SC_ERR_IO;
    }
    nm->poll.data = nm;
    uv_timer_init(loop, &nm->settle);
    nm->settle.data = nm;
    nm->open_handles = 2;
    uv_poll_start(&nm->poll, UV_READABLE, on_readable);
    *out = nm;
    return 0;
#else
    (void)loop;
    (void)settle_ms;
    (void)cb;
    (void)ctx;
    *out = NULL;
    return SC_ERR_STATE;
#endif
}

static void on_closed(uv_handle_t *h)
{
    agent_netmon *nm = h->data;
    if (--nm->open_handles > 0) return;
    close(nm->fd);
    if (nm->closed != NULL) nm->closed(nm->closed_ctx);
    free(nm);
}

void agent_netmon_close(agent_netmon *nm, void (*closed)(void *ctx), void *ctx)
{
    if (nm == NULL) {
        if (closed != NULL) closed(ctx);
        return;
    }
    nm->closed = closed;
    nm->closed_ctx = ctx;
    uv_poll_stop(&nm->poll);
    uv_timer_stop(&nm->settle);
    uv_close((uv_handle_t *)&nm->poll, on_closed);
    uv_close((uv_handle_t *)&nm->settle, on_closed);
}
