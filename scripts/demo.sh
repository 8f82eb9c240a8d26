#!/bin/sh
# demo.sh BUILD_DIR - the real system on one machine, as a readable
# transcript: a registry (irpd) in a temporary directory, two users enrolled
# with it, their two agents (`sixchat up`) on loopback, and then: a lookup,
# the handshake, messages with delivery receipts and a read marker, and a
# message sent while the peer's agent was down, delivered when it came back
# (through the registry's watch, not polling), and a 3 MB file whose SHA-256
# is shown at both ends. Stops everything it started,
# by process id, and removes the directory.
#
# Waits on real signals only: ready lines read through FIFOs and events
# through `sixchat events --wait`. A watchdog ends the demo after
# $DEMO_TIMEOUT seconds (default 60). The embedding example of the library
# alone is scripts/demo-library.sh (`make demo-library`).
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
B=$1
SIXCHAT=$B/sixchat
IRPD=$B/irpd
for p in "$SIXCHAT" "$IRPD"; do
    [ -x "$p" ] || { echo "demo: $p not found; build first (make demo does)" >&2; exit 1; }
done
timeout=${DEMO_TIMEOUT:-60}

umask 077
T=$(mktemp -d "${TMPDIR:-/tmp}/sixchat-demo.XXXXXX")
PIDS=
DOG=
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null || :; done
    for p in $PIDS; do wait "$p" 2>/dev/null || :; done
    [ -z "$DOG" ] || kill "$DOG" 2>/dev/null || :
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
# The watchdog signals this shell, whose trap stops everything.
(
    trap 'kill "$s" 2>/dev/null; exit 0' TERM
    sleep "$timeout" &
    s=$!
    wait "$s"
    echo "demo: timed out after ${timeout}s" >&2
    kill -TERM $$
) &
DOG=$!

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() {
    printf '$ %s\n' "$*" | sed "s|$T|\$DEMO|g; s|$B/||g"
    "$@"
}
die() {
    echo "demo: $*" >&2
    for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }; done
    exit 1
}

say "1. A registry for example.org (irpd), in a temporary directory"
run "$IRPD" init --dir "$T/registry" --name 127.0.0.1 --domain example.org --ip 127.0.0.1 \
    >"$T/init.out" || die "irpd init"
CAFP=$(sed -n 's/^CA fingerprint (SHA-256): //p' "$T/init.out")
echo "CA fingerprint: $CAFP"
mkfifo "$T/irpd.ready"
"$IRPD" serve --dir "$T/registry" --listen 127.0.0.1:0 --allow-local >"$T/irpd.ready" \
    2>>"$T/irpd.log" &
PIDS="$PIDS $!"
exec 3<"$T/irpd.ready"
read -r line <&3 || die "irpd did not start"
echo "$line"
IRP=127.0.0.1:${line##*:}

say "2. alice and bob enrol: a key (P-256, 0600) and a certificate from the registry"
for u in alice bob; do
    run "$SIXCHAT" --home "$T/$u" init --id "$u@example.org" --irp "$IRP" --ca-fingerprint "$CAFP" ||
        die "init $u"
    tok=$("$IRPD" token --dir "$T/registry" "$u@example.org") || die "token $u"
    run "$SIXCHAT" --home "$T/$u" enroll --token "$tok" || die "enroll $u"
done

# start NAME FD: the agent in the background, its ready line read through a FIFO
start() {
    rm -f "$T/$1.ready"
    mkfifo "$T/$1.ready"
    printf '$ sixchat --home $DEMO/%s up --listen 127.0.0.1:0 --allow-local &\n' "$1"
    "$SIXCHAT" --home "$T/$1" up --listen 127.0.0.1:0 --allow-local >"$T/$1.ready" \
        2>>"$T/$1.log" &
    eval "PID_$1=$!"
    PIDS="$PIDS $!"
    eval "exec $2<\"\$T/\$1.ready\""
    eval "read -r line <&$2" || die "$1's agent did not start"
    echo "$line"
}
stop() {
    eval "pid=\$PID_$1"
    printf '$ kill -TERM %s   # %s'"'"'s agent: unregisters, closes its sessions\n' "$pid" "$1"
    kill -TERM "$pid"
    wait "$pid" || die "$1's agent did not stop cleanly"
    PIDS=$(echo "$PIDS" | sed "s/ $pid\b//")
}
last() { "$SIXCHAT" --home "$T/$1" status --json | sed -n 's/.*"events_last": *\([0-9]*\).*/\1/p'; }
a() { run "$SIXCHAT" --home "$T/alice" "$@"; }
b() { run "$SIXCHAT" --home "$T/bob" "$@"; }

say "3. Both agents start on loopback: listen, register with the registry"
start alice 4
start bob 5

say "4. alice looks bob up (the registry's signed answer, verified)"
a lookup bob@example.org || die "lookup"

say "5. alice writes to bob: lookup, connect, handshake, delivery, receipt"
a send --wait bob@example.org "Hello Bob, this went straight to your machine." || die "send"
b history alice@example.org || die "history"

say "6. bob answers on the same session; alice reads it (a read marker goes back)"
b0=$(last bob)
b send --wait alice@example.org "Hi Alice! Got it, no server in between." || die "send"
a read bob@example.org || die "read"
"$SIXCHAT" --home "$T/bob" events --since "$b0" --wait message.read --timeout 20 >/dev/null ||
    die "no read marker"
b history alice@example.org --limit 1 || die "history"

say "7. bob's agent stops; alice writes anyway: the message waits in her outbox"
stop bob
a0=$(last alice)
id=$("$SIXCHAT" --home "$T/alice" send bob@example.org "Are you there? (sent while you were away)") ||
    die "send"
echo "queued $id"
a outbox || die "outbox"

say "8. bob comes back: the registry tells alice (watch), the outbox goes at once"
start bob 5
"$SIXCHAT" --home "$T/alice" events --since "$a0" --wait message.delivered --match "id=$id" \
    --timeout 30 >/dev/null || die "not delivered after bob came back"
echo "delivered"
a outbox || die "outbox"
b history alice@example.org --limit 1 || die "history"

say "9. alice sends bob a file: raw bytes on the session, SHA-256 checked on arrival"
head -c 3000000 /dev/urandom >"$T/photo.jpg"
b0=$(last bob)
a send-file bob@example.org "$T/photo.jpg" || die "send-file"
"$SIXCHAT" --home "$T/bob" events --since "$b0" --wait transfer.done --timeout 30 >/dev/null ||
    die "the file did not arrive"
echo "sha256 at alice: $(sha256sum <"$T/photo.jpg" | cut -c1-64)"
echo "sha256 at bob:   $(sha256sum <"$T/bob/downloads/photo.jpg" | cut -c1-64)"
cmp -s "$T/photo.jpg" "$T/bob/downloads/photo.jpg" || die "the file differs"

say "10. Fingerprints to compare aloud (trust on first use pinned them already)"
a fingerprint --no-qr || die "fingerprint"
a contacts || die "contacts"

say "11. Stopping everything this demo started"
stop alice
stop bob
for p in $PIDS; do
    kill -TERM "$p"
    wait "$p" || :
done
PIDS=
echo "done"
