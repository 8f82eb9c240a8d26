/*
 * agent_xfer_list.c - the bottom of the transfer module: the list of
 * unfinished transfers (find, add, save, finish), its events, its log,
 * its settings and the module's release. The module's other files call
 * down into this one and it calls none of them (agent_xfer.c ->
 * agent_xfer_recv.c -> agent_xfer_file.c -> here).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "agent_hex.h"
#include "agent_settings.h"
#include "agent_xfer_int.h"
#include "sixchat/platform.h"

/* The row is written at most every this many bytes while bytes flow (and at every state change). */
#define SAVE_EVERY (4u * 1024 * 1024)

void xf__log(agent_xfer *x, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (x->env.log)
        x->env.log(x->env.ctx, line);
    else
        fprintf(stderr, "sixchat: %s\n", line);
}

uint64_t xf__now(void)
{
    return sc_clock_ms();
}

xf *xf__find(agent_xfer *x, const char *peer, int dir, const char *id)
{
    for (xf *f = x->list; f; f = f->next)
        if (f->r.dir == dir && !strcmp(f->r.id, id) && !strcasecmp(f->r.peer, peer)) return f;
    return NULL;
}

void xf__save(agent_xfer *x, xf *f)
{
    f->r.updated_ms = xf__now();
    f->saved = f->r.offset;
    if (agent_store_xfer_update(x->env.st, &f->r))
        xf__log(x, "transfer %s: its progress was not recorded (store failed)", f->r.id);
}

json_t *agent_xfer_json(const agent_xfer *x, const agent_xfer_rec *r)
{
    char hex[65];
    xf__hex(r->sha256, hex);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:I,s:s,s:I,s:s,s:I,s:I}", "id", r->id, "peer", r->peer,
                          "dir", r->dir == AGENT_DIR_OUT ? "out" : "in", "name", r->name, "size",
                          (json_int_t)r->size, "sha256", hex, "offset", (json_int_t)r->offset,
                          "state", r->state, "created", (json_int_t)r->created_ms, "updated",
                          (json_int_t)r->updated_ms);
    if (!o) return NULL;
    if (r->device[0]) json_object_set_new(o, "device", json_string(r->device));
    if (r->reason[0]) json_object_set_new(o, "reason", json_string(r->reason));
    if (r->dir == AGENT_DIR_OUT && r->path[0]) {
        json_object_set_new(o, "path", json_string(r->path));
    } else if (r->dir == AGENT_DIR_IN && r->path[0] && x) {
        char full[AGENT_PATH_MAX * 2];
        snprintf(full, sizeof(full), "%s/%s", x->env.downloads, r->path);
        json_object_set_new(o, "path", json_string(full));
    }
    return o;
}

void xf__emit(agent_xfer *x, const char *type, xf *f)
{
    json_t *d = agent_xfer_json(x, &f->r);
    if (d) x->env.emit(x->env.ctx, type, d);
}

void xf__progress(agent_xfer *x, xf *f)
{
    uint64_t now = uv_now(x->env.loop);
    if (f->r.offset - f->saved >= SAVE_EVERY) xf__save(x, f);
    if (now - f->progress_ms < 1000 && f->r.offset < f->r.size) return;
    f->progress_ms = now;
    json_t *d = json_pack("{s:s,s:s,s:s,s:I,s:I}", "id", f->r.id, "peer", f->r.peer, "dir",
                          f->r.dir == AGENT_DIR_OUT ? "out" : "in", "offset",
                          (json_int_t)f->r.offset, "size", (json_int_t)f->r.size);
    if (d) x->env.emit(x->env.ctx, "transfer.progress", d);
}

static void xf_free_entry(xf *f)
{
    if (f->fd >= 0) close(f->fd);
    free(f);
}

void xf__drop(agent_xfer *x, xf *f)
{
    for (xf **p = &x->list; *p; p = &(*p)->next) {
        if (*p == f) {
            *p = f->next;
            break;
        }
    }
    f->next = NULL;
    if (f->busy)
        f->dead = 1;
    else
        xf_free_entry(f);
}

void xf__finish(agent_xfer *x, xf *f, const char *state, const char *reason, const char *type)
{
    snprintf(f->r.state, sizeof(f->r.state), "%s", state);
    snprintf(f->r.reason, sizeof(f->r.reason), "%s", reason ? reason : "");
    f->streaming = f->blocked = 0;
    xf__save(x, f);
    xf__emit(x, type, f);
    xf__drop(x, f);
}

xf *xf__add(agent_xfer *x, const agent_xfer_rec *r)
{
    xf *f = calloc(1, sizeof(*f));
    if (!f) return NULL;
    f->r = *r;
    f->fd = -1;
    f->saved = r->offset;
    f->accepted_at = UINT64_MAX;
    f->next = x->list;
    x->list = f;
    return f;
}

uint64_t xf__setting(agent_xfer *x, const char *key)
{
    uint64_t mb = agent_setting_get(x->env.st, key); /* validated, or the default */
    return mb > (UINT64_MAX >> 20) ? UINT64_MAX : mb << 20;
}

void xf__release_check(agent_xfer *x)
{
    if (!x->freeing || x->works > 0) return;
    close(x->dirfd);
    free(x->buf);
    free(x);
}

void xf__hex(const uint8_t d[32], char out[65])
{
    agent_hex(d, 32, out);
}
