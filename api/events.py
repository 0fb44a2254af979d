"""What the Manager's event stream sends, as typed values (api-notes §5; the Manager's
internal/manager/eventbus/). Payloads are the API's Event* schemas; fields that older
Managers do not send (steps before 3.8, a task's worker) default to empty."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional, Union

from .errors import InvalidResponse
from .models import (
    JobStatus,
    LastRendered,
    TaskStatus,
    WorkerStatus,
    WorkerStatusChange,
    WorkerTag,
    _Fields,
    _known,
)

# Subscription types (SocketIOSubscriptionType); `job` and `tasklog` take a UUID.
ALL_JOBS = "allJobs"
ALL_WORKERS = "allWorkers"
ALL_WORKER_TAGS = "allWorkerTags"
ALL_LAST_RENDERED = "allLastRendered"
JOB = "job"


@dataclass(frozen=True, order=True)
class Subscription:
    type: str
    uuid: Optional[str] = None

    def request(self, op: str) -> dict[str, str]:
        body = {"op": op, "type": self.type}
        if self.uuid is not None:
            body["uuid"] = self.uuid
        return body


@dataclass(frozen=True)
class JobUpdate:
    """"/jobs": a job was created (no previous_status), changed, or deleted (was_deleted,
    then only `id` is meaningful). `refresh_tasks`: many tasks changed at once and no task
    events were sent for them: fetch the task list."""

    id: str
    status: str
    updated: Optional[datetime]
    name: Optional[str] = None
    type: str = ""
    priority: int = 50
    previous_status: Optional[str] = None
    refresh_tasks: bool = False
    steps_completed: int = 0
    steps_total: int = 0
    delete_requested_at: Optional[datetime] = None
    was_deleted: bool = False

    @classmethod
    def from_json(cls, data: object) -> JobUpdate:
        f = _Fields(data, "a job update")
        previous = f.opt_text("previous_status")
        return cls(
            id=f.uuid("id"),
            status=_known(f.opt_text("status") or "", JobStatus),
            updated=f.opt_time("updated"),
            name=f.opt_text("name"),
            type=f.opt_text("type") or "",
            priority=f.integer("priority", 50),
            previous_status=_known(previous, JobStatus) if previous else None,
            refresh_tasks=f.flag("refresh_tasks", False),
            steps_completed=f.integer("steps_completed", 0),
            steps_total=f.integer("steps_total", 0),
            delete_requested_at=f.opt_time("delete_requested_at"),
            was_deleted=f.flag("was_deleted", False),
        )


@dataclass(frozen=True)
class TaskUpdate:
    """"/task" (to subscribers of the task's job)."""

    id: str
    job_id: str
    name: str
    status: str
    updated: Optional[datetime]
    activity: str = ""
    previous_status: Optional[str] = None
    steps_completed: int = 0
    steps_total: int = 0
    worker_id: str = ""
    worker_name: str = ""

    @classmethod
    def from_json(cls, data: object) -> TaskUpdate:
        f = _Fields(data, "a task update")
        worker = f.opt_mapping("worker") or {}
        wf = _Fields(worker, "a task update's worker")
        previous = f.opt_text("previous_status")
        return cls(
            id=f.text("id"),
            job_id=f.uuid("job_id"),
            name=f.opt_text("name") or "",
            status=_known(f.text("status"), TaskStatus),
            updated=f.opt_time("updated"),
            activity=f.opt_text("activity") or "",
            previous_status=_known(previous, TaskStatus) if previous else None,
            steps_completed=f.integer("steps_completed", 0),
            steps_total=f.integer("steps_total", 0),
            worker_id=wf.opt_text("uuid") or "",
            worker_name=wf.opt_text("name") or "",
        )


@dataclass(frozen=True)
class LastRenderedUpdate:
    """"/last-rendered": the job has a new last-rendered image."""

    job_id: str
    thumbnail: Optional[LastRendered]

    @classmethod
    def from_json(cls, data: object) -> LastRenderedUpdate:
        f = _Fields(data, "a last-rendered update")
        thumb = f.opt_mapping("thumbnail")
        return cls(f.uuid("job_id"), LastRendered.from_json(thumb) if thumb is not None else None)


@dataclass(frozen=True)
class WorkerUpdate:
    """"/workers": a Worker signed on, changed status, or was deleted (deleted_at)."""

    id: str
    name: str
    status: str
    updated: Optional[datetime]
    version: str = ""
    last_seen: Optional[datetime] = None
    previous_status: Optional[str] = None
    status_change: Optional[WorkerStatusChange] = None
    deleted_at: Optional[datetime] = None
    can_restart: bool = False

    @classmethod
    def from_json(cls, data: object) -> WorkerUpdate:
        f = _Fields(data, "a worker update")
        change = f.opt_mapping("status_change")
        previous = f.opt_text("previous_status")
        return cls(
            id=f.text("id"),
            name=f.opt_text("name") or "",
            status=_known(f.opt_text("status") or "", WorkerStatus),
            updated=f.opt_time("updated"),
            version=f.opt_text("version") or "",
            last_seen=f.opt_time("last_seen"),
            previous_status=_known(previous, WorkerStatus) if previous else None,
            status_change=WorkerStatusChange.from_json(change) if change is not None else None,
            deleted_at=f.opt_time("deleted_at"),
            can_restart=f.flag("can_restart", False),
        )


@dataclass(frozen=True)
class WorkerTagUpdate:
    """"/workertags": a tag was created, changed or deleted (then only its id is sent)."""

    tag_id: str
    tag: Optional[WorkerTag]
    was_deleted: bool = False

    @classmethod
    def from_json(cls, data: object) -> WorkerTagUpdate:
        f = _Fields(data, "a worker tag update")
        tag = _Fields(f.mapping("tag"), "a worker tag update's tag")
        deleted = f.flag("was_deleted", False)
        tag_id = tag.text("id")
        if deleted:
            return cls(tag_id, None, True)
        return cls(tag_id, WorkerTag(tag_id, tag.opt_text("name") or "", tag.opt_text("description")))


@dataclass(frozen=True)
class FarmStatusUpdate:
    """"/status": the farm status changed (every connection gets these)."""

    status: str

    @classmethod
    def from_json(cls, data: object) -> FarmStatusUpdate:
        return cls(_Fields(data, "a farm status update").text("status"))


@dataclass(frozen=True)
class LifeCycle:
    """"/lifecycle": manager-startup or manager-shutdown (every connection gets these)."""

    type: str

    @classmethod
    def from_json(cls, data: object) -> LifeCycle:
        return cls(_Fields(data, "a life-cycle event").text("type"))


@dataclass(frozen=True)
class Subscribed:
    """Not from the Manager: the stream's note that the Manager acknowledged a
    subscription. Events from before this moment were not received: resync from here."""

    subscription: Subscription


Event = Union[JobUpdate, TaskUpdate, LastRenderedUpdate, WorkerUpdate, WorkerTagUpdate, FarmStatusUpdate, LifeCycle, Subscribed]

_PARSERS: dict[str, Any] = {
    "/jobs": JobUpdate.from_json,
    "/task": TaskUpdate.from_json,
    "/last-rendered": LastRenderedUpdate.from_json,
    "/workers": WorkerUpdate.from_json,
    "/workertags": WorkerTagUpdate.from_json,
    "/status": FarmStatusUpdate.from_json,
    "/lifecycle": LifeCycle.from_json,
}


def parse_event(name: str, payload: object) -> Optional[Event]:
    """The typed event, or None for events the add-on does not use (e.g. "/tasklog").
    Raises InvalidResponse for a known event with a malformed payload."""
    parser = _PARSERS.get(name)
    if parser is None:
        return None
    try:
        event: Event = parser(payload)
    except InvalidResponse as ex:
        raise InvalidResponse(ex.problem, f'event "{name}"') from None
    return event
