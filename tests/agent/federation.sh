#!/bin/sh
# tests/agent/federation.sh - two domains with their own registries find each
# other through DNS SRV (issue 9, "Domains that find each other"; docs/IRP.md
# 2.1): nsd on loopback serves _irp._tcp.one.test and _irp._tcp.two.test,
# each pointing at its own irpd with its own CA; each registry trusts the
# other's CA for the other's domain only (trusted_ca, IRP.md 7.6).
# alice@one.test and bob@two.test run agents whose own registry is found by
# SRV (`init --irp DOMAIN`), pin each other's domain with
# `sixchat trust-domain`, and chat both ways with receipts. Before the pin,
# the lookup says what to do, and a wrong fingerprint trusts nothing. (That a
# domain's CA vouches for its own users only is the core's domain-bound trust
# anchors, tests/test_trust.c, and the registry's served domains,
# tests/irpd/domains.sh.)
#
# Needs IRPD, SIXCHAT and nsd (scripts/deps.sh); exits 77 without nsd.
set -eu
[ -x "$(command -v nsd || echo /usr/sbin/nsd)" ] || { echo "federation.sh: nsd is not installed (scripts/deps.sh): skipped"; exit 77; }
. "$(dirname "$0")/lib.sh"
NSD_PID=
IRPD2_PID=
trap 'for p in $NSD_PID $IRPD2_PID; do kill "$p" 2>/dev/null || :; done; cleanup' EXIT

# reg N DOMAIN: irpd for DOMAIN in $T/rN, named localhost; sets FP_N, PORT_N, PID
reg() {
    "$IRPD" init --dir "$T/r$1" --name localhost --domain "$2" --ip 127.0.0.1 >"$T/init$1.out" ||
        fail "irpd init $2"
    eval "FP_$1=\$(sed -n 's/^CA fingerprint (SHA-256): //p' \"\$T/init\$1.out\")"
}
serve() {
    mkfifo "$T/irpd$1.ready"
    "$IRPD" serve --dir "$T/r$1" --listen 127.0.0.1:0 --allow-local >"$T/irpd$1.ready" \
        2>>"$T/irpd$1.log" &
    eval "IRPD${1}_PID=$!"
    eval "exec $((6 + $1))<\"\$T/irpd\$1.ready\""
    eval "read -r line <&$((6 + $1))" || fail "irpd $1 did not start"
    eval "PORT_$1=\${line##*:}"
}
reg 1 one.test
reg 2 two.test
# Each registry lets the other domain's users read (lookups, watches), nothing more.
echo "trusted_ca = $T/r2/ca.pem two.test" >>"$T/r1/irpd.conf"
echo "trusted_ca = $T/r1/ca.pem one.test" >>"$T/r2/irpd.conf"
serve 1
IRPD_PID=$IRPD1_PID
serve 2

# The DNS: nsd on a free loopback port, one zone per domain.
. "$(dirname "$0")/../irp/nsd.sh"
nsd_init
nsd_zone one.test "_irp._tcp IN SRV 0 0 $PORT_1 localhost."
nsd_zone two.test "_irp._tcp IN SRV 0 0 $PORT_2 localhost."
nsd_start || fail "nsd did not start"
export SIXCHAT_DNS=127.0.0.1:$DNS_PORT
ok "two registries (one.test on $PORT_1, two.test on $PORT_2) and nsd on $DNS_PORT"

# enrol_in NAME N DOMAIN: the registry named by its domain alone: found by SRV
enrol_in() {
    sx "$1" init --id "$1@$3" --irp "$3" --ca-fingerprint "$(eval echo \$FP_$2)" >/dev/null ||
        fail "init $1"
    tok=$("$IRPD" token --dir "$T/r$2" "$1@$3") || fail "token $1"
    sx "$1" enroll --token "$tok" >"$T/enroll_$1.out" 2>&1 || fail "enroll $1: $(cat "$T/enroll_$1.out")"
}
enrol_in alice 1 one.test
enrol_in bob 2 two.test
ok "alice@one.test and bob@two.test enrolled with registries found by SRV"

# up_in NAME DOMAIN: like lib.sh's up, for a user of DOMAIN
up_in() {
    rm -f "$T/$1.ready"
    mkfifo "$T/$1.ready"
    "$SIXCHAT" --home "$T/$1" up --listen 127.0.0.1:0 --allow-local >"$T/$1.ready" 2>>"$T/$1.log" &
    AGENT_PIDS="$AGENT_PIDS $!"
    case $1 in alice) fd=4 ;; *) fd=5 ;; esac
    eval "exec $fd<\"\$T/\$1.ready\""
    eval "read -r line <&$fd" || fail "$1's agent did not start"
    case "$line" in "sixchat ready as $1@$2 on "*) ;; *) fail "$1 ready line: $line" ;; esac
    echo "$line" >"$T/$1.ready.line"
}
up_in alice one.test
up_in bob two.test
grep -q "localhost:$PORT_1" "$T/alice.log" || fail "alice's registry was not the SRV target"
ok "both agents registered with their own registry, found by SRV"

# Before the pin: the lookup says what to do, the message waits.
sx alice lookup bob@two.test >"$T/lk0.out" 2>&1 && fail "lookup without trust-domain succeeded"
grep -q "trust-domain two.test" "$T/lk0.out" || fail "the refusal does not say what to do: $(cat "$T/lk0.out")"
ok "before the pin: $(head -c 100 "$T/lk0.out")..."

# A wrong fingerprint is refused by the registry's TLS (the pin), and nothing is trusted.
sx alice trust-domain two.test --ca-fingerprint "$FP_1" >"$T/td0.out" 2>&1 &&
    fail "trust-domain with the wrong fingerprint succeeded"
sx alice domains >"$T/dom0.out"
[ ! -s "$T/dom0.out" ] || fail "a domain was trusted after a failed pin: $(cat "$T/dom0.out")"
ok "trust-domain with another CA's fingerprint fails and trusts nothing"

sx alice trust-domain two.test --ca-fingerprint "$FP_2" >"$T/td1.out" || fail "alice trust-domain"
sx bob trust-domain one.test --ca-fingerprint "$FP_1" >"$T/td2.out" || fail "bob trust-domain"
sx alice domains | grep -q "^two.test: registry CA $FP_2" || fail "alice's domains"
ok "each pinned the other's domain"

sx alice lookup bob@two.test >"$T/lk1.out" || fail "lookup of bob@two.test: $(cat "$T/lk1.out")"
grep -q "online" "$T/lk1.out" || fail "bob not online at two.test: $(cat "$T/lk1.out")"
ok "alice looks bob@two.test up on two.test's registry"

b0=$(last_event bob)
id=$(sx alice send bob@two.test "hello from one.test" --wait --timeout 20) ||
    fail "alice -> bob@two.test not delivered"
wait_event bob "$b0" message.received "text=hello from one.test"
a0=$(last_event alice)
sx bob send alice@one.test "hello back from two.test" --wait --timeout 20 >/dev/null ||
    fail "bob -> alice@one.test not delivered"
wait_event alice "$a0" message.received "text=hello back from two.test"
ok "alice@one.test and bob@two.test chat both ways, with receipts ($(echo "$id" | head -n 1))"

# one.test's CA key signs a certificate for bob@two.test (the openssl CLI): alice's
# agent refuses it in the handshake, for one.test's CA vouches for one.test only.
# forge NAME USER: a P-256 key and a certificate for USER signed with one.test's CA key
forge() {
    openssl ecparam -name prime256v1 -genkey -noout -out "$T/$1.key" 2>/dev/null
    openssl req -new -key "$T/$1.key" -subj "/CN=$2" -out "$T/$1.csr" 2>/dev/null
    printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
        "extendedKeyUsage=clientAuth,serverAuth" "subjectAltName=email:$2" >"$T/$1.ext"
    openssl x509 -req -in "$T/$1.csr" -CA "$T/r1/ca.pem" -CAkey "$T/r1/ca.key" \
        -CAcreateserial -days 1 -extfile "$T/$1.ext" -out "$T/$1.pem" 2>"$T/$1.err" ||
        fail "openssl x509 -req: $(cat "$T/$1.err")"
}
if [ -n "${DEMO:-}" ]; then
    aport=$(sed -n 's/^sixchat ready as alice@one.test on 127.0.0.1://p' "$T/alice.ready.line")
    # The control: the same making for carol@one.test, a user of the CA's own domain, is let in.
    forge carol carol@one.test
    timeout 10 "$DEMO" connect --cert "$T/carol.pem" --key "$T/carol.key" --ca "$T/r1/ca.pem" \
        --ca-domain one.test --peer alice@one.test --to 127.0.0.1 --port "$aport" \
        >"$T/carol.out" 2>&1 || :
    # (alice's agent then closes: the example program sends no device stanza first)
    grep -q "handshake done: peer alice@one.test" "$T/carol.out" ||
        fail "carol's handshake failed: $(cat "$T/carol.out")"
    ok "control: a carol@one.test certificate made the same way by one.test's CA passes the handshake"
    forge mallory bob@two.test
    a0=$(last_event alice)
    rc=0
    timeout 30 "$DEMO" connect --cert "$T/mallory.pem" --key "$T/mallory.key" --ca "$T/r1/ca.pem" \
        --ca-domain one.test --peer alice@one.test --to 127.0.0.1 --port "$aport" \
        >"$T/mallory.out" 2>&1 || rc=$?
    [ "$rc" = 1 ] || fail "the forged bob@two.test: exit $rc: $(cat "$T/mallory.out")"
    sx alice events --since "$a0" >"$T/mallory_ev.out" 2>&1 || :
    # The initiator proves itself last: alice's agent refuses it at that step.
    grep -q "the peer rejected us" "$T/mallory.out" || fail "not refused by alice: $(cat "$T/mallory.out")"
    ! grep -q "bob@two.test" "$T/mallory_ev.out" || fail "alice's agent let the forged bob in: $(cat "$T/mallory_ev.out")"
    ok "a bob@two.test certificate from one.test's CA is refused ($(tail -n 1 "$T/mallory.out" | head -c 100))"
fi
echo "federation: all checks passed"
