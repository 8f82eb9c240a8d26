/*
 * irp_main.c - irp, the command-line IRP client (docs/IRP.md), built on
 * irp_client and a libuv loop. `irp --help` describes it. This file holds
 * the options, main and the help; irp_cmds.c the requests and answers.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>
#include <openssl/crypto.h>

#include "irp_client.h"
#include "irp_tool.h"
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
irp_client *cli;
static uv_signal_t sigint_h, sigterm_h;
int exit_code = 0;
long want_events = -1, got_events = 0;
const char *out_file, *save_file;
int is_watch;

void finish(void)
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

char *read_file(const char *path, size_t *len)
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

static void on_sig(uv_signal_t *h, int signum)
{
    if (is_watch && exit_code == 0) printf("interrupted after %ld events\n", got_events);
    finish();
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
