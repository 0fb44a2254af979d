"""One poll of the Manager, on a background thread: the requests the monitor planned (at
most MAX_REQUESTS), their answers gathered into a PollResult for the main thread. Never
raises a FlamencoError (it is in `error`); a 404 marks the object gone."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..api import errors, models
from ..api.client import ManagerClient
from ..api.joblist import ID, NAME, PRIORITY, STATUS, WORKER_TAG, JobRow
from . import image_check
from .doctor import RUNNABLE_JOBS, QueuedJob

MAX_REQUESTS = 2
Request = tuple[str, str]  # (kind, id): list, job, tasks, last_rendered, thumbnail, log, farm_status, workers, tags, worker
# and for the farm doctor (core/doctor_watch.py): blocklist, sleep_schedule, failed_task, fail_log, queue


@dataclass(frozen=True)
class PollPlan:
    """A snapshot of what the main thread wants; the background thread reads only this."""

    requests: tuple[Request, ...]
    open_job_id: Optional[str] = None
    last_rendered: Optional[models.LastRendered] = None
    thumbnail_dir: Optional[Path] = None
    # Objects to be freed on the background thread (an old 20,000-row job list).
    release: list[object] = field(default_factory=list, compare=False)
    planned_at: float = 0.0  # the monitor's clock when planned (events applied later are newer)


@dataclass
class PollResult:
    open_job_id: Optional[str] = None  # the open job when the poll was planned
    planned_at: float = float("-inf")
    requests: int = 0
    done: list[Request] = field(default_factory=list)
    rows: Optional[dict[str, JobRow]] = None
    jobs: dict[str, models.Job] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)
    tasks: Optional[list[models.TaskSummary]] = None
    task_counts: Optional[Counter[str]] = None
    log: Optional[tuple[str, str]] = None
    log_head: Optional[tuple[str, str]] = None
    last_rendered: Optional[models.LastRendered] = None
    thumbnail: Optional[Path] = None
    thumbnail_problem: Optional[str] = None  # why the image was not loaded (core/image_check.py)
    farm_status: Optional[str] = None
    workers: Optional[list[models.WorkerSummary]] = None
    tags: Optional[list[models.WorkerTag]] = None
    worker: Optional[models.Worker] = None
    # The farm doctor's: kind → its answer (a blocklist, a sleep schedule, a task, a log tail, the queue).
    doctor: dict[str, object] = field(default_factory=dict)
    error: Optional[errors.FlamencoError] = None


def poll(client: ManagerClient, plan: PollPlan) -> PollResult:
    """One poll (background thread). Never raises a FlamencoError: it is in `error`."""
    plan.release.clear()  # freed here, not on the main thread
    result = PollResult(open_job_id=plan.open_job_id, planned_at=plan.planned_at)
    for request in plan.requests[:MAX_REQUESTS]:
        kind, ident = request
        result.requests += 1
        try:
            _fetch(client, plan, result, kind, ident)
        except errors.NotFound:
            result.gone.add(ident)
        except errors.FlamencoError as ex:
            result.error = ex
            break
        result.done.append(request)
    return result


def _fetch(client: ManagerClient, plan: PollPlan, result: PollResult, kind: str, ident: str) -> None:
    if kind == "list":
        result.rows = {row[ID]: row for row in client.job_rows()}
    elif kind == "job":
        result.jobs[ident] = client.job(ident)
    elif kind == "tasks":
        result.tasks = client.job_tasks(ident)
        result.task_counts = Counter(t.status for t in result.tasks)
    elif kind == "log":
        result.log = (ident, client.task_logtail(ident) or "")
    elif kind == "log_head":
        result.log_head = (ident, client.task_log_head(ident) or "")
    elif kind == "last_rendered":
        result.last_rendered = client.job_last_rendered(ident)
    elif kind == "thumbnail":
        try:
            result.thumbnail = _download_thumbnail(client, ident, plan)
        except image_check.ImageRefused as refused:
            result.thumbnail_problem = str(refused)
    elif kind == "farm_status":
        result.farm_status = client.farm_status()
    elif kind == "workers":
        result.workers = client.workers()
    elif kind == "tags":
        result.tags = client.worker_tags()
    elif kind == "worker":
        result.worker = client.worker(ident)
    elif kind == "blocklist":
        result.doctor[kind] = client.job_blocklist(ident)
    elif kind == "sleep_schedule":
        result.doctor[kind] = client.worker_sleep_schedule(ident)
    elif kind == "failed_task":
        result.doctor[kind] = client.task(ident)
    elif kind == "fail_log":
        result.doctor[kind] = client.task_logtail(ident) or ""
    elif kind == "queue":  # the other jobs a Worker may take, kept compact
        result.doctor[kind] = [QueuedJob(r[ID], r[NAME], r[PRIORITY], r[STATUS], r[WORKER_TAG])
                               for r in client.job_rows() if r[STATUS] in RUNNABLE_JOBS and r[ID] != ident]
    else:
        raise ValueError(f"unknown poll request {kind!r}")


def _download_thumbnail(client: ManagerClient, job_id: str, plan: PollPlan) -> Optional[Path]:
    if plan.last_rendered is None or plan.thumbnail_dir is None:
        return None
    base = plan.last_rendered.base.replace("\\", "/").rstrip("/")
    data = client.fetch_bytes(base + "/last-rendered-small.jpg", limit=image_check.MAX_BYTES)
    problem = image_check.refusal(data)
    if problem:  # never handed to Blender's image loader; the request is done all the same
        raise image_check.ImageRefused(f"The last rendered frame from the Manager was not shown: {problem}")
    plan.thumbnail_dir.mkdir(parents=True, exist_ok=True)
    # A new name per image: Blender's preview cache is keyed by path.
    path = plan.thumbnail_dir / f"{job_id}-{time.time_ns()}.jpg"
    path.write_bytes(data)
    for old in plan.thumbnail_dir.glob(f"{job_id}-*.jpg"):
        if old != path:
            old.unlink(missing_ok=True)
    return path
