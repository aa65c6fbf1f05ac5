"""Score the pairs exported by `examples/export_pairs.rs` with nomenklatura's
logic-v1 matcher (the algorithm behind yente's default /match) and compare
decisions and throughput with Verity's matcher.

Setup (outside the repository):
  python3 -m venv /root/.cache/verity-aml-venv
  /root/.cache/verity-aml-venv/bin/pip install nomenklatura==4.17.4
Run (from any directory other than nomenklatura's package):
  /root/.cache/verity-aml-venv/bin/python scripts/compare_nomenklatura.py pairs.jsonl
"""

import json
import sys
import time

from followthemoney import EntityProxy, model
from nomenklatura.matching import get_algorithm
from nomenklatura.matching.types import ScoringConfig

# yente's default cut-off for `match: true`.
NK_THRESHOLD = 0.7


def main(path: str) -> None:
    rows = [json.loads(line) for line in open(path)]
    algo = get_algorithm("logic-v1")
    config = ScoringConfig.defaults()
    pairs = []
    for i, r in enumerate(rows):
        q = model.make_entity("Person")
        q.id = f"q{i}"
        q.add("name", r["query"])
        props = {k: v for k, v in r["entity"]["properties"].items() if v}
        cand = EntityProxy.from_dict({"id": r["entity"]["id"], "schema": r["entity"]["schema"], "properties": props})
        pairs.append((q, cand))
    start = time.perf_counter()
    scores = [algo.compare(q, c, config).score for q, c in pairs]
    elapsed = time.perf_counter() - start
    n = len(rows)
    agree = sum((s >= NK_THRESHOLD) == r["verity_match"] for s, r in zip(scores, rows))
    print(f"pairs: {n}")
    print(f"nomenklatura logic-v1: {elapsed:.2f} s, {n / elapsed:.0f} pairs/s (single thread)")
    print(f"decision agreement (verity match_score>=93 vs logic-v1 score>={NK_THRESHOLD}): {agree / n:.4f}")
    for name, pred in (
        ("verity", [r["verity_match"] for r in rows]),
        ("logic-v1", [s >= NK_THRESHOLD for s in scores]),
    ):
        tp = sum(p and r["label"] for p, r in zip(pred, rows))
        fp = sum(p and not r["label"] for p, r in zip(pred, rows))
        fn = sum((not p) and r["label"] for p, r in zip(pred, rows))
        tn = n - tp - fp - fn
        prec = tp / (tp + fp) if tp + fp else 1.0
        rec = tp / (tp + fn) if tp + fn else 1.0
        print(f"{name:>9}: TP {tp} FP {fp} FN {fn} TN {tn}  precision {prec:.4f} recall {rec:.4f}")
    by_variant: dict[str, list[int]] = {}
    for s, r in zip(scores, rows):
        ok_v = r["verity_match"] == r["label"]
        ok_n = (s >= NK_THRESHOLD) == r["label"]
        acc = by_variant.setdefault(r["variant"], [0, 0, 0])
        acc[0] += 1
        acc[1] += ok_v
        acc[2] += ok_n
    print("per variant (cases, verity correct, logic-v1 correct):")
    for v, (c, a, b) in sorted(by_variant.items()):
        print(f"  {v:<16} {c:>5} {a:>5} {b:>5}")


if __name__ == "__main__":
    main(sys.argv[1])
