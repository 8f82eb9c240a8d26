/*
 * agent_enroll.h - one-shot helpers for the sixchat command line (issue 8:
 * init, enroll, backup, restore). Each runs its own short libuv loop and
 * returns when done: blocking from the caller's view, so never call them on
 * the agent's loop.
 *
 * Files. Private keys are written PEM (PKCS#8, unencrypted) with mode 0600
 * from the moment they exist (a temporary file opened O_CREAT|O_EXCL with
 * mode 0600 and fchmod'ed, written, fsynced, renamed into place), never
 * world-readable even briefly. Certificates are written 0644 the same way.
 *
 * Errors. Every function returns 0 or a negative sc_err (sixchat/error.h:
 * SC_ERR_ARG, SC_ERR_IO, SC_ERR_PARSE, SC_ERR_CRYPTO, SC_ERR_NOMEM) or a
 * positive status: the registry's (irp_status.h, e.g. 401 wrong password,
 * 403 unknown token, 410 token used, 404 no backup) or the IRP client's
 * (irp_client.h: IRP_CLIENT_CONNECT, _TLS, _TIMEOUT ...). err (errcap
 * bytes, may be NULL) then receives a sentence a person understands.
 * Passwords, passphrases and tokens never appear in it.
 */
#ifndef AGENT_ENROLL_H
#define AGENT_ENROLL_H

#include <stddef.h>
#include <stdint.h>

typedef enum agent_key_type {
    AGENT_KEY_P256 = 0, /* ECDSA P-256, the default */
    AGENT_KEY_ED25519,
    AGENT_KEY_RSA2048
} agent_key_type;

/* "p256" (or "ec", "P-256"), "ed25519", "rsa2048" -> *t. 0 or SC_ERR_ARG. */
int agent_key_type_parse(const char *s, agent_key_type *t);

/*
 * Makes a new private key of type and a CSR for user (subject CN = user,
 * subjectAltName rfc822Name = user: what docs/IRP.md 7.5 issues; the
 * registry takes the user from the token or login, 6.5). Writes the key
 * to key_path (0600, refusing to replace an existing file: SC_ERR_IO with
 * "... exists") and the CSR, PEM, to csr_path (replaced if present).
 */
int agent_enroll_make_key(const char *user, agent_key_type type, const char *key_path,
                          const char *csr_path, char *err, size_t errcap);

/* Where the registry is and how it is trusted (docs/IRP.md 2.1, 3.2). */
typedef struct agent_irp_target {
    const char *host;    /* name or IP literal */
    uint16_t port;       /* 0 = 4604 */
    const char *ca_fp;   /* pinned SHA-256 of the registry CA certificate (hex), or NULL */
    const char *ca_path; /* PEM file of the CA certificate(s), or NULL; one of the two */
    unsigned timeout_ms; /* whole operation; 0 = 30000 */
} agent_irp_target;

/*
 * Enrols (6.5): with token (one-time, 22 characters), or else with user
 * and password (a login, 6.4, then enroll). Sends the CSR of csr_path,
 * checks that the issued certificate is for the key of key_path, names
 * user (when given) and verifies against the CA chain of the answer, one of
 * which has the pinned fingerprint. Writes the chain (leaf first, PEM) to
 * cert_path and the CA certificates (PEM) to ca_out (may be NULL). user_out
 * (IRP_USER_MAX + 1 bytes, may be NULL) receives the user ID the
 * certificate names.
 */
int agent_enroll_run(const agent_irp_target *t, const char *token, const char *user,
                     const char *password, const char *key_path, const char *csr_path,
                     const char *cert_path, const char *ca_out, char *user_out, char *err,
                     size_t errcap);

/*
 * Fetches the registry's CA chain (ca-certs, 6.2) over a connection
 * authenticated by the pin and writes it (PEM) to ca_out. For init with
 * only a fingerprint, and restore.
 */
int agent_enroll_fetch_ca(const agent_irp_target *t, const char *ca_out, char *err, size_t errcap);

/*
 * Checks an identity from any PKI (init --cert --key --ca): the key is the
 * certificate's, the certificate verifies against ca_path, allows
 * clientAuth and names a valid user ID (first rfc822Name). user_out as
 * above.
 */
int agent_enroll_check(const char *cert_path, const char *key_path, const char *ca_path,
                       char *user_out, char *err, size_t errcap);

/*
 * Backup (6.16 pkcs12-put): packs key and certificate chain into PKCS#12
 * encrypted under passphrase (PBES2, AES-256-CBC, PBKDF2-HMAC-SHA-256 with
 * 600,000 iterations for both bags; MAC with SHA-256) and stores it in the
 * registry, connecting with that certificate.
 */
int agent_enroll_backup(const agent_irp_target *t, const char *cert_path, const char *key_path,
                        const char *passphrase, char *err, size_t errcap);

/*
 * Restore (6.16 pkcs12-get): logs in as user with password (or, when
 * password is NULL, connects with the certificate and key already at
 * cert_path/key_path), fetches the backup, decrypts it with passphrase
 * (a wrong one: SC_ERR_CRYPTO, "wrong passphrase ..."), and writes the key
 * to key_path (0600) and the chain to cert_path, replacing them.
 */
int agent_enroll_restore(const agent_irp_target *t, const char *user, const char *password,
                         const char *passphrase, const char *key_path, const char *cert_path,
                         char *err, size_t errcap);

#endif
