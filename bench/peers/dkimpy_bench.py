#!/usr/bin/python3
"""Peer benchmark harness for dkimpy (Debian: python3-dkim, python3-nacl).

    dkimpy_bench.py sign|verify ed25519|rsa2048 CORPUS_DIR KEY_DIR

Run it with Debian's /usr/bin/python3 (the package lives in its dist-packages).
Same interface as every harness driven by bench/peers.sh: all the *.eml in
CORPUS_DIR are read into memory and the key is parsed before the clock starts;
`sign` signs every message in passes until MTAS_BENCH_SECONDS (default 2) have
elapsed, at least one full pass; `verify` signs every message once (untimed),
then verifies in passes and exits non-zero unless each one passes. Prints one
JSON line: {"impl":"dkimpy","alg":..,"op":..,"messages":N,"bytes":B,"seconds":S}
(totals over all passes; bytes counts the unsigned messages).

ed25519-sha256 / rsa-sha256, relaxed/relaxed, dkimpy's default header list.

Key: dkim.sign() takes the key as bytes and parses it on every call (the PEM
through dkimpy's ASN.1 code for RSA, nacl.signing.SigningKey for Ed25519, which
derives the public key with a scalar multiplication). To parse it once, like
every other harness, the two parse functions dkimpy calls are memoised below;
the library's signing and canonicalisation code runs unchanged.
DNS: verify's dnsfunc= parameter answers from KEY_DIR/keys.txt; dkimpy still
parses the key record per message.
"""
import base64
import functools
import json
import os
import sys
import time
import types

import dkim
import nacl.encoding
import nacl.signing

SELECTOR = {"ed25519": b"ed", "rsa2048": b"rsa"}
ALGORITHM = {"ed25519": b"ed25519-sha256", "rsa2048": b"rsa-sha256"}
DOMAIN = b"bench.example"


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("sign", "verify") or sys.argv[2] not in SELECTOR:
        sys.exit("usage: dkimpy_bench.py sign|verify ed25519|rsa2048 CORPUS_DIR KEY_DIR")
    op, alg, corpus, keydir = sys.argv[1:]
    min_seconds = float(os.environ.get("MTAS_BENCH_SECONDS", "2"))

    # ---- untimed setup: corpus, key, DNS stand-in ----
    names = sorted(n for n in os.listdir(corpus) if n.endswith(".eml"))
    if not names:
        sys.exit(f"no *.eml in {corpus}")
    messages = []
    for n in names:
        with open(os.path.join(corpus, n), "rb") as f:
            messages.append(f.read())
    pass_bytes = sum(len(m) for m in messages)

    with open(os.path.join(keydir, f"{alg}.key.pem"), "rb") as f:
        pem = f.read()
    if alg == "ed25519":
        # dkimpy wants the base64 32-byte seed; PKCS#8 DER ends with it
        der = base64.b64decode(b"".join(l for l in pem.splitlines() if not l.startswith(b"-----")))
        privkey = base64.b64encode(der[-32:])
    else:
        privkey = pem  # PKCS#8 PEM, which dkimpy's parser accepts
    # parse once: memoise the parsers dkimpy calls on every sign()
    dkim.parse_pem_private_key = functools.lru_cache(maxsize=4)(dkim.parse_pem_private_key)
    cached_signing_key = functools.lru_cache(maxsize=4)(nacl.signing.SigningKey)
    dkim.nacl = types.SimpleNamespace(
        signing=types.SimpleNamespace(SigningKey=cached_signing_key, VerifyKey=nacl.signing.VerifyKey),
        encoding=nacl.encoding, exceptions=dkim.nacl.exceptions)

    records = {}
    with open(os.path.join(keydir, "keys.txt"), "rb") as f:
        for line in f:
            name, _, record = line.strip().partition(b" ")
            records[name.lower()] = record

    def dnsfunc(name, timeout=5):
        return records.get(name.lower().rstrip(b"."))

    def sign_one(msg):
        return dkim.sign(msg, SELECTOR[alg], DOMAIN, privkey, signature_algorithm=ALGORITHM[alg],
                         canonicalize=(b"relaxed", b"relaxed"))

    def verify_one(msg):
        d = dkim.DKIM(msg)
        if not d.verify(dnsfunc=dnsfunc):  # raises on errors, False on a bad signature
            sys.exit("dkimpy_bench: verification did not pass")

    if op == "verify":
        messages = [sign_one(m) + m for m in messages]
        for m in messages:  # fail before the clock starts
            verify_one(m)
    work = sign_one if op == "sign" else verify_one

    # ---- timed: whole passes until MTAS_BENCH_SECONDS ----
    count = total = 0
    start = time.monotonic()
    while True:
        for m in messages:
            work(m)
        count += len(messages)
        total += pass_bytes
        elapsed = time.monotonic() - start
        if elapsed >= min_seconds:
            break
    print(json.dumps({"impl": "dkimpy", "alg": alg, "op": op, "messages": count, "bytes": total,
                      "seconds": round(elapsed, 6)}, separators=(",", ":")))


if __name__ == "__main__":
    main()
