"""Following jobs on the Manager: what one poll fetches, and how its result is applied.

A poll runs on a background thread and makes at most two requests, whatever the number
of listed jobs: `GET /jobs` (every job, one request) and at most one detail of the open
job (tasks, last-rendered frame or a log tail), fetched only after that job changed.
`apply` runs on the main thread and only swaps in what the poll prepared.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Optional

from ..api import errors, models
from ..api.client import ManagerClient
from .job_actions import ACTIVE_STATES
from .progress import RUNNING_STATES, ProgressRate

ACTIVE_INTERVAL = 2.0
IDLE_INTERVAL = 10.0
MAX_BACKOFF = 60.0
DETAILS = ("tasks", "last_rendered", "log")

Fingerprint = tuple[datetime, str, int, int]


def fingerprint(job: models.Job) -> Fingerprint:
    return (job.updated, job.status, job.steps_completed, job.steps_total)


@dataclass(frozen=True)
class PollPlan:
    """A snapshot of what the main thread wants; the background thread reads only this."""

    fetch_list: bool  # GET /jobs: every job in one request (Manager 3.6+)
    fetch_open_job: bool  # GET /jobs/{id}: older Managers, which cannot list
    open_job_id: Optional[str]
    open_fingerprint: Optional[Fingerprint]
    details: tuple[str, ...]
    log_task_id: Optional[str]
    last_rendered_base: Optional[str]
    thumbnail_dir: Optional[Path]
    # Managers before 3.8 change a job's `updated` only with its status, so a running job
    # looks unchanged while its tasks complete: its details are then due on every list poll.
    details_on_every_list: bool = False


@dataclass
class PollResult:
    open_job_id: Optional[str] = None  # the job this poll was about
    requests: int = 0
    jobs: Optional[dict[str, models.Job]] = None
    open_job: Optional[models.Job] = None
    open_job_gone: bool = False
    details_left: tuple[str, ...] = ()
    tasks: Optional[list[models.TaskSummary]] = None
    task_counts: Optional[Counter[str]] = None
    log: Optional[tuple[str, str]] = None
    last_rendered: Optional[models.LastRendered] = None
    last_rendered_checked: bool = False
    thumbnail: Optional[Path] = None
    error: Optional[errors.FlamencoError] = None


def poll(client: ManagerClient, plan: PollPlan) -> PollResult:
    """One poll (background thread). Never raises a FlamencoError: it is in `error`."""
    result = PollResult(open_job_id=plan.open_job_id)
    try:
        if plan.fetch_list:
            result.requests += 1
            result.jobs = {job.id: job for job in client.jobs()}
            if plan.open_job_id:
                result.open_job = result.jobs.get(plan.open_job_id)
                result.open_job_gone = result.open_job is None
        elif plan.fetch_open_job and plan.open_job_id:
            result.requests += 1
            try:
                result.open_job = client.job(plan.open_job_id)
            except errors.NotFound:
                result.open_job_gone = True
        if plan.open_job_id and not result.open_job_gone:
            _fetch_one_detail(client, plan, result)
    except errors.FlamencoError as ex:
        result.error = ex
    return result


def _fetch_one_detail(client: ManagerClient, plan: PollPlan, result: PollResult) -> None:
    details = list(plan.details)
    job = result.open_job
    if job is not None and fingerprint(job) != plan.open_fingerprint:
        details = list(DETAILS)  # the job changed: everything about it may have
    elif job is not None and plan.details_on_every_list and job.status in ACTIVE_STATES and not details:
        details = list(DETAILS)
    if not details or plan.open_job_id is None:
        return
    job_id = plan.open_job_id
    kind = details.pop(0)
    result.requests += 1
    if kind == "tasks":
        tasks = client.job_tasks(job_id)
        result.tasks = tasks
        result.task_counts = Counter(t.status for t in tasks)
    elif kind == "log":
        if plan.log_task_id:
            text = client.task_logtail(plan.log_task_id)
            result.log = (plan.log_task_id, text or "")
        else:
            result.requests -= 1
    elif kind == "last_rendered":
        result.last_rendered = client.job_last_rendered(job_id)
        result.last_rendered_checked = True
        if result.last_rendered is not None and plan.thumbnail_dir is not None:
            details.insert(0, "thumbnail")
    elif kind == "thumbnail":
        result.thumbnail = _download_thumbnail(client, job_id, plan)
    result.details_left = tuple(details)


def _download_thumbnail(client: ManagerClient, job_id: str, plan: PollPlan) -> Optional[Path]:
    rendered = client.job_last_rendered(job_id) if plan.last_rendered_base is None else None
    base = plan.last_rendered_base or (rendered.base if rendered else None)
    if base is None or plan.thumbnail_dir is None:
        return None
    data = client.fetch_bytes(base.replace("\\", "/").rstrip("/") + "/last-rendered-small.jpg")
    plan.thumbnail_dir.mkdir(parents=True, exist_ok=True)
    # A new name per image: Blender's preview cache is keyed by path.
    path = plan.thumbnail_dir / f"{job_id}-{time.time_ns()}.jpg"
    path.write_bytes(data)
    for old in plan.thumbnail_dir.glob(f"{job_id}-*.jpg"):
        if old != path:
            old.unlink(missing_ok=True)
    return path


@dataclass
class JobEvent:
    """A watched job reached a final state (for notifications)."""

    job: models.Job
    previous: str


class Monitor:
    """Main-thread state of what is being watched. bpy-free."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.jobs: dict[str, models.Job] = {}
        self.open_job_id: Optional[str] = None
        self.open_job: Optional[models.Job] = None
        self.tasks: list[models.TaskSummary] = []
        self.task_counts: Counter[str] = Counter()
        self.log: Optional[tuple[str, str]] = None
        self.selected_task_id: Optional[str] = None
        self.last_rendered: Optional[models.LastRendered] = None
        self.thumbnail: Optional[Path] = None
        self.thumbnail_version = 0
        self.error: Optional[str] = None
        self.failures = 0
        self.next_poll_at = 0.0
        self.next_list_at = 0.0
        self.last_poll_at: Optional[float] = None
        self.last_requests = 0
        self.watched_ids: set[str] = set()
        self.events: list[JobEvent] = []
        self._fingerprint: Optional[Fingerprint] = None
        self._details: tuple[str, ...] = ()
        self.rate = ProgressRate()

    def reset(self) -> None:
        """Forget everything (another Manager, or the add-on is unloaded)."""
        self.__init__(self.clock)  # type: ignore[misc]

    # -- what to do next -----------------------------------------------------------------

    def open(self, job_id: Optional[str]) -> None:
        if job_id == self.open_job_id:
            return
        self.open_job_id = job_id
        self.open_job = self.jobs.get(job_id) if job_id else None
        self.tasks, self.task_counts, self.log = [], Counter(), None
        self.selected_task_id = None
        self.last_rendered, self.thumbnail = None, None
        self._fingerprint, self._details = None, ()
        self.rate = ProgressRate()
        self.poll_soon()

    def show_submitted(self, job: models.Job) -> None:
        """A job just submitted from here: listed and opened at once, not after the next poll."""
        self.jobs[job.id] = job
        self.watched_ids.add(job.id)
        self.open(job.id)
        self.open_job = job

    def select_task(self, task_id: Optional[str]) -> None:
        self.selected_task_id = task_id
        self.log = None
        self._details = ("log",) + tuple(d for d in self._details if d != "log")
        self.poll_soon()

    def poll_soon(self) -> None:
        now = self.clock()
        self.next_poll_at = min(self.next_poll_at, now)
        self.next_list_at = min(self.next_list_at, now)

    def due(self) -> bool:
        return self.clock() >= self.next_poll_at

    def plan(self, thumbnail_dir: Optional[Path], can_list: bool = True, has_steps: bool = True) -> PollPlan:
        # Follow-up polls for the open job's details skip the (heavy) job list.
        list_due = self.clock() >= self.next_list_at
        return PollPlan(
            fetch_list=list_due and can_list,
            fetch_open_job=list_due and not can_list,
            open_job_id=self.open_job_id,
            open_fingerprint=self._fingerprint,
            details=self._details,
            log_task_id=self._log_task(),
            last_rendered_base=self.last_rendered.base if self.last_rendered else None,
            thumbnail_dir=thumbnail_dir,
            details_on_every_list=list_due and not has_steps,
        )

    def _log_task(self) -> Optional[str]:
        if self.selected_task_id:
            return self.selected_task_id
        for wanted in ("failed", "soft-failed", "active"):
            for task in self.tasks:
                if task.status == wanted:
                    return task.id
        return None

    # -- applying a poll (main thread) ------------------------------------------------------

    def apply(self, result: PollResult) -> None:
        now = self.clock()
        self.last_poll_at = now
        self.last_requests = result.requests
        if result.error is not None:
            self.failures += 1
            self.error = str(result.error)
            wait = min(MAX_BACKOFF, ACTIVE_INTERVAL * 2 ** min(self.failures, 6))
            retry_after = getattr(result.error, "retry_after", None)
            if retry_after:
                wait = max(wait, float(retry_after))
            self.next_poll_at = self.next_list_at = now + wait
            return
        self.failures, self.error = 0, None

        if result.jobs is not None:
            self._note_events(result.jobs)
            self.jobs = result.jobs
        if result.open_job_id != self.open_job_id:
            # The artist opened another job while this poll was out: its details are stale.
            self.open_job = self.jobs.get(self.open_job_id) if self.open_job_id else None
            self._fingerprint = None
            self.next_poll_at = now
            return
        if result.open_job is not None:
            self.open_job = result.open_job
            if result.open_job.id not in self.jobs:
                self.jobs[result.open_job.id] = result.open_job
            self._fingerprint = fingerprint(result.open_job)
        if self.open_job_id and not result.open_job_gone:
            self._details = result.details_left
        if result.open_job_gone:
            self.open_job = None
            self.error = "The open job no longer exists on the Manager"
        if result.tasks is not None:
            self.tasks = result.tasks
            self.task_counts = result.task_counts or Counter()
        if self.open_job is not None and (result.open_job is not None or result.tasks is not None):
            self.rate.observe(self.progress(self.open_job), now, self.open_job.status in RUNNING_STATES)
        if result.log is not None:
            self.log = result.log
        if result.last_rendered_checked:
            self.last_rendered = result.last_rendered
        if result.thumbnail is not None:
            self.thumbnail = result.thumbnail
            self.thumbnail_version += 1
        if result.jobs is not None or result.open_job is not None or result.open_job_gone:
            self.next_list_at = now + self.interval()
        self.next_poll_at = now + 0.05 if self._details else self.next_list_at

    def _note_events(self, jobs: dict[str, models.Job]) -> None:
        # Watched: this file's jobs, and whichever job the artist has open.
        for job_id in self.watched_ids | ({self.open_job_id} if self.open_job_id else set()):
            before, after = self.jobs.get(job_id), jobs.get(job_id)
            if before is None or after is None or before.status == after.status:
                continue
            if after.status in ("completed", "failed"):
                self.events.append(JobEvent(after, before.status))

    def interval(self) -> float:
        watched = [self.jobs.get(i) for i in self.watched_ids | ({self.open_job_id} if self.open_job_id else set())]
        busy = any(job is not None and job.status in ACTIVE_STATES for job in watched)
        return ACTIVE_INTERVAL if busy else IDLE_INTERVAL

    # -- derived figures for the UI -----------------------------------------------------------

    def progress(self, job: models.Job) -> float:
        if job.steps_total > 0:
            return max(0.0, min(1.0, job.steps_completed / job.steps_total))
        if job.id == self.open_job_id and self.tasks:
            # New jobs report 0/0 steps until a task reports one: count tasks instead.
            return self.task_counts.get("completed", 0) / len(self.tasks)
        return 1.0 if job.status == "completed" else 0.0

    def eta_seconds(self) -> Optional[float]:
        """Remaining time of the open job, from how fast its progress moved (core.progress)."""
        return self.rate.remaining(self.clock())

def age(moment: datetime, now: Optional[datetime] = None) -> str:
    """'5s', '3m', '2h', '4d': short, for a job list column."""
    seconds = max(0.0, ((now or datetime.now(timezone.utc)) - moment).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def duration(seconds: float) -> str:
    seconds = int(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
