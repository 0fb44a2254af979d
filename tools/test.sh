#!/usr/bin/env bash
# The whole test suite (.ci/run calls exactly this): type check, then every test in real
# Blender (bpy from PyPI) against the real Flamenco Manager and Worker, whose Worker renders
# with a real Blender that opens the files the tests save (tools/local_farm.py):
#   Blender 4.2 LTS: the add-on's tests and the end-to-end tests, Flamenco 3.8.5, Worker Blender 4.3.2
#   Blender 5.0.1:   all tests, Flamenco 3.8.5, Worker Blender 5 (Debian sid)
#   Blender 4.2 LTS: the end-to-end and API tests again, Flamenco 3.6, Worker Blender 4.3.2
# Installs what it needs first; fails, naming FLAMENCO_SRC, when Flamenco is not installed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
started=$(date +%s)
bash tools/setup.sh
for release in 3.8.5 3.6; do
  bash tools/install_flamenco.sh "$release" >/dev/null
done
# The real Blenders, in cached Debian chroots: trixie's 4.3.2 (the GUI tests' window, the Worker
# for Blender 4.x files) and sid's (the Worker for Blender 5.0 files).
for suite in trixie sid; do
  python3 tools/gui/chroot.py --suite "$suite" >/dev/null
done

# Each part says how long it took.
part() { local title="$1"; shift; echo "== $title"; local t0=$SECONDS; "$@"; echo "   ($(( SECONDS - t0 )) s)"; }

part "type check (mypy, fake-bpy-module for Blender 4.2)" bash tools/typecheck.sh
part "Blender 4.2 LTS: the add-on in real Blender, against Flamenco 3.8.5 (Worker: Blender 4.3.2)" \
  .venv/bpy-4.2.23/bin/python -m pytest tests/blender tests/e2e -q -p no:cacheprovider --flamenco-release=3.8.5 "$@"
part "Blender 5.0.1: all tests, against Flamenco 3.8.5 (Worker: Debian sid's Blender 5)" \
  .venv/bpy-5.0.1/bin/python -m pytest tests -q -p no:cacheprovider --flamenco-release=3.8.5 "$@"
part "Blender 4.2 LTS: end-to-end and API tests, against Flamenco 3.6 (Worker: Blender 4.3.2)" \
  .venv/bpy-4.2.23/bin/python -m pytest tests/e2e tests/api -q -p no:cacheprovider --flamenco-release=3.6 "$@"

echo "== All passed: end-to-end against the real Flamenco 3.8.5 and 3.6; took $(( $(date +%s) - started )) s"
