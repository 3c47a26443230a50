#!/usr/bin/env bash
# Builds the libFuzzer targets with ASan+UBSan, replays the saved
# crash-regression inputs (fuzz/regressions/TARGET/), then fuzzes each target
# for SECONDS (default 10), seeded from the example messages, signed copies of
# them and the example configuration files; then runs the verdict
# differential (tests/diff/verdict_diff.py) on a fresh seed.
#   fuzz/run.sh [SECONDS]
# New findings are written to BUILD/findings/TARGET/; copy each into
# fuzz/regressions/TARGET/ with the fix so it is replayed from then on.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-10}"
build="${MTAS_FUZZ_BUILD_DIR:-$root/build-fuzz}"
targets=(message decoders carrier signature verify records policy result_headers config roundtrip milter address openpgp)
cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DMTAS_BUILD_FUZZ=ON -DMTAS_BUILD_TESTS=OFF \
  -DMTAS_BUILD_BENCH=OFF -DMTAS_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null

# Seeds.
corpus="$build/corpus"
for t in "${targets[@]}"; do mkdir -p "$corpus/$t" "$build/findings/$t"; done
mtas="$build/mtas"
[ -f "$build/keys/k.key.pem" ] ||
  "$mtas" keygen --algorithm ed25519 --signer fuzz.example.com --selector k --out "$build/keys" >/dev/null
export MTAS_FUZZ_KEY="$build/keys/k.crt.pem"
printf 'k %s fuzz.example.com\n' "$build/keys/k.key.pem" >"$build/keys/fuzz.tab"
export MTAS_FUZZ_KEYTABLE="$build/keys/fuzz.tab"
for m in "$root"/examples/messages/*.eml; do
  base=$(basename "$m" .eml)
  cp "$m" "$corpus/verify/$base"
  cp "$m" "$corpus/roundtrip/$base"
  { printf '\x07'; cat "$m"; } >"$corpus/message/$base"
  for c in body header; do
    "$mtas" sign --key "$build/keys/k.key.pem" --signer fuzz.example.com --carrier "$c" "$m" "$corpus/verify/$base-$c"
    cp "$corpus/verify/$base-$c" "$corpus/roundtrip/$base-$c"
    { printf '\x0d'; cat "$corpus/verify/$base-$c"; } >"$corpus/message/$base-$c"
    "$mtas" inspect --cms 1 "$corpus/verify/$base-$c" >"$corpus/signature/$base-$c"
    grep -m1 "^X-PostalTracking" "$corpus/verify/$base-$c" 2>/dev/null | cut -d: -f2- >"$corpus/carrier/$base-$c"
    "$mtas" verify --key-file "fuzz.example.com=$MTAS_FUZZ_KEY" --add-header mx.example.net "$corpus/verify/$base-$c" 2>/dev/null |
      awk '/^(MTAS-VerificationInfo|Authentication-Results):/{on=1; sub(/^[^:]*: /, ""); printf "%s", $0; next}
           on && /^[ \t]/{printf "\r\n%s", $0; next} {if (on) exit}' >"$corpus/result_headers/$base-$c" || true
  done
  head -c 600 "$m" >"$corpus/decoders/$base"
done
# signature: the bad-input corpus's CMS cases (BER lengths, unusual attributes).
for m in "$root"/tests/bad/cases/cms-*.eml "$root"/tests/bad/cases/resigned-*.eml; do
  seed="$corpus/signature/bad-$(basename "$m" .eml)"
  "$mtas" inspect --cms 1 "$m" >"$seed" 2>/dev/null || true
  [ -s "$seed" ] || rm -f "$seed"  # inspect reads only what parses
done
# signature: RSA and ECDSA too, with the signer's certificate embedded.
for alg in rsa2048 ecdsa-p256; do
  [ -f "$build/keys/$alg/k.key.pem" ] ||
    "$mtas" keygen --algorithm "$alg" --signer fuzz.example.com --selector k --out "$build/keys/$alg" >/dev/null
  "$mtas" sign --key "$build/keys/$alg/k.key.pem" --cert "$build/keys/$alg/k.crt.pem" --embed-cert \
    --signer fuzz.example.com --carrier header "$root/examples/messages/alternative.eml" \
    "$build/signed-$alg.eml"
  "$mtas" inspect --cms 1 "$build/signed-$alg.eml" >"$corpus/signature/cert-$alg"
done
printf 'domain:key:email k._certs; https:download:der _certs k.crt.der' >"$corpus/records/services"
# openpgp: keys made by gpg, public and secret, each behind its fingerprint.
if command -v gpg >/dev/null && [ ! -s "$corpus/openpgp/ed25519-public" ]; then
  export GNUPGHOME="$build/gnupg"
  mkdir -p "$GNUPGHOME" && chmod 700 "$GNUPGHOME"
  for alg in ed25519 rsa2048 nistp256; do
    gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
      --quick-gen-key "fuzz $alg <postmaster@fuzz.example.com>" "$alg" sign never 2>/dev/null
    fpr=$(gpg --with-colons --list-keys "=fuzz $alg <postmaster@fuzz.example.com>" 2>/dev/null |
      awk -F: '/^fpr/ {print $10; exit}')
    { printf '%s' "$fpr"; gpg --export "$fpr"; } >"$corpus/openpgp/$alg-public"
    { printf '%s' "$fpr"; gpg --armor --export "$fpr"; } >"$corpus/openpgp/$alg-armoured"
    { printf '%s' "$fpr"; gpg --batch --pinentry-mode loopback --passphrase '' --export-secret-keys "$fpr"; } \
      >"$corpus/openpgp/$alg-secret"
  done
  gpgconf --kill all
  unset GNUPGHOME
fi
printf '\x02\x00\x02\x0f0123456789abcdef0123456789abcdef' >"$corpus/records/key-ed25519"
printf 'v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=' >"$corpus/records/dkim"
printf 'v=spf1 mx -all mtas=required' >"$corpus/policy/spf"
printf '"A, B" <a.b@example.com>, Team: c@d.example (x), e@[192.0.2.1];' >"$corpus/address/list"
printf 'x <@route.example:u@example.org>' >"$corpus/address/route"
cp "$root/examples/mtas-policy" "$corpus/policy/local"
cp "$root/examples/mtasd.conf" "$corpus/config/mtasd.conf"
printf 'mx.example.net; mtas=pass header.s=mail.example.com' >"$corpus/result_headers/ar"
# milter: conversations as Postfix holds them, for a message from an internal
# client (signed) and a signed message from elsewhere (verified, re-signed).
python3 - "$corpus/milter" "$root/examples/messages/"*.eml "$corpus/verify/"*-header <<'PY'
import os, struct, sys
def pkt(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data
out = sys.argv[1]
for i, path in enumerate(sys.argv[2:]):
    raw = open(path, "rb").read().replace(b"\r\n", b"\n")
    head, _, body = raw.partition(b"\n\n")
    conv = pkt(b"O", struct.pack(">III", 6, 0x1FF, 0x1FFFFF))
    client = b"127.0.0.1" if i % 2 == 0 else b"192.0.2.1"
    conv += pkt(b"D", b"R{client_addr}\0" + client + b"\0{mail_addr}\0a@fuzz.example.com\0")
    conv += pkt(b"R", b"<b@example.net>\0")
    fields = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += b"\n" + line
        elif b":" in line:
            fields.append(line)
    for f in fields:
        name, _, value = f.partition(b":")
        conv += pkt(b"L", name + b"\0" + value + b"\0")
    conv += pkt(b"N")
    body = body.replace(b"\n", b"\r\n")
    for at in range(0, len(body), 65535 - 1):
        conv += pkt(b"B", body[at:at + 65534])
    conv += pkt(b"E") + pkt(b"Q")
    open(os.path.join(out, "conv%d" % i), "wb").write(conv)
PY

total=0
for t in "${targets[@]}"; do
  bin="$build/fuzz/fuzz_$t"
  regressions="$root/fuzz/regressions/$t"
  if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions")" ]; then
    "$bin" "$regressions"/* >"$build/regress_$t.log" 2>&1 ||
      { echo "fuzz_$t: A SAVED REGRESSION INPUT FAILS:"; tail -30 "$build/regress_$t.log"; exit 1; }
    echo "fuzz_$t: $(find "$regressions" -type f | wc -l) regression inputs replayed"
  fi
  log="$build/fuzz_$t.log"
  ASAN_OPTIONS=detect_leaks=1 "$bin" -max_total_time="$seconds" -max_len=200000 -timeout=5 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$build/findings/$t/" "$corpus/$t" >"$log" 2>&1 ||
    { echo "fuzz_$t FOUND A PROBLEM:"; tail -30 "$log"; ls "$build/findings/$t"; exit 1; }
  runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' || true)
  echo "fuzz_$t: ${runs:-?} executions, no crash"
  total=$((total + ${runs:-0}))
done
echo "total executions: $total"

# The verdict differential as a fuzzer: a fresh seed each run, on the
# sanitizer build of mtas, for about as long as one target (at least 50
# cases). A `pass` that readers display differently is a finding.
diff_seed="${MTAS_DIFF_SEED:-$RANDOM$RANDOM}"
diff_count=$((seconds * 20 > 50 ? seconds * 20 : 50))
mkdir -p "$build/findings/verdict_diff"
MTAS_DIFF_SEED="$diff_seed" MTAS_DIFF_COUNT="$diff_count" MTAS_DIFF_KEEP="$build/findings/verdict_diff" \
  ASAN_OPTIONS=detect_leaks=1 bash "$root/tests/diff/run.sh" "$mtas" "$root" >"$build/verdict_diff.log" 2>&1 ||
  { echo "verdict_diff (seed $diff_seed) FOUND A PROBLEM:"; tail -30 "$build/verdict_diff.log"; exit 1; }
echo "verdict_diff: seed $diff_seed, $(grep -o '^verdict_diff: [0-9]* cases, [0-9]* pass, [0-9]* recovered, [0-9]* verdict or restore failures' "$build/verdict_diff.log")"
