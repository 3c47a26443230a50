#!/usr/bin/env bash
# Real mailing-list managers end to end: messages signed by mtas go through
# mlmmj (1.3.0) and Mailman 3 core (3.3.8), each run privately on 127.0.0.1
# (no system configuration is touched) and delivering to an SMTP sink. For every
# output, mtas verify reports what the list changed; tests/e2e/lists_report.py
# diffs input and output and writes the measured table.
#   lists.sh MTAS SOURCE_DIR
# LISTS_REPORT (default /tmp/lists-report.md) gets the report, LISTS_OUT
# (default /tmp/lists-out) every input/output pair, named by scenario.
set -uo pipefail
mtas="$1"; root="$2"
report="${LISTS_REPORT:-/tmp/lists-report.md}"; outdir="${LISTS_OUT:-/tmp/lists-out}"
for t in /usr/bin/mlmmj-receive /usr/bin/mlmmj-make-ml /usr/bin/mailman; do
  [ -x "$t" ] || { echo "missing $t (scripts/test-deps.sh installs mlmmj and mailman3)"; exit 1; }
done
. "$root/tests/integration/lib.sh"
[ -n "${MTAS_KEEP_WORK:-}" ] && echo "work: $work"
start_time=$SECONDS

# Mailman runs as the current user; as root it wants --run-as-root.
mm_cfg="$work/mm/mailman.cfg"
mm_root=(); [ "$(id -u)" -eq 0 ] && mm_root=(--run-as-root)
mm() { /usr/bin/mailman "${mm_root[@]}" -C "$mm_cfg" "$@"; }
mm_started=""
# Every process below the master (runners, gunicorn workers), by parent pid.
descendants() { local c; for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do echo "$c"; descendants "$c"; done; }
stop_mailman() {
  [ -n "$mm_started" ] || return 0
  local master; master=$(cat "$work/mm/var/master.pid" 2>/dev/null)
  local kids=()
  [ -z "$master" ] || mapfile -t kids < <(descendants "$master")
  timeout 30 /usr/bin/mailman "${mm_root[@]}" -C "$mm_cfg" stop >/dev/null 2>&1
  for _ in $(seq 75); do
    { [ -n "$master" ] && kill -0 "$master" 2>/dev/null; } || break
    sleep 0.2
  done
  for p in $master "${kids[@]}"; do kill -9 "$p" 2>/dev/null && echo "killed leftover Mailman process $p"; done
  mm_started=""
}
# shellcheck disable=SC2317  # run by the EXIT trap
stop_all() { stop_mailman; cleanup; }
trap stop_all EXIT

# ---- keys and signed messages -------------------------------------------------
"$mtas" keygen --algorithm ed25519 --signer mail.example.com --selector a --out "$work/keys" >/dev/null ||
  { echo "keygen failed"; exit 1; }
pins=(--no-network --key-file "mail.example.com=$work/keys/a.crt.pem")
mkdir -p "$work/msgs" "$work/signed"
cp "$root/examples/messages/text-plain.eml" "$work/msgs/plain.eml"        # text/plain us-ascii 7bit
cp "$root/examples/messages/utf8-8bit.eml" "$work/msgs/utf8.eml"          # text/plain utf-8 8bit
cp "$root/examples/messages/mixed-attachment.eml" "$work/msgs/mixed.eml"  # text + PDF + CSV
cp "$root/examples/messages/alternative.eml" "$work/msgs/alt.eml"         # text + HTML
sed 's/$/\r/' >"$work/msgs/html.eml" <<'EOF'
Received: from [198.51.100.61] (dsl-61.example.com [198.51.100.61])
	by mail.example.com (Postfix) with ESMTPSA id C41E02B0077
	for <bob@example.net>; Fri, 13 Mar 2026 11:20:02 +0100 (CET)
From: Alice Example <alice@example.com>
To: Bob Example <bob@example.net>
Subject: The status page has moved
Date: Fri, 13 Mar 2026 11:20:00 +0100
Message-ID: <20260313102000.7e41aa@mail.example.com>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<!DOCTYPE html>
<html>
<body style=3D"font-family: sans-serif;">
<p>Hi Bob,</p>
<p>the status page has moved to <a href=3D"https://status.example.org/">st=
atus.example.org</a>. Gr=C3=BC=C3=9Fe aus K=C3=B6ln!</p>
<p>Alice</p>
</body>
</html>
EOF
msgs=(plain utf8 mixed alt html)
for m in "${msgs[@]}"; do
  for c in header body; do
    "$mtas" sign --key "$work/keys/a.key.pem" --signer mail.example.com --carrier "$c" \
      "$work/msgs/$m.eml" "$work/signed/$m-$c.eml" || { fail "sign $m with --carrier $c"; continue; }
    "$mtas" verify "${pins[@]}" "$work/signed/$m-$c.eml" >/dev/null || fail "signed $m-$c does not pass before the list"
    # What an MTA's local delivery hands to a list manager: LF line ends.
    sed 's/\r$//' "$work/signed/$m-$c.eml" >"$work/signed/$m-$c.lf.eml"
  done
done

# ---- the SMTP sink both list managers deliver to --------------------------------
SINK=$(free_port)
python3 "$root/tests/e2e/smtp_sink.py" "$SINK" "$work/sink" >"$work/sink.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q ready "$work/sink.log" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$work/sink.log" || { echo "SMTP sink did not start"; cat "$work/sink.log"; exit 1; }
manifest="$work/manifest.tsv"  # scenario tool config msg carrier list input
: >"$manifest"

# ---- mlmmj: one list directory per scenario under $work/mlmmj ----------------------
# mlmmj-make-ml asks for the domain, the owner and the text language on stdin.
make_mlmmj() {  # NAME -> $work/mlmmj/NAME, prefix + footer + delheaders, relaying to the sink
  local d="$work/mlmmj/$1"
  printf 'lists.example.org\nowner@example.org\nen\n' |
    /usr/bin/mlmmj-make-ml -L "$1" -s "$work/mlmmj" >>"$work/mlmmj-make-ml.log" 2>&1
  [ -f "$d/control/listaddress" ] || { fail "mlmmj-make-ml did not create $1"; return 1; }
  echo "[test]" >"$d/control/prefix"
  printf -- '-- \nTest list footer: unsubscribe at %s+unsubscribe@lists.example.org\n' "$1" >"$d/control/footer"
  echo "X-" >"$d/control/delheaders"
  echo 127.0.0.1 >"$d/control/relayhost"
  echo "$SINK" >"$d/control/smtpport"
  touch "$d/control/tocc"   # the list address is in neither To: nor Cc: of the test messages
  /usr/bin/mlmmj-sub -L "$d" -a bob@example.net -f -q -s >>"$work/mlmmj-make-ml.log" 2>&1 ||
    fail "mlmmj-sub $1"
}
# mlmmj_post NAME FILE [crlf]: as Postfix's local(8) pipes it: Return-Path and Delivered-To on top.
mlmmj_post() {
  local eol='\n'; [ "${3:-}" = crlf ] && eol='\r\n'
  { printf 'Return-Path: <alice@example.com>%s' "$eol"; printf 'Delivered-To: %s@lists.example.org%s' "$1" "$eol"; cat "$2"; } \
    >"$work/in-$1.eml"
  timeout 30 /usr/bin/mlmmj-receive -F -L "$work/mlmmj/$1" <"$work/in-$1.eml" || fail "mlmmj-receive $1 exited $?"
}
mkdir -p "$work/mlmmj"
for m in "${msgs[@]}"; do
  for c in header body; do
    name="ml-$m-$c"
    make_mlmmj "$name" || continue
    mlmmj_post "$name" "$work/signed/$m-$c.lf.eml"
    printf '%s\tmlmmj\tstd\t%s\t%s\t%s\t%s\n' "$name" "$m" "$c" "$name" "$work/in-$name.eml" >>"$manifest"
  done
done
# The same message handed over with CRLF line ends (not what an MTA does): mlmmj adds a CR to each line.
if make_mlmmj ml-crlf-plain-header; then
  mlmmj_post ml-crlf-plain-header "$work/signed/plain-header.eml" crlf
  printf 'ml-crlf-plain-header\tmlmmj\tstd (CRLF input)\tplain\theader\tml-crlf-plain-header\t%s\n' \
    "$work/in-ml-crlf-plain-header.eml" >>"$manifest"
fi
echo "== mlmmj: $(grep -c mlmmj "$manifest") posts handed to mlmmj-receive ($((SECONDS - start_time)) s)"

# ---- Mailman 3 core, run privately ----------------------------------------------------
LMTP=$(free_port); REST=$(free_port)
mkdir -p "$work/mm/var"
cat >"$mm_cfg" <<EOF
[mailman]
layout: private
site_owner: owner@example.org
html_to_plain_text_command: /usr/bin/python3 $work/mm/html2text.py \$filename
[paths.private]
var_dir: $work/mm/var
bin_dir: /usr/lib/mailman3/bin
[database]
class: mailman.database.sqlite.SQLiteDatabase
url: sqlite:///$work/mm/var/data/mailman.db
[mta]
incoming: mailman.mta.null.NullMTA
outgoing: mailman.mta.deliver.deliver
smtp_host: 127.0.0.1
smtp_port: $SINK
lmtp_host: 127.0.0.1
lmtp_port: $LMTP
[webservice]
hostname: 127.0.0.1
port: $REST
admin_user: restadmin
admin_pass: restpass
[archiver.prototype]
enable: no
[runner.bounces]
start: no
[runner.nntp]
start: no
[dmarc]
resolver_timeout: 1s
resolver_lifetime: 2s
EOF
# The DMARC rule would download the public suffix list: give it the shipped copy, fresh for a day.
psl=$(/usr/bin/python3 -c 'import mailman.rules.data as d, os; print(os.path.join(os.path.dirname(d.__file__), "public_suffix_list.dat"))')
cp "$psl" "$work/mm/var/public_suffix_list.dat" && touch -d '+1 day' "$work/mm/var/public_suffix_list.dat"
# convert_html_to_plaintext runs a command (lynx by default, not installed): a stand-in.
cat >"$work/mm/html2text.py" <<'EOF'
import html.parser, sys
class P(html.parser.HTMLParser):
    out = []
    def handle_data(self, d): self.out.append(d)
    def handle_endtag(self, t): self.out.append("\n" if t in ("p", "div", "br") else "")
p = P(); p.feed(open(sys.argv[1], encoding="utf-8").read())
print("\n".join(l.strip() for l in "".join(p.out).splitlines() if l.strip()))
EOF
t0=$SECONDS
mm start >"$work/mm/start.log" 2>&1 || { fail "mailman start"; cat "$work/mm/start.log"; }
mm_started=1
rest_up=""
for _ in $(seq 120); do
  python3 - "$REST" >/dev/null 2>&1 <<'PY' && { rest_up=1; break; }
import base64, sys, urllib.request
r = urllib.request.Request("http://127.0.0.1:%s/3.1/system/versions" % sys.argv[1],
                           headers={"Authorization": "Basic " + base64.b64encode(b"restadmin:restpass").decode()})
urllib.request.urlopen(r, timeout=2).read()
PY
  sleep 0.5
done
[ -n "$rest_up" ] || { fail "Mailman REST did not come up in 60 s"; tail -20 "$work/mm/var/logs/mailman.log"; }
echo "== mailman: REST up after $((SECONDS - t0)) s"

# Mailman scenarios: one list per scenario, named after it; CONFIG is a key of CONFIGS below.
mm_scenarios=()
for m in "${msgs[@]}"; do for c in header body; do mm_scenarios+=("bare $m $c" "basic $m $c"); done; done
for c in header body; do
  mm_scenarios+=("replyto plain $c" "munge plain $c" "wrap plain $c" "wrap mixed $c"
                 "filter mixed $c" "collapse alt $c" "html2text html $c")
done
for s in "${mm_scenarios[@]}"; do
  read -r cfgname m c <<<"$s"
  printf 'mm-%s-%s-%s\tmailman\t%s\t%s\t%s\tmm-%s-%s-%s\t%s\n' "$cfgname" "$m" "$c" "$cfgname" "$m" "$c" \
    "$cfgname" "$m" "$c" "$work/signed/$m-$c.lf.eml" >>"$manifest"
done
if [ -n "$rest_up" ]; then
  python3 - "$REST" "$manifest" "$work/mm/var/templates" >"$work/mm/rest.log" 2>&1 <<'PY' || { fail "Mailman list setup over REST"; cat "$work/mm/rest.log"; }
import base64, json, os, sys, urllib.error, urllib.parse, urllib.request
port, manifest, template_dir = sys.argv[1:]
base = "http://127.0.0.1:%s/3.1" % port
auth = "Basic " + base64.b64encode(b"restadmin:restpass").decode()

def call(method, path, data=None):
    body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
    req = urllib.request.Request(base + path, data=body, method=method, headers={"Authorization": auth})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        sys.exit("%s %s -> %s %s" % (method, path, e.code, e.read().decode()))

FOOTER = "-- \nTest list footer: unsubscribe at ${short_listname}-leave@${domain}\n"
# Every list accepts posts from non-members, to an implicit destination (the
# messages are addressed To: bob), of any size, and sends no welcome message.
COMMON = {"default_nonmember_action": "accept", "require_explicit_destination": False,
          "send_welcome_message": False, "max_message_size": 0, "subject_prefix": ""}
CONFIGS = {  # config -> (list settings, footer template)
    "bare": ({}, ""),
    "basic": ({"subject_prefix": "[test] "}, FOOTER),
    "replyto": ({"reply_goes_to_list": "point_to_list"}, ""),
    "munge": ({"dmarc_mitigate_action": "munge_from", "dmarc_mitigate_unconditionally": True}, ""),
    "wrap": ({"dmarc_mitigate_action": "wrap_message", "dmarc_mitigate_unconditionally": True}, ""),
    "filter": ({"filter_content": True, "filter_extensions": ["pdf"], "collapse_alternatives": False}, ""),
    "collapse": ({"filter_content": True, "collapse_alternatives": True}, ""),
    "html2text": ({"filter_content": True, "convert_html_to_plaintext": True}, ""),
}
call("POST", "/domains", {"mail_host": "lists.example.org"})
for line in open(manifest):
    scenario, tool, config, msg, carrier, listname, _ = line.rstrip("\n").split("\t")
    if tool != "mailman":
        continue
    list_id = listname + ".lists.example.org"
    settings, footer = CONFIGS[config]
    call("POST", "/lists", {"fqdn_listname": listname + "@lists.example.org"})
    call("PATCH", "/lists/%s/config" % list_id, dict(COMMON, **settings))
    # Create the list's archiver rows now: the out and archive runners otherwise both
    # add them for the first post, and one of them then dies on "Multiple rows were found".
    call("GET", "/lists/%s/archivers" % list_id)
    # The footer is the template list:member:regular:footer; an empty file means none.
    d = os.path.join(template_dir, "lists", list_id, "en")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "list:member:regular:footer.txt"), "w") as f:
        f.write(footer)
    call("POST", "/members", {"list_id": list_id, "subscriber": "bob@example.net", "pre_verified": True,
                              "pre_confirmed": True, "pre_approved": True, "send_welcome_message": False})
print("lists configured")
PY
  echo "== mailman: lists configured ($((SECONDS - start_time)) s); injecting"
  while IFS=$'\t' read -r scenario tool _ m c list input; do
    [ "$tool" = mailman ] || continue
    timeout 60 /usr/bin/mailman "${mm_root[@]}" -C "$mm_cfg" inject -f "$input" "$list@lists.example.org" \
      >>"$work/mm/inject.log" 2>&1 || fail "mailman inject $scenario"
  done <"$manifest"
fi

# ---- collect what the sink received, one message per list --------------------------
python3 - "$work/sink" "$manifest" "$work/collected.tsv" 60 <<'PY' || fail "not every list delivered"
import glob, os, sys, time
sink, manifest, out, timeout = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
rows = [l.rstrip("\n").split("\t") for l in open(manifest)]
found = {}
deadline = time.time() + timeout
while time.time() < deadline and len(found) < len(rows):
    for env in sorted(glob.glob(os.path.join(sink, "*.env"))):
        lines = open(env).read().splitlines()
        sender = lines[0][len("MAIL FROM:<"):-1]
        rcpts = [l[len("RCPT TO:<"):-1] for l in lines[1:]]
        local = sender.split("@")[0]
        if "bob@example.net" not in rcpts:
            continue
        for r in rows:  # mlmmj: LIST+bounces-N-bob=example.net@, Mailman: LIST-bounces@
            if local == r[5] + "-bounces" or local.startswith(r[5] + "+bounces-"):
                found.setdefault(r[0], env[:-4] + ".eml")
    time.sleep(0.5)
with open(out, "w") as f:
    for r in rows:
        f.write("\t".join(r + [found.get(r[0], "-")]) + "\n")
missing = [r[0] for r in rows if r[0] not in found]
print("collected %d of %d outputs" % (len(found), len(rows)) + ("; missing: " + " ".join(missing) if missing else ""))
sys.exit(1 if missing else 0)
PY
echo "== collected ($((SECONDS - start_time)) s)"
cp "$work/mm/var/logs/mailman.log" "$work/mailman.log" 2>/dev/null
stop_mailman
echo "== mailman stopped ($((SECONDS - start_time)) s)"

# ---- verify every output, diff it against its input, write the report ---------------
versions="mlmmj $(/usr/bin/mlmmj-receive -V 2>&1 | awk '{print $NF}'), $(/usr/bin/mailman --version 2>&1)"
python3 "$root/tests/e2e/lists_report.py" --mtas "$mtas" --key-file "mail.example.com=$work/keys/a.crt.pem" \
  --collected "$work/collected.tsv" --report "$report" --out "$outdir" --versions "$versions" \
  --mailman-log "$work/mailman.log" || fail "assertions on the verified outputs (see above)"

echo "lists: $((SECONDS - start_time)) s, report in $report, messages in $outdir"
[ "$fails" = 0 ] && echo "lists: all checks passed"
exit "$fails"
