"""Following jobs on the Manager: what the artist watches, kept current by the Manager's
event stream (core/live.py) and by bounded polling, which is the fallback without the
stream and the resync after every (re)connect. bpy-free.

What is watched: the open job (its tasks, last-rendered frame and a log tail), this file's
jobs, and on request every job ("All Jobs" list) and the farm (workers, tags, status).

A poll runs on a background thread and makes at most two requests, whatever the farm
holds: the job list is read only while the artist views all jobs, and then only after the
stream (re)connected, or every LIST_INTERVAL without the stream; watched jobs are read one
by one (`GET /jobs/{id}`, flat cost), without the stream every 2 s while active, with it
only after (re)subscribing and to confirm status changes. `apply` and `apply_event` run on
the main thread and only swap in what was prepared.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Optional

from ..api import events, models
from ..api.event_stream import StreamState, StreamStatus
from . import ordering, task_log
from .doctor_watch import KINDS as DOCTOR_KINDS, DoctorWatch
from .farm import FarmView
from .job_actions import ACTIVE_STATES
from .job_index import JobIndex
from .progress import RUNNING_STATES, ProgressRate
from .poll import MAX_REQUESTS, PollPlan, PollResult, Request, poll

__all__ = ["Monitor", "PollPlan", "PollResult", "poll", "JobEvent", "fingerprint", "age", "duration", "ProgressRate"]

ACTIVE_INTERVAL = 2.0  # without the stream: watched jobs that run
IDLE_INTERVAL = 10.0  # without the stream: watched jobs that wait
FINISHED_INTERVAL = 60.0  # without the stream: this file's finished jobs (someone may requeue)
LIST_INTERVAL = 30.0  # without the stream: the whole job list, while the artist views it
LOG_INTERVAL = 5.0  # the log tail of a running task (logs are not on the stream)
VERIFY_INTERVAL = 60.0  # with the stream: the open job re-read now and then all the same
SETTLE_DELAY = 0.3  # with the stream: a watched job whose status changed is re-read after this
FOLLOW_UP_DELAY = 0.05  # between polls while more is due
MAX_BACKOFF = 60.0
FINAL_STATES = frozenset({"completed", "failed", "canceled"})

Fingerprint = tuple[datetime, str, int, int]


def fingerprint(job: models.Job) -> Fingerprint:
    return (job.updated, job.status, job.steps_completed, job.steps_total)


@dataclass
class JobEvent:
    """A watched job reached a final state (for notifications)."""

    job: models.Job
    previous: str


def merge_job_update(job: models.Job, update: events.JobUpdate) -> Optional[models.Job]:
    """The job after an event, or None when the event is older than the job we hold."""
    return ordering.merge(job, update, lambda: dict(
        name=update.name if update.name is not None else job.name,
        priority=update.priority,
        updated=update.updated or job.updated,
        steps_completed=update.steps_completed,
        steps_total=update.steps_total,
        delete_requested_at=update.delete_requested_at,
    ))


def merge_task_update(task: models.TaskSummary, update: events.TaskUpdate) -> Optional[models.TaskSummary]:
    def fields() -> dict[str, object]:
        worker = task.worker
        if update.worker_id:
            address = worker.address if worker is not None and worker.id == update.worker_id else ""
            worker = models.TaskWorker(update.worker_id, update.worker_name, address)
        return dict(
            name=update.name or task.name,
            updated=update.updated or task.updated,
            steps_completed=update.steps_completed,
            steps_total=update.steps_total if update.steps_total else task.steps_total,
            worker=worker,
        )

    return ordering.merge(task, update, fields)


class Monitor:
    """Main-thread state of what is being watched. bpy-free."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        # What the add-on asks for (set on the main thread before planning).
        self.open_job_id: Optional[str] = None
        self.watched_ids: set[str] = set()
        self.want_list = False  # the artist views all jobs
        self.want_farm = False  # the artist views the farm
        self.want_doctor = False  # the artist views the open job's findings (core/doctor_watch.py)
        self.can_list_jobs = True  # the Manager lists jobs (3.6+)
        self.can_set_tag = True  # the Manager changes a job's tag (3.8+)
        # What is known.
        self.jobs: dict[str, models.Job] = {}  # watched and open jobs, whole
        self.index = JobIndex(clock)  # every job, compact, while the artist views all jobs
        self.farm = FarmView()
        self.doctor = DoctorWatch()
        self.open_job: Optional[models.Job] = None
        self.tasks: list[models.TaskSummary] = []
        self.task_counts: Counter[str] = Counter()
        self.log: Optional[tuple[str, str]] = None
        # What the open job's task logs said: why a task failed, a GPU render gone to the CPU.
        self.failure: Optional[task_log.LogLine] = None
        self.cpu_fallback: Optional[task_log.LogLine] = None
        self._head_read = False  # the start of one finished render task's log was read
        self.selected_task_id: Optional[str] = None
        self.last_rendered: Optional[models.LastRendered] = None
        self.thumbnail: Optional[Path] = None
        self.thumbnail_problem: Optional[str] = None
        self.thumbnail_version = 0
        self.events: list[JobEvent] = []
        self.rate = ProgressRate()
        self.has_steps = True  # Managers before 3.8 report no steps (set from their features)
        # How it is kept current.
        self.live = False  # the event stream is connected
        self.stream: Optional[StreamStatus] = None
        self.error: Optional[str] = None
        self.failures = 0
        self.next_poll_at = 0.0  # no poll before (backoff, spacing)
        self.last_poll_at: Optional[float] = None
        self.last_requests = 0
        self.last_event_at: Optional[float] = None
        self._checked: dict[str, float] = {}  # job id → when it was last read
        self._job_event_at: dict[str, float] = {}  # job id → when its last event was applied
        self._recheck: dict[str, float] = {}  # job id → re-read it from this time on
        self._gone: set[str] = set()
        self._list_at = 0.0
        self._tasks_stale = False
        self._last_rendered_stale = False
        self._thumbnail_stale = False
        self._log_at = 0.0
        self._release: list[object] = []

    def reset(self) -> None:
        """Forget everything (another Manager, or the add-on is unloaded)."""
        self.__init__(self.clock)  # type: ignore[misc]

    # -- what the artist does (main thread) -----------------------------------------------

    def open(self, job_id: Optional[str]) -> None:
        if job_id == self.open_job_id:
            return
        self.open_job_id = job_id
        self.open_job = self.jobs.get(job_id) if job_id else None
        self.tasks, self.task_counts, self.log = [], Counter(), None
        self.failure = self.cpu_fallback = None
        self._head_read = False
        self.selected_task_id = None
        self.last_rendered, self.thumbnail, self.thumbnail_problem = None, None, None
        self.rate = ProgressRate()
        self._tasks_stale = self._last_rendered_stale = job_id is not None
        self._thumbnail_stale = False
        self._log_at = 0.0
        if job_id:
            self._gone.discard(job_id)
            self._recheck[job_id] = 0.0
        self.doctor.open(job_id)
        self.next_poll_at = min(self.next_poll_at, self.clock())

    def show_submitted(self, job: models.Job) -> None:
        """A job just submitted from here: listed and opened at once, not after the next poll."""
        self.jobs[job.id] = job
        self.watched_ids.add(job.id)
        self.open(job.id)
        self.open_job = job

    def select_task(self, task_id: Optional[str]) -> None:
        self.selected_task_id = task_id
        self.log = None
        self._log_at = 0.0
        self.next_poll_at = min(self.next_poll_at, self.clock())

    def poll_soon(self) -> None:
        """Re-read what is watched now (e.g. after an action changed a job)."""
        now = self.clock()
        for job_id in self._watched():
            self._recheck[job_id] = now
        if self.want_list and not self.live:
            self._list_at = now
        self.next_poll_at = min(self.next_poll_at, now)

    # -- planning the next poll (main thread) -------------------------------------------------

    def due(self) -> bool:
        return self.clock() >= self.next_poll_at

    def _watched(self) -> list[str]:
        ids = sorted(self.watched_ids)
        if self.open_job_id:
            ids = [self.open_job_id] + [i for i in ids if i != self.open_job_id]
        return ids

    def _job_interval(self, job_id: str) -> float:
        job = self.jobs.get(job_id)
        if job is None or job.status in ACTIVE_STATES:
            return ACTIVE_INTERVAL
        if job.status in FINAL_STATES and job_id != self.open_job_id:
            return FINISHED_INTERVAL
        return IDLE_INTERVAL

    def _job_due(self, job_id: str, now: float) -> bool:
        if job_id in self._gone:
            return False
        if now >= self._recheck.get(job_id, float("inf")):
            return True
        last = self._checked.get(job_id)
        if last is None:
            return True
        if self.live:
            return job_id == self.open_job_id and now - last >= VERIFY_INTERVAL
        return now - last >= self._job_interval(job_id)

    def _log_task(self) -> Optional[str]:
        if self.selected_task_id:
            return self.selected_task_id
        for wanted in ("failed", "soft-failed", "active"):
            for task in self.tasks:
                if task.status == wanted:
                    return task.id
        return None

    def _head_task(self) -> Optional[str]:
        """Once the open job is finished: a render task whose log's start is read once (a GPU
        job type says there which device it got; the tail has scrolled past it)."""
        job = self.open_job
        if self._head_read or self.cpu_fallback or job is None or job.status not in FINAL_STATES:
            return None
        for task in self.tasks:
            if task.task_type == "blender" and task.status in ("completed", "failed"):
                return task.id
        return None

    def wanted_requests(self, thumbnails: bool = True, can_list: bool = True) -> list[Request]:
        """Everything due now, most important first (a poll takes the first two)."""
        now = self.clock()
        wanted: list[Request] = []
        # While the stream connects, the list waits: read before the subscription, it would
        # have to be read again after it.
        connecting = self.stream is not None and self.stream.state == StreamState.CONNECTING
        if can_list and self.want_list and not connecting and (
            not self.index.fresh or (not self.live and now >= self._list_at)
        ):
            wanted.append(("list", ""))
        opened = self.open_job_id
        if opened and opened not in self._gone:
            if self._job_due(opened, now):
                wanted.append(("job", opened))
            if self._tasks_stale:
                wanted.append(("tasks", opened))
            if self._last_rendered_stale:
                wanted.append(("last_rendered", opened))
            elif self._thumbnail_stale and thumbnails and self.last_rendered is not None:
                wanted.append(("thumbnail", opened))
            log_task = self._log_task()
            if log_task and (now >= self._log_at or self.log is None or self.log[0] != log_task):
                wanted.append(("log", log_task))
            head_task = self._head_task()
            if head_task:
                wanted.append(("log_head", head_task))
        others = [i for i in self._watched() if i != opened and self._job_due(i, now)]
        others.sort(key=lambda i: self._checked.get(i, 0.0))  # the longest unread first
        wanted += [("job", i) for i in others]
        if self.doctoring():
            wanted += self.doctor.requests(self, now)
        if self.want_farm or self.doctoring():
            wanted += self.farm.requests(now, self.live, details=self.doctoring())
        return wanted

    def doctoring(self) -> bool:
        """The open job's findings are wanted: read what they need (workers, tags, blocklist)."""
        return self.want_doctor and self.open_job_id is not None

    def plan(self, thumbnail_dir: Optional[Path], can_list: bool = True, has_steps: bool = True) -> PollPlan:
        self.has_steps = has_steps
        self.can_list_jobs = can_list
        requests = tuple(self.wanted_requests(thumbnail_dir is not None, can_list)[:MAX_REQUESTS])
        release: list[object] = []
        if requests:  # a plan without requests is not run: what it holds would be freed here
            release, self._release = self._release, []
        return PollPlan(requests, self.open_job_id, self.last_rendered, thumbnail_dir, release, self.clock())

    @property
    def _details(self) -> tuple[str, ...]:
        """The former name of `pending_details` (tests and the demo still use it)."""
        return self.pending_details

    @property
    def pending_details(self) -> tuple[str, ...]:
        """The open job's details still to be read (tasks, frame, thumbnail)."""
        flags = (("tasks", self._tasks_stale), ("last_rendered", self._last_rendered_stale),
                 ("thumbnail", self._thumbnail_stale and self.last_rendered is not None))
        return tuple(name for name, stale in flags if stale)

    # -- applying a poll (main thread) ------------------------------------------------------

    def apply(self, result: PollResult) -> None:
        now = self.clock()
        self.last_poll_at = now
        self.last_requests = result.requests
        if result.done:
            self.doctor.dirty = True
        for kind, ident in result.done:
            self._apply_one(result, kind, ident, now)
        if result.error is not None:
            self.failures += 1
            self.error = str(result.error)
            wait = min(MAX_BACKOFF, ACTIVE_INTERVAL * 2 ** min(self.failures, 6))
            retry_after = getattr(result.error, "retry_after", None)
            if retry_after:
                wait = max(wait, float(retry_after))
            self.next_poll_at = now + wait
            return
        self.failures = 0
        if self.error and not (self.open_job_id and self.open_job_id in self._gone):
            self.error = None
        self.next_poll_at = now + FOLLOW_UP_DELAY

    def _apply_one(self, result: PollResult, kind: str, ident: str, now: float) -> None:
        opened = self.open_job_id
        if kind == "list" and result.rows is not None:
            # Watched jobs missing from it are not taken as deleted: one submitted while the
            # list was on its way is not in it. Their own reads (404) and events say so.
            self._release.append(self.index.replace(result.rows))
            self._list_at = now + LIST_INTERVAL
        elif kind == "job":
            if self._job_event_at.get(ident, float("-inf")) > result.planned_at:
                # An event came after this read left: the read may be older (Managers before
                # 3.8 send a job's previous `updated` with its status change). Read again.
                self._recheck[ident] = min(self._recheck.get(ident, now), now)
                return
            if self._recheck.get(ident, float("inf")) <= result.planned_at:
                self._recheck.pop(ident)
            self._checked[ident] = now
            if ident in result.gone:
                self._job_gone(ident)
            elif ident in result.jobs:
                job = result.jobs[ident]
                self._store_job(job, now)
                self.index.put(job)
                if (ident == opened and not self.has_steps and not self.live and job.status in ACTIVE_STATES
                        and not self.pending_details):
                    # Managers before 3.8 change `updated` only with the status: a running job
                    # looks unchanged while its tasks complete, so read them after every job read
                    # (once the previous round of details is done: the thumbnail comes last).
                    self._tasks_stale = self._last_rendered_stale = True
        elif ident != opened and kind in ("tasks", "last_rendered", "thumbnail"):
            return  # the artist opened another job while this poll was out
        elif kind == "tasks":
            if ident in result.gone:
                return
            self.tasks = result.tasks or []
            self.task_counts = result.task_counts or Counter()
            self._tasks_stale = False
            self._observe_progress(now)
        elif kind == "last_rendered":
            self.last_rendered = result.last_rendered
            self._last_rendered_stale = False
            # Read because the job changed: the images are overwritten in place under the
            # same base, so the same answer may still be a new frame.
            self._thumbnail_stale = result.last_rendered is not None
        elif kind == "thumbnail":
            self._thumbnail_stale = False
            self.thumbnail_problem = result.thumbnail_problem
            if result.thumbnail is not None:
                self.thumbnail = result.thumbnail
                self.thumbnail_version += 1
        elif kind == "log" and result.log is not None:
            self.log = result.log
            running = any(t.id == ident and t.status == "active" for t in self.tasks)
            self._log_at = now + LOG_INTERVAL if running else float("inf")
            self._read_log(ident, result.log[1])
        elif kind == "log_head" and result.log_head is not None:
            self._head_read = True
            self._read_log(ident, result.log_head[1])
        elif kind == "farm_status" and result.farm_status is not None:
            self.farm.set_status(result.farm_status, now)
        elif kind == "workers" and result.workers is not None:
            self.farm.set_workers(result.workers, now)
        elif kind == "tags" and result.tags is not None:
            self.farm.set_tags(result.tags, now)
        elif kind == "worker":
            if ident in result.gone:
                self.farm.worker_gone(ident)
            elif result.worker is not None:
                self.farm.set_worker(result.worker, now)
        elif kind in DOCTOR_KINDS:
            self.doctor.apply(kind, ident, result.doctor.get(kind), ident in result.gone, now)

    def _read_log(self, task_id: str, text: str) -> None:
        task = next((t for t in self.tasks if t.id == task_id), None)
        if task is None:  # a log of a job that is no longer open
            return
        if task.status in ("failed", "soft-failed"):
            line = task_log.failure_line(text)
            if line:
                self.failure = task_log.LogLine(task.name, line)
        if self.cpu_fallback is None:
            line = task_log.cpu_fallback_line(text)
            if line:
                self.cpu_fallback = task_log.LogLine(task.name, line)

    def _job_gone(self, job_id: str) -> None:
        self._gone.add(job_id)
        self.jobs.pop(job_id, None)
        self.index.remove(job_id)
        if job_id == self.open_job_id:
            self.open_job = None
            self.error = "The open job no longer exists on the Manager"

    def _store_job(self, job: models.Job, now: float) -> None:
        """A newer state of a watched job, from a poll or an event."""
        before = self.jobs.get(job.id)
        watched = job.id == self.open_job_id or job.id in self.watched_ids
        if not watched and before is None:
            return
        if before is not None and job.updated < before.updated:
            return  # a read that left before an event we already applied
        self.jobs[job.id] = job
        if job.id == self.open_job_id:
            self.open_job = job
            self._observe_progress(now)
        if before is None or fingerprint(before) == fingerprint(job):
            if before is None and job.id == self.open_job_id:
                self._log_at = 0.0
            return
        if before.status != job.status:
            if watched and job.status in ("completed", "failed"):
                self.events.append(JobEvent(job, before.status))
            if job.id == self.open_job_id and job.status in FINAL_STATES:
                # Task events around the end can be missed or out of order (3.6 under load
                # showed "completed, tasks 2/3"): the final task list is read once.
                self._tasks_stale = True
        if job.id == self.open_job_id:
            self._log_at = 0.0  # something happened: the log may say what
            self.doctor.job_changed()
            if not self.live:  # without task events the tasks and frame must be read
                self._tasks_stale = self._last_rendered_stale = True

    def interval(self) -> float:
        """How often watched jobs are read without the stream (for the UI and tests)."""
        return min((self._job_interval(i) for i in self._watched()), default=IDLE_INTERVAL)

    # -- applying events (main thread) --------------------------------------------------------

    def set_stream(self, status: StreamStatus) -> None:
        was_live = self.live
        self.stream = status
        self.live = status.state == StreamState.LIVE
        if self.live and not was_live:
            self.farm.status_fresh = False  # the "/status" room is joined on connect
        if was_live and not self.live:
            # Nothing says what changed from now on: poll, starting now.
            now = self.clock()
            self._list_at = now
            self.farm.resync()
            self.next_poll_at = min(self.next_poll_at, now)

    def apply_event(self, event: events.Event) -> None:
        now = self.clock()
        self.last_event_at = now
        if isinstance(event, events.JobUpdate):
            self._apply_job_update(event, now)
        elif isinstance(event, events.TaskUpdate):
            self._apply_task_update(event, now)
        elif isinstance(event, events.LastRenderedUpdate):
            if event.job_id == self.open_job_id:
                if event.thumbnail is not None:
                    self.last_rendered, self._thumbnail_stale = event.thumbnail, True
                else:
                    self._last_rendered_stale = True
        elif isinstance(event, (events.WorkerUpdate, events.WorkerTagUpdate, events.FarmStatusUpdate)):
            self.farm.apply_event(event)
        elif isinstance(event, events.Subscribed):
            self._resubscribed(event.subscription, now)
        self.doctor.note_event(event)

    def _apply_job_update(self, update: events.JobUpdate, now: float) -> None:
        if update.was_deleted:
            if update.id in self.jobs or update.id == self.open_job_id:
                self._job_gone(update.id)
            self.index.remove(update.id)
            return
        self.index.apply(update)
        job = self.jobs.get(update.id)
        watched = update.id == self.open_job_id or update.id in self.watched_ids
        if watched:
            self._job_event_at[update.id] = now
        if job is None:
            if watched:
                self._recheck[update.id] = now  # not read yet: read it whole
            return
        if update.status != job.status:
            # Events arrive out of order, with times that do not order them, and carry no
            # activity: whatever is made of this one, read the job once they settle.
            self._recheck[update.id] = now + SETTLE_DELAY
        merged = merge_job_update(job, update)
        if merged is None:
            return
        self._store_job(merged, now)
        if update.refresh_tasks and update.id == self.open_job_id:
            self._tasks_stale = True

    def _apply_task_update(self, update: events.TaskUpdate, now: float) -> None:
        if self.want_farm or self.doctoring():
            self.farm.note_task(update)
        if update.job_id != self.open_job_id:
            return
        for index, task in enumerate(self.tasks):
            if task.id == update.id:
                merged = merge_task_update(task, update)
                if merged is None:
                    return
                self.tasks = self.tasks[:index] + [merged] + self.tasks[index + 1 :]
                self.task_counts = Counter(t.status for t in self.tasks)
                self._observe_progress(now)
                if merged.status != task.status and merged.id == self._log_task():
                    self._log_at = min(self._log_at, now)
                return
        self._tasks_stale = True  # a task we have not seen: read the list

    def _resubscribed(self, subscription: events.Subscription, now: float) -> None:
        """Events from before this moment were not received: read what they would have said."""
        if subscription.type == events.ALL_JOBS:
            self.index.fresh = False
            # A (re)connect may reach another Manager process than the one that said the open
            # job was gone (another release swapped in, then back): asked about once more.
            if self.open_job_id in self._gone:
                self._gone.discard(self.open_job_id)
            for job_id in self._watched():
                self._recheck[job_id] = now
        elif subscription.type == events.JOB and subscription.uuid and subscription.uuid == self.open_job_id:
            self._tasks_stale = self._last_rendered_stale = True
            self._recheck[subscription.uuid] = now
        elif subscription.type in (events.ALL_WORKERS, events.ALL_WORKER_TAGS):
            self.farm.resync()
        self.next_poll_at = min(self.next_poll_at, now)

    def subscriptions(self) -> set[events.Subscription]:
        """What the stream should hold for what is watched now."""
        subs = {events.Subscription(events.ALL_JOBS)}
        if self.open_job_id:
            subs.add(events.Subscription(events.JOB, self.open_job_id))
        if self.want_farm or self.doctoring():
            subs |= {events.Subscription(events.ALL_WORKERS), events.Subscription(events.ALL_WORKER_TAGS)}
        return subs

    # -- for the UI ------------------------------------------------------------------------------

    def job(self, job_id: str) -> Optional[models.Job]:
        """A watched job whole, else as the job list knows it."""
        return self.jobs.get(job_id) or self.index.job(job_id)

    def status_line(self) -> str:
        """One short line on how the panels are kept current (empty before it is known)."""
        status = self.stream
        if status is None:
            return ""
        if status.state == StreamState.LIVE:
            return "Live updates from the Manager"
        if status.state == StreamState.CONNECTING:
            return "Connecting to the Manager's event stream…" if status.connects == 0 else "Reconnecting to the event stream…"
        if status.state == StreamState.DOWN:
            every = f"every {int(self.interval())} s"
            if status.refused:
                return f"Polling {every}: the Manager's event stream is not available"
            return f"Polling {every}: event stream lost, retrying in {status.retry_in:.0f} s"
        return ""

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

    def _observe_progress(self, now: float) -> None:
        job = self.open_job
        if job is not None:
            self.rate.observe(self.progress(job), now, job.status in RUNNING_STATES)


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
