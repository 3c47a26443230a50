#!/usr/bin/python3
"""Markdown report for bench/peers.sh.

    report.py RESULTS_DIR

RESULTS_DIR holds what peers.sh wrote:
  results.tsv        impl alg op corpus status rss_kb json   (one harness run a line)
  openssl-speed.txt  `openssl speed ... ed25519 rsa2048 ecdsap256 sha256 sha512`
  stream.tsv         what seconds rss_kb  (sha256sum and `mtas sign` on the huge message)
  versions.txt       free text, printed first
  meta.json          {"quick": 0|1, "seconds": S, "huge_bytes": N}
MB is 10^6 bytes, as in openssl speed's "1000s of bytes per second".
"""
import json
import os
import re
import sys

IMPLS = ["mtas", "opendkim", "mail-dkim", "dkimpy", "mailauth"]
ALGS = ["ed25519", "rsa2048", "ecdsa-p256"]
# (column title, op, corpus, unit)
COLUMNS = [
    ("sign 4 KB msgs/s", "sign", "small", "msgs"),
    ("verify 4 KB msgs/s", "verify", "small", "msgs"),
    ("sign 1 MB MB/s", "sign", "large", "mb"),
    ("verify 1 MB MB/s", "verify", "large", "mb"),
]
# mtas's digest per algorithm (its micalg): Ed25519 signs a SHA-512 digest.
SHA_FOR = {"ed25519": "sha512", "rsa2048": "sha256", "ecdsa-p256": "sha256"}
RSS_TARGET_KB = 16 * 1024


def parse_results(path):
    runs = {}
    with open(path) as f:
        for line in f:
            impl, alg, op, corpus, status, rss, js = line.rstrip("\n").split("\t", 6)
            rec = {"status": status, "rss_kb": int(rss or 0)}
            if status == "ok":
                rec.update(json.loads(js))
            runs[(impl, alg, op, corpus)] = rec
    return runs


def parse_openssl(path):
    """{'ed25519': (sign/s, verify/s), ..., 'sha256': bytes/s at 16 KB, ...}"""
    bound = {}
    sizes = []
    with open(path) as f:
        for line in f:
            if line.startswith("type"):
                sizes = [int(s) for s in re.findall(r"(\d+) bytes", line)]
            elif re.match(r"sha(256|512)\s", line) and sizes:
                values = [float(v) for v in re.findall(r"([\d.]+)k", line)]
                if 16384 in sizes and len(values) == len(sizes):
                    bound[line.split()[0]] = values[sizes.index(16384)] * 1000
            else:
                nums = re.findall(r"\s([\d.]+)", line)
                for key, pattern in (("rsa2048", r"^rsa 2048 bits"), ("ecdsa-p256", r"ecdsa \(nistp256\)"),
                                     ("ed25519", r"EdDSA \(Ed25519\)")):
                    if re.search(pattern, line) and len(nums) >= 2:
                        bound[key] = (float(nums[-2]), float(nums[-1]))
    return bound


def rate(rec, unit):
    if rec is None:
        return None
    if rec["status"] != "ok":
        return rec["status"]
    if unit == "msgs":
        return rec["messages"] / rec["seconds"]
    return rec["bytes"] / rec["seconds"] / 1e6


def fmt(v):
    if v is None:
        return "–"
    if isinstance(v, str):
        return v
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}"


def ratio(a, b):
    if isinstance(a, float) and isinstance(b, float) and b > 0:
        return f"{a / b:.2f}×"
    return "–"


def main():
    out = sys.argv[1]
    runs = parse_results(os.path.join(out, "results.tsv"))
    bound = parse_openssl(os.path.join(out, "openssl-speed.txt"))
    with open(os.path.join(out, "meta.json")) as f:
        meta = json.load(f)
    with open(os.path.join(out, "versions.txt")) as f:
        versions = f.read().strip().splitlines()
    print("## mtas and its DKIM peers\n")
    for v in versions:
        print(f"- {v}")
    print()

    rows = [(i, a) for i in IMPLS for a in ALGS if any(k[0] == i and k[1] == a for k in runs)]
    table = {}
    for impl, alg in rows:
        cells = [rate(runs.get((impl, alg, op, corpus)), unit) for _, op, corpus, unit in COLUMNS]
        huge = runs.get((impl, alg, "sign", "huge"))
        rss = None if huge is None else (huge["rss_kb"] / 1024 if huge["status"] == "ok" else huge["status"])
        table[(impl, alg)] = cells + [rss]

    print("### Throughput (one process per cell; keys parsed once; DNS replaced by a local record)\n")
    print("| impl | alg | " + " | ".join(c[0] for c in COLUMNS) + " | peak RSS signing the huge message, MB |")
    print("|---|---|" + "---:|" * (len(COLUMNS) + 1))
    for (impl, alg), cells in table.items():
        print(f"| {impl} | {alg} | " + " | ".join(fmt(c) for c in cells) + " |")
    for alg in ALGS:
        if alg in bound:
            sha = bound.get(SHA_FOR[alg])
            shamb = sha / 1e6 if sha else None
            print(f"| openssl speed | {alg} | {fmt(bound[alg][0])} sign/s | {fmt(bound[alg][1])} verify/s "
                  f"| {fmt(shamb)} ({SHA_FOR[alg]}) | {fmt(shamb)} ({SHA_FOR[alg]}) | |")
    print()

    print("### mtas ÷ peer (same algorithm; above 1× means mtas is faster, or for RSS, uses more)\n")
    print("| mtas ÷ | alg | " + " | ".join(c[0].rsplit(" ", 1)[0] for c in COLUMNS) + " | peak RSS huge |")
    print("|---|---|" + "---:|" * (len(COLUMNS) + 1))
    for alg in ALGS:
        mine = table.get(("mtas", alg))
        if mine is None:
            continue
        for impl in IMPLS[1:]:
            theirs = table.get((impl, alg))
            if theirs is None or all(not isinstance(c, float) for c in theirs):
                continue
            print(f"| {impl} | {alg} | " + " | ".join(ratio(m, t) for m, t in zip(mine, theirs)) + " |")
        if alg in bound:
            sha = bound.get(SHA_FOR[alg])
            shamb = sha / 1e6 if sha else None
            limits = [bound[alg][0], bound[alg][1], shamb, shamb]
            print(f"| openssl speed bound | {alg} | " +
                  " | ".join(ratio(m, b) for m, b in zip(mine, limits)) + " | |")
    print("\nThe bound: the sign/s and verify/s of `openssl speed` for 4 KB messages (one "
          "signature each), and its SHA throughput at 16 KB blocks for 1 MB messages "
          "(mtas hashes Ed25519 messages with SHA-512, RSA and ECDSA with SHA-256).\n")

    stream_path = os.path.join(out, "stream.tsv")
    if os.path.exists(stream_path):
        with open(stream_path) as f:
            stream = [line.rstrip("\n").split("\t") for line in f if line.strip()]
        base = next((float(s) for w, s, _ in stream if w == "sha256sum"), None)
        size = meta["huge_bytes"]
        print(f"### The huge message ({size / 1e6:.1f} MB) through `mtas sign` from stdin "
              "(target: peak RSS ≤ 16 MB, time ≤ 2× sha256sum)\n")
        if meta["quick"]:
            print("(--quick: a 1 MB message stands in; the target is only checked in a full run.)\n")
        print("| command | wall s | MB/s | peak RSS, MB | vs sha256sum | target |")
        print("|---|---:|---:|---:|---:|---|")
        for what, secs, rss in stream:
            secs, rss = float(secs), int(rss)
            verdict = ""
            if what != "sha256sum" and not meta["quick"]:
                ok = rss <= RSS_TARGET_KB and base is not None and secs <= 2 * base
                verdict = "met" if ok else "**missed**"
            print(f"| {what} | {secs:.3f} | {size / secs / 1e6:,.0f} | {rss / 1024:.1f} | {ratio(secs, base)} "
                  f"| {verdict} |")
        print()

    bad = [k for k, r in runs.items() if r["status"] == "FAIL"]
    if bad:
        print("**Failed:** " + ", ".join(" ".join(k) for k in bad))


if __name__ == "__main__":
    main()
