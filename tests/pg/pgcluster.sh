#!/bin/sh
# tests/pg/pgcluster.sh - a throwaway PostgreSQL cluster for the tests of
# irpd's PostgreSQL store (docs/DEPLOYMENT.md, issue 9).
#
#   pgcluster.sh start DIR   initdb in DIR/data, start the server listening on
#                            a Unix socket in DIR only (no TCP), create the
#                            database "sixchat", print its connection URI
#   pgcluster.sh stop DIR    stop the server, remove DIR
#
# ctest runs `start` as the setup of the fixture "pg" and `stop` as its
# cleanup, so one cluster serves every PostgreSQL test of a run. Debian's
# server binaries (/usr/lib/postgresql/<version>/bin) are found by
# pg_config's major version, or taken from PG_BINDIR.
#
# initdb refuses to run as root: as root the cluster belongs to the
# "postgres" user of Debian's postgresql package (runuser), its superuser is
# named postgres either way, and local connections are trusted (the socket
# directory is the only way in; the cluster lives for one test run).
set -eu

cmd=${1:?usage: pgcluster.sh start|stop DIR}
dir=${2:?usage: pgcluster.sh start|stop DIR}

if [ -z "${PG_BINDIR:-}" ]; then
    major=$(pg_config --version 2>/dev/null | sed -n 's/^PostgreSQL \([0-9]*\).*/\1/p')
    PG_BINDIR=/usr/lib/postgresql/${major:-15}/bin
fi
[ -x "$PG_BINDIR/initdb" ] || {
    echo "pgcluster: no initdb in $PG_BINDIR (scripts/deps.sh installs postgresql)" >&2
    exit 1
}

# as_owner CMD...: runs CMD as the cluster's owner (postgres when we are root)
if [ "$(id -u)" -eq 0 ]; then
    owner=postgres
    id "$owner" >/dev/null 2>&1 || {
        echo "pgcluster: running as root needs the postgres user (Debian's postgresql package)" >&2
        exit 1
    }
    as_owner() { runuser -u "$owner" -- "$@"; }
else
    owner=$(id -un)
    as_owner() { "$@"; }
fi

stop_server() {
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$PG_BINDIR/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
}

case "$cmd" in
stop)
    stop_server
    rm -rf "$dir"
    exit 0
    ;;
start) ;;
*)
    echo "pgcluster: unknown command $cmd" >&2
    exit 2
    ;;
esac

# A cluster left by an interrupted run goes first.
stop_server
rm -rf "$dir"
started=0
on_exit() {
    rc=$?
    if [ "$rc" -ne 0 ]; then
        [ -f "$dir/log" ] && cat "$dir/log" >&2
        [ "$started" = 1 ] && stop_server
        rm -rf "$dir"
    fi
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 1' INT TERM

mkdir -p "$dir"
chmod 700 "$dir"
[ "$owner" = "$(id -un)" ] || chown "$owner" "$dir"
as_owner "$PG_BINDIR/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 \
    --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    exit 1
}
# No TCP at all: the socket in $dir is the only listener. fsync stays on (the
# durability the store promises is PostgreSQL's own); the pool is small.
as_owner "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
    -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c port=5432 -c max_connections=200" \
    start >/dev/null
started=1
psql -q -X -h "$dir" -U postgres -d postgres -c "CREATE DATABASE sixchat" >/dev/null
echo "postgresql://postgres@/sixchat?host=$dir"
