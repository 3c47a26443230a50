#!/usr/bin/env bash
# mtasd driven directly over the milter protocol (tests/integration/milter_client.py):
# option negotiation with and without macro lists, the client address from
# MAIL's macros deciding whether to sign, a malformed packet ending only its
# own connection, and SIGTERM draining (open sessions finish their message,
# new ones are refused, then mtasd exits).
#   mtasd_protocol.sh MTAS MTASD SOURCE_DIR
set -uo pipefail
mtas="$1"; mtasd="$2"; root="$3"
. "$root/tests/integration/lib.sh"

"$mtas" keygen --algorithm ed25519 --signer mail.example.org --selector s --out "$work/keys" >/dev/null
printf 's %s mail.example.org\n' "$work/keys/s.key.pem" >"$work/keys.tab"
sock="$work/mtasd.sock"
printf '%s\n' "Mode sign" "Socket unix:$sock" "AuthservID mx.example.org" "Syslog no" "Foreground yes" \
  "Network no" "KeyTable $work/keys.tab" "Carrier header" >"$work/mtasd.conf"
"$mtasd" -f -c "$work/mtasd.conf" 2>"$work/mtasd.log" &
mtasd_pid=$!
pids+=("$mtasd_pid")
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
[ -S "$sock" ] || { echo "mtasd did not start"; cat "$work/mtasd.log"; exit 1; }

PYTHONPATH="$root/tests/integration" python3 - "$sock" "$mtasd_pid" <<'PY' || fails=$((fails + 1))
import os, signal, socket, struct, sys, time
from milter_client import *

sock_path, pid = sys.argv[1], int(sys.argv[2])
failures = []
def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)

HEADERS = [("From", "Alice <a@example.org>"), ("To", "Bob <b@example.net>"), ("Subject", "protocol"),
           ("Date", "Tue, 01 Dec 2026 08:00:00 +0000"), ("Message-ID", "<p1@example.org>")]
BODY = b"Hello Bob.\r\n" * 40

def signed(replies):
    return any(cmd == b"i" and data[4:].startswith(b"MTAS-Signature\0") for cmd, data in replies)

# 1. An MTA that takes macro lists: no connect or MAIL event; the client's
#    address and the sender come with RCPT.
m = Milter(sock_path)
actions, protocol, lists = m.negotiate()
check(actions & SMFIF_SETSYMLIST and protocol & SMFIP_NOCONNECT and protocol & SMFIP_NOMAIL,
      "macro lists asked for, connect and MAIL events declined")
check(lists.get(3) == "{client_addr} {mail_addr}" and lists.get(5) == "i", "lists: %r" % lists)
replies = m.message(HEADERS, BODY, client_addr="127.0.0.1")
check(signed(replies) and replies[-1][0] == b"c", "mail from an internal host is signed")
replies = m.message(HEADERS, BODY, client_addr="192.0.2.7")
check(not signed(replies) and replies[-1][0] == b"c", "mail from elsewhere is passed on unsigned")
m.close()

# 2. An MTA without macro lists: the connect event stays and decides.
m = Milter(sock_path)
actions, protocol, lists = m.negotiate(actions=ALL_ACTIONS & ~SMFIF_SETSYMLIST)
check(not protocol & (SMFIP_NOCONNECT | SMFIP_NOMAIL) and not lists, "no macro lists: connect and MAIL are kept")
m.send(b"C", b"localhost\x004\x00\x00127.0.0.1\0")
check(signed(m.message(HEADERS, BODY)), "the connect event's address decides")
m.close()

# 3. A malformed packet ends its own connection only.
bad = Milter(sock_path)
bad.negotiate()
bad.sock.sendall(b"\0\0\0\0")  # length 0
try:
    closed = bad.sock.recv(1) == b""
except OSError:
    closed = True
check(closed, "a zero-length packet closes the connection")
m = Milter(sock_path)
m.negotiate()
check(signed(m.message(HEADERS, BODY, client_addr="127.0.0.1")), "other connections are still served")
m.close()

# 4. A client that does not wait: the end of the message and QUIT in one
#    write still get the reply and the signature before the connection closes.
m = Milter(sock_path)
m.negotiate()
sent = []
m.send = lambda command, data=b"": sent.append(struct.pack(">I", len(data) + 1) + command + data)
m.envelope("127.0.0.1", "a@example.org", "b@example.net")
m.send_content(HEADERS, BODY)
m.send(b"E")
m.send(b"Q")
m.sock.sendall(b"".join(sent))
replies = []
try:
    while True:
        replies.append(m.reply())
except EOFError:
    pass
check(signed(replies) and replies[-1][0] == b"c", "pipelined end of message and QUIT: the reply still comes")
m.sock.close()

# 5. SIGTERM: the open session finishes its message; new ones are refused.
busy = Milter(sock_path)
busy.negotiate()
busy.envelope("127.0.0.1", "a@example.org", "b@example.net")
time.sleep(0.2)
os.kill(pid, signal.SIGTERM)
time.sleep(0.5)
try:
    late = Milter(sock_path, timeout=2)
    late.negotiate()
    refused = False
except (OSError, EOFError, AssertionError):
    refused = True
check(refused, "no new connection after SIGTERM")
busy.send_content(HEADERS, BODY)
check(signed(busy.end_of_message()), "the open session's message is still signed")
busy.close()
def running():
    try:  # mtasd is the shell's child: once it exits it is a zombie until waited for
        return open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
for _ in range(50):
    if not running():
        break
    time.sleep(0.1)
check(not running(), "mtasd exits once the session closed")
sys.exit(1 if failures else 0)
PY
wait "$mtasd_pid"; rc=$?
[ "$rc" = 0 ] || fail "mtasd exited with $rc after SIGTERM"
grep -q "stopped" "$work/mtasd.log" || fail "mtasd did not log its stop"
[ -S "$sock" ] && fail "the socket file was left behind"
[ "$fails" = 0 ] && echo "mtasd protocol: all checks passed" || { echo "$fails failure(s)"; cat "$work/mtasd.log" | tail -20; }
exit $((fails > 0))
