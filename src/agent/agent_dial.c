/*
 * agent_dial.c - Happy Eyeballs for one device (agent_dial.h, RFC 8305).
 */
#include "agent_dial.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_peer_addr.h"

static void add_addr(agent_dial *d, const struct sockaddr *sa)
{
    size_t len = agent_peer_addr_len(sa);
    if (len == 0 || d->n_addrs >= AGENT_DIAL_ADDRS) return;
    for (size_t i = 0; i < d->n_addrs; i++)
        if (agent_peer_addr_equal((const struct sockaddr *)&d->addrs[i], sa)) return;
    memset(&d->addrs[d->n_addrs], 0, sizeof d->addrs[0]);
    memcpy(&d->addrs[d->n_addrs++], sa, len);
}

/* RFC 8305 4: the first address of the preferred family (IPv6), then alternate families. */
static void order_addrs(agent_dial *d, const agent_device *dev, const struct sockaddr *first)
{
    const struct sockaddr *v6[IRP_MAX_ADDRS], *v4[IRP_MAX_ADDRS];
    size_t n6 = 0, n4 = 0;
    if (first != NULL) add_addr(d, first);
    for (size_t i = 0; i < dev->n_addrs && i < IRP_MAX_ADDRS; i++) {
        const struct sockaddr *sa = (const struct sockaddr *)&dev->addrs[i];
        if (sa->sa_family == AF_INET6)
            v6[n6++] = sa;
        else if (sa->sa_family == AF_INET)
            v4[n4++] = sa;
    }
    for (size_t i = 0; i < n6 || i < n4; i++) {
        if (i < n6) add_addr(d, v6[i]);
        if (i < n4) add_addr(d, v4[i]);
    }
}

static void on_timer_closed(uv_handle_t *h)
{
    agent_dial *d = h->data;
    d->ops->ended(d->owner, d);
    free(d);
}

agent_dial *agent_dial_new(uv_loop_t *loop, const agent_dial_ops *ops, void *owner,
                           const agent_peer_view *view, size_t dev, const uint8_t *pin,
                           const struct sockaddr *first, uint64_t stagger_ms)
{
    agent_dial *d = calloc(1, sizeof *d);
    if (d == NULL) return NULL;
    if (uv_timer_init(loop, &d->timer) != 0) {
        free(d);
        return NULL;
    }
    d->timer.data = d;
    d->ops = ops;
    d->owner = owner;
    d->stagger_ms = stagger_ms;
    snprintf(d->user, sizeof d->user, "%s", view->user);
    snprintf(d->device, sizeof d->device, "%s", view->devices[dev].id);
    d->n_fps = view->n_certs < IRP_MAX_CERTS ? view->n_certs : IRP_MAX_CERTS;
    memcpy(d->fps, view->cert_fps, d->n_fps * 32);
    if (pin != NULL) {
        memcpy(d->pin, pin, 32);
        d->has_pin = 1;
    }
    order_addrs(d, &view->devices[dev], first);
    d->last_err = SC_ERR_IO;
    return d;
}

static void note(agent_dial *d, const char *what, const char *reason)
{
    size_t used = strlen(d->why);
    if (used + 3 >= sizeof d->why) return;
    snprintf(d->why + used, sizeof d->why - used, "%s%s: %s", used ? "; " : "", what, reason);
}

static void finish(agent_dial *d, int err)
{
    agent_peer_dial_result res = {.user = d->user,
                                  .device = d->device,
                                  .err = err,
                                  .why = err == SC_OK ? "" : d->why,
                                  .pin_mismatch = err != SC_OK && d->pin_mismatch,
                                  .seen_fp = d->pin_mismatch ? d->seen_fp : NULL};
    if (d->done) return;
    d->done = 1;
    uv_timer_stop(&d->timer);
    while (d->n_att > 0) {
        struct agent_conn *c = d->att[--d->n_att];
        d->ops->cancel(d->owner, d, c);
    }
    d->ops->done(d->owner, d, &res);
    uv_close((uv_handle_t *)&d->timer, on_timer_closed);
}

static void arm(agent_dial *d);

/* Starts attempts until one is under way or the addresses run out. */
static void next_attempt(agent_dial *d)
{
    while (!d->done && d->next_addr < d->n_addrs) {
        const struct sockaddr *sa = (const struct sockaddr *)&d->addrs[d->next_addr++];
        int err = SC_OK;
        struct agent_conn *c = d->ops->attempt(d->owner, d, sa, &err);
        if (c != NULL) {
            d->att[d->n_att++] = c;
            arm(d);
            return;
        }
        char where[AGENT_PEER_ADDR_STRLEN];
        agent_peer_addr_str(sa, where);
        note(d, where, "cannot start a connection");
        d->last_err = err;
    }
    if (!d->done && d->n_att == 0) {
        if (d->n_addrs == 0) note(d, d->device, "no address registered");
        finish(d, d->last_err);
    }
}

static void on_timer(uv_timer_t *t)
{
    agent_dial *d = t->data;
    if (d->satisfied)
        finish(d, SC_OK);
    else
        next_attempt(d);
}

static void arm(agent_dial *d)
{
    if (d->next_addr < d->n_addrs)
        uv_timer_start(&d->timer, on_timer, d->stagger_ms, 0);
    else
        uv_timer_stop(&d->timer);
}

void agent_dial_start(agent_dial *d)
{
    /* From the loop, not now: the outcome never reaches the owner inside agent_peer_dial. */
    uv_timer_start(&d->timer, on_timer, 0, 0);
}

void agent_dial_start_satisfied(agent_dial *d)
{
    d->satisfied = 1;
    uv_timer_start(&d->timer, on_timer, 0, 0);
}

int agent_dial_check_cert(agent_dial *d, const uint8_t fp[32], const char **reason)
{
    int published = 0;
    for (size_t i = 0; i < d->n_fps; i++)
        if (CRYPTO_memcmp(d->fps[i], fp, 32) == 0) published = 1;
    if (!published) {
        *reason = "the certificate is not one the registry published for the user";
        return SC_ERR_ACCESS_DENIED;
    }
    if (d->has_pin && CRYPTO_memcmp(d->pin, fp, 32) != 0) {
        d->pin_mismatch = 1;
        memcpy(d->seen_fp, fp, 32);
        *reason = "the certificate differs from the pinned one (the contact's certificate changed)";
        return SC_ERR_ACCESS_DENIED;
    }
    return SC_OK;
}

static int forget(agent_dial *d, const struct agent_conn *c)
{
    for (size_t i = 0; i < d->n_att; i++)
        if (d->att[i] == c) {
            d->att[i] = d->att[--d->n_att];
            return 1;
        }
    return 0;
}

int agent_dial_has(const agent_dial *d, const struct agent_conn *c)
{
    for (size_t i = 0; i < d->n_att; i++)
        if (d->att[i] == c) return 1;
    return 0;
}

void agent_dial_attempt_failed(agent_dial *d, struct agent_conn *c, const struct sockaddr *addr,
                               int err, const char *reason)
{
    char where[AGENT_PEER_ADDR_STRLEN];
    if (d->done || !forget(d, c)) return;
    d->last_err = err;
    agent_peer_addr_str(addr, where);
    note(d, where, reason);
    /* RFC 8305 5: a failed attempt starts the next one at once. */
    next_attempt(d);
}

void agent_dial_attempt_won(agent_dial *d, struct agent_conn *c)
{
    if (d->done) return;
    (void)forget(d, c);
    finish(d, SC_OK);
}

void agent_dial_cancel(agent_dial *d, int err, const char *reason)
{
    if (d->done) return;
    note(d, d->device, reason);
    finish(d, err);
}
