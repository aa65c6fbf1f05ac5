#!/usr/bin/env bash
# Run the didit-sdk compatibility suite against a locally built Verity.
#
#   tests/compat/run.sh [extra pytest args...]
#
# Environment:
#   VERITY_BIN              server binary (default: target/debug/verity; built
#                           with `cargo build -p verity` if it does not exist)
#   VERITY_TEST_DATABASE    sqlite (default) | postgres
#   VERITY_TEST_PG_URL      PostgreSQL server URL for the postgres mode
#                           (default postgres://postgres@127.0.0.1:5432)
#   PYTHON                  interpreter used to create the venv (default python3)
#
# The virtualenv lives in .cache/venv-compat (repo-relative, gitignored) and is
# reused across runs; requirements are installed quietly, and again only when
# requirements.txt changes. Exit code = pytest's.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

venv="$root/.cache/venv-compat"
py="${PYTHON:-python3}"

make_venv() {
    rm -rf "$venv"
    mkdir -p "$root/.cache"
    "$py" -m venv "$venv"
}

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    if ! make_venv >/dev/null 2>&1; then
        # Debian's python3 ships venv/ensurepip separately.
        echo "python3 -m venv failed; installing python3-venv" >&2
        if [ "$(id -u)" = 0 ]; then
            apt-get install -y -qq python3-venv >/dev/null \
                || { apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null; }
        else
            sudo apt-get install -y -qq python3-venv >/dev/null \
                || { sudo apt-get update -qq && sudo apt-get install -y -qq python3-venv >/dev/null; }
        fi
        make_venv
    fi
fi

# Reinstall only when requirements.txt changed since the last successful install.
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    "$venv/bin/python" -m pip install -q --disable-pip-version-check \
        -r "$here/requirements.txt"
    echo "$want" >"$stamp"
fi

bin="${VERITY_BIN:-target/debug/verity}"
case "$bin" in /*) bin_path="$bin" ;; *) bin_path="$root/$bin" ;; esac
if [ ! -x "$bin_path" ]; then
    if [ -z "${VERITY_BIN:-}" ]; then
        echo "building verity (debug)..." >&2
        cargo build -q -p verity
    else
        echo "VERITY_BIN=$VERITY_BIN does not exist" >&2
        exit 2
    fi
fi
export VERITY_BIN="$bin"

set +e
"$venv/bin/python" -m pytest -q -rxX -p no:cacheprovider "$here" "$@"
rc=$?
set -e
exit "$rc"
