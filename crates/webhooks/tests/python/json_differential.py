#!/usr/bin/env python3
"""Differential check of the Rust Python-compatible JSON serialiser (standard library only).

Usage: json_differential.py CASES.jsonl   (written by tests/json_differential.rs)
Each line: {"raw": <Rust raw body>, "canonical": <Rust V2 canonical form>}. Python parses the raw
body and re-encodes it both ways; any difference is printed and the exit status is 1.
"""
import json
import sys


def shorten_floats(data):
    if isinstance(data, bool):
        return data
    if isinstance(data, dict):
        return {k: shorten_floats(v) for k, v in data.items()}
    if isinstance(data, list):
        return [shorten_floats(x) for x in data]
    if isinstance(data, float) and data.is_integer():
        return int(data)
    return data


bad = 0
total = 0
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        case = json.loads(line)
        total += 1
        parsed = json.loads(case["raw"])
        raw = json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        canonical = json.dumps(shorten_floats(parsed), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        for what, want, got in (("raw", raw, case["raw"]), ("canonical", canonical, case["canonical"])):
            if want != got:
                bad += 1
                if bad <= 5:
                    print(f"MISMATCH {what}:\n python: {want[:400]!r}\n rust:   {got[:400]!r}")
print(f"{total - bad} passed, {bad} failed")
sys.exit(1 if bad else 0)
