#!/usr/bin/env bash
# The installed libmtas: `cmake --install` into a fresh prefix, then a small
# program outside the project is built against it with find_package(mtas)
# (static and shared) and with pkg-config, and each verifies a signed message.
#   run.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build="$1"; root="$2"
. "$root/tests/integration/lib.sh"
prefix="$work/prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null || { echo "cmake --install failed"; exit 1; }
for f in include/mtas/verify.h lib/libmtas.a lib/libmtas.so lib/cmake/mtas/mtasConfig.cmake lib/pkgconfig/mtas.pc; do
  [ -e "$prefix/$f" ] || fail "not installed: $f"
done
"$prefix/bin/mtas" keygen --algorithm ed25519 --signer mail.example.com --selector a --out "$work/keys" >/dev/null
"$prefix/bin/mtas" sign --key "$work/keys/a.key.pem" --signer mail.example.com \
  "$root/examples/messages/mixed-attachment.eml" "$work/signed.eml" || fail "the installed mtas did not sign"
expect_pass() {  # PROGRAM LABEL
  local got
  got=$(LD_LIBRARY_PATH="$prefix/lib" "$1" "$work/signed.eml" mail.example.com "$work/keys/a.crt.pem")
  if [ "$got" = pass ]; then echo "ok: $2 verifies: pass"; else fail "$2: got '$got', want pass"; fi
}
if ! { cmake -S "$root/tests/install/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null &&
  cmake --build "$work/consumer" >/dev/null; }; then fail "find_package(mtas) build failed"; fi
for kind in static shared; do
  [ -x "$work/consumer/consumer_$kind" ] && expect_pass "$work/consumer/consumer_$kind" "find_package, $kind"
done
pc=$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs mtas) || fail "pkg-config mtas failed"
read -ra flags <<<"$pc"
if g++ -std=c++20 -o "$work/consumer_pc" "$root/tests/install/consumer/main.cc" "${flags[@]}"; then
  expect_pass "$work/consumer_pc" "pkg-config"
else
  fail "the pkg-config build failed"
fi
[ "$fails" = 0 ] && echo "install: all checks passed"
exit "$fails"
