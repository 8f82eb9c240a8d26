# tests/irp/nsd.sh - a throwaway DNS server for the SRV tests (sourced, not
# run): nsd on 127.0.0.1, a port the kernel picked, files under $T.
#   nsd_init            the server's configuration (sets DNS_PORT)
#   nsd_zone NAME RR... a zone with the given records (besides SOA, NS, ns A)
#   nsd_start           starts it (sets NSD_PID) and waits for its "started" line
# The caller kills $NSD_PID. Needs T (a directory) and python3 (a free port).
NSD=$(command -v nsd || echo /usr/sbin/nsd)

nsd_init() {
    DNS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    cat >"$T/nsd.conf" <<CONF
server:
    ip-address: 127.0.0.1
    port: $DNS_PORT
    username: ""
    chroot: ""
    zonesdir: "$T"
    database: ""
    zonelistfile: "$T/zone.list"
    xfrdfile: "$T/xfrd.state"
    pidfile: "$T/nsd.pid"
    logfile: "$T/nsd.log"
    server-count: 1
remote-control:
    control-enable: no
CONF
}

nsd_zone() {
    name=$1
    shift
    {
        echo "\$ORIGIN $name."
        echo "\$TTL 60"
        echo "@ IN SOA ns.$name. admin.$name. 1 3600 600 86400 60"
        echo "@ IN NS ns.$name."
        echo "ns IN A 127.0.0.1"
        for r in "$@"; do echo "$r"; done
    } >"$T/$name.zone"
    printf 'zone:\n    name: "%s"\n    zonefile: "%s"\n' "$name" "$T/$name.zone" >>"$T/nsd.conf"
}

# Returns 1 (with nsd's output on stdout) when it does not start within 10 s.
nsd_start() {
    "$NSD" -d -c "$T/nsd.conf" >"$T/nsd.out" 2>&1 &
    NSD_PID=$!
    i=0
    until grep -q "nsd started" "$T/nsd.log" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -ge 100 ] || ! kill -0 "$NSD_PID" 2>/dev/null; then
            cat "$T/nsd.out" "$T/nsd.log" 2>/dev/null
            return 1
        fi
        sleep 0.1
    done
}
