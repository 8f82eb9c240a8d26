/*
 * irpd_store.h - the registry's storage: one interface, interchangeable
 * backends (docs/IRP.md 6, 8 and 10 for the
 * rules it keeps).
 *
 * What is stored: users (an opaque password hash and salt, the lookup
 * access policy, an admin flag), each user's allow list and user-info
 * items, one-time enrolment tokens (by SHA-256 only), certificates and
 * their revocation, bindings (where a user's devices are), one PKCS#12
 * backup per user, and an append-only audit table.
 *
 * Backends: SQLite (irpd_store_open_sqlite) and PostgreSQL
 * (irpd_store_open_pg, built when libpq is found: IRPD_HAVE_PG;
 * docs/DEPLOYMENT.md); irpd_store_open picks one from irpd.conf's `store`.
 * The server sees only
 * irpd_store and the functions below. Each function below is a real one
 * (irpd_store.c): it checks its arguments as its comment says, once, for
 * every backend, and only then calls the backend's entry of the same name
 * (irpd_store_int.h, the vtable). So every backend refuses the same things
 * with the same status, and a new backend cannot forget a check; what a
 * function's comment says is the contract of every backend.
 *
 * Results: every fallible function returns 0 on success, or the failure
 * status (irp_status.h) the server answers with, as it is: IRP_BAD_REQUEST,
 * IRP_FORBIDDEN, IRP_NOT_FOUND, IRP_CONFLICT, IRP_GONE, IRP_TOO_LARGE or
 * IRP_INTERNAL. Every failure leaves a sentence in irpd_store_errmsg (for
 * logs; the reply's msg is the server's choice).
 *
 * Time: functions that need the time take `now`, seconds since the Unix
 * epoch, from the caller. Nothing here reads the clock.
 *
 * Atomicity and durability (docs/IRP.md 10):
 * - Each operation is atomic: all its changes and its audit row are
 *   committed together or not at all. A refused operation (any status but
 *   0) changes nothing.
 * - Outside a batch, an operation that changes something has committed
 *   durably (SQLite: WAL, synchronous=FULL, fsync) when it returns 0:
 *   the server may answer at once.
 * - Group commit (IRP.md 10.2): between irpd_store_batch_begin and
 *   irpd_store_batch_commit the changes of several requests share one
 *   transaction and one fsync. Each operation inside is still atomic on its
 *   own (a refused one is rolled back alone and may be answered at once),
 *   and is applied against the state the earlier ones produced; but no
 *   change is durable until irpd_store_batch_commit returns 0. The
 *   server holds the answers to the batch's writes until then, and answers
 *   them all with 500 if it fails. The transaction opens at the batch's
 *   first change and holds the database's write lock until the commit
 *   (other writers wait up to the busy timeout): one turn of the event
 *   loop, no more. Reads in the batch after its first change see the
 *   batch's changes (answer them after the commit too); reads before it see
 *   what was committed. A batch of reads only takes no lock.
 * - Lookups (and watches, user-info gets) change nothing but are audited,
 *   and must not wait for the disk (IRP.md 10.4). Their audit rows are
 *   queued in the store and written in bulk: with the next change committed
 *   on this store (durably, with it), or on their own by irpd_store_flush,
 *   by close, or first thing when IRPD_STORE_AUDIT_QUEUE rows wait outside
 *   a batch's transaction. Rows written on their own are committed without
 *   fsync: they survive kill -9 and reach the disk with the next durable
 *   commit or checkpoint (a power failure may lose lookup records, never a
 *   write). Call irpd_store_flush from a one-second timer: IRP.md 10.4
 *   allows losing up to 1 s of lookup records. If the rows cannot be
 *   written, the lookup (or the commit that carries them) fails with
 *   IRP_INTERNAL. Audit ids follow the order rows were written; ts says
 *   when each thing happened.
 *
 * Threads: an irpd_store is one database connection with its prepared
 * statements, for one thread at a time (no lock inside). To use several
 * cores, open one store per thread on the same database: readers run in
 * parallel (WAL), writers take turns. Process-wide, the first
 * irpd_store_open_sqlite turns SQLite's memory statistics off (a global
 * mutex on every allocation) unless SQLite was initialised before.
 *
 * Callbacks: list functions call back once per row; pointers in what a
 * callback receives are valid only during that call. A callback must not
 * call into the same store. It returns 0 to go on, anything else to stop:
 * the function then returns IRP_INTERNAL ("stopped by the caller"). When a
 * function that called back returns anything but 0, discard what the
 * callbacks built. The callback of user_list, allow_list, info_get,
 * access_log and audit_list is required (NULL: IRP_BAD_REQUEST); the others
 * may be NULL (not wanted).
 *
 * A store whose open failed answers every function but irpd_store_errmsg
 * and irpd_store_close with IRP_INTERNAL, before any argument check.
 *
 * Names: user IDs compare case-insensitively (ASCII), as certificate
 * identities do (sc_cert_check_identity); a user keeps the spelling it was
 * created with. Every user ID argument must pass sc_cert_valid_user_id, else
 * IRP_BAD_REQUEST. `actor` says who asked, for the audit table (a user ID,
 * "cli", ...; at most IRPD_STORE_TEXT_MAX bytes; NULL is recorded as NULL).
 */
#ifndef IRPD_STORE_H
#define IRPD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "sixchat/error.h"
#include "irp_status.h"

/* ---- limits (bytes without the NUL, unless said; IRP.md 8) ---------------- */

#define IRPD_STORE_USER_MAX 254      /* a user ID, = SC_USER_ID_MAX */
#define IRPD_STORE_DEVICE_MAX 64     /* device id: 1..64 of [A-Za-z0-9._-] */
#define IRPD_STORE_ADDRS_MAX 8       /* addresses per binding */
#define IRPD_STORE_ADDR_MAX 45       /* one address as text (IRP_ADDR_STRLEN - 1) */
#define IRPD_STORE_DEVICES_MAX 8     /* live bindings per user (more: 409) */
#define IRPD_STORE_SEQ_KEEP 86400    /* seconds a device's seq is kept after its binding ends */
#define IRPD_STORE_SERIAL_MAX 40     /* serial as hex digits (20 octets) */
#define IRPD_STORE_REASON_MAX 32     /* revocation reason, a name of IRP.md 13.5 */
#define IRPD_STORE_PW_MAX 256        /* password hash, opaque (>= IRPD_PW_ENCODED_MAX) */
#define IRPD_STORE_SALT_MAX 128      /* password salt, opaque */
#define IRPD_STORE_CERT_DER_MAX 8192 /* one certificate */
#define IRPD_STORE_VALID_CERTS 3     /* valid certificates per user; enrolling a 4th supersedes */
#define IRPD_STORE_LOOKUP_CERTS 8    /* certificates one lookup reports */
#define IRPD_STORE_P12_MAX 12000     /* one PKCS#12 backup */
#define IRPD_STORE_INFO_MAX 8        /* user-info items per user (and per call) */
#define IRPD_STORE_INFO_NAME_MAX 32  /* 1..32 of [a-z0-9-] */
#define IRPD_STORE_INFO_VALUE_MAX 256
#define IRPD_STORE_ALLOW_MAX 24 /* allow list entries */
#define IRPD_STORE_OP_MAX 32    /* audit op: printable ASCII without space */
#define IRPD_STORE_TEXT_MAX 255 /* audit actor, target, detail */
#define IRPD_STORE_ERRMSG_MAX 256
#define IRPD_STORE_AUDIT_QUEUE 16384 /* lookup records queued before they are written anyway */

/* ---- records ------------------------------------------------------------------ */

/* Who may look a user up, watch them and read their user-info (IRP.md 7.3). */
typedef enum irpd_access {
    IRPD_ACCESS_ANYONE = 0, /* every authenticated user (the default) */
    IRPD_ACCESS_LIST = 1,   /* the users on the allow list */
    IRPD_ACCESS_NOBODY = 2,
} irpd_access;

typedef struct irpd_user {
    char name[IRPD_STORE_USER_MAX + 1]; /* as created */
    irpd_access access;
    int admin; /* 1 if an administrator */
    int64_t created;
    /*
     * irpd_store_user_get only: opaque to the store (irpd_secret.h's text,
     * which carries its salt); pw_hash_len 0: no password. pw_hash is always
     * NUL-terminated after its bytes, so a text encoding reads as a string.
     */
    uint8_t pw_hash[IRPD_STORE_PW_MAX + 1];
    size_t pw_hash_len;
    uint8_t pw_salt[IRPD_STORE_SALT_MAX];
    size_t pw_salt_len;
    /* irpd_store_user_list only (list-users): live bindings, valid certificates. */
    unsigned n_devices, n_certs;
} irpd_user;

/* One user-info item (IRP.md 6.13), e.g. {"display-name", "Alice", 5}. */
typedef struct irpd_info {
    const char *name;  /* 1..32 of [a-z0-9-] */
    const char *value; /* UTF-8 text (no control character but TAB, LF, CR), not NUL-terminated */
    size_t value_len;  /* 0..IRPD_STORE_INFO_VALUE_MAX; 0 deletes the item (set) */
} irpd_info;

typedef enum irpd_cert_status {
    IRPD_CERT_VALID = 0, /* not revoked (it may have expired: compare not_after) */
    IRPD_CERT_REVOKED = 1,
} irpd_cert_status;

/*
 * A certificate. serial: lowercase hex without leading zeros, as
 * irpd_ca_serial_hex writes it (the store lowercases what it is given).
 * As input (enroll, cert_add, binding_put) the store uses serial, user,
 * der, not_before and not_after, computes the fingerprint (SHA-256 of der)
 * itself and ignores the rest.
 */
typedef struct irpd_cert {
    char serial[IRPD_STORE_SERIAL_MAX + 1];
    char user[IRPD_STORE_USER_MAX + 1];
    uint8_t fingerprint[32];
    const uint8_t *der; /* see each function for who owns it; NULL when not reported */
    size_t der_len;
    int64_t not_before, not_after;
    irpd_cert_status status;
    int64_t revoked_at;                     /* 0 while valid */
    char reason[IRPD_STORE_REASON_MAX + 1]; /* "" while valid */
} irpd_cert;

/* Where one device of a user is reachable (IRP.md 6.7). */
typedef struct irpd_binding {
    char user[IRPD_STORE_USER_MAX + 1];
    char device[IRPD_STORE_DEVICE_MAX + 1];
    uint64_t seq; /* strictly increasing per (user, device) */
    uint16_t port;
    size_t n_addrs; /* 1..IRPD_STORE_ADDRS_MAX, in the order registered */
    char addrs[IRPD_STORE_ADDRS_MAX][IRPD_STORE_ADDR_MAX + 1];
    char seen[IRPD_STORE_ADDR_MAX + 1]; /* source address the server saw; may be "" */
    int64_t expires;                    /* live while now < expires */
    int64_t updated;                    /* when it was registered */
} irpd_binding;

/* What a call revoked, so the server can tell watchers and close connections (IRP.md 6.12). */
typedef struct irpd_revocation {
    char user[IRPD_STORE_USER_MAX + 1];
    size_t n_certs;                         /* certificates this call revoked */
    char serial[IRPD_STORE_SERIAL_MAX + 1]; /* the last of them, when n_certs > 0 */
    uint8_t fingerprint[32];
    size_t n_bindings; /* live bindings this call ended */
} irpd_revocation;

typedef struct irpd_audit_row {
    int64_t id; /* increasing */
    int64_t ts;
    const char *actor; /* may be NULL */
    const char *op;    /* "enroll", "register", "lookup", ... */
    const char *target;
    const char *detail; /* the result and particulars */
} irpd_audit_row;

typedef int (*irpd_user_cb)(void *arg, const irpd_user *u);
typedef int (*irpd_name_cb)(void *arg, const char *name);
typedef int (*irpd_info_cb)(void *arg, const irpd_info *item);
typedef int (*irpd_cert_cb)(void *arg, const irpd_cert *c);
typedef int (*irpd_binding_cb)(void *arg, const irpd_binding *b);
typedef int (*irpd_audit_cb)(void *arg, const irpd_audit_row *r);

/* What a lookup reports; each may be NULL. */
typedef struct irpd_lookup_cb {
    irpd_binding_cb binding;
    irpd_cert_cb cert;
} irpd_lookup_cb;

/* ---- opening and closing --------------------------------------------------------- */

typedef struct irpd_store irpd_store;

enum {
    IRPD_STORE_CREATE = 1, /* create the database (mode 0600) and its schema if missing */
};

typedef struct irpd_store_opts {
    unsigned flags;      /* IRPD_STORE_* */
    int busy_timeout_ms; /* how long to wait for another writer; 0: 5000 */
    int cache_kib;       /* page cache of this connection, KiB; 0: 65536 */
} irpd_store_opts;

/*
 * Opens (with IRPD_STORE_CREATE: creates) the SQLite database at path: WAL
 * mode, synchronous=FULL, foreign keys on, every statement prepared once. A
 * new file is created with mode 0600 (its -wal and -shm files take the same
 * mode); an existing file's mode is left alone. opts NULL: the defaults.
 *
 * *out is always set: on success to the store; on failure to a store that
 * answers only irpd_store_errmsg (the reason, naming the file) and
 * irpd_store_close (every other function returns IRP_INTERNAL), or to NULL
 * when even that could not be allocated (irpd_store_errmsg(NULL) is "out of
 * memory"). Close it in both cases.
 *
 * Errors: IRP_NOT_FOUND (no file and no CREATE; an empty file and no
 * CREATE), IRP_BAD_REQUEST (path NULL or ""), IRP_INTERNAL (not a database,
 * corrupt, not an irpd database, a schema version newer than this program,
 * read-only, I/O).
 */
SC_MUST_CHECK irp_status irpd_store_open_sqlite(const char *path, const irpd_store_opts *opts,
                                                irpd_store **out);

/*
 * Opens the PostgreSQL database named by conninfo (a postgresql:// or
 * postgres:// URI, or libpq's key=value string; its password is never
 * reported): one libpq connection, every statement prepared once. With
 * IRPD_STORE_CREATE it creates the schema in a database without one, or
 * migrates an older one to this program's version (irpd init, irpd
 * migrate); without, a database without the schema is IRP_NOT_FOUND and an
 * older schema IRP_INTERNAL ("run irpd migrate"). busy_timeout_ms and
 * cache_kib are not used. *out, errors and closing as
 * irpd_store_open_sqlite (IRP_BAD_REQUEST: conninfo NULL or ""; IRP_INTERNAL:
 * cannot connect, not an irpd database, a newer schema). Only in a build
 * with libpq (IRPD_HAVE_PG).
 */
SC_MUST_CHECK irp_status irpd_store_open_pg(const char *conninfo, const irpd_store_opts *opts,
                                            irpd_store **out);

/*
 * The store irpd.conf names: `store` empty (the default), SQLite at
 * DIR/irpd.db; a postgresql:// or postgres:// URI, PostgreSQL (in a build
 * without libpq: IRP_INTERNAL, saying so). As the open functions above.
 */
SC_MUST_CHECK irp_status irpd_store_open(const char *dir, const char *store,
                                         const irpd_store_opts *opts, irpd_store **out);

/* The backend's name: "sqlite" or "pg" (logs, irpd migrate, tests). */
const char *irpd_store_backend(const irpd_store *st);

/* Writes queued lookup records (best effort; irpd_store_flush first to know), abandons an
 * open batch, frees everything. NULL is a no-op. */
void irpd_store_close(irpd_store *st);

/* The last failure on st, one sentence ("" before any). Valid until the next call on st. */
const char *irpd_store_errmsg(const irpd_store *st);

/* ---- group commit ----------------------------------------------------------------- */

/*
 * Opens a batch ("Group commit" above). Touches no database: the batch's
 * transaction begins with its first change, and a change that cannot get
 * the write lock within the busy timeout fails alone with IRP_INTERNAL.
 * Errors: IRP_INTERNAL (a batch is open already).
 */
SC_MUST_CHECK irp_status irpd_store_batch_begin(irpd_store *st);

/*
 * Commits the batch's changes durably, with the queued lookup records. On
 * 0 every change of the batch that returned 0 is durable; on
 * IRP_INTERNAL none is. Either way the batch is over. A batch without
 * changes commits nothing. Errors: IRP_INTERNAL (no batch; the batch's
 * transaction failed earlier, e.g. disk full; the commit failed).
 */
SC_MUST_CHECK irp_status irpd_store_batch_commit(irpd_store *st);

/* Abandons the batch: none of its changes stay. No-op without one. */
void irpd_store_batch_rollback(irpd_store *st);

/*
 * Writes the queued lookup records now, without fsync ("Lookups" above);
 * while a batch's transaction is open it does nothing (its commit writes
 * them). Errors: IRP_INTERNAL.
 */
SC_MUST_CHECK irp_status irpd_store_flush(irpd_store *st);

/*
 * Hands the queued lookup records to cb, oldest first (r->id 0; pointers
 * valid during the call), and forgets them without writing them: for a
 * server whose changes are written on another connection of the same
 * database (its writer thread), which writes them there with
 * irpd_store_audit_add, so that the connection the loop reads on never
 * waits for the database's write lock. The records are forgotten even when
 * cb stops (then IRP_INTERNAL). Errors: IRP_BAD_REQUEST (cb NULL),
 * IRP_INTERNAL (inside a batch's transaction: its commit writes them).
 */
SC_MUST_CHECK irp_status irpd_store_reads_take(irpd_store *st, irpd_audit_cb cb, void *arg);

/* ---- users -------------------------------------------------------------------------- */

/*
 * Creates user `name` (no password, access anyone, not admin). Audited
 * "user-add". Errors: IRP_BAD_REQUEST, IRP_CONFLICT (exists, in any case),
 * IRP_INTERNAL.
 */
SC_MUST_CHECK irp_status irpd_store_user_add(irpd_store *st, const char *name, const char *actor,
                                             int64_t now);

/* Fills *out (with the password fields). Errors: IRP_BAD_REQUEST, IRP_NOT_FOUND, IRP_INTERNAL. */
SC_MUST_CHECK irp_status irpd_store_user_get(irpd_store *st, const char *name, irpd_user *out);

/*
 * list-users (IRP.md 6.17): calls cb for at most limit users whose ID sorts
 * after `after` (ASCII case-folded; NULL: from the first), in that order,
 * with n_devices and n_certs at time now and no password fields. Ask for
 * one more than a page to know whether more follow. Errors:
 * IRP_BAD_REQUEST (after not a user ID), IRP_INTERNAL.
 */
SC_MUST_CHECK irp_status irpd_store_user_list(irpd_store *st, const char *after, size_t limit,
                                              int64_t now, irpd_user_cb cb, void *arg);

/*
 * Sets the password hash (opaque, 1..IRPD_STORE_PW_MAX bytes: the text
 * irpd_pw_hash writes, without its NUL) and salt (0..IRPD_STORE_SALT_MAX
 * bytes; NULL, 0 when the hash carries it), or clears both (hash NULL).
 * Audited "passwd", never with the hash. Errors: IRP_BAD_REQUEST,
 * IRP_NOT_FOUND, IRP_INTERNAL.
 */
SC_MUST_CHECK irp_status irpd_store_user_set_password(irpd_store *st, const char *name,
                                                      const uint8_t *hash, size_t hash_len,
                                                      const uint8_t *salt, size_t salt_len,
                                                      const char *actor, int64_t now);

/* Grants (1) or withdraws (0) administrator rights. Audited "admin". Errors as above. */
SC_MUST_CHECK irp_status irpd_store_user_set_admin(irpd_store *st, const char *name, int admin,
                                                   const char *actor, int64_t now);

/*
 * lookup-policy set (IRP.md 6.14): sets the access and replaces the allow
 * list with allow[0..n_allow) (user IDs, distinct case-insensitively; only
 * with IRPD_ACCESS_LIST; n_allow 0 empties it; allow may be NULL then).
 * Audited "lookup-policy". Errors: IRP_BAD_REQUEST (access out of range,
 * an invalid or repeated ID, entries with another access), IRP_TOO_LARGE
 * (over IRPD_STORE_ALLOW_MAX), IRP_NOT_FOUND, IRP_INTERNAL.
 */
SC_MUST_CHECK irp_status irpd_store_user_set_access(irpd_store *st, const char *name,
                                                    irpd_access access, const char *const *allow,
                                                    size_t n_allow, const char *actor, int64_t now);

/* Calls cb for each name on the allow list, in order. Errors: IRP_BAD_REQUEST, IRP_NOT_FOUND,
 * IRP_INTERNAL. (The access itself is in irpd_user.) */
SC_MUST_CHECK irp_status irpd_store_allow_list(irpd_store *st, const char *name, irpd_name_cb cb,
                                               void *arg);

/*
 * user-info set (IRP.md 6.13): replaces each named item, deletes those with
 * value_len 0, keeps the others. Names must be distinct. Whether a name is
 * one IRP defines (else 422) is the server's check. Audited "user-info"
 * (the names, not the values). Errors: IRP_BAD_REQUEST (a name not 1..32
 * of [a-z0-9-], repeated; a value not text), IRP_TOO_LARGE (a value over
 * IRPD_STORE_INFO_VALUE_MAX; more than IRPD_STORE_INFO_MAX items given or
 * then held), IRP_NOT_FOUND, IRP_INTERNAL.
 */
SC_MUST_CHECK irp_status irpd_store_info_set(irpd_store *st, const char *user,
                                             const irpd_info *items, size_t n, const char *actor,
                                             int64_t now);

/* Calls cb for each user-info item, by name. Not audited (a get of another user's info goes
 * through irpd_store_lookup first). Errors: IRP_BAD_REQUEST, IRP_NOT_FOUND, IRP_INTERNAL. */
SC_MUST_CHECK irp_status irpd_store_info_get(irpd_store *st, const char *user, irpd_info_cb cb,
                                             void *arg);

/* ---- enrolment tokens (IRP.md 7.2) ------------------------------------------------- */

/*
 * Stores a one-time enrolment token for `user` (who need not exist yet:
 * enrolment creates them) by its SHA-256 (irpd_token_hash); the token never
 * reaches the store. Usable while now < expires. Audited "token-add" with
 * the first 4 bytes of the hash. Errors: IRP_BAD_REQUEST (user, expires <=
 * now), IRP_CONFLICT (this hash exists), IRP_INTERNAL.
 */
SC_MUST_CHECK irp_status irpd_store_token_add(irpd_store *st, const uint8_t hash[32],
                                              const char *user, int64_t expires, const char *actor,
                                              int64_t now);

/*
 * Whether the token would be accepted, without using it; its user into
 * user_out (IRPD_STORE_USER_MAX + 1 bytes, may be NULL). The server calls it
 * before issuing a certificate; irpd_store_enroll then uses the token.
 * Errors (IRP.md 6.5 step 1): IRP_FORBIDDEN (unknown token), IRP_GONE (used,
 * or now >= expires), IRP_INTERNAL.
 */
SC_MUST_CHECK irp_status irpd_store_token_check(irpd_store *st, const uint8_t hash[32], int64_t now,
                                                char *user_out);

/*
 * Uses the token, once: atomically checks it is unused and unexpired and
 * marks it used; its user into user_out (may be NULL). Audited "token-use".
 * (irpd_store_enroll does this itself.) Errors as irpd_store_token_check.
 */
SC_MUST_CHECK irp_status irpd_store_token_consume(irpd_store *st, const uint8_t hash[32],
                                                  int64_t now, char *user_out, const char *actor);

/* ---- certificates --------------------------------------------------------------------- */

/*
 * enroll (IRP.md 6.5), in one transaction: with token_hash, uses the token
 * (it must name cert->user) and creates the user if new; without (after a
 * password login), the user must exist. Records the certificate (valid;
 * cert->der is read, not kept) and audits "enroll". If the user then holds
 * more than IRPD_STORE_VALID_CERTS valid unexpired certificates, revokes the
 * one among the others that expires first, reason "superseded", with the
 * effects of irpd_store_cert_revoke (audited "revoke"); *sup (may be NULL)
 * says what was revoked. On any error the token stays unused. Errors:
 * IRP_BAD_REQUEST (serial not hex, DER empty or too large, not_after <=
 * not_before, user), IRP_FORBIDDEN (unknown token; a token for another
 * user), IRP_GONE (token used or expired), IRP_NOT_FOUND (no token and no
 * such user), IRP_CONFLICT (serial or fingerprint recorded already),
 * IRP_INTERNAL.
 */
SC_MUST_CHECK irp_status irpd_store_enroll(irpd_store *st, const uint8_t *token_hash,
                                           const irpd_cert *cert, const char *actor, int64_t now,
                                           irpd_revocation *sup);

/*
 * renew (IRP.md 6.6): records a certificate for an existing user, audited
 * "renew", with the supersede rule of irpd_store_enroll, never choosing the
 * certificate whose fingerprint is keep_fp (the one that authenticated the
 * request; may be NULL). Errors as irpd_store_enroll without a token.
 */
SC_MUST_CHECK irp_status irpd_store_cert_add(irpd_store *st, const irpd_cert *cert,
                                             const uint8_t *keep_fp, const char *actor, int64_t now,
                                             irpd_revocation *sup);

/*
 * cert-status: a certificate by serial (hex, any case) or by fingerprint.
 * With der not NULL the DER is copied there (der_cap bytes; IRP_TOO_LARGE
 * if it does not fit) and out->der points to it; with der NULL, out->der is
 * NULL and der_len says the size. Errors: IRP_BAD_REQUEST (serial not hex),
 * IRP_NOT_FOUND, IRP_TOO_LARGE, IRP_INTERNAL.
 */
SC_MUST_CHECK irp_status irpd_store_cert_get_serial(irpd_store *st, const char *serial,
                                                    irpd_cert *out, uint8_t *der, size_t der_cap);
SC_MUST_CHECK irp_status irpd_store_cert_get_fp(irpd_store *st, const uint8_t fp[32],
                                                irpd_cert *out, uint8_t *der, size_t der_cap);

/* Calls cb for every certificate of the user (valid, revoked, expired), oldest first; c->der
 * points into the store. Errors: IRP_BAD_REQUEST, IRP_NOT_FOUND, IRP_INTERNAL. */
SC_MUST_CHECK irp_status irpd_store_cert_list(irpd_store *st, const char *user, irpd_cert_cb cb,
                                              void *arg);

/*
 * revoke (IRP.md 6.12), by serial or by fingerprint (exactly one not NULL),
 * in one transaction: marks the certificate revoked (now, reason: a name of
 * IRP.md 13.5, NULL: "unspecified") and ends every live binding of its
 * user; audited "revoke". Revoking a revoked certificate succeeds (0) and
 * changes nothing (out->n_certs 0). *out (may be NULL) says whose, which
 * certificate and how many bindings ended. Who may revoke is the server's
 * check. Errors: IRP_BAD_REQUEST (serial, reason, both or neither given),
 * IRP_NOT_FOUND, IRP_INTERNAL.
 */
SC_MUST_CHECK irp_status irpd_store_cert_revoke(irpd_store *st, const char *serial,
                                                const uint8_t *fp, const char *reason,
                                                const char *actor, int64_t now,
                                                irpd_revocation *out);

/*
 * `irpd revoke USER` (IRP.md 6.12): every valid certificate of the user
 * (external ones recorded too) and all their bindings, and disables the
 * account: the password is cleared and the user's unused tokens are marked
 * used, so nothing issued before enrols again; in one transaction; audited
 * "revoke". A new password or token re-admits the user. Errors:
 * IRP_BAD_REQUEST, IRP_NOT_FOUND, IRP_INTERNAL.
 */
SC_MUST_CHECK irp_status irpd_store_user_revoke(irpd_store *st, const char *user,
                                                const char *reason, const char *actor, int64_t now,
                                                irpd_revocation *out);

/*
 * IRP.md 7.6: records an external CA's certificate the first time it
 * authenticates a request (own CA certificates are recorded by enroll and
 * renew): creates cert->user if new (audited "user-add") and records the
 * certificate, valid, audited "cert-record"; a certificate whose
 * fingerprint is recorded already succeeds (0) and changes nothing (look at
 * its status with irpd_store_cert_get_fp). Errors: IRP_BAD_REQUEST (as
 * irpd_store_enroll's certificate), IRP_INTERNAL.
 */
SC_MUST_CHECK irp_status irpd_store_cert_record(irpd_store *st, const irpd_cert *cert,
                                                const char *actor, int64_t now);

/* ---- bindings (IRP.md 6.7, 6.8, 10.3) ------------------------------------------------ */

/*
 * register, steps 2, 3, 5 and 6, in one transaction:
 * - a seq not greater than the one stored for (b->user, b->device) is
 *   IRP_CONFLICT; the seq is kept IRPD_STORE_SEQ_KEEP s after the binding
 *   ends, so a delayed register cannot resurrect it;
 * - a device without a live binding while the user has
 *   IRPD_STORE_DEVICES_MAX is IRP_CONFLICT;
 * - auth_cert (the client's certificate; NULL: no check): if recorded, it
 *   must be b->user's and valid at now, else IRP_FORBIDDEN (closes the race
 *   with a revocation); if not, it is recorded (an external CA's, 7.6);
 * - the binding is replaced (seq, port, addrs in order, seen, expires,
 *   updated = now) and audited "register".
 * The server checks addresses (classes, 422) and clamps the lifetime before.
 * Errors: IRP_BAD_REQUEST (user, device, port 0, addresses: none, too many,
 * empty, too long, a space or control character; expires <= now; auth_cert
 * invalid), IRP_NOT_FOUND (no such user), IRP_FORBIDDEN, IRP_CONFLICT,
 * IRP_INTERNAL.
 */
SC_MUST_CHECK irp_status irpd_store_binding_put(irpd_store *st, const irpd_binding *b,
                                                const irpd_cert *auth_cert, const char *actor,
                                                int64_t now);

/*
 * unregister: ends the live binding of one device (device not NULL) or of
 * all the user's devices (device NULL); the count into *n_ended (may be
 * NULL). With seq (device only), only if *seq is greater than the stored
 * one (else IRP_CONFLICT), and it is stored. Audited "unregister". Errors:
 * IRP_BAD_REQUEST (also seq without device), IRP_NOT_FOUND (no such user;
 * the device has no live binding), IRP_CONFLICT, IRP_INTERNAL.
 */
SC_MUST_CHECK irp_status irpd_store_binding_delete(irpd_store *st, const char *user,
                                                   const char *device, const uint64_t *seq,
                                                   const char *actor, int64_t now, size_t *n_ended);

/* Calls cb for each live binding of the user (now < expires), by device. Not audited.
 * Errors: IRP_BAD_REQUEST, IRP_NOT_FOUND, IRP_INTERNAL. */
SC_MUST_CHECK irp_status irpd_store_binding_list(irpd_store *st, const char *user, int64_t now,
                                                 irpd_binding_cb cb, void *arg);

/*
 * The sweep (IRP.md 10.3, at least every 5 s): calls cb (may be NULL) for
 * each binding that expired (expires <= now) since the last sweep, so the
 * server can send `expire` events, and marks it ended; forgets bindings
 * ended more than IRPD_STORE_SEQ_KEEP s ago. Expired bindings are never
 * returned by reads, swept or not. Count into *n_expired (may be NULL);
 * audited "expire" when any. A callback that stops rolls the sweep back.
 * Errors: IRP_INTERNAL.
 */
SC_MUST_CHECK irp_status irpd_store_sweep(irpd_store *st, int64_t now, irpd_binding_cb cb,
                                          void *arg, size_t *n_expired);

/* ---- lookup: the hot path (IRP.md 6.9, 6.10, 7.3) --------------------------------- */

enum {
    IRPD_LOOKUP_ANY = 1,       /* skip the policy (administrators, the local CLI) */
    IRPD_LOOKUP_WATCH = 2,     /* audit as "watch" */
    IRPD_LOOKUP_USER_INFO = 4, /* audit as "user-info" */
};

/*
 * Whether viewer may look target up: target itself, IRPD_LOOKUP_ANY, access
 * anyone, or list with viewer on the allow list. Not audited (to re-check
 * watches after a policy change). Errors: IRP_BAD_REQUEST (invalid IDs;
 * viewer NULL without IRPD_LOOKUP_ANY), IRP_NOT_FOUND (no such target),
 * IRP_FORBIDDEN, IRP_INTERNAL.
 */
SC_MUST_CHECK irp_status irpd_store_access_check(irpd_store *st, const char *viewer,
                                                 const char *target, unsigned flags);

/*
 * lookup (and watch, and a user-info get of another user: flags), from one
 * snapshot: checks access as irpd_store_access_check; puts the target's
 * stored spelling into user_out (IRPD_STORE_USER_MAX + 1 bytes, may be
 * NULL; also on IRP_FORBIDDEN); calls cb->binding for each live binding by
 * device, then cb->cert for each valid unexpired certificate, most recently
 * issued first, at most IRPD_STORE_VALID_CERTS (with der), then for each
 * revoked unexpired one, most recently revoked first, without der (der
 * NULL), IRPD_STORE_LOOKUP_CERTS in all. Audited (op "lookup", "watch" or
 * "user-info"; detail "ok" or "forbidden") through the queue ("Lookups"
 * above). Errors: as irpd_store_access_check.
 */
SC_MUST_CHECK irp_status irpd_store_lookup(irpd_store *st, const char *viewer, const char *target,
                                           int64_t now, unsigned flags, const irpd_lookup_cb *cb,
                                           void *arg, char *user_out);

/*
 * access-log (IRP.md 6.15): calls cb for at most limit records with id >
 * after_id, oldest first, of other users' allowed lookups, watches and
 * user-info gets of `owner` (r->actor is who looked). Only written records
 * count: irpd_store_flush first for the latest. Errors: IRP_BAD_REQUEST,
 * IRP_INTERNAL.
 */
SC_MUST_CHECK irp_status irpd_store_access_log(irpd_store *st, const char *owner, int64_t after_id,
                                               size_t limit, irpd_audit_cb cb, void *arg);

/* ---- PKCS#12 backups (IRP.md 6.16) ----------------------------------------------------- */

/* Stores (replacing) the user's backup, 1..IRPD_STORE_P12_MAX opaque bytes; audited
 * "pkcs12-put". Errors: IRP_BAD_REQUEST (empty), IRP_TOO_LARGE, IRP_NOT_FOUND, IRP_INTERNAL. */
SC_MUST_CHECK irp_status irpd_store_p12_put(irpd_store *st, const char *user, const uint8_t *blob,
                                            size_t len, const char *actor, int64_t now);

/*
 * Copies the user's backup into buf (cap bytes; IRPD_STORE_P12_MAX always
 * suffices), its length into *len and when it was stored into *updated
 * (may be NULL). Errors: IRP_BAD_REQUEST, IRP_NOT_FOUND (no such user, or
 * no backup), IRP_TOO_LARGE (cap too small), IRP_INTERNAL.
 */
SC_MUST_CHECK irp_status irpd_store_p12_get(irpd_store *st, const char *user, uint8_t *buf,
                                            size_t cap, size_t *len, int64_t *updated);

/* ---- audit (IRP.md 10.4) --------------------------------------------------------------- */

/*
 * Appends a record of something the server did outside the store (a
 * refused login, say): op 1..IRPD_STORE_OP_MAX printable ASCII without
 * space; actor, target, detail at most IRPD_STORE_TEXT_MAX bytes of text,
 * or NULL. Committed at once, or with the open batch's transaction.
 * Errors: IRP_BAD_REQUEST, IRP_INTERNAL.
 */
SC_MUST_CHECK irp_status irpd_store_audit_add(irpd_store *st, int64_t now, const char *actor,
                                              const char *op, const char *target,
                                              const char *detail);

/*
 * Calls cb for at most limit records with id > after_id, oldest first: all
 * (target NULL) or those about target (case-insensitive). Page with
 * after_id = the last id seen. The table refuses every change and
 * deletion. Errors: IRP_BAD_REQUEST, IRP_INTERNAL.
 */
SC_MUST_CHECK irp_status irpd_store_audit_list(irpd_store *st, const char *target, int64_t after_id,
                                               size_t limit, irpd_audit_cb cb, void *arg);

#endif
