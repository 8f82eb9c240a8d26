#!/bin/sh
# bench/irpd_live.sh - a bystander's lookup latency on a real irpd, idle,
# during a registration burst and during a failed-login flood (issue 7 F7;
# bench/README.md). Run from the repository after `make build`:
#
#   sh bench/irpd_live.sh [IRPD]        (IRPD: default build/irpd)
#
# The registry lives in a directory under BENCH_DIR (default: the current
# directory; put it on the disk a registry would use, not tmpfs). Each
# phase runs bench_irpd_lookups (a lookup due every millisecond for 3 s,
# latency from when it was due) against the load; prints one line per phase.
set -eu

IRPD=${1:-build/irpd}
PROBE=build/irp_probe
LOAD=build/irp_load
LOOK=build/bench/bench_irpd_lookups
T=$(mktemp -d -p "${BENCH_DIR:-$PWD}" irpd-live.XXXXXX)
PID=
LPIDS=
cleanup() {
    for p in $LPIDS; do kill "$p" 2>/dev/null || true; done
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; fi
    rm -rf "$T"
}
trap cleanup EXIT INT TERM
. "$(dirname "$0")/../tests/irpd/pki.sh" # enroll_with

"$IRPD" init --dir "$T/r" --name 127.0.0.1 --ip 127.0.0.1 --domain example.org >/dev/null
# the load is far above IRP.md 9's per-identity and per-address limits: lift them here
printf '%s\n' 'req_rate_user = 100000000' 'req_burst_user = 100000000' \
    'req_rate_anon = 100000000' 'req_burst_anon = 100000000' 'reg_rate = 100000000' \
    'reg_burst = 100000000' 'login_fail_addr = 1000000' >>"$T/r/irpd.conf"
mkfifo "$T/ready"
"$IRPD" serve --dir "$T/r" --listen 127.0.0.1:0 >"$T/ready" 2>"$T/log" &
PID=$!
read -r line <"$T/ready"
PORT=${line##*:}
for u in alice bob; do
    tok=$("$IRPD" token --dir "$T/r" "$u@example.org")
    enroll_with "$tok" "$u" || { echo "enroll $u failed" >&2; exit 1; }
done
echo '<req id="r" op="register" device="d" port="4605" seq="1"><addr>192.0.2.1</addr></req>' |
    "$PROBE" --connect "127.0.0.1:$PORT" --ca "$T/r/ca.pem" --cert "$T/alice.pem" \
        --key "$T/alice.key" >/dev/null

look() {
    "$LOOK" --connect "127.0.0.1:$PORT" --ca "$T/r/ca.pem" --cert "$T/bob.pem" \
        --key "$T/bob.key" --user alice@example.org --every 1 --ms 3000
}
stop_load() {
    for p in $LPIDS; do kill "$p" 2>/dev/null || true; done
    for p in $LPIDS; do wait "$p" 2>/dev/null || true; done
    LPIDS=
}

echo "idle: $(look)"

"$LOAD" --connect "127.0.0.1:$PORT" --ca "$T/r/ca.pem" --cert "$T/alice.pem" \
    --key "$T/alice.key" --count 100000000 --devices 8 --window 64 --seq0 10 >"$T/acks" 2>&1 &
LPIDS=$!
r=$(look)
stop_load
echo "registration burst: $r; registrations answered: $(grep -c '^ack' "$T/acks" || true)"

# failed logins: 4 connections (the password-check workers), each a stream of
# wrong passwords for distinct unknown users (each one audited, IRP.md 10.4)
i=0
while [ $i -lt 4 ]; do
    j=0
    while [ $j -lt 2000 ]; do
        echo "<req id=\"l$j\" op=\"login\" user=\"u$i-$j@example.org\" password=\"wrong\"/>"
        j=$((j + 1))
    done >"$T/logins$i"
    "$PROBE" --connect "127.0.0.1:$PORT" --ca "$T/r/ca.pem" <"$T/logins$i" >"$T/lo$i" 2>&1 &
    LPIDS="$LPIDS $!"
    i=$((i + 1))
done
c0=$(grep -c "login-failed\|status=401" "$T/log" || true)
r=$(look)
c1=$(grep -c "status=401" "$T/log" || true)
stop_load
echo "failed-login flood: $r; logins answered 401 meanwhile: $((c1 - c0))"
