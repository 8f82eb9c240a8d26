/*
 * bench_agent.c - the agent's message figures (issue 8, "It must show" 4),
 * measured through the local API of real agents on loopback
 * (bench/agent.sh starts irpd and the agents; bench/README.md, "The
 * agent").
 *
 *   bench_agent first --sock S [--sock S]... --peers U1,U2,...
 *       every sender sends one message to every peer it never met: the
 *       time from writing `send` until the `message.delivered` event
 *       (lookup, connect, handshake, delivery, receipt).
 *   bench_agent rtt --sock S --peer U [--peer-sock S2] --count N [--cold]
 *       one message at a time to U, `send` to `message.delivered`; with
 *       --cold the session is closed before each (block and unblock U,
 *       then wait for U's agent to report the session down on S2): no
 *       session, but the registry's view of U is known (watched).
 *   bench_agent rate --sock S --to-sock S2 --peer U --count N [--window W]
 *                    [--seconds T]
 *       messages written to S's API as fast as U's agent (S2) reports them
 *       received, at most W in flight: messages/s API to API. Stops
 *       writing after T seconds (default 15) if N are not through by then.
 *   bench_agent lookup --sock S --peer U --count N
 *       times the agent's `lookup` of U on the registry (API round trip,
 *       the registry's answer verified): a part of a first message.
 *   bench_agent held --sock S
 *       prints how many peer sessions the agent has up (`status`).
 *   bench_agent put --name N --unit U --value V [--lower] [--samples n] [--aim A]
 *       appends a figure measured by bench/agent.sh itself (memory).
 *
 * Every mode takes --json FILE (appends its figures to the JSON array in
 * FILE, as the other bench programs do) and --name TEXT (prefix of the
 * figure names). Timing is wall time (CLOCK_MONOTONIC): three processes
 * and the kernel are in the path. Figures only; the exit status says
 * whether the measurement ran, never how fast it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bench_agent_api.h"

#define WAIT_MS 30000 /* a hang, not a slow machine */
#define MAX_SOCKS 64

typedef struct opts {
    const char *mode;
    const char *socks[MAX_SOCKS];
    int n_socks;
    const char *to_sock, *peer_sock, *peer, *peers, *json, *name, *unit;
    int count, window, cold, lower, samples;
    double aim, value, seconds;
} opts;

/* ---- figures ---- */

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v. */
static double pct(const double *v, int n, double p)
{
    if (n <= 0) return 0;
    int k = (int)(p / 100.0 * n + 0.999999);
    if (k < 1) k = 1;
    if (k > n) k = n;
    return v[k - 1];
}

/*
 * Appends {name, unit, ours, tls: null, ratio: null, better, samples, aim,
 * vs_aim} to the array in path (created if absent). vs_aim is ours / aim.
 */
static int json_add(const char *path, const char *name, const char *unit, double value, int higher,
                    int samples, double aim)
{
    if (!path) return 0;
    json_error_t je;
    json_t *arr = json_load_file(path, 0, &je);
    if (!json_is_array(arr)) {
        json_decref(arr);
        arr = json_array();
    }
    json_t *o = json_pack("{s:s,s:s,s:f,s:n,s:n,s:s,s:{s:i,s:i}}", "name", name, "unit", unit,
                          "ours", value, "tls", "ratio", "better", higher ? "higher" : "lower",
                          "samples", "ours", samples, "tls", 0);
    if (o && aim > 0) {
        json_object_set_new(o, "aim", json_real(aim));
        json_object_set_new(o, "vs_aim", json_real(value / aim));
    }
    int rc = (!arr || !o || json_array_append_new(arr, o) != 0 ||
              json_dump_file(arr, path, JSON_INDENT(1)) != 0)
                 ? -1
                 : 0;
    json_decref(arr);
    if (rc) fprintf(stderr, "bench_agent: cannot write %s\n", path);
    return rc;
}

static void report_latency(const opts *o, const char *what, double *v, int n, double aim)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_d);
    double med = pct(v, n, 50), p99 = pct(v, n, 99);
    printf("%-52s  n=%-5d median %8.3f ms  p99 %8.3f ms  max %8.3f ms", what, n, med, p99,
           n ? v[n - 1] : 0);
    if (aim > 0) printf("  (aim < %.0f ms: median %.2fx of it)", aim, med / aim);
    printf("\n");
    char name[160];
    snprintf(name, sizeof(name), "%s%s, median", o->name ? o->name : "agent ", what);
    json_add(o->json, name, "ms", med, 0, n, aim);
    snprintf(name, sizeof(name), "%s%s, p99", o->name ? o->name : "agent ", what);
    json_add(o->json, name, "ms", p99, 0, n, 0);
}

/* ---- waiting for events ---- */

typedef struct want {
    const char *type;
    const char *key, *value; /* data[key] == value (case-insensitive), or any */
    int seen;
} want;

static int event_is(json_t *ev, const want *w)
{
    const char *t = json_string_value(json_object_get(ev, "type"));
    if (!t || strcmp(t, w->type) != 0) return 0;
    if (!w->key) return 1;
    const char *v = json_string_value(json_object_get(json_object_get(ev, "data"), w->key));
    return v && strcasecmp(v, w->value) == 0;
}

/* Waits for the event w on a (already seen counts). Returns 0, or -1 on timeout. */
static int wait_event(bapi *a, want *w)
{
    double until = bapi_now_ms() + WAIT_MS;
    while (!w->seen) {
        int err = 0;
        double left = until - bapi_now_ms();
        json_t *m = left > 0 ? bapi_next(a, (int)left + 1, &err) : NULL;
        if (!m) {
            fprintf(stderr, "bench_agent: no %s event%s%s\n", w->type, w->value ? " for " : "",
                    w->value ? w->value : "");
            return -1;
        }
        json_t *ev = bapi_event(m);
        if (ev && event_is(ev, w)) w->seen = 1;
        json_decref(m);
    }
    return 0;
}

static int subscribe(bapi *a)
{
    json_t *r = bapi_call(a, "subscribe", json_object(), WAIT_MS, NULL, NULL);
    if (!r) return -1;
    json_decref(r);
    return 0;
}

/* The agent's own user ID into out. */
static int whoami(bapi *a, char *out, size_t cap)
{
    json_t *r = bapi_call(a, "status", NULL, WAIT_MS, NULL, NULL);
    const char *u = r ? json_string_value(json_object_get(r, "user")) : NULL;
    if (u) snprintf(out, cap, "%s", u);
    json_decref(r);
    return u ? 0 : -1;
}

/*
 * Sends one message to peer and waits for its message.delivered. Returns
 * the time in ms from writing the request, or -1.
 */
static double one_message(bapi *a, const char *peer, const char *text)
{
    double t0 = bapi_now_ms();
    long id = bapi_queue(a, "send", json_pack("{s:s,s:s}", "to", peer, "text", text));
    if (id < 0 || bapi_flush(a)) return -1;
    char msgid[80] = "";
    /* Receipts seen before the answer (the agent may deliver before it answers). */
    char early[16][80];
    int n_early = 0;
    for (;;) {
        int err = 0;
        json_t *m = bapi_next(a, WAIT_MS, &err);
        if (!m) {
            fprintf(stderr, "bench_agent: no receipt from %s\n", peer);
            return -1;
        }
        json_t *jid = json_object_get(m, "id");
        if (json_is_integer(jid) && json_integer_value(jid) == id) {
            const char *mid =
                json_string_value(json_object_get(json_object_get(m, "result"), "id"));
            if (!mid) {
                char *s = json_dumps(m, JSON_COMPACT);
                fprintf(stderr, "bench_agent: send failed: %s\n", s ? s : "?");
                free(s);
                json_decref(m);
                return -1;
            }
            snprintf(msgid, sizeof(msgid), "%s", mid);
            json_decref(m);
            for (int i = 0; i < n_early; i++)
                if (!strcmp(early[i], msgid)) return bapi_now_ms() - t0;
            continue;
        }
        json_t *ev = bapi_event(m);
        const char *t = ev ? json_string_value(json_object_get(ev, "type")) : NULL;
        if (t && !strcmp(t, "message.delivered")) {
            const char *mid = json_string_value(json_object_get(json_object_get(ev, "data"), "id"));
            if (mid && msgid[0] && !strcmp(mid, msgid)) {
                double dt = bapi_now_ms() - t0;
                json_decref(m);
                return dt;
            }
            if (mid && !msgid[0] && n_early < 16) snprintf(early[n_early++], 80, "%s", mid);
        }
        json_decref(m);
    }
}

/* ---- modes ---- */

static int mode_first(const opts *o)
{
    if (!o->n_socks || !o->peers) return -1;
    int cap = o->n_socks * 256, n = 0;
    double *v = calloc((size_t)cap, sizeof(double));
    if (!v) return -1;
    for (int s = 0; s < o->n_socks; s++) {
        bapi a;
        if (bapi_connect(&a, o->socks[s]) || subscribe(&a)) return -1;
        char *list = strdup(o->peers);
        for (char *save = NULL, *p = strtok_r(list, ",", &save); p && n < cap;
             p = strtok_r(NULL, ",", &save)) {
            double dt = one_message(&a, p, "first");
            if (dt < 0) {
                free(list);
                return -1;
            }
            v[n++] = dt;
        }
        free(list);
        bapi_close(&a);
    }
    report_latency(o, "first message, new peer (lookup, dial, handshake, receipt)", v, n,
                   o->aim > 0 ? o->aim : 5);
    free(v);
    return 0;
}

static int mode_rtt(const opts *o)
{
    if (!o->n_socks || !o->peer || o->count <= 0) return -1;
    bapi a, b;
    int have_b = 0;
    if (bapi_connect(&a, o->socks[0]) || subscribe(&a)) return -1;
    char me[256];
    if (whoami(&a, me, sizeof(me))) return -1;
    if (o->peer_sock) {
        if (bapi_connect(&b, o->peer_sock) || subscribe(&b)) return -1;
        have_b = 1;
    }
    /* A session first (untimed), so that warm samples are warm. */
    if (one_message(&a, o->peer, "warm-up") < 0) return -1;
    double *v = calloc((size_t)o->count, sizeof(double));
    if (!v) return -1;
    for (int i = 0; i < o->count; i++) {
        if (o->cold) {
            /* block closes the session; wait until the peer's agent saw it go. */
            want down = {"session.down", "user", me, 0};
            json_t *r =
                bapi_call(&a, "block", json_pack("{s:s}", "user", o->peer), WAIT_MS, NULL, NULL);
            if (!r) return -1;
            json_decref(r);
            r = bapi_call(&a, "unblock", json_pack("{s:s}", "user", o->peer), WAIT_MS, NULL, NULL);
            if (!r) return -1;
            json_decref(r);
            if (have_b && wait_event(&b, &down)) return -1;
        }
        v[i] = one_message(&a, o->peer, o->cold ? "cold" : "warm");
        if (v[i] < 0) return -1;
    }
    report_latency(o,
                   o->cold ? "first message, known peer, no session (dial, handshake, receipt)"
                           : "message to a peer with a session (send to receipt)",
                   v, o->count, o->aim > 0 ? o->aim : (o->cold ? 5 : 1));
    free(v);
    bapi_close(&a);
    if (have_b) bapi_close(&b);
    return 0;
}

static int mode_rate(const opts *o)
{
    if (!o->n_socks || !o->to_sock || !o->peer || o->count <= 0) return -1;
    int window = o->window > 0 ? o->window : 1000;
    bapi a, b;
    if (bapi_connect(&a, o->socks[0]) || bapi_connect(&b, o->to_sock) || subscribe(&b)) return -1;
    char me[256];
    if (whoami(&a, me, sizeof(me))) return -1;
    /* The session up first, on a connection of its own: the measured one
     * does not subscribe, so it reads answers only. */
    bapi w;
    if (bapi_connect(&w, o->socks[0]) || subscribe(&w) || one_message(&w, o->peer, "warm-up") < 0)
        return -1;
    bapi_close(&w);
    int sent = 0, recvd = 0, answered = 0, count = o->count;
    double *at = calloc((size_t)count, sizeof(double)); /* when each was received */
    if (!at) return -1;
    double t0 = bapi_now_ms();
    double stop_at = t0 + 1e3 * (o->seconds > 0 ? o->seconds : 15);
    static const char text[] = "a 100-byte message: the quick brown fox jumps over the lazy "
                               "dog, and so on; 0123456789abcdef.";
    while (recvd < count) {
        if (sent < count && bapi_now_ms() > stop_at) {
            /* Out of time: what is in flight still counts; the rest is not sent. */
            count = sent;
            if (recvd >= count) break;
        }
        while (sent < count && sent - recvd < window && a.out_len < 1 << 20) {
            if (bapi_queue(&a, "send", json_pack("{s:s,s:s}", "to", o->peer, "text", text)) < 0)
                return -1;
            sent++;
        }
        /* Write what we can, take answers, wait for the receiver's events. */
        if (bapi_pump(&a)) return -1;
        json_t *m;
        while ((m = bapi_take(&a)) != NULL) {
            if (!json_object_get(m, "result")) {
                char *s = json_dumps(m, JSON_COMPACT);
                fprintf(stderr, "bench_agent: send failed: %s\n", s ? s : "?");
                free(s);
                json_decref(m);
                return -1;
            }
            answered++;
            json_decref(m);
        }
        if (a.out_len && bapi_flush(&a)) return -1;
        int err = 0;
        m = bapi_next(&b, WAIT_MS, &err);
        if (!m) {
            fprintf(stderr, "bench_agent: %d of %d received, then nothing\n", recvd, count);
            return -1;
        }
        do {
            json_t *ev = bapi_event(m);
            const char *t = ev ? json_string_value(json_object_get(ev, "type")) : NULL;
            const char *from =
                ev ? json_string_value(json_object_get(json_object_get(ev, "data"), "peer")) : NULL;
            if (t && !strcmp(t, "message.received") && from && !strcasecmp(from, me)) {
                at[recvd++] = bapi_now_ms();
            }
            json_decref(m);
        } while (recvd < count && (m = bapi_take(&b)) != NULL);
    }
    double t1 = bapi_now_ms();
    double all = count / ((t1 - t0) / 1e3);
    /* The second half alone: the pipeline is full, the start-up is left out. */
    int half = count / 2;
    double steady = count >= 4 && at[count - 1] > at[half]
                        ? (count - 1 - half) / ((at[count - 1] - at[half]) / 1e3)
                        : all;
    free(at);
    printf("%-52s  n=%-5d %9.0f msg/s (second half %9.0f msg/s; window %d)", "messages API to API",
           count, all, steady, window);
    printf("  (aim >= 20000: %.2fx)\n", steady / 20000.0);
    char name[160];
    snprintf(name, sizeof(name), "%smessages API to API, sustained", o->name ? o->name : "agent ");
    json_add(o->json, name, "msg/s", steady, 1, count, o->aim > 0 ? o->aim : 20000);
    bapi_close(&a);
    bapi_close(&b);
    return 0;
}

static int mode_put(const opts *o)
{
    if (!o->json || !o->name || !o->unit) return -1;
    return json_add(o->json, o->name, o->unit, o->value, !o->lower, o->samples > 0 ? o->samples : 1,
                    o->aim);
}

static int mode_lookup(const opts *o)
{
    if (!o->n_socks || !o->peer || o->count <= 0) return -1;
    bapi a;
    if (bapi_connect(&a, o->socks[0])) return -1;
    double *v = calloc((size_t)o->count, sizeof(double));
    if (!v) return -1;
    for (int i = 0; i < o->count; i++) {
        double t0 = bapi_now_ms();
        json_t *r =
            bapi_call(&a, "lookup", json_pack("{s:s}", "user", o->peer), WAIT_MS, NULL, NULL);
        if (!r) return -1;
        v[i] = bapi_now_ms() - t0;
        json_decref(r);
    }
    report_latency(o, "lookup on the registry (API round trip)", v, o->count, 0);
    free(v);
    bapi_close(&a);
    return 0;
}

/* Prints the agent's sessions up (status: sessions.up). */
static int mode_held(const opts *o)
{
    bapi a;
    if (!o->n_socks || bapi_connect(&a, o->socks[0])) return -1;
    json_t *r = bapi_call(&a, "status", NULL, WAIT_MS, NULL, NULL);
    json_t *up = json_object_get(json_object_get(r, "sessions"), "up");
    int ok = json_is_integer(up);
    if (ok) printf("%lld\n", (long long)json_integer_value(up));
    json_decref(r);
    bapi_close(&a);
    return ok ? 0 : -1;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: bench_agent first --sock S [--sock S]... --peers U1,U2,...\n"
            "       bench_agent rtt --sock S --peer U [--peer-sock S2] --count N [--cold]\n"
            "       bench_agent rate --sock S --to-sock S2 --peer U --count N [--window W]\n"
            "                        [--seconds T]\n"
            "       bench_agent lookup --sock S --peer U --count N\n"
            "       bench_agent held --sock S\n"
            "       bench_agent put --json FILE --name N --unit U --value V [--lower]\n"
            "                       [--samples n] [--aim A]\n"
            "       common: [--json FILE] [--name PREFIX] [--aim X]\n");
    return 2;
}

int main(int argc, char **argv)
{
    opts o;
    memset(&o, 0, sizeof(o));
    if (argc < 2) return usage();
    o.mode = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--cold") || !strcmp(a, "--lower")) {
            *(a[2] == 'c' ? &o.cold : &o.lower) = 1;
            continue;
        }
        if (!v) return usage();
        i++;
        if (!strcmp(a, "--sock") && o.n_socks < MAX_SOCKS)
            o.socks[o.n_socks++] = v;
        else if (!strcmp(a, "--to-sock"))
            o.to_sock = v;
        else if (!strcmp(a, "--peer-sock"))
            o.peer_sock = v;
        else if (!strcmp(a, "--peer"))
            o.peer = v;
        else if (!strcmp(a, "--peers"))
            o.peers = v;
        else if (!strcmp(a, "--count"))
            o.count = atoi(v);
        else if (!strcmp(a, "--window"))
            o.window = atoi(v);
        else if (!strcmp(a, "--json"))
            o.json = v;
        else if (!strcmp(a, "--name"))
            o.name = v;
        else if (!strcmp(a, "--aim"))
            o.aim = atof(v);
        else if (!strcmp(a, "--value"))
            o.value = atof(v);
        else if (!strcmp(a, "--unit"))
            o.unit = v;
        else if (!strcmp(a, "--seconds"))
            o.seconds = atof(v);
        else if (!strcmp(a, "--samples"))
            o.samples = atoi(v);
        else
            return usage();
    }
    int rc;
    if (!strcmp(o.mode, "first"))
        rc = mode_first(&o);
    else if (!strcmp(o.mode, "rtt"))
        rc = mode_rtt(&o);
    else if (!strcmp(o.mode, "rate"))
        rc = mode_rate(&o);
    else if (!strcmp(o.mode, "lookup"))
        rc = mode_lookup(&o);
    else if (!strcmp(o.mode, "held"))
        rc = mode_held(&o);
    else if (!strcmp(o.mode, "put"))
        rc = mode_put(&o);
    else
        return usage();
    fflush(stdout);
    return rc ? 1 : 0;
}
