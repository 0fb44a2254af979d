"""Jobs the real Worker runs, and the status changes the client asks for: what the client
reads back at each step is what the real Manager does (api-notes §2), not what a stub said."""

from __future__ import annotations

import time

from api import JobStatus, ManagerClient, TaskStatus
from local_farm import Farm
from support.fault_proxy import FaultProxy
from support.farm_jobs import (
    echo_settings,
    failing_render_settings,
    submit,
    task_statuses,
    wait_for_task,
    wait_until,
)


def test_progress_of_a_running_job(client: ManagerClient, farm: Farm) -> None:
    created = submit(farm, "echo-sleep-test", echo_settings("progress", seconds=1, repeats=1), priority=100)
    job = client.job(created["id"])
    assert (job.status, job.activity, job.steps_completed, job.steps_total) == ("queued", "", 0, 0)
    assert job.progress is None  # 0/0 until the first step counts

    done = client.job(farm.wait_for_job(job.id)["id"])
    assert done.status == JobStatus.COMPLETED
    assert done.activity == 'Changed to status "completed": all tasks completed'
    assert done.updated > job.updated
    tasks = client.job_tasks(job.id)
    assert [(t.name, t.status) for t in tasks] == [("echo", "completed"), ("sleep", "completed")]
    if client.features().steps:
        assert (done.steps_completed, done.steps_total, done.progress) == (2, 2, 1.0)
        assert [(t.steps_completed, t.steps_total) for t in tasks] == [(1, 1)] * 2
    else:  # 3.6 counts no steps: the client reports no progress rather than a wrong one
        assert (done.steps_completed, done.steps_total, done.progress) == (0, 0, None)
    # Task summaries name the worker since 3.8 (3.6 sends none); the task itself always does.
    for summary in tasks:
        worker = client.task(summary.id).worker
        assert worker is not None and worker.name == farm.worker_name and worker.assigned
        assert summary.worker == (worker if farm.release != "3.6" else None)


def test_active_job_reports_activity_and_farm_status(client: ManagerClient, farm: Farm) -> None:
    created = submit(farm, "echo-sleep-test", echo_settings("busy", seconds=20, repeats=1), priority=100)
    farm.wait_for_job(created["id"], ("active",))
    wait_for_task(farm, created["id"], "sleep", "active")
    job = client.job(created["id"])
    assert job.activity == 'Changed to status "active": task became active'
    if client.features().steps:
        assert (job.steps_completed, job.steps_total) == (1, 2)  # echo done, sleep running
    else:  # 3.6 sends no steps: read as 0/0 while the job is under way
        assert (job.steps_completed, job.steps_total, job.progress) == (0, 0, None)
        assert "steps_total" not in job.raw
    assert wait_until(lambda: client.farm_status() == "active", 40, "farm status active")


def test_set_job_status_cancel(client: ManagerClient, proxy: FaultProxy, farm: Farm) -> None:
    created = submit(farm, "echo-sleep-test", echo_settings("cancel me", seconds=30, repeats=2), priority=100)
    farm.wait_for_job(created["id"], ("active",))
    wait_for_task(farm, created["id"], "sleep", "active")
    client.set_job_status(created["id"], "cancel-requested", "artist changed their mind")
    after = client.job(created["id"])
    assert after.status == JobStatus.CANCELED  # at once, even with a task still running
    assert after.activity == 'Changed to status "canceled": artist changed their mind'
    statuses = [t.status for t in client.job_tasks(created["id"])]
    assert statuses[0] == TaskStatus.COMPLETED and set(statuses[1:]) == {TaskStatus.CANCELED}
    assert proxy.requests_to(r"/setstatus$")[-1].body == {"status": "cancel-requested", "reason": "artist changed their mind"}


def test_pause_lets_the_active_task_finish_then_requeue(client: ManagerClient, farm: Farm) -> None:
    created = submit(farm, "echo-sleep-test", echo_settings("pause me", seconds=8, repeats=3), priority=100)
    job_id = created["id"]
    farm.wait_for_job(job_id, ("active",))
    wait_for_task(farm, job_id, "sleep", "active")
    client.set_job_status(job_id, "pause-requested", "lunch")
    requested = client.job(job_id)
    assert requested.status == JobStatus.PAUSE_REQUESTED  # the active task runs on
    assert requested.activity == 'Changed to status "pause-requested": lunch'
    statuses = task_statuses(farm, job_id)
    assert statuses.count("active") == 1 and statuses.count("paused") == 2

    farm.wait_for_job(job_id, ("paused",), timeout=60, kick=False)
    paused = client.job(job_id)
    # The Manager gives its own reason for the automatic step, not the one asked with.
    assert paused.activity == 'Changed to status "paused": no more active tasks after task completion'
    statuses = task_statuses(farm, job_id)
    assert "active" not in statuses and statuses.count("completed") == 2  # echo + the sleep that ran on

    client.set_job_status(job_id, "requeueing", "back")
    requeued = client.job(job_id)
    assert requeued.status == JobStatus.QUEUED and requeued.activity == 'Changed to status "queued": back'
    assert task_statuses(farm, job_id) == ["completed", "completed", "queued", "queued"]


def test_failed_task_fails_a_one_worker_job_and_requeue_retries(client: ManagerClient, farm: Farm) -> None:
    created = submit(farm, "simple-blender-render", failing_render_settings(farm, "1-2"), priority=100)
    failed = client.job(farm.wait_for_job(created["id"], ("failed",))["id"])
    assert failed.activity == 'Changed to status "failed": too many tasks failed'
    first, second = client.job_tasks(failed.id)
    assert (first.status, second.status) == ("failed", "canceled")
    task = client.task(first.id)
    assert task.activity == "Failed: command exited abnormally with code 1"
    assert [w.name for w in task.failed_by_workers] == [farm.worker_name]
    tail = client.task_logtail(first.id)
    assert tail is not None and "missing.blend" in tail

    client.set_job_status(failed.id, "requeueing", "retry")
    assert client.job(failed.id).status == JobStatus.QUEUED
    assert {t.status for t in client.job_tasks(failed.id)} == {TaskStatus.QUEUED}
    assert client.task(first.id).failed_by_workers == ()  # requeueing clears the failure list
    client.set_job_status(failed.id, "cancel-requested", "it will only fail again")


def test_requeue_task_of_completed_job_requeues_the_job(client: ManagerClient, farm: Farm) -> None:
    created = submit(farm, "echo-sleep-test", echo_settings("again", seconds=1, repeats=1), priority=100)
    farm.wait_for_job(created["id"])
    tasks = client.job_tasks(created["id"])
    client.set_task_status(tasks[1].id, "queued", "again")
    assert client.job(created["id"]).status == JobStatus.QUEUED
    assert {t.status for t in client.job_tasks(created["id"])} == {TaskStatus.QUEUED}  # every task, not one
    assert client.task(tasks[1].id).activity.startswith("Queued because job transitioned status")


def test_resume_job_submitted_paused(client: ManagerClient, farm: Farm) -> None:
    created = submit(farm, "echo-sleep-test", echo_settings("later", seconds=1, repeats=0),
                     priority=100, initial_status="paused")
    farm.kick_worker()  # a Worker asking for work now ...
    time.sleep(5)  # ... (it asks about 3 s after starting) gets nothing from a paused job
    assert client.job(created["id"]).status == JobStatus.PAUSED
    assert task_statuses(farm, created["id"]) == ["queued"]
    client.set_job_status(created["id"], "queued", "go")  # tasks are still queued: `queued` resumes
    assert farm.wait_for_job(created["id"])["status"] == "completed"
