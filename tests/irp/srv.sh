#!/bin/sh
# tests/irp/srv.sh - finding a registry through DNS SRV against a real DNS
# server (docs/IRP.md 2.1): nsd on 127.0.0.1 serves zones for one.test
# (three SRV targets, two priorities), plain.test (no SRV record) and
# gone.test (target "."), then test_irp_client_srv asks it through
# libresolv, blocking and on libuv's thread pool. With IRPD and IRP set, a
# real irpd is then found through its SRV record (reg.test) by
# `irp --domain`, and a forged record (evil.test, pointing at the same
# registry) is harmless: the pinned CA fingerprint fails it.
#
# Needs SRV_TEST (the test program) and nsd (scripts/deps.sh installs it);
# exits 77 (skipped) without nsd.
set -eu

SRV_TEST=${SRV_TEST:?set SRV_TEST to test_irp_client_srv}
[ -x "$(command -v nsd || echo /usr/sbin/nsd)" ] || { echo "srv.sh: nsd is not installed (scripts/deps.sh): skipped"; exit 77; }
T=$(mktemp -d)
PID=
RPID=
cleanup() {
    for p in $PID $RPID; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

. "$(dirname "$0")/nsd.sh"
nsd_init
nsd_zone one.test \
    "_irp._tcp IN SRV 10 0 14604 primary.one.test." \
    "_irp._tcp IN SRV 20 10 4604 backup.one.test." \
    "_irp._tcp IN SRV 10 0 14605 second.one.test."
nsd_zone plain.test "www IN A 127.0.0.1"
nsd_zone gone.test "_irp._tcp IN SRV 0 0 0 ."

# A registry that DNS points at: irpd on a port of its own, named localhost.
if [ -n "${IRPD:-}" ] && [ -n "${IRP:-}" ]; then
    "$IRPD" init --dir "$T/r" --name localhost --ip 127.0.0.1 --domain reg.test >"$T/init.out"
    FP=$(sed -n 's/^CA fingerprint (SHA-256): //p' "$T/init.out")
    mkfifo "$T/ready"
    "$IRPD" serve --dir "$T/r" --listen 127.0.0.1:0 >"$T/ready" 2>>"$T/irpd.log" &
    RPID=$!
    exec 3<"$T/ready"
    read -r line <&3 || { cat "$T/irpd.log"; echo "FAIL: irpd did not start"; exit 1; }
    RPORT=${line##*:}
    nsd_zone reg.test "_irp._tcp IN SRV 0 0 $RPORT localhost."
    nsd_zone evil.test "_irp._tcp IN SRV 0 0 $RPORT localhost."
fi

nsd_start || { echo "FAIL: nsd did not start"; exit 1; }
PID=$NSD_PID
PORT=$DNS_PORT
IRP_TEST_DNS=127.0.0.1:$PORT "$SRV_TEST" >"$T/try.out" 2>&1 || {
    cat "$T/try.out"
    echo "FAIL: the SRV tests against nsd"
    exit 1
}
grep -q "SKIPPED" "$T/try.out" && { cat "$T/try.out"; echo "FAIL: live tests skipped"; exit 1; }
cat "$T/try.out"
echo "ok: SRV answers from nsd on 127.0.0.1:$PORT parsed, ordered and resolved"

[ -n "$RPID" ] || exit 0
DNS=127.0.0.1:$PORT
rc=0
timeout 30 "$IRP" --domain reg.test --dns "$DNS" --ca-fp "$FP" --timeout 10 capabilities \
    >"$T/caps.out" 2>"$T/caps.err" || rc=$?
[ "$rc" = 0 ] || { cat "$T/caps.out" "$T/caps.err" "$T/irpd.log"; echo "FAIL: irp --domain reg.test: exit $rc"; exit 1; }
grep -q "reg.test's registry: localhost port $RPORT" "$T/caps.err" || { cat "$T/caps.err"; echo "FAIL: not the SRV target"; exit 1; }
echo "ok: irp --domain reg.test found irpd through SRV (localhost port $RPORT) and got its capabilities"
rc=0
timeout 30 "$IRP" --domain evil.test --dns "$DNS" \
    --ca-fp 0000000000000000000000000000000000000000000000000000000000000000 --timeout 10 \
    capabilities >"$T/evil.out" 2>"$T/evil.err" || rc=$?
[ "$rc" != 0 ] || { cat "$T/evil.out"; echo "FAIL: a forged SRV answer reached a registry the pin does not name"; exit 1; }
grep -q "602" "$T/evil.err" || { cat "$T/evil.err"; echo "FAIL: wanted a TLS failure (602)"; exit 1; }
echo "ok: a forged SRV record for evil.test fails on the pinned CA (exit $rc: $(head -c 120 "$T/evil.err" | tail -n 1))"
