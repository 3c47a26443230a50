#!/usr/bin/env bash
# End to end through three real Postfix instances on 127.0.0.1, each with
# its own mtasd (spec §8): hop A signs (origin), hop B verifies and
# re-signs — in one scenario as a mailing list that tags the Subject and
# adds a footer —, hop C verifies with policy and delivers to a maildir.
#   postfix_chain.sh MTAS MTASD SOURCE_DIR
set -uo pipefail
mtas="$1"; mtasd="$2"; root="$3"
command -v postfix >/dev/null || { echo "missing postfix (scripts/test-deps.sh installs it)"; exit 1; }
. "$root/tests/e2e/lib_postfix.sh"

A_SMTP=$(free_port); B_SMTP=$(free_port); C_SMTP=$(free_port)
A_MILTER=$(free_port); B_MILTER=$(free_port)
C_MILTER="unix:$work/mtasd-C.sock"  # hop C's milter on a unix socket, A's and B's on TCP

"$mtas" keygen --algorithm ed25519 --signer mail.example.com --selector a --out "$work/keys" >/dev/null
"$mtas" keygen --algorithm ecdsa-p256 --signer lists.example.org --selector b --out "$work/keys" >/dev/null
"$mtas" keygen --algorithm rsa2048 --signer dkim.example.com --selector dk --out "$work/keys" >/dev/null

# ---- mtasd, one per hop ------------------------------------------------------
printf 'a %s mail.example.com services="domain:key:email a._certs"\n' "$work/keys/a.key.pem" >"$work/a.keys"
printf 'b %s lists.example.org\n' "$work/keys/b.key.pem" >"$work/b.keys"
printf '* b\n' >"$work/b.signing"
pinned=("PinnedKey mail.example.com $work/keys/a.crt.pem" "PinnedKey lists.example.org $work/keys/b.crt.pem")
write_mtasd A sign "inet:$A_MILTER@127.0.0.1" mail.example.com "KeyTable $work/a.keys" "${pinned[@]}"
# Hop A's relay reaches B from 127.0.0.1 too: B must count it as external (verify, then re-sign).
write_mtasd B both "inet:$B_MILTER@127.0.0.1" lists.example.org "KeyTable $work/b.keys" "SigningTable $work/b.signing" \
  "InternalHosts 192.0.2.1" "${pinned[@]}"
printf 'example.com verify\nlists.example.org verify\n' >"$work/policy"
# The list may vouch for the changes it makes (subject tag, footer) to mail signed before it.
write_mtasd C verify "$C_MILTER" mx.example.net "PolicyFile $work/policy" "TrustedForwarders lists.example.org" \
  "${pinned[@]}"
for h in A B C; do
  "$mtasd" -n -c "$work/$h.conf" >/dev/null || { echo "mtasd -n refused $h.conf"; exit 1; }
  start_mtasd "$h"
done
chmod 666 "$work/mtasd-C.sock"  # Postfix's smtpd (user postfix) connects to it

make_postfix A "$A_SMTP" "$A_MILTER" "$B_SMTP"
make_postfix B "$B_SMTP" "$B_MILTER" "$C_SMTP"
make_postfix C "$C_SMTP" "$C_MILTER" deliver
# Hop B hosts a mailing list: list@lists.example.org goes through list_pipe.py.
cp "$root/tests/e2e/list_pipe.py" "$root/examples/messages/list-footer.txt" "$work/"
chmod 644 "$work/list_pipe.py" "$work/list-footer.txt"
cat >>"$work/pf-B/master.cf" <<EOF
list unix - n n - - pipe flags=q user=nobody argv=/usr/bin/python3 $work/list_pipe.py $B_SMTP bob@example.net $work/list-footer.txt
EOF
printf 'transport_maps = inline:{ lists.example.org=list: }\n' >>"$work/pf-B/main.cf"
postfix -c "$work/pf-B" reload >/dev/null 2>&1
sleep 1

# wait_delivered N -> the Nth message in C's maildir (oldest first) in $delivered
wait_delivered() {
  for _ in $(seq 300); do
    local files=("$work/pf-C/vmail/bob/new/"*)
    if [ -e "${files[0]}" ] && [ "${#files[@]}" -ge "$1" ]; then
      # shellcheck disable=SC2012  # by delivery time; maildir names are safe
      delivered=$(ls -tr "$work/pf-C/vmail/bob/new/"* | sed -n "${1}p"); return 0
    fi
    sleep 0.2
  done
  echo "message $1 was not delivered in 60 s"; for h in A B C; do echo "--- $h"; tail -5 "$work/pf-$h/maillog"; tail -3 "$work/mtasd-$h.log"; done
  return 1
}
pins=(--no-network --key-file "mail.example.com=$work/keys/a.crt.pem" --key-file "lists.example.org=$work/keys/b.crt.pem")

# ---- scenario 1: relay A -> B -> C ------------------------------------------
sed 's/^To: Bob Example <bob@example.net>/To: Bob Example <bob@example.net>/' "$root/examples/messages/mixed-attachment.eml" >"$work/m1.eml"
send "$work/m1.eml" bob@example.net "$A_SMTP" || fail "scenario 1: SMTP send"
wait_delivered 1 || exit 1
"$mtas" verify --json "${pins[@]}" "$delivered" >"$work/r1.json"; st=$?
[ "$st" = 0 ] || { fail "scenario 1: delivered message does not pass (exit $st)"; cat "$work/r1.json"; }
python3 - "$delivered" "$work/m1.eml" "$work/r1.json" <<'PY' || fail "scenario 1: assertions"
import json, re, sys
got = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n")
sent = open(sys.argv[2], "rb").read().replace(b"\r\n", b"\n")
report = json.load(open(sys.argv[3]))
sigs = report["signatures"]
assert [s["signer"] for s in sigs] == ["mail.example.com", "lists.example.org"], [s["signer"] for s in sigs]
assert all(s["result"] == "pass" for s in sigs), [(s["hop"], s["result"], s["reason"]) for s in sigs]
head, _, body = got.partition(b"\n\n")
unfolded = re.sub(rb"\n[ \t]+", b" ", head).decode()
infos = re.findall(r"(?m)^MTAS-VerificationInfo: (.*)$", unfolded)
ars = re.findall(r"(?m)^Authentication-Results: (.*)$", unfolded)
assert any(i.startswith("lists.example.org;") and "signer=mail.example.com" in i and "result=pass" in i for i in infos), infos
assert sum(i.startswith("mx.example.net;") for i in infos) == 2, infos
assert any("result=pass" in i and "policy=verify" in i for i in infos if i.startswith("mx.example.net;")), infos
assert any(a.startswith("mx.example.net;") and "mtas=pass header.s=mail.example.com" in a for a in ars), ars
# Byte equality of the content: the sent body and header fields are all there, unchanged.
sent_head, _, sent_body = sent.partition(b"\n\n")
assert body.startswith(sent_body.rstrip(b"\n")), "body changed"
for line in sent_head.split(b"\n"):
    assert line in head.split(b"\n"), line
print("scenario 1: relay chain ok, %d signatures pass" % len(sigs))
PY

# ---- scenario 2: hop B is a mailing list ---------------------------------------
printf 'lists.example.org b\n' >"$work/b.signing"   # sign what the list sends
kill -HUP "${mtasd_pid[B]}"; sleep 0.5
grep -q "configuration reloaded" "$work/mtasd-B.log" || fail "mtasd did not log the reload"
send "$work/m1.eml" list@lists.example.org "$A_SMTP" || fail "scenario 2: SMTP send"
wait_delivered 2 || exit 1
"$mtas" verify --json "${pins[@]}" "$delivered" >"$work/r2.json"; st=$?
[ "$st" = 5 ] || fail "scenario 2: want partial (5), got $st"
python3 - "$delivered" "$work/r2.json" <<'PY' || fail "scenario 2: assertions"
import json, re, sys
got = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n")
sigs = json.load(open(sys.argv[2]))["signatures"]
assert [s["signer"] for s in sigs] == ["mail.example.com", "lists.example.org"], [s["signer"] for s in sigs]
h1, h2 = sigs
assert h1["result"] == "partial", h1
assert h2["result"] == "pass", h2
subject = [h for h in h1["headers"] if h["name"] == "Subject"][0]
assert subject["status"] == "changed" and "[example-list]" in subject["current_value"], subject
assert [p["path"] for p in h1["added_parts"]] == ["4"], h1["added_parts"]
assert all(p["status"] == "same" for p in h1["parts"]), h1["parts"]
head = re.sub(rb"\n[ \t]+", b" ", got.partition(b"\n\n")[0]).decode()
infos = re.findall(r"(?m)^MTAS-VerificationInfo: (.*)$", head)
# hop C: hop 1 partial but vouched by the list's passing signature (a trusted forwarder) -> accepted.
assert any(i.startswith("mx.example.net;") and "signer=mail.example.com" in i and "result=partial" in i for i in infos), infos
assert "verification_info" in h2 and "result=partial" in h2["verification_info"], h2.get("verification_info")
print("scenario 2: list chain ok (hop 1 partial, vouched by the list)")
PY

# ---- DKIM coexistence: a DKIM-signed message survives hop B in auto mode --------
printf '* b\n' >"$work/b.signing"; kill -HUP "${mtasd_pid[B]}"; sleep 0.5
openssl pkey -in "$work/keys/dk.key.pem" -out "$work/dk.pkcs1" 2>/dev/null
sed 's/alice@example.com/alice@dkim.example.com/' "$root/examples/messages/mixed-attachment.eml" >"$work/m3.eml"
/usr/bin/python3 - "$work/m3.eml" "$work/keys/dk.key.pem" "$work/m3.signed" <<'PY' || fail "dkim signing"
import dkim, sys
msg = open(sys.argv[1], "rb").read()
sig = dkim.sign(msg, b"dk", b"dkim.example.com", open(sys.argv[2], "rb").read(),
                include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
open(sys.argv[3], "wb").write(sig + msg)
PY
send "$work/m3.signed" bob@example.net "$B_SMTP" || fail "dkim: SMTP send"
wait_delivered 3 || exit 1
txt=$(grep -h "IN TXT" "$work/keys/dk.zone" | sed 's/.*( *//; s/ *)$//; s/" "//g; s/"//g')
/usr/bin/python3 - "$delivered" "$txt" <<'PY' || fail "DKIM signature broken by hop B"
import dkim, sys
msg = open(sys.argv[1], "rb").read()
txt = sys.argv[2].encode()
ok = dkim.verify(msg, dnsfunc=lambda name, timeout=5: txt)
assert ok, "dkimverify failed"
assert b"\nMTAS-Signature: " in msg or msg.startswith(b"MTAS-Signature: ") or b"MTAS-Signature:" in msg, "hop B did not use the header carrier"
print("DKIM coexistence ok: DKIM still verifies after hop B signed (header carrier)")
PY

# ---- a malformed signature is judged by policy, never a crash ---------------------
sed 's/^Subject: /X-PostalTracking: MTAS\/1.0 msgid=BROKEN000001\r\nMTAS-Signature: msgid=BROKEN000001; b=AAAA\r\nSubject: /' \
  "$root/examples/messages/mixed-attachment.eml" >"$work/m4.eml"
send "$work/m4.eml" bob@example.net "$C_SMTP" 2>"$work/send4.err"
if grep -q "5.7.1" "$work/send4.err"; then echo "malformed signature rejected by policy"; else wait_delivered 4 >/dev/null || fail "malformed: neither delivered nor rejected"; fi
for h in A B C; do kill -0 "${mtasd_pid[$h]}" 2>/dev/null || fail "mtasd $h died"; done

grep -h "qid=" "$work"/mtasd-*.log | head -8
[ "$fails" = 0 ] && echo "postfix chain: all checks passed"
exit "$fails"
