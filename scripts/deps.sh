#!/usr/bin/env bash
# Installs what building and testing mtas needs on Debian 12 (idempotent).
set -euo pipefail
packages=(cmake g++ make pkg-config libssl-dev openssl libgtest-dev libgmock-dev libbenchmark-dev gnutls-bin python3
          libunbound-dev libcurl4-openssl-dev publicsuffix libmilter-dev
          nsd ldnsutils tftpd-hpa python3-pyftpdlib  # real servers the tests start
          postfix python3-dkim                       # the end-to-end chain and DKIM coexistence
          mlmmj mailman3                             # real mailing-list managers in tests/e2e/lists.sh
          chromium                                   # headless, renders the trace page in tests/cli/trace_html.sh
          python3-gi gir1.2-gmime-3.0 neomutt tmux   # the readers in tests/readers/reader_matrix.sh
          clang libclang-rt-14-dev valgrind faketime  # fuzzing, valgrind on the bad-input corpus
          clang-format shellcheck)                   # the style checks (structure.format, structure.shellcheck)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  # Postfix without prompts and without a system configuration: the tests
  # run their own instances (postfix -c DIR).
  echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
