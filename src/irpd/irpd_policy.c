/*
 * irpd_policy.c - the registry's rate rules (irpd_policy.h; docs/IRP.md 9).
 */
#include "irpd_policy.h"

#include <stdio.h>
#include <string.h>
#include <openssl/sha.h>

#include "irp_status.h"

#define TOKEN_WINDOW_S (30 * 86400) /* longer than a token lives (7.2) */

int irpd_policy_init(irpd_policy *p, const irpd_config *cfg)
{
    irpd_config d;

    memset(p, 0, sizeof(*p));
    if (cfg == NULL) {
        irpd_config_defaults(&d);
        cfg = &d;
    }
    if (irpd_rl_init(&p->fail_user, cfg->login_fail_user, cfg->login_fail_window, 0) != 0 ||
        irpd_rl_init(&p->fail_addr, cfg->login_fail_addr, cfg->login_fail_window, 0) != 0 ||
        irpd_rl_init(&p->fail_token, IRPD_TOKEN_REFUSALS_MAX, TOKEN_WINDOW_S, 0) != 0 ||
        irpd_buckets_init(&p->req_user, cfg->req_rate_user, cfg->req_burst_user) != 0 ||
        irpd_buckets_init(&p->req_anon, cfg->req_rate_anon, cfg->req_burst_anon) != 0 ||
        irpd_buckets_init(&p->op_device, cfg->reg_rate, cfg->reg_burst) != 0 ||
        irpd_buckets_init(&p->op_cert, cfg->cert_per_hour / 3600.0, cfg->cert_per_hour) != 0 ||
        irpd_buckets_init(&p->op_p12, cfg->p12_per_hour / 3600.0, cfg->p12_per_hour) != 0) {
        irpd_policy_free(p);
        return -1;
    }
    return 0;
}

void irpd_policy_free(irpd_policy *p)
{
    irpd_rl_free(&p->fail_user);
    irpd_rl_free(&p->fail_addr);
    irpd_rl_free(&p->fail_token);
    irpd_buckets_free(&p->req_user);
    irpd_buckets_free(&p->req_anon);
    irpd_buckets_free(&p->op_device);
    irpd_buckets_free(&p->op_cert);
    irpd_buckets_free(&p->op_p12);
}

int irpd_policy_request(irpd_policy *p, const char *cert_user, const irp_addr *peer, int64_t now_ms)
{
    char key[IRPD_RL_KEY_MAX];

    if (cert_user != NULL) {
        irpd_rl_user_key(cert_user, key);
        return irpd_buckets_take(&p->req_user, key, now_ms);
    }
    if (peer == NULL) return 1;
    irpd_rl_addr_key(peer, key);
    return irpd_buckets_take(&p->req_anon, key, now_ms);
}

int irpd_policy_op(irpd_policy *p, irpd_bucket_id b, const char *who, const char *device,
                   int64_t now_s)
{
    char key[IRPD_RL_KEY_MAX + IRP_ADDR_STRLEN + 80], user[IRPD_RL_KEY_MAX];

    if (b == IRPD_BUCKET_NONE || who == NULL) return 1;
    irpd_rl_user_key(who, user);
    snprintf(key, sizeof(key), "%s", user);
    switch (b) {
    case IRPD_BUCKET_DEVICE:
        /* a (user, device) key too long for a slot is replaced by its SHA-256 */
        snprintf(key, sizeof(key), "%s\n%.64s", user, device != NULL ? device : "*");
        if (strlen(key) >= IRPD_RL_KEY_MAX) {
            uint8_t d[32];
            SHA256((const unsigned char *)key, strlen(key), d);
            for (size_t i = 0; i < 32; i++)
                snprintf(key + 2 * i, 3, "%02x", d[i]);
        }
        return irpd_buckets_take(&p->op_device, key, now_s * 1000);
    case IRPD_BUCKET_CERT:
        return irpd_buckets_take(&p->op_cert, key, now_s * 1000);
    case IRPD_BUCKET_P12:
        return irpd_buckets_take(&p->op_p12, key, now_s * 1000);
    default:
        return 1;
    }
}

int irpd_policy_fail_admit(irpd_policy *p, irpd_fail_id kind, const char *login_user,
                           const irp_addr *peer, int64_t now, irpd_fail_hold *hold)
{
    memset(hold, 0, sizeof(*hold));
    if (kind == IRPD_FAIL_NONE) return 1;
    hold->kind = kind;
    if (kind == IRPD_FAIL_LOGIN && login_user != NULL) {
        irpd_rl_user_key(login_user, hold->ukey);
        if (!irpd_rl_reserve(&p->fail_user, hold->ukey, now)) goto refused;
        hold->user_held = 1;
    }
    if (peer != NULL) {
        irpd_rl_addr_key(peer, hold->akey);
        if (!irpd_rl_reserve(&p->fail_addr, hold->akey, now)) goto refused;
        hold->addr_held = 1;
    }
    return 1;
refused:
    irpd_policy_fail_settle(p, hold, 0, now); /* gives back what was held */
    return 0;
}

void irpd_policy_fail_settle(irpd_policy *p, irpd_fail_hold *hold, int status, int64_t now)
{
    int failed = 0;

    if (hold->kind == IRPD_FAIL_LOGIN)
        failed = status == IRP_AUTH_REQUIRED; /* 6.4: wrong user or password */
    else if (hold->kind == IRPD_FAIL_TOKEN)   /* 6.5 step 1: a token that is no good */
        failed = status == IRP_AUTH_REQUIRED || status == IRP_FORBIDDEN || status == IRP_GONE;
    if (hold->user_held) irpd_rl_settle(&p->fail_user, hold->ukey, now, failed);
    if (hold->addr_held) irpd_rl_settle(&p->fail_addr, hold->akey, now, failed);
    memset(hold, 0, sizeof(*hold));
}

int irpd_policy_token_refused(irpd_policy *p, const uint8_t th[32], int64_t now)
{
    char key[2 + 64 + 1];

    key[0] = 't';
    for (size_t i = 0; i < 32; i++)
        snprintf(key + 1 + 2 * i, 3, "%02x", th[i]);
    return irpd_rl_fail(&p->fail_token, key, now) >= IRPD_TOKEN_REFUSALS_MAX;
}
