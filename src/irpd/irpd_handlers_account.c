/*
 * irpd_handlers_account.c - the operations about one's own account and the
 * administrator's view (docs/IRP.md 6.13 to 6.17): user-info,
 * lookup-policy, access-log, pkcs12-put, pkcs12-get and list-users. The
 * shared helpers are in irpd_handlers.c.
 */
#include "irpd_handlers_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/crypto.h>

/* ---- user-info (6.13) ---------------------------------------------------------------- */

static int collect_info(void *arg, const irpd_info *it)
{
    irpd__collect *c = arg;
    size_t n = c->r->n_info;
    size_t len = it->value_len;

    if (n >= IRP_MAX_INFO) return 0; /* the store keeps at most 8 */
    if (len > IRP_INFO_VALUE_MAX) len = IRP_INFO_VALUE_MAX;
    snprintf(c->x->info_names[n], sizeof(c->x->info_names[n]), "%s", it->name);
    memcpy(c->x->info_values[n], it->value, len);
    c->x->info_values[n][len] = '\0';
    c->r->info[n].name = c->x->info_names[n];
    c->r->info[n].value = c->x->info_values[n];
    c->r->info[n].value_len = len;
    c->r->n_info++;
    return 0;
}

/* The names of version 1 and their values (6.13): 0, or 422 with a message. */
static int info_check(const irp_info *it, hscratch *x)
{
    static const char *const presence[] = {"available", "away", "busy", "offline"};
    size_t i;

    if (it->value_len == 0) return 0; /* deletes the item */
    if (strcmp(it->name, "display-name") == 0) {
        if (it->value_len > 128)
            return irpd__fail(x, IRP_INVALID, "display-name is at most 128 bytes");
        return 0;
    }
    if (strcmp(it->name, "note") == 0) return 0; /* the parser bounds it to 256 */
    if (strcmp(it->name, "presence") == 0) {
        for (i = 0; i < sizeof(presence) / sizeof(presence[0]); i++)
            if (it->value_len == strlen(presence[i]) &&
                memcmp(it->value, presence[i], it->value_len) == 0)
                return 0;
        return irpd__fail(x, IRP_INVALID, "presence is available, away, busy or offline");
    }
    return irpd__fail(x, IRP_INVALID, "unknown info name \"%s\"", it->name);
}

int irpd__op_user_info(const irpd_hctx *h, irpd_session *s, const irp_req *q, irpd_opctx *o)
{
    IRPD_OP_UNPACK(o);
    const char *me = s->client.user_id;
    irpd__collect c = {r, x, now};
    irpd_info items[IRP_MAX_INFO];
    irpd_user u;
    size_t i;
    int st;

    if (q->n_info > 0) { /* set one's own items (a write) */
        for (i = 0; i < q->n_info; i++) {
            if ((st = info_check(&q->info[i], x)) != 0) return st;
            items[i].name = q->info[i].name;
            items[i].value = q->info[i].value;
            items[i].value_len = q->info[i].value_len;
        }
        st = irpd_store_info_set(h->st, me, items, q->n_info, me, now);
        if (st == IRP_NOT_FOUND) return irpd__fail(x, st, "no such user %s", me);
        if (st == IRP_TOO_LARGE)
            return irpd__fail(x, st, "at most %d info items per user", IRP_MAX_INFO);
        if (st != 0) return irpd__store_fail(h, x, st, "user-info");
    }
    if (q->user != NULL && strcasecmp(q->user, me) != 0) {
        /* another user's: their lookup policy decides, audited as a lookup */
        irpd_lookup_cb cb = {irpd__collect_binding, NULL};
        unsigned flags = IRPD_LOOKUP_USER_INFO | (irpd__is_admin(h, s) ? IRPD_LOOKUP_ANY : 0);
        st = irpd_store_lookup(h->st, me, q->user, now, flags, &cb, &c, x->user);
        if (st == IRP_FORBIDDEN)
            return irpd__fail(x, st, "%s does not allow you to see their information", q->user);
        if (st == IRP_NOT_FOUND) return irpd__fail(x, st, "no such user %s", q->user);
        if (st != 0 || x->bad)
            return irpd__store_fail(h, x, x->bad ? IRP_INTERNAL : st, "user-info");
    } else {
        memset(&u, 0, sizeof(u));
        st = irpd_store_user_get(h->st, me, &u);
        if (st == 0) snprintf(x->user, sizeof(x->user), "%s", u.name);
        OPENSSL_cleanse(&u, sizeof(u));
        if (st == IRP_NOT_FOUND) return irpd__fail(x, st, "no such user %s", me);
        if (st != 0) return irpd__store_fail(h, x, st, "user-info");
        st = irpd_store_binding_list(h->st, x->user, now, irpd__collect_binding, &c);
        if (st != 0 || x->bad)
            return irpd__store_fail(h, x, x->bad ? IRP_INTERNAL : st, "user-info");
    }
    st = irpd_store_info_get(h->st, x->user, collect_info, &c);
    if (st != 0) return irpd__store_fail(h, x, st, "user-info");
    r->user = x->user;
    return 0;
}

/* ---- lookup-policy (6.14) ------------------------------------------------------------ */

static int collect_allow(void *arg, const char *name)
{
    irpd__collect *c = arg;
    size_t n = c->r->n_allow;

    if (n >= IRP_MAX_ALLOW) return 0;
    snprintf(c->x->names[n], sizeof(c->x->names[n]), "%s", name);
    c->r->allow[n] = c->x->names[n];
    c->r->n_allow++;
    return 0;
}

static irp_access access_wire(irpd_access a)
{
    return a == IRPD_ACCESS_LIST     ? IRP_ACCESS_LIST
           : a == IRPD_ACCESS_NOBODY ? IRP_ACCESS_NOBODY
                                     : IRP_ACCESS_ANYONE;
}

int irpd__op_lookup_policy(const irpd_hctx *h, irpd_session *s, const irp_req *q, irpd_opctx *o)
{
    IRPD_OP_UNPACK(o);
    const char *me = s->client.user_id;
    irpd__collect c = {r, x, now};
    irpd_user u;
    int st;

    if (q->access != IRP_ACCESS_NONE) { /* set (a write), replacing the allow list */
        irpd_access a = q->access == IRP_ACCESS_LIST     ? IRPD_ACCESS_LIST
                        : q->access == IRP_ACCESS_NOBODY ? IRPD_ACCESS_NOBODY
                                                         : IRPD_ACCESS_ANYONE;
        st = irpd_store_user_set_access(h->st, me, a, q->n_allow > 0 ? q->allow : NULL, q->n_allow,
                                        me, now);
        if (st == IRP_NOT_FOUND) return irpd__fail(x, st, "no such user %s", me);
        if (st == IRP_TOO_LARGE)
            return irpd__fail(x, st, "at most %d allow entries", IRP_MAX_ALLOW);
        if (st != 0) return irpd__store_fail(h, x, st, "lookup-policy");
        res->policy_changed = 1;
        snprintf(res->policy_user, sizeof(res->policy_user), "%s", me);
    }
    memset(&u, 0, sizeof(u));
    st = irpd_store_user_get(h->st, me, &u);
    r->access = access_wire(u.access);
    OPENSSL_cleanse(&u, sizeof(u));
    if (st == IRP_NOT_FOUND) return irpd__fail(x, st, "no such user %s", me);
    if (st != 0) return irpd__store_fail(h, x, st, "lookup-policy");
    st = irpd_store_allow_list(h->st, me, collect_allow, &c);
    if (st != 0) return irpd__store_fail(h, x, st, "lookup-policy");
    snprintf(res->detail, sizeof(res->detail), "access=%s allow=%zu",
             r->access == IRP_ACCESS_LIST     ? "list"
             : r->access == IRP_ACCESS_NOBODY ? "nobody"
                                              : "anyone",
             r->n_allow);
    return 0;
}

int irpd_policy_recheck(const irpd_hctx *h, irpd_session *s, const char *owner, int64_t now,
                        sc_buf *out)
{
    unsigned flags;
    size_t i;
    int st;

    if (!s->cert_auth || !irpd_session_watches(s, owner)) return 0;
    flags = irpd__is_admin(h, s) ? IRPD_LOOKUP_ANY : 0;
    st = irpd_store_access_check(h->st, s->client.user_id, owner, flags);
    if (st == 0) return 0;
    if (st != IRP_FORBIDDEN && st != IRP_NOT_FOUND) return -1;
    for (i = 0; i < s->n_watches; i++) {
        if (strcasecmp(s->watches[i], owner) == 0) {
            int rc = irpd_event_build(h, s, s->watches[i], IRP_CHANGE_POLICY, 1, now, out);
            memmove(s->watches[i], s->watches[s->n_watches - 1], sizeof(s->watches[0]));
            s->n_watches--;
            return rc == 0 ? 1 : -1;
        }
    }
    return 0;
}

/* ---- access-log (6.15) --------------------------------------------------------------- */

static int collect_log(void *arg, const irpd_audit_row *row)
{
    irpd__collect *c = arg;
    size_t n = c->r->n_log;
    irp_log_entry *e;
    irp_op op = irp_op_by_name(row->op, strlen(row->op));

    if (n >= IRP_MAX_LOG) {
        c->r->more = 1;
        return 0;
    }
    if (op != IRP_OP_LOOKUP && op != IRP_OP_WATCH && op != IRP_OP_USER_INFO) return 0;
    e = &c->r->log[n];
    snprintf(c->x->names[n], sizeof(c->x->names[n]), "%s", row->actor != NULL ? row->actor : "");
    e->id = (uint64_t)row->id;
    e->ts = (uint64_t)row->ts;
    e->by = c->x->names[n];
    e->op = op;
    c->r->n_log++;
    return 0;
}

int irpd__op_access_log(const irpd_hctx *h, irpd_session *s, const irp_req *q, irpd_opctx *o)
{
    IRPD_OP_UNPACK(o);
    irpd__collect c = {r, x, 0};
    int64_t after = q->after_id > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)q->after_id;
    int st;

    /*
     * 6.15: every get answered before this request is listed. Without a
     * writer thread, the records wait in this store's queue: written here.
     * With one, this runs on the writer thread after the records the loop
     * had queued (handed over first, irpd_hresult.reads_first): in its store
     * already, and this flush does nothing.
     */
    if ((st = irpd_store_flush(h->st)) != 0) return irpd__store_fail(h, x, st, "access-log");
    st = irpd_store_access_log(h->st, s->client.user_id, after, IRP_MAX_LOG + 1, collect_log, &c);
    if (st != 0) return irpd__store_fail(h, x, st, "access-log");
    snprintf(x->msg, sizeof(x->msg), "%zu entr%s", r->n_log, r->n_log == 1 ? "y" : "ies");
    return 0;
}

/* ---- pkcs12-put and pkcs12-get (6.16) ------------------------------------------------- */

int irpd__op_pkcs12_put(const irpd_hctx *h, irpd_session *s, const irp_req *q, irpd_opctx *o)
{
    IRPD_OP_UNPACK(o);
    int st;

    st = irpd_store_p12_put(h->st, s->client.user_id, q->p12, q->p12_len, s->client.user_id, now);
    if (st == IRP_NOT_FOUND) return irpd__fail(x, st, "no such user %s", s->client.user_id);
    if (st == IRP_TOO_LARGE)
        return irpd__fail(x, st, "a key backup is at most %d bytes", IRP_P12_MAX);
    if (st != 0) return irpd__store_fail(h, x, st, "pkcs12-put");
    snprintf(x->msg, sizeof(x->msg), "stored");
    return 0;
}

int irpd__op_pkcs12_get(const irpd_hctx *h, irpd_session *s, const irp_req *q, irpd_opctx *o)
{
    IRPD_OP_UNPACK(o);
    const char *user = s->cert_auth ? s->client.user_id : s->pw_auth ? s->pw_user : NULL;
    int64_t updated = 0;
    size_t len = 0;
    int st;

    if (user == NULL) /* the operation table lets only these in */
        return irpd__fail(x, IRP_AUTH_REQUIRED,
                          "pkcs12-get needs a client certificate or a password login");
    st = irpd_store_p12_get(h->st, user, x->p12, sizeof(x->p12), &len, &updated);
    x->p12_used = sizeof(x->p12); /* wiped whatever the store wrote */
    if (st == IRP_NOT_FOUND) return irpd__fail(x, st, "no key backup stored for %s", user);
    if (st != 0) return irpd__store_fail(h, x, st, "pkcs12-get");
    r->p12 = x->p12;
    r->p12_len = len;
    r->p12_updated = updated > 0 ? (uint64_t)updated : 0;
    return 0;
}

/* ---- list-users (6.17) ----------------------------------------------------------------- */

static int collect_user(void *arg, const irpd_user *u)
{
    irpd__collect *c = arg;
    size_t n = c->r->n_users;
    irp_user_entry *e;

    if (n >= IRP_MAX_USERS) {
        c->r->more = 1;
        return 0;
    }
    e = &c->r->users[n];
    snprintf(c->x->names[n], sizeof(c->x->names[n]), "%s", u->name);
    e->name = c->x->names[n];
    e->devices = u->n_devices;
    e->certs = u->n_certs;
    e->created = u->created > 0 ? (uint64_t)u->created : 0;
    e->access = access_wire(u->access);
    c->r->n_users++;
    return 0;
}

int irpd__op_list_users(const irpd_hctx *h, irpd_session *s, const irp_req *q, irpd_opctx *o)
{
    IRPD_OP_UNPACK(o);
    irpd__collect c = {r, x, now};
    int st;

    st = irpd_store_user_list(h->st, q->after, IRP_MAX_USERS + 1, now, collect_user, &c);
    if (st != 0) return irpd__store_fail(h, x, st, "list-users");
    snprintf(x->msg, sizeof(x->msg), "%zu user(s)", r->n_users);
    return 0;
}
