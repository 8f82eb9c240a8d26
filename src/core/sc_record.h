/*
 * sc_record.h - frames and AEAD records (docs/PROTOCOL.md 3 and 5).
 *
 * A frame is type u8 || length u24 || body. sc_frame_check() bounds the
 * length from the 4-byte header alone, so nothing is allocated for a frame
 * that is too large. A record is the AEAD of inner_type || content with the
 * frame header as additional data and nonce = iv XOR sequence number.
 */
#ifndef SC_RECORD_H
#define SC_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include "sc_buf.h"
#include "sc_crypto.h"

enum { SC_FRAME_HELLO = 1, SC_FRAME_RECORD = 2, SC_FRAME_ALERT = 3 };
enum {
    SC_INNER_HANDSHAKE = 1,
    SC_INNER_ALERT = 2,
    SC_INNER_STANZA = 3,
    SC_INNER_FILE_DATA = 4,
    SC_INNER_KEY_UPDATE = 5,
    SC_INNER_COMPACT = 6, /* a msg or receipt in compact form (PROTOCOL.md 10.4) */
};

#define SC_FRAME_HDR 4
#define SC_MAX_HELLO 4096
#ifdef SC_MAX_PLAINTEXT_OVERRIDE /* measurement builds only (bench/README.md) */
#define SC_MAX_PLAINTEXT SC_MAX_PLAINTEXT_OVERRIDE
#else
#define SC_MAX_PLAINTEXT 65536 /* chosen by measurement: bench/README.md, PROTOCOL.md 12.4 */
#endif
/* Before the handshake completes a record carries one handshake document at most. */
#define SC_MAX_HS_CONTENT 16384
#define SC_MAX_HS_RECORD (1 + SC_MAX_HS_CONTENT + SC_TAG_LEN)
#define SC_MIN_RECORD (1 + SC_TAG_LEN)
#define SC_MAX_RECORD (1 + SC_MAX_PLAINTEXT + SC_TAG_LEN)
#define SC_MAX_FRAME (SC_FRAME_HDR + SC_MAX_RECORD)

/*
 * Validates a frame header: SC_ERR_UNEXPECTED_MESSAGE for an unknown type,
 * SC_ERR_RECORD_OVERFLOW for a length over the type's maximum,
 * SC_ERR_DECODE_ERROR for one under its minimum. Sets *body_len.
 */
int sc_frame_check(const uint8_t hdr[SC_FRAME_HDR], uint32_t *body_len);

/* Appends a plaintext frame. */
void sc_frame_put(sc_buf *out, uint8_t type, const uint8_t *body, size_t len);

/* One direction of record protection: its traffic secret, AEAD and counters. */
typedef struct sc_dir {
    sc_aead aead;
    uint8_t secret[SC_HASH_LEN];
    int suite;
    int active;
    uint64_t records;    /* under the current key */
    uint64_t bytes;      /* under the current key */
    uint64_t generation; /* key updates so far */
} sc_dir;

/* Installs a traffic secret (keys derived from it, sequence reset). */
int sc_dir_install(sc_dir *d, int suite, const uint8_t secret[SC_HASH_LEN], int enc);
/* Key update: secret = ExpandLabel(secret, "ku"), keys re-derived; d unchanged on failure. */
int sc_dir_update(sc_dir *d);
/* The same in two steps: next is d's next generation (d untouched), then it replaces d. */
int sc_dir_next(const sc_dir *d, sc_dir *next);
void sc_dir_replace(sc_dir *d, sc_dir *next);
void sc_dir_clear(sc_dir *d);

/*
 * Seals inner || a || b as one RECORD frame appended to out (the two parts
 * let a caller gather a small header and a payload without a copy).
 * a_len + b_len must not exceed SC_MAX_PLAINTEXT.
 */
int sc_record_seal(sc_dir *d, sc_buf *out, uint8_t inner, const uint8_t *a, size_t a_len,
                   const uint8_t *b, size_t b_len);

/*
 * Builds a record in place: sc_record_begin appends the header and inner
 * type and returns where the record starts; the caller appends the content
 * to out; sc_record_finish sets the length and encrypts in place (on any
 * failure it wipes and removes the partial record), or sc_record_abort
 * wipes and removes it. Saves a copy for content that is generated (XML).
 * The caller must keep out from reallocating without wiping meanwhile.
 */
size_t sc_record_begin(sc_buf *out, uint8_t inner);
int sc_record_finish(sc_dir *d, sc_buf *out, size_t start);
void sc_record_abort(sc_buf *out, size_t start);

/*
 * Opens one RECORD frame (header + body, already checked) into plain, which
 * is reset first. On success *inner and *content point into plain.
 * SC_ERR_BAD_RECORD_MAC for any forgery, replay or reordering.
 */
int sc_record_open(sc_dir *d, const uint8_t *frame, size_t frame_len, sc_buf *plain, uint8_t *inner,
                   const uint8_t **content, size_t *content_len);

#endif
