/*
 * sixchat_help.c - the command table and each command's manual page
 * (`sixchat CMD --help`). The exit codes are those of sixchat_client.h.
 */
#include "sixchat_cli.h"

#define EXIT_COMMON SX_HELP_EXIT
#define COMMON_OPTS SX_HELP_OPTS

static const char H_UP[] =
    "NAME\n    sixchat up - run the agent in the foreground\n\n"
    "SYNOPSIS\n    sixchat [--home DIR] up [--listen ADDR:PORT]... [--advertise IP]...\n"
    "               [--allow-local] [--no-registry] [--idle SECONDS] [--lifetime SECONDS]\n"
    "               [--peer-rate N] [--conn-per-source N] [--dns IPV4[:PORT]]\n\n"
    "DESCRIPTION\n"
    "    Listens for End2End Direct peers (default [::]:4605, dual-stack), registers\n"
    "    the machine's usable addresses with the registry given at `sixchat init`,\n"
    "    keeps them registered, serves the local API on a Unix socket (mode 0600) in\n"
    "    the runtime directory, and delivers the outbox. Prints\n"
    "    `sixchat ready as USER on ADDR:PORT` once listening and registered. Logs go\n"
    "    to standard error. SIGTERM or SIGINT stop it cleanly (unregistered,\n"
    "    sessions closed, socket removed).\n\n"
    "OPTIONS\n"
    "    --listen ADDR:PORT  listen here instead (repeatable; port 0 picks one)\n"
    "    --advertise IP      register this address instead of the machine's (repeatable)\n"
    "    --allow-local       also register loopback and link-local addresses (tests)\n"
    "    --no-registry       do not connect to the registry\n"
    "    --idle SECONDS      close peer sessions idle this long\n"
    "    --lifetime SECONDS  registration lifetime to ask for\n"
    "    --peer-rate N       stanzas a second one peer may send before its reads\n"
    "                        pause (default 5000)\n"
    "    --conn-per-source N connection attempts one source address may make in\n"
    "                        10 s (default 20)\n"
    "    --dns IPV4[:PORT]   the DNS server for SRV lookups of registries\n"
    "                        (docs/IRP.md 2.1) instead of the system's\n"
    "    --help              this page\n\n"
    "EXIT STATUS\n"
    "    0  stopped by SIGTERM or SIGINT\n"
    "    1  could not start (no identity, another agent running, a port in use ...)\n"
    "    2  usage error\n";

static const char H_STATUS[] =
    "NAME\n    sixchat status - what the agent is doing\n\n"
    "SYNOPSIS\n    sixchat status [--json]\n\n"
    "DESCRIPTION\n"
    "    Identity and device, registration and the addresses registered, a NAT\n"
    "    warning when the registry sees another address than the one registered,\n"
    "    the listening address, sessions up, and messages waiting in the outbox.\n\n"
    "OPTIONS\n" COMMON_OPTS "\n" EXIT_COMMON;

static const char H_SEND[] =
    "NAME\n    sixchat send - send a message\n\n"
    "SYNOPSIS\n    sixchat send [--wait] [--timeout SECONDS] [--json] USER [TEXT]\n\n"
    "DESCRIPTION\n"
    "    Queues TEXT (or standard input, without its final newline) for USER in the\n"
    "    outbox and prints the message id. The message is stored durably before\n"
    "    this returns; it goes at once when USER is online, otherwise as soon as\n"
    "    the registry reports them back, and it is retried until it is delivered\n"
    "    or expires (default 30 days). Writing to a user makes them a contact.\n\n"
    "OPTIONS\n"
    "    --wait               wait for the delivery receipt, then print `delivered`\n"
    "    --timeout SECONDS    how long --wait waits (default 30)\n" COMMON_OPTS "\n" EXIT_COMMON
    "    4  --wait: no receipt before the timeout (the message still waits)\n"
    "    5  --wait: the message failed (expired) or was cancelled\n";

static const char H_HISTORY[] =
    "NAME\n    sixchat history - messages exchanged\n\n"
    "SYNOPSIS\n    sixchat history [USER] [--search TEXT] [--limit N] [--json]\n\n"
    "DESCRIPTION\n"
    "    The last N messages (default 50) with USER, or with everyone, oldest first,\n"
    "    each with its time, direction, delivery state and id. --search keeps those\n"
    "    whose text contains TEXT as a phrase (full-text search, SQLite FTS5).\n\n"
    "OPTIONS\n"
    "    --search TEXT   only messages containing TEXT\n"
    "    --limit N       at most N messages (0: all)\n" COMMON_OPTS "\n" EXIT_COMMON;

static const char H_OUTBOX[] =
    "NAME\n    sixchat outbox - messages waiting for delivery\n\n"
    "SYNOPSIS\n    sixchat outbox [list] [USER] [--json]\n"
    "    sixchat outbox cancel ID [--json]\n\n"
    "DESCRIPTION\n"
    "    Lists the messages not yet acknowledged by every device of their\n"
    "    recipient, oldest first; `cancel` takes one out (it is then `cancelled`).\n\n"
    "OPTIONS\n" COMMON_OPTS "\n" EXIT_COMMON;

static const char H_CONTACTS[] =
    "NAME\n    sixchat contacts - the people you talk to\n\n"
    "SYNOPSIS\n    sixchat contacts [list] [--json]\n"
    "    sixchat contacts add USER [--name NAME] [--json]\n"
    "    sixchat contacts remove USER [--json]\n\n"
    "DESCRIPTION\n"
    "    A contact's certificate is pinned the first time a session with them is\n"
    "    made (trust on first use). If it later changes, the contact is marked, their\n"
    "    messages wait, and `sixchat trust` accepts the new certificate after you\n"
    "    have compared fingerprints.\n\n"
    "OPTIONS\n"
    "    --name NAME  a display name\n" COMMON_OPTS "\n" EXIT_COMMON;

static const char H_BLOCK[] =
    "NAME\n    sixchat block - refuse a user\n\n"
    "SYNOPSIS\n    sixchat block USER [--json]\n\n"
    "DESCRIPTION\n"
    "    The user's sessions are closed and every new one is refused during the\n"
    "    handshake. Messages to them are refused too.\n\n"
    "OPTIONS\n" COMMON_OPTS "\n" EXIT_COMMON;

static const char H_UNBLOCK[] = "NAME\n    sixchat unblock - accept a blocked user again\n\n"
                                "SYNOPSIS\n    sixchat unblock USER [--json]\n\n"
                                "OPTIONS\n" COMMON_OPTS "\n" EXIT_COMMON;

static const char H_TRUST[] =
    "NAME\n    sixchat trust - accept a contact's certificate\n\n"
    "SYNOPSIS\n    sixchat trust USER [--fingerprint HEX] [--json]\n\n"
    "DESCRIPTION\n"
    "    After comparing `sixchat fingerprint USER` with what USER reads out of\n"
    "    `sixchat fingerprint` on their side: marks the contact verified and, when\n"
    "    their certificate had changed, pins the new one, so that the messages\n"
    "    that waited go. With --fingerprint, only that certificate is accepted.\n\n"
    "OPTIONS\n"
    "    --fingerprint HEX  the fingerprint you compared (64 hex digits)\n" COMMON_OPTS
    "\n" EXIT_COMMON;

static const char H_FINGERPRINT[] =
    "NAME\n    sixchat fingerprint - certificate fingerprints, for comparing\n\n"
    "SYNOPSIS\n    sixchat fingerprint [USER] [--qr | --no-qr] [--json]\n\n"
    "DESCRIPTION\n"
    "    Your own certificate's SHA-256 fingerprint, or the one pinned for USER,\n"
    "    in groups of four for reading aloud, and as a QR code when the output is a\n"
    "    terminal.\n\n"
    "OPTIONS\n"
    "    --qr / --no-qr   force the QR code on or off\n" COMMON_OPTS "\n" EXIT_COMMON;

static const char H_LOOKUP[] =
    "NAME\n    sixchat lookup - where a user is now\n\n"
    "SYNOPSIS\n    sixchat lookup USER [--json]\n\n"
    "DESCRIPTION\n"
    "    Asks the registry for USER's registered devices and addresses and the\n"
    "    fingerprints of their valid certificates; the registry's signature on the\n"
    "    answer is verified.\n\n"
    "OPTIONS\n" COMMON_OPTS "\n" EXIT_COMMON;

static const char H_SETTINGS[] =
    "NAME\n    sixchat settings - the agent's settings\n\n"
    "SYNOPSIS\n    sixchat settings [KEY [VALUE]] [--json]\n\n"
    "DESCRIPTION\n"
    "    Shows the settings, or sets one:\n"
    "      expiry_days N        how long a message waits in the outbox (default 30)\n"
    "      read_markers on|off  tell senders when you read their messages\n"
    "      contacts_only on|off accept sessions from contacts only (default off)\n"
    "      file_auto_mb N       accept files from contacts up to N MiB without asking\n"
    "                           (0 to 1048576, default 100)\n"
    "      file_max_mb N        refuse files larger than N MiB, both ways\n"
    "                           (1 to 1048576, default 4096)\n"
    "      unknown_sender_kb N  keep at most N KiB of unread messages from each\n"
    "                           sender who is not a contact (default 64)\n"
    "      unknown_total_kb N   and from all of them together (default 1024);\n"
    "                           beyond, a message is refused and its sender told\n\n"
    "OPTIONS\n" COMMON_OPTS "\n" EXIT_COMMON;

static const char H_API[] =
    "NAME\n    sixchat api - the local API on standard input and output\n\n"
    "SYNOPSIS\n    sixchat api\n\n"
    "DESCRIPTION\n"
    "    Joins standard input and output to the agent's socket: write JSON-RPC 2.0\n"
    "    requests, one per line, read answers and events, one per line\n"
    "    (docs/AGENT-API.md). At the end of the input, the answers still due are\n"
    "    printed; after `subscribe`, events are printed until the agent closes.\n\n"
    "OPTIONS\n    --help   this page\n\n"
    "EXIT STATUS\n    0  the connection ended\n    2  usage error\n"
    "    3  the agent is not running\n";

static const char H_STOP[] = "NAME\n    sixchat stop - stop the running agent\n\n"
                             "SYNOPSIS\n    sixchat stop [--json]\n\n"
                             "DESCRIPTION\n    As SIGTERM: unregisters, closes sessions, exits.\n\n"
                             "OPTIONS\n" COMMON_OPTS "\n" EXIT_COMMON;

static const char H_EVENTS[] =
    "NAME\n    sixchat events - the agent's numbered events\n\n"
    "SYNOPSIS\n    sixchat events [--since N] [--follow] [--json]\n"
    "    sixchat events [--since N] --wait TYPE [--match KEY=VALUE] [--timeout SECONDS]\n\n"
    "DESCRIPTION\n"
    "    Prints the events after N (one per line: id, type, data) that the agent\n"
    "    still keeps, then stops; with --follow, goes on with new ones. With --wait,\n"
    "    prints until an event of TYPE (whose data has KEY=VALUE) arrives, then\n"
    "    exits 0: what scripts use to wait for a delivery or a message without\n"
    "    polling. Types are listed in docs/AGENT-API.md section 5.\n\n"
    "OPTIONS\n"
    "    --since N           start after event N (default: the newest)\n"
    "    --follow            keep printing new events\n"
    "    --wait TYPE         stop at the first event of TYPE\n"
    "    --match KEY=VALUE   ... whose data has this string value\n"
    "    --timeout SECONDS   how long --wait waits (default 30)\n" COMMON_OPTS "\n" EXIT_COMMON
    "    4  --wait: no such event before the timeout\n";

static const char H_READ[] =
    "NAME\n    sixchat read - mark a user's messages read\n\n"
    "SYNOPSIS\n    sixchat read USER [ID] [--json]\n\n"
    "DESCRIPTION\n"
    "    Marks the messages from USER read, up to ID (default: the newest), and,\n"
    "    unless the read_markers setting is off, tells USER's agent so (a read\n"
    "    marker; it is sent only while a session is up, never queued).\n\n"
    "OPTIONS\n" COMMON_OPTS "\n" EXIT_COMMON;

static const char H_INIT[] =
    "NAME\n    sixchat init - create this user's identity\n\n"
    "SYNOPSIS\n    sixchat [--home DIR] init --id USER --irp HOST[:PORT] --ca-fingerprint HEX\n"
    "                        [--key-type p256|ed25519|rsa2048] [--json]\n"
    "    sixchat [--home DIR] init --cert FILE --key FILE --ca FILE\n"
    "                        [--irp HOST[:PORT] --ca-fingerprint HEX] [--ca-domain DOMAIN]\n\n"
    "DESCRIPTION\n"
    "    The first form makes a private key (P-256 by default; mode 0600) and a\n"
    "    certificate request for USER, and records the registry (HOST, default\n"
    "    port 4604) and the SHA-256 fingerprint of its CA certificate (what\n"
    "    `irpd init` printed); then run `sixchat enroll`. The second form\n"
    "    installs a certificate from any other PKI: it is checked (key matches,\n"
    "    chain verifies against --ca, clientAuth, a user ID) and copied into the\n"
    "    home directory. --ca-domain names the domain the CA vouches for\n"
    "    (default: the user's own).\n\n"
    "OPTIONS\n"
    "    --id USER               the user ID (user@domain)\n"
    "    --irp HOST[:PORT]       the registry\n"
    "    --ca-fingerprint HEX    SHA-256 of the registry's CA certificate\n"
    "    --key-type TYPE         p256 (default), ed25519 or rsa2048\n"
    "    --cert, --key, --ca     an existing identity (PEM files)\n" COMMON_OPTS "\n"
    "EXIT STATUS\n    0  done\n    1  failed (the message says why; a key already there is kept)\n"
    "    2  usage error\n";

static const char H_ENROLL[] =
    "NAME\n    sixchat enroll - obtain the certificate from the registry\n\n"
    "SYNOPSIS\n    sixchat enroll --token TOKEN [--json]\n"
    "    sixchat enroll --password [--json]\n\n"
    "DESCRIPTION\n"
    "    Sends the request made by `sixchat init` to the registry, authenticated by\n"
    "    the one-time TOKEN (`irpd token USER` prints one) or by the user's password\n"
    "    (asked on the terminal without echo, or read from standard input), and\n"
    "    saves the certificate and the registry's CA certificate. The registry is\n"
    "    trusted through the fingerprint given at init.\n\n"
    "OPTIONS\n"
    "    --token TOKEN   a one-time enrolment token\n"
    "    --password      log in with the password instead\n" COMMON_OPTS "\n"
    "EXIT STATUS\n    0  enrolled\n    1  refused or failed (the message says why)\n"
    "    2  usage error\n";

static const char H_BACKUP[] =
    "NAME\n    sixchat backup - store the key on the registry, encrypted\n\n"
    "SYNOPSIS\n    sixchat backup\n\n"
    "DESCRIPTION\n"
    "    Packs the key and certificate into PKCS#12 encrypted under a passphrase\n"
    "    (asked twice on the terminal) and stores it on the registry, for\n"
    "    `sixchat restore` on another machine.\n\n"
    "EXIT STATUS\n    0  stored\n    1  failed\n    2  usage error\n";

static const char H_RESTORE[] =
    "NAME\n    sixchat restore - fetch the key stored by `sixchat backup`\n\n"
    "SYNOPSIS\n    sixchat [--home DIR] restore --id USER --irp HOST[:PORT]\n"
    "                           --ca-fingerprint HEX --password\n\n"
    "DESCRIPTION\n"
    "    Logs in to the registry with USER's password, fetches the backup,\n"
    "    decrypts it with its passphrase (both asked on the terminal), and\n"
    "    installs key (0600), certificate and CA certificate in the home\n"
    "    directory. This machine's agent is then another device of USER.\n\n"
    "EXIT STATUS\n    0  restored\n    1  failed (wrong password or passphrase, no backup ...)\n"
    "    2  usage error\n";

const sx_cmd sx_cmds[] = {
    {"init", sx_cmd_init, "create the key and request (or install a certificate)", H_INIT},
    {"enroll", sx_cmd_enroll, "obtain the certificate from the registry", H_ENROLL},
    {"backup", sx_cmd_backup, "store the key on the registry (PKCS#12, passphrase)", H_BACKUP},
    {"restore", sx_cmd_restore, "fetch the key from the registry onto this machine", H_RESTORE},
    {"up", sx_cmd_up, "run the agent (listen, register, deliver)", H_UP},
    {"status", sx_cmd_status, "identity, registration, sessions, outbox", H_STATUS},
    {"send", sx_cmd_send, "send a message (--wait for its receipt)", H_SEND},
    {"history", sx_cmd_history, "messages exchanged (--search TEXT)", H_HISTORY},
    {"outbox", sx_cmd_outbox, "messages waiting; cancel one", H_OUTBOX},
    {"send-file", sx_cmd_send_file, "send a file (progress bar, resumes)", sx_help_send_file},
    {"transfers", sx_cmd_transfers, "file transfers both ways", sx_help_transfers},
    {"accept", sx_cmd_accept, "accept an offered file", sx_help_accept},
    {"reject", sx_cmd_reject, "decline an offered file or stop a transfer", sx_help_reject},
    {"contacts", sx_cmd_contacts, "list, add or remove contacts", H_CONTACTS},
    {"block", sx_cmd_block, "refuse a user in the handshake", H_BLOCK},
    {"unblock", sx_cmd_unblock, "accept a blocked user again", H_UNBLOCK},
    {"trust", sx_cmd_trust, "accept a contact's (new) certificate", H_TRUST},
    {"fingerprint", sx_cmd_fingerprint, "fingerprints to compare (with a QR code)", H_FINGERPRINT},
    {"lookup", sx_cmd_lookup, "a user's devices and addresses on the registry", H_LOOKUP},
    {"trust-domain", sx_cmd_trust_domain, "talk with the users of another domain",
     sx_help_trust_domain},
    {"domains", sx_cmd_domains, "the other domains trusted", sx_help_domains},
    {"settings", sx_cmd_settings, "show or change a setting", H_SETTINGS},
    {"read", sx_cmd_read, "mark a user's messages read (read marker)", H_READ},
    {"events", sx_cmd_events, "print or wait for the agent's events", H_EVENTS},
    {"api", sx_cmd_api, "JSON-RPC on standard input and output", H_API},
    {"stop", sx_cmd_stop, "stop the running agent", H_STOP},
    {"chat", sx_cmd_chat, "talk with a user in the terminal", sx_help_chat},
};
const size_t sx_n_cmds = sizeof(sx_cmds) / sizeof(sx_cmds[0]);
