#!/usr/bin/env bash
# Builds the libFuzzer targets with ASan+UBSan and runs each for SECONDS
# (default 10), seeded from the example messages and signed copies of them.
#   fuzz/run.sh [SECONDS]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-10}"
build="${MTAS_FUZZ_BUILD_DIR:-$root/build-fuzz}"
cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DMTAS_BUILD_FUZZ=ON -DMTAS_BUILD_TESTS=OFF \
  -DMTAS_BUILD_BENCH=OFF -DMTAS_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null
corpus="$build/corpus"
mkdir -p "$corpus"/{message,decoders,carrier,signature,verify,records}
mtas="$build/mtas"
"$mtas" keygen --algorithm ed25519 --signer fuzz.example.com --selector k --out "$build/keys" >/dev/null
export MTAS_FUZZ_KEY="$build/keys/k.crt.pem"
for m in "$root"/examples/messages/*.eml; do
  base=$(basename "$m" .eml)
  cp "$m" "$corpus/verify/$base"
  { printf '\x07'; cat "$m"; } >"$corpus/message/$base"
  for c in body header; do
    "$mtas" sign --key "$build/keys/k.key.pem" --signer fuzz.example.com --carrier "$c" "$m" "$corpus/verify/$base-$c"
    { printf '\x0d'; cat "$corpus/verify/$base-$c"; } >"$corpus/message/$base-$c"
    "$mtas" inspect --cms 1 "$corpus/verify/$base-$c" >"$corpus/signature/$base-$c"
    grep -m1 "^X-PostalTracking" "$corpus/verify/$base-$c" | cut -d: -f2- >"$corpus/carrier/$base-$c"
  done
  head -c 600 "$m" >"$corpus/decoders/$base"
done
printf 'domain:key:email k._certs; https:download:der _certs k.crt.der' >"$corpus/records/services"
printf '\x02\x00\x02\x0f0123456789abcdef0123456789abcdef' >"$corpus/records/key-ed25519"
printf 'v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=' >"$corpus/records/dkim"
total=0
for t in message decoders carrier signature verify records; do
  log="$build/fuzz_$t.log"
  ASAN_OPTIONS=detect_leaks=1 "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -max_len=200000 -timeout=5 \
    -rss_limit_mb=2048 -print_final_stats=1 "$corpus/$t" >"$log" 2>&1 || { echo "fuzz_$t FOUND A PROBLEM:"; tail -30 "$log"; exit 1; }
  runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' || true)

  echo "fuzz_$t: ${runs:-?} executions, no crash"
  total=$((total + ${runs:-0}))
done
echo "total executions: $total"
