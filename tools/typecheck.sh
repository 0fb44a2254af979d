#!/usr/bin/env bash
# Type-check the add-on as the package it becomes when installed (`flamenco_desk`), against
# fake-bpy-module for Blender 4.2, the oldest Blender we support.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
py="${1:-$root/.venv/bpy-5.0.1/bin/python}"
work="$root/.cache/typecheck"
mkdir -p "$work"
ln -sfn "$root" "$work/flamenco_desk"
cd "$work"
"$py" -m mypy --config-file "$root/mypy.ini" --cache-dir "$work/.mypy_cache" -p flamenco_desk
