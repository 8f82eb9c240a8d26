#!/bin/sh
# tests/irpd/writer.sh - durable commits never wait on the disk inside the
# event loop (issue 7 F7; docs/IRP.md 10.2): the changes are committed by
# the store's writer thread, the loop reads on its own connection.
# Every change goes there: registrations, failed logins' audit records,
# enrolment and renewal (the certificate issued and recorded on the
# writer), an external certificate recorded at its first use (7.6), and
# the lookup records an access-log request waits for (6.15).
#
# To make "the disk is slow" deterministic, another process holds the
# database's write lock (BEGIN IMMEDIATE, python3's sqlite3) while a
# registration burst (irp_load) and a failed-login flood run: every commit
# waits for the lock. Lookups must still be answered in the meantime, and
# once the lock is released, the burst goes on (no registration failed),
# every failed login is answered 401 and its audit record is stored.
# Committing on the loop (before), the loop itself waited for the lock: no
# lookup was answered until the busy timeout (5 s) made the waiting
# commit fail, so the burst got 500s and audit records were lost; and
# later, with registrations on the writer, an enrolment, a renewal and an
# external certificate's first use still wrote on the loop: they failed
# with 500 after stalling every other connection for the busy timeout. Asserts
# on answers and stored rows only, never on timing; waits on FIFOs.
# Needs IRPD, IRP_PROBE, IRP_LOAD, python3 and the openssl CLI.
set -eu

. "$(dirname "$0")/lib.sh"
LOAD=${IRP_LOAD:?set IRP_LOAD to the irp_load binary}
LPID=
HPID=
cleanup_more() {
    if [ -n "$LPID" ]; then kill "$LPID" 2>/dev/null || true; fi
    if [ -n "$HPID" ]; then kill "$HPID" 2>/dev/null || true; fi
}
trap 'cleanup_more; cleanup' EXIT INT TERM
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

"$IRPD" init --dir "$T/r" --name 127.0.0.1 --ip 127.0.0.1 --domain example.org >/dev/null
# one identity's burst is far above IRP.md 9.2's 500 requests/s: lift it here
printf 'req_rate_user = 100000000\nreq_burst_user = 100000000\nreg_rate = 100000000\nreg_burst = 100000000\n' \
    >>"$T/r/irpd.conf"
# an external CA (7.6) and eve's certificate from it, not yet recorded
root_ca extca || fail "openssl: external root"
user_cert eve eve@example.org "$T/extca.pem" "$T/extca.key" || fail "openssl: eve's certificate"
echo "trusted_ca = $T/extca.pem example.org" >>"$T/r/irpd.conf"
start
enroll alice alice@example.org
enroll bob bob@example.org
ok "alice and bob enrolled"
# made now: `irpd token` writes too, and would wait for the lock
TOKC=$("$IRPD" token --dir "$T/r" carol@example.org) || fail "token for carol"
CSRC=$(csr carol) || fail "carol's CSR"
CSRB=$(csr bob2) || fail "bob's new CSR"

# ---- a registration burst, acks read through a FIFO ----------------------------------
mkfifo "$T/acks"
"$LOAD" --connect "127.0.0.1:$PORT" --ca "$T/r/ca.pem" --cert "$T/alice.pem" \
    --key "$T/alice.key" --count 1000000 --devices 4 --window 64 >"$T/acks" 2>"$T/load.err" &
LPID=$!
exec 4<"$T/acks"
acks() { # acks N WHAT: the next N lines from irp_load are acks
    i=0
    while [ "$i" -lt "$1" ]; do
        read -r l <&4 || fail "$2: irp_load ended after $i acks: $(cat "$T/load.err")"
        case "$l" in "ack "*) ;; *) fail "$2: irp_load: $l" ;; esac
        i=$((i + 1))
    done
    ok "$2"
}
acks 50 "the registration burst runs"

# ---- the write lock held by another process --------------------------------------------
mkfifo "$T/lockctl" "$T/lockout"
python3 -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
db.execute("ROLLBACK")
print("released", flush=True)
' "$T/r/irpd.db" <"$T/lockctl" >"$T/lockout" &
HPID=$!
exec 5>"$T/lockctl"
exec 6<"$T/lockout"
read -r l <&6 || fail "lock holder did not start"
[ "$l" = locked ] || fail "lock holder: $l"
ok "another process holds the database's write lock"

# failed logins (unknown users: the same answer and audit record, IRP.md 6.4)
i=0
lpids=
while [ $i -lt 4 ]; do
    probe "bad$i" <<E &
<req id="f$i" op="login" user="nobody$i@example.org" password="wrong"/>
E
    lpids="$lpids $!"
    i=$((i + 1))
done
# an enrolment, a renewal and an external certificate's first request
probe enrollc <<E &
<req id="ce" op="enroll" token="$TOKC"><csr>$CSRC</csr></req>
E
wpids=$!
as bob renew <<E &
<req id="rn" op="renew"><csr>$CSRB</csr></req>
E
wpids="$wpids $!"
as eve ext <<E &
<req id="xl" op="lookup" user="alice@example.org"/>
E
wpids="$wpids $!"
# lookups, one connection after another, each answered while the lock is held
i=0
while [ $i -lt 5 ]; do
    as bob "look$i" <<E
<req id="k$i" op="lookup" user="alice@example.org"/>
<req id="p$i" op="ping"/>
E
    has "$T/look$i.out" "<resp id=\"k$i\" status=\"200\"" "lookup $i answered while commits wait for the lock"
    has "$T/look$i.out" "<resp id=\"p$i\" status=\"200\"" "and the request after it"
    i=$((i + 1))
done

# alice's access log waits for the writer to have written bob's lookup records
as alice alog <<E &
<req id="al" op="access-log"/>
E
wpids="$wpids $!"
for f in enrollc renew ext alog; do
    hasnt "$T/$f.out" 'status=' "$f: no answer while its change is not durable"
done

echo release >&5
read -r l <&6 || fail "lock holder did not release"
[ "$l" = released ] || fail "lock holder: $l"
exec 5>&- 6<&-
wait "$HPID" || fail "lock holder failed"
HPID=
ok "the lock is released"

acks 200 "the burst goes on: no registration failed while the lock was held"
kill "$LPID" 2>/dev/null || true
wait "$LPID" 2>/dev/null || true
LPID=
exec 4<&-
for p in $lpids $wpids; do wait "$p" || true; done
has "$T/enrollc.out" '<resp id="ce" status="200"' "carol's enrolment answered 200 once durable"
has "$T/renew.out" '<resp id="rn" status="200"' "bob's renewal answered 200 once durable"
has "$T/ext.out" '<resp id="xl" status="200"' "eve's first request answered once her certificate is recorded"
has "$T/alog.out" '<resp id="al" status="200"' "access-log answered"
[ "$(grep -o 'by="bob@example.org" op="lookup"' "$T/alog.out" | wc -l)" -eq 5 ] ||
    fail "access-log: not bob's 5 lookups: $(cat "$T/alog.out")"
ok "access-log lists every lookup answered before it"
as bob status <<E
<req id="cs" op="cert-status" fp="$(cert_fp "$T/eve.pem")"/>
E
resp "$T/status.out" cs | grep -q 'status="valid"' || fail "eve not recorded: $(cat "$T/status.out")"
ok "eve's external certificate is recorded"
i=0
while [ $i -lt 4 ]; do
    has "$T/bad$i.out" "<resp id=\"f$i\" status=\"401\"" "failed login $i answered 401"
    i=$((i + 1))
done

# a change answered is durable: the audit records of the failed logins and the
# lookups (written on the writer's connection) are in the database
stop
python3 -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("SELECT count(*) FROM audit WHERE op = ?", ("login-failed",)).fetchone()[0])
print(db.execute("SELECT count(*) FROM audit WHERE op = ? AND actor = ?", ("lookup", "bob@example.org")).fetchone()[0])
' "$T/r/irpd.db" >"$T/count.out" || fail "audit query: $(cat "$T/count.out")"
[ "$(sed -n 1p "$T/count.out")" = 4 ] || fail "login-failed records: $(cat "$T/count.out")"
ok "every failed login's audit record is stored"
[ "$(sed -n 2p "$T/count.out")" = 5 ] || fail "lookup records: $(cat "$T/count.out")"
ok "every lookup's record is stored"
grep -q "irpd: error" "$T/log" && fail "errors in the log"
ok "no commit failed"
echo "all $n writer checks passed"
