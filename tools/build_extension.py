"""Validate and build the extension zip with Blender's own tool (shipped in the bpy wheel).

Usage: python tools/build_extension.py [OUTPUT_DIR]   (run with a venv that has bpy)
Prints the zip's path. Also imported by the tests.

The wheels the manifest lists (Blender Asset Tracer) are not in the repository: they are
downloaded from PyPI into the git-ignored `wheels/` folder first, pinned by the hashes in
`tools/extension-wheels.txt`, and Blender's builder puts them into the zip.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WHEELS_DIR = ROOT / "wheels"
WHEEL_PINS = ROOT / "tools" / "extension-wheels.txt"


def blender_ext_tool() -> Path:
    """`bpy/<version>/scripts/addons_core/bl_pkg/cli/blender_ext.py`, found without importing
    bpy (importing it would fix Blender's user folders for this process)."""
    spec = importlib.util.find_spec("bpy")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("bpy is not installed in this Python; run tools/setup.sh")
    bpy_dir = Path(list(spec.submodule_search_locations)[0])
    found = sorted(bpy_dir.glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
    if not found:
        raise SystemExit(f"Blender's extension tool is missing under {bpy_dir}")
    return found[-1]


def _run(*args: str) -> str:
    proc = subprocess.run([sys.executable, str(blender_ext_tool()), *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"blender_ext {args[0]} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def _pins() -> dict[str, str]:
    """`name==version` → sha256 from tools/extension-wheels.txt."""
    pins: dict[str, str] = {}
    for line in WHEEL_PINS.read_text().splitlines():
        match = re.match(r"^\s*([A-Za-z0-9_.-]+==[^\s]+)\s+--hash=sha256:([0-9a-f]{64})\s*$", line)
        if match:
            pins[match.group(1)] = match.group(2)
    return pins


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_wheels() -> list[Path]:
    manifest = tomllib.loads((ROOT / "blender_manifest.toml").read_text())
    return [ROOT / w for w in manifest.get("wheels", [])]


def fetch_wheels() -> list[Path]:
    """Make sure every wheel the manifest lists is in wheels/ with its pinned hash; download
    the missing ones with pip (hash-checked, no dependencies). A present file with the right
    hash is kept, so rebuilding works offline."""
    wanted = manifest_wheels()
    known = set(_pins().values())
    if all(w.is_file() and _sha256(w) in known for w in wanted):
        return wanted
    WHEELS_DIR.mkdir(exist_ok=True)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--only-binary=:all:", "--require-hashes", "-r", str(WHEEL_PINS),
         "-d", str(WHEELS_DIR)],
        capture_output=True, text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"downloading the bundled wheels failed:\n{proc.stdout}\n{proc.stderr}")
    for wheel in wanted:
        if not wheel.is_file():
            raise RuntimeError(f"{wheel.name} is listed in blender_manifest.toml but not pinned in {WHEEL_PINS.name}")
        if _sha256(wheel) not in known:
            raise RuntimeError(f"{wheel} does not have a pinned hash; refusing to bundle it")
    return wanted


def build(output_dir: Path) -> Path:
    output_dir.mkdir(parents=True, exist_ok=True)
    fetch_wheels()
    _run("validate", str(ROOT))
    _run("build", "--source-dir", str(ROOT), "--output-dir", str(output_dir))
    zips = sorted(output_dir.glob("flamenco_desk-*.zip"), key=lambda p: p.stat().st_mtime)
    if not zips:
        raise RuntimeError(f"no zip was built in {output_dir}")
    _run("validate", str(zips[-1]))
    return zips[-1]


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "dist"
    print(build(out))


MODULE = "bl_ext.user_default.flamenco_desk"


def install(zip_path: Path) -> "object":
    """Install the zip into Blender's user extensions and enable it, as a user does from
    Preferences > Get Extensions > Install from Disk. Returns the add-on's package.

    Import bpy only after pointing BLENDER_USER_RESOURCES at a throw-away folder."""
    import bpy

    bpy.context.preferences.system.use_online_access = True
    result = bpy.ops.extensions.package_install_files(
        filepath=str(zip_path), repo="user_default", enable_on_install=True
    )
    if result != {"FINISHED"} or MODULE not in bpy.context.preferences.addons:
        raise RuntimeError(f"installing {zip_path} failed: {result}")
    return sys.modules[MODULE]
