#!/usr/bin/env bash
# Runs .ci/run the way a machine that never ran it would, to catch a green CI that only passes
# because of what an earlier run left behind (an X server's /tmp/.X11-unix, a built chroot, a
# venv, a pip cache):
#   - a clean clone of the committed HEAD (nothing uncommitted, no .venv, no .cache);
#   - a private mount namespace whose /tmp is a new, empty tmpfs;
#   - XDG_CACHE_HOME pointing to an empty folder that holds only the Flamenco binaries, copied
#     from the real cache (this project does not build Flamenco; see tools/install_flamenco.sh),
#     so the venvs, the pip cache and the Blender chroots are all made from nothing.
# Debian packages the scripts install on the host with apt stay installed (they are the machine's).
#
# Usage (as root): bash tools/fresh_check.sh          prints .ci/run's output, then its summary and time
# FRESH_KEEP=1 keeps the scratch folder (clone, caches, log) for a look afterwards.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ "$(id -u)" = 0 ] || { echo "fresh_check: run as root (mount namespace, chroots)" >&2; exit 2; }
real_cache="${XDG_CACHE_HOME:-$HOME/.cache}/flamenco-desk/flamenco"

# Not under /tmp: /tmp is replaced inside. On disk, not in memory: the chroots are large.
scratch="$(mktemp -d /var/tmp/flamenco-desk-fresh.XXXXXX)"
cleanup() {
  if [ "${FRESH_KEEP:-0}" = 1 ]; then echo "fresh_check: kept $scratch"; return; fi
  rm -rf --one-file-system "$scratch"
}
trap cleanup EXIT

git clone -q "$root" "$scratch/clone"
echo "fresh_check: clone of $(git -C "$scratch/clone" log -1 --format='%h %s')"
mkdir -p "$scratch/cache/flamenco-desk/flamenco"
for release in 3.8.5 3.6; do
  src="$real_cache/$release"
  [ -x "$src/flamenco-manager" ] && [ -x "$src/flamenco-worker" ] || {
    echo "fresh_check: Flamenco $release is not in $src; install it first (tools/install_flamenco.sh)" >&2; exit 2; }
  mkdir -p "$scratch/cache/flamenco-desk/flamenco/$release"
  cp "$src/flamenco-manager" "$src/flamenco-worker" "$scratch/cache/flamenco-desk/flamenco/$release/"
done

started=$(date +%s)
set +e
# --kill-child: nothing the run started outlives it.
unshare --mount --propagation private --fork --kill-child env -u XDG_CACHE_HOME \
  FRESH_SCRATCH="$scratch" bash -c '
    set -e
    mount -t tmpfs -o mode=1777 fresh-tmp /tmp
    cd "$FRESH_SCRATCH/clone"
    XDG_CACHE_HOME="$FRESH_SCRATCH/cache" PIP_CACHE_DIR="$FRESH_SCRATCH/cache/pip" CI=true bash .ci/run </dev/null
  ' 2>&1 | tee "$scratch/fresh.log"
code=${PIPESTATUS[0]}
set -e
took=$(( $(date +%s) - started ))
cp "$scratch/fresh.log" "$root/.cache/fresh-check.log" 2>/dev/null || { mkdir -p "$root/.cache" && cp "$scratch/fresh.log" "$root/.cache/fresh-check.log"; }
summary="$(grep -E '^== All passed|^[0-9]+ (passed|failed)|^=+ .*(passed|failed)' "$scratch/fresh.log" | tail -n 6)"
echo
echo "fresh_check: .ci/run from an empty /tmp and an empty cache exited $code after $took s"
echo "$summary"
echo "fresh_check: full log in $root/.cache/fresh-check.log"
exit "$code"
