"""The add-on's watching loop without Blender (what watching.tick_hook does, minus bpy): a
monitor, the Manager's event stream, bounded polls on a real Bridge, drained by `tick()` as
the add-on's timer drains it. Used by the plain-Python tests against the real Manager."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Optional

from flamenco_desk_src.api.client import ManagerClient
from flamenco_desk_src.core import live, monitor
from flamenco_desk_src.runtime.bridge import Bridge

POLL_KEY = "poll"


class Watcher:
    def __init__(self, url: str, *, stream: bool = True, retry_max: float = 2.0,
                 thumbnail_dir: Optional[Path] = None) -> None:
        self.bridge = Bridge()
        self.monitor = monitor.Monitor()
        self.client = ManagerClient(url, connect_timeout=2.0, read_timeout=10.0, max_retries=0)
        self.features = self.client.features()
        self.thumbnail_dir = thumbnail_dir
        self.requests: list[tuple[str, str]] = []
        self.crashes: list[BaseException] = []
        self.slices = 0
        self.link: Optional[live.LiveLink] = None
        if stream:
            self.link = live.LiveLink(url, self.monitor, self.bridge.post, connect_timeout=2.0, read_timeout=5.0,
                                      retry_min=0.2, retry_max=retry_max, on_applied=self._slice)
            self.link.start()

    def _slice(self) -> None:
        self.slices += 1

    def tick(self) -> None:
        self.bridge.drain(0.004)
        if self.link is not None:
            self.link.update()
        if self.bridge.busy(POLL_KEY) or not self.monitor.due():
            return
        plan = self.monitor.plan(self.thumbnail_dir, can_list=self.features.jobs_list)
        if not plan.requests:
            return
        self.requests += plan.requests
        self.bridge.run(lambda: monitor.poll(self.client, plan), self.monitor.apply, self.crashes.append, key=POLL_KEY)

    def run_until(self, condition: Callable[[], Any], timeout: float = 30.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            self.tick()
            if self.crashes:
                raise self.crashes[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"not reached in {timeout:g} s: {what or condition}; "
                                     f"status: {self.monitor.status_line()!r}, error: {self.monitor.error!r}")
            time.sleep(0.01)

    def run_for(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.tick()
            time.sleep(0.01)

    def requests_of(self, kind: str) -> list[tuple[str, str]]:
        return [r for r in self.requests if r[0] == kind]

    def close(self) -> None:
        if self.link is not None:
            self.link.stop()
        self.bridge.shutdown()
        self.client.close()

