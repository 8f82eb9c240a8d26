/*
 * irpd_handlers.h - the registry's request handlers (docs/IRP.md 6).
 *
 * Sans-I/O apart from the store: a handler takes one request document of a
 * connection, the connection's identity (irpd_session) and the time, does
 * what docs/IRP.md 6 says against the store and the CA, and appends exactly
 * one framed response to out. The server (irpd_server.c) owns sockets, TLS
 * and timers; it reads back in irpd_hresult what it must do beyond sending
 * the response (log, tell watchers, close revoked connections).
 */
#ifndef IRPD_HANDLERS_H
#define IRPD_HANDLERS_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/x509.h>

#include "sixchat/error.h"
#include "sc_buf.h"
#include "sc_xml.h"
#include "irp_msg.h"
#include "irpd_ca.h"
#include "irpd_config.h"
#include "irpd_policy.h"
#include "irpd_store.h"

#define IRPD_MAX_WATCHES 64 /* docs/IRP.md 6.10 */

struct irpd_session;
struct irpd_hctx;
struct hscratch;

/*
 * The hook the pipeline calls before every operation that acts on the
 * connection's identity (IRPD_OPF_IDENTITY in irpd_ops.c), on an
 * authenticated connection: it checks that the identity still holds (its
 * certificate not revoked, superseded, expired or unknown; a password
 * login's account not disabled; docs/IRP.md 11.4). The server installs
 * irpd_identity_recheck; tests may install their own. Returns 0 to go
 * on, IRP_AUTH_REQUIRED when the identity no longer holds (the pipeline then
 * answers it and the connection closes), or another status to answer with
 * (msg: the response text, msg_cap bytes). An external certificate of a
 * served domain seen for the first time is recorded (7.6): here, or, with
 * h->defer_writes, by the caller on the writer thread (*record set, 0 returned).
 */
typedef int (*irpd_recheck_fn)(const struct irpd_hctx *h, struct irpd_session *s, int64_t now,
                               int *record, char *msg, size_t msg_cap);

/* What every handler may use; set up once by the server (irpd_hctx_init). */
typedef struct irpd_hctx {
    irpd_ca *ca;
    irpd_store *st;
    const irpd_config *cfg;
    sc_xml_parser *xp; /* one parser for the loop thread */
    uint8_t *ca_der;   /* the CA certificate, for ca-certs and enroll */
    size_t ca_der_len;
    int shutting_down;       /* answer 503 (docs/IRP.md 10.6) */
    irpd_policy *pol;        /* every rate rule (docs/IRP.md 9); NULL: none applied */
    irpd_recheck_fn recheck; /* NULL: the handshake's check stands */
    struct hscratch *x;      /* the loop thread's response scratch */
    /*
     * Set by a server whose changes are committed by the store's writer
     * thread (irpd_writer.h; docs/IRP.md 10.2): the pipeline then leaves
     * the ops that may run there (IRPD_OPF_APPLY) in irpd_hresult.wop, and
     * a refused login's audit record too, instead of changing st here.
     */
    int defer_writes;
    struct irpd_wop_pool *wops; /* spare write jobs (irpd_wop.c), the loop thread's */
    struct irpd_sigcache *sigs; /* signed lookup answers reused (irpd_sigcache.h); NULL: none */
} irpd_hctx;

/*
 * Sets up h for the loop thread: the parser, the scratch, the CA
 * certificate's DER and the signed-answer cache. pol and recheck are the caller's to set. 0 or -1.
 */
SC_MUST_CHECK int irpd_hctx_init(irpd_hctx *h, irpd_ca *ca, irpd_store *st, const irpd_config *cfg);
/* Frees what irpd_hctx_init made. */
void irpd_hctx_clear(irpd_hctx *h);

/* The identity and per-connection state of one connection (docs/IRP.md 7.1). */
typedef struct irpd_session {
    int cert_auth; /* 1: certificate-authenticated as client.user_id */
    irpd_client client;
    uint8_t *cert_der; /* the leaf (malloc'd), for register's auth_cert */
    size_t cert_der_len;
    int64_t cert_not_before, cert_not_after;
    int pw_auth; /* 1: password-authenticated as pw_user */
    char pw_user[IRPD_STORE_USER_MAX + 1];
    int has_peer;
    irp_addr peer;                            /* the source address as seen */
    char (*watches)[IRPD_STORE_USER_MAX + 1]; /* watched users (malloc'd on first watch) */
    size_t n_watches;
    uint64_t event_seq; /* last event seq sent */
    /*
     * Set by the server: this connection has writes that are not durable
     * yet. A request that is not applied on the writer thread is then not
     * handled: irpd_handle returns 1 and the server hands the same document
     * in again once those writes are answered, so that it sees them and is
     * answered after them (docs/IRP.md 5.3: answers in request order).
     */
    int writes_pending;
    /*
     * Set by the pipeline when it handed this connection's external
     * certificate to the writer to be recorded (7.6) and asked for the
     * request to be handed in again: if it is still not recorded then, the
     * record failed and the request is answered 500.
     */
    int record_tried;
} irpd_session;

/*
 * One request's change of stored data on its way to the store's writer
 * thread (irpd_writer.h; docs/IRP.md 10.2): made on the loop by the
 * pipeline, applied on the writer thread (irpd_wop_apply), answered on the
 * loop once its batch is over (irpd_wop_finish). It owns copies of all it
 * needs (the parsed request, the connection's identity, its own scratch),
 * so its connection may close meanwhile.
 */
typedef struct irpd_wop irpd_wop;

/* What the server learns from one request. */
typedef struct irpd_hresult {
    irp_op op;               /* IRP_OP_NONE when the document did not parse */
    int write;               /* the op may have changed stored data (group commit) */
    char id[IRP_ID_MAX + 1]; /* "" when none */
    int status;
    char detail[96]; /* for the log line: no secrets */
    /* Bindings of `changed_user` changed: tell watchers (reason). */
    int changed;
    char changed_user[IRPD_STORE_USER_MAX + 1];
    irp_change change;
    /* A certificate was revoked: close connections it authenticated. */
    int revoked;
    uint8_t revoked_fp[32];
    /*
     * `policy_user` changed their lookup policy (docs/IRP.md 6.14): for each
     * connection, irpd_policy_recheck ends watches it no longer allows.
     */
    int policy_changed;
    char policy_user[IRPD_STORE_USER_MAX + 1];
    /*
     * The connection's identity no longer holds (docs/IRP.md 11.4: its
     * certificate revoked, superseded, expired or unknown; its account
     * disabled): answer, then close this connection.
     */
    int ended;
    /*
     * The request changed stored data although it was refused (register
     * creating an external user, a refused CSR using its token up): on the
     * writer thread its answer then waits for the commit (irpd_wop_apply).
     */
    int wrote;
    /* Nothing to answer (a change a request waits for, irpd__wop_call): not logged. */
    int silent;
    /*
     * The lookup records queued on the loop's store must be handed to the
     * writer before wop (access-log, IRPD_OPF_READS; docs/IRP.md 6.15, 10.4).
     */
    int reads_first;
    /*
     * h->defer_writes: the request's change, for the writer thread; nothing
     * was appended to out (irpd_wop_finish answers it once durable).
     */
    irpd_wop *wop;
} irpd_hresult;

void irpd_session_init(irpd_session *s);
/* Frees what the session holds (the leaf DER, the watch list). */
void irpd_session_clear(irpd_session *s);

/*
 * Records the accepted client certificate: who (from irpd_ca_verify_client)
 * and the leaf itself (DER and validity, for register). 0 or -1 (memory).
 */
SC_MUST_CHECK int irpd_session_set_cert(irpd_session *s, X509 *leaf, const irpd_client *who);

/* The identity re-check the server installs as irpd_hctx.recheck (irpd_identity.c). */
SC_MUST_CHECK int irpd_identity_recheck(const irpd_hctx *h, irpd_session *s, int64_t now,
                                        int *record, char *msg, size_t msg_cap);

/*
 * Whether the session's identity still holds at time now (docs/IRP.md
 * 11.4): a certificate still recorded, unrevoked, unexpired, the user's;
 * a password login's account not disabled. Reads only: an external CA's
 * certificate of a served domain not recorded yet holds, and sets
 * *unrecorded (may be NULL) so that the caller records it (7.6). Returns 0
 * (holds, or nothing to check), 1 (no longer: why says so, for the client)
 * or -1 (store failure).
 */
SC_MUST_CHECK int irpd_session_recheck(const irpd_hctx *h, const irpd_session *s, int64_t now,
                                       int *unrecorded, char *why, size_t cap);

/* 1 if the session watches user (case-insensitive). */
int irpd_session_watches(const irpd_session *s, const char *user);

/*
 * A request whose expensive part runs off the event loop: a login's
 * password check (scrypt: ~70 ms of CPU and 32 MiB, docs/IRP.md 6.4) or an
 * enrolment's RSA key check (a primality test, 6.5 step 3).
 */
typedef struct irpd_deferred irpd_deferred;

/*
 * The request pipeline (irpd_pipeline.c). Handles one request document:
 * parses it once, takes the request's token (docs/IRP.md 9.2, at now_ms),
 * looks its op up in the operation table (irpd_ops.h) and checks, in the
 * order of 5.3, who may call it, the identity re-check, the failure limits
 * and the op's bucket, then runs its handler and appends one DOC frame with
 * the response to out. Returns 0, 1 (not handled: s->writes_pending; or
 * res->wop is a change this request must wait for, the record of an
 * external certificate, 7.6: hand the same document in again once it is
 * over), or -1 when even an error response could not be written (memory:
 * the caller closes the connection). With h->defer_writes, an op that may
 * run on the writer thread (IRPD_OPF_APPLY) is left in res->wop once its
 * checks passed, nothing appended; so is the change of a handler that
 * leaves it to the writer (enroll, renew).
 *
 * A request that gets as far as its expensive part is not answered when
 * defer is non-NULL: *defer is set, nothing is appended, res has op and id;
 * the caller runs irpd_deferred_work (on any thread), then
 * irpd_deferred_finish, then irpd_deferred_free. With defer NULL the work
 * runs here. *defer is NULL for every other request.
 */
SC_MUST_CHECK int irpd_handle(const irpd_hctx *h, irpd_session *s, const uint8_t *doc, size_t len,
                              int64_t now, int64_t now_ms, sc_buf *out, irpd_hresult *res,
                              irpd_deferred **defer);

/*
 * The expensive part (nothing after irpd_deferred_cancel). Touches nothing
 * but d, so it may run on another thread than the loop.
 */
void irpd_deferred_work(irpd_deferred *d);

/* Makes irpd_deferred_finish answer status (msg) instead, the work not needed. */
void irpd_deferred_cancel(irpd_deferred *d, int status, const char *msg);

/*
 * Answers a deferred request after irpd_deferred_work (or
 * irpd_deferred_cancel) as its operation says (a login: marks the session
 * password-authenticated on a match; an enrolment: issues and records the
 * certificate), settles its failure-counter places, appends the framed
 * response to out and fills res like irpd_handle. 0 or -1 (memory).
 * With h->defer_writes a refused login's audit record is not written here:
 * res->wop carries it, and the answer, which irpd_wop_finish appends once
 * the record is durable; nothing is appended to out then.
 */
SC_MUST_CHECK int irpd_deferred_finish(const irpd_hctx *h, irpd_session *s, irpd_deferred *d,
                                       int64_t now, sc_buf *out, irpd_hresult *res);

/* The request id ("" when none). */
const char *irpd_deferred_id(const irpd_deferred *d);

/*
 * On the writer thread, inside a batch: the write's handler (or its audit
 * record) against w, the writer's store. Touches nothing but op, w and
 * *wrote. Returns the handler's status; *wrote is set when a refusal may
 * leave a change in the batch (the handler said so, or it failed with 5xx,
 * which may come after a change), so that its answer waits for the commit
 * (irpd_writer_job.wrote); else a refusal is answered at once (10.2).
 */
SC_MUST_CHECK irp_status irpd_wop_apply(irpd_wop *op, irpd_store *w, int *wrote);

/*
 * On the loop, once op's batch is over: applied is what irpd_wop_apply
 * returned, committed whether the batch reached the disk (a change that
 * did not is answered 500). Settles the failure counters the request held,
 * appends the framed answer to out (NULL: its connection closed, nobody to
 * answer) and fills res like irpd_handle; then frees op. 0 or -1 (memory).
 */
SC_MUST_CHECK int irpd_wop_finish(const irpd_hctx *h, irpd_wop *op, irp_status applied,
                                  irp_status committed, sc_buf *out, irpd_hresult *res);

/*
 * Wipes and frees d (NULL is fine). A login freed without
 * irpd_deferred_finish (its connection closed) still counts its failure.
 */
void irpd_deferred_free(irpd_deferred *d);

/*
 * Appends one framed `binding` event for a watched user with their current
 * bindings (docs/IRP.md 5.4), or `watch-end` when end is set. 0 or -1.
 */
SC_MUST_CHECK int irpd_event_build(const irpd_hctx *h, irpd_session *s, const char *user,
                                   irp_change reason, int end, int64_t now, sc_buf *out);

/*
 * After a lookup-policy change of owner (irpd_hresult.policy_changed): if s
 * watches owner and the policy no longer allows s's user, removes the watch
 * and appends a framed `watch-end` event (reason `policy`) to out. Returns 1
 * when it ended the watch, 0 when nothing changed, -1 on failure (memory,
 * store: the caller closes the connection).
 */
SC_MUST_CHECK int irpd_policy_recheck(const irpd_hctx *h, irpd_session *s, const char *owner,
                                      int64_t now, sc_buf *out);

#endif
