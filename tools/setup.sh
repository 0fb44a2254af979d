#!/usr/bin/env bash
# Creates the project's virtual environments: one per Blender version we test on.
# Each venv is real Blender as a Python module (the `bpy` wheel from PyPI) plus the test tools.
# Idempotent and cached: a venv is rebuilt only when its requirements change.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# The bpy wheels are built for CPython 3.11 only.
py="${PYTHON:-}"
if [ -z "$py" ]; then
  for cand in python3.11 python3; do
    if command -v "$cand" >/dev/null && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      py="$cand"; break
    fi
  done
fi
[ -n "$py" ] || { echo "setup: Python 3.11 is required (the bpy wheels are cp311)" >&2; exit 1; }

# The FUSE share the fault tests freeze (fusepy loads libfuse.so.2): installed with apt as root.
if ! ldconfig -p | grep -q 'libfuse.so.2'; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing libfuse2 with apt (the frozen-share tests' FUSE mount)" >&2
    pkg=libfuse2; apt-cache show libfuse2t64 >/dev/null 2>&1 && pkg=libfuse2t64
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg" >/dev/null \
      || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg" >/dev/null; }
  else
    echo "setup: libfuse2 is missing (Debian: sudo apt-get install libfuse2); the frozen-share tests will fail" >&2
  fi
fi

# BPY_VERSIONS: the Blender versions to prepare (default: the main one and the 4.2 LTS).
versions="${BPY_VERSIONS:-5.0.1 4.2.23}"
for v in $versions; do
  venv=".venv/bpy-$v"
  want="$(cat tools/requirements-dev.txt; echo "bpy==$v")"
  stamp="$venv/.requirements"
  if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    continue
  fi
  echo "setup: creating $venv" >&2
  rm -rf "$venv"
  "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "bpy==$v" -r tools/requirements-dev.txt
  printf '%s' "$want" > "$stamp"
done
