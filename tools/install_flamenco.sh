#!/usr/bin/env bash
# Install Flamenco Manager and Worker with the machine's Go from the Go module proxy, into
# .cache/flamenco/<release>/ (ignored, reused between runs). Release tags cannot be used by
# `go install` (the module path has no /v3), so releases are installed by commit.
#
# Not used by the tests yet: on this machine the proxy refuses the Flamenco module (README,
# "Real Manager"). Run it to check whether that changed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
module="projects.blender.org/studio/flamenco"
declare -A commits=(
  [3.8.5]=690bf6cee0140b494f04d086a88bcda6e098998a
  [3.7]=d7eca929504a8d1ea70701248b007c5fb5bb031a
  [3.6]=940f814fcc0c34644222b4650be507c34497f8df
)
release="${1:-3.8.5}"
commit="${commits[$release]:?unknown release $release (known: ${!commits[*]})}"
dest="$root/.cache/flamenco/$release"
if [ -x "$dest/flamenco-manager" ] && [ -x "$dest/flamenco-worker" ]; then
  echo "$dest"
  exit 0
fi
mkdir -p "$dest"
GOBIN="$dest" go install "$module/cmd/flamenco-manager@$commit" "$module/cmd/flamenco-worker@$commit"
mkdir -p "$dest/scripts"  # the Manager locates scripts/ once, at start-up
echo "$dest"
