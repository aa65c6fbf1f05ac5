#!/usr/bin/env python3
"""PassportEye vs Verity: MRZ accuracy and time on the same image files.

Normally driven by run.sh (which sets up the venv, the corpus and the Rust side); the steps:

  python compare.py manifest CORPUS_DIR OUT_DIR [--limit K]
      list the MRZ-bearing image of each document (front, or back for TD1 cards) with its
      ground truth -> OUT_DIR/images.txt, OUT_DIR/truth.json
  python compare.py passporteye OUT_DIR
      PassportEye's read_mrz on each listed image, timed in-process (wall, and CPU of the
      process plus its tesseract children) -> OUT_DIR/passporteye.jsonl
      (appends; images already in the file are skipped, so an interrupted run resumes)
  python compare.py report OUT_DIR
      score both readers with the same definition and print the Markdown table
      (OUT_DIR/verity.jsonl comes from the read_mrz_files example)

Scoring, identical for both readers: the MRZ text a reader returned and the ground-truth MRZ
lines are both parsed by the same text parser (PassportEye's `MRZ` class, pure text, no OCR),
and "fully correct" means every parsed field is equal: document type, issuing state, number,
birth date, sex, expiry, nationality, optional data / personal number, surname, given names
and every check-digit character. Equal check characters over equal fields means each check
digit is valid exactly where the ground truth's is. Names are compared after `<` -> space and
whitespace collapsing (so filler run length does not count against a reader). A second column,
"exact MRZ text", is the stricter definition of our own eval.rs (all lines byte-equal); a
third, "core fields", ignores names and optional data (no check digit covers names) and asks
only for type, issuing state, number, birth date, sex, expiry, nationality and their
check digits: the fields a KYC decision and the chip's access key rest on.
"""
import json
import os
import statistics
import sys
import time
import warnings

# scikit-image 0.26 warns on every call PassportEye 2.2.2 makes (deprecated plugin/square APIs).
warnings.filterwarnings("ignore", category=FutureWarning)

FIELDS = [
    "mrz_type", "type", "country", "number", "check_number", "date_of_birth",
    "check_date_of_birth", "sex", "expiration_date", "check_expiration_date", "nationality",
    "optional1", "optional2", "personal_number", "check_personal_number", "check_composite",
    "surname", "names",
]


# The fields covered by check digits (plus type, states and sex): no names, no optional data.
CORE = [
    "mrz_type", "type", "country", "number", "check_number", "date_of_birth",
    "check_date_of_birth", "sex", "expiration_date", "check_expiration_date", "nationality",
]


def mrz_fields(lines):
    """Parse MRZ lines with PassportEye's text parser; None when it cannot tell the format."""
    from passporteye.mrz.text import MRZ

    if not lines:
        return None
    m = MRZ(lines)
    if m.mrz_type is None:
        return None
    d = m.to_dict()
    out = {k: d.get(k) for k in FIELDS}
    for k in ("surname", "names"):
        if out[k] is not None:
            out[k] = " ".join(out[k].replace("<", " ").split())
    return out


def truth_parse_ok(lines):
    from passporteye.mrz.text import MRZ

    return bool(MRZ(lines).valid)


def cmd_manifest(corpus, out, limit):
    os.makedirs(out, exist_ok=True)
    names = sorted(f for f in os.listdir(corpus) if f.endswith(".json"))
    images, truth = [], {}
    for name in names:
        meta = json.load(open(os.path.join(corpus, name)))
        t = meta["truth"]
        if not t["mrz_lines"]:
            continue  # US licences: no MRZ, not part of this comparison
        stem = name[:-5]
        # TD1 cards carry the MRZ on the back; every other MRZ document on the front.
        side = "back" if t["kind"] == "IdCardTd1" else "front"
        path = os.path.abspath(os.path.join(corpus, f"{stem}_{side}.jpg"))
        images.append(path)
        truth[path] = {"kind": t["kind"], "mrz_lines": t["mrz_lines"], "photo": meta["photo"]}
        if limit and len(images) >= limit:
            break
    with open(os.path.join(out, "images.txt"), "w") as f:
        f.write("\n".join(images) + "\n")
    json.dump(truth, open(os.path.join(out, "truth.json"), "w"), indent=1)
    print(f"{len(images)} MRZ images listed in {out}/images.txt")


def cpu_s():
    """CPU seconds of this process plus its finished children (the tesseract runs)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def cmd_passporteye(out):
    from passporteye import read_mrz
    from passporteye.mrz.text import MRZOCRCleaner

    images = [l.strip() for l in open(os.path.join(out, "images.txt")) if l.strip()]
    res_path = os.path.join(out, "passporteye.jsonl")
    done = set()
    if os.path.exists(res_path):
        for l in open(res_path):
            try:
                done.add(json.loads(l)["image"])
            except (ValueError, KeyError):
                pass  # a line cut by an interrupted run
    todo = [p for p in images if p not in done]
    if not todo:
        print("passporteye: all images already read")
        return
    # Untimed warm-up: the first call imports scikit-image submodules lazily.
    read_mrz(todo[0])
    with open(res_path, "a") as f:
        for i, path in enumerate(todo):
            err, m = None, None
            t, c = time.perf_counter(), cpu_s()
            try:
                m = read_mrz(path)
            except Exception as e:  # noqa: BLE001 - a crash counts as "not read", like our errors
                err = repr(e)
            ms = (time.perf_counter() - t) * 1000.0
            cpu_ms = (cpu_s() - c) * 1000.0
            raw = m.aux.get("raw_text") if m is not None else None
            rec = {
                "image": path,
                "ms": ms,
                "cpu_ms": cpu_ms,
                "detected": m is not None,
                "valid": bool(m.valid) if m is not None else False,
                "valid_score": m.valid_score if m is not None else 0,
                "method": m.aux.get("method") if m is not None else None,
                # The lines PassportEye parsed its fields from (read_mrz = MRZ.from_ocr(raw)).
                "lines": MRZOCRCleaner.apply(raw) if raw else None,
                "error": err,
            }
            f.write(json.dumps(rec) + "\n")
            f.flush()
            if (i + 1) % 25 == 0:
                print(f"passporteye: {len(done) + i + 1}/{len(images)} images", file=sys.stderr)


def pct(xs, q):
    xs = sorted(xs)
    return xs[int((len(xs) - 1) * q)] if xs else float("nan")


def score(out, name, lines_of):
    truth = json.load(open(os.path.join(out, "truth.json")))
    path = os.path.join(out, f"{name}.jsonl")
    recs = {}
    for l in open(path):
        r = json.loads(l)
        recs[r["image"]] = r
    rows = []
    for img, t in truth.items():
        r = recs.get(img)
        if r is None:
            continue
        lines = lines_of(r)
        want = mrz_fields(t["mrz_lines"])
        got = mrz_fields(lines)
        rows.append({
            "image": img,
            "kind": t["kind"],
            "ms": r["ms"],
            "cpu_ms": r.get("cpu_ms", float("nan")),
            "detected": bool(r["detected"]),
            "correct": got is not None and got == want,
            "core": got is not None and all(got[k] == want[k] for k in CORE),
            "exact": bool(lines) and list(lines) == t["mrz_lines"],
            # A reader that claims a valid MRZ (all check digits hold) with a wrong field.
            "valid_wrong": bool(r["valid"]) and not (got is not None and got == want),
        })
    return rows


def summarize(rows):
    n = len(rows)
    ms = [r["ms"] for r in rows]
    cpu = [r["cpu_ms"] for r in rows]
    return {
        "n": n,
        "correct": sum(r["correct"] for r in rows),
        "exact": sum(r["exact"] for r in rows),
        "core": sum(r["core"] for r in rows),
        "detected": sum(r["detected"] for r in rows),
        "valid_wrong": sum(r["valid_wrong"] for r in rows),
        "p50": statistics.median(ms) if ms else float("nan"),
        "p90": pct(ms, 0.9),
        "mean": statistics.fmean(ms) if ms else float("nan"),
        "cpu_p50": statistics.median(cpu) if cpu else float("nan"),
        "cpu_p90": pct(cpu, 0.9),
    }


def cmd_report(out):
    from importlib.metadata import version

    truth = json.load(open(os.path.join(out, "truth.json")))
    bad_truth = sum(not truth_parse_ok(t["mrz_lines"]) for t in truth.values())
    readers = {
        f"PassportEye {version('passporteye')} + Tesseract": score(out, "passporteye", lambda r: r.get("lines")),
        "Verity (MRZ only)": score(
            out, "verity", lambda r: r["mrz_string"].split("\n") if r.get("mrz_string") else None
        ),
    }
    # Compare on the images both readers finished (PassportEye may have been limited).
    common = set.intersection(*({r["image"] for r in rows} for rows in readers.values()))
    table = [
        "| reader | MRZ images | MRZ fully correct | exact MRZ text | core fields | MRZ detected "
        "| valid check digits, wrong field | median ms/image | p90 ms/image | mean ms/image "
        "| median CPU ms/image | p90 CPU ms/image |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    per_kind = {}
    for name, rows in readers.items():
        rows = [r for r in rows if r["image"] in common]
        s = summarize(rows)
        n = max(s["n"], 1)
        table.append(
            f"| {name} | {s['n']} | **{s['correct']}/{s['n']} = {100 * s['correct'] / n:.1f} %** "
            f"| {s['exact']}/{s['n']} = {100 * s['exact'] / n:.1f} % "
            f"| {s['core']}/{s['n']} = {100 * s['core'] / n:.1f} % "
            f"| {s['detected']}/{s['n']} = {100 * s['detected'] / n:.1f} % "
            f"| {s['valid_wrong']} | {s['p50']:,.0f} | {s['p90']:,.0f} | {s['mean']:,.0f} "
            f"| {s['cpu_p50']:,.0f} | {s['cpu_p90']:,.0f} |"
        )
        for r in rows:
            k = per_kind.setdefault(r["kind"], {}).setdefault(name, [0, 0])
            k[0] += r["correct"]
            k[1] += 1
    kinds = ["Passport", "IdCardTd1", "IdCardTd2", "VisaA", "VisaB"]
    table += ["", "| MRZ fully correct by kind | " + " | ".join(readers) + " |",
              "|---|" + "---|" * len(readers)]
    for kind in kinds:
        if kind in per_kind:
            cells = [f"{c}/{t}" for c, t in (per_kind[kind].get(n, [0, 0]) for n in readers)]
            table.append(f"| {kind} | " + " | ".join(cells) + " |")
    text = "\n".join(table)
    if bad_truth:
        text += (f"\n\n{bad_truth} ground-truth MRZs do not pass PassportEye's own validity check "
                 "(e.g. TD1 long document numbers); they are still scored field by field.")
    print(text)
    open(os.path.join(out, "table.md"), "w").write(text + "\n")


def main():
    a = sys.argv[1:]
    if not a:
        sys.exit(__doc__)
    if a[0] == "manifest":
        limit = int(a[a.index("--limit") + 1]) if "--limit" in a else 0
        cmd_manifest(a[1], a[2], limit)
    elif a[0] == "passporteye":
        cmd_passporteye(a[1])
    elif a[0] == "report":
        cmd_report(a[1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
