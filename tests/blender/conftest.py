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


sys.path.insert(0, str(ROOT / "tests"))
from support import jobtypes as sample_jobtypes  # noqa: E402
from support.stub_manager import StubManager, stub_manager_fixture  # noqa: E402

stub = pytest.fixture(stub_manager_fixture)


@pytest.fixture
def clean_desk(desk: ModuleType) -> Iterator[ModuleType]:
    """The add-on with no results in flight and an empty new file."""
    bpy.ops.wm.read_homefile(use_empty=True)
    desk.runtime.timer.bridge.drain(1.0)
    desk.submitting.last_outcome = None
    yield desk
    # Let background work of this test finish so it cannot leak into the next one.
    tick_until(desk, lambda: not desk.runtime.timer.bridge.pending(), timeout=30)


@pytest.fixture
def connected(clean_desk: ModuleType, stub: StubManager, prefs: object) -> ModuleType:
    """The add-on pointed at a fresh stub Manager, with its info fetched."""
    prefs.manager_url = stub.url  # type: ignore[attr-defined]
    prefs.connect_timeout = 1.0  # type: ignore[attr-defined]
    prefs.read_timeout = 3.0  # type: ignore[attr-defined]
    refresh(clean_desk)
    return clean_desk


def refresh(desk: ModuleType) -> None:
    assert bpy.ops.flamenco_desk.refresh_manager() == {"FINISHED"}
    tick_until(desk, lambda: not desk.runtime.timer.bridge.busy(desk.state.REFRESH_KEY))
    assert desk.state.info() is not None, desk.state.connection_line()


def save_shot(path: Path, frame_start: int = 1, frame_end: int = 12) -> Path:
    scene = bpy.context.scene
    scene.frame_start, scene.frame_end = frame_start, frame_end
    if scene.camera is None:
        cam = bpy.data.objects.new("ShotCam", bpy.data.cameras.new("ShotCam"))
        scene.collection.objects.link(cam)
        scene.camera = cam
    path.parent.mkdir(parents=True, exist_ok=True)
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    return path


def select_job_type(desk: ModuleType, name: str) -> object:
    desk.props.scene_props(bpy.context.scene).job_type = name
    grp = desk.jobtypes.registry.group(bpy.context.scene)
    assert desk.jobtypes.registry.job_type().name == name
    return grp
