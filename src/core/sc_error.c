/*
 * sc_error.c - messages for the one error enum (sixchat/error.h).
 */
#include <stddef.h>
#include "sixchat/error.h"

/* Each alert reads as a sentence that says who refused whom. */
#define A(code, name, text)                                                                        \
    {                                                                                              \
        code, name, "we rejected the peer: " text, "the peer rejected us: " text                   \
    }

static const struct {
    int code;
    const char *name;
    const char *ours;
    const char *theirs;
} alerts[] = {
    /* Neither of these is a refusal, so they read on their own. */
    {SC_ALERT_CLOSE_NOTIFY, "close_notify", "the connection was closed in order",
     "the peer closed the connection in order"},
    A(SC_ALERT_UNEXPECTED_MESSAGE, "unexpected_message", "a message arrived out of order"),
    A(SC_ALERT_BAD_RECORD_MAC, "bad_record_mac",
      "a record failed authentication (tampered, replayed or reordered)"),
    A(SC_ALERT_RECORD_OVERFLOW, "record_overflow", "a frame was larger than the protocol allows"),
    A(SC_ALERT_HANDSHAKE_FAILURE, "handshake_failure",
      "no common cipher suite, group, signature algorithm or key exchange mode"),
    A(SC_ALERT_BAD_CERTIFICATE, "bad_certificate", "the certificate is malformed or unusable"),
    A(SC_ALERT_UNSUPPORTED_CERTIFICATE, "unsupported_certificate",
      "the certificate is not for client authentication or its key type is not supported"),
    A(SC_ALERT_CERTIFICATE_REVOKED, "certificate_revoked", "the certificate was revoked"),
    A(SC_ALERT_CERTIFICATE_EXPIRED, "certificate_expired", "a certificate in the chain expired"),
    A(SC_ALERT_CERTIFICATE_NOT_YET_VALID, "certificate_not_yet_valid",
      "a certificate in the chain is not valid yet (check the clocks)"),
    A(SC_ALERT_ILLEGAL_PARAMETER, "illegal_parameter", "a message carried a contradictory value"),
    A(SC_ALERT_UNKNOWN_CA, "unknown_ca", "the certificate does not chain to a trusted CA"),
    A(SC_ALERT_ACCESS_DENIED, "access_denied", "the identity is blocked or not on the allow list"),
    A(SC_ALERT_DECODE_ERROR, "decode_error", "a message was malformed (bad XML, base64 or field)"),
    A(SC_ALERT_DECRYPT_ERROR, "decrypt_error",
      "a signature, Finished MAC or key transport did not verify"),
    A(SC_ALERT_ISSUER_BLOCKED, "issuer_blocked", "the certificate's issuer is blocked"),
    A(SC_ALERT_IDENTITY_MISMATCH, "identity_mismatch",
      "the certificate names a different user than expected"),
    A(SC_ALERT_PROTOCOL_VERSION, "protocol_version", "unsupported protocol version"),
    A(SC_ALERT_INTERNAL_ERROR, "internal_error", "an internal error occurred"),
    {SC_ALERT_HANDSHAKE_TIMEOUT, "handshake_timeout",
     "the peer did not answer in time: the handshake timed out",
     "the peer gave up waiting: the handshake timed out"},
    A(SC_ALERT_CERTIFICATE_REQUIRED, "certificate_required", "no certificate was presented"),
};

static const struct {
    int err;
    const char *text;
} local[] = {
    {SC_OK, "success"},
    {SC_ERR_NOMEM, "out of memory"},
    {SC_ERR_ARG, "invalid argument"},
    {SC_ERR_STATE, "not allowed in the session's current state"},
    {SC_ERR_CRYPTO, "a cryptographic operation failed unexpectedly"},
    {SC_ERR_CONFIG, "the configuration is incomplete or its key does not match its certificate"},
    {SC_ERR_CLOSED, "the session is closed"},
    {SC_ERR_TRUNCATED, "the connection ended without an orderly close (possible truncation)"},
    {SC_ERR_TOO_LARGE, "the data exceeds a protocol limit"},
    {SC_ERR_RANDOM, "the random number source failed"},
    {SC_ERR_IO, "an input/output operation failed"},
    {SC_ERR_PARSE, "the input could not be parsed (bad PEM or unknown name)"},
    {SC_ERR_DOMAIN_MISMATCH,
     "we rejected the peer: its certificate names a user of a domain its CA may not certify"},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

const char *sc_alert_name(int code)
{
    for (size_t i = 0; i < N(alerts); i++)
        if (alerts[i].code == code) return alerts[i].name;
    return "unknown";
}

static const char *alert_text(int code, int ours)
{
    for (size_t i = 0; i < N(alerts); i++)
        if (alerts[i].code == code) return ours ? alerts[i].ours : alerts[i].theirs;
    return ours ? "we sent an unknown alert" : "the peer sent an unknown alert";
}

const char *sc_strerror(int err)
{
    if (SC_ERR_IS_ALERT(err)) return alert_text(SC_ERR_ALERT_CODE(err), 1);
    if (SC_ERR_IS_PEER_ALERT(err)) return alert_text(SC_ERR_ALERT_CODE(err), 0);
    for (size_t i = 0; i < N(local); i++)
        if (local[i].err == err) return local[i].text;
    return "unknown error";
}
