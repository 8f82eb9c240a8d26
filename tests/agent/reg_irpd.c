/*
 * reg_irpd.c - a real irpd for the agent's registry-side tests (reg_irpd.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "agent_enroll.h"
#include "reg_irpd.h"

char *reg_irpd_path(const reg_irpd *t, const char *name, const char *ext, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s.%s", t->dir, name, ext);
    return buf;
}

char *reg_irpd_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *b;
    long n;
    if (f == NULL) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = malloc((size_t)n + 1);
    if (b != NULL && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b != NULL) b[n] = '\0';
    fclose(f);
    return b;
}

static int run(const char *cmd)
{
    int rc = system(cmd);
    if (rc != 0) fprintf(stderr, "reg_irpd: failed (%d): %s\n", rc, cmd);
    return rc == 0 ? 0 : -1;
}

int reg_irpd_init(reg_irpd *t)
{
    const char *bin = getenv("IRPD");
    char cmd[2048];
    FILE *f;
    X509 *ca;
    unsigned char d[32];
    unsigned int n = 0, i;

    memset(t, 0, sizeof(*t));
    t->ready_fd = -1;
    if (bin == NULL) {
        fprintf(stderr, "reg_irpd: set IRPD to the irpd binary\n");
        return -1;
    }
    snprintf(t->bin, sizeof(t->bin), "%s", bin);
    snprintf(t->dir, sizeof(t->dir), "/tmp/agent_reg_XXXXXX");
    if (mkdtemp(t->dir) == NULL) return -1;
    snprintf(t->rdir, sizeof(t->rdir), "%s/r", t->dir);
    snprintf(cmd, sizeof(cmd),
             "'%s' init --dir '%s' --name 127.0.0.1 --domain example.org --ip 127.0.0.1 "
             ">/dev/null",
             t->bin, t->rdir);
    if (run(cmd) != 0) return -1;
    snprintf(t->ca_path, sizeof(t->ca_path), "%s/ca.pem", t->rdir);
    f = fopen(t->ca_path, "r");
    ca = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f != NULL) fclose(f);
    if (ca == NULL) return -1;
    X509_digest(ca, EVP_sha256(), d, &n);
    X509_free(ca);
    for (i = 0; i < 32; i++)
        snprintf(t->ca_fp + 2 * i, 3, "%02x", d[i]);
    return 0;
}

int reg_irpd_start(reg_irpd *t, uint16_t port)
{
    int p[2];
    char listen[64], log[400], line[256];
    pid_t pid;
    ssize_t k = 0;
    const char *colon;

    snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
    snprintf(log, sizeof(log), "%s/irpd.log", t->dir);
    if (pipe(p) != 0) return -1;
    pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int lf = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        dup2(p[1], 1);
        if (lf >= 0) dup2(lf, 2);
        close(p[0]);
        close(p[1]);
        execl(t->bin, t->bin, "serve", "--dir", t->rdir, "--listen", listen, "--allow-local",
              (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    t->pid = pid;
    t->ready_fd = p[0];
    /* The ready line, byte by byte so that nothing after it is consumed. */
    while (k < (ssize_t)sizeof(line) - 1) {
        ssize_t r = read(p[0], line + k, 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        if (line[k] == '\n') break;
        k++;
    }
    line[k] = '\0';
    if (strncmp(line, "irpd ready on 127.0.0.1:", 24) != 0 ||
        (colon = strrchr(line, ':')) == NULL) {
        fprintf(stderr, "reg_irpd: no ready line (got '%s'); log in %s\n", line, log);
        reg_irpd_stop(t);
        return -1;
    }
    t->port = (uint16_t)atoi(colon + 1);
    return 0;
}

int reg_irpd_stop(reg_irpd *t)
{
    int st = 0;
    if (t->pid <= 0) return 0;
    kill(t->pid, SIGTERM);
    while (waitpid(t->pid, &st, 0) < 0 && errno == EINTR) {
    }
    t->pid = 0;
    if (t->ready_fd >= 0) close(t->ready_fd);
    t->ready_fd = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void reg_irpd_cleanup(reg_irpd *t)
{
    char cmd[400];
    reg_irpd_stop(t);
    if (t->dir[0] == '\0') return;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
    (void)run(cmd);
}

int reg_irpd_token(reg_irpd *t, const char *user, char out[64])
{
    char cmd[2048];
    FILE *p;
    size_t n;
    snprintf(cmd, sizeof(cmd), "'%s' token --dir '%s' '%s'", t->bin, t->rdir, user);
    p = popen(cmd, "r");
    if (p == NULL) return -1;
    if (fgets(out, 64, p) == NULL) out[0] = '\0';
    pclose(p);
    n = strlen(out);
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        out[--n] = '\0';
    return n == 22 ? 0 : -1;
}

int reg_irpd_passwd(reg_irpd *t, const char *user, const char *password)
{
    char cmd[2048];
    FILE *p;
    snprintf(cmd, sizeof(cmd), "'%s' passwd --dir '%s' '%s' >/dev/null", t->bin, t->rdir, user);
    p = popen(cmd, "w");
    if (p == NULL) return -1;
    fprintf(p, "%s\n", password);
    return pclose(p) == 0 ? 0 : -1;
}

int reg_irpd_enroll(reg_irpd *t, const char *name, const char *user)
{
    char tok[64], key[400], csr[400], pem[400], ca[400], err[512];
    agent_irp_target tg;
    int rc;

    if (reg_irpd_token(t, user, tok) != 0) return -1;
    reg_irpd_path(t, name, "key", key, sizeof(key));
    reg_irpd_path(t, name, "csr", csr, sizeof(csr));
    reg_irpd_path(t, name, "pem", pem, sizeof(pem));
    reg_irpd_path(t, name, "ca", ca, sizeof(ca));
    rc = agent_enroll_make_key(user, AGENT_KEY_P256, key, csr, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "reg_irpd: key for %s: %s\n", user, err);
        return -1;
    }
    memset(&tg, 0, sizeof(tg));
    tg.host = "127.0.0.1";
    tg.port = t->port;
    tg.ca_fp = t->ca_fp;
    rc = agent_enroll_run(&tg, tok, NULL, NULL, key, csr, pem, ca, NULL, err, sizeof(err));
    if (rc != 0) fprintf(stderr, "reg_irpd: enroll %s: %d %s\n", user, rc, err);
    return rc == 0 ? 0 : -1;
}
