#!/bin/sh
# bench/irpd_server.sh - the registry's server benchmark (issue 9;
# bench/README.md "Server benchmark"): a real irpd on loopback loaded by
# bench_irpd_server (many TLS connections, each with its own client
# certificate, pipelined and not), and as the anchor, in the same run,
# Redis (Debian's redis-server) over TLS with a client certificate
# required, GET and SET through redis-benchmark at the same concurrency
# and pipelining. Run by bench/run.sh, or by hand after a build:
#
#   sh bench/irpd_server.sh BUILD_DIR [RESULTS_JSON]
#
# Environment (sizes; the defaults take about a minute):
#   IRPD_BENCH_USERS  users enrolled, each with its own certificate (32)
#   IRPD_BENCH_CONNS  connections of each rate figure (32; at most USERS
#                     for registrations, one device per connection)
#   IRPD_BENCH_DEPTH  requests in flight per connection when pipelined (16)
#   IRPD_BENCH_MS     measured milliseconds per figure (3000)
#   IRPD_BENCH_HOLD   connections held for the memory figure (1000)
#   IRPD_BENCH_STORE  the registry's store: "sqlite" (default, the file in
#                     the registry directory) or a PostgreSQL URI, written
#                     to irpd.conf as "store = URI" (for the PostgreSQL
#                     backend, issue 9; irpd refuses it until it has one)
#   IRPD_BENCH_REDIS  0: no Redis anchor (the smoke run of make test)
#   IRPD_BENCH_PERF   a file: irpd is profiled (perf record, DWARF stacks) during
#                     the pipelined lookups, the profile written there
#   BENCH_DIR         where the registry and Redis keep their files
#                     (default BUILD_DIR/bench; the disk a registry would
#                     use, not tmpfs: registrations are fsynced)
# Redis is skipped, with a message, when redis-server or redis-benchmark is
# absent (scripts/deps.sh installs them).
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: sh bench/irpd_server.sh BUILD_DIR [RESULTS_JSON]" >&2
    exit 2
fi
B=$1
JSON=${2:-}
IRPD=$B/irpd
PROBE=$B/irp_probe
GEN=$B/bench/bench_irpd_server
for p in "$IRPD" "$PROBE" "$GEN"; do
    [ -x "$p" ] || { echo "irpd_server.sh: $p not built" >&2; exit 1; }
done
USERS=${IRPD_BENCH_USERS:-32}
CONNS=${IRPD_BENCH_CONNS:-32}
DEPTH=${IRPD_BENCH_DEPTH:-16}
MS=${IRPD_BENCH_MS:-3000}
HOLD=${IRPD_BENCH_HOLD:-1000}
STORE=${IRPD_BENCH_STORE:-sqlite}
[ "$CONNS" -le "$USERS" ] || CONNS=$USERS
mkdir -p "${BENCH_DIR:-$B/bench}"
T=$(cd "$(mktemp -d -p "${BENCH_DIR:-$B/bench}" irpd-server.XXXXXX)" && pwd) # absolute: Redis changes directory
PID=
RPID=
cleanup() {
    for p_ in $PID $RPID; do kill "$p_" 2>/dev/null || true; done
    for p_ in $PID $RPID; do wait "$p_" 2>/dev/null || true; done # before their files go
    rm -rf "$T"
}
trap cleanup EXIT INT TERM
. "$(dirname "$0")/../tests/irpd/pki.sh" # key_csr, root_ca, user_cert, enroll_with

load() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?'; }

# --- the registry -----------------------------------------------------------
"$IRPD" init --dir "$T/r" --name 127.0.0.1 --ip 127.0.0.1 --domain example.org >/dev/null
# IRP.md 9's per-identity and per-address limits are far below a benchmark's
# load from one address: lifted here, every other check stays
printf '%s\n' 'req_rate_user = 100000000' 'req_burst_user = 100000000' \
    'req_rate_anon = 100000000' 'req_burst_anon = 100000000' 'reg_rate = 100000000' \
    'reg_burst = 100000000' "max_connections = $((HOLD + CONNS + 64))" \
    "max_per_addr = $((HOLD + CONNS + 64))" "max_per_user = $((HOLD + CONNS + 64))" \
    >>"$T/r/irpd.conf"
case $STORE in
sqlite) ;;
*) echo "store = $STORE" >>"$T/r/irpd.conf" ;;
esac
mkfifo "$T/ready"
"$IRPD" serve --dir "$T/r" --listen 127.0.0.1:0 >"$T/ready" 2>"$T/log" &
PID=$!
read -r line <"$T/ready" || { echo "irpd did not start: $(cat "$T/log")" >&2; exit 1; }
PORT=${line##*:}
i=0
while [ $i -lt "$USERS" ]; do
    tok=$("$IRPD" token --dir "$T/r" "u$i@example.org")
    enroll_with "$tok" "u$i" || { echo "enrolment of u$i failed: $(cat "$T/enroll_u$i.out")" >&2; exit 1; }
    i=$((i + 1))
done
# u0 is the user looked up and watched: one binding and one certificate in its answer
echo '<req id="r" op="register" device="d" port="4605" seq="1"><addr>192.0.2.1</addr></req>' |
    "$PROBE" --connect "127.0.0.1:$PORT" --ca "$T/r/ca.pem" --cert "$T/u0.pem" \
        --key "$T/u0.key" >"$T/reg0" || { echo "registration of u0 failed" >&2; exit 1; }

# --- Redis over TLS, a client certificate required --------------------------
REDIS=
if [ "${IRPD_BENCH_REDIS:-1}" = 0 ]; then
    echo "Redis anchor not run (IRPD_BENCH_REDIS=0)"
elif command -v redis-server >/dev/null 2>&1 && command -v redis-benchmark >/dev/null 2>&1; then
    root_ca redisca
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/rsrv.key" \
        -out "$T/rsrv.csr" -subj "/CN=127.0.0.1" 2>/dev/null
    printf 'basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = serverAuth\nsubjectAltName = IP:127.0.0.1\n' >"$T/rsrv.ext"
    openssl x509 -req -in "$T/rsrv.csr" -CA "$T/redisca.pem" -CAkey "$T/redisca.key" \
        -CAcreateserial -days 30 -extfile "$T/rsrv.ext" -out "$T/rsrv.pem" 2>/dev/null
    user_cert rcli bench@example.org "$T/redisca.pem" "$T/redisca.key"
    mkdir "$T/redis"
    # durable SETs, as registrations are: append-only file, fsync before answering
    # (Redis fsyncs once per event-loop pass: its group commit)
    RPORT=$((20000 + $$ % 20000))
    redis-server --port 0 --tls-port "$RPORT" --bind 127.0.0.1 --dir "$T/redis" \
        --tls-cert-file "$T/rsrv.pem" --tls-key-file "$T/rsrv.key" \
        --tls-ca-cert-file "$T/redisca.pem" --tls-auth-clients yes --tls-protocols TLSv1.3 \
        --save '' --appendonly yes --appendfsync always --daemonize no \
        --logfile "$T/redis.log" &
    RPID=$!
    r=0
    while [ $r -lt 50 ]; do
        if grep -q "Ready to accept" "$T/redis.log" 2>/dev/null; then REDIS=1; break; fi
        kill -0 "$RPID" 2>/dev/null || break
        sleep 0.1
        r=$((r + 1))
    done
    [ -n "$REDIS" ] || echo "Redis anchor skipped: redis-server did not start ($(tail -2 "$T/redis.log" 2>/dev/null))"
else
    echo "Redis anchor skipped: redis-server / redis-benchmark not installed (scripts/deps.sh installs redis-server and redis-tools)"
fi

# cpu PID: CPU seconds (user + system, all threads) the process used so far
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat"; }
# redis_rate TEST P N: "RATE RATE_PER_CPU_S" of redis-benchmark's TEST (get or set) with
# CONNS clients, pipelining P, N requests (200-byte values, 1000 keys); empty without Redis
redis_rate() {
    [ -n "$REDIS" ] || return 0
    c0_=$(cpu "$RPID")
    r_=$(redis-benchmark -h 127.0.0.1 -p "$RPORT" --tls --cacert "$T/redisca.pem" \
        --cert "$T/rcli.pem" --key "$T/rcli.key" -c "$CONNS" -P "$2" -n "$3" -t "$1" -d 200 \
        -r 1000 --csv 2>"$T/rb.err" | awk -F, 'NR > 1 { gsub(/"/, "", $2); print $2; exit }')
    c1_=$(cpu "$RPID")
    [ -n "$r_" ] || return 0
    awk -v r="$r_" -v n="$3" \
        -v a="$c0_" -v b="$c1_" 'BEGIN { d = b - a; printf "%.0f %.0f\n", r, (d > 0 ? n / d : 0) }'
}
# ours MODE DEPTH NAME "ANCHOR ANCHOR_PER_CPU_S" [args]: one figure
ours() {
    m=$1 d=$2 nm=$3 an=${4%% *} anc=${4#* }
    shift 4
    set -- --connect "127.0.0.1:$PORT" --ca "$T/r/ca.pem" --users "$T" --n-users "$USERS" \
        --mode "$m" --depth "$d" --ms "$MS" --pid "$PID" "$@"
    if [ -n "$JSON" ]; then set -- "$@" --json "$JSON" --name "$nm"; fi
    if [ -n "$an" ]; then set -- "$@" --anchor "$an" --anchor-cpu "$anc"; fi
    "$GEN" "$@"
}
show_redis() {
    [ -z "$REDIS" ] || echo "$1: ${2%% *} per second; ${2#* } per redis-server CPU second"
}

echo "registry server benchmark: irpd ($STORE) on 127.0.0.1, $USERS users, $CONNS connections, pipelined $DEPTH deep or one at a time; load average $(load)"
# first, while irpd's heap holds nothing freed that new connections could reuse
ours hold 1 "registry memory per held connection, $HOLD connections" "" --conns "$HOLD"
for d in "$DEPTH" 1; do
    n=$((d == 1 ? 100000 : 1000000))
    g=$(redis_rate get "$d" "$n")
    show_redis "Redis GET (-c $CONNS -P $d)" "$g"
    PERFPID=
    if [ -n "${IRPD_BENCH_PERF:-}" ] && [ "$d" = "$DEPTH" ]; then
        perf record --call-graph dwarf -F 1000 -o "$IRPD_BENCH_PERF" -p "$PID" 2>"$T/perf.log" &
        PERFPID=$!
    fi
    ours lookup "$d" "registry lookups, $CONNS conns, $d in flight, vs Redis GET" "$g" --conns "$CONNS"
    if [ -n "$PERFPID" ]; then kill -INT "$PERFPID"; wait "$PERFPID" || true; fi
done
for d in "$DEPTH" 1; do
    n=$((d == 1 ? 50000 : 300000))
    s=$(redis_rate set "$d" "$n")
    show_redis "Redis SET, appendfsync always (-c $CONNS -P $d)" "$s"
    ours register "$d" "registry durable registrations, $CONNS conns, $d in flight, vs Redis SET" \
        "$s" --conns "$CONNS"
done
ours watch "$DEPTH" "registry watch events delivered, $((CONNS - 1)) watchers" "" --conns "$CONNS"
echo "load average after: $(load)"
