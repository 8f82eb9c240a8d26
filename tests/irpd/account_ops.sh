#!/bin/sh
# tests/irpd/account_ops.sh - the account operations against a real irpd
# (docs/IRP.md 6.6, 6.13 to 6.17): renew, user-info, lookup-policy,
# access-log, pkcs12-put/get, list-users, and capabilities announcing them.
# Run by run.sh; needs IRPD and IRP_PROBE like it.
set -eu
. "$(dirname "$0")/lib.sh"

irpd_init --dir "$T/r" --name 127.0.0.1 --domain example.org --ip 127.0.0.1 --admin root@example.org >/dev/null
start
enroll alice alice@example.org
enroll bob bob@example.org
enroll carol carol@example.org
enroll root root@example.org
ok "enrolled alice, bob, carol and the administrator root"

probe caps <<E
<req id="c1" op="capabilities"/>
E
has "$T/caps.out" 'ops="capabilities ca-certs ping login enroll renew register unregister lookup watch unwatch cert-status revoke user-info lookup-policy access-log pkcs12-put pkcs12-get list-users"' \
    "capabilities announce every operation"

# ---- renew (6.6) -----------------------------------------------------------------------
C2=$(csr alice2)
as alice renew --save-cert "$T/alice2.pem" <<E
<req id="n1" op="renew"><csr>$C2</csr></req>
<req id="n2" op="renew"><csr>AAAA</csr></req>
<req id="n3" op="ping"/>
E
has "$T/renew.out" '<resp id="n1" status="200" msg="certificate issued"><cert serial=' "renew: 200 with a new certificate"
has "$T/renew.out" '<resp id="n2" status="422"' "renew with a bad CSR: 422"
has "$T/renew.out" '<resp id="n3" status="200"' "the renewing connection stays open"
openssl verify -CAfile "$T/r/ca.pem" "$T/alice2.pem" >/dev/null || fail "openssl verify renewed"
ok "the renewed certificate verifies with openssl verify"
openssl x509 -in "$T/alice2.pem" -noout -text | grep -q 'email:alice@example.org' || fail "renewed SAN"
ok "the renewed certificate is alice's (rfc822Name)"
[ "$(serial "$T/alice2.pem")" != "$(serial "$T/alice.pem")" ] || fail "renew reused the serial"
ok "the renewed certificate has a new serial"
SA=$(serial "$T/alice.pem")
as alice2 renewed <<E
<req id="n4" op="cert-status" serial="$SA"/>
E
has "$T/renewed.out" '<resp id="n4" status="200"' "the new certificate authenticates"
has "$T/renewed.out" 'status="valid"' "the authenticating (old) certificate stays valid after renew"
probe renew_anon <<E
<req id="n5" op="renew"><csr>$C2</csr></req>
E
has "$T/renew_anon.out" '<resp id="n5" status="401"' "renew without a certificate: 401"
# Two more renewals from the old certificate: 4 valid, one superseded, never the old one.
C3=$(csr alice3)
C4=$(csr alice4)
as alice renew2 <<E
<req id="n6" op="renew"><csr>$C3</csr></req>
<req id="n7" op="renew"><csr>$C4</csr></req>
<req id="n8" op="ping"/>
E
has "$T/renew2.out" '<resp id="n7" status="200"' "a third renewal"
has "$T/renew2.out" '<resp id="n8" status="200"' "the authenticating certificate was not the one superseded"
as bob certs <<E
<req id="k1" op="lookup" user="alice@example.org"/>
<req id="k2" op="cert-status" serial="$SA"/>
E
[ "$(resp "$T/certs.out" k1 | grep -o 'status="valid"' | wc -l)" = 3 ] || fail "3 valid: $(cat "$T/certs.out")"
ok "after 4 certificates alice holds 3 valid ones"
has "$T/certs.out" 'reason="superseded"' "the fourth superseded one shows as revoked (superseded)"
resp "$T/certs.out" k2 | grep -q 'status="valid"' || fail "old cert: $(cat "$T/certs.out")"
ok "the certificate that authenticated the renewals is still valid"

# ---- user-info (6.13) --------------------------------------------------------------------
as alice info <<E
<req id="r1" op="register" device="laptop" port="4605" seq="1"><addr>192.0.2.7</addr></req>
<req id="i1" op="user-info"><info name="display-name">Alice Liddell</info><info name="presence">away</info></req>
<req id="i2" op="user-info"/>
<req id="i3" op="user-info"><info name="shoe-size">9</info></req>
<req id="i4" op="user-info"><info name="presence">sleeping</info></req>
<req id="i5" op="user-info"><info name="presence"></info></req>
<req id="i6" op="user-info" user="bob@example.org"><info name="note">x</info></req>
E
has "$T/info.out" '<resp id="i1" status="200" msg="ok" user="alice@example.org"><info name="display-name">Alice Liddell</info><info name="presence">away</info><binding device="laptop" addrs="192.0.2.7" port="4605"' \
    "user-info set answers the items and the current bindings"
has "$T/info.out" '<resp id="i2" status="200" msg="ok" user="alice@example.org"><info name="display-name">Alice Liddell</info><info name="presence">away</info>' \
    "user-info get of one's own"
has "$T/info.out" '<resp id="i3" status="422"' "unknown info name: 422"
has "$T/info.out" '<resp id="i4" status="422"' "bad presence value: 422"
resp "$T/info.out" i5 | grep -q 'status="200"' || fail "i5: $(cat "$T/info.out")"
if resp "$T/info.out" i5 | grep -q presence; then fail "presence not deleted"; fi
ok "an empty item deletes it, the others are kept"
has "$T/info.out" '<resp id="i6" status="400"' "user-info set with user: 400"
as bob info_b <<E
<req id="i7" op="user-info" user="alice@example.org"/>
<req id="i8" op="user-info" user="nobody@example.org"/>
E
has "$T/info_b.out" '<resp id="i7" status="200" msg="ok" user="alice@example.org"><info name="display-name">Alice Liddell</info><binding' \
    "bob gets alice's user-info with her addresses"
has "$T/info_b.out" '<resp id="i8" status="404"' "user-info of an unknown user: 404"

# ---- lookup-policy (6.14, 7.3) ---------------------------------------------------------------
as alice pol <<E
<req id="p1" op="lookup-policy"/>
<req id="p2" op="lookup-policy" access="list"><allow>bob@example.org</allow></req>
<req id="p3" op="lookup-policy"/>
<req id="p4" op="lookup-policy" access="anyone"><allow>bob@example.org</allow></req>
E
has "$T/pol.out" '<resp id="p1" status="200" msg="ok" access="anyone"/>' "default policy: anyone"
has "$T/pol.out" '<resp id="p2" status="200" msg="ok" access="list"><allow>bob@example.org</allow></resp>' \
    "set access list with an allow list"
has "$T/pol.out" '<resp id="p3" status="200" msg="ok" access="list"><allow>bob@example.org</allow></resp>' \
    "get the policy back"
has "$T/pol.out" '<resp id="p4" status="400"' "allow without access=list: 400"
as carol denied <<E
<req id="d1" op="lookup" user="alice@example.org"/>
<req id="d2" op="watch" user="alice@example.org"/>
<req id="d3" op="user-info" user="alice@example.org"/>
E
has "$T/denied.out" '<resp id="d1" status="403"' "lookup by a user not on the list: 403"
has "$T/denied.out" '<resp id="d2" status="403"' "watch by a user not on the list: 403"
has "$T/denied.out" '<resp id="d3" status="403"' "user-info by a user not on the list: 403"
as bob allowed <<E
<req id="d4" op="lookup" user="alice@example.org"/>
<req id="d5" op="watch" user="alice@example.org"/>
E
has "$T/allowed.out" '<resp id="d4" status="200"' "lookup by an allowed user: 200"
has "$T/allowed.out" '<resp id="d5" status="200"' "watch by an allowed user: 200"
as root adm <<E
<req id="d6" op="lookup" user="alice@example.org"/>
E
has "$T/adm.out" '<resp id="d6" status="200"' "an administrator may always look up"
# bob watches alice; her tightened policy ends that watch with watch-end (6.14)
rm -f "$T/pwatch"
mkfifo "$T/pwatch"
"$PROBE" --connect "127.0.0.1:$PORT" --ca "$T/r/ca.pem" --cert "$T/bob.pem" --key "$T/bob.key" \
    --events 1 >"$T/pwatch" 2>&1 <<E &
<req id="pw1" op="watch" user="alice@example.org"/>
E
PWPID=$!
exec 5<"$T/pwatch"
read -r pline <&5 || fail "policy watch: no answer"
case "$pline" in '<resp id="pw1" status="200"'*) ok "bob watches alice" ;; *) fail "policy watch: $pline" ;; esac
as alice pol2 <<E
<req id="p5" op="lookup-policy" access="nobody"/>
E
has "$T/pol2.out" '<resp id="p5" status="200" msg="ok" access="nobody"/>' "set access nobody"
read -r pline <&5 || fail "policy watch: no watch-end"
case "$pline" in
'<event op="watch-end" user="alice@example.org"'*'reason="policy"'*) ok "the tightened policy ended bob's watch (watch-end)" ;;
*) fail "policy watch-end: $pline" ;;
esac
wait "$PWPID" || fail "policy watch probe"
exec 5<&-
as bob nobody <<E
<req id="d7" op="lookup" user="alice@example.org"/>
<req id="d8" op="watch" user="alice@example.org"/>
E
has "$T/nobody.out" '<resp id="d7" status="403"' "access nobody: lookup 403 even for bob"
has "$T/nobody.out" '<resp id="d8" status="403"' "access nobody: watch 403 even for bob"
as alice pol3 <<E
<req id="p6" op="lookup-policy" access="anyone"/>
<req id="p7" op="lookup" user="alice@example.org"/>
E
has "$T/pol3.out" '<resp id="p6" status="200" msg="ok" access="anyone"/>' "back to anyone"
has "$T/pol3.out" '<resp id="p7" status="200"' "the owner may always look herself up"

# ---- access-log (6.15) ----------------------------------------------------------------------
# IRP.md 6.15: every get answered before the access-log request is listed
# (the lookup records queued on the loop are handed to the writer thread
# before it, and it answers after them): asked once, no retry.
as alice log <<E
<req id="a1" op="access-log"/>
E
has "$T/log.out" '<resp id="a1" status="200"' "access-log"
has "$T/log.out" 'by="bob@example.org" op="lookup"/>' "the owner sees bob's lookup"
has "$T/log.out" 'by="bob@example.org" op="watch"/>' "the owner sees bob's watch"
has "$T/log.out" 'by="bob@example.org" op="user-info"/>' "the owner sees bob's user-info get"
hasnt "$T/log.out" 'by="carol@example.org"' "refused lookups are not in the access log"
hasnt "$T/log.out" 'by="alice@example.org"' "the owner's own lookups are not in the access log"
last=$(grep -o 'entry id="[0-9]*"' "$T/log.out" | tail -1 | tr -dc 0-9)
as alice log2 <<E
<req id="a2" op="access-log" after="$last"/>
E
has "$T/log2.out" '<resp id="a2" status="200" msg="0 entries"/>' "access-log after the last id: empty"

# ---- pkcs12-put / pkcs12-get (6.16) -------------------------------------------------------
openssl pkcs12 -export -inkey "$T/alice.key" -in "$T/alice.pem" -passout pass:backup \
    -out "$T/alice.p12" 2>/dev/null || fail "openssl pkcs12"
P12=$(openssl base64 -A -in "$T/alice.p12")
head -c 12000 /dev/urandom >"$T/max.bin"
head -c 12001 /dev/urandom >"$T/over.bin"
MAX=$(openssl base64 -A -in "$T/max.bin")
OVER=$(openssl base64 -A -in "$T/over.bin")
as bob p12max <<E
<req id="q0" op="pkcs12-get"/>
<req id="q1" op="pkcs12-put"><p12>$OVER</p12></req>
<req id="q2" op="pkcs12-put"><p12>$MAX</p12></req>
E
has "$T/p12max.out" '<resp id="q0" status="404"' "pkcs12-get with nothing stored: 404"
has "$T/p12max.out" '<resp id="q1" status="413"' "pkcs12-put of 12001 bytes: 413"
has "$T/p12max.out" '<resp id="q2" status="200" msg="stored"/>' "pkcs12-put of 12000 bytes: 200"
as alice p12 <<E
<req id="q3" op="pkcs12-put"><p12>$P12</p12></req>
<req id="q4" op="pkcs12-get"/>
E
has "$T/p12.out" '<resp id="q3" status="200" msg="stored"/>' "pkcs12-put"
has "$T/p12.out" "<resp id=\"q4\" status=\"200\" msg=\"ok\"><p12 updated=" "pkcs12-get with the certificate"
has "$T/p12.out" ">$P12</p12></resp>" "pkcs12-get returns the blob as stored"
echo "backup password" | "$IRPD" passwd --dir "$T/r" alice@example.org
probe p12pw <<E
<req id="q5" op="pkcs12-get"/>
<req id="q6" op="login" user="alice@example.org" password="backup password"/>
<req id="q7" op="pkcs12-get"/>
<req id="q8" op="pkcs12-put"><p12>$P12</p12></req>
E
has "$T/p12pw.out" '<resp id="q5" status="401"' "pkcs12-get without login: 401"
has "$T/p12pw.out" ">$P12</p12></resp>" "pkcs12-get after a password login"
has "$T/p12pw.out" '<resp id="q8" status="401"' "pkcs12-put needs a certificate: 401"

# ---- list-users (6.17) ----------------------------------------------------------------------
as root lu <<E
<req id="u1" op="list-users"/>
<req id="u2" op="list-users" after="bob@example.org"/>
E
has "$T/lu.out" '<resp id="u1" status="200"' "list-users by the administrator"
has "$T/lu.out" '<user name="alice@example.org" devices="1" certs="3" created=' \
    "list-users counts devices and valid certificates"
has "$T/lu.out" 'name="root@example.org"' "list-users lists root"
resp "$T/lu.out" u2 | grep -q 'name="carol@example.org"' || fail "u2: $(cat "$T/lu.out")"
if resp "$T/lu.out" u2 | grep -q 'name="alice@example.org"'; then fail "after not applied"; fi
ok "list-users after=: the next page"
as bob lu2 <<E
<req id="u3" op="list-users"/>
E
has "$T/lu2.out" '<resp id="u3" status="403"' "list-users by a non-administrator: 403"
probe lu3 <<E
<req id="u4" op="list-users"/>
E
has "$T/lu3.out" '<resp id="u4" status="401"' "list-users without a certificate: 401"

# IRP.md 9.2: register per (user, device) has a burst of 10, then 1/s.
i=1
while [ "$i" -le 13 ]; do
    echo "<req id=\"rb$i\" op=\"register\" device=\"burst\" port=\"4605\" seq=\"$i\"><addr>192.0.2.9</addr></req>"
    i=$((i + 1))
done >"$T/burst.in"
as alice burst <"$T/burst.in"
b200=$(grep -c 'status="200"' "$T/burst.out" || true)
b429=$(grep -c 'status="429"' "$T/burst.out" || true)
[ "$b200" -ge 10 ] && [ "$b429" -ge 1 ] && [ $((b200 + b429)) = 13 ] ||
    fail "register burst: $b200 answered, $b429 refused of 13: $(cat "$T/burst.out")"
ok "register per device: $b200 of 13 in a burst accepted, $b429 refused (429)"
as alice burst2 <<E
<req id="rb20" op="register" device="other" port="4605" seq="1"><addr>192.0.2.9</addr></req>
E
has "$T/burst2.out" '<resp id="rb20" status="200"' "another device of the same user is not held back"
stop

# IRP.md 9.3: connections per user. With max_per_user = 2, bob holds two
# watching connections; a third as bob is refused while alice is served.
echo "max_per_user = 2" >>"$T/r/irpd.conf"
start
for i in 1 2; do
    rm -f "$T/hold$i"
    mkfifo "$T/hold$i"
    "$PROBE" --connect "127.0.0.1:$PORT" --ca "$T/r/ca.pem" --cert "$T/bob.pem" \
        --key "$T/bob.key" --events 1 >"$T/hold$i" 2>&1 <<E &
<req id="h$i" op="watch" user="alice@example.org"/>
E
    eval "HPID$i=\$!"
    eval "exec $((5 + i))<\"\$T/hold$i\""
    read -r hl <&$((5 + i)) || fail "holding connection $i: no answer"
    case "$hl" in '<resp id="h'$i'" status="200"'*) ;; *) fail "holding connection $i: $hl" ;; esac
done
ok "bob holds two connections"
as bob third <<E
<req id="t1" op="ping"/>
E
hasnt "$T/third.out" '<resp id="t1" status="200"' "a third connection as bob is refused"
grep -q "refused: 2 connections of bob@example.org" "$T/log" || fail "no per-user refusal logged"
as alice fine <<E
<req id="t2" op="ping"/>
E
has "$T/fine.out" '<resp id="t2" status="200"' "alice is still served"
kill "$HPID1" "$HPID2" 2>/dev/null || true
wait "$HPID1" 2>/dev/null || true
wait "$HPID2" 2>/dev/null || true
exec 6<&- 7<&-
stop
echo "all $n account checks passed"
