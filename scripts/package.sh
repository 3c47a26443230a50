#!/usr/bin/env bash
# Builds the Debian package: installs the build dependencies, builds mtas and
# mtasd without tests (Release, build-package/), and runs cpack.
#   bash scripts/package.sh     -> build-package/mtas_VERSION_ARCH.deb
# Install it with: sudo apt install ./build-package/mtas_*.deb
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${MTAS_PACKAGE_DIR:-$root/build-package}"
"$root/scripts/deps.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DMTAS_BUILD_TESTS=OFF -DMTAS_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j "$(nproc)"
(cd "$build" && cpack -G DEB)
ls -l "$build"/mtas_*.deb
