"""The installed add-on in real Blender (bpy) kept current by the real Manager's event
stream, falling back to polling and back, across a Manager restart; its timer callback is
called directly (timers do not tick in the bpy module)."""

from __future__ import annotations

import socket
import time
from types import ModuleType

import bpy
import pytest
from fake_layout import FakeLayout
from live_helpers import MODULE, post, submit_echo, tick_until

from local_farm import Farm
from support.tcp_relay import TcpRelay


@pytest.fixture(scope="module")
def etag(farm: Farm) -> str:
    types = {jt["name"]: jt for jt in farm.get_json("/api/v3/jobs/types")["job_types"]}
    return str(types["echo-sleep-test"]["etag"])


def open_live(desk: ModuleType, job_id: str) -> object:
    assert bpy.ops.flamenco_desk.open_job(job_id=job_id) == {"FINISHED"}
    mon = desk.watching.monitor
    tick_until(desk, lambda: mon.live and mon.open_job is not None and mon.open_job.id == job_id and mon.tasks
               and not mon.pending_details, timeout=15, what="live, with the job and its tasks")
    return mon


def test_a_job_followed_over_the_stream(desk: ModuleType, farm: Farm, etag: str) -> None:
    job_id = submit_echo(farm.url, etag, "blender live", sleep=1, repeats=2)
    mon = open_live(desk, job_id)
    assert mon.status_line() == "Live updates from the Manager"
    jobs_read = [0]
    real_poll = desk.core.monitor.poll

    def counting_poll(client: object, plan: object) -> object:
        jobs_read[0] += sum(1 for kind, _ in plan.requests if kind in ("job", "tasks", "list"))  # type: ignore[attr-defined]
        return real_poll(client, plan)

    desk.core.monitor.poll = counting_poll
    try:
        post(farm.url, f"/api/v3/jobs/{job_id}/setstatus", {"status": "queued", "reason": "test"})
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
    assert any(f"completed: {len(mon.tasks)}" in label for label in layout.labels())
    farm_layout = FakeLayout()
    desk.panels.farm_ui.draw_farm(farm_layout, bpy.context)
    tick_until(desk, lambda: any(w.name == farm.worker_name for w in mon.farm.workers.values()), timeout=10)
    farm_layout = FakeLayout()
    desk.panels.farm_ui.draw_farm(farm_layout, bpy.context)
    assert any(farm.worker_name in label for label in farm_layout.labels())
    assert "Live updates from the Manager" in farm_layout.labels()


def test_stream_absent_then_dropped_then_back(desk: ModuleType, farm: Farm, etag: str, relay: TcpRelay) -> None:
    relay.block_websockets = True
    job_id = submit_echo(farm.url, etag, "blender no stream")
    assert bpy.ops.flamenco_desk.open_job(job_id=job_id) == {"FINISHED"}
    mon = desk.watching.monitor
    tick_until(desk, lambda: mon.stream is not None and mon.stream.refused and mon.open_job is not None, timeout=15)
    assert "not available" in mon.status_line()
    post(farm.url, f"/api/v3/jobs/{job_id}/setpriority", {"priority": 21})
    tick_until(desk, lambda: mon.open_job.priority == 21, timeout=25, what="the change found by polling")

    relay.block_websockets = False
    tick_until(desk, lambda: mon.live, timeout=15, what="the stream once it is there")
    connects = mon.stream.connects
    relay.drop_connections()  # a network blip
    tick_until(desk, lambda: mon.live and mon.stream.connects > connects, timeout=15, what="reconnected")
    post(farm.url, f"/api/v3/jobs/{job_id}/setpriority", {"priority": 22})
    tick_until(desk, lambda: mon.open_job.priority == 22, timeout=5, what="the change as an event")


def test_manager_restart(desk: ModuleType, farm: Farm, etag: str) -> None:
    job_id = submit_echo(farm.url, etag, "blender restart")
    mon = open_live(desk, job_id)
    connects = mon.stream.connects
    farm.restart_manager()
    tick_until(desk, lambda: mon.live and mon.stream.connects > connects, timeout=30, what="back after the restart")
    post(farm.url, f"/api/v3/jobs/{job_id}/setpriority", {"priority": 64})
    tick_until(desk, lambda: mon.open_job.priority == 64 and mon.error is None, timeout=10)


def test_unregister_never_waits_for_the_stream(desk: ModuleType, farm: Farm, etag: str, relay: TcpRelay) -> None:
    job_id = submit_echo(farm.url, etag, "blender unregister")
    open_live(desk, job_id)
    stream = desk.watching._live.stream
    # A second stream stuck in its handshake with a server that never answers.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    stuck = desk.api.event_stream.EventStream(f"http://127.0.0.1:{silent.getsockname()[1]}",
                                               on_event=lambda e: None, on_status=lambda s: None, read_timeout=30)
    stuck.start()
    time.sleep(0.2)
    started = time.perf_counter()
    bpy.ops.preferences.addon_disable(module=MODULE)
    stuck.stop()
    took = time.perf_counter() - started
    try:
        assert took < 0.5, f"disabling took {took:.3f} s"
        deadline = time.monotonic() + 3
        while (stream.alive or stuck.alive) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not stream.alive and not stuck.alive, "the streams' threads end by themselves"
    finally:
        silent.close()
        bpy.ops.preferences.addon_enable(module=MODULE)
