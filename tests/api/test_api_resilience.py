"""Timeouts, unreachable Managers, retries and lost responses: the real Manager behind the
fault proxy, which holds, delays, drops or replaces its answers on request."""

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
    FarmStatus,
    ManagerClient,
    ManagerHTTPError,
    ManagerTimeout,
    ManagerUnreachable,
    NotFound,
    ResponseLost,
    SubmittedJob,
)
from local_farm import Farm
from support import SleepRecorder
from support.fault_proxy import FaultProxy
from support.farm_jobs import unique, wait_until
from support.network import Blackhole, free_port

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


def test_get_retries_on_503_honouring_retry_after(
    client: ManagerClient, proxy: FaultProxy, sleeps: SleepRecorder, farm: Farm
) -> None:
    proxy.respond(r"/version$", 503, BUSY, {"Retry-After": "2"}, times=2)
    assert client.version().name == farm.name  # the third try reached the real Manager
    assert sleeps.calls == [2.0, 2.0]
    assert len(proxy.requests_to(r"/version$")) == 3


def test_retry_after_http_date_and_cap(proxy: FaultProxy) -> None:
    sleeps = SleepRecorder()
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    proxy.respond(r"/status$", 503, BUSY, {"Retry-After": later}, times=1)
    proxy.respond(r"/version$", 503, BUSY, {"Retry-After": "3600"}, times=1)
    with ManagerClient(proxy.url, sleep=sleeps, max_retry_wait=45) as client:
        assert client.farm_status() in set(FarmStatus)
        assert client.version()
    assert 28 <= sleeps.calls[0] <= 30
    assert sleeps.calls[1] == 45


def test_get_retries_500_with_exponential_backoff_then_gives_up(
    client: ManagerClient, proxy: FaultProxy, sleeps: SleepRecorder
) -> None:
    proxy.respond(r"/version$", 500, {"code": 500, "message": "database is locked"}, times=None)
    with pytest.raises(ManagerHTTPError) as caught:
        client.version()
    assert caught.value.status == 500 and caught.value.message == "database is locked"
    assert sleeps.calls == [0.5, 1.0, 2.0]
    assert len(proxy.requests_to(r"/version$")) == 4


def test_client_errors_are_not_retried(client: ManagerClient, proxy: FaultProxy, sleeps: SleepRecorder) -> None:
    with pytest.raises(NotFound):
        client.job("6f1c1a7e-3b54-4e0f-9a56-0d3c1f0e7b11")
    assert sleeps.calls == [] and len(proxy.requests_log) == 1


def test_delete_is_retried_on_busy_database(
    client: ManagerClient, proxy: FaultProxy, sleeps: SleepRecorder, make_job: MakeJob, farm: Farm
) -> None:
    job = client.submit_job(make_job())
    proxy.respond(r"/api/v3/jobs/[^/]+$", 503, BUSY, {"Retry-After": "1"}, times=1, method="DELETE")
    client.delete_job(job.id)
    assert sleeps.calls == [1.0]
    assert len(proxy.requests_to(r"/api/v3/jobs/[^/]+$", "DELETE")) == 2
    with pytest.raises(NotFound):  # the real delete went through on the retry
        client.job(job.id)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_post_is_never_retried(
    client: ManagerClient, proxy: FaultProxy, sleeps: SleepRecorder, make_job: MakeJob, status: int
) -> None:
    proxy.respond(r"/api/v3/jobs$", status, {"code": status, "message": "nope"}, {"Retry-After": "1"}, method="POST")
    with pytest.raises(ManagerHTTPError):
        client.submit_job(make_job())
    assert len(proxy.requests_to(r"/api/v3/jobs$", "POST")) == 1 and sleeps.calls == []


def _jobs_with_submission(farm: Farm, submission: str) -> list[str]:
    return [j["id"] for j in farm.get_json("/api/v3/jobs")["jobs"] if j["metadata"].get("desk.submission") == submission]


def test_lost_submit_response_creates_exactly_one_job(
    client: ManagerClient, proxy: FaultProxy, sleeps: SleepRecorder, make_job: MakeJob, farm: Farm
) -> None:
    submission = unique("s")
    proxy.drop_response(r"/api/v3/jobs$", method="POST")
    with pytest.raises(ManagerTimeout) as caught:
        client.submit_job(make_job(metadata={"desk.submission": submission}))
    assert isinstance(caught.value, ResponseLost) and caught.value.phase == "read"
    assert "may or may not have been carried out" in str(caught.value)
    created = _jobs_with_submission(farm, submission)
    assert len(created) == 1 and sleeps.calls == []  # the Manager did act on it
    assert len(proxy.requests_to(r"/api/v3/jobs$", "POST")) == 1
    # What the submitter does next: look the job up instead of resubmitting.
    found = client.find_jobs_by_metadata("desk.submission", submission)
    assert [j.id for j in found] == created


def test_hanging_submit_times_out_without_retry(proxy: FaultProxy, make_job: MakeJob, farm: Farm) -> None:
    submission = unique("s")
    proxy.hold(r"/api/v3/jobs$", method="POST")
    sleeps = SleepRecorder()
    with ManagerClient(proxy.url, read_timeout=0.3, sleep=sleeps) as client:
        with pytest.raises(ManagerTimeout) as caught:
            client.submit_job(make_job(metadata={"desk.submission": submission}))
        assert caught.value.phase == "read"
        assert proxy.held_count() == 1
        assert _jobs_with_submission(farm, submission) == []  # the Manager has not seen it yet
        proxy.release()
        created = wait_until(lambda: _jobs_with_submission(farm, submission), 10, "the released job")
    assert len(created) == 1 and sleeps.calls == []


def test_hanging_get_is_retried_after_read_timeout(proxy: FaultProxy) -> None:
    proxy.hold(r"/version$")
    sleeps = SleepRecorder()
    with ManagerClient(proxy.url, read_timeout=0.2, sleep=sleeps, max_retries=1) as client:
        with pytest.raises(ManagerTimeout):
            client.version()
    assert len(proxy.requests_to(r"/version$")) == 2 and sleeps.calls == [0.5]
    proxy.release()


def test_delay_longer_than_read_timeout(proxy: FaultProxy) -> None:
    proxy.delay(r"/status$", 0.5, times=1)
    with ManagerClient(proxy.url, read_timeout=0.15, max_retries=0) as client:
        with pytest.raises(ManagerTimeout):
            client.farm_status()
        assert client.farm_status() in set(FarmStatus)  # the delay was for one request


def test_cancel_event_stops_retrying(proxy: FaultProxy) -> None:
    cancel = threading.Event()
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        cancel.set()  # the user pressed Cancel while we waited

    proxy.respond(r"/version$", 503, BUSY, times=None)
    with ManagerClient(proxy.url, sleep=sleep, cancel=cancel, max_retries=5) as client:
        with pytest.raises(ManagerHTTPError):
            client.version()
    assert len(sleeps) == 1 and len(proxy.requests_to(r"/version$")) == 1


def test_refuse_and_resume_on_the_same_port(proxy: FaultProxy, farm: Farm) -> None:
    port = proxy.port
    with ManagerClient(proxy.url, max_retries=0) as client:
        client.version()  # leaves a keep-alive connection in the pool
        proxy.refuse_connections()
        with pytest.raises(ManagerUnreachable):
            client.version()
        proxy.resume()
        assert proxy.port == port
        assert client.version().name == farm.name


def test_stop_releases_held_requests_quickly(farm: Farm) -> None:
    proxy = FaultProxy(farm.url, farm.release).start()
    proxy.hold(r"/version$")
    errors: list[BaseException] = []

    def call() -> None:
        try:
            with ManagerClient(proxy.url, read_timeout=10, max_retries=0) as client:
                client.version()
        except BaseException as exc:  # noqa: BLE001 - collected for the assert
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    assert proxy.wait_until_held(3)
    started = time.monotonic()
    proxy.stop()
    assert time.monotonic() - started < 2
    for thread in threads:
        thread.join(timeout=2)
    assert len(errors) == 3 and all(isinstance(e, ManagerTimeout) for e in errors)
    proxy.assert_contract_clean()


def test_manager_restart_is_survived_without_the_proxy(farm: Farm) -> None:
    """The real Manager going away and coming back on the same port: pooled keep-alive
    connections are dead, then new ones work again."""
    sleeps = SleepRecorder()
    with ManagerClient(farm.url, sleep=sleeps, max_retries=0) as client:
        assert client.version().name == farm.name  # leaves a keep-alive connection in the pool
        farm.stop_manager()
        try:
            with pytest.raises(ManagerUnreachable, match="refused"):
                client.version()
        finally:
            farm.start_manager()
        assert client.version().name == farm.name
