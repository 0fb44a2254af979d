"""Blender Asset Tracer travels inside the extension zip as a wheel (never in the source
tree) and is importable once Blender installed the extension, in every tested Blender."""

from __future__ import annotations

import hashlib
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import bpy

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import build_extension  # noqa: E402

BAT_WHEEL = "wheels/blender_asset_tracer-1.23-py3-none-any.whl"


def test_zip_carries_the_pinned_bat_wheel(extension_zip: Path) -> None:
    with zipfile.ZipFile(extension_zip) as zf:
        assert BAT_WHEEL in zf.namelist()
        digest = hashlib.sha256(zf.read(BAT_WHEEL)).hexdigest()
        assert not any(n.startswith("blender_asset_tracer/") for n in zf.namelist())
    assert digest in build_extension._pins().values()


def test_bat_is_not_part_of_the_source_tree() -> None:
    tracked = (ROOT / ".gitignore").read_text().splitlines()
    assert "/wheels/" in tracked
    assert not (ROOT / "blender_asset_tracer").exists()


def test_installed_extension_imports_bat(desk: ModuleType) -> None:
    import blender_asset_tracer
    from blender_asset_tracer import pack, trace  # noqa: F401 - what the packer uses

    # Blender unpacks extension wheels into the user extensions' shared site-packages.
    where = Path(blender_asset_tracer.__file__).resolve()
    assert "extensions" in where.parts and "site-packages" in where.parts, where
    assert bpy.app.version >= (4, 2, 0)
    assert getattr(blender_asset_tracer, "__version__", "") == "1.23"
