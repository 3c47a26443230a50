#!/usr/bin/env bash
# Milter throughput through one real Postfix (discard delivery), side by
# side in one run: no milter, mtasd signing over TCP and a unix socket,
# mtasd verifying, and OpenDKIM signing (Debian's opendkim) when installed.
#   bench/milter_load.sh [MESSAGES=10000] [SESSIONS=20]
# Prints msgs/s and the delivered count for each; 0 lost is checked.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
n="${1:-10000}"; sessions="${2:-20}"
mtas="${MTAS_BUILD_DIR:-$root/build}/mtas"; mtasd="${MTAS_BUILD_DIR:-$root/build}/mtasd"
[ -x "$mtasd" ] || { echo "build first: bash scripts/build.sh"; exit 1; }
command -v smtp-source >/dev/null || PATH="$PATH:/usr/sbin"
if [ -n "${MTAS_BENCH_INSTALL:-1}" ] && ! command -v opendkim >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq opendkim opendkim-tools >/dev/null 2>&1 || true
fi
. "$root/tests/e2e/lib_postfix.sh"

"$mtas" keygen --algorithm ed25519 --signer mail.example.org --selector s --out "$work/keys" >/dev/null
printf 's %s mail.example.org\n' "$work/keys/s.key.pem" >"$work/keys.tab"
results=()

cpu_ms() { [ -n "$1" ] && awk '{print ($14 + $15) * 10}' "/proc/$1/stat" 2>/dev/null || echo 0; }  # utime+stime at 100 Hz

run() {  # LABEL MILTER-SPEC [MILTER-PID]
  local label="$1" milter="$2" pid="${3:-}" port d cpu0
  cpu0=$(cpu_ms "$pid")
  port=$(free_port)
  make_postfix "$label" "$port" "$milter" discard
  d="$work/pf-$label"
  local start end sent
  start=$(date +%s.%N)
  smtp-source -A -s "$sessions" -m "$n" -l 4096 -f a@example.org -t b@example.net "127.0.0.1:$port" 2>"$d/source.err"
  for _ in $(seq 600); do
    [ -z "$(find "$d/spool/incoming" "$d/spool/active" "$d/spool/maildrop" -type f 2>/dev/null | head -1)" ] && break
    sleep 0.1
  done
  end=$(date +%s.%N)
  sent=$(grep -c "status=sent" "$d/maillog")
  local rate
  rate=$(python3 -c "print(round($n / ($end - $start)))")
  local cpu
  cpu=$(python3 -c "print('%.3f' % (($(cpu_ms "$pid") - $cpu0) / $n))")
  results+=("$(printf '%-32s %8s msgs/s   milter CPU %6s ms/msg   delivered %6s of %s%s' "$label" "$rate" \
                "$([ -n "$pid" ] && echo "$cpu" || echo -)" "$sent" "$n" "$([ "$sent" = "$n" ] && echo '' || echo '   LOST MAIL')")")
  postfix -c "$d" stop >/dev/null 2>&1
  echo "${results[-1]}"
}

run postfix-no-milter none

write_mtasd signtcp sign "inet:$(free_port)@127.0.0.1" mx.example.org "KeyTable $work/keys.tab" "Carrier header"
start_mtasd signtcp
run mtasd-sign-ed25519-tcp "$(sed -n 's/^Socket inet:\([0-9]*\)@.*/inet:127.0.0.1:\1/p' "$work/signtcp.conf")" "$mtasd_signtcp"

write_mtasd signunix sign "unix:$work/mtasd.sock" mx.example.org "KeyTable $work/keys.tab" "Carrier header"
start_mtasd signunix
chmod 666 "$work/mtasd.sock"
run mtasd-sign-ed25519-unix "unix:$work/mtasd.sock" "$mtasd_signunix"

write_mtasd verifytcp verify "inet:$(free_port)@127.0.0.1" mx.example.org
start_mtasd verifytcp
run mtasd-verify-tcp "$(sed -n 's/^Socket inet:\([0-9]*\)@.*/inet:127.0.0.1:\1/p' "$work/verifytcp.conf")" "$mtasd_verifytcp"

if command -v opendkim >/dev/null; then
  openssl genpkey -algorithm ed25519 -out "$work/dkim.key" 2>/dev/null
  chmod 600 "$work/dkim.key"
  oport=$(free_port)
  cat >"$work/opendkim.conf" <<EOF
Mode s
Domain example.org
Selector s
KeyFile $work/dkim.key
Socket inet:$oport@127.0.0.1
Syslog no
UserID root
SignatureAlgorithm ed25519-sha256
Canonicalization relaxed/relaxed
RequireSafeKeys no
EOF
  opendkim -f -x "$work/opendkim.conf" 2>"$work/opendkim.log" &
  pids+=($!)
  sleep 1
  run opendkim-sign-ed25519-tcp "inet:127.0.0.1:$oport" "${pids[-1]}"
else
  echo "(opendkim not installed: its row is missing)"
fi

echo
echo "== $n messages of 4 KB, $sessions SMTP sessions, one Postfix, discard delivery"
printf '%s\n' "${results[@]}"

# ---- The three-hop chain: A signs, B verifies and re-signs, C verifies ------
# (msgs/s until C has delivered every message; 0 lost is checked)
[ "${MTAS_BENCH_CHAIN:-1}" = 1 ] || exit 0  # MTAS_BENCH_CHAIN=0: one Postfix only
"$mtas" keygen --algorithm ecdsa-p256 --signer relay.example.org --selector r --out "$work/keys" >/dev/null
printf 'r %s relay.example.org\n' "$work/keys/r.key.pem" >"$work/relay.tab"
chain_results=()
chain() {  # LABEL MILTER_A MILTER_B MILTER_C
  local label="$1" ports=() i d start end sent
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
  chain_results+=("$(printf '%-40s %6s msgs/s   delivered at C %6s of %s%s' "$label" \
    "$(python3 -c "print(round($n / ($end - $start)))")" "$sent" "$n" "$([ "$sent" = "$n" ] && echo '' || echo '   LOST MAIL')")")
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
chain chain-mtasd-A-B-C "$(sock signtcp)" "$(sock chainB)" "$(sock chainC)"
if command -v opendkim >/dev/null; then
  chain chain-opendkim-A-mtasd-B-C "inet:127.0.0.1:$oport" "$(sock chainB)" "$(sock chainC)"
fi
echo
echo "== the same through three Postfix instances (A -> B -> C)"
printf '%s\n' "${chain_results[@]}"
