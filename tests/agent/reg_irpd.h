/*
 * reg_irpd.h - a real irpd for the registry-side tests of the agent
 * (test_agent_enroll, test_agent_reg): a registry directory made by
 * `irpd init` in a temporary directory, `irpd serve --allow-local` on
 * 127.0.0.1 started as a child whose ready line is read from a pipe (no
 * sleeps), tokens and passwords from the irpd command line, users enrolled
 * through agent_enroll. IRPD names the binary (ctest sets it).
 */
#ifndef REG_IRPD_H
#define REG_IRPD_H

#include <stdint.h>
#include <sys/types.h>

typedef struct reg_irpd {
    char dir[256];  /* temporary directory: files of the test */
    char rdir[300]; /* the registry's directory */
    char bin[1024];
    char ca_fp[65];
    char ca_path[320];
    pid_t pid;
    int ready_fd;
    uint16_t port;
} reg_irpd;

/* Makes the directory and the registry. 0, or -1 (message printed). */
int reg_irpd_init(reg_irpd *t);
/* Starts serving on 127.0.0.1:port (0: any; t->port is set). 0 or -1. */
int reg_irpd_start(reg_irpd *t, uint16_t port);
/* SIGTERM and wait. Returns the exit status (0 expected). */
int reg_irpd_stop(reg_irpd *t);
/* Stops (if running) and removes the directory. */
void reg_irpd_cleanup(reg_irpd *t);
/* A one-time enrolment token for user into out[64]. 0 or -1. */
int reg_irpd_token(reg_irpd *t, const char *user, char out[64]);
/* Sets user's password. 0 or -1. */
int reg_irpd_passwd(reg_irpd *t, const char *user, const char *password);
/* t->dir/NAME.EXT into buf (cap bytes); returns buf. */
char *reg_irpd_path(const reg_irpd *t, const char *name, const char *ext, char *buf, size_t cap);
/*
 * Enrols user with a fresh token and a P-256 key: leaves NAME.key,
 * NAME.pem (chain) and NAME.ca in t->dir. 0 or -1.
 */
int reg_irpd_enroll(reg_irpd *t, const char *name, const char *user);
/* Reads a file into a malloc'ed NUL-terminated string (NULL on failure). */
char *reg_irpd_slurp(const char *path);

#endif
