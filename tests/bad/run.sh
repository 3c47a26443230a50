#!/usr/bin/env bash
# The bad-input corpus (tests/bad/README.md). For every case of expected.tsv:
#  - `mtas verify` gives the expected result, exit status and reason, in one-line
#    reasons, within 2 s, without a crash and without changing the file;
#  - `mtas sign` with each carrier (auto, body, header) either refuses with one
#    line on stderr, or writes a message on which the signature it added is `pass`.
#   usage: run.sh MTAS_BINARY SOURCE_DIR    (MTAS_VALGRIND=1: verify runs under valgrind;
#   MTAS_TEST_TIME_FACTOR, set for sanitizer builds, multiplies every time limit)
set -uo pipefail
mtas="$1"; here="$2/tests/bad"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir "$work/json"; : >"$work/checks"; : >"$work/failed"
fail() { echo "FAIL: $name: $*"; echo "$name" >>"$work/failed"; }
pin=(--no-network --key-file "bad.example=$here/keys/k.crt.pem")
declare -A status=([pass]=0 [fail]=1 [none]=2 [temperror]=3 [permerror]=4 [partial]=5 [neutral]=6)
factor=${MTAS_TEST_TIME_FACTOR:-1}
valgrind=()
[ "${MTAS_VALGRIND:-0}" = 1 ] && valgrind=(valgrind --error-exitcode=99 --leak-check=full -q)

# run SECONDS WHAT OUT command...: stdout to OUT, stderr to $work/err, exit status in
# rc; false (and a failure) on a hang, a signal, a valgrind error or sanitizer output.
run() {
  local secs="$1" what="$2" out="$3"; shift 3
  timeout -k 1 "$secs" "$@" >"$out" 2>"$work/err"; rc=$?
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then fail "$what hangs (over $secs s)"
  elif [ "$rc" -ge 125 ]; then fail "$what crashes (exit $rc): $(head -c 300 "$work/err")"
  elif [ "$rc" = 99 ] && [ ${#valgrind[@]} -gt 0 ]; then fail "$what: valgrind: $(head -c 600 "$work/err")"
  elif grep -qE 'Sanitizer|runtime error:' "$work/err"; then fail "$what: $(head -n 3 "$work/err")"
  else return 0; fi
  return 1
}
stderr_lines() {  # N WHAT
  [ "$(wc -l <"$work/err")" = "$1" ] || fail "$2: stderr has $(wc -l <"$work/err") lines: $(head -c 200 "$work/err")"
}

python3 "$here/make_large.py" "$here/cases" "$work/large" || { echo "FAIL: make_large.py"; exit 1; }
for f in "$here"/cases/*.eml; do
  name=$(basename "$f" .eml)
  grep -q "^$name	" "$here/expected.tsv" || fail "cases/$name.eml has no line in expected.tsv"
done

cases=0
while IFS=$'\t' read -r name want reason; do
  case "$name" in '' | '#'*) continue ;; esac
  cases=$((cases + 1))
  msg="$here/cases/$name.eml"; slow=$((2 * factor))
  case "$name" in large-*) msg="$work/large/$name.eml"; slow=$((5 * factor)) ;; esac
  [ -f "$msg" ] || { fail "no file $msg"; continue; }
  before=$(sha256sum <"$msg")

  # verify: exit status here, the JSON report in check.py; stderr empty or one line
  secs=$((2 * factor)); [ ${#valgrind[@]} -gt 0 ] && secs=$((60 * factor))
  report="$work/json/$name.verify"
  if run "$secs" verify "$report" "${valgrind[@]}" "$mtas" verify "${pin[@]}" --json "$msg"; then
    [ "$rc" = "${status[$want]}" ] || fail "verify exits $rc, want ${status[$want]} ($want)"
    printf '%s\tverify\t%s\t%s\t%s\n' "$name" "$report" "$want" "$reason" >>"$work/checks"
    [ -s "$work/err" ] && stderr_lines 1 verify
  fi

  # sign with each carrier: a one-line refusal, or output whose new signature
  # (its msgid is on line 1) passes
  for carrier in auto body header; do
    signed="$work/signed.eml"; rm -f "$signed"
    run "$slow" "sign --carrier $carrier" /dev/null \
      "$mtas" sign --carrier "$carrier" --key "$here/keys/k.key.pem" --signer bad.example "$msg" "$signed" || continue
    if [ "$rc" != 0 ]; then stderr_lines 1 "sign --carrier $carrier (exit $rc)"; continue; fi
    if ! [[ "$(head -c 100 "$signed")" =~ ^X-PostalTracking:\ MTAS/1.0\ msgid=([A-Z0-9]+) ]]; then
      fail "sign --carrier $carrier: the output does not start with a tracking header"; continue
    fi
    id="${BASH_REMATCH[1]}"; report="$work/json/$name.$carrier"
    run "$slow" "verify of the output of sign --carrier $carrier" "$report" "$mtas" verify "${pin[@]}" --json "$signed" &&
      printf '%s\tsigned\t%s\t%s\t%s\n' "$name" "$report" "$id" "$carrier" >>"$work/checks"
  done
  [ "$(sha256sum <"$msg")" = "$before" ] || fail "the file changed"
done <"$here/expected.tsv"

python3 "$here/check.py" "$work/checks" | tee "$work/checked"
sed -n 's/^FAIL: \([^:]*\):.*/\1/p' "$work/checked" >>"$work/failed"
fails=$(sort -u "$work/failed" | grep -c .)
echo "bad corpus: $cases cases, $fails failures"
[ "$fails" = 0 ]
