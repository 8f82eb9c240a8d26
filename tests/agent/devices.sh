#!/bin/sh
# tests/agent/devices.sh - a user with two devices (issue 8, "Reaching a
# peer": each message on every device): bob's certificate and key installed
# on a second agent (`sixchat init --cert --key --ca`), both registered as
# bob@example.org with their own device ids. With sessions up to both, a
# message alice sends reaches both of bob's agents, each with its receipt.
# (It reached the first device only: the second device's flush skipped a
# message the first had already marked sent.)
set -eu
. "$(dirname "$0")/lib.sh"
irpd_start
enrol alice
enrol bob
up alice
up bob
# bob's identity on a second machine: the same files in another home.
sx bob2 init --cert "$T/bob/cert.pem" --key "$T/bob/key.pem" --ca "$T/bob/ca.pem" \
    --irp "127.0.0.1:$IRP_PORT" --ca-fingerprint "$CAFP" >/dev/null 2>"$T/bob2_init.err" ||
    fail "bob2 init: $(cat "$T/bob2_init.err")"
rm -f "$T/bob2.ready"
mkfifo "$T/bob2.ready"
"$SIXCHAT" --home "$T/bob2" up --listen 127.0.0.1:0 --allow-local >"$T/bob2.ready" 2>>"$T/bob2.log" &
AGENT_PIDS="$AGENT_PIDS $!"
exec 6<"$T/bob2.ready"
read -r line <&6 || fail "bob's second agent did not start"
case "$line" in "sixchat ready as bob@example.org on "*) ;; *) fail "bob2 ready line: $line" ;; esac
ok "bob runs two agents (two devices) under one identity"

# The first message brings sessions up with both devices (a lookup gives both).
b0=$(last_event bob)
c0=$(last_event bob2)
sx alice send bob@example.org "first" --wait --timeout 20 >/dev/null || fail "first not delivered"
wait_event bob "$b0" message.received "text=first"
wait_event bob2 "$c0" message.received "text=first"
ok "the first message reached both devices"
# Both sessions are up now: the next message is queued while they are.
b0=$(last_event bob)
c0=$(last_event bob2)
sx alice send bob@example.org "second, with both sessions up" >/dev/null || fail "send"
wait_event bob "$b0" message.received "text=second, with both sessions up"
wait_event bob2 "$c0" message.received "text=second, with both sessions up"
ok "a message sent while both sessions are up reaches both devices"
