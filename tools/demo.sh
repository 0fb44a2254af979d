#!/usr/bin/env bash
# The main job: a local Flamenco farm (the real Manager and Worker), headless Blender
# submitting a generated shot with Flamenco Desk, the add-on's live progress until the job
# completes, then where the frames and the preview video are.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
BPY_VERSIONS="5.0.1" bash tools/setup.sh
release="${DEMO_FLAMENCO_RELEASE:-3.8.5}"
bash tools/install_flamenco.sh "$release" >/dev/null
demo="$root/.cache/demo"
rm -rf "$demo"
mkdir -p "$demo"
# Blender's own chatter (file reads, saves, extension installs) is left out.
.venv/bpy-5.0.1/bin/python tools/demo_blender.py --release "$release" --workdir "$demo" 2>&1 \
  | grep --line-buffered -v -E "^([0-9:.]+ +blend +\||Info: |STATUS |Read blend|Writing: )"
