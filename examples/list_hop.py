#!/usr/bin/env python3
"""What a mailing list does to a message: tag the Subject, add a footer part.

usage: list_hop.py IN.eml FOOTER.txt OUT.eml (standard library only)
"""
import re
import sys

src, footer_path, dst = sys.argv[1:4]
data = open(src, "rb").read()
eol = b"\r\n" if b"\r\n" in data[:2000] else b"\n"
head, sep, body = data.partition(eol + eol)
head = re.sub(rb"(?m)^Subject: ", b"Subject: [example-list] ", head, count=1)
ctype = re.search(rb"(?ims)^Content-Type:\s*multipart/[^;]+;(.*?)(?=^\S)", head + eol + b"X:")
if not ctype:
    sys.exit("list_hop: the demo list only handles multipart messages")
boundary = re.search(rb'boundary="?([^";\r\n]+)"?', ctype.group(1)).group(1)
closing = eol + b"--" + boundary + b"--"
footer = open(footer_path, "rb").read().replace(b"\r\n", b"\n").replace(b"\n", eol)
part = (eol + b"--" + boundary + eol + b"Content-Type: text/plain; charset=us-ascii" + eol +
        b"Content-Disposition: inline" + eol + eol + footer.rstrip(eol))
at = body.find(closing)
if at < 0:
    sys.exit("list_hop: no closing delimiter")
body = body[:at] + part + body[at:]
open(dst, "wb").write(head + sep + body)
