#!/bin/sh
# tests/irp/irp_cli.sh - the irp command-line client (src/tools/irp_main.c,
# built on src/irp/irp_client) against a real irpd on loopback (issue 3).
#
# Needs IRPD and IRP in the environment (ctest sets them) and the openssl
# CLI. Readiness is awaited on FIFOs (irpd's ready line, the watcher's first
# line), never with sleeps; every wait is bounded by `timeout`.
set -eu

IRP=${IRP:?set IRP to the irp binary}
. "$(dirname "$0")/../irpd/lib.sh"
WPID=
# lib.sh's cleanup, and the watcher if one is still running
trap 'if [ -n "$WPID" ]; then kill "$WPID" 2>/dev/null || true; fi; cleanup' EXIT INT TERM

# run NAME EXPECTED_RC irp-args...: stdout in $T/NAME.out, stderr in $T/NAME.err
run() {
    name=$1 want=$2
    shift 2
    rc=0
    timeout 30 "$IRP" --server "127.0.0.1:$PORT" --timeout 10 "$@" >"$T/$name.out" 2>"$T/$name.err" || rc=$?
    [ "$rc" = "$want" ] || fail "$name: exit $rc, wanted $want: $(cat "$T/$name.out" "$T/$name.err")"
}
as() { who=$1; shift; run "$@" --ca-fp "$FP" --cert "$T/$who.pem" --key "$T/$who.key"; }

"$IRP" --help >"$T/help.out"
grep -q "^SYNOPSIS" "$T/help.out" && grep -q "lookup USER" "$T/help.out" || fail "irp --help"
ok "irp --help"
rc=0
"$IRP" 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "no command: exit $rc"
ok "usage error: exit 2"

irpd_init --dir "$T/r" --name 127.0.0.1 --domain example.org --ip 127.0.0.1 --admin root@example.org >"$T/init.out"
FP=$(sed -n 's/^CA fingerprint (SHA-256): //p' "$T/init.out")
[ ${#FP} = 64 ] || fail "no fingerprint from irpd init"
TA=$("$IRPD" token --dir "$T/r" alice@example.org)
TB=$("$IRPD" token --dir "$T/r" bob@example.org)

start --allow-local

# ---- public operations, pinning ------------------------------------------------------
run caps 0 --ca-fp "$FP" capabilities
has "$T/caps.out" "versions: 1" "capabilities: versions"
has "$T/caps.out" " lookup " "capabilities: ops"
has "$T/caps.out" "lifetime-default=3600" "capabilities: limits"

run cacerts 0 --ca-fp "$FP" ca-certs --save "$T/ca.pem"
has "$T/cacerts.out" "# fingerprint (SHA-256): $FP" "ca-certs: the pinned CA is in the chain"
has "$T/cacerts.out" "BEGIN CERTIFICATE" "ca-certs prints PEM"
saved=$(cert_fp "$T/ca.pem")
[ "$saved" = "$FP" ] || fail "ca-certs --save: $saved"
ok "ca-certs --save writes the pinned CA"

BAD=0000000000000000000000000000000000000000000000000000000000000001
run badpin 1 --ca-fp "$BAD" ca-certs
has "$T/badpin.err" "602 tls-failed" "a wrong pin is refused (602)"
has "$T/badpin.err" "pinned CA fingerprint" "the refusal says why"
hasnt "$T/badpin.out" "BEGIN CERTIFICATE" "nothing printed with a wrong pin"
run capem 0 --ca "$T/r/ca.pem" ping
has "$T/capem.out" "ping: 200" "--ca PEM as the trust anchor"
run capin 0 --ca "$T/r/ca.pem" --ca-fp "$FP" ping
ok "--ca with a matching --ca-fp"

# ---- enrolment --------------------------------------------------------------------------
key_csr alice PEM || fail "CSR for alice"
key_csr bob PEM || fail "CSR for bob"
run enroll_a 0 --ca-fp "$FP" enroll --token "$TA" --csr "$T/alice.csr" --out "$T/alice.pem"
has "$T/enroll_a.out" "cert none serial=" "enroll alice: serial printed"
openssl verify -CAfile "$T/r/ca.pem" "$T/alice.pem" >/dev/null || fail "openssl verify alice"
ok "alice's chain verifies with openssl verify"
run enroll_b 0 --ca-fp "$FP" enroll --token "$TB" --csr "$T/bob.csr" --out "$T/bob.pem"
ok "enroll bob"
run reuse 1 --ca-fp "$FP" enroll --token "$TB" --csr "$T/bob.csr" --out "$T/bob2.pem"
has "$T/reuse.err" "irp: 410 gone:" "reused token: error line with status and message"

# ---- register, lookup ---------------------------------------------------------------------
as alice reg 0 register --device laptop --port 4605 --seq 10 127.0.0.1
has "$T/reg.out" "registered granted=3600 seen=127.0.0.1" "register alice"
as alice reg2 0 register --device phone --port 4605 --seq 5 --lifetime 600 192.0.2.7
has "$T/reg2.out" "granted=600 seen=127.0.0.1 nat=1" "register with another address: nat"
as alice stale 1 register --device laptop --port 4605 --seq 10 127.0.0.1
has "$T/stale.err" "irp: 409 conflict:" "stale seq: 409, exit 1"
run anon 1 --ca-fp "$FP" register --device laptop --port 4605 --seq 11 127.0.0.1
has "$T/anon.err" "irp: 401" "register without a certificate: 401"

as bob look 0 lookup alice@example.org
has "$T/look.out" "user alice@example.org" "bob looks alice up"
has "$T/look.out" "binding laptop addrs=127.0.0.1 port=4605" "lookup shows the laptop binding"
has "$T/look.out" "binding phone addrs=192.0.2.7" "lookup shows the phone binding"
has "$T/look.out" "cert valid serial=" "lookup shows alice's certificate"
has "$T/look.out" "signature ok" "lookup signature verifies"
as bob nouser 1 lookup nobody@example.org
has "$T/nouser.err" "irp: 404" "lookup of an unknown user: 404"

# ---- watch ------------------------------------------------------------------------------------
mkfifo "$T/watch"
timeout 30 "$IRP" --server "127.0.0.1:$PORT" --ca-fp "$FP" --cert "$T/bob.pem" --key "$T/bob.key" \
    watch alice@example.org --count 1 >"$T/watch" 2>"$T/watch.err" &
WPID=$!
exec 4<"$T/watch"
read -r wline <&4 || fail "watch: no answer: $(cat "$T/watch.err")"
case "$wline" in "watching alice@example.org at="*" bindings=2") ok "watch" ;; *) fail "watch: $wline" ;; esac
as alice unreg 0 unregister --device phone
has "$T/unreg.out" "unregistered: 200" "alice unregisters the phone"
ev=
while read -r l <&4; do
    case "$l" in event*) ev=$l; break ;; esac
done
case "$ev" in
"event binding user=alice@example.org seq=1 "*"reason=unregister bindings=1") ok "watch event after unregister" ;;
*) fail "watch event: '$ev'" ;;
esac
rc=0
wait "$WPID" || rc=$?
WPID=
exec 4<&-
[ "$rc" = 0 ] || fail "watch --count 1 exited $rc"
ok "watch --count 1 exits 0 after one event"

# ---- cert-status, revoke ----------------------------------------------------------------------
SA=$(openssl x509 -in "$T/alice.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/^0*//')
as bob st1 0 cert-status --serial "$SA"
has "$T/st1.out" "cert valid serial=$SA" "cert-status: valid"
has "$T/st1.out" "user=alice@example.org" "cert-status names the user"
as bob notyours 1 revoke --serial "$SA"
has "$T/notyours.err" "irp: 403" "bob may not revoke alice's certificate"
as alice rev 0 revoke --cert-file "$T/alice.pem" --reason key-compromise
has "$T/rev.out" "cert revoked serial=$SA" "alice revokes her certificate (by fingerprint)"
has "$T/rev.out" "reason=key-compromise" "revoke answer has the reason"
as bob st2 0 cert-status --serial "$SA"
has "$T/st2.out" "cert revoked" "cert-status after revoke: revoked"
as bob look2 0 lookup alice@example.org
hasnt "$T/look2.out" "binding " "revocation removed alice's bindings"
has "$T/look2.out" "signature ok" "lookup after revoke is signed"
as alice revoked 1 ping
has "$T/revoked.err" "irp: 602 tls-failed:" "a revoked certificate fails the handshake"
has "$T/revoked.err" "revoked" "the error names the revocation"

# ---- other operations --------------------------------------------------------------------------
as bob info 0 user-info --set display-name=Bob
has "$T/info.out" "info display-name Bob" "user-info set"
as bob pol 0 lookup-policy
has "$T/pol.out" "access anyone" "lookup-policy get"
as bob lu 1 list-users
has "$T/lu.err" "irp: 403" "list-users needs an administrator"

head -c 3000 /dev/urandom >"$T/backup.p12"
as bob p12put 0 pkcs12-put --in "$T/backup.p12"
has "$T/p12put.out" "stored: 200" "pkcs12-put"
as bob p12get 0 pkcs12-get --out "$T/back.p12"
cmp -s "$T/backup.p12" "$T/back.p12" || fail "pkcs12-get returned other bytes"
ok "pkcs12-get returns what was stored"
printf 'correct horse\n' | "$IRPD" passwd --dir "$T/r" carol@example.org >/dev/null || fail "irpd passwd"
key_csr carol PEM || fail "CSR for carol"
run badpw 1 --ca-fp "$FP" --user carol@example.org --password wrong enroll --csr "$T/carol.csr" --out "$T/carol.pem"
has "$T/badpw.err" "irp: 401" "enroll with a wrong password: 401"
run enroll_c 0 --ca-fp "$FP" --user carol@example.org --password "correct horse" enroll --csr "$T/carol.csr" --out "$T/carol.pem"
has "$T/enroll_c.out" "login: 200" "password login, pipelined with enroll"
openssl verify -CAfile "$T/r/ca.pem" "$T/carol.pem" >/dev/null || fail "openssl verify carol"
ok "enroll after a password login"

kill -TERM "$PID"
rc=0
wait "$PID" || rc=$?
PID=
[ "$rc" = 0 ] || fail "irpd exit $rc"
run down 1 --ca-fp "$FP" --timeout 2 ping
has "$T/down.err" "irp: 601 connect-failed" "registry down: 601 and exit 1"
echo "all $n irp checks passed"
