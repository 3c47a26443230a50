#!/usr/bin/env bash
# Faults (never lose mail): mtasd killed mid-load and restarted; DNS down
# while the receiving hop's policy is `required`; malformed signatures.
# Every scenario asserts each message delivered exactly once.
#   faults.sh MTAS MTASD SOURCE_DIR
set -uo pipefail
mtas="$1"; mtasd="$2"; root="$3"
command -v postfix >/dev/null || { echo "missing postfix (scripts/test-deps.sh installs it)"; exit 1; }
. "$root/tests/e2e/lib_postfix.sh"

A_SMTP=$(free_port); C_SMTP=$(free_port); A_MILTER=$(free_port); C_MILTER=$(free_port)
"$mtas" keygen --algorithm ed25519 --signer mail.example.test --selector a --out "$work/keys" >/dev/null
# A second identity whose key hop C has never fetched (so nothing is cached).
"$mtas" keygen --algorithm ed25519 --signer mail2.example.test --selector a2 --out "$work/keys" >/dev/null

# DNS for hop C: the signer's KEY record and mtas=required for example.test.
{
  soa example.test.
  grep -v '^;' "$work/keys/a.zone"
  grep -v '^;' "$work/keys/a2.zone"
  echo 'example.test. 300 IN TXT "v=spf1 -all mtas=required"'
  echo 'mail.example.test. 300 IN TXT "v=spf1 -all mtas=required"'
} >"$work/example.test.zone"
start_nsd "$work" example.test:example.test.zone || exit 1
nsd_pid=${pids[-1]}

printf 'a %s mail.example.test services="domain:key:email a._certs"\na2 %s mail2.example.test services="domain:key:email a2._certs"\n' \
  "$work/keys/a.key.pem" "$work/keys/a2.key.pem" >"$work/a.keys"
printf 'other.example.test a2\n* a\n' >"$work/a.signing"
write_mtasd A sign "inet:$A_MILTER@127.0.0.1" mail.example.test "KeyTable $work/a.keys" "SigningTable $work/a.signing"
write_mtasd C verify "inet:$C_MILTER@127.0.0.1" mx.example.net Policy\ yes "Resolver 127.0.0.1:$dns_port" "Timeout 1500"
sed -i 's/^Network no$/Network yes/' "$work/C.conf"
start_mtasd A
start_mtasd C
make_postfix A "$A_SMTP" "$A_MILTER" "$C_SMTP"
make_postfix C "$C_SMTP" "$C_MILTER" deliver
printf 'smtp_connect_timeout = 5s\nminimal_backoff_time = 2s\nmaximal_backoff_time = 4s\nqueue_run_delay = 2s\n' >>"$work/pf-A/main.cf"
postfix -c "$work/pf-A" reload >/dev/null 2>&1
sleep 1

# count_delivered TAG -> how many delivered messages carry Message-ID <TAG-*>
count_delivered() { grep -l "^Message-ID: <$1-" "$work/pf-C/vmail/bob/new/"* 2>/dev/null | wc -l; }
ids_delivered() { grep -h "^Message-ID: <$1-" "$work/pf-C/vmail/bob/new/"* 2>/dev/null | sort; }

# send_many TAG N: N messages over 10 parallel sessions; a 4xx is retried
# as an MTA would (every 0.5 s, for up to 60 s). Prints how many got 250.
send_many() {  # TAG N [SENDER-DOMAIN]
  python3 - "$1" "$2" "$A_SMTP" "$root/examples/messages/alternative.eml" "${3:-example.test}" <<'PY'
import concurrent.futures, smtplib, sys, time
tag, n, port, template = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), open(sys.argv[4], "rb").read()
domain = sys.argv[5]
def one(i):
    msg = template.replace(b"Message-ID: <", b"Message-ID: <%s-%d-" % (tag.encode(), i), 1)
    msg = msg.replace(b"From: ", b"X-Seq: %d\r\nFrom: " % i, 1).replace(b"@example.com", b"@" + domain.encode())
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
                s.sendmail("alice@" + domain, ["bob@example.net"], msg)
            return 1
        except (smtplib.SMTPException, OSError) as e:
            code = getattr(e, "smtp_code", 0) or getattr(e, "recipients", {}) and 450
            if isinstance(e, smtplib.SMTPResponseException) and e.smtp_code >= 500:
                return 0  # refused for good: the sender knows; not lost
            time.sleep(0.5)
    return 0
with concurrent.futures.ThreadPoolExecutor(10) as pool:
    print(sum(pool.map(one, range(n))))
PY
}

wait_count() {  # TAG N
  for _ in $(seq 150); do [ "$(count_delivered "$1")" -ge "$2" ] && return 0; sleep 0.4; done
  return 1
}

# ---- 1. mtasd (hop A) killed with SIGKILL mid-load, restarted a second later ---
( sleep 1.5; kill -KILL "${mtasd_pid[A]}"; sleep 1; start_mtasd A; echo "${mtasd_pid[A]}" >"$work/newpid" ) &
killer=$!
accepted=$(send_many kill 150)
wait "$killer"
[ -f "$work/newpid" ] && mtasd_pid[A]=$(cat "$work/newpid") && pids+=("${mtasd_pid[A]}")
wait_count kill "$accepted" || fail "after the kill: $(count_delivered kill) of $accepted accepted messages delivered"
dups=$(ids_delivered kill | uniq -d | wc -l)
[ "$accepted" = 150 ] || fail "after the kill: only $accepted of 150 messages were accepted within the retry window"
[ "$dups" = 0 ] || fail "after the kill: $dups messages delivered twice"
grep -q "milter.*\(tempfail\|4.7\)\|451 4.7" "$work/pf-A/maillog" || echo "note: no tempfail was logged (the kill fell between messages)"
echo "mtasd killed mid-load: $accepted accepted, $(count_delivered kill) delivered, $dups duplicated"
# Every delivered message verifies (hop A signed all it accepted).
for f in $(grep -l "^Message-ID: <kill-" "$work/pf-C/vmail/bob/new/"* | head -20); do
  "$mtas" verify --no-network --key-file "mail.example.test=$work/keys/a.crt.pem" "$f" >/dev/null ||
    { fail "a delivered message does not verify: $f"; break; }
done

# ---- 2. DNS down while hop C's policy is `required` -----------------------------------
kill "$nsd_pid"; wait "$nsd_pid" 2>/dev/null
accepted=$(send_many dns 5 other.example.test)   # hop A accepts and queues; hop C must answer 4.7.x
# Hop A relays from its queue; wait (bounded) until hop C's 4.7.1 shows in A's log.
for _ in $(seq $((60 * ${MTAS_TEST_TIME_FACTOR:-1}))); do grep -q "4\.7\.1" "$work/pf-A/maillog" && break; sleep 0.5; done
[ "$(count_delivered dns)" = 0 ] || fail "delivered while the policy could not be read"
grep -q "4\.7\.1" "$work/pf-A/maillog" || fail "hop C did not answer 4.7.1 while DNS was down"
keep_dns_port=$dns_port start_nsd "$work" example.test:example.test.zone || exit 1
postqueue -c "$work/pf-A" -f
wait_count dns "$accepted" || fail "after DNS returned: $(count_delivered dns) of $accepted delivered"
dups=$(ids_delivered dns | uniq -d | wc -l)
[ "$dups" = 0 ] || fail "after DNS returned: $dups delivered twice"
echo "DNS down under mtas=required: 4.7.1 while down, $(count_delivered dns) of $accepted delivered once after"

# ---- 3. malformed signatures: judged by policy, never a crash ----------------------
for bad in "b=AAAA" "b=$(head -c 3000 /dev/urandom | base64 -w0)" "b=" "b=!!!"; do
  python3 - "$C_SMTP" "$bad" "$root/examples/messages/alternative.eml" <<'PY' >>"$work/bad.log" 2>&1
import smtplib, sys
port, b, msg = int(sys.argv[1]), sys.argv[2], open(sys.argv[3], "rb").read()
msg = (b"X-PostalTracking: MTAS/1.0 msgid=BAD0000001\r\nMTAS-Signature: msgid=BAD0000001; " + b.encode() + b"\r\n" + msg)
msg = msg.replace(b"@example.com", b"@example.test")
try:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        s.sendmail("alice@example.test", ["bob@example.net"], msg)
    print("accepted")
except smtplib.SMTPResponseException as e:
    print("refused", e.smtp_code, e.smtp_error.decode(errors="replace"))
PY
done
grep -c "refused 550" "$work/bad.log" | grep -q 4 || { fail "malformed signatures under mtas=required: want 4 rejections"; cat "$work/bad.log"; }
kill -0 "${mtasd_pid[C]}" 2>/dev/null || fail "mtasd C died on malformed input"

[ "$fails" = 0 ] && echo "faults: all checks passed"
exit "$fails"
