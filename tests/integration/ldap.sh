#!/usr/bin/env bash
# The ldap:smime-keyserver key method against OpenLDAP's slapd from Debian
# on 127.0.0.1: the signer's certificate as userCertificate;binary of a
# directory entry, read with an anonymous search. Checked: the published
# certificate verifies (by the entry's DN and by a search filter); another
# key published fails; no entry is neutral; a certificate for another name
# fails; a value that is no certificate is a permerror; a directory outside
# the signer's domain is refused before any lookup; a server that is down or
# never answers is a temperror within the timeout.
#   ldap.sh MTAS SOURCE_DIR
# shellcheck disable=SC1091,SC2154  # work, fails: set by lib.sh
set -uo pipefail
mtas="$1"; root="$2"
for tool in slapd slapadd; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] ||
    { echo "missing $tool (scripts/test-deps.sh installs slapd)"; exit 1; }
done
. "$root/tests/integration/lib.sh"
msg="$root/examples/messages/mixed-attachment.eml"

for s in mail.example.test other.example.test; do
  "$mtas" keygen --algorithm ed25519 --signer "$s" --selector s1 --out "$work/keys/$s" >/dev/null
done
# another key of the same name: the directory publishes it, the message is signed with s1
"$mtas" keygen --algorithm rsa2048 --signer mail.example.test --selector s2 --out "$work/keys/mail.example.test" >/dev/null

# ---- the directory ------------------------------------------------------------------
mkdir -p "$work/db"
cat >"$work/slapd.conf" <<EOF
include /etc/ldap/schema/core.schema
pidfile $work/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
suffix "dc=example,dc=test"
rootdn "cn=admin,dc=example,dc=test"
directory $work/db
maxsize 10485760
access to * by * read
EOF
entry() {  # CN CERT-DER-FILE
  printf 'dn: cn=%s,ou=mtas,dc=example,dc=test\nobjectClass: applicationProcess\nobjectClass: strongAuthenticationUser\ncn: %s\nuserCertificate;binary:< file://%s\n\n' "$1" "$1" "$2"
}
printf 'this is not a certificate' >"$work/garbage.der"
{
  printf 'dn: dc=example,dc=test\nobjectClass: dcObject\nobjectClass: organization\no: test\ndc: example\n\n'
  printf 'dn: ou=mtas,dc=example,dc=test\nobjectClass: organizationalUnit\nou: mtas\n\n'
  entry mail.example.test "$work/keys/mail.example.test/s1.crt.der"
  # wrong key: the entry of mail.example.test's name holds another key's certificate
  entry wrong.mail.example.test "$work/keys/mail.example.test/s2.crt.der"
  # a certificate issued for another name
  entry othername.mail.example.test "$work/keys/other.example.test/s1.crt.der"
  entry garbage.mail.example.test "$work/garbage.der"
} >"$work/data.ldif"
/usr/sbin/slapadd -f "$work/slapd.conf" -l "$work/data.ldif" >"$work/slapadd.log" 2>&1 ||
  { echo "slapadd failed"; cat "$work/slapadd.log"; exit 1; }
ldap_port=$(free_port)
/usr/sbin/slapd -f "$work/slapd.conf" -h "ldap://127.0.0.1:$ldap_port/" -d 0 >"$work/slapd.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -n "$(ss -Hltn "sport = :$ldap_port" 2>/dev/null)" ] && break; sleep 0.1; done
[ -n "$(ss -Hltn "sport = :$ldap_port" 2>/dev/null)" ] || { echo "slapd did not start"; cat "$work/slapd.log"; exit 1; }

# A port that accepts and never answers, and one nobody listens on.
python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(8); print(s.getsockname()[1], flush=True); time.sleep(600)' >"$work/silent.port" &
pids+=($!)
for _ in $(seq 50); do [ -s "$work/silent.port" ] && break; sleep 0.1; done
silent_port=$(cat "$work/silent.port"); down_port=$(free_port)

# ---- the checks ---------------------------------------------------------------------
# check NAME WANT-RESULT URL [CONNECT-PORT] [TIMEOUT-MS] [WANT-IN-REASON]; the time taken in $ms
check() {
  local name="$1" want="$2" url="$3" port="${4:-$ldap_port}" timeout="${5:-3000}" why="${6:-}"
  [ -n "$port" ] || port=$ldap_port
  [ -n "$timeout" ] || timeout=3000
  "$mtas" sign --key "$work/keys/mail.example.test/s1.key.pem" --signer mail.example.test \
    --services "ldap:smime-keyserver $url" "$msg" "$work/signed.eml" || { fail "$name: signing"; return; }
  verify_expects "$name" "$work/signed.eml" ldap:smime-keyserver "$want" "$why" "$timeout" \
    "ldap.example.test:389:127.0.0.1:$port"
}
base="ldap://ldap.example.test:389"
check "the entry by its DN" pass "$base/cn=mail.example.test,ou=mtas,dc=example,dc=test"
check "the entry by a search filter" pass "$base/ou=mtas,dc=example,dc=test??sub?(cn=mail.example.test)"
check "another key published" fail "$base/cn=wrong.mail.example.test,ou=mtas,dc=example,dc=test" "" "" \
  "not the key that signed"
check "a certificate for another name" fail "$base/cn=othername.mail.example.test,ou=mtas,dc=example,dc=test" "" "" \
  "not issued for"
check "no such entry" neutral "$base/cn=nobody.mail.example.test,ou=mtas,dc=example,dc=test"
check "a value that is no certificate" permerror "$base/cn=garbage.mail.example.test,ou=mtas,dc=example,dc=test"
check "a directory outside the signer's domain" fail \
  "ldap://ldap.elsewhere.example/cn=mail.example.test,ou=mtas,dc=example,dc=test"
# libldap decodes %-escapes in the host: the host checked must be the one connected to.
check "an escaped host (evil%00.mail.example.test)" permerror \
  "ldap://ldap.elsewhere.example%00.mail.example.test/cn=mail.example.test,ou=mtas,dc=example,dc=test" "" "" \
  "plain name"
check "not an LDAP URL" permerror "cn=mail.example.test,ou=mtas,dc=example,dc=test"
check "the server is down" temperror "$base/cn=mail.example.test,ou=mtas,dc=example,dc=test" "$down_port"
check "the server never answers" temperror "$base/cn=mail.example.test,ou=mtas,dc=example,dc=test" "$silent_port" 1000
bound_ms=$((3000 * ${MTAS_TEST_TIME_FACTOR:-1}))
[ "$ms" -lt "$bound_ms" ] || fail "a silent LDAP server held verification for $ms ms (timeout 1000)"

[ "$fails" = 0 ] && echo "PASS: ldap:smime-keyserver against slapd"
exit "$fails"
