#!/usr/bin/env bash
# The README's test command: installs dependencies, then
#   1. builds and runs every test (CTest), then `mtas verify` under valgrind
#      on the bad-input corpus (tests/bad/);
#   2. builds everything again with AddressSanitizer + UndefinedBehaviorSanitizer
#      and the portable (non-SSE2) byte scanning (build-asan/), and runs the
#      whole suite on that build;
#   3. replays the saved fuzz regressions and fuzzes every parser briefly
#      (fuzz/run.sh, clang + libFuzzer, MTAS_FUZZ_SECONDS per target, default 10).
# MTAS_QUICK=1 runs step 1 only. Extra arguments go to ctest.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/test-deps.sh"

echo "== 1/3 tests"
# A warning fails the build; the benchmarks' quick runs are tests here too.
"$root/scripts/build.sh" -DMTAS_WERROR=ON -DMTAS_BENCH_TESTS=ON
(cd "${MTAS_BUILD_DIR:-$root/build}" && ctest --output-on-failure -j 2 "$@")
[ "${MTAS_QUICK:-0}" = 1 ] && exit 0
echo "== 1/3 mtas verify under valgrind on the bad-input corpus"
MTAS_VALGRIND=1 bash "$root/tests/bad/run.sh" "${MTAS_BUILD_DIR:-$root/build}/mtas" "$root"

echo "== 2/3 tests under ASan + UBSan"
asan="$root/build-asan"
# It also takes the portable scanning code (no SSE2), so both paths are tested.
MTAS_BUILD_DIR="$asan" "$root/scripts/build.sh" -DMTAS_SANITIZE=ON -DMTAS_BUILD_BENCH=OFF -DMTAS_PORTABLE_SCAN=ON
# Any sanitizer report ends the process with an error, so the test that ran it fails.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export MTAS_TEST_TIME_FACTOR=3  # tests that bound a wait in wall time allow for the slower build
(cd "$asan" && ctest --output-on-failure -j 2 "$@")
unset ASAN_OPTIONS UBSAN_OPTIONS MTAS_TEST_TIME_FACTOR

echo "== 3/3 fuzz smoke"
"$root/fuzz/run.sh" "${MTAS_FUZZ_SECONDS:-10}"
