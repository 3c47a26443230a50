#!/usr/bin/python3
"""Grammar-based differential test of the verdict: a `pass` must mean "readers show
exactly what they showed when the message was signed".

Usage: verdict_diff.py MTAS_BINARY [--count N] [--seed S] [--keep-failures DIR]
                       [--case I] [--only CLASS-PREFIX] [--show N]
                       [--show-view-disagreements]
Run it with Debian's python3 (/usr/bin/python3), which has python3-gi and GMime 3.

Per case (each case has its own random generator, seeded from SEED and the case
number, so a case is reproduced by `--seed S --case I`):
  1. generate a message from a grammar (header variants, folding, CRLF or LF, single
     part or multipart trees up to depth 3, boundary and parameter spellings);
  2. sign it with `mtas sign` (random --carrier); a refusal is counted, not judged;
  3. apply a named mutation (or a few: class "combo"; or none: class "control");
  4. verify with `mtas verify --json --no-network` and a pinned certificate;
  5. compute what Python's email package (policy.default and compat32) and GMime 3
     show of the signed and of the mutated message. A `pass` with any view that
     differs is a VERDICT FAILURE. A control (unmutated) that does not pass is
     counted as control-not-pass.
  6. compare mtas's own view (`mtas inspect --view`) of the mutated and of the signed
     message with each reader's: the From mailbox domains (as a set), the leaf parts
     in tree order (content type and SHA-256 of the decoded content, normalized as mtas
     normalizes text and identity-encoded parts; a message/* leaf by its type only), and
     how many instances of each header field the verifier compares by default there
     are. A difference on a message that passes is a VIEW FAILURE; on any other message
     it is counted by mutation class. A message for which mtas reports a header or body
     ambiguity or a limit is not compared (those never pass), and From is not compared
     when mtas refuses it (from_error). The signed message is verified only when its
     view differs.
  7. when the verifier says a hop is recovered, `mtas verify --restore 1` must write a
     message that passes and that every reader shows as it showed the signed one;
     otherwise it is a RESTORE FAILURE (counted with the verdict failures).
Exit status 1 when there is a verdict failure, a view failure, a control that does not
pass, or mtas crashed or timed out; 0 otherwise.

A view holds what a reader shows: From, To, Cc, Reply-To, Subject and Date as decoded
for display (every instance), the From mailboxes, and every MIME node in tree order
(content type with its parameters but not the boundary; for leaves the disposition,
file name and SHA-256 of the decoded payload, and for policy.default of get_content()),
plus for policy.default the parts get_body() picks (plain and html preferred) and
iter_attachments(). Preambles and epilogues are not in a view (no reader shows them).
A reader that raises gives the value "PARSE-ERROR ...", which is compared like any
other. Header values are unfolded (a line end before white space removed), white
space at their ends is dropped and a run of spaces and tabs inside counts as one space:
readers show one line, nothing at its ends, and a tab is no different text (the rule of
relaxed canonicalization, which signs header fields by it).

Classes marked (benign) keep every view (checked against the generator without mtas);
whatever the verdict, they never count as failures unless mtas says pass and a view
changed anyway. Two reader quirks shape them: compat32 keeps a line end that folds a
quoted string (so a folded boundary="..." hides the MIME tree from it), and GMime
joins adjacent B-encoded words before decoding (a padded one cuts the rest off); so
`refold` never folds inside a quoted string and `subject-reencode` applies only where
all readers agree on the Subject.

The signer draws a fresh msgid and signing time for every signature, so the signed
bytes differ from run to run; the message, the carrier, the mutation and where it
applies are fixed by the seed.
"""
import argparse
import base64
import collections
import datetime
import email
import email.header
import email.policy
import email.utils
import hashlib
import json
import os
import quopri
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

try:
    import gi
    gi.require_version("GMime", "3.0")
    from gi.repository import GMime
except (ImportError, ValueError) as e:
    sys.exit("verdict_diff.py: GMime 3 through PyGObject is missing (%s); run it with "
             "/usr/bin/python3 and install python3-gi gir1.2-gmime-3.0" % e)

SIGNER = "mail.example.com"
SUBPROCESS_TIMEOUT = 30
EVIL = "evil@attacker.example"

# --------------------------------------------------------------------------------
# The grammar
# --------------------------------------------------------------------------------

WORDS = ("relay report weekly notes migration thursday volume maintenance window queue "
         "latency mailbox server backup restore invoice meeting agenda draft summary "
         "numbers attached please review budget quarter team update status").split()
UWORDS = ["Grüße", "Köln", "Übersicht", "naïve", "café", "Straße", "résumé", "Zürich",
          "señor", "Ærøskøbing", "über"]
PEOPLE = [("Alice Example", "alice@example.com"), ("Bob Example", "bob@example.net"),
          ("Carol Example", "carol@example.org"), ("Dave", "dave@example.com"),
          ("Jürgen Müller", "juergen@example.de"), ("Zoë Ça", "zoe@example.fr"),
          ("Example, Erin", "erin@example.com"), ("Frank O'Neil", "frank@example.net")]


def q_word(s, charset="utf-8"):
    out = []
    for b in s.encode(charset):
        c = chr(b)
        if c == " ":
            out.append("_")
        elif c.isascii() and c.isalnum():
            out.append(c)
        else:
            out.append("=%02X" % b)
    return "=?%s?%s?%s?=" % (charset, "q", "".join(out))


def b_word(s, charset="utf-8"):
    return "=?%s?%s?%s?=" % (charset, "b", base64.b64encode(s.encode(charset)).decode())


def encode_words(s, rng, charset="utf-8", same_everywhere=False):
    """s as one or more encoded-words, each short enough for a 75-character word.

    GMime 3 joins adjacent B-words of one charset before decoding them, so a padded
    B-word that is not the last one cuts off the rest of the text in GMime's view;
    with same_everywhere the words are spelled so that every reader shows s."""
    enc = rng.choice((q_word, b_word))
    if same_everywhere and enc is b_word:
        whole = b_word(s, charset if charset == "utf-8" else "utf-8")
        if len(whole) <= 75:
            return whole
        enc = q_word
    if charset == "iso-8859-1":
        try:
            s.encode("iso-8859-1")
        except UnicodeEncodeError:
            charset = "utf-8"
    chunks, cur = [], ""
    for ch in s:
        cur += ch
        if len(cur) >= rng.randint(6, 14):
            chunks.append(cur)
            cur = ""
    if cur:
        chunks.append(cur)
    if charset == "utf-8" and enc is q_word and rng.random() < 0.3:
        charset = "UTF-8"
    return " ".join(enc(c, charset) for c in chunks)


def fold(name, value, rng, force=False):
    """`Name: value` with the value folded at spaces (never at the first one)."""
    line = name + ": " + value
    if "\n" in value or (not force and len(line) <= 78 and rng.random() > 0.3):
        return line   # already folded by the grammar, or short
    width = rng.randint(24, 78)
    words = line.split(" ")
    out, cur = words[0], len(words[0])
    quotes = words[0].count('"')
    for i, w in enumerate(words[1:], 1):
        inside = quotes % 2 == 1   # never fold inside a quoted string (compat32 keeps the line end)
        quotes += w.count('"')
        if cur + 1 + len(w) > width and i > 1 and w and words[i - 1] and not inside:
            ws = "\t" if rng.random() < 0.2 else " "
            out += "\n" + ws + w
            cur = 1 + len(w)
        else:
            out += " " + w
            cur += 1 + len(w)
    return out


class Gen:
    def __init__(self, rng):
        self.rng = rng
        self.nboundary = 0

    def words(self, lo, hi, utf8=False):
        r = self.rng
        out = []
        for _ in range(r.randint(lo, hi)):
            out.append(r.choice(UWORDS) if utf8 and r.random() < 0.3 else r.choice(WORDS))
        return " ".join(out)

    def text(self, utf8=False):
        r = self.rng
        lines = []
        for _ in range(r.randint(1, 8)):
            roll = r.random()
            if roll < 0.1:
                lines.append("")
            elif roll < 0.15:
                lines.append(self.words(2, 6, utf8) + "  ")   # trailing white space
            elif roll < 0.2:
                lines.append(self.words(1, 3, utf8) + "   " + self.words(1, 3, utf8))
            else:
                lines.append(self.words(3, 12, utf8))
        if not any(lines):
            lines.append(self.words(2, 5, utf8))
        s = "\n".join(lines)
        if r.random() < 0.6:
            s += "\n"
        return s

    # ---- header values --------------------------------------------------------
    def mailbox(self, person=None, style=None):
        r = self.rng
        name, addr = person or r.choice(PEOPLE)
        style = style or r.choice(("bare", "angle", "quoted", "comment", "ew", "inner-comment"))
        ascii_name = name.isascii()
        if style == "bare":
            return addr
        if style == "comment":
            return "%s (%s)" % (addr, name if ascii_name and "," not in name else "someone")
        if style == "inner-comment":
            return "%s (work) <%s>" % (name.split(",")[0].split()[0] if ascii_name else "Someone", addr)
        if style == "ew" or not ascii_name:
            return "%s <%s>" % (encode_words(name, r, r.choice(("utf-8", "iso-8859-1"))), addr)
        if style == "quoted" or "," in name or "'" in name:
            return '"%s" <%s>' % (name, addr)
        return "%s <%s>" % (name, addr)

    def address_list(self, allow_group=True):
        r = self.rng
        roll = r.random()
        if allow_group and roll < 0.12:
            members = ", ".join(self.mailbox() for _ in range(r.randint(1, 3)))
            return "%s: %s;" % (r.choice(("Team", "Relay Ops", "friends")), members)
        if allow_group and roll < 0.16:
            return "undisclosed-recipients:;"
        if roll < 0.4:
            return ", ".join(self.mailbox() for _ in range(r.randint(2, 4)))
        return self.mailbox()

    def subject(self):
        r = self.rng
        roll = r.random()
        if roll < 0.35:
            return self.words(2, 7)
        if roll < 0.5:
            return encode_words(self.words(2, 5, utf8=True), r)
        if roll < 0.65:
            return "Re: " + encode_words(r.choice(UWORDS) + " " + self.words(1, 2), r) + " " + self.words(1, 3)
        if roll < 0.75:
            return encode_words(r.choice(UWORDS[:8]) + " " + self.words(1, 3), r, "iso-8859-1")
        if roll < 0.9:
            return self.words(14, 22)  # long: folded
        return "[list] " + self.words(2, 4) + " (" + self.words(1, 2) + ")"

    def date(self):
        r = self.rng
        tz = datetime.timezone(datetime.timedelta(minutes=r.choice((0, 60, 120, -300, 330))))
        d = datetime.datetime(2026, r.randint(1, 12), r.randint(1, 28), r.randint(0, 23),
                              r.randint(0, 59), r.randint(0, 59), tzinfo=tz)
        return email.utils.format_datetime(d)

    # ---- bodies ---------------------------------------------------------------
    def charset_param(self, cs):
        r = self.rng
        sep = r.choice(("; ", ";", ";\n "))
        val = cs if r.random() < 0.5 else '"%s"' % cs
        if r.random() < 0.2:
            cs = cs.upper()
            val = cs if r.random() < 0.5 else '"%s"' % cs
        return "%scharset=%s" % (sep, val)

    def encode_text(self, s, kind):
        """(cte header value or None, encoded body) for text s."""
        r = self.rng
        if kind == "7bit":
            return (r.choice((None, "7bit", "7BIT")), s)
        if kind == "8bit":
            return ("8bit", s)
        data = s.encode("utf-8")
        if kind == "quoted-printable":
            enc = quopri.encodestring(data).decode("ascii")
            return (r.choice(("quoted-printable", "Quoted-Printable")), enc)
        enc = base64.encodebytes(data).decode("ascii")
        return (r.choice(("base64", "BASE64")), enc.rstrip("\n") if r.random() < 0.7 else enc)

    def text_leaf(self, subtype="plain", top=False):
        r = self.rng
        kind = r.choice(("7bit", "7bit", "8bit", "quoted-printable", "base64"))
        utf8 = kind != "7bit"
        s = self.text(utf8)
        if subtype == "html":
            s = "<html><body>\n" + "".join("<p>%s</p>\n" % l for l in s.splitlines()) + "</body></html>" \
                + ("\n" if r.random() < 0.5 else "")
        cs = "utf-8" if utf8 else r.choice(("us-ascii", "us-ascii", "utf-8", "iso-8859-1"))
        if kind == "8bit" and not utf8:
            cs = "utf-8"
        cte, body = self.encode_text(s, kind)
        fields = []
        ct = "text/%s" % subtype
        if subtype == "plain" and r.random() < 0.15:
            ct += "; format=flowed"
        omit_ct = top and kind == "7bit" and cs == "us-ascii" and r.random() < 0.35
        if not omit_ct:
            fields.append(("Content-Type", ct + (self.charset_param(cs) if r.random() < 0.9 or utf8 else "")))
        if cte:
            fields.append(("Content-Transfer-Encoding", cte))
        if not top and r.random() < 0.15:
            fields.append(("Content-Disposition", "inline"))
        return fields, body

    def attachment_leaf(self, inline_image=False):
        r = self.rng
        if inline_image:
            ctype, fname = "image/png", r.choice(("logo.png", "chart.png", "sig.png"))
        else:
            ctype, fname = r.choice((("application/pdf", "report.pdf"), ("application/octet-stream", "data.bin"),
                                     ("image/png", "photo.png"), ("text/csv", "numbers.csv"),
                                     ("application/zip", "archive.zip")))
        if ctype == "text/csv":
            data = "\n".join(",".join(str(r.randint(0, 999)) for _ in range(4)) for _ in range(r.randint(2, 9))).encode() + b"\n"
        else:
            data = r.randbytes(r.randint(16, 700))
        fields = []
        name_style = r.random()
        if name_style < 0.6:
            fn_param = 'filename="%s"' % fname
        elif name_style < 0.85:
            fn_param = "filename=%s" % fname
        else:
            fname = "r\u00e9sum\u00e9-" + fname
            fn_param = "filename*=utf-8''" + "".join(
                ch if ch.isascii() and (ch.isalnum() or ch in ".-_") else "".join("%%%02X" % b for b in ch.encode())
                for ch in fname)
        ct = ctype
        if ctype == "text/csv":
            ct += self.charset_param("us-ascii")
        if r.random() < 0.5:
            ct += '; name="%s"' % fname.encode("ascii", "replace").decode()
        fields.append(("Content-Type", ct))
        fields.append(("Content-Transfer-Encoding", "base64"))
        if inline_image:
            fields.append(("Content-ID", "<img%d.%d@example.com>" % (r.randint(1, 99), r.randint(1000, 9999))))
            fields.append(("Content-Disposition", "inline; " + fn_param))
        else:
            fields.append(("Content-Disposition", r.choice(("attachment; ", "attachment;\n ", "attachment;")) + fn_param))
        body = base64.encodebytes(data).decode("ascii")
        return fields, (body.rstrip("\n") if r.random() < 0.7 else body)

    def boundary(self):
        r = self.rng
        self.nboundary += 1
        tag = "%08x" % r.getrandbits(32)
        style = r.random()
        if style < 0.35:
            return ("b%d_%s.x" % (self.nboundary, tag), r.random() < 0.5)   # token: quoted or not
        if style < 0.6:
            return ("=_Part_%d_%s" % (self.nboundary, tag), True)
        if style < 0.85:
            return ("Part %d %s boundary" % (self.nboundary, tag), True)     # spaces: quoted
        return ("----==_%d_%s_%s" % (self.nboundary, tag, "x" * r.randint(0, 30)), True)

    def multipart(self, depth, subtype=None):
        """(fields, body) of a multipart entity; depth = multipart level (1 = top)."""
        r = self.rng
        subtype = subtype or r.choice(("mixed", "mixed", "alternative", "related"))
        deeper = depth < 3
        children = []
        if subtype == "alternative":
            children.append(self.text_leaf("plain"))
            if deeper and r.random() < 0.3:
                children.append(self.multipart(depth + 1, "related"))
            else:
                children.append(self.text_leaf("html"))
        elif subtype == "related":
            if deeper and r.random() < 0.3:
                children.append(self.multipart(depth + 1, "alternative"))
            else:
                children.append(self.text_leaf("html"))
            for _ in range(r.randint(1, 2)):
                children.append(self.attachment_leaf(inline_image=True))
        else:
            if deeper and r.random() < 0.35:
                children.append(self.multipart(depth + 1, r.choice(("alternative", "related"))))
            else:
                children.append(self.text_leaf("plain"))
            for _ in range(r.randint(0 if len(children) else 1, 2)):
                if deeper and r.random() < 0.15:
                    children.append(self.multipart(depth + 1, "mixed"))
                else:
                    children.append(self.attachment_leaf())
            if len(children) == 1:
                children.append(self.attachment_leaf())
        b, quoted = self.boundary()
        bparam = 'boundary="%s"' % b if quoted else "boundary=%s" % b
        sep = r.choice(("; ", ";\n ", ";\n\t", ";"))
        ct = "multipart/%s" % subtype
        if subtype == "related" and r.random() < 0.5:
            ct += '; type="text/html"'
        ct += sep + bparam
        if r.random() < 0.1:
            ct += self.charset_param("us-ascii")
        body = ""
        if r.random() < 0.5:
            body += r.choice(("This is a multi-part message in MIME format.\n",
                              "preamble: " + self.words(2, 6) + "\n\n", "\n"))
        for fields, cbody in children:
            body += "--" + b + ("  " if r.random() < 0.05 else "") + "\n"
            body += render_fields(fields, r) + "\n" + cbody + "\n"
        body += "--" + b + "--"
        roll = r.random()
        if roll < 0.3:
            body += "\n" + r.choice(("epilogue " + self.words(1, 4) + "\n", "\n", ""))
        elif roll < 0.9:
            body += "\n"
        return [("Content-Type", ct)], body

    def message(self):
        r = self.rng
        eol = "\r\n" if r.random() < 0.6 else "\n"
        multipart = r.random() < 0.7
        if multipart:
            body_fields, body = self.multipart(1)
        else:
            body_fields, body = self.text_leaf("plain", top=True)
        top = []
        if r.random() < 0.5:
            for i in range(r.randint(1, 2)):
                top.append(("Received", "from relay%d.example.com (relay%d.example.com [192.0.2.%d]) by mail.example.com "
                            "(Postfix) with ESMTPS id %X; %s" % (i, i, r.randint(1, 254), r.getrandbits(40), self.date())))
        from_roll = r.random()
        if from_roll < 0.75:
            frm = self.mailbox()
        elif from_roll < 0.9:
            frm = ", ".join(self.mailbox() for _ in range(2))
        else:
            frm = "%s: %s;" % (r.choice(("Team", "Ops")), ", ".join(self.mailbox() for _ in range(r.randint(1, 2))))
        main = [("From", frm)]
        if r.random() < 0.92:
            main.append(("To", self.address_list()))
        if r.random() < 0.45:
            main.append(("Cc", self.address_list()))
        if r.random() < 0.92:
            main.append(("Subject", self.subject()))
        if r.random() < 0.92:
            main.append(("Date", self.date()))
        main.append(("Message-ID", "<%x.%x@mail.example.com>" % (r.getrandbits(48), r.getrandbits(24))))
        if r.random() < 0.35:
            main.append(("Reply-To", self.mailbox()))
        if r.random() < 0.3:
            main.append(("X-Mailer", "Example Mailer %d.%d" % (r.randint(1, 9), r.randint(0, 20))))
        if r.random() < 0.3:
            r.shuffle(main)
        if multipart or r.random() < 0.9:
            main.append(("MIME-Version", r.choice(("1.0", "1.0", "1.0 (generated)"))))
        fields = top + main + body_fields
        text = render_fields(fields, r) + "\n" + body
        return eol, text.replace("\n", eol).encode("utf-8"), multipart


def render_fields(fields, rng):
    out = ""
    for name, value in fields:
        out += fold(name, value, rng) + "\n"
    return out


# --------------------------------------------------------------------------------
# Locating header fields and MIME entities in the signed bytes
# --------------------------------------------------------------------------------

class Field:
    __slots__ = ("name", "start", "end", "value_start", "value_end")

    def __init__(self, name, start, end, value_start, value_end):
        self.name, self.start, self.end = name, start, end
        self.value_start, self.value_end = value_start, value_end   # value_end: before the last EOL

    def lname(self):
        return (self.name or b"").strip().lower()


class Entity:
    def __init__(self):
        self.path = ""
        self.start = self.end = 0
        self.fields = []
        self.hdr_end = 0      # start of the blank line (or of the body when there is none)
        self.body_start = 0
        self.ctype = b"text/plain"
        self.boundary = None
        self.children = []
        self.delims = []      # (line start, line end incl. EOL) of each delimiter line
        self.close = None     # same for the close delimiter
        self.epilogue = None  # (start, end)

    def field(self, lname):
        for f in self.fields:
            if f.lname() == lname:
                return f
        return None

    def leaf_path(self):
        return self.path or "1"

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()


def lines_of(raw, start, end):
    """(line start, content end, line end) for each line in raw[start:end]."""
    pos = start
    while pos < end:
        nl = raw.find(b"\n", pos, end)
        cr = raw.find(b"\r", pos, end)
        if nl < 0 and cr < 0:
            yield pos, end, end
            return
        if cr >= 0 and (nl < 0 or cr < nl):
            stop = cr + 2 if cr + 1 < end and raw[cr + 1:cr + 2] == b"\n" else cr + 1
            yield pos, cr, stop
            pos = stop
        else:
            yield pos, nl, nl + 1
            pos = nl + 1


def unfold(b):
    return re.sub(rb"\r?\n(?=[ \t])", b"", b)


def param(value, name):
    m = re.search(rb'(?i)(?:^|;)\s*' + re.escape(name) + rb'\s*=\s*("((?:[^"\\]|\\.)*)"|[^;\s]+)', value)
    if not m:
        return None
    return m.group(2) if m.group(2) is not None else m.group(1)


def parse_entity(raw, start, end, path, depth=0):
    e = Entity()
    e.path, e.start, e.end = path, start, end
    cur = None
    e.hdr_end = e.body_start = end
    for ls, ce, le in lines_of(raw, start, end):
        line = raw[ls:ce]
        if line == b"":
            e.hdr_end, e.body_start = ls, le
            break
        if line[:1] in (b" ", b"\t") and cur is not None:
            cur.end, cur.value_end = le, ce
            continue
        colon = line.find(b":")
        if colon <= 0:
            e.hdr_end = e.body_start = ls   # header ends at a line that is no field
            break
        cur = Field(line[:colon], ls, le, ls + colon + 1, ce)
        e.fields.append(cur)
    ct = e.field(b"content-type")
    if ct is not None:
        v = unfold(raw[ct.value_start:ct.value_end])
        m = re.match(rb"\s*([^;\s]+)", v)
        if m:
            e.ctype = m.group(1).lower()
        if e.ctype.startswith(b"multipart/") and depth < 8:
            e.boundary = param(v, b"boundary")
    if e.boundary:
        locate_children(raw, e, depth)
    return e


def locate_children(raw, e, depth):
    delim, close = b"--" + e.boundary, b"--" + e.boundary + b"--"
    prev_content_start = None
    bounds = []
    for ls, ce, le in lines_of(raw, e.body_start, e.end):
        line = raw[ls:ce].rstrip(b" \t")
        if line == close or line == delim:
            if prev_content_start is not None:
                bounds.append((prev_content_start, eol_before(raw, ls, prev_content_start)))
            if line == close:
                e.close = (ls, le)
                e.epilogue = (le, e.end)
                break
            e.delims.append((ls, le))
            prev_content_start = le
    else:
        if prev_content_start is not None:   # no close delimiter: the last part runs to the end
            bounds.append((prev_content_start, e.end))
    for i, (s, t) in enumerate(bounds, 1):
        e.children.append(parse_entity(raw, s, t, (e.path + "." if e.path else "") + str(i), depth + 1))


def eol_before(raw, ls, floor):
    if ls - 2 >= floor and raw[ls - 2:ls] == b"\r\n":
        return ls - 2
    if ls - 1 >= floor and raw[ls - 1:ls] in (b"\n", b"\r"):
        return ls - 1
    return ls


def splice(raw, start, end, new):
    return raw[:start] + new + raw[end:]


# --------------------------------------------------------------------------------
# Mutations. Each takes a Ctx and returns (new bytes, detail) or None (not applicable).
# --------------------------------------------------------------------------------

TRACKING = (b"x-postaltracking", b"mtas-signature")


class Ctx:
    def __init__(self, raw, rng):
        self.raw, self.rng = raw, rng
        first_nl = raw.find(b"\n")
        self.eol = b"\r\n" if first_nl > 0 and raw[first_nl - 1:first_nl] == b"\r" else b"\n"
        self.top = parse_entity(raw, 0, len(raw), "")

    def header_fields(self, include_tracking=False):
        return [f for f in self.top.fields if include_tracking or f.lname() not in TRACKING]

    def header_pos(self, where=None):
        """An offset at a field boundary of the top-level header."""
        where = where or self.rng.choice(("top", "bottom", "middle"))
        fs = self.top.fields
        if where == "top" or not fs:
            return 0, "top"
        if where == "bottom":
            return fs[-1].end, "bottom"
        i = self.rng.randrange(len(fs))
        return fs[i].end, "after %s" % fs[i].name.decode("latin-1")

    def leaves(self):
        return [e for e in self.top.walk() if not e.children and not is_carrier(self.raw, e)]

    def multiparts(self):
        return [e for e in self.top.walk() if e.boundary and e.delims]


def is_carrier(raw, e):
    # The body carrier's entity is in the top-level epilogue, never a located child,
    # but a message whose structure was damaged may expose it: leave it alone.
    return b"x-mtas-signature" in e.ctype or b"pkcs7" in e.ctype


def add_field_line(ctx, name, value, where=None):
    pos, desc = ctx.header_pos(where)
    line = name.encode() + b": " + value.encode() + ctx.eol
    return splice(ctx.raw, pos, pos, line), desc


ABSENT_VALUES = {
    "Reply-To": "Support <%s>" % EVIL,
    "Cc": EVIL,
    "To": EVIL,
    "Subject": "Urgent: new bank details",
    "Content-Type": "text/html; charset=us-ascii",
    "MIME-Version": "1.0",
    "Content-Transfer-Encoding": "base64",
    "Content-Disposition": 'attachment; filename="invoice.html"',
    "Sender": EVIL,
    "Date": "Mon, 01 Jan 2024 00:00:00 +0000",
}


def m_add_absent(name):
    def f(ctx):
        if ctx.top.field(name.lower().encode()) is not None:
            return None
        value = ABSENT_VALUES[name]
        if name == "Content-Transfer-Encoding":
            value = ctx.rng.choice(("base64", "quoted-printable"))
        if name == "Content-Type" and ctx.top.ctype != b"text/plain":
            return None
        out, desc = add_field_line(ctx, name, value)
        return out, "%s: %s at %s" % (name, value, desc)
    return f


DUP_VALUES = {"From": "Security Team <%s>" % EVIL, "Subject": "Urgent: new bank details", "To": EVIL}


def m_dup(name, where):
    def f(ctx):
        if ctx.top.field(name.lower().encode()) is None:
            return None
        if where == "prepend":
            # above everything, or just above the signed instance
            if ctx.rng.random() < 0.5:
                pos, desc = 0, "top"
            else:
                fld = ctx.top.field(name.lower().encode())
                pos, desc = fld.start, "just above the signed one"
        else:
            pos, desc = ctx.top.fields[-1].end, "bottom"
        line = name.encode() + b": " + DUP_VALUES[name].encode() + ctx.eol
        return splice(ctx.raw, pos, pos, line), "second %s at %s" % (name, desc)
    return f


def m_smuggle(kind):
    sep = {"cr": b"\r", "lf": b"\n", "nul": b"\x00"}[kind]

    def f(ctx):
        if kind == "lf" and ctx.eol == b"\n":
            return None  # a bare LF is a plain line end there
        fs = ctx.header_fields()
        fld = ctx.rng.choice(fs)
        v_start, v_end = fld.value_start, fld.value_end
        # At the end of the value, or inside it (at a space).
        spaces = [i for i in range(v_start + 1, v_end) if ctx.raw[i:i + 1] == b" "]
        pos = v_end if not spaces or ctx.rng.random() < 0.5 else ctx.rng.choice(spaces)
        ins = sep + b"From: " + EVIL.encode()
        if pos != v_end:
            ins += b" "
        return splice(ctx.raw, pos, pos, ins), "%r + From in %s" % (sep, fld.name.decode("latin-1"))
    return f


def m_obs_from(ctx):
    out, desc = add_field_line(ctx, "From ", EVIL)
    return out, "'From : %s' at %s" % (EVIL, desc)


def m_ws_line(ctx):
    fs = ctx.top.fields
    ws = ctx.rng.choice((b" ", b"\t", b"  \t"))
    i = ctx.rng.randrange(-1, len(fs))
    pos = fs[i].end if i >= 0 else 0
    return splice(ctx.raw, pos, pos, ws + ctx.eol), "%r line %s" % (
        ws, "after " + fs[i].name.decode("latin-1") if i >= 0 else "at the top")


def m_no_colon(ctx):
    pos, desc = ctx.header_pos()
    ins = b"This line has no colon" + ctx.eol + b"From: " + EVIL.encode() + ctx.eol
    return splice(ctx.raw, pos, pos, ins), "at %s" % desc


def boundary_value_span(raw, e):
    """(start, end, quoted) of the boundary parameter value in e's Content-Type field."""
    f = e.field(b"content-type")
    seg = raw[f.value_start:f.value_end]
    m = re.search(rb'(?i)boundary(\s*)=(\s*)("((?:[^"\\]|\\.)*)"|[^;\s]+)', seg)
    if not m:
        return None
    if m.group(4) is not None:
        return f.value_start + m.start(4), f.value_start + m.end(4), True, f.value_start + m.start(0), f.value_start + m.start(3)
    return f.value_start + m.start(3), f.value_start + m.end(3), False, f.value_start + m.start(0), f.value_start + m.start(3)


def m_boundary_ws(variant):
    def f(ctx):
        mps = [e for e in ctx.multiparts() if boundary_value_span(ctx.raw, e)]
        if variant in ("param-only", "param+delims", "delims-only"):
            mps = [e for e in mps if b" " in e.boundary]
        if not mps:
            return None
        e = ctx.rng.choice(mps)
        raw = ctx.raw
        vs, ve, quoted, pstart, eq_after = boundary_value_span(raw, e)
        b = e.boundary
        edits = []  # (start, end, new)
        if variant in ("param-only", "param+delims", "delims-only"):
            idx = [i for i in range(len(b)) if b[i:i + 1] == b" "]
            i = ctx.rng.choice(idx)
            new_ws = ctx.rng.choice((b"  ", b"\t", b" \t"))
            nb = b[:i] + new_ws + b[i + 1:]
            if variant != "delims-only":
                edits.append((vs, ve, nb))
            if variant != "param-only":
                for ls, le in e.delims + ([e.close] if e.close else []):
                    edits.append((ls + 2, ls + 2 + len(b), nb))
            desc = "%r -> %r" % (b, nb)
        elif variant == "delim-trailing":
            ls, le = ctx.rng.choice(e.delims + ([e.close] if e.close else []))
            ce = le - len(line_eol(raw, le))
            ws = ctx.rng.choice((b" ", b"\t", b"   "))
            edits.append((ce, ce, ws))
            desc = "trailing %r on a delimiter of %r" % (ws, b)
        elif variant == "delim-leading":
            ls, le = ctx.rng.choice(e.delims)
            edits.append((ls, ls, b" "))
            desc = "leading space on a delimiter of %r" % b
        elif variant == "param-trailing":
            if quoted:
                edits.append((ve, ve, b" "))
            else:
                edits.append((vs, ve, b'"' + b + b' "'))
            desc = "boundary %r -> %r (param only)" % (b, b + b" ")
        elif variant == "around-eq":
            # boundary = "x"
            eq = raw.find(b"=", pstart)
            edits.append((eq, eq + 1, ctx.rng.choice((b" = ", b" =", b"= ", b"=\t"))))
            desc = "white space around '=' of boundary %r" % b
        else:
            raise ValueError(variant)
        out = raw
        for s, t, new in sorted(edits, reverse=True):
            out = splice(out, s, t, new)
        return out, desc
    return f


def set_field(ctx, e, lname, name, value):
    """Replace the first lname field of entity e, or add one at the end of its header."""
    fld = e.field(lname)
    line = name + b": " + value
    if fld is not None:
        return splice(ctx.raw, fld.start, fld.end - len(line_eol(ctx.raw, fld.end)), line), "changed"
    pos = e.fields[-1].end if e.fields else e.start
    return splice(ctx.raw, pos, pos, line + ctx.eol), "added"


def line_eol(raw, end):
    if raw[end - 2:end] == b"\r\n":
        return b"\r\n"
    if raw[end - 1:end] in (b"\n", b"\r"):
        return raw[end - 1:end]
    return b""


def cte_of(raw, e):
    f = e.field(b"content-transfer-encoding")
    return unfold(raw[f.value_start:f.value_end]).strip().lower() if f else None


def m_cte(scope):
    def f(ctx):
        if scope == "top":
            e = ctx.top
        else:
            cands = [e for e in ctx.leaves() if e.path]   # a part of a multipart
            if not cands:
                return None
            e = ctx.rng.choice(cands)
        old = cte_of(ctx.raw, e)
        choices = {None: (b"base64", b"quoted-printable"), b"7bit": (b"base64", b"quoted-printable"),
                   b"8bit": (b"base64", b"quoted-printable", b"7bit"), b"base64": (b"7bit", b"quoted-printable", b"8bit"),
                   b"quoted-printable": (b"7bit", b"base64", b"8bit")}.get(old, (b"7bit", b"base64"))
        new = ctx.rng.choice(choices)
        out, how = set_field(ctx, e, b"content-transfer-encoding", b"Content-Transfer-Encoding", new)
        return out, "part %s (%s): CTE %s -> %s" % (e.leaf_path() if scope != "top" else "top",
                                                     e.ctype.decode(), old and old.decode(), new.decode())
    return f


def m_disposition(ctx):
    cands = [e for e in ctx.leaves() if e.path]
    if not cands:
        return None
    e = ctx.rng.choice(cands)
    fld = e.field(b"content-disposition")
    if fld is None:
        new = b'attachment; filename="payload.html"'
    else:
        old = unfold(ctx.raw[fld.value_start:fld.value_end]).strip()
        if old.lower().startswith(b"attachment"):
            new = b"inline" + old[len(b"attachment"):]
        else:
            new = b"attachment" + old[len(b"inline"):] if old.lower().startswith(b"inline") else b"attachment"
    out, how = set_field(ctx, e, b"content-disposition", b"Content-Disposition", new)
    return out, "part %s: disposition %s -> %s" % (e.leaf_path(), how, new.decode())


def m_filename(ctx):
    cands = [e for e in ctx.leaves() if e.path]
    if not cands:
        return None
    e = ctx.rng.choice(cands)
    fld = e.field(b"content-disposition")
    evil = b'"invoice.pdf.exe"'
    if fld is not None and re.search(rb"(?i)filename", ctx.raw[fld.value_start:fld.value_end]):
        seg = ctx.raw[fld.value_start:fld.value_end]
        m = re.search(rb'(?i)filename\*?\s*=\s*("((?:[^"\\]|\\.)*)"|[^;\s]+)', seg)
        s, t = fld.value_start + m.start(), fld.value_start + m.end()
        return splice(ctx.raw, s, t, b"filename=" + evil), "part %s: filename changed" % e.leaf_path()
    if fld is not None:
        pos = fld.value_end
        return splice(ctx.raw, pos, pos, b"; filename=" + evil), "part %s: filename added" % e.leaf_path()
    out, how = set_field(ctx, e, b"content-disposition", b"Content-Disposition", b"inline; filename=" + evil)
    return out, "part %s: Content-Disposition with filename added" % e.leaf_path()


CHARSET_SWAP = {b"us-ascii": b"iso-8859-1", b"utf-8": b"iso-8859-1", b"iso-8859-1": b"utf-8"}


def m_charset(ctx):
    cands = [e for e in ctx.top.walk() if not e.children and (e.ctype.startswith(b"text/") or e.field(b"content-type") is None)]
    if not cands:
        return None
    e = ctx.rng.choice(cands)
    fld = e.field(b"content-type")
    if fld is None:
        out, how = set_field(ctx, e, b"content-type", b"Content-Type", b"text/plain; charset=iso-8859-1")
        return out, "part %s: Content-Type with charset added" % e.leaf_path()
    seg = ctx.raw[fld.value_start:fld.value_end]
    m = re.search(rb'(?i)charset\s*=\s*"?([^";\s]+)"?', seg)
    if not m:
        pos = fld.value_end
        return splice(ctx.raw, pos, pos, b"; charset=windows-1252"), "part %s: charset added" % e.leaf_path()
    old = m.group(1)
    new = CHARSET_SWAP.get(old.lower(), b"utf-8")
    s, t = fld.value_start + m.start(1), fld.value_start + m.end(1)
    return splice(ctx.raw, s, t, new), "part %s: charset %s -> %s" % (e.leaf_path(), old.decode(), new.decode())


def m_requote(ctx):
    cands = []
    for e in ctx.top.walk():
        for fld in e.fields:
            if fld.lname() not in (b"content-type", b"content-disposition"):
                continue
            seg = ctx.raw[fld.value_start:fld.value_end]
            for m in re.finditer(rb'(?i)(charset|boundary|filename|name|type)\s*=\s*("([^"\\\s;]*)"|([^";\s]+))', seg):
                cands.append((fld, m))
    if not cands:
        return None
    fld, m = ctx.rng.choice(cands)
    if m.group(3) is not None:
        val = m.group(3)
        if not re.fullmatch(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+", val):
            return None  # needs its quotes
        new = val
    else:
        new = b'"' + m.group(4) + b'"'
    s, t = fld.value_start + m.start(2), fld.value_start + m.end(2)
    return splice(ctx.raw, s, t, new), "%s: %s -> %s" % (m.group(1).decode(), m.group(2).decode("latin-1"), new.decode("latin-1"))


def m_refold(ctx):
    fields = [f for e in ctx.top.walk() for f in e.fields]
    raw = ctx.raw
    unfolds, folds = [], []
    for f in fields:
        seg_start = f.value_start
        for m in re.finditer(rb"\r?\n(?=[ \t])", raw[seg_start:f.end]):
            unfolds.append((seg_start + m.start(), seg_start + m.end()))
        inside = False
        for i in range(f.value_start + 1, f.value_end - 1):
            if raw[i:i + 1] == b'"' and raw[i - 1:i] != b"\\":
                inside = not inside
            # Not inside a quoted string: GMime keeps such a line end in a display name.
            if raw[i:i + 1] == b" " and not inside and raw[i - 1:i] not in (b" ", b"\t", b"\n", b"\r", b":") \
                    and raw[i + 1:i + 2] not in (b" ", b"\t", b"\r", b"\n"):
                folds.append(i)
    if unfolds and (not folds or ctx.rng.random() < 0.4):
        s, t = ctx.rng.choice(unfolds)
        return splice(raw, s, t, b""), "unfolded a line"
    if not folds:
        return None
    i = ctx.rng.choice(folds)
    return splice(raw, i, i, ctx.eol), "folded at a space"


def m_name_case(ctx):
    fields = [f for e in ctx.top.walk() for f in e.fields]
    fld = ctx.rng.choice(fields)
    name = fld.name
    style = ctx.rng.choice(("upper", "lower", "swap"))
    new = name.upper() if style == "upper" else name.lower() if style == "lower" else name.swapcase()
    if new == name:
        new = name.swapcase()
    return splice(ctx.raw, fld.start, fld.start + len(name), new), "%s -> %s" % (name.decode("latin-1"), new.decode("latin-1"))


def m_append_text(ctx):
    cands = [e for e in ctx.leaves() if e.ctype.startswith(b"text/")]
    if not cands:
        return None
    e = ctx.rng.choice(cands)
    cte = cte_of(ctx.raw, e)
    extra = "P.S. the account number changed, pay to DE00 0000 0000 0000."
    if cte == b"base64":
        add = base64.b64encode(extra.encode()) 
    elif e.ctype == b"text/html":
        add = b"<p>" + extra.encode() + b"</p>"
    else:
        add = extra.encode()
    end = e.end
    # Before the line end that closes the part (or at the end of the message).
    if end == len(ctx.raw):
        tail = ctx.raw[e.body_start:end]
        ins = (ctx.eol if tail and not tail.endswith((b"\n", b"\r")) else b"") + add + ctx.eol
    else:
        ins = ctx.eol + add
        if ctx.raw[e.body_start:end].endswith((b"\n", b"\r")) or e.body_start == end:
            ins = add + ctx.eol
    return splice(ctx.raw, end, end, ins), "part %s (%s, %s): text appended" % (
        e.leaf_path(), e.ctype.decode(), cte and cte.decode())


def new_part(ctx):
    r = ctx.rng
    eol = ctx.eol
    if r.random() < 0.5:
        return (b"Content-Type: text/plain; charset=us-ascii" + eol + eol +
                b"Please pay the attached invoice to the new account." + eol)
    data = base64.encodebytes(b"MZ" + bytes(range(64))).replace(b"\n", eol)
    return (b"Content-Type: application/octet-stream; name=\"invoice.exe\"" + eol +
            b"Content-Transfer-Encoding: base64" + eol +
            b"Content-Disposition: attachment; filename=\"invoice.exe\"" + eol + eol + data)


def m_add_part(ctx):
    mps = ctx.multiparts()
    if not mps:
        return None
    e = ctx.rng.choice(mps)
    b = e.boundary
    # Insert a delimiter and the part just before one of the delimiter lines (or the close).
    lines = e.delims + ([e.close] if e.close else [])
    i = ctx.rng.randrange(1, len(lines)) if len(lines) > 1 else len(lines) - 1
    if i == 0:
        return None
    ls, le = lines[i]
    body = new_part(ctx)
    if not body.endswith(ctx.eol):
        body += ctx.eol
    ins = b"--" + b + ctx.eol + body
    # ls is right after the line end that belongs to this delimiter: insert there, so the
    # new part ends with that line end.
    return splice(ctx.raw, ls, ls, ins), "new part in %s (%s) before delimiter %d" % (
        e.path or "top", e.ctype.decode(), i + 1)


def m_remove_part(ctx):
    mps = [e for e in ctx.multiparts() if len(e.children) >= 2 and len(e.delims) >= 2]
    if not mps:
        return None
    e = ctx.rng.choice(mps)
    i = ctx.rng.randrange(len(e.delims))
    ls, _ = e.delims[i]
    nxt = e.delims[i + 1][0] if i + 1 < len(e.delims) else (e.close[0] if e.close else e.end)
    return splice(ctx.raw, ls, nxt, b""), "removed part %d of %s (%s)" % (i + 1, e.path or "top", e.ctype.decode())


def m_swap_parts(ctx):
    mps = [e for e in ctx.multiparts() if len(e.children) >= 2]
    if not mps:
        return None
    e = ctx.rng.choice(mps)
    i, j = sorted(ctx.rng.sample(range(len(e.children)), 2))
    a, b = e.children[i], e.children[j]
    raw = ctx.raw
    if raw[a.start:a.end] == raw[b.start:b.end]:
        return None
    out = raw[:a.start] + raw[b.start:b.end] + raw[a.end:b.start] + raw[a.start:a.end] + raw[b.end:]
    return out, "swapped parts %d and %d of %s (%s)" % (i + 1, j + 1, e.path or "top", e.ctype.decode())


def m_epilogue_text(ctx):
    mps = [e for e in ctx.multiparts() if e.close]
    if not mps:
        return None
    e = ctx.rng.choice(mps)
    text = b"This text is after the closing delimiter." + ctx.eol
    if e is ctx.top and ctx.rng.random() < 0.5:
        pos = len(ctx.raw)
        pre = b"" if ctx.raw.endswith((b"\n", b"\r")) else ctx.eol
        return splice(ctx.raw, pos, pos, pre + text), "text at the very end of the message"
    pos = e.close[1]
    pre = b"" if ctx.raw[e.close[0]:e.close[1]].endswith((b"\n", b"\r")) else ctx.eol
    return splice(ctx.raw, pos, pos, pre + text), "text after the close delimiter of %s" % (e.path or "top")


def m_preamble_text(ctx):
    mps = ctx.multiparts()
    if not mps:
        return None
    e = ctx.rng.choice(mps)
    pos = e.body_start
    return splice(ctx.raw, pos, pos, b"This text is in the preamble." + ctx.eol), "preamble of %s" % (e.path or "top")


def m_from_display(ctx):
    fld = ctx.top.field(b"from")
    if fld is None:
        return None
    v = ctx.raw[fld.value_start:fld.value_end]
    m = re.search(rb"<[^<>]*@[^<>]*>", v)
    if m:
        new = b" Bank Security " + v[m.start():]
        # keep anything after the first mailbox
        return splice(ctx.raw, fld.value_start, fld.value_end, new), "display name -> Bank Security"
    m = re.search(rb"[^\s,:;<>()]+@[^\s,:;<>()]+", v)
    if not m:
        return None
    new = v[:m.start()] + b"Bank Security <" + m.group(0) + b">" + v[m.end():]
    return splice(ctx.raw, fld.value_start, fld.value_end, new), "display name added: Bank Security"


def m_subject_reencode(ctx):
    fld = ctx.top.field(b"subject")
    if fld is None:
        return None
    v = unfold(ctx.raw[fld.value_start:fld.value_end]).decode("ascii", "replace").strip()
    try:
        shown = str(email.header.make_header(email.header.decode_header(v)))
    except Exception:
        return None
    # Benign only where the readers agree on what the Subject says now: no spelling can
    # keep two different views (GMime cuts a padded B-word that is not the last one).
    seen = {r: views_of_subject(ctx.raw, r) for r in ("python-default", "python-compat32", "gmime")}
    if any(x != shown for x in seen.values()):
        return None
    if "=?" in v and shown.isascii() and ctx.rng.random() < 0.5:
        new = shown
    else:
        new = encode_words(shown, ctx.rng, same_everywhere=True)
    new_b = fold("Subject", new, ctx.rng).replace("\n", ctx.eol.decode()).encode()
    return splice(ctx.raw, fld.start, fld.end - len(line_eol(ctx.raw, fld.end)), new_b), "Subject %r -> %r" % (v, new)


MUTATIONS = collections.OrderedDict()
for _n in ABSENT_VALUES:
    MUTATIONS["add-absent:" + _n] = m_add_absent(_n)
for _n in ("From", "Subject", "To"):
    MUTATIONS["dup-prepend:" + _n] = m_dup(_n, "prepend")
    MUTATIONS["dup-append:" + _n] = m_dup(_n, "append")
for _k in ("cr", "lf", "nul"):
    MUTATIONS["smuggle-bare-" + _k] = m_smuggle(_k)
MUTATIONS["obs-from"] = m_obs_from
MUTATIONS["ws-only-header-line"] = m_ws_line
MUTATIONS["no-colon-line"] = m_no_colon
for _v in ("param-only", "param+delims", "delims-only", "delim-trailing", "delim-leading",
           "param-trailing", "around-eq"):
    MUTATIONS["boundary-ws:" + _v] = m_boundary_ws(_v)
MUTATIONS["cte:top"] = m_cte("top")
MUTATIONS["cte:part"] = m_cte("part")
MUTATIONS["part-disposition"] = m_disposition
MUTATIONS["part-filename"] = m_filename
MUTATIONS["charset"] = m_charset
MUTATIONS["requote(benign)"] = m_requote
MUTATIONS["refold(benign)"] = m_refold
MUTATIONS["name-case(benign)"] = m_name_case
MUTATIONS["append-text"] = m_append_text
MUTATIONS["add-part"] = m_add_part
MUTATIONS["remove-part"] = m_remove_part
MUTATIONS["swap-parts"] = m_swap_parts
MUTATIONS["epilogue-text(benign)"] = m_epilogue_text
MUTATIONS["preamble-text(benign)"] = m_preamble_text
MUTATIONS["from-display-name"] = m_from_display
MUTATIONS["subject-reencode(benign)"] = m_subject_reencode


def mutate(raw, rng):
    """(class, mutated bytes, [details]) for a random class."""
    roll = rng.random()
    if roll < 0.06:
        return "control", raw, []
    names = list(MUTATIONS)
    if roll < 0.12:
        out, details = raw, []
        for _ in range(rng.randint(2, 3)):
            for _try in range(20):
                name = rng.choice(names)
                try:
                    res = MUTATIONS[name](Ctx(out, rng))
                except Exception:  # a damaged structure can defeat the locator
                    res = None
                if res is not None:
                    out = res[0]
                    details.append("%s: %s" % (name, res[1]))
                    break
        if details:
            return "combo", out, details
    # Uniform over the classes that apply to this message.
    rng.shuffle(names)
    for name in names:
        res = MUTATIONS[name](Ctx(raw, rng))
        if res is not None and res[0] != raw:
            return name, res[0], [res[1]]
    return "control", raw, []


# --------------------------------------------------------------------------------
# Reader views
# --------------------------------------------------------------------------------

SHOWN = ("From", "To", "Cc", "Reply-To", "Subject", "Date")


def guard(fn):
    try:
        return fn()
    except Exception as e:
        return "PARSE-ERROR %s: %s" % (type(e).__name__, str(e)[:120])


def sha(data):
    if data is None:
        data = b""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    return hashlib.sha256(data).hexdigest()[:16]


def py_params(part):
    out = []
    for k, v in (part.get_params() or [])[1:]:
        if k.lower() == "boundary":
            continue
        out.append("%s=%s" % (k.lower(), email.utils.collapse_rfc2231_value(v)))
    return "; ".join(sorted(out))


def shown(text):
    # One line as a reader shows it: no white space at the ends, a run of it as one space.
    return re.sub(r"[ \t]+", " ", text).strip(" ") if isinstance(text, str) else text


def compat_display(v):
    v = re.sub(r"\r?\n(?=[ \t])", "", v)
    # A reader does not show white space at the ends of a value (policy.default strips it too).
    return shown(str(email.header.make_header(email.header.decode_header(v))))


# Each message is parsed once per reader: the shown view and the comparison with
# mtas's view (mtas_view_diff) share the parse. The readers do not change a parsed
# message when they are asked about it.
_PARSED = collections.OrderedDict()


def parsed(raw, reader):
    key = (reader, raw)
    if key not in _PARSED:
        while len(_PARSED) >= 12:
            _PARSED.popitem(last=False)
        try:
            if reader == "gmime":
                parser = GMime.Parser.new_with_stream(GMime.StreamMem.new_with_buffer(raw))
                _PARSED[key] = (True, parser.construct_message(None))
            else:
                pol = email.policy.default if reader == "python-default" else email.policy.compat32
                _PARSED[key] = (True, email.message_from_bytes(raw, policy=pol))
        except Exception as e:
            _PARSED[key] = (False, e)
    ok, value = _PARSED[key]
    if not ok:
        raise value
    return value


def python_view(raw, default):
    try:
        msg = parsed(raw, "python-default" if default else "python-compat32")
    except Exception as e:
        return {"parse": "PARSE-ERROR %s: %s" % (type(e).__name__, e)}
    v = {}
    for name in SHOWN:
        if default:
            v["header:" + name] = guard(lambda: [shown(str(h)) for h in msg.get_all(name, [])])
        else:
            v["header:" + name] = guard(lambda: [compat_display(h) for h in msg.get_all(name, [])])
    if default:
        v["from-addresses"] = guard(lambda: [[(g.display_name, [(a.display_name, a.addr_spec) for a in g.addresses])
                                              for g in h.groups] for h in msg.get_all("From", [])])
    else:
        v["from-addresses"] = guard(lambda: email.utils.getaddresses(
            [re.sub(r"\r?\n(?=[ \t])", "", str(h)) for h in msg.get_all("From", [])]))
    paths = {}

    def walk(part, path):
        paths[id(part)] = path
        key = "node:" + (path or "top")
        if part.is_multipart():
            v[key] = guard(lambda: "%s; %s" % (part.get_content_type(), py_params(part)))
            kids = part.get_payload()
            if isinstance(kids, list):
                for i, k in enumerate(kids, 1):
                    walk(k, (path + "." if path else "") + str(i))
            return
        def leaf():
            s = "%s; %s | disp=%s | filename=%s | payload %s" % (
                part.get_content_type(), guard(lambda: py_params(part)), guard(part.get_content_disposition),
                guard(part.get_filename), guard(lambda: sha(part.get_payload(decode=True))))
            if default:
                s += " | content %s" % guard(lambda: sha(part.get_content() if not hasattr(part.get_content(), "as_bytes")
                                                         else part.get_content().as_bytes()))
            return s
        v[key] = guard(leaf)

    guard(lambda: walk(msg, ""))
    v["nodes"] = sorted(k for k in v if k.startswith("node:"))
    if default:
        for pref in (("plain", "html"), ("html", "plain")):
            v["body:" + pref[0]] = guard(lambda: (lambda p: None if p is None else paths.get(id(p), "?"))(
                msg.get_body(preferencelist=pref)))
        v["attachments"] = guard(lambda: [paths.get(id(a), "?") for a in msg.iter_attachments()])
    return v


def gm_content_type(obj):
    ct = obj.get_content_type()
    if ct is None:
        return "(none)"
    params = []
    plist = ct.get_parameters()
    for i in range(plist.length()):
        p = plist.get_parameter_at(i)
        if p.get_name().lower() != "boundary":
            params.append("%s=%s" % (p.get_name().lower(), p.get_value()))
    return "%s; %s" % (ct.get_mime_type().lower(), "; ".join(sorted(params)))


def gm_decoded(part):
    wrapper = part.get_content()
    if wrapper is None:
        return b""
    mem = GMime.StreamMem.new()
    wrapper.write_to_stream(mem)
    return bytes(mem.get_byte_array() or b"")


def gm_addresses(lst):
    out = []
    if lst is None:
        return out
    for i in range(lst.length()):
        a = lst.get_address(i)
        if isinstance(a, GMime.InternetAddressGroup):
            out.append(("group", gm_unfold(a.get_name()), gm_addresses(a.get_members())))
        else:
            out.append((gm_unfold(a.get_name()), a.get_addr()))
    return out


def gm_unfold(s):
    # GMime keeps a folding line end inside a display name; a reader shows one line.
    return shown(re.sub(r"\r?\n(?=[ \t])", "", s)) if isinstance(s, str) else s


def gmime_view(raw):
    try:
        msg = parsed(raw, "gmime")
    except Exception as e:
        return {"parse": "PARSE-ERROR %s: %s" % (type(e).__name__, e)}
    if msg is None:
        return {"parse": "PARSE-ERROR no message"}
    v = {}
    for label, getter in (("From", msg.get_from), ("To", msg.get_to), ("Cc", msg.get_cc),
                          ("Reply-To", msg.get_reply_to)):
        v["header:" + label] = guard(lambda: (lambda l: gm_unfold(l.to_string(None, False)) if l is not None else None)(getter()))
    v["from-addresses"] = guard(lambda: gm_addresses(msg.get_from()))
    v["header:Subject"] = guard(lambda: gm_unfold(msg.get_subject()))

    def date():
        d = msg.get_date()
        return d.format_iso8601() if d is not None else "unparsed: %r" % (msg.get_header("Date"),)
    v["header:Date"] = guard(date)

    def walk(obj, path):
        key = "node:" + (path or "top")
        if obj is None:
            v[key] = None
            return
        extra = []
        if obj.get_disposition():
            extra.append("disp=" + obj.get_disposition())
        if isinstance(obj, GMime.Multipart):
            v[key] = " | ".join([gm_content_type(obj)] + extra)
            for i in range(obj.get_count()):
                walk(obj.get_part(i), (path + "." if path else "") + str(i + 1))
            return
        if isinstance(obj, GMime.Part):
            extra.append("filename=%s" % obj.get_filename())
            extra.append("decoded " + guard(lambda: sha(gm_decoded(obj))))
        v[key] = " | ".join([gm_content_type(obj)] + extra)

    guard(lambda: walk(msg.get_mime_part(), ""))
    v["nodes"] = sorted(k for k in v if k.startswith("node:"))
    return v


def views_of_subject(raw, reader):
    v = dict(READERS)[reader](raw)
    h = v.get("header:Subject")
    if isinstance(h, list):
        return h[0] if len(h) == 1 else h
    return h


READERS = (("python-default", lambda raw: python_view(raw, True)),
           ("python-compat32", lambda raw: python_view(raw, False)),
           ("gmime", gmime_view))


def views(raw):
    return {name: guard(lambda: fn(raw)) for name, fn in READERS}


def view_diff(a, b):
    """[(reader, field, before, after)] of every shown field that differs."""
    out = []
    for reader, _ in READERS:
        va, vb = a.get(reader), b.get(reader)
        if not isinstance(va, dict) or not isinstance(vb, dict):
            if va != vb:
                out.append((reader, "view", va, vb))
            continue
        for k in sorted(set(va) | set(vb)):
            if va.get(k) != vb.get(k):
                out.append((reader, k, va.get(k, "(absent)"), vb.get(k, "(absent)")))
    return out


# --------------------------------------------------------------------------------
# mtas
# --------------------------------------------------------------------------------

def run(cmd, stdin=None):
    try:
        p = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=SUBPROCESS_TIMEOUT)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return "timeout", b"", b"timed out after %d s" % SUBPROCESS_TIMEOUT


def verify(mtas, cert, path):
    rc, out, err = run([mtas, "verify", "--json", "--key-file", "%s=%s" % (SIGNER, cert), "--no-network", path])
    if rc == "timeout":
        return "verifier-timeout", [], rc
    if rc < 0 or rc > 64:
        return "verifier-crash(%s)" % rc, [], rc
    try:
        j = json.loads(out.decode("utf-8", "replace"))
        return j.get("result", "?"), [s.get("result", "?") + ("/recovered" if s.get("recovered") else "")
                                      for s in j.get("signatures", [])], rc
    except Exception:
        return "bad-json(exit %s)" % rc, [], rc


# --------------------------------------------------------------------------------
# mtas's view against the readers' (`mtas inspect --view`)
# --------------------------------------------------------------------------------

# The header fields the verifier compares by default (the default signed list).
COMPARED_FIELDS = ("From", "Sender", "Reply-To", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To",
                   "References", "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Content-Disposition")
VIEW_CLASSES = ("from", "parts", "counts")
MESSAGE_LEAF = "(message)"   # a message/* leaf: its type is compared, not its content


def normalized_sha(data):
    """SHA-256 of content as mtas hashes a text or identity-encoded part: every CRLF,
    bare LF and bare CR a CRLF, trailing empty lines dropped, a last line without a line
    end given one; an empty result is one CRLF (RFC 6376 "simple", checked with mtas)."""
    data = re.sub(rb"\r\n|\r|\n", b"\r\n", data or b"")
    return hashlib.sha256(data.rstrip(b"\r\n") + b"\r\n").hexdigest()


def content_sha(data, normalize):
    return normalized_sha(data) if normalize else hashlib.sha256(data or b"").hexdigest()


def mtas_inspect(mtas, path):
    """(view dict, None) or (None, error text)."""
    rc, out, err = run([mtas, "inspect", "--view", path])
    if rc == "timeout":
        return None, "inspect-timeout"
    if rc != 0:
        return None, ("inspect-crash(%s)" if rc < 0 or rc > 64 else "inspect-error(exit %s)") % rc + \
            (": " + err.decode("utf-8", "replace").strip()[:200] if err else "")
    try:
        return json.loads(out.decode("utf-8", "replace")), None
    except Exception as e:
        return None, "inspect-bad-json: %s" % e


def mtas_side(mv):
    """The comparable parts of mtas's view: (from domains or None when mtas refuses
    From, leaves, counts)."""
    frm = None if mv.get("from_error") else sorted(set(d.lower() for d in mv.get("from_domains", [])))
    leaves = []
    for p in mv.get("parts", []):
        if p.get("container"):
            continue
        ct = p.get("content_type", "").split(";")[0].strip().lower()
        leaves.append((ct, MESSAGE_LEAF if ct.startswith("message/") else p.get("sha256", "").lower()))
    counts = {}
    for name in COMPARED_FIELDS:
        counts[name] = sum(1 for f in mv.get("fields", []) if f.get("name", "").lower() == name.lower())
    return frm, leaves, counts


def py_cte(part):
    return str(part.get("content-transfer-encoding", "")).strip().lower()


def py_side(raw, reader):
    msg = parsed(raw, reader)
    default = reader == "python-default"

    def from_domains():
        out = set()
        if default:
            for h in msg.get_all("From", []):
                for a in h.addresses:
                    out.add(a.domain.lower() if a.addr_spec else "")
        else:
            hs = [re.sub(r"\r?\n(?=[ \t])", "", str(h)) for h in msg.get_all("From", [])]
            for _, addr in email.utils.getaddresses(hs):
                if addr:
                    out.add(addr.rpartition("@")[2].lower() if "@" in addr else "(no domain: %s)" % addr)
        return sorted(out)

    def leaves():
        out = []

        def rec(part):
            ct = part.get_content_type().lower()
            if part.is_multipart() and part.get_content_maintype() == "multipart":
                for k in part.get_payload():
                    rec(k)
                return
            if ct.startswith("message/") or part.is_multipart():
                out.append((ct, MESSAGE_LEAF))
                return
            cte = py_cte(part)
            decoded = cte in ("base64", "quoted-printable", "x-uuencode", "uuencode", "uue", "x-uue", "binary")
            out.append((ct, content_sha(part.get_payload(decode=True), ct.startswith("text/") or not decoded)))
        rec(msg)
        return out

    counts = guard(lambda: {name: len(msg.get_all(name, [])) for name in COMPARED_FIELDS})
    return guard(from_domains), guard(leaves), counts


def gm_side(raw):
    msg = parsed(raw, "gmime")
    if msg is None:
        raise ValueError("GMime built no message")

    def from_domains():
        out = set()

        def rec(lst):
            for i in range(lst.length() if lst is not None else 0):
                a = lst.get_address(i)
                if isinstance(a, GMime.InternetAddressGroup):
                    rec(a.get_members())
                else:
                    addr = a.get_addr() or ""
                    out.add(addr.rpartition("@")[2].lower() if "@" in addr else "(no domain: %s)" % addr)
        rec(msg.get_from())
        return sorted(out)

    def leaves():
        out = []
        identity_encodings = tuple(getattr(GMime.ContentEncoding, n) for n in ("DEFAULT", "7BIT", "8BIT"))

        def rec(obj):
            if obj is None:
                return
            ctobj = obj.get_content_type()
            ct = ctobj.get_mime_type().lower() if ctobj is not None else "(none)"
            if isinstance(obj, GMime.Multipart):
                for i in range(obj.get_count()):
                    rec(obj.get_part(i))
                return
            if not isinstance(obj, GMime.Part):
                out.append((ct, MESSAGE_LEAF))
                return
            enc = obj.get_content_encoding()
            out.append((ct, content_sha(gm_decoded(obj), ct.startswith("text/") or enc in identity_encodings)))
        rec(msg.get_mime_part())
        return out

    def counts():
        # GMime keeps the Content-* fields of the top level with its MIME part.
        names = []
        for hl in (msg.get_header_list(), msg.get_mime_part().get_header_list() if msg.get_mime_part() else None):
            if hl is not None:
                names += [hl.get_header_at(i).get_name().lower() for i in range(hl.get_count())]
        c = collections.Counter(names)
        return {name: c[name.lower()] for name in COMPARED_FIELDS}
    return guard(from_domains), guard(leaves), guard(counts)


def reader_sides(raw):
    out = {}
    for reader, _ in READERS:
        try:
            out[reader] = gm_side(raw) if reader == "gmime" else py_side(raw, reader)
        except Exception as e:
            err = "PARSE-ERROR %s: %s" % (type(e).__name__, str(e)[:120])
            out[reader] = (err, err, err)
    return out


def leaves_text(leaves):
    if not isinstance(leaves, list):
        return repr(leaves)
    return "[" + ", ".join("%s %s" % (ct, h if h == MESSAGE_LEAF else h[:12]) for ct, h in leaves) + "]"


def mtas_view_diff(mv, raw):
    """[(class, reader, mtas shows, reader shows)] where mtas's view and a reader's differ.
    From is not compared when mtas refuses it (from_error)."""
    frm, leaves, counts = mtas_side(mv)
    out = []
    for reader, (rfrm, rleaves, rcounts) in reader_sides(raw).items():
        if frm is not None and frm != rfrm:
            out.append(("from", reader, frm, rfrm))
        if leaves != rleaves:
            out.append(("parts", reader, leaves_text(leaves), leaves_text(rleaves)))
        if not isinstance(rcounts, dict):
            out.append(("counts", reader, counts, rcounts))
        else:
            diff = {n: (counts[n], rcounts[n]) for n in COMPARED_FIELDS if counts[n] != rcounts[n]}
            if diff:
                out.append(("counts", reader, {n: a for n, (a, b) in diff.items()},
                            {n: b for n, (a, b) in diff.items()}))
    return out


class ViewStats:
    """Counts of the comparison of mtas's view with the readers'."""

    def __init__(self):
        self.compared = 0
        self.skipped = collections.Counter()        # why mtas's view was not compared
        self.from_refused = 0                       # mtas from_error: From not compared
        self.structure_errors = 0
        self.inspect_errors = collections.Counter()
        self.by_class = collections.Counter()       # from/parts/counts -> messages
        self.by_reader = collections.Counter()      # (class, reader) -> messages
        self.nonpass = collections.OrderedDict()    # mutation class -> Counter of view classes
        self.on_pass = 0
        self.on_pass_by_class = collections.Counter()

    def summary(self):
        d = sum(self.by_class.values())
        lines = ["view_diff: %d messages compared, %d disagreements (%s), %d on pass (view failures)" % (
            self.compared, d, ", ".join("%s: %d" % (c, self.by_class[c]) for c in VIEW_CLASSES), self.on_pass)]
        if d:
            lines.append("view_diff: by reader: " + "; ".join(
                "%s %s=%d" % (c, r, self.by_reader[(c, r)]) for c in VIEW_CLASSES for r, _ in READERS
                if self.by_reader[(c, r)]))
        if self.nonpass:
            lines.append("view_diff: not pass, by mutation class: " + "; ".join(
                "%s %s" % (k, ",".join("%s=%d" % (c, v[c]) for c in VIEW_CLASSES if v[c]))
                for k, v in sorted(self.nonpass.items())))
        if self.on_pass:
            lines.append("view_diff: view failures by mutation class: " + ", ".join(
                "%s=%d" % kv for kv in sorted(self.on_pass_by_class.items())))
        notes = ["%d skipped (%s)" % (sum(self.skipped.values()), ", ".join(
            "%s=%d" % kv for kv in sorted(self.skipped.items())) or "none"),
            "%d with From refused by mtas (from_error; From not compared)" % self.from_refused,
            "%d with structure_error" % self.structure_errors]
        if self.inspect_errors:
            notes.append("inspect errors: " + "; ".join("%d× %s" % (v, k) for k, v in self.inspect_errors.most_common(5)))
        lines.append("view_diff: " + ", ".join(notes))
        return lines


# --------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------

def short(x, n=160):
    s = repr(x)
    return s if len(s) <= n else s[:n] + "..."


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mtas")
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep-failures", metavar="DIR")
    ap.add_argument("--case", type=int, help="run only this case number (reproduce one case)")
    ap.add_argument("--only", metavar="PREFIX", help="count only cases whose class starts with PREFIX")
    ap.add_argument("--show", type=int, default=25, help="print at most N failures in full (default 25)")
    ap.add_argument("--show-view-disagreements", action="store_true",
                    help="also print where mtas's view and a reader's differ on a message that does not pass")
    args = ap.parse_args()

    GMime.init()
    mtas = os.path.abspath(args.mtas)
    work = tempfile.mkdtemp(prefix="verdict_diff.")
    started = time.time()
    try:
        rc, out, err = run([mtas, "keygen", "--algorithm", "ed25519", "--signer", SIGNER,
                            "--selector", "s1", "--out", os.path.join(work, "keys")])
        key, cert = os.path.join(work, "keys", "s1.key.pem"), os.path.join(work, "keys", "s1.crt.pem")
        if rc != 0 or not os.path.exists(key) or not os.path.exists(cert):
            sys.exit("verdict_diff: mtas keygen failed (exit %s): %s" % (rc, err.decode("utf-8", "replace").strip()))
        if args.keep_failures:
            os.makedirs(args.keep_failures, exist_ok=True)

        table = collections.OrderedDict()           # class -> Counter of results
        failures_by_class = collections.Counter()
        view_changed = collections.Counter()
        recovered = collections.Counter()
        refusals = collections.Counter()
        n = passes = failures = refused = controls_bad = crashes = 0
        shown = 0
        vstats = ViewStats()
        cases = [args.case] if args.case is not None else range(args.count)
        for i in cases:
            rng = random.Random("verdict_diff:%d:%d" % (args.seed, i))
            eol, raw, multipart = Gen(rng).message()
            carrier = rng.choice((None, "auto", "header", "body"))
            src, signed_path, mut_path = (os.path.join(work, x) for x in ("in.eml", "signed.eml", "mutated.eml"))
            with open(src, "wb") as f:
                f.write(raw)
            cmd = [mtas, "sign", "--key", key, "--signer", SIGNER]
            if carrier:
                cmd += ["--carrier", carrier]
            rc, out, err = run(cmd + [src, signed_path])
            # The mutation draws from its own generator, so that refusals do not shift it.
            mrng = random.Random("verdict_diff:mutation:%d:%d" % (args.seed, i))
            if rc != 0:
                if rc == "timeout" or rc < 0:
                    crashes += 1
                    print("CRASH: case %d: mtas sign %s" % (i, rc))
                refused += 1
                n += 1
                refusals[(err.decode("utf-8", "replace").strip().splitlines() or ["?"])[0][:100]] += 1
                continue
            with open(signed_path, "rb") as f:
                signed = f.read()
            try:
                cls, mutated, details = mutate(signed, mrng)
            except Exception as e:
                print("verdict_diff: case %d: the mutation failed: %s: %s" % (i, type(e).__name__, e))
                cls, mutated, details = "mutation-error", signed, []
            if args.only and not cls.startswith(args.only):
                continue
            n += 1
            with open(mut_path, "wb") as f:
                f.write(mutated)
            result, sigs, vrc = verify(mtas, cert, mut_path)
            if result.startswith("verifier-"):
                crashes += 1
                print("CRASH: case %d (%s): %s" % (i, cls, result))
            table.setdefault(cls, collections.Counter())[result] += 1
            if result == "pass":
                passes += 1
            diffs = view_diff(views(signed), views(mutated)) if mutated != signed else []
            # A recovered hop: the message `--restore` rebuilds must pass and show what
            # the signed message showed, in every reader.
            restore_bad = None
            if any(x.endswith("/recovered") for x in sigs):
                recovered[cls] += 1
                rest_path = os.path.join(work, "restored.eml")
                if os.path.exists(rest_path):
                    os.remove(rest_path)
                rrc, _, rerr = run([mtas, "verify", "--no-network", "--key-file", "%s=%s" % (SIGNER, cert),
                                    "--restore", "1", rest_path, mut_path])
                if not os.path.exists(rest_path):
                    restore_bad = "--restore wrote nothing (exit %s): %s" % (rrc, rerr.decode("utf-8", "replace")[:200])
                else:
                    rresult, rsigs, _ = verify(mtas, cert, rest_path)
                    with open(rest_path, "rb") as f:
                        restored = f.read()
                    rdiffs = view_diff(views(signed), views(restored))
                    # Whether a body's last line had a line end is not signed (every
                    # canonicalization adds one): the rebuilt body always has one.
                    if rdiffs and not signed.endswith(b"\n"):
                        rdiffs = view_diff(views(signed + eol.encode()), views(restored))
                    if rresult != "pass" or rdiffs:
                        restore_bad = "the restored message gives %s %s; views differ: %s" % (
                            rresult, rsigs, "; ".join("%s %s" % (r, k) for r, k, _, _ in rdiffs[:4]))
            if diffs:
                view_changed[cls] += 1
            bad = None
            if cls == "control" and result != "pass":
                controls_bad += 1
                bad = "CONTROL-NOT-PASS"
            elif result == "pass" and diffs:
                failures += 1
                failures_by_class[cls] += 1
                bad = "VERDICT FAILURE"
            elif restore_bad:
                failures += 1
                failures_by_class[cls] += 1
                bad = "RESTORE FAILURE"
                details = details + [restore_bad]
            if bad:
                if shown < args.show:
                    shown += 1
                    print("%s: case %d (seed %d), class %s, carrier %s, %s line ends, %s; verdict %s %s" % (
                        bad, i, args.seed, cls, carrier or "default", "CRLF" if eol == "\r\n" else "LF",
                        "multipart" if multipart else "single part", result, sigs))
                    for d in details:
                        print("    mutation: %s" % d)
                    readers = collections.OrderedDict()
                    for reader, k, a, b in diffs:
                        readers.setdefault(reader, []).append((k, a, b))
                    for reader, items in readers.items():
                        for k, a, b in items[:4]:
                            print("    %-15s %s: %s -> %s" % (reader, k, short(a, 110), short(b, 110)))
                        if len(items) > 4:
                            print("    %-15s ... %d more fields" % (reader, len(items) - 4))
                if args.keep_failures:
                    stem = os.path.join(args.keep_failures, "seed%d-case%04d-%s" % (
                        args.seed, i, re.sub(r"[^A-Za-z0-9_.+-]", "_", cls)))
                    shutil.copyfile(signed_path, stem + ".signed.eml")
                    shutil.copyfile(mut_path, stem + ".mutated.eml")
                    with open(stem + ".txt", "w") as f:
                        f.write("%s\nclass %s\ncarrier %s\nverdict %s %s\n" % (bad, cls, carrier, result, sigs))
                        for d in details:
                            f.write("mutation: %s\n" % d)
                        for reader, k, a, b in diffs:
                            f.write("%s %s:\n  signed:  %r\n  mutated: %r\n" % (reader, k, a, b))

            # mtas's view of the mutated message (and of the signed one) against each reader's.
            for label, msg_raw, msg_path in [("mutated", mutated, mut_path)] + (
                    [("signed", signed, signed_path)] if mutated != signed else []):
                mv, err = mtas_inspect(mtas, msg_path)
                if err:
                    vstats.inspect_errors[err.split(":")[0]] += 1
                    if err.startswith(("inspect-crash", "inspect-timeout")):
                        crashes += 1
                        print("CRASH: case %d (%s): %s of the %s message" % (i, cls, err, label))
                    continue
                reason = [k for k in ("header_ambiguity", "body_ambiguity", "limit_hit") if mv.get(k)]
                if reason:
                    vstats.skipped[reason[0]] += 1   # these force a non-pass already
                    continue
                vstats.compared += 1
                vstats.from_refused += bool(mv.get("from_error"))
                vstats.structure_errors += bool(mv.get("structure_error"))
                vdiffs = mtas_view_diff(mv, msg_raw)
                if not vdiffs:
                    continue
                if label == "mutated":
                    verdict, vsigs = result, sigs
                else:   # the signed message is verified only when its view differs
                    verdict, vsigs, _ = verify(mtas, cert, signed_path)
                vclasses = sorted({c for c, _, _, _ in vdiffs}, key=VIEW_CLASSES.index)
                for c in vclasses:
                    vstats.by_class[c] += 1
                for c, reader in {(c, r) for c, r, _, _ in vdiffs}:
                    vstats.by_reader[(c, reader)] += 1
                vcls = cls if label == "mutated" else "signed"
                if verdict != "pass":
                    counter = vstats.nonpass.setdefault(vcls, collections.Counter())
                    for c in vclasses:
                        counter[c] += 1
                    if args.show_view_disagreements:
                        print("view disagreement (verdict %s): case %d, %s message, class %s: %s" % (
                            verdict, i, label, cls, "; ".join(details)))
                        for c, reader, a, b in vdiffs:
                            print("    %-6s %-15s mtas %s | reader %s" % (c, reader, short(a, 150), short(b, 150)))
                    continue
                vstats.on_pass += 1
                vstats.on_pass_by_class[vcls] += 1
                if shown < args.show:
                    shown += 1
                    print("VIEW FAILURE: case %d (seed %d), %s message, class %s, carrier %s, %s line ends, %s; "
                          "verdict %s %s; mtas and a reader differ on %s" % (
                              i, args.seed, label, cls, carrier or "default", "CRLF" if eol == "\r\n" else "LF",
                              "multipart" if multipart else "single part", verdict, vsigs, "/".join(vclasses)))
                    for d in details:
                        print("    mutation: %s" % d)
                    for c, reader, a, b in vdiffs:
                        print("    %-6s %-15s mtas %s | reader %s" % (c, reader, short(a, 150), short(b, 150)))
                if args.keep_failures:
                    stem = os.path.join(args.keep_failures, "seed%d-case%04d-%s-viewfail-%s" % (
                        args.seed, i, re.sub(r"[^A-Za-z0-9_.+-]", "_", cls), label))
                    shutil.copyfile(signed_path, stem + ".signed.eml")
                    if label == "mutated":
                        shutil.copyfile(mut_path, stem + ".mutated.eml")
                    with open(stem + ".txt", "w") as f:
                        f.write("VIEW FAILURE (%s message)\nclass %s\ncarrier %s\nverdict %s %s\n" % (
                            label, cls, carrier, verdict, vsigs))
                        for d in details:
                            f.write("mutation: %s\n" % d)
                        for c, reader, a, b in vdiffs:
                            f.write("%s %s:\n  mtas:   %r\n  reader: %r\n" % (c, reader, a, b))
                        f.write("mtas inspect --view:\n%s\n" % json.dumps(mv, indent=1))
            _PARSED.clear()

        if shown < failures + controls_bad + vstats.on_pass:
            print("(%d more failures not printed; --show N prints more)" % (
                failures + controls_bad + vstats.on_pass - shown))
        results = ["pass", "partial", "fail", "permerror", "none"]
        extra = sorted({r for c in table.values() for r in c} - set(results))
        print()
        print("%-30s %5s %5s %7s %5s %9s %5s %6s %6s %6s %8s" % ("class", "cases", "pass", "partial", "fail",
                                                                  "permerror", "none", "other", "recov", "viewΔ",
                                                                  "FAILURES"))
        for cls in sorted(table):
            c = table[cls]
            other = sum(v for k, v in c.items() if k not in results)
            print("%-30s %5d %5d %7d %5d %9d %5d %6d %6d %6d %8d" % (cls, sum(c.values()), c["pass"], c["partial"],
                                                                   c["fail"], c["permerror"], c["none"], other,
                                                                   recovered[cls], view_changed[cls],
                                                                   failures_by_class[cls]))
        if extra:
            print("other results: %s" % ", ".join(extra))
        if refusals:
            print("refusals by mtas sign: " + "; ".join("%d× %s" % (v, k) for k, v in refusals.most_common(5)))
        by_class = ", ".join("%s=%d" % (k, v) for k, v in sorted(failures_by_class.items())) or "none"
        print("verdict_diff: %d cases, %d pass, %d recovered, %d verdict or restore failures (by class: %s), "
              "%d refused, %d control-not-pass"
              % (n, passes, sum(recovered.values()), failures, by_class, refused, controls_bad))
        for line in vstats.summary():
            print(line)
        if crashes:
            print("verdict_diff: %d crashes or timeouts of mtas" % crashes)
        print("verdict_diff: seed %d, %.1f s" % (args.seed, time.time() - started))
        return 1 if failures or controls_bad or crashes or vstats.on_pass else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
