#!/usr/bin/env python3
"""A mailing list at hop B (Postfix pipe transport): reads the message on
stdin, tags the Subject, appends a footer part, and re-injects it over SMTP
with the list's envelope sender, as list managers do.

usage: list_pipe.py PORT RECIPIENT FOOTER_FILE   (standard library only)
"""
import re
import smtplib
import sys

port, rcpt, footer_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
data = sys.stdin.buffer.read().replace(b"\r\n", b"\n")
head, sep, body = data.partition(b"\n\n")
# Postfix's pipe adds nothing without flags; drop a leading "From " line if any.
if head.startswith(b"From "):
    head = head.split(b"\n", 1)[1]
head = re.sub(rb"(?m)^Subject: ", b"Subject: [example-list] ", head, count=1)
unfolded = re.sub(rb"\n[ \t]+", b" ", head)
boundary = re.search(rb'(?im)^Content-Type:\s*multipart/[^;\n]+;.*boundary="?([^";\n]+)"?', unfolded).group(1)
closing = b"\n--" + boundary + b"--"
footer = open(footer_path, "rb").read().replace(b"\r\n", b"\n").rstrip(b"\n")
part = b"\n--" + boundary + b"\nContent-Type: text/plain; charset=us-ascii\n\n" + footer
at = body.find(closing)
body = body[:at] + part + body[at:]
message = (head + sep + body).replace(b"\n", b"\r\n")
with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
    s.sendmail("list-bounces@lists.example.org", [rcpt], message)
