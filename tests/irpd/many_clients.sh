#!/bin/sh
# tests/irpd/many_clients.sh - irpd holds thousands of concurrent TLS clients
# (issue 3): 2000 connections complete their TLS 1.3 handshakes and stay
# open, each then pipelines a ping and gets its answer, and a further client
# is still served. Needs IRPD and IRP_PROBE (ctest sets them) and python3
# (its ssl module is the many-connection client).
set -eu
IRPD=${IRPD:?set IRPD to the irpd binary}
PROBE=${IRP_PROBE:?set IRP_PROBE to the irp_probe binary}
N=${MANY_CLIENTS:-2000}
T=$(mktemp -d)
PID=
cleanup() {
    if [ -n "$PID" ]; then kill -KILL "$PID" 2>/dev/null || true; fi
    rm -rf "$T"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; tail -n 20 "$T/log" 2>/dev/null || true; exit 1; }
. "$(dirname "$0")/store.sh" # irpd_init, BACKEND

irpd_init --dir "$T/r" --name 127.0.0.1 --domain example.org --ip 127.0.0.1 >/dev/null
# every test client is 127.0.0.1: lift the per-source limits for this part
printf 'max_per_addr = %d\nreq_rate_anon = 1000000\nreq_burst_anon = 1000000\n' $((N + 10)) \
    >>"$T/r/irpd.conf"
mkfifo "$T/ready"
(ulimit -n $((N + 256)) && exec "$IRPD" serve --dir "$T/r" --listen 127.0.0.1:0 >"$T/ready" 2>"$T/log") &
PID=$!
read -r line <"$T/ready" || fail "irpd did not start"
PORT=${line##*:}
grep -q "irpd: info: store $BACKEND\$" "$T/log" || fail "irpd does not serve from $BACKEND"

python3 - "$PORT" "$T/r/ca.pem" "$N" >"$T/py.out" 2>&1 <<'PY' || fail "clients: $(cat "$T/py.out")"
import resource, socket, ssl, sys
port, ca, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 256, n + 256))
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
ctx.load_verify_locations(ca)
ctx.check_hostname = False
ctx.set_alpn_protocols(["irp/1"])
conns = [ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=60))
         for _ in range(n)]
doc = b'<req id="p" op="ping"/>'
for t in conns:
    t.sendall(bytes([0x10, 0, 0, len(doc)]) + doc)
ok = 0
for t in conns:
    h = b""
    while len(h) < 4:
        h += t.recv(4 - len(h))
    size = (h[1] << 16) | (h[2] << 8) | h[3]
    b = b""
    while len(b) < size:
        b += t.recv(size - len(b))
    ok += b'status="200"' in b
print("open", len(conns), "answered", ok)
sys.exit(0 if ok == n else 1)
PY
grep -qF "open $N answered $N" "$T/py.out" || fail "clients: $(cat "$T/py.out")"
echo "ok 1 - $N concurrent TLS clients, each answered"
echo '<req id="x" op="ping"/>' | "$PROBE" --connect "127.0.0.1:$PORT" --ca "$T/r/ca.pem" >"$T/p.out" 2>&1 ||
    fail "probe: $(cat "$T/p.out")"
grep -qF '<resp id="x" status="200"' "$T/p.out" || fail "probe: $(cat "$T/p.out")"
echo "ok 2 - one more client is served meanwhile"
kill -TERM "$PID"
rc=0
wait "$PID" || rc=$?
PID=
[ "$rc" = 0 ] || fail "irpd exit status $rc after SIGTERM"
echo "ok 3 - SIGTERM with $N clients connected: irpd exits 0"

# One source cannot take every slot: with max_per_addr = 3 the 4th is refused.
echo "max_per_addr = 3" >>"$T/r/irpd.conf"
rm -f "$T/ready"
mkfifo "$T/ready"
"$IRPD" serve --dir "$T/r" --listen 127.0.0.1:0 >"$T/ready" 2>"$T/log" &
PID=$!
read -r line <"$T/ready" || fail "irpd did not restart"
PORT=${line##*:}
python3 - "$PORT" "$T/r/ca.pem" >"$T/py2.out" 2>&1 <<'PY' || fail "per-source limit: $(cat "$T/py2.out")"
import socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(ca)
ctx.check_hostname = False
ctx.set_alpn_protocols(["irp/1"])
held = [ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=30)) for _ in range(3)]
try:
    t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=30))
    t.sendall(bytes([0x10, 0, 0, 23]) + b'<req id="p" op="ping"/>')
    refused = t.recv(4) == b""
except (ssl.SSLError, OSError):
    refused = True
print("fourth refused" if refused else "fourth served")
sys.exit(0 if refused else 1)
PY
grep -q "refused: 3 connections from this source" "$T/log" || fail "no refusal logged"
echo "ok 4 - max_per_addr: the 4th connection from one source is refused"
kill -TERM "$PID"
wait "$PID" || fail "irpd exit status after SIGTERM"
PID=

# IRP.md 9.2: a client without a certificate has 100 requests of burst, then
# 20/s. 150 pipelined pings: the first 100 are answered, the rest mostly 429.
printf 'req_rate_anon = 20\nreq_burst_anon = 100\n' >>"$T/r/irpd.conf"
rm -f "$T/ready"
mkfifo "$T/ready"
"$IRPD" serve --dir "$T/r" --listen 127.0.0.1:0 >"$T/ready" 2>"$T/log" &
PID=$!
read -r line <"$T/ready" || fail "irpd did not restart"
PORT=${line##*:}
i=0
while [ "$i" -lt 150 ]; do echo "<req id=\"b$i\" op=\"ping\"/>"; i=$((i + 1)); done |
    "$PROBE" --connect "127.0.0.1:$PORT" --ca "$T/r/ca.pem" >"$T/burst.out" 2>&1 ||
    fail "burst: $(tail -3 "$T/burst.out")"
ok200=$(grep -c 'status="200"' "$T/burst.out" || true)
ok429=$(grep -c 'status="429"' "$T/burst.out" || true)
[ "$ok200" -ge 100 ] && [ "$ok429" -ge 1 ] && [ $((ok200 + ok429)) = 150 ] ||
    fail "burst: $ok200 answered, $ok429 refused of 150"
grep -qF '<resp id="b0" status="200"' "$T/burst.out" || fail "burst: the first ping refused"
echo "ok 5 - request rate without a certificate: $ok200 of 150 answered, $ok429 refused (429)"
kill -TERM "$PID"
wait "$PID" || fail "irpd exit status after SIGTERM"
PID=
