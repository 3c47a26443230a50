#!/usr/bin/env bash
# The README's main job runs and shows the three hops and the list's changes.
set -euo pipefail
mtas="$1"; root="$2"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
MTAS_BUILD_DIR="$(dirname "$mtas")" MTAS_DEMO_DIR="$work" bash "$root/scripts/demo.sh" >"$work/out" 2>&1 || {
  cat "$work/out"; exit 1; }
for want in "hop 1  mail.example.com" "partial" "signed: Subject: Weekly relay report (week 10)" \
            "part 4 (text/plain): added" "hop 2  lists.example.org" "hop 3  mx.example.net" "exit status 5"; do
  grep -qF "$want" "$work/out" || { echo "demo output lacks: $want"; cat "$work/out"; exit 1; }
done
# hop 2 and hop 3 passed; hop 2 carried what it saw of hop 1.
[ "$(grep -c '  pass  ' "$work/out")" -ge 3 ] || { echo "expected passing hops 2 and 3"; cat "$work/out"; exit 1; }
"$mtas" verify --json --key-file "lists.example.org=$work/keys/list.crt.pem" "$work/hop3.eml" >"$work/r.json" || true
grep -q '"verification_info": "lists.example.org; msgid=[A-Z0-9]*; signer=mail.example.com; result=pass' "$work/r.json" ||
  { echo "hop 2 lacks its verificationInfo"; exit 1; }
echo "demo: ok"
