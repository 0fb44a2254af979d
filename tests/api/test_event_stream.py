"""The event-stream client against the real Manager: handshake, acknowledged subscriptions,
typed events, keep-alive pings, clean stop; refused upgrades (through the fault proxy told to
strip the upgrade, as a proxy without websocket support does: the Manager then answers 503). And
the streamed job list."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from typing import Any

import pytest

from api import ManagerClient, SubmittedJob
from api.event_stream import EventStream, StreamState, StreamStatus, stream_url
from api.events import ALL_JOBS, ALL_WORKERS, JOB, JobUpdate, Subscribed, Subscription, TaskUpdate
from api.joblist import job_from_row
from local_farm import Farm
from support.fault_proxy import FaultProxy
from support.farm_jobs import echo_settings, submit


class Recorder:
    def __init__(self) -> None:
        self.events: queue.Queue[Any] = queue.Queue()
        self.statuses: list[StreamStatus] = []

    def status(self, status: StreamStatus) -> None:
        self.statuses.append(status)

    def wait_for(self, match: Callable[[Any], bool], timeout: float = 10.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            try:
                event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError("the event did not arrive") from None
            if match(event):
                return event

    def wait_state(self, state: StreamState, timeout: float = 10.0) -> StreamStatus:
        deadline = time.monotonic() + timeout
        while not self.statuses or self.statuses[-1].state != state:
            if time.monotonic() > deadline:
                raise AssertionError(f"not {state}: {self.statuses[-3:]}")
            time.sleep(0.01)
        return self.statuses[-1]


def test_stream_url() -> None:
    assert stream_url("http://flamenco:8080") == "ws://flamenco:8080/socket.io/?EIO=3&transport=websocket"
    assert stream_url("https://farm.example/manager/") == "wss://farm.example/manager/socket.io/?EIO=3&transport=websocket"


def test_subscriptions_events_pings_and_stop(farm: Farm, make_job: Callable[..., SubmittedJob]) -> None:
    rec = Recorder()
    # Pings every 0.3 s: the Manager's pong and its own pings keep the connection healthy.
    stream = EventStream(farm.url, on_event=rec.events.put, on_status=rec.status, ping_interval=0.3, read_timeout=5.0)
    stream.start()
    try:
        stream.want({Subscription(ALL_JOBS)})
        rec.wait_for(lambda e: e == Subscribed(Subscription(ALL_JOBS)))
        assert rec.statuses[-1].state == StreamState.LIVE and rec.statuses[-1].connects == 1

        with ManagerClient(farm.url) as client:
            job = client.submit_job(make_job("echo-sleep-test", name="streamed"))
            created = rec.wait_for(lambda e: isinstance(e, JobUpdate) and e.id == job.id)
            assert created.previous_status is None and created.status == "paused" and created.name == "streamed"

            stream.want({Subscription(ALL_JOBS), Subscription(JOB, job.id), Subscription(ALL_WORKERS)})
            rec.wait_for(lambda e: e == Subscribed(Subscription(JOB, job.id)))
            client.set_job_status(job.id, "queued", "test")
            changed = rec.wait_for(lambda e: isinstance(e, JobUpdate) and e.id == job.id and e.status == "queued")
            assert changed.previous_status == "paused"
            # Mass task change: no task events, refresh_tasks instead (api-notes §5).
            client.set_job_status(job.id, "cancel-requested", "test")
            rec.wait_for(lambda e: isinstance(e, JobUpdate) and e.id == job.id and e.refresh_tasks)

        time.sleep(1.5)  # several ping/pong rounds
        assert stream.status.state == StreamState.LIVE and stream.status.connects == 1
        assert all(not isinstance(e, TaskUpdate) or e.job_id == job.id for e in list(rec.events.queue))
    finally:
        started = time.perf_counter()
        stream.stop()
        assert time.perf_counter() - started < 0.05, "stop() never waits"
    deadline = time.monotonic() + 2
    while stream.alive and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not stream.alive and rec.statuses[-1].state == StreamState.STOPPED


def test_events_of_a_job_the_worker_runs(farm: Farm) -> None:
    """Task events name their worker and count steps since 3.8; 3.6 sends neither, so the
    client reads an unnamed worker and 0/0 (api-notes §5)."""
    newest = farm.release != "3.6"
    job_id = submit(farm, "echo-sleep-test", echo_settings("events", seconds=1, repeats=1), priority=100,
                    initial_status="paused")["id"]
    rec = Recorder()
    stream = EventStream(farm.url, on_event=rec.events.put, on_status=rec.status)
    stream.start()
    try:
        stream.want({Subscription(ALL_JOBS), Subscription(JOB, job_id)})
        rec.wait_for(lambda e: e == Subscribed(Subscription(JOB, job_id)))
        farm.post_json(f"/api/v3/jobs/{job_id}/setstatus", {"status": "queued", "reason": "go"})
        farm.wait_for_job(job_id)
        events: list[Any] = []
        while not any(isinstance(e, JobUpdate) and e.id == job_id and e.status == "completed" for e in events):
            events.append(rec.wait_for(lambda e: True))
    finally:
        stream.stop()
    done = [e for e in events if isinstance(e, TaskUpdate) and e.status == "completed"]
    assert sorted(e.name for e in done) == ["echo", "sleep"] and {e.job_id for e in done} == {job_id}
    if newest:
        assert {(e.worker_name, e.steps_completed, e.steps_total) for e in done} == {(farm.worker_name, 1, 1)}
    else:
        assert {(e.worker_id, e.worker_name, e.steps_completed, e.steps_total) for e in done} == {("", "", 0, 0)}
    completed = next(e for e in events if isinstance(e, JobUpdate) and e.status == "completed")
    assert (completed.previous_status, completed.steps_completed, completed.steps_total) == (
        "active", *((2, 2) if newest else (0, 0)))


def test_upgrade_refused_is_reported_and_retried(proxy: FaultProxy) -> None:
    proxy.websockets = "refuse"
    rec = Recorder()
    stream = EventStream(proxy.url, on_event=rec.events.put, on_status=rec.status, retry_min=0.1, retry_max=0.2)
    stream.start()
    try:
        down = rec.wait_state(StreamState.DOWN)
        assert down.refused and "no event stream" in down.detail and "503" in down.detail
        time.sleep(0.6)
        assert len([s for s in rec.statuses if s.state == StreamState.DOWN]) >= 2, "it keeps trying"
    finally:
        stream.stop()
    assert proxy.requests_to(r"^/socket\.io/$")


def test_unreachable_manager_backs_off() -> None:
    rec = Recorder()
    stream = EventStream("http://127.0.0.1:9", on_event=rec.events.put, on_status=rec.status,
                         retry_min=0.1, retry_max=0.4)
    stream.start()
    try:
        time.sleep(1.2)
    finally:
        stream.stop()
    downs = [s for s in rec.statuses if s.state == StreamState.DOWN]
    assert downs and "refused" in downs[0].detail and not downs[0].refused
    assert [s.retry_in for s in downs[:3]] == [0.1, 0.2, 0.4]


def test_streamed_job_list_equals_the_whole_one(client: ManagerClient, make_job: Callable[..., SubmittedJob]) -> None:
    for n in range(3):
        client.submit_job(make_job("echo-sleep-test", name=f"listed {n}"))
    rows = client.job_rows()
    whole = {job.id: job for job in client.jobs()}
    assert len(rows) == len(whole) >= 3
    for row in rows:
        job, slim = whole[row[0]], job_from_row(row)
        assert (slim.name, slim.type, slim.status, slim.priority, slim.created, slim.updated, slim.steps_completed,
                slim.steps_total, slim.worker_tag, slim.delete_requested_at) == (
            job.name, job.type, job.status, job.priority, job.created, job.updated, job.steps_completed,
            job.steps_total, job.worker_tag, job.delete_requested_at)


def test_stop_while_connecting_to_a_silent_server() -> None:
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    rec = Recorder()
    stream = EventStream(f"http://127.0.0.1:{silent.getsockname()[1]}", on_event=rec.events.put,
                         on_status=rec.status, read_timeout=30.0)
    stream.start()
    time.sleep(0.3)  # the upgrade request is out, unanswered
    started = time.perf_counter()
    stream.stop()
    assert time.perf_counter() - started < 0.05
    deadline = time.monotonic() + 2
    while stream.alive and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not stream.alive, "the stopped stream's thread ends without waiting for the read timeout"
    assert rec.statuses[-1].state == StreamState.STOPPED
    # The silent server got the upgrade request, then saw the stopped stream hang up.
    silent.settimeout(2)
    connection, _ = silent.accept()
    connection.settimeout(2)
    received = b""
    while chunk := connection.recv(4096):
        received += chunk
    connection.close()
    silent.close()
    assert received.startswith(b"GET /socket.io/?EIO=3&transport=websocket HTTP/1.1\r\n"), received
    assert b"\r\nUpgrade: websocket\r\n" in received and received.endswith(b"\r\n\r\n"), received
