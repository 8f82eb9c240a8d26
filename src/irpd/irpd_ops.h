/*
 * irpd_ops.h - the operation table (docs/IRP.md 6.0, 7.1, 9): for every
 * operation, who may call it, which rate bucket and failure counter it
 * uses, whether it may write and whether it acts on the connection's
 * certificate identity, and its handler. The request pipeline
 * (irpd_pipeline.c) enforces all of it before a handler runs, so a handler
 * (and a new operation) cannot forget an authentication check: an op
 * without a row is 501, and a row always states who may call it.
 */
#ifndef IRPD_OPS_H
#define IRPD_OPS_H

#include "sixchat/error.h"
#include "irpd_handlers_int.h"
#include "irpd_policy.h"

/* Who may call an operation (docs/IRP.md 7.1; 6.0 "Identity"). */
typedef enum irpd_who {
    IRPD_WHO_ANYONE = 0,  /* none: anonymous connections too */
    IRPD_WHO_TOKEN_OR_PW, /* enroll: a token in the request, or a password login */
    IRPD_WHO_PW,          /* a password login or a certificate */
    IRPD_WHO_CERT,        /* a certificate */
    IRPD_WHO_ADMIN        /* a certificate of an administrator */
} irpd_who;

/* May change stored data (6.0 "writes"; for user-info and lookup-policy, their sets). */
#define IRPD_OPF_WRITE 1u
/*
 * Acts on the connection's identity (its certificate, or a password
 * login's account): the pipeline calls the hctx's recheck hook
 * (irpd_identity_recheck: revoked, superseded, expired, unknown, disabled;
 * docs/IRP.md 11.4) before the handler.
 */
#define IRPD_OPF_IDENTITY 2u
/*
 * May be called by a certificate of a domain the registry does not serve
 * (an external CA's, docs/IRP.md 6.0: reads only; user-info without items).
 */
#define IRPD_OPF_FOREIGN 4u

/*
 * Its handler may run on the store's writer thread (docs/IRP.md 10.2;
 * irpd_wop.c), after the row's checks passed on the loop, when the server
 * has one (irpd_hctx.defer_writes): it uses only the store it is given,
 * the CA, the configuration, the connection's identity and the request,
 * never the rate policy or the session's watches. Its answer is sent once
 * its changes are durable. For the IRPD_OPF_WRITE rows and access-log
 * (which must see what the writer wrote). Enroll and renew run on the loop
 * (their key check may go to the thread pool) and leave their change to
 * the writer themselves (irpd__wop_call); the reads run on the loop.
 */
#define IRPD_OPF_APPLY 8u

/*
 * Reads the lookup records (access-log, 6.15): those the loop's store has
 * queued are handed to the writer thread first (irpd_hresult.reads_first),
 * so that the answer, made after them, lists every get answered before it.
 */
#define IRPD_OPF_READS 16u

typedef struct irpd_opdef {
    irp_op op;
    irpd_who who;
    irpd_bucket_id bucket; /* 9.2 per-operation bucket, keyed by the caller */
    irpd_fail_id fail;     /* 9.1 failure counters an attempt is held against */
    unsigned flags;        /* IRPD_OPF_* */
    irpd_op_fn run;
} irpd_opdef;

/* The row of op, or NULL when this registry does not offer it (501). */
const irpd_opdef *irpd_op_def(irp_op op);

/*
 * Whether session s may call d with request q (7.1): 0, 401 (a login
 * or certificate would allow it) or 403 (authenticated, but not for this
 * identity: list-users for a non-administrator). is_admin: s's certificate
 * user is an administrator. With a message for the response in msg.
 */
SC_MUST_CHECK int irpd_op_access(const irpd_opdef *d, const irpd_session *s, const irp_req *q,
                                 int is_admin, const char **msg);

/*
 * irpd_identity.c, run by the pipeline after irpd_op_access and the
 * identity re-check: the served domains (docs/IRP.md 2.1, 6.0). A
 * certificate of another domain only for ops with IRPD_OPF_FOREIGN
 * (user-info without items), else 403; a lookup, watch or user-info of a
 * user of another domain 404. 0, or the status with its message in x.
 */
SC_MUST_CHECK int irpd__domain_check(const irpd_hctx *h, const irpd_session *s, const irpd_opdef *d,
                                     const irp_req *q, hscratch *x);

/*
 * irpd_identity.c: the record of s's external certificate (7.6) as a write
 * for the writer thread, answering nothing (the pipeline hands the request
 * in again once it is durable). NULL without memory.
 */
irpd_wop *irpd__wop_record(const irpd_hctx *h, const irpd_session *s, int64_t now);

#endif
