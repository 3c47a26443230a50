#!/usr/bin/env bash
# End to end: OpenDKIM and mtasd in one Postfix's smtpd_milters, both
# verifying and both writing Authentication-Results under the same
# authserv-id (the host name, as both default to). mtasd must remove only
# fields that could be forgeries of its own results, never OpenDKIM's
# dkim=pass. Two Postfix instances on 127.0.0.1 share one OpenDKIM and one
# mtasd: A runs "opendkim, mtasd" (the natural migration), B "mtasd,
# opendkim". Each delivers a message signed with DKIM (dkimpy, RSA key
# from openssl, public key in an nsd zone) and with mtas (pinned key): both
# dkim=pass and mtas=pass must arrive. A message that comes in carrying a
# forged "mtas=pass" under our authserv-id must arrive without it.
#   opendkim_coexist.sh MTAS MTASD SOURCE_DIR
# shellcheck disable=SC1091,SC2154  # work, dns_port, mtasd_pid: set by lib_postfix.sh and lib.sh
set -uo pipefail
mtas="$1"; mtasd="$2"; root="$3"
opendkim=/usr/sbin/opendkim
command -v postfix >/dev/null || { echo "missing postfix (scripts/test-deps.sh installs it)"; exit 1; }
command -v nsd >/dev/null || { echo "missing nsd (scripts/test-deps.sh installs it)"; exit 1; }
[ -x "$opendkim" ] || { echo "missing $opendkim (apt-get install opendkim)"; exit 1; }
/usr/bin/python3 -c 'import dkim' 2>/dev/null || { echo "missing dkimpy (apt-get install python3-dkim)"; exit 1; }
. "$root/tests/e2e/lib_postfix.sh"

authserv=mx.example.net  # the one authserv-id of both filters
A_SMTP=$(free_port); B_SMTP=$(free_port); MTASD_PORT=$(free_port); ODKIM_PORT=$(free_port)

# wait_port PORT: up to 15 s for a listener on 127.0.0.1:PORT
wait_port() {
  for _ in $(seq 150); do
    [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ] && return 0
    sleep 0.1
  done
  return 1
}

# ---- keys: mtas (pinned on the verify side), DKIM (RSA, published in DNS) ---------
"$mtas" keygen --algorithm ed25519 --signer mail.example.org --selector m --out "$work/keys" >/dev/null
openssl genrsa -traditional -out "$work/dkim.key" 2048 2>/dev/null || { echo "openssl genrsa failed"; exit 1; }
p=$(openssl rsa -in "$work/dkim.key" -pubout -outform DER 2>/dev/null | base64 -w0)
[ -n "$p" ] || { echo "openssl: no DKIM public key"; exit 1; }

# ---- nsd: dk1._domainkey.example.org TXT (strings of at most 255 characters) -------
{
  soa example.org.
  printf 'dk1._domainkey.example.org. 300 IN TXT "v=DKIM1; k=rsa; "'
  printf '%s\n' "p=$p" | fold -w 200 | while read -r chunk; do printf ' "%s"' "$chunk"; done
  printf '\n'
} >"$work/example.org.zone"
start_nsd "$work" example.org:example.org.zone || exit 1

# ---- OpenDKIM, verify only. It finds the DKIM key in nsd, by DNS: Debian's
# opendkim resolves with libunbound, and Nameservers gives each address to
# libunbound as a forwarder, in its ADDRESS@PORT syntax (no TestPublicKeys,
# no TestDNSData). Without nsd (a wrong port) no dkim=pass arrives.
cat >"$work/opendkim.conf" <<EOF
Mode v
Socket inet:$ODKIM_PORT@127.0.0.1
AuthservID $authserv
Syslog no
Background no
Nameservers 127.0.0.1@$dns_port
# The test's client connects from 127.0.0.1, by default an internal host.
InternalHosts 192.0.2.1
EOF
"$opendkim" -f -x "$work/opendkim.conf" >"$work/opendkim.log" 2>&1 &
pids+=($!); opendkim_pid=$!
wait_port "$ODKIM_PORT" || { echo "opendkim did not start"; cat "$work/opendkim.log"; exit 1; }

# ---- mtasd, verify only, the same authserv-id ----------------------------------------
write_mtasd V verify "inet:$MTASD_PORT@127.0.0.1" "$authserv" "PinnedKey mail.example.org $work/keys/m.crt.pem" \
  "InternalHosts 192.0.2.1"
"$mtasd" -n -c "$work/V.conf" >/dev/null || { echo "mtasd -n refused V.conf"; exit 1; }
start_mtasd V

# ---- Postfix A: opendkim then mtasd; Postfix B: mtasd then opendkim -----------------
make_postfix A "$A_SMTP" "inet:127.0.0.1:$ODKIM_PORT, inet:127.0.0.1:$MTASD_PORT" deliver
make_postfix B "$B_SMTP" "inet:127.0.0.1:$MTASD_PORT, inet:127.0.0.1:$ODKIM_PORT" deliver
for h in A B; do
  wait_port "$([ $h = A ] && echo "$A_SMTP" || echo "$B_SMTP")" || { echo "postfix $h is not listening"; exit 1; }
  echo "postfix $h: smtpd_milters = $(postconf -c "$work/pf-$h" -h smtpd_milters)"
done

# ---- the messages: signed by mtas (header carrier), then by DKIM over the
# fields mtas signed and the body (mtas does not sign the DKIM-Signature) ----------
for tag in good forged; do
  printf 'From: Alice Example <alice@example.org>\r\nTo: Bob Example <bob@example.net>\r\nSubject: %s\r\nDate: Tue, 17 Mar 2026 18:30:40 +0100\r\nMessage-ID: <%s@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nHello Bob,\r\n\r\nOpenDKIM and mtas side by side.\r\n\r\nAlice\r\n' \
    "OpenDKIM coexistence, $tag" "coexist-$tag" >"$work/$tag.eml"
  "$mtas" sign --key "$work/keys/m.key.pem" --signer mail.example.org --carrier header "$work/$tag.eml" "$work/$tag.mtas" \
    || { echo "mtas sign failed"; exit 1; }
  /usr/bin/python3 - "$work/$tag.mtas" "$work/dkim.key" "$work/$tag.signed" <<'PY' || { echo "DKIM signing failed"; exit 1; }
import dkim, sys
msg = open(sys.argv[1], "rb").read()
sig = dkim.sign(msg, b"dk1", b"example.org", open(sys.argv[2], "rb").read(),
                include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
open(sys.argv[3], "wb").write(sig + msg)
PY
done
# The forgery: results under our authserv-id, as if this host had written them,
# on top of a message that really is signed. Another host's result stays.
{
  printf 'Authentication-Results: %s; mtas=pass header.s=mail.example.org header.i=FORGED\r\n' "$authserv"
  printf 'Authentication-Results: other.example; mtas=pass header.s=mail.example.org header.i=ELSEWHERE\r\n'
  cat "$work/forged.signed"
} >"$work/forged.in"
pins=(--no-network --key-file "mail.example.org=$work/keys/m.crt.pem")
for f in good.signed forged.in; do
  "$mtas" verify "${pins[@]}" "$work/$f" >"$work/$f.verify" 2>&1 || { echo "$f: mtas verify before sending failed"; cat "$work/$f.verify"; exit 1; }
done
txt="v=DKIM1; k=rsa; p=$p"
/usr/bin/python3 - "$work/good.signed" "$work/forged.in" "$txt" <<'PY' || { echo "dkimpy does not verify the messages before sending"; exit 1; }
import dkim, sys
txt = sys.argv[3].encode()
for f in sys.argv[1:3]:
    assert dkim.verify(open(f, "rb").read(), dnsfunc=lambda name, timeout=5: txt), f
PY
echo "messages signed: mtas verify and dkimpy pass before sending"

# received HOST TAG -> the delivered message with Message-ID <coexist-TAG@example.org>, up to 30 s
received() {
  local f
  for _ in $(seq 150); do
    f=$(grep -l "^Message-ID: <coexist-$2@example.org>" "$work/pf-$1/vmail/bob/new/"* 2>/dev/null | head -1)
    [ -n "$f" ] && { echo "$f"; return 0; }
    sleep 0.2
  done
  return 1
}

# check HOST TAG FILE VERIFY_STATUS: Authentication-Results of a delivered message
check() {
  /usr/bin/python3 - "$1" "$2" "$3" "$4" "$authserv" <<'PY'
import re, sys
host, tag, path, verify_status, authserv = sys.argv[1:]
order = {"A": "opendkim, mtasd", "B": "mtasd, opendkim"}[host]
head = open(path, "rb").read().replace(b"\r\n", b"\n").partition(b"\n\n")[0].decode()
ars = re.findall(r"(?im)^Authentication-Results:[ \t]*(.*)$", re.sub(r"\n[ \t]+", " ", head))
ours = [a for a in ars if a.split(";", 1)[0].strip().lower() == authserv]
errors = []
if verify_status != "0":
    errors.append("mtas verify of the delivered message: exit %s, want 0 (pass)" % verify_status)
dkim = [a for a in ours if re.search(r"\bdkim=pass\b", a) and "header.d=example.org" in a]
mtas = [a for a in ours if re.search(r"\bmtas=pass\b", a) and re.search(r'header\.s="?mail\.example\.org\b', a)]
if len(dkim) != 1:
    errors.append("want 1 dkim=pass header.d=example.org under %s, got %d" % (authserv, len(dkim)))
if len(mtas) != 1:
    errors.append("want 1 mtas=pass under %s, got %d" % (authserv, len(mtas)))
if tag == "forged":
    if any("FORGED" in a for a in ars):
        errors.append("the forged mtas=pass under %s is still there" % authserv)
    if not any(a.startswith("other.example;") and "ELSEWHERE" in a for a in ars):
        errors.append("another host's Authentication-Results was removed")
if errors:
    print("FAIL: %s (%s), %s message:" % (host, order, tag))
    for e in errors:
        print("   ", e)
    for a in ars:
        print("    Authentication-Results:", a)
    sys.exit(1)
what = "dkim=pass and mtas=pass under %s, mtas verify passes" % authserv
if tag == "forged":
    what = "forged mtas=pass removed, other.example's kept, " + what
print("ok: %s (%s), %s message: %s" % (host, order, tag, what))
PY
}

for h in A B; do
  port=$([ $h = A ] && echo "$A_SMTP" || echo "$B_SMTP")
  send "$work/good.signed" bob@example.net "$port" alice@example.org || fail "$h: SMTP send (good)"
  send "$work/forged.in" bob@example.net "$port" alice@example.org || fail "$h: SMTP send (forged)"
done
for h in A B; do
  for tag in good forged; do
    if ! f=$(received "$h" "$tag"); then
      fail "$h: $tag message not delivered in 30 s"
      tail -5 "$work/pf-$h/maillog"; tail -3 "$work/mtasd-V.log"; tail -3 "$work/opendkim.log"
      continue
    fi
    "$mtas" verify "${pins[@]}" "$f" >/dev/null 2>&1; st=$?
    check "$h" "$tag" "$f" "$st" || fails=$((fails + 1))
  done
done

kill -0 "${mtasd_pid[V]}" 2>/dev/null || fail "mtasd died"
kill -0 "$opendkim_pid" 2>/dev/null || fail "opendkim died"
[ "$fails" = 0 ] && echo "opendkim coexistence: all checks passed"
exit "$fails"
