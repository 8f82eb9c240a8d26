/*
 * irp_frame.h - IRP framing inside TLS (docs/IRP.md 3).
 *
 * One frame type: DOC (0x10) || u24 length || one XML document of
 * 1..IRP_MAX_DOC bytes. The header alone decides whether a frame is
 * acceptable, so nothing is buffered for a frame that is not.
 *
 * The frame reader is used by both ends: feed it whatever the TLS layer
 * delivered, get complete documents out. When a whole frame is inside the
 * input it returns a pointer into the input (no copy); otherwise it
 * gathers the frame in a buffer of exactly its size, which it frees again
 * when the next frame starts, so an idle connection holds no buffer.
 */
#ifndef IRP_FRAME_H
#define IRP_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "sixchat/error.h"
#include "sc_buf.h"
#include "irp_status.h"

#define IRP_FRAME_DOC 0x10
#define IRP_FRAME_HDR 4

/*
 * Checks a frame header: 0 and *len set, IRP_BAD_REQUEST (400) for a type
 * other than DOC or a length of 0, IRP_TOO_LARGE (413) for a length above
 * IRP_MAX_DOC.
 */
SC_MUST_CHECK int irp_frame_check(const uint8_t hdr[IRP_FRAME_HDR], uint32_t *len);

/* Appends one DOC frame. SC_ERR_TOO_LARGE when len is 0 or above IRP_MAX_DOC (nothing appended). */
SC_MUST_CHECK int irp_frame_put(sc_buf *out, const uint8_t *doc, size_t len);

/*
 * Builds a frame in place: irp_frame_begin appends a header and returns
 * where the frame starts; the caller appends one document (irp_req_write
 * ...); irp_frame_end sets the length. If the document is empty or too long,
 * irp_frame_end removes the whole frame and returns SC_ERR_TOO_LARGE;
 * SC_ERR_NOMEM if the buffer failed.
 */
size_t irp_frame_begin(sc_buf *out);
SC_MUST_CHECK int irp_frame_end(sc_buf *out, size_t start);

typedef enum irp_feed_result {
    IRP_FEED_NEED = 0, /* everything given was consumed; no document yet */
    IRP_FEED_DOC = 1,  /* a document is ready in *doc, *doc_len */
} irp_feed_result;

typedef struct irp_framer {
    uint8_t hdr[IRP_FRAME_HDR];
    size_t hdr_len;    /* header bytes gathered so far */
    uint32_t body_len; /* of the current frame, once its header is complete */
    sc_buf body;       /* gathered body when the frame arrived in pieces */
    int err;           /* sticky: once a frame was refused, every feed returns it */
    int delivered;     /* body holds a document handed out: drop it on the next feed */
} irp_framer;

void irp_framer_init(irp_framer *f);
/* Frees (and wipes) what is buffered. */
void irp_framer_free(irp_framer *f);

/*
 * Consumes bytes from in[0..len) up to the end of the next complete frame;
 * *used tells how many. Returns IRP_FEED_DOC with *doc and *doc_len set to the
 * document (pointing into in or into the framer; valid until the next call
 * or until in is released), IRP_FEED_NEED when all of in was consumed
 * without completing a frame, or an error that sticks: IRP_BAD_REQUEST
 * (wrong type, empty frame), IRP_TOO_LARGE (length above the limit),
 * IRP_INTERNAL (out of memory). After an error the connection cannot be
 * resynchronised: answer with the status and close.
 *
 * A caller loops while *used < len, calling again with the rest.
 */
SC_MUST_CHECK int irp_framer_feed(irp_framer *f, const uint8_t *in, size_t len, size_t *used,
                                  const uint8_t **doc, size_t *doc_len);

/* Bytes held for an incomplete frame (header and body). */
size_t irp_framer_pending(const irp_framer *f);

#endif
