#!/usr/bin/env bash
# Puts a Flamenco Manager and Worker release where the tests, the demo and the benchmarks look:
#     ${XDG_CACHE_HOME:-$HOME/.cache}/flamenco-desk/flamenco/<release>/
#         flamenco-manager  flamenco-worker  openapi3.json (the API document that Manager serves)
# outside the clone, so every clone on this machine (CI's fresh ones too) shares one copy.
#
# Usage: [FLAMENCO_SRC=...] bash tools/install_flamenco.sh [RELEASE]     (RELEASE: 3.8.5, 3.6, ...)
#
# Where the release comes from, first match wins:
#   1. the cache above, when it already holds both executables;
#   2. FLAMENCO_SRC: the official release archive (flamenco-<release>-linux-amd64.tar.gz, as
#      offered on https://flamenco.blender.org/download/) or a folder holding that release's
#      flamenco-manager and flamenco-worker (the unpacked archive, or your own build);
#   3. the official archive downloaded from flamenco.blender.org, checked against the
#      checksum file published beside it (needs internet access);
#   4. otherwise: a message saying what to set, and exit code 2.
# This project does not build Flamenco itself (README, "Real Flamenco").
#
# The Worker makes preview videos with ffmpeg: installed with apt when missing (as root),
# otherwise the script says how.
set -euo pipefail
release="${1:-3.8.5}"
case "$release" in
  *[!0-9.]* | "" ) echo "install_flamenco: '$release' is not a release number like 3.8.5" >&2; exit 2 ;;
esac
cache="${XDG_CACHE_HOME:-$HOME/.cache}/flamenco-desk/flamenco"
dest="$cache/$release"
download_base="${FLAMENCO_DOWNLOADS:-https://flamenco.blender.org/downloads}"
archive_name="flamenco-$release-linux-amd64.tar.gz"

say() { echo "install_flamenco: $*" >&2; }

have_release() { [ -x "$1/flamenco-manager" ] && [ -x "$1/flamenco-worker" ]; }

ensure_ffmpeg() {
  command -v ffmpeg >/dev/null && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing ffmpeg with apt (the Worker's preview videos need it)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q ffmpeg >/dev/null \
      || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q ffmpeg >/dev/null; }
  else
    say "ffmpeg is missing: install it (Debian/Ubuntu: sudo apt-get install ffmpeg), or jobs fail at preview-video"
  fi
}

# Copies the two executables of an unpacked release (found anywhere under $1) into $dest.
install_from_folder() {
  local folder="$1" found manager worker
  found="$(find "$folder" -maxdepth 3 -type f -name flamenco-manager -perm -u+x -print -quit)"
  [ -n "$found" ] || return 1
  manager="$found"
  worker="$(dirname "$found")/flamenco-worker"
  [ -x "$worker" ] || return 1
  local tmp="$dest.partial.$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  cp "$manager" "$worker" "$tmp/"
  rm -rf "$dest"; mv "$tmp" "$dest"   # whole or not at all
}

install_from_archive() {
  local archive="$1" unpack
  unpack="$(mktemp -d)"
  trap 'rm -rf "$unpack"' RETURN
  case "$archive" in
    *.zip) (cd "$unpack" && unzip -q "$archive") ;;
    *) tar -xzf "$archive" -C "$unpack" ;;
  esac
  install_from_folder "$unpack"
}

looks_like_source() {
  [ -e "$1/go.mod" ] || [ -e "$1/HEAD" ] || [ -d "$1/.git" ] || [ -d "$1/cmd/flamenco-manager" ]
}

try_download() {
  command -v curl >/dev/null || return 1
  local tmp; tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  say "downloading $download_base/$archive_name"
  curl -fsSL --connect-timeout 10 -o "$tmp/$archive_name" "$download_base/$archive_name" || return 1
  if curl -fsSL --connect-timeout 10 -o "$tmp/sums" "$download_base/flamenco-$release.sha256"; then
    (cd "$tmp" && grep " \*\?$archive_name\$" sums | sha256sum -c --status -) \
      || { say "the download does not match flamenco-$release.sha256"; return 1; }
  else
    say "no checksum file next to the archive; refusing an unchecked download"
    return 1
  fi
  install_from_archive "$tmp/$archive_name"
}

# Starts the installed Manager once, on loopback with a throw-away database, to check its
# version and keep the API document it serves (the tests validate traffic against it).
check_and_record() {
  local work port manager_pid
  work="$(mktemp -d)"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  cp "$dest/flamenco-manager" "$work/"
  mkdir -p "$work/scripts" "$work/shared" "$work/storage"
  cat > "$work/flamenco-manager.yaml" <<EOF
_meta:
  version: 3
manager_name: install check
listen: 127.0.0.1:$port
database: $work/check.sqlite
autodiscoverable: false
local_manager_storage_path: $work/storage
shared_storage_path: $work/shared
shaman:
  enabled: false
EOF
  (cd "$work" && NO_COLOR=1 exec ./flamenco-manager >"$work/manager.log" 2>&1) &
  manager_pid=$!
  local version=""
  for _ in $(seq 1 200); do
    version="$(curl -fs "http://127.0.0.1:$port/api/v3/version" 2>/dev/null || true)"
    [ -n "$version" ] && break
    sleep 0.1
  done
  local ok=1
  if [ -z "$version" ]; then
    say "the installed Manager did not start:"; tail -20 "$work/manager.log" >&2; ok=0
  elif ! printf '%s' "$version" | grep -q "\"shortversion\":\"$release\""; then
    say "the Manager reports $version, not $release (a build needs the release's version ldflags)"; ok=0
  elif ! curl -fs -o "$dest/openapi3.json.tmp" "http://127.0.0.1:$port/api/v3/openapi3.json"; then
    say "could not read the Manager's API document"; ok=0
  else
    mv "$dest/openapi3.json.tmp" "$dest/openapi3.json"
  fi
  kill "$manager_pid" 2>/dev/null || true
  wait "$manager_pid" 2>/dev/null || true
  rm -rf "$work"
  if [ "$ok" != 1 ]; then rm -rf "$dest"; return 1; fi
}

ensure_ffmpeg

if have_release "$dest" && [ -s "$dest/openapi3.json" ]; then
  echo "$dest"
  exit 0
fi

mkdir -p "$cache"
if ! have_release "$dest"; then
  src="${FLAMENCO_SRC:-}"
  if [ -n "$src" ]; then
    src="$(cd "$(dirname "$src")" && pwd)/$(basename "$src")"
    if [ -f "$src" ]; then
      install_from_archive "$src" || { say "$src holds no flamenco-manager and flamenco-worker"; exit 2; }
    elif [ -d "$src" ] && install_from_folder "$src"; then
      :
    elif [ -d "$src" ] && looks_like_source "$src"; then
      say "FLAMENCO_SRC=$src is Flamenco's source, not a release: this project does not build Flamenco."
      say "Build it with Flamenco's own instructions (https://flamenco.blender.org/development/), with the"
      say "release's version, then set FLAMENCO_SRC to the folder holding flamenco-manager and flamenco-worker."
      exit 2
    else
      say "FLAMENCO_SRC=$src is neither a release archive nor a folder with flamenco-manager and flamenco-worker"
      exit 2
    fi
  elif ! try_download; then
    say "Flamenco $release is not installed in $dest and could not be downloaded."
    say "Set FLAMENCO_SRC to the release archive $archive_name (https://flamenco.blender.org/download/)"
    say "or to a folder holding Flamenco $release's flamenco-manager and flamenco-worker, then run again:"
    say "    FLAMENCO_SRC=... bash tools/install_flamenco.sh $release"
    exit 2
  fi
fi

check_and_record || exit 1
echo "$dest"
