#!/usr/bin/env bash
# End to end with Exim, Debian's default MTA, which has no milter interface:
# Exim from Debian's exim4-daemon-heavy package, extracted and run from the
# test's own directory with its own configuration (it cannot be installed
# beside Postfix, as both are the system MTA). Exim S signs with `mtas sign`
# as the transport_filter of its smtp transport and relays to Exim R, whose
# DATA ACL verifies with `mtas verify --result-fields` over the message file
# Exim's content scanning writes, keys from DNS (nsd on 127.0.0.1), and adds
# the result fields (docs/exim.md). Checked: a signed message arrives with
# mtas=pass from R and verifies again; one mtas refuses to sign (two From
# fields) goes on unsigned instead of being deferred; a signed message
# changed on its way gets mtas=fail. Measured: messages per second through
# S and R, and what one `mtas verify` process costs.
#   exim.sh MTAS MTASD SOURCE_DIR
# shellcheck disable=SC1091,SC2154  # work, dns_port: set by lib.sh
set -uo pipefail
mtas=$(realpath "$1"); root="$3"  # absolute: Exim runs it from elsewhere
command -v nsd >/dev/null || { echo "missing nsd (scripts/test-deps.sh installs it)"; exit 1; }
deb=$(find /var/cache/mtas-tests -name 'exim4-daemon-heavy_*.deb' 2>/dev/null | head -1)
[ -n "$deb" ] || { echo "missing the exim4-daemon-heavy package (scripts/test-deps.sh downloads it)"; exit 1; }
getent passwd Debian-exim >/dev/null || { echo "missing user Debian-exim (scripts/test-deps.sh creates it)"; exit 1; }
. "$root/tests/integration/lib.sh"
chmod 755 "$work"
exim_pids=()
# shellcheck disable=SC2317  # called by the trap
stop_exims() { for p in "${exim_pids[@]}"; do kill "$p" 2>/dev/null; done; cleanup; }
trap stop_exims EXIT

dpkg-deb -x "$deb" "$work/exim" || { echo "cannot extract $deb"; exit 1; }
exim="$work/exim/usr/sbin/exim4"
"$exim" -bV -C /dev/null 2>&1 | grep -q Content_Scanning || { echo "this Exim has no content scanning"; exit 1; }

signer=mail.example.org
S_PORT=$(free_port); R_PORT=$(free_port)
"$mtas" keygen --algorithm ed25519 --signer "$signer" --selector s --out "$work/keys" >/dev/null
services=$(sed -n 's/^; Sign with: --services "\(.*\)"$/\1/p' "$work/keys/s.zone")
chown Debian-exim "$work/keys/s.key.pem"  # the transport runs as Exim's user
{ soa example.org.; cat "$work/keys/s.zone"; } >"$work/example.org.zone"
start_nsd "$work" example.org:example.org.zone || exit 1

# write_exim NAME PORT -> $work/NAME/exim.conf, the parts every instance shares
write_exim() {
  local d="$work/$1"
  mkdir -p "$d/spool" "$d/log" "$d/mail"
  cat >"$d/exim.conf" <<EOF
exim_path = $exim
primary_hostname = $1.example
spool_directory = $d/spool
log_file_path = $d/log/%slog
exim_user = Debian-exim
exim_group = Debian-exim
never_users =
daemon_smtp_ports = $2
local_interfaces = 127.0.0.1
host_lookup =
rfc1413_hosts =
tls_advertise_hosts =
keep_environment =
domainlist local_domains = example.net
hostlist relay_from_hosts = 127.0.0.1
acl_smtp_rcpt = acl_check_rcpt
EOF
}

# ---- Exim S: signs in its smtp transport, relays to R ----------------------------------
write_exim S "$S_PORT"
cat >>"$work/S/exim.conf" <<EOF
begin acl
acl_check_rcpt:
  accept hosts = +relay_from_hosts
  deny
begin routers
to_r:
  driver = manualroute
  route_list = * 127.0.0.1
  self = send
  transport = mtas_smtp
begin transports
mtas_smtp:
  driver = smtp
  port = $R_PORT
  allow_localhost
  hosts_try_fastopen =
  # Exim gives a filter's standard error the same pipe as its output: mtas's
  # messages go to a log instead, or they would open the message.
  transport_filter = /bin/sh -c "exec $mtas sign --key $work/keys/s.key.pem --signer $signer --services '$services' --pass-unsigned 2>>$work/S/log/mtas.log"
begin retry
* * F,1m,10s
EOF

# ---- Exim R: verifies in the DATA ACL, delivers to a maildir -----------------------------
write_exim R "$R_PORT"
cat >>"$work/R/exim.conf" <<EOF
acl_smtp_data = acl_check_data
begin acl
acl_check_rcpt:
  accept domains = +local_domains
  deny
acl_check_data:
  # "regex" has Exim write the whole message to its scan file, which mtas reads.
  warn  regex = ^
        set acl_m_mtas = \${run{/bin/sh -c "exec $mtas verify --result-fields mx.example.net --resolver 127.0.0.1:$dns_port --timeout 3000 \$spool_directory/scan/\$message_exim_id/\$message_exim_id.eml 2>/dev/null"}{\$value}{\$value}}
  warn  condition = \${if def:acl_m_mtas}
        add_header = \$acl_m_mtas
  accept
begin routers
local:
  driver = accept
  domains = +local_domains
  transport = maildir
begin transports
maildir:
  driver = appendfile
  directory = $work/R/mail/
  maildir_format
  user = Debian-exim
begin retry
* * F,1m,10s
EOF
# ---- the same pair without mtas, for the measured ratio ---------------------------------
S0_PORT=$(free_port); R0_PORT=$(free_port)
write_exim S0 "$S0_PORT"
sed -n '/^begin acl$/,$p' "$work/S/exim.conf" | sed -e "s/^  port = $R_PORT$/  port = $R0_PORT/" -e '/transport_filter/d' >>"$work/S0/exim.conf"
write_exim R0 "$R0_PORT"
sed -n '/^begin acl$/,$p' "$work/R/exim.conf" | sed -e "s|$work/R/mail/|$work/R0/mail/|" >>"$work/R0/exim.conf"
sed -i -e '/^acl_smtp_data/d' "$work/R0/exim.conf"
for h in S R S0 R0; do chown -R Debian-exim "$work/$h/spool" "$work/$h/log" "$work/$h/mail"; done
for h in S R S0 R0; do
  "$exim" -C "$work/$h/exim.conf" -bV >/dev/null 2>"$work/$h.bV" || { echo "exim $h: configuration refused"; cat "$work/$h.bV"; exit 1; }
  "$exim" -C "$work/$h/exim.conf" -bd -q5s 2>>"$work/$h.err" &
  exim_pids+=($!)
done
for p in "$S_PORT" "$R_PORT" "$S0_PORT" "$R0_PORT"; do
  for _ in $(seq 50); do [ -n "$(ss -Hltn "sport = :$p" 2>/dev/null)" ] && break; sleep 0.1; done
done

send() {  # FILE PORT
  python3 - "$1" "$2" <<'PY'
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[2]), timeout=30) as s:
    s.sendmail("alice@example.org", ["bob@example.net"], open(sys.argv[1], "rb").read())
PY
}
delivered() {  # MESSAGE-ID -> the file in R's maildir, up to 30 s
  local f
  for _ in $(seq 150); do
    f=$(grep -l "^Message-ID: <$1>" "$work/R/mail/new/"* 2>/dev/null | head -1)
    [ -n "$f" ] && { echo "$f"; return 0; }
    sleep 0.2
  done
  return 1
}
# r_result FILE -> R's mtas= result, from its Authentication-Results
r_result() {
  tr -d '\r' <"$1" | sed -n '/^$/q;p' | sed -e ':a' -e 'N' -e '$!ba' -e 's/\n[ \t]\+/ /g' |
    sed -n 's/^Authentication-Results: mx\.example\.net;.*mtas=\([a-z]*\).*/\1/p' | head -1
}
message() {  # ID [EXTRA-HEADER] -> a message on stdout
  printf 'From: Alice <alice@example.org>\r\n%sTo: Bob <bob@example.net>\r\nSubject: through Exim\r\nDate: Sun, 6 Dec 2026 12:00:00 +0000\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nHello Bob,\r\nsigned by Exim S, verified by Exim R.\r\n' "${2:-}" "$1"
}

# ---- 1. signed by S, verified by R --------------------------------------------------
message one@example.org >"$work/one.eml"
send "$work/one.eml" "$S_PORT" || fail "S refused the message"
if f=$(delivered one@example.org); then
  before=$fails
  [ "$(r_result "$f")" = pass ] || { fail "R's result for a message S signed: '$(r_result "$f")', want pass"; sed -n '1,30p' "$f"; tail -5 "$work/S/log/mainlog"; }
  grep -q "^MTAS-Signature:" "$f" || fail "the message has no MTAS-Signature: S did not sign"
  "$mtas" verify --no-network --key-file "$signer=$work/keys/s.crt.pem" "$f" >"$work/v1" || { fail "mtas verify of the delivered message"; cat "$work/v1"; }
  [ "$fails" = "$before" ] && echo "ok: signed by Exim S (transport_filter), mtas=pass at Exim R (DATA ACL)"
else
  fail "message 1 was not delivered"; tail -5 "$work/S/log/mainlog" "$work/R/log/mainlog" "$work/S/log/paniclog" 2>/dev/null
fi

# ---- 2. what mtas will not sign goes on unsigned, not deferred ----------------------
message two@example.org "From: Mallory <mallory@example.org>\r\n" >"$work/two.eml"
send "$work/two.eml" "$S_PORT" || fail "S refused the message with two From fields"
if f=$(delivered two@example.org); then
  before=$fails
  grep -q "^MTAS-Signature:" "$f" && fail "a message with two From fields was signed"
  tr -d '\r' <"$f" | sed -n '/^$/q;p' | grep -q '^From: Mallory' || fail "the unsigned message's header lost its fields"
  grep -q "passed unsigned: .*From" "$work/S/log/mtas.log" || fail "the reason it went unsigned is not in mtas.log"
  [ "$(r_result "$f")" = none ] || fail "R's result for the unsigned message: '$(r_result "$f")', want none"
  [ "$fails" = "$before" ] && echo "ok: a message mtas refuses to sign goes on unsigned (result none at R)"
else
  fail "the message mtas would not sign was not delivered (deferred?)"; grep two@ "$work/S/log/mainlog" | tail -3
fi

# ---- 3. signed, then changed on the way: R reports it ---------------------------------
# A changed Subject is a partial that names it; a changed body text, a fail.
message three@example.org >"$work/three.eml"
"$mtas" sign --key "$work/keys/s.key.pem" --signer "$signer" --services "$services" "$work/three.eml" "$work/three.signed"
sed 's/^Subject: through Exim/Subject: changed on the way/; s/^Message-ID: <three@/Message-ID: <three-subject@/' \
  "$work/three.signed" >"$work/three-subject.eml"
sed 's/^signed by Exim S/rewritten on the way/; s/^Message-ID: <three@/Message-ID: <three-body@/' \
  "$work/three.signed" >"$work/three-body.eml"
for change in subject:partial body:fail; do
  what=${change%%:*}; want=${change#*:}
  send "$work/three-$what.eml" "$R_PORT" || { fail "R refused the message with a changed $what"; continue; }
  if ! f=$(delivered "three-$what@example.org"); then
    fail "the message with a changed $what was not delivered"; continue
  fi
  if [ "$(r_result "$f")" = "$want" ]; then
    echo "ok: a signed message whose $what changed on the way gets mtas=$want at R"
  else
    fail "R's result for a changed $what: '$(r_result "$f")', want $want"
  fi
done
grep -qi "headers=Subject" "$(delivered three-subject@example.org)" || fail "R's fields do not name the changed Subject"

# ---- measured: throughput with and without mtas, and one verify process --------------
n=100
for i in $(seq "$n"); do message "load-$i@example.org" >"$work/load-$i.eml"; done
load() {  # SMTP-PORT MAILDIR -> milliseconds until all n are delivered, in $ms
  local start
  start=$(date +%s%N)
  python3 - "$work" "$1" "$n" <<'PY' || fail "the load was refused"
import smtplib, sys, threading
work, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def client(k):
    for i in range(k, n + 1, 4):
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
            s.sendmail("alice@example.org", ["bob@example.net"], open("%s/load-%d.eml" % (work, i), "rb").read())
threads = [threading.Thread(target=client, args=(k,)) for k in range(1, 5)]
for t in threads: t.start()
for t in threads: t.join()
PY
  for _ in $(seq 600); do
    [ "$(grep -l '^Message-ID: <load-' "$2/new/"* 2>/dev/null | wc -l)" -ge "$n" ] && break
    sleep 0.1
  done
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
}
load "$S0_PORT" "$work/R0/mail"; ms0=$ms
load "$S_PORT" "$work/R/mail"
got=$(grep -l '^Message-ID: <load-' "$work/R/mail/new/"* 2>/dev/null | wc -l)
passed=0
while read -r f; do
  [ "$(r_result "$f")" = pass ] && passed=$((passed + 1))
done < <(grep -l '^Message-ID: <load-' "$work/R/mail/new/"* 2>/dev/null)
if [ "$got" != "$n" ] || [ "$passed" != "$n" ]; then fail "load: $got of $n delivered, $passed with mtas=pass"; fi
echo "measured: $n messages, 4 clients: Exim alone $ms0 ms ($((n * 1000 / (ms0 > 0 ? ms0 : 1)))/s); with mtas sign and verify $ms ms ($((n * 1000 / (ms > 0 ? ms : 1)))/s, $passed pass): ratio $((ms * 100 / (ms0 > 0 ? ms0 : 1)))%"
f=$(delivered one@example.org)
start=$(date +%s%N)
for _ in $(seq 20); do "$mtas" verify --result-fields mx.example.net --resolver "127.0.0.1:$dns_port" "$f" >/dev/null 2>&1; done
echo "measured: one mtas verify process (DNS key lookup, 4 KB) takes $(( ($(date +%s%N) - start) / 20000000 )) ms"

# Nothing of mtas's own output may reach a message: no text before the
# header, no report lines in the added fields.
for f in "$work/R/mail/new/"*; do
  head -1 "$f" | grep -q '^mtas ' && fail "$(basename "$f"): mtas's message opens the delivered mail"
  grep -q '^X-ACL-Warn:' "$f" && fail "$(basename "$f"): the ACL added an X-ACL-Warn field (report text in the result)"
done
[ "$fails" = 0 ] && echo "PASS: Exim signs through mtas sign and verifies through mtas verify in its ACL"
exit "$fails"
