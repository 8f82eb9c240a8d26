#!/bin/sh
# tests/irpd/csr.sh - CSR checks of docs/IRP.md 6.5 against a real irpd
# (issue 7, findings 4 and 6):
#  - an RSA key of 16384 bits is refused as too large (8192 at most), before
#    anything is computed on it;
#  - refused CSRs count against their enrolment token: the third uses it up;
#  - an RSA key with exponent 3, and an EC key with explicit curve
#    parameters, are refused (422) without spending the token.
# data/rsa16384-unsigned.csr.b64 is a CSR for a made-up 16384-bit modulus
# without small factors (exponent 65537), signed by an unrelated P-256 key:
# nobody holds its private key, which is the point (it costs a primality
# test to find out the modulus is composite, about a second). Run by ctest
# (irpd_csr); needs what lib.sh needs. Asserts on answers only.
set -eu

. "$(dirname "$0")/lib.sh"

irpd_init --dir "$T/r" --name 127.0.0.1 --domain example.org --ip 127.0.0.1 >/dev/null
start
BIG=$(cat "$(dirname "$0")/data/rsa16384-unsigned.csr.b64")

# ---- 16384 bits: too large; three refusals use the token up ---------------------------------
T1=$("$IRPD" token --dir "$T/r" big@example.org)
GOOD=$(csr good)
probe big <<E
<req id="b1" op="enroll" token="$T1"><csr>$BIG</csr></req>
<req id="b2" op="enroll" token="$T1"><csr>$BIG</csr></req>
<req id="b3" op="enroll" token="$T1"><csr>$BIG</csr></req>
<req id="b4" op="enroll" token="$T1"><csr>$GOOD</csr></req>
E
has "$T/big.out" '<resp id="b1" status="422" msg="an RSA key of 16384 bits is too large: 2048 to 8192 bits"' \
    "a 16384-bit RSA key is refused as too large"
has "$T/big.out" '<resp id="b2" status="422"' "again 422"
has "$T/big.out" '<resp id="b3" status="422"' "a third time 422"
grep -F '<resp id="b3" ' "$T/big.out" | grep -qF 'token is now used up' ||
    fail "the third refusal says the token is used up: $(cat "$T/big.out")"
ok "the third refusal uses the token up"
has "$T/big.out" '<resp id="b4" status="410"' "then even a good CSR gets 410"

# ---- exponent 3 and explicit EC parameters: 422, the token still good -----------------------
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -pkeyopt rsa_keygen_pubexp:3 \
    -out "$T/e3.key" 2>/dev/null
openssl req -new -key "$T/e3.key" -subj "/CN=e3" -outform DER -out "$T/e3.csr" 2>/dev/null
E3=$(openssl base64 -A -in "$T/e3.csr")
openssl ecparam -name prime256v1 -param_enc explicit -genkey -noout -out "$T/ex.key" 2>/dev/null
openssl req -new -key "$T/ex.key" -subj "/CN=ex" -outform DER -out "$T/ex.csr" 2>/dev/null
EX=$(openssl base64 -A -in "$T/ex.csr")
openssl req -inform DER -in "$T/ex.csr" -noout -text | grep -q "Field Type" ||
    fail "openssl did not write explicit EC parameters"
T2=$("$IRPD" token --dir "$T/r" keys@example.org)
probe keys --save-cert "$T/keys.pem" <<E
<req id="k1" op="enroll" token="$T2"><csr>$E3</csr></req>
<req id="k2" op="enroll" token="$T2"><csr>$EX</csr></req>
<req id="k3" op="enroll" token="$T2"><csr>$GOOD</csr></req>
E
has "$T/keys.out" '<resp id="k1" status="422" msg="an RSA key must have the public exponent 65537"' \
    "RSA exponent 3: 422"
has "$T/keys.out" '<resp id="k2" status="422" msg="an EC key must name its curve' \
    "EC with explicit parameters: 422"
has "$T/keys.out" '<resp id="k3" status="200"' "the token was not spent: a good CSR still enrols"

# ---- an RSA key the registry checks off its loop: enrolled all the same ---------------------
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/rsa.key" 2>/dev/null
openssl req -new -key "$T/rsa.key" -subj "/CN=rsa" -outform DER -out "$T/rsa.csr" 2>/dev/null
RSA=$(openssl base64 -A -in "$T/rsa.csr")
T3=$("$IRPD" token --dir "$T/r" rsa@example.org)
probe rsa --save-cert "$T/rsa.pem" <<E
<req id="r1" op="ping"/>
<req id="r2" op="enroll" token="$T3"><csr>$RSA</csr></req>
<req id="r3" op="ping"/>
E
sed -n 's/^.*<resp id="\(r[0-9]\)" status="\([0-9]*\)".*$/\1=\2/p' "$T/rsa.out" | tr '\n' ' ' >"$T/order"
[ "$(cat "$T/order")" = "r1=200 r2=200 r3=200 " ] || fail "RSA enrolment in order: $(cat "$T/rsa.out")"
ok "an RSA-2048 enrolment (key checked in the thread pool) is answered in order"
openssl verify -CAfile "$T/r/ca.pem" "$T/rsa.pem" >/dev/null || fail "openssl verify rsa"
ok "and its certificate verifies"
stop
echo "all $n csr checks passed"
