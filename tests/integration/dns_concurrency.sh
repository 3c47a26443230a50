#!/usr/bin/env bash
# DNS under load: many threads share one DnsClient (as mtasd's sessions do)
# while a name server never answers one zone. Lookups in the other zone
# must keep being answered while those wait for their deadline (no
# head-of-line blocking); the dead ones must never be answered. nsd serves the
# zones; a relay in front of it drops the dead zone's queries. The rates are
# printed (measured, not asserted).
#   dns_concurrency.sh DNS_LOAD SOURCE_DIR
set -uo pipefail
load="$1"; root="$2"
. "$root/tests/integration/lib.sh"
command -v nsd >/dev/null || { echo "missing nsd (scripts/test-deps.sh installs it)"; exit 1; }
{ soa good.test.; echo '*.good.test. 300 IN TXT "ok"'; } >"$work/good.zone"
{ soa dead.test.; echo '*.dead.test. 300 IN TXT "never seen"'; } >"$work/dead.zone"
start_nsd "$work" good.test:good.zone dead.test:dead.zone || exit 1
relay_port=$(free_port)
python3 "$root/tests/integration/dns_relay.py" "$relay_port" "$dns_port" dead.test &
pids+=($!)
sleep 0.3
"$load" "127.0.0.1:$relay_port" good.test dead.test 4 4 "${MTAS_DNS_LOAD_SECONDS:-4}" 1000 >"$work/out" 2>&1 ||
  { cat "$work/out"; fail "dns_load failed"; }
sed 's/^/  /' "$work/out"
get() { awk -v k="$1" '$1 == k { print $2 }' "$work/out"; }
[ "$(get baseline_good_failed)" = 0 ] || fail "good lookups failed without load"
[ "$(get with_dead_good_failed)" = 0 ] || fail "good lookups failed while the dead zone's waited"
# Head-of-line blocking shows as good lookups queued behind dead ones: one
# lookup at a time per context let 4 good per second through (a thousandth
# of the rate without load). Fifty good lookups per dead timeout is far
# below what a shared context gives even under a sanitizer, and far above
# what a serialised one can.
# A dead lookup ends at its deadline or, when libunbound gives up on the
# server first, as a failure; those that waited 100 ms or more count.
good_answers=$(awk -v r="$(get with_dead_good_per_s)" -v s="${MTAS_DNS_LOAD_SECONDS:-4}" 'BEGIN { print int(r * s) }')
waited=$(get dead_waited)
waited=${waited:-0}
if [ "$waited" -gt 0 ] && [ "$good_answers" -lt $((50 * waited)) ]; then
  fail "only $good_answers good lookups beside $waited dead ones that waited: head-of-line blocking"
fi
[ "$(get good_before_first_dead_timeout)" -gt 0 ] 2>/dev/null ||
  fail "no good lookup finished while the dead zone's waited: head-of-line blocking"
[ "$waited" -gt 0 ] || fail "no lookup of the dead zone waited for an answer"
[ "$(get dead_answered)" = 0 ] || fail "the dead zone answered"
[ "$fails" = 0 ] && echo "dns concurrency: all checks passed"
exit "$fails"
