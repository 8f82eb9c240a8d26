#!/bin/sh
# tests/agent/cli.sh - the sixchat program against a real irpd, one agent
# and its local API: help pages with exit codes, the "not running" line,
# init and enroll, the ready line, send into the outbox, history and its
# search, outbox cancel, contacts, block, settings, `api` for scripts,
# events replayed with --since, stop by the API and by SIGTERM, the socket
# gone afterwards.
set -eu
. "$(dirname "$0")/lib.sh"

for c in init enroll backup restore up status send history outbox contacts block unblock \
    trust fingerprint lookup settings read events api stop; do
    "$SIXCHAT" "$c" --help >"$T/help" || fail "$c --help"
    grep -q "^EXIT STATUS" "$T/help" && grep -q "^SYNOPSIS" "$T/help" || fail "$c --help page"
done
"$SIXCHAT" --help | grep -q "send " || fail "sixchat --help"
rc=0
"$SIXCHAT" frobnicate 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "unknown command: $rc"
ok "every command has a man-style --help with its exit codes; unknown command: 2"

rc=0
sx alice status 2>"$T/err" || rc=$?
[ "$rc" = 3 ] || fail "not running: rc $rc"
[ "$(cat "$T/err")" = "sixchat: the agent is not running: start it with \`sixchat up\`" ] ||
    fail "not running: $(cat "$T/err")"
ok "no agent: one line, exit status 3"

irpd_start
enrol alice
[ "$(stat -c %a "$T/alice/key.pem")" = 600 ] || fail "key mode"
rc=0
sx alice init --id alice@example.org --irp "127.0.0.1:$IRP_PORT" --ca-fingerprint "$CAFP" \
    2>"$T/err" >/dev/null || rc=$?
[ "$rc" = 1 ] && grep -q "exists" "$T/err" || fail "init twice: $rc $(cat "$T/err")"
ok "init and enroll (key 0600); init again keeps the key"

up alice --no-registry
[ "$(stat -c %a "$T/alice/agent.sock")" = 600 ] || fail "socket mode"
rc=0
sx alice up --no-registry --listen 127.0.0.1:0 2>"$T/err" || rc=$?
[ "$rc" = 1 ] && grep -q "already running" "$T/err" || fail "second agent: $rc $(cat "$T/err")"
ok "ready line; socket 0600; a second agent for the same home refuses to start"

e0=$(last_event alice)
id1=$(sx alice send bob@example.org "first words") || fail "send"
echo "second words, from stdin" | sx alice send bob@example.org >/dev/null || fail "send stdin"
[ ${#id1} = 32 ] || fail "id: $id1"
sx alice outbox | grep -qF "first words" || fail "outbox"
sx alice outbox --json | grep -q '"state": "queued"' || fail "queued"
ok "send queues into the outbox (text or stdin), prints the id"
sx alice history bob@example.org --search "stdin" >"$T/h"
grep -qF "second words" "$T/h" && ! grep -qF "first words" "$T/h" || fail "search: $(cat "$T/h")"
ok "history --search (FTS5)"
sx alice outbox cancel "$id1" >/dev/null || fail "cancel"
sx alice history --json | grep -q '"state": "cancelled"' || fail "cancelled state"
rc=0
sx alice outbox cancel "$id1" 2>/dev/null || rc=$?
[ "$rc" = 1 ] || fail "cancel twice: $rc"
ok "outbox cancel; cancelling again fails with 1"
rc=0
sx alice send --wait --timeout 1 bob@example.org "nobody home" >/dev/null 2>&1 || rc=$?
[ "$rc" = 4 ] || fail "send --wait timeout: $rc"
ok "send --wait: exit 4 when no receipt comes in time"

sx alice contacts | grep -q "^bob@example.org" || fail "writing made bob a contact"
sx alice block eve@example.org >/dev/null || fail "block"
sx alice contacts --json | grep -q '"blocked": true' || fail "blocked"
rc=0
sx alice send eve@example.org "hi" 2>/dev/null || rc=$?
[ "$rc" = 1 ] || fail "send to blocked: $rc"
sx alice unblock eve@example.org >/dev/null || fail "unblock"
ok "contacts, block (sending refused), unblock"
sx alice settings expiry_days 7 | grep -q "expiry_days = 7" || fail "settings"
rc=0
sx alice settings expiry_days zero 2>/dev/null || rc=$?
[ "$rc" = 1 ] || fail "bad setting: $rc"
ok "settings"
# The file limits (docs/AGENT-API.md, settings): set and validated through the API, and the
# transfer module uses what was set.
sx alice settings file_auto_mb 5 | grep -qx "file_auto_mb = 5" || fail "file_auto_mb"
sx alice settings file_max_mb 1 | grep -qx "file_max_mb = 1" || fail "file_max_mb"
for bad in "file_max_mb 0" "file_max_mb 12x" "file_auto_mb x1" "file_auto_mb 1048577" \
    "file_max_mb 99999999999999999999" "nope 1"; do
    rc=0
    # shellcheck disable=SC2086
    sx alice settings $bad 2>"$T/err" || rc=$?
    [ "$rc" = 1 ] || fail "bad setting $bad: $rc"
done
grep -q "unknown setting (expiry_days, " "$T/err" || fail "unknown setting: $(cat "$T/err")"
sx alice settings --json | grep -q '"file_max_mb": 1,' || fail "settings --json"
head -c 2097152 /dev/zero >"$T/two.bin"
rc=0
sx alice send-file --detach bob@example.org "$T/two.bin" 2>"$T/err" >/dev/null || rc=$?
[ "$rc" = 1 ] && grep -qF "larger than the limit (1 MiB, setting file_max_mb)" "$T/err" ||
    fail "file_max_mb not applied: $rc $(cat "$T/err")"
ok "settings file_auto_mb and file_max_mb: set, validated, applied to send-file"
sx alice fingerprint --no-qr | grep -qE '^  [0-9A-F]{4}( [0-9A-F]{4}){15}$' || fail "fingerprint"
ok "fingerprint grouped for reading aloud"

printf '%s\n%s\n' '{"jsonrpc":"2.0","id":1,"method":"status"}' \
    '{"jsonrpc":"2.0","id":2,"method":"nope"}' | sx alice api >"$T/api"
grep -q '"id":1,"result":{' "$T/api" && grep -q '"id":2,"error":{"code":-32601' "$T/api" ||
    fail "api: $(cat "$T/api")"
ok "api: JSON-RPC on stdin/stdout, answers then EOF"

sx alice events --since "$e0" >"$T/ev"
grep -q "message.queued" "$T/ev" && grep -q "message.cancelled" "$T/ev" &&
    grep -q "contact.blocked" "$T/ev" || fail "events: $(cat "$T/ev")"
first=$(head -n 1 "$T/ev" | cut -d' ' -f1)
[ "$first" = $((e0 + 1)) ] || fail "replay from $first"
ok "events --since: the stored events from since+1, in order"

sx alice stop >/dev/null || fail "stop"
wait "$PID_alice" || fail "agent exit status after stop"
AGENT_PIDS=
[ ! -e "$T/alice/agent.sock" ] || fail "socket left behind"
up alice --no-registry
[ "$(sx alice outbox | wc -l)" = 2 ] || fail "outbox after restart: $(sx alice outbox)"
down alice
[ ! -e "$T/alice/agent.sock" ] || fail "socket left behind after SIGTERM"
ok "stop (API) and SIGTERM: exit 0, socket removed; the outbox survives a restart"
echo "1..$n"
