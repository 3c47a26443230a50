#!/usr/bin/env bash
# Key services against real servers on 127.0.0.1 (spec §4): nsd serving
# KEY, CERT and TXT records made by `mtas keygen` (plain, DNSSEC-signed and a
# bogus copy), an HTTP(S) server, pyftpdlib and tftpd-hpa. Every server
# starts on an ephemeral port and stops when the test ends.
#   key_services.sh MTAS SOURCE_DIR
set -uo pipefail
mtas="$1"; root="$2"
for tool in nsd ldns-keygen ldns-signzone in.tftpd openssl; do
  command -v "$tool" >/dev/null || { echo "missing $tool (scripts/test-deps.sh installs it)"; exit 1; }
done
/usr/bin/python3 -c "import pyftpdlib" 2>/dev/null || { echo "missing python3-pyftpdlib"; exit 1; }
. "$root/tests/integration/lib.sh"
msg="$root/examples/messages/mixed-attachment.eml"

# ---- keys and zones -------------------------------------------------------
keygen() {  # alg signer selector
  "$mtas" keygen --algorithm "$1" --signer "$2" --selector "$3" --out "$work/keys/$2" >/dev/null
}
keygen ed25519 ed.example.test s1
keygen ecdsa-p256 ec.example.test s1
keygen rsa2048 rsa.example.test s1
keygen ed25519 wrong.example.test s1      # signs with this key ...
keygen ed25519 other.example.test s1      # ... but publishes this one
keygen ed25519 garbage.example.test s1
keygen ed25519 ed.secure.test s1
keygen ed25519 ed.bogus.test s1
keygen rsa2048 ed.example.test s2         # a second key of ed.example.test, published
keygen rsa2048 ed.example.test s3         # the next key, not published yet

{
  soa example.test.
  for s in ed ec rsa garbage; do cat "$work/keys/$s.example.test/s1.zone"; done
  cat "$work/keys/ed.example.test/s2.zone"
  sed 's/other\.example\.test/wrong.example.test/g' "$work/keys/other.example.test/s1.zone"
} >"$work/example.test.zone"
# garbage: a KEY record whose Ed25519 key is 5 octets long
sed -i '/^s1._certs.garbage.example.test. 3600 IN KEY/,/)/d' "$work/example.test.zone"
echo 's1._certs.garbage.example.test. 3600 IN KEY 512 2 15 AAECAwQ=' >>"$work/example.test.zone"

( cd "$work" &&
  { soa secure.test.; cat keys/ed.secure.test/s1.zone; } >secure.test.zone &&
  { soa bogus.test.; cat keys/ed.bogus.test/s1.zone; } >bogus.test.zone &&
  ksk=$(ldns-keygen -a ECDSAP256SHA256 -k secure.test) && ldns-signzone -n secure.test.zone "$ksk" >/dev/null &&
  cp "$ksk.key" ta-secure.key &&
  ksk2=$(ldns-keygen -a ECDSAP256SHA256 -k bogus.test) && ldns-signzone -n bogus.test.zone "$ksk2" >/dev/null &&
  cat "$ksk.key" "$ksk2.key" >ta.key ) || { echo "zone signing failed"; exit 1; }
# bogus: after signing, the Ed25519 KEY record is replaced by another key
other=$(grep -A1 "IN KEY" "$work/keys/ed.example.test/s1.zone" | tr -d '\n' | sed 's/.*IN KEY 512 2 15 (\s*//; s/\s*).*//')
python3 - "$work/bogus.test.zone.signed" "$other" <<'PY'
import re, sys
path, key = sys.argv[1], sys.argv[2].strip()
text = open(path).read()
text, n = re.subn(r"(s1\._certs\.ed\.bogus\.test\.\s+\d+\s+IN\s+KEY\s+512 2 15 )\S+", lambda m: m.group(1) + key, text)
assert n == 1, "KEY record not found in signed zone"
open(path, "w").write(text)
PY

start_nsd "$work" example.test:example.test.zone secure.test:secure.test.zone.signed \
  bogus.test:bogus.test.zone.signed || exit 1

# ---- download servers -----------------------------------------------------
mkdir -p "$work/www/_certs" "$work/tftp" "$work/ca"
for s in ed.example.test rsa.example.test; do cp "$work/keys/$s/s1.crt.der" "$work/www/_certs/$s.der"; done
cp "$work/keys/ed.example.test/s1.crt.der" "$work/tftp/ed.der"
cp "$work/keys/other.example.test/s1.crt.der" "$work/www/_certs/wrong-san.der"
chmod -R a+rX "$work/tftp"
# A test CA and a server certificate for the signer names the downloads use.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/ca/ca.key" -out "$work/ca/ca.pem" \
  -days 2 -subj "/CN=mtas test CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/ca/srv.key" -out "$work/ca/srv.csr" \
  -subj "/CN=ed.example.test" 2>/dev/null
printf 'subjectAltName=DNS:ed.example.test,DNS:rsa.example.test\n' >"$work/ca/ext"
openssl x509 -req -in "$work/ca/srv.csr" -CA "$work/ca/ca.pem" -CAkey "$work/ca/ca.key" -CAcreateserial \
  -out "$work/ca/srv.pem" -days 2 -extfile "$work/ca/ext" 2>/dev/null
python3 "$root/tests/integration/servers.py" --root "$work/www" --ports "$work/ports" \
  --cert "$work/ca/srv.pem" --key "$work/ca/srv.key" &
pids+=($!)
ftp_port=$(free_port)
/usr/bin/python3 -m pyftpdlib -i 127.0.0.1 -p "$ftp_port" -d "$work/www" >"$work/ftp.log" 2>&1 &
pids+=($!)
tftp_port=$(free_port)
in.tftpd -L -s -a "127.0.0.1:$tftp_port" "$work/tftp" >"$work/tftp.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -f "$work/ports" ] && break; sleep 0.1; done
[ -f "$work/ports" ] || { echo "test servers did not start"; exit 1; }
port_http="" port_https="" port_big="" port_slow="" port_blackhole=""  # from the servers' ports file
# shellcheck source=/dev/null
. <(sed 's/^/port_/' "$work/ports")
sleep 0.5

# ---- the checks -------------------------------------------------------------
net=(--resolver "127.0.0.1:$dns_port" --timeout 3000)
last_ms=0
# check NAME SIGNER SERVICES WANT_RESULT WANT_METHOD WANT_TRUST [-- extra verify options]
check() {
  local name="$1" signer="$2" services="$3" want="$4" method="${5:-}" trust="${6:-}"
  shift 6 2>/dev/null || shift $#
  [ "${1:-}" = "--" ] && shift
  local keydir="$work/keys/$signer"
  "$mtas" sign --key "$keydir/s1.key.pem" --signer "$signer" --services "$services" "$msg" "$work/signed.eml" ||
    { fail "$name: signing"; return; }
  local start
  start=$(date +%s%N)
  "$mtas" verify "${net[@]}" --json "$@" "$work/signed.eml" >"$work/r.json" 2>"$work/err"
  last_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  if python3 - "$work/r.json" "$want" "$method" "$trust" <<'PY'; then
import json, sys
r = json.load(open(sys.argv[1]))["signatures"][0]
want, method, trust = sys.argv[2:5]
assert r["result"] == want, f"result {r['result']} ({r['reason']}), want {want}"
assert not method or r["key_method"] == method, f"method {r['key_method']}, want {method}"
assert not trust or r["key_trust"] == trust, f"trust {r['key_trust']}, want {trust}"
PY
    echo "ok: $name -> $want ${method:+via $method }${trust:+($trust) }in ${last_ms} ms"
  else
    fail "$name (${last_ms} ms)"; head -c 1500 "$work/r.json"; echo; cat "$work/err"
  fi
}

check "KEY Ed25519 (alg 15)" ed.example.test "domain:key:email s1._certs" pass domain:key:email weak
check "KEY ECDSA P-256 (alg 13)" ec.example.test "domain:key:email s1._certs" pass domain:key:email weak
check "KEY RSA (alg 8)" rsa.example.test "domain:key:email s1._certs" pass domain:key:email weak
check "CERT PKIX" rsa.example.test "domain:cert:pkix s1._certs" pass domain:cert:pkix weak
check "TXT DKIM Ed25519" ed.example.test "domain:txt:dk s1._domainkey" pass domain:txt:dk weak
check "TXT DKIM RSA" rsa.example.test "domain:txt:dk s1._domainkey" pass domain:txt:dk weak
check "KEY with DNSSEC" ed.secure.test "domain:key:email s1._certs" pass domain:key:email dnssec -- --trust-anchor "$work/ta.key"
check "KEY without a trust anchor" ed.secure.test "domain:key:email s1._certs" pass domain:key:email weak
check "bogus DNSSEC answer" ed.bogus.test "domain:key:email s1._certs" fail domain:key:email "" -- --trust-anchor "$work/ta.key"
check "unsupported method skipped" ed.example.test "http:scvp https://x.example/; domain:key:email s1._certs" pass domain:key:email weak
check "http download" ed.example.test "http:download:der _certs ed.example.test.der" pass http:download:der weak -- \
  --connect-to "ed.example.test:80:127.0.0.1:$port_http"
check "https download, test CA" ed.example.test "https:download:der _certs ed.example.test.der" pass https:download:der https -- \
  --connect-to "ed.example.test:443:127.0.0.1:$port_https" --tls-ca-file "$work/ca/ca.pem"
check "https with an untrusted server certificate" ed.example.test "https:download:der _certs ed.example.test.der" fail https:download:der "" -- \
  --connect-to "ed.example.test:443:127.0.0.1:$port_https"
check "ftp download" ed.example.test "ftp:download:der _certs ed.example.test.der" pass ftp:download:der weak -- \
  --connect-to "ed.example.test:21:127.0.0.1:$ftp_port"
check "tftp download" ed.example.test "tftp:download:der tftp://ed.example.test:$tftp_port/ed.der" pass tftp:download:der weak -- \
  --connect-to "ed.example.test:$tftp_port:127.0.0.1:$tftp_port"

# A key must come from the signer's own domain: naming another zone's record fails.
check "record outside the signer's domain" ed.example.test "domain:key:email s1._certs.ed.secure.test." fail domain:key:email ""
check "URL outside the signer's domain" ed.example.test "http:download:der http://127.0.0.1:$port_http/_certs/ed.example.test.der" fail http:download:der ""

# The failure table.
check "NXDOMAIN" ed.example.test "domain:key:email nothere._certs" neutral domain:key:email ""
check "wrong key published" wrong.example.test "domain:key:email s1._certs" fail domain:key:email ""
check "garbage KEY record" garbage.example.test "domain:key:email s1._certs" permerror domain:key:email ""
# Redirects: within the signer's domain they are followed; a host outside it is refused,
# as the entry's own host would be.
check "http download redirected within the signer's domain" ed.example.test \
  "http:download:der _redirect keys.ed.example.test/_certs/ed.example.test.der" pass http:download:der weak -- \
  --connect-to "ed.example.test:80:127.0.0.1:$port_http" --connect-to "keys.ed.example.test:80:127.0.0.1:$port_http"
check "http download redirected outside the signer's domain" ed.example.test \
  "http:download:der _redirect evil.example/_certs/ed.example.test.der" fail http:download:der "" -- \
  --connect-to "ed.example.test:80:127.0.0.1:$port_http" --connect-to "evil.example:80:127.0.0.1:$port_http"
grep -q "redirected outside the signer's domain" "$work/r.json" || fail "the redirect out is not named as such"
# A host libcurl would read otherwise than the domain check does is refused before any request.
for url in "http://evil.example%2eed.example.test/_certs/ed.example.test.der" \
  "http://evil.example\\@ed.example.test/_certs/ed.example.test.der" \
  "http://user@ed.example.test/_certs/ed.example.test.der"; do
  check "download URL with an unplain host ($url)" ed.example.test "http:download:der $url" permerror "" "" -- \
    --connect-to "ed.example.test:80:127.0.0.1:$port_http"
done
check "HTTP 404" ed.example.test "http:download:der _certs missing.der" neutral http:download:der "" -- \
  --connect-to "ed.example.test:80:127.0.0.1:$port_http"
check "certificate with the wrong SAN" ed.example.test "http:download:der _certs wrong-san.der" fail http:download:der "" -- \
  --connect-to "ed.example.test:80:127.0.0.1:$port_http"
check "oversized download" ed.example.test "http:download:der _big x" permerror http:download:der "" -- \
  --connect-to "ed.example.test:80:127.0.0.1:$port_big"
net=(--resolver "127.0.0.1:$dns_port" --timeout 1000)
check "slow HTTP server" ed.example.test "http:download:der _slow x" temperror http:download:der "" -- \
  --connect-to "ed.example.test:80:127.0.0.1:$port_slow"
# The bound allows process start-up; sanitizer builds run slower and scale it
# (MTAS_TEST_TIME_FACTOR, set by scripts/test.sh).
bound_ms=$((3000 * ${MTAS_TEST_TIME_FACTOR:-1}))
[ "$last_ms" -lt "$bound_ms" ] || fail "a slow HTTP server held verification for $last_ms ms (timeout 1000)"
# A forger's signature by another key that also names an unreachable service
# of the domain stays a fail: the published key that is not theirs outweighs
# the lookup that timed out.
check "wrong key beside an unreachable service" wrong.example.test \
  "domain:key:email s1._certs; http:download:der _slow x" fail domain:key:email "" -- \
  --connect-to "wrong.example.test:80:127.0.0.1:$port_slow"
net=(--resolver "127.0.0.1:$port_blackhole" --timeout 1000)
check "stalled DNS server" ed.example.test "domain:key:email s1._certs" temperror domain:key:email ""
[ "$last_ms" -lt "$bound_ms" ] || fail "a stalled DNS server held verification for $last_ms ms (timeout 1000)"
net=(--resolver "127.0.0.1:$(free_port)" --timeout 1500)
check "DNS server down" ed.example.test "domain:key:email s1._certs" temperror domain:key:email ""
net=(--resolver "127.0.0.1:$dns_port" --timeout 3000)

# A signature naming many services makes at most the budgeted lookups.
many=$(for i in $(seq 12); do printf 'domain:key:email n%s._certs; ' "$i"; done)
check "lookup budget" ed.example.test "${many}domain:key:email s1._certs" neutral domain:key:email ""
grep -q "budget" "$work/r.json" || fail "lookup budget: no note about the spent budget"

# A hop signed with two keys, each found by its own services over DNS: it
# passes with both published, and with one not yet published (a rotation's
# new key), whose SignerInfo is then reported unchecked.
two_keys() {  # NAME SECOND-SELECTOR SERVICES WANT-SIGNERINFO-RESULTS
  local keys="$work/keys/ed.example.test"
  "$mtas" sign --key "$keys/s1.key.pem" --key "$keys/$2.key.pem" --signer ed.example.test --services "$3" \
    "$msg" "$work/signed.eml" || { fail "$1: signing"; return; }
  "$mtas" verify "${net[@]}" --json "$work/signed.eml" >"$work/r.json" 2>"$work/err"
  if python3 - "$work/r.json" "$4" <<'PY'; then
import json, sys
r = json.load(open(sys.argv[1]))["signatures"][0]
assert r["result"] == "pass", f"result {r['result']} ({r['reason']})"
got = " ".join(f"{si['algorithm']}={si['result']}" for si in r["signer_infos"])
assert sorted(got.split()) == sorted(sys.argv[2].split()), f"signer infos {got}, want {sys.argv[2]}"
PY
    echo "ok: $1 -> pass ($4)"
  else
    fail "$1"; head -c 1500 "$work/r.json"; echo
  fi
}
two_keys "two keys, both published" s2 "domain:key:email s1._certs; domain:key:email s2._certs" "ed25519=pass rsa=pass"
two_keys "two keys, the next one not published yet" s3 "domain:key:email s3._certs; domain:key:email s1._certs" \
  "ed25519=pass rsa=neutral"

# Answers from the cache cost no network lookup, but every service entry
# tried counts: five hops that each name the same absent record 15 times
# before their key reach the 64 entries a message may try in the fifth.
cached=$(for i in $(seq 15); do printf 'domain:key:email nothere._certs; '; done)
cp "$msg" "$work/hops.eml"
for _ in 1 2 3 4 5; do
  "$mtas" sign --key "$work/keys/ed.example.test/s1.key.pem" --signer ed.example.test \
    --services "${cached}domain:key:email s1._certs" "$work/hops.eml" "$work/hops.next" && mv "$work/hops.next" "$work/hops.eml"
done
"$mtas" verify "${net[@]}" --json "$work/hops.eml" >"$work/r.json" 2>"$work/err"
python3 - "$work/r.json" <<'PY' || fail "service entries per message"
import json, sys
sigs = json.load(open(sys.argv[1]))["signatures"]
got = [s["result"] for s in sigs]
assert got == ["pass"] * 4 + ["neutral"], got
assert any("as many services as a message may" in n for n in sigs[4]["notes"]), sigs[4]["notes"]
PY
echo "ok: service entries per message: four hops pass, the fifth finds its key unchecked"

# --no-network forbids lookups.
"$mtas" verify --no-network --json "$work/signed.eml" >"$work/r.json"; st=$?
[ "$st" = 6 ] || fail "--no-network: exit $st, want 6 (neutral)"

# dns-record --check
"$mtas" dns-record --check "${net[@]}" --signer ed.example.test \
  --services "domain:key:email s1._certs; domain:cert:pkix s1._certs; domain:txt:dk s1._domainkey" \
  --key-file "$work/keys/ed.example.test/s1.crt.pem" >"$work/check.out" || { fail "dns-record --check"; cat "$work/check.out"; }
[ "$(grep -c ' ok: ' "$work/check.out")" = 3 ] || { fail "dns-record --check: want 3 ok lines"; cat "$work/check.out"; }
if "$mtas" dns-record --check "${net[@]}" --signer wrong.example.test --services "domain:key:email s1._certs" \
  --key-file "$work/keys/wrong.example.test/s1.crt.pem" >"$work/check.out"; then
  fail "dns-record --check accepted a wrong key"
fi
grep -q MISMATCH "$work/check.out" || fail "dns-record --check did not say MISMATCH"
# --config: every KeyTable key of an mtasd configuration at once, over the
# resolver it names.
{
  printf 'ed %s ed.example.test services="domain:key:email s1._certs; domain:txt:dk s1._domainkey"\n' \
    "$work/keys/ed.example.test/s1.key.pem"
  printf 'rsa %s rsa.example.test services="domain:cert:pkix s1._certs"\n' "$work/keys/rsa.example.test/s1.key.pem"
} >"$work/check.keys"
printf '%s\n' "Mode sign" "KeyTable $work/check.keys" "Resolver 127.0.0.1:$dns_port" "Timeout 2000" >"$work/check.conf"
"$mtas" dns-record --check --config "$work/check.conf" >"$work/check.out" ||
  { fail "dns-record --check --config"; cat "$work/check.out"; }
[ "$(grep -c ' ok: ' "$work/check.out")" = 3 ] || { fail "--config: want 3 ok lines"; cat "$work/check.out"; }
grep -q '^key rsa (signer rsa.example.test' "$work/check.out" || fail "--config: no line for key rsa"
printf 'w %s wrong.example.test services="domain:key:email s1._certs"\n' "$work/keys/wrong.example.test/s1.key.pem" \
  >>"$work/check.keys"
if "$mtas" dns-record --check --config "$work/check.conf" >"$work/check.out"; then
  fail "dns-record --check --config accepted a wrong key"
fi
grep -q MISMATCH "$work/check.out" || fail "--config did not say MISMATCH"
# keygen suggests only what DNS holds, unless the operator will serve https.
"$mtas" keygen --algorithm ed25519 --signer k.example.test --selector a --out "$work/keys/k" >"$work/kg.out"
grep -q 'https:download' "$work/kg.out" && fail "keygen suggests an https download nobody asked for"
"$mtas" keygen --algorithm ed25519 --signer k.example.test --selector b --out "$work/keys/k" --https >"$work/kg.out"
grep -q 'https:download:der _certs b.crt.der' "$work/kg.out" || fail "keygen --https does not suggest the download"

[ "$fails" = 0 ] && echo "key services: all checks passed"
exit "$fails"
