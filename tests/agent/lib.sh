# tests/agent/lib.sh - helpers of the agent's end-to-end scripts (sourced):
# a real irpd in a temporary directory and sixchat agents on loopback.
# Needs IRPD and SIXCHAT (ctest sets them) and the openssl CLI. Every wait
# is on a real signal (a ready line through a FIFO, an event through
# `sixchat events --wait`), never a sleep. Stops only what it started.
IRPD=${IRPD:?set IRPD to the irpd binary}
SIXCHAT=${SIXCHAT:?set SIXCHAT to the sixchat binary}
T=$(mktemp -d "${TMPDIR:-/tmp}/sixchat-e2e.XXXXXX")
IRPD_PID=
AGENT_PIDS=
n=0
cleanup() {
    for p in $AGENT_PIDS $IRPD_PID; do kill "$p" 2>/dev/null || :; done
    for p in $AGENT_PIDS $IRPD_PID; do wait "$p" 2>/dev/null || :; done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
    echo "FAIL: $*"
    for f in "$T"/*.log; do
        [ -f "$f" ] || continue
        echo "--- $f:"
        tail -n 40 "$f"
    done
    exit 1
}
ok() { n=$((n + 1)); echo "ok $n - $*"; }

# irpd_start: a registry for example.org on 127.0.0.1, loopback registrations allowed;
# IRPD_CONF, when set, is appended to its irpd.conf (test-only keys such as min_lifetime).
irpd_start() {
    "$IRPD" init --dir "$T/r" --name 127.0.0.1 --domain example.org --ip 127.0.0.1 >"$T/init.out" ||
        fail "irpd init"
    if [ -n "${IRPD_CONF:-}" ]; then printf '%s\n' "$IRPD_CONF" >>"$T/r/irpd.conf"; fi
    CAFP=$(sed -n 's/^CA fingerprint (SHA-256): //p' "$T/init.out")
    mkfifo "$T/irpd.ready"
    "$IRPD" serve --dir "$T/r" --listen 127.0.0.1:0 --allow-local >"$T/irpd.ready" 2>>"$T/irpd.log" &
    IRPD_PID=$!
    exec 3<"$T/irpd.ready"
    read -r line <&3 || fail "irpd did not start"
    case "$line" in "irpd ready on 127.0.0.1:"*) ;; *) fail "irpd ready line: $line" ;; esac
    IRP_PORT=${line##*:}
}

# sx NAME ARGS...: sixchat for NAME's home
sx() {
    who=$1
    shift
    "$SIXCHAT" --home "$T/$who" "$@"
}

# enrol NAME: init (P-256 key, CSR) and enrolment with a fresh token
enrol() {
    sx "$1" init --id "$1@example.org" --irp "127.0.0.1:$IRP_PORT" --ca-fingerprint "$CAFP" \
        >/dev/null || fail "init $1"
    tok=$("$IRPD" token --dir "$T/r" "$1@example.org") || fail "token $1"
    sx "$1" enroll --token "$tok" >/dev/null || fail "enroll $1"
}

# up NAME [ARGS...]: starts NAME's agent on 127.0.0.1 (a free port) and waits for
# its ready line; sets PID_<NAME> and ADDR_<NAME>.
up() {
    who=$1
    shift
    rm -f "$T/$who.ready"
    mkfifo "$T/$who.ready"
    # The program itself in the background (not a shell function: $! must be its pid).
    "$SIXCHAT" --home "$T/$who" up --listen 127.0.0.1:0 --allow-local "$@" >"$T/$who.ready" \
        2>>"$T/$who.log" &
    pid=$!
    AGENT_PIDS="$AGENT_PIDS $pid"
    eval "PID_$who=$pid"
    # One descriptor per agent keeps its stdout open after the ready line.
    case $who in alice) fd=4 ;; bob) fd=5 ;; *) fd=6 ;; esac
    eval "exec $fd<\"\$T/\$who.ready\""
    eval "read -r line <&$fd" || fail "$who's agent did not start"
    case "$line" in
    "sixchat ready as $who@example.org on "*) ;;
    *) fail "$who ready line: $line" ;;
    esac
    eval "ADDR_$who=\${line##* on }"
}

# down NAME [SIGNAL]: stops NAME's agent (TERM by default) and waits for it
down() {
    eval "pid=\$PID_$1"
    kill "-${2:-TERM}" "$pid"
    rc=0
    wait "$pid" || rc=$?
    AGENT_PIDS=$(echo "$AGENT_PIDS" | sed "s/ $pid\b//")
    [ "${2:-TERM}" != TERM ] || [ "$rc" = 0 ] || fail "$1's agent exited with $rc after SIGTERM"
}

# last_event NAME: the id of NAME's newest event (0 when its agent is not running)
last_event() {
    v=$(sx "$1" status --json 2>/dev/null | sed -n 's/.*"events_last": *\([0-9]*\).*/\1/p')
    echo "${v:-0}"
}

# wait_event NAME SINCE TYPE [KEY=VALUE]: waits (10 s at most) for the event
wait_event() {
    if [ -n "${4:-}" ]; then
        sx "$1" events --since "$2" --wait "$3" --match "$4" --timeout 20 >"$T/wait.out" ||
            fail "$1: no $3 $4 event"
    else
        sx "$1" events --since "$2" --wait "$3" --timeout 20 >"$T/wait.out" || fail "$1: no $3 event"
    fi
}
