#!/usr/bin/env bash
# mtasd as an administrator watches and guards it: the metrics endpoint
# scraped during a load of concurrent sessions and its counters matched to
# the messages sent, the per-message log line, SIGUSR1 statistics, PeerList
# and MaxConnections (tests/integration/milter_client.py speaks for the MTA).
#   mtasd_ops.sh MTAS MTASD SOURCE_DIR
set -uo pipefail
mtas="$1"; mtasd="$2"; root="$3"
. "$root/tests/integration/lib.sh"

"$mtas" keygen --algorithm ed25519 --signer mail.example.org --selector s --out "$work/keys" >/dev/null
printf 's %s mail.example.org\n' "$work/keys/s.key.pem" >"$work/keys.tab"
port=$(free_port); metrics_port=$(free_port)
printf '%s\n' "Mode both" "Socket inet:$port@127.0.0.1" "MetricsSocket inet:$metrics_port@127.0.0.1" \
  "AuthservID mx.example.org" "Syslog no" "Network no" "KeyTable $work/keys.tab" "Carrier header" \
  "PinnedKey mail.example.org $work/keys/s.crt.pem" >"$work/ops.conf"
"$mtasd" -n -c "$work/ops.conf" >/dev/null || { echo "mtasd -n refused ops.conf"; exit 1; }
"$mtasd" -f -c "$work/ops.conf" 2>"$work/ops.log" &
ops_pid=$!
pids+=("$ops_pid")
# A second and a third mtasd: one that admits only 10.0.0.0/8, one that
# serves two connections at a time.
peer_port=$(free_port); limit_port=$(free_port)
printf '%s\n' "Mode verify" "Socket inet:$peer_port@127.0.0.1" "Syslog no" "Network no" "PeerList 10.0.0.0/8" \
  "MetricsSocket inet:$(free_port)@127.0.0.1" >"$work/peer.conf"
printf '%s\n' "Mode verify" "Socket inet:$limit_port@127.0.0.1" "Syslog no" "Network no" "MaxConnections 2" \
  >"$work/limit.conf"
"$mtasd" -f -c "$work/peer.conf" 2>"$work/peer.log" &
pids+=($!)
"$mtasd" -f -c "$work/limit.conf" 2>"$work/limit.log" &
pids+=($!)
for log in ops peer limit; do
  for _ in $(seq 50); do grep -q "listening on" "$work/$log.log" 2>/dev/null && break; sleep 0.1; done
  grep -q "listening on" "$work/$log.log" || { echo "mtasd ($log) did not start"; cat "$work/$log.log"; exit 1; }
done

PYTHONPATH="$root/tests/integration" python3 - "$port" "$metrics_port" "$peer_port" "$limit_port" \
  "$(sed -n 's/^MetricsSocket inet:\([0-9]*\)@.*/\1/p' "$work/peer.conf")" <<'PY' || fails=$((fails + 1))
import re, socket, sys, threading
from milter_client import *

port, metrics_port, peer_port, limit_port, peer_metrics = map(int, sys.argv[1:6])
failures = []
def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)

def scrape(p, path="/metrics"):
    s = socket.create_connection(("127.0.0.1", p), timeout=5)
    s.sendall(("GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n" % path).encode())
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.decode().partition("\r\n\r\n")
    return head.split("\r\n")[0], body

def value(body, name, labels=""):
    m = re.search("^" + re.escape(name + labels) + r" (\S+)$", body, re.M)
    return float(m.group(1)) if m else None

HEADERS = [("From", "Alice <a@example.org>"), ("To", "Bob <b@example.net>"), ("Subject", "ops"),
           ("Date", "Tue, 01 Dec 2026 08:00:00 +0000"), ("Message-ID", "<o1@example.org>")]
BODY = b"Hello Bob.\r\n" * 40

# One message signed here (an internal client), then replayed from outside
# with the fields mtasd added: those pass.
m = Milter(("127.0.0.1", port))
m.negotiate()
replies = m.message(HEADERS, BODY, client_addr="127.0.0.1")
added = []
for cmd, data in replies:
    if cmd == b"i":
        name, value_, _ = data[4:].split(b"\0")
        added.append((name.decode(), value_.decode().lstrip(" ")))
m.close()
signed_headers = list(reversed(added)) + HEADERS if added else HEADERS
check(any(n == "MTAS-Signature" for n, _ in added), "an internal client's message is signed")

INTERNAL, PASSING, UNSIGNED, THREADS = 30, 20, 10, 6
jobs = [("127.0.0.1", HEADERS)] * (INTERNAL - 1) + [("192.0.2.7", signed_headers)] * PASSING + \
       [("192.0.2.8", HEADERS)] * UNSIGNED
lock = threading.Lock()
mid_scrape = {}
def worker(mine):
    conn = Milter(("127.0.0.1", port))
    conn.negotiate()
    for i, (client, headers) in enumerate(mine):
        conn.message(headers, BODY, client_addr=client)
        if i == 2:
            with lock:
                if not mid_scrape:
                    mid_scrape["status"], mid_scrape["body"] = scrape(metrics_port)
    conn.close()
threads = [threading.Thread(target=worker, args=(jobs[t::THREADS],)) for t in range(THREADS)]
for t in threads: t.start()
for t in threads: t.join()
sent = INTERNAL + PASSING + UNSIGNED

check(mid_scrape.get("status", "").endswith("200 OK"), "scraped during the load: " + mid_scrape.get("status", "-"))
during = sum(value(mid_scrape.get("body", ""), "mtasd_messages_total", '{disposition="%s"}' % d) or 0
             for d in ("accepted", "quarantined", "rejected", "tempfailed", "skipped", "error"))
check(0 < during < sent, "during the load: %d of %d messages counted" % (during, sent))
status, body = scrape(metrics_port)
check("# TYPE mtasd_messages_total counter" in body, "Prometheus text format")
accepted = value(body, "mtasd_messages_total", '{disposition="accepted"}')
check(accepted == sent, "messages accepted: %s, sent %d" % (accepted, sent))
# Mode both: what comes from outside is verified and signed again too.
check(value(body, "mtasd_signed_total", '{key="s"}') == sent, "signed with key s: %s, want %d" %
      (value(body, "mtasd_signed_total", '{key="s"}'), sent))
check(value(body, "mtasd_hops_total", '{result="pass"}') == PASSING, "hops passing: %s, want %d" %
      (value(body, "mtasd_hops_total", '{result="pass"}'), PASSING))
check(value(body, "mtasd_message_duration_seconds_count") == sent, "latency histogram count")
check(value(body, "mtasd_message_duration_seconds_bucket", '{le="+Inf"}') == sent, "histogram +Inf bucket")
check(value(body, "mtasd_connections_total") == THREADS + 1, "connections accepted: %s" %
      value(body, "mtasd_connections_total"))
# The sessions end when mtasd reads each close: wait for that, bounded.
import time
open_now = value(body, "mtasd_connections")
for _ in range(100):
    if open_now == 0:
        break
    time.sleep(0.05)
    open_now = value(scrape(metrics_port)[1], "mtasd_connections")
check(open_now == 0, "no connection open at the end: %s" % open_now)
check(scrape(metrics_port, "/other")[0].endswith("404 Not Found"), "other paths: 404")

def refused(p):
    """Whether mtasd closes a new connection on port p without answering its negotiation."""
    s = socket.create_connection(("127.0.0.1", p), timeout=5)
    s.sendall(struct.pack(">I", 13) + b"O" + struct.pack(">III", 6, ALL_ACTIONS, ALL_PROTOCOL))
    try:
        return s.recv(1) == b""
    except OSError:
        return True
    finally:
        s.close()

# PeerList: 127.0.0.1 is not in 10.0.0.0/8, so the connection is closed at once.
check(refused(peer_port), "a peer outside PeerList is refused")
check(value(scrape(peer_metrics)[1], "mtasd_connections_refused_total", '{reason="peer-list"}') == 1,
      "the refusal is counted")

# MaxConnections 2: a third connection is closed; once one ends, one is served again.
a, b = Milter(("127.0.0.1", limit_port)), Milter(("127.0.0.1", limit_port))
a.negotiate(); b.negotiate()
check(refused(limit_port), "a third connection over MaxConnections 2 is refused")
a.close()
import time
served = False
for _ in range(50):
    try:
        d = Milter(("127.0.0.1", limit_port))
        d.negotiate()
        served = True
        d.close()
        break
    except (EOFError, OSError, AssertionError):
        time.sleep(0.1)
check(served, "after one closes, a new connection is served")
b.close()
sys.exit(1 if failures else 0)
PY

# The per-message log line names the client and the key; SIGUSR1 logs the
# statistics and the daemon goes on.
grep -q 'client=127.0.0.1 .*signed=.* key=s ' "$work/ops.log" || fail "no log line with client= and key="
grep -q 'client=192.0.2.7 hop1=pass/[^ ]*/mail.example.org' "$work/ops.log" || fail "no log line with the hop's signer"
kill -USR1 "$ops_pid"
for _ in $(seq 30); do grep -q 'statistics: accepted=60 ' "$work/ops.log" && break; sleep 0.1; done
grep -q 'statistics: accepted=60 ' "$work/ops.log" || fail "SIGUSR1 logged no statistics: $(tail -2 "$work/ops.log")"
kill -0 "$ops_pid" 2>/dev/null || fail "SIGUSR1 ended mtasd"
grep -q 'refused a connection from 127.0.0.1: not in PeerList' "$work/peer.log" || fail "the PeerList refusal is not logged"
grep -q 'refused a connection: MaxConnections 2 are open' "$work/limit.log" || fail "the limit is not logged"
[ "$fails" = 0 ] && echo "mtasd operations: all checks passed"
exit "$fails"
