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
    /* Added for the user agent (PROTOCOL.md 10.2); values above are never renumbered. */
    SC_STANZA_TYPING,      /* <typing state/>: no id; never stored or queued */
    SC_STANZA_READ,        /* <read id ts/>: read marker, up to and including message id */
    SC_STANZA_FILE_REJECT, /* <file-reject id reason?/>: the offer id is declined */
    SC_STANZA_DEVICE,      /* <device id/>: id is the sender's device id; first stanza sent */
    SC_STANZA_MSG_REJECT,  /* <msg-reject id reason?/>: message id refused, not stored */
} sc_stanza_type;

/* typing: the sender is composing (on) or stopped (off) (PROTOCOL.md 10.2). */
typedef enum sc_typing_state {
    SC_TYPING_OFF = 0, /* state="off" */
    SC_TYPING_ON = 1,  /* state="on" */
} sc_typing_state;

/* Limits (docs/PROTOCOL.md 10.1). */
#define SC_STANZA_ID_MAX 64      /* id: 1..64 of [A-Za-z0-9._-] */
#define SC_STANZA_NAME_MAX 255   /* file name bytes (UTF-8, no '/', no NUL) */
#define SC_STANZA_TEXT_MAX 16000 /* message text bytes (UTF-8) */
#define SC_STANZA_REASON_MAX 256 /* file-reject, msg-reject reason bytes (UTF-8, one line) */

/*
 * A parsed or to-be-sent stanza. Pointers borrow memory: in an event they
 * are valid only during the callback; when sending, only during the call.
 */
typedef struct sc_stanza {
    sc_stanza_type type;
    /*
     * Every type but typing (NULL there, ignored when sending). read: the
     * last message read; file-reject: the offer; msg-reject: the message
     * refused; device: the sender's device id (the IRP device id it
     * registers under).
     */
    const char *id;
    uint64_t ts;      /* msg, receipt, read: milliseconds since the Unix epoch */
    const char *text; /* msg: UTF-8, not NUL-terminated on receipt */
    size_t text_len;
    const char *name;       /* file-offer */
    uint64_t size;          /* file-offer: total bytes */
    uint64_t offset;        /* file-accept: resume from here */
    uint8_t sha256[32];     /* file-offer, file-done: digest of the whole file */
    sc_typing_state typing; /* typing: on or off */
    /*
     * file-reject, msg-reject: NUL-terminated, 0..SC_STANZA_REASON_MAX bytes of UTF-8
     * with no control character; optional: NULL when absent (then not sent).
     */
    const char *reason;
} sc_stanza;

#ifdef __cplusplus
}
#endif
#endif
