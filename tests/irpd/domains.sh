#!/bin/sh
# tests/irpd/domains.sh - served domains and certificates that carry the
# rights, not their names (issue 7 finding 3; docs/IRP.md 6.0, 7.1, 7.5, 7.6):
# - `irpd init` needs --domain, and its CA certificate carries critical name
#   constraints (one permitted rfc822Name per served domain) that the openssl
#   CLI enforces: a certificate for another domain signed with the CA's key
#   fails `openssl verify`;
# - a certificate signed by the registry's CA but absent from its database is
#   refused (finding 9, docs/IRP.md 3.3 step 5);
# - an external CA vouches only for the domains of its trusted_ca line; its
#   certificate for a foreign domain may read, never write, and cannot make
#   the registry's CA issue for that domain (renew);
# - an external certificate named like an administrator gets no admin rights;
# - an external certificate is recorded when first used, so it is revocable
#   by fingerprint (IRP and CLI) and by `irpd revoke USER`.
# Run by ctest with IRPD and IRP_PROBE set; uses the openssl CLI.
set -eu
. "$(dirname "$0")/lib.sh"

if irpd_init --dir "$T/r" --name 127.0.0.1 2>/dev/null; then fail "init without --domain"; fi
ok "irpd init refuses to run without --domain"
irpd_init --dir "$T/r" --name 127.0.0.1 --domain example.org --ip 127.0.0.1 \
    --admin root@example.org >/dev/null
grep -qx 'domain = example.org' "$T/r/irpd.conf" || fail "irpd.conf: $(cat "$T/r/irpd.conf")"
ok "the served domain is written to irpd.conf"

# ---- name constraints on the registry CA --------------------------------------------------
openssl x509 -in "$T/r/ca.pem" -noout -text >"$T/ca.txt"
has "$T/ca.txt" 'X509v3 Name Constraints: critical' "the CA certificate has critical name constraints"
has "$T/ca.txt" 'email:example.org' "permitted: rfc822Name example.org"
hasnt "$T/ca.txt" 'email:.example.org' "subdomains are not permitted"
hasnt "$T/ca.txt" 'Excluded' "no excluded subtrees"

user_cert ghost ghost@example.org "$T/r/ca.pem" "$T/r/ca.key" || fail "openssl: certificate for ghost@example.org"
openssl verify -CAfile "$T/r/ca.pem" "$T/ghost.pem" >/dev/null 2>&1 ||
    fail "a certificate for the served domain should verify"
ok "openssl verify accepts a certificate for example.org under the registry CA"
user_cert mallory mallory@partner.org "$T/r/ca.pem" "$T/r/ca.key" || fail "openssl: certificate for mallory@partner.org"
if openssl verify -CAfile "$T/r/ca.pem" "$T/mallory.pem" >"$T/v.out" 2>&1; then
    fail "openssl verify accepted mallory@partner.org under the registry CA"
fi
has "$T/v.out" 'permitted subtree violation' "openssl refuses a certificate for another domain"

# ---- external CAs --------------------------------------------------------------------------
root_ca partnerca || fail "openssl: root partnerca"
root_ca orgca || fail "openssl: root orgca"
user_cert pmallory mallory@partner.org "$T/partnerca.pem" "$T/partnerca.key" || fail "openssl: certificate for mallory@partner.org"
user_cert pbob bob@example.org "$T/partnerca.pem" "$T/partnerca.key" || fail "openssl: certificate for bob@example.org"
user_cert xroot root@example.org "$T/orgca.pem" "$T/orgca.key" || fail "openssl: certificate for root@example.org"
user_cert xalice alice@example.org "$T/orgca.pem" "$T/orgca.key" || fail "openssl: certificate for alice@example.org"
user_cert xalice2 alice@example.org "$T/orgca.pem" "$T/orgca.key" || fail "openssl: certificate for alice@example.org"
cat >>"$T/r/irpd.conf" <<E
trusted_ca = $T/partnerca.pem partner.org
trusted_ca = $T/orgca.pem example.org
E
start
enroll bob bob@example.org
enroll root root@example.org

# A certificate of our CA that the database does not know (finding 9).
as ghost ghost <<E
<req id="g1" op="ping"/>
E
[ "$(cat "$T/ghost.rc")" != 0 ] || fail "ghost: $(cat "$T/ghost.out")"
hasnt "$T/ghost.out" 'status="200"' "a certificate of our CA absent from the database is refused"
has "$T/log" 'not in the database' "the log says why"

# The partner CA may vouch for partner.org only.
as pbob pbob <<E
<req id="p0" op="ping"/>
E
[ "$(cat "$T/pbob.rc")" != 0 ] || fail "pbob: $(cat "$T/pbob.out")"
ok "the partner CA's certificate for bob@example.org fails the handshake"

RCSR=$(csr renewm)
as pmallory pm <<E
<req id="p1" op="register" device="pc" port="4605" seq="1"><addr>192.0.2.9</addr></req>
<req id="p2" op="renew"><csr>$RCSR</csr></req>
<req id="p3" op="lookup" user="bob@example.org"/>
<req id="p4" op="pkcs12-put"><p12>AAAA</p12></req>
<req id="p5" op="lookup-policy" access="nobody"/>
E
resp "$T/pm.out" p1 | grep -q 'status="403"' || fail "p1: $(cat "$T/pm.out")"
ok "a partner.org certificate cannot register here (403)"
resp "$T/pm.out" p2 | grep -q 'status="403"' || fail "p2: $(cat "$T/pm.out")"
ok "nor make the registry CA issue a partner.org certificate (renew 403)"
resp "$T/pm.out" p3 | grep -q 'status="200"' || fail "p3: $(cat "$T/pm.out")"
ok "but it may look up a served user (6.0)"
resp "$T/pm.out" p4 | grep -q 'status="403"' || fail "p4: $(cat "$T/pm.out")"
resp "$T/pm.out" p5 | grep -q 'status="403"' || fail "p5: $(cat "$T/pm.out")"
ok "pkcs12-put and lookup-policy are 403 for a foreign domain"
as bob foreign <<E
<req id="f1" op="lookup" user="mallory@partner.org"/>
<req id="f2" op="watch" user="mallory@partner.org"/>
E
resp "$T/foreign.out" f1 | grep -q 'status="404"' || fail "f1: $(cat "$T/foreign.out")"
resp "$T/foreign.out" f2 | grep -q 'status="404"' || fail "f2: $(cat "$T/foreign.out")"
ok "lookup and watch of a user in another domain: 404 (2.1)"
if "$IRPD" token --dir "$T/r" carol@partner.org >/dev/null 2>&1; then fail "token for partner.org"; fi
if echo pw | "$IRPD" passwd --dir "$T/r" carol@partner.org 2>/dev/null; then fail "passwd"; fi
ok "irpd token and passwd refuse users of other domains"

# Administrator rights follow the certificate: root@example.org from another CA is no admin.
as root adm <<E
<req id="a1" op="list-users"/>
E
has "$T/adm.out" '<resp id="a1" status="200"' "root with the registry's certificate lists users"
as xroot xadm <<E
<req id="a2" op="list-users"/>
E
has "$T/xadm.out" '<resp id="a2" status="403"' "root@example.org from an external CA gets no admin rights"

# External certificates are recorded when first used, and revocable.
FPA=$(cert_fp "$T/xalice.pem")
FPA2=$(cert_fp "$T/xalice2.pem")
as xalice xa <<E
<req id="x1" op="user-info"/>
<req id="x2" op="cert-status" fp="$FPA"/>
<req id="x3" op="revoke" fp="$FPA" reason="key-compromise"/>
E
resp "$T/xa.out" x2 | grep -q 'status="valid"' || fail "x2: $(cat "$T/xa.out")"
ok "alice's external certificate is recorded at its first request"
resp "$T/xa.out" x3 | grep -q 'status="revoked"' || fail "x3: $(cat "$T/xa.out")"
ok "and revocable by fingerprint through IRP"
as xalice xa2 <<E
<req id="x4" op="ping"/>
E
[ "$(cat "$T/xa2.rc")" != 0 ] || fail "xa2: $(cat "$T/xa2.out")"
ok "the revoked external certificate no longer connects"
as xalice2 xb <<E
<req id="x5" op="ping"/>
<req id="x6" op="user-info"/>
E
has "$T/xb.out" '<resp id="x6" status="200"' "a second external certificate of alice is used"
"$IRPD" revoke --dir "$T/r" alice@example.org >"$T/rv.out" || fail "irpd revoke alice"
has "$T/rv.out" 'revoked 1 certificate(s) of alice@example.org' "irpd revoke USER revokes the recorded external certificate"
as xalice2 xb2 <<E
<req id="x7" op="ping"/>
E
[ "$(cat "$T/xb2.rc")" != 0 ] || fail "xb2: $(cat "$T/xb2.out")"
ok "and it no longer connects"
as bob st <<E
<req id="x8" op="cert-status" fp="$FPA2"/>
E
resp "$T/st.out" x8 | grep -q 'status="revoked"' || fail "x8: $(cat "$T/st.out")"
ok "cert-status shows it revoked"
FPB=$(cert_fp "$T/bob.pem")
"$IRPD" revoke --dir "$T/r" "$FPB" >"$T/rvb.out" || fail "irpd revoke FP: $(cat "$T/rvb.out")"
has "$T/rvb.out" 'revoked 1 certificate(s) of bob@example.org' "irpd revoke FINGERPRINT"
stop

# A served domain added later, outside the CA's name constraints: serve refuses to start.
echo "domain = partner.org" >>"$T/r/irpd.conf"
rc=0
timeout 20 "$IRPD" serve --dir "$T/r" --listen 127.0.0.1:0 >/dev/null 2>"$T/serve.err" || rc=$?
[ "$rc" = 1 ] || fail "serve with partner.org: exit $rc"
has "$T/serve.err" 'do not permit partner.org' "serve refuses a domain its CA may not certify"
echo "all $n served-domain checks passed"
