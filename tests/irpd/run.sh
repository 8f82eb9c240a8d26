#!/bin/sh
# tests/irpd/run.sh - irpd against a real process on loopback (issue 3).
#
# Needs IRPD (the irpd binary) and IRP_PROBE (tests/irpd/irp_probe) in the
# environment (ctest sets them), and the openssl CLI. Waits on the ready line
# and on probe output through FIFOs: no sleeps.
set -eu

. "$(dirname "$0")/lib.sh"

# ---- init, token -------------------------------------------------------------------
"$IRPD" --help | grep -q "irpd serve" || fail "irpd --help"
"$IRPD" serve --help | grep -q -- "--allow-local" || fail "irpd serve --help"
ok "help texts"
irpd_init --dir "$T/r" --name 127.0.0.1 --domain example.org --ip 127.0.0.1 --admin root@example.org >"$T/init.out"
fp=$(sed -n 's/^CA fingerprint (SHA-256): //p' "$T/init.out")
real=$(cert_fp "$T/r/ca.pem")
[ -n "$fp" ] && [ "$fp" = "$real" ] || fail "init fingerprint $fp != $real"
ok "init prints the CA fingerprint"
[ "$(stat -c %a "$T/r/ca.key")" = 600 ] && [ "$(stat -c %a "$T/r/server.key")" = 600 ] ||
    fail "key modes"
ok "private keys are 0600"
if irpd_init --dir "$T/r" --name 127.0.0.1 --domain example.org 2>/dev/null; then fail "init twice"; fi
ok "init refuses an existing registry"
TA=$("$IRPD" token --dir "$T/r" alice@example.org)
TB=$("$IRPD" token --dir "$T/r" bob@example.org)
[ ${#TA} = 22 ] || fail "token length: $TA"
ok "token"

# ---- first server: without --allow-local ----------------------------------------------
start
probe caps <<E
<req id="c1" op="capabilities"/>
<req id="c2" op="ca-certs"/>
E
has "$T/caps.out" '<resp id="c1" status="200"' "capabilities"
has "$T/caps.out" 'lifetime-default="3600"' "capabilities limits"
has "$T/caps.out" '<resp id="c2" status="200"' "ca-certs"

CA_=$(csr alice)
probe enroll_a --save-cert "$T/alice.pem" <<E
<req id="e1" op="enroll" token="$TA"><csr>$CA_</csr></req>
E
has "$T/enroll_a.out" '<resp id="e1" status="200"' "enroll alice with a token"
openssl verify -CAfile "$T/r/ca.pem" "$T/alice.pem" >/dev/null || fail "openssl verify alice"
ok "alice's certificate verifies with openssl verify"
CB_=$(csr bob)
probe enroll_b --save-cert "$T/bob.pem" <<E
<req id="e2" op="enroll" token="$TB"><csr>$CB_</csr></req>
<req id="e3" op="enroll" token="$TB"><csr>$CB_</csr></req>
<req id="e4" op="enroll" token="AAAAAAAAAAAAAAAAAAAAAA"><csr>$CB_</csr></req>
E
has "$T/enroll_b.out" '<resp id="e2" status="200"' "enroll bob"
has "$T/enroll_b.out" '<resp id="e3" status="410"' "reused token: 410"
has "$T/enroll_b.out" '<resp id="e4" status="403"' "unknown token: 403"

printf 'correct horse\n' | "$IRPD" passwd --dir "$T/r" carol@example.org || fail "irpd passwd"
CC_=$(csr carol)
probe login <<E
<req id="p1" op="login" user="carol@example.org" password="wrong"/>
<req id="p2" op="login" user="carol@example.org" password="correct horse"/>
<req id="p3" op="login" user="carol@example.org" password="correct horse"/>
<req id="p4" op="enroll"><csr>$CC_</csr></req>
E
has "$T/login.out" '<resp id="p1" status="401"' "wrong password: 401"
has "$T/login.out" '<resp id="p2" status="200"' "password login"
has "$T/login.out" '<resp id="p3" status="409"' "second login: 409"
has "$T/login.out" '<resp id="p4" status="200"' "enroll after a password login"
probe anon_enroll <<E
<req id="p5" op="enroll"><csr>$CC_</csr></req>
E
has "$T/anon_enroll.out" '<resp id="p5" status="401"' "enroll without token or login: 401"

probe noauth <<E
<req id="n1" op="register" device="laptop" port="4605" seq="1"><addr>192.0.2.1</addr></req>
<req id="n2" op="lookup" user="alice@example.org"/>
E
has "$T/noauth.out" '<resp id="n1" status="401"' "register without a certificate: 401"
has "$T/noauth.out" '<resp id="n2" status="401"' "lookup without a certificate: 401"

as alice local <<E
<req id="l1" op="register" device="laptop" port="4605" seq="1"><addr>127.0.0.1</addr></req>
E
has "$T/local.out" '<resp id="l1" status="422"' "loopback refused without --allow-local"
has "$T/local.out" 'loopback' "422 names the class"
stop

# ---- second server: --allow-local (and the store survived the restart) -------------
start --allow-local
as alice reg <<E
<req id="r1" op="register" device="laptop" port="4605" seq="10"><addr>127.0.0.1</addr></req>
<req id="r2" op="register" device="phone" port="4605" seq="5" lifetime="10"><addr>192.0.2.7</addr></req>
<req id="r3" op="register" device="laptop" port="4605" seq="10"><addr>127.0.0.1</addr></req>
<req id="r4" op="register" user="bob@example.org" device="laptop" port="4605" seq="11"><addr>127.0.0.1</addr></req>
<req id="r5" op="register" device="x" port="4605" seq="1"><addr>224.0.0.1</addr></req>
<req id="r6" op="this is not xml
<req id="r7" op="frobnicate"/>
<req id="r8" op="ping"/>
E
has "$T/reg.out" '<resp id="r1" status="200" msg="ok" granted="3600" seen="127.0.0.1"/>' \
    "register alice: granted, seen, no nat"
has "$T/reg.out" '<resp id="r2" status="200" msg="ok" granted="60" seen="127.0.0.1" nat="1"/>' \
    "register with another address: nat flag, lifetime clamped"
has "$T/reg.out" '<resp id="r3" status="409"' "stale seq: 409"
has "$T/reg.out" '<resp id="r4" status="403"' "register for another user: 403"
has "$T/reg.out" '<resp id="r5" status="422"' "multicast refused: 422"
has "$T/reg.out" '<resp status="400"' "malformed XML: 400"
has "$T/reg.out" '<resp id="r7" status="501"' "unknown op: 501"
has "$T/reg.out" '<resp id="r8" status="200" msg="pong"' "connection keeps serving after 400"

as bob look <<E
<req id="k1" op="lookup" user="alice@example.org"/>
<req id="k2" op="lookup" user="nobody@example.org"/>
E
has "$T/look.out" '<resp id="k1" status="200"' "bob looks alice up"
has "$T/look.out" '<binding device="laptop" addrs="127.0.0.1" port="4605"' "lookup shows the binding"
has "$T/look.out" 'status="valid"' "lookup shows alice's certificate"
has "$T/look.out" 'sig: ok' "lookup answer signature verifies"
has "$T/look.out" '<binding device="phone"' "lookup shows the second binding"
has "$T/look.out" '<resp id="k2" status="404"' "lookup of an unknown user: 404"

# watch: bob watches alice; alice unregisters the phone; bob gets the event.
mkfifo "$T/watch"
"$PROBE" --connect "127.0.0.1:$PORT" --ca "$T/r/ca.pem" --cert "$T/bob.pem" --key "$T/bob.key" \
    --events 1 >"$T/watch" 2>&1 <<E &
<req id="w1" op="watch" user="alice@example.org"/>
E
WPID=$!
exec 4<"$T/watch"
read -r wline <&4 || fail "watch: no answer"
case "$wline" in '<resp id="w1" status="200"'*) ok "watch" ;; *) fail "watch: $wline" ;; esac
as alice unreg <<E
<req id="u1" op="unregister" device="phone"/>
<req id="u2" op="unregister" device="tablet"/>
E
has "$T/unreg.out" '<resp id="u1" status="200"' "unregister"
has "$T/unreg.out" '<resp id="u2" status="404"' "unregister an unknown device: 404"
read -r eline <&4 || fail "watch: no event"
case "$eline" in
'<event op="binding" user="alice@example.org" seq="1"'*'reason="unregister"'*) ok "watch event after unregister" ;;
*) fail "watch event: $eline" ;;
esac
wait "$WPID" || fail "watch probe"
exec 4<&-
# the answer changed within the signed-answer cache's age (IRP.md 7.4 "Caching"): not reused
as bob look2 <<E
<req id="k3" op="lookup" user="alice@example.org"/>
E
has "$T/look2.out" '<resp id="k3" status="200"' "lookup after unregister"
hasnt "$T/look2.out" 'device="phone"' "lookup after unregister: the binding is gone"
has "$T/look2.out" 'sig: ok' "lookup after unregister: signed"

# cert-status and revoke
SA=$(openssl x509 -in "$T/alice.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/^0*//')
as bob st1 <<E
<req id="s1" op="cert-status" serial="$SA"/>
<req id="s2" op="revoke" serial="$SA"/>
E
has "$T/st1.out" '<resp id="s1" status="200"' "cert-status"
has "$T/st1.out" "serial=\"$SA\"" "cert-status names the serial"
has "$T/st1.out" 'status="valid"' "alice's certificate is valid"
has "$T/st1.out" '<resp id="s2" status="403"' "bob may not revoke alice's certificate"
mkfifo "$T/watch2"
"$PROBE" --connect "127.0.0.1:$PORT" --ca "$T/r/ca.pem" --cert "$T/bob.pem" --key "$T/bob.key" \
    --events 1 >"$T/watch2" 2>&1 <<E &
<req id="w2" op="watch" user="alice@example.org"/>
E
WPID=$!
exec 4<"$T/watch2"
read -r wline <&4 || fail "watch 2: no answer"
case "$wline" in '<resp id="w2" status="200"'*) ok "watch again" ;; *) fail "watch 2: $wline" ;; esac
as alice rev <<E
<req id="v1" op="revoke" serial="$SA" reason="key-compromise"/>
<req id="v2" op="ping"/>
E
has "$T/rev.out" '<resp id="v1" status="200"' "alice revokes her certificate"
has "$T/rev.out" 'status="revoked"' "revoke answer says revoked"
hasnt "$T/rev.out" '<resp id="v2"' "the revoked certificate's connection is closed after the answer"
read -r eline <&4 || fail "watch 2: no event"
case "$eline" in
'<event op="binding" user="alice@example.org"'*'reason="revoke"'*) ok "watchers get a revoke event" ;;
*) fail "revoke event: $eline" ;;
esac
wait "$WPID" || fail "watch probe 2"
exec 4<&-
as bob st2 <<E
<req id="s3" op="cert-status" serial="$SA"/>
<req id="s4" op="lookup" user="alice@example.org"/>
E
has "$T/st2.out" 'reason="key-compromise"' "cert-status after revoke: revoked with reason"
hasnt "$T/st2.out" '<binding' "revocation removed alice's bindings"
has "$T/st2.out" 'sig: ok' "lookup after revoke is signed"
as alice revoked <<E
<req id="x1" op="ping"/>
E
[ "$(cat "$T/revoked.rc")" != 0 ] || fail "revoked certificate still accepted"
ok "a revoked certificate fails the handshake"

# oversized frame: 413, then the connection closes
probe big <<E
!hex 10004001
E
has "$T/big.out" '<resp status="413"' "oversized frame: 413"
stop
# ---- third server: short idle timeout -------------------------------------------------
echo "idle_timeout = 1" >>"$T/r/irpd.conf"
start
as bob idle --events 1 </dev/null
has "$T/idle.out" 'closed' "an idle connection is closed after idle_timeout"
has "$T/log" 'idle timeout, closing' "idle timeout is logged"
stop

has "$T/log" 'irpd: info: 127.0.0.1 bob@example.org lookup id=k1 status=200' "one log line per request"
hasnt "$T/log" "$TA" "tokens never logged"
echo "all $n irpd checks passed"

# ---- the other scripts of tests/irpd (ctest runs this one) -----------------------------
D=$(dirname "$0")
for s in account_ops external_ca admin_cli login_async file_modes; do
    # file_modes is about SQLite's files in DIR: the SQLite run has it
    [ "$s" = file_modes ] && [ "$BACKEND" = pg ] && continue
    sh "$D/$s.sh" || fail "$s.sh"
done
