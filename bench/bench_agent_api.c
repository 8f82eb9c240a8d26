/*
 * bench_agent_api.c - the agent benchmarks' API client (bench_agent_api.h).
 */
#include "bench_agent_api.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

double bapi_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int grow(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 65536;
    while (c < need)
        c *= 2;
    char *p = realloc(*buf, c);
    if (!p) return -1;
    *buf = p;
    *cap = c;
    return 0;
}

int bapi_connect(bapi *a, const char *path)
{
    memset(a, 0, sizeof(*a));
    a->next_id = 1;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "bench_agent: socket path too long: %s\n", path);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    a->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (a->fd < 0 || connect(a->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        fprintf(stderr, "bench_agent: cannot connect to %s: %s\n", path, strerror(errno));
        if (a->fd >= 0) close(a->fd);
        a->fd = -1;
        return -1;
    }
    int fl = fcntl(a->fd, F_GETFL);
    if (fl < 0 || fcntl(a->fd, F_SETFL, fl | O_NONBLOCK) != 0) {
        close(a->fd);
        a->fd = -1;
        return -1;
    }
    return 0;
}

void bapi_close(bapi *a)
{
    if (a->fd >= 0) close(a->fd);
    a->fd = -1;
    free(a->in);
    free(a->out);
    a->in = a->out = NULL;
}

long bapi_queue(bapi *a, const char *method, json_t *params)
{
    long id = a->next_id++;
    json_t *req =
        json_pack("{s:s,s:I,s:s}", "jsonrpc", "2.0", "id", (json_int_t)id, "method", method);
    if (!req) {
        json_decref(params);
        return -1;
    }
    if (params && json_object_set_new(req, "params", params) != 0) {
        json_decref(req);
        return -1;
    }
    char *s = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (!s) return -1;
    size_t l = strlen(s);
    if (grow(&a->out, &a->out_cap, a->out_len + l + 1)) {
        free(s);
        return -1;
    }
    memcpy(a->out + a->out_len, s, l);
    a->out[a->out_len + l] = '\n';
    a->out_len += l + 1;
    free(s);
    return id;
}

static int write_some(bapi *a)
{
    while (a->out_len) {
        ssize_t w = send(a->fd, a->out, a->out_len, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
            fprintf(stderr, "bench_agent: write to the agent: %s\n", strerror(errno));
            return -1;
        }
        memmove(a->out, a->out + w, a->out_len - (size_t)w);
        a->out_len -= (size_t)w;
    }
    return 0;
}

int bapi_pump(bapi *a)
{
    for (;;) {
        if (grow(&a->in, &a->in_cap, a->in_len + 65536)) return -1;
        ssize_t r = recv(a->fd, a->in + a->in_len, a->in_cap - a->in_len, 0);
        if (r > 0) {
            a->in_len += (size_t)r;
            continue;
        }
        if (r == 0) {
            fprintf(stderr, "bench_agent: the agent closed the API connection\n");
            return -1;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        fprintf(stderr, "bench_agent: read from the agent: %s\n", strerror(errno));
        return -1;
    }
}

json_t *bapi_take(bapi *a)
{
    char *nl = a->in_len ? memchr(a->in, '\n', a->in_len) : NULL;
    if (!nl) return NULL;
    size_t l = (size_t)(nl - a->in);
    json_error_t je;
    json_t *j = json_loadb(a->in, l, 0, &je);
    memmove(a->in, nl + 1, a->in_len - l - 1);
    a->in_len -= l + 1;
    if (!j) fprintf(stderr, "bench_agent: a line that is not JSON: %s\n", je.text);
    return j;
}

int bapi_flush(bapi *a)
{
    while (a->out_len) {
        if (write_some(a)) return -1;
        if (!a->out_len) break;
        struct pollfd p = {.fd = a->fd, .events = POLLOUT | POLLIN};
        if (poll(&p, 1, 1000) < 0 && errno != EINTR) return -1;
        /* Read while waiting: the agent may be blocked writing to us. */
        if ((p.revents & POLLIN) && bapi_pump(a)) return -1;
    }
    return 0;
}

json_t *bapi_next(bapi *a, int timeout_ms, int *err)
{
    *err = 0;
    double until = timeout_ms < 0 ? 0 : bapi_now_ms() + timeout_ms;
    for (;;) {
        json_t *j = bapi_take(a);
        if (j) return j;
        if (write_some(a)) break;
        int wait = -1;
        if (timeout_ms >= 0) {
            double left = until - bapi_now_ms();
            if (left <= 0) return NULL;
            wait = (int)left + 1;
        }
        struct pollfd p = {.fd = a->fd, .events = POLLIN | (a->out_len ? POLLOUT : 0)};
        int rc = poll(&p, 1, wait);
        if (rc < 0 && errno != EINTR) break;
        if (rc > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) && bapi_pump(a)) break;
    }
    *err = 1;
    return NULL;
}

json_t *bapi_event(json_t *msg)
{
    json_t *m = json_object_get(msg, "method");
    if (!json_is_string(m) || strcmp(json_string_value(m), "event") != 0) return NULL;
    return json_object_get(msg, "params");
}

json_t *bapi_call(bapi *a, const char *method, json_t *params, int timeout_ms,
                  void (*on_event)(void *ctx, json_t *ev), void *ctx)
{
    long id = bapi_queue(a, method, params);
    if (id < 0) return NULL;
    double until = bapi_now_ms() + timeout_ms;
    for (;;) {
        int err = 0;
        double left = until - bapi_now_ms();
        json_t *m = left > 0 ? bapi_next(a, (int)left + 1, &err) : NULL;
        if (!m) {
            fprintf(stderr, "bench_agent: no answer to %s%s\n", method, err ? " (error)" : "");
            return NULL;
        }
        json_t *jid = json_object_get(m, "id");
        if (json_is_integer(jid) && json_integer_value(jid) == id) {
            json_t *res = json_object_get(m, "result");
            if (!res) {
                char *s = json_dumps(m, JSON_COMPACT);
                fprintf(stderr, "bench_agent: %s failed: %s\n", method, s ? s : "?");
                free(s);
                json_decref(m);
                return NULL;
            }
            json_incref(res);
            json_decref(m);
            return res;
        }
        json_t *ev = bapi_event(m);
        if (ev && on_event) on_event(ctx, ev);
        json_decref(m);
    }
}
