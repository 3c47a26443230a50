#!/usr/bin/env python3
"""Verifies each list output of tests/e2e/lists.sh, diffs it against the list's
input, prints the table and writes the Markdown report plus every input/output
pair (and both verify reports) into the output directory.

Asserts, per scenario (EXPECT below): the verdict of the signed original's
hop, whether its original is recovered and the exact edits named; for every
recovered hop (and every pass), that `mtas verify --restore` writes a
message that passes and shows what was signed (each part's decoded content,
each signed header field). The munge scenarios get the list's own signature
first (lists.example.org, as the list's outbound MTA would add): the From
rewrite is then an edit the list signs for.

usage: lists_report.py --mtas MTAS --key-file FQDN=PEM --collected TSV --report MD --out DIR
                       [--versions TEXT] [--mailman-log FILE]      (standard library only)
"""
import argparse
import collections
import difflib
import email
import email.policy
import json
import os
import re
import shutil
import subprocess
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--mtas", required=True)
ap.add_argument("--key-file", required=True)
ap.add_argument("--collected", required=True)
ap.add_argument("--report", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--versions", default="")
ap.add_argument("--mailman-log", default="")
args = ap.parse_args()
list_keys = os.path.join(args.out + "-keys")
shutil.rmtree(list_keys, ignore_errors=True)
subprocess.run([args.mtas, "keygen", "--algorithm", "ed25519", "--signer", "lists.example.org", "--selector", "l",
                "--out", list_keys], check=True, capture_output=True)
pins = ["--no-network", "--key-file", args.key_file, "--key-file", "lists.example.org=" + list_keys + "/l.crt.pem"]

# scenario pattern -> (result, recovered, edits as kind:where, None = not checked)
EXPECT = [
    (r"ml-crlf-", "permerror", False, None),
    (r"ml-(plain|utf8|html)-header", "partial", True, ["subject-tagged:Subject", "text-appended:1"]),
    (r"ml-(mixed|alt)-header", "partial", True, ["subject-tagged:Subject"]),  # the footer went into the epilogue
    (r"ml-.*-body", "partial", True, ["subject-tagged:Subject"]),  # the footer went after the signature
    (r"mm-bare-", "pass", False, []),
    (r"mm-basic-(plain|utf8)-header", "partial", True, ["subject-tagged:Subject", "text-appended:1"]),
    (r"mm-basic-(plain|utf8|html)-body", "partial", True, ["subject-tagged:Subject", "part-added:2"]),
    (r"mm-basic-mixed-", "partial", True, ["subject-tagged:Subject", "part-added:4"]),
    (r"mm-basic-alt-|mm-basic-html-header", "partial", True, ["subject-tagged:Subject", "wrapped:1", "part-added:2"]),
    (r"mm-replyto-", "partial", True, ["header-added:Reply-To"]),
    (r"mm-munge-", "partial", True, ["from-rewritten:From", "header-added:Reply-To"]),
    (r"mm-wrap-", None, False, None),  # the outer message has no signature; the inner one is checked
    (r"mm-filter-", "partial", False, None),  # a part removed: not an edit to undo
    (r"mm-collapse-alt-header", "partial", False, None),
    (r"mm-collapse-alt-body|mm-html2text-html-body", "permerror", False, None),  # the epilogue, and the carrier, dropped
    (r"mm-html2text-html-header", "fail", False, None),  # HTML turned into text: nothing signed is shown
]


def expected(scenario):
    for pattern, *want in EXPECT:
        if re.match(pattern, scenario):
            return want
    return None


def shown(data):
    """What readers show of a message: each leaf's type and decoded content, and the signed default fields."""
    m = email.message_from_bytes(lf(data), policy=email.policy.compat32)
    out = []
    for name in ("From", "Sender", "Reply-To", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To",
                 "References", "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Content-Disposition"):
        out.append((name, [re.sub(r"\s+", " ", str(v)).strip() for v in m.get_all(name, [])]))
    for part in m.walk():
        if not part.is_multipart():
            out.append((part.get_content_type(), lf(part.get_payload(decode=True) or b"").rstrip(b"\n")))
    return out

fails = []


def check(cond, what):
    if not cond:
        fails.append(what)
        print("FAIL: " + what)


def lf(data):
    return data.replace(b"\r\n", b"\n")


def split(data):
    data = lf(data)
    head, sep, body = data.partition(b"\n\n")
    return head, body


def fields(head):
    """[(name, raw field, value with white space runs collapsed)] of a header block."""
    out = []
    for line in head.decode("utf-8", "replace").split("\n"):
        if line[:1] in (" ", "\t") and out:
            out[-1][1] += "\n" + line
        elif line:
            out.append([line.split(":", 1)[0], line])
    return [(n, raw, " ".join(raw.split(":", 1)[1].split()) if ":" in raw else "") for n, raw in out]


def short(text, n=90):
    text = text.replace("\n", "\\n")
    return text if len(text) <= n else text[: n - 3] + "..."


def show_field(name, value):
    if name.lower() == "mtas-signature":
        m = re.search(r"msgid=([A-Z0-9]+)", value)
        return "MTAS-Signature: (msgid=%s, %d chars)" % (m.group(1) if m else "?", len(value))
    return short("%s: %s" % (name, value), 200)


def header_changes(hin, hout):
    fin, fout = fields(hin), fields(hout)
    lines, summary = [], []
    byname_in, byname_out = collections.OrderedDict(), collections.OrderedDict()
    for n, raw, v in fin:
        byname_in.setdefault(n.lower(), []).append((n, raw, v))
    for n, raw, v in fout:
        byname_out.setdefault(n.lower(), []).append((n, raw, v))
    names = list(byname_in) + [n for n in byname_out if n not in byname_in]
    added_names, removed_names, changed_names, refolded, renamed = [], [], [], [], []
    for key in names:
        a, b = byname_in.get(key, []), byname_out.get(key, [])
        av, bv = collections.Counter(v for _, _, v in a), collections.Counter(v for _, _, v in b)
        rem = list((av - bv).elements())
        add = list((bv - av).elements())
        name = (a or b)[0][0]
        if len(rem) == 1 and len(add) == 1:
            changed_names.append(name)
            lines.append("changed  %s\n           -> %s" % (show_field(name, rem[0]), show_field(name, add[0])))
        else:
            for v in rem:
                removed_names.append(name)
                lines.append("removed  " + show_field(name, v))
            for v in add:
                added_names.append(name)
                lines.append("added    " + show_field(name, v))
        # same value, other folding or another spelling of the name
        raws_in = {v: (n, raw.split(":", 1)[-1]) for n, raw, v in a}
        for n, raw, v in b:
            if v in raws_in and v in av:
                if raws_in[v][0] != n:
                    renamed.append("%s -> %s" % (raws_in[v][0], n))
                    lines.append("renamed  %s -> %s" % (raws_in[v][0], n))
                if raws_in[v][1] != raw.split(":", 1)[-1]:
                    refolded.append(name)
                    lines.append("refolded %s" % name)
    # order of the fields both have
    common_in = [n.lower() for n, _, _ in fin if n.lower() in byname_out]
    common_out = [n.lower() for n, _, _ in fout if n.lower() in byname_in]
    moved = []
    sm = difflib.SequenceMatcher(a=common_in, b=common_out, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag in ("replace", "insert"):
            moved += common_out[j1:j2]
    if moved:
        lines.append("moved    " + ", ".join(dict.fromkeys(moved)) + " (field order changed)")

    def group(ns):
        out = []
        for n in ns:
            g = "List-*" if n.lower().startswith("list-") else ("X-Mailman-*" if n.lower().startswith("x-mailman-") else n)
            if g not in out:
                out.append(g)
        return out

    if removed_names:
        summary.append("-" + " -".join(group(removed_names)))
    if added_names:
        summary.append("+" + " +".join(group(added_names)))
    if changed_names:
        summary.append("~" + " ~".join(group(changed_names)))
    if renamed:
        summary.append("renamed " + ",".join(renamed))
    if refolded:
        summary.append("refolded " + ",".join(group(refolded)))
    if moved:
        summary.append("reordered")
    return lines, summary


def leaves(msg, path="", out=None):
    """(path, content type, charset, CTE, disposition, decoded bytes) of every leaf part."""
    if out is None:
        out = []
    if msg.is_multipart():
        for i, p in enumerate(msg.get_payload(), 1):
            leaves(p, "%s.%d" % (path, i) if path else str(i), out)
    elif msg.get_content_type() == "message/rfc822":
        out.append((path or "1", "message/rfc822", "", str(msg.get("Content-Transfer-Encoding", "")), "", b""))
    else:
        try:
            data = msg.get_payload(decode=True) or b""
        except Exception:
            data = b""
        out.append((path or "1", msg.get_content_type(), str(msg.get_content_charset() or ""),
                    str(msg.get("Content-Transfer-Encoding", "") or "").lower(),
                    str(msg.get("Content-Disposition", "") or "").split(";")[0], lf(data)))
    return out


def tree(msg):
    if msg.is_multipart():
        return "%s[%s]" % (msg.get_content_type(), ", ".join(tree(p) for p in msg.get_payload()))
    return msg.get_content_type()


def body_changes(din, dout):
    hin, bin_ = split(din)
    hout, bout = split(dout)
    lines, summary = [], []
    if bin_ == bout:
        return ["body unchanged (byte for byte, line ends aside)"], ["body same"]
    if bout.startswith(bin_):
        tail = bout[len(bin_):]
        lines.append("body: %d bytes appended at the very end: %r" % (len(tail), short(tail.decode("utf-8", "replace"), 160)))
        summary.append("+%dB at end of body" % len(tail))
    pol = email.policy.compat32
    min_, mout = email.message_from_bytes(lf(din), policy=pol), email.message_from_bytes(lf(dout), policy=pol)
    tin, tout = tree(min_), tree(mout)
    if tin != tout:
        lines.append("MIME structure: %s\n            -> %s" % (tin, tout))
        summary.append("structure %s -> %s" % (tin, tout))
    else:
        lines.append("MIME structure kept: %s" % tin)
    lin, lout = leaves(min_), leaves(mout)
    # Match each input leaf to an output leaf: first the same decoded content and type
    # anywhere, then a text that grew at its end, then the same path and type.
    matches, used = {}, set()
    tests = [("same", lambda p, q: q[5] == p[5] and q[1] == p[1]),
             ("appended", lambda p, q: p[5] and q[1] == p[1] and q[5].startswith(p[5].rstrip(b"\n"))),
             ("changed", lambda p, q: q[0] == p[0] and q[1] == p[1]),
             ("changed", lambda p, q: q[0] == p[0] and q[1].split("/")[0] == p[1].split("/")[0] == "text")]
    for kind, test in tests:
        for i, p in enumerate(lin):
            if i in matches:
                continue
            for j, q in enumerate(lout):
                if j not in used and test(p, q):
                    matches[i] = (kind, j)
                    used.add(j)
                    break
    for i, p in enumerate(lin):
        path, ct, cs, cte, disp, data = p
        if i not in matches:
            lines.append("part %s %s: gone" % (path, ct))
            summary.append("part %s (%s) removed" % (path, ct))
            continue
        kind, j = matches[i]
        q = lout[j]
        note = []
        if q[0] != path:
            note.append("now part %s" % q[0])
        if q[1] != ct:
            note.append("type %s -> %s" % (ct, q[1]))
        if q[2].lower() != cs.lower():
            note.append("charset %s -> %s" % (cs or "-", q[2] or "-"))
        if q[3] != cte:
            note.append("CTE %s -> %s" % (cte or "-", q[3] or "-"))
        if kind == "same":
            what = "content same"
        elif kind == "appended":
            extra = q[5][len(data.rstrip(b"\n")):]
            what = "text appended: %r" % short(extra.decode("utf-8", "replace"), 120)
            summary.append("footer appended to part %s (%s%s)" % (path, ct, ", CTE %s -> %s" % (cte or "-", q[3] or "-") if q[3] != cte else ""))
        else:
            what = "content changed (%d -> %d bytes decoded): %r" % (len(data), len(q[5]), short(q[5].decode("utf-8", "replace"), 100))
            summary.append("part %s (%s) %s" % (path, ct, "rewritten as " + q[1] if q[1] != ct else "content changed"))
        if note and kind == "same":
            summary.append("part %s (%s): %s" % (path, ct, ", ".join(note)))
        lines.append("part %s %s%s: %s%s" % (path, ct, " (%s)" % cte if cte else "", what, " [" + "; ".join(note) + "]" if note else ""))
    for j, q in enumerate(lout):
        if j not in used:
            lines.append("part %s %s (%s, %s) added: %r" % (q[0], q[1], q[2] or "-", q[3] or "-", short(q[5].decode("utf-8", "replace"), 120)))
            summary.append("part %s (%s%s) added" % (q[0], q[1], ", " + q[4] if q[4] else ""))
    multi = lambda m: m.get_content_maintype() == "multipart"
    ein = (min_.epilogue or "") if multi(min_) else None
    eout = (mout.epilogue or "") if multi(mout) else None
    if ein and eout is None:
        lines.append("epilogue gone with the top-level multipart (was %d bytes)" % len(ein))
        summary.append("epilogue dropped")
    elif ein is not None and eout is not None:
        if ein == eout:
            lines.append("epilogue kept (%d bytes)" % len(ein or ""))
        elif eout.startswith(ein.rstrip("\n")):
            lines.append("epilogue: text appended after the original epilogue (%d bytes): %r"
                         % (len(ein), short(eout[len(ein.rstrip("\n")):], 120)))
            summary.append("text appended to epilogue" if ein else "text added as epilogue")
        elif ein and not eout:
            lines.append("epilogue dropped (was %d bytes)" % len(ein))
            summary.append("epilogue dropped")
        else:
            lines.append("epilogue: %r -> %r" % (short(ein or "", 60), short(eout or "", 60)))
            summary.append("epilogue changed")
    if not summary:
        summary.append("body re-serialized, parts same")
    return lines, summary


def carriers(data, msgid):
    """Where the output still carries the signature: "header" (a top-level field), "body" (an entity in
    the top-level epilogue), "nested body entity" (in an inner multipart's epilogue), or "in message/rfc822"."""
    head, body = split(data)
    where = []
    unfolded = re.sub(rb"\n[ \t]+", b" ", head)
    ctype = re.search(rb"(?im)^Content-Type:\s*([^;\s]+)", unfolded)
    wrapped = ctype and ctype.group(1).lower() == b"message/rfc822"
    if re.search(rb"(?mi)^MTAS-Signature:.*msgid=" + msgid.encode(), unfolded):
        where.append("header")
    ents = list(re.finditer(rb'(?i)Content-Type:\s*multipart/x-postal-data;\s*msgid="?' + msgid.encode(), body))
    fields = list(re.finditer(rb"(?mi)^MTAS-Signature:.*msgid=" + msgid.encode(), re.sub(rb"\n[ \t]+", b" ", body)))
    m = re.search(rb'(?im)^Content-Type:\s*multipart/[^;\n]+;.*?boundary="?([^";\n]+)"?', unfolded)
    for found, label in [(e, "body") for e in ents] + [(f, "header") for f in fields]:
        if wrapped or re.search(rb"(?im)^Content-Type:\s*message/rfc822", body[:found.start()]):
            w = "%s carrier in message/rfc822" % label
        elif label == "header":
            w = "header field in the body"
        elif m and body.rfind(b"\n--" + m.group(1) + b"--", 0, found.start()) >= 0:
            w = "body"
        else:
            w = "body (nested: an inner multipart's epilogue)"
        if w not in where:
            where.append(w)
    where.sort(key=lambda w: (w != "header", w != "body"))
    return where


def verify(path):
    j = subprocess.run([args.mtas, "verify", "--json"] + pins + [path], capture_output=True)
    t = subprocess.run([args.mtas, "verify"] + pins + [path], capture_output=True)
    try:
        rep = json.loads(j.stdout)
    except ValueError:
        rep = {"result": "?", "signatures": [], "notes": ["unparsable JSON: " + j.stdout.decode()[:200] + j.stderr.decode()[:200]]}
    return rep, j.returncode, t.stdout.decode("utf-8", "replace") + t.stderr.decode("utf-8", "replace"), j.stdout


def hop(rep, msgid):
    for s in rep.get("signatures", []):
        if s.get("msgid") == msgid:
            return s
    return None


SETUP = """## Setup (tests/e2e/lists.sh)

* **mlmmj**: one list directory per scenario, made with `printf 'lists.example.org\\nowner@example.org\\nen\\n' |
  mlmmj-make-ml -L NAME -s $work/mlmmj`; `control/prefix` `[test]`, `control/footer` (two lines, `-- ` and a
  text), `control/delheaders` `X-`, `control/relayhost` 127.0.0.1, `control/smtpport` the sink, `control/tocc`
  (the messages are To: bob, not to the list); subscriber by `mlmmj-sub -L DIR -a bob@example.net -f -q -s`.
  Posted as Postfix's local(8) would: LF line ends, `Return-Path:` and `Delivered-To:` on top, into
  `mlmmj-receive -F -L DIR` (mlmmj-process and mlmmj-send run before it returns).
* **Mailman 3 core**: own `mailman.cfg` (layout with var_dir under $work, sqlite, `[mta] incoming:
  mailman.mta.null.NullMTA`, smtp to the sink, LMTP and REST on free ports, archivers off, DMARC resolver
  timeouts 1 s, the shipped public suffix list pre-seeded); `mailman [--run-as-root] -C CFG start` … `stop`.
  One list per scenario over REST (urllib): domain, list, `PATCH config` (every list: non-members accepted,
  `require_explicit_destination` off, no welcome message, no size limit, `subject_prefix` empty unless
  set), `GET …/archivers` (creates the list's archiver rows up front: otherwise the out and archive
  runners race to add them and one post in ~45 was lost to "Multiple rows were found"), member bob pre-verified/confirmed/approved; the footer is the file
  template `var_dir/templates/lists/LIST-ID/en/list:member:regular:footer.txt` (empty = no footer). Posted
  with `mailman -C CFG inject -f FILE LIST@lists.example.org`.
  Configs: `bare` (no prefix, no footer), `basic` (`[test] ` + footer), `replyto` (`reply_goes_to_list:
  point_to_list`), `munge` / `wrap` (`dmarc_mitigate_action` munge_from / wrap_message,
  `dmarc_mitigate_unconditionally`), `filter` (`filter_content`, `filter_extensions: pdf`,
  `collapse_alternatives` off), `collapse` (`filter_content`, `collapse_alternatives`), `html2text`
  (`filter_content`, `convert_html_to_plaintext`; the command is a small Python stand-in for lynx).

"""

rows = [l.rstrip("\n").split("\t") for l in open(args.collected) if l.strip()]
if os.path.isdir(args.out):
    shutil.rmtree(args.out)
os.makedirs(args.out)
results, details = [], []
for scenario, tool, config, msg, carrier, listname, inp, outp in rows:
    din = open(inp, "rb").read()
    shutil.copy(inp, os.path.join(args.out, scenario + ".in.eml"))
    m = re.search(rb"msgid=([A-Z0-9]{16})", din)
    msgid = m.group(1).decode() if m else "?"
    if outp == "-":
        check(False, "%s: the list delivered nothing" % scenario)
        results.append((scenario, tool, config, msg, carrier, "-", "not delivered", "", "", ""))
        continue
    if "munge" in scenario:  # the list's outbound MTA signs for the list's domain
        signed_out = os.path.join(args.out, scenario + ".list-signed.eml")
        subprocess.run([args.mtas, "sign", "--key", list_keys + "/l.key.pem", "--signer", "lists.example.org",
                        outp, signed_out], check=True)
        outp = signed_out
    dout = open(outp, "rb").read()
    shutil.copy(outp, os.path.join(args.out, scenario + ".out.eml"))
    rep, code, text, raw_json = verify(outp)
    open(os.path.join(args.out, scenario + ".verify.json"), "wb").write(raw_json)
    open(os.path.join(args.out, scenario + ".verify.txt"), "w").write(text)
    where = carriers(dout, msgid)
    s = hop(rep, msgid)
    result = s["result"] if s else rep.get("result", "?")
    reason = s.get("reason", "") if s else "; ".join(rep.get("notes", [])) or "no signature found"
    hl, hs = header_changes(split(din)[0], split(dout)[0])
    bl, bs = body_changes(din, dout)
    found = (s or {}).get("carrier", "-") if s else "-"
    top = [w for w in where if "rfc822" not in w]  # the verifier should find these
    if top:
        check(s is not None and result != "none",
              "%s: the output carries the signature (%s) but verify finds no hop for msgid %s (result %s)"
              % (scenario, ", ".join(top), msgid, rep.get("result")))
    want = expected(scenario)
    check(want is not None, "%s: no expectation" % scenario)
    if want and want[0]:
        got_edits = [e["kind"] + ":" + e["where"] for e in (s or {}).get("edits", [])]
        check(result == want[0], "%s: result %s, want %s (%s)" % (scenario, result, want[0], reason))
        check(bool((s or {}).get("recovered")) == want[1],
              "%s: recovered %s, want %s (%s)" % (scenario, (s or {}).get("recovered"), want[1], (s or {}).get("not_recovered", "")))
        if want[2] is not None:
            check(got_edits == want[2], "%s: edits %s, want %s" % (scenario, got_edits, want[2]))
    if s and (s.get("recovered") or result == "pass"):
        restored = os.path.join(args.out, scenario + ".restored.eml")
        r = subprocess.run([args.mtas, "verify"] + pins + ["--restore", str(s["hop"]), restored, outp], capture_output=True)
        check(os.path.exists(restored), "%s: --restore %s wrote nothing: %s" % (scenario, s["hop"], r.stderr.decode()[:300]))
        if os.path.exists(restored):
            rrep, _, rtext, _ = verify(restored)
            rs = hop(rrep, msgid)
            check(rs is not None and rs["result"] == "pass",
                  "%s: the restored original gives %s" % (scenario, rs["result"] if rs else "no hop"))
            check(shown(open(restored, "rb").read()) == shown(din),
                  "%s: the restored original does not show what was signed" % scenario)
    inner = None
    if not top:
        # Mailman's wrap_message puts the original into a message/rfc822 body.
        ctype = re.search(rb"(?im)^Content-Type:\s*([^;\s]+)", re.sub(rb"\n[ \t]+", b" ", split(dout)[0]))
        if ctype and ctype.group(1).lower() == b"message/rfc822":
            inner_path = os.path.join(args.out, scenario + ".inner.eml")
            open(inner_path, "wb").write(split(dout)[1])
            irep, icode, itext, ijson = verify(inner_path)
            open(os.path.join(args.out, scenario + ".inner.verify.txt"), "w").write(itext)
            isig = hop(irep, msgid)
            inner = (isig["result"] if isig else irep.get("result"), isig.get("reason", "") if isig else "no signature",
                     isig.get("carrier", "-") if isig else "-", itext)
            check(isig is not None and isig["result"] != "none",
                  "%s: the wrapped original (message/rfc822) has no verifiable hop" % scenario)
    results.append((scenario, tool, config, msg, carrier, ", ".join(top) if top else
                    "stripped (%s)" % ("moved into message/rfc822" if inner else "none left"),
                    "%s (exit %d)" % (result, code), reason, "; ".join(hs + bs), where))
    d = ["### %s" % scenario, "",
         "%s, list config `%s`, message `%s`, signed with `--carrier %s` (msgid %s). Files: `%s.in.eml`, `%s.out.eml`."
         % (tool, config, msg, carrier, msgid, scenario, scenario), "",
         "* verify: **%s**, exit %d — %s" % (result, code, reason),
         "* carrier in the output: %s" % (", ".join(where) if top else
                                          "none at the top level (signature stripped)" + (": only " + ", ".join(where) if where else ""))]
    if s:
        bad_h = ["%s %s" % (h["name"], h["status"]) for h in s.get("headers", []) if h.get("status") != "same"]
        d.append("* headers (signed fields): %s" % (", ".join(bad_h) if bad_h else "all same"))
        d.append("* parts: %s" % ", ".join("%s %s %s" % (p["path"], p["content_type"], p["status"]) for p in s.get("parts", [])))
        if s.get("added_parts"):
            d.append("* added parts: %s" % ", ".join("%s %s" % (p.get("path"), p.get("content_type", "")) for p in s["added_parts"]))
        extra = ["%s=%s" % (k, s[k]) for k in ("part_tree_intact", "hop_chain_intact", "received_intact", "unsigned_trailing_bytes")
                 if k in s and s[k] not in (True, 0)]
        if extra:
            d.append("* also: " + ", ".join(extra))
        if s.get("notes"):
            d.append("* notes: " + "; ".join(s["notes"]))
    if inner:
        d.append("* the original inside the message/rfc822 part: **%s** (carrier %s) — %s" % (inner[0], inner[2], inner[1]))
    d += ["", "What the list did (input → output, line ends ignored):", "", "```"] + hl + bl + ["```", "",
          "<details><summary>mtas verify</summary>", "", "```", text.rstrip(), "```", "</details>", ""]
    details.append("\n".join(d))

# ---- table ---------------------------------------------------------------------------
def cell(t):
    return t.replace("|", "\\|").replace("\n", " ")


print()
print("%-25s %-7s %-36s %-10s %s" % ("scenario", "signed", "carrier in output", "result", "reason"))
for r in results:
    print("%-25s %-7s %-36s %-10s %s" % (r[0], r[4], short(r[5], 36), r[6].split(" (")[0], short(r[7], 100)))
with open(args.report, "w") as f:
    f.write("# MTA signatures through real mailing-list managers\n\n")
    f.write("Measured by `tests/e2e/lists.sh` (%s). Every input was signed by mail.example.com "
            "(Ed25519, pinned key, `mtas sign --carrier header|body`), handed to the list with LF line "
            "ends as an MTA's local delivery does, and the list's output was caught by an SMTP sink. "
            "Input/output pairs are in `%s/SCENARIO.{in,out}.eml` with `SCENARIO.verify.{txt,json}`.\n\n"
            % (args.versions, args.out))
    f.write(SETUP)
    f.write("## Table\n\n| scenario | list config | signed carrier | carrier in output | result | reason | what the list did |\n|---|---|---|---|---|---|---|\n")
    for r in results:
        f.write("| %s | %s %s | %s | %s | %s | %s | %s |\n" % (r[0], r[1], cell(r[2]), r[4], cell(r[5]), r[6], cell(r[7]), cell(r[8])))
    f.write("\n`-X` a field removed, `+X` added, `~X` changed; `List-*`, `X-Mailman-*` group fields.\n\n")
    if fails:
        f.write("## Failed checks\n\n" + "\n".join("* " + x for x in fails) + "\n\n")
    if args.mailman_log and os.path.exists(args.mailman_log):
        errs = [l.rstrip() for l in open(args.mailman_log, errors="replace") if re.search(r"Traceback|ERROR|error", l)]
        f.write("## Mailman log errors\n\n" + ("```\n" + "\n".join(errs[:40]) + "\n```\n\n" if errs else "none\n\n"))
    f.write("## Scenarios\n\n" + "\n".join(details))
print("\nreport: %s (%d scenarios, %d failed checks)" % (args.report, len(results), len(fails)))
sys.exit(1 if fails else 0)
