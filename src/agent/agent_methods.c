/*
 * agent_methods.c - the local API's methods (docs/AGENT-API.md 4): each
 * reads its params, acts on the store or the network, and answers with a
 * JSON result or an error code a client can act on.
 */
#include "agent_methods.h"
#include "agent_settings.h"
#include "agent_msgs.h"
#include "agent_net.h"
#include "agent_params.h"
#include "agent_hex.h"
#include "agent_methods_domains.h"
#include "agent_methods_xfer.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- parameters ---- */

/* A string parameter; answers the request with an error and returns NULL when missing. */
static const char *want_str(agent_api_req *req, json_t *params, const char *name)
{
    json_t *v = params ? json_object_get(params, name) : NULL;
    if (!json_is_string(v) || !json_string_length(v)) {
        char msg[96];
        snprintf(msg, sizeof(msg), "missing parameter: %s (a string)", name);
        agent_api_fail(req, AGENT_E_PARAMS, msg, NULL);
        return NULL;
    }
    return json_string_value(v);
}

static const char *opt_str(json_t *params, const char *name)
{
    json_t *v = params ? json_object_get(params, name) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A user ID as the wire allows it (docs/PROTOCOL.md 8.1, loosely: local@domain). */
static int user_ok(const char *u)
{
    size_t n = strlen(u);
    const char *at = strchr(u, '@');
    return n > 2 && n <= AGENT_USER_MAX && at && at != u && at[1] && !strchr(at + 1, '@') &&
           !strpbrk(u, " \t\r\n<>\"");
}

static const char *want_user(agent_api_req *req, json_t *params, const char *name)
{
    const char *u = want_str(req, params, name);
    if (u && !user_ok(u)) {
        agent_api_fail(req, AGENT_E_PARAMS, "not a user ID (expected user@domain)", NULL);
        return NULL;
    }
    return u;
}

static void fail_store(agent_api_req *req)
{
    agent_api_fail(req, AGENT_E_INTERNAL, "the agent's store failed (see its log)", NULL);
}

/* Answers a listing: {key: arr}, or the store's failure (rc) after freeing arr. */
static void reply_list(agent_api_req *req, int rc, const char *key, json_t *arr)
{
    if (rc) {
        json_decref(arr);
        fail_store(req);
        return;
    }
    agent_api_reply(req, json_pack("{s:o}", key, arr));
}

/* ---- fingerprints ---- */

/* Sixteen groups of four upper-case hex digits: for reading aloud. */
static void fp_grouped(const uint8_t fp[32], char out[80])
{
    static const char hex[] = "0123456789ABCDEF";
    size_t k = 0;
    for (int i = 0; i < 32; i++) {
        if (i && i % 2 == 0) out[k++] = ' ';
        out[k++] = hex[fp[i] >> 4];
        out[k++] = hex[fp[i] & 15];
    }
    out[k] = '\0';
}

static json_t *fp_json(const uint8_t fp[32])
{
    char h[65], g[80];
    agent_hex(fp, 32, h);
    fp_grouped(fp, g);
    return json_pack("{s:s,s:s}", "hex", h, "grouped", g);
}

/* SHA-256 of our certificate's DER (the first certificate of cert.pem). */
static int own_fp(agent *a, uint8_t fp[32])
{
    FILE *f = fopen(a->paths.cert, "r");
    if (!f) return SC_ERR_IO;
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!x) return SC_ERR_PARSE;
    unsigned int n = 0;
    int ok = X509_digest(x, EVP_sha256(), fp, &n) == 1 && n == 32;
    X509_free(x);
    return ok ? SC_OK : SC_ERR_CRYPTO;
}

/* ---- messages as JSON ---- */

static json_t *msg_json(const agent_msg *m)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:s%,s:I,s:I,s:s}", "id", m->id, "peer", m->peer, "dir",
                          m->dir == AGENT_DIR_OUT ? "out" : "in", "text", m->text, m->text_len,
                          "ts", (json_int_t)m->ts_ms, "stored", (json_int_t)m->stored_ms, "state",
                          agent_msg_state_name(m->state));
    if (!o) return NULL;
    if (m->delivered_ms)
        json_object_set_new(o, "delivered", json_integer((json_int_t)m->delivered_ms));
    if (m->read_ms) json_object_set_new(o, "read", json_integer((json_int_t)m->read_ms));
    if (m->reason[0]) json_object_set_new(o, "reason", json_string(m->reason));
    return o;
}

static void append_msg(void *ctx, const agent_msg *m)
{
    json_t *o = msg_json(m);
    if (o) json_array_append_new(ctx, o);
}

static json_t *contact_json(const agent_contact *c)
{
    json_t *o = json_pack("{s:s,s:s,s:b,s:b}", "user", c->user, "name", c->display, "verified",
                          c->verified, "blocked", c->blocked);
    if (!o) return NULL;
    if (c->has_fp) json_object_set_new(o, "fingerprint", fp_json(c->fp));
    if (c->has_new_fp) json_object_set_new(o, "new_fingerprint", fp_json(c->new_fp));
    json_object_set_new(o, "cert_changed", json_boolean(c->has_new_fp));
    if (c->last_addr[0]) json_object_set_new(o, "last_addr", json_string(c->last_addr));
    return o;
}

static void append_contact(void *ctx, const agent_contact *c)
{
    json_t *o = contact_json(c);
    if (o) json_array_append_new(ctx, o);
}

/* ---- methods ---- */

static void m_status(void *ctx, agent_api_req *req, json_t *params)
{
    agent *a = ctx;
    uint64_t n = 0;
    if (agent_store_outbox_count(a->st, &n)) {
        fail_store(req);
        return;
    }
    json_t *r =
        json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:{s:I,s:b,s:b}}", "user", a->user, "device",
                  a->device, "home", a->paths.data, "socket", a->paths.sock, "started",
                  (json_int_t)a->started_ms, "outbox", (json_int_t)n, "events_last",
                  (json_int_t)a->ev.last, "api_clients", (json_int_t)agent_api_clients(a->api),
                  "settings", "expiry_days", (json_int_t)(a->expiry_ms / 86400000ULL),
                  "read_markers", a->read_markers, "contacts_only", a->contacts_only);
    if (!r) {
        agent_api_fail(req, AGENT_E_INTERNAL, "out of memory", NULL);
        return;
    }
    agent_net_status(a, r);
    agent_api_reply(req, r);
}

/* The contact row for user, or a fresh one (not stored) when there is none. */
static int contact_load(agent *a, const char *user, agent_contact *c, int *found)
{
    int rc = agent_store_contact_get(a->st, user, c, found);
    if (rc == SC_OK && !*found) {
        memset(c, 0, sizeof(*c));
        snprintf(c->user, sizeof(c->user), "%s", user);
        c->added_ms = agent_now();
    }
    return rc;
}

static void m_send(void *ctx, agent_api_req *req, json_t *params)
{
    agent *a = ctx;
    const char *to = want_user(req, params, "to");
    if (!to) return;
    json_t *t = json_object_get(params, "text");
    if (!json_is_string(t) || json_string_length(t) == 0) {
        agent_api_fail(req, AGENT_E_PARAMS, "missing parameter: text (a non-empty string)", NULL);
        return;
    }
    agent_contact c;
    int found = 0;
    if (contact_load(a, to, &c, &found)) {
        fail_store(req);
        return;
    }
    if (c.blocked) {
        agent_api_fail(req, AGENT_E_BLOCKED, "this user is blocked: unblock them first", NULL);
        return;
    }
    /* Writing to someone makes them a contact: their certificate is pinned
     * at the first session (trust on first use). */
    if (!found && agent_store_contact_put(a->st, &c)) {
        fail_store(req);
        return;
    }
    char id[33];
    int rc = agent_msg_send(a, to, json_string_value(t), json_string_length(t), id);
    if (rc == SC_ERR_TOO_LARGE) {
        agent_api_fail(req, AGENT_E_PARAMS, "the text is longer than 16000 bytes", NULL);
        return;
    }
    if (rc) {
        fail_store(req);
        return;
    }
    json_t *r = json_pack("{s:s,s:s}", "id", id, "state", "queued");
    if (c.has_new_fp)
        json_object_set_new(r, "held",
                            json_string("the contact's certificate changed: the message waits "
                                        "until you `trust` the new one"));
    agent_api_reply(req, r);
}

static void m_history(void *ctx, agent_api_req *req, json_t *params)
{
    agent *a = ctx;
    const char *peer = opt_str(params, "peer");
    const char *search = opt_str(params, "search");
    json_int_t limit;
    if (agent_param_limit(req, params, &limit)) return;
    json_t *arr = json_array();
    reply_list(req, agent_store_history(a->st, peer, search, (unsigned)limit, append_msg, arr),
               "messages", arr);
}

static void m_contacts(void *ctx, agent_api_req *req, json_t *params)
{
    agent *a = ctx;
    json_t *arr = json_array();
    reply_list(req, agent_store_contact_list(a->st, append_contact, arr), "contacts", arr);
}

static void m_contacts_add(void *ctx, agent_api_req *req, json_t *params)
{
    agent *a = ctx;
    const char *user = want_user(req, params, "user");
    if (!user) return;
    const char *name = opt_str(params, "name");
    agent_contact c;
    int found = 0;
    if (contact_load(a, user, &c, &found)) {
        fail_store(req);
        return;
    }
    if (name) snprintf(c.display, sizeof(c.display), "%s", name);
    if (agent_store_contact_put(a->st, &c)) {
        fail_store(req);
        return;
    }
    agent_emit(a, "contact.added", json_pack("{s:s,s:s}", "user", c.user, "name", c.display));
    agent_api_reply(req, contact_json(&c));
}

static void m_contacts_remove(void *ctx, agent_api_req *req, json_t *params)
{
    agent *a = ctx;
    const char *user = want_user(req, params, "user");
    int removed = 0;
    if (!user) return;
    if (agent_store_contact_remove(a->st, user, &removed)) {
        fail_store(req);
        return;
    }
    if (!removed) {
        agent_api_fail(req, AGENT_E_NOT_FOUND, "not a contact", NULL);
        return;
    }
    agent_emit(a, "contact.removed", json_pack("{s:s}", "user", user));
    agent_net_blocked_changed(a);
    agent_api_reply(req, json_pack("{s:s}", "user", user));
}

static void set_blocked(agent *a, agent_api_req *req, json_t *params, int blocked)
{
    const char *user = want_user(req, params, "user");
    if (!user) return;
    agent_contact c;
    int found = 0;
    if (contact_load(a, user, &c, &found)) {
        fail_store(req);
        return;
    }
    c.blocked = blocked;
    if (agent_store_contact_put(a->st, &c)) {
        fail_store(req);
        return;
    }
    agent_emit(a, blocked ? "contact.blocked" : "contact.unblocked",
               json_pack("{s:s}", "user", c.user));
    agent_net_blocked_changed(a);
    if (!blocked) agent_net_kick(a, c.user);
    agent_api_reply(req, contact_json(&c));
}

static void m_block(void *ctx, agent_api_req *req, json_t *params)
{
    set_blocked(ctx, req, params, 1);
}

static void m_unblock(void *ctx, agent_api_req *req, json_t *params)
{
    set_blocked(ctx, req, params, 0);
}

/* hex (64 digits, spaces and colons ignored) -> 32 bytes. */
static int parse_fp(const char *s, uint8_t out[32])
{
    int n = 0;
    for (; *s; s++) {
        int v;
        if (*s == ' ' || *s == ':') continue;
        if (*s >= '0' && *s <= '9')
            v = *s - '0';
        else if (*s >= 'a' && *s <= 'f')
            v = *s - 'a' + 10;
        else if (*s >= 'A' && *s <= 'F')
            v = *s - 'A' + 10;
        else
            return SC_ERR_PARSE;
        if (n >= 64) return SC_ERR_PARSE;
        if (n % 2 == 0)
            out[n / 2] = (uint8_t)(v << 4);
        else
            out[n / 2] |= (uint8_t)v;
        n++;
    }
    return n == 64 ? SC_OK : SC_ERR_PARSE;
}

static void m_trust(void *ctx, agent_api_req *req, json_t *params)
{
    agent *a = ctx;
    const char *user = want_user(req, params, "user");
    if (!user) return;
    const char *given = opt_str(params, "fingerprint");
    uint8_t want[32];
    if (given && parse_fp(given, want)) {
        agent_api_fail(req, AGENT_E_PARAMS, "fingerprint: 64 hexadecimal digits", NULL);
        return;
    }
    agent_contact c;
    int found = 0;
    if (agent_store_contact_get(a->st, user, &c, &found)) {
        fail_store(req);
        return;
    }
    if (!found || (!c.has_fp && !c.has_new_fp)) {
        agent_api_fail(req, AGENT_E_STATE,
                       "no certificate of this user seen yet: send them a message first", NULL);
        return;
    }
    const uint8_t *fp = c.has_new_fp ? c.new_fp : c.fp;
    /* With a fingerprint, trust exactly what the user compared, nothing newer. */
    if (given && memcmp(want, fp, 32) != 0) {
        agent_api_fail(req, AGENT_E_UNTRUSTED,
                       "the fingerprint given is not the certificate this user presents",
                       json_pack("{s:o}", "fingerprint", fp_json(fp)));
        return;
    }
    if (c.has_new_fp) {
        memcpy(c.fp, c.new_fp, 32);
        c.has_fp = 1;
        c.has_new_fp = 0;
    }
    c.verified = 1;
    if (agent_store_contact_put(a->st, &c)) {
        fail_store(req);
        return;
    }
    agent_emit(a, "contact.trusted",
               json_pack("{s:s,s:o}", "user", c.user, "fingerprint", fp_json(c.fp)));
    agent_net_kick(a, c.user); /* what waited for this goes now */
    agent_api_reply(req, contact_json(&c));
}

static void m_fingerprint(void *ctx, agent_api_req *req, json_t *params)
{
    agent *a = ctx;
    const char *user = opt_str(params, "user");
    if (!user || !strcasecmp(user, a->user)) {
        uint8_t fp[32];
        if (own_fp(a, fp)) {
            agent_api_fail(req, AGENT_E_NOT_ENROLLED, "no certificate: run `sixchat enroll`", NULL);
            return;
        }
        agent_api_reply(req, json_pack("{s:s,s:o}", "user", a->user, "fingerprint", fp_json(fp)));
        return;
    }
    agent_contact c;
    int found = 0;
    if (agent_store_contact_get(a->st, user, &c, &found)) {
        fail_store(req);
        return;
    }
    if (!found || (!c.has_fp && !c.has_new_fp)) {
        agent_api_fail(req, AGENT_E_NOT_FOUND,
                       "no certificate of this user seen yet: send them a message or look "
                       "them up first",
                       NULL);
        return;
    }
    json_t *r = contact_json(&c);
    agent_api_reply(req, r);
}

static void m_lookup(void *ctx, agent_api_req *req, json_t *params)
{
    const char *user = want_user(req, params, "user");
    if (user) agent_net_lookup(ctx, req, user);
}

static void m_outbox(void *ctx, agent_api_req *req, json_t *params)
{
    agent *a = ctx;
    json_t *arr = json_array();
    reply_list(req, agent_store_outbox_list(a->st, opt_str(params, "peer"), append_msg, arr),
               "messages", arr);
}

typedef struct cancel_ctx {
    const char *id;
    int64_t seq;
    char peer[AGENT_USER_MAX + 1];
} cancel_ctx;

static void find_id(void *ctx, const agent_msg *m)
{
    cancel_ctx *c = ctx;
    if (!c->seq && !strcmp(m->id, c->id)) {
        c->seq = m->seq;
        snprintf(c->peer, sizeof(c->peer), "%s", m->peer);
    }
}

static void m_outbox_cancel(void *ctx, agent_api_req *req, json_t *params)
{
    agent *a = ctx;
    cancel_ctx c = {.id = want_str(req, params, "id")};
    if (!c.id) return;
    if (agent_store_outbox_list(a->st, NULL, find_id, &c)) {
        fail_store(req);
        return;
    }
    if (!c.seq) {
        agent_api_fail(req, AGENT_E_NOT_FOUND, "no message with this id waits in the outbox", NULL);
        return;
    }
    int changed = 0;
    if (agent_store_msg_set_state(a->st, c.seq, AGENT_MSG_CANCELLED, agent_now(),
                                  "cancelled by the user", &changed) ||
        agent_store_outbox_remove(a->st, c.seq)) {
        fail_store(req);
        return;
    }
    agent_emit(a, "message.cancelled", json_pack("{s:s,s:s}", "id", c.id, "peer", c.peer));
    agent_api_reply(req, json_pack("{s:s,s:s}", "id", c.id, "state", "cancelled"));
}

static void m_settings(void *ctx, agent_api_req *req, json_t *params)
{
    agent *a = ctx;
    const char *key = opt_str(params, "key");
    const char *value = opt_str(params, "value");
    if (key) {
        const agent_setting *set = agent_setting_find(key);
        char why[256];
        if (!set) {
            snprintf(why, sizeof(why), "unknown setting (%s)", agent_settings_keys);
            agent_api_fail(req, AGENT_E_PARAMS, why, NULL);
            return;
        }
        if (value) {
            if (!agent_setting_valid(set, value, why, sizeof(why))) {
                agent_api_fail(req, AGENT_E_PARAMS, why, NULL);
                return;
            }
            if (agent_store_set(a->st, key, value)) {
                fail_store(req);
                return;
            }
            agent_settings_load(a);
            agent_net_blocked_changed(a); /* contacts_only changes who may connect */
            agent_emit(a, "settings.changed", json_pack("{s:s,s:s}", "key", key, "value", value));
        }
    }
    json_t *all = agent_settings_json(a->st);
    if (!all) {
        fail_store(req);
        return;
    }
    agent_api_reply(req, all);
}

static void m_read(void *ctx, agent_api_req *req, json_t *params)
{
    agent *a = ctx;
    const char *peer = want_user(req, params, "peer");
    if (!peer) return;
    int count = 0;
    int rc = agent_msg_mark_read(a, peer, opt_str(params, "id"), &count);
    if (rc == SC_ERR_ARG) {
        agent_api_fail(req, AGENT_E_NOT_FOUND, "no message with this id from this user", NULL);
        return;
    }
    if (rc) {
        fail_store(req);
        return;
    }
    agent_api_reply(req, json_pack("{s:s,s:i}", "peer", peer, "count", count));
}

static void m_typing(void *ctx, agent_api_req *req, json_t *params)
{
    agent *a = ctx;
    const char *peer = want_user(req, params, "peer");
    if (!peer) return;
    const char *state = opt_str(params, "state");
    if (!state || (strcmp(state, "on") && strcmp(state, "off"))) {
        agent_api_fail(req, AGENT_E_PARAMS, "state: on or off", NULL);
        return;
    }
    /* Never queued: a typing notice matters only while both are there. */
    sc_stanza st = {.type = SC_STANZA_TYPING,
                    .typing = !strcmp(state, "on") ? SC_TYPING_ON : SC_TYPING_OFF};
    int n = agent_net_send(a, peer, NULL, &st);
    agent_api_reply(req, json_pack("{s:b}", "sent", n > 0));
}

void agent_settings_load(agent *a)
{
    a->expiry_ms = agent_setting_get(a->st, "expiry_days") * 86400000ULL;
    a->read_markers = (int)agent_setting_get(a->st, "read_markers");
    a->contacts_only = (int)agent_setting_get(a->st, "contacts_only");
}

static void m_stop(void *ctx, agent_api_req *req, json_t *params)
{
    agent_api_reply(req, json_pack("{s:b}", "stopping", 1));
    if (((agent *)ctx)->on_stop) ((agent *)ctx)->on_stop(ctx);
}

const agent_api_method agent_methods[] = {
    {"status", m_status},
    {"send", m_send},
    {"history", m_history},
    {"contacts", m_contacts},
    {"contacts.add", m_contacts_add},
    {"contacts.remove", m_contacts_remove},
    {"block", m_block},
    {"unblock", m_unblock},
    {"trust", m_trust},
    {"fingerprint", m_fingerprint},
    {"lookup", m_lookup},
    {"outbox", m_outbox},
    {"outbox.cancel", m_outbox_cancel},
    {"settings", m_settings},
    {"read", m_read},
    {"typing", m_typing},
    {"stop", m_stop},
    {"send-file", agent_m_send_file},
    {"transfers", agent_m_transfers},
    {"accept", agent_m_accept},
    {"reject", agent_m_reject},
    {"trust-domain", agent_m_trust_domain},
    {"domains", agent_m_domains},
};
const size_t agent_n_methods = sizeof(agent_methods) / sizeof(agent_methods[0]);
