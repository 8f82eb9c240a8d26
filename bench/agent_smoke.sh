#!/bin/sh
# bench/agent_smoke.sh BUILD_DIR - `make test` runs bench/agent.sh with
# tiny sizes: every agent figure must be produced (a number in the JSON).
# No timing is judged here; the figures themselves come from `make bench`.
set -eu
build=$1
out=$(mktemp "${TMPDIR:-/tmp}/agent-smoke.XXXXXX")
trap 'rm -f "$out"' EXIT
# 800 messages of 100 bytes: more than a stranger may leave unread (64 KiB),
# so a limit the bench does not lift would show here.
BENCH_AGENT_FIRST=1 BENCH_AGENT_WARM=5 BENCH_AGENT_COLD=2 BENCH_AGENT_MSGS=800 \
    BENCH_AGENT_WINDOW=50 BENCH_AGENT_SESSIONS=20 BENCH_DIR=${TMPDIR:-/tmp} \
    sh "$(dirname "$0")/agent.sh" "$build" "$out"
for name in 'first message, new peer' 'message to a peer with a session' \
    'first message, known peer, no session' 'messages API to API' \
    'idle memory per peer session' 'peer sessions held at once' 'lookup on the registry'; do
    grep -q "\"agent $name[^\"]*\"" "$out" || { echo "FAIL: no figure '$name'"; exit 1; }
done
grep -A2 '"agent peer sessions held at once"' "$out" | grep -q '"ours": 20' ||
    { echo "FAIL: the agent did not hold 20 sessions"; exit 1; }
echo "ok - every agent figure produced"
