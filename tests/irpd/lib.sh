# tests/irpd/lib.sh - helpers shared by the irpd integration scripts
# (tests/irpd/*.sh and tests/irp/irp_cli.sh). Sourced, not run.
#
# Needs IRPD (the irpd binary) and IRP_PROBE (tests/irpd/irp_probe) in the
# environment (ctest sets them), and the openssl CLI. Waits on the ready line
# and on probe output through FIFOs: no sleeps.
IRPD=${IRPD:?set IRPD to the irpd binary}
PROBE=${IRP_PROBE:-} # needed by probe() and as(); tests/irp/irp_cli.sh uses neither
T=$(mktemp -d)
PID=
cleanup() {
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; fi
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

# keys, CSRs, certificates, enrolment (csr, key_csr, root_ca, user_cert, enroll_with, cert_fp):
# pki.sh next to this file (scripts of tests/irp source ../irpd/lib.sh)
LIBDIR=$(dirname "$0")
[ -f "$LIBDIR/pki.sh" ] || LIBDIR=$(dirname "$0")/../irpd
. "$LIBDIR/pki.sh"

# The store of this run and irpd_init (SQLite, or PostgreSQL with SC_TEST_PG_URI)
. "$LIBDIR/store.sh"

n=0
fail() {
    echo "FAIL: $*"
    echo "--- irpd log:"
    cat "$T/log" 2>/dev/null || true
    exit 1
}
ok() { n=$((n + 1)); echo "ok $n - $*"; }
# has FILE PATTERN WHAT: FILE contains the fixed string PATTERN
has() { grep -qF -- "$2" "$1" || fail "$3: no '$2' in: $(cat "$1")"; ok "$3"; }
hasnt() { if grep -qF -- "$2" "$1"; then fail "$3: unexpected '$2' in: $(cat "$1")"; fi; ok "$3"; }

start() {
    rm -f "$T/ready"
    mkfifo "$T/ready"
    "$IRPD" serve --dir "$T/r" --listen 127.0.0.1:0 "$@" >"$T/ready" 2>>"$T/log" &
    PID=$!
    exec 3<"$T/ready"
    read -r line <&3 || fail "irpd did not start"
    case "$line" in "irpd ready on 127.0.0.1:"*) ;; *) fail "ready line: $line" ;; esac
    PORT=${line##*:}
    grep -q "irpd: info: store $BACKEND\$" "$T/log" || fail "irpd does not serve from $BACKEND"
}
stop() {
    kill -TERM "$PID"
    rc=0
    wait "$PID" || rc=$?
    PID=
    exec 3<&-
    [ "$rc" = 0 ] || fail "irpd exited with $rc after SIGTERM"
    ok "SIGTERM: irpd exits 0"
}
# probe NAME [options] < requests: output in $T/NAME.out, exit status in $T/NAME.rc
probe() {
    name=$1
    shift
    rc=0
    "$PROBE" --connect "127.0.0.1:$PORT" --ca "$T/r/ca.pem" "$@" >"$T/$name.out" 2>&1 || rc=$?
    echo "$rc" >"$T/$name.rc"
}
as() { who=$1; shift; probe "$@" --cert "$T/$who.pem" --key "$T/$who.key"; }
# enroll NAME USER: a fresh token from the CLI, a P-256 CSR, enrolment; leaves
# $T/NAME.pem and $T/NAME.key
enroll() {
    tok=$("$IRPD" token --dir "$T/r" "$2") || fail "token for $2"
    enroll_with "$tok" "$1" || fail "enroll $1: $(cat "$T/enroll_$1.out" 2>/dev/null)"
}
# resp FILE ID: the response line with that id
resp() { grep -F "<resp id=\"$2\" " "$1" || true; }
# serial PEM: the certificate's serial in IRP form (lowercase hex, no leading zeros)
serial() { openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/^0*//'; }
