#!/usr/bin/env bash
# Print what neomutt shows of one message: every pager screen, then the
# attachment list ('v'), as captured from a 120x50 tmux pane.
#
# Usage: mutt_view.sh MESSAGE
#
# The reader runs without network (unshare -n), with a throwaway HOME, a fixed
# time zone and locale, and a minimal muttrc instead of any system or user one
# (-n -F). The muttrc keeps the header weeding that neomutt's own system
# configuration ships (docs/neomuttrc.head upstream, the system neomuttrc in
# Debian): built in, with no "ignore" list, neomutt shows every header field.
# The message is opened read-only as a one-message maildir. Screens are waited
# for by polling capture-pane for a marker and then until two captures agree,
# each wait bounded; nothing sleeps for a fixed time.
set -uo pipefail
[ $# = 1 ] || { echo "usage: mutt_view.sh MESSAGE" >&2; exit 64; }
msg="$1"
[ -r "$msg" ] || { echo "mutt_view.sh: cannot read $msg" >&2; exit 64; }

reader=$(command -v neomutt) || { echo "mutt_view.sh: neomutt is not installed (apt-get install neomutt)" >&2; exit 2; }
command -v tmux >/dev/null || { echo "mutt_view.sh: tmux is not installed (apt-get install tmux)" >&2; exit 2; }
# No network for the reader: a plain network namespace as root, else a user one.
if unshare -n true 2>/dev/null; then nonet=(unshare -n)
elif unshare -rn true 2>/dev/null; then nonet=(unshare -rn)
else echo "mutt_view.sh: unshare -n is not permitted here; the reader must run without network" >&2; exit 2
fi

work=$(mktemp -d)
sock="$work/tmux.sock"
pid=""
alive() {  # a zombie (exited, not yet reaped by tmux) counts as gone
  local st
  [ -n "$pid" ] && st=$(ps -o stat= -p "$pid" 2>/dev/null) && [ "${st#Z}" = "$st" ]
}
wait_gone() {  # tenths of a second
  local i; for ((i = 0; i < $1; i++)); do alive || return 0; sleep 0.1; done; ! alive
}
# Quit the reader with its own keys (q leaves the attachment list, the pager, then
# the reader), each q sent once the last one took effect (the reader drops keys
# typed ahead), and end it by its pid only if it is still there: killing the
# tmux server alone can leave neomutt hung in its hang-up handler.
cleanup() {
  local i j before
  for ((i = 0; i < 5; i++)); do
    alive || break
    before=$(cap)
    tmux -S "$sock" send-keys -t 0 q 2>/dev/null
    for ((j = 0; j < 40; j++)); do
      if ! alive || [ "$(cap)" != "$before" ]; then break; fi
      sleep 0.05
    done
  done
  if alive; then
    kill -TERM "$pid" 2>/dev/null; wait_gone 10 || kill -KILL "$pid" 2>/dev/null
  fi
  tmux -S "$sock" kill-server 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP   # so that a timeout still runs cleanup

mkdir -p "$work/home" "$work/box/cur" "$work/box/new" "$work/box/tmp"
cp "$msg" "$work/box/cur/1.mtas:2,S"   # seen, so no "new" flag differs
cat >"$work/muttrc" <<'EOF'
set mbox_type=Maildir
set folder="."
set spoolfile=""
set record=""
set postponed=""
set header_cache=""
set message_cachedir=""
set sidebar_visible=no
set pager_index_lines=0
set sort=date
set wait_key=no
set pager_stop=yes
# The header weeding neomutt's system configuration ships.
ignore *
unignore from: subject to cc date x-mailer x-url user-agent
hdr_order date from to cc subject
EOF
cat >"$work/tmux.conf" <<'EOF'
set -g status off
set -g default-terminal screen
set -g remain-on-exit on
EOF

cap() { tmux -S "$sock" capture-pane -p -t 0 2>/dev/null; }
now_ms() { date +%s%3N; }
fail_screen() {  # why
  echo "mutt_view.sh: $1 ($(basename "$reader") on $(basename "$msg")); screen was:" >&2
  cap | sed 's/^/  | /' >&2
  exit 3
}
# Wait until the screen differs from OLD (the screen before the last key), matches
# an extended regex, and then holds still; print it.
screen_when() {  # regex what [old]
  local deadline=$(( $(now_ms) + 10000 )) prev="" cur
  until cur=$(cap) && [ "$cur" != "${3-}" ] && printf '%s\n' "$cur" | grep -qE -- "$1"; do
    [ "$(now_ms)" -lt "$deadline" ] || fail_screen "timed out waiting for $2"
    sleep 0.05
  done
  cur=$(cap)
  while [ "$cur" != "$prev" ]; do
    [ "$(now_ms)" -lt "$deadline" ] || fail_screen "screen did not settle for $2"
    prev="$cur"; sleep 0.15; cur=$(cap)
  done
  printf '%s\n' "$cur"
}

(cd "$work" && tmux -S "$sock" -f "$work/tmux.conf" new-session -d -x 120 -y 50 \
  env -i PATH=/usr/bin:/bin HOME="$work/home" TERM=screen TZ=UTC LANG=C.UTF-8 LC_ALL=C.UTF-8 \
  "${nonet[@]}" "$reader" -n -F "$work/muttrc" -R -f "$work/box") ||
  { echo "mutt_view.sh: could not start tmux" >&2; exit 3; }
# env and unshare (without --fork) exec, so the pane's process is the reader.
pid=$(tmux -S "$sock" display-message -p -t 0 '#{pane_pid}')

index=$(screen_when 'Msgs:1' "the index") || exit 3
tmux -S "$sock" send-keys -t 0 Enter
pager_status='-- \((all|end|top|[0-9]+%)\) *$'
bottom='Bottom of message is shown'
page=1
screen=$(screen_when "$pager_status" "the pager" "$index") || exit 3
# Page with Space until the reader says the bottom is shown (pager_stop keeps it
# on the message). The (%P) in the status line cannot tell: it counts the bytes
# read so far, and a last page can still say (68%).
while :; do
  echo "=== pager screen $page"
  printf '%s\n' "$screen"
  printf '%s\n' "$screen" | grep -qE -- '-- \(all\) *$' && break
  [ "$page" -lt 30 ] || fail_screen "more than 30 pager screens"
  tmux -S "$sock" send-keys -t 0 Space
  screen=$(screen_when "$pager_status|$bottom" "pager screen $((page + 1))" "$screen") || exit 3
  printf '%s\n' "$screen" | grep -q -- "$bottom" && break
  page=$((page + 1))
done
tmux -S "$sock" send-keys -t 0 v
echo "=== attachment list"
screen_when '^-*Attachments-*$' "the attachment list" "$screen" || exit 3
