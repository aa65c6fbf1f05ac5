#!/usr/bin/env bash
# Fetch the document engine's model files and test assets, pinned and verified.
# Idempotent: files already in the cache with the right sha256 are not downloaded again.
# Never run at request time: the engine only reads what this script unpacked.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/../../.." && pwd)"
DEST="${VERITY_DOCUMENT_MODELS:-$REPO_ROOT/models/document}"
CACHE="${VERITY_CACHE:-$HOME/.cache/verity-doc}"

# PP-OCRv4 det + rec (Apache-2.0) ship inside this wheel.
RAPIDOCR_WHEEL="rapidocr_onnxruntime-1.4.4-py3-none-any.whl"
RAPIDOCR_SHA256="971d7d5f223a7a808662229df1ef69893809d8457d834e6373d3854bc1782cbf"
DET_SHA256="d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9"
REC_SHA256="48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b"
# Public-domain NASA portrait used only by the synthetic corpus (tests/bench), never committed.
SKIMAGE_VERSION="0.26.0"
ASTRONAUT_SHA256="88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5"

sha_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

mkdir -p "$CACHE" "$DEST"

# Fonts: OCR-B (the corpus' MRZ and the engine's MRZ glyph templates) and DejaVu (the corpus' visual zone).
if [ ! -f /usr/share/fonts/opentype/ocr-b/OCRB.otf ] || [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-ocr-b fonts-dejavu-core
  else
    echo "install fonts-ocr-b and fonts-dejavu-core with apt (needs root)" >&2
    exit 1
  fi
fi

if ! sha_ok "$CACHE/$RAPIDOCR_WHEEL" "$RAPIDOCR_SHA256"; then
  rm -f "$CACHE/$RAPIDOCR_WHEEL"
  python3 -m pip download --no-deps --only-binary=:all: "rapidocr-onnxruntime==1.4.4" -d "$CACHE"
fi
sha_ok "$CACHE/$RAPIDOCR_WHEEL" "$RAPIDOCR_SHA256" || { echo "sha256 mismatch: $RAPIDOCR_WHEEL" >&2; exit 1; }

if ! sha_ok "$DEST/ppocr_v4_det.onnx" "$DET_SHA256"; then
  unzip -p "$CACHE/$RAPIDOCR_WHEEL" rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx > "$DEST/ppocr_v4_det.onnx.tmp"
  mv "$DEST/ppocr_v4_det.onnx.tmp" "$DEST/ppocr_v4_det.onnx"
fi
if ! sha_ok "$DEST/ppocr_v4_rec.onnx" "$REC_SHA256"; then
  unzip -p "$CACHE/$RAPIDOCR_WHEEL" rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx > "$DEST/ppocr_v4_rec.onnx.tmp"
  mv "$DEST/ppocr_v4_rec.onnx.tmp" "$DEST/ppocr_v4_rec.onnx"
fi
sha_ok "$DEST/ppocr_v4_det.onnx" "$DET_SHA256" || { echo "sha256 mismatch: det model" >&2; exit 1; }
sha_ok "$DEST/ppocr_v4_rec.onnx" "$REC_SHA256" || { echo "sha256 mismatch: rec model" >&2; exit 1; }

# The scikit-image wheel is platform-specific, so pin the extracted file rather than the wheel.
if ! sha_ok "$DEST/astronaut.png" "$ASTRONAUT_SHA256"; then
  whl="$(ls "$CACHE"/scikit_image-"$SKIMAGE_VERSION"-*.whl 2>/dev/null | head -n1 || true)"
  if [ -z "$whl" ]; then
    python3 -m pip download --no-deps --only-binary=:all: "scikit-image==$SKIMAGE_VERSION" -d "$CACHE"
    whl="$(ls "$CACHE"/scikit_image-"$SKIMAGE_VERSION"-*.whl | head -n1)"
  fi
  unzip -p "$whl" skimage/data/astronaut.png > "$DEST/astronaut.png.tmp"
  mv "$DEST/astronaut.png.tmp" "$DEST/astronaut.png"
fi
sha_ok "$DEST/astronaut.png" "$ASTRONAUT_SHA256" || { echo "sha256 mismatch: astronaut.png" >&2; exit 1; }

echo "document models ready in $DEST"
