"""The fault proxy in front of the real Manager does what the tests rely on: real answers pass
through unchanged, faults happen exactly where and as often as asked, a dropped response is
one the Manager did act on, and the Manager's event stream passes through (or is refused or
held, on request)."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable

import pytest
import requests

from api import ManagerClient, SubmittedJob
from api.event_stream import EventStream, StreamState, StreamStatus
from api.events import ALL_JOBS, JobUpdate, Subscribed, Subscription
from local_farm import Farm
from support.fault_proxy import FaultProxy
from support.farm_jobs import echo_job, unique, wait_until

MakeJob = Callable[..., SubmittedJob]


def _jobs_named(farm: Farm, name: str) -> list[str]:
    return [job["id"] for job in farm.get_json("/api/v3/jobs")["jobs"] if job["name"] == name]


def test_real_answers_pass_through_unchanged(proxy: FaultProxy, farm: Farm) -> None:
    through = requests.get(proxy.url + "/api/v3/jobs/types", timeout=10)
    assert through.status_code == 200 and through.headers["Content-Type"].startswith("application/json")
    assert through.json() == farm.get_json("/api/v3/jobs/types")
    assert through.headers["Date"].count(",") == 1  # one Date ("Tue, 01 Dec …"), not the Manager's and ours
    assert proxy.contract_violations == []


def test_canned_responses_are_counted(proxy: FaultProxy) -> None:
    proxy.respond(r"/status$", 500, {"code": 500, "message": "x"}, times=2)
    codes = [requests.get(proxy.url + "/api/v3/status", timeout=10).status_code for _ in range(3)]
    assert codes == [500, 500, 200]  # then the real Manager again
    assert [r.path for r in proxy.requests_to(r"/status$")] == ["/api/v3/status"] * 3
    proxy.respond(r"/status$", 503, times=None)
    assert requests.get(proxy.url + "/api/v3/status", timeout=10).status_code == 503
    assert requests.get(proxy.url + "/api/v3/status", timeout=10).status_code == 503
    proxy.clear_faults()
    assert requests.get(proxy.url + "/api/v3/status", timeout=10).status_code == 200


def test_hold_and_release(proxy: FaultProxy) -> None:
    proxy.hold(r"/version$")
    results: list[int] = []
    thread = threading.Thread(
        target=lambda: results.append(requests.get(proxy.url + "/api/v3/version", timeout=10).status_code)
    )
    thread.start()
    assert proxy.wait_until_held(1)
    time.sleep(0.1)
    assert results == []  # still hanging
    assert requests.get(proxy.url + "/api/v3/status", timeout=10).status_code == 200  # others unaffected
    proxy.release()
    thread.join(timeout=10)
    assert results == [200]


def test_held_submission_reaches_the_manager_only_when_released(proxy: FaultProxy, farm: Farm, make_job: MakeJob) -> None:
    name = unique("held")
    proxy.hold(r"/api/v3/jobs$", method="POST")
    answers: list[int] = []
    thread = threading.Thread(target=lambda: answers.append(
        requests.post(proxy.url + "/api/v3/jobs", json=make_job(name=name).to_json(), timeout=30).status_code
    ))
    thread.start()
    assert proxy.wait_until_held(1)
    time.sleep(0.3)
    assert _jobs_named(farm, name) == []  # held in the proxy, not in the Manager
    proxy.release()
    thread.join(timeout=30)
    assert answers == [200] and len(_jobs_named(farm, name)) == 1


def test_dropped_response_after_the_manager_acted(proxy: FaultProxy, farm: Farm, make_job: MakeJob) -> None:
    name = unique("dropped")
    proxy.drop_response(r"/api/v3/jobs$", method="POST")
    with pytest.raises(requests.ConnectionError):
        requests.post(proxy.url + "/api/v3/jobs", json=make_job(name=name).to_json(), timeout=30)
    assert len(_jobs_named(farm, name)) == 1  # the Manager created it; only the answer was lost
    # Once only: the next submission is answered.
    again = requests.post(proxy.url + "/api/v3/jobs", json=make_job(name=name).to_json(), timeout=30)
    assert again.status_code == 200 and len(_jobs_named(farm, name)) == 2


def test_delay_is_added_to_the_real_answer(proxy: FaultProxy, farm: Farm) -> None:
    proxy.delay(r"/version$", 0.5, times=1)
    started = time.monotonic()
    answer = requests.get(proxy.url + "/api/v3/version", timeout=10)
    assert time.monotonic() - started >= 0.5
    assert answer.json()["name"] == farm.name
    started = time.monotonic()
    requests.get(proxy.url + "/api/v3/version", timeout=10)
    assert time.monotonic() - started < 0.5  # only once


def test_refused_while_down_then_the_same_port_again(proxy: FaultProxy) -> None:
    port = proxy.port
    proxy.refuse_connections()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/api/v3/version", timeout=5)
    proxy.resume()
    assert proxy.port == port
    assert requests.get(proxy.url + "/api/v3/version", timeout=10).status_code == 200


def test_manager_down_behind_the_proxy_is_a_closed_connection(proxy: FaultProxy, farm: Farm) -> None:
    farm.stop_manager()
    try:
        with pytest.raises(requests.ConnectionError):
            requests.get(proxy.url + "/api/v3/version", timeout=10)
    finally:
        farm.start_manager()
    wait_until(lambda: requests.get(proxy.url + "/api/v3/version", timeout=10).ok, 10, "the Manager back")


def test_request_log_records_details(client: ManagerClient, proxy: FaultProxy, make_job: MakeJob) -> None:
    started = time.time()
    client.check_job(make_job())
    entry = proxy.requests_log[-1]
    assert (entry.method, entry.path, entry.body["type"]) == ("POST", "/api/v3/jobs/check", "simple-blender-render")
    assert entry.headers["Content-Type"] == "application/json" and started <= entry.time <= time.time()


def _stream(proxy: FaultProxy, **options: float) -> tuple[EventStream, "queue.Queue[object]", list[StreamStatus]]:
    events: queue.Queue[object] = queue.Queue()
    statuses: list[StreamStatus] = []
    stream = EventStream(proxy.url, on_event=events.put, on_status=statuses.append, **options)
    stream.want({Subscription(ALL_JOBS)})
    stream.start()
    return stream, events, statuses


def _next(events: "queue.Queue[object]", match: Callable[[object], bool], timeout: float = 10.0) -> object:
    deadline = time.monotonic() + timeout
    while True:
        event = events.get(timeout=max(0.01, deadline - time.monotonic()))
        if match(event):
            return event


def test_event_stream_passes_through(proxy: FaultProxy, farm: Farm) -> None:
    stream, events, statuses = _stream(proxy, retry_min=0.1, retry_max=0.2)
    try:
        _next(events, lambda e: isinstance(e, Subscribed))
        assert stream.status.state == StreamState.LIVE
        # REST faults still apply beside the open stream, and leave it alone.
        proxy.respond(r"/status$", 500, {"code": 500, "message": "x"})
        assert requests.get(proxy.url + "/api/v3/status", timeout=10).status_code == 500
        name = unique("streamed")
        job_id = echo_job(farm, name)  # straight to the Manager: only the event can tell the proxy's client
        update = _next(events, lambda e: isinstance(e, JobUpdate) and e.id == job_id)
        assert update.name == name  # type: ignore[attr-defined]
        assert (stream.status.state, stream.status.connects) == (StreamState.LIVE, 1)
        assert [r.path for r in proxy.requests_to(r"^/socket\.io/")] == ["/socket.io/"]  # one upgrade, logged
        # Refused connections cut the open stream too; it comes back once the proxy listens again.
        proxy.refuse_connections()
        wait_until(lambda: stream.status.state == StreamState.DOWN, 10, "the stream cut")
        assert not stream.status.refused
        proxy.resume()
        wait_until(lambda: stream.status.state == StreamState.LIVE and stream.status.connects == 2, 10, "back")
    finally:
        stream.stop()
    assert proxy.contract_violations == []


@pytest.mark.parametrize("mode", ["refuse", "hold"])
def test_event_stream_refused_or_held_on_request(proxy: FaultProxy, mode: str) -> None:
    proxy.websockets = mode
    stream, events, statuses = _stream(proxy, read_timeout=0.5, retry_min=0.1, retry_max=0.2)
    try:
        wait_until(lambda: any(s.state == StreamState.DOWN for s in statuses), 10, "the stream down")
        down = next(s for s in statuses if s.state == StreamState.DOWN)
        if mode == "refuse":  # the Manager's own refusal of an upgrade stripped on the way
            assert down.refused and "503" in down.detail, down
        else:  # no answer at all: a hung Manager, not one without a stream
            assert not down.refused and ("timed out" in down.detail or "no answer" in down.detail), down
        assert not any(s.state == StreamState.LIVE for s in statuses)
        assert len(proxy.requests_to(r"^/socket\.io/")) >= 1
        proxy.websockets = "pass"
        wait_until(lambda: stream.status.state == StreamState.LIVE, 10, "live once passed")
    finally:
        stream.stop()
