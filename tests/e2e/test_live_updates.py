"""The installed add-on in real Blender (bpy) kept current by the real Manager's event
stream, falling back to polling and back, across a Manager restart; its timer callback is
called directly (timers do not tick in the bpy module). The add-on talks to the Manager
through a loopback TCP relay (tests/support/tcp_relay.py), which passes websockets and can
drop them or refuse them. The other end-to-end tests use the fault proxy, which passes the
event stream too (they are live as well) and can refuse or hold it to force polling."""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import bpy
import pytest

from local_farm import Farm
from support.blender_helpers import refresh
from support.farm_jobs import echo_job
from support.fake_layout import FakeLayout
from support.tcp_relay import TcpRelay


def tick_until(desk: ModuleType, condition: Any, timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        desk.runtime.timer.tick()
        if time.monotonic() > deadline:
            mon = desk.watching.monitor
            raise AssertionError(f"not reached in {timeout:g} s: {what}; status {mon.status_line()!r}, error {mon.error!r}")
        time.sleep(0.01)


@pytest.fixture
def relay(farm: Farm) -> Iterator[TcpRelay]:
    with TcpRelay(farm.url) as tcp_relay:
        yield tcp_relay


@pytest.fixture
def desk(clean_desk: ModuleType, prefs: Any, relay: TcpRelay) -> Iterator[ModuleType]:
    """The add-on pointed at the real Manager through the relay, with a quick reconnect backoff."""
    clean_desk.watching.stream_options.update(retry_min=0.2, retry_max=1.0)
    prefs.manager_url, prefs.connect_timeout, prefs.read_timeout = relay.url, 2.0, 5.0
    refresh(clean_desk)
    yield clean_desk
    clean_desk.watching.monitor.open(None)
    clean_desk.watching.stop_live()
    clean_desk.watching.stream_options.clear()


def open_live(desk: ModuleType, job_id: str) -> object:
    assert bpy.ops.flamenco_desk.open_job(job_id=job_id) == {"FINISHED"}
    mon = desk.watching.monitor
    tick_until(desk, lambda: mon.live and mon.open_job is not None and mon.open_job.id == job_id and mon.tasks
               and not mon.pending_details, timeout=15, what="live, with the job and its tasks")
    return mon


def test_a_job_followed_over_the_stream(desk: ModuleType, farm: Farm) -> None:
    job_id = echo_job(farm, "blender live", sleep=1, repeats=2)
    mon = open_live(desk, job_id)
    assert mon.status_line() == "Live updates from the Manager"
    jobs_read = [0]
    real_poll = desk.core.monitor.poll

    def counting_poll(client: object, plan: object) -> object:
        jobs_read[0] += sum(1 for kind, _ in plan.requests if kind in ("job", "tasks", "list"))  # type: ignore[attr-defined]
        return real_poll(client, plan)

    desk.core.monitor.poll = counting_poll
    try:
        farm.post_json(f"/api/v3/jobs/{job_id}/setstatus", {"status": "queued", "reason": "test"})
        farm.kick_worker()
        seen: list[str] = []

        def done() -> bool:
            if mon.open_job is not None and (not seen or seen[-1] != mon.open_job.status):
                seen.append(mon.open_job.status)
            return mon.open_job is not None and mon.open_job.status == "completed" and \
                mon.task_counts.get("completed") == len(mon.tasks)

        tick_until(desk, done, timeout=120, what="the job completes")
    finally:
        desk.core.monitor.poll = real_poll
    assert "active" in seen and jobs_read[0] <= len(seen) + 2, (seen, jobs_read)
    # What the panels show comes from the events.
    layout = FakeLayout()
    desk.panels.jobs_ui.draw_open_job(layout, bpy.context)
    assert any(f == 1.0 for f, _ in layout.progresses())
    assert f"Tasks: {len(mon.tasks)} completed" in layout.text()
    farm_layout = FakeLayout()
    desk.panels.farm_ui.draw_farm(farm_layout, bpy.context)
    tick_until(desk, lambda: any(w.name == farm.worker_name for w in mon.farm.workers.values()), timeout=10)
    farm_layout = FakeLayout()
    desk.panels.farm_ui.draw_farm(farm_layout, bpy.context)
    assert any(farm.worker_name in label for label in farm_layout.labels())
    assert "Live updates from the Manager" in farm_layout.text()
    jobs_layout = FakeLayout()
    desk.panels.jobs_ui.draw_job_list(jobs_layout, bpy.context)
    assert "Live updates from the Manager" in jobs_layout.text()


def test_stream_absent_then_dropped_then_back(desk: ModuleType, farm: Farm, relay: TcpRelay) -> None:
    relay.block_websockets = True
    job_id = echo_job(farm, "blender no stream")
    assert bpy.ops.flamenco_desk.open_job(job_id=job_id) == {"FINISHED"}
    mon = desk.watching.monitor
    tick_until(desk, lambda: mon.stream is not None and mon.stream.refused and mon.open_job is not None, timeout=15)
    assert "not available" in mon.status_line()
    jobs_layout = FakeLayout()
    desk.panels.jobs_ui.draw_job_list(jobs_layout, bpy.context)
    assert "Polling every" in jobs_layout.text() and "not available" in jobs_layout.text()
    farm.post_json(f"/api/v3/jobs/{job_id}/setpriority", {"priority": 21})
    tick_until(desk, lambda: mon.open_job.priority == 21, timeout=25, what="the change found by polling")

    relay.block_websockets = False
    tick_until(desk, lambda: mon.live, timeout=15, what="the stream once it is there")
    connects = mon.stream.connects
    relay.drop_connections()  # a network blip
    tick_until(desk, lambda: mon.live and mon.stream.connects > connects, timeout=15, what="reconnected")
    farm.post_json(f"/api/v3/jobs/{job_id}/setpriority", {"priority": 22})
    tick_until(desk, lambda: mon.open_job.priority == 22, timeout=5, what="the change as an event")


def test_manager_restart(desk: ModuleType, farm: Farm) -> None:
    job_id = echo_job(farm, "blender restart")
    mon = open_live(desk, job_id)
    connects = mon.stream.connects
    farm.restart_manager()
    tick_until(desk, lambda: mon.live and mon.stream.connects > connects, timeout=30, what="back after the restart")
    farm.post_json(f"/api/v3/jobs/{job_id}/setpriority", {"priority": 64})
    tick_until(desk, lambda: mon.open_job.priority == 64 and mon.error is None, timeout=10)


def test_unregister_never_waits_for_the_stream(desk: ModuleType, farm: Farm, relay: TcpRelay) -> None:
    job_id = echo_job(farm, "blender unregister")
    open_live(desk, job_id)
    stream = desk.watching._live.stream
    # The Manager hangs: the stream's next handshake gets no answer (read timeout 5 s).
    relay.hold_websockets = True
    attempts = relay.websocket_attempts
    relay.drop_connections()
    tick_until(desk, lambda: relay.websocket_attempts > attempts, what="a handshake left hanging")
    time.sleep(0.2)
    started = time.perf_counter()
    desk.unregister()  # what disabling the add-on (or quitting Blender) runs
    took = time.perf_counter() - started
    try:
        assert took < 0.5, f"unregister took {took:.3f} s"
        deadline = time.monotonic() + 3
        while stream.alive and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not stream.alive, "the stream's thread ends by itself, well before its read timeout"
    finally:
        relay.hold_websockets = False
        desk.register()
