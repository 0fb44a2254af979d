#!/usr/bin/env bash
# The main job: a local farm, headless Blender submitting a shot with Flamenco Desk, and the
# add-on's live progress until the frames are on disk.
#
# The farm is the loopback stub Manager plus a worker loop rendering real frames with the
# bpy module: the real Flamenco Manager cannot be installed on this machine (the Go module
# proxy refuses its module; see README "Real Manager"). Every request and answer is still
# checked against Flamenco's OpenAPI file.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
BPY_VERSIONS="5.0.1" bash tools/setup.sh
py=".venv/bpy-5.0.1/bin/python"
demo="$root/.cache/demo"
rm -rf "$demo"
mkdir -p "$demo"

echo "NOTE: running against the loopback STUB Manager (the real Flamenco Manager is not installable here)."
"$py" tools/demo_farm.py --storage "$demo/shared" --url-file "$demo/manager-url" \
  --frame-seconds "${DEMO_FRAME_SECONDS:-1.0}" > "$demo/farm.log" 2>&1 &
farm=$!
trap 'kill "$farm" 2>/dev/null || true; wait "$farm" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s "$demo/manager-url" ] && break; sleep 0.1; done
[ -s "$demo/manager-url" ] || { cat "$demo/farm.log"; echo "demo: the farm did not start" >&2; exit 1; }

# Blender's own chatter (file reads, saves, extension installs) is left out.
"$py" tools/demo_blender.py --manager "$(cat "$demo/manager-url")" --workdir "$demo" 2>&1 \
  | grep --line-buffered -v -E "^([0-9:.]+ +blend +\||Info: |STATUS |Read blend|Writing: )"
