#!/usr/bin/env bash
# The http:pgp-keyserver key method against Debian's SKS key server on
# 127.0.0.1, with keys made by gpg: `mtas keygen --from-openpgp` turns each
# gpg secret key into the PEM key mtas signs with (checked against gpg's own
# export of the public key), the public key is uploaded over HKP, and
# `mtas verify` fetches it by fingerprint. Checked: Ed25519, RSA and ECDSA
# P-256 keys and a signing subkey pass; another key of the signer fails; a
# key whose user IDs name another domain fails; revoked, expired and
# encryption-only keys fail; a key not on the server is neutral; an answer
# that is not OpenPGP is a permerror; a server outside the signer's domain
# is refused; a server that is down or never answers is a temperror in time;
# keygen refuses a key without a user ID at the signer or with a passphrase;
# dns-record --check tells the published key from another.
#   pgp_keyserver.sh MTAS SOURCE_DIR
# shellcheck disable=SC1091,SC2154  # work, fails: set by lib.sh
set -uo pipefail
mtas="$1"; root="$2"
for tool in sks gpg curl; do
  command -v "$tool" >/dev/null || { echo "missing $tool (scripts/test-deps.sh installs sks and gnupg)"; exit 1; }
done
. "$root/tests/integration/lib.sh"
msg="$root/examples/messages/mixed-attachment.eml"
signer=mail.example.test

# ---- keys, made by gpg --------------------------------------------------------------
export GNUPGHOME="$work/gnupg"
mkdir -m 700 "$GNUPGHOME"
trap 'gpgconf --kill all 2>/dev/null; cleanup' EXIT
gpg_() { gpg --batch --quiet --pinentry-mode loopback --passphrase '' "$@" 2>>"$work/gpg.log"; }
# newkey UID ALGO USAGE EXPIRE [GPG-OPTION...] -> the new primary key's fingerprint on stdout
newkey() {
  local uid="$1" algo="$2" usage="$3" expire="$4"; shift 4
  gpg_ "$@" --quick-gen-key "$uid" "$algo" "$usage" "$expire" &&
    gpg --with-colons --list-keys "=$uid" 2>/dev/null | awk -F: '/^fpr/ {print $10; exit}'
}
fpr_ed=$(newkey "mtas <postmaster@$signer>" ed25519 sign never)
fpr_rsa=$(newkey "mtas rsa <postmaster@$signer>" rsa3072 sign never)
fpr_ec=$(newkey "mtas ecdsa <postmaster@$signer>" nistp256 sign never)
fpr_other=$(newkey "mtas other <postmaster@$signer>" ed25519 sign never)     # published; signs nothing here
fpr_elsewhere=$(newkey "someone <someone@other.example.test>" ed25519 sign never)
fpr_revoked=$(newkey "mtas revoked <postmaster@$signer>" ed25519 sign never)
fpr_expired=$(newkey "mtas expired <postmaster@$signer>" ed25519 sign 1y --faked-system-time 20200101T000000!)
# A user ID that mentions the signer's address but is an address at another domain.
fpr_dressed=$(newkey "\"<postmaster@$signer>\"@other.example.test" ed25519 sign never)
fpr_primary=$(newkey "mtas sub <postmaster@$signer>" ed25519 cert never)
gpg_ --quick-add-key "$fpr_primary" ed25519 sign
gpg_ --quick-add-key "$fpr_primary" cv25519 encr
subkey() {  # PRIMARY USAGE-LETTER -> that subkey's fingerprint
  gpg --with-colons --list-keys "$1" 2>/dev/null | awk -F: -v u="$2" '/^sub/ {want = index($12, u) > 0} /^fpr/ && want {print $10; exit}'
}
fpr_sub=$(subkey "$fpr_primary" s); fpr_encr=$(subkey "$fpr_primary" e)
for f in fpr_ed fpr_rsa fpr_ec fpr_other fpr_elsewhere fpr_dressed fpr_revoked fpr_expired fpr_sub fpr_encr; do
  v="${!f}"; [ "${#v}" = 40 ] || { echo "gpg made no key for $f"; cat "$work/gpg.log"; exit 1; }
done

# ---- keygen --from-openpgp: the PEM keys mtas signs with -----------------------------
# ssh_blob KEY.pem -> the key as an OpenSSH public key blob (base64), from OpenSSL's reading
ssh_blob() {
  openssl pkey -in "$1" -pubout -outform DER 2>/dev/null >"$work/spki.der"
  openssl pkey -in "$1" -noout -text 2>/dev/null >"$work/pkey.txt"
  python3 - "$work/spki.der" "$work/pkey.txt" <<'PY'
import base64, re, struct, sys
der, text = open(sys.argv[1], "rb").read(), open(sys.argv[2]).read()
s = lambda b: struct.pack(">I", len(b)) + b
def mpint(n):
    b = n.to_bytes((n.bit_length() + 8) // 8, "big")
    return s(b)
if "ED25519" in text:
    blob = s(b"ssh-ed25519") + s(der[-32:])
elif "RSA" in text or "modulus" in text:
    n = int("".join(re.search(r"modulus:\s*((?:[0-9a-f]{2}:?\s*)+)", text).group(1).split()).replace(":", ""), 16)
    e = int(re.search(r"publicExponent: (\d+)", text).group(1))
    blob = s(b"ssh-rsa") + mpint(e) + mpint(n)
else:
    blob = s(b"ecdsa-sha2-nistp256") + s(b"nistp256") + s(der[-65:])
print(base64.b64encode(blob).decode())
PY
}
for f in fpr_ed fpr_rsa fpr_ec fpr_other fpr_expired fpr_revoked; do
  gpg_ --export-secret-keys "${!f}" >"$work/$f.sec"
  when=()  # keygen refuses an expired key: this one is taken while it was valid
  # (libfaketime is preloaded before the sanitizer runtime in an ASan build; let it be)
  [ "$f" = fpr_expired ] &&
    when=(env "ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0" faketime "2020-06-01 00:00:00")
  "${when[@]}" "$mtas" keygen --from-openpgp "$work/$f.sec" --keyserver "hkp://keys.$signer" --signer "$signer" \
    --selector "$f" --out "$work/keys" >"$work/keygen.out" 2>&1 || { fail "keygen --from-openpgp $f"; cat "$work/keygen.out"; }
done
# Keys of another domain, as their owners would make them (keygen checks the user ID
# against --signer): their holders then sign as $signer.
for f in fpr_elsewhere fpr_dressed; do
  gpg_ --export-secret-keys "${!f}" >"$work/$f.sec"
  "$mtas" keygen --from-openpgp "$work/$f.sec" --keyserver "hkp://keys.other.example.test" \
    --signer other.example.test --selector "$f" --out "$work/keys" >"$work/keygen.out" 2>&1 ||
    { fail "keygen --from-openpgp $f for other.example.test"; cat "$work/keygen.out"; }
done
gpg_ --export-secret-keys "$fpr_primary" >"$work/primary.sec"
"$mtas" keygen --from-openpgp "$work/primary.sec" --fingerprint "$fpr_sub" --keyserver "hkp://keys.$signer" \
  --signer "$signer" --selector fpr_sub --out "$work/keys" >"$work/keygen.out" 2>&1 ||
  { fail "keygen --from-openpgp, the signing subkey"; cat "$work/keygen.out"; }
grep -q "http:pgp-keyserver hkp://keys.$signer $fpr_sub" "$work/keygen.out" || fail "keygen prints no service entry"
for f in fpr_ed fpr_rsa fpr_ec fpr_sub; do
  want=$(gpg --export-ssh-key "${!f}!" 2>/dev/null | awk '{print $2}')
  got=$(ssh_blob "$work/keys/$f.key.pem")
  [ -n "$want" ] && [ "$want" = "$got" ] && continue
  fail "$f: the PEM key is not gpg's key (gpg $want, mtas $got)"
done
echo "ok: keygen --from-openpgp wrote gpg's Ed25519, RSA-3072, ECDSA P-256 keys and a signing subkey"
# refused NAME WANT-IN-OUTPUT SECRET-KEY-FILE: keygen must exit 64 saying why, and write nothing
refused() {
  "$mtas" keygen --from-openpgp "$3" --keyserver "hkp://keys.$signer" --signer "$signer" \
    --selector x --out "$work/refused" >"$work/keygen.out" 2>&1
  local status=$?
  if [ "$status" != 64 ] || ! grep -q "$2" "$work/keygen.out"; then
    fail "keygen $1 (exit $status)"; cat "$work/keygen.out"
  fi
}
refused "took a key without a user ID at $signer" "no user ID" "$work/fpr_elsewhere.sec"
refused "took a user ID that only mentions $signer" "no user ID" "$work/fpr_dressed.sec"
gpg --batch --pinentry-mode loopback --passphrase secret --quick-gen-key "locked <postmaster@$signer>" ed25519 sign never 2>>"$work/gpg.log"
gpg --batch --pinentry-mode loopback --passphrase secret --export-secret-keys "locked <postmaster@$signer>" >"$work/locked.sec" 2>>"$work/gpg.log"
refused "took a key protected by a passphrase" "passphrase" "$work/locked.sec"
fpr_two=$(newkey "mtas two <postmaster@$signer>" ed25519 sign never)
gpg_ --quick-add-key "$fpr_two" ed25519 sign
gpg_ --export-secret-keys "$fpr_two" >"$work/two.sec"
refused "chose one of two keys that may sign" "several" "$work/two.sec"
cat "$work/primary.sec" "$work/fpr_elsewhere.sec" >"$work/blocks.sec"
refused "read two key blocks as one" "more than one primary key" "$work/blocks.sec"
refused "read a device without end" "at most 1 MB" /dev/zero
"$mtas" keygen --from-openpgp "$work/fpr_ed.sec" --keyserver "hkp://keys.elsewhere.example" --signer "$signer" \
  --selector x --out "$work/refused" >"$work/keygen.out" 2>&1
{ [ $? = 64 ] && grep -q "outside the domain" "$work/keygen.out"; } ||
  { fail "keygen took a key server outside the signer's domain"; cat "$work/keygen.out"; }
[ ! -e "$work/refused/x.key.pem" ] || fail "a refused keygen wrote a key"

# The revocation gpg wrote beside the key, imported once mtas has the key:
# the key server gets the revoked key.
sed 's/^:-----BEGIN/-----BEGIN/' "$GNUPGHOME/openpgp-revocs.d/$fpr_revoked.rev" | gpg_ --import

# ---- the key server -----------------------------------------------------------------
sks_dir="$work/sks"; hkp_port=$(free_port)
mkdir -p "$sks_dir"/{etc/sks,var/lib/sks,var/run/sks,var/log/sks}
printf 'hostname: keys.%s\nhkp_address: 127.0.0.1\nhkp_port: %s\nrecon_address: 127.0.0.1\nrecon_port: %s\n' \
  "$signer" "$hkp_port" "$(free_port)" >"$sks_dir/etc/sks/sksconf"
touch "$sks_dir/etc/sks/membership"
sks build -basedir "$sks_dir" >"$work/sks-build.log" 2>&1 || { echo "sks build failed"; cat "$work/sks-build.log"; exit 1; }
sks db -basedir "$sks_dir" >"$work/sks.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -n "$(ss -Hltn "sport = :$hkp_port" 2>/dev/null)" ] && break; sleep 0.1; done
[ -n "$(ss -Hltn "sport = :$hkp_port" 2>/dev/null)" ] || { echo "sks did not start"; cat "$work/sks.log"; exit 1; }
for f in "$fpr_ed" "$fpr_rsa" "$fpr_ec" "$fpr_other" "$fpr_elsewhere" "$fpr_dressed" "$fpr_revoked" "$fpr_expired" \
  "$fpr_primary"; do
  gpg --armor --export "$f" >"$work/pub.asc"
  curl -sf --data-urlencode "keytext@$work/pub.asc" "http://127.0.0.1:$hkp_port/pks/add" >/dev/null ||
    { echo "uploading $f to sks failed"; exit 1; }
done
# Back from the server, through gpg: what was uploaded is what HKP serves.
curl -sf "http://127.0.0.1:$hkp_port/pks/lookup?op=get&options=mr&search=0x$fpr_revoked" | gpg --show-keys 2>/dev/null |
  grep -q revoked || fail "sks does not serve the revocation"

# A server whose every answer is not OpenPGP, a port that accepts and never answers, one nobody listens on.
mkdir -p "$work/junk/pks"; printf '<html>no keys here</html>\n' >"$work/junk/pks/lookup"
junk_port=$(free_port)
python3 -m http.server "$junk_port" --bind 127.0.0.1 --directory "$work/junk" >"$work/junk.log" 2>&1 &
pids+=($!)
python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(8); print(s.getsockname()[1], flush=True); time.sleep(600)' >"$work/silent.port" &
pids+=($!)
for _ in $(seq 50); do [ -s "$work/silent.port" ] && [ -n "$(ss -Hltn "sport = :$junk_port" 2>/dev/null)" ] && break; sleep 0.1; done
silent_port=$(cat "$work/silent.port"); down_port=$(free_port)

# ---- the checks ---------------------------------------------------------------------
# check NAME WANT-RESULT KEY SERVICE-URL FINGERPRINT [CONNECT-PORT] [TIMEOUT-MS] [WANT-IN-REASON]
check() {
  local name="$1" want="$2" key="$3" url="$4" fpr="$5" port="${6:-$hkp_port}" timeout="${7:-3000}" why="${8:-}"
  "$mtas" sign --key "$work/keys/$key.key.pem" --signer "$signer" \
    --services "http:pgp-keyserver $url $fpr" "$msg" "$work/signed.eml" || { fail "$name: signing"; return; }
  verify_expects "$name" "$work/signed.eml" http:pgp-keyserver "$want" "$why" "$timeout" \
    "keys.$signer:11371:127.0.0.1:$port" weak
}
hkp="hkp://keys.$signer"
check "Ed25519 key" pass fpr_ed "$hkp" "$fpr_ed"
check "RSA-3072 key" pass fpr_rsa "$hkp" "$fpr_rsa"
check "ECDSA P-256 key" pass fpr_ec "$hkp" "$fpr_ec"
check "a signing subkey" pass fpr_sub "$hkp" "$fpr_sub"
check "the fingerprint with 0x, lower case, an http URL" pass fpr_ed "http://keys.$signer:11371/" \
  "0x$(tr 'A-F' 'a-f' <<<"$fpr_ed")"
check "another key of the signer" fail fpr_ed "$hkp" "$fpr_other" "" "" "not the key that signed"
check "a key whose user ID is at another domain, signing" fail fpr_elsewhere "$hkp" "$fpr_elsewhere" "" "" "no user ID"
check "a user ID that only mentions the signer, signing" fail fpr_dressed "$hkp" "$fpr_dressed" "" "" "no user ID"
check "a revoked key" fail fpr_revoked "$hkp" "$fpr_revoked" "" "" "revoked"
check "an expired key" fail fpr_expired "$hkp" "$fpr_expired" "" "" "expired"
check "an encryption subkey" fail fpr_sub "$hkp" "$fpr_encr" "" "" "not allowed to sign"
check "a key the server does not have" neutral fpr_ed "$hkp" "0123456789ABCDEF0123456789ABCDEF01234567"
check "an answer that is not OpenPGP" permerror fpr_ed "$hkp" "$fpr_ed" "$junk_port"
check "a key server outside the signer's domain" fail fpr_ed "hkp://keys.elsewhere.example" "$fpr_ed" "" "" \
  "outside the domain"
check "not a fingerprint" permerror fpr_ed "$hkp" "D437374A40D62621"
check "not a key server URL" permerror fpr_ed "ldap://keys.$signer" "$fpr_ed"
check "the server is down" temperror fpr_ed "$hkp" "$fpr_ed" "$down_port"
check "the server never answers" temperror fpr_ed "$hkp" "$fpr_ed" "$silent_port" 1000
bound_ms=$((3000 * ${MTAS_TEST_TIME_FACTOR:-1}))
[ "$ms" -lt "$bound_ms" ] || fail "a silent key server held verification for $ms ms (timeout 1000)"

# The operator's check of what is published: the key on the server is the key mtas signs with.
if "$mtas" dns-record --check --signer "$signer" --key-file "$work/keys/fpr_ed.key.pem" \
  --services "http:pgp-keyserver $hkp $fpr_ed" --connect-to "keys.$signer:11371:127.0.0.1:$hkp_port" \
  >"$work/check.out" 2>&1 && grep -q "matches" "$work/check.out"; then
  echo "ok: dns-record --check finds the key on the server"
else
  fail "dns-record --check of the published key"; cat "$work/check.out"
fi
if "$mtas" dns-record --check --signer "$signer" --key-file "$work/keys/fpr_elsewhere.key.pem" \
  --services "http:pgp-keyserver $hkp $fpr_elsewhere" --connect-to "keys.$signer:11371:127.0.0.1:$hkp_port" \
  >"$work/check.out" 2>&1 || ! grep -q "NOT FOR SIGNER" "$work/check.out"; then
  fail "dns-record --check took a key whose user IDs do not name the signer"; cat "$work/check.out"
fi
if "$mtas" dns-record --check --signer "$signer" --key-file "$work/keys/fpr_rsa.key.pem" \
  --services "http:pgp-keyserver $hkp $fpr_ed" --connect-to "keys.$signer:11371:127.0.0.1:$hkp_port" \
  >"$work/check.out" 2>&1 || ! grep -q "MISMATCH" "$work/check.out"; then
  fail "dns-record --check took another key"; cat "$work/check.out"
fi

[ "$fails" = 0 ] && echo "PASS: http:pgp-keyserver against sks, keys from gpg"
exit "$fails"
