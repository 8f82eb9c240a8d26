#!/bin/sh
# Checks every build dependency with pkg-config and installs what is missing
# (Debian/Ubuntu: apt-get). Elsewhere prints the packages to install.
set -eu

# pkg-config module -> Debian package
need="libcrypto:libssl-dev libssl:libssl-dev expat:libexpat1-dev cmocka:libcmocka-dev sqlite3:libsqlite3-dev libuv:libuv1-dev jansson:libjansson-dev ncursesw:libncurses-dev libqrencode:libqrencode-dev libpq:libpq-dev"
tools="cmake:cmake pkg-config:pkg-config openssl:openssl cc:gcc clang:clang clang-format:clang-format python3:python3 tmux:tmux redis-server:redis-server redis-benchmark:redis-tools"

missing=""
command -v pkg-config >/dev/null 2>&1 || missing="pkg-config"
for pair in $need; do
    mod=${pair%%:*}; pkg=${pair#*:}
    if ! pkg-config --exists "$mod" 2>/dev/null; then
        case " $missing " in *" $pkg "*) ;; *) missing="$missing $pkg";; esac
    fi
done
for pair in $tools; do
    cmd=${pair%%:*}; pkg=${pair#*:}
    command -v "$cmd" >/dev/null 2>&1 || missing="$missing $pkg"
done
# libFuzzer's runtime ships with clang's compiler-rt on Debian.
if command -v clang >/dev/null 2>&1 && ! clang -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null | grep -q /; then
    missing="$missing libclang-rt-dev"
fi
# ThreadSanitizer's runtime for gcc (make test-tsan).
if command -v gcc >/dev/null 2>&1 && ! gcc -print-file-name=libtsan.so 2>/dev/null | grep -q /; then
    missing="$missing libtsan2"
fi
# A DNS server for the SRV tests (tests/irp/srv.sh); it lives in /usr/sbin.
[ -x /usr/sbin/nsd ] || command -v nsd >/dev/null 2>&1 || missing="$missing nsd"
# irpd's PostgreSQL store is tested against a throwaway cluster the tests
# make with Debian's server binaries (tests/pg/pgcluster.sh) and psql.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! command -v psql >/dev/null 2>&1; then
    missing="$missing postgresql"
fi
missing=$(echo $missing)
[ -z "$missing" ] && exit 0

if command -v apt-get >/dev/null 2>&1; then
    echo "deps: installing $missing"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
else
    echo "deps: please install the packages providing: $missing" >&2
    exit 1
fi
