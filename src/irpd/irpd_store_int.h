/*
 * irpd_store_int.h - the inside of irpd_store.h, for backends only
 * (irpd_<backend>*.c): the vtable a backend implements, the head of every
 * backend's store, and the helpers the backends share (irpd_store.c).
 *
 * A backend's store struct begins with an irpd_store, so a pointer to it is
 * a pointer to its irpd_store (the way SQLite's own sqlite3_file carries
 * nothing but a pointer to its sqlite3_io_methods); its open function
 * points ops at its table and sets usable once open.
 *
 * Every entry is required and has the contract of the irpd_store_ function
 * of the same name (irpd_store.h), with one difference: it is called only
 * after that function checked the arguments, so an entry checks none of
 * what irpd_store.h says is refused with IRP_BAD_REQUEST or (for sizes)
 * IRP_TOO_LARGE, and never sees a store whose open failed. What the
 * dispatcher hands on, normalised:
 * - a serial argument, and the serial of every irpd_cert given as input
 *   (enroll, cert_add, cert_record, binding_put's auth_cert), in lowercase;
 * - the fingerprint of every such irpd_cert, computed (SHA-256 of der);
 * - a revocation reason, never NULL ("unspecified" in its place).
 * Errors an entry finds itself (not found, conflict, database) it reports
 * with irpd__store_failf, which the dispatcher returns as it is.
 */
#ifndef IRPD_STORE_INT_H
#define IRPD_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "irpd_store.h"

typedef struct irpd_store_ops {
    const char *name; /* "sqlite", "pg" */
    void (*close)(irpd_store *st);
    irp_status (*batch_begin)(irpd_store *st);
    irp_status (*batch_commit)(irpd_store *st);
    void (*batch_rollback)(irpd_store *st);
    irp_status (*flush)(irpd_store *st);
    irp_status (*reads_take)(irpd_store *st, irpd_audit_cb cb, void *arg);
    irp_status (*user_add)(irpd_store *st, const char *name, const char *actor, int64_t now);
    irp_status (*user_get)(irpd_store *st, const char *name, irpd_user *out);
    irp_status (*user_list)(irpd_store *st, const char *after, size_t limit, int64_t now,
                            irpd_user_cb cb, void *arg);
    irp_status (*user_set_password)(irpd_store *st, const char *name, const uint8_t *hash,
                                    size_t hash_len, const uint8_t *salt, size_t salt_len,
                                    const char *actor, int64_t now);
    irp_status (*user_set_admin)(irpd_store *st, const char *name, int admin, const char *actor,
                                 int64_t now);
    irp_status (*user_set_access)(irpd_store *st, const char *name, irpd_access access,
                                  const char *const *allow, size_t n_allow, const char *actor,
                                  int64_t now);
    irp_status (*allow_list)(irpd_store *st, const char *name, irpd_name_cb cb, void *arg);
    irp_status (*info_set)(irpd_store *st, const char *user, const irpd_info *items, size_t n,
                           const char *actor, int64_t now);
    irp_status (*info_get)(irpd_store *st, const char *user, irpd_info_cb cb, void *arg);
    irp_status (*token_add)(irpd_store *st, const uint8_t hash[32], const char *user,
                            int64_t expires, const char *actor, int64_t now);
    irp_status (*token_check)(irpd_store *st, const uint8_t hash[32], int64_t now, char *user_out);
    irp_status (*token_consume)(irpd_store *st, const uint8_t hash[32], int64_t now, char *user_out,
                                const char *actor);
    irp_status (*enroll)(irpd_store *st, const uint8_t *token_hash, const irpd_cert *cert,
                         const char *actor, int64_t now, irpd_revocation *sup);
    irp_status (*cert_add)(irpd_store *st, const irpd_cert *cert, const uint8_t *keep_fp,
                           const char *actor, int64_t now, irpd_revocation *sup);
    irp_status (*cert_get_serial)(irpd_store *st, const char *serial, irpd_cert *out, uint8_t *der,
                                  size_t der_cap);
    irp_status (*cert_get_fp)(irpd_store *st, const uint8_t fp[32], irpd_cert *out, uint8_t *der,
                              size_t der_cap);
    irp_status (*cert_list)(irpd_store *st, const char *user, irpd_cert_cb cb, void *arg);
    irp_status (*cert_revoke)(irpd_store *st, const char *serial, const uint8_t *fp,
                              const char *reason, const char *actor, int64_t now,
                              irpd_revocation *out);
    irp_status (*user_revoke)(irpd_store *st, const char *user, const char *reason,
                              const char *actor, int64_t now, irpd_revocation *out);
    irp_status (*cert_record)(irpd_store *st, const irpd_cert *cert, const char *actor,
                              int64_t now);
    irp_status (*binding_put)(irpd_store *st, const irpd_binding *b, const irpd_cert *auth_cert,
                              const char *actor, int64_t now);
    irp_status (*binding_delete)(irpd_store *st, const char *user, const char *device,
                                 const uint64_t *seq, const char *actor, int64_t now,
                                 size_t *n_ended);
    irp_status (*binding_list)(irpd_store *st, const char *user, int64_t now, irpd_binding_cb cb,
                               void *arg);
    irp_status (*sweep)(irpd_store *st, int64_t now, irpd_binding_cb cb, void *arg,
                        size_t *n_expired);
    irp_status (*access_check)(irpd_store *st, const char *viewer, const char *target,
                               unsigned flags);
    irp_status (*lookup)(irpd_store *st, const char *viewer, const char *target, int64_t now,
                         unsigned flags, const irpd_lookup_cb *cb, void *arg, char *user_out);
    irp_status (*access_log)(irpd_store *st, const char *owner, int64_t after_id, size_t limit,
                             irpd_audit_cb cb, void *arg);
    irp_status (*p12_put)(irpd_store *st, const char *user, const uint8_t *blob, size_t len,
                          const char *actor, int64_t now);
    irp_status (*p12_get)(irpd_store *st, const char *user, uint8_t *buf, size_t cap, size_t *len,
                          int64_t *updated);
    irp_status (*audit_add)(irpd_store *st, int64_t now, const char *actor, const char *op,
                            const char *target, const char *detail);
    irp_status (*audit_list)(irpd_store *st, const char *target, int64_t after_id, size_t limit,
                             irpd_audit_cb cb, void *arg);
} irpd_store_ops;

/* The head of every backend's store. Callers of irpd_store.h never touch it. */
struct irpd_store {
    const irpd_store_ops *ops;
    int usable; /* the backend's open succeeded */
    char errmsg[IRPD_STORE_ERRMSG_MAX];
};

/* Sets st's last failure (irpd_store_errmsg) and returns status. */
irp_status irpd__store_failf(irpd_store *st, irp_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ASCII case-insensitive equality: how SQLite's NOCASE and sc_cert compare user IDs. */
int irpd__store_same_user(const char *a, const char *b);

/* seq is a u64, SQL integers are signed: the same 64 bits either way (compared in C). */
int64_t irpd__store_seq_to_db(uint64_t x);
uint64_t irpd__store_seq_from_db(int64_t v);

#endif
