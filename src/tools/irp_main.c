/*
 * irp_main.c - irp, the command-line IRP client (docs/IRP.md), built on
 * irp_client and a libuv loop. `irp --help` describes it.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "irp_client.h"
#include "irp_sig.h"
#include "sc_crypto.h"
#include "sixchat/error.h"

static const char usage[] =
    "NAME\n"
    "    irp - command-line client of the Identity Registration Protocol (IRP)\n"
    "\n"
    "SYNOPSIS\n"
    "    irp [--server HOST:PORT] [--ca-fp HEX | --ca PEM] [--cert CHAIN --key KEY]\n"
    "        [--timeout SECONDS] COMMAND [ARGS]\n"
    "\n"
    "DESCRIPTION\n"
    "    irp opens one TLS 1.3 connection to an IRP registry (irpd), authenticates\n"
    "    the registry against a pinned CA, sends the requests of COMMAND and prints\n"
    "    the answers, as dig and nsupdate do for DNS. It is used by tests and by\n"
    "    administrators.\n"
    "\n"
    "OPTIONS\n"
    "    --server HOST:PORT  registry to connect to ([v6]:port for IPv6 literals;\n"
    "                        port 4604 when omitted); default $IRP_SERVER\n"
    "    --ca-fp HEX         SHA-256 fingerprint of the registry CA certificate\n"
    "                        (as printed by `irpd init`); default $IRP_CA_FP\n"
    "    --ca PEM            file with the registry CA certificate(s) to trust\n"
    "                        (with --ca-fp, the one with that fingerprint)\n"
    "    --cert CHAIN        client certificate chain (PEM), to act as its user\n"
    "    --key KEY           its private key (PEM)\n"
    "    --user U --password P\n"
    "                        password login first (enroll, pkcs12-get)\n"
    "    --timeout SECONDS   connect and per-request timeout (default 10 and 30)\n"
    "    -h, --help          this text\n"
    "\n"
    "COMMANDS\n"
    "    capabilities        versions, operations, login methods and limits\n"
    "    ping                round trip\n"
    "    ca-certs [--save FILE]\n"
    "                        print the CA chain as PEM (and save it); checks the pin\n"
    "    enroll (--token T | --user U --password P) --csr FILE --out FILE\n"
    "                        send a CSR (PEM or DER), write the issued chain (PEM)\n"
    "    renew --csr FILE --out FILE\n"
    "    register --device D --port P [--lifetime S] --seq N ADDR...\n"
    "    unregister (--device D [--seq N] | --all)\n"
    "    lookup USER         bindings and certificates; verifies the registry's\n"
    "                        signature (exit 1 when it does not verify)\n"
    "    watch USER... [--count N]\n"
    "                        print the bindings, then one line per event until\n"
    "                        interrupted or N events arrived\n"
    "    unwatch USER\n"
    "    cert-status (--serial S | --fp HEX | --cert-file PEM)\n"
    "    revoke (--serial S | --fp HEX | --cert-file PEM) [--reason R]\n"
    "    user-info [USER] [--set NAME=VALUE ...]\n"
    "    lookup-policy [--access anyone|list|nobody] [--allow USER ...]\n"
    "    access-log [--after N]\n"
    "    pkcs12-put --in FILE\n"
    "    pkcs12-get --out FILE\n"
    "    list-users [--after USER]\n"
    "\n"
    "OUTPUT\n"
    "    One line per item, `key value` words; errors as one line on standard\n"
    "    error: `irp: STATUS NAME: MESSAGE` (statuses above 599 are local:\n"
    "    601 connect, 602 tls, 604 timeout, 605 closed, 606 protocol).\n"
    "\n"
    "EXIT STATUS\n"
    "    0 when every answer was 2xx, 1 otherwise, 2 for a usage error.\n";

/* ---- state ----------------------------------------------------------------------- */

static uv_loop_t *loop;
static irp_client *cli;
static uv_signal_t sigint_h, sigterm_h;
static int exit_code = 0;
static int waiting = 0; /* responses still expected */
static long want_events = -1, got_events = 0;
static const char *out_file, *save_file;
static int is_watch;

static void finish(void)
{
    static int finished;
    if (finished) return;
    finished = 1;
    if (cli != NULL) {
        irp_client_close(cli);
        cli = NULL;
    }
    uv_close((uv_handle_t *)&sigint_h, NULL);
    uv_close((uv_handle_t *)&sigterm_h, NULL);
}

static void error_line(int status, const char *msg)
{
    fprintf(stderr, "irp: %d %s: %s\n", status, irp_client_status_name(status),
            msg != NULL ? msg : "");
    exit_code = 1;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *p = NULL;
    size_t n = 0, cap = 0;
    if (f == NULL) return NULL;
    for (;;) {
        size_t r;
        if (n + 4097 > cap) {
            char *q = realloc(p, cap = cap * 2 + 8192);
            if (q == NULL) {
                free(p);
                fclose(f);
                return NULL;
            }
            p = q;
        }
        r = fread(p + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0) break;
    }
    fclose(f);
    p[n] = '\0';
    if (len != NULL) *len = n;
    return p;
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
static const char *access_names[] = {"none", "anyone", "list", "nobody"};
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

static void on_plain(void *ctx, const irp_resp *r)
{
    const char *what = ctx;
    if (check(r)) printf("%s: %d %s\n", what, r->status, r->msg);
    done_one();
}

static void on_caps(void *ctx, const irp_resp *r)
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

static const char *pin_hex; /* the --ca-fp given, normalised */

static void on_ca_certs(void *ctx, const irp_resp *r)
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

static void on_enroll(void *ctx, const irp_resp *r)
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

static void on_register(void *ctx, const irp_resp *r)
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

static void on_lookup(void *ctx, const irp_resp *r)
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

static void on_event(void *ctx, const irp_event *ev)
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

static void on_watch(void *ctx, const irp_resp *r)
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

static void on_lost(void *ctx, int status, const char *msg)
{
    if (is_watch && waiting <= 0) {
        error_line(status, msg);
        finish();
    }
}

static void on_policy(void *ctx, const irp_resp *r)
{
    if (check(r)) {
        size_t i;
        printf("access %s\n", access_names[r->access <= IRP_ACCESS_NOBODY ? r->access : 0]);
        for (i = 0; i < r->n_allow; i++)
            printf("allow %s\n", r->allow[i]);
    }
    done_one();
}

static void on_log(void *ctx, const irp_resp *r)
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

static void on_users(void *ctx, const irp_resp *r)
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

static void on_p12get(void *ctx, const irp_resp *r)
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

static irp_req *add_req(irp_op op, irp_response_cb cb, void *ctx)
{
    irp_req *r = &reqs[n_reqs];
    irp_req_init(r);
    r->op = op;
    cbs[n_reqs] = cb;
    cb_ctx[n_reqs] = ctx;
    n_reqs++;
    return r;
}

static void on_sig(uv_signal_t *h, int signum)
{
    if (is_watch && exit_code == 0) printf("interrupted after %ld events\n", got_events);
    finish();
}

static void on_connected(void *ctx, int status, const char *msg)
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

static uint8_t *csr_der(const char *path, size_t *len)
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

static int fp_of_cert_file(const char *path, uint8_t fp[32], char **serial)
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

static int usage_error(const char *msg)
{
    fprintf(stderr, "irp: %s (irp --help)\n", msg);
    return 2;
}

int main(int argc, char **argv)
{
    const char *server = getenv("IRP_SERVER"), *ca_fp = getenv("IRP_CA_FP"), *ca = NULL;
    const char *cert = NULL, *key = NULL, *user = NULL, *password = NULL, *token = NULL;
    const char *csr = NULL, *device = NULL, *serial = NULL, *fp = NULL, *cert_file = NULL;
    const char *reason = NULL, *access = NULL, *after = NULL, *in_file = NULL, *cmd = NULL;
    const char *pos[IRP_MAX_ADDRS + 1], *sets[IRP_MAX_INFO], *allows[IRP_MAX_ALLOW];
    size_t npos = 0, nsets = 0, nallow = 0;
    long port = 0, lifetime = 0, timeout = 0;
    unsigned long long seq = 0;
    int has_seq = 0, all = 0, i, r;
    char host[256], norm_fp[65], err[256];
    char *ca_pem = NULL, *cert_pem = NULL, *key_pem = NULL;
    uint8_t *csr_buf = NULL, *p12_buf = NULL;
    uint8_t fpb[32];
    uint16_t sport = IRP_PORT;
    irp_client_opts o;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        if (strcmp(a, "--all") == 0) {
            all = 1;
            continue;
        }
        if (strncmp(a, "--", 2) != 0) {
            if (cmd == NULL)
                cmd = a;
            else if (npos < IRP_MAX_ADDRS + 1)
                pos[npos++] = a;
            else
                return usage_error("too many arguments");
            continue;
        }
        if (v == NULL) return usage_error("option without a value");
        i++;
        if (strcmp(a, "--server") == 0)
            server = v;
        else if (strcmp(a, "--ca-fp") == 0)
            ca_fp = v;
        else if (strcmp(a, "--ca") == 0)
            ca = v;
        else if (strcmp(a, "--cert") == 0)
            cert = v;
        else if (strcmp(a, "--key") == 0)
            key = v;
        else if (strcmp(a, "--user") == 0)
            user = v;
        else if (strcmp(a, "--password") == 0)
            password = v;
        else if (strcmp(a, "--token") == 0)
            token = v;
        else if (strcmp(a, "--csr") == 0)
            csr = v;
        else if (strcmp(a, "--out") == 0)
            out_file = v;
        else if (strcmp(a, "--in") == 0)
            in_file = v;
        else if (strcmp(a, "--save") == 0)
            save_file = v;
        else if (strcmp(a, "--device") == 0)
            device = v;
        else if (strcmp(a, "--port") == 0)
            port = strtol(v, NULL, 10);
        else if (strcmp(a, "--lifetime") == 0)
            lifetime = strtol(v, NULL, 10);
        else if (strcmp(a, "--seq") == 0) {
            seq = strtoull(v, NULL, 10);
            has_seq = 1;
        } else if (strcmp(a, "--serial") == 0)
            serial = v;
        else if (strcmp(a, "--fp") == 0)
            fp = v;
        else if (strcmp(a, "--cert-file") == 0)
            cert_file = v;
        else if (strcmp(a, "--reason") == 0)
            reason = v;
        else if (strcmp(a, "--access") == 0)
            access = v;
        else if (strcmp(a, "--allow") == 0 && nallow < IRP_MAX_ALLOW)
            allows[nallow++] = v;
        else if (strcmp(a, "--set") == 0 && nsets < IRP_MAX_INFO)
            sets[nsets++] = v;
        else if (strcmp(a, "--after") == 0)
            after = v;
        else if (strcmp(a, "--count") == 0)
            want_events = strtol(v, NULL, 10);
        else if (strcmp(a, "--timeout") == 0)
            timeout = strtol(v, NULL, 10);
        else
            return usage_error("unknown option");
    }
    if (cmd == NULL) return usage_error("no command");
    if (server == NULL) return usage_error("no --server");
    {
        const char *colon = strrchr(server, ':');
        size_t hl = strlen(server);
        const char *h = server;
        if (server[0] == '[') {
            const char *rb = strchr(server, ']');
            if (rb == NULL) return usage_error("bad --server");
            h = server + 1;
            hl = (size_t)(rb - h);
            colon = rb[1] == ':' ? rb + 1 : NULL;
        } else if (colon != NULL && strchr(server, ':') != colon) {
            colon = NULL; /* a bare IPv6 literal */
        } else if (colon != NULL) {
            hl = (size_t)(colon - server);
        }
        if (hl == 0 || hl >= sizeof(host)) return usage_error("bad --server");
        memcpy(host, h, hl);
        host[hl] = '\0';
        if (colon != NULL) {
            long p = strtol(colon + 1, NULL, 10);
            if (p <= 0 || p > 65535) return usage_error("bad port in --server");
            sport = (uint16_t)p;
        }
    }
    if (ca_fp != NULL) {
        size_t k, n = 0;
        for (k = 0; ca_fp[k] != '\0' && n < 64; k++)
            if (ca_fp[k] != ':') {
                char ch = ca_fp[k];
                norm_fp[n++] = (char)(ch >= 'A' && ch <= 'F' ? ch - 'A' + 'a' : ch);
            }
        norm_fp[n] = '\0';
        pin_hex = norm_fp;
    }
    if (ca != NULL && (ca_pem = read_file(ca, NULL)) == NULL) {
        perror(ca);
        return 2;
    }
    if (cert != NULL && ((cert_pem = read_file(cert, NULL)) == NULL ||
                         (key_pem = read_file(key != NULL ? key : cert, NULL)) == NULL)) {
        perror(cert);
        return 2;
    }

    /* The requests of the command. */
    if (user != NULL && password != NULL) {
        irp_req *q = add_req(IRP_OP_LOGIN, on_plain, "login");
        q->user = user;
        q->password = password;
        q->password_len = strlen(password);
    }
    if (strcmp(cmd, "capabilities") == 0) {
        add_req(IRP_OP_CAPABILITIES, on_caps, NULL);
    } else if (strcmp(cmd, "ping") == 0) {
        add_req(IRP_OP_PING, on_plain, "ping");
    } else if (strcmp(cmd, "ca-certs") == 0) {
        add_req(IRP_OP_CA_CERTS, on_ca_certs, NULL);
    } else if (strcmp(cmd, "enroll") == 0 || strcmp(cmd, "renew") == 0) {
        int enroll = cmd[0] == 'e';
        irp_req *q = add_req(enroll ? IRP_OP_ENROLL : IRP_OP_RENEW, on_enroll, NULL);
        if (csr == NULL || out_file == NULL) return usage_error("needs --csr and --out");
        if (enroll && token == NULL && password == NULL)
            return usage_error("enroll needs --token or --user and --password");
        if ((csr_buf = csr_der(csr, &q->csr_len)) == NULL) {
            fprintf(stderr, "irp: %s: not a CSR\n", csr);
            return 2;
        }
        q->csr = csr_buf;
        if (enroll) q->token = token;
    } else if (strcmp(cmd, "register") == 0) {
        irp_req *q = add_req(IRP_OP_REGISTER, on_register, NULL);
        size_t k;
        if (device == NULL || port <= 0 || port > 65535 || !has_seq || npos == 0)
            return usage_error("register needs --device, --port, --seq and addresses");
        if (npos > IRP_MAX_ADDRS) return usage_error("at most 8 addresses");
        q->device = device;
        q->port = (uint16_t)port;
        q->lifetime = (uint32_t)lifetime;
        q->has_seq = 1;
        q->seq = seq;
        for (k = 0; k < npos; k++)
            if (irp_addr_parse(pos[k], strlen(pos[k]), &q->addrs[q->n_addrs++]) != 0) {
                fprintf(stderr, "irp: %s: not an IP address\n", pos[k]);
                return 2;
            }
    } else if (strcmp(cmd, "unregister") == 0) {
        irp_req *q = add_req(IRP_OP_UNREGISTER, on_plain, "unregistered");
        if ((device == NULL) == !all) return usage_error("unregister needs --device or --all");
        q->device = device;
        q->all = all;
        q->has_seq = has_seq;
        q->seq = seq;
    } else if (strcmp(cmd, "lookup") == 0 || strcmp(cmd, "unwatch") == 0) {
        int lk = cmd[0] == 'l';
        irp_req *q;
        if (npos != 1) return usage_error("needs one USER");
        q = add_req(lk ? IRP_OP_LOOKUP : IRP_OP_UNWATCH, lk ? on_lookup : on_plain,
                    lk ? (void *)"lookup" : (void *)"unwatch");
        q->user = pos[0];
    } else if (strcmp(cmd, "watch") == 0) {
        size_t k;
        if (npos == 0) return usage_error("watch needs a USER");
        is_watch = 1;
        for (k = 0; k < npos; k++)
            add_req(IRP_OP_WATCH, on_watch, NULL)->user = pos[k];
    } else if (strcmp(cmd, "cert-status") == 0 || strcmp(cmd, "revoke") == 0) {
        int rv = cmd[0] == 'r';
        irp_req *q = add_req(rv ? IRP_OP_REVOKE : IRP_OP_CERT_STATUS, on_lookup, NULL);
        if (serial != NULL)
            q->serial = serial;
        else if (fp != NULL && parse_fp_hex(fp, fpb) == 0)
            q->has_fp = 1;
        else if (cert_file != NULL && fp_of_cert_file(cert_file, fpb, NULL) == 0)
            q->has_fp = 1;
        else
            return usage_error("needs --serial, --fp or --cert-file");
        if (q->has_fp) memcpy(q->fp, fpb, 32);
        if (reason != NULL) {
            if (!rv || (q->reason = reason_by_name(reason)) == IRP_REASON_NONE)
                return usage_error("bad --reason");
        }
    } else if (strcmp(cmd, "user-info") == 0) {
        irp_req *q = add_req(IRP_OP_USER_INFO, on_lookup, NULL);
        size_t k;
        if (npos > 0) q->user = pos[0];
        for (k = 0; k < nsets; k++) {
            char *eq = strchr(sets[k], '=');
            if (eq == NULL) return usage_error("--set NAME=VALUE");
            *eq = '\0';
            q->info[q->n_info].name = sets[k];
            q->info[q->n_info].value = eq + 1;
            q->info[q->n_info].value_len = strlen(eq + 1);
            q->n_info++;
        }
    } else if (strcmp(cmd, "lookup-policy") == 0) {
        irp_req *q = add_req(IRP_OP_LOOKUP_POLICY, on_policy, NULL);
        size_t k;
        if (access != NULL) {
            for (k = 1; k <= IRP_ACCESS_NOBODY; k++)
                if (strcmp(access, access_names[k]) == 0) q->access = (irp_access)k;
            if (q->access == IRP_ACCESS_NONE) return usage_error("bad --access");
        }
        for (k = 0; k < nallow; k++)
            q->allow[q->n_allow++] = allows[k];
    } else if (strcmp(cmd, "access-log") == 0) {
        irp_req *q = add_req(IRP_OP_ACCESS_LOG, on_log, NULL);
        if (after != NULL) q->after_id = strtoull(after, NULL, 10);
    } else if (strcmp(cmd, "list-users") == 0) {
        add_req(IRP_OP_LIST_USERS, on_users, NULL)->after = after;
    } else if (strcmp(cmd, "pkcs12-put") == 0) {
        irp_req *q = add_req(IRP_OP_PKCS12_PUT, on_plain, "stored");
        if (in_file == NULL || (p12_buf = (uint8_t *)read_file(in_file, &q->p12_len)) == NULL)
            return usage_error("pkcs12-put needs a readable --in FILE");
        q->p12 = p12_buf;
    } else if (strcmp(cmd, "pkcs12-get") == 0) {
        if (out_file == NULL) return usage_error("pkcs12-get needs --out FILE");
        add_req(IRP_OP_PKCS12_GET, on_p12get, NULL);
    } else {
        return usage_error("unknown command");
    }

    loop = uv_default_loop();
    memset(&o, 0, sizeof(o));
    o.ca_fp = ca_fp;
    o.ca_pem = ca_pem;
    o.cert_pem = cert_pem;
    o.key_pem = key_pem;
    if (timeout > 0) o.connect_timeout_ms = o.request_timeout_ms = (unsigned)timeout * 1000;
    r = irp_client_new(loop, &o, &cli, err, sizeof(err));
    if (r != 0) {
        fprintf(stderr, "irp: %s\n", err);
        return 2;
    }
    irp_client_set_event_cb(cli, on_event, on_lost, NULL);
    uv_signal_init(loop, &sigint_h);
    uv_signal_init(loop, &sigterm_h);
    uv_signal_start(&sigint_h, on_sig, SIGINT);
    uv_signal_start(&sigterm_h, on_sig, SIGTERM);
    if (irp_client_connect(cli, host, sport, on_connected, NULL) != 0) {
        fprintf(stderr, "irp: cannot connect to %s\n", server);
        return 2;
    }
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    free(ca_pem);
    free(cert_pem);
    free(key_pem);
    OPENSSL_free(csr_buf);
    free(p12_buf);
    fflush(stdout);
    return exit_code;
}
