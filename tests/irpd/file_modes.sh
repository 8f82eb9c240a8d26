#!/bin/sh
# tests/irpd/file_modes.sh - issue 7 F9: the registry's files stay private
# (docs/IRP.md 11.1) and a token's lifetime is bounded (7.2):
# - `irpd serve` refuses a directory, irpd.db or its -wal/-shm that group or
#   others may use, and names the chmod that fixes it;
# - `irpd init` sets an existing 0755 directory of the caller's to 0700;
# - `irpd token --lifetime` takes 60 to 2592000 seconds, nothing else.
# Each failed before: serve ran on a 0644 irpd.db and a 0755 directory, init
# kept 0755, and --lifetime 99999999999 or "abc" were taken.
# Run by run.sh; needs IRPD and IRP_PROBE like it.
set -eu
. "$(dirname "$0")/lib.sh"

mode() { stat -c %a "$1"; }

mkdir -m 0755 "$T/r"
"$IRPD" init --dir "$T/r" --name 127.0.0.1 --domain example.org --ip 127.0.0.1 >/dev/null 2>"$T/init.err"
[ "$(mode "$T/r")" = 700 ] || fail "init kept mode $(mode "$T/r")"
has "$T/init.err" 'set to 0700' "init: an existing 0755 directory is set to 0700, and says so"
[ "$(mode "$T/r/irpd.db")" = 600 ] || fail "irpd.db mode $(mode "$T/r/irpd.db")"
ok "init: irpd.db is 0600"

touch "$T/notdir"
rc=0
"$IRPD" init --dir "$T/notdir" --name 127.0.0.1 --domain example.org >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "init on a file: exit $rc"
ok "init refuses a path that is not a directory"

refused() { # what fix
    rc=0
    timeout 20 "$IRPD" serve --dir "$T/r" --listen 127.0.0.1:0 >/dev/null 2>"$T/serve.err" || rc=$?
    [ "$rc" = 1 ] || fail "$1: serve exit $rc"
    has "$T/serve.err" "$2" "serve refuses $1 and names the fix"
}
chmod 0644 "$T/r/irpd.db"
refused "an irpd.db of mode 0644" "chmod 600 $T/r/irpd.db"
chmod 0600 "$T/r/irpd.db"
chmod 0755 "$T/r"
refused "a directory of mode 0755" "chmod 700 $T/r"
chmod 0750 "$T/r"
refused "a directory of mode 0750" "chmod 700 $T/r"
chmod 0700 "$T/r"
: >"$T/r/irpd.db-wal"
chmod 0640 "$T/r/irpd.db-wal"
refused "an irpd.db-wal of mode 0640" "chmod 600 $T/r/irpd.db-wal"
rm -f "$T/r/irpd.db-wal"

start
probe ping <<E
<req id="p" op="ping"/>
E
has "$T/ping.out" '<resp id="p" status="200"' "serve runs once the modes are private"
stop

for bad in 0 59 2592001 99999999999 abc 60x ""; do
    rc=0
    "$IRPD" token --dir "$T/r" --lifetime "$bad" alice@example.org >/dev/null 2>"$T/tok.err" || rc=$?
    [ "$rc" = 2 ] || fail "token --lifetime '$bad': exit $rc"
done
has "$T/tok.err" '60 to 2592000' "token --lifetime out of 60..2592000 or not a number: usage error"
"$IRPD" token --dir "$T/r" --lifetime 2592000 alice@example.org >/dev/null || fail "30 days refused"
"$IRPD" token --dir "$T/r" --lifetime 60 alice@example.org >/dev/null || fail "60 s refused"
ok "token --lifetime 60 and 2592000 accepted"
"$IRPD" token --help | grep -q '2592000' || fail "token --help names the bound"
ok "token --help names the bound"
echo "all $n file mode checks passed"
