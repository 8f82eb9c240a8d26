/*
 * irpd_ops.c - the operation table (irpd_ops.h): one row per operation of
 * docs/IRP.md 6.0, in the order of 13.2.
 */
#include "irpd_ops.h"

#include <stddef.h>

#define W IRPD_OPF_WRITE
#define I IRPD_OPF_IDENTITY
#define F IRPD_OPF_FOREIGN
#define A IRPD_OPF_APPLY
#define R IRPD_OPF_READS

/* clang-format off */
static const irpd_opdef ops[] = {
    /* op                    who                   bucket               failure counter  flags       handler
     * (F: user-info only without items, irpd_identity.c) */
    {IRP_OP_CAPABILITIES,  IRPD_WHO_ANYONE,      IRPD_BUCKET_NONE,   IRPD_FAIL_NONE,  F,          irpd__op_capabilities},
    {IRP_OP_CA_CERTS,      IRPD_WHO_ANYONE,      IRPD_BUCKET_NONE,   IRPD_FAIL_NONE,  F,          irpd__op_ca_certs},
    {IRP_OP_PING,          IRPD_WHO_ANYONE,      IRPD_BUCKET_NONE,   IRPD_FAIL_NONE,  F,          irpd__op_ping},
    {IRP_OP_LOGIN,         IRPD_WHO_ANYONE,      IRPD_BUCKET_NONE,   IRPD_FAIL_LOGIN, 0,          irpd__op_login},
    {IRP_OP_ENROLL,        IRPD_WHO_TOKEN_OR_PW, IRPD_BUCKET_CERT,   IRPD_FAIL_TOKEN, W | I,      irpd__op_enroll},
    {IRP_OP_RENEW,         IRPD_WHO_CERT,        IRPD_BUCKET_CERT,   IRPD_FAIL_NONE,  W | I,      irpd__op_renew},
    {IRP_OP_REGISTER,      IRPD_WHO_CERT,        IRPD_BUCKET_DEVICE, IRPD_FAIL_NONE,  W | I | A,  irpd__op_register},
    {IRP_OP_UNREGISTER,    IRPD_WHO_CERT,        IRPD_BUCKET_DEVICE, IRPD_FAIL_NONE,  W | I | A,  irpd__op_unregister},
    {IRP_OP_LOOKUP,        IRPD_WHO_CERT,        IRPD_BUCKET_NONE,   IRPD_FAIL_NONE,  I | F,      irpd__op_lookup},
    {IRP_OP_WATCH,         IRPD_WHO_CERT,        IRPD_BUCKET_NONE,   IRPD_FAIL_NONE,  I | F,      irpd__op_watch},
    {IRP_OP_UNWATCH,       IRPD_WHO_CERT,        IRPD_BUCKET_NONE,   IRPD_FAIL_NONE,  I | F,      irpd__op_unwatch},
    {IRP_OP_CERT_STATUS,   IRPD_WHO_CERT,        IRPD_BUCKET_NONE,   IRPD_FAIL_NONE,  I | F,      irpd__op_cert_status},
    {IRP_OP_REVOKE,        IRPD_WHO_CERT,        IRPD_BUCKET_NONE,   IRPD_FAIL_NONE,  W | I | A,  irpd__op_revoke},
    {IRP_OP_USER_INFO,     IRPD_WHO_CERT,        IRPD_BUCKET_NONE,   IRPD_FAIL_NONE,  W|I|F|A,    irpd__op_user_info},
    {IRP_OP_LOOKUP_POLICY, IRPD_WHO_CERT,        IRPD_BUCKET_NONE,   IRPD_FAIL_NONE,  W | I | A,  irpd__op_lookup_policy},
    {IRP_OP_ACCESS_LOG,    IRPD_WHO_CERT,        IRPD_BUCKET_NONE,   IRPD_FAIL_NONE,  I | A | R,  irpd__op_access_log},
    {IRP_OP_PKCS12_PUT,    IRPD_WHO_CERT,        IRPD_BUCKET_P12,    IRPD_FAIL_NONE,  W | I | A,  irpd__op_pkcs12_put},
    {IRP_OP_PKCS12_GET,    IRPD_WHO_PW,          IRPD_BUCKET_NONE,   IRPD_FAIL_NONE,  I,          irpd__op_pkcs12_get},
    {IRP_OP_LIST_USERS,    IRPD_WHO_ADMIN,       IRPD_BUCKET_NONE,   IRPD_FAIL_NONE,  I,          irpd__op_list_users},
};
/* clang-format on */

const irpd_opdef *irpd_op_def(irp_op op)
{
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (ops[i].op == op) return &ops[i];
    return NULL;
}

int irpd_op_access(const irpd_opdef *d, const irpd_session *s, const irp_req *q, int is_admin,
                   const char **msg)
{
    *msg = "";
    switch (d->who) {
    case IRPD_WHO_ANYONE:
        return 0;
    case IRPD_WHO_TOKEN_OR_PW: /* 6.5: the token names the user, else the login does */
        if (q->token != NULL || s->pw_auth) return 0;
        *msg = "enroll needs a token or a password login";
        return IRP_AUTH_REQUIRED;
    case IRPD_WHO_PW:
        if (s->cert_auth || s->pw_auth) return 0;
        *msg = "this operation needs a client certificate or a password login";
        return IRP_AUTH_REQUIRED;
    case IRPD_WHO_CERT:
        if (s->cert_auth) return 0;
        *msg = "this operation needs a client certificate";
        return IRP_AUTH_REQUIRED;
    case IRPD_WHO_ADMIN:
        if (!s->cert_auth) {
            *msg = "this operation needs an administrator's client certificate";
            return IRP_AUTH_REQUIRED;
        }
        if (is_admin) return 0;
        *msg = "this operation is for administrators";
        return IRP_FORBIDDEN;
    }
    *msg = "no access rule";
    return IRP_FORBIDDEN; /* a row without a known rule is refused, never open */
}
