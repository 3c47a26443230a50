#!/usr/bin/env python3
"""The layers of libmtas, checked over every #include (docs/architecture.md, "Layers").

A file may include headers of its own layer and of the layers below it, never above:
so no two folders of src/ can ever include each other, directly or round a cycle.
Each folder of src/ is in one layer, and each public header of include/mtas/ belongs
to the layer of the folder that implements it (OWNER below; a new header must be
added there, or the check fails). Prints every include that goes upward.

usage: layers.py SOURCE_DIR   (standard library only)
"""
import os
import re
import sys

# Lowest first. Folders in one layer may include each other (message and
# canon: the message model names its canonicalizations, and canonicalizing a
# header reads its fields); every other folder is a layer of its own.
LAYERS = [
    ("common", ["common"]),
    ("message/canon", ["message", "canon"]),
    ("net", ["net"]),
    ("keys", ["keys"]),
    ("cms", ["cms"]),
    ("carrier", ["carrier"]),
    ("sign", ["sign"]),
    ("verify", ["verify"]),
    ("policy", ["policy"]),
    ("report", ["report"]),
    ("hop", ["hop"]),
]
OWNER = {
    "status.h": "common", "limits.h": "common", "sink.h": "common", "digest.h": "common", "blocking.h": "common",
    "message.h": "message", "source.h": "message", "address.h": "message", "domain.h": "message",
    "canon.h": "canon",
    "signature.h": "cms", "keys.h": "keys", "version.h": "common", "key_sources.h": "keys", "key_records.h": "keys", "key_service.h": "keys", "services.h": "keys", "openpgp.h": "keys",
    "dns.h": "net", "fetch.h": "net",
    "carrier.h": "carrier",
    "sign.h": "sign", "verify.h": "verify",
    "policy.h": "policy",
    "report.h": "report", "result_headers.h": "report", "trace.h": "report", "view.h": "report",
    "hop.h": "hop",
}


def main():
    root = sys.argv[1]
    layer_of = {folder: i for i, (_, folders) in enumerate(LAYERS) for folder in folders}
    problems = []
    files = []
    for base, folder_of in (("src", lambda p: p.split(os.sep)[0]), ("include/mtas", lambda p: OWNER.get(p))):
        top = os.path.join(root, base)
        for dirpath, _, names in os.walk(top):
            for n in names:
                if n.endswith((".h", ".cc")):
                    rel = os.path.relpath(os.path.join(dirpath, n), top)
                    files.append((os.path.join(base, rel), folder_of(rel)))
    for path, folder in files:
        if folder not in layer_of:
            problems.append("%s: in no layer (add its folder to LAYERS or the header to OWNER)" % path)
            continue
        for line_no, line in enumerate(open(os.path.join(root, path), encoding="utf-8"), 1):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if not m:
                continue
            inc = m.group(1)
            target = OWNER.get(inc[len("mtas/"):]) if inc.startswith("mtas/") else inc.split("/")[0]
            if target not in layer_of:
                problems.append("%s:%d: includes %s, which is in no layer" % (path, line_no, inc))
            elif layer_of[target] > layer_of[folder]:
                problems.append("%s:%d: %s (layer %s) includes %s (layer %s, above it)" % (
                    path, line_no, folder, LAYERS[layer_of[folder]][0], inc, LAYERS[layer_of[target]][0]))
    for p in problems:
        print(p)
    print("layers: %d files, %d includes going up or unplaced" % (len(files), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
