#!/usr/bin/env python3
"""Writes the committed bad-input cases of tests/bad/cases (run by regenerate.sh).

  make_cases.py bases DIR                  the unsigned base messages that regenerate.sh signs
  make_cases.py cases SIGNED_DIR OUT KEY   every case: built from scratch, or byte edits of the
                                           signed messages in SIGNED_DIR (KEY re-signs CMS edits)

Each case is one function below; its name with '_' as '-' is the file name and the
line of expected.tsv. Every edit asserts that it found what it changes, so a change in
what mtas writes stops the regeneration instead of silently producing another case."""
import base64
import copy
import hashlib
import os
import re
import sys

sys.dont_write_bytecode = True  # leave no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cms  # noqa: E402

CRLF = b"\r\n"


def lines(*ls):
    return CRLF.join(x if isinstance(x, bytes) else x.encode() for x in ls) + CRLF


def blob(n, seed):
    """n pseudo-random bytes, the same on every Python: SHA-256 in counter mode."""
    out = b"".join(hashlib.sha256(b"%d:%d" % (seed, i)).digest() for i in range(n // 32 + 1))
    return out[:n]


def b64_lines(data):
    t = base64.b64encode(data)
    return [t[i:i + 76] for i in range(0, len(t), 76)]


HEADER = [
    "Received: from relay.example.org (relay.example.org [192.0.2.7])",
    "\tby mx.bad.example (Postfix) with ESMTPS id 4Q1b0C1nVqz3kR",
    "\tfor <bob@bad.example>; Mon, 16 Mar 2026 09:12:03 +0100 (CET)",
    "Received: from [198.51.100.40] (client.example.org [198.51.100.40])",
    "\tby relay.example.org (Postfix) with ESMTPSA id A19C44E0317;",
    "\tMon, 16 Mar 2026 09:12:01 +0100 (CET)",
    "From: Alice Example <alice@example.org>",
    "To: Bob Example <bob@bad.example>",
    "Subject: Quarterly figures",
    "Date: Mon, 16 Mar 2026 09:11:58 +0100",
    "Message-ID: <20260316081158.4f2a@example.org>",
    "MIME-Version: 1.0",
]
B = "=_bad_outer_01"


def base_mixed():
    """The base of most signed cases: three leaf parts, CRLF, two Received fields."""
    return lines(*HEADER, f'Content-Type: multipart/mixed; boundary="{B}"', "",
                 "This is a multi-part message in MIME format.", "",
                 f"--{B}", "Content-Type: text/plain; charset=us-ascii", "",
                 "Hi Bob,", "", "the figures are attached.", "", "Alice", "",
                 f"--{B}", "Content-Type: text/html; charset=us-ascii", "",
                 "<p>Hi Bob,</p><p>the figures are attached.</p><p>Alice</p>", "",
                 f"--{B}", 'Content-Type: application/octet-stream; name="figures.bin"',
                 "Content-Transfer-Encoding: base64", 'Content-Disposition: attachment; filename="figures.bin"', "",
                 *b64_lines(blob(600, 1)), "",
                 f"--{B}--", "")


def base_plain():
    return lines(*HEADER, "Content-Type: text/plain; charset=us-ascii", "", "Hi Bob,", "",
                 "no attachment this time.", "", "Alice")


# ---- byte edits; each asserts it changed something ----

def sub(msg, old, new, count=1):
    assert old in msg, old
    return msg.replace(old, new, count)


def resub(msg, pattern, repl, count=1):
    out, n = re.subn(pattern, repl, msg, count=count, flags=re.M)
    assert n, pattern
    return out


def split(msg):
    i = msg.index(b"\r\n\r\n") + 2
    return msg[:i], msg[i:]


def field(msg, name):
    """The whole field (continuation lines and CRLF included), first instance."""
    m = re.search(rb"^" + re.escape(name) + rb":.*\r\n(?:[ \t].*\r\n)*", msg, flags=re.M | re.I)
    assert m, name
    return m.group(0)


def drop_field(msg, name):
    return sub(msg, field(msg, name), b"")


def tracking(msg):
    return field(msg, b"X-PostalTracking")


def msgid_of(msg):
    return re.search(rb"msgid=([A-Z0-9]+)", tracking(msg)).group(1)


def entity(msg):
    m = re.search(rb"^Content-Type: multipart/x-postal-data.*?^------=_mtas_[A-Z0-9]+--\r\n", msg, flags=re.M | re.S)
    assert m
    return m.group(0)


def edit_cms(msg, fn, key=None, which=0):
    sd = cms.SignedData(cms.get_cms(msg, which))
    fn(sd)
    if key:
        sd.resign(key)
    return cms.set_cms(msg, sd.encode(), which)


def set_oid(node, dotted):
    node.value = cms.oid(dotted).value


def set_value(attribute, node):
    """Replaces the (single) value of a signed attribute."""
    attribute.children[1].children[0] = node


def mtas_attrs(sd, n):
    return [a for a in sd.attrs if cms.oid_text(a.children[0]) == f"{cms.MTAS}.{n}"]


# Where an OID sits in the SignedData, for patch_oid.
CONTENT_TYPE, MESSAGE_DIGEST, SIGNING_TIME = "1.2.840.113549.1.9.3", "1.2.840.113549.1.9.4", "1.2.840.113549.1.9.5"
DIGEST = lambda sd: sd.algs()[0].children[0]  # noqa: E731 (SignerInfo digestAlgorithm)
SIGALG = lambda sd: sd.algs()[1].children[0]  # noqa: E731 (SignerInfo signatureAlgorithm)


def mtas_oid(n):
    return lambda sd: mtas_attrs(sd, n)[0].children[0]


def attr_oid(dotted):
    return lambda sd: sd.attr(dotted).children[0]


def new_value(n, node):
    return lambda sd: set_value(mtas_attrs(sd, n)[0], node)


def add_attr(dotted, node):
    return lambda sd: sd.attrs.append(cms.attribute(dotted, node))


def patch_oid(msg, where, dotted):
    """The message with the OID at `where` replaced by `dotted`; the signature is not made again."""
    return edit_cms(msg, lambda sd: set_oid(where(sd), dotted))


# ---- the cases ----

class Cases:
    def __init__(self, signed_dir, key):
        self.key = key
        self.s = {}
        for f in os.listdir(signed_dir):
            with open(os.path.join(signed_dir, f), "rb") as fh:
                self.s[f[:-4]] = fh.read()
        self.body, self.hdr = self.s["signed-body"], self.s["signed-header"]

    # -- controls: what the edits start from
    def signed_body_ok(self): return self.body
    def signed_header_ok(self): return self.hdr
    def signed_plain_ok(self): return self.s["signed-plain"]
    def signed_lf_ok(self): return self.s["signed-lf"]
    def signed_two_hops_ok(self): return self.s["signed-two-hops"]
    def signed_future(self): return self.s["signed-future"]
    def signed_other_signer(self): return self.s["signed-other-signer"]
    def signed_wrong_key(self): return self.s["signed-wrong-key"]
    def two_hops_first_broken(self): return self.s["signed-on-broken"]

    # -- truncated and empty
    def trunc_empty(self): return b""
    def trunc_header_midline(self): return base_mixed()[:base_mixed().index(b"Subject: Quar") + 13]
    def trunc_header_no_blank_line(self): return split(base_mixed())[0]
    def trunc_mid_part(self): return base_mixed()[:base_mixed().index(b"Content-Disposition") + 200]
    def trunc_mid_delimiter(self): return base_mixed()[:base_mixed().rindex(B.encode()) + 6]
    def trunc_signed_before_entity(self): return self.body[:self.body.index(b"Content-Type: multipart/x-postal")]
    def trunc_signed_in_entity(self): return self.body[:self.body.index(b"------=_mtas_") + 400]
    def trunc_signed_in_sigfield(self): return self.hdr[:self.hdr.index(b"b=") + 300]

    # -- NUL, bare CR, 8-bit junk
    def nul_in_header(self):
        return sub(sub(base_mixed(), b"Subject: Quarterly", b"Subject: Quar\0terly"), b"To:", b"T\0o:")
    def nul_in_body(self): return sub(base_mixed(), b"the figures are", b"the \0\0\0 figures are")
    def nul_only(self): return b"\0" * 4096
    def bare_cr_only(self): return base_mixed().replace(CRLF, b"\r")
    def bare_cr_mixed(self):
        m = base_mixed()
        m = sub(m, b"Subject: Quarterly figures\r\n", b"Subject: Quarterly\rfigures\r\n")
        m = sub(m, f"--{B}\r\n".encode(), f"--{B}\r\r\n".encode())
        return sub(m, b"Hi Bob,\r\n", b"Hi Bob,\r\r\r")
    def eightbit_header_values(self):
        return sub(sub(base_mixed(), b"Subject: Quarterly", b"Subject: \xff\xfe\x80Quarterly \xc3\x28"),
                   b"Alice Example", b"Al\xe9ce Ex\x81mple")
    def eightbit_header_name(self): return sub(base_mixed(), b"Date:", b"X-\x80\xff\xfe: junk\r\nDate:")
    def header_line_without_colon(self): return sub(base_mixed(), b"Date:", b"this line is not a header field\r\nDate:")
    def header_starts_with_continuation(self): return b"  leading continuation line\r\n" + base_mixed()
    def random_binary(self): return blob(8192, 2)

    # -- boundaries
    def boundary_missing(self): return sub(base_mixed(), f'; boundary="{B}"'.encode(), b"")
    def boundary_empty(self): return sub(base_mixed(), f'boundary="{B}"'.encode(), b'boundary=""')
    def boundary_mismatched(self): return sub(base_mixed(), f'boundary="{B}"'.encode(), b'boundary="=_other_02"')
    def boundary_no_closing(self): return sub(base_mixed(), f"--{B}--\r\n".encode(), b"")
    def boundary_too_long(self):
        return base_mixed().replace(B.encode(), b"=_" + b"x" * 300)
    def boundary_trailing_junk(self): return base_mixed().replace(f"--{B}\r\n".encode(), f"--{B} junk\r\n".encode())
    def boundary_reused_nested(self):
        inner = lines(f"--{B}", f'Content-Type: multipart/alternative; boundary="{B}"', "", f"--{B}",
                      "Content-Type: text/plain", "", "inner", f"--{B}--")
        return sub(base_mixed(), f"--{B}--".encode(), inner + f"--{B}--".encode())
    def content_type_duplicated(self):
        return sub(base_mixed(), b"MIME-Version: 1.0\r\n",
                   b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="=_other_02"\r\n')
    def boundary_padded_delimiter(self):
        """Transport padding makes a delimiter line longer than 998 bytes: no longer a delimiter."""
        return sub(base_mixed(), f"--{B}\r\nContent-Type: text/html".encode(),
                   f"--{B}".encode() + b" " * 1000 + b"\r\nContent-Type: text/html")
    def boundary_prefix_nested(self):
        """The inner boundary starts with the outer one."""
        inner = lines(f"--{B}", f'Content-Type: multipart/alternative; boundary="{B}-inner"', "", f"--{B}-inner",
                      "Content-Type: text/plain", "", "inner", f"--{B}-inner--", "")
        return sub(base_mixed(), f"--{B}--".encode(), inner + f"--{B}--".encode())

    # -- transfer encodings at their edges
    def qp_edges(self):
        parts = [b"ends with a soft break=", b"ends with =4", b"bad escapes =ZZ =\x80 lower =c3=a9",
                 b"trailing white space   =\r\n  \t\r\nbare\rcr", b"="]
        body = b"".join(lines(f"--{B}", "Content-Type: application/octet-stream",
                              "Content-Transfer-Encoding: quoted-printable", "") + p + b"\r\n" for p in parts)
        return lines(*HEADER, f'Content-Type: multipart/mixed; boundary="{B}"', "") + body + f"--{B}--\r\n".encode()
    def base64_edges(self):
        parts = [b"====", b"QUJD", b"QQ", b"@@@ ### ", b"QQ==QUJD", b"Q\0U\xffJD", b""]
        body = b"".join(lines(f"--{B}", "Content-Type: application/octet-stream",
                              "Content-Transfer-Encoding: base64", "") + p + b"\r\n" for p in parts)
        return lines(*HEADER, f'Content-Type: multipart/mixed; boundary="{B}"', "") + body + f"--{B}--\r\n".encode()
    def two_from_unsigned(self): return sub(base_mixed(), b"To:", b"From: Mallory <mallory@example.net>\r\nTo:")

    # -- looks signed, is not
    def looks_signed_smime(self):
        return lines(*HEADER, 'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; '
                     'micalg=sha-256; boundary="sig"', "", "--sig", "Content-Type: text/plain", "", "hello", "--sig",
                     "Content-Type: application/pkcs7-signature; name=smime.p7s",
                     "Content-Transfer-Encoding: base64", "", *b64_lines(blob(300, 3)), "--sig--")
    def looks_signed_forwarded(self):
        return lines(*HEADER[6:], f'Content-Type: multipart/mixed; boundary="fwd"', "", "--fwd",
                     "Content-Type: text/plain", "", "see below", "--fwd", "Content-Type: message/rfc822", "") + \
            self.body + b"\r\n--fwd--\r\n"
    def looks_signed_entity_as_part(self):
        ent = entity(self.body)
        m = sub(base_mixed(), f"--{B}--".encode(), f"--{B}\r\n".encode() + ent + f"\r\n--{B}--".encode())
        return m
    def looks_signed_text_mention(self):
        return sub(base_mixed(), b"the figures are attached.",
                   b"X-PostalTracking: MTAS/1.0 msgid=ABCDEF0123456789\r\nMTAS-Signature: msgid=X; b=MIIB")
    def looks_signed_result_fields(self):
        return (b"MTAS-VerificationInfo: mx.bad.example; msgid=ABCDEF0123456789; signer=bad.example; result=pass\r\n"
                b"Authentication-Results: mx.bad.example; mtas=pass header.s=bad.example\r\n" + base_mixed())

    # -- tracking header and carrier links (spec §2.1: permerror for that msgid)
    def link_entity_without_tracking(self): return drop_field(self.body, b"X-PostalTracking")
    def link_tracking_without_entity(self): return sub(self.body, entity(self.body), b"")
    def link_tracking_without_sigfield(self): return drop_field(self.hdr, b"MTAS-Signature")
    def link_sigfield_without_tracking(self): return drop_field(self.hdr, b"X-PostalTracking")
    def link_tracking_duplicated(self): return tracking(self.body) + self.body
    def link_entity_duplicated(self): return self.body + entity(self.body)
    def link_sigfield_duplicated(self):
        f = field(self.hdr, b"MTAS-Signature")
        return sub(self.hdr, f, f + f)
    def link_both_carriers(self):
        sig = base64.b64encode(cms.get_cms(self.body))
        return sub(self.body, b"\r\n", b"\r\nMTAS-Signature: msgid=" + msgid_of(self.body) + b"; b=" + sig + b"\r\n")
    def link_msgid_mismatch(self): return sub(self.body, msgid_of(self.body), b"ZZZZZZZZZZZZZZZZ")
    def link_two_entities_same_msgid_two_hops(self):
        """Hop 2's entity relabelled with hop 1's msgid: two entities, one msgid."""
        m = self.s["signed-two-hops"]
        ids = re.findall(rb"msgid=([A-Z0-9]+);", m[:400])
        return m.replace(b'msgid="' + ids[0] + b'"', b'msgid="' + ids[1] + b'"')
    def tracking_msgid_invalid(self): return sub(self.body, b"msgid=", b"msgid=<not!a token>", 1)
    def tracking_msgid_missing(self): return resub(self.body, rb"msgid=[A-Z0-9]+; ", b"")
    def tracking_version_unknown(self): return sub(self.body, b"MTAS/1.0 msgid", b"MTAS/2.0 msgid")
    def tracking_garbage(self): return sub(self.body, tracking(self.body), b"X-PostalTracking: \xff\xfe\0 junk ;;; ===\r\n")
    def tracking_empty(self): return sub(self.body, tracking(self.body), b"X-PostalTracking:\r\n")
    def tracking_many_60(self):
        return b"".join(b"X-PostalTracking: MTAS/1.0 msgid=T%014d\r\n" % i for i in range(60)) + base_mixed()

    # -- header carrier garbage
    def sigfield_garbage(self): return sub(self.hdr, field(self.hdr, b"MTAS-Signature"), b"MTAS-Signature: \xff\xfe;;=;\"unclosed\r\n")
    def sigfield_no_b(self): return resub(self.hdr, rb"b=[A-Za-z0-9+/=\r\n ]+?\r\n(?=\S)", b"x=1\r\n")
    def sigfield_version_unknown(self): return sub(self.hdr, b"v=MTAS/1.0", b"v=MTAS/9.9")
    def sigfield_b_garbage(self):
        return edit_text(self.hdr, b"!!!!@@@@" * 40)
    def sigfield_unknown_tags(self): return sub(self.hdr, b"MTAS-Signature: v=MTAS/1.0;", b'MTAS-Signature: x=1; y="a;b"; v=MTAS/1.0; z;')
    def sigfield_unquoted_vs(self): return sub(self.hdr, b"MTAS-Signature: v=MTAS/1.0;", b'MTAS-Signature: v=MTAS/1.0; vs="unclosed;')

    # -- the postal-data entity
    def entity_not_closed(self): return resub(self.body, rb"^------=_mtas_[A-Z0-9]+--\r\n", b"")
    def entity_no_boundary(self): return resub(self.body, rb';\r\n boundary="----=_mtas_[A-Z0-9]+"', b"")
    def entity_no_msgid(self): return resub(self.body, rb'x-postal-data; msgid="[A-Z0-9]+";', b"x-postal-data;")
    def entity_label_unknown(self): return sub(self.body, b"application/x-mtas-signature", b"application/octet-stream")
    def entity_label_seed(self): return sub(self.body, b"application/x-mtas-signature", b"application/x-pkcs7-signature")
    def entity_header_huge(self):
        return sub(self.body, b"Content-Type: multipart/x-postal-data;", b"Content-Type: multipart/x-postal-data;\r\n X-Pad=" + b"p" * 20000 + b";")
    def entity_signature_empty(self): return edit_text(self.body, b"")
    def entity_b64_garbage(self): return edit_text(self.body, b"!!!!@@@@****" * 30)
    def entity_b64_truncated(self):
        t = base64.b64encode(cms.get_cms(self.body))
        return edit_text(self.body, t[:len(t) // 2])
    def entity_b64_random(self): return edit_text(self.body, base64.b64encode(blob(1200, 4)))
    def entity_trailing_der(self): return cms.set_cms(self.body, cms.get_cms(self.body) + b"\x05\x00junk")
    def entity_trailing_text(self): return self.body + b"unsigned text after the entity\r\n"
    def entity_second_part_garbage(self):
        """A second part in the entity after the signature: not read."""
        close = re.search(rb"^(------=_mtas_[A-Z0-9]+)--\r\n", self.body, flags=re.M)
        return sub(self.body, close.group(0), close.group(1) + b"\r\nContent-Type: text/plain\r\n\r\n\xff\x00junk\r\n"
                   + close.group(0))
    def entity_before_closing_delimiter(self):
        """The entity moved above the top-level closing delimiter, i.e. out of the epilogue."""
        ent = entity(self.body)
        m = sub(self.body, ent, b"")
        return sub(m, f"--{B}--\r\n".encode(), ent + f"--{B}--\r\n".encode())

    # -- advisory hints that lie (never trusted, docs/protocol.md 10b)
    def hint_micalg_lie(self): return sub(self.body, b"micalg=sha-512; canon", b"micalg=sha-256; canon")
    def hint_micalg_unknown(self): return sub(self.body, b"micalg=sha-512; canon", b"micalg=sha-999; canon")
    def hint_canon_lie(self): return sub(self.body, b"canon=relaxed", b"canon=simple")
    def hint_carrier_lie(self): return sub(self.body, b"carrier=body", b"carrier=header")
    def hint_all_missing(self): return resub(self.body, rb"; carrier=body; micalg=sha-512; canon=relaxed", b"")
    def hint_entity_micalg_lie(self): return sub(self.body, b"micalg=sha-512; ext=", b"micalg=sha1; ext=")
    def hint_header_micalg_lie(self): return sub(self.hdr, b"micalg=sha-512; canon=relaxed", b"micalg=md5; canon=simple")

    # -- wrong OIDs in the DER (no re-signing: the parse fails first, or the value does not verify)
    def oid_digest_unknown(self): return patch_oid(self.body, DIGEST, "2.16.840.1.101.3.4.2.10")  # SHA3-512
    def oid_digest_sha256(self): return patch_oid(self.body, DIGEST, "2.16.840.1.101.3.4.2.1")
    def oid_digest_sha1(self): return patch_oid(self.body, DIGEST, "1.3.14.3.2.26")
    def oid_digest_md5(self): return patch_oid(self.body, DIGEST, "1.2.840.113549.2.5")
    def oid_sigalg_unknown(self): return patch_oid(self.body, SIGALG, "1.3.101.99")
    def oid_sigalg_ed448(self): return patch_oid(self.body, SIGALG, "1.3.101.113")
    def oid_sigalg_rsa(self): return patch_oid(self.body, SIGALG, "1.2.840.113549.1.1.1")
    def oid_mtas_msgid(self): return patch_oid(self.body, mtas_oid(1), cms.MTAS + ".99")
    def oid_mtas_signer(self): return patch_oid(self.body, mtas_oid(6), cms.MTAS + ".98")
    def oid_mtas_parthashes(self): return patch_oid(self.body, mtas_oid(4), cms.MTAS + ".97")
    def oid_mtas_arc(self):
        """Every MTAS attribute under 1.3.6.1.3.4204393047, one off the arc."""
        def fn(sd):
            for a in sd.attrs:
                t = cms.oid_text(a.children[0])
                if t.startswith(cms.MTAS + "."):
                    set_oid(a.children[0], "1.3.6.1.3.4204393047." + t.rsplit(".", 1)[1])
        return edit_cms(self.body, fn)
    def oid_content_type_attr(self): return patch_oid(self.body, attr_oid(CONTENT_TYPE), "1.2.840.113549.1.9.99")
    def oid_content_type_value(self):
        return patch_oid(self.body, lambda sd: sd.attr(CONTENT_TYPE).children[1].children[0], "1.2.840.113549.1.7.2")
    def oid_message_digest_attr(self): return patch_oid(self.body, attr_oid(MESSAGE_DIGEST), "1.2.840.113549.1.9.98")
    def oid_econtent_type(self): return patch_oid(self.body, lambda sd: sd.sd.children[2].children[0], "1.2.840.113549.1.7.2")
    def oid_content_info(self): return patch_oid(self.body, lambda sd: sd.root.children[0], "1.2.840.113549.1.7.5")
    def oid_header_carrier_digest(self): return patch_oid(self.hdr, DIGEST, "1.2.840.113549.2.5")

    # -- other CMS damage
    def cms_signature_bitflip(self):
        def fn(sd):
            v = bytearray(sd.field(0x04).value)
            v[10] ^= 0x01
            sd.field(0x04).value = bytes(v)
        return edit_cms(self.body, fn)
    def cms_signature_empty(self):
        def fn(sd): sd.field(0x04).value = b""
        return edit_cms(self.body, fn)
    def cms_message_digest_flip(self):
        def fn(sd):
            v = sd.attr(MESSAGE_DIGEST).children[1].children[0]
            v.value = bytes([v.value[0] ^ 0x80]) + v.value[1:]
        return edit_cms(self.body, fn)
    def cms_not_detached(self):
        def fn(sd): sd.sd.children[2].children.append(cms.Node(0xA0, children=[cms.octets(b"attached content")]))
        return edit_cms(self.body, fn)
    def cms_two_signer_infos(self):
        """A second SignerInfo over other signed attributes (another messageDigest): the
        SignerInfos of one signature must sign the same attributes."""
        def fn(sd):
            other = copy.deepcopy(sd.si)
            attrs = next(c for c in other.children if c.tag == 0xA0)
            digest = next(a for a in attrs.children if cms.oid_text(a.children[0]) == MESSAGE_DIGEST)
            v = digest.children[1].children[0]
            v.value = bytes([v.value[0] ^ 0x80]) + v.value[1:]
            sd.sd.children[-1].children.append(other)
        return edit_cms(self.body, fn)
    def cms_five_signer_infos(self):
        """More SignerInfos than a signer has algorithms (at most 4)."""
        def fn(sd): sd.sd.children[-1].children.extend([sd.si] * 4)
        return edit_cms(self.body, fn)
    def cms_no_signed_attrs(self):
        def fn(sd): sd.si.children = [c for c in sd.si.children if c.tag != 0xA0]
        return edit_cms(self.body, fn)
    def cms_not_der_length(self):
        """A long-form length where DER wants the short form (BER, not DER)."""
        def fn(sd):
            o = sd.algs()[0].children[0]
            o.raw = b"\x06\x81" + bytes([len(o.value)]) + o.value
        return edit_cms(self.body, fn)
    def cms_indefinite_length(self):
        """The outer SEQUENCE in BER indefinite-length form."""
        def fn(sd):
            sd.root.raw = b"\x30\x80" + b"".join(c.encode() for c in sd.root.children) + b"\x00\x00"
        return edit_cms(self.body, fn)
    def cms_length_overflow(self):
        der = bytearray(cms.get_cms(self.body))
        der[1:4] = b"\x84\xff\xff"  # outer SEQUENCE claims 4 GiB
        return cms.set_cms(self.body, bytes(der))

    # -- validly signed CMS with bad or unusual contents (re-signed with the test key)
    def resigned(self, fn): return edit_cms(self.body, fn, self.key)
    def resigned_unknown_attribute(self): return self.resigned(add_attr("1.2.3.4.5.6", cms.utf8("ignore me")))
    def resigned_uuid_arc(self):
        """Every MTAS attribute under the profile's UUID arc, which verifiers also read."""
        def fn(sd):
            for a in sd.attrs:
                t = cms.oid_text(a.children[0])
                if t.startswith(cms.MTAS + "."):
                    set_oid(a.children[0], cms.MTAS_UUID + "." + t.rsplit(".", 1)[1])
        return self.resigned(fn)
    def resigned_msgid_both_arcs(self):
        return self.resigned(lambda sd: add_attr(cms.MTAS_UUID + ".1", mtas_attrs(sd, 1)[0].children[1].children[0])(sd))
    def resigned_canon_unknown(self): return self.resigned(new_value(7, cms.utf8("fancy")))
    def resigned_msgid_mismatch(self): return self.resigned(new_value(1, cms.utf8("ZZZZZZZZZZZZZZZZ")))
    def resigned_carrier_mismatch(self): return self.resigned(new_value(10, cms.utf8("header")))
    def resigned_signer_twice(self): return self.resigned(add_attr(cms.MTAS + ".6", cms.utf8("evil.example")))
    def resigned_signer_two_values(self):
        return self.resigned(lambda sd: mtas_attrs(sd, 6)[0].children[1].children.append(cms.utf8("evil.example")))
    def resigned_signer_empty(self): return self.resigned(new_value(6, cms.utf8("")))
    def resigned_signer_other(self): return self.resigned(new_value(6, cms.utf8("evil.example")))
    def resigned_msgid_integer(self): return self.resigned(new_value(1, cms.Node(0x02, value=b"\x01")))
    def resigned_received_count_huge(self):
        def fn(sd):
            rh = mtas_attrs(sd, 3)[0].children[1].children[0]
            rh.children[0].value = (10 ** 12).to_bytes(6, "big")
        return self.resigned(fn)
    def resigned_parthashes_not_sequence(self): return self.resigned(new_value(4, cms.octets(b"garbage")))
    def resigned_parthashes_bad_path(self):
        def fn(sd):
            for e in mtas_attrs(sd, 4)[0].children[1].children[0].children:
                e.children[0] = cms.utf8("../../\0" + "9" * 200)
        return self.resigned(fn)
    def resigned_no_signing_time(self): return self.resigned(lambda sd: sd.attrs.remove(sd.attr(SIGNING_TIME)))
    def resigned_signing_time_garbage(self):
        return self.resigned(lambda sd: set_value(sd.attr(SIGNING_TIME), cms.Node(0x17, value=b"99999999999999Z")))
    def resigned_header_not_in_message(self): return self.resigned(add_attr(cms.MTAS + ".2", cms.octets(b"X-Bogus: 1")))
    def resigned_services_garbage(self):
        return self.resigned(add_attr(cms.MTAS + ".5", cms.utf8("\0\xff garbage;;; http:download:der")))

    # -- changes after signing
    def change_from(self): return sub(self.body, b"From: Alice Example", b"From: Mallory Example")
    def change_from_removed(self): return drop_field(self.body, b"From")
    def change_from_added_above(self):
        """A second From above the signed one: the one most readers show."""
        return sub(self.body, b"From: Alice", b"From: Mallory <mallory@example.net>\r\nFrom: Alice")
    def change_from_added_below(self): return sub(self.body, b"To:", b"From: Mallory <mallory@example.net>\r\nTo:")
    def change_subject_8bit(self): return sub(self.body, b"Subject: Quarterly", b"Subject: \xff\xfeQuarterly")
    def change_subject_nul(self): return sub(self.body, b"Subject: Quarterly", b"Subject: Quarterly\0")
    def change_subject_duplicated(self): return sub(self.body, b"To:", b"Subject: Urgent: wire money\r\nTo:")
    def change_part_nul(self): return sub(self.body, b"the figures are", b"the fig\0ures are")
    def change_part_bare_cr(self): return sub(self.body, b"the figures are", b"the fig\rures are")
    def change_all_parts(self):
        m = sub(self.body, b"the figures are", b"THE FIGURES ARE")
        m = sub(m, b"<p>Hi Bob", b"<p>Hi Mallory")
        first = b64_lines(blob(600, 1))[0]
        return sub(m, first, b"AAAA" + first[4:])
    def change_part_removed(self):
        i = self.body.index(f"--{B}\r\nContent-Type: text/html".encode())
        j = self.body.index(f"--{B}\r\n".encode(), i + 10)
        return self.body[:i] + self.body[j:]
    def change_footer_part_added(self):
        return sub(self.body, f"--{B}--".encode(), f"--{B}\r\nContent-Type: text/plain\r\n\r\n-- \r\nlist footer\r\n--{B}--".encode())
    def change_wrapped_in_new_multipart(self):
        """MIME-wrapping attack: the signed parts moved down a level below a new first part."""
        h, b = split(self.body)
        h = sub(h, f'boundary="{B}"'.encode(), b'boundary="evil"')
        ent = entity(b)
        top = lines("", "--evil", "Content-Type: text/plain", "", "Please wire the money today.", "--evil",
                    f'Content-Type: multipart/mixed; boundary="{B}"')
        return h + top + sub(b, ent, b"") + b"--evil--\r\n" + ent
    def change_eol_to_lf(self): return self.body.replace(CRLF, b"\n")
    def change_eol_to_cr(self): return self.body.replace(CRLF, b"\r")
    def change_boundary_renamed(self): return self.body.replace(B.encode(), b"=_renamed_by_relay")
    def change_closing_delimiter_removed(self): return sub(self.body, f"--{B}--\r\n".encode(), b"")
    def change_received_added(self): return b"Received: from mx.bad.example by inbox.bad.example; Mon, 16 Mar 2026 09:12:09 +0100\r\n" + self.body
    def change_received_tampered(self): return sub(self.body, b"[198.51.100.40]", b"[203.0.113.66]", 2)
    def change_subject_refolded(self): return sub(self.body, b"Subject: Quarterly figures", b"Subject:   Quarterly\r\n\t figures  ")
    def change_header_carrier_body_appended(self): return self.hdr + b"appended by a relay\r\n"


def edit_text(msg, text):
    """The message with the signature's base64 text replaced by `text` verbatim."""
    return cms.set_cms(msg, b"", text=text)


def main():
    if sys.argv[1] == "bases":
        d = sys.argv[2]
        for name, data in (("base-mixed", base_mixed()), ("base-plain", base_plain()),
                           ("base-mixed-lf", base_mixed().replace(CRLF, b"\n"))):
            with open(os.path.join(d, name + ".eml"), "wb") as f:
                f.write(data)
        return
    if sys.argv[1] == "broken":  # hop 1 with a garbage signature, for the next hop to sign
        with open(sys.argv[2], "rb") as f:
            data = edit_text(f.read(), b"!!!!@@@@****" * 30)
        with open(sys.argv[3], "wb") as f:
            f.write(data)
        return
    signed_dir, out, key = sys.argv[2:5]
    c = Cases(signed_dir, key)
    names = [n for n in vars(Cases) if not n.startswith("_") and n != "resigned"]
    for n in names:
        with open(os.path.join(out, n.replace("_", "-") + ".eml"), "wb") as f:
            f.write(getattr(c, n)())
    print(f"{len(names)} cases written")


if __name__ == "__main__":
    main()
