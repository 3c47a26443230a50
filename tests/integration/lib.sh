# shellcheck shell=bash
# Shared by the integration tests: ephemeral ports, an nsd serving zone
# files on 127.0.0.1, and cleanup of everything started.
#   . lib.sh; start_nsd DIR ZONE:FILE...   -> sets dns_port
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; [ -n "${MTAS_KEEP_WORK:-}" ] || rm -rf "$work"; }
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# soa ZONE. -> SOA, NS and glue lines for a test zone
# shellcheck disable=SC2016  # $TTL is zone-file syntax, not a shell variable
soa() { printf '$TTL 300\n%s IN SOA ns.%s hostmaster.%s 1 3600 600 86400 300\n%s IN NS ns.%s\nns.%s IN A 127.0.0.1\n' "$1" "$1" "$1" "$1" "$1" "$1"; }

start_nsd() {  # DIR ZONE:FILE...
  local dir="$1"; shift
  dns_port=${keep_dns_port:-$(free_port)}  # keep_dns_port: restart on the same port
  {
    printf 'server:\n  ip-address: 127.0.0.1@%s\n  port: %s\n  username: ""\n  database: ""\n  rrl-ratelimit: 0\n' "$dns_port" "$dns_port"
    printf '  zonelistfile: "%s/zone.list"\n  xfrdfile: "%s/xfrd.state"\n  pidfile: "%s/nsd.pid"\n' "$dir" "$dir" "$dir"
    printf '  logfile: "%s/nsd.log"\n  zonesdir: "%s"\n  verbosity: 1\nremote-control:\n  control-enable: no\n' "$dir" "$dir"
    for z in "$@"; do printf 'zone:\n  name: %s\n  zonefile: %s\n' "${z%%:*}" "${z#*:}"; done
  } >"$dir/nsd.conf"
  nsd -d -c "$dir/nsd.conf" >"$dir/nsd.out" 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do
    if grep -q "nsd started" "$dir/nsd.log" 2>/dev/null; then
      grep -q "error:" "$dir/nsd.log" && { echo "nsd: zone errors"; grep "error:" "$dir/nsd.log"; return 1; }
      return 0
    fi
    sleep 0.1
  done
  echo "nsd did not start"; cat "$dir/nsd.out" "$dir/nsd.log" 2>/dev/null; return 1
}

# verify_expects NAME SIGNED METHOD WANT-RESULT WANT-IN-REASON TIMEOUT-MS CONNECT-TO [WANT-TRUST-ON-PASS]:
# `mtas verify --json` of SIGNED ($mtas), whose first signature must end WANT-RESULT,
# found by METHOD, with WANT-IN-REASON in its reason; the time it took in $ms.
# shellcheck disable=SC2154  # mtas: the tests that source this set it
verify_expects() {
  local name="$1" signed="$2" method="$3" want="$4" why="$5" timeout="$6" connect="$7" trust="${8:-}" start
  start=$(date +%s%N)
  "$mtas" verify --json --timeout "$timeout" --connect-to "$connect" "$signed" >"$work/r.json" 2>"$work/err"
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  if python3 - "$work/r.json" "$want" "$why" "$method" "$trust" <<'PY'; then
import json, sys
r = json.load(open(sys.argv[1]))["signatures"][0]
want, why, method, trust = sys.argv[2:6]
assert r["result"] == want, f"result {r['result']} ({r['reason']}), want {want}"
assert why in r["reason"], f"reason {r['reason']!r} does not say {why!r}"
assert r["key_method"] == method, f"method {r['key_method']}"
assert not trust or want != "pass" or r["key_trust"] == trust, f"trust {r['key_trust']}"
PY
    echo "ok: $name -> $want in $ms ms"
  else
    fail "$name ($ms ms)"; head -c 1200 "$work/r.json"; echo; cat "$work/err"
  fi
}
