#!/usr/bin/env bash
# Installs what the tests need on top of scripts/deps.sh (idempotent): real
# servers, mail programs, readers, fuzzing and style tools. A mail server
# that only runs mtas needs none of these.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
exec "$root/scripts/deps.sh" \
  libgtest-dev libgmock-dev libbenchmark-dev gnutls-bin openssl python3 \
  nsd ldnsutils tftpd-hpa python3-pyftpdlib `# real servers the tests start` \
  postfix python3-dkim opendkim `# the end-to-end chains and DKIM coexistence` \
  mlmmj mailman3 `# real mailing-list managers in tests/e2e/lists.sh` \
  chromium `# headless, renders the trace page in tests/cli/trace_html.sh` \
  python3-gi gir1.2-gmime-3.0 neomutt tmux `# the readers in tests/readers/reader_matrix.sh` \
  clang libclang-rt-14-dev valgrind faketime `# fuzzing, valgrind on the bad-input corpus` \
  softhsm2 libengine-pkcs11-openssl opensc `# keys in a token (tests/integration/pkcs11.sh)` \
  clang-format shellcheck `# the style checks (structure.format, structure.shellcheck)`
