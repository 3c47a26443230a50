#!/usr/bin/env bash
# The Debian package as an administrator gets it: `cpack -G DEB` from the
# build tree, then its control fields (run-time dependencies, maintainer
# scripts, conffiles), its contents (stripped binaries, man pages, units,
# /etc/mtas/mtasd.conf), and, unpacked into a fresh root, `mtasd -n` on the
# configuration it ships and `mtas --version`.
#   deb.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build="$1"; root="$2"
. "$root/tests/integration/lib.sh"
(cd "$work" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log"; echo "cpack failed"; exit 1; }
deb=$(find "$work/out" -maxdepth 1 -name 'mtas_*.deb' | head -1)
[ -n "$deb" ] || { cat "$work/cpack.log"; echo "no mtas_*.deb made"; exit 1; }
echo "package: $(basename "$deb"), $(stat -c %s "$deb") bytes"

depends=$(dpkg-deb -f "$deb" Depends)
tr ',' '\n' <<<"$depends" | awk '{print $1}' >"$work/depends"
for d in libc6 libssl3 libstdc++6 libcurl4 libunbound8 libldap-2.5-0 adduser dns-root-data; do
  grep -qxF "$d" "$work/depends" || fail "Depends lacks $d: $depends"
done
[ "$(dpkg-deb -f "$deb" Package)" = mtas ] || fail "package name is not mtas"
dpkg-deb -e "$deb" "$work/control"
for f in postinst postrm conffiles; do [ -f "$work/control/$f" ] || fail "no $f in the package"; done
grep -qx /etc/mtas/mtasd.conf "$work/control/conffiles" || fail "/etc/mtas/mtasd.conf is not a conffile"
grep -q 'adduser --system' "$work/control/postinst" || fail "postinst does not create the mtas user"

dpkg-deb -c "$deb" | awk '{print $6}' >"$work/contents"
for f in ./usr/bin/mtas ./usr/sbin/mtasd ./etc/mtas/mtasd.conf ./lib/systemd/system/mtasd.service \
  ./lib/systemd/system/mtasd@.service ./usr/share/man/man1/mtas.1.gz ./usr/share/man/man8/mtasd.8.gz \
  ./usr/share/man/man5/mtasd.conf.5.gz ./usr/share/doc/mtas/examples/keytable; do
  grep -qx "$f" "$work/contents" || fail "not in the package: $f"
done
grep -qE '^\./usr/(include|lib/x86_64|lib/lib)' "$work/contents" && fail "the package carries the development files"

# Installed with dpkg into a fresh root (no chroot: the maintainer scripts
# honour DPKG_ROOT), with a dpkg database and the accounts files only.
fresh="$work/root"
mkdir -p "$fresh/etc" "$fresh/var/lib/dpkg/info" "$fresh/var/lib/dpkg/updates"
: >"$fresh/var/lib/dpkg/status"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$fresh/etc/passwd"
printf 'root:x:0:\n' >"$fresh/etc/group"
printf 'root:*:19000:0:99999:7:::\n' >"$fresh/etc/shadow"
printf 'root:*::\n' >"$fresh/etc/gshadow"
dpkg_root=(dpkg --root="$fresh" --force-script-chrootless --force-depends --log=/dev/null)
if "${dpkg_root[@]}" -i "$deb" >"$work/dpkg.log" 2>&1; then
  echo "ok: dpkg --root -i"
else
  fail "dpkg --root -i: $(tail -3 "$work/dpkg.log")"
fi
grep -q '^mtas:x:[0-9]*:[0-9]*:.*:/nonexistent:/usr/sbin/nologin$' "$fresh/etc/passwd" ||
  fail "postinst did not create the mtas user in the root"
[ "$(stat -c '%a %u' "$fresh/etc/mtas")" = "750 0" ] || fail "/etc/mtas is not 0750 root:mtas"
[ "$(stat -c %g "$fresh/etc/mtas")" = "$(awk -F: '$1 == "mtas" { print $3 }' "$fresh/etc/group")" ] ||
  fail "/etc/mtas does not belong to group mtas"
"${dpkg_root[@]}" -s mtas 2>/dev/null | grep -q '^Status: install ok installed' || fail "dpkg does not list mtas installed"
for b in usr/bin/mtas usr/sbin/mtasd; do
  file "$fresh/$b" | grep -q ', stripped' || fail "$b is not stripped"
done
"$fresh/usr/bin/mtas" --version | grep -q "^mtas " || fail "the packaged mtas --version"
if out=$("$fresh/usr/sbin/mtasd" -n -c "$fresh/etc/mtas/mtasd.conf" 2>&1); then
  echo "ok: $out"
else
  fail "mtasd -n refuses the packaged configuration: $out"
fi
grep -q '/usr/sbin/mtasd -n -c /etc/mtas/%i.conf' "$fresh/lib/systemd/system/mtasd@.service" ||
  fail "the template unit does not check /etc/mtas/%i.conf"
if command -v systemd-analyze >/dev/null; then
  # The units as systemd parses them: an unknown or misspelt setting is an
  # error; what only a booted system has (users, paths) is not judged here.
  for u in mtasd.service mtasd@.service; do
    sed "s|/usr/sbin/mtasd|$fresh/usr/sbin/mtasd|g" "$fresh/lib/systemd/system/$u" >"$work/$u"
    systemd-analyze verify "$work/$u" >"$work/analyze" 2>&1
    if grep -qiE 'unknown (key|section)|failed to parse|invalid' "$work/analyze"; then
      fail "systemd-analyze on $u: $(grep -iE 'unknown|failed to parse|invalid' "$work/analyze" | head -2)"
    fi
  done
fi
# Purged: the files go, the conffile and the user too; the host's accounts
# never changed.
"${dpkg_root[@]}" --purge mtas >>"$work/dpkg.log" 2>&1 || fail "dpkg --root --purge: $(tail -3 "$work/dpkg.log")"
[ -e "$fresh/usr/sbin/mtasd" ] && fail "mtasd is still there after purge"
[ -e "$fresh/etc/mtas/mtasd.conf" ] && fail "the conffile is still there after purge"
grep -q '^mtas:' "$fresh/etc/passwd" && fail "the mtas user is still there after purge"
[ "$fails" = 0 ] && echo "deb: all checks passed"
exit "$fails"
