#!/usr/bin/env bash
# The whole test suite: type check, then every test in real Blender 5.0.1 (bpy from PyPI),
# then the Blender tests again in Blender 4.2 LTS. Installs what it needs (tools/setup.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash tools/setup.sh

echo "== type check (mypy, fake-bpy-module for Blender 4.2)"
bash tools/typecheck.sh

echo "== Blender 4.2 LTS: the add-on's tests in real Blender"
.venv/bpy-4.2.23/bin/python -m pytest tests/blender -q -p no:cacheprovider "$@"

echo "== Blender 5.0.1: all tests"
.venv/bpy-5.0.1/bin/python -m pytest tests -q -p no:cacheprovider "$@"
