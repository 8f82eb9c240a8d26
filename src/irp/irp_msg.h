/*
 * irp_msg.h - IRP version 1 messages as schemas (docs/IRP.md 4 to 7).
 *
 * Sans-I/O: parsing takes the bytes of one XML document (docs/IRP.md 3:
 * the body of one DOC frame) and fills a typed struct; writing appends the
 * document for a struct to an sc_buf. Nothing here touches a socket, a
 * clock, a file or the store. The frame layer is irp_frame.h, addresses
 * irp_addr.h, and signing of lookup answers irp_sig.h.
 *
 * Parsing. irp_req_parse, irp_resp_parse and irp_event_parse return 0 on
 * success, or the IRP status code the server answers with (docs/IRP.md 5):
 *   400 IRP_BAD_REQUEST  malformed XML, outside the profile (DOCTYPE ...),
 *                        wrong root, missing or invalid attribute or child,
 *                        bad user ID, bad base64, port 0 ...
 *   413 IRP_TOO_LARGE    document over 16384 bytes, a list over its count
 *                        limit (addrs, allow, info ...), a base64 payload
 *                        over its decoded limit (CSR, PKCS#12, certificate)
 *   422 IRP_INVALID      an <addr> that is not an IP literal
 *   501 IRP_UNKNOWN_OP   a well-formed request with an op this version
 *                        does not define
 *   500 IRP_INTERNAL     out of memory
 * On failure the struct is left cleared except for id (set whenever the
 * request carried a valid one, so the error response can echo it) and err
 * (a short English reason, for the response's msg attribute).
 *
 * Memory. A parsed struct's strings point into the parsed document, which
 * the struct owns together with one block for decoded base64; both are
 * bounded by the input length. Release with irp_req_clear / irp_resp_clear
 * / irp_event_clear (they wipe the password and PKCS#12 bytes). For
 * writing, the caller fills a struct (zeroed with the _init function) with
 * pointers to its own strings and bytes; the writer copies them out.
 *
 * Writing. irp_*_write validate every field with the same rules the parser
 * applies, so that whatever a writer accepts parses back to an equal
 * struct (irp_*_equal), and append one document. They return 0, SC_ERR_ARG
 * (a field breaks a rule: nothing is appended), SC_ERR_TOO_LARGE (the
 * document would exceed IRP_MAX_DOC: nothing is appended) or SC_ERR_NOMEM.
 */
#ifndef IRP_MSG_H
#define IRP_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "sixchat/error.h"
#include "sc_buf.h"
#include "sc_xml.h"
#include "irp_addr.h"
#include "irp_status.h"

#define IRP_VERSION 1
#define IRP_PORT 4604

/* Limits (docs/IRP.md 8). Lengths are bytes; decoded sizes for base64. */
#define IRP_MAX_DOC 16384    /* one document = one DOC frame body */
#define IRP_ID_MAX 64        /* request id: 1..64 of [A-Za-z0-9._-] */
#define IRP_DEVICE_MAX 64    /* device id: same alphabet */
#define IRP_USER_MAX 254     /* user ID (docs/PROTOCOL.md 8.1) */
#define IRP_PASSWORD_MAX 256 /* login password, 1..256 */
#define IRP_TOKEN_LEN 22     /* enrolment token: 22 base64url characters */
#define IRP_MSG_MAX 256      /* msg attribute of a response */
#define IRP_MAX_ADDRS 8      /* addresses of one binding */
#define IRP_MAX_BINDINGS 8   /* bindings (devices) of one user */
#define IRP_MAX_CERTS 8      /* <cert> elements in one response */
#define IRP_CERT_MAX 8192    /* one certificate, DER */
#define IRP_CSR_MAX 8192     /* a PKCS#10 request, DER */
#define IRP_P12_MAX 12000    /* a PKCS#12 backup: its base64 must fit a document */
#define IRP_SIG_MAX 1024     /* a signature */
#define IRP_SERIAL_MAX 40    /* hex digits of a serial (20 octets, RFC 5280) */
#define IRP_MAX_INFO 8       /* <info> items in one request or response */
#define IRP_INFO_NAME_MAX 32 /* [a-z0-9-] */
#define IRP_INFO_VALUE_MAX 256
#define IRP_MAX_ALLOW 24          /* allow list of a lookup policy */
#define IRP_MAX_USERS 24          /* one page of list-users */
#define IRP_MAX_LOG 24            /* one page of access-log */
#define IRP_MAX_NAMES 32          /* names in a list attribute of capabilities */
#define IRP_MAX_VALID_CERTS 3     /* valid certificates one user may hold (docs/IRP.md 6.5) */
#define IRP_PUBLISH_CERT_MAX 2048 /* DER of a certificate the registry publishes in lookups */
#define IRP_LIFETIME_MIN 60       /* server-side clamp of a registration (seconds) */
#define IRP_LIFETIME_MAX 86400
#define IRP_LIFETIME_DEFAULT 3600

/* Operations (docs/IRP.md 6). The values are stable: capabilities lists them as a bit set. */
typedef enum irp_op {
    IRP_OP_NONE = 0,
    IRP_OP_CAPABILITIES,
    IRP_OP_CA_CERTS,
    IRP_OP_PING,
    IRP_OP_LOGIN,
    IRP_OP_ENROLL,
    IRP_OP_RENEW,
    IRP_OP_REGISTER,
    IRP_OP_UNREGISTER,
    IRP_OP_LOOKUP,
    IRP_OP_WATCH,
    IRP_OP_UNWATCH,
    IRP_OP_CERT_STATUS,
    IRP_OP_REVOKE,
    IRP_OP_USER_INFO,
    IRP_OP_LOOKUP_POLICY,
    IRP_OP_ACCESS_LOG,
    IRP_OP_PKCS12_PUT,
    IRP_OP_PKCS12_GET,
    IRP_OP_LIST_USERS,
    IRP_OP_COUNT /* not an op */
} irp_op;

/* Wire name of op ("cert-status"), or NULL; reverse lookup (IRP_OP_NONE if unknown). */
const char *irp_op_name(irp_op op);
irp_op irp_op_by_name(const char *s, size_t n);

/* Lookup access policy of a user (docs/IRP.md 7.3). */
typedef enum irp_access {
    IRP_ACCESS_NONE = 0, /* absent (lookup-policy get) */
    IRP_ACCESS_ANYONE,   /* "anyone": every authenticated user (default) */
    IRP_ACCESS_LIST,     /* "list": only the users on the allow list */
    IRP_ACCESS_NOBODY,   /* "nobody" */
} irp_access;

/* Certificate state in <cert status=".."> (docs/IRP.md 6.9, 6.11). */
typedef enum irp_cert_state {
    IRP_CERT_NONE = 0, /* no status attribute (enroll, renew, ca-certs) */
    IRP_CERT_VALID,
    IRP_CERT_REVOKED,
    IRP_CERT_EXPIRED,
    IRP_CERT_UNKNOWN,
} irp_cert_state;

/* Revocation reasons, RFC 5280 5.3.1 names in lower-case-hyphen form. */
typedef enum irp_reason {
    IRP_REASON_NONE = 0, /* absent */
    IRP_REASON_UNSPECIFIED,
    IRP_REASON_KEY_COMPROMISE,
    IRP_REASON_CA_COMPROMISE,
    IRP_REASON_AFFILIATION_CHANGED,
    IRP_REASON_SUPERSEDED,
    IRP_REASON_CESSATION_OF_OPERATION,
    IRP_REASON_PRIVILEGE_WITHDRAWN,
} irp_reason;

/* Why bindings changed or a watch ended (the reason of an event). */
typedef enum irp_change {
    IRP_CHANGE_NONE = 0,
    IRP_CHANGE_REGISTER,
    IRP_CHANGE_UNREGISTER,
    IRP_CHANGE_EXPIRE,
    IRP_CHANGE_REVOKE,
    IRP_CHANGE_POLICY,   /* watch-end: the owner's policy no longer allows the watcher */
    IRP_CHANGE_SHUTDOWN, /* watch-end: the server is going away */
} irp_change;

/* Login methods, a bit set in capabilities. */
enum {
    IRP_LOGIN_PASSWORD = 1 << 0,    /* "password" */
    IRP_LOGIN_TOKEN = 1 << 1,       /* "token" (enrolment token) */
    IRP_LOGIN_CERTIFICATE = 1 << 2, /* "certificate" (TLS client certificate) */
};

/* One <info name="..">value</info> item. value_len 0 (an empty element) deletes the item. */
typedef struct irp_info {
    const char *name; /* 1..32 of [a-z0-9-] */
    const char *value;
    size_t value_len; /* 0..IRP_INFO_VALUE_MAX */
} irp_info;

/* ---- requests (docs/IRP.md 6) -------------------------------------------- */

typedef struct irp_req {
    irp_op op;
    char id[IRP_ID_MAX + 1];
    /*
     * Attributes; which an op takes, and which it requires, is in
     * docs/IRP.md 6. NULL / 0 when absent.
     */
    const char *user;     /* login, lookup, watch, unwatch, user-info, register, unregister */
    const char *password; /* login (wiped by irp_req_clear) */
    size_t password_len;
    const char *token;  /* enroll: IRP_TOKEN_LEN base64url characters */
    const char *device; /* register, unregister */
    int all;            /* unregister all="1" */
    uint16_t port;      /* register: 1..65535 */
    uint32_t lifetime;  /* register: requested seconds, 1..2^32-1; 0 = absent (default) */
    int has_seq;
    uint64_t seq;                  /* register (required), unregister (optional) */
    irp_addr addrs[IRP_MAX_ADDRS]; /* register: 1..IRP_MAX_ADDRS <addr> children */
    size_t n_addrs;
    const uint8_t *csr; /* enroll, renew: DER PKCS#10, 1..IRP_CSR_MAX */
    size_t csr_len;
    const uint8_t *p12; /* pkcs12-put: 1..IRP_P12_MAX (wiped by irp_req_clear) */
    size_t p12_len;
    const char *serial; /* cert-status, revoke: 1..40 lower-case hex digits, no leading 0 */
    int has_fp;
    uint8_t fp[32];    /* cert-status, revoke: SHA-256 of the certificate (64 hex digits) */
    irp_reason reason; /* revoke */
    irp_info info[IRP_MAX_INFO]; /* user-info set (n_info > 0); get when 0 */
    size_t n_info;
    irp_access access;                /* lookup-policy set; IRP_ACCESS_NONE = get */
    const char *allow[IRP_MAX_ALLOW]; /* lookup-policy set, access="list" only */
    size_t n_allow;
    const char *after; /* list-users: page after this user */
    uint64_t after_id; /* access-log: page after this entry id (0 = from the start) */

    char err[128]; /* after a failed parse: why, for the response msg */
    /* Owned storage of a parsed request (private). */
    sc_xml_doc *doc_;
    uint8_t *blob_;
    size_t blob_len_;
} irp_req;

void irp_req_init(irp_req *r);
/* Frees and wipes what a parse stored; r is then as after irp_req_init. */
void irp_req_clear(irp_req *r);
/*
 * Parses one request document. r need not be initialised (it is cleared
 * first, without freeing). Returns 0 or a status as described at the top.
 */
SC_MUST_CHECK int irp_req_parse(irp_req *r, const uint8_t *doc, size_t len);
/* The same with a reusable expat parser (sc_xml_parser_new), one per connection. */
SC_MUST_CHECK int irp_req_parse_with(sc_xml_parser *xp, irp_req *r, const uint8_t *doc, size_t len);
/* Appends the request document. Returns 0, SC_ERR_ARG, SC_ERR_TOO_LARGE, SC_ERR_NOMEM. */
SC_MUST_CHECK int irp_req_write(sc_buf *out, const irp_req *r);
/* 1 when a and b carry the same op, id and fields of that op. */
int irp_req_equal(const irp_req *a, const irp_req *b);

/* ---- responses (docs/IRP.md 5.2, 6) --------------------------------------- */

typedef struct irp_binding {
    const char *device; /* 1..IRP_DEVICE_MAX id characters */
    irp_addr addrs[IRP_MAX_ADDRS];
    size_t n_addrs;   /* 1..IRP_MAX_ADDRS */
    uint16_t port;    /* 1..65535 */
    uint64_t expires; /* Unix seconds */
    uint64_t updated; /* Unix seconds of the last register */
    uint64_t seq;     /* the seq of that register */
} irp_binding;

typedef struct irp_cert {
    const uint8_t *der; /* NULL/0 when the element has no text (cert-status, revoked entries) */
    size_t der_len;
    irp_cert_state state;
    const char *serial; /* NULL when absent */
    int has_fp;
    uint8_t fp[32];
    const char *user;   /* cert-status: whose certificate; NULL when absent */
    uint64_t not_after; /* 0 = absent */
    uint64_t revoked;   /* revocation time, 0 = absent */
    irp_reason reason;  /* IRP_REASON_NONE = absent */
} irp_cert;

typedef struct irp_sig {
    int alg;         /* sc_sigalg (sc_crypto.h): ed25519, ecdsa-p256-sha256, ... */
    uint8_t key[32]; /* SHA-256 of the signing registry's certificate */
    const uint8_t *sig;
    size_t sig_len; /* 1..IRP_SIG_MAX */
} irp_sig;

typedef struct irp_caps {
    uint32_t versions; /* bit v for each protocol version v offered (1..31) */
    uint32_t ops;      /* bit op for each irp_op offered */
    uint32_t logins;   /* IRP_LOGIN_* */
} irp_caps;

/* Limits the server announces in capabilities (docs/IRP.md 6.1); 0 = not announced. */
typedef struct irp_limits {
    uint32_t doc, addrs, devices, lifetime_min, lifetime_max, lifetime_default, pipeline, watches;
} irp_limits;

typedef struct irp_user_entry {
    const char *name;
    uint32_t devices; /* live bindings */
    uint32_t certs;   /* valid certificates */
    uint64_t created; /* Unix seconds */
    irp_access access;
} irp_user_entry;

typedef struct irp_log_entry {
    uint64_t id;    /* audit entry id, for paging */
    uint64_t ts;    /* Unix seconds */
    const char *by; /* who looked */
    irp_op op;      /* IRP_OP_LOOKUP, IRP_OP_WATCH or IRP_OP_USER_INFO */
} irp_log_entry;

typedef struct irp_resp {
    char id[IRP_ID_MAX + 1]; /* "" when the request had no usable id */
    int status;              /* 200..599 */
    const char *msg;         /* 1..IRP_MSG_MAX bytes, human-readable */
    /* Attributes of <resp> (which op sets which: docs/IRP.md 6). */
    uint32_t granted; /* register: lifetime granted, 0 = absent */
    int has_seen;
    irp_addr seen;     /* register: source address the server saw */
    int nat;           /* register: 1 when seen is not among the claimed addresses */
    const char *user;  /* login, lookup, watch, user-info */
    uint64_t at;       /* lookup, watch: server time of the answer, 0 = absent */
    irp_access access; /* lookup-policy */
    int more;          /* list-users, access-log: another page follows */
    /* Children. */
    irp_caps caps; /* <caps> */
    int has_caps;
    irp_limits limits; /* <limits> */
    int has_limits;
    irp_binding bindings[IRP_MAX_BINDINGS];
    size_t n_bindings;
    irp_cert certs[IRP_MAX_CERTS];
    size_t n_certs;
    irp_info info[IRP_MAX_INFO];
    size_t n_info;
    const char *allow[IRP_MAX_ALLOW];
    size_t n_allow;
    irp_user_entry users[IRP_MAX_USERS];
    size_t n_users;
    irp_log_entry log[IRP_MAX_LOG];
    size_t n_log;
    const uint8_t *p12; /* pkcs12-get (wiped by irp_resp_clear) */
    size_t p12_len;
    uint64_t p12_updated;
    int has_sig;
    irp_sig sig; /* lookup */

    char err[128];
    sc_xml_doc *doc_;
    uint8_t *blob_;
    size_t blob_len_;
} irp_resp;

void irp_resp_init(irp_resp *r);
void irp_resp_clear(irp_resp *r);
SC_MUST_CHECK int irp_resp_parse(irp_resp *r, const uint8_t *doc, size_t len);
SC_MUST_CHECK int irp_resp_parse_with(sc_xml_parser *xp, irp_resp *r, const uint8_t *doc,
                                      size_t len);
SC_MUST_CHECK int irp_resp_write(sc_buf *out, const irp_resp *r);
int irp_resp_equal(const irp_resp *a, const irp_resp *b);
/*
 * Appends <resp id=".." status=".." msg=".."/>: the answer to a request
 * that failed (id may be NULL or "" when the request had none). msg is cut
 * to IRP_MSG_MAX bytes at a character boundary; NULL, "" or text XML cannot
 * carry gives the status name. Same returns as irp_resp_write.
 */
SC_MUST_CHECK int irp_resp_write_status(sc_buf *out, const char *id, int status, const char *msg);

/*
 * The bytes a registry signs in a lookup answer (docs/IRP.md 7.4):
 * "irp1 lookup" || 0x00 || the canonical <resp> of r with status, user and
 * at, its bindings and certs, and neither id, msg nor sig. Appends them to
 * out. SC_ERR_ARG when r is not a well-formed lookup answer (status 200,
 * user and at present).
 */
SC_MUST_CHECK int irp_lookup_tbs(sc_buf *out, const irp_resp *r);

/* ---- events (docs/IRP.md 5.4, 6.10) -------------------------------------------- */

typedef enum irp_event_type {
    IRP_EVENT_NONE = 0,
    IRP_EVENT_BINDING,   /* op="binding": the user's bindings are now these */
    IRP_EVENT_WATCH_END, /* op="watch-end": the server ended the watch */
} irp_event_type;

typedef struct irp_event {
    irp_event_type type;
    const char *user;
    uint64_t seq; /* per connection, 1, 2, ... */
    uint64_t at;  /* server time, 0 = absent */
    irp_change reason;
    irp_binding bindings[IRP_MAX_BINDINGS]; /* binding: the complete current set */
    size_t n_bindings;

    char err[128];
    sc_xml_doc *doc_;
} irp_event;

void irp_event_init(irp_event *e);
void irp_event_clear(irp_event *e);
SC_MUST_CHECK int irp_event_parse(irp_event *e, const uint8_t *doc, size_t len);
SC_MUST_CHECK int irp_event_write(sc_buf *out, const irp_event *e);
int irp_event_equal(const irp_event *a, const irp_event *b);

/*
 * What the client receives: a response or an event. Parses one document
 * from the server into resp (root <resp>) or ev (root <event>), sets *is_event,
 * and returns 0 or a status as above (400 for any other root).
 */
SC_MUST_CHECK int irp_server_doc_parse(sc_xml_parser *xp, const uint8_t *doc, size_t len,
                                       irp_resp *resp, irp_event *ev, int *is_event);

/* ---- field rules, shared with the server and client ---------------------- */

/* 1 if s[0..n) is a valid request id or device id: 1..64 of [A-Za-z0-9._-]. */
int irp_valid_id(const char *s, size_t n);
/* 1 if s (NUL-terminated) is a valid user ID (sc_cert_valid_user_id). */
int irp_valid_user(const char *s);
/* 1 if s[0..n) is a valid enrolment token: 22 base64url characters. */
int irp_valid_token(const char *s, size_t n);
/* 1 if s[0..n) is a serial in wire form: 1..40 lower-case hex digits, first not 0. */
int irp_valid_serial(const char *s, size_t n);

#endif
