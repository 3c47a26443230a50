#!/usr/bin/env python3
"""Print what a reader built on Python's email package shows of a message.

Usage: python_view.py MESSAGE

The view is canonical text, so that two messages a reader shows alike print the
same bytes: the header fields a reader displays, the body it picks (plain text
preferred, and HTML preferred, as the two kinds of reader do), the attachment
list as iter_attachments() gives it (file name, content type, SHA-256 of the
decoded payload) and the parser's defects for every part. The multipart epilogue
is not printed: no reader shows it, and that is where the body carrier lives.
"""
import email
import email.policy
import hashlib
import sys

SHOWN_HEADERS = ("From", "To", "Cc", "Subject", "Date")


def digest(data):
    return hashlib.sha256(data or b"").hexdigest()


def body_view(msg, preference):
    part = msg.get_body(preferencelist=preference)
    if part is None:
        return ["  (none)"]
    lines = ["  type: " + part.get_content_type()]
    try:
        content = part.get_content()
    except Exception as e:  # a reader would fail to show it: that is part of the view
        return lines + ["  error: %s: %s" % (type(e).__name__, e)]
    if isinstance(content, bytes):
        return lines + ["  bytes sha256: " + digest(content)]
    # splitlines() alone would hide whether the text ends with a line end.
    end = "ends with a line end" if content.endswith(("\n", "\r")) else "no line end at the end"
    return lines + ["  | " + line for line in content.splitlines()] + ["  (%s)" % end]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: python_view.py MESSAGE")
    with open(sys.argv[1], "rb") as f:
        msg = email.message_from_bytes(f.read(), policy=email.policy.default)

    out = ["[headers]"]
    for name in SHOWN_HEADERS:
        for value in msg.get_all(name, []):
            out.append("  %s: %s" % (name, value))
    out.append("[body, plain preferred]")
    out += body_view(msg, ("plain", "html"))
    out.append("[body, html preferred]")
    out += body_view(msg, ("html", "plain"))
    out.append("[attachments]")
    for att in msg.iter_attachments():
        payload = att.get_payload(decode=True)
        out.append("  %s | %s | %s | sha256 %s" % (
            att.get_filename(), att.get_content_type(),
            att.get_content_disposition(), digest(payload)))
    out.append("[defects]")
    for i, part in enumerate(msg.walk()):
        for d in part.defects:
            out.append("  part %d (%s): %s" % (i, part.get_content_type(), type(d).__name__))
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
