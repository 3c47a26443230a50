#!/usr/bin/env bash
# Independent check (spec §8): the CMS signature mtas makes verifies with
# another implementation over the content mtas says it signed, and one
# changed byte of that content makes it fail.
#   RSA, ECDSA: openssl cms -verify      Ed25519: GnuTLS certtool --p7-verify
set -euo pipefail
mtas="$1"; root="$2"
command -v certtool >/dev/null || { echo "certtool (gnutls-bin) is required"; exit 1; }
command -v openssl >/dev/null || { echo "openssl is required"; exit 1; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
checks=0

openssl_verify() {  # sig content cert
  openssl cms -verify -binary -inform DER -in "$1" -content "$2" -certfile "$3" -CAfile "$3" -purpose any \
    -out /dev/null 2>"$work/err"
}
certtool_verify() {
  certtool --p7-verify --inder --infile "$1" --load-data "$2" --load-certificate "$3" >"$work/err" 2>&1
}

for alg in rsa2048 ecdsa-p256 ed25519; do
  "$mtas" keygen --algorithm "$alg" --signer "$alg.example.com" --selector s --out "$work/$alg" >/dev/null
  for msg in mixed-attachment.eml text-plain.eml lf-only.eml; do
    for carrier in body header; do
      for certopt in "" "--cert $work/$alg/s.crt.pem"; do
        signed="$work/signed.eml"
        # shellcheck disable=SC2086
        "$mtas" sign --key "$work/$alg/s.key.pem" $certopt --signer "$alg.example.com" --carrier "$carrier" \
          "$root/examples/messages/$msg" "$signed"
        "$mtas" inspect --cms 1 "$signed" >"$work/sig.der"
        "$mtas" inspect --content 1 "$signed" >"$work/content"
        verify=openssl_verify
        [ "$alg" = ed25519 ] && verify=certtool_verify
        # (A bare-key signature names its key by subjectKeyIdentifier, which the
        # self-signed certificate carries too: the verifiers find it by that.)
        if ! $verify "$work/sig.der" "$work/content" "$work/$alg/s.crt.pem"; then
          echo "FAIL: $alg $msg $carrier ${certopt:+cert}: independent verifier refused:"; cat "$work/err"; exit 1
        fi
        # One byte of the content changed: must fail.
        python3 -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[len(b)//2]^=1; open(p,'wb').write(b)" \
          "$work/content"
        if $verify "$work/sig.der" "$work/content" "$work/$alg/s.crt.pem"; then
          echo "FAIL: $alg $msg $carrier: tampered content still verified"; exit 1
        fi
        checks=$((checks + 1))
      done
    done
  done
done

# A hop signed with two keys (one SignerInfo each): the other implementation
# must verify every SignerInfo, given both certificates, and refuse a changed
# byte. openssl checks ECDSA + RSA; certtool, which reads Ed25519, checks
# Ed25519 + RSA and prints one status per signer.
both_verify_openssl() {  # sig content certs
  openssl cms -verify -binary -inform DER -in "$1" -content "$2" -certfile "$3" -CAfile "$3" -purpose any \
    -out /dev/null 2>"$work/err"
}
both_verify_certtool() {
  certtool --p7-verify --inder --infile "$1" --load-data "$2" --load-ca-certificate "$3" >"$work/err" 2>&1 &&
    [ "$(grep -c 'Signature status: ok' "$work/err")" = 2 ]
}
dual=0
for pair in "ecdsa-p256 rsa2048 both_verify_openssl" "ed25519 rsa2048 both_verify_certtool"; do
  read -r a b verify <<<"$pair"
  "$mtas" keygen --algorithm "$a" --signer dual.example.com --selector "$a" --out "$work/dual" >/dev/null
  "$mtas" keygen --algorithm "$b" --signer dual.example.com --selector "$b" --out "$work/dual" >/dev/null
  cat "$work/dual/$a.crt.pem" "$work/dual/$b.crt.pem" >"$work/dual/both.pem"
  for carrier in body header; do
    # With certificates, they are embedded: certtool finds an
    # issuerAndSerialNumber signer among the signature's certificates.
    for certs in "" "--cert $work/dual/$b.crt.pem --cert $work/dual/$a.crt.pem --embed-cert"; do
      # shellcheck disable=SC2086
      "$mtas" sign --key "$work/dual/$a.key.pem" --key "$work/dual/$b.key.pem" $certs --signer dual.example.com \
        --carrier "$carrier" "$root/examples/messages/mixed-attachment.eml" "$work/signed.eml"
      "$mtas" inspect --cms 1 "$work/signed.eml" >"$work/sig.der"
      "$mtas" inspect --content 1 "$work/signed.eml" >"$work/content"
      if ! $verify "$work/sig.der" "$work/content" "$work/dual/both.pem"; then
        echo "FAIL: $a+$b $carrier ${certs:+certs}: independent verifier refused:"; cat "$work/err"; exit 1
      fi
      # With one certificate only, the other SignerInfo cannot be checked:
      # the other implementation must not call the whole signature good.
      if $verify "$work/sig.der" "$work/content" "$work/dual/$b.crt.pem"; then
        echo "FAIL: $a+$b: verified with one of the two certificates"; exit 1
      fi
      python3 -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[len(b)//2]^=1; open(p,'wb').write(b)" \
        "$work/content"
      if $verify "$work/sig.der" "$work/content" "$work/dual/both.pem"; then
        echo "FAIL: $a+$b $carrier: tampered content still verified"; exit 1
      fi
      dual=$((dual + 1))
    done
  done
done
echo "independent check: $checks signatures verified by openssl/certtool, tampered copies refused"
echo "independent check: $dual two-key signatures: every SignerInfo verified, tampered copies refused"
