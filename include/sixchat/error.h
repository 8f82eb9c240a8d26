/*
 * sixchat/error.h - the one error enum of libsixchat.
 *
 * Every fallible function returns an sc_err. Values fall in three bands:
 *   - 0: success;
 *   - negative: a local failure (out of memory, bad argument, wrong state);
 *   - SC_ALERT_BASE + code: we detected a protocol violation and sent the
 *     alert `code` to the peer (docs/PROTOCOL.md section 9), with one
 *     exception: while the peer has not yet proved its key (before its
 *     signature verifies), every failure to authenticate it is reported
 *     locally with its own code but the peer receives decrypt_error (51)
 *     whatever the code (PROTOCOL.md 9.2), so a middleman replaying
 *     public certificates learns nothing of our policy;
 *   - SC_PEER_ALERT_BASE + code: the peer sent us the alert `code`.
 * sc_strerror() turns any value into a sentence a user understands.
 */
#ifndef SIXCHAT_ERROR_H
#define SIXCHAT_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SC_MUST_CHECK __attribute__((warn_unused_result))
#define SC_API __attribute__((visibility("default")))
#else
#define SC_MUST_CHECK
#define SC_API
#endif

/* Alert codes carried on the wire (one byte). See docs/PROTOCOL.md 9. */
enum {
    SC_ALERT_CLOSE_NOTIFY = 0,
    SC_ALERT_UNEXPECTED_MESSAGE = 10,
    SC_ALERT_BAD_RECORD_MAC = 20,
    SC_ALERT_RECORD_OVERFLOW = 22,
    SC_ALERT_HANDSHAKE_FAILURE = 40,
    SC_ALERT_BAD_CERTIFICATE = 42,
    SC_ALERT_UNSUPPORTED_CERTIFICATE = 43,
    SC_ALERT_CERTIFICATE_REVOKED = 44,
    SC_ALERT_CERTIFICATE_EXPIRED = 45,
    SC_ALERT_CERTIFICATE_NOT_YET_VALID = 46,
    SC_ALERT_ILLEGAL_PARAMETER = 47,
    SC_ALERT_UNKNOWN_CA = 48,
    SC_ALERT_ACCESS_DENIED = 49,
    SC_ALERT_DECODE_ERROR = 50,
    SC_ALERT_DECRYPT_ERROR = 51,
    SC_ALERT_ISSUER_BLOCKED = 53,
    SC_ALERT_IDENTITY_MISMATCH = 54,
    SC_ALERT_PROTOCOL_VERSION = 70,
    SC_ALERT_INTERNAL_ERROR = 80,
    SC_ALERT_HANDSHAKE_TIMEOUT = 90,
    SC_ALERT_CERTIFICATE_REQUIRED = 116,
};

#define SC_ALERT_BASE 0x100
#define SC_PEER_ALERT_BASE 0x200

typedef enum sc_err {
    SC_OK = 0,
    SC_ERR_NOMEM = -1,     /* an allocation failed */
    SC_ERR_ARG = -2,       /* a caller passed an invalid argument */
    SC_ERR_STATE = -3,     /* the call is not allowed in the session's state */
    SC_ERR_CRYPTO = -4,    /* OpenSSL failed where it should not */
    SC_ERR_CONFIG = -5,    /* the configuration is incomplete or inconsistent */
    SC_ERR_CLOSED = -6,    /* the session is closed or failed */
    SC_ERR_TRUNCATED = -7, /* the transport ended without an orderly close */
    SC_ERR_TOO_LARGE = -8, /* a local argument exceeds a protocol limit */
    SC_ERR_RANDOM = -9,    /* the caller's random source failed */
    SC_ERR_IO = -10,       /* an I/O failure outside the core (examples, tools) */
    SC_ERR_PARSE = -11,    /* local input (PEM, list string) could not be parsed */
    /*
     * We refused the peer: its certificate names a user of a domain the
     * trust anchor its chain ends at may not certify, or breaks a CA's name
     * constraints (docs/PROTOCOL.md 8.2). The peer receives unknown_ca.
     */
    SC_ERR_DOMAIN_MISMATCH = -12,

    /* Sent to the peer (we detected it). */
    SC_ERR_UNEXPECTED_MESSAGE = SC_ALERT_BASE + SC_ALERT_UNEXPECTED_MESSAGE,
    SC_ERR_BAD_RECORD_MAC = SC_ALERT_BASE + SC_ALERT_BAD_RECORD_MAC,
    SC_ERR_RECORD_OVERFLOW = SC_ALERT_BASE + SC_ALERT_RECORD_OVERFLOW,
    SC_ERR_HANDSHAKE_FAILURE = SC_ALERT_BASE + SC_ALERT_HANDSHAKE_FAILURE,
    SC_ERR_BAD_CERTIFICATE = SC_ALERT_BASE + SC_ALERT_BAD_CERTIFICATE,
    SC_ERR_UNSUPPORTED_CERTIFICATE = SC_ALERT_BASE + SC_ALERT_UNSUPPORTED_CERTIFICATE,
    SC_ERR_CERTIFICATE_REVOKED = SC_ALERT_BASE + SC_ALERT_CERTIFICATE_REVOKED,
    SC_ERR_CERTIFICATE_EXPIRED = SC_ALERT_BASE + SC_ALERT_CERTIFICATE_EXPIRED,
    SC_ERR_CERTIFICATE_NOT_YET_VALID = SC_ALERT_BASE + SC_ALERT_CERTIFICATE_NOT_YET_VALID,
    SC_ERR_ILLEGAL_PARAMETER = SC_ALERT_BASE + SC_ALERT_ILLEGAL_PARAMETER,
    SC_ERR_UNKNOWN_CA = SC_ALERT_BASE + SC_ALERT_UNKNOWN_CA,
    SC_ERR_ACCESS_DENIED = SC_ALERT_BASE + SC_ALERT_ACCESS_DENIED,
    SC_ERR_DECODE_ERROR = SC_ALERT_BASE + SC_ALERT_DECODE_ERROR,
    SC_ERR_DECRYPT_ERROR = SC_ALERT_BASE + SC_ALERT_DECRYPT_ERROR,
    SC_ERR_ISSUER_BLOCKED = SC_ALERT_BASE + SC_ALERT_ISSUER_BLOCKED,
    SC_ERR_IDENTITY_MISMATCH = SC_ALERT_BASE + SC_ALERT_IDENTITY_MISMATCH,
    SC_ERR_PROTOCOL_VERSION = SC_ALERT_BASE + SC_ALERT_PROTOCOL_VERSION,
    SC_ERR_INTERNAL = SC_ALERT_BASE + SC_ALERT_INTERNAL_ERROR,
    SC_ERR_TIMEOUT = SC_ALERT_BASE + SC_ALERT_HANDSHAKE_TIMEOUT,
    SC_ERR_CERTIFICATE_REQUIRED = SC_ALERT_BASE + SC_ALERT_CERTIFICATE_REQUIRED,
} sc_err;

/* True when err is an alert we sent; SC_ERR_ALERT_CODE gives its wire code. */
#define SC_ERR_IS_ALERT(err) ((err) >= SC_ALERT_BASE && (err) < SC_ALERT_BASE + 0x100)
#define SC_ERR_ALERT_CODE(err) ((err)&0xff)
/* The error reported when the peer sent alert `code`. */
#define SC_ERR_PEER_ALERT(code) (SC_PEER_ALERT_BASE + (code))
#define SC_ERR_IS_PEER_ALERT(err)                                                                  \
    ((err) >= SC_PEER_ALERT_BASE && (err) < SC_PEER_ALERT_BASE + 0x100)

/*
 * A static, human-readable description of err (never NULL). For alerts it
 * says who detected the problem: "we rejected the peer: ..." or "the peer
 * rejected us: ...".
 */
SC_API const char *sc_strerror(int err);

/* The name of alert `code` as in docs/PROTOCOL.md ("bad_record_mac"), or "unknown". */
SC_API const char *sc_alert_name(int code);

#ifdef __cplusplus
}
#endif
#endif
