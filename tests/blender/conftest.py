"""Fixtures for tests in real Blender: the extension is built with Blender's own tool,
installed from its zip the way users install it, and enabled."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType
from typing import Iterator

import pytest

import bpy  # after tests/conftest.py pointed Blender's user folders at a temp dir

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import build_extension  # noqa: E402

MODULE = "bl_ext.user_default.flamenco_desk"


@pytest.fixture(scope="session")
def extension_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_extension.build(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def desk(extension_zip: Path) -> ModuleType:
    """The installed, enabled add-on package."""
    bpy.context.preferences.system.use_online_access = True
    result = bpy.ops.extensions.package_install_files(
        filepath=str(extension_zip), repo="user_default", enable_on_install=True
    )
    assert result == {"FINISHED"}
    module = sys.modules[MODULE]
    assert MODULE in bpy.context.preferences.addons
    return module


@pytest.fixture
def prefs(desk: ModuleType) -> Iterator[object]:
    p = bpy.context.preferences.addons[MODULE].preferences
    saved = (p.manager_url, p.connect_timeout, p.read_timeout)
    yield p
    p.manager_url, p.connect_timeout, p.read_timeout = saved


def tick_until(desk: ModuleType, condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    """Call the add-on's timer callback (timers do not tick in the bpy module) until
    `condition()` holds."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        desk.runtime.timer.tick()
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)
