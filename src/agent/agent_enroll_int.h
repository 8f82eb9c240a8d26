/*
 * agent_enroll_int.h - what the agent_enroll* files share: writing files
 * atomically with a mode, reading small files, and one short IRP exchange
 * on a private loop (agent_enroll_irp.c).
 */
#ifndef AGENT_ENROLL_INT_H
#define AGENT_ENROLL_INT_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/x509.h>

#include "agent_enroll.h"
#include "irp_msg.h"

/* Formats err like snprintf when err is not NULL; returns rc. */
int agent__enroll_err(char *err, size_t errcap, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Writes data to path through a temporary file created with mode (0600 for
 * keys: O_CREAT|O_EXCL, fchmod, so it never has wider rights), fsynced and
 * then linked (no_replace: SC_ERR_IO when path exists) or renamed into
 * place. 0 or SC_ERR_IO with err set.
 */
int agent__enroll_write(const char *path, const void *data, size_t len, unsigned mode,
                        int no_replace, char *err, size_t errcap);

/* Reads a whole file (at most 1 MiB), NUL-terminated; *len without the NUL. NULL on failure. */
char *agent__enroll_read(const char *path, size_t *len);

/* Loads every certificate of a PEM file or text. NULL (err set) when none. */
STACK_OF(X509) * agent__enroll_pem_certs(const char *pem, size_t len);

/* Writes certs[from..] as PEM text into a malloc'ed string (*len). NULL on failure. */
char *agent__enroll_certs_pem(STACK_OF(X509) * certs, int from, size_t *len);

/* Lower-case hex SHA-256 of x's DER into out[65]. */
void agent__enroll_fp_hex(X509 *x, char out[65]);

/* 1 when hex (colons and upper case accepted) is the SHA-256 of x. */
int agent__enroll_fp_matches(X509 *x, const char *hex);

/*
 * One exchange with the registry on a private loop: connects to t
 * (trusting t->ca_fp and/or the PEM of t->ca_path) with the optional
 * client certificate, sends the n requests pipelined and hands each answer
 * to on_resp (index, answer) in order. Stops at the first answer that is
 * not 2xx (whose status it returns, with its msg in err) or the first
 * non-zero return of on_resp (returned). 0 when every answer was 2xx.
 */
typedef int (*agent__enroll_resp_fn)(void *ctx, size_t i, const irp_resp *r);
int agent__enroll_exchange(const agent_irp_target *t, const char *cert_pem, const char *key_pem,
                           const irp_req *reqs, size_t n, agent__enroll_resp_fn on_resp, void *ctx,
                           char *err, size_t errcap);
/* q <- a password login of user (docs/IRP.md 6.4), the first request of an exchange that needs one.
 */
void agent__enroll_login(irp_req *q, const char *user, const char *password);

/*
 * The PKCS#12 backup of cert_path and key_path under passphrase
 * (agent_enroll_p12.c; docs/IRP.md 6.16): *der (OPENSSL_free) of *der_len
 * bytes. For agent_enroll_backup and the tests.
 */
int agent__enroll_p12_pack(const char *cert_path, const char *key_path, const char *passphrase,
                           unsigned char **der, size_t *der_len, char *err, size_t errcap);

#endif
