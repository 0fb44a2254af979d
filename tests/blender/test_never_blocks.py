"""The main thread never waits on the network: operators and timer ticks return while the
Manager holds a request unanswered, refuses connections, or answers slowly."""

from __future__ import annotations

import time
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import bpy
import pytest

from support.blender_helpers import farm_jobs, refresh, save_shot, select_job_type, tick_until, unique_name
from local_farm import Farm
from support.fault_proxy import FaultProxy

# Far below every stall a test provokes (held until released, or 5 s): a call that returns
# under this bound did not wait for the Manager.
RETURNS_AT_ONCE = 0.5


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def ticks_stay_fast(desk: ModuleType, count: int = 20) -> float:
    worst = 0.0
    for _ in range(count):
        _, took = timed(desk.runtime.timer.tick)
        worst = max(worst, took)
        time.sleep(0.005)
    assert worst < RETURNS_AT_ONCE
    return worst


def test_connection_test_returns_while_manager_holds_the_request(clean_desk: ModuleType, proxy: FaultProxy, prefs: Any) -> None:
    desk = clean_desk
    prefs.manager_url, prefs.read_timeout = proxy.url, 30.0
    proxy.hold(r"^/api/v3/version$")

    result, took = timed(bpy.ops.flamenco_desk.test_connection)
    assert result == {"FINISHED"}
    assert took < RETURNS_AT_ONCE
    assert proxy.wait_until_held(1)
    ticks_stay_fast(desk)
    assert proxy.held_count() == 1, "the request must still be unanswered while Blender goes on"
    assert "Contacting" in desk.state.connection_line().text

    # A second click while the first is pending does not pile up requests.
    bpy.ops.flamenco_desk.test_connection()
    assert len(proxy.requests_to(r"^/api/v3/version$")) == 1

    proxy.release()
    tick_until(desk, lambda: desk.state.info() is not None)
    assert "Flamenco Desk Test Farm" in desk.state.connection_line().text


def test_refused_connection_is_reported_without_blocking(clean_desk: ModuleType, proxy: FaultProxy, prefs: Any) -> None:
    desk = clean_desk
    prefs.manager_url, prefs.connect_timeout = proxy.url, 1.0
    proxy.refuse_connections()
    result, took = timed(bpy.ops.flamenco_desk.refresh_manager)
    assert result == {"FINISHED"} and took < RETURNS_AT_ONCE
    ticks_stay_fast(desk, 5)
    tick_until(desk, lambda: not desk.runtime.timer.bridge.busy(desk.state.REFRESH_KEY), timeout=30)
    line = desk.state.connection_line()
    assert line.icon == "ERROR" and "not reachable" in line.text
    proxy.resume()
    refresh(desk)
    assert desk.state.connection_line().icon == "CHECKMARK"


def test_slow_manager_answer_after_5s_does_not_block(clean_desk: ModuleType, proxy: FaultProxy, prefs: Any) -> None:
    desk = clean_desk
    prefs.manager_url, prefs.read_timeout = proxy.url, 10.0
    proxy.delay(r"^/api/v3/jobs/types$", 5.0)
    started = time.monotonic()
    result, took = timed(bpy.ops.flamenco_desk.refresh_manager)
    assert result == {"FINISHED"} and took < RETURNS_AT_ONCE
    worst = 0.0
    while desk.runtime.timer.bridge.busy(desk.state.REFRESH_KEY):
        _, t = timed(desk.runtime.timer.tick)
        worst = max(worst, t)
        time.sleep(0.02)
        assert time.monotonic() - started < 20
    desk.runtime.timer.tick()
    assert time.monotonic() - started >= 5.0, "the delay really happened"
    assert worst < RETURNS_AT_ONCE
    assert desk.state.info() is not None


def test_submit_returns_while_manager_holds_the_submission(connected: ModuleType, proxy: FaultProxy, farm: Farm, tmp_path: Path) -> None:
    desk = connected
    save_shot(tmp_path / "artist" / "shot.blend")
    grp = select_job_type(desk, "echo-sleep-test")
    grp.message = "hello farm"
    proxy.hold(r"^/api/v3/jobs/check$")

    result, took = timed(lambda: bpy.ops.flamenco_desk.submit_job(mode="ASYNC"))
    assert result == {"FINISHED"} and took < RETURNS_AT_ONCE
    assert proxy.wait_until_held(1)
    ticks_stay_fast(desk)

    # No double submission while the first is on its way.
    assert not bpy.ops.flamenco_desk.submit_job.poll()
    with pytest.raises(RuntimeError):
        bpy.ops.flamenco_desk.submit_job(mode="ASYNC")

    proxy.release()
    tick_until(desk, lambda: desk.submitting.last_outcome is not None)
    assert desk.submitting.last_outcome.ok, desk.submitting.last_outcome.message
    assert len(farm_jobs(farm, blendfile=bpy.data.filepath)) == 1


def test_submit_to_a_manager_that_went_away(connected: ModuleType, proxy: FaultProxy, farm: Farm, tmp_path: Path) -> None:
    desk = connected
    save_shot(tmp_path / "artist" / "shot.blend")
    grp = select_job_type(desk, "echo-sleep-test")
    grp.message = "hello"
    proxy.refuse_connections()
    result, took = timed(lambda: bpy.ops.flamenco_desk.submit_job(mode="ASYNC"))
    assert result == {"FINISHED"} and took < RETURNS_AT_ONCE
    ticks_stay_fast(desk, 5)
    tick_until(desk, lambda: desk.submitting.last_outcome is not None, timeout=30)
    outcome = desk.submitting.last_outcome
    assert not outcome.ok
    assert "Manager" in outcome.message
    proxy.resume()
    assert farm_jobs(farm, blendfile=bpy.data.filepath) == []


def test_timer_survives_a_failing_callback(clean_desk: ModuleType) -> None:
    desk = clean_desk
    seen: list[str] = []

    def boom(_: object) -> None:
        raise ValueError("broken callback")

    desk.runtime.timer.bridge.run(lambda: 1, boom)
    desk.runtime.timer.bridge.run(lambda: 2, lambda v: seen.append(f"ok {v}"))
    tick_until(desk, lambda: bool(seen))
    assert seen == ["ok 2"]
    interval = desk.runtime.timer.tick()
    assert isinstance(interval, float) and interval > 0
    assert bpy.app.timers.is_registered(desk.runtime.timer.tick)


def test_every_manager_operator_returns_while_requests_are_held(connected: ModuleType, proxy: FaultProxy, farm: Farm, tmp_path: Path) -> None:
    desk = connected
    # Polled, not live: a live monitor's own REST reads (on subscribing) would be held too and
    # take the background threads the operators' requests are counted on.
    proxy.websockets = "refuse"
    # A real job with a real last-rendered frame: one frame rendered by the Worker.
    save_shot(tmp_path / "artist" / "shot.blend", 1, 1)
    select_job_type(desk, "simple-blender-render").render_output_root = str(farm.shared / "renders")
    assert bpy.ops.flamenco_desk.submit_job(mode="ASYNC") == {"FINISHED"}
    tick_until(desk, lambda: desk.submitting.last_outcome is not None)
    assert desk.submitting.last_outcome.ok, desk.submitting.last_outcome.message
    job_id = desk.submitting.last_outcome.job_id
    farm.wait_for_job(job_id)
    tag = farm.post_json("/api/v3/worker-mgt/tags", {"name": unique_name("tag")})
    refresh(desk)  # the tag menu lists the Manager's tags
    bpy.ops.flamenco_desk.open_job(job_id=job_id)
    mon = desk.watching.monitor
    for _ in range(6):  # job list, tasks, last-rendered, thumbnail, log
        mon.poll_soon()
        tick_until(desk, lambda: not desk.runtime.timer.bridge.busy(desk.watching.POLL_KEY))
        desk.runtime.timer.tick()
    assert mon.open_job is not None and mon.last_rendered is not None

    mon.next_poll_at = float("inf")  # only the operators send, below
    versions_before = len(proxy.requests_to(r"^/api/v3/version$"))
    # Everything but the event stream (it has a thread of its own; held, it is not an operator's).
    proxy.hold(r"^/(?!socket\.io/)")
    calls = {
        "test_connection": lambda: bpy.ops.flamenco_desk.test_connection(),
        # refresh_manager shares the connection test's request (no pile-up): checked below.
        "requeue": lambda: bpy.ops.flamenco_desk.job_action(job_id=job_id, action="requeue"),
        "set_priority": lambda: bpy.ops.flamenco_desk.set_priority(job_id=job_id, priority=10),
        "set_worker_tag": lambda: bpy.ops.flamenco_desk.set_worker_tag(job_id=job_id, tag=tag["id"]),
        "delete_job": lambda: bpy.ops.flamenco_desk.delete_job(job_id=job_id),
        "view_last_rendered": lambda: bpy.ops.flamenco_desk.view_last_rendered(job_id=job_id),
    }
    if not desk.state.info().features.settag:
        del calls["set_worker_tag"]  # not offered before Flamenco 3.8
    held = 0
    for name, call in calls.items():
        result, took = timed(call)
        assert result == {"FINISHED"}, name
        assert took < RETURNS_AT_ONCE, (name, took)
        held += 1
        assert proxy.wait_until_held(held), f"{name} sent nothing"
        ticks_stay_fast(desk, 3)
    result, took = timed(lambda: bpy.ops.flamenco_desk.refresh_manager())
    assert result == {"FINISHED"} and took < RETURNS_AT_ONCE
    assert len(proxy.requests_to(r"^/api/v3/version$")) == versions_before + 1, "a refresh while one is held adds none"
    mon.poll_soon()
    desk.runtime.timer.tick()
    assert proxy.wait_until_held(held + 1), "the monitor's poll went out"
    ticks_stay_fast(desk, 5)  # and is held too
    proxy.release()


def test_manager_info_is_cached_on_disk_for_the_next_start(connected: ModuleType, proxy: FaultProxy, farm: Farm) -> None:
    desk = connected
    cache = desk.state.cache_dir() / "manager-cache.json"
    assert cache.is_file() and str(cache).startswith(bpy.utils.extension_path_user(desk.state.ADDON_ID))
    desk.state._info = None  # as after a restart: nothing in memory
    desk.state._cache_loaded_for = None
    proxy.refuse_connections()
    info = desk.state.info()  # no network: from the cache
    assert info is not None and "simple-blender-render" in info.job_types
    assert info.storage.location == str(farm.shared)
    assert [t.name for t in info.tags] == [t["name"] for t in farm.get_json("/api/v3/worker-mgt/tags")["tags"]]
    proxy.resume()


def test_online_access_off_disables_manager_operators_and_polling(connected: ModuleType, proxy: FaultProxy, farm: Farm) -> None:
    desk = connected
    prefs_sys = bpy.context.preferences.system
    try:
        prefs_sys.use_online_access = False
        assert not bpy.app.online_access
        for op in (bpy.ops.flamenco_desk.submit_job, bpy.ops.flamenco_desk.refresh_manager,
                   bpy.ops.flamenco_desk.test_connection, bpy.ops.flamenco_desk.job_action):
            assert not op.poll()
        with pytest.raises(RuntimeError):
            bpy.ops.flamenco_desk.refresh_manager()
        before = len(proxy.requests_log)
        desk.watching.monitor.open("0ce16ece-eb68-4cb2-b010-ea6c861f1bfc")
        for _ in range(5):
            desk.runtime.timer.tick()
        assert len(proxy.requests_log) == before
    finally:
        prefs_sys.use_online_access = True
        desk.watching.monitor.open(None)
