"""Timeouts, unreachable Managers, retries and lost responses."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests
import urllib3

from api import (
    ManagerClient,
    ManagerHTTPError,
    ManagerTimeout,
    ManagerUnreachable,
    NotFound,
    ResponseLost,
    SubmittedJob,
)
from tests.support import SleepRecorder
from tests.support.stub_manager import Blackhole, StubManager, free_port

MakeJob = Callable[..., SubmittedJob]
BUSY = {"code": 503, "message": "database is busy"}


def test_refused_connection_is_unreachable() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with ManagerClient(url, max_retries=0) as client, pytest.raises(ManagerUnreachable) as caught:
        client.version()
    assert url in str(caught.value) and "refused" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_refused_get_is_retried_then_raises() -> None:
    sleeps = SleepRecorder()
    with ManagerClient(f"127.0.0.1:{free_port()}", sleep=sleeps, max_retries=2, backoff=0.25) as client:
        with pytest.raises(ManagerUnreachable):
            client.version()
    assert sleeps.calls == [0.25, 0.5]


def test_read_timeout_against_silent_socket() -> None:
    with Blackhole("read") as hole, ManagerClient(hole.url, read_timeout=0.2, max_retries=0) as client:
        started = time.monotonic()
        with pytest.raises(ManagerTimeout) as caught:
            client.version()
    assert caught.value.phase == "read" and caught.value.seconds == 0.2
    assert "did not answer within 0.2 seconds" in str(caught.value)
    assert time.monotonic() - started < 2


def test_connect_timeout_against_full_backlog() -> None:
    with Blackhole("connect") as hole:
        if not hole.works:
            pytest.skip("this OS accepts connections beyond the listen backlog")
        with ManagerClient(hole.url, connect_timeout=0.2, max_retries=0) as client:
            with pytest.raises(ManagerTimeout) as caught:
                client.version()
    assert caught.value.phase == "connect"
    assert "did not accept the connection within 0.2 seconds" in str(caught.value)


class _RaisingSession(requests.Session):
    """A session whose every request fails with a given exception."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error
        self.calls: list[dict[str, Any]] = []

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.calls.append({"method": method, "url": url, **kwargs})
        raise self.error


@pytest.mark.parametrize(
    ("error", "expected", "text"),
    [
        (requests.ConnectTimeout("x"), ManagerTimeout, "did not accept the connection"),
        (requests.ReadTimeout("x"), ManagerTimeout, "did not answer"),
        (requests.ConnectionError(urllib3.exceptions.NewConnectionError(None, "x")), ManagerUnreachable, "network"),  # type: ignore[arg-type]
        (requests.ConnectionError(socket.gaierror(-2, "Name or service not known")), ManagerUnreachable, "host name"),
        (requests.ConnectionError(ConnectionResetError(104, "reset")), ManagerUnreachable, "reset"),
        (requests.ConnectionError(urllib3.exceptions.ProtocolError("Connection aborted.")), ResponseLost, "closed the connection"),
        (requests.exceptions.ChunkedEncodingError("x"), ResponseLost, "closed the connection"),
    ],
)
def test_requests_exceptions_are_mapped(error: BaseException, expected: type[Exception], text: str) -> None:
    session = _RaisingSession(error)
    with ManagerClient("http://farm:8080", session=session, max_retries=0, connect_timeout=1.5, read_timeout=7) as client:
        with pytest.raises(expected, match=text) as caught:
            client.version()
    assert "http://farm:8080" in str(caught.value)
    assert session.calls[0]["timeout"] == (1.5, 7)


def test_every_request_passes_both_timeouts() -> None:
    session = _RaisingSession(requests.ConnectTimeout("x"))
    job_id = "6f1c1a7e-3b54-4e0f-9a56-0d3c1f0e7b11"
    with ManagerClient("farm", session=session, max_retries=0) as client:
        for call in (client.version, lambda: client.job(job_id), lambda: client.delete_job(job_id),
                     lambda: client.set_job_priority(job_id, 3), lambda: client.fetch_bytes("/job-files/x")):
            with pytest.raises(ManagerTimeout):
                call()
    assert [c["timeout"] for c in session.calls] == [(3.05, 10.0)] * 5


def test_get_retries_on_503_honouring_retry_after(client: ManagerClient, stub: StubManager, sleeps: SleepRecorder) -> None:
    stub.respond(r"/version$", 503, BUSY, {"Retry-After": "2"}, times=2)
    assert client.version().name == "Stub Manager"
    assert sleeps.calls == [2.0, 2.0]
    assert len(stub.requests_to(r"/version$")) == 3


def test_retry_after_http_date_and_cap(stub: StubManager) -> None:
    sleeps = SleepRecorder()
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    stub.respond(r"/status$", 503, BUSY, {"Retry-After": later}, times=1)
    stub.respond(r"/version$", 503, BUSY, {"Retry-After": "3600"}, times=1)
    with ManagerClient(stub.url, sleep=sleeps, max_retry_wait=45) as client:
        assert client.farm_status() == "idle"
        assert client.version()
    assert 28 <= sleeps.calls[0] <= 30
    assert sleeps.calls[1] == 45


def test_get_retries_500_with_exponential_backoff_then_gives_up(
    client: ManagerClient, stub: StubManager, sleeps: SleepRecorder
) -> None:
    stub.respond(r"/version$", 500, {"code": 500, "message": "database is locked"}, times=None)
    with pytest.raises(ManagerHTTPError) as caught:
        client.version()
    assert caught.value.status == 500 and caught.value.message == "database is locked"
    assert sleeps.calls == [0.5, 1.0, 2.0]
    assert len(stub.requests_to(r"/version$")) == 4


def test_client_errors_are_not_retried(client: ManagerClient, stub: StubManager, sleeps: SleepRecorder) -> None:
    with pytest.raises(NotFound):
        client.job("6f1c1a7e-3b54-4e0f-9a56-0d3c1f0e7b11")
    assert sleeps.calls == [] and len(stub.requests_log) == 1


def test_delete_is_retried_on_busy_database(
    client: ManagerClient, stub: StubManager, sleeps: SleepRecorder, make_job: MakeJob
) -> None:
    job = client.submit_job(make_job())
    stub.respond(r"/api/v3/jobs/[^/]+$", 503, BUSY, {"Retry-After": "1"}, times=1, method="DELETE")
    client.delete_job(job.id)
    assert sleeps.calls == [1.0]
    assert len(stub.requests_to(r"/api/v3/jobs/[^/]+$", "DELETE")) == 2
    assert job.id not in stub.jobs


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_post_is_never_retried(
    client: ManagerClient, stub: StubManager, sleeps: SleepRecorder, make_job: MakeJob, status: int
) -> None:
    stub.respond(r"/api/v3/jobs$", status, {"code": status, "message": "nope"}, {"Retry-After": "1"}, method="POST")
    with pytest.raises(ManagerHTTPError):
        client.submit_job(make_job())
    assert len(stub.requests_to(r"/api/v3/jobs$", "POST")) == 1 and sleeps.calls == []


def test_lost_submit_response_creates_exactly_one_job(
    client: ManagerClient, stub: StubManager, sleeps: SleepRecorder, make_job: MakeJob
) -> None:
    stub.drop_response(r"/api/v3/jobs$", method="POST")
    with pytest.raises(ManagerTimeout) as caught:
        client.submit_job(make_job(metadata={"desk.submission": "s-1"}))
    assert isinstance(caught.value, ResponseLost) and caught.value.phase == "read"
    assert "may or may not have been carried out" in str(caught.value)
    assert len(stub.jobs) == 1 and sleeps.calls == []
    assert len(stub.requests_to(r"/api/v3/jobs$", "POST")) == 1
    # What the submitter does next: look the job up instead of resubmitting.
    found = client.find_jobs_by_metadata("desk.submission", "s-1")
    assert [j.id for j in found] == list(stub.jobs)


def test_hanging_submit_times_out_without_retry(stub: StubManager, make_job: MakeJob) -> None:
    stub.hold(r"/api/v3/jobs$", method="POST")
    sleeps = SleepRecorder()
    with ManagerClient(stub.url, read_timeout=0.3, sleep=sleeps) as client:
        with pytest.raises(ManagerTimeout) as caught:
            client.submit_job(make_job())
        assert caught.value.phase == "read"
        assert stub.held_count() == 1
        stub.release()
        deadline = time.monotonic() + 2
        while not stub.jobs and time.monotonic() < deadline:
            time.sleep(0.01)
    assert len(stub.jobs) == 1 and sleeps.calls == []


def test_hanging_get_is_retried_after_read_timeout(stub: StubManager) -> None:
    stub.hold(r"/version$")
    sleeps = SleepRecorder()
    with ManagerClient(stub.url, read_timeout=0.2, sleep=sleeps, max_retries=1) as client:
        with pytest.raises(ManagerTimeout):
            client.version()
    assert len(stub.requests_to(r"/version$")) == 2 and sleeps.calls == [0.5]
    stub.release()


def test_delay_longer_than_read_timeout(stub: StubManager) -> None:
    stub.delay(r"/status$", 0.5, times=1)
    with ManagerClient(stub.url, read_timeout=0.15, max_retries=0) as client:
        with pytest.raises(ManagerTimeout):
            client.farm_status()
        assert client.farm_status() == "idle"  # the delay was for one request


def test_cancel_event_stops_retrying(stub: StubManager) -> None:
    cancel = threading.Event()
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        cancel.set()  # the user pressed Cancel while we waited

    stub.respond(r"/version$", 503, BUSY, times=None)
    with ManagerClient(stub.url, sleep=sleep, cancel=cancel, max_retries=5) as client:
        with pytest.raises(ManagerHTTPError):
            client.version()
    assert len(sleeps) == 1 and len(stub.requests_to(r"/version$")) == 1


def test_refuse_and_resume_on_the_same_port(stub: StubManager) -> None:
    port = stub.port
    with ManagerClient(stub.url, max_retries=0) as client:
        client.version()  # leaves a keep-alive connection in the pool
        stub.refuse_connections()
        with pytest.raises(ManagerUnreachable):
            client.version()
        stub.resume()
        assert stub.port == port
        assert client.version().name == "Stub Manager"


def test_stop_releases_held_requests_quickly(tmp_path: Any) -> None:
    stub = StubManager(tmp_path).start()
    stub.hold(r"/version$")
    errors: list[BaseException] = []

    def call() -> None:
        try:
            with ManagerClient(stub.url, read_timeout=10, max_retries=0) as client:
                client.version()
        except BaseException as exc:  # noqa: BLE001 - collected for the assert
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    assert stub.wait_until_held(3)
    started = time.monotonic()
    stub.stop()
    assert time.monotonic() - started < 2
    for thread in threads:
        thread.join(timeout=2)
    assert len(errors) == 3 and all(isinstance(e, ManagerTimeout) for e in errors)
    stub.assert_contract_clean()
