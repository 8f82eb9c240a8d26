#!/bin/sh
# tests/agent/rereg.sh - the agent registers again before its registration
# expires (docs/IRP.md 6.7: the reference agent at half the granted
# lifetime). irpd grants 2 s (the test-only min_lifetime = 1) and sweeps
# expired bindings every 5 s: alice's agent must register again every
# second, and after more than the lifetime and a sweep bob still finds her
# online, by lookup and by his watch (no offline presence). Waits on events
# only, never a sleep.
set -eu
. "$(dirname "$0")/lib.sh"

IRPD_CONF="min_lifetime = 1"
irpd_start
for u in alice bob; do enrol "$u"; done
up alice --lifetime 2
grep -qF "for 2 s" "$T/alice.log" || {
    echo "# SKIP: irpd granted $(sed -n 's/.* for \([0-9]*\) s$/\1/p' "$T/alice.log" | head -n 1) s"
    echo "1..0"
    exit 77
}
ok "alice registered for 2 s"
up bob
# bob watches alice once he has something for her: a message, delivered.
b0=$(last_event bob)
id=$(sx bob send alice@example.org "hi") || fail "send"
wait_event bob "$b0" message.delivered "id=$id"

# Eight registrations after the first: about 8 s, past the first one's expiry (2 s) and the
# sweep that would have removed it (every 5 s).
e=$(last_event alice)
k=0
while [ $k -lt 8 ]; do
    wait_event alice "$e" registry.status "state=registered"
    e=$(tail -n 1 "$T/wait.out" | cut -d' ' -f1)
    k=$((k + 1))
done
regs=$(grep -c "registry: registered .* for 2 s" "$T/alice.log")
[ "$regs" -ge 9 ] || fail "registrations logged: $regs"
ok "registered again every half lifetime ($regs registrations of 2 s)"
sx bob lookup alice@example.org --json | grep -q '"presence": "online"' ||
    fail "alice expired: $(sx bob lookup alice@example.org)"
if sx bob events --since "$b0" | grep -q "presence .*\"presence\":\"offline\""; then
    fail "bob saw alice offline: $(sx bob events --since "$b0" | grep presence)"
fi
ok "after more than the lifetime and a sweep, bob still finds alice online (lookup and watch)"
down bob
down alice
echo "1..$n"
