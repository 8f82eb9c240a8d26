/*
 * irpd_ca_files.c - the CA's files: the only I/O of the CA module. Keys are
 * created 0600 with O_EXCL (no umask race), fsync'd, and refused on load
 * when others can read them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "sixchat/error.h"
#include "sc_cert.h"
#include "irpd_ca.h"
#include "irpd_ca_int.h"

/* ---- files: the only I/O of this module ------------------------------------ */

/*
 * Creates name in dirfd (O_EXCL: never an existing file or a planted
 * symlink) with exactly mode, whatever the umask, and writes either the
 * private key or the certificate straight from OpenSSL's encoder to the
 * descriptor, so no copy of a key sits in a buffer of ours.
 */
static int write_pem_file(int dirfd, const char *name, mode_t mode, X509 *x, EVP_PKEY *key,
                          irpd_ca_err *err)
{
    int fd, r;
    BIO *bio;

    fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) {
        if (errno == EEXIST) return irpd__ca_fail(err, IRPD_CA_EXISTS, "%s already exists", name);
        return irpd__ca_fail(err, IRPD_CA_INTERNAL, "cannot create %s: %s", name, strerror(errno));
    }
    r = fchmod(fd, mode) == 0 && (bio = BIO_new_fd(fd, BIO_NOCLOSE)) != NULL;
    if (r) {
        r = key != NULL ? PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)
                        : PEM_write_bio_X509(bio, x);
        r = r && BIO_flush(bio) == 1;
        BIO_free(bio);
    }
    r = r && fsync(fd) == 0;
    if (close(fd) != 0) r = 0;
    if (!r) {
        unlinkat(dirfd, name, 0);
        return irpd__ca_fail(err, IRPD_CA_INTERNAL, "cannot write %s", name);
    }
    return IRPD_CA_OK;
}

struct out_file {
    const char *name;
    mode_t mode;
    X509 *x;
    EVP_PKEY *key;
};

int irpd_ca_save(const irpd_ca *ca, const char *dir, irpd_ca_err *err)
{
    int dirfd, ret = IRPD_CA_OK;
    size_t done = 0;

    if (ca == NULL || dir == NULL) return irpd__ca_fail(err, IRPD_CA_INTERNAL, "invalid argument");
    if (ca->server_cert == NULL)
        return irpd__ca_fail(err, IRPD_CA_INTERNAL, "no server certificate to save yet");
    /* Keys first: if one exists, nothing else was written. */
    const struct out_file files[4] = {
        {IRPD_CA_KEY_FILE, 0600, NULL, ca->key},
        {IRPD_SERVER_KEY_FILE, 0600, NULL, ca->server_key},
        {IRPD_CA_CERT_FILE, 0644, ca->cert, NULL},
        {IRPD_SERVER_CERT_FILE, 0644, ca->server_cert, NULL},
    };

    dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return irpd__ca_fail(err, IRPD_CA_INTERNAL, "cannot open %s: %s", dir, strerror(errno));
    ERR_set_mark();
    for (; done < 4 && ret == IRPD_CA_OK; done++) {
        ret = write_pem_file(dirfd, files[done].name, files[done].mode, files[done].x,
                             files[done].key, err);
    }
    if (ret != IRPD_CA_OK) {
        /* Remove only what this call created (the failed one removed itself or was not ours). */
        for (size_t i = 0; i + 1 < done; i++)
            unlinkat(dirfd, files[i].name, 0);
    } else if (fsync(dirfd) != 0) {
        ret = irpd__ca_fail(err, IRPD_CA_INTERNAL, "cannot sync %s: %s", dir, strerror(errno));
    }
    if (ret == IRPD_CA_OK) irpd__ca_ok(err);
    ERR_pop_to_mark();
    close(dirfd);
    return ret;
}

/*
 * Reads a whole file (at most FILE_MAX) into a NUL-terminated buffer. A
 * secret file must be a regular file nobody but its owner can read.
 */
static int read_file(int dirfd, const char *name, int secret, char **out, size_t *out_len,
                     irpd_ca_err *err)
{
    struct stat st;
    char *buf = NULL;
    size_t len = 0;
    ssize_t n;
    int fd, ret = IRPD_CA_INTERNAL;

    *out = NULL;
    fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return irpd__ca_fail(err, ret, "cannot open %s: %s", name, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        irpd__ca_fail(err, ret, "%s is not a regular file", name);
        goto out;
    }
    if (secret && (st.st_mode & 077) != 0) {
        irpd__ca_fail(err, ret, "%s may be read by others (mode %03o): chmod 600 it", name,
                      (unsigned)(st.st_mode & 0777));
        goto out;
    }
    if (st.st_size > FILE_MAX) {
        irpd__ca_fail(err, ret, "%s is larger than %d bytes", name, FILE_MAX);
        goto out;
    }
    if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
        irpd__ca_fail(err, ret, "out of memory");
        goto out;
    }
    while (len < (size_t)st.st_size) {
        n = read(fd, buf + len, (size_t)st.st_size - len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        len += (size_t)n;
    }
    if (len != (size_t)st.st_size) {
        irpd__ca_fail(err, ret, "cannot read %s", name);
        goto out;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    buf = NULL;
    ret = IRPD_CA_OK;
out:
    if (buf != NULL) {
        OPENSSL_cleanse(buf, (size_t)st.st_size + 1);
        free(buf);
    }
    close(fd);
    return ret;
}

static void free_secret(char *s, size_t len)
{
    if (s == NULL) return;
    OPENSSL_cleanse(s, len);
    free(s);
}

int irpd_ca_load(const char *dir, irpd_ca **out, irpd_ca_err *err)
{
    char *ca_pem = NULL, *ca_key = NULL, *srv_pem = NULL, *srv_key = NULL;
    size_t ca_pem_len = 0, ca_key_len = 0, srv_pem_len = 0, srv_key_len = 0;
    int dirfd, ret;

    if (out == NULL || dir == NULL) return irpd__ca_fail(err, IRPD_CA_INTERNAL, "invalid argument");
    *out = NULL;
    dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return irpd__ca_fail(err, IRPD_CA_INTERNAL, "cannot open %s: %s", dir, strerror(errno));
    if ((ret = read_file(dirfd, IRPD_CA_CERT_FILE, 0, &ca_pem, &ca_pem_len, err)) != IRPD_CA_OK ||
        (ret = read_file(dirfd, IRPD_CA_KEY_FILE, 1, &ca_key, &ca_key_len, err)) != IRPD_CA_OK ||
        (ret = read_file(dirfd, IRPD_SERVER_CERT_FILE, 0, &srv_pem, &srv_pem_len, err)) !=
            IRPD_CA_OK ||
        (ret = read_file(dirfd, IRPD_SERVER_KEY_FILE, 1, &srv_key, &srv_key_len, err)) !=
            IRPD_CA_OK)
        goto out;
    ret = irpd_ca_from_pem(ca_pem, ca_pem_len, ca_key, ca_key_len, srv_pem, srv_pem_len, srv_key,
                           srv_key_len, out, err);
out:
    free(ca_pem);
    free(srv_pem);
    free_secret(ca_key, ca_key_len);
    free_secret(srv_key, srv_key_len);
    close(dirfd);
    return ret;
}

int irpd_ca_add_trusted_file(irpd_ca *ca, const char *path, const char *domains, irpd_ca_err *err)
{
    char *pem = NULL;
    size_t len = 0;
    int ret;

    if (ca == NULL || path == NULL) return irpd__ca_fail(err, IRPD_CA_INTERNAL, "invalid argument");
    ret = read_file(AT_FDCWD, path, 0, &pem, &len, err);
    if (ret == IRPD_CA_OK) ret = irpd_ca_add_trusted_pem(ca, pem, len, domains, err);
    free(pem);
    return ret;
}
