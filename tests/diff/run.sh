#!/usr/bin/env bash
# Verdict differential test: generated messages are signed, mutated and verified; a
# `pass` whose message Python's email package (policy.default, compat32) or GMime 3
# shows differently from the signed one is a verdict failure, and a `pass` of a message
# that mtas itself reads differently (`mtas inspect --view`: From domains, leaf parts,
# header field counts) from one of those readers is a view failure (verdict_diff.py says how).
# The key is made by verdict_diff.py in a throw-away directory under this script's
# temporary directory.
# Usage: run.sh MTAS_BINARY SOURCE_DIR
#   MTAS_DIFF_COUNT=N  number of cases (default 300: well under 60 s; use thousands for a long run)
#   MTAS_DIFF_SEED=S   seed (default 1; the cases are fixed by the seed)
#   MTAS_DIFF_KEEP=DIR keep the signed and mutated message of every failure in DIR
set -uo pipefail
mtas="$1"; root="$2"
count="${MTAS_DIFF_COUNT:-300}"
seed="${MTAS_DIFF_SEED:-1}"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

# GMime's typelib comes from Debian's python3-gi, which only the system python sees.
python=/usr/bin/python3
if ! "$python" -c 'import gi; gi.require_version("GMime", "3.0"); from gi.repository import GMime' 2>/dev/null; then
  echo "FAIL: GMime 3 for $python is missing (apt-get install python3-gi gir1.2-gmime-3.0)"
  exit 1
fi
[ -x "$mtas" ] || { echo "FAIL: $mtas is not an executable"; exit 1; }

keep="${MTAS_DIFF_KEEP:-$work/failures}"
TMPDIR="$work" "$python" "$root/tests/diff/verdict_diff.py" "$mtas" \
  --count "$count" --seed "$seed" --keep-failures "$keep"
status=$?
if [ "$status" != 0 ] && [ -z "${MTAS_DIFF_KEEP:-}" ]; then
  echo "(set MTAS_DIFF_KEEP=DIR to keep the failing messages; reproduce one case with" \
       "/usr/bin/python3 $root/tests/diff/verdict_diff.py $mtas --seed $seed --case N)"
fi
exit "$status"
