#!/usr/bin/env bash
# mtasd driven directly over the milter protocol (tests/integration/milter_client.py):
# option negotiation with and without macro lists, the client address from
# MAIL's macros deciding whether to sign, a malformed packet ending only its
# own connection, and SIGTERM draining (open sessions finish their message,
# new ones are refused, then mtasd exits), and sessions waiting on DNS
# holding no other session up.
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
# 6. Lookups that block hold no other session up. A verifying mtasd whose
#    resolver never answers: sessions with signed mail wait in DNS (each
#    announces that it may block, and the pool starts a thread), more of them
#    than the pool's base threads; a session with unsigned mail, which needs
#    no lookup, is still answered at once.
printf '%s\r\n' "From: Alice <a@example.org>" "To: Bob <b@example.net>" "Subject: blocking lookups" \
  "Date: Tue, 01 Dec 2026 08:00:00 +0000" "Message-ID: <slow@example.org>" "" "Hello Bob." >"$work/slow.eml"
"$mtas" sign --key "$work/keys/s.key.pem" --signer mail.example.org --services "domain:key:email s._certs" \
  --carrier header "$work/slow.eml" "$work/signed.eml"
PYTHONPATH="$root/tests/integration" python3 - "$mtasd" "$work" <<'PY' || fails=$((fails + 1))
import email, email.policy, os, socket, subprocess, sys, time
from milter_client import *

mtasd, work = sys.argv[1:]
vsock = work + "/mtasd-v.sock"
dead = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # a resolver that never answers
dead.bind(("127.0.0.1", 0))
with open(work + "/verify.conf", "w") as f:
    f.write("\n".join(["Mode verify", "Socket unix:" + vsock, "AuthservID mx.example.net", "Syslog no",
                       "Foreground yes", "Network yes", "Resolver 127.0.0.1@%d" % dead.getsockname()[1],
                       "Timeout 1500", "Policy no"]) + "\n")
d = subprocess.Popen([mtasd, "-f", "-c", work + "/verify.conf"], stderr=open(work + "/mtasd-v.log", "w"))
failures = []
def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)
def final(m):
    while True:
        cmd, data = m.reply()
        if cmd in (b"c", b"a", b"r", b"t", b"y"):
            return cmd
try:
    for _ in range(50):
        if os.path.exists(vsock):
            break
        time.sleep(0.1)
    raw = open(work + "/signed.eml", "rb").read().replace(b"\r\n", b"\n")
    head, _, body = raw.partition(b"\n\n")
    msg = email.message_from_bytes(head + b"\n\n", policy=email.policy.compat32)
    headers = [(k, v.replace("\n", "\r\n")) for k, v in msg.items()]
    body = body.replace(b"\n", b"\r\n")
    slow = []
    for i in range(4):
        m = Milter(vsock, timeout=60)
        m.negotiate()
        m.envelope("192.0.2.7", "a@example.org", "b@example.net")
        m.send_content(headers, body)
        m.send(b"E")
        slow.append(m)
    time.sleep(0.3)  # the four are in their lookups now
    t0 = time.monotonic()
    fast = Milter(vsock, timeout=60)
    fast.negotiate()
    replies = fast.message([("From", "Carol <c@example.com>"), ("Subject", "no signature")], b"Hi.\r\n",
                           client_addr="192.0.2.8")
    waited = time.monotonic() - t0
    check(replies[-1][0] == b"c" and waited < 0.5,
          "unsigned mail answered in %.2f s while four sessions wait on DNS" % waited)
    t0 = time.monotonic()
    finals = [final(m) for m in slow]
    check(time.monotonic() - t0 >= 0.4, "the signed ones did wait on DNS (%.2f s more)" % (time.monotonic() - t0))
    check(all(f in (b"c", b"t") for f in finals), "and were answered: %r" % finals)
    for m in slow + [fast]:
        m.close()
finally:
    d.terminate()
    d.wait(timeout=30)
sys.exit(1 if failures else 0)
PY

if [ "$fails" = 0 ]; then echo "mtasd protocol: all checks passed"; else echo "$fails failure(s)"; tail -20 "$work/mtasd.log"; fi
exit $((fails > 0))
