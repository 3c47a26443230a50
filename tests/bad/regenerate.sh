#!/usr/bin/env bash
# Rebuilds the committed cases in tests/bad/cases: writes the unsigned base
# messages, signs them with the committed test key (faketime for the signature
# from the future), then writes every case with make_cases.py. Signatures get
# a fresh msgid and signing time, so every signed case changes; expected.tsv
# does not depend on those bytes.
#   usage: tests/bad/regenerate.sh MTAS_BINARY
set -euo pipefail
mtas="$1"; here=$(cd "$(dirname "$0")" && pwd)
command -v faketime >/dev/null || { echo "faketime is required (Debian package faketime)"; exit 1; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
key="$here/keys/k.key.pem"
s="$work/signed"; mkdir "$s"
sign() { "$mtas" sign --key "$key" --signer bad.example "$@"; }

python3 "$here/make_cases.py" bases "$work"
sign --carrier body "$work/base-mixed.eml" "$s/signed-body.eml"
sign --carrier header "$work/base-mixed.eml" "$s/signed-header.eml"
sign "$work/base-plain.eml" "$s/signed-plain.eml"
sign "$work/base-mixed-lf.eml" "$s/signed-lf.eml"
sign "$s/signed-body.eml" "$s/signed-two-hops.eml"
faketime '2099-06-01 12:00:00' "$mtas" sign --key "$key" --signer bad.example "$work/base-mixed.eml" "$s/signed-future.eml"
"$mtas" sign --key "$key" --signer other.example "$work/base-mixed.eml" "$s/signed-other-signer.eml"
"$mtas" keygen --algorithm ed25519 --signer bad.example --selector x --out "$work/other" >/dev/null
"$mtas" sign --key "$work/other/x.key.pem" --signer bad.example "$work/base-mixed.eml" "$s/signed-wrong-key.eml"
python3 "$here/make_cases.py" broken "$s/signed-body.eml" "$work/broken.eml"
sign "$work/broken.eml" "$s/signed-on-broken.eml"

rm -rf "$here/cases"; mkdir "$here/cases"
python3 "$here/make_cases.py" cases "$s" "$here/cases" "$key"
