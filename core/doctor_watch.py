"""The farm doctor in Blender: what the diagnosis of the open job needs, read by the monitor's
polls (a few requests each, like everything it reads) and kept current by the same events.
bpy-free.

The monitor already holds the open job, its tasks and (through its farm view) the Workers and
worker tags. This adds what only the diagnosis needs, each read when it may have changed:

- "blocklist": the open job's blocklist, when the job is opened, when its status changes and
  when one of its tasks fails or is requeued (the Manager blocklists after a failure and
  requeues what the Worker failed);
- "sleep_schedule": an asleep Worker's sleep schedule, once per time it fell asleep;
- "failed_task" and "fail_log": a failed task's details (on which Workers it failed) and its
  log tail (why), once per failure, the newest MAX_FAILED_TASKS;
- "queue": the other jobs (GET /jobs as compact rows), only while the job waits behind busy
  Workers, at most every QUEUE_INTERVAL.

Findings are made on a background thread from a snapshot (`facts`) whenever one of these
changed; the main thread only swaps the result in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Optional

from ..api import events, models
from . import doctor
from .doctor import FailedTask, Facts, Finding, WorkerFacts

if TYPE_CHECKING:
    from .monitor import Monitor

KINDS = frozenset({"blocklist", "sleep_schedule", "failed_task", "fail_log", "queue"})
QUEUE_INTERVAL = 30.0
DIAGNOSE_SPACING = 0.5  # seconds between two diagnoses, however many events arrive


@dataclass(frozen=True)
class Diagnosis:
    job_id: str
    findings: tuple[Finding, ...]
    notes: dict[str, str] = field(default_factory=dict)  # worker id → what it does, why it idles
    needs_queue: bool = False  # the job waits behind busy Workers: the other jobs matter


def run(facts: Facts) -> Diagnosis:
    """The findings and the Workers' notes (background thread)."""
    return Diagnosis(facts.job.id, tuple(doctor.diagnose(facts)), doctor.worker_notes(facts),
                     doctor.needs_queue(facts))


def worker_facts(worker: object, sleep: Optional[models.SleepSchedule], sleep_known: bool) -> WorkerFacts:
    """A farm view's WorkerInfo (core/farm.py) as the diagnosis reads it."""
    task = getattr(worker, "task", None)
    change = getattr(worker, "status_change", None)
    return WorkerFacts(
        id=getattr(worker, "id"), name=getattr(worker, "name"), status=str(getattr(worker, "status")),
        last_seen=getattr(worker, "last_seen", None), requested=str(change.status) if change is not None else "",
        task_types=getattr(worker, "task_types", None), tag_ids=getattr(worker, "tag_ids", None),
        task_id=task.id if task else "", task_name=task.name if task else "",
        task_status=str(task.status) if task else "", task_job_id=task.job_id if task else "",
        sleep=sleep, sleep_known=sleep_known,
    )


class DoctorWatch:
    def __init__(self) -> None:
        self.job_id: Optional[str] = None
        self.blocklist: Optional[list[models.BlocklistEntry]] = None
        self._blocklist_stale = False
        self.sleep: dict[str, Optional[models.SleepSchedule]] = {}
        self.failed: dict[str, FailedTask] = {}  # task id → what its details and log said
        self._failed_seen: dict[str, tuple[str, datetime]] = {}  # task id → (status, updated) read for
        self._details: dict[str, models.Task] = {}  # read, waiting for the log
        self.queue: Optional[list[doctor.QueuedJob]] = None
        self._queue_at = float("-inf")
        self.diagnosis: Optional[Diagnosis] = None
        self.dirty = False
        self.next_at = 0.0

    # -- what the monitor asks -----------------------------------------------------------------

    def open(self, job_id: Optional[str]) -> None:
        """Another job was opened: forget the last one's facts (the Workers' stay)."""
        sleep = self.sleep
        self.__init__()  # type: ignore[misc]
        self.sleep = sleep
        self.job_id = job_id
        self._blocklist_stale = job_id is not None
        self.dirty = job_id is not None

    def findings(self, job_id: Optional[str]) -> tuple[Finding, ...]:
        diagnosis = self.diagnosis
        return diagnosis.findings if diagnosis is not None and diagnosis.job_id == job_id else ()

    def notes(self) -> dict[str, str]:
        return self.diagnosis.notes if self.diagnosis is not None else {}

    def _failed_tasks(self, monitor: Monitor) -> list[models.TaskSummary]:
        tasks = [t for t in monitor.tasks if t.status in doctor.FAILED]
        return sorted(tasks, key=lambda t: t.updated, reverse=True)[: doctor.MAX_FAILED_TASKS]

    def requests(self, monitor: Monitor, now: float) -> list[tuple[str, str]]:
        job_id = self.job_id
        if job_id is None or job_id != monitor.open_job_id or monitor.open_job is None:
            return []
        wanted: list[tuple[str, str]] = []
        if self._blocklist_stale:
            wanted.append(("blocklist", job_id))
        running = {t.id for t in monitor.tasks if t.status == "active" and not (t.worker and t.worker.name)}
        if running and not running <= {w.task.id for w in monitor.farm.workers.values() if w.task is not None}:
            # Managers before 3.8 name no Worker with a task: ask the awake ones what they run.
            monitor.farm.want_tasks({w.id for w in monitor.farm.workers.values() if w.status == "awake"
                                     and (w.task is None or w.task.id not in running)})
        for worker in monitor.farm.workers.values():
            if worker.status == "asleep" and worker.id not in self.sleep:
                wanted.append(("sleep_schedule", worker.id))
                break
        for task in self._failed_tasks(monitor):
            if task.id in self._details:
                wanted.append(("fail_log", task.id))
                break
            if self._failed_seen.get(task.id) != (task.status, task.updated):
                wanted.append(("failed_task", task.id))
                break
        diagnosis = self.diagnosis
        if (diagnosis is not None and diagnosis.needs_queue and diagnosis.job_id == job_id and monitor.can_list_jobs
                and now >= self._queue_at + QUEUE_INTERVAL):
            wanted.append(("queue", job_id))
        return wanted

    # -- answers and events ---------------------------------------------------------------------

    def apply(self, kind: str, ident: str, value: object, gone: bool, now: float) -> None:
        self.dirty = True
        if kind == "blocklist":
            if ident == self.job_id:
                self._blocklist_stale = False
                self.blocklist = [] if gone else list(value) if isinstance(value, list) else self.blocklist
        elif kind == "sleep_schedule":
            self.sleep[ident] = value if isinstance(value, models.SleepSchedule) or value is None else None
        elif kind == "failed_task":
            if gone:
                self._failed_seen[ident] = ("", datetime.min)
            elif isinstance(value, models.Task):
                self._failed_seen[ident] = (str(value.status), value.updated)
                self._details[ident] = value
        elif kind == "fail_log":
            details = self._details.pop(ident, None)
            if details is not None:
                self.failed[ident] = FailedTask.from_task(details, value if isinstance(value, str) else None)
        elif kind == "queue":
            self._queue_at = now
            if isinstance(value, list):
                self.queue = value

    def note_event(self, event: object) -> None:
        """Something the findings depend on may have changed."""
        if isinstance(event, events.JobUpdate):
            if event.id != self.job_id:
                return  # other jobs matter only through the queue, read when needed
            if event.previous_status:
                self._blocklist_stale = True
        elif isinstance(event, events.TaskUpdate):
            if event.job_id != self.job_id:
                return
            if event.status in ("failed", "soft-failed", "queued"):
                self._blocklist_stale = True
        elif isinstance(event, events.WorkerUpdate):
            if event.status != "asleep":
                self.sleep.pop(event.id, None)  # read again when it next falls asleep
            elif event.previous_status and event.previous_status != "asleep":
                self.sleep.pop(event.id, None)
        elif not isinstance(event, events.WorkerTagUpdate):
            return
        self.dirty = True

    def job_changed(self) -> None:
        """The open job read by a poll differs from before (no events tell what changed)."""
        self._blocklist_stale = True
        self.dirty = True

    def refresh(self) -> None:
        """After an action of the artist's (unblock, wake): read what it changed."""
        self._blocklist_stale = True
        self._queue_at = float("-inf")
        self.sleep.clear()
        self.dirty = True

    # -- the snapshot the background diagnosis reads ------------------------------------------------------

    def facts(self, monitor: Monitor, now: Optional[datetime] = None) -> Facts:
        job = monitor.open_job
        assert job is not None
        farm = monitor.farm
        workers = [worker_facts(w, self.sleep.get(w.id), w.id in self.sleep) for w in farm.workers.values()]
        failed = list(self.failed.values())  # the failure groups take those failed now
        cpu = monitor.cpu_fallback
        return Facts(
            job=job, tasks=monitor.tasks, workers=workers, tags={t.id: t.name for t in farm.tags.values()},
            blocklist=tuple(self.blocklist or ()), failed=failed, queue=self.queue,
            cpu_fallback=(cpu.task_name, cpu.text) if cpu is not None else None,
            can_set_tag=monitor.can_set_tag,
            workers_read=farm.workers_fresh and farm.tags_fresh and self.blocklist is not None,
            now=now,
        )

    def due(self, monitor: Monitor, now: float) -> bool:
        return (self.dirty and self.job_id is not None and self.job_id == monitor.open_job_id
                and monitor.open_job is not None and now >= self.next_at)
