/*
 * agent_xfer_file.c - the receiver's files and the digests (agent_xfer.h):
 * names offered by a peer made safe, the .part created and opened only
 * relative to the downloads directory's descriptor (no '/' in a name, so
 * no way out of it; O_NOFOLLOW, so no symlink planted there is followed;
 * O_EXCL, so no existing file is reused), the verified file linked to a
 * name that is still free (link() never replaces), free space, and
 * SHA-256 of whole files on libuv's thread pool so the loop never reads a
 * large file at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "agent_text.h"
#include "agent_xfer_int.h"

/*
 * Characters that must not reach a file name: separators, and what must
 * not reach a terminal (agent_text.h): C0 and C1 controls (a C1 CSI is a
 * terminal escape when the name is listed) and the bidirectional controls
 * that make "evil\u202Etxt.exe" show as "evilexe.txt" in a file manager.
 */
static int unsafe_cp(uint32_t cp)
{
    return cp == '/' || cp == '\\' || agent_text_unsafe_cp(cp);
}

void agent_xfer_sanitise(const char *in, char *out)
{
    /*
     * The core already refuses '/', '\\', controls, "." and ".." in an
     * offer (docs/PROTOCOL.md 10.1), but the name comes from a peer and
     * decides where we write: the downloads directory must not depend on
     * the peer's code being right, so every rule is applied again here.
     */
    char tmp[4 * AGENT_XFER_NAME_KEEP + 8];
    size_t k = 0;
    const char *s = in ? in : "";
    /* No leading dot (hidden files, "." and ".."), space or dash (options). */
    while (*s == '.' || *s == ' ' || *s == '-')
        s++;
    size_t left = strlen(s);
    while (left && k + 4 < sizeof(tmp)) {
        uint32_t cp;
        size_t n = agent_utf8_next(s, left, &cp);
        if (n == 0 || unsafe_cp(cp)) {
            tmp[k++] = '_';
            n = n ? n : 1;
        } else {
            memcpy(tmp + k, s, n);
            k += n;
        }
        s += n;
        left -= n;
    }
    while (k && (tmp[k - 1] == ' ' || tmp[k - 1] == '.'))
        k--;
    tmp[k] = '\0';
    if (k == 0) {
        snprintf(out, AGENT_XFER_NAME_KEEP + 1, "file");
        return;
    }
    if (k <= AGENT_XFER_NAME_KEEP) {
        memcpy(out, tmp, k + 1);
        return;
    }
    /* Too long: keep a short extension (up to 16 bytes) and cut the stem on a character. */
    const char *dot = strrchr(tmp, '.');
    size_t ext = dot && (size_t)(tmp + k - dot) <= 16 ? (size_t)(tmp + k - dot) : 0;
    size_t stem = AGENT_XFER_NAME_KEEP - ext;
    while (stem > 0 && ((unsigned char)tmp[stem] & 0xC0) == 0x80)
        stem--;
    /* The cut may leave the stem ending in a dot or space, which a second
     * pass would strip: strip it now so the result is a fixed point. */
    while (stem > 0 && (tmp[stem - 1] == '.' || tmp[stem - 1] == ' '))
        stem--;
    memcpy(out, tmp, stem);
    memcpy(out + stem, tmp + k - ext, ext);
    out[stem + ext] = '\0';
}

/* "NAME" for n == 0, else "STEM (n).EXT". */
static void candidate(const char *name, unsigned n, char *out, size_t cap)
{
    if (n == 0) {
        snprintf(out, cap, "%s", name);
        return;
    }
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name) dot = name + strlen(name);
    snprintf(out, cap, "%.*s (%u)%s", (int)(dot - name), name, n, dot);
}

static int exists_at(int dirfd, const char *name)
{
    struct stat sb;
    return fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT;
}

int xf__part_create(agent_xfer *x, xf *f)
{
    char name[AGENT_XFER_NAME_KEEP + 1], cand[AGENT_XFER_NAME_KEEP + 16], part[sizeof(cand) + 8];
    agent_xfer_sanitise(f->r.name, name);
    for (unsigned n = 0; n < 1000; n++) {
        candidate(name, n, cand, sizeof(cand));
        snprintf(part, sizeof(part), "%s.part", cand);
        if (exists_at(x->dirfd, cand)) continue;
        int fd = openat(x->dirfd, part, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) {
            if (errno == EEXIST) continue;
            xf__log(x, "transfer %s: cannot create %s in the downloads directory: %s", f->r.id,
                    part, strerror(errno));
            return SC_ERR_IO;
        }
        snprintf(f->r.path, sizeof(f->r.path), "%s", part);
        f->fd = fd;
        return SC_OK;
    }
    xf__log(x, "transfer %s: no free name for %s in the downloads directory", f->r.id, name);
    return SC_ERR_IO;
}

int xf__part_open(agent_xfer *x, xf *f)
{
    struct stat sb;
    size_t n = strlen(f->r.path);
    if (n < 6 || strcmp(f->r.path + n - 5, ".part") || strchr(f->r.path, '/')) return -1;
    int fd = openat(x->dirfd, f->r.path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -1;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return -1;
    }
    f->fd = fd;
    return SC_OK;
}

int xf__part_finish(agent_xfer *x, xf *f)
{
    char base[AGENT_XFER_NAME_KEEP + 32], cand[AGENT_XFER_NAME_KEEP + 48];
    size_t n = strlen(f->r.path);
    if (n < 6 || n - 5 >= sizeof(base)) return SC_ERR_ARG; /* not a .part we made */
    snprintf(base, sizeof(base), "%.*s", (int)(n - 5), f->r.path);
    for (unsigned k = 0; k < 1000; k++) {
        candidate(base, k, cand, sizeof(cand));
        /* link() fails with EEXIST rather than replace a file that appeared meanwhile. */
        if (linkat(x->dirfd, f->r.path, x->dirfd, cand, 0) == 0) {
            if (unlinkat(x->dirfd, f->r.path, 0) != 0)
                xf__log(x, "transfer %s: %s stays behind: %s", f->r.id, f->r.path, strerror(errno));
            snprintf(f->r.path, sizeof(f->r.path), "%s", cand);
            return SC_OK;
        }
        if (errno != EEXIST) break;
    }
    xf__log(x, "transfer %s: cannot name the received file: %s", f->r.id, strerror(errno));
    return SC_ERR_IO;
}

void xf__part_remove(agent_xfer *x, xf *f)
{
    size_t n = strlen(f->r.path);
    if (n < 6 || strcmp(f->r.path + n - 5, ".part") || strchr(f->r.path, '/')) return;
    if (unlinkat(x->dirfd, f->r.path, 0) != 0 && errno != ENOENT)
        xf__log(x, "transfer %s: cannot remove %s: %s", f->r.id, f->r.path, strerror(errno));
}

uint64_t xf__disk_free(agent_xfer *x)
{
    struct statvfs v;
    if (fstatvfs(x->dirfd, &v) != 0) return 0;
    return (uint64_t)v.f_bavail * (uint64_t)v.f_frsize;
}

/* ---- hashing on the thread pool ---- */

typedef struct hash_job {
    uv_work_t w;
    agent_xfer *x;
    int fd; /* our own descriptor (a dup, or opened from path in the worker) */
    char *path;
    uint64_t size; /* in: bytes to hash (fd); out: the file's size (path) */
    int err;
    uint8_t digest[32];
    xf_hash_fn fn;
    void *arg;
} hash_job;

static void hash_work(uv_work_t *w)
{
    hash_job *j = w->data;
    struct stat sb;
    if (j->fd < 0) {
        j->fd = open(j->path, O_RDONLY | O_CLOEXEC);
        if (j->fd < 0 || fstat(j->fd, &sb) != 0) {
            j->err = SC_ERR_IO;
            return;
        }
        if (!S_ISREG(sb.st_mode)) {
            j->err = SC_ERR_ARG;
            return;
        }
        j->size = (uint64_t)sb.st_size;
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint8_t *buf = malloc(1 << 20);
    unsigned int dl = 0;
    uint64_t off = 0;
    j->err = SC_ERR_CRYPTO;
    if (!md || !buf || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) goto out;
    while (off < j->size) {
        size_t want = j->size - off < (1u << 20) ? (size_t)(j->size - off) : (1u << 20);
        ssize_t k = pread(j->fd, buf, want, (off_t)off);
        if (k <= 0) {
            if (k < 0 && errno == EINTR) continue;
            j->err = SC_ERR_IO; /* shorter than it was: it changed under us */
            goto out;
        }
        if (EVP_DigestUpdate(md, buf, (size_t)k) != 1) goto out;
        off += (uint64_t)k;
    }
    if (EVP_DigestFinal_ex(md, j->digest, &dl) == 1 && dl == 32) j->err = SC_OK;
out:
    free(buf);
    EVP_MD_CTX_free(md);
}

static void hash_after(uv_work_t *w, int status)
{
    hash_job *j = w->data;
    agent_xfer *x = j->x;
    if (status != 0 && j->err == SC_OK) j->err = SC_ERR_IO;
    if (j->fd >= 0) close(j->fd);
    x->works--;
    j->fn(x, j->arg, j->err, j->size, j->digest);
    free(j->path);
    free(j);
    xf__release_check(x);
}

int xf__hash(agent_xfer *x, int fd, const char *path, uint64_t size, xf_hash_fn fn, void *arg)
{
    hash_job *j = calloc(1, sizeof(*j));
    if (!j) return SC_ERR_NOMEM;
    j->x = x;
    j->fd = -1;
    j->size = size;
    j->fn = fn;
    j->arg = arg;
    j->w.data = j;
    if (fd >= 0 && (j->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0) {
        free(j);
        return SC_ERR_IO;
    }
    if (fd < 0 && !(j->path = strdup(path))) {
        free(j);
        return SC_ERR_NOMEM;
    }
    if (uv_queue_work(x->env.loop, &j->w, hash_work, hash_after) != 0) {
        if (j->fd >= 0) close(j->fd);
        free(j->path);
        free(j);
        return SC_ERR_IO;
    }
    x->works++;
    return SC_OK;
}
