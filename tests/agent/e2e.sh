#!/bin/sh
# tests/agent/e2e.sh - the user agent end to end (issue 8, "It must show" 1):
# a real irpd and real sixchat agents on loopback. Enrol, register, lookup,
# send and receive with a receipt, read marker; a message to a peer that is
# down waits in the outbox and goes when the registry reports the peer back;
# kill -9 of the sender with 50 queued messages, restart: all 50 delivered
# exactly once, in order; an API client that subscribes with `since` after a
# disconnect gets every event it missed; a blocked user is refused.
set -eu
. "$(dirname "$0")/lib.sh"

irpd_start
ok "irpd ready on 127.0.0.1:$IRP_PORT"
for u in alice bob carol; do enrol "$u"; done
[ "$(stat -c %a "$T/alice/key.pem")" = 600 ] || fail "key mode"
ok "init and enroll for alice, bob and carol; keys 0600"

# The CLI without an agent says so, with exit status 3.
rc=0
sx alice status >/dev/null 2>"$T/norun.err" || rc=$?
[ "$rc" = 3 ] && grep -qF "the agent is not running: start it with \`sixchat up\`" "$T/norun.err" ||
    fail "not running: rc=$rc $(cat "$T/norun.err")"
ok "no agent: one line and exit status 3"

up alice
up bob
[ "$(stat -c %a "$T/alice/agent.sock")" = 600 ] || fail "socket mode"
ok "two agents ready ($ADDR_alice, $ADDR_bob); API socket 0600"

sx alice lookup bob@example.org --json >"$T/lookup.json" || fail "lookup"
grep -q '"presence": "online"' "$T/lookup.json" || fail "lookup: $(cat "$T/lookup.json")"
grep -qF "\"$ADDR_bob\"" "$T/lookup.json" || fail "lookup address: $(cat "$T/lookup.json")"
ok "lookup bob: online at $ADDR_bob"

# ---- send, receive, receipt, read marker ------------------------------------------------
b0=$(last_event bob)
id=$(sx alice send --wait --timeout 20 bob@example.org "hello bob") || fail "send --wait"
id=$(echo "$id" | head -n 1)
wait_event bob "$b0" message.received "id=$id"
grep -qF '"text":"hello bob"' "$T/wait.out" || fail "received text: $(cat "$T/wait.out")"
ok "send --wait: delivered (receipt), bob received it"
sx alice history bob@example.org --json | grep -q '"state": "delivered"' || fail "state delivered"
sx bob history alice@example.org | grep -qF "hello bob" || fail "bob's history"
sx bob history --search "hello" | grep -qF "hello bob" || fail "search"
ok "history on both sides, full-text search"
a0=$(last_event alice)
sx bob read alice@example.org >/dev/null || fail "read"
wait_event alice "$a0" message.read "id=$id"
sx alice history bob@example.org --json | grep -q '"state": "read"' || fail "state read"
ok "read marker: alice sees the message read"
id2=$(sx bob send alice@example.org "hi alice") || fail "bob send"
wait_event bob "$b0" message.delivered "id=$id2"
ok "and back: bob -> alice delivered on the same session"

# ---- a peer's terminal escapes never reach the terminal ----------------------------------
# XML 1.0 lets bob send a C1 CSI (U+009B), CR and U+202E: alice's human output shows them
# as escapes; --json keeps the text exact.
csi=$(printf '\302\233')
cr=$(printf '\r')
rlo=$(printf '\342\200\256')
a0=$(last_event alice)
id5=$(sx bob send alice@example.org "csi${csi}2J cr${cr}x rlo${rlo}txt.exe") || fail "bob send"
wait_event bob "$b0" message.delivered "id=$id5"
sx alice history bob@example.org >"$T/h.txt" || fail "history"
sx alice events --since "$a0" >"$T/ev.txt" || fail "events"
for f in "$T/h.txt" "$T/ev.txt"; do
    grep -qF "rlo" "$f" || fail "no hostile message in $f: $(cat "$f")"
    for b in "$csi" "$cr" "$rlo"; do
        ! LC_ALL=C grep -qF "$b" "$f" || fail "a control reached the output: $(od -c "$f" | head)"
    done
done
grep -qF 'csi\u009B2J cr\u000Dx rlo\u202Etxt.exe' "$T/h.txt" || fail "escapes: $(cat "$T/h.txt")"
sx alice history bob@example.org --json >"$T/h.json"
LC_ALL=C grep -qF "csi${csi}2J cr\\rx rlo${rlo}txt.exe" "$T/h.json" ||
    fail "--json not exact: $(od -c "$T/h.json" | head -40)"
ok "a peer's C1 CSI, CR and U+202E: shown as escapes in history and events; --json exact"

# ---- outbox: the peer is down, then comes back ---------------------------------------------
down bob
a0=$(last_event alice)
id3=$(sx alice send bob@example.org "while you were away") || fail "send to offline bob"
sx alice outbox | grep -qF "while you were away" || fail "outbox lists it"
ok "bob down: the message waits in alice's outbox"
up bob
wait_event alice "$a0" message.delivered "id=$id3"
sx bob history alice@example.org | grep -qF "while you were away" || fail "bob got it"
[ -z "$(sx alice outbox)" ] || fail "outbox not empty: $(sx alice outbox)"
ok "bob back: delivered from the outbox (watch event), outbox empty"

# ---- kill -9 of the sender with 50 queued messages ----------------------------------------
down bob
i=1
while [ $i -le 50 ]; do
    sx alice send bob@example.org "queued $i" >/dev/null || fail "queue $i"
    i=$((i + 1))
done
[ "$(sx alice outbox | wc -l)" = 50 ] || fail "50 in the outbox"
down alice KILL
ok "50 queued, alice killed with SIGKILL"
up alice
[ "$(sx alice outbox | wc -l)" = 50 ] || fail "50 still in the outbox after the restart"
b0=$(last_event bob 2>/dev/null || echo 0)
up bob
sx bob events --since 0 --wait message.received --match "text=queued 50" --timeout 30 \
    >/dev/null || fail "the 50th message did not arrive"
sx bob history alice@example.org --limit 0 | sed -n 's/.*<- alice@example.org: \(queued [0-9]*\) .*/\1/p' \
    >"$T/got"
i=1
: >"$T/want"
while [ $i -le 50 ]; do
    echo "queued $i" >>"$T/want"
    i=$((i + 1))
done
cmp -s "$T/got" "$T/want" || fail "not exactly once in order: $(diff "$T/want" "$T/got" | head)"
ok "restart: all 50 delivered exactly once, in order"

# ---- since: an API client that was away gets every event it missed -----------------------
b0=$(last_event bob)
for k in 1 2 3; do sx alice send bob@example.org "missed $k" >/dev/null; done
sx bob events --since "$b0" --wait message.received --match "text=missed 3" >/dev/null ||
    fail "missed 3"
sx bob events --since "$b0" >"$T/missed"
grep -c 'message.received' "$T/missed" | grep -qx 3 || fail "replay: $(cat "$T/missed")"
first=$(head -n 1 "$T/missed" | cut -d' ' -f1)
[ "$first" = $((b0 + 1)) ] || fail "replay starts at $first, not $((b0 + 1))"
ok "subscribe with since after a disconnect: every missed event, from since+1"

# ---- blocking ------------------------------------------------------------------------------
up carol
sx bob block carol@example.org >/dev/null || fail "block"
c0=$(last_event carol)
idc=$(sx carol send bob@example.org "let me in") || fail "carol send"
wait_event carol "$c0" dial.failed "user=bob@example.org"
if sx bob history carol@example.org | grep -qF "let me in"; then fail "blocked message stored"; fi
sx carol outbox | grep -qF "let me in" || fail "carol's message should wait"
ok "a blocked user is refused in the handshake; their message stays in their outbox"

# ---- strangers: a bound on what their messages store ----------------------------------------
# carol is not alice's contact. alice keeps 1 KiB of unread text from her: the second 600-byte
# message is refused (msg-reject): carol's agent marks it failed with alice's reason, alice
# has an event and a log line, and did not store it.
sx alice settings unknown_sender_kb 1 >/dev/null || fail "unknown_sender_kb"
long=$(printf '%0600d' 0)
a0=$(last_event alice)
c0=$(last_event carol)
ids1=$(sx carol send alice@example.org "first $long") || fail "carol send 1"
wait_event carol "$c0" message.delivered "id=$ids1"
ids2=$(sx carol send alice@example.org "second $long") || fail "carol send 2"
wait_event carol "$c0" message.failed "id=$ids2"
grep -qF "refused by alice@example.org: not stored: at most 1 KiB of unread messages" \
    "$T/wait.out" || fail "failed reason: $(cat "$T/wait.out")"
wait_event alice "$a0" message.refused "id=$ids2"
sx alice history carol@example.org >"$T/hc"
grep -qF "first 0000" "$T/hc" && ! grep -qF "second 0000" "$T/hc" || fail "stored: $(cat "$T/hc")"
grep -qF "message $ids2 from carol@example.org refused" "$T/alice.log" || fail "no log line"
[ -z "$(sx carol outbox alice@example.org)" ] || fail "refused but in the outbox: $(sx carol outbox)"
sx carol history alice@example.org --json | grep -q '"state": "failed"' || fail "carol: failed"
ok "a stranger's message beyond unknown_sender_kb: refused, failed at the sender with the reason"
# All strangers together: unknown_total_kb. Reading frees the room (unread text counts).
sx alice settings unknown_sender_kb 64 >/dev/null || fail "unknown_sender_kb 64"
sx alice settings unknown_total_kb 1 >/dev/null || fail "unknown_total_kb"
ids3=$(sx carol send alice@example.org "third $long") || fail "carol send 3"
wait_event carol "$c0" message.failed "id=$ids3"
grep -qF "from all who are not contacts together" "$T/wait.out" || fail "$(cat "$T/wait.out")"
sx alice read carol@example.org >/dev/null || fail "read"
ids4=$(sx carol send alice@example.org "fourth $long") || fail "carol send 4"
wait_event carol "$c0" message.delivered "id=$ids4"
# A contact is not bounded.
sx alice contacts add carol@example.org >/dev/null || fail "contacts add"
ids5=$(sx carol send alice@example.org "fifth $long") || fail "carol send 5"
wait_event carol "$c0" message.delivered "id=$ids5"
ok "unknown_total_kb bounds all strangers; read text and contacts do not count"

down carol
down bob
down alice
ok "SIGTERM: every agent exits 0"
echo "1..$n"
