#!/usr/bin/env python3
"""Writes the large bad-input cases (too big to commit) into OUT_DIR, the same bytes
on every run. Signed ones are byte edits of the committed signed cases.

  make_large.py CASES_DIR OUT_DIR"""
import os
import sys

sys.dont_write_bytecode = True  # leave no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cms  # noqa: E402
from make_cases import HEADER, base_mixed, lines, sub  # noqa: E402

MB = 1 << 20


def unsigned(content_type, body):
    return lines(*HEADER, f"Content-Type: {content_type}", "") + body


def nested(depth):
    """`depth` multiparts, each the only child of the one above, a text leaf at the bottom."""
    opening = b"".join(b'--n%d\r\nContent-Type: multipart/mixed; boundary="n%d"\r\n\r\n' % (i, i + 1)
                       for i in range(depth - 1))
    leaf = b"--n%d\r\nContent-Type: text/plain\r\n\r\ndeep down\r\n" % (depth - 1)
    closing = b"".join(b"--n%d--\r\n" % i for i in reversed(range(depth)))
    return opening + leaf + closing


def many_parts(n):
    return b"".join(b"--p\r\nContent-Type: text/plain\r\n\r\npart %d\r\n" % i for i in range(n)) + b"--p--\r\n"


def chunk_edges():
    """16 parts whose delimiter lines the 64 KiB read chunks cut at offsets -1..6 (-1 splits
    the CRLF before the delimiter), each after QP lines around the 1000-byte line window."""
    out = bytearray(lines(*HEADER, 'Content-Type: multipart/mixed; boundary="c"', ""))
    for k in range(16):
        out += b"--c\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        for n in range(995, 1005):
            out += b"q" * n + b"=\r\n"
        target = (len(out) // 65536 + 1) * 65536 - 2 - (k % 8 - 1)  # where "\r\n--c" starts
        while len(out) + 160 < target:
            out += b"p" * 76 + b"=\r\n"
        out += b"x" * (target - len(out)) + b"\r\n"
    return bytes(out) + b"--c--\r\n"


def inflate_cms(msg):
    """The message with its CMS grown to over 1 MiB by an unsigned attribute."""
    sd = cms.SignedData(cms.get_cms(msg))
    sd.si.children.append(cms.Node(0xA1, children=[cms.attribute("1.2.3.4", cms.octets(b"\x42" * MB))]))
    return cms.set_cms(msg, sd.encode())


def into_signed(msg, extra):
    """`extra` inserted as new parts of a signed message, above its closing delimiter."""
    return sub(msg, b"--=_bad_outer_01--\r\n", extra + b"--=_bad_outer_01--\r\n")


def cases(body, hdr):
    junk = b"X-Junk: " + b"j" * MB + b"\r\n"
    folded = b"X-Junk: start" + b"".join(b"\r\n " + b"f" * 76 for _ in range(MB // 78)) + b"\r\n"
    return {
        "large-header-1mb": junk + base_mixed(),
        "large-header-1mb-folded": folded + base_mixed(),
        "large-header-1mb-signed": sub(body, b"From:", junk + b"From:"),
        "large-subject-1mb-signed": sub(body, b"Subject: Quarterly figures", b"Subject: " + b"s" * MB),
        "large-tracking-1mb": sub(body, b"canon=relaxed\r\n", b"canon=relaxed; x=" + b"t" * MB + b"\r\n"),
        "large-tracking-10000": b"".join(b"X-PostalTracking: MTAS/1.0 msgid=L%08d\r\n" % i for i in range(10000)) + body,
        "large-header-section-5mb-signed": b"Received: from a.example by b.example\r\n" * (5 * MB // 40) + body,
        "large-body-line-1mb": unsigned("text/plain", b"x" * MB),
        "large-nesting-100": unsigned('multipart/mixed; boundary="n0"', nested(100)),
        "large-nesting-100-signed": into_signed(hdr, b'--=_bad_outer_01\r\nContent-Type: multipart/mixed; boundary="n0"'
                                                b"\r\n\r\n" + nested(100)),
        "large-parts-10000": unsigned('multipart/mixed; boundary="p"', many_parts(10000)),
        "large-parts-10000-signed": into_signed(hdr, b'--=_bad_outer_01\r\nContent-Type: multipart/mixed; boundary="p"'
                                                b"\r\n\r\n" + many_parts(10000)),
        "large-chunk-edges": chunk_edges(),
        "large-tiny-fields-9mb": b"a:\r\n" * (9 * MB // 4) + base_mixed(),
        "large-sigfields-unreadable": sub(body, b"From:", b"MTAS-Signature: x\r\n" * 20000 + b"From:"),
        "large-cms-1mb-body": inflate_cms(body),
        "large-cms-1mb-header": inflate_cms(hdr),
        "large-entities-1000": body + b"".join(
            b'Content-Type: multipart/x-postal-data; msgid="E%04d"; boundary="e"\r\n\r\n--e\r\n'
            b"Content-Type: application/x-mtas-signature\r\n\r\nAAAA\r\n--e--\r\n" % i for i in range(1000)),
    }


def main():
    src, out = sys.argv[1:3]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(src, "signed-body-ok.eml"), "rb") as f:
        body = f.read()
    with open(os.path.join(src, "signed-header-ok.eml"), "rb") as f:
        hdr = f.read()
    for name, data in cases(body, hdr).items():
        with open(os.path.join(out, name + ".eml"), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
