"""How long Blender's main thread is held while the Manager misbehaves.

A real Flamenco Manager runs behind the tests' fault proxy. For each fault (every request
held unanswered, connections refused, answers after 5 s) this calls the add-on's operators
and its timer callback the way Blender would, and prints the wall time each call kept the
main thread; then the same with the Manager answering normally. For contrast it also times
one blocking request to the held Manager, which is what a client doing I/O on the main
thread pays.

Run: .venv/bpy-5.0.1/bin/python bench/main_thread_hold.py   (FLAMENCO_RELEASE=3.6 for 3.6)
"""

from __future__ import annotations

import time
from typing import Any, Callable

import _setup
from _setup import ms, summary

desk = _setup.installed_addon()
import bpy  # noqa: E402
import requests  # noqa: E402
from support.fault_proxy import FaultProxy  # noqa: E402

WINDOW = 2.0  # seconds of ticking per scenario


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def tick_for(seconds: float) -> list[float]:
    samples: list[float] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        samples.append(timed(desk.runtime.timer.tick))
        time.sleep(0.01)
    return samples


def scenario(name: str, proxy: FaultProxy, arm: Callable[[], None], disarm: Callable[[], None]) -> None:
    prefs = bpy.context.preferences.addons[desk.state.ADDON_ID].preferences
    prefs.manager_url, prefs.connect_timeout, prefs.read_timeout = proxy.url, 3.0, 10.0
    arm()
    ops = [timed(bpy.ops.flamenco_desk.test_connection)]
    ticks = tick_for(WINDOW)
    ops.append(timed(bpy.ops.flamenco_desk.refresh_manager))
    ticks += tick_for(WINDOW / 2)
    disarm()
    while desk.runtime.timer.bridge.pending():
        ticks.append(timed(desk.runtime.timer.tick))
        time.sleep(0.01)
    print(f"{name:32s} operators: max {ms(max(ops))}   ticks: {summary(ticks)}")


def main() -> None:
    with _setup.manager_behind_proxy() as (farm, proxy):
        print(f"Blender {bpy.app.version_string}, Flamenco Manager {farm.release} (real, behind the fault proxy); "
              "main-thread hold per call\n")
        scenario("answering normally", proxy, lambda: None, lambda: None)
        scenario("held unanswered", proxy, lambda: proxy.hold(r".*"), proxy.release)
        scenario("connection refused", proxy, proxy.refuse_connections, proxy.resume)
        scenario("answers after 5 s", proxy, lambda: proxy.delay(r".*", 5.0), proxy.clear_faults)

        proxy.hold(r".*")
        start = time.perf_counter()
        try:
            requests.get(proxy.url + "/api/v3/version", timeout=(3.0, 5.0))
        except requests.RequestException:
            pass
        blocked = time.perf_counter() - start
        proxy.release()
        print(f"\nfor contrast, one blocking request to the held Manager (5 s read timeout): {ms(blocked)}")
        proxy.assert_contract_clean()


if __name__ == "__main__":
    main()
