/*
 * fz_seeds.c - see fz_seeds.h.
 */
#include "fz_seeds.h"

#include <stdio.h>
#include <stdlib.h>

#include "sc_base64.h"
#include "sc_xml.h"

const char *fz_seeds_dir(void)
{
    static int asked;
    return asked++ ? NULL : getenv("FZ_WRITE_SEEDS");
}

/* Starts a seed: an empty buffer, with the mode byte first unless mode < 0. */
void fz_seed_begin(sc_buf *b, int mode)
{
    sc_buf_init(b, 0);
    if (mode >= 0) sc_buf_put_u8(b, (uint8_t)mode);
}

/* Writes b to DIR/name and disposes of it. */
void fz_seed(const char *dir, const char *name, sc_buf *b)
{
    char path[1024];
    FZ_CHECK(sc_buf_ok(b) && b->len < 8192); /* small seeds (fuzz/CMakeLists.txt replays them) */
    FZ_CHECK(snprintf(path, sizeof path, "%s/%s", dir, name) < (int)sizeof path);
    FILE *f = fopen(path, "wb");
    FZ_CHECK(f != NULL && (b->len == 0 || fwrite(b->data, 1, b->len, f) == b->len));
    FZ_CHECK(fclose(f) == 0);
    sc_buf_dispose(b);
}

/* A seed that is one mode byte (or none) and one byte string. */
void fz_seed_bytes(const char *dir, const char *name, int mode, const void *p, size_t n)
{
    sc_buf b;
    fz_seed_begin(&b, mode);
    sc_buf_put(&b, p, n);
    fz_seed(dir, name, &b);
}

/* One handshake message led by its u16 length (the deep modes' sequences). */
void fz_seed_msg(sc_buf *b, const fz_msg *m)
{
    sc_buf_put_u16(b, (uint16_t)m->len);
    sc_buf_put(b, m->p, m->len);
}

/* <cert><c>B64 DER</c>...</cert> of the given certificates. */
void fz_seed_certmsg(sc_buf *b, const fz_cert *const *certs, size_t n)
{
    sc_xml_w_open(b, "cert");
    sc_xml_w_end_open(b);
    for (size_t i = 0; i < n; i++) {
        sc_xml_w_open(b, "c");
        sc_xml_w_end_open(b);
        sc_base64_encode(b, certs[i]->der, certs[i]->der_len);
        sc_xml_w_close(b, "c");
    }
    sc_xml_w_close(b, "cert");
}

const fz_bad_certs *fz_bad_certs_get(void)
{
    static fz_bad_certs c;
    static int made;
    fz_cert_opts o;
    fz_world_init();
    if (made++) return &c;
    o = (fz_cert_opts)FZ_USER_OPTS("mallory@example.org");
    fz_cert_make(&c.mallory, &fz_w.root, "sixchat fuzz mallory", 10, &o);
    o = (fz_cert_opts)FZ_USER_OPTS("bob@example.org");
    o.not_before = FZ_NOW_S - 400 * 86400;
    o.not_after = FZ_NOW_S - 86400;
    fz_cert_make(&c.expired, &fz_w.root, "sixchat fuzz bob", 11, &o);
    o = (fz_cert_opts)FZ_USER_OPTS("bob@example.org");
    o.not_before = FZ_NOW_S + 86400;
    fz_cert_make(&c.future, &fz_w.root, "sixchat fuzz bob", 12, &o);
    o = (fz_cert_opts)FZ_USER_OPTS("bob@example.org");
    o.eku = "serverAuth";
    fz_cert_make(&c.server_eku, &fz_w.root, "sixchat fuzz bob", 13, &o);
    o = (fz_cert_opts)FZ_ROOT_OPTS;
    fz_cert_make(&c.evil_root, NULL, "sixchat fuzz evil root", 14, &o);
    o = (fz_cert_opts)FZ_USER_OPTS("bob@example.org");
    fz_cert_make(&c.evil_bob, &c.evil_root, "sixchat fuzz bob", 15, &o);
    return &c;
}
