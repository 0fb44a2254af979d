"""What the stub Manager stores and sends: job/task records, logged requests, replies.

Plus the small helpers every part of the stub uses (Go-style timestamps,
version parsing, UUID check).
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import datetime, timezone
from typing import Any

JSONDict = dict[str, Any]
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
NO_WORKER = {"id": "", "name": "", "address": ""}


def rfc3339(moment: datetime) -> str:
    """Like Go's RFC3339Nano: UTC "Z", trailing fractional zeros trimmed."""
    text = moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".")
    return text + "Z"


def now() -> datetime:
    return datetime.now(timezone.utc)


def parse_version(text: str) -> tuple[int, int, int] | None:
    match = re.match(r"^\s*v?(\d+)\.(\d+)(?:\.(\d+))?", text)
    if not match:
        return None
    return int(match[1]), int(match[2]), int(match[3] or 0)


@dataclasses.dataclass
class TaskRecord:
    id: str
    job_id: str
    index_in_job: int
    name: str
    task_type: str
    commands: list[JSONDict]
    steps_total: int
    created: datetime
    updated: datetime
    status: str = "queued"
    priority: int = 50
    activity: str = ""
    steps_completed: int = 0
    worker: dict[str, str] = dataclasses.field(default_factory=lambda: dict(NO_WORKER))
    last_touched: datetime | None = None
    failed_by_workers: list[dict[str, str]] = dataclasses.field(default_factory=list)
    log: str = ""


@dataclasses.dataclass
class JobRecord:
    id: str
    name: str
    type: str
    priority: int
    status: str
    created: datetime
    updated: datetime
    settings: JSONDict
    metadata: dict[str, str]
    task_ids: list[str]
    activity: str = ""
    steps_completed: int = 0
    steps_total: int = 0
    worker_tag: str = ""
    shaman_checkout_id: str | None = None
    delete_requested_at: datetime | None = None


@dataclasses.dataclass
class LoggedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    raw_body: bytes
    time: float


@dataclasses.dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str | None = "application/json"
    headers: dict[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def json(cls, status: int, data: Any, headers: dict[str, str] | None = None) -> Reply:
        return cls(status, json.dumps(data).encode(), "application/json", dict(headers or {}))

    @classmethod
    def error(cls, status: int, message: str) -> Reply:
        """A handler error: {"code", "message"}."""
        return cls.json(status, {"code": status, "message": message})

    @classmethod
    def validator_error(cls, status: int, message: str) -> Reply:
        """The request validator's / Echo router's shape: {"message"} only."""
        return cls.json(status, {"message": message})

    @classmethod
    def empty(cls, status: int = 204) -> Reply:
        return cls(status, b"", None)
