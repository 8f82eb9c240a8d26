/*
 * sixchat/stanza.h - application stanzas carried after the handshake
 * (docs/PROTOCOL.md section 10).
 */
#ifndef SIXCHAT_STANZA_H
#define SIXCHAT_STANZA_H

#include <stddef.h>
#include <stdint.h>
#include "sixchat/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sc_stanza_type {
    SC_STANZA_MSG = 1,     /* <msg id ts>text</msg> */
    SC_STANZA_RECEIPT,     /* <receipt id ts/> */
    SC_STANZA_PING,        /* <ping id/>; answered by the library itself */
    SC_STANZA_PONG,        /* <pong id/> */
    SC_STANZA_FILE_OFFER,  /* <file-offer id name size sha256/> */
    SC_STANZA_FILE_ACCEPT, /* <file-accept id offset/> */
    SC_STANZA_FILE_DONE,   /* <file-done id sha256/> */
} sc_stanza_type;

/* Limits (docs/PROTOCOL.md 10.1). */
#define SC_STANZA_ID_MAX 64      /* id: 1..64 of [A-Za-z0-9._-] */
#define SC_STANZA_NAME_MAX 255   /* file name bytes (UTF-8, no '/', no NUL) */
#define SC_STANZA_TEXT_MAX 16000 /* message text bytes (UTF-8) */

/*
 * A parsed or to-be-sent stanza. Pointers borrow memory: in an event they
 * are valid only during the callback; when sending, only during the call.
 */
typedef struct sc_stanza {
    sc_stanza_type type;
    const char *id;   /* every type */
    uint64_t ts;      /* msg, receipt: milliseconds since the Unix epoch */
    const char *text; /* msg: UTF-8, not NUL-terminated on receipt */
    size_t text_len;
    const char *name;   /* file-offer */
    uint64_t size;      /* file-offer: total bytes */
    uint64_t offset;    /* file-accept: resume from here */
    uint8_t sha256[32]; /* file-offer, file-done: digest of the whole file */
} sc_stanza;

#ifdef __cplusplus
}
#endif
#endif
