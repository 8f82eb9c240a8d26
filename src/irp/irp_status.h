/*
 * irp_status.h - IRP status codes (docs/IRP.md 5.3).
 *
 * Every response carries one. Inside src/irp and src/irpd the one success
 * value is 0: a function that can fail returns 0, or the failure status the
 * server answers with (400 and above; the codec's parsers too, so that a
 * server answers a refused document with what the parser said), or, where
 * its header says so, a negative SC_ERR_* of sixchat/error.h. IRP_OK (200)
 * exists only at the edge: in a response document (irp_resp.status, which
 * irpd__answer sets from a handler's 0) and in what irp_client hands its
 * callbacks (resp->status is the wire status).
 */
#ifndef IRP_STATUS_H
#define IRP_STATUS_H

typedef enum irp_status {
    IRP_OK = 200,
    IRP_BAD_REQUEST = 400,   /* malformed XML, missing or invalid attribute */
    IRP_AUTH_REQUIRED = 401, /* needs a login or a client certificate */
    IRP_FORBIDDEN = 403,     /* not allowed for this identity */
    IRP_NOT_FOUND = 404,     /* unknown user, serial, device */
    IRP_CONFLICT = 409,      /* stale sequence number, limit of devices or certificates */
    IRP_GONE = 410,          /* token used or expired */
    IRP_TOO_LARGE = 413,     /* frame, document, list or payload over its limit */
    IRP_INVALID = 422,       /* bad CSR, bad or refused address, weak key */
    IRP_RATE_LIMITED = 429,
    IRP_INTERNAL = 500,
    IRP_UNKNOWN_OP = 501,
    IRP_UNAVAILABLE = 503, /* shutting down or overloaded: retry later */
} irp_status;

/* "ok", "bad-request", ... for a code above; "unknown" otherwise. */
const char *irp_status_name(int status);

#endif
