#!/usr/bin/env bash
# Milter throughput through one real Postfix (discard delivery), side by
# side in one run: no milter; mtasd signing (Ed25519, header carrier) and
# verifying signed mail (Ed25519 and RSA-2048; keys pinned, so cached), each over
# TCP and a unix socket; OpenDKIM signing with RSA-2048 and Ed25519 over TCP and a unix socket
# (Debian's opendkim, installed when absent, as is Postfix); and the protocol's floor, a
# milter that asks for mtasd's events and does nothing (bench/null_milter.c).
#   bench/milter_load.sh [MESSAGES=10000] [SESSIONS=20]
# Each row is the median of MTAS_BENCH_RUNS runs (default 3) of
# `smtp-source -A -s SESSIONS -m MESSAGES -l 4096`: msgs/s, the milter's CPU per
# message (utime+stime from /proc) and the fewest messages delivered; a row with
# lost mail says so. Verifying rows also count the messages mtasd found to pass.
# MTAS_BENCH_ONLY=REGEX runs only the rows whose label matches (with
# MTAS_BENCH_CHAIN=0, for a quick look at one configuration).
# Exit status 1 if any row lost mail or a verifying row passed fewer messages
# than it sent (so a short run, as the test suite's, checks the whole path).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
n="${1:-10000}"; sessions="${2:-20}"; runs="${MTAS_BENCH_RUNS:-3}"
mtas="${MTAS_BUILD_DIR:-$root/build}/mtas"; mtasd="${MTAS_BUILD_DIR:-$root/build}/mtasd"
[ -x "$mtasd" ] || { echo "build first: bash scripts/build.sh"; exit 1; }
if [ -n "${MTAS_BENCH_INSTALL:-1}" ] && ! command -v postfix >/dev/null && ! [ -x /usr/sbin/postfix ]; then
  # No system configuration and nothing started: the rows run their own instances.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix >/dev/null 2>&1 || true
fi
command -v smtp-source >/dev/null || PATH="$PATH:/usr/sbin"
command -v smtp-source >/dev/null || { echo "smtp-source (Postfix) is missing: bash scripts/deps.sh"; exit 1; }
if [ -n "${MTAS_BENCH_INSTALL:-1}" ] && ! command -v opendkim >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq opendkim opendkim-tools >/dev/null 2>&1 || true
fi
. "$root/tests/e2e/lib_postfix.sh"

"$mtas" keygen --algorithm ed25519 --signer mail.example.org --selector s --out "$work/keys" >/dev/null
printf 's %s mail.example.org\n' "$work/keys/s.key.pem" >"$work/keys.tab"
results=()
failed=0

# The message the verifying rows send: 4 KB, signed by mail.example.org. LF
# line ends: smtp-source -F sends each line with CRLF.
python3 - "$work/plain.eml" <<'PY'
import sys
lines = ["From: Alice <a@example.org>", "To: Bob <b@example.net>", "Subject: load test",
         "Date: Tue, 01 Dec 2026 08:00:00 +0000", "Message-ID: <load@example.org>", ""]
body = []
while sum(len(l) + 1 for l in lines + body) < 4096:
    body.append("The quick brown fox jumps over the lazy dog, line %d of the load test." % len(body))
open(sys.argv[1], "w").write("\n".join(lines + body) + "\n")
PY
"$mtas" sign --key "$work/keys/s.key.pem" --signer mail.example.org --carrier header "$work/plain.eml" "$work/signed.eml"
"$mtas" keygen --algorithm rsa2048 --signer rsa.example.org --selector r --out "$work/rsakeys" >/dev/null
"$mtas" sign --key "$work/rsakeys/r.key.pem" --signer rsa.example.org --carrier header "$work/plain.eml" \
  "$work/signed-rsa.eml"
pins=("PinnedKey mail.example.org $work/keys/s.crt.pem" "PinnedKey rsa.example.org $work/rsakeys/r.crt.pem")

cpu_ms() { [ -n "$1" ] && awk '{print ($14 + $15) * 10}' "/proc/$1/stat" 2>/dev/null || echo 0; }  # utime+stime at 100 Hz
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

once() {  # LABEL MILTER-SPEC PID MESSAGE-FILE -> "rate cpu delivered"
  local label="$1" milter="$2" pid="$3" file="$4" port d cpu0 start end sent
  cpu0=$(cpu_ms "$pid")
  port=$(free_port)
  make_postfix "$label" "$port" "$milter" discard
  d="$work/pf-$label"
  start=$(date +%s.%N)
  local shape=(-l 4096)  # smtp-source's own 4 KB message, or a file's (-F excludes -l)
  [ -n "$file" ] && shape=(-F "$file")
  smtp-source -A -s "$sessions" -m "$n" "${shape[@]}" -f a@example.org -t b@example.net \
    "127.0.0.1:$port" 2>"$d/source.err"
  for _ in $(seq 600); do
    [ -z "$(find "$d/spool/incoming" "$d/spool/active" "$d/spool/maildrop" -type f 2>/dev/null | head -1)" ] && break
    sleep 0.1
  done
  end=$(date +%s.%N)
  sent=$(grep -c "status=sent" "$d/maillog")
  postfix -c "$d" stop >/dev/null 2>&1
  python3 -c "print(round($n / ($end - $start)), '%.3f' % (($(cpu_ms "$pid") - $cpu0) / $n), $sent)"
}

run() {  # LABEL MILTER-SPEC [MILTER-PID] [MESSAGE-FILE] [MTASD-LOG]
  local label="$1" milter="$2" pid="${3:-}" file="${4:-}" log="${5:-}" rates=() cpus=() delivered=() i r c s
  local passed0=0 passed min_sent extra=""
  [[ "$label" =~ ${MTAS_BENCH_ONLY:-.} ]] || return 0  # MTAS_BENCH_ONLY=REGEX: only the matching rows
  [ -n "$log" ] && passed0=$(grep -c "hop1=pass/" "$log")
  for i in $(seq "$runs"); do
    read -r r c s < <(once "$label-$i" "$milter" "$pid" "$file")
    rates+=("$r"); cpus+=("$c"); delivered+=("$s")
  done
  min_sent=$(printf '%s\n' "${delivered[@]}" | sort -n | head -1)
  if [ -n "$log" ]; then
    passed=$(($(grep -c "hop1=pass/" "$log") - passed0))
    extra="   passed $passed of $((n * runs))"
    [ "$passed" = $((n * runs)) ] || { extra="$extra   NOT ALL PASSED"; failed=1; }
  fi
  [ "$min_sent" = "$n" ] || { extra="$extra   LOST MAIL"; failed=1; }
  results+=("$(printf '%-32s %6s msgs/s   milter CPU %6s ms/msg   delivered %6s of %s%s' "$label" \
    "$(median "${rates[@]}")" "$([ -n "$pid" ] && median "${cpus[@]}" || echo -)" "$min_sent" "$n" "$extra")")
  echo "${results[-1]}   (runs: ${rates[*]})"
}
inet_of() { sed -n 's/^Socket inet:\([0-9]*\)@.*/inet:127.0.0.1:\1/p' "$work/$1.conf"; }

run postfix-no-milter none

# The protocol's floor: a milter that asks for the same events as mtasd and
# does nothing with them (bench/null_milter.c). mtasd's CPU above its row is
# mtasd's own work.
if cc -O2 -o "$work/null_milter" "$root/bench/null_milter.c" 2>"$work/null_milter.err"; then
  for t in tcp unix; do
    [[ "null-milter-$t" =~ ${MTAS_BENCH_ONLY:-.} ]] || continue
    if [ "$t" = tcp ]; then port=$(free_port); nm=("inet:$port"); spec="inet:127.0.0.1:$port"
    else nm=("unix:$work/null.sock"); spec="unix:$work/null.sock"; fi
    "$work/null_milter" "${nm[@]}" &
    pid=$!
    pids+=("$pid")
    for _ in $(seq 50); do { [ "$t" = tcp ] || [ -S "$work/null.sock" ]; } && break; sleep 0.1; done
    sleep 0.1
    [ "$t" = unix ] && chmod 666 "$work/null.sock"
    run "null-milter-$t" "$spec" "$pid"
    kill "$pid" 2>/dev/null
  done
else
  echo "(bench/null_milter.c did not build: $(head -1 "$work/null_milter.err"); its rows are missing)"
fi

write_mtasd signtcp sign "inet:$(free_port)@127.0.0.1" mx.example.org "KeyTable $work/keys.tab" "Carrier header"
start_mtasd signtcp
run mtasd-sign-ed25519-tcp "$(inet_of signtcp)" "${mtasd_pid[signtcp]}"

write_mtasd signunix sign "unix:$work/mtasd.sock" mx.example.org "KeyTable $work/keys.tab" "Carrier header"
start_mtasd signunix
chmod 666 "$work/mtasd.sock"
run mtasd-sign-ed25519-unix "unix:$work/mtasd.sock" "${mtasd_pid[signunix]}"

write_mtasd verifytcp verify "inet:$(free_port)@127.0.0.1" mx.example.org "${pins[@]}"
start_mtasd verifytcp
run mtasd-verify-ed25519-tcp "$(inet_of verifytcp)" "${mtasd_pid[verifytcp]}" "$work/signed.eml" "$work/mtasd-verifytcp.log"

write_mtasd verifyunix verify "unix:$work/mtasd-v.sock" mx.example.org "${pins[@]}"
start_mtasd verifyunix
chmod 666 "$work/mtasd-v.sock"
run mtasd-verify-ed25519-unix "unix:$work/mtasd-v.sock" "${mtasd_pid[verifyunix]}" "$work/signed.eml" \
  "$work/mtasd-verifyunix.log"
run mtasd-verify-rsa2048-tcp "$(inet_of verifytcp)" "${mtasd_pid[verifytcp]}" "$work/signed-rsa.eml" "$work/mtasd-verifytcp.log"
run mtasd-verify-rsa2048-unix "unix:$work/mtasd-v.sock" "${mtasd_pid[verifyunix]}" "$work/signed-rsa.eml" \
  "$work/mtasd-verifyunix.log"

# opendkim_conf ALG(rsa|ed25519) SOCKET -> $work/opendkim-ALG.conf for that socket
opendkim_conf() {
  local alg="$1" key="$work/dkim-$1.key"
  if [ ! -f "$key" ]; then
    if [ "$alg" = rsa ]; then
      openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:2048 -out "$key" 2>/dev/null
    else
      openssl genpkey -algorithm ed25519 -out "$key" 2>/dev/null
    fi
    chmod 600 "$key"
  fi
  printf '%s\n' "Mode s" "Domain example.org" "Selector s" "KeyFile $key" "Socket $2" "Syslog no" "UserID root" \
    "UMask 000" "SignatureAlgorithm $([ "$alg" = rsa ] && echo rsa-sha256 || echo ed25519-sha256)" \
    "Canonicalization relaxed/relaxed" "RequireSafeKeys no" >"$work/opendkim-$alg.conf"
}
opendkim_row() {  # ALG(rsa|ed25519) tcp|unix
  local alg="$1" transport="$2" socket spec pid port
  [[ "opendkim-sign-$([ "$alg" = rsa ] && echo rsa2048 || echo ed25519)-$transport" =~ ${MTAS_BENCH_ONLY:-.} ]] || return 0
  if [ "$transport" = tcp ]; then
    port=$(free_port); socket="inet:$port@127.0.0.1"; spec="inet:127.0.0.1:$port"
  else
    socket="local:$work/opendkim-$alg.sock"; spec="unix:$work/opendkim-$alg.sock"
  fi
  opendkim_conf "$alg" "$socket"
  opendkim -f -x "$work/opendkim-$alg.conf" 2>"$work/opendkim-$alg-$transport.log" &
  pid=$!
  pids+=("$pid")
  sleep 1
  run "opendkim-sign-$([ "$alg" = rsa ] && echo rsa2048 || echo ed25519)-$transport" "$spec" "$pid"
  kill "$pid" 2>/dev/null
}
if command -v opendkim >/dev/null; then
  for alg in rsa ed25519; do for t in tcp unix; do opendkim_row "$alg" "$t"; done; done
else
  echo "(opendkim not installed: its rows are missing)"
fi

echo
echo "== $n messages of 4 KB, $sessions SMTP sessions, one Postfix, discard delivery; medians of $runs runs"
printf '%s\n' "${results[@]}"

# ---- The three-hop chain: A signs, B verifies and re-signs, C verifies ------
# (msgs/s until C has delivered every message; 0 lost is checked)
[ "${MTAS_BENCH_CHAIN:-1}" = 1 ] || exit "$failed"  # MTAS_BENCH_CHAIN=0: one Postfix only
"$mtas" keygen --algorithm ecdsa-p256 --signer relay.example.org --selector r --out "$work/keys" >/dev/null
printf 'r %s relay.example.org\n' "$work/keys/r.key.pem" >"$work/relay.tab"
chain_results=()
failed=0
chain() {  # LABEL MILTER_A MILTER_B MILTER_C [C's MTASD-LOG]
  local label="$1" log="${5:-}" ports=() i d start end sent passed0=0 extra=""
  [ -n "$log" ] && passed0=$(grep -c "hop1=pass/" "$log")
  for i in 0 1 2; do ports+=("$(free_port)"); done
  make_postfix "$label-C" "${ports[2]}" "$4" discard
  make_postfix "$label-B" "${ports[1]}" "$3" "${ports[2]}"
  make_postfix "$label-A" "${ports[0]}" "$2" "${ports[1]}"
  d="$work/pf-$label-C"
  start=$(date +%s.%N)
  smtp-source -A -s "$sessions" -m "$n" -l 4096 -f a@example.org -t b@example.net "127.0.0.1:${ports[0]}" 2>/dev/null
  for _ in $(seq 1800); do
    sent=$(grep -c "status=sent" "$d/maillog")
    [ "$sent" -ge "$n" ] && break
    sleep 0.2
  done
  end=$(date +%s.%N)
  [ "$sent" = "$n" ] || { extra="   LOST MAIL"; failed=1; }
  if [ -n "$log" ]; then  # every message's first signature verified at C
    passed=$(($(grep -c "hop1=pass/" "$log") - passed0))
    extra="   passed at C $passed of $n$extra"
    [ "$passed" = "$n" ] || { extra="$extra   NOT ALL PASSED"; failed=1; }
  fi
  chain_results+=("$(printf '%-40s %6s msgs/s   delivered at C %6s of %s%s' "$label" \
    "$(python3 -c "print(round($n / ($end - $start)))")" "$sent" "$n" "$extra")")
  echo "${chain_results[-1]}"
  for h in A B C; do postfix -c "$work/pf-$label-$h" stop >/dev/null 2>&1; done
}
chain chain-no-milters none none none
write_mtasd chainB both "inet:$(free_port)@127.0.0.1" relay.example.org "KeyTable $work/relay.tab" "InternalHosts 192.0.2.1" \
  "PinnedKey mail.example.org $work/keys/s.crt.pem"
write_mtasd chainC verify "inet:$(free_port)@127.0.0.1" mx.example.net "PinnedKey mail.example.org $work/keys/s.crt.pem" \
  "PinnedKey relay.example.org $work/keys/r.crt.pem"
start_mtasd chainB
start_mtasd chainC
sock() { sed -n 's/^Socket inet:\([0-9]*\)@.*/inet:127.0.0.1:\1/p' "$work/$1.conf"; }
chain chain-mtasd-A-B-C "$(sock signtcp)" "$(sock chainB)" "$(sock chainC)" "$work/mtasd-chainC.log"
if command -v opendkim >/dev/null; then
  oport=$(free_port)
  opendkim_conf ed25519 "inet:$oport@127.0.0.1"
  opendkim -f -x "$work/opendkim-ed25519.conf" 2>"$work/opendkim-chain.log" &
  pids+=($!)
  sleep 1
  chain chain-opendkim-A-mtasd-B-C "inet:127.0.0.1:$oport" "$(sock chainB)" "$(sock chainC)" "$work/mtasd-chainC.log"
fi
echo
echo "== the same through three Postfix instances (A -> B -> C)"
printf '%s\n' "${chain_results[@]}"
exit "$failed"
