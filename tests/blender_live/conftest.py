"""Fixtures for the add-on's live updates in real Blender (bpy), against the real Manager
behind a loopback relay (tests/support/tcp_relay.py). Kept apart from tests/blender, whose
fixtures are being moved from the stub to the real Manager; the add-on is installed once
per session whichever folder does it first."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType
from typing import Iterator

import pytest

import bpy  # after tests/conftest.py pointed Blender's user folders at a temp dir

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tools"), str(ROOT / "tests" / "blender")]
import build_extension  # noqa: E402
from live_helpers import MODULE, refresh, tick_until  # noqa: E402

from local_farm import Farm  # noqa: E402
from support.tcp_relay import TcpRelay  # noqa: E402


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> None:
    if MODULE not in bpy.context.preferences.addons:
        build_extension.install(build_extension.build(tmp_path_factory.mktemp("dist")))


@pytest.fixture
def live_desk(installed: None) -> ModuleType:
    """The add-on's package as loaded now (a test may disable and enable it again)."""
    return sys.modules[MODULE]


@pytest.fixture
def relay(farm: Farm) -> Iterator[TcpRelay]:
    with TcpRelay(farm.url) as tcp_relay:
        yield tcp_relay


@pytest.fixture
def desk(live_desk: ModuleType, relay: TcpRelay) -> Iterator[ModuleType]:
    """The add-on on an empty file, pointed at the real Manager through the relay, with a
    quick reconnect backoff."""
    bpy.ops.wm.read_homefile(use_empty=True)
    prefs = bpy.context.preferences.addons[MODULE].preferences
    saved = (prefs.manager_url, prefs.connect_timeout, prefs.read_timeout)
    live_desk.watching.stream_options.update(retry_min=0.2, retry_max=1.0)
    prefs.manager_url, prefs.connect_timeout, prefs.read_timeout = relay.url, 2.0, 5.0
    refresh(live_desk)
    yield live_desk
    live_desk.watching.monitor.open(None)
    prefs.manager_url, prefs.connect_timeout, prefs.read_timeout = saved
    live_desk.watching.stop_live()
    live_desk.watching.stream_options.clear()
    tick_until(live_desk, lambda: not live_desk.runtime.timer.bridge.pending(), timeout=30)
