#!/bin/sh
# demo-library.sh BUILD_DIR - the library alone (make demo-library): one
# End2End Direct conversation between two
# sixchat-demo processes over loopback TCP (examples/sixchat_demo.c).
#
#   1. makes a throwaway PKI with the openssl command-line tool: a root CA
#      and P-256 user certificates for alice@example.org and bob@example.org;
#   2. starts bob (listen: responder) on a free port of ::1, or 127.0.0.1
#      when the host has no IPv6 loopback, and waits for its ready line
#      "listening on ADDR:PORT", read through a fifo (no sleeps);
#   3. runs alice (connect: initiator) against that port in the foreground;
#   4. waits for both and fails if either failed.
# A watchdog bounds the whole run: it stops bob after $DEMO_TIMEOUT seconds
# (default 30), which in turn ends alice with a truncated connection.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
demo=$1/examples/sixchat-demo
timeout=${DEMO_TIMEOUT:-30}
[ -x "$demo" ] || { echo "demo: $demo not found; build it first (make demo-library)" >&2; exit 1; }
command -v openssl >/dev/null 2>&1 || { echo "demo: openssl not found" >&2; exit 1; }

umask 077 # keys are created readable by their owner only
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sixchat-demo.XXXXXX")
bob_pid=
relay_pid=
dog_pid=
# Stops only the processes this script started, by their ids.
cleanup() {
    for pid in $bob_pid $relay_pid $dog_pid; do kill "$pid" 2>/dev/null || :; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# ---- certificates --------------------------------------------------------

# ossl ARGS...: runs openssl quietly; on failure shows its messages and stops.
ossl() {
    openssl "$@" 2>"$tmp/openssl.err" || {
        cat "$tmp/openssl.err" >&2
        echo "demo: openssl $1 failed" >&2
        exit 1
    }
}

# What the library requires of a user certificate (docs/wire-notes.md):
# the user ID as subjectAltName email, EKU clientAuth, keyUsage digitalSignature.
cat >"$tmp/openssl.cnf" <<'EOF'
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ user ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = email:$ENV::DEMO_EMAIL
EOF
cnf=$tmp/openssl.cnf
DEMO_EMAIL=unused@example.org # every section is parsed on load
export DEMO_EMAIL

# p256key NAME: a P-256 private key, mode 0600.
p256key() {
    ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -pkeyopt ec_param_enc:named_curve -out "$tmp/$1.key"
    chmod 600 "$tmp/$1.key"
}

p256key root
ossl req -new -x509 -config "$cnf" -extensions ca -key "$tmp/root.key" \
    -subj "/CN=sixchat demo root CA" -sha256 -days 2 -set_serial 1 -out "$tmp/root.pem"
serial=1
for user in alice bob; do
    serial=$((serial + 1))
    p256key "$user"
    ossl req -new -config "$cnf" -key "$tmp/$user.key" -subj "/CN=$user@example.org" \
        -out "$tmp/$user.csr"
    DEMO_EMAIL=$user@example.org
    ossl x509 -req -in "$tmp/$user.csr" -CA "$tmp/root.pem" -CAkey "$tmp/root.key" \
        -extfile "$cnf" -extensions user -sha256 -days 2 -set_serial "$serial" \
        -out "$tmp/$user.pem"
done

# ---- bob: the listener ---------------------------------------------------

# start_bob ADDR: starts bob on ADDR, port 0 (the system picks a free one),
# and reads his output through a fifo up to the ready line. Sets port; the
# lines read so far are kept in $tmp/bob.head. Fails if bob exits first.
start_bob() {
    rm -f "$tmp/bob.out"
    mkfifo "$tmp/bob.out"
    "$demo" listen --cert "$tmp/bob.pem" --key "$tmp/bob.key" --ca "$tmp/root.pem" \
        --bind "$1" --port 0 >"$tmp/bob.out" 2>&1 &
    bob_pid=$!
    # The watchdog: sleep is the time limit here, never a wait for readiness.
    (
        trap 'kill "$s" 2>/dev/null; exit 0' TERM
        sleep "$timeout" &
        s=$!
        wait "$s"
        echo "demo: timed out after $timeout s, stopping bob" >&2
        kill "$bob_pid" 2>/dev/null
    ) &
    dog_pid=$!
    exec 3<"$tmp/bob.out"
    port=
    : >"$tmp/bob.head"
    while IFS= read -r line <&3; do
        printf '%s\n' "$line" >>"$tmp/bob.head"
        case $line in
        *"listening on "*)
            port=${line##*:}
            return 0
            ;;
        esac
    done
    # bob ended before listening: reap him and his watchdog.
    exec 3<&-
    wait "$bob_pid" || :
    bob_pid=
    kill "$dog_pid" 2>/dev/null || :
    wait "$dog_pid" || :
    dog_pid=
    return 1
}

cat <<'EOF'
== libsixchat demo: End2End Direct between two processes over loopback TCP ==
bob listens (responder), alice connects (initiator). Each proves its user ID
with a certificate from a CA made just now with openssl. Then alice sends 3
messages, bob answers each with a receipt and a reply, alice updates her keys
and asks bob to update his, sends a 4th message and closes; bob closes too.
"->" marks what a side sends, "<-" what it receives.

EOF

addr=::1
if ! start_bob "$addr"; then
    addr=127.0.0.1 # no IPv6 loopback here
    if ! start_bob "$addr"; then
        cat "$tmp/bob.head"
        echo "demo: the listener did not start" >&2
        exit 1
    fi
fi
cat "$tmp/bob.head"
cat <&3 &
relay_pid=$!
exec 3<&-

# ---- alice: the connector, in the foreground -----------------------------

alice_rc=0
"$demo" connect --cert "$tmp/alice.pem" --key "$tmp/alice.key" --ca "$tmp/root.pem" \
    --peer bob@example.org --to "$addr" --port "$port" 2>&1 || alice_rc=$?

bob_rc=0
wait "$bob_pid" || bob_rc=$?
bob_pid=
wait "$relay_pid" || :
relay_pid=
kill "$dog_pid" 2>/dev/null || :
wait "$dog_pid" || :
dog_pid=

echo
if [ "$alice_rc" -ne 0 ] || [ "$bob_rc" -ne 0 ]; then
    echo "demo FAILED: alice exited with $alice_rc, bob with $bob_rc" >&2
    exit 1
fi
echo "demo finished: handshake, 4 messages, receipts, key update, close"
