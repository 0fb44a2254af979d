"""The farm view: Workers (name, status, current task, last seen), worker tags and the farm
status, kept current by the event stream ("/workers", "/workertags", "/status") and read
over REST after (re)connecting or, without the stream, every FARM_INTERVAL. bpy-free.

A Worker's current task is only in `GET /worker-mgt/workers/{id}` (one request per
Worker), so it is read for one Worker at a time: when an event says the Worker changed
(it gets one when it takes a task), when a task event of the open job names it, and
otherwise for awake Workers every TASK_INTERVAL.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Optional

from ..api import events, models

FARM_INTERVAL = 10.0  # without the stream: workers and farm status
TASK_INTERVAL = 10.0  # an awake Worker's current task at most this stale (when looked at)
TASK_MIN_SPACING = 2.0  # per Worker, however many events arrive
WORKER_READS_SPACING = 1.0  # all Workers together: a big farm costs at most one request a second


@dataclass(frozen=True)
class WorkerInfo:
    id: str
    name: str
    status: str
    last_seen: Optional[datetime]
    version: str = ""
    status_change: Optional[models.WorkerStatusChange] = None
    task: Optional[models.WorkerTask] = None
    updated: Optional[datetime] = None
    # From the Worker's details (GET /worker-mgt/workers/{id}); None until they were read.
    task_types: Optional[tuple[str, ...]] = None
    tag_ids: Optional[tuple[str, ...]] = None


class FarmView:
    def __init__(self) -> None:
        self.status = ""
        self.workers: dict[str, WorkerInfo] = {}
        self.tags: dict[str, models.WorkerTag] = {}
        self.workers_fresh = False
        self.tags_fresh = False
        self.status_fresh = False
        self._workers_at = 0.0
        self._status_at = 0.0
        self._tags_at = 0.0
        self._task_read_at: dict[str, float] = {}
        self._task_due: set[str] = set()
        self._last_worker_read = 0.0

    # -- what to read (main thread) ---------------------------------------------------------

    def requests(self, now: float, live: bool, details: bool = False) -> list[tuple[str, str]]:
        """What the farm view needs read, most important first; `details`: also every Worker's
        tags and task types (the farm doctor's), once each."""
        wanted: list[tuple[str, str]] = []
        if not self.status_fresh or (not live and now >= self._status_at):
            wanted.append(("farm_status", ""))
        if not self.workers_fresh or (not live and now >= self._workers_at):
            wanted.append(("workers", ""))
        if not self.tags_fresh or (not live and now >= self._tags_at):
            wanted.append(("tags", ""))
        if now - self._last_worker_read < WORKER_READS_SPACING:
            return wanted
        due = {w for w in self._task_due if w in self.workers and now - self._task_read_at.get(w, 0.0) >= TASK_MIN_SPACING}
        if details:
            due |= {w.id for w in self.workers.values() if w.task_types is None and w.id not in self._task_read_at}
        if not live:  # without events nothing says when a Worker took another task
            due |= {
                w.id for w in self.workers.values()
                if w.status == models.WorkerStatus.AWAKE and now - self._task_read_at.get(w.id, 0.0) >= TASK_INTERVAL
            }
        if due:
            wanted.append(("worker", min(due, key=lambda w: self._task_read_at.get(w, 0.0))))
        return wanted

    def resync(self) -> None:
        """After the stream (re)connected, or it went away: read everything again."""
        self.workers_fresh = self.tags_fresh = self.status_fresh = False

    # -- REST answers -------------------------------------------------------------------------

    def set_status(self, status: str, now: float) -> None:
        self.status, self.status_fresh, self._status_at = status, True, now + FARM_INTERVAL

    def set_workers(self, workers: list[models.WorkerSummary], now: float) -> None:
        known = self.workers
        self.workers = {
            w.id: WorkerInfo(w.id, w.name, w.status, w.last_seen, w.version, w.status_change,
                             known[w.id].task if w.id in known else None,
                             task_types=known[w.id].task_types if w.id in known else None,
                             tag_ids=known[w.id].tag_ids if w.id in known else None)
            for w in workers
        }
        self.workers_fresh, self._workers_at = True, now + FARM_INTERVAL

    def set_tags(self, tags: list[models.WorkerTag], now: float) -> None:
        self.tags = {t.id: t for t in tags}
        self.tags_fresh, self._tags_at = True, now + FARM_INTERVAL

    def set_worker(self, worker: models.Worker, now: float) -> None:
        s = worker.summary
        self.workers[s.id] = WorkerInfo(s.id, s.name, s.status, s.last_seen, s.version, s.status_change, worker.task,
                                        task_types=tuple(worker.supported_task_types),
                                        tag_ids=tuple(t.id for t in worker.tags))
        self._task_read_at[s.id] = self._last_worker_read = now
        self._task_due.discard(s.id)

    def want_tasks(self, worker_ids: set[str]) -> None:
        """Read these Workers' current tasks again (one at a time, spaced as always): a running
        task names no Worker (Managers before 3.8), so one of them runs it."""
        self._task_due |= worker_ids & self.workers.keys()

    def worker_gone(self, worker_id: str) -> None:
        self.workers.pop(worker_id, None)
        self._task_due.discard(worker_id)

    # -- events ---------------------------------------------------------------------------------

    def apply_event(self, event: events.Event) -> None:
        if isinstance(event, events.FarmStatusUpdate):
            self.status = event.status
        elif isinstance(event, events.WorkerUpdate):
            if event.deleted_at is not None:
                self.worker_gone(event.id)
                return
            before = self.workers.get(event.id)
            if before is not None and before.updated and event.updated and event.updated < before.updated:
                return  # out of order
            task = before.task if before else None
            self.workers[event.id] = WorkerInfo(
                event.id, event.name, event.status, event.last_seen, event.version, event.status_change, task,
                event.updated, task_types=before.task_types if before else None,
                tag_ids=before.tag_ids if before else None)
            self._task_due.add(event.id)
        elif isinstance(event, events.WorkerTagUpdate):
            if event.was_deleted or event.tag is None:
                self.tags.pop(event.tag_id, None)
            else:
                self.tags[event.tag_id] = event.tag

    def note_task(self, update: events.TaskUpdate) -> None:
        """A task event of a watched job names its Worker: that is the Worker's task now."""
        worker = self.workers.get(update.worker_id) if update.worker_id else None
        if worker is None:
            return
        task = models.WorkerTask(update.id, update.name, update.status, update.job_id, "", update.updated)
        self.workers[worker.id] = replace(worker, task=task)

    # -- for the UI -------------------------------------------------------------------------------

    def sorted_workers(self) -> list[WorkerInfo]:
        order = {"awake": 0, "error": 1, "starting": 2, "asleep": 3, "testing": 4, "restart": 5, "offline": 6}
        return sorted(self.workers.values(), key=lambda w: (order.get(w.status, 9), w.name.lower()))
