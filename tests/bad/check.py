#!/usr/bin/env python3
"""Checks the `mtas verify --json` reports run.sh collected, in one process.

  check.py CHECKS    CHECKS has one tab-separated line per report:
                       NAME verify REPORT RESULT SUBSTRING   the overall result is RESULT;
                           SUBSTRING ('-': not checked) occurs in a reason or note
                       NAME signed REPORT MSGID CARRIER      the signature MSGID (the one
                           `mtas sign --carrier CARRIER` just added) is `pass`
Prints `FAIL: NAME: what` for each report that is wrong. Every report must be UTF-8 JSON
(RFC 8259 §8.1); in a verify report every reason and note is one line and no note is
repeated (a limit is stated once, not once per byte or field beyond it)."""
import json
import sys
from collections import Counter


def problem(kind, report, args):
    try:
        with open(report, "rb") as f:
            r = json.loads(f.read().decode("utf-8"))
    except UnicodeDecodeError as e:
        return f"--json output is not UTF-8 ({e})"
    except ValueError as e:
        return f"--json output is not JSON ({e})"
    if kind == "signed":
        ours = [s for s in r["signatures"] if s["msgid"] == args[0]]
        if len(ours) != 1 or ours[0]["result"] != "pass":
            return f"the new signature does not pass: {[(s['result'], s['reason']) for s in ours] or 'not examined'}"
        return None
    want, substring = args
    texts = r["notes"] + [t for s in r["signatures"] for t in [s["reason"]] + s["notes"]]
    if r["result"] != want:
        worst = next((s["reason"] for s in r["signatures"] if s["result"] == r["result"]), "")
        return f"result {r['result']} ({worst}), want {want}"
    if substring != "-" and not any(substring in t for t in texts):
        return f"no reason or note contains '{substring}': {texts[:3]}"
    if any("\n" in t or "\r" in t for t in texts):
        return "a reason or note is not one line"
    for notes in [r["notes"]] + [s["notes"] for s in r["signatures"]]:
        note, times = Counter(notes).most_common(1)[0] if notes else ("", 0)
        if times > 1:
            return f"a note is repeated {times} times: '{note}'"
    return None


def main():
    with open(sys.argv[1]) as f:
        for line in f:
            name, kind, report, *args = line.rstrip("\n").split("\t")
            p = problem(kind, report, args)
            if p:
                where = f"output of sign --carrier {args[1]}: " if kind == "signed" else ""
                print(f"FAIL: {name}: {where}{p}")


if __name__ == "__main__":
    main()
