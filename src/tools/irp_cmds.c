/*
 * irp_cmds.c - the requests of each irp command and the printing of the
 * answers (irp_main.c parses the options and runs the loop).
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

static int waiting = 0; /* responses still expected */

static void error_line(int status, const char *msg)
{
    fprintf(stderr, "irp: %d %s: %s\n", status, irp_client_status_name(status),
            msg != NULL ? msg : "");
    exit_code = 1;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
    size_t i;
    for (i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
    out[2 * n] = '\0';
}

static const char *reason_names[] = {NULL,
                                     "unspecified",
                                     "key-compromise",
                                     "ca-compromise",
                                     "affiliation-changed",
                                     "superseded",
                                     "cessation-of-operation",
                                     "privilege-withdrawn"};
static const char *state_names[] = {"none", "valid", "revoked", "expired", "unknown"};
const char *access_names[] = {"none", "anyone", "list", "nobody"};
static const char *change_names[] = {"none",   "register", "unregister", "expire",
                                     "revoke", "policy",   "shutdown"};

static void print_binding(const char *prefix, const irp_binding *b)
{
    size_t i;
    printf("%sbinding %s addrs=", prefix, b->device);
    for (i = 0; i < b->n_addrs; i++) {
        char a[IRP_ADDR_STRLEN];
        irp_addr_format(&b->addrs[i], a);
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

static void done_one(void)
{
    if (--waiting <= 0 && !(is_watch && exit_code == 0 && want_events != 0)) finish();
}

static int check(const irp_resp *r)
{
    if (r->status >= 200 && r->status < 300) return 1;
    error_line(r->status, r->msg);
    return 0;
}

void on_plain(void *ctx, const irp_resp *r)
{
    const char *what = ctx;
    if (check(r)) printf("%s: %d %s\n", what, r->status, r->msg);
    done_one();
}

void on_caps(void *ctx, const irp_resp *r)
{
    int i;
    if (check(r)) {
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
    done_one();
}

const char *pin_hex; /* the --ca-fp given, normalised */

void on_ca_certs(void *ctx, const irp_resp *r)
{
    if (check(r)) {
        size_t i;
        int pinned = pin_hex == NULL;
        for (i = 0; i < r->n_certs; i++) {
            uint8_t d[32];
            unsigned int dl = 0;
            char h[65];
            EVP_Digest(r->certs[i].der, r->certs[i].der_len, d, &dl, EVP_sha256(), NULL);
            hex(d, 32, h);
            printf("# fingerprint (SHA-256): %s\n", h);
            if (pin_hex != NULL && strcmp(h, pin_hex) == 0) pinned = 1;
        }
        write_certs_pem(stdout, r);
        if (!pinned) {
            error_line(IRP_CLIENT_TLS, "no CA certificate has the pinned fingerprint");
        } else if (save_file != NULL) {
            FILE *f = fopen(save_file, "w");
            if (f == NULL || write_certs_pem(f, r) != 0) {
                perror(save_file);
                exit_code = 1;
            }
            if (f != NULL) fclose(f);
        }
    }
    done_one();
}

void on_enroll(void *ctx, const irp_resp *r)
{
    if (check(r)) {
        FILE *f;
        if (r->n_certs > 0) print_cert(&r->certs[0]);
        f = fopen(out_file, "w");
        if (f == NULL || write_certs_pem(f, r) != 0) {
            perror(out_file);
            exit_code = 1;
        } else {
            printf("wrote %s\n", out_file);
        }
        if (f != NULL) fclose(f);
    }
    done_one();
}

void on_register(void *ctx, const irp_resp *r)
{
    if (check(r)) {
        char a[IRP_ADDR_STRLEN] = "?";
        if (r->has_seen) irp_addr_format(&r->seen, a);
        printf("registered granted=%u seen=%s%s\n", r->granted, a, r->nat ? " nat=1" : "");
        if (r->nat)
            printf("note: the registry sees you as %s, which you did not register: you are "
                   "probably behind NAT\n",
                   a);
    }
    done_one();
}

void on_lookup(void *ctx, const irp_resp *r)
{
    if (check(r)) {
        size_t i;
        printf("user %s at=%llu\n", r->user != NULL ? r->user : "?", (unsigned long long)r->at);
        for (i = 0; i < r->n_bindings; i++)
            print_binding("", &r->bindings[i]);
        if (r->n_bindings == 0 && r->n_certs > 0 && ctx != NULL) printf("no live binding\n");
        for (i = 0; i < r->n_certs; i++)
            print_cert(&r->certs[i]);
        for (i = 0; i < r->n_info; i++)
            printf("info %s %.*s\n", r->info[i].name, (int)r->info[i].value_len, r->info[i].value);
        if (ctx != NULL) { /* a lookup: the signature is required */
            int v = r->has_sig ? irp_lookup_verify(r, irp_client_peer_cert(cli)) : SC_ERR_ARG;
            if (v == 0) {
                printf("signature ok (%s)\n", sc_sigalg_name(r->sig.alg));
            } else {
                printf("signature BAD (%d)\n", v);
                error_line(IRP_CLIENT_PROTOCOL, r->has_sig ? "the lookup signature does not verify"
                                                           : "the lookup answer is not signed");
            }
        }
    }
    done_one();
}

void on_event(void *ctx, const irp_event *ev)
{
    size_t i;
    printf("event %s user=%s seq=%llu at=%llu reason=%s bindings=%zu\n",
           ev->type == IRP_EVENT_BINDING ? "binding" : "watch-end", ev->user,
           (unsigned long long)ev->seq, (unsigned long long)ev->at,
           ev->reason <= IRP_CHANGE_SHUTDOWN ? change_names[ev->reason] : "?", ev->n_bindings);
    for (i = 0; i < ev->n_bindings; i++)
        print_binding("  ", &ev->bindings[i]);
    fflush(stdout);
    got_events++;
    if (want_events > 0 && got_events >= want_events && waiting <= 0) finish();
}

void on_watch(void *ctx, const irp_resp *r)
{
    if (check(r)) {
        size_t i;
        printf("watching %s at=%llu bindings=%zu\n", r->user != NULL ? r->user : "?",
               (unsigned long long)r->at, r->n_bindings);
        for (i = 0; i < r->n_bindings; i++)
            print_binding("  ", &r->bindings[i]);
        fflush(stdout);
    }
    if (--waiting <= 0 && (exit_code != 0 || (want_events > 0 && got_events >= want_events)))
        finish();
}

void on_lost(void *ctx, int status, const char *msg)
{
    if (is_watch && waiting <= 0) {
        error_line(status, msg);
        finish();
    }
}

void on_policy(void *ctx, const irp_resp *r)
{
    if (check(r)) {
        size_t i;
        printf("access %s\n", access_names[r->access <= IRP_ACCESS_NOBODY ? r->access : 0]);
        for (i = 0; i < r->n_allow; i++)
            printf("allow %s\n", r->allow[i]);
    }
    done_one();
}

void on_log(void *ctx, const irp_resp *r)
{
    if (check(r)) {
        size_t i;
        for (i = 0; i < r->n_log; i++)
            printf("entry %llu ts=%llu by=%s op=%s\n", (unsigned long long)r->log[i].id,
                   (unsigned long long)r->log[i].ts, r->log[i].by, irp_op_name(r->log[i].op));
        if (r->more) printf("more\n");
    }
    done_one();
}

void on_users(void *ctx, const irp_resp *r)
{
    if (check(r)) {
        size_t i;
        for (i = 0; i < r->n_users; i++)
            printf("user %s devices=%u certs=%u created=%llu access=%s\n", r->users[i].name,
                   r->users[i].devices, r->users[i].certs, (unsigned long long)r->users[i].created,
                   access_names[r->users[i].access <= IRP_ACCESS_NOBODY ? r->users[i].access : 0]);
        if (r->more) printf("more\n");
    }
    done_one();
}

void on_p12get(void *ctx, const irp_resp *r)
{
    if (check(r)) {
        FILE *f = fopen(out_file, "wb");
        if (f == NULL || fwrite(r->p12, 1, r->p12_len, f) != r->p12_len) {
            perror(out_file);
            exit_code = 1;
        } else {
            printf("wrote %s (%zu bytes, updated %llu)\n", out_file, r->p12_len,
                   (unsigned long long)r->p12_updated);
        }
        if (f != NULL) fclose(f);
    }
    done_one();
}

/* ---- commands --------------------------------------------------------------------- */

#define MAX_REQ 40
static irp_req reqs[MAX_REQ];
static irp_response_cb cbs[MAX_REQ];
static void *cb_ctx[MAX_REQ];
static size_t n_reqs;

irp_req *add_req(irp_op op, irp_response_cb cb, void *ctx)
{
    irp_req *r = &reqs[n_reqs];
    irp_req_init(r);
    r->op = op;
    cbs[n_reqs] = cb;
    cb_ctx[n_reqs] = ctx;
    n_reqs++;
    return r;
}

void on_connected(void *ctx, int status, const char *msg)
{
    size_t i;
    if (status != 0) {
        error_line(status, msg);
        finish();
        return;
    }
    waiting = (int)n_reqs;
    for (i = 0; i < n_reqs && cli != NULL; i++) {
        int r = irp_client_request(cli, &reqs[i], cbs[i], cb_ctx[i]);
        if (r != 0) {
            char m[64];
            snprintf(m, sizeof(m), "request %zu does not validate (%d)", i + 1, r);
            error_line(400, m);
            finish();
            return;
        }
    }
}

uint8_t *csr_der(const char *path, size_t *len)
{
    size_t n = 0;
    char *text = read_file(path, &n);
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

int fp_of_cert_file(const char *path, uint8_t fp[32], char **serial)
{
    FILE *f = fopen(path, "r");
    X509 *x = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    unsigned int n = 0;
    if (f != NULL) fclose(f);
    if (x == NULL) return -1;
    X509_digest(x, EVP_sha256(), fp, &n);
    (void)serial;
    X509_free(x);
    return 0;
}

int parse_fp_hex(const char *s, uint8_t out[32])
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

irp_reason reason_by_name(const char *s)
{
    int i;
    for (i = 1; i <= IRP_REASON_PRIVILEGE_WITHDRAWN; i++)
        if (strcmp(s, reason_names[i]) == 0) return (irp_reason)i;
    return IRP_REASON_NONE;
}
