/*
 * sixchat_local.c - the commands that work on the identity files rather
 * than through the running agent: init, enroll, backup, restore
 * (agent_enroll: key and CSR, enrolment, PKCS#12 through the registry).
 */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "agent_enroll.h"
#include "agent_store.h"
#include "sixchat/platform.h"
#include "irp_client_srv.h"
#include "sixchat_cli.h"

/* Reads a secret: from the terminal without echo, or a line of standard input. */
static int read_secret(const char *prompt, char *buf, size_t cap)
{
    int tty = isatty(STDIN_FILENO);
    struct termios old, noecho;
    if (tty) {
        fprintf(stderr, "%s", prompt);
        if (tcgetattr(STDIN_FILENO, &old) != 0) return -1;
        noecho = old;
        noecho.c_lflag &= ~(tcflag_t)ECHO;
        if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho) != 0) return -1;
    }
    char *r = fgets(buf, (int)cap, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fprintf(stderr, "\n");
    }
    if (!r) return -1;
    buf[strcspn(buf, "\r\n")] = '\0';
    return buf[0] ? 0 : -1;
}

/* The store, opened for a local command (the agent may run: WAL allows both). */
static int open_store(sx_ctx *x, agent_store **st)
{
    if (agent_paths_create(&x->paths)) {
        fprintf(stderr, "sixchat: cannot create %s: %s\n", x->paths.data, strerror(errno));
        return SX_EXIT_FAIL;
    }
    if (agent_store_open(x->paths.store, st)) {
        fprintf(stderr, "sixchat: cannot open %s\n", x->paths.store);
        return SX_EXIT_FAIL;
    }
    return SX_EXIT_OK;
}

static int copy_file(const char *from, const char *to, int private_key)
{
    char *data = NULL;
    size_t len = 0;
    if (sc_read_file(from, 1 << 20, &data, &len)) return -1;
    FILE *f = NULL;
    int fd = -1;
    (void)unlink(to);
    fd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, private_key ? 0600 : 0644);
    if (fd >= 0) f = fdopen(fd, "w");
    int ok = f && fwrite(data, 1, len, f) == len;
    if (f)
        ok = (fclose(f) == 0) && ok;
    else if (fd >= 0)
        close(fd);
    if (private_key) sc_wipe(data, len);
    free(data);
    return ok ? 0 : -1;
}

/* HOST[:PORT] and the CA fingerprint into the target. */
static void target_from(agent_irp_target *t, char *host, size_t cap, const char *irp,
                        const char *ca_fp, const char *ca_path)
{
    memset(t, 0, sizeof(*t));
    snprintf(host, cap, "%s", irp);
    char *colon = strrchr(host, ':');
    if (colon && (host[0] != '[' || colon[-1] == ']') && !strchr(colon, ']')) {
        t->port = (uint16_t)atoi(colon + 1);
        *colon = '\0';
    }
    if (host[0] == '[') {
        size_t l = strlen(host);
        memmove(host, host + 1, l);
        if (l >= 2 && host[l - 2] == ']') host[l - 2] = '\0';
    }
    t->host = host;
    t->ca_fp = ca_fp && ca_fp[0] ? ca_fp : NULL;
    t->ca_path = ca_path;
    /* A name without a port: the domain's registry by DNS SRV (docs/IRP.md 2.1), its first
     * target; the answer without a record is the name itself on 4604, as before. */
    unsigned char ip[16];
    irp_srv_target st[IRP_SRV_MAX];
    size_t n = 0;
    char err[256];
    if (t->port == 0 && inet_pton(AF_INET, host, ip) != 1 && inet_pton(AF_INET6, host, ip) != 1 &&
        irp_srv_resolve(host, getenv("SIXCHAT_DNS"), st, IRP_SRV_MAX, &n, err, sizeof(err)) == 0 &&
        n > 0) {
        snprintf(host, cap, "%s", st[0].host);
        t->port = st[0].port;
    }
}

int sx_cmd_init(sx_ctx *x, int argc, char **argv)
{
    const char *pos[1], *id = NULL, *irp = NULL, *cafp = NULL, *ktype = NULL, *cert = NULL,
                        *key = NULL, *ca = NULL, *ca_domain = NULL;
    int n;
    sx_opt o[] = {{"--id", 1, &id, NULL},
                  {"--irp", 1, &irp, NULL},
                  {"--ca-fingerprint", 1, &cafp, NULL},
                  {"--key-type", 1, &ktype, NULL},
                  {"--cert", 1, &cert, NULL},
                  {"--key", 1, &key, NULL},
                  {"--ca", 1, &ca, NULL},
                  {"--ca-domain", 1, &ca_domain, NULL}};
    int rc = sx_parse(x, "init", argc, argv, o, 8, pos, 0, &n);
    if (rc >= 0) return rc;
    int external = cert || key || ca;
    if (external && !(cert && key && ca))
        return sx_usage("init", "--cert, --key and --ca go together");
    if (!external && !(id && irp && cafp))
        return sx_usage("init", "give --id USER --irp HOST[:PORT] --ca-fingerprint HEX "
                                "(or --cert FILE --key FILE --ca FILE)");
    agent_store *st;
    if ((rc = open_store(x, &st))) return rc;
    char err[512] = "", user[AGENT_USER_MAX + 1] = "";
    int e;
    if (external) {
        e = agent_enroll_check(cert, key, ca, user, err, sizeof(err));
        if (e == 0 && (copy_file(key, x->paths.key, 1) || copy_file(cert, x->paths.cert, 0) ||
                       copy_file(ca, x->paths.ca, 0))) {
            snprintf(err, sizeof(err), "cannot copy the files into %.200s", x->paths.data);
            e = SC_ERR_IO;
        }
    } else {
        agent_key_type t = AGENT_KEY_P256;
        if (ktype && agent_key_type_parse(ktype, &t)) {
            agent_store_close(st);
            return sx_usage("init", "--key-type: p256, ed25519 or rsa2048");
        }
        snprintf(user, sizeof(user), "%s", id);
        e = agent_enroll_make_key(user, t, x->paths.key, x->paths.csr, err, sizeof(err));
    }
    if (e == 0 && (agent_store_set(st, "user", user) || (irp && agent_store_set(st, "irp", irp)) ||
                   (cafp && agent_store_set(st, "ca_fp", cafp)) ||
                   (ca_domain && agent_store_set(st, "ca_domain", ca_domain)))) {
        snprintf(err, sizeof(err), "cannot write the store");
        e = SC_ERR_IO;
    }
    agent_store_close(st);
    if (e) {
        fprintf(stderr, "sixchat: init: %s\n", err[0] ? err : "failed");
        return SX_EXIT_FAIL;
    }
    if (x->json) {
        json_t *j =
            json_pack("{s:s,s:s,s:s}", "user", user, "key", x->paths.key, "home", x->paths.data);
        sx_print_json(j);
        json_decref(j);
    } else if (external) {
        printf("%s: identity installed in %s; start the agent with `sixchat up`\n", user,
               x->paths.data);
    } else {
        printf("%s: key and certificate request in %s; now `sixchat enroll --token T`\n", user,
               x->paths.data);
    }
    return SX_EXIT_OK;
}

/* The registry settings written by init. */
static int load_irp(agent_store *st, char *user, char *irp, char *cafp)
{
    int f1 = 0, f2 = 0, f3 = 0;
    if (agent_store_get(st, "user", user, AGENT_USER_MAX + 1, &f1) ||
        agent_store_get(st, "irp", irp, 300, &f2) || agent_store_get(st, "ca_fp", cafp, 100, &f3))
        return -1;
    return f1 && f2 ? 0 : -1;
}

int sx_cmd_enroll(sx_ctx *x, int argc, char **argv)
{
    const char *pos[1], *token = NULL;
    int n, password = 0;
    sx_opt o[] = {{"--token", 1, &token, NULL}, {"--password", 0, NULL, &password}};
    int rc = sx_parse(x, "enroll", argc, argv, o, 2, pos, 0, &n);
    if (rc >= 0) return rc;
    if (!token == !password) return sx_usage("enroll", "give --token T or --password");
    agent_store *st;
    if ((rc = open_store(x, &st))) return rc;
    char user[AGENT_USER_MAX + 1], irp[300], cafp[100], host[300], pw[300] = "", err[512] = "";
    char got[AGENT_USER_MAX + 1] = "";
    int bad = load_irp(st, user, irp, cafp);
    agent_store_close(st);
    if (bad) {
        fprintf(stderr, "sixchat: enroll: run `sixchat init --id USER --irp HOST --ca-fingerprint "
                        "HEX` first\n");
        return SX_EXIT_FAIL;
    }
    if (password && read_secret("password: ", pw, sizeof(pw))) {
        fprintf(stderr, "sixchat: enroll: no password given\n");
        return SX_EXIT_FAIL;
    }
    agent_irp_target t;
    target_from(&t, host, sizeof(host), irp, cafp, NULL);
    int e = agent_enroll_run(&t, token, user, password ? pw : NULL, x->paths.key, x->paths.csr,
                             x->paths.cert, x->paths.ca, got, err, sizeof(err));
    sc_wipe(pw, sizeof(pw));
    if (e) {
        fprintf(stderr, "sixchat: enroll: %s\n", err[0] ? err : "failed");
        return SX_EXIT_FAIL;
    }
    if (x->json) {
        json_t *j = json_pack("{s:s,s:s}", "user", got, "cert", x->paths.cert);
        sx_print_json(j);
        json_decref(j);
    } else {
        printf("%s: enrolled; certificate in %s; start the agent with `sixchat up`\n", got,
               x->paths.cert);
    }
    return SX_EXIT_OK;
}

int sx_cmd_backup(sx_ctx *x, int argc, char **argv)
{
    const char *pos[1];
    int n;
    int rc = sx_parse(x, "backup", argc, argv, NULL, 0, pos, 0, &n);
    if (rc >= 0) return rc;
    agent_store *st;
    if ((rc = open_store(x, &st))) return rc;
    char user[AGENT_USER_MAX + 1], irp[300], cafp[100], host[300], p1[300], p2[300], err[512] = "";
    int bad = load_irp(st, user, irp, cafp);
    agent_store_close(st);
    if (bad) {
        fprintf(stderr, "sixchat: backup: no registry configured (sixchat init)\n");
        return SX_EXIT_FAIL;
    }
    if (read_secret("passphrase for the backup: ", p1, sizeof(p1)) ||
        (isatty(STDIN_FILENO) && (read_secret("again: ", p2, sizeof(p2)) || strcmp(p1, p2)))) {
        fprintf(stderr, "sixchat: backup: the passphrases are missing or differ\n");
        return SX_EXIT_FAIL;
    }
    agent_irp_target t;
    target_from(&t, host, sizeof(host), irp, cafp, x->paths.ca);
    int e = agent_enroll_backup(&t, x->paths.cert, x->paths.key, p1, err, sizeof(err));
    sc_wipe(p1, sizeof(p1));
    sc_wipe(p2, sizeof(p2));
    if (e) {
        fprintf(stderr, "sixchat: backup: %s\n", err[0] ? err : "failed");
        return SX_EXIT_FAIL;
    }
    printf("key and certificate stored on the registry, encrypted with your passphrase\n");
    return SX_EXIT_OK;
}

int sx_cmd_restore(sx_ctx *x, int argc, char **argv)
{
    const char *pos[1], *id = NULL, *irp = NULL, *cafp = NULL;
    int n, password = 0;
    sx_opt o[] = {{"--id", 1, &id, NULL},
                  {"--irp", 1, &irp, NULL},
                  {"--ca-fingerprint", 1, &cafp, NULL},
                  {"--password", 0, NULL, &password}};
    int rc = sx_parse(x, "restore", argc, argv, o, 4, pos, 0, &n);
    if (rc >= 0) return rc;
    if (!id || !irp || !cafp || !password)
        return sx_usage("restore", "give --id USER --irp HOST[:PORT] --ca-fingerprint HEX "
                                   "--password");
    agent_store *st;
    if ((rc = open_store(x, &st))) return rc;
    char host[300], pw[300], pp[300], err[512] = "";
    if (read_secret("password: ", pw, sizeof(pw)) ||
        read_secret("passphrase of the backup: ", pp, sizeof(pp))) {
        agent_store_close(st);
        fprintf(stderr, "sixchat: restore: no password or passphrase given\n");
        return SX_EXIT_FAIL;
    }
    agent_irp_target t;
    target_from(&t, host, sizeof(host), irp, cafp, NULL);
    int e = agent_enroll_restore(&t, id, pw, pp, x->paths.key, x->paths.cert, err, sizeof(err));
    if (e == 0) e = agent_enroll_fetch_ca(&t, x->paths.ca, err, sizeof(err));
    sc_wipe(pw, sizeof(pw));
    sc_wipe(pp, sizeof(pp));
    if (e == 0 && (agent_store_set(st, "user", id) || agent_store_set(st, "irp", irp) ||
                   agent_store_set(st, "ca_fp", cafp))) {
        snprintf(err, sizeof(err), "cannot write the store");
        e = SC_ERR_IO;
    }
    agent_store_close(st);
    if (e) {
        fprintf(stderr, "sixchat: restore: %s\n", err[0] ? err : "failed");
        return SX_EXIT_FAIL;
    }
    printf("%s: key and certificate restored into %s; start the agent with `sixchat up`\n", id,
           x->paths.data);
    return SX_EXIT_OK;
}
