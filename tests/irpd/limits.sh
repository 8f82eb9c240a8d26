#!/bin/sh
# tests/irpd/limits.sh - the failure limits of docs/IRP.md 9.1 hold against
# a real irpd (issue 7, findings 1 and 5):
#  1. a login spelled op='login' or op="&#108;ogin" is a login: after the
#     per-user limit of failures the user stays locked (429), even for the
#     right password;
#  2. a user's counter cannot be evicted by failures of other users whose
#     keys hash to the same place;
#  3. 30 concurrent wrong logins for one user from 30 addresses get exactly
#     the limit's 401s, the rest 429.
# Each connection speaks from its own loopback address (TC_BIND) so that the
# per-address limit stays out of the way. Run by run.sh; needs what lib.sh
# needs. Asserts on answers only.
set -eu

. "$(dirname "$0")/lib.sh"

irpd_init --dir "$T/r" --name 127.0.0.1 --domain example.org --ip 127.0.0.1 >/dev/null
for u in alice bob eve carol; do
    printf '%s pw\n' "$u" | "$IRPD" passwd --dir "$T/r" "$u@example.org" || fail "passwd $u"
done
start
addr=1
# from NAME REQUESTS...: one connection from a fresh loopback address
from() {
    name=$1
    shift
    addr=$((addr + 1))
    TC_BIND="127.0.$((addr / 250 + 1)).$((addr % 250 + 2))" probe "$name" "$@"
}
# status FILE ID: the status of the answer with that id
status() { sed -n "s/^<resp id=\"$2\" status=\"\([0-9]*\)\".*/\1/p" "$1"; }

# ---- 1 and 2 run side by side: alice's, bob's and eve's attempts ---------------------------
# 1: other spellings of the op are logins all the same
alice() {
    for i in 1 2 3 4 5 6; do
        from q$i <<E
<req id='a$i' op='login' user='alice@example.org' password='wrong'/>
E
    done
}
bob() {
    for i in 1 2 3 4 5 6; do
        from e$i <<E
<req id="b$i" op="&#108;ogin" user="bob@example.org" password="wrong"/>
E
    done
}
# 2: no eviction by others. eve's key and these 16 user IDs share a slot of
# the former 4096-slot table (FNV-1a of "u" + the lower-case user ID, modulo
# 4096).
eve() {
    for i in 1 2 3 4 5; do
        from v$i <<E
<req id="v$i" op="login" user="eve@example.org" password="wrong"/>
E
    done
    for m in m584 m4339 m6016 m9426 m10260 m10718 m10879 m17698 m22250 m22548 m22809 m23451 \
        m28065 m29242 m30378 m32963; do
        from "x$m" <<E
<req id="x$m" op="login" user="$m@example.org" password="wrong"/>
E
    done
}
# each sequence speaks from addresses of its own (from() counts per sequence)
(addr=100 && alice) &
p1=$!
(addr=200 && bob) &
p2=$!
(addr=300 && eve) &
p3=$!
wait $p1 $p2 $p3 || fail "a sequence of logins failed"
for i in 1 2 3 4 5; do
    [ "$(status "$T/q$i.out" a$i)" = 401 ] || fail "op='login' failure $i: $(cat "$T/q$i.out")"
    [ "$(status "$T/e$i.out" b$i)" = 401 ] || fail "op=&#108;ogin failure $i: $(cat "$T/e$i.out")"
done
ok "five wrong passwords: 401 whatever the spelling"
has "$T/q6.out" '<resp id="a6" status="429"' "op='login': the sixth is 429"
has "$T/e6.out" '<resp id="b6" status="429"' "op=&#108;ogin: the sixth is 429"
addr=400
from qr <<E
<req id='ar' op='login' user='alice@example.org' password='alice pw'/>
E
has "$T/qr.out" '<resp id="ar" status="429"' "op='login': the locked user stays locked"
from er <<E
<req id="br" op="&#108;ogin" user="bob@example.org" password="bob pw"/>
E
has "$T/er.out" '<resp id="br" status="429"' "op=&#108;ogin: the locked user stays locked"
from vr <<E
<req id="vr" op="login" user="eve@example.org" password="eve pw"/>
E
has "$T/vr.out" '<resp id="vr" status="429"' "failures of colliding users do not unlock eve"

# ---- 3: concurrent failures are counted before the next check ---------------------------
i=1
pids=
while [ $i -le 30 ]; do
    from c$i <<E &
<req id="c$i" op="login" user="carol@example.org" password="wrong $i"/>
E
    pids="$pids $!"
    i=$((i + 1))
done
for p in $pids; do wait "$p" || true; done
n401=0
n429=0
i=1
while [ $i -le 30 ]; do
    case "$(status "$T/c$i.out" c$i)" in
    401) n401=$((n401 + 1)) ;;
    429) n429=$((n429 + 1)) ;;
    *) fail "concurrent login $i: $(cat "$T/c$i.out")" ;;
    esac
    i=$((i + 1))
done
[ $n401 = 5 ] && [ $n429 = 25 ] || fail "30 concurrent wrong logins: $n401 x 401, $n429 x 429"
ok "30 concurrent wrong logins from 30 addresses: exactly 5 x 401, then 429"
from cr <<E
<req id="cr" op="login" user="carol@example.org" password="carol pw"/>
E
has "$T/cr.out" '<resp id="cr" status="429"' "and carol stays locked"
stop
echo "all $n limits checks passed"
