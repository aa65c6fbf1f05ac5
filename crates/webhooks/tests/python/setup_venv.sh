#!/usr/bin/env bash
# Creates the venv the receiver tests use and prints the VERITY_PYTHON to export.
#   crates/webhooks/tests/python/setup_venv.sh [VENV_DIR]
set -euo pipefail
venv="${1:-/root/.cache/verity-venvs/webhooks}"
here="$(cd "$(dirname "$0")" && pwd)"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
echo "export VERITY_PYTHON=$venv/bin/python"
