"""The StubManager behaves like the real Manager described in api-notes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
import requests

from api import ManagerClient, SubmittedJob
from tests.support import jobtypes
from tests.support.stub_manager import CompileError, StubManager, chunk_frames, chunk_name, parse_frames

MakeJob = Callable[..., SubmittedJob]


def test_echo_sleep_etag_matches_the_real_manager(stub: StubManager) -> None:
    # Value from the Manager's own unit test (api-notes §3.4).
    assert stub.etag_of("echo-sleep-test") == "eba586e16d6b55baaa43e32f9e78ae514b457fee"


def test_set_job_types_changes_etags(stub: StubManager) -> None:
    before = stub.etag_of("simple-blender-render")
    changed = jobtypes.fresh()
    changed[1]["settings"][0]["description"] = "changed"
    stub.set_job_types(changed)
    assert stub.etag_of("simple-blender-render") != before
    assert stub.etag_of("echo-sleep-test") == "eba586e16d6b55baaa43e32f9e78ae514b457fee"


@pytest.mark.parametrize(
    ("frames", "expected"),
    [("1-3", [1, 2, 3]), ("3, 5-6, 1", [1, 3, 5, 6]), ("1..3,2", [1, 2, 3]), ("7", [7])],
)
def test_frames(frames: str, expected: list[int]) -> None:
    assert parse_frames(frames) == expected


@pytest.mark.parametrize("frames", ["1-x", "5-1", "-3", "", "a"])
def test_bad_frames(frames: str) -> None:
    with pytest.raises(CompileError, match=r'^GoError: invalid range .* at compileJob \(simple_blender_render.js'):
        parse_frames(frames)


def test_chunk_names() -> None:
    assert [chunk_name(c) for c in chunk_frames([1, 2, 3, 4, 5, 7, 9], 2)] == ["1,2", "3,4", "5,7", "9"]
    assert chunk_name([1, 2, 3]) == "1-3" and chunk_name([1, 3, 4]) == "1,3,4"


def test_progress_simulation(client: ManagerClient, stub: StubManager, make_job: MakeJob) -> None:
    job = client.submit_job(make_job(settings={**(make_job().settings or {}), "frames": "1-4", "chunk_size": 2}))
    assert client.job(job.id).steps_total == 0  # 0/0 until the first step
    assert stub.advance(job.id) == 1
    after_one = client.job(job.id)
    assert (after_one.status, after_one.steps_completed, after_one.steps_total) == ("active", 1, 4)
    assert after_one.activity == 'Changed to status "active": task became active'
    assert after_one.updated > job.updated
    tasks = client.job_tasks(job.id)
    assert [(t.status, t.steps_completed) for t in tasks] == [("active", 1), ("queued", 0)]
    assert stub.advance(job.id, 2) == 2
    assert [t.status for t in client.job_tasks(job.id)] == ["completed", "active"]
    assert stub.advance(job.id, 10) == 1  # only one step was left
    done = client.job(job.id)
    assert (done.status, done.steps_completed, done.progress) == ("completed", 4, 1.0)
    assert done.activity == 'Changed to status "completed": all tasks completed'


def test_fail_task_fails_small_jobs(client: ManagerClient, stub: StubManager, make_job: MakeJob) -> None:
    job = client.submit_job(make_job())
    stub.advance(job.id)
    first = client.job_tasks(job.id)[0]
    stub.fail_task(first.id, "Blender crashed")
    assert client.job(job.id).status == "failed"
    task = client.task(first.id)
    assert task.status == "failed" and task.activity == "Failed: Blender crashed"
    assert [w.name for w in task.failed_by_workers] == ["stub-worker-1"]
    assert {t.status for t in client.job_tasks(job.id)[1:]} == {"canceled"}
    client.set_job_status(job.id, "requeueing", "retry")
    assert client.job(job.id).status == "queued"
    assert {t.status for t in client.job_tasks(job.id)} == {"queued"}


def test_requeue_task_of_completed_job_requeues_the_job(client: ManagerClient, stub: StubManager, make_job: MakeJob) -> None:
    job = client.submit_job(make_job("echo-sleep-test"))
    stub.complete_job(job.id)
    assert client.job(job.id).status == "completed"
    task_id = client.job_tasks(job.id)[0].id
    client.set_task_status(task_id, "queued", "again")
    assert client.job(job.id).status == "queued"
    assert {t.status for t in client.job_tasks(job.id)} == {"queued"}


def test_resume_job_submitted_paused(client: ManagerClient, stub: StubManager, make_job: MakeJob) -> None:
    job = client.submit_job(make_job(initial_status="paused"))
    assert stub.advance(job.id) == 0  # paused jobs don't run
    client.set_job_status(job.id, "queued", "go")
    assert stub.advance(job.id) == 1


def test_bad_uuid_and_unknown_ids(stub: StubManager) -> None:
    bad = requests.get(stub.url + "/api/v3/jobs/not-a-uuid", timeout=5)
    assert bad.status_code == 400 and bad.json() == {"code": 400, "message": "job ID not valid"}
    unknown = "6f1c1a7e-3b54-4e0f-9a56-0d3c1f0e7b11"
    assert requests.get(f"{stub.url}/api/v3/jobs/{unknown}", timeout=5).json() == {"code": 404, "message": "no such job"}
    assert requests.get(f"{stub.url}/api/v3/jobs/{unknown}/last-rendered", timeout=5).status_code == 204
    assert requests.get(f"{stub.url}/api/v3/tasks/{unknown}/logtail", timeout=5).status_code == 404
    wrong_method = requests.put(stub.url + "/api/v3/version", timeout=5)
    assert wrong_method.status_code == 405 and wrong_method.json() == {"message": "Method Not Allowed"}
    stub.contract_violations.clear()  # PUT /version isn't in the spec: noted on purpose


def test_log_info_and_file(client: ManagerClient, stub: StubManager, make_job: MakeJob) -> None:
    job = client.submit_job(make_job())
    task_id = client.job_tasks(job.id)[0].id
    assert requests.get(f"{stub.url}/api/v3/tasks/{task_id}/log", timeout=5).status_code == 204
    stub.append_task_log(task_id, "Saved: '/render/0001.png'\n")
    info = requests.get(f"{stub.url}/api/v3/tasks/{task_id}/log", timeout=5).json()
    assert info["url"] == f"/job-files/job-{job.id[:4]}/{job.id}/task-{task_id}.txt" and info["size"] == 26
    assert client.fetch_bytes(info["url"]) == b"Saved: '/render/0001.png'\n"


def test_global_last_rendered(client: ManagerClient, stub: StubManager, make_job: MakeJob) -> None:
    assert requests.get(stub.url + "/api/v3/jobs/last-rendered", timeout=5).status_code == 204
    job = client.submit_job(make_job())
    stub.set_last_rendered(job.id)
    data = requests.get(stub.url + "/api/v3/jobs/last-rendered", timeout=5).json()
    assert data["base"] == f"/job-files/job-{job.id[:4]}/{job.id}"
    assert data["suffixes"][0] == "last-rendered.jpg"


def test_canned_responses_are_counted(stub: StubManager) -> None:
    stub.respond(r"/status$", 500, {"code": 500, "message": "x"}, times=2)
    codes = [requests.get(stub.url + "/api/v3/status", timeout=5).status_code for _ in range(3)]
    assert codes == [500, 500, 200]
    assert [r.path for r in stub.requests_to(r"/status$")] == ["/api/v3/status"] * 3
    stub.respond(r"/status$", 503, times=None)
    assert requests.get(stub.url + "/api/v3/status", timeout=5).status_code == 503
    stub.clear_faults()
    assert requests.get(stub.url + "/api/v3/status", timeout=5).status_code == 200


def test_hold_and_release(stub: StubManager) -> None:
    stub.hold(r"/version$")
    results: list[int] = []
    thread = threading.Thread(target=lambda: results.append(requests.get(stub.url + "/api/v3/version", timeout=5).status_code))
    thread.start()
    assert stub.wait_until_held(1)
    time.sleep(0.1)
    assert results == []  # still hanging
    assert requests.get(stub.url + "/api/v3/status", timeout=5).status_code == 200  # others unaffected
    stub.release()
    thread.join(timeout=5)
    assert results == [200]


def test_request_log_records_details(client: ManagerClient, stub: StubManager, make_job: MakeJob) -> None:
    started = time.time()
    client.check_job(make_job())
    entry = stub.requests_log[-1]
    assert (entry.method, entry.path, entry.body["type"]) == ("POST", "/api/v3/jobs/check", "simple-blender-render")
    assert entry.headers["Content-Type"] == "application/json" and started <= entry.time <= time.time()
