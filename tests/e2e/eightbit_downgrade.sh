#!/usr/bin/env bash
# End to end: Postfix's own 8BITMIME downgrade (RFC 6152). Postfix A signs
# through mtasd and relays each message to two SMTP sinks on 127.0.0.1: one
# that does not announce 8BITMIME, so Postfix (disable_mime_output_conversion
# = no, the default) converts the 8bit parts to quoted-printable, and one that
# announces it (no conversion). Both copies come from one transaction, so they
# carry the same signature. The downgraded copy must still `pass`, with the
# note "re-encoded: part N 8bit->quoted-printable" per converted part; the
# other copy passes without any re-encoding. A 7bit message is the control.
# mtasd's auto carrier is the header carrier; a second key (envelope sender
# @body.example.com) signs the multipart message in a body entity too.
#   eightbit_downgrade.sh MTAS MTASD SOURCE_DIR
# MTAS_E2E_OUT=DIR keeps, for each copy that does not do as expected, the
# verify JSON and the message pair (as signed / as received) in DIR.
set -uo pipefail
mtas="$1"; mtasd="$2"; root="$3"
command -v postfix >/dev/null || { echo "missing postfix (scripts/test-deps.sh installs it)"; exit 1; }
. "$root/tests/e2e/lib_postfix.sh"
out="${MTAS_E2E_OUT:-}"

A_SMTP=$(free_port); A_MILTER=$(free_port); SINK7=$(free_port); SINK8=$(free_port)
"$mtas" keygen --algorithm ed25519 --signer mail.example.com --selector a --out "$work/keys" >/dev/null

# ---- the sinks: 7 (no 8BITMIME) gets bob@example.net, 8 (8BITMIME) carol@example.org
# (smtp_sink.py refuses BODY=8BITMIME when it did not announce 8BITMIME.)
for s in 7 8; do
  port=$([ $s = 7 ] && echo "$SINK7" || echo "$SINK8")
  opt=(); [ $s = 7 ] && opt=(--no-8bitmime)
  python3 "$root/tests/e2e/smtp_sink.py" "$port" "$work/sink$s" "${opt[@]}" >"$work/sink$s.log" 2>&1 &
  pids+=($!)
done

# ---- hop A: mtasd signs (the key pinned for the verifier), Postfix relays --------
printf 'a %s mail.example.com services="domain:key:email a._certs"\n' "$work/keys/a.key.pem" >"$work/a.keys"
printf 'b %s mail.example.com services="domain:key:email a._certs" carrier=body\n' "$work/keys/a.key.pem" >>"$work/a.keys"
printf 'body.example.com b\n* a\n' >"$work/a.signing"  # envelope sender @body.example.com: body carrier
write_mtasd A sign "inet:$A_MILTER@127.0.0.1" mail.example.com "KeyTable $work/a.keys" "SigningTable $work/a.signing" \
  "PinnedKey mail.example.com $work/keys/a.crt.pem"
"$mtasd" -n -c "$work/A.conf" >/dev/null || { echo "mtasd -n refused A.conf"; exit 1; }
start_mtasd A
make_postfix A "$A_SMTP" "$A_MILTER" "$SINK7"
printf 'transport_maps = inline:{ example.org=smtp:[127.0.0.1]:%s }\n' "$SINK8" >>"$work/pf-A/main.cf"
postconf -c "$work/pf-A" -h disable_mime_output_conversion | grep -qx no || fail "disable_mime_output_conversion is not 'no'"
postfix -c "$work/pf-A" reload >/dev/null 2>&1
for s in 7 8; do
  for _ in $(seq 50); do grep -q ready "$work/sink$s.log" && break; sleep 0.1; done
  grep -q ready "$work/sink$s.log" || { echo "smtp_sink.py did not start"; cat "$work/sink$s.log"; exit 1; }
done
sleep 1

# ---- the messages (CRLF), one file each ------------------------------------------
python3 - "$work" <<'PY'
import sys
work = sys.argv[1]
def msg(tag, subject, head, body):
    h = ("From: Alice Example <alice@example.com>\r\n"
         "To: Bob Example <bob@example.net>, Carol Example <carol@example.org>\r\n"
         "Subject: %s\r\nDate: Tue, 17 Mar 2026 18:30:40 +0100\r\n"
         "Message-ID: <eb-%s@example.com>\r\nMIME-Version: 1.0\r\n" % (subject, tag))
    open("%s/%s.eml" % (work, tag), "wb").write(h.encode() + head.encode() + b"\r\n" + body.encode())
utf8 = ("Hallo Bob,\r\n\r\nviele Grüße aus Köln! Größere Anhänge über 25 MB werden abgewiesen.\r\n"
        "Καλημέρα από την Αθήνα.\r\n日本語のテストです。\r\nEmoji: 👋 📬 ✅\r\n\r\nJürgen\r\n")
msg("single", "single part, 8bit utf-8",
    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n", utf8)
html = ("<html><body><p>Grüße aus Köln – <b>Straße</b> &amp; Café</p>\r\n"
        "<p>日本語のテスト</p></body></html>\r\n")
for tag in ("multipart", "multipart_hdr"):
  msg(tag, "multipart, 8bit text and html",
    'Content-Type: multipart/mixed; boundary="eb-boundary-1"\r\n',
    "This is a multi-part message in MIME format.\r\n\r\n--eb-boundary-1\r\n"
    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + utf8 +
    "\r\n--eb-boundary-1\r\n"
    "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + html +
    "\r\n--eb-boundary-1--\r\n")
long_line = ("Diese Zeile ist länger als sechsundsiebzig Zeichen: Größenordnung, Übermäßigkeit, "
             "Äquivalenz, Öffentlichkeit, Überschuss = 100 % – und noch ein wenig mehr Text dazu.")
assert len(long_line) > 76
msg("longline", "long 8bit line, trailing spaces",
    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n",
    "Grüße,\r\n\r\n" + long_line + "\r\n"
    "Zeile mit Leerzeichen am Ende   \r\n"
    "Zeile mit Tabulator am Ende\t\r\n"
    "Ümlaut und ein Leerzeichen \r\n"
    + "x" * 60 + "ä" * 20 + "  \r\n"
    "\r\nJürgen\r\n")
msg("control", "7bit control",
    "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n",
    "Hello Bob,\r\n\r\nplain ASCII, nothing to convert.\r\n\r\nAlice\r\n")
PY

# One transaction per message, to both sinks: the two copies share one signature.
# CASE:CARRIER (the carrier mtasd is to use)
cases=(single:header multipart:body multipart_hdr:header longline:header control:header)
for cc in "${cases[@]}"; do
  c=${cc%%:*}; sender=alice@example.com; [ "$c" = multipart ] && sender=alice@body.example.com
  python3 - "$work/$c.eml" "$A_SMTP" "$sender" <<'PY' || fail "$c: SMTP send"
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[2]), timeout=30) as s:
    s.sendmail(sys.argv[3], ["bob@example.net", "carol@example.org"], open(sys.argv[1], "rb").read())
PY
done

# received SINK TAG -> the file of that message in the sink, waiting up to 30 s
received() {
  local f
  for _ in $(seq 150); do
    f=$(grep -l "^Message-ID: <eb-$2@example.com>" "$work/sink$1/"*.eml 2>/dev/null | head -1)
    [ -n "$f" ] && { echo "$f"; return 0; }
    sleep 0.2
  done
  return 1
}

pins=(--no-network --key-file "mail.example.com=$work/keys/a.crt.pem")
for cc in "${cases[@]}"; do
  c=${cc%%:*}; carrier=${cc#*:}
  f7=$(received 7 "$c") || { fail "$c: not received by the sink without 8BITMIME"; tail -5 "$work/pf-A/maillog"; continue; }
  f8=$(received 8 "$c") || { fail "$c: not received by the sink with 8BITMIME"; tail -5 "$work/pf-A/maillog"; continue; }
  for s in 7 8; do
    f=$([ $s = 7 ] && echo "$f7" || echo "$f8")
    "$mtas" verify --json "${pins[@]}" "$f" >"$work/$c-$s.json" 2>"$work/$c-$s.err"; st=$?
    expect=kept; [ $s = 7 ] && [ "$c" != control ] && expect=downgraded
    if ! python3 - "$c" "$carrier" "$expect" "$st" "$work/$c.eml" "$f8" "$f" "$work/$c-$s.json" <<'PY'; then
import email, email.policy, json, re, sys
case, carrier, expect, status, sent_f, signed_f, got_f, json_f = sys.argv[1:]
def leaves(m, path=""):
    """(IMAP path, Content-Transfer-Encoding) of each leaf part."""
    if m.is_multipart():
        out = []
        for i, p in enumerate(m.get_payload(), 1):
            out += leaves(p, "%s.%d" % (path, i) if path else str(i))
        return out
    return [(path or "1", (m.get("Content-Transfer-Encoding") or "7bit").strip().lower())]
parse = lambda f: email.message_from_bytes(open(f, "rb").read(), policy=email.policy.compat32)
sent, got = parse(sent_f), parse(got_f)
errors = []
# 1. the transport: did Postfix convert (or leave) each part as expected?
sent_l, got_l = leaves(sent), leaves(got)
if [p for p, _ in sent_l] != [p for p, _ in got_l]:
    errors.append("part tree differs: sent %s, received %s" % (sent_l, got_l))
want = {p: ("quoted-printable" if expect == "downgraded" and cte == "8bit" else cte) for p, cte in sent_l}
for p, cte in got_l:
    if want.get(p) != cte:
        errors.append("part %s: Content-Transfer-Encoding %s, want %s" % (p, cte, want.get(p)))
# the decoded text is what was sent
for a, b in zip([m for m in sent.walk() if not m.is_multipart()], [m for m in got.walk() if not m.is_multipart()]):
    if a.get_payload(decode=True).replace(b"\r\n", b"\n") != b.get_payload(decode=True).replace(b"\r\n", b"\n"):
        errors.append("decoded content of a %s part differs" % a.get_content_type())
# 2. the verdict
try:
    report = json.load(open(json_f))
except ValueError as e:
    report = {}
    errors.append("verify printed no JSON (exit %s): %s" % (status, e))
sigs = report.get("signatures", [])
notes = list(report.get("notes", [])) + [n for s in sigs for n in s.get("notes", [])]
if status != "0" or report.get("result") != "pass":
    errors.append("verify: exit %s, result %r" % (status, report.get("result")))
if len(sigs) != 1 or sigs[0].get("signer") != "mail.example.com":
    errors.append("want one signature by mail.example.com, got %s" % [s.get("signer") for s in sigs])
for s in sigs:
    if s.get("carrier") != carrier:
        errors.append("hop %s: carrier %r, want %s" % (s.get("hop"), s.get("carrier"), carrier))
    if s.get("result") != "pass":
        errors.append("hop %s: result %r, reason %r" % (s.get("hop"), s.get("result"), s.get("reason")))
    parts = {p["path"]: p for p in s.get("parts", [])}
    for p, cte in sent_l:
        st = parts.get(p, {})
        if want[p] != cte:
            if st.get("status") != "re-encoded" or st.get("reencoded") != cte + "->" + want[p]:
                errors.append("part %s: status %r reencoded %r, want re-encoded %s->%s"
                              % (p, st.get("status"), st.get("reencoded"), cte, want[p]))
            if not any(re.search(r"re-encoded:.*\bpart %s %s->%s" % (re.escape(p), cte, want[p]), n) for n in notes):
                errors.append("no note 're-encoded: part %s %s->%s' in %s" % (p, cte, want[p], notes))
        elif st.get("status") != "same":
            errors.append("part %s: status %r, want same" % (p, st.get("status")))
if expect == "kept" and any("re-encoded" in n for n in notes):
    errors.append("a re-encoding note for an unconverted copy: %s" % notes)
label = "%s (%s carrier), %s copy" % (case, carrier, expect if case != "control" else
                                     "control, %s" % ("no-8BITMIME" if got_f != signed_f else "8BITMIME"))
if errors:
    print("FAIL: %s (%s):" % (label, got_f))
    for e in errors:
        print("   ", e)
    for s in sigs:
        print("    verify: result=%s reason=%r content_intact=%s notes=%s" % (s.get("result"), s.get("reason"), s.get("content_intact"), s.get("notes")))
        print("    parts:", json.dumps(s.get("parts")))
        print("    headers changed:", json.dumps([h for h in s.get("headers", []) if h.get("status") != "same"]))
    sys.exit(1)
ctes = ", ".join("%s %s" % (p, c) for p, c in got_l)
print("ok: %s: %s; verify pass%s" % (label, ctes, ("; notes: %s" % "; ".join(notes)) if notes else ", no notes"))
PY
      fails=$((fails + 1))
      if [ -n "$out" ]; then
        d="$out/$c-$([ $s = 7 ] && echo no8bitmime || echo 8bitmime)"
        mkdir -p "$d"
        cp "$work/$c.eml" "$d/submitted.eml"; cp "$f8" "$d/signed.eml"; cp "$f" "$d/received.eml"
        cp "$work/$c-$s.json" "$d/verify.json"; cp "$work/$c-$s.err" "$d/verify.stderr"
        echo "    kept in $d"
      fi
    fi
  done
  # Undoing the downgrade: hop 1's original, rebuilt from the downgraded
  # copy, has the body of the copy that was never converted, byte for byte.
  [ "$c" = control ] && continue
  if ! "$mtas" verify "${pins[@]}" --restore 1 "$work/$c-restored.eml" "$f7" >/dev/null 2>"$work/$c-restore.err"; then
    fail "$c: --restore 1 failed: $(cat "$work/$c-restore.err")"
  elif ! cmp -s <(sed '1,/^\r\?$/d' "$work/$c-restored.eml") <(sed '1,/^\r\?$/d' "$f8"); then
    fail "$c: the restored body is not the 8bit one"
    diff <(sed '1,/^\r\?$/d' "$work/$c-restored.eml") <(sed '1,/^\r\?$/d' "$f8") | head -10
  else
    echo "ok: $c: --restore 1 gives back the 8bit body"
  fi
done

kill -0 "${mtasd_pid[A]}" 2>/dev/null || fail "mtasd A died"
grep -q "qid=" "$work/mtasd-A.log" || fail "mtasd A logged no signing"
[ "$fails" = 0 ] && echo "8bit downgrade: all checks passed"
exit "$fails"
