"""Helpers for the add-on's tests in real Blender (a plain module: `conftest` names clash)."""

from __future__ import annotations

import json
import time
import urllib.request
from types import ModuleType
from typing import Any, Callable

import bpy

MODULE = "bl_ext.user_default.flamenco_desk"


def tick_until(desk: ModuleType, condition: Callable[[], Any], timeout: float = 10.0, what: str = "") -> None:
    """Call the add-on's timer callback (timers do not tick in the bpy module) until
    `condition()` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        desk.runtime.timer.tick()
        if time.monotonic() > deadline:
            mon = desk.watching.monitor
            raise AssertionError(f"not reached in {timeout:g} s: {what}; status {mon.status_line()!r}, error {mon.error!r}")
        time.sleep(0.01)


def refresh(desk: ModuleType) -> None:
    assert bpy.ops.flamenco_desk.refresh_manager() == {"FINISHED"}
    tick_until(desk, lambda: not desk.runtime.timer.bridge.busy(desk.state.REFRESH_KEY))
    assert desk.state.info() is not None, desk.state.connection_line()


def post(url: str, path: str, body: Any) -> Any:
    request = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        data = response.read()
    return json.loads(data) if data else None


def submit_echo(url: str, etag: str, name: str, sleep: int = 1, repeats: int = 1) -> str:
    """An echo-sleep-test job, submitted paused (the session's Worker runs it when resumed)."""
    body = {
        "name": name, "type": "echo-sleep-test", "priority": 50, "submitter_platform": "linux", "type_etag": etag,
        "settings": {"message": name, "sleep_duration_seconds": sleep, "sleep_repeats": repeats}, "metadata": {},
        "initial_status": "paused",
    }
    return str(post(url, "/api/v3/jobs", body)["id"])
