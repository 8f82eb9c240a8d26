/*
 * irpd_main.c - the `irpd` program: init, token, passwd, revoke, users, migrate,
 * serve.
 *
 * Argument handling and help text only; the work is in irpd_ca (init),
 * irpd_store and irpd_secret (token, passwd) and irpd_server (serve).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "irpd_ca.h"
#include "irpd_config.h"
#include "irpd_secret.h"
#include "irpd_server.h"
#include "irpd_store.h"

static const char usage_main[] =
    "NAME\n"
    "    irpd - the sixchat identity registry (IRP, docs/IRP.md)\n"
    "\n"
    "SYNOPSIS\n"
    "    irpd init --dir DIR --name HOST --domain DOMAIN... [--ip ADDR]...\n"
    "              [--listen ADDR:PORT]... [--admin USER]... [--allow-local]\n"
    "              [--store URI]\n"
    "    irpd token --dir DIR [--lifetime SECONDS] USER\n"
    "    irpd passwd --dir DIR USER\n"
    "    irpd revoke --dir DIR [--reason REASON] SERIAL|FINGERPRINT|USER\n"
    "    irpd users --dir DIR\n"
    "    irpd migrate --dir DIR\n"
    "    irpd serve --dir DIR [--listen ADDR:PORT]... [--allow-local]\n"
    "    irpd help [COMMAND] | irpd COMMAND --help\n"
    "\n"
    "DESCRIPTION\n"
    "    irpd is the registry users enrol with, register their current\n"
    "    addresses with and look each other up in. It is also the CA that\n"
    "    issues their certificates. All state lives in DIR: the CA and server\n"
    "    keys and certificates (ca.pem, ca.key, server.pem, server.key), the\n"
    "    configuration irpd.conf and the SQLite database irpd.db, unless\n"
    "    irpd.conf's store names a PostgreSQL database (docs/DEPLOYMENT.md).\n"
    "\n"
    "COMMANDS\n"
    "    init     create DIR's CA, server certificate, configuration, database\n"
    "    token    print a one-time enrolment token for USER\n"
    "    passwd   set USER's password (read from standard input)\n"
    "    revoke   revoke a certificate, or every certificate of a user\n"
    "    users    list the users with their device and certificate counts\n"
    "    migrate  create or update the database's schema to this irpd's version\n"
    "    serve    run the registry\n"
    "\n"
    "EXIT STATUS\n"
    "    0 on success, 1 on failure, 2 on a usage error.\n";

static const char usage_init[] =
    "NAME\n"
    "    irpd init - create a new registry\n"
    "\n"
    "SYNOPSIS\n"
    "    irpd init --dir DIR --name HOST --domain DOMAIN... [--ip ADDR]...\n"
    "              [--listen ADDR:PORT]... [--admin USER]... [--allow-local]\n"
    "              [--store URI]\n"
    "\n"
    "DESCRIPTION\n"
    "    Creates DIR (mode 0700) if needed, or sets an existing DIR of yours\n"
    "    to mode 0700 (refuses one that is not yours), a new CA (\"sixchat\n"
    "    registry CA HOST\", ECDSA P-256, 10 years) whose certificate may\n"
    "    certify users of the served domains only (critical X.509 name\n"
    "    constraints, one permitted rfc822Name per --domain, docs/IRP.md 7.5),\n"
    "    a TLS server certificate for HOST and\n"
    "    each --ip address (2 years), the configuration DIR/irpd.conf and the\n"
    "    database DIR/irpd.db. Private keys are written with mode 0600. Refuses\n"
    "    to overwrite an existing registry.\n"
    "\n"
    "    Prints the CA's SHA-256 fingerprint: give it to users out of band;\n"
    "    their agents pin it (docs/IRP.md 3.2).\n"
    "\n"
    "OPTIONS\n"
    "    --dir DIR            the registry's directory\n"
    "    --name HOST          DNS name (or IP literal) clients dial\n"
    "    --domain DOMAIN      a served domain (user IDs USER@DOMAIN), repeatable,\n"
    "                         at least one; fixed in the CA certificate\n"
    "    --ip ADDR            an address of the host for the server certificate\n"
    "    --listen ADDR:PORT   written to irpd.conf (default [::]:4604)\n"
    "    --admin USER         an administrator, written to irpd.conf (rights only\n"
    "                         with a certificate of this registry's CA)\n"
    "    --allow-local        accept loopback and link-local addresses in\n"
    "                         register (for tests on one machine only)\n"
    "    --store URI          keep the registry in this PostgreSQL database\n"
    "                         (postgresql://...; written to irpd.conf, which is\n"
    "                         then 0600) instead of DIR/irpd.db; the database\n"
    "                         must exist and hold no registry yet\n";

static const char usage_migrate[] =
    "NAME\n"
    "    irpd migrate - create or update the database's schema\n"
    "\n"
    "SYNOPSIS\n"
    "    irpd migrate --dir DIR\n"
    "\n"
    "DESCRIPTION\n"
    "    Opens the store irpd.conf names (DIR/irpd.db, or the PostgreSQL\n"
    "    database of `store`), creates the schema if the database has none and\n"
    "    applies the steps from its schema version to this irpd's, in one\n"
    "    transaction; a newer schema is refused. Run it after an upgrade,\n"
    "    before serve (docs/DEPLOYMENT.md).\n";

static const char usage_token[] =
    "NAME\n"
    "    irpd token - make a one-time enrolment token\n"
    "\n"
    "SYNOPSIS\n"
    "    irpd token --dir DIR [--lifetime SECONDS] USER\n"
    "\n"
    "DESCRIPTION\n"
    "    Prints a fresh token (22 characters) with which USER (a user ID,\n"
    "    local@domain) enrols once (docs/IRP.md 6.5). Only its SHA-256 is\n"
    "    stored. It expires after SECONDS, 60 to 2592000 (30 days; default:\n"
    "    token_lifetime of irpd.conf, 86400). USER must be in a served domain.\n";

static const char usage_passwd[] =
    "NAME\n"
    "    irpd passwd - set a user's password\n"
    "\n"
    "SYNOPSIS\n"
    "    irpd passwd --dir DIR USER\n"
    "\n"
    "DESCRIPTION\n"
    "    Reads one line from standard input and stores its scrypt hash as\n"
    "    USER's password (creating USER if needed). A password lets a user\n"
    "    enrol without a token and fetch their key backup (docs/IRP.md 6.4).\n"
    "    USER must be in a served domain.\n";

static const char usage_revoke[] =
    "NAME\n"
    "    irpd revoke - revoke a certificate or all of a user's certificates\n"
    "\n"
    "SYNOPSIS\n"
    "    irpd revoke --dir DIR [--reason REASON] SERIAL|FINGERPRINT|USER\n"
    "\n"
    "DESCRIPTION\n"
    "    Works on the database DIR/irpd.db directly; a running irpd refuses\n"
    "    the certificate at its next request and closes its connections within\n"
    "    about a second (docs/IRP.md 11.4). With SERIAL (lowercase hex, as\n"
    "    cert-status shows it) revokes that certificate of the registry's CA;\n"
    "    with FINGERPRINT (64 hex digits, SHA-256 of the DER) any recorded\n"
    "    certificate, an external CA's too; with USER (a user ID, containing\n"
    "    '@') revokes every valid certificate of USER, an external CA's\n"
    "    recorded ones included, and disables the account: its password is\n"
    "    cleared and its unused enrolment tokens are void, so it cannot enrol\n"
    "    again until the administrator gives it a new password or token\n"
    "    (docs/IRP.md 6.12). Either\n"
    "    way every binding of the certificate's user is removed at once, and\n"
    "    later lookups, cert-status answers and TLS handshakes show the\n"
    "    certificate as revoked (docs/IRP.md 6.12). Revoking a revoked\n"
    "    certificate changes nothing. The revocation is audited with actor\n"
    "    \"cli\".\n"
    "\n"
    "OPTIONS\n"
    "    --dir DIR          the registry's directory\n"
    "    --reason REASON    unspecified (default), key-compromise,\n"
    "                       ca-compromise, affiliation-changed, superseded,\n"
    "                       cessation-of-operation or privilege-withdrawn\n"
    "\n"
    "EXIT STATUS\n"
    "    0 revoked (or already revoked), 1 no such certificate or user, or a\n"
    "    failure, 2 usage error.\n";

static const char usage_users[] =
    "NAME\n"
    "    irpd users - list the registry's users\n"
    "\n"
    "SYNOPSIS\n"
    "    irpd users --dir DIR\n"
    "\n"
    "DESCRIPTION\n"
    "    Prints one line per user, in user ID order (case-folded):\n"
    "\n"
    "        USER devices=N certs=N access=ACCESS created=TIME\n"
    "\n"
    "    devices: live bindings now; certs: valid (unrevoked, unexpired)\n"
    "    certificates; access: the lookup policy (anyone, list, nobody);\n"
    "    created: Unix time. Reads the database directly.\n";

static const char usage_serve[] =
    "NAME\n"
    "    irpd serve - run the registry\n"
    "\n"
    "SYNOPSIS\n"
    "    irpd serve --dir DIR [--listen ADDR:PORT]... [--allow-local]\n"
    "\n"
    "DESCRIPTION\n"
    "    Serves IRP over TLS 1.3. --listen replaces the listen lines of\n"
    "    irpd.conf (default [::]:4604, dual-stack; port 0 picks a free port).\n"
    "    Prints \"irpd ready on ADDR:PORT\" on standard output for each\n"
    "    listener once it accepts, and logs one line per request on standard\n"
    "    error. SIGTERM or SIGINT: stop accepting, answer what was read, end\n"
    "    watches, close the database, exit 0.\n"
    "\n"
    "OPTIONS\n"
    "    --dir DIR            the registry's directory (irpd init)\n"
    "    --listen ADDR:PORT   where to accept, repeatable (IPv6 in brackets)\n"
    "    --allow-local        accept loopback and link-local addresses in\n"
    "                         register (tests only)\n"
    "\n"
    "CONFIGURATION\n"
    "    DIR/irpd.conf holds `key = value` lines (# starts a comment):\n"
    "    listen = ADDR:PORT (repeatable), allow_local = 0|1, domain = DOMAIN\n"
    "    (a served domain, repeatable, at least one), admin = USER\n"
    "    (repeatable), trusted_ca = PEM_FILE DOMAIN... (an external CA and the\n"
    "    domains it may vouch for, repeatable), cert_lifetime (365 days),\n"
    "    max_connections (10000), max_per_addr (64 from one IPv4 address or\n"
    "    IPv6 /64), max_per_user (16), idle_timeout (120 s), handshake_timeout\n"
    "    (10 s), frame_timeout (30 s), write_timeout (30 s), token_lifetime\n"
    "    (86400 s), login_fail_user (5), login_fail_addr (20),\n"
    "    login_fail_window (900 s), req_rate_user / req_burst_user (500/s,\n"
    "    1000), req_rate_anon / req_burst_anon (20/s, 100, per address),\n"
    "    reg_rate / reg_burst (1/s, 10 per user and device), cert_per_hour\n"
    "    (10: enroll and renew), p12_per_hour (10),\n"
    "    min_lifetime (60 s; lower only in tests).\n";

/* Prints "irpd: WHAT ARG", then the command's usage; returns 2. */
static int usage_error(const char *usage, const char *what, const char *arg)
{
    fprintf(stderr, "irpd: %s%s\n\n%s", what, arg, usage);
    return 2;
}

/* Options shared by the commands. */
typedef struct opts {
    const char *dir, *name, *user, *reason, *store;
    const char *ips[16];
    size_t n_ips;
    const char *listen[IRPD_CONFIG_MAX_LISTEN];
    size_t n_listen;
    const char *admins[IRPD_CONFIG_MAX_ADMINS];
    size_t n_admins;
    const char *domains[IRPD_CONFIG_MAX_DOMAINS];
    size_t n_domains;
    int allow_local;
    const char *lifetime;
} opts;

/* Parses argv[1..] of a command; 0, 1 for --help (printed), 2 for a usage error. */
static int parse(int argc, char **argv, const char *usage, int want_user, opts *o)
{
    int i;

    memset(o, 0, sizeof(*o));
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return 1;
        }
        if (a[0] == '-' && a[1] == '-') {
            if (strcmp(a, "--allow-local") == 0) {
                o->allow_local = 1;
                continue;
            }
            if (v == NULL) return usage_error(usage, "a value is needed after ", a);
            i++;
            if (strcmp(a, "--dir") == 0)
                o->dir = v;
            else if (strcmp(a, "--name") == 0)
                o->name = v;
            else if (strcmp(a, "--ip") == 0 && o->n_ips < 16)
                o->ips[o->n_ips++] = v;
            else if (strcmp(a, "--listen") == 0 && o->n_listen < IRPD_CONFIG_MAX_LISTEN)
                o->listen[o->n_listen++] = v;
            else if (strcmp(a, "--admin") == 0 && o->n_admins < IRPD_CONFIG_MAX_ADMINS)
                o->admins[o->n_admins++] = v;
            else if (strcmp(a, "--domain") == 0 && o->n_domains < IRPD_CONFIG_MAX_DOMAINS)
                o->domains[o->n_domains++] = v;
            else if (strcmp(a, "--reason") == 0)
                o->reason = v;
            else if (strcmp(a, "--lifetime") == 0)
                o->lifetime = v;
            else if (strcmp(a, "--store") == 0)
                o->store = v;
            else
                return usage_error(usage, "unknown option ", a);
            continue;
        }
        if (!want_user || o->user != NULL) return usage_error(usage, "unexpected argument ", a);
        o->user = a;
    }
    if (o->dir == NULL) return usage_error(usage, "--dir is required", "");
    if (want_user && o->user == NULL) return usage_error(usage, "USER is required", "");
    return 0;
}

/*
 * docs/IRP.md 11.1: the registry's directory holds its CA key and its
 * database (password hashes, the audit); no one but its owner may read
 * them. init sets an existing directory of the caller's to 0700 (and
 * refuses anything else); serve refuses a directory, database or database
 * journal that group or others may use, naming the command that fixes it.
 */
static int make_private_dir(const char *dir)
{
    struct stat sb;
    if (stat(dir, &sb) != 0) return -1;
    errno = 0;
    if (!S_ISDIR(sb.st_mode) || sb.st_uid != geteuid()) {
        fprintf(stderr, "irpd: %s: exists and is not a directory of this user\n", dir);
        return -1;
    }
    if ((sb.st_mode & 077) == 0) return 0;
    if (chmod(dir, 0700) != 0) return -1;
    fprintf(stderr, "irpd: %s: mode %03o set to 0700\n", dir, (unsigned)(sb.st_mode & 0777));
    return 0;
}

static int check_one_private(const char *path, int is_dir, int must_exist)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (!must_exist && errno == ENOENT) return 0;
        fprintf(stderr, "irpd: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if ((sb.st_mode & 077) != 0) {
        fprintf(stderr,
                "irpd: %s: mode %03o lets group or others in; refusing to serve "
                "(fix: chmod %s %s)\n",
                path, (unsigned)(sb.st_mode & 0777), is_dir ? "700" : "600", path);
        return -1;
    }
    return 0;
}

static int check_private(const char *dir, int with_db)
{
    static const char *const files[] = {IRPD_DB_FILE, IRPD_DB_FILE "-wal", IRPD_DB_FILE "-shm"};
    char path[4096];
    if (check_one_private(dir, 1, 1) != 0) return -1;
    for (size_t i = 0; with_db && i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        if (check_one_private(path, 0, i == 0) != 0) return -1;
    }
    return 0;
}

/* The store DIR/irpd.conf names (irpd_store_open). */
static irpd_store *open_store(const char *dir, unsigned flags)
{
    irpd_store_opts so;
    irpd_store *st = NULL;
    irpd_config cfg;
    char e[300];

    if (irpd_config_load(&cfg, dir, e, sizeof(e)) != 0) {
        fprintf(stderr, "irpd: %s\n", e);
        return NULL;
    }
    memset(&so, 0, sizeof(so));
    so.flags = flags;
    if (irpd_store_open(dir, cfg.store, &so, &st) != 0) {
        fprintf(stderr, "irpd: %s\n", irpd_store_errmsg(st));
        irpd_store_close(st);
        return NULL;
    }
    return st;
}

static int cmd_init(int argc, char **argv)
{
    const char *doms[IRPD_CONFIG_MAX_DOMAINS];
    irpd_ca_opts co;
    irpd_ca *ca = NULL;
    irpd_ca_err err;
    irpd_config cfg;
    irpd_store *st;
    char fp[65], e[300];
    int64_t now = (int64_t)time(NULL);
    opts o;
    size_t i;
    int r = parse(argc, argv, usage_init, 0, &o);

    if (r != 0) return r == 1 ? 0 : r;
    if (o.name == NULL) return usage_error(usage_init, "--name is required", "");
    if (o.n_domains == 0) return usage_error(usage_init, "--domain is required", "");
    if (mkdir(o.dir, 0700) != 0 && (errno != EEXIST || make_private_dir(o.dir) != 0)) {
        if (errno != 0) fprintf(stderr, "irpd: %s: %s\n", o.dir, strerror(errno));
        return 1;
    }
    irpd_config_defaults(&cfg);
    cfg.allow_local = o.allow_local;
    if (o.store != NULL && irpd_config_set(&cfg, "store", o.store, e, sizeof(e)) != 0) goto bad_cfg;
    for (i = 0; i < o.n_listen; i++)
        if (irpd_config_set(&cfg, "listen", o.listen[i], e, sizeof(e)) != 0) goto bad_cfg;
    for (i = 0; i < o.n_domains; i++)
        if (irpd_config_set(&cfg, "domain", o.domains[i], e, sizeof(e)) != 0) goto bad_cfg;
    for (i = 0; i < o.n_admins; i++) {
        if (irpd_config_set(&cfg, "admin", o.admins[i], e, sizeof(e)) != 0) goto bad_cfg;
        if (!irpd_config_serves(&cfg, o.admins[i])) {
            snprintf(e, sizeof(e), "admin %s is not in a served domain", o.admins[i]);
            goto bad_cfg;
        }
    }

    memset(&co, 0, sizeof(co));
    co.key_type = IRPD_KEY_P256;
    co.name = o.name;
    for (i = 0; i < cfg.n_domains; i++)
        doms[i] = cfg.domains[i];
    co.domains = doms;
    co.n_domains = cfg.n_domains;
    if (irpd_ca_create(&co, now, &ca, &err) != IRPD_CA_OK ||
        irpd_ca_make_server(ca, o.name, o.ips, o.n_ips, now, 0, &err) != IRPD_CA_OK ||
        irpd_ca_save(ca, o.dir, &err) != IRPD_CA_OK) {
        fprintf(stderr, "irpd: init: %s\n", err.msg);
        irpd_ca_free(ca);
        return 1;
    }
    if (irpd_ca_fingerprint_hex(ca, fp) != IRPD_CA_OK) {
        irpd_ca_free(ca);
        return 1;
    }
    irpd_ca_free(ca);
    if (irpd_config_write(&cfg, o.dir, e, sizeof(e)) != 0) {
        fprintf(stderr, "irpd: init: %s\n", e);
        return 1;
    }
    if ((st = open_store(o.dir, IRPD_STORE_CREATE)) == NULL) return 1;
    irpd_store_close(st);
    printf("registry created in %s for %s\n", o.dir, o.name);
    printf("CA fingerprint (SHA-256): %s\n", fp);
    return 0;
bad_cfg:
    fprintf(stderr, "irpd: init: %s\n", e);
    return 2;
}

static int cmd_token(int argc, char **argv)
{
    uint8_t hash[IRPD_TOKEN_HASH_LEN];
    char tok[IRPD_TOKEN_LEN + 1], e[300];
    int64_t now = (int64_t)time(NULL), life;
    irpd_config cfg;
    irpd_store *st;
    irp_status rs;
    opts o;
    int r = parse(argc, argv, usage_token, 1, &o);

    if (r != 0) return r == 1 ? 0 : r;
    if (irpd_config_load(&cfg, o.dir, e, sizeof(e)) != 0) {
        fprintf(stderr, "irpd: %s\n", e);
        return 1;
    }
    if (!irpd_config_serves(&cfg, o.user)) {
        fprintf(stderr, "irpd: token: %s is not in a domain this registry serves\n", o.user);
        return 1;
    }
    life = (int64_t)cfg.token_lifetime;
    if (o.lifetime != NULL) { /* IRP.md 7.2: bounded like token_lifetime */
        char *end;
        errno = 0;
        long v = strtol(o.lifetime, &end, 10);
        if (errno != 0 || end == o.lifetime || *end != '\0' || v < IRPD_TOKEN_LIFETIME_MIN ||
            v > IRPD_TOKEN_LIFETIME_MAX)
            return usage_error(usage_token,
                               "--lifetime must be 60 to 2592000 seconds: ", o.lifetime);
        life = v;
    }
    if (irpd_token_new(tok) != 0 || irpd_token_hash(tok, IRPD_TOKEN_LEN, hash) != 0) {
        fprintf(stderr, "irpd: token: random source failed\n");
        return 1;
    }
    if ((st = open_store(o.dir, 0)) == NULL) return 1;
    rs = irpd_store_token_add(st, hash, o.user, now + life, "cli", now);
    if (rs != 0) {
        fprintf(stderr, "irpd: token: %s\n", irpd_store_errmsg(st));
        irpd_store_close(st);
        OPENSSL_cleanse(tok, sizeof(tok));
        return 1;
    }
    irpd_store_close(st);
    printf("%s\n", tok);
    OPENSSL_cleanse(tok, sizeof(tok));
    return 0;
}

static int cmd_passwd(int argc, char **argv)
{
    char pw[IRPD_PW_MAX + 2], enc[IRPD_PW_ENCODED_MAX + 1], e[300];
    int64_t now = (int64_t)time(NULL);
    irpd_config cfg;
    irpd_store *st;
    size_t n;
    opts o;
    int r = parse(argc, argv, usage_passwd, 1, &o), rc = 1;
    irp_status rs;

    if (r != 0) return r == 1 ? 0 : r;
    if (irpd_config_load(&cfg, o.dir, e, sizeof(e)) != 0) {
        fprintf(stderr, "irpd: %s\n", e);
        return 1;
    }
    if (!irpd_config_serves(&cfg, o.user)) {
        fprintf(stderr, "irpd: passwd: %s is not in a domain this registry serves\n", o.user);
        return 1;
    }
    if (fgets(pw, sizeof(pw), stdin) == NULL) {
        fprintf(stderr, "irpd: passwd: no password on standard input\n");
        return 1;
    }
    n = strcspn(pw, "\r\n");
    pw[n] = '\0';
    if (n == 0 || irpd_pw_hash(pw, n, enc, sizeof(enc)) != 0) {
        fprintf(stderr, "irpd: passwd: empty or unusable password\n");
        goto out;
    }
    if ((st = open_store(o.dir, 0)) == NULL) goto out;
    rs = irpd_store_user_add(st, o.user, "cli", now);
    if (rs == 0 || rs == IRP_CONFLICT)
        rs = irpd_store_user_set_password(st, o.user, (const uint8_t *)enc, strlen(enc), NULL, 0,
                                          "cli", now);
    if (rs != 0)
        fprintf(stderr, "irpd: passwd: %s\n", irpd_store_errmsg(st));
    else
        rc = 0;
    irpd_store_close(st);
out:
    OPENSSL_cleanse(pw, sizeof(pw));
    OPENSSL_cleanse(enc, sizeof(enc));
    return rc;
}

static int cmd_revoke(int argc, char **argv)
{
    static const char *const reasons[] = {
        "unspecified", "key-compromise",         "ca-compromise",      "affiliation-changed",
        "superseded",  "cessation-of-operation", "privilege-withdrawn"};
    int64_t now = (int64_t)time(NULL);
    irpd_revocation rev;
    irpd_store *st;
    irp_status rs;
    opts o;
    size_t i;
    int r = parse(argc, argv, usage_revoke, 1, &o), known = o.reason == NULL;

    if (r != 0) return r == 1 ? 0 : r;
    for (i = 0; !known && i < sizeof(reasons) / sizeof(reasons[0]); i++)
        known = strcmp(o.reason, reasons[i]) == 0;
    if (!known) return usage_error(usage_revoke, "unknown reason ", o.reason);
    if ((st = open_store(o.dir, 0)) == NULL) return 1;
    memset(&rev, 0, sizeof(rev));
    if (strchr(o.user, '@') != NULL)
        rs = irpd_store_user_revoke(st, o.user, o.reason, "cli", now, &rev);
    else if (strlen(o.user) == 64 && strspn(o.user, "0123456789abcdefABCDEF") == 64) {
        /* a fingerprint: serials have at most 40 digits (irpd_ca.h) */
        uint8_t fp[32];
        for (i = 0; i < 32; i++) {
            unsigned v = 0;
            if (sscanf(o.user + 2 * i, "%2x", &v) != 1)
                return usage_error(usage_revoke, "bad fingerprint ", o.user);
            fp[i] = (uint8_t)v;
        }
        rs = irpd_store_cert_revoke(st, NULL, fp, o.reason, "cli", now, &rev);
    } else
        rs = irpd_store_cert_revoke(st, o.user, NULL, o.reason, "cli", now, &rev);
    if (rs != 0) {
        fprintf(stderr, "irpd: revoke: %s\n", irpd_store_errmsg(st));
        irpd_store_close(st);
        return 1;
    }
    irpd_store_close(st);
    if (rev.n_certs == 0)
        printf("nothing to revoke: %s has no valid certificate left", o.user);
    else
        printf("revoked %zu certificate(s) of %s (last serial %s), ended %zu binding(s)",
               rev.n_certs, rev.user, rev.serial, rev.n_bindings);
    printf("%s\n", strchr(o.user, '@') != NULL ? "; account disabled" : "");
    return 0;
}

static int print_user(void *arg, const irpd_user *u)
{
    size_t *n = arg;

    printf("%s devices=%u certs=%u access=%s created=%lld\n", u->name, u->n_devices, u->n_certs,
           u->access == IRPD_ACCESS_LIST     ? "list"
           : u->access == IRPD_ACCESS_NOBODY ? "nobody"
                                             : "anyone",
           (long long)u->created);
    (*n)++;
    return 0;
}

/* Remembers the last name of a page, to ask for the next one. */
typedef struct users_page {
    size_t n;
    char last[IRPD_STORE_USER_MAX + 1];
} users_page;

static int page_user(void *arg, const irpd_user *u)
{
    users_page *p = arg;

    snprintf(p->last, sizeof(p->last), "%s", u->name);
    return print_user(&p->n, u);
}

static int cmd_users(int argc, char **argv)
{
    int64_t now = (int64_t)time(NULL);
    users_page p;
    irpd_store *st;
    irp_status rs = 0;
    opts o;
    int r = parse(argc, argv, usage_users, 0, &o);

    if (r != 0) return r == 1 ? 0 : r;
    if ((st = open_store(o.dir, 0)) == NULL) return 1;
    memset(&p, 0, sizeof(p));
    for (;;) {
        size_t before = p.n;
        char after[IRPD_STORE_USER_MAX + 1];
        snprintf(after, sizeof(after), "%s", p.last);
        rs = irpd_store_user_list(st, after[0] != '\0' ? after : NULL, 256, now, page_user, &p);
        if (rs != 0 || p.n - before < 256) break;
    }
    if (rs != 0) fprintf(stderr, "irpd: users: %s\n", irpd_store_errmsg(st));
    irpd_store_close(st);
    return rs == 0 ? 0 : 1;
}

static int cmd_migrate(int argc, char **argv)
{
    irpd_store *st;
    opts o;
    int r = parse(argc, argv, usage_migrate, 0, &o);

    if (r != 0) return r == 1 ? 0 : r;
    if ((st = open_store(o.dir, IRPD_STORE_CREATE)) == NULL) return 1;
    printf("store (%s): schema up to date\n", irpd_store_backend(st));
    irpd_store_close(st);
    return 0;
}

static int cmd_serve(int argc, char **argv)
{
    irpd_config cfg;
    char e[300];
    opts o;
    size_t i;
    int r = parse(argc, argv, usage_serve, 0, &o);

    if (r != 0) return r == 1 ? 0 : r;
    if (irpd_config_load(&cfg, o.dir, e, sizeof(e)) != 0) {
        fprintf(stderr, "irpd: %s\n", e);
        return 1;
    }
    /* the database files are checked when the database is SQLite's, in DIR */
    if (check_private(o.dir, cfg.store[0] == '\0') != 0) return 1;
    if (o.n_listen > 0) cfg.n_listen = 0;
    for (i = 0; i < o.n_listen; i++) {
        if (irpd_config_set(&cfg, "listen", o.listen[i], e, sizeof(e)) != 0)
            return usage_error(usage_serve, e, "");
    }
    if (o.allow_local) cfg.allow_local = 1;
    return irpd_server_run(o.dir, &cfg);
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : NULL;

    if (cmd == NULL) {
        fputs(usage_main, stderr);
        return 2;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
        (strcmp(cmd, "help") == 0 && argc == 2)) {
        fputs(usage_main, stdout);
        return 0;
    }
    if (strcmp(cmd, "help") == 0) {
        const char *t = argv[2];
        fputs(strcmp(t, "init") == 0      ? usage_init
              : strcmp(t, "token") == 0   ? usage_token
              : strcmp(t, "passwd") == 0  ? usage_passwd
              : strcmp(t, "revoke") == 0  ? usage_revoke
              : strcmp(t, "users") == 0   ? usage_users
              : strcmp(t, "migrate") == 0 ? usage_migrate
              : strcmp(t, "serve") == 0   ? usage_serve
                                          : usage_main,
              stdout);
        return 0;
    }
    if (strcmp(cmd, "init") == 0) return cmd_init(argc - 1, argv + 1);
    if (strcmp(cmd, "token") == 0) return cmd_token(argc - 1, argv + 1);
    if (strcmp(cmd, "passwd") == 0) return cmd_passwd(argc - 1, argv + 1);
    if (strcmp(cmd, "revoke") == 0) return cmd_revoke(argc - 1, argv + 1);
    if (strcmp(cmd, "users") == 0) return cmd_users(argc - 1, argv + 1);
    if (strcmp(cmd, "migrate") == 0) return cmd_migrate(argc - 1, argv + 1);
    if (strcmp(cmd, "serve") == 0) return cmd_serve(argc - 1, argv + 1);
    fprintf(stderr, "irpd: unknown command '%s'\n\n", cmd);
    fputs(usage_main, stderr);
    return 2;
}
