/*
 * irpd_sqlite_int.h - the inside of the SQLite backend of irpd_store.h,
 * shared by irpd_sqlite.c (opening, statements, transactions, group commit,
 * the read records queue, errors, the ops table), irpd_sqlite_schema.c (the
 * SQL), irpd_sqlite_users.c, irpd_sqlite_certs.c and irpd_sqlite_bindings.c
 * (the operations). Each function is documented at its definition.
 */
#ifndef IRPD_SQLITE_INT_H
#define IRPD_SQLITE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "sixchat/error.h"
#include "irpd_store.h"
#include "irpd_readq.h"
#include "irpd_store_int.h"

/* The statements prepared at open; the SQL of each is in irpd_sqlite_schema.c.
 */
enum {
    S_BEGIN_W,
    S_BEGIN_R,
    S_COMMIT,
    S_ROLLBACK,
    S_SAVEPOINT,
    S_RELEASE,
    S_ROLLBACK_TO,
    S_SYNC_NORMAL,
    S_SYNC_FULL,
    S_USER_ID,
    S_USER_NAME,
    S_USER_GET,
    S_USER_LIST,
    S_USER_ADD,
    S_USER_SET_PW,
    S_USER_SET_ADMIN,
    S_USER_SET_ACCESS,
    S_ALLOW_CLEAR,
    S_ALLOW_ADD,
    S_ALLOW_HAS,
    S_ALLOW_LIST,
    S_INFO_PUT,
    S_INFO_DEL,
    S_INFO_COUNT,
    S_INFO_LIST,
    S_TOKEN_ADD,
    S_TOKEN_GET,
    S_TOKEN_USE,
    S_CERT_ADD,
    S_CERT_BY_SERIAL,
    S_CERT_BY_FP,
    S_CERT_LIST,
    S_CERT_VALID_LIVE,
    S_CERT_REVOKED_LIVE,
    S_CERT_COUNT_VALID,
    S_CERT_SUPERSEDE,
    S_CERT_FIND_SERIAL,
    S_CERT_FIND_FP,
    S_CERT_REVOKE,
    S_CERT_REVOKE_USER,
    S_USER_DISABLE,
    S_TOKEN_VOID_USER,
    S_BIND_GET,
    S_BIND_COUNT_OTHERS,
    S_BIND_PUT,
    S_BIND_END_ONE,
    S_BIND_END_ALL,
    S_BIND_LIST,
    S_BIND_EXPIRED,
    S_BIND_MARK_EXPIRED,
    S_BIND_FORGET,
    S_P12_PUT,
    S_P12_GET,
    S_AUDIT_ADD,
    S_AUDIT_ALL,
    S_AUDIT_TARGET,
    S_ACCESS_LOG,
    N_STMT
};

/* The schema of an empty database, and the text of each statement. */
extern const char irpd__sqlite_schema_sql[];
extern const char *const irpd__sqlite_stmt_sql[N_STMT];

typedef struct sq_store {
    irpd_store base; /* first: a sq_store * is an irpd_store * */
    sqlite3 *db;     /* NULL when open failed */
    sqlite3_stmt *q[N_STMT];
    int in_batch;     /* between batch_begin and batch_commit/rollback */
    int batch_tx;     /* the batch's write transaction is open (since its first
                         change) */
    int batch_failed; /* SQLite rolled that transaction back (I/O error, disk
                         full) */
    int sync_normal;  /* synchronous=FULL must be restored before the next change
                       */
    irpd_readq reads; /* the lookup records queue: grows inside a batch's transaction */
} sq_store;

#define SQ(st) ((sq_store *)(st))

/* ---- irpd_sqlite.c: errors, statement helpers, the queue, transactions
 * ---------- */

irp_status irpd__sqlite_failf(sq_store *s, irp_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
irp_status irpd__sqlite_db_fail(sq_store *s, const char *what);
irp_status irpd__sqlite_stopped(sq_store *s, sqlite3_stmt *q, const char *what);

void irpd__sqlite_col_text(sqlite3_stmt *q, int i, char *out, size_t cap);
void irpd__sqlite_col_blob(sqlite3_stmt *q, int i, uint8_t *out, size_t cap, size_t *len);
void irpd__sqlite_bind_text(sqlite3_stmt *q, int i, const char *s);
SC_MUST_CHECK int irpd__sqlite_run(sq_store *s, int id);
SC_MUST_CHECK int irpd__sqlite_one_int(sq_store *s, int id, int64_t *out);

SC_MUST_CHECK irp_status irpd__sqlite_flush_queue(sq_store *s);

SC_MUST_CHECK int irpd__sqlite_batch_lost(sq_store *s);
SC_MUST_CHECK irp_status irpd__sqlite_wr_begin(sq_store *s, const char *what);
SC_MUST_CHECK irp_status irpd__sqlite_wr_end(sq_store *s, irp_status status, const char *what);
SC_MUST_CHECK irp_status irpd__sqlite_audit(sq_store *s, const char *what, int64_t ts,
                                            const char *actor, const char *op, const char *target,
                                            const char *detail);
SC_MUST_CHECK irp_status irpd__sqlite_find_user(sq_store *s, const char *what, const char *name,
                                                int64_t *id, int *access, char *canon);

/* ---- irpd_sqlite_users.c: users, user info, tokens
 * -------------------------------- */

SC_MUST_CHECK irp_status irpd__sqlite_user_add(irpd_store *st, const char *name, const char *actor,
                                               int64_t now);
SC_MUST_CHECK irp_status irpd__sqlite_user_get(irpd_store *st, const char *name, irpd_user *out);
SC_MUST_CHECK irp_status irpd__sqlite_user_list(irpd_store *st, const char *after, size_t limit,
                                                int64_t now, irpd_user_cb cb, void *arg);
SC_MUST_CHECK irp_status irpd__sqlite_user_set_password(irpd_store *st, const char *name,
                                                        const uint8_t *hash, size_t hash_len,
                                                        const uint8_t *salt, size_t salt_len,
                                                        const char *actor, int64_t now);
SC_MUST_CHECK irp_status irpd__sqlite_user_set_admin(irpd_store *st, const char *name, int admin,
                                                     const char *actor, int64_t now);
SC_MUST_CHECK irp_status irpd__sqlite_user_set_access(irpd_store *st, const char *name,
                                                      irpd_access access, const char *const *allow,
                                                      size_t n_allow, const char *actor,
                                                      int64_t now);
SC_MUST_CHECK irp_status irpd__sqlite_allow_list(irpd_store *st, const char *name, irpd_name_cb cb,
                                                 void *arg);
SC_MUST_CHECK irp_status irpd__sqlite_info_set(irpd_store *st, const char *user,
                                               const irpd_info *items, size_t n, const char *actor,
                                               int64_t now);
SC_MUST_CHECK irp_status irpd__sqlite_info_get(irpd_store *st, const char *user, irpd_info_cb cb,
                                               void *arg);
SC_MUST_CHECK irp_status irpd__sqlite_token_add(irpd_store *st, const uint8_t hash[32],
                                                const char *user, int64_t expires,
                                                const char *actor, int64_t now);
SC_MUST_CHECK irp_status irpd__sqlite_token_check(irpd_store *st, const uint8_t hash[32],
                                                  int64_t now, char *user_out);
SC_MUST_CHECK irp_status irpd__sqlite_token_consume(irpd_store *st, const uint8_t hash[32],
                                                    int64_t now, char *user_out, const char *actor);
SC_MUST_CHECK irp_status irpd__sqlite_consume(sq_store *s, const uint8_t hash[32], int64_t now,
                                              char *user);

/* ---- irpd_sqlite_certs.c: certificates, revocation
 * -------------------------------- */

SC_MUST_CHECK irp_status irpd__sqlite_enroll(irpd_store *st, const uint8_t *token_hash,
                                             const irpd_cert *cert, const char *actor, int64_t now,
                                             irpd_revocation *sup);
SC_MUST_CHECK irp_status irpd__sqlite_cert_add(irpd_store *st, const irpd_cert *cert,
                                               const uint8_t *keep_fp, const char *actor,
                                               int64_t now, irpd_revocation *sup);
SC_MUST_CHECK irp_status irpd__sqlite_cert_get_serial(irpd_store *st, const char *serial,
                                                      irpd_cert *out, uint8_t *der, size_t der_cap);
SC_MUST_CHECK irp_status irpd__sqlite_cert_get_fp(irpd_store *st, const uint8_t fp[32],
                                                  irpd_cert *out, uint8_t *der, size_t der_cap);
SC_MUST_CHECK irp_status irpd__sqlite_cert_list(irpd_store *st, const char *user, irpd_cert_cb cb,
                                                void *arg);
SC_MUST_CHECK irp_status irpd__sqlite_cert_revoke(irpd_store *st, const char *serial,
                                                  const uint8_t *fp, const char *reason,
                                                  const char *actor, int64_t now,
                                                  irpd_revocation *out);
SC_MUST_CHECK irp_status irpd__sqlite_user_revoke(irpd_store *st, const char *name,
                                                  const char *reason, const char *actor,
                                                  int64_t now, irpd_revocation *out);
SC_MUST_CHECK irp_status irpd__sqlite_cert_record(irpd_store *st, const irpd_cert *cert,
                                                  const char *actor, int64_t now);
SC_MUST_CHECK irp_status irpd__sqlite_each_cert(sq_store *s, int id, const char *what, int with_der,
                                                irpd_cert_cb cb, void *arg, int64_t *n);
SC_MUST_CHECK irp_status irpd__sqlite_check_auth_cert(sq_store *s, const char *what, int64_t uid,
                                                      const char *user, const irpd_cert *c,
                                                      const char *actor, int64_t now);

/* ---- irpd_sqlite_bindings.c: bindings, lookup, PKCS#12, audit
 * --------------------- */

SC_MUST_CHECK irp_status irpd__sqlite_binding_put(irpd_store *st, const irpd_binding *b,
                                                  const irpd_cert *auth_cert, const char *actor,
                                                  int64_t now);
SC_MUST_CHECK irp_status irpd__sqlite_binding_delete(irpd_store *st, const char *name,
                                                     const char *device, const uint64_t *seq,
                                                     const char *actor, int64_t now,
                                                     size_t *n_ended);
SC_MUST_CHECK irp_status irpd__sqlite_binding_list(irpd_store *st, const char *name, int64_t now,
                                                   irpd_binding_cb cb, void *arg);
SC_MUST_CHECK irp_status irpd__sqlite_sweep(irpd_store *st, int64_t now, irpd_binding_cb cb,
                                            void *arg, size_t *n_expired);
SC_MUST_CHECK irp_status irpd__sqlite_access_check(irpd_store *st, const char *viewer,
                                                   const char *target, unsigned flags);
SC_MUST_CHECK irp_status irpd__sqlite_lookup(irpd_store *st, const char *viewer, const char *target,
                                             int64_t now, unsigned flags, const irpd_lookup_cb *cb,
                                             void *arg, char *user_out);
SC_MUST_CHECK irp_status irpd__sqlite_access_log(irpd_store *st, const char *owner,
                                                 int64_t after_id, size_t limit, irpd_audit_cb cb,
                                                 void *arg);
SC_MUST_CHECK irp_status irpd__sqlite_p12_put(irpd_store *st, const char *name, const uint8_t *blob,
                                              size_t len, const char *actor, int64_t now);
SC_MUST_CHECK irp_status irpd__sqlite_p12_get(irpd_store *st, const char *name, uint8_t *buf,
                                              size_t cap, size_t *len, int64_t *updated);
SC_MUST_CHECK irp_status irpd__sqlite_audit_add(irpd_store *st, int64_t now, const char *actor,
                                                const char *op, const char *target,
                                                const char *detail);
SC_MUST_CHECK irp_status irpd__sqlite_audit_list(irpd_store *st, const char *target,
                                                 int64_t after_id, size_t limit, irpd_audit_cb cb,
                                                 void *arg);

#endif
