/*
 * irp_cmds.c - the commands of irp: the table of them, the requests each
 * builds from the command line and the printing of the answers. irp_main.c
 * parses the options, looks the command up here and runs the loop; the
 * request queue and the run's end are irp_run.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "irp_client.h"
#include "irp_sig.h"
#include "irp_tool.h"
#include "sc_crypto.h"
#include "sixchat/error.h"

static void hex(const uint8_t *p, size_t n, char *out)
{
    size_t i;
    for (i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
    out[2 * n] = '\0';
}

static const char *const reason_names[] = {NULL,
                                           "unspecified",
                                           "key-compromise",
                                           "ca-compromise",
                                           "affiliation-changed",
                                           "superseded",
                                           "cessation-of-operation",
                                           "privilege-withdrawn"};
static const char *const state_names[] = {"none", "valid", "revoked", "expired", "unknown"};
static const char *const access_names[] = {"none", "anyone", "list", "nobody"};
static const char *const change_names[] = {"none",   "register", "unregister", "expire",
                                           "revoke", "policy",   "shutdown"};

static void print_binding(const char *prefix, const irp_binding *b)
{
    size_t i;
    printf("%sbinding %s addrs=", prefix, b->device);
    for (i = 0; i < b->n_addrs; i++) {
        char a[IRP_ADDR_STRLEN];
        if (irp_addr_format(&b->addrs[i], a) != 0) snprintf(a, sizeof(a), "?");
        printf("%s%s", i ? "," : "", a);
    }
    printf(" port=%u expires=%llu updated=%llu seq=%llu\n", b->port, (unsigned long long)b->expires,
           (unsigned long long)b->updated, (unsigned long long)b->seq);
}

static void print_cert(const irp_cert *ct)
{
    char fp[65];
    printf("cert %s", state_names[ct->state <= IRP_CERT_UNKNOWN ? ct->state : 0]);
    if (ct->serial != NULL) printf(" serial=%s", ct->serial);
    if (ct->has_fp) {
        hex(ct->fp, 32, fp);
        printf(" fp=%s", fp);
    } else if (ct->der != NULL) {
        uint8_t d[32];
        unsigned int dl = 0;
        EVP_Digest(ct->der, ct->der_len, d, &dl, EVP_sha256(), NULL);
        hex(d, 32, fp);
        printf(" fp=%s", fp);
    }
    if (ct->user != NULL) printf(" user=%s", ct->user);
    if (ct->not_after) printf(" not-after=%llu", (unsigned long long)ct->not_after);
    if (ct->revoked) printf(" revoked=%llu", (unsigned long long)ct->revoked);
    if (ct->reason != IRP_REASON_NONE && ct->reason <= IRP_REASON_PRIVILEGE_WITHDRAWN)
        printf(" reason=%s", reason_names[ct->reason]);
    printf("\n");
}

/* Writes the DER certificates of resp as PEM to f. */
static int write_certs_pem(FILE *f, const irp_resp *r)
{
    size_t i;
    for (i = 0; i < r->n_certs; i++) {
        const unsigned char *p = r->certs[i].der;
        X509 *x;
        if (p == NULL) continue;
        x = d2i_X509(NULL, &p, (long)r->certs[i].der_len);
        if (x == NULL) return -1;
        PEM_write_X509(f, x);
        X509_free(x);
    }
    return 0;
}

/* ---- response handlers ------------------------------------------------------------ */

static void done_one(irp_tool *t)
{
    if (--t->waiting <= 0 && !(t->is_watch && t->exit_code == 0 && t->want_events != 0))
        irp_tool_finish(t);
}

static int check(irp_tool *t, const irp_resp *r)
{
    if (r->status >= 200 && r->status < 300) return 1;
    irp_tool_error(t, r->status, r->msg);
    return 0;
}

static void on_plain(void *ctx, const irp_resp *r)
{
    const irp_tool_req *q = ctx;
    irp_tool *t = q->t;
    if (check(t, r)) printf("%s: %d %s\n", q->what, r->status, r->msg);
    done_one(t);
}

static void on_caps(void *ctx, const irp_resp *r)
{
    const irp_tool_req *q = ctx;
    irp_tool *t = q->t;
    int i;
    if (check(t, r)) {
        printf("versions:");
        for (i = 1; i < 32; i++)
            if (r->caps.versions & (1u << i)) printf(" %d", i);
        printf("\nops:");
        for (i = 1; i < IRP_OP_COUNT; i++)
            if (r->caps.ops & (1u << i)) printf(" %s", irp_op_name((irp_op)i));
        printf("\nlogin:%s%s%s\n", r->caps.logins & IRP_LOGIN_PASSWORD ? " password" : "",
               r->caps.logins & IRP_LOGIN_TOKEN ? " token" : "",
               r->caps.logins & IRP_LOGIN_CERTIFICATE ? " certificate" : "");
        if (r->has_limits)
            printf("limits: doc=%u addrs=%u devices=%u lifetime-min=%u lifetime-max=%u "
                   "lifetime-default=%u pipeline=%u watches=%u\n",
                   r->limits.doc, r->limits.addrs, r->limits.devices, r->limits.lifetime_min,
                   r->limits.lifetime_max, r->limits.lifetime_default, r->limits.pipeline,
                   r->limits.watches);
    }
    done_one(t);
}

static void on_ca_certs(void *ctx, const irp_resp *r)
{
    const irp_tool_req *q = ctx;
    irp_tool *t = q->t;
    if (check(t, r)) {
        size_t i;
        int pinned = t->pin_hex == NULL;
        for (i = 0; i < r->n_certs; i++) {
            uint8_t d[32];
            unsigned int dl = 0;
            char h[65];
            EVP_Digest(r->certs[i].der, r->certs[i].der_len, d, &dl, EVP_sha256(), NULL);
            hex(d, 32, h);
            printf("# fingerprint (SHA-256): %s\n", h);
            if (t->pin_hex != NULL && strcmp(h, t->pin_hex) == 0) pinned = 1;
        }
        write_certs_pem(stdout, r);
        if (!pinned) {
            irp_tool_error(t, IRP_CLIENT_TLS, "no CA certificate has the pinned fingerprint");
        } else if (t->save_file != NULL) {
            FILE *f = fopen(t->save_file, "w");
            if (f == NULL || write_certs_pem(f, r) != 0) {
                perror(t->save_file);
                t->exit_code = 1;
            }
            if (f != NULL) fclose(f);
        }
    }
    done_one(t);
}

static void on_enroll(void *ctx, const irp_resp *r)
{
    const irp_tool_req *q = ctx;
    irp_tool *t = q->t;
    if (check(t, r)) {
        FILE *f;
        if (r->n_certs > 0) print_cert(&r->certs[0]);
        f = fopen(t->out_file, "w");
        if (f == NULL || write_certs_pem(f, r) != 0) {
            perror(t->out_file);
            t->exit_code = 1;
        } else {
            printf("wrote %s\n", t->out_file);
        }
        if (f != NULL) fclose(f);
    }
    done_one(t);
}

static void on_register(void *ctx, const irp_resp *r)
{
    const irp_tool_req *q = ctx;
    irp_tool *t = q->t;
    if (check(t, r)) {
        char a[IRP_ADDR_STRLEN] = "?";
        if (r->has_seen && irp_addr_format(&r->seen, a) != 0) snprintf(a, sizeof(a), "?");
        printf("registered granted=%u seen=%s%s\n", r->granted, a, r->nat ? " nat=1" : "");
        if (r->nat)
            printf("note: the registry sees you as %s, which you did not register: you are "
                   "probably behind NAT\n",
                   a);
    }
    done_one(t);
}

static void on_lookup(void *ctx, const irp_resp *r)
{
    const irp_tool_req *q = ctx;
    irp_tool *t = q->t;
    if (check(t, r)) {
        size_t i;
        printf("user %s at=%llu\n", r->user != NULL ? r->user : "?", (unsigned long long)r->at);
        for (i = 0; i < r->n_bindings; i++)
            print_binding("", &r->bindings[i]);
        if (r->n_bindings == 0 && r->n_certs > 0 && q->what != NULL) printf("no live binding\n");
        for (i = 0; i < r->n_certs; i++)
            print_cert(&r->certs[i]);
        for (i = 0; i < r->n_info; i++)
            printf("info %s %.*s\n", r->info[i].name, (int)r->info[i].value_len, r->info[i].value);
        if (q->what != NULL) { /* a lookup: the signature is required */
            int v = r->has_sig ? irp_lookup_verify(r, irp_client_peer_cert(t->cli)) : SC_ERR_ARG;
            if (v == 0) {
                printf("signature ok (%s)\n", sc_sigalg_name(r->sig.alg));
            } else {
                printf("signature BAD (%d)\n", v);
                irp_tool_error(t, IRP_CLIENT_PROTOCOL,
                               r->has_sig ? "the lookup signature does not verify"
                                          : "the lookup answer is not signed");
            }
        }
    }
    done_one(t);
}

void irp_tool_on_event(void *ctx, const irp_event *ev)
{
    irp_tool *t = ctx;
    size_t i;
    printf("event %s user=%s seq=%llu at=%llu reason=%s bindings=%zu\n",
           ev->type == IRP_EVENT_BINDING ? "binding" : "watch-end", ev->user,
           (unsigned long long)ev->seq, (unsigned long long)ev->at,
           ev->reason <= IRP_CHANGE_SHUTDOWN ? change_names[ev->reason] : "?", ev->n_bindings);
    for (i = 0; i < ev->n_bindings; i++)
        print_binding("  ", &ev->bindings[i]);
    fflush(stdout);
    t->got_events++;
    if (t->want_events > 0 && t->got_events >= t->want_events && t->waiting <= 0)
        irp_tool_finish(t);
}

static void on_watch(void *ctx, const irp_resp *r)
{
    const irp_tool_req *q = ctx;
    irp_tool *t = q->t;
    if (check(t, r)) {
        size_t i;
        printf("watching %s at=%llu bindings=%zu\n", r->user != NULL ? r->user : "?",
               (unsigned long long)r->at, r->n_bindings);
        for (i = 0; i < r->n_bindings; i++)
            print_binding("  ", &r->bindings[i]);
        fflush(stdout);
    }
    if (--t->waiting <= 0 &&
        (t->exit_code != 0 || (t->want_events > 0 && t->got_events >= t->want_events)))
        irp_tool_finish(t);
}

void irp_tool_on_lost(void *ctx, int status, const char *msg)
{
    irp_tool *t = ctx;
    if (t->is_watch && t->waiting <= 0) {
        irp_tool_error(t, status, msg);
        irp_tool_finish(t);
    }
}

static void on_policy(void *ctx, const irp_resp *r)
{
    const irp_tool_req *q = ctx;
    irp_tool *t = q->t;
    if (check(t, r)) {
        size_t i;
        printf("access %s\n", access_names[r->access <= IRP_ACCESS_NOBODY ? r->access : 0]);
        for (i = 0; i < r->n_allow; i++)
            printf("allow %s\n", r->allow[i]);
    }
    done_one(t);
}

static void on_log(void *ctx, const irp_resp *r)
{
    const irp_tool_req *q = ctx;
    irp_tool *t = q->t;
    if (check(t, r)) {
        size_t i;
        for (i = 0; i < r->n_log; i++)
            printf("entry %llu ts=%llu by=%s op=%s\n", (unsigned long long)r->log[i].id,
                   (unsigned long long)r->log[i].ts, r->log[i].by, irp_op_name(r->log[i].op));
        if (r->more) printf("more\n");
    }
    done_one(t);
}

static void on_users(void *ctx, const irp_resp *r)
{
    const irp_tool_req *q = ctx;
    irp_tool *t = q->t;
    if (check(t, r)) {
        size_t i;
        for (i = 0; i < r->n_users; i++)
            printf("user %s devices=%u certs=%u created=%llu access=%s\n", r->users[i].name,
                   r->users[i].devices, r->users[i].certs, (unsigned long long)r->users[i].created,
                   access_names[r->users[i].access <= IRP_ACCESS_NOBODY ? r->users[i].access : 0]);
        if (r->more) printf("more\n");
    }
    done_one(t);
}

static void on_p12get(void *ctx, const irp_resp *r)
{
    const irp_tool_req *q = ctx;
    irp_tool *t = q->t;
    if (check(t, r)) {
        FILE *f = fopen(t->out_file, "wb");
        if (f == NULL || fwrite(r->p12, 1, r->p12_len, f) != r->p12_len) {
            perror(t->out_file);
            t->exit_code = 1;
        } else {
            printf("wrote %s (%zu bytes, updated %llu)\n", t->out_file, r->p12_len,
                   (unsigned long long)r->p12_updated);
        }
        if (f != NULL) fclose(f);
    }
    done_one(t);
}

/* ---- reading the command line ------------------------------------------------------ */

static uint8_t *csr_der(const char *path, size_t *len)
{
    size_t n = 0;
    char *text = irp_tool_read_file(path, &n);
    uint8_t *der = NULL;
    BIO *b;
    X509_REQ *q;
    if (text == NULL) return NULL;
    b = BIO_new_mem_buf(text, (int)n);
    q = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
    BIO_free(b);
    if (q == NULL) {
        const unsigned char *p = (const unsigned char *)text;
        q = d2i_X509_REQ(NULL, &p, (long)n);
    }
    ERR_clear_error();
    free(text);
    if (q != NULL) {
        int l = i2d_X509_REQ(q, &der);
        *len = l > 0 ? (size_t)l : 0;
        X509_REQ_free(q);
    }
    return der;
}

static int fp_of_cert_file(const char *path, uint8_t fp[32])
{
    FILE *f = fopen(path, "r");
    X509 *x = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    unsigned int n = 0;
    if (f != NULL) fclose(f);
    if (x == NULL) return -1;
    X509_digest(x, EVP_sha256(), fp, &n);
    X509_free(x);
    return 0;
}

static int parse_fp_hex(const char *s, uint8_t out[32])
{
    size_t i;
    if (strlen(s) != 64) return -1;
    for (i = 0; i < 32; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1) return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

static irp_reason reason_by_name(const char *s)
{
    int i;
    for (i = 1; i <= IRP_REASON_PRIVILEGE_WITHDRAWN; i++)
        if (strcmp(s, reason_names[i]) == 0) return (irp_reason)i;
    return IRP_REASON_NONE;
}

/* ---- building each command's requests ------------------------------------------------ */

#define OPT(o) ((o) != NULL)
#define A(o) (a->opt[IRP_OPT_##o])

void irp_tool_queue_login(irp_tool *t, const irp_tool_args *a)
{
    irp_req *q = irp_tool_add_req(t, IRP_OP_LOGIN, on_plain, "login");
    q->user = A(USER);
    q->password = A(PASSWORD);
    q->password_len = strlen(A(PASSWORD));
}

static int cmd_caps(irp_tool *t, const irp_tool_cmd *c, irp_tool_args *a)
{
    (void)a;
    irp_tool_add_req(t, c->op, on_caps, NULL);
    return 0;
}

static int cmd_ping(irp_tool *t, const irp_tool_cmd *c, irp_tool_args *a)
{
    (void)a;
    irp_tool_add_req(t, c->op, on_plain, "ping");
    return 0;
}

static int cmd_ca_certs(irp_tool *t, const irp_tool_cmd *c, irp_tool_args *a)
{
    (void)a;
    irp_tool_add_req(t, c->op, on_ca_certs, NULL);
    return 0;
}

/* enroll and renew: a CSR in, the issued chain out (--out). */
static int cmd_enroll(irp_tool *t, const irp_tool_cmd *c, irp_tool_args *a)
{
    int enroll = c->op == IRP_OP_ENROLL;
    irp_req *q = irp_tool_add_req(t, c->op, on_enroll, NULL);
    if (!OPT(A(CSR)) || !OPT(A(OUT))) return irp_tool_usage_error("needs --csr and --out");
    if (enroll && !OPT(A(TOKEN)) && !OPT(A(PASSWORD)))
        return irp_tool_usage_error("enroll needs --token or --user and --password");
    if ((t->csr_buf = csr_der(A(CSR), &q->csr_len)) == NULL) {
        fprintf(stderr, "irp: %s: not a CSR\n", A(CSR));
        return 2;
    }
    q->csr = t->csr_buf;
    if (enroll) q->token = A(TOKEN);
    return 0;
}

static int cmd_register(irp_tool *t, const irp_tool_cmd *c, irp_tool_args *a)
{
    irp_req *q = irp_tool_add_req(t, c->op, on_register, NULL);
    long port = OPT(A(PORT)) ? strtol(A(PORT), NULL, 10) : 0;
    size_t k;
    if (!OPT(A(DEVICE)) || port <= 0 || port > 65535 || !OPT(A(SEQ)) || a->npos == 0)
        return irp_tool_usage_error("register needs --device, --port, --seq and addresses");
    if (a->npos > IRP_MAX_ADDRS) return irp_tool_usage_error("at most 8 addresses");
    q->device = A(DEVICE);
    q->port = (uint16_t)port;
    q->lifetime = OPT(A(LIFETIME)) ? (uint32_t)strtol(A(LIFETIME), NULL, 10) : 0;
    q->has_seq = 1;
    q->seq = strtoull(A(SEQ), NULL, 10);
    for (k = 0; k < a->npos; k++)
        if (irp_addr_parse(a->pos[k], strlen(a->pos[k]), &q->addrs[q->n_addrs++]) != 0) {
            fprintf(stderr, "irp: %s: not an IP address\n", a->pos[k]);
            return 2;
        }
    return 0;
}

static int cmd_unregister(irp_tool *t, const irp_tool_cmd *c, irp_tool_args *a)
{
    irp_req *q = irp_tool_add_req(t, c->op, on_plain, "unregistered");
    if (!OPT(A(DEVICE)) == !OPT(A(ALL)))
        return irp_tool_usage_error("unregister needs --device or --all");
    q->device = A(DEVICE);
    q->all = OPT(A(ALL));
    q->has_seq = OPT(A(SEQ));
    q->seq = OPT(A(SEQ)) ? strtoull(A(SEQ), NULL, 10) : 0;
    return 0;
}

/* lookup and unwatch: one USER. */
static int cmd_one_user(irp_tool *t, const irp_tool_cmd *c, irp_tool_args *a)
{
    int lk = c->op == IRP_OP_LOOKUP;
    if (a->npos != 1) return irp_tool_usage_error("needs one USER");
    irp_tool_add_req(t, c->op, lk ? on_lookup : on_plain, c->name)->user = a->pos[0];
    return 0;
}

static int cmd_watch(irp_tool *t, const irp_tool_cmd *c, irp_tool_args *a)
{
    size_t k;
    if (a->npos == 0) return irp_tool_usage_error("watch needs a USER");
    t->is_watch = 1;
    for (k = 0; k < a->npos; k++)
        irp_tool_add_req(t, c->op, on_watch, NULL)->user = a->pos[k];
    return 0;
}

/* cert-status and revoke: a certificate by serial, fingerprint or file. */
static int cmd_cert(irp_tool *t, const irp_tool_cmd *c, irp_tool_args *a)
{
    int rv = c->op == IRP_OP_REVOKE;
    irp_req *q = irp_tool_add_req(t, c->op, on_lookup, NULL);
    uint8_t fpb[32];
    if (OPT(A(SERIAL)))
        q->serial = A(SERIAL);
    else if (OPT(A(FP)) && parse_fp_hex(A(FP), fpb) == 0)
        q->has_fp = 1;
    else if (OPT(A(CERT_FILE)) && fp_of_cert_file(A(CERT_FILE), fpb) == 0)
        q->has_fp = 1;
    else
        return irp_tool_usage_error("needs --serial, --fp or --cert-file");
    if (q->has_fp) memcpy(q->fp, fpb, 32);
    if (OPT(A(REASON))) {
        if (!rv || (q->reason = reason_by_name(A(REASON))) == IRP_REASON_NONE)
            return irp_tool_usage_error("bad --reason");
    }
    return 0;
}

static int cmd_user_info(irp_tool *t, const irp_tool_cmd *c, irp_tool_args *a)
{
    irp_req *q = irp_tool_add_req(t, c->op, on_lookup, NULL);
    size_t k;
    if (a->npos > 0) q->user = a->pos[0];
    for (k = 0; k < a->nsets; k++) {
        char *eq = strchr(a->sets[k], '=');
        if (eq == NULL) return irp_tool_usage_error("--set NAME=VALUE");
        *eq = '\0';
        q->info[q->n_info].name = a->sets[k];
        q->info[q->n_info].value = eq + 1;
        q->info[q->n_info].value_len = strlen(eq + 1);
        q->n_info++;
    }
    return 0;
}

static int cmd_policy(irp_tool *t, const irp_tool_cmd *c, irp_tool_args *a)
{
    irp_req *q = irp_tool_add_req(t, c->op, on_policy, NULL);
    size_t k;
    if (OPT(A(ACCESS))) {
        for (k = 1; k <= IRP_ACCESS_NOBODY; k++)
            if (strcmp(A(ACCESS), access_names[k]) == 0) q->access = (irp_access)k;
        if (q->access == IRP_ACCESS_NONE) return irp_tool_usage_error("bad --access");
    }
    for (k = 0; k < a->nallow; k++)
        q->allow[q->n_allow++] = a->allows[k];
    return 0;
}

static int cmd_access_log(irp_tool *t, const irp_tool_cmd *c, irp_tool_args *a)
{
    irp_req *q = irp_tool_add_req(t, c->op, on_log, NULL);
    if (OPT(A(AFTER))) q->after_id = strtoull(A(AFTER), NULL, 10);
    return 0;
}

static int cmd_list_users(irp_tool *t, const irp_tool_cmd *c, irp_tool_args *a)
{
    irp_tool_add_req(t, c->op, on_users, NULL)->after = A(AFTER);
    return 0;
}

static int cmd_p12_put(irp_tool *t, const irp_tool_cmd *c, irp_tool_args *a)
{
    irp_req *q = irp_tool_add_req(t, c->op, on_plain, "stored");
    if (!OPT(A(IN)) || (t->p12_buf = (uint8_t *)irp_tool_read_file(A(IN), &q->p12_len)) == NULL)
        return irp_tool_usage_error("pkcs12-put needs a readable --in FILE");
    q->p12 = t->p12_buf;
    return 0;
}

static int cmd_p12_get(irp_tool *t, const irp_tool_cmd *c, irp_tool_args *a)
{
    if (!OPT(A(OUT))) return irp_tool_usage_error("pkcs12-get needs --out FILE");
    irp_tool_add_req(t, c->op, on_p12get, NULL);
    return 0;
}

/* ---- the table ---------------------------------------------------------------------- */

#define B(o) IRP_OPT_BIT(IRP_OPT_##o)

const irp_tool_cmd irp_tool_cmds[] = {
    {"capabilities", IRP_OP_CAPABILITIES, cmd_caps, "capabilities",
     "versions, operations, login methods and limits", 0},
    {"ping", IRP_OP_PING, cmd_ping, "ping", "round trip", 0},
    {"ca-certs", IRP_OP_CA_CERTS, cmd_ca_certs, "ca-certs [--save FILE]",
     "print the CA chain as PEM (and save it); checks the pin", B(SAVE)},
    {"enroll", IRP_OP_ENROLL, cmd_enroll,
     "enroll (--token T | --user U --password P) --csr FILE --out FILE",
     "send a CSR (PEM or DER), write the issued chain (PEM)",
     B(TOKEN) | B(USER) | B(PASSWORD) | B(CSR) | B(OUT)},
    {"renew", IRP_OP_RENEW, cmd_enroll, "renew --csr FILE --out FILE",
     "a new certificate for the one acted as (--cert)", B(CSR) | B(OUT)},
    {"register", IRP_OP_REGISTER, cmd_register,
     "register --device D --port P [--lifetime S] --seq N ADDR...",
     "bind a device of the user to its addresses and port",
     B(DEVICE) | B(PORT) | B(LIFETIME) | B(SEQ)},
    {"unregister", IRP_OP_UNREGISTER, cmd_unregister, "unregister (--device D [--seq N] | --all)",
     "remove a device's binding, or all of them", B(DEVICE) | B(SEQ) | B(ALL)},
    {"lookup", IRP_OP_LOOKUP, cmd_one_user, "lookup USER",
     "bindings and certificates; verifies the registry's\n"
     "signature (exit 1 when it does not verify)",
     0},
    {"watch", IRP_OP_WATCH, cmd_watch, "watch USER... [--count N]",
     "print the bindings, then one line per event until\n"
     "interrupted or N events arrived",
     B(COUNT)},
    {"unwatch", IRP_OP_UNWATCH, cmd_one_user, "unwatch USER", "stop watching a user", 0},
    {"cert-status", IRP_OP_CERT_STATUS, cmd_cert,
     "cert-status (--serial S | --fp HEX | --cert-file PEM)", "the state of a certificate",
     B(SERIAL) | B(FP) | B(CERT_FILE)},
    {"revoke", IRP_OP_REVOKE, cmd_cert,
     "revoke (--serial S | --fp HEX | --cert-file PEM) [--reason R]", "revoke a certificate",
     B(SERIAL) | B(FP) | B(CERT_FILE) | B(REASON)},
    {"user-info", IRP_OP_USER_INFO, cmd_user_info, "user-info [USER] [--set NAME=VALUE ...]",
     "print a user's information, or set items of it", B(SET)},
    {"lookup-policy", IRP_OP_LOOKUP_POLICY, cmd_policy,
     "lookup-policy [--access anyone|list|nobody] [--allow USER ...]",
     "print who may look the user up, or set it", B(ACCESS) | B(ALLOW)},
    {"access-log", IRP_OP_ACCESS_LOG, cmd_access_log, "access-log [--after N]",
     "the log of requests made about the user", B(AFTER)},
    {"pkcs12-put", IRP_OP_PKCS12_PUT, cmd_p12_put, "pkcs12-put --in FILE",
     "store the user's PKCS#12 file in the registry", B(IN)},
    {"pkcs12-get", IRP_OP_PKCS12_GET, cmd_p12_get, "pkcs12-get --out FILE",
     "fetch the stored PKCS#12 file", B(USER) | B(PASSWORD) | B(OUT)},
    {"list-users", IRP_OP_LIST_USERS, cmd_list_users, "list-users [--after USER]",
     "the registry's users, a page at a time", B(AFTER)},
    {NULL, IRP_OP_NONE, NULL, NULL, NULL, 0},
};
