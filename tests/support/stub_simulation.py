"""The stub Manager's job/task status machine (api-notes §2) and a pretend
worker that makes progress, fails tasks, writes logs and stores last-rendered images."""

from __future__ import annotations

from .stub_records import JobRecord, TaskRecord, now
from .stub_state import StubState

RUNNABLE_TASK = ("active", "queued", "soft-failed")
FAKE_WORKER = {"id": "6f1c1a7e-3b54-4e0f-9a56-0d3c1f0e7b11", "name": "stub-worker-1", "address": "127.0.0.1"}
# JPEG magic + padding: enough for "is this an image" checks in tests.
FAKE_JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60 + b"\xff\xd9"


class StubSimulation(StubState):
    """Status changes and their knock-on effects, driven by endpoints and tests."""

    # -- status machine (api-notes §2) ------------------------------------------------

    def _job_tasks(self, job: JobRecord) -> list[TaskRecord]:
        return [self.tasks[t] for t in job.task_ids]

    def _set_job_status(self, job: JobRecord, status: str, reason: str) -> None:
        if job.status == status:
            return
        job.status = status
        job.activity = f'Changed to status "{status}": {reason}'
        job.updated = now()

    def _recompute_steps(self, job: JobRecord) -> None:
        tasks = self._job_tasks(job)
        job.steps_completed = sum(t.steps_completed for t in tasks)
        job.steps_total = sum(t.steps_total for t in tasks)
        job.updated = now()

    def _mass_update(self, job: JobRecord, from_statuses: tuple[str, ...], to: str, activity: str) -> None:
        for task in self._job_tasks(job):
            if task.status in from_statuses:
                task.status = to
                task.activity = activity
                task.updated = now()
                if to == "queued":
                    task.steps_completed = 0

    def _request_job_status(self, job: JobRecord, status: str, reason: str) -> None:
        """POST jobs/{id}/setstatus effects (§2.1)."""
        if status == job.status:
            return
        tasks = self._job_tasks(job)
        cancel_note = 'Manager cancelled this task because the job got status "{}".'
        if status == "cancel-requested":
            self._mass_update(job, RUNNABLE_TASK, "canceled", cancel_note.format("canceled"))
            self._set_job_status(job, "canceled", reason)
        elif status == "pause-requested":
            self._mass_update(job, ("queued", "soft-failed"), "paused", 'Paused because the job got status "pause-requested".')
            active = any(t.status == "active" for t in tasks)
            self._set_job_status(job, "pause-requested" if active else "paused", reason)
        elif status == "requeueing":
            note = f'Queued because job transitioned status from "{job.status}" to "requeueing"'
            if job.status == "completed":
                self._mass_update(job, ("completed", "canceled", "failed", "paused", "soft-failed"), "queued", note)
            else:
                self._mass_update(job, ("canceled", "failed", "paused", "soft-failed"), "queued", note)
            for task in tasks:
                task.failed_by_workers.clear()
            self._recompute_steps(job)
            self._set_job_status(job, "queued", reason)
        elif status == "queued":
            done = tasks and all(t.status == "completed" for t in tasks)
            self._set_job_status(job, "completed" if done else "queued", reason)
        elif status == "failed":
            self._mass_update(job, RUNNABLE_TASK, "canceled", cancel_note.format("failed"))
            self._set_job_status(job, "failed", reason)
        else:
            self._set_job_status(job, status, reason)

    def _pause_check(self, job: JobRecord) -> None:
        if job.status == "pause-requested" and not any(t.status == "active" for t in self._job_tasks(job)):
            self._set_job_status(job, "paused", "no more active tasks")

    def _set_task_status(self, task: TaskRecord, status: str) -> None:
        """A task status change and its effect on the job (§2.2)."""
        task.status = status
        task.updated = now()
        job = self.jobs[task.job_id]
        tasks = self._job_tasks(job)
        if status in ("active", "soft-failed"):
            if job.status not in ("active", "cancel-requested"):
                self._set_job_status(job, "active", "task became active")
        elif status == "completed":
            task.steps_completed = task.steps_total
            self._recompute_steps(job)
            if all(t.status == "completed" for t in tasks):
                self._set_job_status(job, "completed", "all tasks completed")
            elif job.status == "pause-requested":
                self._pause_check(job)
            elif job.status == "queued":
                self._set_job_status(job, "active", "task completed")
        elif status == "failed":
            failed = sum(t.status == "failed" for t in tasks)
            if failed * 10 >= len(tasks):
                self._mass_update(job, RUNNABLE_TASK, "canceled", 'Manager cancelled this task because the job got status "failed".')
                self._set_job_status(job, "failed", "too many tasks failed")
            else:
                self._pause_check(job)
                if job.status == "queued":
                    self._set_job_status(job, "active", "task failed")
        elif status == "canceled":
            if not any(t.status in RUNNABLE_TASK for t in tasks):
                self._set_job_status(job, "canceled", "all tasks canceled")
            else:
                self._pause_check(job)
        elif status == "paused":
            self._pause_check(job)
        elif status == "queued":
            task.steps_completed = 0
            if job.status == "completed":
                self._mass_update(job, ("completed",), "queued", 'Queued because job transitioned status from "completed" to "requeueing"')
                self._recompute_steps(job)
                self._set_job_status(job, "queued", "task was queued")

    # -- progress simulation ---------------------------------------------------------

    def advance(self, job_id: str, steps: int = 1) -> int:
        """Make a pretend worker report ``steps`` steps; returns how many happened.

        The first runnable task becomes active (job → active), gains steps and
        completes at its total; job steps/updated follow like a real Manager.
        """
        done = 0
        with self._state_lock:
            job = self.jobs[job_id]
            for _ in range(steps):
                # Pausing lets running tasks finish (api-notes §2.1) but starts no new ones.
                if job.status not in ("queued", "active", "pause-requested") or job.delete_requested_at is not None:
                    break
                tasks = self._job_tasks(job)
                task = next((t for t in tasks if t.status == "active"), None)
                if task is None and job.status != "pause-requested":
                    task = next((t for t in tasks if t.status in ("queued", "soft-failed")), None)
                if task is None:
                    break
                stamp = now()
                if task.status != "active":
                    task.worker = dict(FAKE_WORKER)
                    task.activity = "Started"
                    task.last_touched = stamp
                    self._set_task_status(task, "active")
                task.steps_completed = min(task.steps_total, task.steps_completed + 1)
                task.activity = "Progress"
                task.updated = task.last_touched = stamp
                if task.steps_completed >= task.steps_total:
                    task.activity = "Completed"
                    self._set_task_status(task, "completed")
                else:
                    self._recompute_steps(job)
                done += 1
        return done

    def complete_job(self, job_id: str) -> None:
        """Run every remaining step."""
        while self.advance(job_id, 100):
            pass

    def fail_task(self, task_id: str, error: str = "simulated failure") -> None:
        """The worker reports failure; on a one-worker farm that fails the job."""
        with self._state_lock:
            task = self.tasks[task_id]
            task.activity = f"Failed: {error}"
            task.last_touched = now()
            if task.worker["id"]:
                task.failed_by_workers.append(dict(task.worker))
            self._set_task_status(task, "failed")

    def append_task_log(self, task_id: str, text: str) -> None:
        with self._state_lock:
            self.tasks[task_id].log += text

    def set_last_rendered(self, job_id: str, image: bytes = FAKE_JPEG, *, windows: bool = False) -> None:
        """Store the three thumbnails; ``windows`` sends a backslashed base like
        a Manager running on Windows."""
        with self._state_lock:
            base = f"/job-files/job-{job_id[:4]}/{job_id}"
            for suffix in ("last-rendered.jpg", "last-rendered-small.jpg", "last-rendered-tiny.jpg"):
                self.files[f"{base}/{suffix}"] = image
            (self._windows_bases.add if windows else self._windows_bases.discard)(job_id)
            self.last_rendered_job = job_id
