#!/usr/bin/env bash
# Side-by-side benchmark of mtas against OpenDKIM (libopendkim), Mail::DKIM,
# dkimpy and mailauth on one corpus, on this machine, in one run.
#
#   bash bench/peers.sh [--quick] [BUILD_DIR=build]
#
# Every implementation runs in its own process per measurement through a
# harness with one interface (bench/peers/README.md):
#   HARNESS sign|verify ALG CORPUS_DIR KEY_DIR  ->  one JSON line
# with keys parsed once and DNS replaced by the local records in KEY_DIR/keys.txt.
# mtas's harness is BUILD_DIR/bench/mtas_corpus_bench, the corpus comes from
# BUILD_DIR/bench/mtas_corpus (cached in BUILD_DIR/peer-corpus).
#
# Prints Markdown: msgs/s on 4 KB messages, MB/s on 1 MB messages, the peak RSS
# of signing one 50 MiB message, mtas's ratio to each peer and to the
# `openssl speed` bound, and mtas streaming the 50 MiB message from stdin
# next to sha256sum (target: RSS <= 16 MB, time <= 2x sha256sum).
#
# --quick: 20 small and 2 large messages (one large one stands in for the huge
# one), 0.2 s per measurement: proves every harness works, numbers mean little.
#
# Peers are installed when absent: Debian's libopendkim-dev libmail-dkim-perl
# python3-dkim python3-nacl time gcc, and npm's mailauth under
# build-peers/node. Everything built or downloaded goes under build-peers/
# (git-ignored); results land in build-peers/results/.
# Exit status: 0 when every harness ran (or said n/a), 1 otherwise.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
here="$root/bench/peers"
quick=0
build="build"
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    BUILD_DIR=*) build="${arg#BUILD_DIR=}" ;;
    -*) echo "unknown option $arg" >&2; exit 64 ;;
    *) build="$arg" ;;
  esac
done
case "$build" in /*) ;; *) build="$root/$build" ;; esac
work="$root/build-peers"          # git-ignored: npm modules, harness binary, keys, results
mkdir -p "$work"

say() { printf '%s\n' "$*" >&2; }
die() { say "peers.sh: $*"; exit 1; }

# ---------------------------------------------------------------- inputs --
mtas_corpus="$build/bench/mtas_corpus"
mtas_harness="$build/bench/mtas_corpus_bench"
mtas_cli="$build/mtas"
for f in "$mtas_corpus" "$mtas_harness" "$mtas_cli"; do
  [ -x "$f" ] || die "missing $f: build the project first (bash scripts/build.sh)"
done

# ------------------------------------------------------------ install peers --
debs=(libopendkim-dev libmail-dkim-perl python3-dkim python3-nacl time gcc)
missing=()
for p in "${debs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null && apt-get install -y -qq "${missing[@]}" >/dev/null; } ||
    die "apt-get install ${missing[*]} failed"
fi
if [ ! -f "$work/node/node_modules/mailauth/package.json" ]; then
  say "installing mailauth from npm"
  npm install --prefix "$work/node" --no-audit --no-fund mailauth >/dev/null || die "npm install mailauth failed"
fi
export NODE_PATH="$work/node/node_modules"
PY=/usr/bin/python3                # Debian's python: python3-dkim lives in its dist-packages

# libopendkim harness: one C file, rebuilt when its source changes
odk="$work/opendkim_bench"
if [ ! -x "$odk" ] || [ "$here/opendkim_bench.c" -nt "$odk" ]; then
  gcc -O2 -Wall -o "$odk" "$here/opendkim_bench.c" -lopendkim -lcrypto || die "cannot build $odk"
fi

# ------------------------------------------------------------------ keys --
# PKCS#8 PEM private keys and the DKIM TXT records for them (selector ed, rsa).
keys="$work/keys"
if [ ! -s "$keys/keys.txt" ]; then
  mkdir -p "$keys"
  openssl genpkey -algorithm ed25519 -out "$keys/ed25519.key.pem" 2>/dev/null
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$keys/rsa2048.key.pem" 2>/dev/null
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$keys/ecdsa-p256.key.pem" 2>/dev/null
  {  # RFC 8463: k=ed25519 publishes the raw 32-byte key; k=rsa the SubjectPublicKeyInfo
    printf 'ed._domainkey.bench.example v=DKIM1; k=ed25519; p=%s\n' \
      "$(openssl pkey -in "$keys/ed25519.key.pem" -pubout -outform DER | tail -c 32 | base64 -w0)"
    printf 'rsa._domainkey.bench.example v=DKIM1; k=rsa; p=%s\n' \
      "$(openssl pkey -in "$keys/rsa2048.key.pem" -pubout -outform DER | base64 -w0)"
  } >"$keys/keys.txt.tmp"
  mv "$keys/keys.txt.tmp" "$keys/keys.txt"
fi

# ---------------------------------------------------------------- corpus --
corpus="$build/peer-corpus"
if [ ! -f "$corpus/.complete" ] || [ "$mtas_corpus" -nt "$corpus/.complete" ]; then
  say "making the corpus in $corpus"
  rm -rf "$corpus"
  "$mtas_corpus" "$corpus" >/dev/null || die "mtas_corpus failed"
  touch "$corpus/.complete"
fi
seconds=2                          # per measurement (harnesses read MTAS_BENCH_SECONDS)
speed_seconds=3                    # per openssl speed test
if [ "$quick" = 1 ]; then         # a few messages; one 1 MB message as the "huge" one
  seconds=0.2
  speed_seconds=1
  q="$work/quick-corpus"
  rm -rf "$q"
  mkdir -p "$q/small" "$q/large" "$q/huge"
  small=("$corpus"/small/*.eml)
  large=("$corpus"/large/*.eml)
  ln -s "${small[@]:0:20}" "$q/small/"
  ln -s "${large[@]:0:2}" "$q/large/"
  ln -s "${large[0]}" "$q/huge/huge.eml"
  corpus="$q"
fi
export MTAS_BENCH_SECONDS="$seconds"
hugefiles=("$corpus"/huge/*.eml)
huge="${hugefiles[0]}"
[ -f "$huge" ] || die "no message in $corpus/huge"

label="$(date +%Y%m%d-%H%M%S)"
if [ "$quick" = 1 ]; then label="$label-quick"; fi
out="$work/results/$label"
mkdir -p "$out"
results="$out/results.tsv"         # impl alg op corpus status rss_kb json
: >"$results"

# ------------------------------------------------------- openssl's bound --
# Sign/verify rates and SHA-256/512 throughput at 16 KB blocks (-bytes keeps
# openssl from timing the other block sizes nobody reads).
say "openssl speed"
openssl speed -seconds "$speed_seconds" -bytes 16384 \
  ed25519 rsa2048 ecdsap256 sha256 sha512 >"$out/openssl-speed.txt" 2>/dev/null || die "openssl speed failed"

# ------------------------------------------------------------- harnesses --
# The command of each implementation's harness (cmd_IMPL), and the algorithms
# it is asked for. A harness exits 3 for an algorithm its library lacks (n/a).
# shellcheck disable=SC2034  # read through the nameref in run()
{
  cmd_mtas=("$mtas_harness")
  cmd_opendkim=("$odk")
  cmd_mail_dkim=(/usr/bin/perl "$here/maildkim_bench.pl")
  cmd_dkimpy=("$PY" "$here/dkimpy_bench.py")
  cmd_mailauth=(node "$here/mailauth_bench.js")
}
impls=(mtas opendkim mail-dkim dkimpy mailauth)
algs_for() { if [ "$1" = mtas ]; then echo ed25519 rsa2048 ecdsa-p256; else echo ed25519 rsa2048; fi; }
failed=0

# run IMPL ALG OP CORPUS_NAME: one process, peak RSS by /usr/bin/time
run() {
  local impl="$1" alg="$2" op="$3" set="$4" log="$out/$1-$2-$3-$4"
  local status=ok rc=0 json="" rss=""
  local -n harness="cmd_${impl//-/_}"
  /usr/bin/time -f %M -o "$log.rss" "${harness[@]}" "$op" "$alg" "$corpus/$set" "$keys" \
    >"$log.json" 2>"$log.err" || rc=$?
  rss="$(tail -1 "$log.rss" 2>/dev/null || true)"
  json="$(tail -1 "$log.json")"
  if [ "$rc" = 3 ]; then
    status=n/a
  elif [ "$rc" != 0 ] || [ -z "$json" ]; then
    status=FAIL
    failed=1
    say "FAILED: $impl $op $alg $set (exit $rc):"
    tail -5 "$log.err" >&2
  fi
  [ -n "$json" ] || json='{}'
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$impl" "$alg" "$op" "$set" "$status" "${rss:-0}" "$json" >>"$results"
  say "  $impl $op $alg $set: $status $json"
}

for impl in "${impls[@]}"; do
  say "$impl"
  for alg in $(algs_for "$impl"); do
    for set in small large; do
      for op in sign verify; do run "$impl" "$alg" "$op" "$set"; done
    done
    run "$impl" "$alg" sign huge
  done
done

# ----------------------------------------- mtas streaming the huge message --
# The CLI reads stdin and writes stdout: peak RSS must not grow with the
# message. sha256sum of the same (page-cached) file is the time yardstick.
cat "$huge" >/dev/null
stream="$out/stream.tsv"           # what seconds rss_kb
: >"$stream"
# timed NAME STDIN CMD...: best wall time of 3 runs (ns clock), largest peak RSS
timed() {
  local name="$1" input="$2" best="" rss=0 t0 t1 i
  shift 2
  for i in 1 2 3; do
    t0=$(date +%s%N)
    /usr/bin/time -f %M -o "$out/time.tmp" "$@" <"$input" >/dev/null || return 1
    t1=$(date +%s%N)
    if [ -z "$best" ] || [ $((t1 - t0)) -lt "$best" ]; then best=$((t1 - t0)); fi
    i=$(tail -1 "$out/time.tmp")
    if [ "$i" -gt "$rss" ]; then rss=$i; fi
  done
  printf '%s\t%s\t%s\n' "$name" "$(awk -v ns="$best" 'BEGIN { printf "%.4f", ns / 1e9 }')" "$rss" >>"$stream"
}
timed sha256sum /dev/null sha256sum "$huge"
for alg in ed25519 rsa2048 ecdsa-p256; do
  timed "mtas sign ($alg)" "$huge" "$mtas_cli" sign --key "$keys/$alg.key.pem" --signer bench.example \
    2>"$out/cli-$alg.err" || {
    failed=1
    say "FAILED: mtas sign --key $alg.key.pem < $huge"
    tail -5 "$out/cli-$alg.err" >&2
  }
done

# ----------------------------------------------------------------- report --
versions="$out/versions.txt"
{
  echo "machine: $(nproc) cores, $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "openssl: $(openssl version)"
  echo "opendkim: libopendkim $(dpkg-query -W -f '${Version}' libopendkim-dev)"
  echo "mail-dkim: Mail::DKIM $(/usr/bin/perl -MMail::DKIM -e 'print $Mail::DKIM::VERSION')"
  echo "dkimpy: python3-dkim $(dpkg-query -W -f '${Version}' python3-dkim), $($PY --version)"
  echo "mailauth: mailauth $(node -p "require('mailauth/package.json').version"), node $(node --version)"
  echo "corpus: $corpus, MTAS_BENCH_SECONDS=$seconds"
} >"$versions"
printf '{"quick": %s, "seconds": %s, "huge_bytes": %s}\n' "$quick" "$seconds" "$(stat -L -c %s "$huge")" >"$out/meta.json"
$PY "$here/report.py" "$out" | tee "$out/report.md"
say "results in $out"
exit "$failed"
