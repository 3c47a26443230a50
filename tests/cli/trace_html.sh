#!/usr/bin/env bash
# `mtas trace` on the demo's three hops: the JSON shape, and the HTML page as
# headless Chromium renders it (no network): hop nodes, the SVG, the signed
# Subject, a screenshot. Untrusted message text must not become markup.
set -euo pipefail
mtas="$1"; root="$2"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fail() { echo "trace_html: $*"; exit 1; }

command -v chromium >/dev/null || fail "chromium is missing (scripts/test-deps.sh installs it)"
command -v python3 >/dev/null || fail "python3 is missing"

MTAS_BUILD_DIR="$(dirname "$mtas")" MTAS_DEMO_DIR="$work" bash "$root/scripts/demo.sh" >"$work/demo.out" 2>&1 || {
  cat "$work/demo.out"; fail "demo failed"; }
pins=(--no-network --key-file "mail.example.com=$work/keys/origin.crt.pem"
      --key-file "lists.example.org=$work/keys/list.crt.pem" --key-file "mx.example.net=$work/keys/relay.crt.pem")

# Exit status 5: hop 1 is partial (the list changed the Subject and added a part).
trace() { local st=0; "$mtas" trace "${pins[@]}" "$@" || st=$?; [ "$st" -eq 5 ] || fail "trace $* exited $st, want 5"; }
trace --format html --output "$work/trace.html" "$work/hop3.eml"
trace --format json --output "$work/trace.json" "$work/hop3.eml"
python3 - "$work/trace.json" <<'EOF' || fail "trace JSON has not the documented shape"
import json, sys
t = json.load(open(sys.argv[1], encoding="utf-8"))
assert t["trace_version"] == 1 and t["result"] == "partial", t
assert t["message"]["subject"] == "[example-list] Weekly relay report (week 10)", t["message"]
hops = [s for s in t["path"] if s["type"] == "hop"]
assert [h["signature"]["hop"] for h in hops] == [1, 2, 3], hops
assert [h["signature"]["result"] for h in hops] == ["partial", "pass", "pass"], hops
assert all(s["type"] in ("hop", "received") for s in t["path"])
assert isinstance(t["notes"], list)
EOF

# Chromium with no network: a namespace without interfaces when allowed.
isolate=(unshare -n)
if ! unshare -n true 2>/dev/null; then
  echo "trace_html: unshare -n not permitted; running chromium without a network namespace" \
       "(background networking disabled)"
  isolate=()
fi
chrome() {
  timeout 60 "${isolate[@]}" chromium --headless --no-sandbox --disable-gpu --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/profile" "$@" 2>>"$work/chromium.log"
}
dom() {
  chrome --dump-dom "file://$1" >"$work/dom.html" ||
    { grep -v dbus "$work/chromium.log" | tail -20; fail "chromium --dump-dom failed on $(basename "$1")"; }
}

dom "$work/trace.html"
python3 - "$work/dom.html" <<'EOF' || fail "the rendered page lacks what it should show"
import re, sys
dom = open(sys.argv[1], encoding="utf-8").read()
hops = re.findall(r'<g class="(hop [^"]*)" id="([^"]*)"', dom)
assert hops == [("hop hop-partial", "hop-1"), ("hop hop-pass", "hop-2"), ("hop hop-pass", "hop-3")], hops
assert len(re.findall(r'class="[^"]*\bhop\b', dom)) == 3, "other elements carry class hop"
assert dom.count('class="received"') == 3, "want three Received nodes"
assert "<svg" in dom, "no svg"
assert "Weekly relay report (week 10)</td>" in dom, "no signed Subject value"
assert "<th>signed</th><th>now</th>" in dom, "no side-by-side of the changed headers"
EOF

chrome --screenshot="$work/trace.png" --window-size=1200,900 "file://$work/trace.html" >/dev/null ||
  { grep -v dbus "$work/chromium.log" | tail -20; fail "chromium --screenshot failed"; }
[ "$(head -c 8 "$work/trace.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "no PNG screenshot"

# Markup in the message stays text: sign a message whose fields carry some.
python3 - "$root/examples/messages/text-plain.eml" "$work/evil-in.eml" <<'EOF'
import re, sys
evil = "<script>alert(1)</script><img src=x onerror=alert(2)> & 'q'"
msg = open(sys.argv[1], "rb").read()
msg = re.sub(rb"(?m)^Subject: [^\r\n]*", b"Subject: " + evil.encode(), msg, count=1)
msg = re.sub(rb"(?m)^From: [^\r\n]*", b'From: "' + evil.encode() + b'" <alice@example.com>', msg, count=1)
open(sys.argv[2], "wb").write(msg)
EOF
grep -q '^Subject: <script>' "$work/evil-in.eml" || fail "could not prepare the message"
"$mtas" sign --key "$work/keys/origin.key.pem" --signer mail.example.com "$work/evil-in.eml" "$work/evil.eml" >/dev/null
"$mtas" trace "${pins[@]}" --format html --output "$work/evil.html" "$work/evil.eml" || true
dom "$work/evil.html"
python3 - "$work/dom.html" <<'EOF' || fail "message text became markup"
import sys
dom = open(sys.argv[1], encoding="utf-8").read()
assert "<script" not in dom and "<img" not in dom, "markup from the message"
assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom, "the Subject is not shown as text"
EOF
echo "trace_html: ok"
