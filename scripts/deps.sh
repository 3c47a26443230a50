#!/usr/bin/env bash
# Installs what building and running mtas needs on Debian 12 (idempotent):
# the compiler and the -dev packages, and the run-time libraries mtas loads
# (libcurl, libunbound, libldap, librnp at first use, so also named here). Nothing for
# tests: scripts/test-deps.sh adds those.
#   deps.sh [EXTRA-PACKAGE...]
set -euo pipefail
packages=(cmake g++ make pkg-config dpkg-dev      # build, and the Debian package (cpack -G DEB)
          libssl-dev libunbound-dev libcurl4-openssl-dev libldap-dev libmilter-dev librnp-dev libjson-c-dev
          libssl3 libunbound8 libcurl4 libldap-2.5-0 librnp0 libjson-c5 publicsuffix dns-root-data  # run time
          "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  # Postfix (a test dependency) without prompts and without a system
  # configuration: the tests run their own instances (postfix -c DIR).
  echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
  # slapd (a test dependency) likewise: tests/integration/ldap.sh runs its own.
  echo "slapd slapd/no_configuration boolean true" | $SUDO debconf-set-selections
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
