#!/bin/sh
# tests/irpd/revoke_live.sh - a connection does not outlive its identity
# (issue 7 findings 2 and 8; docs/IRP.md 6.5 step 5, 6.12, 11.4):
# - after `irpd revoke USER` run as another process, a connection opened
#   before can no longer renew, pkcs12-put, user-info, lookup-policy or
#   lookup (401, or closed by the server first);
# - an idle connection learns of it promptly: the time from the CLI's exit
#   to the watch-end event is measured and printed;
# - a certificate superseded by newer enrolments loses its connections;
# - a certificate that expires while connected loses its connection;
# - `irpd revoke USER` disables the account: a password login in progress
#   can no longer enrol, the password and earlier tokens no longer work,
#   and a new password re-admits the user.
# Run by ctest with IRPD and IRP_PROBE set; uses the openssl CLI. Waits on
# probe output through FIFOs (the probe's own read timeout bounds each).
set -eu
. "$(dirname "$0")/lib.sh"
IPID=
trap 'if [ -n "$IPID" ]; then kill "$IPID" 2>/dev/null || true; fi; cleanup' EXIT INT TERM

# iopen NAME WHO: an interactive connection as WHO ("-": no certificate);
# isend DOC sends one request (or "!read") and puts the next document into
# ILINE; iclose ends it. One at a time (file descriptors 4 and 5).
iopen() {
    rm -f "$T/$1.in" "$T/$1.out"
    mkfifo "$T/$1.in" "$T/$1.out"
    if [ "$2" = - ]; then
        "$PROBE" --connect "127.0.0.1:$PORT" --ca "$T/r/ca.pem" --interactive \
            <"$T/$1.in" >"$T/$1.out" 2>&1 &
    else
        "$PROBE" --connect "127.0.0.1:$PORT" --ca "$T/r/ca.pem" --cert "$T/$2.pem" \
            --key "$T/$2.key" --interactive <"$T/$1.in" >"$T/$1.out" 2>&1 &
    fi
    IPID=$!
    exec 4>"$T/$1.in" 5<"$T/$1.out"
}
isend() {
    { printf '%s\n' "$1" >&4; } 2>/dev/null || true
    read -r ILINE <&5 || ILINE="closed: eof"
}
iclose() {
    exec 4>&-
    wait "$IPID" || true
    IPID=
    exec 5<&-
}
# refused WHAT: ILINE is no success (a 401, or the server closed the connection)
refused() {
    case "$ILINE" in
    *'status="200"'*) fail "$1: $ILINE" ;;
    *'status="401"'*) ok "$1: 401" ;;
    closed:*) ok "$1: the connection was closed" ;;
    *) fail "$1: $ILINE" ;;
    esac
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
trap '' PIPE

irpd_init --dir "$T/r" --name 127.0.0.1 --domain example.org --ip 127.0.0.1 >/dev/null
printf 'carol pw\n' | "$IRPD" passwd --dir "$T/r" carol@example.org
start
enroll bob bob@example.org

# ---- 1. irpd revoke from another process, one operation per connection --------------
RCSR=$(csr renew1)
for op in renew pkcs12-put user-info lookup-policy lookup; do
    enroll alice alice@example.org # a token re-admits alice after each revocation
    iopen c alice
    isend '<req id="u0" op="user-info"/>'
    case "$ILINE" in *'status="200"'*) ;; *) fail "before revoke: $ILINE" ;; esac
    "$IRPD" revoke --dir "$T/r" alice@example.org >/dev/null || fail "irpd revoke alice"
    case $op in
    renew) isend "<req id=\"o1\" op=\"renew\"><csr>$RCSR</csr></req>" ;;
    pkcs12-put) isend '<req id="o1" op="pkcs12-put"><p12>AAAA</p12></req>' ;;
    user-info) isend '<req id="o1" op="user-info"><info name="note">x</info></req>' ;;
    lookup-policy) isend '<req id="o1" op="lookup-policy" access="nobody"/>' ;;
    lookup) isend '<req id="o1" op="lookup" user="bob@example.org"/>' ;;
    esac
    refused "after irpd revoke, $op on the old connection"
    iclose
done

# ---- 2. how promptly an idle connection learns of it ------------------------------------
enroll alice alice@example.org
iopen w alice
isend '<req id="w1" op="watch" user="alice@example.org"/>'
case "$ILINE" in *'status="200"'*) ;; *) fail "watch: $ILINE" ;; esac
T0=$(now_ms)
"$IRPD" revoke --dir "$T/r" alice@example.org >/dev/null || fail "irpd revoke alice"
T1=$(now_ms)
isend '!read'
T2=$(now_ms)
case "$ILINE" in
*'op="watch-end"'*'reason="revoke"'*) ok "the idle connection gets watch-end (revoke)" ;;
*) fail "idle connection after irpd revoke: $ILINE" ;;
esac
isend '!read'
refused "then the server closes it"
iclose
echo "# irpd revoke (another process) reached an idle connection $((T2 - T1)) ms after the CLI exited ($((T1 - T0)) ms in the CLI)"

# ---- 3. superseded by newer enrolments (6.5 step 5) --------------------------------------
enroll dave1 dave@example.org
iopen d dave1
isend '<req id="d0" op="user-info"/>'
case "$ILINE" in *'status="200"'*) ;; *) fail "dave1: $ILINE" ;; esac
enroll dave2 dave@example.org
enroll dave3 dave@example.org
enroll dave4 dave@example.org # the fourth valid certificate supersedes dave1's
isend "<req id=\"d1\" op=\"renew\"><csr>$RCSR</csr></req>"
refused "the superseded certificate's connection cannot renew"
iclose
as bob sup <<E
<req id="d2" op="cert-status" serial="$(serial "$T/dave1.pem")"/>
E
resp "$T/sup.out" d2 | grep -q 'status="revoked".*reason="superseded"' || fail "d2: $(cat "$T/sup.out")"
ok "cert-status: superseded"

# ---- 4. revoking a user disables the account (finding 8) --------------------------------
TOK=$("$IRPD" token --dir "$T/r" carol@example.org)
iopen p -
isend '<req id="l1" op="login" user="carol@example.org" password="carol pw"/>'
case "$ILINE" in *'status="200"'*) ;; *) fail "carol's login: $ILINE" ;; esac
"$IRPD" revoke --dir "$T/r" carol@example.org >"$T/rc.out" || fail "irpd revoke carol"
has "$T/rc.out" 'account disabled' "irpd revoke says the account is disabled"
C2=$(csr carol)
isend "<req id=\"l2\" op=\"enroll\"><csr>$C2</csr></req>"
refused "the password login made before cannot enrol"
iclose
probe dis <<E
<req id="l3" op="login" user="carol@example.org" password="carol pw"/>
<req id="l4" op="enroll" token="$TOK"><csr>$C2</csr></req>
E
resp "$T/dis.out" l3 | grep -q 'status="401"' || fail "l3: $(cat "$T/dis.out")"
ok "the old password no longer logs in"
resp "$T/dis.out" l4 | grep -q 'status="410"' || fail "l4: $(cat "$T/dis.out")"
ok "a token issued before the revocation no longer enrols"
printf 'carol new\n' | "$IRPD" passwd --dir "$T/r" carol@example.org
probe again <<E
<req id="l5" op="login" user="carol@example.org" password="carol new"/>
<req id="l6" op="enroll"><csr>$C2</csr></req>
E
resp "$T/again.out" l6 | grep -q 'status="200"' || fail "l6: $(cat "$T/again.out")"
ok "a new password re-admits carol"
stop

# ---- 5. a certificate that expires while connected -----------------------------------------
echo "cert_lifetime = 4" >>"$T/r/irpd.conf" # tests only: certificates valid for 4 s
start
enroll erin erin@example.org
iopen e erin
isend '<req id="e1" op="watch" user="erin@example.org"/>'
case "$ILINE" in *'status="200"'*) ;; *) fail "erin: $ILINE" ;; esac
NA=$(date -d "$(openssl x509 -in "$T/erin.pem" -noout -enddate | cut -d= -f2)" +%s)
isend '!read'
T3=$(date +%s)
case "$ILINE" in
*'op="watch-end"'*'reason="revoke"'*) ok "the expired certificate's connection ends (watch-end)" ;;
*) fail "after expiry: $ILINE" ;;
esac
isend "<req id=\"e2\" op=\"renew\"><csr>$RCSR</csr></req>"
refused "the expired certificate's connection cannot renew"
iclose
echo "# the expired certificate's connection ended $((T3 - NA)) s after its notAfter"
as erin exp <<E
<req id="e3" op="ping"/>
E
[ "$(cat "$T/exp.rc")" != 0 ] || fail "erin after expiry: $(cat "$T/exp.out")"
ok "and no new connection opens with it"
stop
echo "all $n live revocation checks passed"
