/*
 * sixchat_apicmd.c - `sixchat api`: standard input and output joined to
 * the agent's socket, for bots and scripts. At the end of the input the
 * socket's sending side is shut; the answers (and, after `subscribe`, the
 * events) are still copied out until the agent closes.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sixchat_cli.h"

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int sx_cmd_api(sx_ctx *x, int argc, char **argv)
{
    const char *pos[1];
    int n;
    int rc = sx_parse(x, "api", argc, argv, NULL, 0, pos, 0, &n);
    if (rc >= 0) return rc;
    sx_client c;
    if ((rc = sx_connect(&c, x->paths.sock))) return rc;
    struct pollfd p[2] = {{.fd = STDIN_FILENO, .events = POLLIN}, {.fd = c.fd, .events = POLLIN}};
    char buf[65536];
    int in_open = 1;
    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (in_open && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t k = read(STDIN_FILENO, buf, sizeof(buf));
            if (k > 0) {
                if (send(c.fd, buf, (size_t)k, MSG_NOSIGNAL) != k) break;
            } else if (k == 0 || errno != EINTR) {
                in_open = 0;
                p[0].fd = -1;
                shutdown(c.fd, SHUT_WR);
            }
        }
        if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t k = recv(c.fd, buf, sizeof(buf), 0);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) break;
            if (write_all(STDOUT_FILENO, buf, (size_t)k)) break;
        }
    }
    sx_close(&c);
    return SX_EXIT_OK;
}
