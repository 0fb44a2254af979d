"""Answers a real Manager cannot give, built from its real answers: a 200 MB body, JSON nested
100,000 deep, job ids that are not UUIDs, a 10 MB log line with terminal escapes. The client
reads every answer with a bound and says what was wrong in one sentence; and each thread that
uses a client gets its own requests.Session."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from api import InvalidResponse, ManagerClient
from api.client import MAX_BODY_BYTES
from local_farm import Farm
from support.farm_jobs import cancel_runnable, echo_job, unique
from support.fault_proxy import FaultProxy

MB = 1024 * 1024


def _rss() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class PeakRss:
    """The largest resident size of this process while the block runs (sampled every 5 ms)."""

    def __enter__(self) -> PeakRss:
        self.before = self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())

    @property
    def growth(self) -> int:
        return self.peak - self.before


@pytest.fixture(scope="module")
def real_job(farm: Farm) -> Iterator[dict[str, Any]]:
    """A paused echo job's JSON as the real Manager sends it."""
    job_id = echo_job(farm, unique("hostile"), paused=True)
    yield farm.get_json(f"/api/v3/jobs/{job_id}")
    cancel_runnable(farm, [job_id])


def _padded(job: dict[str, Any], size: int) -> tuple[bytes, bytes, int]:
    """The real job's JSON with its `activity` grown to `size` bytes: head, tail, total length."""
    head, tail = json.dumps({**job, "activity": "PAD-HERE"}).encode().split(b"PAD-HERE")
    return head, tail, len(head) + size + len(tail)


@pytest.mark.parametrize("declared", [False, True], ids=["chunked", "content-length"])
def test_a_200_mb_answer_is_refused_with_bounded_memory(stream_stub: Any, real_job: dict[str, Any],
                                                        declared: bool) -> None:
    size = 200 * MB
    head, tail, total = _padded(real_job, size)
    block = b"x" * MB

    def chunks() -> Iterator[bytes]:
        yield head
        for _ in range(size // MB):
            yield block
        yield tail

    path = f"/api/v3/jobs/{real_job['id']}"
    stream_stub.serve(path, chunks, total if declared else None)
    client = ManagerClient(stream_stub.url, read_timeout=10, max_retries=0)
    started = time.monotonic()
    with PeakRss() as rss, pytest.raises(InvalidResponse) as refused:
        client.job(real_job["id"])
    seconds = time.monotonic() - started
    client.close()
    print(f"\n200 MB answer ({'Content-Length' if declared else 'chunked'}): refused in {seconds:.2f} s, "
          f"peak RSS growth {rss.growth / MB:.1f} MB, {stream_stub.sent.get(path, 0) / MB:.0f} MB sent; {refused.value}")
    assert "this add-on accepts" in str(refused.value) and "32 MB" in str(refused.value)
    # The bound is 32 MB of body; what a whole read costs (the bytes, then the text and the
    # parsed JSON: over 600 MB for this body) would show here.
    assert rss.growth < MAX_BODY_BYTES + 48 * MB, f"memory grew by {rss.growth / MB:.0f} MB"
    if declared:
        assert rss.growth < 16 * MB  # refused from its header, before reading
    # The client stopped reading: the stub could not send the whole body.
    deadline = time.monotonic() + 5
    while path not in stream_stub.sent and time.monotonic() < deadline:
        time.sleep(0.02)
    assert stream_stub.sent[path] < size


def test_the_real_job_is_read_through_the_same_stub(stream_stub: Any, real_job: dict[str, Any]) -> None:
    """The control: the same route with the real answer is read fine, so the refusal above is
    about the size, not the stub."""
    body = json.dumps(real_job).encode()
    stream_stub.serve(f"/api/v3/jobs/{real_job['id']}", lambda: [body])
    with ManagerClient(stream_stub.url, max_retries=0) as client:
        assert client.job(real_job["id"]).name == real_job["name"]


def test_deeply_nested_json_is_a_clear_error(stream_stub: Any, farm: Farm, real_job: dict[str, Any]) -> None:
    # Through the stub: the fault proxy's own contract check cannot parse such a body either.
    depth = 100_000
    nested = ("[" * depth + "]" * depth).encode()
    job_path = f"/api/v3/jobs/{real_job['id']}"
    version = json.dumps(farm.get_json("/api/v3/version")).encode()
    stream_stub.serve("/api/v3/version", lambda: [version])
    client = ManagerClient(stream_stub.url, max_retries=0)
    stream_stub.serve(job_path, lambda: [nested])
    with pytest.raises(InvalidResponse, match="nested too deeply"):
        client.job(real_job["id"])
    # A job's settings nested deep inside the real job: the same.
    deep = json.dumps({**real_job, "settings": "SETTINGS"}).encode().replace(b'"SETTINGS"', nested)
    stream_stub.serve(job_path, lambda: [deep])
    with pytest.raises(InvalidResponse, match="nested too deeply"):
        client.job(real_job["id"])
    # The streamed job list falls back to one parse for a body it does not recognise.
    stream_stub.serve("/api/v3/jobs", lambda: [nested])
    client.version()
    with pytest.raises(InvalidResponse, match="nested too deeply"):
        client.job_rows()
    # ... and a job in a list that streams as usual.
    stream_stub.serve("/api/v3/jobs", lambda: [b'{"jobs": [', deep, b"]}"])
    with pytest.raises(InvalidResponse, match="nested too deeply"):
        client.job_rows()
    stream_stub.serve(job_path, lambda: [json.dumps(real_job).encode()])
    assert client.job(real_job["id"]).id == real_job["id"]  # and the next answer is read as usual


@pytest.mark.parametrize("spoofed", [
    "../../../api/v3/worker-mgt/workers",
    "0ce16ece-eb68-4cb2-b010-ea6c861f1bfc\nFLAMENCO_DESK_JOB_ID=11111111-1111-1111-1111-111111111111",
    "",
])
def test_job_ids_from_the_manager_must_be_uuids(proxy: FaultProxy, real_job: dict[str, Any], spoofed: str) -> None:
    client = ManagerClient(proxy.url, max_retries=0)
    client.version()
    proxy.respond(f"^/api/v3/jobs/{real_job['id']}$", 200, {**real_job, "id": spoofed}, method="GET")
    with pytest.raises(InvalidResponse, match="'id' is not a UUID") as refused:
        client.job(real_job["id"])
    assert "\n" not in str(refused.value)
    proxy.respond("^/api/v3/jobs$", 200, {"jobs": [{**real_job, "id": spoofed}]}, method="GET")
    with pytest.raises(InvalidResponse, match="'id' is not a UUID"):
        client.job_rows()


def test_a_10_mb_log_line_is_read_bounded(proxy: FaultProxy, farm: Farm, real_job: dict[str, Any]) -> None:
    tasks = farm.get_json(f"/api/v3/jobs/{real_job['id']}/tasks")["tasks"]
    task_id = tasks[0]["id"]
    # Task logs as the Manager keeps them ("pid=… > " lines of Blender's), with escapes.
    line = "pid=4242 > \x1b[31mError: \x1b]0;owned\x07" + "A" * (10 * MB) + "\x1b[0m"
    proxy.respond(f"^/api/v3/tasks/{task_id}/logtail$", 200, line + "\npid=4242 > the end\n",
                  content_type="text/plain", method="GET")
    client = ManagerClient(proxy.url, max_retries=0)
    with PeakRss() as rss:
        tail = client.task_logtail(task_id)
    assert tail is not None and tail.endswith("the end\n") and len(tail) <= 64 * 1024
    assert rss.growth < 40 * MB, f"memory grew by {rss.growth / MB:.0f} MB"


def test_each_thread_has_its_own_session(proxy: FaultProxy) -> None:
    client = ManagerClient(proxy.url, max_retries=0)
    seen: dict[str, Any] = {}
    barrier = threading.Barrier(4)

    def work(name: str) -> None:
        barrier.wait()
        client.version()
        seen[name] = client.session
        assert client.session is seen[name]  # the same one for the thread's next request

    threads = [threading.Thread(target=work, args=(f"t{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(s) for s in seen.values()}) == 4
    assert all(s is not client.session for s in seen.values())  # nor this thread's
    timeouts = {(client.connect_timeout, client.read_timeout)}
    assert timeouts == {(3.05, 10.0)}
    client.close()
    assert client._sessions == []  # every thread's session was closed with the client
    # A closed client still works (new sessions), as before.
    assert client.version().name
