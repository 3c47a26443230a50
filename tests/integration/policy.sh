#!/usr/bin/env bash
# Policy matrix (spec §6) against a real DNS server: each published mtas=
# value × (no signature, pass, partial, fail, temperror) -> the decision,
# plus policy lookup failures and local overrides.
#   policy.sh MTAS SOURCE_DIR
set -uo pipefail
mtas="$1"; root="$2"
command -v nsd >/dev/null || { echo "missing nsd (scripts/test-deps.sh installs it)"; exit 1; }
. "$root/tests/integration/lib.sh"
msg="$root/examples/messages/mixed-attachment.eml"

# One domain per policy value; each has a signer mx.<domain> with a KEY record.
domains=(nopolicy ignore testing verify required)
{
  soa policy.test.
  for d in "${domains[@]}"; do
    signer="mx.$d.policy.test"
    "$mtas" keygen --algorithm ed25519 --signer "$signer" --selector s1 --out "$work/keys/$d" >/dev/null
    grep -v '^;' "$work/keys/$d/s1.zone"
    case $d in
      nopolicy) echo "$d.policy.test. 300 IN TXT \"v=spf1 -all\"" ;;
      testing) echo "$d.policy.test. 300 IN TXT \"v=spf1 mx -all mtas=test\"" ;;
      *) echo "$d.policy.test. 300 IN TXT \"v=spf1 mx -all mtas=$d\"" ;;
    esac
  done
  # Policy permerrors: an unknown value, and two SPF records.
  echo 'bad.policy.test. 300 IN TXT "v=spf1 -all mtas=maybe"'
  echo 'twice.policy.test. 300 IN TXT "v=spf1 -all mtas=required"'
  echo 'twice.policy.test. 300 IN TXT "v=spf1 mx -all"'
} >"$work/policy.test.zone"
{ soa parent.test.; echo 'parent.test. 300 IN TXT "v=spf1 -all mtas=required"'; } >"$work/parent.test.zone"
start_nsd "$work" policy.test:policy.test.zone parent.test:parent.test.zone || exit 1
closed=$(free_port)

# make CASE DOMAIN -> $work/m.eml
make_case() {
  local case="$1" d="$2" signer="mx.$2.policy.test" services="domain:key:email s1._certs"
  sed "s/^From: Alice Example <alice@example.com>/From: Alice Example <alice@$d.policy.test>/" "$msg" >"$work/in.eml"
  [ "$case" = temperror ] && services="http:download:der _certs s1.der"
  if [ "$case" = none ]; then cp "$work/in.eml" "$work/m.eml"; return; fi
  "$mtas" sign --key "$work/keys/$d/s1.key.pem" --signer "$signer" --services "$services" "$work/in.eml" "$work/m.eml"
  case $case in
    partial) sed -i 's/^Subject: .*/Subject: Changed on the way/' "$work/m.eml" ;;  # an unexplained change
    additions) sed -i 's/^Subject: /Subject: [list] /' "$work/m.eml" ;;  # recovered with additions only
    fail) sed -i 's/^From: Alice Example/From: Mallory Example/' "$work/m.eml" ;;
  esac
}

decide() {  # -> prints the decision of $work/m.eml
  "$mtas" verify --policy --json --resolver "127.0.0.1:$dns_port" --timeout 2000 \
    --connect-to "mx.$1.policy.test:80:127.0.0.1:$closed" "${@:2}" "$work/m.eml" >"$work/r.json" 2>"$work/err"
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["policy"]["decision"])' "$work/r.json" 2>/dev/null ||
    { echo "?"; cat "$work/err"; }
}

expect() {  # DOMAIN CASE WANT [extra verify options]
  make_case "$2" "$1"
  local got
  got=$(decide "$1" "${@:4}")
  if [ "$got" = "$3" ]; then
    printf 'ok: %-9s %-9s -> %s\n' "$1" "$2" "$got"
  else
    fail "$1 $2: decision $got, want $3"
    python3 -m json.tool "$work/r.json" | grep -E '"(result|reason|decision|policy|error)"' | head -12
  fi
}

#            policy    none    pass    partial     additions          fail    temperror
matrix=(
  "nopolicy  accept    accept  accept      accept             accept  accept"
  "ignore    accept    accept  accept      accept             accept  accept"
  "testing   accept    accept  accept      accept             accept  accept"
  "verify    accept    accept  quarantine  accept-with-edits  reject  tempfail"
  "required  reject    accept  quarantine  quarantine         reject  tempfail"
)
for row in "${matrix[@]}"; do
  read -r d w_none w_pass w_partial w_additions w_fail w_temp <<<"$row"
  expect "$d" none "$w_none"
  expect "$d" pass "$w_pass"
  expect "$d" partial "$w_partial"
  expect "$d" additions "$w_additions"
  expect "$d" fail "$w_fail"
  expect "$d" temperror "$w_temp"
done
# The additions class, set locally: for every domain, and for one.
printf 'additions accept\n' >"$work/local.conf"
expect required additions accept-with-edits --policy-file "$work/local.conf"
printf 'additions verify.policy.test reject\n' >"$work/local.conf"
expect verify additions reject --policy-file "$work/local.conf"
expect verify partial quarantine --policy-file "$work/local.conf"
make_case additions verify
"$mtas" verify --policy --resolver "127.0.0.1:$dns_port" --add-header mx.example.net "$work/m.eml" \
  >"$work/with-fields.eml" 2>/dev/null
tr -d '\r' <"$work/with-fields.eml" | sed -n '/^MTAS-VerificationInfo/,/^[^ ]/p' | tr -d '\n' >"$work/info.txt"
grep -q 'edits=subject-tagged:Subject' "$work/info.txt" || fail "MTAS-VerificationInfo lacks edits=subject-tagged:Subject"

# The published policy shows in the JSON and the result header.
make_case pass required
decide required >/dev/null
grep -q '"applied": "required"' "$work/r.json" || fail "applied policy not reported"
"$mtas" verify --policy --resolver "127.0.0.1:$dns_port" --add-header mx.example.net "$work/m.eml" 2>/dev/null |
  tr -d '\r' | grep -A3 '^MTAS-VerificationInfo' | grep -q 'policy=required' || fail "MTAS-VerificationInfo lacks policy=required"

# A policy permerror is not a message error: the policy is ignored.
for d in bad twice; do
  sed "s/alice@example.com/alice@$d.policy.test/" "$msg" >"$work/m.eml"
  got=$(decide "$d")
  [ "$got" = accept ] || fail "policy permerror at $d.policy.test: decision $got, want accept"
  grep -q '(ignored)' "$work/r.json" || fail "policy permerror at $d.policy.test not reported"
done
# A parent domain's policy covers its subdomains (up to the organisational domain).
sed "s/alice@example.com/alice@news.parent.test/" "$msg" >"$work/m.eml"
got=$(decide parent)
[ "$got" = reject ] || fail "parent policy: decision $got, want reject"
# The From domain's policy cannot be read (nsd refuses the zone it does not
# serve): unsigned mail is accepted with the reason named (on-policy-error
# accept, the default), deferred under on-policy-error tempfail; a failing
# signature of the domain itself is deferred either way.
sed "s/alice@example.com/alice@unserved.example/" "$msg" >"$work/m.eml"
got=$(decide unserved)
[ "$got" = accept ] || fail "unknown policy, unsigned: decision $got, want accept"
grep -q 'accepted (on-policy-error accept' "$work/r.json" || fail "unknown policy accepted without the reason"
printf 'on-policy-error tempfail\n' >"$work/ope.conf"
got=$(decide unserved --policy-file "$work/ope.conf")
[ "$got" = tempfail ] || fail "unknown policy, unsigned, on-policy-error tempfail: decision $got, want tempfail"
grep -q '"smtp_reply": "451 4.7.1' "$work/r.json" || fail "tempfail without a 4.7.1 reply"
"$mtas" keygen --algorithm ed25519 --signer mx.unserved.example --selector s1 --out "$work/keys/unserved" >/dev/null
sed "s/alice@example.com/alice@unserved.example/" "$msg" >"$work/in.eml"
"$mtas" sign --key "$work/keys/unserved/s1.key.pem" --signer mx.unserved.example "$work/in.eml" "$work/m.eml"
sed -i 's/^From: Alice Example/From: Mallory Example/' "$work/m.eml"
got=$(decide unserved --key-file "mx.unserved.example=$work/keys/unserved/s1.crt.pem")
[ "$got" = tempfail ] || fail "unknown policy, own signature failing: decision $got, want tempfail"

# Local overrides.
printf '# local policy\nnopolicy.policy.test required\npartial reject\n' >"$work/local.conf"
expect nopolicy none reject --policy-file "$work/local.conf"
expect verify partial reject --policy-file "$work/local.conf"
printf 'partial accept\n' >"$work/local.conf"
expect verify partial accept --policy-file "$work/local.conf"
grep -q '"smtp_reply": ""' "$work/r.json" || fail "accept with an SMTP reply"
make_case fail verify
decide verify >/dev/null
grep -q '"smtp_reply": "550 5.7.1' "$work/r.json" || fail "reject without a 5.7.1 reply"

[ "$fails" = 0 ] && echo "policy: all checks passed"
exit "$fails"
