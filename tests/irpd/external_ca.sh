#!/bin/sh
# tests/irpd/external_ca.sh - a certificate from an external CA made with the
# openssl CLI (root, then a user certificate with an rfc822Name SAN and EKU
# clientAuth) registers when irpd.conf lists the CA as trusted_ca
# (docs/IRP.md 7.6), and is refused when it does not.
# Run by run.sh; needs IRPD and IRP_PROBE like it.
set -eu
. "$(dirname "$0")/lib.sh"

root_ca extca || fail "openssl: external root"
user_cert eve eve@example.org "$T/extca.pem" "$T/extca.key" || fail "openssl: eve's certificate"
openssl verify -CAfile "$T/extca.pem" "$T/eve.pem" >/dev/null || fail "eve's certificate"
ok "external root and user certificate made with the openssl CLI"

irpd_init --dir "$T/r" --name 127.0.0.1 --domain example.org --ip 127.0.0.1 >/dev/null
start
enroll bob bob@example.org
as eve untrusted <<E
<req id="x1" op="register" device="pc" port="4605" seq="1"><addr>192.0.2.9</addr></req>
E
if [ "$(cat "$T/untrusted.rc")" = 0 ]; then
    has "$T/untrusted.out" '<resp id="x1" status="401"' "an untrusted CA's certificate is refused"
else
    ok "an untrusted CA's certificate fails the TLS handshake"
fi
hasnt "$T/untrusted.out" 'status="200"' "nothing registered with the untrusted certificate"
stop

echo "trusted_ca = $T/extca.pem example.org" >>"$T/r/irpd.conf"
start
as eve trusted <<E
<req id="x2" op="register" device="pc" port="4605" seq="1"><addr>192.0.2.9</addr></req>
<req id="x3" op="lookup" user="eve@example.org"/>
E
has "$T/trusted.out" '<resp id="x2" status="200" msg="ok" granted="3600"' \
    "with trusted_ca the external certificate registers"
FPE=$(cert_fp "$T/eve.pem")
as bob look <<E
<req id="x4" op="lookup" user="eve@example.org"/>
<req id="x5" op="cert-status" fp="$FPE"/>
E
has "$T/look.out" '<binding device="pc" addrs="192.0.2.9" port="4605"' "bob finds eve's binding"
has "$T/look.out" "fp=\"$FPE\"" "the lookup publishes eve's external certificate"
has "$T/look.out" 'sig: ok' "the lookup answer is signed"
resp "$T/look.out" x5 | grep -q 'status="valid"' || fail "x5: $(cat "$T/look.out")"
ok "cert-status by fingerprint: the external certificate is valid"
stop
echo "all $n external CA checks passed"
