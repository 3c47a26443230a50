#!/usr/bin/env bash
# Signing keys in a token (SoftHSM2 through OpenSSL's pkcs11 engine): every
# key type SoftHSM2 makes is tried. RSA-2048 and ECDSA P-256 sign, with a
# certificate made by the token and bare, and the result passes mtas and
# `openssl cms -verify`; the PIN comes in the URI or from a file
# (pin-source); a wrong PIN or object is a one-line error; mtasd -n loads a
# KeyTable of URIs. Ed25519: libp11 0.4.12 (Debian 12) cannot use EdDSA keys
# and stops listing a token that holds one; mtas says the key is not there.
#   pkcs11.sh MTAS MTASD SOURCE_DIR
set -uo pipefail
mtas="$1"; mtasd="$2"; root="$3"
. "$root/tests/integration/lib.sh"
module=/usr/lib/softhsm/libsofthsm2.so
for tool in softhsm2-util pkcs11-tool; do
  command -v "$tool" >/dev/null || { echo "missing $tool (scripts/test-deps.sh installs it)"; exit 1; }
done
[ -f /usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so ] ||
  { echo "missing the pkcs11 engine (scripts/test-deps.sh installs libengine-pkcs11-openssl)"; exit 1; }
export SOFTHSM2_CONF="$work/softhsm2.conf"
# Under the sanitizer build: memory errors still end the run, but the
# engine, p11-kit and SoftHSM2 keep allocations for the process's life,
# which LeakSanitizer would report as ours.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
mkdir -p "$work/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$work" >"$SOFTHSM2_CONF"
p11() { pkcs11-tool --module "$module" "$@" >>"$work/p11.log" 2>&1; }
softhsm2-util --init-token --free --label mtas-test --pin 1234 --so-pin 5678 >/dev/null
softhsm2-util --init-token --free --label mtas-ed --pin 1234 --so-pin 5678 >/dev/null
p11 --login --pin 1234 --token-label mtas-test --keypairgen --key-type rsa:2048 --label k-rsa --id 01 ||
  fail "token: RSA key generation"
p11 --login --pin 1234 --token-label mtas-test --keypairgen --key-type EC:prime256v1 --label k-ec --id 02 ||
  fail "token: EC key generation"
p11 --login --pin 1234 --token-label mtas-ed --keypairgen --key-type EC:edwards25519 --label k-ed --id 03 ||
  fail "token: Ed25519 key generation"
printf '1234\n' >"$work/pin"
msg="$root/examples/messages/mixed-attachment.eml"
signer=mail.example.com

for k in rsa ec; do
  uri="pkcs11:token=mtas-test;object=k-$k;type=private"
  # A certificate for the token's key, signed by the token.
  openssl req -new -x509 -engine pkcs11 -keyform engine -key "$uri;pin-value=1234" -subj "/CN=$signer" \
    -addext "subjectAltName=DNS:$signer" -days 30 -out "$work/$k.crt" >>"$work/req.log" 2>&1 ||
    { fail "$k: openssl req with the token's key"; continue; }
  for form in cert bare; do
    extra=()
    [ "$form" = cert ] && extra=(--cert "$work/$k.crt")
    if ! "$mtas" sign --key "$uri;pin-value=1234" "${extra[@]}" --signer "$signer" "$msg" "$work/$k-$form.eml" \
      2>"$work/err"; then
      fail "$k $form: sign: $(tail -1 "$work/err")"
      continue
    fi
    got=$("$mtas" verify --no-network --key-file "$signer=$work/$k.crt" --json "$work/$k-$form.eml" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["signatures"][0]["result"])')
    if [ "$got" = pass ]; then echo "ok: $k key in the token, $form: pass"; else fail "$k $form: verify says $got"; fi
  done
  # Independent check: OpenSSL's CMS verifies what mtas signed with the token.
  "$mtas" inspect --cms 1 "$work/$k-cert.eml" >"$work/$k.p7" && "$mtas" inspect --content 1 "$work/$k-cert.eml" >"$work/$k.content"
  if openssl cms -verify -binary -inform DER -in "$work/$k.p7" -content "$work/$k.content" -certfile "$work/$k.crt" \
    -CAfile "$work/$k.crt" -purpose any -out /dev/null 2>"$work/err"; then
    echo "ok: $k: openssl cms -verify accepts it"
  else
    fail "$k: openssl cms -verify: $(head -1 "$work/err")"
  fi
done

# The PIN from a file (RFC 7512 pin-source), after ';' or '?'.
for uri in "pkcs11:token=mtas-test;object=k-rsa;type=private;pin-source=file:$work/pin" \
  "pkcs11:token=mtas-test;object=k-ec;type=private?pin-source=file:$work/pin"; do
  "$mtas" sign --key "$uri" --signer "$signer" "$msg" "$work/pinfile.eml" 2>"$work/err" ||
    fail "pin-source: $(tail -1 "$work/err")"
done
# Failures are one line, exit 64, and never show the PIN.
if "$mtas" sign --key "pkcs11:token=mtas-test;object=k-rsa;type=private;pin-value=9999" --signer "$signer" "$msg" \
  "$work/x.eml" 2>"$work/err"; then
  fail "a wrong PIN signed"
fi
grep -q 'PIN incorrect' "$work/err" || fail "a wrong PIN: $(grep 'mtas sign' "$work/err")"
grep 'mtas sign' "$work/err" | grep -q 9999 && fail "the error shows the PIN"
"$mtas" sign --key "pkcs11:token=mtas-test;object=nothing;type=private;pin-value=1234" --signer "$signer" "$msg" \
  "$work/x.eml" 2>"$work/err"
[ $? = 64 ] || fail "a missing object: want exit 64"
grep -q 'no private key there' "$work/err" || fail "a missing object: $(grep 'mtas sign' "$work/err")"
# Ed25519, which SoftHSM2 makes but libp11 0.4.12 cannot use: a clear refusal.
"$mtas" sign --key "pkcs11:token=mtas-ed;object=k-ed;type=private;pin-value=1234" --signer "$signer" "$msg" \
  "$work/x.eml" 2>"$work/err"
status=$?
if [ "$status" = 64 ] && grep -q 'no private key there' "$work/err"; then
  echo "ok: ed25519 in a token: refused, one line"
else
  fail "ed25519 in a token: exit $status, $(grep 'mtas sign' "$work/err")"
fi

# mtasd loads a KeyTable of URIs (file checks do not apply to them).
printf 'r pkcs11:token=mtas-test;object=k-rsa;type=private;pin-source=file:%s %s\n' "$work/pin" "$signer" \
  >"$work/keys.tab"
printf '%s\n' "Mode sign" "Socket inet:$(free_port)@127.0.0.1" "Syslog no" "Network no" "KeyTable $work/keys.tab" \
  >"$work/mtasd.conf"
if "$mtasd" -n -c "$work/mtasd.conf" >"$work/n.out" 2>&1; then
  echo "ok: mtasd -n: $(tail -1 "$work/n.out")"
else
  fail "mtasd -n with a token key: $(tail -1 "$work/n.out")"
fi
[ "$fails" = 0 ] && echo "pkcs11: all checks passed"
exit "$fails"
