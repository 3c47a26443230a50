#!/usr/bin/env bash
# End to end: a key rotation under load, as `mtas keygen --rotate` prints
# it, with real Postfix instances. Postfix S signs through mtasd S (Mode
# sign) and relays to Postfix R, whose mtasd R verifies with keys from DNS
# (nsd on 127.0.0.1) and delivers to a maildir. While four SMTP clients send
# without pause, the test follows the printed steps: publish the new key's
# records, reload mtasd S with old and new key signing together, wait for
# `mtas dns-record --check --config` to see every key, reload with the new
# key alone. Every message sent must be delivered, and with mtas=pass from
# R: none unsigned, none failed. The old key is RSA, the new one Ed25519 (a
# move to the smaller key): each delivered message says which keys signed
# it, and all three phases must have carried mail. After the load, the old
# key's records are withdrawn and new mail still passes.
#   key_rotation.sh MTAS MTASD SOURCE_DIR
# shellcheck disable=SC1091,SC2154  # work, dns_port, mtasd_pid: set by lib_postfix.sh and lib.sh
set -uo pipefail
mtas="$1"; mtasd="$2"; root="$3"
command -v postfix >/dev/null || { echo "missing postfix (scripts/test-deps.sh installs it)"; exit 1; }
command -v nsd >/dev/null || { echo "missing nsd (scripts/test-deps.sh installs it)"; exit 1; }
. "$root/tests/e2e/lib_postfix.sh"

signer=mail.example.org
S_SMTP=$(free_port); R_SMTP=$(free_port); S_MILTER=$(free_port); R_MILTER=$(free_port)

# ---- the old key, published; the zone file is rewritten for each step --------------
"$mtas" keygen --algorithm rsa2048 --signer "$signer" --selector old --out "$work/keys" >/dev/null
old_services=$(sed -n 's/^; Sign with: --services "\(.*\)"$/\1/p' "$work/keys/old.zone")
publish() {  # ZONE-FILES... -> the zone served, nsd told to reload it
  { soa example.org.; cat "$@"; } >"$work/example.org.zone"
  [ -f "$work/nsd.pid" ] && kill -HUP "$(cat "$work/nsd.pid")"
  return 0
}
publish "$work/keys/old.zone"
start_nsd "$work" example.org:example.org.zone || exit 1

# ---- mtasd S signs with the KeyTable; mtasd R verifies over DNS --------------------
printf 's %s %s services="%s"\n' "$work/keys/old.key.pem" "$signer" "$old_services" >"$work/S.keys"
write_mtasd S sign "inet:$S_MILTER@127.0.0.1" "$signer" "KeyTable $work/S.keys" "Network yes" \
  "Resolver 127.0.0.1:$dns_port" "Timeout 3000"
write_mtasd R verify "inet:$R_MILTER@127.0.0.1" mx.example.net "InternalHosts 192.0.2.1" \
  "Resolver 127.0.0.1:$dns_port" "Timeout 3000"
sed -i '/^Network no$/d' "$work/S.conf" "$work/R.conf"  # these two look keys up
for h in S R; do
  "$mtasd" -n -c "$work/$h.conf" >/dev/null || { echo "mtasd -n refused $h.conf"; "$mtasd" -n -c "$work/$h.conf"; exit 1; }
  start_mtasd "$h"
done
make_postfix S "$S_SMTP" "$S_MILTER" "$R_SMTP"
make_postfix R "$R_SMTP" "$R_MILTER" deliver
sleep 1

# ---- the load: four clients, each sending until told to stop ------------------------
cat >"$work/load.py" <<'PY'
import os, smtplib, sys, threading, time
port, stop_file, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
sent, failed, lock = [], [], threading.Lock()
def client(n):
    i = 0
    while not os.path.exists(stop_file):
        i += 1
        mid = "rot-%d-%d@example.org" % (n, i)
        msg = ("From: Alice <alice@example.org>\r\nTo: Bob <bob@example.net>\r\nSubject: rotation %d/%d\r\n"
               "Date: Sun, 6 Dec 2026 12:00:00 +0000\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\n"
               "Content-Type: text/plain; charset=us-ascii\r\n\r\nMessage %d of client %d.\r\n" % (n, i, mid, i, n))
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
                s.sendmail("alice@example.org", ["bob@example.net"], msg)
            with lock:
                sent.append(mid)
        except Exception as e:
            with lock:
                failed.append("%s: %s" % (mid, e))
        time.sleep(0.02)
threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
for t in threads: t.start()
for t in threads: t.join()
with open(out, "w") as f:
    f.write("\n".join(sent) + "\n")
for line in failed: print("refused:", line)
sys.exit(1 if failed else 0)
PY
python3 "$work/load.py" "$S_SMTP" "$work/stop" "$work/sent" >"$work/load.out" 2>&1 &
load_pid=$!
sleep 3

# ---- the rotation, step by step as keygen --rotate prints it -------------------------
"$mtas" keygen --rotate s --config "$work/S.conf" --selector new --algorithm ed25519 --out "$work/keys" >"$work/rotate.out" \
  || { fail "keygen --rotate"; cat "$work/rotate.out"; }
grace=$(grep '^s ' "$work/rotate.out" | sed -n 1p); final=$(grep '^s ' "$work/rotate.out" | sed -n 2p)
echo "grace KeyTable line: $grace"
echo "final KeyTable line: $final"
case "$grace" in *"key=$work/keys/new.key.pem"*) ;; *) fail "the grace line does not add the new key";; esac
case "$final" in "s $work/keys/new.key.pem $signer "*) ;; *) fail "the final line does not sign with the new key alone";; esac
# 1. publish the new key's records
publish "$work/keys/old.zone" "$work/keys/new.zone"
# 2. sign with both
printf '%s\n' "$grace" >"$work/S.keys"
"$mtasd" -n -c "$work/S.conf" >/dev/null || fail "mtasd -n refuses the grace KeyTable"
kill -HUP "${mtasd_pid[S]}"
sleep 3
# 3. until every key is visible from the configured resolver
visible=no
for _ in $(seq 50); do
  if "$mtas" dns-record --check --config "$work/S.conf" >"$work/check.out" 2>&1; then visible=yes; break; fi
  sleep 0.2
done
[ "$visible" = yes ] || { fail "dns-record --check never saw every key"; cat "$work/check.out"; }
grep -q "every key is visible" "$work/check.out" || fail "dns-record --check does not say every key is visible"
# 4. the new key alone
printf '%s\n' "$final" >"$work/S.keys"
"$mtasd" -n -c "$work/S.conf" >/dev/null || fail "mtasd -n refuses the final KeyTable"
kill -HUP "${mtasd_pid[S]}"
sleep 3
touch "$work/stop"
wait "$load_pid" || { fail "the load was refused by Postfix S (a message not accepted)"; cat "$work/load.out"; }
sent=$(grep -c . "$work/sent")
echo "load: $sent messages sent over the rotation"

# ---- every message delivered, each with mtas=pass from R -----------------------------
delivered=0
for _ in $(seq 300); do
  delivered=$(find "$work/pf-R/vmail/bob/new" -type f 2>/dev/null | wc -l)
  [ "$delivered" -ge "$sent" ] && break
  sleep 0.2
done
[ "$delivered" = "$sent" ] || fail "$delivered of $sent messages delivered"
# One pass over the maildir: R's result, and which keys signed (the
# signatureAlgorithm of each SignerInfo, read from the DER); one message of
# each phase is also checked with mtas verify, both keys pinned.
python3 - "$work/pf-R/vmail/bob/new" "$work/phases" <<'PY' || fail "a delivered message did not pass at R"
import base64, os, re, sys
ED25519 = bytes.fromhex("06032b6570")
RSA = bytes.fromhex("06092a864886f70d010101")
bad, out = [], open(sys.argv[2], "w")
for name in sorted(os.listdir(sys.argv[1])):
    path = os.path.join(sys.argv[1], name)
    head = open(path, "rb").read().replace(b"\r\n", b"\n").partition(b"\n\n")[0].decode()
    head = re.sub(r"\n[ \t]+", " ", head)
    ars = re.findall(r"(?im)^Authentication-Results:[ \t]*mx\.example\.net;(.*)$", head)
    if not any(re.search(r"\bmtas=pass\b", a) for a in ars):
        bad.append("%s: %s" % (name, ars))
    b64 = re.search(r"(?im)^MTAS-Signature:.*?\bb=([A-Za-z0-9+/= ]+)", head).group(1)
    der = base64.b64decode(b64.replace(" ", ""))
    algs = sorted(a for a, oid in (("ed25519", ED25519), ("rsa", RSA)) for _ in range(der.count(oid)))
    out.write("%s %s\n" % ("+".join(algs), path))
for line in bad[:5]: print("no mtas=pass from R:", line)
sys.exit(1 if bad else 0)
PY
pins=(--no-network --key-file "$signer=$work/keys/old.crt.pem" --key-file "$signer=$work/keys/new.crt.pem")
cut -d' ' -f1 "$work/phases" | sort | uniq -c | sed 's/^/  signed with: /'
for phase in rsa ed25519+rsa ed25519; do
  f=$(grep "^$phase " "$work/phases" | head -1 | cut -d' ' -f2)
  [ -n "$f" ] || { fail "no delivered message was signed with $phase (the phase carried no mail)"; continue; }
  "$mtas" verify --json "${pins[@]}" "$f" >"$work/one.json" || fail "$phase: mtas verify does not pass $f"
  got=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["signatures"][0]; print("+".join(sorted(x["algorithm"] for x in s["signer_infos"] if x["result"]=="pass")))' "$work/one.json")
  [ "$got" = "$phase" ] || fail "$phase: mtas verify reports the SignerInfos $got"
done

# ---- 5. the old key withdrawn: new mail still passes --------------------------------
publish "$work/keys/new.zone"
sleep 1
"$mtas" dns-record --check --signer "$signer" --services "$old_services" --key-file "$work/keys/old.crt.pem" \
  --resolver "127.0.0.1:$dns_port" >/dev/null 2>&1 && fail "the old key's records are still served after withdrawal"
printf 'From: Alice <alice@example.org>\r\nTo: Bob <bob@example.net>\r\nSubject: after\r\nMessage-ID: <after@example.org>\r\n\r\nafter the rotation\r\n' >"$work/after.eml"
send "$work/after.eml" bob@example.net "$S_SMTP" || fail "the message after the rotation was refused"
after=""
for _ in $(seq 150); do
  after=$(grep -l "^Message-ID: <after@example.org>" "$work/pf-R/vmail/bob/new/"* 2>/dev/null | head -1)
  [ -n "$after" ] && break
  sleep 0.2
done
if [ -z "$after" ]; then
  fail "the message after the rotation was not delivered"
else
  grep -qiE "^Authentication-Results: mx.example.net;.*mtas=pass" "$after" || tr -d '\r' <"$after" | grep -A2 -i "^Authentication-Results: mx.example.net" | grep -q "mtas=pass" \
    || fail "the message after the rotation does not pass at R"
fi
grep -q "configuration reloaded" "$work/mtasd-S.log" || fail "mtasd S did not log its reloads"

[ "$fails" = 0 ] && echo "PASS: $sent messages over a key rotation, all delivered with mtas=pass; three signing phases seen"
exit "$fails"
