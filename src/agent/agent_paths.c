/*
 * agent_paths.c - the agent's directories: --home, SIXCHAT_HOME, XDG.
 */
#include "agent_paths.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* join: out = a "/" b; fails when it does not fit. */
static int join(char *out, size_t cap, const char *a, const char *b)
{
    int n = snprintf(out, cap, "%s/%s", a, b);
    return (n < 0 || (size_t)n >= cap) ? SC_ERR_ARG : SC_OK;
}

static int set(char *out, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (n >= cap) return SC_ERR_ARG;
    memcpy(out, s, n + 1);
    return SC_OK;
}

/* An XDG variable counts only when it is an absolute path (XDG spec). */
static const char *xdg(const char *name)
{
    const char *v = getenv(name);
    return (v && v[0] == '/') ? v : NULL;
}

int agent_paths_init(agent_paths *p, const char *home)
{
    int rc;
    memset(p, 0, sizeof(*p));
    if (!home || !home[0]) {
        const char *e = getenv("SIXCHAT_HOME");
        if (e && e[0]) home = e;
    }
    if (home) {
        if ((rc = set(p->data, sizeof(p->data), home)) ||
            (rc = set(p->runtime, sizeof(p->runtime), home)))
            return rc;
    } else {
        const char *h = getenv("HOME");
        const char *d = xdg("XDG_DATA_HOME");
        const char *r = xdg("XDG_RUNTIME_DIR");
        char tmp[AGENT_PATH_MAX];
        if (d) {
            rc = join(p->data, sizeof(p->data), d, "sixchat");
        } else {
            if (!h || h[0] != '/') return SC_ERR_ARG;
            rc = join(p->data, sizeof(p->data), h, ".local/share/sixchat");
        }
        if (rc) return rc;
        if (r) {
            if ((rc = set(tmp, sizeof(tmp), r)) ||
                (rc = join(p->runtime, sizeof(p->runtime), tmp, "sixchat")))
                return rc;
        } else if ((rc = set(p->runtime, sizeof(p->runtime), p->data))) {
            return rc;
        }
    }
    if ((rc = join(p->store, sizeof(p->store), p->data, "sixchat.db")) ||
        (rc = join(p->key, sizeof(p->key), p->data, "key.pem")) ||
        (rc = join(p->csr, sizeof(p->csr), p->data, "csr.pem")) ||
        (rc = join(p->cert, sizeof(p->cert), p->data, "cert.pem")) ||
        (rc = join(p->ca, sizeof(p->ca), p->data, "ca.pem")) ||
        (rc = join(p->downloads, sizeof(p->downloads), p->data, "downloads")) ||
        (rc = join(p->sock, sizeof(p->sock), p->runtime, "agent.sock")))
        return rc;
    return SC_OK;
}

/* mkdir -p with mode 0700 for each component that is missing. */
static int mkdirs(const char *path)
{
    char buf[AGENT_PATH_MAX];
    if (set(buf, sizeof(buf), path)) return SC_ERR_ARG;
    for (char *s = buf + 1; *s; s++) {
        if (*s != '/') continue;
        *s = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST) return SC_ERR_IO;
        *s = '/';
    }
    if (mkdir(buf, 0700) != 0 && errno != EEXIST) return SC_ERR_IO;
    return SC_OK;
}

int agent_paths_create(const agent_paths *p)
{
    int rc;
    if ((rc = mkdirs(p->data)) || (rc = mkdirs(p->runtime)) || (rc = mkdirs(p->downloads)))
        return rc;
    return SC_OK;
}
