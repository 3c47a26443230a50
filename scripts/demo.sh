#!/usr/bin/env bash
# The main job on embedded defaults: build, make demo keys, send an example
# message through three signing hops and show what the last verifier sees.
#
#   hop 1  mail.example.com   origin        Ed25519     body carrier
#   hop 2  lists.example.org  mailing list  ECDSA P-256 tags the Subject, adds a footer part, re-signs
#   hop 3  mx.example.net     relay         RSA-2048    header carrier
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/deps.sh"
"$root/scripts/build.sh" >/dev/null
mtas="${MTAS_BUILD_DIR:-$root/build}/mtas"
work="${MTAS_DEMO_DIR:-$(mktemp -d)}"
mkdir -p "$work"
msg="${1:-$root/examples/messages/mixed-attachment.eml}"

say() { printf '\n== %s\n' "$*"; }

say "demo keys in $work/keys"
"$mtas" keygen --algorithm ed25519 --signer mail.example.com --selector origin --out "$work/keys" >/dev/null
"$mtas" keygen --algorithm ecdsa-p256 --signer lists.example.org --selector list --out "$work/keys" >/dev/null
"$mtas" keygen --algorithm rsa2048 --signer mx.example.net --selector relay --out "$work/keys" >/dev/null
pins=(--key-file "mail.example.com=$work/keys/origin.crt.pem"
      --key-file "lists.example.org=$work/keys/list.crt.pem"
      --key-file "mx.example.net=$work/keys/relay.crt.pem")

say "hop 1: mail.example.com signs $(basename "$msg")"
"$mtas" sign --key "$work/keys/origin.key.pem" --signer mail.example.com \
  --services "domain:key:email _origin._certs" "$msg" "$work/hop1.eml"

say "hop 2: lists.example.org verifies, tags the Subject, appends a footer part and re-signs"
"$mtas" verify "${pins[@]}" --no-network "$work/hop1.eml" || true
# The first result field the verifier prepends, unfolded, becomes the signed verificationInfo.
"$mtas" verify "${pins[@]}" --no-network --add-header lists.example.org "$work/hop1.eml" >"$work/hop1-verified.eml" 2>/dev/null
info=$(tr -d '\r' <"$work/hop1-verified.eml" |
       awk '/^[ \t]/ { cur = cur $0; next } { if (!done && cur ~ /^MTAS-VerificationInfo:/) { print cur; done = 1 } cur = $0 }' |
       sed 's/^MTAS-VerificationInfo: //')
python3 "$root/examples/list_hop.py" "$work/hop1-verified.eml" "$root/examples/messages/list-footer.txt" "$work/hop2-in.eml"
"$mtas" sign --key "$work/keys/list.key.pem" --signer lists.example.org \
  --verification-info "$info" "$work/hop2-in.eml" "$work/hop2.eml"

say "hop 3: mx.example.net verifies what it received, re-signs in a header field (--resign)"
{ printf 'Received: from lists.example.org by mx.example.net; %s\r\n' "$(date -R)"; cat "$work/hop2.eml"; } >"$work/hop3-in.eml"
"$mtas" sign --key "$work/keys/relay.key.pem" --signer mx.example.net --carrier header \
  --resign mx.example.net --no-network "${pins[@]}" "$work/hop3-in.eml" "$work/hop3.eml"

say "what hop 3 recorded (its result fields, also signed into its verificationInfo)"
tr -d '\r' <"$work/hop3.eml" | awk '/^(MTAS-VerificationInfo|Authentication-Results):/ { show = 1; print; next }
  /^[ \t]/ { if (show) print; next } { show = 0 }'

say "verification of the delivered message (hop 1 = oldest)"
status=0
"$mtas" verify "${pins[@]}" --no-network "$work/hop3.eml" || status=$?

say "the chain of custody: mtas trace (also --format json|html)"
"$mtas" trace "${pins[@]}" --no-network "$work/hop3.eml" || true
say "exit status $status (5 = partial: a signature is intact except for the changes listed)"
echo "files: $work"
