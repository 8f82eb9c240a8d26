/*
 * irpd_server_run.c - timers, signals, shutdown and irpd_server_run
 * (irpd_server.h; docs/IRP.md 10.3, 10.4, 10.6).
 */
#include "irpd_server_int.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WRITER_BUSY_MS 30000

/* ---- timers, signals, shutdown --------------------------------------------------- */

/* The sweep (10.3) as a job of the writer thread; the users whose bindings expired. */
typedef struct sweep_job {
    irpd_writer_job job;
    irpd_server *srv;
    int64_t now;
    char users[64][IRPD_STORE_USER_MAX + 1];
    size_t n_users, n_expired;
} sweep_job;

static int on_swept(void *arg, const irpd_binding *b)
{
    sweep_job *w = arg;
    size_t i;

    for (i = 0; i < w->n_users; i++)
        if (strcasecmp(w->users[i], b->user) == 0) return 0;
    if (w->n_users < 64) snprintf(w->users[w->n_users++], sizeof(w->users[0]), "%s", b->user);
    return 0;
}

/*
 * docs/IRP.md 11.4: the identities of idle connections are checked again
 * every second, so that a revocation made elsewhere (`irpd revoke`, another
 * instance on the same store) or an expiry ends them without waiting for
 * their next request. A store read each costs a few microseconds: at most
 * RECHECK_PER_TICK connections are read per tick, in turns (with more, each
 * is read every ceil(n / RECHECK_PER_TICK) s), so the tick never holds the
 * loop for long; an expired certificate needs no read and is ended at once.
 */
#define RECHECK_PER_TICK 1000

static void recheck_all(irpd_server *s, int64_t now)
{
    size_t idx = 0, from = s->recheck_next, read = 0;
    conn *c, *next;

    for (c = s->conns; c != NULL; c = next) {
        char why[96];
        int r, turn;
        next = c->next;
        if (c->closing || c->close_when_sent || !c->hs_done ||
            (!c->sess.cert_auth && !c->sess.pw_auth))
            continue;
        turn = idx++ >= from && read < RECHECK_PER_TICK;
        if (!turn && !(c->sess.cert_auth && c->sess.cert_not_after < now)) continue;
        read += turn;
        r = irpd_session_recheck(&s->h, &c->sess, now, NULL, why, sizeof(why));
        if (r < 0) {
            fprintf(stderr, "irpd: error: identity check: %s\n", irpd_store_errmsg(s->st));
            return;
        }
        if (r == 0) continue;
        fprintf(stderr, "irpd: info: %s %s closed: %s\n", c->peer,
                c->sess.cert_auth ? c->sess.client.user_id : c->sess.pw_user, why);
        irpd__srv_conn_end_identity(c, now);
    }
    s->recheck_next = read < RECHECK_PER_TICK ? 0 : from + read; /* the next turn */
}

static irp_status sweep_apply(irpd_store *w, irpd_writer_job *job)
{
    sweep_job *j = job->arg;
    return irpd_store_sweep(w, j->now, on_swept, j, &j->n_expired);
}

/* On the loop once the sweep is durable: expire events to the watchers (5.4). */
static void sweep_done(irpd_writer_job *job, irp_status applied, irp_status committed)
{
    sweep_job *j = job->arg;
    irpd_server *s = j->srv;
    size_t i;

    s->sweeping = 0;
    if (applied != 0 || committed != 0) {
        fprintf(stderr, "irpd: error: sweep: %s\n", irpd_store_errmsg(s->wst));
    } else {
        if (j->n_expired > 0)
            fprintf(stderr, "irpd: info: sweep: %zu binding(s) expired\n", j->n_expired);
        for (i = 0; i < j->n_users; i++)
            irpd__srv_notify_watchers(s, j->users[i], IRP_CHANGE_EXPIRE, irpd__srv_now_s());
    }
    free(j);
}

/* Every second: hand queued lookup records to the writer (10.4), check identities (11.4);
 * every 5 s: the sweep (10.3), on the writer. */
static void on_tick(uv_timer_t *t)
{
    irpd_server *s = t->data;
    sweep_job *j;

    irpd__srv_log_flush(s);
    recheck_all(s, irpd__srv_now_s());
    irpd__srv_reads_flush(s);
    if (++s->ticks % 5 != 0 || s->sweeping || s->wr == NULL) return;
    if ((j = calloc(1, sizeof(*j))) == NULL) return; /* the next tick tries again */
    j->job.apply = sweep_apply;
    j->job.done = sweep_done;
    j->job.arg = j;
    j->srv = s;
    j->now = irpd__srv_now_s();
    if (irpd_writer_submit(s->wr, &j->job) != 0) {
        free(j);
        return;
    }
    s->sweeping = 1;
}

static void close_any(uv_handle_t *hd, void *arg)
{
    (void)arg;
    if (!uv_is_closing(hd)) uv_close(hd, NULL);
}

/*
 * 10.6: stop accepting; requests already read were answered in their read
 * callback, but for deferred requests waiting for their work (a password
 * check, an RSA key check): those not started are answered 503, those
 * running are answered when done (uv_run returns, and the store closes,
 * only after their work requests completed). Writes on the writer thread
 * are committed and answered first.
 */
static void on_signal(uv_signal_t *sig, int signum)
{
    irpd_server *s = sig->data;
    conn *c, *next;
    size_t i;

    if (s->stopping) return;
    s->stopping = 1;
    s->h.shutting_down = 1;
    fprintf(stderr, "irpd: info: signal %d: shutting down\n", signum);
    for (i = 0; i < s->n_lis; i++)
        uv_close((uv_handle_t *)&s->lis[i].tcp, NULL);
    uv_timer_stop(&s->tick);
    uv_close((uv_handle_t *)&s->tick, NULL);
    uv_close((uv_handle_t *)&s->sigterm, NULL);
    uv_close((uv_handle_t *)&s->sigint, NULL);
    irpd__srv_defer_cancel_all(s);
    irpd__srv_reads_flush(s);
    /* 10.6: the writes under way are committed and answered before the goodbyes */
    irpd_writer_stop(s->wr);
    s->wr = NULL;
    s->h.defer_writes = 0; /* what still changes (a login's record) is written here */
    for (c = s->conns; c != NULL; c = next) {
        next = c->next;
        /* work in the thread pool: its answer comes first, then the stop */
        if (c->login == NULL) irpd__srv_conn_stop(c);
    }
}

int irpd_server_run(const char *dir, const irpd_config *cfg)
{
    irpd_server *s = calloc(1, sizeof(*s));
    irpd_ca_err err;
    int rc = 1;
    size_t i;
    irp_status st;

    if (s == NULL) return 1;
    s->cfg = cfg;
    sc_buf_init_public(&s->log, 0); /* log lines: user IDs and statuses, nothing secret */
    signal(SIGPIPE, SIG_IGN);
    if (irpd_ca_load(dir, &s->ca, &err) != IRPD_CA_OK) {
        fprintf(stderr, "irpd: error: %s: %s\n", dir, err.msg);
        goto out;
    }
    if (cfg->n_domains == 0) {
        fprintf(stderr,
                "irpd: error: %s/%s names no served domain: add a line "
                "\"domain = example.org\" (docs/IRP.md 1.3)\n",
                dir, IRPD_CONFIG_FILE);
        goto out;
    }
    {
        char served[IRPD_CA_DOMAINS_MAX + 1];
        size_t used = 0;
        served[0] = '\0';
        for (i = 0; i < cfg->n_domains; i++) {
            size_t need = strlen(cfg->domains[i]) + (used > 0);
            if (used + need >= sizeof(served)) {
                fprintf(stderr, "irpd: error: too many served domains\n");
                goto out;
            }
            used += (size_t)snprintf(served + used, sizeof(served) - used, "%s%s",
                                     used > 0 ? " " : "", cfg->domains[i]);
        }
        if (irpd_ca_set_domains(s->ca, served, &err) != IRPD_CA_OK) {
            fprintf(stderr, "irpd: error: served domains: %s\n", err.msg);
            goto out;
        }
    }
    for (i = 0; i < cfg->n_trusted; i++) {
        if (irpd_ca_add_trusted_file(s->ca, cfg->trusted_ca[i], cfg->trusted_domains[i], &err) !=
            IRPD_CA_OK) {
            fprintf(stderr, "irpd: error: trusted_ca %s: %s\n", cfg->trusted_ca[i], err.msg);
            goto out;
        }
    }
    /* 10.2: the loop reads on its own connection; the writer thread changes on another */
    /*
     * The writer may wait longer for another process's write lock (an irpd
     * CLI command): the loop does not wait with it, only the answers do.
     */
    irpd_store_opts wopts = {.busy_timeout_ms = WRITER_BUSY_MS};
    st = irpd_store_open(dir, cfg->store, NULL, &s->st);
    if (st == 0) st = irpd_store_open(dir, cfg->store, &wopts, &s->wst);
    if (st != 0) {
        fprintf(stderr, "irpd: error: %s\n", irpd_store_errmsg(s->wst != NULL ? s->wst : s->st));
        goto out;
    }
    /* which backend serves (docs/DEPLOYMENT.md; the tests assert it) */
    fprintf(stderr, "irpd: info: store %s\n", irpd_store_backend(s->st));
    if ((s->ctx = irpd__srv_make_ctx(s)) == NULL) {
        fprintf(stderr, "irpd: error: TLS setup failed\n");
        goto out;
    }
    if (irpd_hctx_init(&s->h, s->ca, s->st, cfg) != 0) goto out;
    s->deferred_done = irpd__srv_deferred_done;
    s->read_again = irpd__srv_read_again;
    if (irpd_policy_init(&s->pol, cfg) != 0) goto out;
    s->h.pol = &s->pol;
    s->h.recheck = irpd_identity_recheck; /* docs/IRP.md 11.4 */

    uv_loop_init(&s->loop);
    if (irpd_writer_start(&s->wr, &s->loop, s->wst) != 0) {
        fprintf(stderr, "irpd: error: cannot start the store's writer thread\n");
        (void)uv_loop_close(&s->loop);
        goto out;
    }
    irpd_writer_on_drained(s->wr, irpd__srv_writer_drained, s);
    s->h.defer_writes = 1;
    uv_signal_init(&s->loop, &s->sigterm);
    uv_signal_init(&s->loop, &s->sigint);
    s->sigterm.data = s->sigint.data = s;
    uv_signal_start(&s->sigterm, on_signal, SIGTERM);
    uv_signal_start(&s->sigint, on_signal, SIGINT);
    uv_timer_init(&s->loop, &s->tick);
    s->tick.data = s;
    uv_timer_start(&s->tick, on_tick, 1000, 1000);
    if (cfg->n_listen == 0) {
        if (irpd__srv_listen_on(s, "[::]:4604") != 0) goto stop;
    }
    for (i = 0; i < cfg->n_listen; i++)
        if (irpd__srv_listen_on(s, cfg->listen[i]) != 0) goto stop;
    rc = 0;
    uv_run(&s->loop, UV_RUN_DEFAULT);
    goto done;
stop:
    irpd_writer_stop(s->wr);
    s->wr = NULL;
    s->h.defer_writes = 0;
    uv_walk(&s->loop, close_any, NULL);
    uv_run(&s->loop, UV_RUN_DEFAULT);
done:
    if (uv_loop_close(&s->loop) != 0) {
        uv_walk(&s->loop, close_any, NULL);
        uv_run(&s->loop, UV_RUN_DEFAULT);
        (void)uv_loop_close(&s->loop);
    }
    irpd__srv_log_flush(s);
    if (s->st != NULL && irpd_store_flush(s->st) != 0) rc = 1;
    if (rc == 0) fprintf(stderr, "irpd: info: stopped\n");
out:
    irpd__srv_log_flush(s);
    sc_buf_dispose(&s->log);
    irpd_hctx_clear(&s->h);
    irpd_policy_free(&s->pol); /* s is calloc'd: fine if never initialised */
    SSL_CTX_free(s->ctx);
    irpd_store_close(s->st);
    irpd_store_close(s->wst);
    irpd_ca_free(s->ca);
    free(s);
    return rc;
}
