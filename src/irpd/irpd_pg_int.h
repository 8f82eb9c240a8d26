/*
 * irpd_pg_int.h - the inside of the PostgreSQL backend of irpd_store.h,
 * shared by irpd_pg.c (connecting, the schema and its migration,
 * statements, transactions, group commit, the read records queue, errors,
 * the ops table), irpd_pg_schema.c (the SQL), irpd_pg_users.c,
 * irpd_pg_certs.c and irpd_pg_bindings.c (the operations). Each function is
 * documented at its definition. The backend mirrors the SQLite one
 * (irpd_sqlite_int.h) statement for statement, so that both keep the
 * contract of irpd_store.h the same way.
 */
#ifndef IRPD_PG_INT_H
#define IRPD_PG_INT_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "sixchat/error.h"
#include "irpd_store.h"
#include "irpd_readq.h"
#include "irpd_store_int.h"

/* The statements prepared at open (named "s<index>"); their SQL is in irpd_pg_schema.c. */
enum {
    P_BEGIN,
    P_BEGIN_R,
    P_COMMIT,
    P_COMMIT_LAZY,
    P_ROLLBACK,
    P_SAVEPOINT,
    P_RELEASE,
    P_ROLLBACK_TO,
    P_USER_ID,
    P_USER_NAME,
    P_USER_GET,
    P_USER_LIST,
    P_USER_ADD,
    P_USER_SET_PW,
    P_USER_SET_ADMIN,
    P_USER_SET_ACCESS,
    P_ALLOW_CLEAR,
    P_ALLOW_ADD,
    P_ALLOW_HAS,
    P_ALLOW_LIST,
    P_INFO_PUT,
    P_INFO_DEL,
    P_INFO_COUNT,
    P_INFO_LIST,
    P_TOKEN_ADD,
    P_TOKEN_GET,
    P_TOKEN_USE,
    P_CERT_ADD,
    P_CERT_BY_SERIAL,
    P_CERT_BY_FP,
    P_CERT_LIST,
    P_CERT_VALID_LIVE,
    P_CERT_REVOKED_LIVE,
    P_CERT_COUNT_VALID,
    P_CERT_SUPERSEDE,
    P_CERT_FIND_SERIAL,
    P_CERT_FIND_FP,
    P_CERT_REVOKE,
    P_CERT_REVOKE_USER,
    P_USER_DISABLE,
    P_TOKEN_VOID_USER,
    P_BIND_GET,
    P_BIND_COUNT_OTHERS,
    P_BIND_PUT,
    P_BIND_END_ONE,
    P_BIND_END_ALL,
    P_BIND_LIST,
    P_BIND_EXPIRED,
    P_BIND_MARK_EXPIRED,
    P_BIND_FORGET,
    P_P12_PUT,
    P_P12_GET,
    P_AUDIT_ADD,
    P_AUDIT_ALL,
    P_AUDIT_TARGET,
    P_ACCESS_LOG,
    N_PSTMT
};

#define IRPD_PG_SCHEMA_VERSION 1

/* The schema steps: irpd__pg_migrations[v] takes a database from version v to v + 1. */
extern const char *const irpd__pg_migrations[IRPD_PG_SCHEMA_VERSION];
extern const char *const irpd__pg_stmt_sql[N_PSTMT];

/* The parameters of one statement: integers as decimal text, bytes in binary format. */
#define PG_MAX_ARGS 9
typedef struct pg_args {
    int n;
    const char *v[PG_MAX_ARGS];
    int len[PG_MAX_ARGS];
    int fmt[PG_MAX_ARGS];
    char num[PG_MAX_ARGS][24];
} pg_args;

typedef struct pg_store {
    irpd_store base;  /* first: a pg_store * is an irpd_store * */
    PGconn *conn;     /* NULL when open failed */
    int in_batch;     /* between batch_begin and batch_commit/rollback */
    int batch_tx;     /* the batch's transaction is open (since its first change) */
    int batch_failed; /* that transaction is lost (connection, failed rollback) */
    irpd_readq reads; /* the lookup records queue */
    uint8_t scratch[IRPD_STORE_P12_MAX]; /* a decoded bytea column, during a callback */
} pg_store;

#define PGS(st) ((pg_store *)(st))

/* ---- irpd_pg.c: errors, statement helpers, the queue, transactions ---------------- */

irp_status irpd__pg_failf(pg_store *s, irp_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
irp_status irpd__pg_stopped(pg_store *s, PGresult *r, const char *what);

void irpd__pg_arg_int(pg_args *a, int64_t x);
void irpd__pg_arg_text(pg_args *a, const char *str);
void irpd__pg_arg_bytes(pg_args *a, const void *p, size_t n);

SC_MUST_CHECK PGresult *irpd__pg_exec(pg_store *s, int id, const pg_args *a, const char *what,
                                      irp_status *status);
SC_MUST_CHECK irp_status irpd__pg_cmd(pg_store *s, int id, const pg_args *a, const char *what,
                                      int64_t *changes);
SC_MUST_CHECK irp_status irpd__pg_one_int(pg_store *s, int id, const pg_args *a, const char *what,
                                          int64_t *out);

int64_t irpd__pg_int(const PGresult *r, int row, int col);
void irpd__pg_text(const PGresult *r, int row, int col, char *out, size_t cap);
size_t irpd__pg_bytes_len(const PGresult *r, int row, int col);
size_t irpd__pg_bytes(const PGresult *r, int row, int col, uint8_t *out, size_t cap);

SC_MUST_CHECK irp_status irpd__pg_flush_queue(pg_store *s);

SC_MUST_CHECK int irpd__pg_batch_lost(pg_store *s);
SC_MUST_CHECK irp_status irpd__pg_wr_begin(pg_store *s, const char *what);
SC_MUST_CHECK irp_status irpd__pg_wr_end(pg_store *s, irp_status status, const char *what);
SC_MUST_CHECK irp_status irpd__pg_rd_begin(pg_store *s, const char *what);
SC_MUST_CHECK irp_status irpd__pg_rd_end(pg_store *s, irp_status status, const char *what);
SC_MUST_CHECK irp_status irpd__pg_audit(pg_store *s, const char *what, int64_t ts,
                                        const char *actor, const char *op, const char *target,
                                        const char *detail);
SC_MUST_CHECK irp_status irpd__pg_find_user(pg_store *s, const char *what, const char *name,
                                            int64_t *id, int *access, char *canon);

/* ---- irpd_pg_users.c: users, user info, tokens ------------------------------------ */

SC_MUST_CHECK irp_status irpd__pg_user_add(irpd_store *st, const char *name, const char *actor,
                                           int64_t now);
SC_MUST_CHECK irp_status irpd__pg_user_get(irpd_store *st, const char *name, irpd_user *out);
SC_MUST_CHECK irp_status irpd__pg_user_list(irpd_store *st, const char *after, size_t limit,
                                            int64_t now, irpd_user_cb cb, void *arg);
SC_MUST_CHECK irp_status irpd__pg_user_set_password(irpd_store *st, const char *name,
                                                    const uint8_t *hash, size_t hash_len,
                                                    const uint8_t *salt, size_t salt_len,
                                                    const char *actor, int64_t now);
SC_MUST_CHECK irp_status irpd__pg_user_set_admin(irpd_store *st, const char *name, int admin,
                                                 const char *actor, int64_t now);
SC_MUST_CHECK irp_status irpd__pg_user_set_access(irpd_store *st, const char *name,
                                                  irpd_access access, const char *const *allow,
                                                  size_t n_allow, const char *actor, int64_t now);
SC_MUST_CHECK irp_status irpd__pg_allow_list(irpd_store *st, const char *name, irpd_name_cb cb,
                                             void *arg);
SC_MUST_CHECK irp_status irpd__pg_info_set(irpd_store *st, const char *user, const irpd_info *items,
                                           size_t n, const char *actor, int64_t now);
SC_MUST_CHECK irp_status irpd__pg_info_get(irpd_store *st, const char *user, irpd_info_cb cb,
                                           void *arg);
SC_MUST_CHECK irp_status irpd__pg_token_add(irpd_store *st, const uint8_t hash[32],
                                            const char *user, int64_t expires, const char *actor,
                                            int64_t now);
SC_MUST_CHECK irp_status irpd__pg_token_check(irpd_store *st, const uint8_t hash[32], int64_t now,
                                              char *user_out);
SC_MUST_CHECK irp_status irpd__pg_token_consume(irpd_store *st, const uint8_t hash[32], int64_t now,
                                                char *user_out, const char *actor);
SC_MUST_CHECK irp_status irpd__pg_consume(pg_store *s, const uint8_t hash[32], int64_t now,
                                          char *user);

/* ---- irpd_pg_certs.c: certificates, revocation ------------------------------------ */

SC_MUST_CHECK irp_status irpd__pg_enroll(irpd_store *st, const uint8_t *token_hash,
                                         const irpd_cert *cert, const char *actor, int64_t now,
                                         irpd_revocation *sup);
SC_MUST_CHECK irp_status irpd__pg_cert_add(irpd_store *st, const irpd_cert *cert,
                                           const uint8_t *keep_fp, const char *actor, int64_t now,
                                           irpd_revocation *sup);
SC_MUST_CHECK irp_status irpd__pg_cert_get_serial(irpd_store *st, const char *serial,
                                                  irpd_cert *out, uint8_t *der, size_t der_cap);
SC_MUST_CHECK irp_status irpd__pg_cert_get_fp(irpd_store *st, const uint8_t fp[32], irpd_cert *out,
                                              uint8_t *der, size_t der_cap);
SC_MUST_CHECK irp_status irpd__pg_cert_list(irpd_store *st, const char *user, irpd_cert_cb cb,
                                            void *arg);
SC_MUST_CHECK irp_status irpd__pg_cert_revoke(irpd_store *st, const char *serial, const uint8_t *fp,
                                              const char *reason, const char *actor, int64_t now,
                                              irpd_revocation *out);
SC_MUST_CHECK irp_status irpd__pg_user_revoke(irpd_store *st, const char *name, const char *reason,
                                              const char *actor, int64_t now, irpd_revocation *out);
SC_MUST_CHECK irp_status irpd__pg_cert_record(irpd_store *st, const irpd_cert *cert,
                                              const char *actor, int64_t now);
SC_MUST_CHECK irp_status irpd__pg_each_cert(pg_store *s, int id, const pg_args *a, const char *what,
                                            int with_der, irpd_cert_cb cb, void *arg, int64_t *n);
SC_MUST_CHECK irp_status irpd__pg_check_auth_cert(pg_store *s, const char *what, int64_t uid,
                                                  const char *user, const irpd_cert *c,
                                                  const char *actor, int64_t now);

/* ---- irpd_pg_bindings.c: bindings, lookup, PKCS#12, audit ------------------------- */

SC_MUST_CHECK irp_status irpd__pg_binding_put(irpd_store *st, const irpd_binding *b,
                                              const irpd_cert *auth_cert, const char *actor,
                                              int64_t now);
SC_MUST_CHECK irp_status irpd__pg_binding_delete(irpd_store *st, const char *name,
                                                 const char *device, const uint64_t *seq,
                                                 const char *actor, int64_t now, size_t *n_ended);
SC_MUST_CHECK irp_status irpd__pg_binding_list(irpd_store *st, const char *name, int64_t now,
                                               irpd_binding_cb cb, void *arg);
SC_MUST_CHECK irp_status irpd__pg_sweep(irpd_store *st, int64_t now, irpd_binding_cb cb, void *arg,
                                        size_t *n_expired);
SC_MUST_CHECK irp_status irpd__pg_access_check(irpd_store *st, const char *viewer,
                                               const char *target, unsigned flags);
SC_MUST_CHECK irp_status irpd__pg_lookup(irpd_store *st, const char *viewer, const char *target,
                                         int64_t now, unsigned flags, const irpd_lookup_cb *cb,
                                         void *arg, char *user_out);
SC_MUST_CHECK irp_status irpd__pg_access_log(irpd_store *st, const char *owner, int64_t after_id,
                                             size_t limit, irpd_audit_cb cb, void *arg);
SC_MUST_CHECK irp_status irpd__pg_p12_put(irpd_store *st, const char *name, const uint8_t *blob,
                                          size_t len, const char *actor, int64_t now);
SC_MUST_CHECK irp_status irpd__pg_p12_get(irpd_store *st, const char *name, uint8_t *buf,
                                          size_t cap, size_t *len, int64_t *updated);
SC_MUST_CHECK irp_status irpd__pg_audit_add(irpd_store *st, int64_t now, const char *actor,
                                            const char *op, const char *target, const char *detail);
SC_MUST_CHECK irp_status irpd__pg_audit_list(irpd_store *st, const char *target, int64_t after_id,
                                             size_t limit, irpd_audit_cb cb, void *arg);

#endif
