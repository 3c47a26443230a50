#!/usr/bin/python3
# Build the driver (from the repository root; no CMake needed):
#   g++ -std=c++20 -O1 -Iinclude -Isrc src/message/address.cc src/message/header_scanner.cc \
#       tests/diff/from_domains_main.cc -o /tmp/from_domains
# Run:
#   /usr/bin/python3 tests/diff/from_diff.py /tmp/from_domains [count] [seed]
#
# Differential check of mtas::FromDomains against Python's email package.
# Generates From values from a small grammar (display names with quotes,
# commas, '@', '<', comments, encoded-words; groups; several mailboxes; CFWS
# around '@' and dots; obs-route; odd folding) plus random corruptions, and
# compares the domain set the driver prints with:
#   - email.policy.default (msg['From'].addresses -> .domain): enforced.
#     Whenever we return domains, Python must return the same set (compared
#     lowercased) without defects, else it is a disagreement. Defects that
#     say nothing about where the addresses are are not counted:
#     ObsoleteHeaderDefect (the RFC 5322 section 4 obsolete syntax, which we
#     accept by design), defects inside an encoded-word about decoding its
#     text (charset, base64, missing white space after it), and "encoded word
#     inside quoted string" (we only accept such a word when it ends inside
#     the quotes). "whitespace inside encoded word" is counted: it means
#     Python's word ran across token bounds.
#   - email.utils.getaddresses (compat32): reported only.
# Prints `from_diff: N values, A agree, E refused, D disagreements`; exit 1
# when D > 0.
import email
import email.errors
import email.policy
import email.utils
import random
import subprocess
import sys

# ---------------------------------------------------------------- generator

DOMAINS = ["example.com", "good.example", "evil.example", "Sub.Example.ORG", "xn--bcher-kva.example",
           "a-b.example", "x.y.z.example", "EXAMPLE.net", "mail.example.co.uk"]
ODD_DOMAINS = ["[192.0.2.1]", "[IPv6:2001:db8::1]", "example.com.", "under_score.example", "192.0.2.1",
               "-lead.example", "localhost", "=?utf-8?q?evil.example?=", "exa mple.com", "ex\\.ample.com"]
LOCALS = ["user", "john.doe", "a+tag", "x", "first.m.last", "o'brien", "u_1", "{x}", "a=b", "%x%"]
QUOTED_LOCALS = ['"john doe"', '"a@b"', '"a\\"b"', '"<x>"', '""', '"a,b"', '"a\\\\b"']
ATOMS = ["Joe", "Q", "Public", "Team", "Mary-Ann", "O'Neil", "x", "Dr", "=?utf-8?q?J=C3=B6rg?=",
         "=?iso-8859-1?b?SvZyZw==?=", "=?utf-8?q?a_b?=", "=?utf-8?q?=41?=", "=?bogus?q?x?=", "=?utf-8?x?y?="]
QUOTED_NAMES = ['"Joe Public"', '"Last, First"', '"a@evil.example"', '"<evil@evil.example>"', '""',
                '"Joe \\"Q\\" Public"', '"=?utf-8?q?J=C3=B6rg?="', '"x\\\\"', '"(not a comment)"',
                '"a; b: c"', '"evil.example>"']
COMMENTS = ["(c)", "(evil.example)", "(a@evil.example)", "(<x@evil.example>)", "(nested (c) \\) x)",
            "(\\()", "()", "(a, b; c:)", "(\"q)"]
FOLDS = ["\r\n ", "\n\t", "\r\n\t ", "\r\n \r\n ", "\n "]


def cfws(r, p=0.3):
    if r.random() > p:
        return ""
    parts = []
    for _ in range(r.randint(1, 2)):
        k = r.random()
        if k < 0.4:
            parts.append(r.choice([" ", "  ", "\t"]))
        elif k < 0.75:
            parts.append(r.choice(COMMENTS))
        else:
            parts.append(r.choice(FOLDS))
    return "".join(parts)


def domain(r):
    if r.random() < 0.1:
        return r.choice(ODD_DOMAINS)
    d = r.choice(DOMAINS)
    if r.random() < 0.2:  # obs-domain: CFWS around the dots
        d = (cfws(r, 0.7) + "." + cfws(r, 0.7)).join(d.split("."))
    return d


def local_part(r):
    k = r.random()
    if k < 0.6:
        return r.choice(LOCALS)
    if k < 0.85:
        return r.choice(QUOTED_LOCALS)
    words = [r.choice(LOCALS + QUOTED_LOCALS) for _ in range(r.randint(2, 3))]  # obs-local-part
    return (cfws(r, 0.6) + "." + cfws(r, 0.6)).join(words)


def addr_spec(r):
    return local_part(r) + cfws(r, 0.2) + "@" + cfws(r, 0.2) + domain(r)


def phrase(r):
    words = []
    for i in range(r.randint(1, 3)):
        if i and r.random() < 0.15:
            words.append(".")  # obs-phrase
        words.append(r.choice(ATOMS) if r.random() < 0.6 else r.choice(QUOTED_NAMES))
    out = words[0]
    for w in words[1:]:
        out += (r.choice([" ", "", cfws(r, 1.0)]) if r.random() < 0.3 else " ") + w
    return out


def route(r):
    hops = ["@" + domain(r) for _ in range(r.randint(1, 2))]
    return r.choice(["", ","]) + ",".join(hops) + ":"


def mailbox(r):
    k = r.random()
    if k < 0.3:
        return cfws(r) + addr_spec(r) + cfws(r)
    name = phrase(r) + " " if k < 0.85 else ""
    rt = route(r) if r.random() < 0.08 else ""
    return cfws(r) + name + cfws(r) + "<" + rt + cfws(r, 0.15) + addr_spec(r) + cfws(r, 0.15) + ">" + cfws(r)


def group(r):
    members = [mailbox(r) for _ in range(r.randint(0, 2))]
    if r.random() < 0.2:
        members.insert(r.randint(0, len(members)), cfws(r))  # obs-group-list empty element
    return phrase(r) + ":" + ",".join(members) + ";" + cfws(r)


def address_list(r):
    items = [group(r) if r.random() < 0.15 else mailbox(r) for _ in range(r.randint(1, 3))]
    if r.random() < 0.1:
        items.insert(r.randint(0, len(items)), cfws(r))  # obs-addr-list empty element
    return " " + r.choice([",", ", ", "," + r.choice(FOLDS)]).join(items)


INSERTS = ['"', "(", ")", "<", ">", "@", ",", ";", ":", "\\", ".", "[", "]", "\r", "\n", "\r\n", "\n ",
           "\x00", "\x7f", "\xe9", "=?", "?=", " ", "a", "@evil.example", "<evil@evil.example>", "=?utf-8?q?"]


def corrupt(r, v):
    for _ in range(r.randint(1, 2)):
        k = r.random()
        i = r.randint(0, len(v))
        if k < 0.35 and v:
            v = v[:i] + v[i + 1:]
        elif k < 0.8:
            v = v[:i] + r.choice(INSERTS) + v[i:]
        else:
            j = r.randint(0, len(v))
            a, b = min(i, j), max(i, j)
            v = v[:a] + v[b:] + v[a:b]  # move a slice to the end
    return v


FIXED = [
    ' "a@evil.example" <user@good.example>', " user@good.example (evil.example)", " a@x.example, b@y.example",
    " Team: a@b.example, c@d.example;", " undisclosed-recipients:;", " <@r1.example,@r2.example:u@example.com>",
    " =?utf-8?q?a <e@evil.example>, b?= <g@good.example>", ' "=?utf-8?q?=41" <e@evil.example>, "?=" <g@good.example>',
    ' "=?utf-8?q?x" <e@evil.example>, "?=" <g@good.example>', " =?utf-8?q?Joe?=<joe@good.example>",
    " evil.example <user@good.example>", " user@good.example <user@evil.example>", " a@b@evil.example",
    " john . doe @ mail . example . com", " Joe Q. Public <jqp@example.com>", " a@example.com.",
]


def generate(count, seed):
    r = random.Random(seed)
    values = list(FIXED)
    while len(values) < count:
        v = address_list(r)
        if r.random() < 0.35:
            v = corrupt(r, v)
        values.append(v)
    return [v.encode("latin-1") for v in values]

# ------------------------------------------------------------------ oracles


def tolerated(defect, in_encoded_word):
    if isinstance(defect, email.errors.ObsoleteHeaderDefect):
        return True
    text = str(defect)
    if text == "encoded word inside quoted string":
        return True
    return in_encoded_word and "whitespace inside encoded word" not in text


def counted_defects(header):
    tree = getattr(header, "_parse_tree", None)
    found = []
    seen = 0

    def walk(tok, in_ew):
        nonlocal seen
        in_ew = in_ew or getattr(tok, "token_type", None) == "encoded-word"
        for d in getattr(tok, "defects", []):
            seen += 1
            if not tolerated(d, in_ew):
                found.append(d)
        if isinstance(tok, list):
            for t in tok:
                walk(t, in_ew)

    if tree is not None:
        walk(tree, False)
    extra = len(header.defects) - seen  # defects raised outside the parse tree
    if extra > 0:
        found.extend(header.defects[:extra])
    return found


def python_default(value):
    """(domains, counted defects) or (None, reason)."""
    try:
        msg = email.message_from_bytes(b"From:" + value + b"\n\nbody\n", policy=email.policy.default)
        h = msg["From"]
        if h is None:
            return None, "no From"
        return [a.domain.lower() for a in h.addresses], counted_defects(h)
    except Exception as e:  # a parser bug is a disagreement when we accepted
        return None, "exception %r" % e


def python_compat32(value):
    try:
        msg = email.message_from_bytes(b"From:" + value + b"\n\nbody\n", policy=email.policy.compat32)
        pairs = email.utils.getaddresses(msg.get_all("From", []))
    except Exception as e:
        return None, "exception %r" % e
    if not pairs or any(not addr or "@" not in addr for _, addr in pairs):
        return None, "unparsed %r" % (pairs,)
    return [addr.rpartition("@")[2].lower() for _, addr in pairs], None


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: from_diff.py DRIVER [count] [seed]")
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 5322
    values = generate(count, seed)
    out = subprocess.run([sys.argv[1]], input="".join(v.hex() + "\n" for v in values), capture_output=True,
                         text=True, check=True).stdout.splitlines()
    if len(out) != len(values):
        sys.exit("from_diff: driver printed %d lines for %d values" % (len(out), len(values)))

    agree = refused = refused_python_ok = 0
    compat_same = compat_unparsed = compat_differ = 0
    disagreements = []
    compat_examples = []
    for v, line in zip(values, out):
        py, py_defects = python_default(v)
        if line.startswith("ERROR"):
            refused += 1
            if py and py_defects == [] and all(py):
                refused_python_ok += 1
            continue
        ours = line.split()
        if py is None or py_defects or set(py) != set(ours):
            disagreements.append((v, ours, py, py_defects))
        else:
            agree += 1
        compat, _ = python_compat32(v)
        if compat is None:
            compat_unparsed += 1
        elif set(compat) == set(ours):
            compat_same += 1
        else:
            compat_differ += 1
            if len(compat_examples) < 5:
                compat_examples.append((v, ours, compat))

    for v, ours, py, why in disagreements[:20]:
        print("DISAGREE %r: ours %s, policy.default %s %s" % (v, ours, py, why))
    for v, ours, compat in compat_examples:
        print("compat32 differs %r: ours %s, getaddresses %s" % (v, ours, compat))
    print("policy.default: %d agree, %d we-error-python-ok, %d disagree" %
          (agree, refused_python_ok, len(disagreements)))
    print("getaddresses (compat32, not enforced), of the %d we accepted: %d same, %d unparsed, %d other domains" %
          (agree + len(disagreements), compat_same, compat_unparsed, compat_differ))
    print("from_diff: %d values, %d agree, %d refused, %d disagreements" %
          (len(values), agree, refused, len(disagreements)))
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
