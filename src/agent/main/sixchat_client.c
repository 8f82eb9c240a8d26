/*
 * sixchat_client.c - a blocking JSON-RPC client of the agent's socket.
 */
#include "sixchat_client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int sx_connect(sx_client *c, const char *path)
{
    memset(c, 0, sizeof(*c));
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        perror("sixchat: socket");
        return SX_EXIT_FAIL;
    }
    struct sockaddr_un a;
    memset(&a, 0, sizeof(a));
    a.sun_family = AF_UNIX;
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        int e = errno;
        close(c->fd);
        c->fd = -1;
        if (e == ENOENT || e == ECONNREFUSED || e == ENOTDIR) {
            fprintf(stderr, "sixchat: %s\n", SX_NOT_RUNNING);
            return SX_EXIT_NO_AGENT;
        }
        fprintf(stderr, "sixchat: cannot reach the agent at %s: %s\n", path, strerror(e));
        return SX_EXIT_FAIL;
    }
    c->next_id = 1;
    return SX_EXIT_OK;
}

void sx_close(sx_client *c)
{
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    free(c->buf);
    c->buf = NULL;
}

static int write_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        s += k;
        n -= (size_t)k;
    }
    return 0;
}

long sx_send(sx_client *c, const char *method, json_t *params)
{
    long id = c->next_id++;
    json_t *req =
        json_pack("{s:s,s:I,s:s}", "jsonrpc", "2.0", "id", (json_int_t)id, "method", method);
    if (!req) {
        json_decref(params);
        return -1;
    }
    if (params) json_object_set_new(req, "params", params);
    char *s = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (!s) return -1;
    size_t n = strlen(s);
    int rc = write_all(c->fd, s, n);
    if (rc == 0) rc = write_all(c->fd, "\n", 1);
    free(s);
    return rc == 0 ? id : -1;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

json_t *sx_read(sx_client *c, int timeout_ms, int *timed_out)
{
    long long deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : 0;
    if (timed_out) *timed_out = 0;
    for (;;) {
        char *nl = c->buf ? memchr(c->buf, '\n', c->len) : NULL;
        if (nl) {
            size_t n = (size_t)(nl - c->buf);
            json_t *j = json_loadb(c->buf, n, 0, NULL);
            memmove(c->buf, nl + 1, c->len - n - 1);
            c->len -= n + 1;
            return j;
        }
        if (c->cap - c->len < 65536) {
            size_t cap = c->cap ? 2 * c->cap : 65536;
            char *p = realloc(c->buf, cap);
            if (!p) return NULL;
            c->buf = p;
            c->cap = cap;
        }
        if (timeout_ms >= 0) {
            long long left = deadline - now_ms();
            struct pollfd p = {.fd = c->fd, .events = POLLIN};
            int r = left > 0 ? poll(&p, 1, (int)left) : 0;
            if (r < 0 && errno == EINTR) continue;
            if (r == 0) {
                if (timed_out) *timed_out = 1;
                return NULL;
            }
        }
        ssize_t k = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return NULL;
        c->len += (size_t)k;
    }
}

json_t *sx_call(sx_client *c, const char *method, json_t *params)
{
    long id = sx_send(c, method, params);
    if (id < 0) {
        fprintf(stderr, "sixchat: the agent closed the connection\n");
        return NULL;
    }
    for (;;) {
        json_t *j = sx_read(c, -1, NULL);
        if (!j) {
            fprintf(stderr, "sixchat: the agent closed the connection\n");
            return NULL;
        }
        json_t *jid = json_object_get(j, "id");
        if (json_is_integer(jid) && json_integer_value(jid) == id) return j;
        json_decref(j); /* an event, or an answer to something else */
    }
}
