/*
 * irp_main.c - irp, the command-line IRP client (docs/IRP.md), built on
 * irp_client and a libuv loop. `irp --help` describes it. This file holds
 * the options, the help, the lookup of the command in irp_cmds.c's table
 * and main; the request queue and the run's end are irp_run.c's.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>
#include <openssl/crypto.h>

#include "irp_client.h"
#include "irp_client_srv.h"
#include "irp_tool.h"
#include "sixchat/error.h"

/* `irp --help`: this head, the COMMANDS section from irp_tool_cmds, the tail. */
static const char usage_head[] =
    "NAME\n"
    "    irp - command-line client of the Identity Registration Protocol (IRP)\n"
    "\n"
    "SYNOPSIS\n"
    "    irp [--server HOST:PORT | --domain DOMAIN [--dns IPV4[:PORT]]]\n"
    "        [--ca-fp HEX | --ca PEM] [--cert CHAIN --key KEY]\n"
    "        [--timeout SECONDS] COMMAND [ARGS]\n"
    "    irp help [COMMAND] | irp COMMAND --help\n"
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
    "    --domain DOMAIN     instead of --server: the registry of DOMAIN, found with\n"
    "                        DNS SRV _irp._tcp.DOMAIN (the first target by priority\n"
    "                        and weight; DOMAIN:4604 when there is no record)\n"
    "    --dns IPV4[:PORT]   ask this DNS server for --domain instead of the\n"
    "                        system's resolvers\n"
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
    "\n";

static const char usage_tail[] =
    "OUTPUT\n"
    "    One line per item, `key value` words; errors as one line on standard\n"
    "    error: `irp: STATUS NAME: MESSAGE` (statuses above 599 are local:\n"
    "    601 connect, 602 tls, 604 timeout, 605 closed, 606 protocol).\n"
    "\n"
    "EXIT STATUS\n"
    "    0 when every answer was 2xx, 1 otherwise, 2 for a usage error.\n";

/* Every option: name, value word (NULL for a flag) and help (per-command help). */
static const struct {
    const char *name, *value, *help;
} opt_defs[IRP_OPT_COUNT_] = {
    [IRP_OPT_SERVER] = {"--server", "HOST:PORT", "registry to connect to"},
    [IRP_OPT_DOMAIN] = {"--domain", "DOMAIN", "find the registry by DNS SRV"},
    [IRP_OPT_DNS] = {"--dns", "IPV4[:PORT]", "DNS server for --domain"},
    [IRP_OPT_CA_FP] = {"--ca-fp", "HEX", "SHA-256 fingerprint of the registry CA certificate"},
    [IRP_OPT_CA] = {"--ca", "PEM", "file with the registry CA certificate(s) to trust"},
    [IRP_OPT_CERT] = {"--cert", "CHAIN", "client certificate chain (PEM)"},
    [IRP_OPT_KEY] = {"--key", "KEY", "its private key (PEM)"},
    [IRP_OPT_USER] = {"--user", "U", "password login first as U"},
    [IRP_OPT_PASSWORD] = {"--password", "P", "the password of the login"},
    [IRP_OPT_TIMEOUT] = {"--timeout", "SECONDS", "connect and per-request timeout"},
    [IRP_OPT_TOKEN] = {"--token", "T", "an enrollment token (irpd token)"},
    [IRP_OPT_CSR] = {"--csr", "FILE", "the certificate signing request (PEM or DER)"},
    [IRP_OPT_OUT] = {"--out", "FILE", "where to write what the registry returns"},
    [IRP_OPT_IN] = {"--in", "FILE", "the PKCS#12 file to store"},
    [IRP_OPT_SAVE] = {"--save", "FILE", "also write the chain here (PEM) once the pin matched"},
    [IRP_OPT_DEVICE] = {"--device", "D", "the device's name"},
    [IRP_OPT_PORT] = {"--port", "P", "the port the device accepts on (1..65535)"},
    [IRP_OPT_LIFETIME] = {"--lifetime", "S", "seconds the binding lives (the registry's default)"},
    [IRP_OPT_SEQ] = {"--seq", "N", "the binding's sequence number, above the last one"},
    [IRP_OPT_ALL] = {"--all", NULL, "every device of the user"},
    [IRP_OPT_SERIAL] = {"--serial", "S", "the certificate's serial number"},
    [IRP_OPT_FP] = {"--fp", "HEX", "the certificate's SHA-256 fingerprint"},
    [IRP_OPT_CERT_FILE] = {"--cert-file", "PEM", "the certificate itself"},
    [IRP_OPT_REASON] = {"--reason", "R",
                        "unspecified, key-compromise, ca-compromise, affiliation-changed,\n"
                        "superseded, cessation-of-operation or privilege-withdrawn"},
    [IRP_OPT_ACCESS] = {"--access", "A", "anyone, list (the --allow users) or nobody"},
    [IRP_OPT_ALLOW] = {"--allow", "USER", "a user the list lets look up (repeatable)"},
    [IRP_OPT_SET] = {"--set", "NAME=VALUE", "an item to set (repeatable)"},
    [IRP_OPT_AFTER] = {"--after", "N", "start after this entry id or user name"},
    [IRP_OPT_COUNT] = {"--count", "N", "end after N events"},
};

/* Prints TEXT's lines, the first after what is already on the line, the others at column 24. */
static void put_indented(const char *text, FILE *f)
{
    const char *nl;
    while ((nl = strchr(text, '\n')) != NULL) {
        fprintf(f, "%.*s\n%24s", (int)(nl - text), text, "");
        text = nl + 1;
    }
    fprintf(f, "%s\n", text);
}

static void print_usage(FILE *f)
{
    const irp_tool_cmd *c;
    fputs(usage_head, f);
    fputs("COMMANDS\n", f);
    for (c = irp_tool_cmds; c->name != NULL; c++) {
        if (strlen(c->synopsis) < 20)
            fprintf(f, "    %-20s", c->synopsis);
        else
            fprintf(f, "    %s\n%24s", c->synopsis, "");
        put_indented(c->help, f);
    }
    fputs("\n", f);
    fputs(usage_tail, f);
}

/* The man page of one command: its line of `irp --help` and the options it takes. */
static void print_cmd_usage(const irp_tool_cmd *c, FILE *f)
{
    int o;
    const char *h;
    fprintf(f, "NAME\n    irp %s - ", c->name);
    for (h = c->help; *h != '\0'; h++) /* one line: the help's lines joined */
        fputc(*h == '\n' ? ' ' : *h, f);
    fputc('\n', f);
    fprintf(f, "\nSYNOPSIS\n    irp [CONNECTION OPTIONS] %s\n\nOPTIONS\n", c->synopsis);
    for (o = 0; o < IRP_OPT_COUNT_; o++) {
        char word[40];
        if (!(c->opts & IRP_OPT_BIT(o))) continue;
        snprintf(word, sizeof(word), "%s%s%s", opt_defs[o].name, opt_defs[o].value ? " " : "",
                 opt_defs[o].value ? opt_defs[o].value : "");
        if (strlen(word) < 20)
            fprintf(f, "    %-20s", word);
        else
            fprintf(f, "    %s\n%24s", word, "");
        put_indented(opt_defs[o].help, f);
    }
    fprintf(f, "    (and the connection's options: irp --help)\n\n"
               "EXIT STATUS\n"
               "    0 when every answer was 2xx, 1 otherwise, 2 for a usage error.\n");
}

static const irp_tool_cmd *find_cmd(const char *name)
{
    const irp_tool_cmd *c;
    for (c = irp_tool_cmds; c->name != NULL; c++)
        if (strcmp(c->name, name) == 0) return c;
    return NULL;
}

/* Fills a from argv: 0, 1 when help was printed, or 2 after a usage error. */
static int parse_args(int argc, char **argv, irp_tool_args *a)
{
    int i;
    a->opt[IRP_OPT_SERVER] = getenv("IRP_SERVER");
    a->opt[IRP_OPT_CA_FP] = getenv("IRP_CA_FP");
    for (i = 1; i < argc; i++) {
        const char *s = argv[i];
        char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int o;
        if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
            const irp_tool_cmd *c = a->cmd != NULL ? find_cmd(a->cmd) : NULL;
            if (c != NULL)
                print_cmd_usage(c, stdout);
            else
                print_usage(stdout);
            return 1;
        }
        if (strcmp(s, "--all") == 0) {
            a->opt[IRP_OPT_ALL] = "1";
            continue;
        }
        if (strncmp(s, "--", 2) != 0) {
            if (a->cmd == NULL)
                a->cmd = s;
            else if (a->npos < IRP_MAX_ADDRS + 1)
                a->pos[a->npos++] = s;
            else
                return irp_tool_usage_error("too many arguments");
            continue;
        }
        if (v == NULL) return irp_tool_usage_error("option without a value");
        i++;
        for (o = 0; o < IRP_OPT_COUNT_; o++)
            if (opt_defs[o].value != NULL && strcmp(s, opt_defs[o].name) == 0) break;
        if (o == IRP_OPT_ALLOW && a->nallow < IRP_MAX_ALLOW)
            a->allows[a->nallow++] = v;
        else if (o == IRP_OPT_SET && a->nsets < IRP_MAX_INFO)
            a->sets[a->nsets++] = v;
        else if (o < IRP_OPT_COUNT_ && o != IRP_OPT_ALLOW && o != IRP_OPT_SET)
            a->opt[o] = v;
        else
            return irp_tool_usage_error("unknown option");
    }
    return 0;
}

/* host and port of --server ([v6]:port for IPv6 literals, IRP_PORT when omitted); 0 or -1. */
static int split_server(const char *server, char *host, size_t hostsz, uint16_t *port)
{
    const char *colon = strrchr(server, ':');
    size_t hl = strlen(server);
    const char *h = server;
    if (server[0] == '[') {
        const char *rb = strchr(server, ']');
        if (rb == NULL) return -1;
        h = server + 1;
        hl = (size_t)(rb - h);
        colon = rb[1] == ':' ? rb + 1 : NULL;
    } else if (colon != NULL && strchr(server, ':') != colon) {
        colon = NULL; /* a bare IPv6 literal */
    } else if (colon != NULL) {
        hl = (size_t)(colon - server);
    }
    if (hl == 0 || hl >= hostsz) return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = IRP_PORT;
    if (colon != NULL) {
        long p = strtol(colon + 1, NULL, 10);
        if (p <= 0 || p > 65535) return -2;
        *port = (uint16_t)p;
    }
    return 0;
}

static void on_sig(uv_signal_t *h, int signum)
{
    irp_tool *t = h->data;
    (void)signum;
    if (t->is_watch && t->exit_code == 0) printf("interrupted after %ld events\n", t->got_events);
    irp_tool_finish(t);
}

/* Connects, sends the queued requests and runs the loop until the run ends: its exit status. */
static int run(irp_tool *t, const irp_tool_args *a, const char *host, uint16_t port,
               const char *ca_pem, const char *cert_pem, const char *key_pem)
{
    irp_client_opts o;
    char err[256];
    long timeout = a->opt[IRP_OPT_TIMEOUT] ? strtol(a->opt[IRP_OPT_TIMEOUT], NULL, 10) : 0;
    t->loop = uv_default_loop();
    memset(&o, 0, sizeof(o));
    o.ca_fp = a->opt[IRP_OPT_CA_FP];
    o.ca_pem = ca_pem;
    o.cert_pem = cert_pem;
    o.key_pem = key_pem;
    if (timeout > 0) o.connect_timeout_ms = o.request_timeout_ms = (unsigned)timeout * 1000;
    if (irp_client_new(t->loop, &o, &t->cli, err, sizeof(err)) != 0) {
        fprintf(stderr, "irp: %s\n", err);
        return 2;
    }
    irp_client_set_event_cb(t->cli, irp_tool_on_event, irp_tool_on_lost, t);
    uv_signal_init(t->loop, &t->sigint_h);
    uv_signal_init(t->loop, &t->sigterm_h);
    t->sigint_h.data = t->sigterm_h.data = t;
    uv_signal_start(&t->sigint_h, on_sig, SIGINT);
    uv_signal_start(&t->sigterm_h, on_sig, SIGTERM);
    if (irp_client_connect(t->cli, host, port, irp_tool_on_connected, t) != 0) {
        fprintf(stderr, "irp: cannot connect to %s\n", a->opt[IRP_OPT_SERVER]);
        return 2;
    }
    uv_run(t->loop, UV_RUN_DEFAULT);
    uv_loop_close(t->loop);
    return t->exit_code;
}

/* Reads the key material and builds the command's requests; 0 or an exit status. */
static int prepare(irp_tool *t, irp_tool_args *a, const irp_tool_cmd *c, char **ca_pem,
                   char **cert_pem, char **key_pem)
{
    const char *ca_fp = a->opt[IRP_OPT_CA_FP], *cert = a->opt[IRP_OPT_CERT];
    const char *key = a->opt[IRP_OPT_KEY];
    if (ca_fp != NULL) {
        size_t k, n = 0;
        for (k = 0; ca_fp[k] != '\0' && n < 64; k++)
            if (ca_fp[k] != ':') {
                char ch = ca_fp[k];
                t->pin_buf[n++] = (char)(ch >= 'A' && ch <= 'F' ? ch - 'A' + 'a' : ch);
            }
        t->pin_buf[n] = '\0';
        t->pin_hex = t->pin_buf;
    }
    if (a->opt[IRP_OPT_CA] != NULL &&
        (*ca_pem = irp_tool_read_file(a->opt[IRP_OPT_CA], NULL)) == NULL) {
        perror(a->opt[IRP_OPT_CA]);
        return 2;
    }
    if (cert != NULL && ((*cert_pem = irp_tool_read_file(cert, NULL)) == NULL ||
                         (*key_pem = irp_tool_read_file(key != NULL ? key : cert, NULL)) == NULL)) {
        perror(cert);
        return 2;
    }
    t->out_file = a->opt[IRP_OPT_OUT];
    t->save_file = a->opt[IRP_OPT_SAVE];
    if (a->opt[IRP_OPT_COUNT] != NULL) t->want_events = strtol(a->opt[IRP_OPT_COUNT], NULL, 10);
    if (a->opt[IRP_OPT_USER] != NULL && a->opt[IRP_OPT_PASSWORD] != NULL)
        irp_tool_queue_login(t, a);
    return c->build(t, c, a);
}

/* --domain: the first target of the domain's SRV records (blocking: before the loop runs). */
static int find_by_srv(irp_tool_args *a, char *host, size_t cap, uint16_t *port)
{
    irp_srv_target t[IRP_SRV_MAX];
    size_t n = 0;
    char err[256];
    int r = irp_srv_resolve(a->opt[IRP_OPT_DOMAIN], a->opt[IRP_OPT_DNS], t, IRP_SRV_MAX, &n, err,
                            sizeof(err));
    if (r == SC_ERR_ARG) return irp_tool_usage_error(err);
    if (r != 0 || n == 0) {
        fprintf(stderr, "irp: %s\n", err);
        return 1;
    }
    snprintf(host, cap, "%s", t[0].host);
    *port = t[0].port;
    /* Where it goes, for the person and the tests: the SRV answer is not authenticated (2.1). */
    fprintf(stderr, "irp: %s's registry: %s port %u\n", a->opt[IRP_OPT_DOMAIN], host, *port);
    a->opt[IRP_OPT_SERVER] = a->opt[IRP_OPT_DOMAIN]; /* named in messages */
    return 0;
}

int main(int argc, char **argv)
{
    irp_tool_args a;
    irp_tool *t;
    const irp_tool_cmd *c;
    char host[256], *ca_pem = NULL, *cert_pem = NULL, *key_pem = NULL;
    uint16_t port = 0;
    int r;

    memset(&a, 0, sizeof(a));
    r = parse_args(argc, argv, &a);
    if (r != 0) return r == 1 ? 0 : r;
    if (a.cmd != NULL && strcmp(a.cmd, "help") == 0) {
        c = a.npos > 0 ? find_cmd(a.pos[0]) : NULL;
        if (c != NULL)
            print_cmd_usage(c, stdout);
        else
            print_usage(stdout);
        return 0;
    }
    if (a.cmd == NULL) return irp_tool_usage_error("no command");
    if (a.opt[IRP_OPT_SERVER] == NULL && a.opt[IRP_OPT_DOMAIN] != NULL) {
        if ((r = find_by_srv(&a, host, sizeof(host), &port)) != 0) return r;
    } else {
        if (a.opt[IRP_OPT_SERVER] == NULL) return irp_tool_usage_error("no --server");
        r = split_server(a.opt[IRP_OPT_SERVER], host, sizeof(host), &port);
        if (r != 0) return irp_tool_usage_error(r == -1 ? "bad --server" : "bad port in --server");
    }
    if ((t = calloc(1, sizeof(*t))) == NULL) {
        perror("irp");
        return 2;
    }
    t->want_events = -1;
    if ((c = find_cmd(a.cmd)) == NULL)
        r = irp_tool_usage_error("unknown command");
    else if ((r = prepare(t, &a, c, &ca_pem, &cert_pem, &key_pem)) == 0)
        r = run(t, &a, host, port, ca_pem, cert_pem, key_pem);
    free(ca_pem);
    free(cert_pem);
    free(key_pem);
    OPENSSL_free(t->csr_buf);
    free(t->p12_buf);
    free(t);
    fflush(stdout);
    return r;
}
