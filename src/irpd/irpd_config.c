/*
 * irpd_config.c - DIR/irpd.conf (irpd_config.h).
 */
#include "irpd_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

void irpd_config_defaults(irpd_config *c)
{
    memset(c, 0, sizeof(*c));
    c->max_connections = 10000;
    c->max_per_addr = 64; /* docs/IRP.md 9.3 */
    c->max_per_user = 16;
    c->req_rate_user = 500; /* docs/IRP.md 9.2 */
    c->req_burst_user = 1000;
    c->req_rate_anon = 20;
    c->req_burst_anon = 100;
    c->reg_rate = 1;
    c->reg_burst = 10;
    c->cert_per_hour = 10;
    c->p12_per_hour = 10;
    c->idle_timeout = 120; /* docs/IRP.md 3.6 */
    c->handshake_timeout = 10;
    c->token_lifetime = 86400;
    c->min_lifetime = 60;
    c->login_fail_user = 5;
    c->login_fail_addr = 20;
    c->login_fail_window = 900;
    c->frame_timeout = 30;
    c->write_timeout = 30;
    c->cert_lifetime = 365 * 86400; /* docs/IRP.md 7.5 */
}

static int parse_u32(const char *v, uint32_t min, uint32_t max, uint32_t *out)
{
    char *end = NULL;
    unsigned long long x;

    if (*v < '0' || *v > '9') return -1;
    errno = 0;
    x = strtoull(v, &end, 10);
    if (errno != 0 || *end != '\0' || x < min || x > max) return -1;
    *out = (uint32_t)x;
    return 0;
}

static int add_str(char (*list)[IRPD_CONFIG_STR_MAX], size_t *n, size_t max, const char *v)
{
    if (*n >= max || strlen(v) >= IRPD_CONFIG_STR_MAX || *v == '\0') return -1;
    memcpy(list[*n], v, strlen(v) + 1);
    (*n)++;
    return 0;
}

int irpd_config_valid_domain(const char *s)
{
    size_t n = strlen(s), label = 0, i;

    if (n == 0 || n > IRPD_CONFIG_DOMAIN_MAX) return 0;
    for (i = 0; i <= n; i++) {
        char ch = s[i];
        if (ch == '.' || ch == '\0') {
            if (label == 0 || label > 63 || s[i - 1] == '-') return 0;
            label = 0;
        } else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                   (ch >= '0' && ch <= '9') || (ch == '-' && label > 0)) {
            label++;
        } else {
            return 0;
        }
    }
    return 1;
}

/* Lowercases a domain into out (cap bytes); 0, or -1 when it is not a domain name. */
static int canon_domain(const char *v, char *out, size_t cap)
{
    size_t i, n = strlen(v);

    if (!irpd_config_valid_domain(v) || n >= cap) return -1;
    for (i = 0; i <= n; i++)
        out[i] = (v[i] >= 'A' && v[i] <= 'Z') ? (char)(v[i] - 'A' + 'a') : v[i];
    return 0;
}

static int add_domain(irpd_config *c, const char *v)
{
    char d[IRPD_CONFIG_DOMAIN_MAX + 1];
    size_t i;

    if (canon_domain(v, d, sizeof(d)) != 0) return -1;
    for (i = 0; i < c->n_domains; i++)
        if (strcmp(c->domains[i], d) == 0) return 0; /* listed twice: once is enough */
    if (c->n_domains >= IRPD_CONFIG_MAX_DOMAINS) return -1;
    memcpy(c->domains[c->n_domains++], d, strlen(d) + 1);
    return 0;
}

/* "PATH DOMAIN [DOMAIN...]": the file, then the domains it may vouch for (7.6). */
static int add_trusted(irpd_config *c, const char *v)
{
    char list[IRPD_CONFIG_STR_MAX] = "", d[IRPD_CONFIG_DOMAIN_MAX + 1], tok[IRPD_CONFIG_STR_MAX];
    const char *p = strpbrk(v, " \t");
    size_t plen, used = 0;

    if (p == NULL || c->n_trusted >= IRPD_CONFIG_MAX_TRUSTED) return -1;
    plen = (size_t)(p - v);
    if (plen == 0 || plen >= IRPD_CONFIG_STR_MAX) return -1;
    while (*p != '\0') {
        size_t n;
        p += strspn(p, " \t");
        n = strcspn(p, " \t");
        if (n == 0) break;
        if (n >= sizeof(tok)) return -1;
        memcpy(tok, p, n);
        tok[n] = '\0';
        p += n;
        if (canon_domain(tok, d, sizeof(d)) != 0) return -1;
        if (used + strlen(d) + 2 > sizeof(list)) return -1;
        used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", used > 0 ? " " : "", d);
    }
    if (used == 0) return -1;
    memcpy(c->trusted_ca[c->n_trusted], v, plen);
    c->trusted_ca[c->n_trusted][plen] = '\0';
    memcpy(c->trusted_domains[c->n_trusted], list, used + 1);
    c->n_trusted++;
    return 0;
}

int irpd_config_split_listen(const char *s, char *host, size_t cap, uint16_t *port)
{
    const char *colon;
    size_t hlen;
    uint32_t p;

    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':') return -1;
        hlen = (size_t)(close - s - 1);
        s++;
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL) return -1;
        hlen = (size_t)(colon - s);
        if (memchr(s, ':', hlen) != NULL) return -1; /* IPv6 needs brackets */
    }
    if (hlen == 0 || hlen >= cap) return -1;
    if (parse_u32(colon + 1, 0, 65535, &p) != 0) return -1;
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    *port = (uint16_t)p;
    return 0;
}

int irpd_config_set(irpd_config *c, const char *key, const char *value, char *err, size_t cap)
{
    int rc = 0;

    if (strcmp(key, "listen") == 0) {
        char host[IRPD_CONFIG_STR_MAX];
        uint16_t port;
        rc = irpd_config_split_listen(value, host, sizeof(host), &port) != 0
                 ? -1
                 : add_str(c->listen, &c->n_listen, IRPD_CONFIG_MAX_LISTEN, value);
    } else if (strcmp(key, "allow_local") == 0) {
        uint32_t v;
        rc = parse_u32(value, 0, 1, &v);
        if (rc == 0) c->allow_local = (int)v;
    } else if (strcmp(key, "admin") == 0) {
        rc = add_str(c->admins, &c->n_admins, IRPD_CONFIG_MAX_ADMINS, value);
    } else if (strcmp(key, "domain") == 0) {
        rc = add_domain(c, value);
    } else if (strcmp(key, "trusted_ca") == 0) {
        rc = add_trusted(c, value);
        if (rc != 0) {
            snprintf(err, cap,
                     "bad value for trusted_ca: '%s' (PATH then the domains it may vouch for)",
                     value);
            return -1;
        }
    } else if (strcmp(key, "cert_lifetime") == 0) {
        rc = parse_u32(value, 1, 3650 * 86400, &c->cert_lifetime);
    } else if (strcmp(key, "max_connections") == 0) {
        rc = parse_u32(value, 1, 1000000, &c->max_connections);
    } else if (strcmp(key, "max_per_addr") == 0) {
        rc = parse_u32(value, 1, 1000000, &c->max_per_addr);
    } else if (strcmp(key, "max_per_user") == 0) {
        rc = parse_u32(value, 1, 1000000, &c->max_per_user);
    } else if (strcmp(key, "req_rate_user") == 0) {
        rc = parse_u32(value, 1, 100000000, &c->req_rate_user);
    } else if (strcmp(key, "req_burst_user") == 0) {
        rc = parse_u32(value, 1, 100000000, &c->req_burst_user);
    } else if (strcmp(key, "req_rate_anon") == 0) {
        rc = parse_u32(value, 1, 100000000, &c->req_rate_anon);
    } else if (strcmp(key, "req_burst_anon") == 0) {
        rc = parse_u32(value, 1, 100000000, &c->req_burst_anon);
    } else if (strcmp(key, "reg_rate") == 0) {
        rc = parse_u32(value, 1, 100000000, &c->reg_rate);
    } else if (strcmp(key, "reg_burst") == 0) {
        rc = parse_u32(value, 1, 100000000, &c->reg_burst);
    } else if (strcmp(key, "cert_per_hour") == 0) {
        rc = parse_u32(value, 1, 100000000, &c->cert_per_hour);
    } else if (strcmp(key, "p12_per_hour") == 0) {
        rc = parse_u32(value, 1, 100000000, &c->p12_per_hour);
    } else if (strcmp(key, "idle_timeout") == 0) {
        rc = parse_u32(value, 1, 86400, &c->idle_timeout);
    } else if (strcmp(key, "handshake_timeout") == 0) {
        rc = parse_u32(value, 1, 3600, &c->handshake_timeout);
    } else if (strcmp(key, "token_lifetime") == 0) {
        rc = parse_u32(value, IRPD_TOKEN_LIFETIME_MIN, IRPD_TOKEN_LIFETIME_MAX, &c->token_lifetime);
    } else if (strcmp(key, "min_lifetime") == 0) {
        rc = parse_u32(value, 1, 60, &c->min_lifetime);
    } else if (strcmp(key, "login_fail_user") == 0) {
        rc = parse_u32(value, 1, 1000000, &c->login_fail_user);
    } else if (strcmp(key, "login_fail_addr") == 0) {
        rc = parse_u32(value, 1, 1000000, &c->login_fail_addr);
    } else if (strcmp(key, "login_fail_window") == 0) {
        rc = parse_u32(value, 1, 86400, &c->login_fail_window);
    } else if (strcmp(key, "frame_timeout") == 0) {
        rc = parse_u32(value, 1, 3600, &c->frame_timeout);
    } else if (strcmp(key, "write_timeout") == 0) {
        rc = parse_u32(value, 1, 3600, &c->write_timeout);
    } else if (strcmp(key, "store") == 0) {
        /* the URI may carry a password: never repeated in a message */
        size_t n = strlen(value);
        if (n >= sizeof c->store ||
            (strncmp(value, "postgresql://", 13) != 0 && strncmp(value, "postgres://", 11) != 0)) {
            snprintf(err, cap, "bad value for store: not a postgresql:// URI of at most %zu bytes",
                     sizeof c->store - 1);
            return -1;
        }
        memcpy(c->store, value, n + 1);
    } else {
        snprintf(err, cap, "unknown key '%s'", key);
        return -1;
    }
    if (rc != 0) snprintf(err, cap, "bad value for %s: '%s'", key, value);
    return rc;
}

static char *trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        e--;
    *e = '\0';
    return s;
}

int irpd_config_parse(irpd_config *c, const char *text, size_t len, char *err, size_t cap)
{
    size_t off = 0;
    unsigned lineno = 0;

    while (off < len) {
        char line[1024];
        const char *nl = memchr(text + off, '\n', len - off);
        size_t n = nl != NULL ? (size_t)(nl - (text + off)) : len - off;
        char *s, *eq;

        lineno++;
        if (n >= sizeof(line)) {
            snprintf(err, cap, "line %u: too long", lineno);
            return -1;
        }
        memcpy(line, text + off, n);
        line[n] = '\0';
        off += n + (nl != NULL);
        s = trim(line);
        if (*s == '\0' || *s == '#') continue;
        eq = strchr(s, '=');
        if (eq == NULL) {
            snprintf(err, cap, "line %u: expected key = value", lineno);
            return -1;
        }
        *eq = '\0';
        {
            char e2[200];
            if (irpd_config_set(c, trim(s), trim(eq + 1), e2, sizeof(e2)) != 0) {
                snprintf(err, cap, "line %u: %s", lineno, e2);
                return -1;
            }
        }
    }
    return 0;
}

int irpd_config_load(irpd_config *c, const char *dir, char *err, size_t cap)
{
    char path[4096];
    char text[65536];
    size_t n;
    FILE *f;

    irpd_config_defaults(c);
    snprintf(path, sizeof(path), "%s/%s", dir, IRPD_CONFIG_FILE);
    f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, cap, "%s: %s", path, strerror(errno));
        return -1;
    }
    n = fread(text, 1, sizeof(text), f);
    if (ferror(f) || n == sizeof(text)) {
        fclose(f);
        snprintf(err, cap, "%s: unreadable or too large", path);
        return -1;
    }
    fclose(f);
    if (irpd_config_parse(c, text, n, err, cap) != 0) {
        char e2[300];
        snprintf(e2, sizeof(e2), "%s", err);
        snprintf(err, cap, "%s: %s", path, e2);
        return -1;
    }
    return 0;
}

int irpd_config_write(const irpd_config *c, const char *dir, char *err, size_t cap)
{
    char path[4096];
    FILE *f;
    int fd;
    size_t i;

    snprintf(path, sizeof(path), "%s/%s", dir, IRPD_CONFIG_FILE);
    /* a store URI may carry the database's password: then only irpd's user reads the file */
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, c->store[0] != '\0' ? 0600 : 0644);
    if (fd < 0) {
        snprintf(err, cap, "%s: %s", path, strerror(errno));
        return -1;
    }
    f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        snprintf(err, cap, "%s: %s", path, strerror(errno));
        return -1;
    }
    fprintf(f, "# irpd configuration (key = value; see irpd --help)\n");
    if (c->n_listen == 0) fprintf(f, "listen = [::]:4604\n");
    for (i = 0; i < c->n_listen; i++)
        fprintf(f, "listen = %s\n", c->listen[i]);
    fprintf(f, "allow_local = %d\n", c->allow_local);
    if (c->store[0] != '\0') fprintf(f, "store = %s\n", c->store);
    for (i = 0; i < c->n_domains; i++)
        fprintf(f, "domain = %s\n", c->domains[i]);
    for (i = 0; i < c->n_admins; i++)
        fprintf(f, "admin = %s\n", c->admins[i]);
    for (i = 0; i < c->n_trusted; i++)
        fprintf(f, "trusted_ca = %s %s\n", c->trusted_ca[i], c->trusted_domains[i]);
    fprintf(f, "max_connections = %u\n", (unsigned)c->max_connections);
    fprintf(f, "max_per_addr = %u\n", (unsigned)c->max_per_addr);
    fprintf(f, "max_per_user = %u\n", (unsigned)c->max_per_user);
    fprintf(f, "idle_timeout = %u\n", (unsigned)c->idle_timeout);
    fprintf(f, "handshake_timeout = %u\n", (unsigned)c->handshake_timeout);
    fprintf(f, "token_lifetime = %u\n", (unsigned)c->token_lifetime);
    if (fflush(f) != 0 || fsync(fd) != 0) {
        fclose(f);
        unlink(path);
        snprintf(err, cap, "%s: write failed", path);
        return -1;
    }
    fclose(f);
    return 0;
}

int irpd_config_is_admin(const irpd_config *c, const char *user)
{
    size_t i;

    for (i = 0; i < c->n_admins; i++)
        if (strcasecmp(c->admins[i], user) == 0) return 1;
    return 0;
}

/* The domain of a user ID: after its (only) '@'; NULL when there is none. */
static const char *domain_of(const char *user)
{
    const char *at = user != NULL ? strrchr(user, '@') : NULL;

    return at != NULL ? at + 1 : NULL;
}

int irpd_config_serves(const irpd_config *c, const char *user)
{
    const char *d = domain_of(user);
    size_t i;

    if (d == NULL) return 0;
    for (i = 0; i < c->n_domains; i++)
        if (strcasecmp(c->domains[i], d) == 0) return 1;
    return 0;
}

int irpd_config_domain_in(const char *list, const char *user)
{
    const char *d = domain_of(user), *p = list;
    size_t dl;

    if (d == NULL || list == NULL) return 0;
    dl = strlen(d);
    while (*p != '\0') {
        size_t n = strcspn(p, " ");
        if (n == dl && strncasecmp(p, d, n) == 0) return 1;
        p += n;
        p += strspn(p, " ");
    }
    return 0;
}
