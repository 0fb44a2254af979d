"""Debian chroots with a real Blender: the GUI tests' window and the farm Worker's `blender`.

Usage (as root): python3 tools/gui/chroot.py [--suite trixie|sid] [--rebuild] [--stamp]
prints the chroot's path.

Two suites, because a Blender reads files of its own version and older only:
  trixie  Blender 4.3.2: the GUI tests' window, and the Worker's Blender for files saved by
          Blender 4.x (the 4.2 LTS tests). The default.
  sid     Debian unstable's Blender (5.2 when this was written): the Worker's Blender for files
          saved by Blender 5.0 (4.3 cannot open them: "may be from a newer version of Blender").

A chroot lives outside the clone, in `${XDG_CACHE_HOME:-~/.cache}/flamenco-desk/gui-chroot/`,
and is reused while its stamp (the recipe: suite, variant, mirror, packages) matches; a changed
recipe builds a new one. A build goes into a temporary folder that is renamed into place only when
it is complete, so an interrupted build never looks finished. The stamp also records the versions
that were installed (the host tools' and the chroot's), which cannot be pinned: Debian serves
whatever the suite holds today.

Standard library only: it runs with any Python 3, before any venv exists.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

DEFAULT_SUITE = "trixie"
SUITES = ("trixie", "sid")
VARIANT = "minbase"
MIRROR = "http://deb.debian.org/debian"
# Blender plus Mesa's software GL (llvmpipe) for GLX and EGL. EEVEE in `blender -b` dies
# without libegl1 ("Couldn't open libEGL.so.1", 4.3) and without libopengl0 ("Couldn't open
# libGL.so.1 or libOpenGL.so.0", 5.2): Debian's Blender does not depend on them.
# python3-requests is the add-on's HTTP library (Debian's Blender runs the system Python 3).
PACKAGES = ("blender", "python3-requests", "libgl1-mesa-dri", "libglx-mesa0", "libegl-mesa0", "libegl1",
            "libopengl0")
# Bump when the build steps change in a way the package list does not show.
RECIPE_VERSION = 3

# Host commands and the Debian packages that bring them.
HOST_TOOLS = {
    "/usr/sbin/debootstrap": "debootstrap",
    "/usr/bin/Xvfb": "xvfb",
    "/usr/bin/xdotool": "xdotool",
    # /usr/bin/import and /usr/bin/convert, not a `convert` found first on PATH: only
    # ImageMagick's can grab the X root window and crop.
    "/usr/bin/import": "imagemagick",
    "/usr/bin/convert": "imagemagick",
    "/usr/bin/xwininfo": "x11-utils",
}


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "flamenco-desk" / "gui-chroot"


def recipe(suite: str = DEFAULT_SUITE) -> dict[str, object]:
    if suite not in SUITES:
        raise ValueError(f"unknown suite {suite!r}; one of {SUITES}")
    return {
        "recipe_version": RECIPE_VERSION,
        "suite": suite,
        "variant": VARIANT,
        "mirror": MIRROR,
        "packages": sorted(PACKAGES),
    }


def recipe_key(suite: str = DEFAULT_SUITE) -> str:
    return hashlib.sha256(json.dumps(recipe(suite), sort_keys=True).encode()).hexdigest()[:16]


def chroot_dir(suite: str = DEFAULT_SUITE) -> Path:
    """Where the chroot for the suite's current recipe lives (built or not)."""
    return cache_root() / f"{suite}-{recipe_key(suite)}"


STAMP_NAME = "flamenco-desk-gui-chroot.json"


def stamp_path(root: Path) -> Path:
    # Inside the chroot, so the rename that publishes a build publishes its stamp with it.
    return root / "etc" / STAMP_NAME


def read_stamp(root: Path) -> Optional[dict[str, object]]:
    try:
        data = json.loads(stamp_path(root).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_ready(root: Path, suite: str = DEFAULT_SUITE) -> bool:
    stamp = read_stamp(root)
    return (
        stamp is not None
        and stamp.get("recipe") == recipe(suite)
        and (root / "usr" / "bin" / "blender").exists()
    )


def log(msg: str) -> None:
    print(f"gui-chroot: {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    log("$ " + " ".join(cmd))
    return subprocess.run(cmd, check=True, text=True, **kw)  # type: ignore[call-overload, no-any-return]


def ensure_host_tools() -> None:
    """Install the host tools that are missing, with apt (the machine runs as root)."""
    missing = sorted({pkg for path, pkg in HOST_TOOLS.items() if not Path(path).exists()})
    if not missing:
        return
    if os.geteuid() != 0:
        raise SystemExit(f"gui-chroot: missing host packages {missing}; install them as root")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update", "-q"], env=env, stdout=subprocess.DEVNULL)
    run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing], env=env, stdout=subprocess.DEVNULL)


def host_versions() -> dict[str, str]:
    return dpkg_versions(None, sorted(set(HOST_TOOLS.values())))


def dpkg_versions(root: Optional[Path], packages: list[str]) -> dict[str, str]:
    cmd = ["dpkg-query", "-W", "-f", "${Package}\t${Version}\n", *packages]
    if root is not None:
        cmd = ["chroot", str(root), *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    return dict(line.split("\t", 1) for line in out.splitlines() if "\t" in line)


def mounts_under(path: Path) -> list[str]:
    """Mount points at or below `path` (from /proc/mounts)."""
    prefix = str(path.resolve())
    found = []
    with open("/proc/mounts") as f:
        for line in f:
            point = line.split()[1].replace("\\040", " ")
            if point == prefix or point.startswith(prefix + "/"):
                found.append(point)
    return found


def remove_tree(path: Path) -> None:
    """Delete a chroot folder, but never through a mount: a bind-mounted host folder inside it
    would be deleted too."""
    if not path.exists():
        return
    mounted = mounts_under(path)
    if mounted:
        raise RuntimeError(f"refusing to delete {path}: still mounted: {mounted}")
    subprocess.run(["rm", "-rf", "--one-file-system", str(path)], check=True)


def build_into(tmp: Path, suite: str) -> None:
    cache = cache_root() / "debs"  # kept between builds: a rebuild downloads nothing twice
    cache.mkdir(parents=True, exist_ok=True)
    run(["debootstrap", f"--variant={VARIANT}", f"--cache-dir={cache}", suite, str(tmp), MIRROR])
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "DEBIAN_FRONTEND": "noninteractive",
        "LANG": "C.UTF-8",
        "HOME": "/root",
    }
    # Blender lists mounted file systems for its file browser from /etc/mtab.
    mtab = tmp / "etc" / "mtab"
    if not mtab.exists() and not mtab.is_symlink():
        mtab.symlink_to("../proc/self/mounts")
    # No services start inside the chroot.
    policy = tmp / "usr" / "sbin" / "policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    # The downloaded .debs are kept on the host, not in the chroot.
    apt_cache = tmp / "var" / "cache" / "apt" / "archives"
    for deb in cache.glob("*.deb"):
        target = apt_cache / deb.name
        if not target.exists():
            try:
                os.link(deb, target)
            except OSError:
                shutil.copy2(deb, target)
    # sid's Release file is valid for a week only; a package mirror that is a copy taken earlier
    # (as the one CI reaches can be) serves one that apt calls expired, and refuses.
    run(["chroot", str(tmp), "apt-get", "-o", "Acquire::Check-Valid-Until=false", "update", "-q"],
        env=env, stdout=subprocess.DEVNULL)
    run(
        ["chroot", str(tmp), "apt-get", "install", "-y", "-q", "--no-install-recommends", *PACKAGES],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    for deb in apt_cache.glob("*.deb"):
        if not (cache / deb.name).exists():
            shutil.copy2(deb, cache / deb.name)
    run(["chroot", str(tmp), "apt-get", "clean"], env=env)


def ensure(rebuild: bool = False, suite: str = DEFAULT_SUITE) -> Path:
    """The chroot's path; builds it first when it is missing or its recipe changed."""
    ensure_host_tools()
    root = chroot_dir(suite)
    if not rebuild and is_ready(root, suite):
        return root
    if os.geteuid() != 0:
        raise SystemExit("gui-chroot: building the chroot needs root (debootstrap, chroot)")
    base = cache_root()
    base.mkdir(parents=True, exist_ok=True)
    with _lock(base / ".lock"):
        if not rebuild and is_ready(root, suite):  # built by another process while we waited
            return root
        started = time.monotonic()
        tmp = base / f".building-{root.name}-{os.getpid()}"
        # Leftovers of interrupted builds (their process is gone: we hold the lock).
        for old in base.glob(".building-*"):
            remove_tree(old)
        try:
            build_into(tmp, suite)
            stamp = {
                "recipe": recipe(suite),
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "build_seconds": round(time.monotonic() - started, 1),
                "host_versions": host_versions(),
                "chroot_versions": dpkg_versions(
                    tmp, [*PACKAGES, "python3", "libgl1", "libegl1", "libglx0", "xkb-data"]
                ),
            }
            stamp_path(tmp).write_text(json.dumps(stamp, indent=2) + "\n")
            if root.exists():
                remove_tree(root)
            tmp.rename(root)
        except BaseException:
            remove_tree(tmp)
            raise
        # Chroots of older recipes are no longer used.
        for other in base.glob(f"{suite}-*"):
            if other != root and not mounts_under(other):
                remove_tree(other)
        log(f"built {root} in {time.monotonic() - started:.0f} s")
    return root


class _lock:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> None:
        self.fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


if __name__ == "__main__":
    args = sys.argv[1:]
    suite = DEFAULT_SUITE
    if "--suite" in args:
        at = args.index("--suite")
        suite = args[at + 1] if at + 1 < len(args) else ""
        del args[at:at + 2]
    if suite not in SUITES or any(a not in ("--rebuild", "--stamp") for a in args):
        raise SystemExit(__doc__)
    path = ensure(rebuild="--rebuild" in args, suite=suite)
    if "--stamp" in args:
        print(stamp_path(path).read_text(), end="")
    else:
        print(path)
