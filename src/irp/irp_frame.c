/*
 * irp_frame.c - IRP frames: DOC || u24 length || document (docs/IRP.md 3).
 */
#include "irp_frame.h"

#include <string.h>

#include "irp_msg.h"
#include "sixchat/error.h"

int irp_frame_check(const uint8_t hdr[IRP_FRAME_HDR], uint32_t *len)
{
    uint32_t n = sc_load_u24(hdr + 1);
    *len = 0;
    if (hdr[0] != IRP_FRAME_DOC) return IRP_BAD_REQUEST;
    if (n > IRP_MAX_DOC) return IRP_TOO_LARGE;
    if (n == 0) return IRP_BAD_REQUEST;
    *len = n;
    return 0;
}

int irp_frame_put(sc_buf *out, const uint8_t *doc, size_t len)
{
    if (len == 0 || len > IRP_MAX_DOC) return SC_ERR_TOO_LARGE;
    uint8_t hdr[IRP_FRAME_HDR] = {IRP_FRAME_DOC};
    sc_store_u24(hdr + 1, (uint32_t)len);
    sc_buf_put(out, hdr, sizeof hdr);
    sc_buf_put(out, doc, len);
    return sc_buf_ok(out) ? SC_OK : SC_ERR_NOMEM;
}

size_t irp_frame_begin(sc_buf *out)
{
    size_t start = out->len;
    static const uint8_t hdr[IRP_FRAME_HDR] = {IRP_FRAME_DOC};
    sc_buf_put(out, hdr, sizeof hdr);
    return start;
}

int irp_frame_end(sc_buf *out, size_t start)
{
    if (!sc_buf_ok(out)) return SC_ERR_NOMEM;
    if (start > out->len || out->len - start < IRP_FRAME_HDR) return SC_ERR_ARG;
    size_t n = out->len - start - IRP_FRAME_HDR;
    if (n == 0 || n > IRP_MAX_DOC) {
        /* Drop the frame so that the stream stays well-formed. */
        memset(out->data + start, 0, out->len - start);
        out->len = start;
        return SC_ERR_TOO_LARGE;
    }
    sc_store_u24(out->data + start + 1, (uint32_t)n);
    return SC_OK;
}

void irp_framer_init(irp_framer *f)
{
    memset(f, 0, sizeof *f);
    sc_buf_init(&f->body, IRP_MAX_DOC);
}

void irp_framer_free(irp_framer *f)
{
    sc_buf_dispose(&f->body);
    irp_framer_init(f);
}

size_t irp_framer_pending(const irp_framer *f)
{
    return f->delivered ? 0 : f->hdr_len + f->body.len;
}

int irp_framer_feed(irp_framer *f, const uint8_t *in, size_t len, size_t *used, const uint8_t **doc,
                    size_t *doc_len)
{
    size_t off = 0;
    *used = 0;
    *doc = NULL;
    *doc_len = 0;
    if (f->err != 0) return f->err;
    if (f->delivered) {
        /* The caller is done with the document we handed out last time. */
        sc_buf_dispose(&f->body);
        f->delivered = 0;
    }

    while (f->hdr_len < IRP_FRAME_HDR && off < len)
        f->hdr[f->hdr_len++] = in[off++];
    if (f->hdr_len < IRP_FRAME_HDR) {
        *used = off;
        return IRP_FEED_NEED;
    }
    if (f->body_len == 0) {
        /* The header just completed: judge it before taking any body byte. */
        int st = irp_frame_check(f->hdr, &f->body_len);
        if (st != 0) {
            f->err = st;
            *used = off;
            return st;
        }
    }

    if (off == len) {
        /* Nothing of the body yet: allocate nothing until some arrives. */
        *used = off;
        return IRP_FEED_NEED;
    }
    if (f->body.len == 0 && len - off >= f->body_len) {
        /* The whole body is in the input: hand it out in place. */
        *doc = in + off;
        *doc_len = f->body_len;
        *used = off + f->body_len;
        f->hdr_len = 0;
        f->body_len = 0;
        return IRP_FEED_DOC;
    }

    if (f->body.len == 0) {
        /* Exactly the frame's size: the limit caps the capacity too. */
        sc_buf_dispose(&f->body);
        sc_buf_init(&f->body, f->body_len);
        if (sc_buf_reserve(&f->body, f->body_len) != 0) {
            f->err = IRP_INTERNAL;
            *used = off;
            return f->err;
        }
    }
    size_t take = f->body_len - f->body.len;
    if (take > len - off) take = len - off;
    sc_buf_put(&f->body, in + off, take);
    off += take;
    *used = off;
    if (f->body.len < f->body_len) return IRP_FEED_NEED;

    *doc = f->body.data;
    *doc_len = f->body.len;
    f->delivered = 1;
    f->hdr_len = 0;
    f->body_len = 0;
    return IRP_FEED_DOC;
}
