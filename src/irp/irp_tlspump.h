/*
 * irp_tlspump.h - TLS over memory, without I/O: the one place where the IRP
 * client (irp_client.c) and the registry (src/irpd/irpd_server.c) drive
 * OpenSSL (docs/IRP.md 3.1).
 *
 * The caller moves bytes: ciphertext that arrived goes in with
 * irp_tlspump_feed, ciphertext to send comes out with irp_tlspump_take.
 * Between the two the pump runs the handshake, decrypts what was fed
 * (irp_tlspump_read) and encrypts what is queued (irp_tlspump_write).
 * Plaintext queued before the handshake is done waits in the pump and is
 * encrypted as soon as it is. Nothing here blocks, sleeps or touches a
 * socket, so the whole life of a connection runs in a unit test with two
 * pumps passing bytes to each other.
 *
 * Results are SC_OK or another sc_err of sixchat/error.h: SC_ERR_CLOSED for
 * the peer's close_notify, SC_PEER_ALERT_BASE + code for an alert the peer
 * sent, SC_ERR_UNKNOWN_CA, SC_ERR_CERTIFICATE_EXPIRED,
 * SC_ERR_CERTIFICATE_REVOKED or SC_ERR_BAD_CERTIFICATE when our own check of
 * the peer's certificate failed, SC_ERR_HANDSHAKE_FAILURE or
 * SC_ERR_DECODE_ERROR for other failures during or after the handshake,
 * SC_ERR_NOMEM. After a failure irp_tlspump_reason says why in words
 * (OpenSSL's reason), for log lines; the OpenSSL error queue is left empty.
 */
#ifndef IRP_TLSPUMP_H
#define IRP_TLSPUMP_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>

#include "sixchat/error.h"

typedef struct irp_tlspump irp_tlspump;

/*
 * A pump for one connection of ctx, as the server (is_server) or the
 * client. NULL when out of memory. The SSL object is the pump's; callers
 * set what is theirs on it (app data, SNI) with irp_tlspump_ssl.
 */
SC_MUST_CHECK irp_tlspump *irp_tlspump_new(SSL_CTX *ctx, int is_server);
void irp_tlspump_free(irp_tlspump *p);
SSL *irp_tlspump_ssl(irp_tlspump *p);

/* Ciphertext that arrived from the peer. SC_OK or SC_ERR_NOMEM. */
SC_MUST_CHECK int irp_tlspump_feed(irp_tlspump *p, const uint8_t *ct, size_t n);

/*
 * Advances the handshake with what was fed. SC_OK with *done set to 1 once
 * the handshake is complete (then queued plaintext has been encrypted), or
 * 0 while it needs more input; another code when it failed (the alert
 * for the peer, if any, is ready to take).
 */
SC_MUST_CHECK int irp_tlspump_handshake(irp_tlspump *p, int *done);
int irp_tlspump_done(const irp_tlspump *p);

/*
 * Decrypts into buf[0..cap): SC_OK with *got > 0 bytes, or *got == 0 when
 * more ciphertext is needed; SC_ERR_CLOSED when the peer closed with
 * close_notify; another code on failure.
 */
SC_MUST_CHECK int irp_tlspump_read(irp_tlspump *p, uint8_t *buf, size_t cap, size_t *got);

/*
 * Queues plaintext: all of it is encrypted (or held until the handshake is
 * done). SC_OK, SC_ERR_NOMEM, or the failure that ended the connection.
 */
SC_MUST_CHECK int irp_tlspump_write(irp_tlspump *p, const uint8_t *pt, size_t n);

/* Queues our close_notify (once, after the handshake; otherwise nothing). */
void irp_tlspump_close(irp_tlspump *p);

/* Bytes of ciphertext waiting to be sent. */
size_t irp_tlspump_pending(const irp_tlspump *p);
/* Moves up to cap bytes of it into out; returns how many. */
size_t irp_tlspump_take(irp_tlspump *p, uint8_t *out, size_t cap);

/* Why the last failure happened, "" if none. */
const char *irp_tlspump_reason(const irp_tlspump *p);

#endif
