#!/bin/sh
# bench/agent.sh - the user agent's figures on loopback (issue 8, "It must
# show" 4; bench/README.md, "The agent"): a real irpd, real `sixchat up`
# agents, driven through their local API by bench_agent, and many peers
# holding sessions with one agent (bench_agent_peers).
#
#   sh bench/agent.sh BUILD_DIR [RESULTS_JSON]
#
# Sizes (environment): BENCH_AGENT_FIRST receivers of first messages (15;
# two senders each: 2x that many samples), BENCH_AGENT_WARM (1000) and
# BENCH_AGENT_COLD (100) samples, BENCH_AGENT_MSGS messages for the rate
# (50000, BENCH_AGENT_WINDOW in flight, 1000; at most BENCH_AGENT_SECONDS of
# sending, 10), BENCH_AGENT_SESSIONS peers
# held by one agent (1000). The registry and the agents' stores go in a
# directory under BENCH_DIR (default BUILD_DIR/bench): the disk a user's
# home would be on, not tmpfs. Prints figures only; exits non-zero only if
# a measurement could not run.
set -eu

if [ $# -lt 1 ]; then
    echo "usage: sh bench/agent.sh BUILD_DIR [RESULTS_JSON]" >&2
    exit 2
fi
build=$1
json=${2:-}
BA=$build/bench/bench_agent
BP=$build/bench/bench_agent_peers
IRPD=$build/irpd
SIXCHAT=$build/sixchat
for p in "$BA" "$BP" "$IRPD" "$SIXCHAT"; do
    [ -x "$p" ] || { echo "bench/agent.sh: $p not built" >&2; exit 1; }
done
export IRPD SIXCHAT
mkdir -p "${BENCH_DIR:-$build/bench}"
TMPDIR=$(cd "${BENCH_DIR:-$build/bench}" && pwd)
# An agent's socket path must fit in 107 bytes (docs/AGENT-API.md 1).
if [ ${#TMPDIR} -gt 64 ]; then
    echo "bench/agent.sh: $TMPDIR is too deep for the agents' sockets; using /tmp" >&2
    TMPDIR=/tmp
fi
export TMPDIR
# tests/agent/lib.sh: the temporary directory $T, cleanup of what we start,
# fail, sx (sixchat for a home), enrol (init and enrolment with a token).
. "$(dirname "$0")/../tests/agent/lib.sh"

R=${BENCH_AGENT_FIRST:-15}
WARM=${BENCH_AGENT_WARM:-1000}
COLD=${BENCH_AGENT_COLD:-100}
MSGS=${BENCH_AGENT_MSGS:-50000}
WINDOW=${BENCH_AGENT_WINDOW:-1000}
NSESS=${BENCH_AGENT_SESSIONS:-1000}
jarg=
[ -z "$json" ] || jarg="--json $json"

# irpd with its per-user and per-address request limits lifted (IRP.md 9):
# every agent and lookup here comes from 127.0.0.1.
"$IRPD" init --dir "$T/r" --name 127.0.0.1 --domain example.org --ip 127.0.0.1 >"$T/init.out" ||
    fail "irpd init"
CAFP=$(sed -n 's/^CA fingerprint (SHA-256): //p' "$T/init.out")
printf '%s\n' 'req_rate_user = 100000000' 'req_burst_user = 100000000' \
    'req_rate_anon = 100000000' 'req_burst_anon = 100000000' 'reg_rate = 100000000' \
    'reg_burst = 100000000' >>"$T/r/irpd.conf"
mkfifo "$T/irpd.ready"
"$IRPD" serve --dir "$T/r" --listen 127.0.0.1:0 --allow-local >"$T/irpd.ready" 2>>"$T/irpd.log" &
IRPD_PID=$!
exec 3<"$T/irpd.ready"
read -r line <&3 || fail "irpd did not start"
IRP_PORT=${line##*:}

# bup NAME [ARGS]: NAME's agent on 127.0.0.1 (a free port); waits for its
# ready line (handed over through a second FIFO by a reader that then keeps
# draining the agent's standard output). Sets PID_<NAME>, ADDR_<NAME>.
bup() {
    who=$1
    shift
    mkfifo "$T/$who.out" "$T/$who.line"
    # shellcheck disable=SC2086
    ${WRAP:-} "$SIXCHAT" --home "$T/$who" up --listen 127.0.0.1:0 --allow-local "$@" \
        >"$T/$who.out" 2>>"$T/$who.log" &
    pid=$!
    AGENT_PIDS="$AGENT_PIDS $pid"
    eval "PID_$who=$pid"
    { read -r l || l=; echo "$l" >"$T/$who.line"; cat >/dev/null; } <"$T/$who.out" &
    read -r line <"$T/$who.line" || fail "$who's agent did not start"
    case "$line" in "sixchat ready as $who@example.org on "*) ;; *) fail "$who: $line" ;; esac
    eval "ADDR_$who=\${line##* on }"
}
sock() { echo "$T/$1/agent.sock"; }
# BENCH_AGENT_PERF=FILE: perf records irpd, alice and bob (options
# BENCH_AGENT_PERF_OPTS, default call graphs by dwarf at 1 kHz) during the
# phase BENCH_AGENT_PERF_PHASE: rate (default) or first (first messages;
# the receivers too).
perf_start() {
    [ -n "${BENCH_AGENT_PERF:-}" ] || return 0
    pids=$IRPD_PID,$PID_alice,$PID_bob
    for u in ${1:-}; do eval "pids=\$pids,\$PID_$u"; done
    # shellcheck disable=SC2086
    perf record -q ${BENCH_AGENT_PERF_OPTS:---call-graph dwarf,16384 -F 1000} \
        -o "$BENCH_AGENT_PERF" -p "$pids" 2>>"$T/perf.log" &
    PERF_PID=$!
}
perf_stop() {
    [ -n "${PERF_PID:-}" ] || return 0
    kill -INT "$PERF_PID"
    wait "$PERF_PID" || :
    PERF_PID=
}
# CPU time (ns, every thread) of irpd and the agents running: with
# cpu_mark before a phase, cpu_per N prints the CPU spent per message, a
# figure a loaded machine does not inflate as it does wall time.
cpu_ns() {
    t=0
    for p in $IRPD_PID $AGENT_PIDS; do
        for f in /proc/"$p"/task/*/schedstat; do
            [ -r "$f" ] || continue
            t=$((t + $(cut -d' ' -f1 "$f" 2>/dev/null || echo 0)))
        done
    done
    echo "$t"
}
cpu_mark() { CPU0=$(cpu_ns); }
cpu_per() {
    echo "  CPU of irpd and the agents: $(awk "BEGIN { printf \"%.3f\", ($(cpu_ns) - $CPU0) / 1e6 / $1 }") ms per $2"
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

t0=$(date +%s)
rs=
i=1
while [ "$i" -le "$R" ]; do
    rs="$rs r$i"
    i=$((i + 1))
done
for u in alice bob $rs warm hub; do enrol "$u"; done
# alice and bob: the per-peer stanza rate (5000/s by default) and the
# per-source connection attempts (20 in 10 s) would otherwise be what the
# rate and the cold samples measure; both are said in bench/README.md.
bup alice --peer-rate 10000000 --conn-per-source 1000000
bup bob --peer-rate 10000000 --conn-per-source 1000000
# Each other's contacts, as two people who write to each other are: the
# unread messages kept from a stranger are bounded (unknown_sender_kb, 64
# KiB by default), which the rate would otherwise measure.
sx alice contacts add bob@example.org >/dev/null || fail "contacts add"
sx bob contacts add alice@example.org >/dev/null || fail "contacts add"
peers=
for u in $rs; do
    bup "$u"
    peers="$peers${peers:+,}$u@example.org"
done
bup warm
echo "agents: irpd, alice, bob and $R receivers up and registered ($(($(date +%s) - t0)) s)"
# Every agent's first session ever pays one-time costs (OpenSSL's provider
# and decoder caches, SQLite's first pages): a message from each to a
# bystander (warm) first, untimed, so the figures are those of a running
# agent. alice and bob still meet each receiver for the first time below.
wsocks=
for u in alice bob $rs; do wsocks="$wsocks --sock $(sock "$u")"; done
# shellcheck disable=SC2086
"$BA" first $wsocks --peers warm@example.org >/dev/null || fail "warm-up messages"
down warm

[ "${BENCH_AGENT_PERF_PHASE:-rate}" != first ] || perf_start "$rs"
# shellcheck disable=SC2086
cpu_mark
"$BA" first --sock "$(sock alice)" --sock "$(sock bob)" --peers "$peers" $jarg ||
    fail "first messages"
cpu_per $((2 * R)) "first message"
perf_stop
for u in $rs; do down "$u"; done
# A part of the first message alone: the verified lookup (reference).
# shellcheck disable=SC2086
"$BA" lookup --sock "$(sock alice)" --peer bob@example.org --count "$COLD" $jarg ||
    fail "lookups"
# shellcheck disable=SC2086
cpu_mark
"$BA" rtt --sock "$(sock alice)" --peer bob@example.org --count "$WARM" $jarg ||
    fail "warm messages"
cpu_per "$WARM" "message"
# shellcheck disable=SC2086
cpu_mark
"$BA" rtt --sock "$(sock alice)" --peer bob@example.org --peer-sock "$(sock bob)" \
    --count "$COLD" --cold $jarg || fail "cold messages"
cpu_per "$COLD" "first message (the block and unblock that close the session included)"
# CPU time (user + system, clock ticks) of a process.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
ca0=$(cpu_ticks "$PID_alice")
cb0=$(cpu_ticks "$PID_bob")
PERF_PID=
perf_rate=
[ "${BENCH_AGENT_PERF_PHASE:-rate}" != rate ] || perf_rate=1
[ -z "$perf_rate" ] || perf_start
# shellcheck disable=SC2086
"$BA" rate --sock "$(sock alice)" --to-sock "$(sock bob)" --peer bob@example.org \
    --count "$MSGS" --window "$WINDOW" --seconds "${BENCH_AGENT_SECONDS:-10}" $jarg ||
    fail "message rate"
ca1=$(cpu_ticks "$PID_alice")
cb1=$(cpu_ticks "$PID_bob")
echo "CPU time during the rate: alice (sender) $(((ca1 - ca0) * 1000 / $(getconf CLK_TCK))) ms, bob (receiver) $(((cb1 - cb0) * 1000 / $(getconf CLK_TCK))) ms"
[ -z "$perf_rate" ] || perf_stop

# Many sessions with one fresh agent (default limits: 4096 sessions at
# most; the peers come from distinct loopback addresses). One descriptor
# per session: raise the soft limit for the agent if it is low.
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((NSESS + 256)) ]; then
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || :
fi
# BENCH_AGENT_HUB_WRAP: a command the agent runs under (e.g. valgrind
# --tool=massif, to see where its memory goes; bench/README.md).
WRAP=${BENCH_AGENT_HUB_WRAP:-} bup hub
first=$((NSESS / 10))
[ "$first" -ge 1 ] || first=1
rest=$((NSESS - first))
mkfifo "$T/p1.in" "$T/p1.out" "$T/p2.in" "$T/p2.out"
"$BP" --irpd-dir "$T/r" --connect "$ADDR_hub" --user hub@example.org --count "$first" \
    --first 0 <"$T/p1.in" >"$T/p1.out" 2>>"$T/peers.log" &
P1=$!
exec 7>"$T/p1.in" 8<"$T/p1.out"
read -r l1 <&8 && read -r l2 <&8 || fail "the first $first peers did not come up"
case "$l2" in "up $first "*) ;; *) fail "first peers: $l2" ;; esac
rss1=$(rss_kb "$PID_hub")
t1=$(date +%s)
n2=0
if [ "$rest" -gt 0 ]; then
    "$BP" --irpd-dir "$T/r" --connect "$ADDR_hub" --user hub@example.org --count "$rest" \
        --first "$first" <"$T/p2.in" >"$T/p2.out" 2>>"$T/peers.log" &
    P2=$!
    exec 6>"$T/p2.in" 9<"$T/p2.out"
    read -r c2 <&9 && read -r l3 <&9 || fail "the other $rest peers did not come up"
    case "$l3" in "up $rest "*) ;; *) fail "peers: $l3" ;; esac
    ms2=${l3##* }
    n2=$rest
fi
rss2=$(rss_kb "$PID_hub")
held=$("$BA" held --sock "$(sock hub)")
echo "sessions held by one agent: ${held:-?} of $NSESS (status), agent RSS ${rss1} kB with $first, ${rss2} kB with $NSESS"
if [ "$n2" -gt 0 ]; then
    per=$(((rss2 - rss1) * 1024 / n2))
    rate=$(awk "BEGIN { printf \"%.0f\", $n2 / ($ms2 / 1000.0) }")
    echo "idle memory per peer session (RSS growth / $n2): $per bytes (aim <= 16384: $(awk "BEGIN { printf \"%.2f\", $per / 16384 }")x)"
    echo "sessions established (handshake + device stanzas, 16 at a time): $rate/s"
    if [ -n "$json" ]; then
        "$BA" put --json "$json" --name "agent idle memory per peer session" --unit bytes \
            --value "$per" --lower --samples "$n2" --aim 16384
        "$BA" put --json "$json" --name "agent peer sessions held at once" --unit sessions \
            --value "${held:-0}" --samples 1 --aim "$NSESS"
        "$BA" put --json "$json" --name "agent peer sessions established per second" \
            --unit "sessions/s" --value "$rate" --samples "$n2"
    fi
    exec 6>&-
fi
exec 7>&-
wait "$P1" || fail "peers (first part)"
[ -z "${P2:-}" ] || wait "$P2" || fail "peers"
echo "agent benchmarks: $(($(date +%s) - t0)) s"
