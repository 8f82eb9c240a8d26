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
NSD=$(command -v nsd || echo /usr/sbin/nsd)
[ -x "$NSD" ] || { echo "srv.sh: nsd is not installed (scripts/deps.sh): skipped"; exit 77; }
T=$(mktemp -d)
PID=
RPID=
cleanup() {
    for p in $PID $RPID; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

# A free UDP and TCP port on loopback, chosen by the kernel.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

zone() { # zone NAME RECORDS...
    name=$1
    shift
    {
        echo "\$ORIGIN $name."
        echo "\$TTL 60"
        echo "@ IN SOA ns.$name. admin.$name. 1 3600 600 86400 60"
        echo "@ IN NS ns.$name."
        echo "ns IN A 127.0.0.1"
        for r in "$@"; do echo "$r"; done
    } >"$T/$name.zone"
    printf 'zone:\n    name: "%s"\n    zonefile: "%s"\n' "$name" "$T/$name.zone" >>"$T/nsd.conf"
}

cat >"$T/nsd.conf" <<CONF
server:
    ip-address: 127.0.0.1
    port: $PORT
    username: ""
    chroot: ""
    zonesdir: "$T"
    database: ""
    zonelistfile: "$T/zone.list"
    xfrdfile: "$T/xfrd.state"
    pidfile: "$T/nsd.pid"
    logfile: "$T/nsd.log"
    server-count: 1
    verbosity: 1
remote-control:
    control-enable: no
CONF
zone one.test \
    "_irp._tcp IN SRV 10 0 14604 primary.one.test." \
    "_irp._tcp IN SRV 20 10 4604 backup.one.test." \
    "_irp._tcp IN SRV 10 0 14605 second.one.test."
zone plain.test "www IN A 127.0.0.1"
zone gone.test "_irp._tcp IN SRV 0 0 0 ."

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
    zone reg.test "_irp._tcp IN SRV 0 0 $RPORT localhost."
    zone evil.test "_irp._tcp IN SRV 0 0 $RPORT localhost."
fi

"$NSD" -d -c "$T/nsd.conf" >"$T/nsd.out" 2>&1 &
PID=$!
# Ready when nsd says so in its log (bounded), then the tests run once.
i=0
until grep -q "nsd started" "$T/nsd.log" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -ge 100 ] || ! kill -0 "$PID" 2>/dev/null; then
        cat "$T/nsd.out" "$T/nsd.log" 2>/dev/null
        echo "FAIL: nsd did not start"
        exit 1
    fi
    sleep 0.1
done
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
