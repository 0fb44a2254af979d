"""Fixtures for tests in real Blender (a plugin loaded by tests/conftest.py): the extension
is built with Blender's own tool, installed from its zip the way users install it, and
enabled; it talks to the real Manager (farm_fixtures.py), through the fault proxy where a
test needs a fault."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType
from typing import Iterator

import pytest

import bpy  # after tests/conftest.py pointed Blender's user folders at a temp dir

from .blender_helpers import MODULE, ROOT, cancel_unfinished, refresh, tick_until

sys.path.insert(0, str(ROOT / "tools"))
import build_extension  # noqa: E402
from local_farm import Farm  # noqa: E402

from .fault_proxy import FaultProxy  # noqa: E402


@pytest.fixture(scope="session")
def extension_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_extension.build(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def desk(extension_zip: Path) -> ModuleType:
    """The installed, enabled add-on package."""
    module = build_extension.install(extension_zip)
    assert bpy.app.online_access
    return module  # type: ignore[return-value]


@pytest.fixture
def prefs(desk: ModuleType) -> Iterator[object]:
    p = bpy.context.preferences.addons[MODULE].preferences
    saved = (p.manager_url, p.connect_timeout, p.read_timeout)
    yield p
    # Looked up again: a test that unregisters and registers the add-on frees the class behind
    # `p`, and writing through it then crashes Blender (seen as a segfault in this teardown).
    p = bpy.context.preferences.addons[MODULE].preferences
    p.manager_url, p.connect_timeout, p.read_timeout = saved


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
def connected(clean_desk: ModuleType, proxy: FaultProxy, farm: Farm, prefs: object) -> Iterator[ModuleType]:
    """The add-on pointed at the real Manager (through this test's fault proxy), with its
    info fetched. Jobs the test leaves unfinished are canceled afterwards, so the shared
    Worker does not spend later tests on them."""
    prefs.manager_url = proxy.url  # type: ignore[attr-defined]
    prefs.connect_timeout = 1.0  # type: ignore[attr-defined]
    prefs.read_timeout = 5.0  # type: ignore[attr-defined]
    refresh(clean_desk)
    yield clean_desk
    cancel_unfinished(farm)
