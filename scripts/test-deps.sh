#!/usr/bin/env bash
# Installs what the tests need on top of scripts/deps.sh (idempotent): real
# servers, mail programs, readers, fuzzing and style tools. A mail server
# that only runs mtas needs none of these.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/deps.sh" \
  libgtest-dev libgmock-dev libbenchmark-dev gnutls-bin openssl python3 \
  nsd ldnsutils tftpd-hpa python3-pyftpdlib slapd sks gnupg `# real servers the tests start, gpg for their keys` \
  postfix python3-dkim opendkim `# the end-to-end chains and DKIM coexistence` \
  mlmmj mailman3 `# real mailing-list managers in tests/e2e/lists.sh` \
  chromium `# headless, renders the trace page in tests/cli/trace_html.sh` \
  python3-gi gir1.2-gmime-3.0 neomutt tmux `# the readers in tests/readers/reader_matrix.sh` \
  clang libclang-rt-14-dev valgrind faketime `# fuzzing, valgrind on the bad-input corpus` \
  softhsm2 libengine-pkcs11-openssl opensc `# keys in a token (tests/integration/pkcs11.sh)` \
  clang-format shellcheck `# the style checks (structure.format, structure.shellcheck)` \
  libmariadb3 libspf2-2 `# what exim4-daemon-heavy links, for tests/e2e/exim.sh`

# Exim cannot be installed beside Postfix (each is the system MTA), so
# tests/e2e/exim.sh runs Debian's exim4-daemon-heavy from its own directory:
# the package is downloaded here, and the user it is built to run as made,
# as its own package scripts would.
cache=/var/cache/mtas-tests
if ! compgen -G "$cache/exim4-daemon-heavy_*.deb" >/dev/null; then
  mkdir -p "$cache"
  (cd "$cache" && apt-get download -o APT::Sandbox::User=root exim4-daemon-heavy >/dev/null)
fi
getent passwd Debian-exim >/dev/null ||
  adduser --system --group --allow-bad-names --no-create-home --home /nonexistent Debian-exim >/dev/null
