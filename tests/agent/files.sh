#!/bin/sh
# tests/agent/files.sh - files between two agents end to end (issue 8, "It
# must show" 1): a real irpd and two sixchat agents on loopback. A 100 MB
# file from a contact is accepted automatically; the receiver is killed
# (-9) mid-transfer and restarted; the transfer resumes from the size of its
# .part (asserted: not from zero) and the file arrives with its SHA-256
# equal. A stranger's offer waits for `accept`; `reject` declines one.
#
# Exit 77 (skipped) only when the agents' harness (tests/agent/lib.sh) is
# not there.
set -eu
LIB=$(dirname "$0")/lib.sh
[ -f "$LIB" ] || {
    echo "skip: tests/agent/lib.sh (the agents' harness) is missing"
    exit 77
}
. "$LIB"

irpd_start
for u in alice bob carol; do enrol "$u"; done
up alice
up bob
ok "irpd and two agents ready"

sx bob contacts add alice@example.org >/dev/null || fail "contacts add"
head -c 100000000 /dev/urandom >"$T/big.bin"
want=$(sha256sum "$T/big.bin" | cut -d' ' -f1)
a0=$(last_event alice)
b0=$(last_event bob)
id=$(sx alice send-file --detach bob@example.org "$T/big.bin") || fail "send-file"
part="$T/bob/downloads/big.bin.part"
# The .part's size is the progress: bob is killed once 20 MB are there
# (sampled every 10 ms; the transfer itself is the signal waited for).
i=0
while :; do
    s=$(stat -c %s "$part" 2>/dev/null || echo 0)
    [ "$s" -lt 20000000 ] || break
    i=$((i + 1))
    [ $i -lt 3000 ] || fail "bob's .part stayed at $s bytes"
    sleep 0.01
done
down bob KILL
have=$(stat -c %s "$part")
[ "$have" -gt 0 ] && [ "$have" -lt 100000000 ] || fail "part after kill: $have"
ok "bob killed (-9) with $have of 100000000 bytes in big.bin.part"

up bob
wait_event alice "$a0" transfer.resumed "id=$id"
off=$(grep -F transfer.resumed "$T/wait.out" | sed -n 's/.*"offset": *\([0-9]*\).*/\1/p' | tail -n 1)
[ "$off" = "$have" ] || fail "resumed from $off, bob had $have"
ok "resumed from bob's offset $off (not from zero)"
wait_event bob "$b0" transfer.done "id=$id"
got=$(sha256sum "$T/bob/downloads/big.bin" | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "checksum $got != $want"
[ ! -e "$part" ] || fail "the .part is still there"
ok "big.bin arrived whole: SHA-256 equal, .part gone"

# A stranger's offer waits; reject tells the sender.
up carol
c0=$(last_event carol)
b1=$(last_event bob)
printf 'hello from carol\n' >"$T/note.txt"
id2=$(sx carol send-file --detach bob@example.org "$T/note.txt") || fail "carol send-file"
wait_event bob "$b1" transfer.offered "id=$id2"
sx bob transfers --open | grep -qF "sixchat accept $id2" || fail "bob's transfers: waits for accept"
sx bob reject --reason "no thanks" "$id2" >/dev/null || fail "reject"
wait_event carol "$c0" transfer.rejected "id=$id2"
grep -qF "no thanks" "$T/wait.out" || fail "reason: $(cat "$T/wait.out")"
[ ! -e "$T/bob/downloads/note.txt" ] || fail "a rejected file was kept"
ok "a stranger's offer waits for accept; reject declines it, the sender hears why"

id3=$(sx carol send-file --detach bob@example.org "$T/note.txt") || fail "carol send-file 2"
wait_event bob "$b1" transfer.offered "id=$id3"
sx bob accept "$id3" >/dev/null || fail "accept"
wait_event bob "$b1" transfer.done "id=$id3"
cmp -s "$T/note.txt" "$T/bob/downloads/note.txt" || fail "accepted file differs"
ok "accept: the file arrives"
echo "1..$n"
