#!/usr/bin/env bash
# Reader invisibility matrix: for every body shape and both carriers, a signed
# message must look exactly like the unsigned one in real mail readers:
#   python  Python's email package: shown headers, chosen body, attachments, defects
#   gmime   GMime 3 through PyGObject: the MIME tree with decoded digests
#   neomutt neomutt in tmux, no network: every pager screen and the attachment list
# Any difference fails and names the reader, shape and carrier. A sanity pass
# first proves that each reader sees a deliberately visible change. A missing
# reader fails the test; it is never skipped.
# Usage: reader_matrix.sh MTAS_BINARY SOURCE_DIR
set -uo pipefail
mtas="$1"; root="$2"
here="$root/tests/readers"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
start=$SECONDS

readers=(python gmime neomutt)
shapes=(text-plain mixed-attachment alternative related related-in-mixed smime-signed)
carriers=(auto body header)
# Differences that follow from the format itself when a carrier is forced;
# `auto` (the default) avoids both, and docs/protocol.md ("Choosing the
# carrier") says why. Any other difference fails.
declare -A known=(
  [text-plain,body]="the body carrier wraps a single-part body in a multipart/mixed, which readers show"
  [alternative,body,neomutt]="mutt lists a top-level multipart/alternative with its size, and the size counts the epilogue"
)
declare -A source=(
  [text-plain]="$root/examples/messages/text-plain.eml"
  [mixed-attachment]="$root/examples/messages/mixed-attachment.eml"
  [alternative]="$root/examples/messages/alternative.eml"
  [related]="$here/messages/related.eml"
  [related-in-mixed]="$root/examples/messages/related-in-mixed.eml"
  [smime-signed]="$root/examples/messages/smime-signed.eml"
)

# GMime's typelib comes from Debian's python3-gi, which only the system python sees.
gmime_python=""
for py in python3 /usr/bin/python3; do
  "$py" -c 'import gi; gi.require_version("GMime", "3.0"); from gi.repository import GMime' 2>/dev/null &&
    { gmime_python="$py"; break; }
done

budget=200  # seconds for all the readers' views; each view is bounded too
view() {  # reader message out
  if [ $((SECONDS - start)) -gt "$budget" ]; then
    echo "time budget of ${budget} s used up before this view" >"$3.err"; return 124
  fi
  case "$1" in
    python) timeout 30 "${gmime_python:-python3}" "$here/python_view.py" "$2" ;;
    gmime) timeout 30 "$gmime_python" "$here/gmime_view.py" "$2" ;;
    neomutt) timeout 60 bash "$here/mutt_view.sh" "$2" ;;
  esac >"$3" 2>"$3.err"
}

# Every reader must be there and able to show the unsigned messages.
declare -A missing=()
command -v python3 >/dev/null || missing[python]="python3 is not installed"
[ -n "$gmime_python" ] || missing[gmime]="GMime 3 for Python is missing (apt-get install python3-gi gir1.2-gmime-3.0)"
command -v neomutt >/dev/null || missing[neomutt]="neomutt is not installed (apt-get install neomutt)"
command -v tmux >/dev/null || missing[neomutt]="tmux is not installed (apt-get install tmux)"
for r in "${readers[@]}"; do
  [ -z "${missing[$r]:-}" ] || continue
  for s in "${shapes[@]}"; do
    view "$r" "${source[$s]}" "$work/base.$r.$s" && continue
    missing[$r]="cannot show unsigned $s: $(head -c 600 "$work/base.$r.$s.err")"; break
  done
done
for r in "${!missing[@]}"; do fail "reader $r unavailable: ${missing[$r]}"; done

"$mtas" keygen --algorithm ed25519 --signer mx.example.com --selector k --out "$work/keys" >/dev/null ||
  { echo "FAIL: keygen"; exit 1; }
pin=(--key-file "mx.example.com=$work/keys/k.crt.pem")

declare -A cell=()
# compare reader label unsigned-view candidate-message: sets $verdict, prints the diff on DIFF
compare() {
  local r="$1" label="$2" base="$3" msg="$4" out
  out="$work/view.$1.$(basename "$4")"
  if [ -n "${missing[$r]:-}" ]; then verdict=MISSING; return; fi
  if ! view "$r" "$msg" "$out"; then
    verdict=ERROR; fail "$r could not show $label"; sed 's/^/  | /' "$out.err" | head -20; return
  fi
  if cmp -s "$base" "$out"; then verdict=same; else
    verdict=DIFF
    echo "--- $r: $label differs from the unsigned message (- unsigned, + signed)"
    diff -u "$base" "$out" | tail -n +3 | head -60 | sed 's/^/  /'
  fi
}

# Sanity: a signed message changed where a reader looks must be DIFF in every reader.
signed_mixed="$work/sanity-signed.eml"
"$mtas" sign --key "$work/keys/k.key.pem" --signer mx.example.com --carrier body \
  "${source[mixed-attachment]}" "$signed_mixed" || fail "sign for the sanity check"
python3 - "$signed_mixed" "$work/sanity-body.eml" "$work/sanity-attachment.eml" <<'PY' || fail "making the sanity messages"
import sys
raw = open(sys.argv[1], "rb").read()
body = raw.replace(b"Volumes are up about 4%", b"Volumes are up about 9%", 1)
assert body != raw
close = b"\r\n--=_mixed_7c2e91d04a5f--\r\n"
assert raw.count(close) == 1
extra = (b"\r\n--=_mixed_7c2e91d04a5f\r\n"
         b"Content-Type: text/plain; charset=us-ascii; name=\"extra.txt\"\r\n"
         b"Content-Disposition: attachment; filename=\"extra.txt\"\r\n\r\n"
         b"not from Alice\r\n")
open(sys.argv[2], "wb").write(body)
open(sys.argv[3], "wb").write(raw.replace(close, extra + close, 1))
PY
sanity=(body attachment)
declare -A sanity_label=([body]="altered body text" [attachment]="an extra attachment")
for k in "${sanity[@]}"; do
  for r in "${readers[@]}"; do
    compare "$r" "sanity: signed mixed-attachment with ${sanity_label[$k]}" "$work/base.$r.mixed-attachment" \
      "$work/sanity-$k.eml" >"$work/sanity-diff.$r.$k"
    cell[sanity-$k,$r]=$verdict
    case "$verdict" in
      DIFF) ;;
      same) fail "$r shows the signed message with ${sanity_label[$k]} like the unsigned one: the comparison is blind" ;;
      *) cat "$work/sanity-diff.$r.$k" ;;
    esac
  done
done

# The matrix.
for s in "${shapes[@]}"; do
  for c in "${carriers[@]}"; do
    signed="$work/$s.$c.eml"
    if ! "$mtas" sign --key "$work/keys/k.key.pem" --signer mx.example.com --carrier "$c" \
         "${source[$s]}" "$signed" 2>"$work/sign.err"; then
      fail "sign $s with the $c carrier: $(head -1 "$work/sign.err")"
      for r in "${readers[@]}"; do cell[$s,$c,$r]=NOSIGN; done; continue
    fi
    # The message must really carry a valid signature in the asked carrier.
    "$mtas" verify "${pin[@]}" "$signed" >/dev/null 2>&1 || fail "$s/$c: signed message does not verify"
    case "$c" in
      auto) ;;
      body) grep -qi '^Content-Type: multipart/x-postal-data' "$signed" || fail "$s/$c: no postal-data entity" ;;
      header) grep -q '^MTAS-Signature:' "$signed" || fail "$s/$c: no MTAS-Signature field" ;;
    esac
    for r in "${readers[@]}"; do
      compare "$r" "$s signed with the $c carrier" "$work/base.$r.$s" "$signed"
      why="${known[$s,$c,$r]:-${known[$s,$c]:-}}"
      if [ "$verdict" = DIFF ] && [ -n "$why" ]; then
        verdict=known; echo "  (known: $why)"
      fi
      cell[$s,$c,$r]=$verdict
      [ "$verdict" != DIFF ] || fail "$r shows $s signed with the $c carrier differently from the unsigned message"
    done
  done
done

echo
echo "Reader invisibility matrix (same = the signed message looks like the unsigned one;"
echo "known = a documented difference of a forced carrier, see the list at the top)"
printf '%-40s %-7s' "shape" "carrier"; printf ' %-8s' "${readers[@]}"; echo
for s in "${shapes[@]}"; do
  for c in "${carriers[@]}"; do
    printf '%-40s %-7s' "$s" "$c"; for r in "${readers[@]}"; do printf ' %-8s' "${cell[$s,$c,$r]:-?}"; done; echo
  done
done
for k in "${sanity[@]}"; do
  printf '%-40s %-7s' "sanity: ${sanity_label[$k]} (want DIFF)" "body"
  for r in "${readers[@]}"; do printf ' %-8s' "${cell[sanity-$k,$r]:-?}"; done; echo
done
echo "reader matrix: $((SECONDS - start)) s"

[ "$fails" = 0 ] && echo "reader matrix: all checks passed"
exit "$fails"
