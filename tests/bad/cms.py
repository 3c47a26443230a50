"""Just enough DER to take apart, edit and re-sign the CMS SignedData of a
test case (RFC 5652). Python standard library only; re-signing calls
`openssl pkeyutl` (Ed25519 signs the DER of the signedAttrs SET itself)."""
import base64
import os
import re
import subprocess
import tempfile


class Node:
    """One TLV. Constructed nodes have `children`, primitive ones `value`."""

    def __init__(self, tag, value=b"", children=None):
        self.tag, self.value, self.children = tag, value, children
        self.raw = None  # set to write this TLV's bytes verbatim (e.g. not DER)

    def encode(self):
        if self.raw is not None:
            return self.raw
        body = b"".join(c.encode() for c in self.children) if self.children is not None else self.value
        return bytes([self.tag]) + der_length(len(body)) + body


def der_length(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def parse(data):
    """Parses one TLV that must fill `data`."""
    node, end = _parse_at(data, 0)
    if end != len(data):
        raise ValueError("trailing bytes")
    return node


def _parse_at(data, i):
    tag = data[i]
    n = data[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(data[i:i + k], "big")
        i += k
    body = data[i:i + n]
    if tag & 0x20:  # constructed
        children, j = [], 0
        while j < len(body):
            c, j = _parse_at(body, j)
            children.append(c)
        return Node(tag, children=children), i + n
    return Node(tag, value=body), i + n


def oid(dotted):
    """An OBJECT IDENTIFIER node (arcs of any size, e.g. the 128-bit UUID arc)."""
    arcs = [int(a) for a in dotted.split(".")]
    out = _base128(arcs[0] * 40 + arcs[1])
    for a in arcs[2:]:
        out += _base128(a)
    return Node(0x06, value=out)


def _base128(n):
    b = [n & 0x7F]
    n >>= 7
    while n:
        b.insert(0, 0x80 | (n & 0x7F))
        n >>= 7
    return bytes(b)


def oid_text(node):
    arcs, n = [], 0
    for byte in node.value:
        n = (n << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(n)
            n = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first] + arcs[1:])


def utf8(s):
    return Node(0x0C, value=s.encode())


def octets(b):
    return Node(0x04, value=b)


def seq(*children):
    return Node(0x30, children=list(children))


def attribute(dotted, *values):
    return seq(oid(dotted), Node(0x31, children=list(values)))


MTAS = "1.3.6.1.3.4204393046"
MTAS_UUID = "2.25.157787562415162570243483175449580401238"


class SignedData:
    """ContentInfo → SignedData → the one SignerInfo, with named handles."""

    def __init__(self, der):
        self.root = parse(der)
        self.sd = self.root.children[1].children[0]
        self.si = self.sd.children[-1].children[0]

    def field(self, tag):
        return next(c for c in self.si.children if c.tag == tag)

    @property
    def attrs(self):
        return self.field(0xA0).children  # signedAttrs, [0] IMPLICIT SET OF Attribute

    def attr(self, dotted):
        return next(a for a in self.attrs if oid_text(a.children[0]) == dotted)

    def algs(self):
        """(digestAlgorithm, signatureAlgorithm) AlgorithmIdentifiers of the SignerInfo."""
        seqs = [c for c in self.si.children if c.tag == 0x30]
        return seqs[-2], seqs[-1]

    def resign(self, key_pem):
        """Sorts the signedAttrs as DER wants and signs them again with an Ed25519 key."""
        sa = self.field(0xA0)
        sa.children.sort(key=lambda a: a.encode())
        tbs = Node(0x31, children=sa.children).encode()
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "tbs")
            with open(path, "wb") as f:
                f.write(tbs)
            sig = subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", key_pem, "-in", path],
                                 check=True, capture_output=True).stdout
        self.field(0x04).value = sig

    def encode(self):
        return self.root.encode()


# ---- the CMS inside a message, either carrier ----

BODY_B64 = re.compile(rb"(Content-Transfer-Encoding: base64\r?\n(?:X-Certificate-Verification-Service:[^\n]*\n)?\r?\n)"
                      rb"([A-Za-z0-9+/=\r\n]+?)(\r?\n------=_mtas_)")
HEADER_B64 = re.compile(rb"([;\s]b=)([A-Za-z0-9+/=\r\n \t]+?)(\r?\n(?=\S)|\r?\n\r?\n)")


def get_cms(msg, which=0):
    """The DER of the `which`-th signature in the message (body entity or b= tag)."""
    m = _find(msg, which)
    return base64.b64decode(re.sub(rb"\s", b"", m.group(2)))


def set_cms(msg, der, which=0, text=None):
    """The message with the `which`-th signature replaced by `der` (or by raw base64 `text`)."""
    m = _find(msg, which)
    eol = b"\r\n" if b"\r\n" in msg[:200] else b"\n"
    b64 = text if text is not None else base64.b64encode(der)
    if m.re is BODY_B64:
        body = eol.join(b64[i:i + 76] for i in range(0, len(b64), 76))
    else:
        body = (eol + b" ").join(b64[i:i + 72] for i in range(0, len(b64), 72))
    return msg[:m.start(2)] + body + msg[m.end(2):]


def _find(msg, which):
    found = sorted(list(BODY_B64.finditer(msg)) + list(HEADER_B64.finditer(msg)), key=lambda m: m.start())
    return found[which]
