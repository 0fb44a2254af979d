"""The extension validates, builds, installs from its zip and registers cleanly."""

from __future__ import annotations

import tomllib
import zipfile
from pathlib import Path
from types import ModuleType

import bpy

ROOT = Path(__file__).resolve().parents[2]


def test_zip_holds_the_addon_and_nothing_else(extension_zip: Path) -> None:
    names = zipfile.ZipFile(extension_zip).namelist()
    assert "blender_manifest.toml" in names
    assert "__init__.py" in names
    assert any(n.startswith("api/") for n in names)
    assert not any(n.startswith(("tests/", "tools/", "bench/", ".ci/", "manager_scripts/")) for n in names)


def test_manifest_matches_version_module(desk: ModuleType) -> None:
    manifest = tomllib.loads((ROOT / "blender_manifest.toml").read_text())
    assert manifest["id"] == "flamenco_desk"
    assert manifest["blender_version_min"] == "4.2.0"
    assert set(manifest["permissions"]) == {"network", "files"}
    assert desk.version.VERSION == manifest["version"]


def test_registered_names_do_not_clash_with_official_addon(desk: ModuleType) -> None:
    ops = [name for name in dir(bpy.ops.flamenco_desk)]
    assert {"submit_job", "refresh_manager", "test_connection", "eval_setting"} <= set(ops)
    assert not hasattr(bpy.ops, "flamenco") or "submit_job" not in dir(bpy.ops.flamenco)
    assert hasattr(bpy.types.Scene, "flamenco_desk")
    for name in dir(bpy.types):
        if name.upper().startswith("FLAMENCO_") and not name.upper().startswith("FLAMENCO_DESK"):
            raise AssertionError(f"class {name} uses the official add-on's prefix")


def test_timer_is_registered_and_persistent(desk: ModuleType) -> None:
    assert bpy.app.timers.is_registered(desk.runtime.timer.tick)


def test_api_package_is_bpy_free() -> None:
    for path in (ROOT / "api").rglob("*.py"):
        text = path.read_text()
        assert "import bpy" not in text and "from bpy" not in text, path
