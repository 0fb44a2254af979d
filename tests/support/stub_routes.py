"""Request routing of the stub Manager and its meta, monitoring and control endpoints."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable
from typing import Any

from . import openapi_contract
from .stub_records import UUID_RE, JSONDict, Reply, now
from .stub_simulation import StubSimulation
from .stub_submission import StubSubmission


class StubRoutes(StubSubmission, StubSimulation):
    """Maps method + path to a handler and answers like the Manager's handlers."""

    # -- routing -----------------------------------------------------------------

    def _answer(self, method: str, path: str, body: Any, problems: list[str]) -> Reply:
        route, params, allowed = self._route(method, path)
        if route is None:
            if allowed:
                return Reply.validator_error(405, "Method Not Allowed")
            return Reply.validator_error(404, "Not Found")
        if problems and path.startswith(openapi_contract.API_PREFIX):
            # The Manager's OpenAPI middleware answers before any handler runs.
            what = "request body has an error: doesn't match schema" if body is not None else "request has an error"
            return Reply.validator_error(400, f"{what}: {problems[0]}")
        with self._state_lock:
            self._purge_deleted()
            return route(body=body, **params)

    def _routes(self) -> list[tuple[str, str, Callable[..., Reply]]]:
        job = r"(?P<job_id>[^/]+)"
        task = r"(?P<task_id>[^/]+)"
        return [
            ("GET", r"/api/v3/version", self._get_version),
            ("GET", r"/api/v3/status", self._get_status),
            ("GET", r"/api/v3/configuration/shared-storage/(?P<audience>[^/]+)/(?P<platform>[^/]+)", self._get_storage),
            ("GET", r"/api/v3/configuration/variables/(?P<audience>[^/]+)/(?P<platform>[^/]+)", self._get_variables),
            ("GET", r"/api/v3/jobs/types", self._get_job_types),
            ("GET", r"/api/v3/jobs/type/(?P<name>[^/]+)", self._get_job_type),
            ("GET", r"/api/v3/worker-mgt/tags", self._get_tags),
            ("POST", r"/api/v3/jobs/check", self._post_check),
            ("POST", r"/api/v3/jobs", self._post_job),
            ("GET", r"/api/v3/jobs", self._get_jobs),
            ("GET", r"/api/v3/jobs/last-rendered", self._get_global_last_rendered),
            ("GET", rf"/api/v3/jobs/{job}", self._get_job),
            ("DELETE", rf"/api/v3/jobs/{job}", self._delete_job),
            ("GET", rf"/api/v3/jobs/{job}/tasks", self._get_job_tasks),
            ("GET", rf"/api/v3/jobs/{job}/last-rendered", self._get_last_rendered),
            ("GET", rf"/api/v3/jobs/{job}/what-would-delete-do", self._get_what_would_delete_do),
            ("POST", rf"/api/v3/jobs/{job}/setstatus", self._post_job_status),
            ("POST", rf"/api/v3/jobs/{job}/setpriority", self._post_job_priority),
            ("POST", rf"/api/v3/jobs/{job}/settag", self._post_job_tag),
            ("GET", rf"/api/v3/tasks/{task}", self._get_task),
            ("GET", rf"/api/v3/tasks/{task}/logtail", self._get_logtail),
            ("GET", rf"/api/v3/tasks/{task}/log", self._get_log_info),
            ("POST", rf"/api/v3/tasks/{task}/setstatus", self._post_task_status),
            ("GET", r"/job-files/(?P<file_path>.+)", self._get_job_file),
        ]

    def _route(self, method: str, path: str) -> tuple[Callable[..., Reply] | None, dict[str, str], bool]:
        allowed = False
        for route_method, pattern, handler in self._routes():
            match = re.fullmatch(pattern, path)
            if not match:
                continue
            if route_method == method or (method == "HEAD" and route_method == "GET"):
                params = {k: urllib.parse.unquote(v) for k, v in match.groupdict().items()}
                if not self._route_exists(handler):
                    return None, {}, False
                return handler, params, True
            allowed = True
        return None, {}, allowed

    def _route_exists(self, handler: Callable[..., Reply]) -> bool:
        # Endpoints older Managers don't have answer Echo's 404.
        name = getattr(handler, "__name__", "")
        if name == "_get_jobs":
            return self.at_least(3, 6)
        if name == "_post_job_tag":
            return self.at_least(3, 8)
        return True

    # -- meta endpoints -------------------------------------------------------------

    def _get_version(self, body: Any) -> Reply:
        return Reply.json(200, self.version_json())

    def _get_status(self, body: Any) -> Reply:
        return Reply.json(200, {"status": self.farm_status})

    def _get_storage(self, body: Any, audience: str, platform: str) -> Reply:
        return Reply.json(
            200,
            {"location": str(self.storage_dir), "audience": audience, "platform": platform, "shamanEnabled": self.shaman_enabled},
        )

    def _get_variables(self, body: Any, audience: str, platform: str) -> Reply:
        # The implicit one-way "jobs" variable is always there (api-notes §1.1).
        variables = {"jobs": {"value": str(self.storage_dir), "is_twoway": False}, **self.variables}
        return Reply.json(200, variables)

    def _get_job_types(self, body: Any) -> Reply:
        names = sorted(self._job_types)
        return Reply.json(200, {"job_types": [self.job_type_json(n) for n in names]})

    def _get_job_type(self, body: Any, name: str) -> Reply:
        job_type = self.job_type_json(name)
        if job_type is None:
            return Reply.error(404, "no such job type known")
        return Reply.json(200, job_type)

    def _get_tags(self, body: Any) -> Reply:
        return Reply.json(200, {"tags": self.worker_tags})

    # -- monitoring -------------------------------------------------------------------

    def _get_jobs(self, body: Any) -> Reply:
        # Unordered in the real Manager: a set-like order catches clients that rely on it.
        jobs = sorted(self.jobs.values(), key=lambda j: j.id)
        return Reply.json(200, {"jobs": [self._job_json(j) for j in jobs]})

    def _get_job(self, body: Any, job_id: str) -> Reply:
        job = self._find_job(job_id)
        return job if isinstance(job, Reply) else Reply.json(200, self._job_json(job))

    def _get_job_tasks(self, body: Any, job_id: str) -> Reply:
        if not UUID_RE.match(job_id):
            return Reply.error(400, "job ID not valid")
        job = self.jobs.get(job_id)
        # Unknown job → empty list, and the Manager doesn't sort: reverse to prove it.
        tasks = [self.tasks[t] for t in reversed(job.task_ids)] if job else []
        return Reply.json(200, {"tasks": [self._task_summary_json(t) for t in tasks]})

    def _get_task(self, body: Any, task_id: str) -> Reply:
        task = self._find_task(task_id)
        return task if isinstance(task, Reply) else Reply.json(200, self._task_json(task))

    def _get_logtail(self, body: Any, task_id: str) -> Reply:
        task = self._find_task(task_id)
        if isinstance(task, Reply):
            return task
        data = task.log.encode()
        if not data:
            return Reply.empty()
        if len(data) > 2048:
            data = data[-2048:]
            # Drop the partial first line, like the Manager.
            data = data[data.find(b"\n") + 1 :] if b"\n" in data else data
        return Reply(200, data, "text/plain; charset=utf-8")

    def _get_log_info(self, body: Any, task_id: str) -> Reply:
        task = self._find_task(task_id)
        if isinstance(task, Reply):
            return task
        if not task.log:
            return Reply.empty()
        return Reply.json(200, {"task_id": task.id, "job_id": task.job_id, "url": self._log_url(task), "size": len(task.log.encode())})

    def _get_last_rendered(self, body: Any, job_id: str) -> Reply:
        if not UUID_RE.match(job_id):
            return Reply.error(400, "job ID not valid")
        if not self._has_image(job_id):
            return Reply.empty()  # also for unknown jobs
        return Reply.json(200, self._last_rendered_json(job_id))

    def _get_global_last_rendered(self, body: Any) -> Reply:
        if self.last_rendered_job is None or not self._has_image(self.last_rendered_job):
            return Reply.empty()
        return Reply.json(200, self._last_rendered_json(self.last_rendered_job))

    def _get_job_file(self, body: Any, file_path: str) -> Reply:
        full = "/job-files/" + file_path
        data = self.files.get(full)
        if data is None:
            for task in self.tasks.values():
                if self._log_url(task) == full and task.log:
                    return Reply(200, task.log.encode(), "text/plain; charset=utf-8")
            return Reply(404, b"404 page not found\n", "text/plain; charset=utf-8")
        return Reply(200, data, "image/jpeg" if full.endswith(".jpg") else "application/octet-stream")

    # -- control -----------------------------------------------------------------------

    def _get_what_would_delete_do(self, body: Any, job_id: str) -> Reply:
        job = self._find_job(job_id)
        if isinstance(job, Reply):
            return job
        return Reply.json(200, {"shaman_checkout": bool(self.shaman_enabled and job.shaman_checkout_id)})

    def _delete_job(self, body: Any, job_id: str) -> Reply:
        job = self._find_job(job_id)
        if isinstance(job, Reply):
            return job
        if job.delete_requested_at is None:
            job.delete_requested_at = job.updated = now()
        self._purge_deleted()  # the background deleter, when deletion_delay is 0
        return Reply.empty()

    def _post_job_status(self, body: JSONDict, job_id: str) -> Reply:
        job = self._find_job(job_id)
        if isinstance(job, Reply):
            return job
        self._request_job_status(job, body["status"], body["reason"])
        return Reply.empty()

    def _post_job_priority(self, body: JSONDict, job_id: str) -> Reply:
        job = self._find_job(job_id)
        if isinstance(job, Reply):
            return job
        job.priority = body["priority"]
        job.updated = now()
        return Reply.empty()

    def _post_job_tag(self, body: JSONDict, job_id: str) -> Reply:
        job = self._find_job(job_id)
        if isinstance(job, Reply):
            return job
        if body.get("id"):
            tag = next((t for t in self.worker_tags if t.get("id") == body["id"]), None)
        elif body.get("name"):
            tag = next((t for t in self.worker_tags if t.get("name") == body["name"]), None)
        else:
            tag = {"id": ""}
        if tag is None:
            return Reply.error(406, "tag not found")
        job.worker_tag = tag["id"]
        job.updated = now()
        return Reply.empty()

    def _post_task_status(self, body: JSONDict, task_id: str) -> Reply:
        task = self._find_task(task_id)
        if isinstance(task, Reply):
            return task
        task.activity = body["reason"]
        task.updated = now()
        if body["status"] != task.status:
            self._set_task_status(task, body["status"])
        return Reply.empty()
