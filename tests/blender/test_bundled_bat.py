"""Blender Asset Tracer travels inside the extension zip as a wheel (never in the source
tree) and is importable once Blender installed the extension, in every tested Blender."""

from __future__ import annotations

import hashlib
import importlib
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
    # Blender unpacks extension wheels into the user extensions' shared site-packages and
    # puts that on sys.path. (Other test folders may put the wheel itself on sys.path too,
    # so the unpacked copy is checked where Blender put it.)
    sites = [Path(p) for p in sys.path if "extensions" in Path(p).parts and Path(p).name == "site-packages"]
    unpacked = [s / "blender_asset_tracer" for s in sites if (s / "blender_asset_tracer" / "__init__.py").is_file()]
    assert unpacked, sites
    assert '__version__ = "1.23"' in (unpacked[0] / "__init__.py").read_text()
    assert bpy.app.version >= (4, 2, 0)

    import blender_asset_tracer
    from blender_asset_tracer import pack, trace  # noqa: F401 - what the packer uses

    assert blender_asset_tracer.__version__ == "1.23"
    packing = importlib.import_module(f"{desk.__name__}.core.packing")  # the add-on's packer loads
    assert packing.bat.VERSION == "1.23"
