#!/bin/sh
# Runs the benchmarks of an already built tree: sh bench/run.sh BUILD_DIR
# Writes BUILD_DIR/bench/results.json (one JSON array of all figures).
# BENCH_REPS (default 5) and BENCH_TIME (CPU seconds per measurement,
# default 0.5) trade precision for time; the defaults take about two
# minutes on two cores, and the agent's figures (bench/agent.sh, sizes in
# BENCH_AGENT_*) up to two more.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: sh bench/run.sh BUILD_DIR" >&2
    exit 2
fi
build=$1
bin=$build/bench
reps=${BENCH_REPS:-5}
secs=${BENCH_TIME:-0.5}

for prog in bench_handshake bench_record bench_refusal; do
    if [ ! -x "$bin/$prog" ]; then
        echo "bench/run.sh: $bin/$prog not built (cmake --build $build --target $prog)" >&2
        exit 1
    fi
done

mkdir -p "$bin"
out=$bin/results.json
rm -f "$out"

if [ -r /proc/loadavg ]; then
    # Both ends share one thread; other work on the cores still slows it.
    echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc 2>/dev/null || echo '?') cores"
fi

start=$(date +%s)
"$bin/bench_handshake" --reps "$reps" --time "$secs" --json "$out"
"$bin/bench_handshake" --memory --reps 3 --json "$out"
"$bin/bench_record" --reps "$reps" --time "$secs" --json "$out"
echo
# Refusal time of a replayed chain, met before or not (PROTOCOL.md 8.2): a statistic, no figure.
"$bin/bench_refusal" --samples "${BENCH_REFUSAL_SAMPLES:-1000}"
# The user agent on loopback: irpd, real agents, their API (bench/agent.sh;
# sizes: BENCH_AGENT_*). Wall-clock figures of real processes.
if [ -x "$bin/bench_agent" ] && [ -x "$bin/bench_agent_peers" ]; then
    echo
    sh "$(dirname "$0")/agent.sh" "$build" "$out"
else
    echo "bench/run.sh: no agent figures ($bin/bench_agent not built: jansson or the agent missing)"
fi
# The registry's server benchmark beside Redis over TLS (README "Server
# benchmark"; sizes: IRPD_BENCH_* in irpd_server.sh; about a minute).
if [ -x "$bin/bench_irpd_server" ] && [ -x "$build/irpd" ]; then
    echo
    sh "$(dirname "$0")/irpd_server.sh" "$build" "$out" ||
        echo "bench/run.sh: the registry server benchmark failed (figures above it are kept)" >&2
fi
end=$(date +%s)

echo
echo "results: $out ($((end - start)) s)"
