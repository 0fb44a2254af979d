"""Why isn't my job rendering? The farm doctor: what stands between one job and the Workers,
in plain sentences, most blocking first. bpy-free.

`diagnose(facts)` is pure: it reads what the Manager said (the job and its tasks, every
Worker with its tags, task types, status and sleep schedule, the worker tags, the job's
blocklist, why its failed tasks failed, the other jobs in the queue) and returns findings.
Each finding is one sentence naming the Workers, tags, task types and counts involved, and
the actions that fix it where the Manager has one (wake a Worker, remove it from the job's
blocklist, change the job's tag, resume the job).

`gather(client, job_id)` reads those facts with one request at a time (the command line's
`why`); in Blender the monitor reads them a few per poll (core/doctor_watch.py).

The Manager's rules this follows (Flamenco 3.6 - 3.8): a Worker gets a task only when it is
awake, the task's type is one it offers, the job is untagged or has one of the Worker's
tags, and the Worker is neither blocklisted for (job, task type) nor on the task's failed-by
list; among the jobs a Worker can take, the highest priority goes first. A Worker that failed
`blocklist_threshold` tasks of one type of a job is blocklisted for that type of that job.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Mapping, Optional, Sequence

from . import task_log

try:  # inside the add-on (and the tests' package of it)
    from ..api import errors, joblist
except ImportError:  # `python -m api` runs api/ and core/ as top-level packages
    from api import errors, joblist  # type: ignore[no-redef]

if TYPE_CHECKING:
    from ..api import models
    from ..api.client import ManagerClient

MAX_FAILED_TASKS = 8  # failed tasks whose details and logs are read, the newest first
WAITING = frozenset({"queued", "soft-failed"})  # tasks a Worker may take while the job runs
TO_DO = WAITING | {"paused"}  # tasks still to be taken (paused ones after a resume)
FAILED = frozenset({"failed", "soft-failed"})
RUNNABLE_JOBS = frozenset({"queued", "active"})
IDLE_ASK_SECONDS = 20  # an idle Worker asks the Manager for work this often
_DAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# Finding kinds (see _ORDER for the order they are shown in).
JOB_STATE = "job-state"
NO_WORKERS = "no-workers"
TAG = "tag"
TASK_TYPE = "task-type"
BLOCKLIST = "blocklist"
ASLEEP = "asleep"
PRIORITY = "priority"
FAILURES = "failures"
CPU_FALLBACK = "cpu-fallback"
RENDERING = "rendering"
NEXT_IN_LINE = "next-in-line"
DONE = "done"

# Action kinds.
WAKE = "wake"
UNBLOCK = "unblock"
SET_TAG = "set-tag"
RESUME = "resume"
REQUEUE = "requeue"


# -- facts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerFacts:
    """One Worker as the diagnosis needs it. `task_types`/`tag_ids` are None until the
    Worker's details were read."""

    id: str
    name: str
    status: str
    last_seen: Optional[datetime] = None
    requested: str = ""  # the status the Manager asked it to go to, if any
    task_types: Optional[tuple[str, ...]] = None
    tag_ids: Optional[tuple[str, ...]] = None
    task_id: str = ""  # its current (or last) task
    task_name: str = ""
    task_status: str = ""
    task_job_id: str = ""
    sleep: Optional[models.SleepSchedule] = None
    sleep_known: bool = False  # `sleep` was read (None then means: no schedule)

    @classmethod
    def from_worker(cls, worker: models.Worker, sleep: Optional[models.SleepSchedule] = None,
                    sleep_known: bool = False) -> WorkerFacts:
        s = worker.summary
        task = worker.task
        return cls(
            id=s.id, name=s.name, status=str(s.status), last_seen=s.last_seen,
            requested=str(s.status_change.status) if s.status_change is not None else "",
            task_types=tuple(worker.supported_task_types), tag_ids=tuple(t.id for t in worker.tags),
            task_id=task.id if task else "", task_name=task.name if task else "",
            task_status=str(task.status) if task else "", task_job_id=task.job_id if task else "",
            sleep=sleep, sleep_known=sleep_known,
        )

    @property
    def known(self) -> bool:
        return self.task_types is not None and self.tag_ids is not None

    @property
    def busy(self) -> bool:
        return self.status == "awake" and self.task_status == "active"

    def offers(self, task_type: str) -> bool:
        return task_type in (self.task_types or ())

    def has_tag(self, tag_id: str) -> bool:
        return tag_id in (self.tag_ids or ())


@dataclass(frozen=True)
class FailedTask:
    """A failed or soft-failed task: where it failed and the line of its log that says why."""

    id: str
    name: str
    task_type: str
    status: str
    worker_id: str = ""  # the Worker it last ran on ("" when unknown)
    worker_name: str = ""
    failed_by: tuple[tuple[str, str], ...] = ()  # (id, name) of every Worker that failed it
    line: Optional[str] = None

    @classmethod
    def from_task(cls, task: models.Task, log: Optional[str]) -> FailedTask:
        worker = task.worker if task.worker is not None and task.worker.assigned else None
        return cls(
            id=task.id, name=task.name, task_type=task.task_type, status=str(task.status),
            worker_id=worker.id if worker else "", worker_name=worker.name if worker else "",
            failed_by=tuple((w.id, w.name) for w in task.failed_by_workers),
            line=task_log.failure_line(log) if log else None,
        )


@dataclass(frozen=True)
class QueuedJob:
    """Another job a Worker may take (queued or active)."""

    id: str
    name: str
    priority: int
    status: str
    worker_tag: Optional[str] = None


@dataclass(frozen=True)
class Facts:
    job: models.Job
    tasks: Sequence[models.TaskSummary]
    workers: Sequence[WorkerFacts]
    tags: Mapping[str, str] = field(default_factory=dict)  # tag id → name
    blocklist: Sequence[models.BlocklistEntry] = ()
    # Tasks read while failed (or, for the blocklist's counts, that a Worker failed before they
    # were retried): the failure groups are of the tasks failed now (statuses from `tasks`).
    failed: Sequence[FailedTask] = ()
    queue: Optional[Sequence[QueuedJob]] = None  # other runnable jobs; None: not read
    cpu_fallback: Optional[tuple[str, str]] = None  # (task name, line) of a GPU job on the CPU
    can_set_tag: bool = True  # the Manager can change a job's tag (3.8 and newer)
    workers_read: bool = True  # False while the Workers were not read yet (Blender)
    now: Optional[datetime] = None  # aware; default: the current time


# -- findings ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """What fixes a finding, where the Manager offers it."""

    kind: str
    label: str
    worker_id: str = ""
    worker_name: str = ""
    task_type: str = ""

    def to_json(self) -> dict[str, str]:
        data = {"kind": self.kind, "label": self.label}
        data.update({k: v for k, v in (("worker_id", self.worker_id), ("worker_name", self.worker_name),
                                        ("task_type", self.task_type)) if v})
        return data


@dataclass(frozen=True)
class Finding:
    kind: str
    text: str
    blocking: bool  # why the job does not render (now), rather than a remark
    workers: tuple[str, ...] = ()  # names of the Workers it is about
    tag: str = ""
    task_type: str = ""
    count: int = 0
    actions: tuple[Action, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "text": self.text, "blocking": self.blocking, "workers": list(self.workers),
            "tag": self.tag, "task_type": self.task_type, "count": self.count,
            "actions": [a.to_json() for a in self.actions],
        }


# Blocking findings first, in this order; then the job's progress, then remarks.
_ORDER = {k: i for i, k in enumerate(
    (JOB_STATE, NO_WORKERS, TAG, TASK_TYPE, BLOCKLIST, ASLEEP, PRIORITY, DONE, RENDERING, NEXT_IN_LINE, FAILURES,
     CPU_FALLBACK))}


# -- words ---------------------------------------------------------------------------------------


def plural(count: int, word: str, words: str = "") -> str:
    return f"{count} {word if count == 1 else (words or word + 's')}"


def names(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _quoted(items: Sequence[str]) -> str:
    return names([f'"{i}"' for i in items])


def ago(moment: Optional[datetime], now: datetime) -> str:
    if moment is None:
        return "never seen"
    seconds = max(0.0, (now - moment).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"last seen {int(seconds // size)} {unit} ago"
    return f"last seen {int(seconds)} s ago"


# -- sleep schedules (the Manager's own rule, sleep_scheduler/calculations.go) ------------------------


def scheduled_asleep(schedule: Optional[models.SleepSchedule], when: datetime) -> bool:
    """Whether the schedule has the Worker asleep at `when` (the Manager's local time)."""
    if schedule is None or not schedule.is_active:
        return False
    days = schedule.days
    if days and _DAYS[when.weekday()] not in days:
        return False
    minute = when.hour * 60 + when.minute
    start, end = schedule.minutes(schedule.start_time), schedule.minutes(schedule.end_time)
    if start is not None and end is not None and end < start:
        start, end = end, start  # the Manager swaps them too
    if start is not None and minute < start:
        return False
    if end is not None and minute >= end:
        return False
    return True


def wakes_at(schedule: Optional[models.SleepSchedule], now: datetime) -> Optional[datetime]:
    """When the schedule next has the Worker awake, or None when it never does (asleep all
    day, every day). `now` is local (the schedule's times are the Manager's local time)."""
    if not scheduled_asleep(schedule, now):
        return now
    assert schedule is not None
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    points = [m for m in (schedule.minutes(schedule.start_time), schedule.minutes(schedule.end_time)) if m is not None]
    for day in range(8):
        base = midnight + timedelta(days=day)
        for minute in sorted({0, *points}):
            moment = base + timedelta(minutes=minute)
            if moment > now and not scheduled_asleep(schedule, moment):
                return moment
    return None


def until(moment: datetime, now: datetime) -> str:
    """'until 18:00', 'until midnight', 'until tomorrow 09:00', 'until Mon 09:00'."""
    days = (moment.date() - now.date()).days
    if days == 0:
        return f"until {moment:%H:%M}"
    if days == 1 and moment.hour == 0 and moment.minute == 0:
        return "until midnight"
    if days == 1:
        return f"until tomorrow {moment:%H:%M}"
    return f"until {_DAY_NAMES[moment.weekday()]} {moment:%H:%M}"


def worker_state(worker: WorkerFacts, now: datetime, several: bool = False) -> str:
    """What the Worker is up to, as the end of a sentence about it: 'asleep until 18:00 by its
    sleep schedule', 'offline (last seen 3 h ago)'; `several`: said of several at once."""
    by = "by their sleep schedules" if several else "by its sleep schedule"
    if worker.status == "asleep":
        if worker.requested == "awake":
            return "asleep, waking up"
        local = now.astimezone()
        if worker.sleep_known and scheduled_asleep(worker.sleep, local):
            wake = wakes_at(worker.sleep, local)
            if wake is None:
                return f"asleep all day, every day, {by}"
            return f"asleep {until(wake, local)} {by}"
        if worker.sleep_known:
            return "asleep (sent to sleep by hand, not by a sleep schedule)"
        return "asleep"
    if worker.status == "awake":
        return "awake, going to sleep" if worker.requested == "asleep" else "awake"
    if worker.status == "offline":
        return f"offline ({ago(worker.last_seen, now)})"
    if worker.status == "error":
        return f"in error ({ago(worker.last_seen, now)})"
    return worker.status


def workers_and_states(workers: Sequence[WorkerFacts], now: datetime) -> str:
    """'doctor-gpu is asleep (…)', 'a and b are asleep until 18:00 by their sleep schedules;
    c is offline (last seen 2 h ago)'."""
    groups: dict[str, list[WorkerFacts]] = {}
    for worker in workers:
        groups.setdefault(worker_state(worker, now), []).append(worker)
    parts = []
    for state, members in groups.items():
        if len(members) > 1:
            parts.append(f"{names([w.name for w in members])} are {worker_state(members[0], now, several=True)}")
        else:
            parts.append(f"{members[0].name} is {state}")
    return "; ".join(parts)


def _tag_ok(worker: WorkerFacts, tag_id: Optional[str]) -> bool:
    """A tagged job goes to Workers with its tag; an untagged one to any Worker."""
    return not tag_id or worker.has_tag(tag_id)


def _wake_actions(workers: Sequence[WorkerFacts]) -> tuple[Action, ...]:
    return tuple(Action(WAKE, f"Wake {w.name}", w.id, w.name) for w in workers
                 if w.status == "asleep" and w.requested != "awake")


# -- the diagnosis ------------------------------------------------------------------------------------


def _activity_reason(activity: str) -> str:
    """'Changed to status "failed": too many tasks failed' → 'too many tasks failed'."""
    head, sep, reason = activity.partition('": ')
    return reason.strip() if sep and head.startswith("Changed to status") else activity.strip()


def _running(facts: Facts) -> list[tuple[str, str]]:
    """(task name, Worker name) of the job's running tasks."""
    by_task = {w.task_id: w.name for w in facts.workers if w.task_id and w.task_status == "active"}
    found = []
    for task in facts.tasks:
        if task.status != "active":
            continue
        worker = task.worker.name if task.worker is not None and task.worker.name else by_task.get(task.id, "")
        found.append((task.name, worker))
    return found


def _running_text(running: list[tuple[str, str]]) -> str:
    return names([f"{w} ({t})" if w else t for t, w in running])


def _job_state(facts: Facts, findings: list[Finding]) -> bool:
    """Findings about the job's own status; False when nothing else is worth saying."""
    job = facts.job
    status = job.status
    running = _running(facts)
    if status == "completed":
        findings.append(Finding(DONE, "The job completed.", False))
        return False
    if status == "canceled":
        findings.append(Finding(JOB_STATE, "The job was canceled: requeue it to render what is left.", True,
                                actions=(Action(REQUEUE, "Requeue"),)))
        return False
    if status == "failed":
        reason = _activity_reason(job.activity)
        findings.append(Finding(JOB_STATE, "The job failed" + (f": {reason}." if reason else "."), True,
                                actions=(Action(REQUEUE, "Requeue"),)))
        return False
    if status == "under-construction":
        findings.append(Finding(JOB_STATE, "The Manager is still creating the job.", True))
        return False
    if status == "requeueing":
        findings.append(Finding(JOB_STATE, "The job is being requeued: its tasks go back in the queue.", True))
        return False
    if status == "cancel-requested":
        text = "The job is being canceled"
        if running:
            text += f": waiting for {plural(len(running), 'running task')} to stop ({_running_text(running)})"
        findings.append(Finding(JOB_STATE, text + ".", True, workers=tuple(w for _, w in running if w)))
        return False
    if status == "paused":
        findings.append(Finding(JOB_STATE, "The job is paused: no Worker takes its tasks until it is resumed.", True,
                                actions=(Action(RESUME, "Resume"),)))
    elif status == "pause-requested":
        text = "The job is pausing"
        if running:
            text += (f": it waits for {plural(len(running), 'running task')} to finish ({_running_text(running)}),"
                     " then it is paused")
        findings.append(Finding(JOB_STATE, text + ".", True, workers=tuple(w for _, w in running if w)))
    return True


def _tasks_by_type(tasks: Sequence[models.TaskSummary], statuses: frozenset[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for task in sorted(tasks, key=lambda t: t.index_in_job):
        if task.status in statuses:
            found.setdefault(task.task_type, []).append(task.name)
    return found


def _task_names(task_names: list[str], limit: int = 3) -> str:
    if len(task_names) <= limit:
        return _quoted(task_names)
    return ", ".join(f'"{n}"' for n in task_names[:limit]) + f" and {len(task_names) - limit} more"


class _Diagnosis:
    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self.job = facts.job
        self.now = facts.now or datetime.now(timezone.utc)
        self.workers = sorted(facts.workers, key=lambda w: w.name.lower())
        self.tag_id = self.job.worker_tag or None
        self.tag = (facts.tags.get(self.tag_id) or self.tag_id) if self.tag_id else ""
        self.blocked = {(e.worker_id, e.task_type) for e in facts.blocklist}
        self.findings: list[Finding] = []

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    def run(self) -> list[Finding]:
        if _job_state(self.facts, self.findings):
            self.workers_and_tasks()
        elif self.job.status in ("failed", "canceled"):
            self.blocklist({}, {})
        self.failures()
        self.cpu_fallback()
        return sorted(self.findings, key=lambda f: (not f.blocking, _ORDER.get(f.kind, 99)))

    # -- Workers ----------------------------------------------------------------------------------

    def workers_and_tasks(self) -> None:
        facts = self.facts
        if not facts.workers_read:
            return
        if not self.workers:
            self.add(Finding(NO_WORKERS, "The Manager has no Workers: no task of this job runs until a Worker signs on.",
                             True))
            return
        online = [w for w in self.workers if w.status not in ("offline", "error")]
        if not online:
            self.add(Finding(NO_WORKERS, f"No Worker is online: {workers_and_states(self.workers, self.now)}.", True,
                             workers=tuple(w.name for w in self.workers)))
        if not all(w.known for w in self.workers):
            return  # details still being read (Blender): say nothing rather than something wrong
        eligible = [w for w in self.workers if _tag_ok(w, self.tag_id)]
        tag_covers_it = self.tag_finding(eligible, bool(online))
        needed = _tasks_by_type(facts.tasks, TO_DO)
        left_by_type: dict[str, list[WorkerFacts]] = {}
        for task_type, task_names in needed.items():
            offer = [w for w in eligible if w.offers(task_type)]
            if not offer:
                self.unoffered(task_type, task_names)
                continue
            left_by_type[task_type] = [w for w in offer if (w.id, task_type) not in self.blocked]
        self.blocklist(left_by_type, needed)
        if online and not tag_covers_it:
            self.asleep(left_by_type, needed)
        self.queue_and_progress(left_by_type)

    def tag_finding(self, members: list[WorkerFacts], online: bool) -> bool:
        """The job's tag; True when it says the tag's Workers are all asleep or offline."""
        if not self.tag_id:
            return False
        set_tag = (Action(SET_TAG, "Change Tag"),) if self.facts.can_set_tag else ()
        if not members:
            self.add(Finding(TAG, f'No Worker has the job\'s worker tag "{self.tag}": no Worker takes it until one '
                                  "gets the tag or the job's tag changes.", True, tag=self.tag, actions=set_tag))
            return True
        if any(w.status == "awake" for w in members):
            return False
        if not online:
            return True  # "No Worker is online" says it
        only = "only " if len(members) < len(self.workers) else ""
        if len(members) == 1:
            who = f"{only}{members[0].name} has it, and it is {worker_state(members[0], self.now)}"
        else:
            who = f"{only}{names([w.name for w in members])} have it: {workers_and_states(members, self.now)}"
        self.add(Finding(
            TAG, f'The job\'s worker tag "{self.tag}" is on no awake Worker: {who}.',
            True, workers=tuple(w.name for w in members), tag=self.tag,
            actions=_wake_actions(members) + set_tag))
        return True

    def unoffered(self, task_type: str, task_names: list[str]) -> None:
        n = len(task_names)
        need = f"which {plural(n, 'task')} of this job {'needs' if n == 1 else 'need'} ({_task_names(task_names)})"
        elsewhere = [w for w in self.workers if w.offers(task_type)]
        if self.tag_id and elsewhere:
            text = (f'No Worker with the tag "{self.tag}" offers "{task_type}" tasks, {need}: '
                    f"{names([w.name for w in elsewhere])} {'offers' if len(elsewhere) == 1 else 'offer'} them "
                    "without the tag.")
            actions: tuple[Action, ...] = (Action(SET_TAG, "Change Tag"),) if self.facts.can_set_tag else ()
        else:
            offered = sorted({t for w in self.workers for t in (w.task_types or ())})
            text = (f'No Worker offers "{task_type}" tasks, {need}: '
                    f"{names([w.name for w in self.workers])} {'offers' if len(self.workers) == 1 else 'offer'} "
                    f"only {names(offered) or 'nothing'}.")
            actions = ()
        self.add(Finding(TASK_TYPE, text, True, workers=tuple(w.name for w in (elsewhere or self.workers)),
                         tag=self.tag, task_type=task_type, count=n, actions=actions))

    def blocklist(self, left_by_type: dict[str, list[WorkerFacts]], needed: dict[str, list[str]]) -> None:
        by_id = {w.id: w for w in self.workers}
        for entry in sorted(self.facts.blocklist, key=lambda e: (e.worker_name or e.worker_id, e.task_type)):
            worker = by_id.get(entry.worker_id)
            name = entry.worker_name or (worker.name if worker else entry.worker_id[:8])
            failed = [t for t in self.facts.failed
                      if t.task_type == entry.task_type and any(i == entry.worker_id for i, _ in t.failed_by)]
            lines = Counter(t.line for t in failed if t.line and t.worker_id == entry.worker_id) or \
                Counter(t.line for t in failed if t.line)
            text = f'{name} is blocklisted for "{entry.task_type}" tasks of this job'
            if failed:
                text += f" after {plural(len(failed), 'failed task')}"
            if lines:
                text += f" (`{lines.most_common(1)[0][0]}`)"
            blocking = False
            if entry.task_type in needed and entry.task_type in left_by_type:
                left = [w for w in left_by_type[entry.task_type] if w.id != entry.worker_id]
                if left:
                    text += f"; left for them: {workers_and_states(left, self.now)}"
                    blocking = not any(w.status == "awake" for w in left)
                else:
                    text += "; no Worker is left for them"
                    blocking = True
            self.add(Finding(BLOCKLIST, text + ".", blocking, workers=(name,), task_type=entry.task_type,
                             count=len(failed),
                             actions=(Action(UNBLOCK, f"Unblock {name}", entry.worker_id, name, entry.task_type),)))

    def asleep(self, left_by_type: dict[str, list[WorkerFacts]], needed: dict[str, list[str]]) -> None:
        sleeping = {t: ws for t, ws in left_by_type.items() if ws and not any(w.status == "awake" for w in ws)}
        if not sleeping:
            return
        sets = {tuple(w.id for w in ws) for ws in sleeping.values()}
        if len(sets) == 1 and len(sleeping) == len(left_by_type):
            workers = next(iter(sleeping.values()))
            everyone = len(workers) == len(self.workers)
            subject = "No Worker is awake" if everyone else "No awake Worker can take this job"
            text = f"{subject}: {workers_and_states(workers, self.now)}."
            self.add(Finding(ASLEEP, text, True, workers=tuple(w.name for w in workers), actions=_wake_actions(workers)))
            return
        for task_type, workers in sleeping.items():
            n = len(needed.get(task_type, []))
            self.add(Finding(
                ASLEEP, f'No awake Worker can take its "{task_type}" tasks ({plural(n, "task")}): '
                        f"{workers_and_states(workers, self.now)}.",
                True, workers=tuple(w.name for w in workers), task_type=task_type, count=n,
                actions=_wake_actions(workers)))

    # -- the queue ------------------------------------------------------------------------------------

    def capable_awake(self, left_by_type: dict[str, list[WorkerFacts]]) -> list[WorkerFacts]:
        waiting_types = set(_tasks_by_type(self.facts.tasks, WAITING))
        found = {w.id: w for t, ws in left_by_type.items() if t in waiting_types for w in ws if w.status == "awake"}
        return sorted(found.values(), key=lambda w: w.name.lower())

    def queue_and_progress(self, left_by_type: dict[str, list[WorkerFacts]]) -> None:
        job = self.job
        running = _running(self.facts)
        if running and job.status in RUNNABLE_JOBS:
            workers = {w for _, w in running if w}
            on = plural(len(workers), "Worker") if workers else plural(len(running), "task")
            self.add(Finding(RENDERING, f"Rendering on {on}: {_running_text(running)}.", False,
                             workers=tuple(sorted(workers)), count=len(workers) or len(running)))
        if job.status not in RUNNABLE_JOBS or not any(t.status in WAITING for t in self.facts.tasks):
            return
        capable = self.capable_awake(left_by_type)
        if not capable:
            return
        idle = [w for w in capable if not w.busy]
        if idle:
            if not running:
                verb = "is" if len(idle) == 1 else "are"
                asks = "asks" if len(idle) == 1 else "ask"
                self.add(Finding(NEXT_IN_LINE, f"Next in line: {names([w.name for w in idle])} {verb} awake and idle "
                                               f"and {asks} the Manager for work every {IDLE_ASK_SECONDS} s.",
                                 False, workers=tuple(w.name for w in idle)))
            return
        others = [w for w in capable if w.task_job_id != job.id]
        if not others:
            return  # all of them work on this job
        busy = names([f'{w.name} ("{w.task_name}")' for w in others])
        who = names([w.name for w in others])
        queue = self.facts.queue
        if queue is None:
            self.add(Finding(PRIORITY, f"Waiting for a Worker: {busy} {'is' if len(others) == 1 else 'are'} busy "
                                       "with other jobs.", True, workers=tuple(w.name for w in others)))
            return
        ahead = sorted((q for q in queue if q.id != job.id and q.status in RUNNABLE_JOBS and q.priority > job.priority
                        and any(_tag_ok(w, q.worker_tag) for w in others)), key=lambda q: -q.priority)
        if ahead:
            listed = names([f'"{q.name}" ({q.priority})' for q in ahead[:3]]) + (" …" if len(ahead) > 3 else "")
            self.add(Finding(
                PRIORITY, f"Its priority ({job.priority}) is below {plural(len(ahead), 'queued job')} that "
                          f"{who} {'takes' if len(others) == 1 else 'take'} first: {listed}.",
                True, workers=tuple(w.name for w in others), count=len(ahead)))
        else:
            self.add(Finding(NEXT_IN_LINE, f"Next in line: {busy} {'takes' if len(others) == 1 else 'take'} it when "
                                           f"{'its' if len(others) == 1 else 'their'} current task is done.",
                             False, workers=tuple(w.name for w in others)))

    # -- what the logs say ------------------------------------------------------------------------------

    def failures(self) -> None:
        groups: Counter[tuple[str, str]] = Counter()
        now_status = {t.id: t.status for t in self.facts.tasks}
        for task in self.facts.failed:
            if now_status.get(task.id, task.status) in FAILED:
                groups[(task.worker_name, task.line or "")] += 1
        blocking = self.job.status == "failed"
        for (worker, line), count in sorted(groups.items(), key=lambda item: (-item[1], item[0])):
            text = f"{plural(count, 'task')} failed" + (f" on {worker}" if worker else "")
            text += f": `{line}`" if line else f" ({'its log gives' if count == 1 else 'their logs give'} no reason)"
            self.add(Finding(FAILURES, text, blocking, workers=(worker,) if worker else (), count=count))

    def cpu_fallback(self) -> None:
        if self.facts.cpu_fallback is not None:
            task, line = self.facts.cpu_fallback
            self.add(Finding(CPU_FALLBACK, f'A GPU job rendered on the CPU: task "{task}" says `{line}`.', False))


def diagnose(facts: Facts) -> list[Finding]:
    """The findings about one job, most blocking first."""
    return _Diagnosis(facts).run()


def needs_queue(facts: Facts) -> bool:
    """Whether the other jobs in the queue matter: the job waits and every awake Worker that
    could take it is busy with another job."""
    job = facts.job
    if job.status not in RUNNABLE_JOBS or not any(t.status in WAITING for t in facts.tasks):
        return False
    waiting = set(_tasks_by_type(facts.tasks, WAITING))
    blocked = {(e.worker_id, e.task_type) for e in facts.blocklist}
    capable = [w for w in facts.workers if w.status == "awake" and _tag_ok(w, job.worker_tag)
               and any(w.offers(t) and (w.id, t) not in blocked for t in waiting)]
    return bool(capable) and all(w.busy and w.task_job_id != job.id for w in capable)


def worker_notes(facts: Facts) -> dict[str, str]:
    """Per Worker (by id): what it is doing and, when idle, why it does not take the job:
    'rendering "render-3" of this job', 'idle: lacks the job's tag "gpu"', 'asleep until 18:00
    by its sleep schedule'."""
    now = facts.now or datetime.now(timezone.utc)
    job = facts.job
    waiting = _tasks_by_type(facts.tasks, WAITING) if job.status in RUNNABLE_JOBS else {}
    blocked = {(e.worker_id, e.task_type) for e in facts.blocklist}
    tag = (facts.tags.get(job.worker_tag) or job.worker_tag) if job.worker_tag else ""
    notes: dict[str, str] = {}
    for worker in facts.workers:
        if worker.status != "awake":
            notes[worker.id] = worker_state(worker, now)
        elif worker.busy:
            whose = "this job" if worker.task_job_id == job.id else "another job"
            notes[worker.id] = f'rendering "{worker.task_name}" of {whose}'
        elif not waiting or not worker.known:
            notes[worker.id] = "idle"
        elif job.worker_tag and not worker.has_tag(job.worker_tag):
            notes[worker.id] = f'idle: lacks the job\'s tag "{tag}"'
        else:
            offered = [t for t in waiting if worker.offers(t)]
            if not offered:
                notes[worker.id] = f"idle: offers none of the job's waiting task types ({_quoted(sorted(waiting))})"
            elif all((worker.id, t) in blocked for t in offered):
                notes[worker.id] = f"idle: blocklisted for {_quoted(offered)} tasks of this job"
            else:
                notes[worker.id] = f"idle: takes this job's tasks when it next asks for work (every {IDLE_ASK_SECONDS} s)"
    return notes


# -- reading the facts (one request at a time; the command line) ------------------------------------------


def gather(client: ManagerClient, job_id: str, max_failed: int = MAX_FAILED_TASKS) -> Facts:
    """Everything `diagnose` reads about one job, from the Manager."""
    job = client.job(job_id)
    tasks = client.job_tasks(job_id)
    workers: list[WorkerFacts] = []
    for summary in client.workers():
        try:
            worker = client.worker(summary.id)
        except errors.NotFound:  # deleted meanwhile
            continue
        sleep, known = None, False
        if worker.summary.status == "asleep":
            try:
                sleep, known = client.worker_sleep_schedule(summary.id), True
            except errors.NotFound:
                pass
        workers.append(WorkerFacts.from_worker(worker, sleep, known))
    tags = {t.id: t.name for t in client.worker_tags()}
    blocklist = client.job_blocklist(job_id)
    failed = []
    newest = sorted(tasks, key=lambda t: t.updated, reverse=True)
    for summary_task in [t for t in newest if t.status in FAILED][:max_failed]:
        failed.append(FailedTask.from_task(client.task(summary_task.id), client.task_logtail(summary_task.id)))
    # A blocklisted Worker's failures of tasks that others took over since: from their details
    # (who failed them), for the blocklist's counts.
    blocked_types = {e.task_type for e in blocklist}
    retried = [t for t in newest if t.task_type in blocked_types and t.status not in FAILED]
    for summary_task in retried[: max_failed * 3]:
        task = client.task(summary_task.id)
        if task.failed_by_workers:
            failed.append(FailedTask.from_task(task, None))
    cpu = None
    rendered = next((t for t in tasks if t.task_type == "blender" and t.status == "completed"), None)
    if rendered is not None:
        line = task_log.cpu_fallback_line(client.task_log_head(rendered.id) or "")
        cpu = (rendered.name, line) if line else None
    features = client.features()
    facts = Facts(job, tasks, workers, tags, blocklist, failed, None, cpu, can_set_tag=features.settag)
    if needs_queue(facts) and features.jobs_list:
        rows = client.job_rows()
        queue = [QueuedJob(r[joblist.ID], r[joblist.NAME], r[joblist.PRIORITY], r[joblist.STATUS], r[joblist.WORKER_TAG])
                 for r in rows if r[joblist.STATUS] in RUNNABLE_JOBS and r[joblist.ID] != job.id]
        facts = Facts(job, tasks, workers, tags, blocklist, failed, queue, cpu, can_set_tag=features.settag)
    return facts


# -- fixing (background threads; the command line and Blender's actions) ----------------------------------


@dataclass(frozen=True)
class Unblocked:
    removed: tuple[models.BlocklistEntry, ...]
    requeued: tuple[str, ...]  # names of the tasks requeued
    job_requeued: bool = False  # the whole job was requeued (a failed, canceled or paused job)


def unblock(client: ManagerClient, job_id: str, worker_id: str, task_type: str = "", requeue: bool = True,
            reason: str = "") -> Unblocked:
    """Remove the Worker from the job's blocklist (for `task_type`, or every type it is
    blocklisted for), and with `requeue` send the tasks it failed back to the queue, which also
    clears their failed-by lists: a failed task waits for a requeue, and a task stays off
    every Worker that failed it. A failed, canceled or paused job ignores requeued tasks, so
    it is requeued itself (the Manager then clears its whole blocklist)."""
    entries = tuple(e for e in client.job_blocklist(job_id)
                    if e.worker_id == worker_id and (not task_type or e.task_type == task_type))
    if entries:
        client.remove_from_job_blocklist(job_id, entries)
    if not requeue:
        return Unblocked(entries, ())
    reason = reason or "Worker removed from the job's blocklist"
    types = {e.task_type for e in entries} or ({task_type} if task_type else set())
    job = client.job(job_id)
    failed = []
    for summary in client.job_tasks(job_id):
        if summary.status not in FAILED or (types and summary.task_type not in types):
            continue
        task = client.task(summary.id)
        if any(w.id == worker_id for w in task.failed_by_workers):
            failed.append(task)
    if not failed:
        return Unblocked(entries, ())
    if job.status in ("failed", "canceled", "paused"):
        client.set_job_status(job_id, "requeueing", reason)
        return Unblocked(entries, tuple(t.name for t in failed), job_requeued=True)
    for task in failed:
        client.set_task_status(task.id, "queued", reason)
    return Unblocked(entries, tuple(t.name for t in failed))
