#!/usr/bin/env bash
# Mail under a dead name server: mtasd verifies messages from 120 signers
# whose keys nsd serves (each a new lookup: no cache helps) while messages
# from a signer whose name server never answers wait for their deadline.
# The first kind must keep flowing and pass; the second must end in
# temperror. The message rates with and without the dead signer's mail are
# printed (measured, not asserted beyond the absence of head-of-line
# blocking).
#   mtasd_dns_load.sh MTAS MTASD SOURCE_DIR
set -uo pipefail
mtas="$1"; mtasd="$2"; root="$3"
. "$root/tests/integration/lib.sh"
command -v nsd >/dev/null || { echo "missing nsd (scripts/test-deps.sh installs it)"; exit 1; }

signers=120
"$mtas" keygen --algorithm ed25519 --signer mx.dead.test --selector s --out "$work/keys" >/dev/null
key_line=$(awk '/ IN KEY /{getline b; sub(/^[^ ]+ /, ""); print $0 " " b}' "$work/keys/s.zone" | tr -d '()\t')
{
  soa good.test.
  for i in $(seq "$signers"); do echo "s._certs.g$i.good.test. $key_line"; done
} >"$work/good.zone"
{ soa dead.test.; echo "s._certs.mx.dead.test. $key_line"; } >"$work/dead.zone"
start_nsd "$work" good.test:good.zone dead.test:dead.zone || exit 1
relay_port=$(free_port)
python3 "$root/tests/integration/dns_relay.py" "$relay_port" "$dns_port" dead.test &
pids+=($!)

msg="$root/examples/messages/text-plain.eml"
[ -f "$msg" ] || msg=$(find "$root/examples/messages" -name '*.eml' | head -1)
mkdir -p "$work/good" "$work/dead"
for i in $(seq "$signers"); do
  "$mtas" sign --key "$work/keys/s.key.pem" --signer "g$i.good.test" --services "domain:key:email s._certs" \
    --carrier header "$msg" "$work/good/$i.eml" || fail "signing as g$i.good.test"
done
for i in $(seq 8); do
  "$mtas" sign --key "$work/keys/s.key.pem" --signer mx.dead.test --services "domain:key:email s._certs" \
    --carrier header "$msg" "$work/dead/$i.eml" || fail "signing as mx.dead.test"
done

sock="$work/mtasd.sock"
printf '%s\n' "Mode verify" "Socket unix:$sock" "AuthservID mx.example.org" "Syslog no" \
  "Resolver 127.0.0.1:$relay_port" "Timeout 2000" >"$work/mtasd.conf"
"$mtasd" -f -c "$work/mtasd.conf" 2>"$work/mtasd.log" &
pids+=($!)
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
[ -S "$sock" ] || { echo "mtasd did not start"; cat "$work/mtasd.log"; exit 1; }

PYTHONPATH="$root/tests/integration" python3 - "$sock" "$work" "$signers" <<'PY' || fails=$((fails + 1))
import glob, os, sys, threading, time
from milter_client import *

sock, work, signers = sys.argv[1], sys.argv[2], int(sys.argv[3])
failures = []
def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)

def parse(path):
    raw = open(path, "rb").read().replace(b"\r\n", b"\n")
    head, _, body = raw.partition(b"\n\n")
    fields = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1][1] += "\r\n" + line.decode()
        else:
            name, _, value = line.decode().partition(":")
            fields.append([name, value[1:] if value.startswith(" ") else value])
    return [tuple(f) for f in fields], body.replace(b"\n", b"\r\n")

def result(replies):
    for cmd, data in replies:
        if cmd == b"i" and b"Authentication-Results" in data:
            text = data.decode(errors="replace")
            for r in ("pass", "temperror", "fail", "neutral", "permerror", "partial"):
                if "mtas=" + r in text:
                    return r
    return "?"

good = [parse(os.path.join(work, "good", "%d.eml" % i)) for i in range(1, signers + 1)]
dead = [parse(p) for p in sorted(glob.glob(os.path.join(work, "dead", "*.eml")))]

def send_all(messages, results, times):
    m = Milter(sock, timeout=30)
    m.negotiate()
    for headers, body in messages:
        start = time.monotonic()
        results.append(result(m.message(headers, body, client_addr="192.0.2.9")))
        times.append(time.monotonic() - start)
    m.close()

def run(goods, with_dead):
    threads, good_results, good_times, dead_results, dead_times = [], [], [], [], []
    for k in range(4):
        threads.append(threading.Thread(target=send_all, args=(goods[k::4], good_results, good_times)))
    if with_dead:
        for k in range(4):
            threads.append(threading.Thread(target=send_all, args=(dead[k::4], dead_results, dead_times)))
    start = time.monotonic()
    for t in threads: t.start()
    for t in threads[:4]: t.join()
    good_elapsed = time.monotonic() - start
    for t in threads[4:]: t.join()
    return good_results, good_elapsed, dead_results, good_times

half = signers // 2
r1, e1, _, _ = run(good[:half], False)
r2, e2, dead_results, t2 = run(good[half:], True)
print("good mail alone:           %d messages in %.2f s, %.0f/s" % (len(r1), e1, len(r1) / e1))
print("good mail beside dead:     %d messages in %.2f s, %.0f/s" % (len(r2), e2, len(r2) / e2))
print("dead signer's mail:        %s" % sorted(set(dead_results)))
check(r1.count("pass") == len(r1), "good mail alone passes: %s" % sorted(set(r1)))
check(r2.count("pass") == len(r2), "good mail beside the dead signer's passes: %s" % sorted(set(r2)))
check(dead_results and all(r == "temperror" for r in dead_results), "the dead signer's mail is temperror")
# Head-of-line blocking would hold each good message behind a dead one's
# 2 s deadline; most of them must finish well inside it.
quick = sum(1 for t in t2 if t < 1.0)
check(quick >= len(t2) // 2, "%d of %d good messages finished within 1 s while dead lookups waited" % (quick, len(t2)))
sys.exit(1 if failures else 0)
PY
[ "$fails" = 0 ] && echo "mtasd under a dead name server: all checks passed"
exit "$fails"
