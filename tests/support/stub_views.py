"""How the stub Manager shows its records: JSON views, ID lookups, job-file
locations, and the deleter that purges deleted jobs."""

from __future__ import annotations

from .stub_records import UUID_RE, JobRecord, JSONDict, Reply, TaskRecord, now, rfc3339
from .stub_state import StubState


class StubViews(StubState):
    """Read side shared by the endpoints: records → Manager JSON, IDs → records."""

    # -- JSON views ------------------------------------------------------------------

    def _job_json(self, job: JobRecord) -> JSONDict:
        data: JSONDict = {
            "id": job.id,
            "name": job.name,
            "type": job.type,
            "priority": job.priority,
            "status": job.status,
            "activity": job.activity,
            "created": rfc3339(job.created),
            "updated": rfc3339(job.updated),
            "settings": job.settings,
            "metadata": job.metadata,
            # The Manager doesn't store it and always answers "".
            "submitter_platform": "",
        }
        if self.at_least(3, 8):
            data["steps_completed"] = job.steps_completed
            data["steps_total"] = job.steps_total
        if job.worker_tag:
            data["worker_tag"] = job.worker_tag
        if job.shaman_checkout_id:
            data["storage"] = {"shaman_checkout_id": job.shaman_checkout_id}
        if job.delete_requested_at is not None:
            data["delete_requested_at"] = rfc3339(job.delete_requested_at)
        return data

    def _task_summary_json(self, task: TaskRecord) -> JSONDict:
        data: JSONDict = {
            "id": task.id,
            "name": task.name,
            "status": task.status,
            "priority": task.priority,
            "task_type": task.task_type,
            "updated": rfc3339(task.updated),
            "worker": dict(task.worker),
        }
        if self.at_least(3, 6):
            data["index_in_job"] = task.index_in_job
        if self.at_least(3, 8):
            data["steps_completed"] = task.steps_completed
            data["steps_total"] = task.steps_total
        return data

    def _task_json(self, task: TaskRecord) -> JSONDict:
        data = self._task_summary_json(task)
        data.update(
            created=rfc3339(task.created),
            job_id=task.job_id,
            activity=task.activity,
            commands=task.commands,
            failed_by_workers=list(task.failed_by_workers),
        )
        if task.last_touched is not None:
            data["last_touched"] = rfc3339(task.last_touched)
        return data

    # -- lookups ---------------------------------------------------------------

    def _find_job(self, job_id: str) -> JobRecord | Reply:
        if not UUID_RE.match(job_id):
            return Reply.error(400, "job ID not valid")
        job = self.jobs.get(job_id)
        return job if job is not None else Reply.error(404, "no such job")

    def _find_task(self, task_id: str) -> TaskRecord | Reply:
        if not UUID_RE.match(task_id):
            return Reply.error(400, "task ID not valid")
        task = self.tasks.get(task_id)
        return task if task is not None else Reply.error(404, "no such task")

    def _purge_deleted(self) -> None:
        cutoff = now().timestamp() - self.deletion_delay
        for job in list(self.jobs.values()):
            if job.delete_requested_at is not None and job.delete_requested_at.timestamp() <= cutoff:
                for task_id in job.task_ids:
                    self.tasks.pop(task_id, None)
                prefix = f"/job-files/job-{job.id[:4]}/{job.id}/"
                for name in [n for n in self.files if n.startswith(prefix)]:
                    del self.files[name]
                if self.last_rendered_job == job.id:
                    self.last_rendered_job = None
                del self.jobs[job.id]

    # -- job files -------------------------------------------------------------

    def _log_url(self, task: TaskRecord) -> str:
        return f"/job-files/job-{task.job_id[:4]}/{task.job_id}/task-{task.id}.txt"

    def _last_rendered_json(self, job_id: str) -> JSONDict:
        base = f"/job-files/job-{job_id[:4]}/{job_id}"
        if job_id in self._windows_bases:
            base = base.replace("/", "\\")
        return {"base": base, "suffixes": ["last-rendered.jpg", "last-rendered-small.jpg", "last-rendered-tiny.jpg"]}

    def _has_image(self, job_id: str) -> bool:
        return f"/job-files/job-{job_id[:4]}/{job_id}/last-rendered-tiny.jpg" in self.files
