#!/usr/bin/env bash
# The whole test suite (.ci/run calls exactly this): type check, then every test in real
# Blender (bpy from PyPI) against the real Flamenco Manager and Worker:
#   Blender 4.2 LTS: the add-on's tests and the end-to-end tests, Flamenco 3.8.5
#   Blender 5.0.1:   all tests, Flamenco 3.8.5; then the end-to-end tests again, Flamenco 3.6
# Installs what it needs first; fails, naming FLAMENCO_SRC, when Flamenco is not installed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
started=$(date +%s)
bash tools/setup.sh
for release in 3.8.5 3.6; do
  bash tools/install_flamenco.sh "$release" >/dev/null
done

# Each part says how long it took.
part() { local title="$1"; shift; echo "== $title"; local t0=$SECONDS; "$@"; echo "   ($(( SECONDS - t0 )) s)"; }

part "type check (mypy, fake-bpy-module for Blender 4.2)" bash tools/typecheck.sh
part "Blender 4.2 LTS: the add-on in real Blender, against Flamenco 3.8.5" \
  .venv/bpy-4.2.23/bin/python -m pytest tests/blender tests/e2e -q -p no:cacheprovider --flamenco-release=3.8.5 "$@"
part "Blender 5.0.1: all tests, against Flamenco 3.8.5" \
  .venv/bpy-5.0.1/bin/python -m pytest tests -q -p no:cacheprovider --flamenco-release=3.8.5 "$@"
part "Blender 5.0.1: end-to-end tests, against Flamenco 3.6" \
  .venv/bpy-5.0.1/bin/python -m pytest tests/e2e -q -p no:cacheprovider --flamenco-release=3.6 "$@"

echo "== All passed: end-to-end against the real Flamenco 3.8.5 and 3.6; took $(( $(date +%s) - started )) s"
