#!/bin/sh
# tests/agent/chat_tmux.sh - `sixchat chat` driven in tmux (issue 8, "It
# must show" 2): two chat windows, alice's and bob's, against two real
# agents and a real irpd on loopback. A line typed in alice's window shows
# in bob's, with its delivery state in alice's (up to "read": bob's window
# marks what it shows read); while alice types, bob's window says so; bob's
# answer (UTF-8, wide characters) shows in alice's; /quit ends both.
#
# A private tmux server (-S in the test's directory); every wait polls
# capture-pane until the text is there, with an upper bound against hangs.
# Exit 77 (skipped) only when the programs lack what the test needs.
set -eu
command -v tmux >/dev/null 2>&1 || {
    echo "skip: tmux is not installed"
    exit 77
}
LIB=$(dirname "$0")/lib.sh
[ -f "$LIB" ] || {
    echo "skip: tests/agent/lib.sh (the agents' harness) is missing"
    exit 77
}
. "$LIB"
"$SIXCHAT" chat --help >/dev/null 2>&1 || {
    echo "skip: this sixchat has no chat command"
    exit 77
}

TM="tmux -f /dev/null -S $T/tmux.sock"
stop_tmux() { $TM kill-server 2>/dev/null || :; }
trap 'stop_tmux; cleanup' EXIT

# pane NAME: what NAME's window shows now
pane() { $TM capture-pane -p -t "$1" 2>/dev/null || :; }

# wait_pane NAME TEXT [SECONDS]: polls NAME's window until TEXT shows (20 s at most)
wait_pane() {
    i=0
    lim=$((${3:-20} * 20))
    while ! pane "$1" | grep -qF -- "$2"; do
        i=$((i + 1))
        if [ $i -ge $lim ]; then
            echo "--- $1's window:"
            pane "$1"
            fail "$1's window never showed: $2"
        fi
        sleep 0.05
    done
}

# gone_pane NAME TEXT [SECONDS]: polls until TEXT is no longer in NAME's window
gone_pane() {
    i=0
    lim=$((${3:-20} * 20))
    while pane "$1" | grep -qF -- "$2"; do
        i=$((i + 1))
        if [ $i -ge $lim ]; then
            echo "--- $1's window:"
            pane "$1"
            fail "$1's window kept showing: $2"
        fi
        sleep 0.05
    done
}

irpd_start
enrol alice
enrol bob
up alice
up bob
sx alice status --json >"$T/status.json" || fail "status"
grep -q '"listen"' "$T/status.json" || {
    echo "skip: this agent has no peer sessions yet (status shows no listening address)"
    exit 77
}

# chat NAME PEER: NAME's chat window (80x24, UTF-8), in the private tmux server
chat() {
    $TM new-session -d -s "$1" -x 80 -y 24 \
        "env LANG=C.UTF-8 LC_ALL=C.UTF-8 '$SIXCHAT' --home '$T/$1' chat $2@example.org \
         2>>'$T/$1-chat.log'; echo 'chat exited:' \$?; sleep 600" || fail "tmux $1"
}
chat alice bob
chat bob alice
wait_pane alice " bob@example.org - "
wait_pane bob " alice@example.org - "
gone_pane alice "not connected"
ok "two chat windows, each connected to its agent"

$TM send-keys -t alice "hello bob, over End2End Direct" Enter
wait_pane bob "alice: hello bob, over End2End Direct"
ok "a line typed in alice's window shows in bob's"
wait_pane alice "hello bob, over End2End Direct [read]"
ok "its state in alice's window goes to delivered and read (bob's window marks it read)"
wait_pane alice "bob@example.org - online"
ok "alice's status line shows bob online"

# Typing: notices go on the session now up; never queued.
$TM send-keys -t alice "are you th"
wait_pane bob "alice is typing..."
ok "bob's window shows alice typing while she types"
$TM send-keys -t alice C-u
gone_pane bob "alice is typing..."
ok "the indicator goes when alice clears her line"
$TM send-keys -t alice "are you there?"
wait_pane bob "alice is typing..."
$TM send-keys -t alice Enter
wait_pane bob "alice: are you there?"
gone_pane bob "alice is typing..."
ok "the message ends the typing state"

$TM send-keys -t bob "grüße aus 日本" Enter
wait_pane alice "bob: grüße aus 日本"
wait_pane bob "grüße aus 日本 [read]"
ok "bob's UTF-8 answer with wide characters shows in alice's window, read"

# Editing and history in the window itself: recall, move, insert.
$TM send-keys -t alice Up
wait_pane alice "> are you there?"
$TM send-keys -t alice Home Right Right Right " really" End "!" Enter
wait_pane bob "alice: are really you there?!"
ok "history (up) and editing (home, right, insert, end) in alice's window"

# Resize: the rows are laid out again for the new width.
$TM resize-window -t bob -x 40 -y 12
# "HH:MM alice: hello bob, over End2End Direct" is 43 columns: now two rows.
wait_pane bob "      Direct"
pane bob | awk 'length($0) > 40 { bad = 1 } END { exit bad }' || fail "a row wider than 40 columns after the resize"
ok "bob's window redraws at 40 columns after a resize"

$TM send-keys -t bob "/quit" Enter
wait_pane bob "chat exited: 0"
ok "/quit leaves with exit status 0"

# With bob's window closed a message stays delivered; opening it shows the
# message from the history and marks it read.
$TM send-keys -t alice "while your window was closed" Enter
wait_pane alice "while your window was closed [delivered]"
printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"history","params":{"peer":"alice@example.org","search":"window was closed"}}' |
    sx bob api >"$T/h.json" || fail "bob's history"
grep -q '"state":"received"' "$T/h.json" || fail "read without a window: $(cat "$T/h.json")"
ok "a message to bob with no window open: delivered, not read"
$TM kill-session -t bob
chat bob alice
wait_pane bob "alice: while your window was closed"
wait_pane alice "while your window was closed [read]"
ok "bob's window opens with the history and marks it read"
$TM send-keys -t alice C-d
wait_pane alice "chat exited: 0"
ok "ctrl-d on an empty line leaves too"
stop_tmux
echo "1..$n"
