/*
 * irpd_config.h - the registry's configuration file, DIR/irpd.conf.
 *
 * A text file of `key = value` lines; `#` starts a comment line, blank
 * lines are ignored. Keys may repeat where a list is meant (listen, admin,
 * trusted_ca). Unknown keys are an error, so that a typo is not silently
 * ignored. Keys:
 *
 *   listen = ADDR:PORT      where to accept (IPv6 in brackets), repeatable;
 *                           none: [::]:4604
 *   store = URI             the registry's database: none (the default), SQLite in
 *                           DIR/irpd.db; postgresql://... or postgres://... (libpq),
 *                           PostgreSQL (docs/DEPLOYMENT.md); at most 511 bytes; the
 *                           file is then written 0600 (the URI may hold a password)
 *   allow_local = 0|1       accept loopback and link-local addresses in
 *                           register (docs/IRP.md 6.7; tests only)
 *   domain = DOMAIN         a served domain (docs/IRP.md 1.3, 6.0), repeatable; at
 *                           least one is required to serve
 *   admin = USER            an administrator (docs/IRP.md 7.1), repeatable; only a
 *                           certificate of the registry's own CA carries the rights
 *   trusted_ca = PATH DOMAIN...   PEM file of an external CA (no spaces in PATH)
 *                           and the domains it may vouch for (docs/IRP.md 7.6),
 *                           repeatable; at least one domain
 *   cert_lifetime = S       validity of issued user certificates (default
 *                           31536000 = 365 days, docs/IRP.md 7.5; below a day
 *                           for tests only)
 *   max_connections = N     connections served at once (default 10000)
 *   max_per_addr = N        of them from one IPv4 address or IPv6 /64 (default 64)
 *   max_per_user = N        of them authenticated as one user (default 16)
 *   req_rate_user, req_burst_user   requests per second and burst of one
 *                           certificate identity (default 500, 1000; 9.2)
 *   req_rate_anon, req_burst_anon   the same per source address without a
 *                           certificate (default 20, 100)
 *   reg_rate, reg_burst     register/unregister per (user, device) (1/s, 10)
 *   cert_per_hour           enroll and renew per user (10 per hour, burst 10)
 *   p12_per_hour            pkcs12-put per user (10 per hour, burst 10)
 *   idle_timeout = S        idle connection, seconds (default 120, docs/IRP.md 3.6)
 *   handshake_timeout = S   TCP accept to finished TLS handshake (default 10)
 *   token_lifetime = S      enrolment tokens (default 86400)
 *   min_lifetime = S        lower clamp of a registration's granted lifetime
 *                           (default 60 = docs/IRP.md 6.7 lifetime-min; 1..60;
 *                           below 60 for tests only, e.g. expiry tests)
 *   login_fail_user = N     failed logins per user ID per window before 429
 *                           (default 5, docs/IRP.md 9.1)
 *   login_fail_addr = N     failed logins and failed tokens per source
 *                           address (IPv6 by /64) per window (default 20)
 *   login_fail_window = S   the window of both, seconds (default 900)
 *   frame_timeout = S       a frame, first byte to last (default 30, 3.6)
 *   write_timeout = S       output queued and unsent (default 30, 3.6)
 *
 * The only file I/O of this module is irpd_config_load / irpd_config_write.
 */
#ifndef IRPD_CONFIG_H
#define IRPD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "sixchat/error.h"

#define IRPD_CONFIG_FILE "irpd.conf"
#define IRPD_DB_FILE "irpd.db"
#define IRPD_CONFIG_MAX_LISTEN 8
#define IRPD_CONFIG_MAX_ADMINS 16
#define IRPD_CONFIG_MAX_TRUSTED 8
#define IRPD_CONFIG_MAX_DOMAINS 16
#define IRPD_CONFIG_DOMAIN_MAX 253 /* a DNS name in text form */
#define IRPD_CONFIG_STR_MAX 256
#define IRPD_CONFIG_STORE_MAX 512 /* the store URI, with its NUL */
/* Bounds of an enrolment token's lifetime, seconds: token_lifetime and
 * `irpd token --lifetime` (docs/IRP.md 7.2). */
#define IRPD_TOKEN_LIFETIME_MIN 60
#define IRPD_TOKEN_LIFETIME_MAX (30 * 86400)

typedef struct irpd_config {
    char listen[IRPD_CONFIG_MAX_LISTEN][IRPD_CONFIG_STR_MAX];
    size_t n_listen;
    int allow_local;
    char store[IRPD_CONFIG_STORE_MAX]; /* "" for SQLite in DIR/irpd.db */
    char admins[IRPD_CONFIG_MAX_ADMINS][IRPD_CONFIG_STR_MAX];
    size_t n_admins;
    char domains[IRPD_CONFIG_MAX_DOMAINS][IRPD_CONFIG_DOMAIN_MAX + 1]; /* served, lowercase */
    size_t n_domains;
    char trusted_ca[IRPD_CONFIG_MAX_TRUSTED][IRPD_CONFIG_STR_MAX]; /* the PEM file */
    /* the domains each trusted_ca may vouch for, lowercase, separated by single spaces */
    char trusted_domains[IRPD_CONFIG_MAX_TRUSTED][IRPD_CONFIG_STR_MAX];
    size_t n_trusted;
    uint32_t cert_lifetime; /* seconds */
    uint32_t max_connections;
    uint32_t max_per_addr;
    uint32_t max_per_user;
    uint32_t req_rate_user, req_burst_user, req_rate_anon, req_burst_anon;
    uint32_t reg_rate, reg_burst, cert_per_hour, p12_per_hour;
    uint32_t idle_timeout;      /* seconds */
    uint32_t handshake_timeout; /* seconds */
    uint32_t token_lifetime;    /* seconds */
    uint32_t min_lifetime;      /* seconds; 60 unless a test lowers it */
    uint32_t login_fail_user;   /* failures per user ID per window */
    uint32_t login_fail_addr;   /* failures per source address per window */
    uint32_t login_fail_window; /* seconds */
    uint32_t frame_timeout;     /* seconds */
    uint32_t write_timeout;     /* seconds */
} irpd_config;

/* The defaults (no listen entry: the server then uses [::]:4604). */
void irpd_config_defaults(irpd_config *c);

/*
 * Applies one `key = value` line (whitespace around both trimmed). Returns
 * 0, or -1 with a reason in err (cap bytes) for an unknown key, a bad value
 * or a list that is full.
 */
SC_MUST_CHECK int irpd_config_set(irpd_config *c, const char *key, const char *value, char *err,
                                  size_t cap);

/* Parses the text of a configuration file on top of what c holds. 0 or -1 (err names the line). */
SC_MUST_CHECK int irpd_config_parse(irpd_config *c, const char *text, size_t len, char *err,
                                    size_t cap);

/* Reads DIR/irpd.conf into c (defaults first). 0 or -1 with err. */
SC_MUST_CHECK int irpd_config_load(irpd_config *c, const char *dir, char *err, size_t cap);

/* Creates DIR/irpd.conf (O_EXCL, mode 0644) describing c. 0 or -1 with err. */
SC_MUST_CHECK int irpd_config_write(const irpd_config *c, const char *dir, char *err, size_t cap);

/* 1 if user is listed as admin (ASCII case-insensitive), else 0. */
int irpd_config_is_admin(const irpd_config *c, const char *user);

/*
 * 1 if the domain of user (the part after its '@') is one of the served
 * domains (ASCII case-insensitive, exactly: a subdomain is another domain,
 * docs/IRP.md 2.1), else 0.
 */
int irpd_config_serves(const irpd_config *c, const char *user);

/* 1 if s is a DNS domain name (letters, digits, inner hyphens; dotted labels of 1..63). */
int irpd_config_valid_domain(const char *s);

/* 1 if the domain of user is one of the space-separated list (case-insensitive). */
int irpd_config_domain_in(const char *list, const char *user);

/*
 * Splits "ADDR:PORT" / "[V6]:PORT" into host (cap bytes) and port. 0 or -1.
 */
SC_MUST_CHECK int irpd_config_split_listen(const char *s, char *host, size_t cap, uint16_t *port);

#endif
