#!/bin/sh
# tests/irpd/login_async.sh - password checks (scrypt) run off the event
# loop (issue 3: a slow or malicious client cannot stall others): while
# several clients log in at once, another client's ping is answered, every
# login is answered as docs/IRP.md 6.4 says, and a connection's answers stay
# in request order around a login. Then a SIGTERM while logins are in
# flight: irpd still exits 0. Asserts on answers only, never on timing.
# Run by run.sh; needs what lib.sh needs.
set -eu

. "$(dirname "$0")/lib.sh"

irpd_init --dir "$T/r" --name 127.0.0.1 --domain example.org --ip 127.0.0.1 >/dev/null
for u in carol dave; do
    printf '%s pw\n' "$u" | "$IRPD" passwd --dir "$T/r" "$u@example.org" || fail "passwd $u"
done
start

# eight logins at once: right, wrong and unknown users, each on its own connection
i=0
pids=
while [ $i -lt 8 ]; do
    case $((i % 4)) in
    0) u=carol pw="carol pw" ;;
    1) u=dave pw="dave pw" ;;
    2) u=carol pw="wrong" ;;
    *) u=nobody pw="nobody pw" ;;
    esac
    probe "lg$i" <<E &
<req id="a$i" op="login" user="$u@example.org" password="$pw"/>
<req id="b$i" op="ping"/>
E
    pids="$pids $!"
    i=$((i + 1))
done
probe ping <<E
<req id="x1" op="ping"/>
<req id="x2" op="capabilities"/>
E
has "$T/ping.out" '<resp id="x1" status="200" msg="pong"' "a ping is answered while logins run"
has "$T/ping.out" '<resp id="x2" status="200"' "and the next request too"
for p in $pids; do wait "$p" || true; done
i=0
while [ $i -lt 8 ]; do
    case $((i % 4)) in
    0 | 1) st=200 ;;
    *) st=401 ;;
    esac
    has "$T/lg$i.out" "<resp id=\"a$i\" status=\"$st\"" "concurrent login $i: $st"
    has "$T/lg$i.out" "<resp id=\"b$i\" status=\"200\" msg=\"pong\"" "ping after login $i"
    i=$((i + 1))
done
grep -q 'user="carol@example.org"' "$T/lg0.out" || fail "login 0 names the user: $(cat "$T/lg0.out")"
ok "a login's answer names the user"

# pipelined on one connection: answers in request order, the session state of each login
probe pipe <<E
<req id="p1" op="ping"/>
<req id="p2" op="login" user="dave@example.org" password="nope"/>
<req id="p3" op="ping"/>
<req id="p4" op="login" user="dave@example.org" password="dave pw"/>
<req id="p5" op="login" user="dave@example.org" password="dave pw"/>
<req id="p6" op="ping"/>
E
sed -n 's/^.*<resp id="\(p[0-9]\)" status="\([0-9]*\)".*$/\1=\2/p' "$T/pipe.out" | tr '\n' ' ' >"$T/order"
[ "$(cat "$T/order")" = "p1=200 p2=401 p3=200 p4=200 p5=409 p6=200 " ] ||
    fail "pipelined answers: $(cat "$T/order") in: $(cat "$T/pipe.out")"
ok "pipelined logins: answers in order, 401, 200, then 409"

# SIGTERM with password checks in flight: answered or closed, and irpd exits 0
i=0
pids=
while [ $i -lt 8 ]; do
    probe "late$i" <<E &
<req id="z$i" op="login" user="carol@example.org" password="carol pw"/>
E
    pids="$pids $!"
    i=$((i + 1))
done
stop
for p in $pids; do wait "$p" || true; done
hasnt "$T/log" "ERROR: AddressSanitizer" "no sanitizer report"
echo "all $n login_async checks passed"
