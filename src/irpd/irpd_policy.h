/*
 * irpd_policy.h - every rate rule of the registry in one place
 * (docs/IRP.md 9.1, 9.2, 6.5): which bucket a request takes a token from,
 * which failure counters an attempt is held against and what counts as its
 * failure. The request pipeline (irpd_pipeline.c) asks it about each parsed
 * request; nothing here looks at request bytes.
 *
 * Sans-I/O: the caller passes the time.
 */
#ifndef IRPD_POLICY_H
#define IRPD_POLICY_H

#include <stdint.h>

#include "sixchat/error.h"
#include "irp_addr.h"
#include "irpd_bucket.h"
#include "irpd_config.h"
#include "irpd_ratelimit.h"

/* The per-operation buckets of 9.2 (the operation table names one per op). */
typedef enum irpd_bucket_id {
    IRPD_BUCKET_NONE = 0,
    IRPD_BUCKET_DEVICE, /* register, unregister: per (user, device) */
    IRPD_BUCKET_CERT,   /* enroll, renew: per user */
    IRPD_BUCKET_P12     /* pkcs12-put: per user */
} irpd_bucket_id;

/* The failure counters of 9.1 an attempt is held against. */
typedef enum irpd_fail_id {
    IRPD_FAIL_NONE = 0,
    IRPD_FAIL_LOGIN, /* login: per user ID and per source address; fails on 401 */
    IRPD_FAIL_TOKEN  /* enroll with a token: per source address; fails on 401, 403, 410 */
} irpd_fail_id;

/* 6.5: refused CSRs (422) an enrolment token survives; the next one uses it up. */
#define IRPD_TOKEN_REFUSALS_MAX 3

typedef struct irpd_policy {
    irpd_ratelimit fail_user, fail_addr; /* 9.1 */
    irpd_ratelimit fail_token;           /* 6.5: refused CSRs per token */
    irpd_buckets req_user, req_anon;     /* 9.2: every request */
    irpd_buckets op_device, op_cert, op_p12;
} irpd_policy;

/* An attempt admitted against failure counters, to be settled once answered. */
typedef struct irpd_fail_hold {
    irpd_fail_id kind; /* IRPD_FAIL_NONE: nothing held */
    int user_held, addr_held;
    char ukey[IRPD_RL_KEY_MAX], akey[IRPD_RL_KEY_MAX];
} irpd_fail_hold;

/* Limits from cfg (NULL: the defaults of docs/IRP.md 9). 0 or -1 (memory). */
SC_MUST_CHECK int irpd_policy_init(irpd_policy *p, const irpd_config *cfg);
void irpd_policy_free(irpd_policy *p);

/*
 * 9.2: a request of a certificate identity (cert_user) or, without one,
 * from peer (NULL: unknown, not limited) takes a token. 1 admitted, 0: 429.
 */
SC_MUST_CHECK int irpd_policy_request(irpd_policy *p, const char *cert_user, const irp_addr *peer,
                                      int64_t now_ms);

/*
 * 9.2: a token of an operation's own bucket for user who (device: register
 * and unregister; NULL for all devices). 1 admitted, 0: 429.
 */
SC_MUST_CHECK int irpd_policy_op(irpd_policy *p, irpd_bucket_id b, const char *who,
                                 const char *device, int64_t now_s);

/*
 * 9.1: admits an attempt of kind (login of login_user, or a token enroll)
 * from peer (may be NULL), holding its place in every counter it counts
 * against. 1 admitted (*hold filled: settle it once answered), 0: 429 (the
 * limit is reached, or would be by the attempts already in flight).
 */
SC_MUST_CHECK int irpd_policy_fail_admit(irpd_policy *p, irpd_fail_id kind, const char *login_user,
                                         const irp_addr *peer, int64_t now, irpd_fail_hold *hold);

/* Settles an admitted attempt with the status it was answered (idempotent). */
void irpd_policy_fail_settle(irpd_policy *p, irpd_fail_hold *hold, int status, int64_t now);

/*
 * 6.5: counts a refused CSR (422) against the enrolment token whose hash is
 * th. 1 when the token has now had IRPD_TOKEN_REFUSALS_MAX refusals and
 * must be used up, else 0.
 */
SC_MUST_CHECK int irpd_policy_token_refused(irpd_policy *p, const uint8_t th[32], int64_t now);

#endif
