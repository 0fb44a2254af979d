"""Validate and build the extension zip with Blender's own tool (shipped in the bpy wheel).

Usage: python tools/build_extension.py [OUTPUT_DIR]   (run with a venv that has bpy)
Prints the zip's path. Also imported by the tests.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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


def build(output_dir: Path) -> Path:
    output_dir.mkdir(parents=True, exist_ok=True)
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
