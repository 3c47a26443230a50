#!/usr/bin/env bash
# Installs what building and testing mtas needs on Debian 12 (idempotent).
set -euo pipefail
packages=(cmake g++ make pkg-config libssl-dev openssl libgtest-dev libgmock-dev libbenchmark-dev gnutls-bin python3
          libunbound-dev libcurl4-openssl-dev publicsuffix
          nsd ldnsutils tftpd-hpa python3-pyftpdlib)  # the last line: real servers the tests start
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
