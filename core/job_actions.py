"""Which job actions make sense in which state (api-notes §2.1), and what each sends.

Kept as data so the UI only offers an action where the Manager will do something
sensible with it, and tests can check the table without Blender.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

ACTIVE_STATES = frozenset({"under-construction", "queued", "active", "pause-requested", "cancel-requested", "requeueing"})
FINISHED_STATES = frozenset({"completed", "failed", "canceled"})


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    offered_from: frozenset[str]


PAUSE = Action("pause", "Pause", frozenset({"active", "queued"}))
RESUME = Action("resume", "Resume", frozenset({"paused"}))
CANCEL = Action("cancel", "Cancel", frozenset({"active", "failed", "paused", "pause-requested", "queued"}))
REQUEUE = Action("requeue", "Requeue", frozenset({"canceled", "completed", "failed", "paused"}))
REQUEUE_FAILED = Action("requeue_failed", "Requeue Failed Tasks", frozenset({"active", "queued", "failed", "canceled", "paused"}))
DELETE = Action("delete", "Delete", frozenset({"canceled", "completed", "failed", "paused", "queued"}))

ALL = (PAUSE, RESUME, CANCEL, REQUEUE, REQUEUE_FAILED, DELETE)
BY_NAME = {a.name: a for a in ALL}


def allowed(action: str, job_status: str, task_statuses: Optional[Iterable[str]] = None) -> bool:
    spec = BY_NAME.get(action)
    if spec is None or job_status not in spec.offered_from:
        return False
    if action == "requeue_failed":
        return task_statuses is not None and "failed" in set(task_statuses)
    return True


def resume_status(task_statuses: Iterable[str]) -> str:
    """`queued` resumes a job submitted paused (its tasks are still queued); a job paused
    later has paused tasks and needs `requeueing`."""
    return "requeueing" if "paused" in set(task_statuses) else "queued"


def status_for(action: str, task_statuses: Iterable[str] = ()) -> str:
    if action == "pause":
        return "pause-requested"
    if action == "cancel":
        return "cancel-requested"
    if action == "requeue":
        return "requeueing"
    if action == "resume":
        return resume_status(task_statuses)
    raise ValueError(f"{action} is not a job status change")


def requeue_failed_plan(job_status: str) -> str:
    """'job': requeue the job (a failed/canceled/paused job ignores requeued tasks until the
    job itself is requeued); 'tasks': requeue each failed task."""
    return "job" if job_status in {"failed", "canceled", "paused"} else "tasks"
