/*
 * irp_run.c - the run of one irp command: the queue of its requests, sending
 * them once connected, the error line and the end of the run, and reading
 * files. Below both irp_main.c and irp_cmds.c, which use it; it calls neither.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irp_tool.h"

void irp_tool_finish(irp_tool *t)
{
    if (t->finished) return;
    t->finished = 1;
    if (t->cli != NULL) {
        irp_client_close(t->cli);
        t->cli = NULL;
    }
    uv_close((uv_handle_t *)&t->sigint_h, NULL);
    uv_close((uv_handle_t *)&t->sigterm_h, NULL);
}

void irp_tool_error(irp_tool *t, int status, const char *msg)
{
    fprintf(stderr, "irp: %d %s: %s\n", status, irp_client_status_name(status),
            msg != NULL ? msg : "");
    t->exit_code = 1;
}

int irp_tool_usage_error(const char *msg)
{
    fprintf(stderr, "irp: %s (irp --help)\n", msg);
    return 2;
}

irp_req *irp_tool_add_req(irp_tool *t, irp_op op, irp_response_cb cb, const char *what)
{
    irp_tool_req *s = &t->reqs[t->n_reqs++];
    irp_req_init(&s->req);
    s->req.op = op;
    s->cb = cb;
    s->t = t;
    s->what = what;
    return &s->req;
}

void irp_tool_on_connected(void *ctx, int status, const char *msg)
{
    irp_tool *t = ctx;
    size_t i;
    if (status != 0) {
        irp_tool_error(t, status, msg);
        irp_tool_finish(t);
        return;
    }
    t->waiting = (int)t->n_reqs;
    for (i = 0; i < t->n_reqs && t->cli != NULL; i++) {
        int r = irp_client_request(t->cli, &t->reqs[i].req, t->reqs[i].cb, &t->reqs[i]);
        if (r != 0) {
            char m[64];
            snprintf(m, sizeof(m), "request %zu does not validate (%d)", i + 1, r);
            irp_tool_error(t, 400, m);
            irp_tool_finish(t);
            return;
        }
    }
}

char *irp_tool_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *p = NULL;
    size_t n = 0, cap = 0;
    if (f == NULL) return NULL;
    for (;;) {
        size_t r;
        if (n + 4097 > cap) {
            char *q = realloc(p, cap = cap * 2 + 8192);
            if (q == NULL) {
                free(p);
                fclose(f);
                return NULL;
            }
            p = q;
        }
        r = fread(p + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0) break;
    }
    fclose(f);
    p[n] = '\0';
    if (len != NULL) *len = n;
    return p;
}
