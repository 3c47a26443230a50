# shellcheck shell=bash
# shellcheck disable=SC2154  # root, mtas, mtasd: set by the test that sources this file
# Shared by the Postfix tests: real Postfix instances on 127.0.0.1, each in
# its own directory (postfix -c DIR), stopped when the test ends.
#   . lib_postfix.sh   (after setting $root)
. "$root/tests/integration/lib.sh"
chmod 755 "$work"  # Postfix's daemons (user postfix, nobody) reach into it
pf_dirs=()
declare -A mtasd_pid=()
stop_all() {
  for d in "${pf_dirs[@]}"; do postfix -c "$d" stop >/dev/null 2>&1; done
  cleanup
}
trap stop_all EXIT
[ -n "${MTAS_KEEP_WORK:-}" ] && echo "work: $work"

# make_postfix NAME SMTP_PORT MILTER NEXT_PORT|deliver|discard
#   MILTER: inet:HOST:PORT, unix:PATH, a bare port, or "none"
make_postfix() {
  local name="$1" port="$2" milter="$3" next="$4" d="$work/pf-$1"
  case "$milter" in none) milter="" ;; inet:*|unix:*) ;; *) milter="inet:127.0.0.1:$milter" ;; esac
  mkdir -p "$d/spool" "$d/data" "$d/vmail"
  chown postfix "$d/data"
  chown nobody "$d/vmail" 2>/dev/null || true
  cat >"$d/main.cf" <<EOF
compatibility_level = 3.6
myhostname = $name.example
queue_directory = $d/spool
data_directory = $d/data
mail_owner = postfix
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
alias_maps =
alias_database =
local_recipient_maps =
smtpd_peername_lookup = no
maillog_file = $d/maillog
maillog_file_prefixes = $d
smtpd_milters = $milter
non_smtpd_milters =
milter_protocol = 6
milter_default_action = tempfail
smtp_host_lookup = native
smtpd_relay_restrictions = permit_mynetworks, reject
EOF
  if [ "$next" = discard ]; then
    printf 'virtual_mailbox_domains = example.net\nvirtual_transport = discard\n' >>"$d/main.cf"
  elif [ "$next" = deliver ]; then
    cat >>"$d/main.cf" <<EOF
virtual_mailbox_domains = example.net
virtual_mailbox_maps = inline:{ bob@example.net=bob/ }
virtual_mailbox_base = $d/vmail
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
EOF
  else
    printf 'relayhost = [127.0.0.1]:%s\n' "$next" >>"$d/main.cf"
  fi
  sed -e "s/^smtp      inet  n       -       y       -       -       smtpd/127.0.0.1:$port inet n - n - - smtpd/" \
      -e 's/^\([a-z-]*  *unix  *[-n]  *[-n]  *\)y/\1n/' /etc/postfix/master.cf >"$d/master.cf"
  postfix -c "$d" check >/dev/null 2>&1 || true
  postfix -c "$d" start >/dev/null 2>&1 || { echo "postfix $name did not start"; cat "$d/maillog" 2>/dev/null; exit 1; }
  pf_dirs+=("$d")
}

# write_mtasd NAME MODE SOCKET AUTHSERV [CONFIG LINE]... -> $work/NAME.conf
write_mtasd() {
  local name="$1" mode="$2" socket="$3" authserv="$4"; shift 4
  {
    printf 'Mode %s\nSocket %s\nAuthservID %s\nSyslog no\nForeground yes\nNetwork no\n' "$mode" "$socket" "$authserv"
    printf '%s\n' "$@"
  } >"$work/$name.conf"
}

# start_mtasd NAME -> runs mtasd on $work/NAME.conf, pid in mtasd_pid[NAME]; returns
# once its socket exists (a slow start, under a sanitizer, took over 0.3 s)
start_mtasd() {
  "$mtasd" -f -c "$work/$1.conf" 2>>"$work/mtasd-$1.log" &
  pids+=($!)
  # shellcheck disable=SC2034  # read by the tests that source this file
  mtasd_pid[$1]=$!
  local sock port
  sock=$(sed -n 's/^Socket //p' "$work/$1.conf")
  for _ in $(seq 150); do
    case "$sock" in
      unix:*) [ -S "${sock#unix:}" ] && return 0 ;;
      inet:*)
        port=${sock#inet:}
        [ -n "$(ss -Hltn "sport = :${port%@*}" 2>/dev/null)" ] && return 0 ;;
      *) break ;;
    esac
    sleep 0.1
  done
  sleep 0.3
}

# send FILE RCPT PORT [FROM]: one SMTP transaction; exits non-zero on any refusal.
send() {
  python3 - "$1" "$2" "$3" "${4:-alice@example.com}" <<'PY'
import smtplib, sys
msg = open(sys.argv[1], "rb").read()
with smtplib.SMTP("127.0.0.1", int(sys.argv[3]), timeout=30) as s:
    s.sendmail(sys.argv[4], [sys.argv[2]], msg)
PY
}
