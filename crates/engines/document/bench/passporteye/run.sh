#!/usr/bin/env bash
# PassportEye vs Verity: MRZ accuracy and time per image, same corpus, same machine.
#
#   crates/engines/document/bench/passporteye/run.sh [N=500] [SEED=7] [--limit K]
#
# N, SEED: the synthetic corpus of `examples/evaluate.rs` (same documents, same bytes); only
# the documents with an MRZ are read (front, or back for TD1 cards). --limit K reads only the
# first K MRZ images (kinds rotate, so every kind stays covered). Prints the Markdown table
# (also written to $RUN/table.md). Re-runnable: the venv and the corpus are reused when present;
# both readers are re-timed every run, unless RESUME=1, which keeps the PassportEye results
# already in $RUN/passporteye.jsonl (to finish an interrupted run).
#
# Needs: Debian's tesseract-ocr (installed here with apt-get when missing and run as root),
# python3 with venv, the models in models/document (scripts/fetch-models). Downloads nothing at
# run time beyond that setup: pip installs the pinned requirements.txt once.
# Environment: OUT (work dir, default .cache/pe-bench), VENV (default .cache/venv-passporteye),
# RESUME=1 (see above).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../../../.." && pwd)"
N=500 SEED=7 LIMIT=0
pos=()
while [ $# -gt 0 ]; do
  case "$1" in
    --limit) LIMIT="$2"; shift 2 ;;
    *) pos+=("$1"); shift ;;
  esac
done
[ ${#pos[@]} -ge 1 ] && N="${pos[0]}"
[ ${#pos[@]} -ge 2 ] && SEED="${pos[1]}"
OUT="${OUT:-$ROOT/.cache/pe-bench}"
VENV="${VENV:-$ROOT/.cache/venv-passporteye}"
CORPUS="$OUT/corpus-$N-$SEED"
RUN="$OUT/run-$N-$SEED-limit$LIMIT"

# Both readers single-threaded: Tesseract (OpenMP), numpy/scipy BLAS. tract runs on one thread.
export OMP_THREAD_LIMIT=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

# 1. Tesseract from Debian.
if ! command -v tesseract >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq tesseract-ocr
  else
    echo "tesseract missing: apt-get install tesseract-ocr" >&2; exit 1
  fi
fi

# 2. The pinned venv; reinstalled only when requirements.txt changed.
REQ="$HERE/requirements.txt"
if [ ! -x "$VENV/bin/python" ] || ! cmp -s "$REQ" "$VENV/.requirements.txt"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQ"
  cp "$REQ" "$VENV/.requirements.txt"
fi
PY="$VENV/bin/python"

# 3. Our side: models and the two examples (release).
if ! ls "$ROOT"/models/document/*.onnx >/dev/null 2>&1; then
  echo "models/document/*.onnx missing: run scripts/fetch-models" >&2; exit 1
fi
(cd "$ROOT" && nice -n 10 cargo build --release -q -p verity-document \
  --example generate --example read_mrz_files)
BIN="$ROOT/target/release/examples"

# 4. The corpus as files: exactly the bytes evaluate.rs reads (synth::corpus_item).
if [ ! -f "$CORPUS/.done" ]; then
  rm -rf "$CORPUS"
  "$BIN/generate" "$CORPUS" "$N" "$SEED"
  touch "$CORPUS/.done"
fi
mkdir -p "$RUN"
[ "${RESUME:-0}" = 1 ] || rm -f "$RUN/passporteye.jsonl"
"$PY" "$HERE/compare.py" manifest "$CORPUS" "$RUN" --limit "$LIMIT"

# 5. The two readers, one after the other (never concurrently: they share 2 cores). The
# machine's load goes to machine.txt: wall times mean little if other jobs were running.
{
  echo "date: $(date -u '+%F %T UTC'); $(nproc --all) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
  echo "PassportEye $("$PY" -c 'import importlib.metadata as m; print(m.version("passporteye"))'); $(tesseract --version 2>&1 | head -1); Python $("$PY" -c 'import platform; print(platform.python_version())')"
  echo "before PassportEye: $(uptime)"
} > "$RUN/machine.txt"
"$PY" "$HERE/compare.py" passporteye "$RUN"
echo "before Verity:      $(uptime)" >> "$RUN/machine.txt"
"$BIN/read_mrz_files" "$RUN/images.txt" > "$RUN/verity.jsonl"
echo "after:              $(uptime)" >> "$RUN/machine.txt"
cat "$RUN/machine.txt" >&2

# 6. Score both with the same definition.
"$PY" "$HERE/compare.py" report "$RUN"
