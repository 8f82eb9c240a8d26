/*
 * agent_enroll_file.c - files of the identity (agent_enroll_int.h): keys are
 * created 0600 from their first byte, everything is written to a temporary
 * file and moved into place, so a crash leaves the old file or the new one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "agent_enroll_int.h"
#include "sixchat/error.h"

#define READ_MAX (1024 * 1024)

int agent__enroll_err(char *err, size_t errcap, int rc, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL || errcap == 0) return rc;
    va_start(ap, fmt);
    vsnprintf(err, errcap, fmt, ap);
    va_end(ap);
    return rc;
}

/* Writes all of data to fd. 0 or -1 (errno set). */
static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Makes the rename itself durable: fsync of the directory that holds path (best effort). */
static void sync_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    int fd;

    if (slash == NULL) {
        snprintf(dir, sizeof(dir), ".");
    } else if (slash == path) {
        snprintf(dir, sizeof(dir), "/");
    } else {
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    if (fsync(fd) != 0) {
        /* a file system without directory fsync: the data itself was synced */
    }
    close(fd);
}

int agent__enroll_write(const char *path, const void *data, size_t len, unsigned mode,
                        int no_replace, char *err, size_t errcap)
{
    char tmp[4096];
    int fd, e, rc;

    if (snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >= (int)sizeof(tmp))
        return agent__enroll_err(err, errcap, SC_ERR_IO, "%s: path too long", path);
    /* mkstemp opens O_CREAT|O_EXCL with mode 0600 whatever the umask allows beyond that; the
     * fchmod below only ever narrows or sets the final mode, so a key is never readable by
     * others, not even between the open and the chmod. */
    fd = mkstemp(tmp);
    if (fd < 0)
        return agent__enroll_err(err, errcap, SC_ERR_IO, "cannot create a file next to %s: %s",
                                 path, strerror(errno));
    if (fchmod(fd, (mode_t)mode) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        e = errno;
        close(fd);
        unlink(tmp);
        return agent__enroll_err(err, errcap, SC_ERR_IO, "cannot write %s: %s", path, strerror(e));
    }
    if (close(fd) != 0) {
        e = errno;
        unlink(tmp);
        return agent__enroll_err(err, errcap, SC_ERR_IO, "cannot write %s: %s", path, strerror(e));
    }
    /* link() refuses an existing target, which rename() would replace. */
    rc = no_replace ? link(tmp, path) : rename(tmp, path);
    e = errno;
    if (no_replace || rc != 0) unlink(tmp);
    if (rc != 0) {
        if (e == EEXIST)
            return agent__enroll_err(err, errcap, SC_ERR_IO,
                                     "%s exists: not replacing a key (move it away first)", path);
        return agent__enroll_err(err, errcap, SC_ERR_IO, "cannot write %s: %s", path, strerror(e));
    }
    sync_dir(path);
    return 0;
}

char *agent__enroll_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;

    if (f == NULL) return NULL;
    buf = malloc(READ_MAX + 1);
    if (buf == NULL) {
        fclose(f);
        return NULL;
    }
    n = fread(buf, 1, READ_MAX + 1, f);
    if (ferror(f) || n > READ_MAX) {
        fclose(f);
        OPENSSL_cleanse(buf, n < READ_MAX ? n : READ_MAX);
        free(buf);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    if (len != NULL) *len = n;
    return buf;
}

STACK_OF(X509) * agent__enroll_pem_certs(const char *pem, size_t len)
{
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    STACK_OF(X509) *sk = sk_X509_new_null();
    X509 *x;

    if (b == NULL || sk == NULL) goto fail;
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
        if (!sk_X509_push(sk, x)) {
            X509_free(x);
            goto fail;
        }
    ERR_clear_error(); /* the end of the text ends the loop with an error */
    BIO_free(b);
    if (sk_X509_num(sk) == 0) {
        sk_X509_free(sk);
        return NULL;
    }
    return sk;
fail:
    BIO_free(b);
    sk_X509_pop_free(sk, X509_free);
    return NULL;
}

char *agent__enroll_certs_pem(STACK_OF(X509) * certs, int from, size_t *len)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data = NULL, *out = NULL;
    long n;
    int i;

    if (b == NULL) return NULL;
    for (i = from; i < sk_X509_num(certs); i++)
        if (!PEM_write_bio_X509(b, sk_X509_value(certs, i))) goto done;
    n = BIO_get_mem_data(b, &data);
    if (n < 0 || (out = malloc((size_t)n + 1)) == NULL) goto done;
    memcpy(out, data, (size_t)n);
    out[n] = '\0';
    *len = (size_t)n;
done:
    BIO_free(b);
    return out;
}

void agent__enroll_fp_hex(X509 *x, char out[65])
{
    unsigned char d[32];
    unsigned int n = 0, i;

    memset(d, 0, sizeof(d));
    X509_digest(x, EVP_sha256(), d, &n);
    for (i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
    out[64] = '\0';
}

int agent__enroll_fp_matches(X509 *x, const char *hex)
{
    char want[65], have[65];
    size_t k = 0;

    for (; *hex != '\0' && k < 64; hex++) {
        if (*hex == ':') continue;
        want[k++] = (char)(*hex >= 'A' && *hex <= 'F' ? *hex - 'A' + 'a' : *hex);
    }
    if (k != 64 || *hex != '\0') return 0;
    want[64] = '\0';
    agent__enroll_fp_hex(x, have);
    return strcmp(want, have) == 0;
}
