#!/usr/bin/env bash
# The mtas command line as users and scripts call it: exit statuses, JSON,
# result headers, files and pipes, one-line errors.
set -uo pipefail
mtas="$1"; root="$2"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fails=0
expect_status() {  # want description command...
  local want="$1" what="$2"; shift 2
  "$@" >"$work/out" 2>"$work/err"; local got=$?
  if [ "$got" != "$want" ]; then
    echo "FAIL: $what: exit $got, want $want"; sed 's/^/  | /' "$work/err" | head -5; fails=$((fails + 1))
  fi
}
msg="$root/examples/messages/mixed-attachment.eml"

expect_status 0 "keygen" "$mtas" keygen --algorithm ed25519 --signer mx.example.com --selector k --out "$work/keys"
[ "$(stat -c %a "$work/keys/k.key.pem")" = 600 ] || { echo "FAIL: key file mode is not 0600"; fails=$((fails + 1)); }
openssl x509 -in "$work/keys/k.crt.pem" -noout -ext subjectAltName | grep -q "DNS:mx.example.com" ||
  { echo "FAIL: certificate has no DNS SAN for the signer"; fails=$((fails + 1)); }
cmp -s <(openssl x509 -in "$work/keys/k.crt.der" -inform DER -outform PEM) "$work/keys/k.crt.pem" ||
  { echo "FAIL: DER and PEM certificates differ"; fails=$((fails + 1)); }
pin=(--key-file "mx.example.com=$work/keys/k.crt.pem")

# Files and pipes give the same verifiable result.
expect_status 0 "sign file to file" "$mtas" sign --key "$work/keys/k.key.pem" --signer mx.example.com "$msg" "$work/s.eml"
"$mtas" sign --key "$work/keys/k.key.pem" --signer mx.example.com <"$msg" >"$work/p.eml" ||
  { echo "FAIL: sign stdin to stdout"; fails=$((fails + 1)); }
# shellcheck disable=SC2002  # the point: input from a pipe, not a file
cat "$work/p.eml" | "$mtas" verify "${pin[@]}" >/dev/null || { echo "FAIL: verify from a pipe"; fails=$((fails + 1)); }

# Exit statuses.
expect_status 0 "verify pass" "$mtas" verify "${pin[@]}" "$work/s.eml"
expect_status 2 "verify unsigned" "$mtas" verify "${pin[@]}" "$msg"
expect_status 6 "verify without a key" "$mtas" verify "$work/s.eml"
sed 's/^Subject: Weekly/Subject: [tag] Weekly/' "$work/s.eml" >"$work/partial.eml"
expect_status 5 "verify partial" "$mtas" verify "${pin[@]}" "$work/partial.eml"
sed 's/^From: Alice Example/From: Mallory/' "$work/s.eml" >"$work/fail.eml"
expect_status 1 "verify fail" "$mtas" verify "${pin[@]}" "$work/fail.eml"
sed 's/^\(X-PostalTracking: MTAS\/1.0 msgid=\)/\1X/' "$work/s.eml" >"$work/perm.eml"
expect_status 4 "verify permerror" "$mtas" verify "${pin[@]}" "$work/perm.eml"
expect_status 64 "unknown option" "$mtas" verify --bogus "$work/s.eml"
expect_status 64 "missing --signer" "$mtas" sign --key "$work/keys/k.key.pem" "$msg"
expect_status 64 "bad carrier" "$mtas" sign --key "$work/keys/k.key.pem" --signer a.example --carrier sideways "$msg"
expect_status 64 "unknown command" "$mtas" frobnicate
expect_status 64 "unreadable key" "$mtas" sign --key "$work/nope.pem" --signer a.example "$msg"
[ "$(wc -l <"$work/err")" = 1 ] || { echo "FAIL: error is not one line"; cat "$work/err"; fails=$((fails + 1)); }
grep -q "nope.pem" "$work/err" || { echo "FAIL: error does not name the file"; fails=$((fails + 1)); }
expect_status 1 "unreadable input" "$mtas" sign --key "$work/keys/k.key.pem" --signer a.example "$work/missing.eml"

# --json has the documented shape.
"$mtas" verify "${pin[@]}" --json "$work/partial.eml" >"$work/r.json"
python3 - "$work/r.json" <<'PY' || fails=$((fails + 1))
import json, sys
r = json.load(open(sys.argv[1]))
assert r["result"] == "partial", r["result"]
s = r["signatures"][0]
for k in ("hop", "msgid", "signer", "carrier", "algorithm", "digest", "result", "reason", "key_method",
          "headers", "parts", "added_parts"):
    assert k in s, k
subject = [h for h in s["headers"] if h["name"] == "Subject"][0]
assert subject["status"] == "changed" and subject["signed_value"].startswith("Subject: Weekly"), subject
assert all(p["status"] == "same" for p in s["parts"]), s["parts"]
assert {"path", "content_type", "status"} <= set(s["parts"][0])
PY

# --add-header prepends the result fields and changes nothing else.
"$mtas" verify "${pin[@]}" --add-header mx.example.net "$work/s.eml" >"$work/h.eml" 2>/dev/null
head -c 22 "$work/h.eml" | grep -q "^MTAS-VerificationInfo:" || { echo "FAIL: no MTAS-VerificationInfo on top"; fails=$((fails + 1)); }
grep -q "^Authentication-Results: mx.example.net;" "$work/h.eml" || { echo "FAIL: no Authentication-Results"; fails=$((fails + 1)); }
grep -q "mtas=pass header.s=mx.example.com" "$work/h.eml" || { echo "FAIL: A-R lacks mtas=pass"; fails=$((fails + 1)); }
tail -c "$(stat -c %s "$work/s.eml")" "$work/h.eml" | cmp -s - "$work/s.eml" ||
  { echo "FAIL: --add-header changed the message"; fails=$((fails + 1)); }
expect_status 0 "verify after --add-header" "$mtas" verify "${pin[@]}" "$work/h.eml"

# inspect lists without keys; --cms and --content write the signed bytes.
expect_status 0 "inspect" "$mtas" inspect "$work/s.eml"
grep -q "mx.example.com" "$work/out" || { echo "FAIL: inspect does not name the signer"; fails=$((fails + 1)); }
expect_status 64 "inspect a missing hop" "$mtas" inspect --cms 9 "$work/s.eml"
"$mtas" inspect --cms 1 "$work/s.eml" | openssl asn1parse -inform DER >/dev/null ||
  { echo "FAIL: inspect --cms is not DER"; fails=$((fails + 1)); }

# --help on every command (exit 0, its own usage on stdout), --version, and
# exit 64 for a usage error, in mtas and mtasd alike.
for c in keygen sign verify trace inspect dns-record; do
  expect_status 0 "$c --help" "$mtas" "$c" --help
  grep -q "^  $c " "$work/out" || { echo "FAIL: $c --help does not show its usage"; fails=$((fails + 1)); }
  expect_status 64 "$c with an unknown option" "$mtas" "$c" --no-such-option
done
for d in x 0 -5 99999999999; do
  expect_status 64 "keygen --days $d" "$mtas" keygen --algorithm ed25519 --signer a.example --selector s --days "$d" \
    --out "$work/days"
done
# Files that cannot be read: the message gives the OS's reason.
expect_status 64 "sign with a missing key" "$mtas" sign --key "$work/nonexistent.pem" --signer a.example "$msg"
grep -q 'nonexistent.pem: No such file or directory' "$work/err" || { echo "FAIL: no OS reason for a missing key"; fails=$((fails + 1)); }
expect_status 64 "verify with a missing policy file" "$mtas" verify --policy --policy-file "$work/nonexistent.policy" \
  --no-network "$work/s.eml"
grep -q 'nonexistent.policy: No such file or directory' "$work/err" ||
  { echo "FAIL: no OS reason for a missing policy file"; fails=$((fails + 1)); }
expect_status 64 "verify with a missing CA file" "$mtas" verify --ca-file "$work/nonexistent.ca" --no-network "$work/s.eml"
grep -q 'nonexistent.ca: No such file or directory' "$work/err" || { echo "FAIL: no OS reason for a missing CA file"; fails=$((fails + 1)); }
expect_status 0 "--version" "$mtas" --version
grep -qE '^mtas [0-9]+\.[0-9]+\.[0-9]+ \(MTAS/' "$work/out" || { echo "FAIL: mtas --version"; fails=$((fails + 1)); }
mtasd="$(dirname "$mtas")/mtasd"
expect_status 0 "mtasd -V" "$mtasd" -V
grep -qE '^mtasd [0-9]+\.[0-9]+\.[0-9]+ ' "$work/out" || { echo "FAIL: mtasd -V"; fails=$((fails + 1)); }
expect_status 0 "mtasd -h" "$mtasd" -h
expect_status 64 "mtasd with an unknown option" "$mtasd" -Z

# An OUTPUT that is not a regular file (a FIFO here; /dev/null alike) is
# written in place, never replaced by a rename.
mkfifo "$work/fifo"
cat "$work/fifo" >"$work/from-fifo.eml" &
reader=$!
"$mtas" sign --key "$work/keys/k.key.pem" --signer mx.example.com "$msg" "$work/fifo" ||
  { echo "FAIL: sign to a FIFO"; fails=$((fails + 1)); }
wait "$reader"
[ -p "$work/fifo" ] || { echo "FAIL: the FIFO was replaced"; fails=$((fails + 1)); }
"$mtas" verify "${pin[@]}" "$work/from-fifo.eml" >/dev/null || { echo "FAIL: what went through the FIFO"; fails=$((fails + 1)); }

# The network libraries are loaded only by a run that needs them
# (docs/performance.md): signing never maps libcurl or libunbound; verifying
# with the network on loads libunbound, and still verifies.
LD_DEBUG=libs "$mtas" sign --key "$work/keys/k.key.pem" --signer mx.example.com "$msg" "$work/ld.eml" 2>"$work/ld"
if grep -qE 'libcurl|libunbound' "$work/ld"; then echo "FAIL: sign loaded a network library"; fails=$((fails + 1)); fi
LD_DEBUG=libs "$mtas" verify "${pin[@]}" --resolver 127.0.0.1:9 --timeout 300 "$work/s.eml" >/dev/null 2>"$work/ld" ||
  { echo "FAIL: verify with the network on"; fails=$((fails + 1)); }
grep -q 'libunbound' "$work/ld" || { echo "FAIL: verify did not load libunbound"; fails=$((fails + 1)); }

# For MTAs without a milter (Exim): a transport filter that must not defer
# what cannot be signed, result fields alone for an ACL, mbox input.
{ printf 'From: Mallory <mallory@example.com>\r\n'; cat "$msg"; } >"$work/two-from.eml"
expect_status 1 "sign refuses two From fields" "$mtas" sign --key "$work/keys/k.key.pem" --signer mx.example.com \
  "$work/two-from.eml"
expect_status 0 "sign --pass-unsigned" "$mtas" sign --key "$work/keys/k.key.pem" --signer mx.example.com \
  --pass-unsigned "$work/two-from.eml" "$work/passed.eml"
cmp -s "$work/two-from.eml" "$work/passed.eml" || { echo "FAIL: --pass-unsigned changed the message"; fails=$((fails + 1)); }
grep -q "passed unsigned: .*From" "$work/err" || { echo "FAIL: --pass-unsigned does not say why"; fails=$((fails + 1)); }
"$mtas" verify "${pin[@]}" --result-fields mx.example.net "$work/partial.eml" >"$work/fields" 2>"$work/report"
grep -v '^[ \t]' "$work/fields" | cut -d: -f1 | sort -u | tr '\n' ' ' | grep -qx 'Authentication-Results MTAS-VerificationInfo ' ||
  { echo "FAIL: --result-fields prints more than the fields"; sed 's/^/  | /' "$work/fields"; fails=$((fails + 1)); }
grep -q 'mtas=partial' "$work/fields" || { echo "FAIL: --result-fields: no mtas=partial"; fails=$((fails + 1)); }
grep -q $'\r' "$work/fields" && { echo "FAIL: --result-fields writes CR"; fails=$((fails + 1)); }
[ -s "$work/report" ] && { echo "FAIL: --result-fields writes to stderr, which Exim reads with the output"; fails=$((fails + 1)); }
{ printf 'From MAILER-DAEMON Sun Dec 06 13:59:59 2026\n'; cat "$work/s.eml"; } >"$work/mbox.eml"
expect_status 0 "verify a message after an mbox From_ line" "$mtas" verify "${pin[@]}" "$work/mbox.eml"
# "From :" is a From field readers show (obs-from), not a separator: never skipped.
{ printf 'From : evil@attacker.example\r\n'; cat "$work/s.eml"; } >"$work/obs-from.eml"
expect_status 4 "a first line 'From :' is a field, not an mbox separator" "$mtas" verify "${pin[@]}" "$work/obs-from.eml"

[ "$fails" = 0 ] && echo "cli behaviour: all checks passed"
exit "$fails"
