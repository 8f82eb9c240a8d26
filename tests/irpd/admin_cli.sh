#!/bin/sh
# tests/irpd/admin_cli.sh - the administrator commands of the irpd program:
# `irpd revoke --dir DIR SERIAL|USER [--reason R]` and `irpd users --dir DIR`,
# working on the database while irpd serves (docs/IRP.md 6.12 effects).
# Run by run.sh; needs IRPD and IRP_PROBE like it.
set -eu
. "$(dirname "$0")/lib.sh"

"$IRPD" revoke --help | grep -q 'SYNOPSIS' || fail "irpd revoke --help"
"$IRPD" revoke --help | grep -q -- '--reason' || fail "irpd revoke --help: --reason"
"$IRPD" users --help | grep -q 'devices=N certs=N' || fail "irpd users --help"
"$IRPD" help revoke | grep -q 'irpd revoke - ' || fail "irpd help revoke"
"$IRPD" --help | grep -q 'irpd users --dir DIR' || fail "irpd --help lists users"
ok "help texts of revoke and users"

irpd_init --dir "$T/r" --name 127.0.0.1 --domain example.org --ip 127.0.0.1 >/dev/null
start
enroll alice alice@example.org
enroll bob bob@example.org
enroll carol carol@example.org
as alice reg <<E
<req id="r1" op="register" device="laptop" port="4605" seq="1"><addr>192.0.2.7</addr></req>
<req id="r2" op="register" device="phone" port="4605" seq="1"><addr>192.0.2.8</addr></req>
E
has "$T/reg.out" '<resp id="r2" status="200"' "alice registers two devices"

"$IRPD" users --dir "$T/r" >"$T/users.out" || fail "irpd users"
has "$T/users.out" 'alice@example.org devices=2 certs=1 access=anyone created=' "irpd users: alice, 2 devices, 1 certificate"
has "$T/users.out" 'bob@example.org devices=0 certs=1' "irpd users: bob"
[ "$(wc -l <"$T/users.out")" = 3 ] || fail "users: $(cat "$T/users.out")"
ok "irpd users: one line per user"

rc=0
"$IRPD" revoke --dir "$T/r" --reason bogus alice@example.org 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "unknown reason: exit $rc"
ok "irpd revoke with an unknown reason: exit 2"
rc=0
"$IRPD" revoke --dir "$T/r" 1234abcd 2>/dev/null || rc=$?
[ "$rc" = 1 ] || fail "unknown serial: exit $rc"
ok "irpd revoke of an unknown serial: exit 1"

SA=$(serial "$T/alice.pem")
"$IRPD" revoke --dir "$T/r" alice@example.org --reason key-compromise >"$T/rev.out" ||
    fail "irpd revoke USER"
has "$T/rev.out" 'revoked 1 certificate(s) of alice@example.org' "irpd revoke USER"
has "$T/rev.out" 'ended 2 binding(s)' "irpd revoke USER ends the user's bindings"
as bob after <<E
<req id="k1" op="lookup" user="alice@example.org"/>
<req id="k2" op="cert-status" serial="$SA"/>
E
has "$T/after.out" '<resp id="k1" status="200"' "lookup after irpd revoke"
hasnt "$T/after.out" '<binding' "alice's bindings vanished"
has "$T/after.out" "status=\"revoked\" serial=\"$SA\"" "lookup shows the certificate revoked"
has "$T/after.out" 'reason="key-compromise"' "with the reason given"
as alice gone <<E
<req id="x1" op="ping"/>
E
[ "$(cat "$T/gone.rc")" != 0 ] || fail "revoked certificate still accepted"
ok "alice's revoked certificate fails the handshake"

SB=$(serial "$T/bob.pem")
"$IRPD" revoke --dir "$T/r" "$SB" >"$T/rev2.out" || fail "irpd revoke SERIAL"
has "$T/rev2.out" "revoked 1 certificate(s) of bob@example.org (last serial $SB)" "irpd revoke SERIAL"
as carol st <<E
<req id="s1" op="cert-status" serial="$SB"/>
E
has "$T/st.out" "status=\"revoked\" serial=\"$SB\"" "cert-status: bob's certificate revoked"
has "$T/st.out" 'reason="unspecified"' "default reason unspecified"
"$IRPD" revoke --dir "$T/r" "$SB" >"$T/rev3.out" || fail "irpd revoke twice"
has "$T/rev3.out" 'nothing to revoke' "revoking a revoked certificate changes nothing (exit 0)"

"$IRPD" users --dir "$T/r" >"$T/users2.out" || fail "irpd users"
has "$T/users2.out" 'alice@example.org devices=0 certs=0' "irpd users after the revocation"
stop
echo "all $n admin CLI checks passed"
