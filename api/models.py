"""Typed views of the Manager's JSON documents.

``from_json`` validates what the client relies on and raises InvalidResponse;
it is lenient where older Managers omit fields (steps: 3.8, label and
index_in_job: 3.6) so one client works against every 3.x Manager.
"""

from __future__ import annotations

import numbers
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any

from .errors import InvalidResponse

JSONDict = dict[str, Any]


class JobStatus(StrEnum):
    UNDER_CONSTRUCTION = "under-construction"
    QUEUED = "queued"
    ACTIVE = "active"
    PAUSED = "paused"
    PAUSE_REQUESTED = "pause-requested"
    CANCEL_REQUESTED = "cancel-requested"
    CANCELED = "canceled"
    REQUEUEING = "requeueing"
    COMPLETED = "completed"
    FAILED = "failed"


class TaskStatus(StrEnum):
    QUEUED = "queued"
    ACTIVE = "active"
    SOFT_FAILED = "soft-failed"
    FAILED = "failed"
    COMPLETED = "completed"
    CANCELED = "canceled"
    PAUSED = "paused"


class FarmStatus(StrEnum):
    ACTIVE = "active"
    IDLE = "idle"
    WAITING = "waiting"
    ASLEEP = "asleep"
    INOPERATIVE = "inoperative"
    UNKNOWN = "unknown"
    STARTING = "starting"


SETTING_TYPES = frozenset({"string", "int32", "float", "bool"})
SETTING_SUBTYPES = frozenset({"file_path", "dir_path", "file_name", "hashed_file_path"})
SETTING_VISIBILITIES = frozenset({"visible", "hidden", "submission", "web"})

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_VERSION_RE = re.compile(r"^\s*v?(\d+)\.(\d+)(?:\.(\d+))?")


def parse_version(text: str) -> tuple[int, int, int] | None:
    """"3.8.5" → (3, 8, 5); "3.9-beta1" and "3.8 (abc)" → (3, x, 0); else None."""
    match = _VERSION_RE.match(text)
    if not match:
        return None
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


def parse_timestamp(text: str) -> datetime:
    """RFC 3339 as sent by the Manager; naive values are taken as UTC."""
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _known(value: str, enum: type[StrEnum]) -> str:
    # Unknown values from newer Managers are kept as plain strings rather than
    # rejected, so one new status doesn't make a whole job list unreadable.
    try:
        return enum(value)
    except ValueError:
        return value


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class _Fields:
    """Typed access to a JSON object, raising InvalidResponse with context."""

    def __init__(self, data: object, what: str) -> None:
        if not isinstance(data, dict):
            raise InvalidResponse(f"{what} should be an object, not {_json_type(data)}")
        self.data: JSONDict = data
        self.what = what

    def _get(self, key: str, required: bool) -> object:
        if key not in self.data:
            if required:
                raise InvalidResponse(f"{self.what} lacks the field '{key}'")
            return None
        return self.data[key]

    def _wrong(self, key: str, kind: str, value: object) -> InvalidResponse:
        return InvalidResponse(
            f"{self.what} field '{key}' should be {kind}, not {_json_type(value)}"
        )

    def text(self, key: str) -> str:
        value = self._get(key, True)
        if not isinstance(value, str):
            raise self._wrong(key, "a string", value)
        return value

    def uuid(self, key: str) -> str:
        """A job's id: it goes into URLs and into `blender -b` output, so nothing but a UUID
        (a spoofed Manager must not smuggle a path or a line break in)."""
        value = self.text(key)
        if not UUID_RE.match(value):
            raise InvalidResponse(f"{self.what} field '{key}' is not a UUID: {value[:60]!r}")
        return value

    def opt_text(self, key: str) -> str | None:
        value = self._get(key, False)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._wrong(key, "a string", value)
        return value

    def opt_integer(self, key: str) -> int | None:
        value = self._get(key, False)
        if value is None:
            return None
        # Go serialises whole floats as ints and vice versa is harmless, but a
        # boolean is never a count.
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._wrong(key, "an integer", value)
        if isinstance(value, float) and not value.is_integer():
            raise self._wrong(key, "an integer", value)
        return int(value)

    def integer(self, key: str, default: int | None = None) -> int:
        value = self.opt_integer(key)
        if value is None:
            if default is None:
                self._get(key, True)
                raise self._wrong(key, "an integer", None)
            return default
        return value

    def opt_flag(self, key: str) -> bool | None:
        value = self._get(key, False)
        if value is None:
            return None
        if not isinstance(value, bool):
            raise self._wrong(key, "true or false", value)
        return value

    def flag(self, key: str, default: bool | None = None) -> bool:
        value = self.opt_flag(key)
        if value is None:
            if default is None:
                self._get(key, True)
                raise self._wrong(key, "true or false", None)
            return default
        return value

    def opt_time(self, key: str) -> datetime | None:
        value = self.opt_text(key)
        if value is None or value == "":
            return None
        try:
            return parse_timestamp(value)
        except ValueError:
            raise InvalidResponse(
                f"{self.what} field '{key}' is not a valid timestamp: {value!r}"
            ) from None

    def time(self, key: str) -> datetime:
        self._get(key, True)
        value = self.opt_time(key)
        if value is None:
            raise self._wrong(key, "a timestamp", self.data[key])
        return value

    def opt_mapping(self, key: str) -> JSONDict | None:
        value = self._get(key, False)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self._wrong(key, "an object", value)
        return value

    def mapping(self, key: str) -> JSONDict:
        value = self.opt_mapping(key)
        if value is None:
            self._get(key, True)
            raise self._wrong(key, "an object", None)
        return value

    def opt_items(self, key: str) -> list[Any] | None:
        value = self._get(key, False)
        if value is None:
            return None
        if not isinstance(value, list):
            raise self._wrong(key, "a list", value)
        return value

    def items(self, key: str) -> list[Any]:
        value = self.opt_items(key)
        if value is None:
            self._get(key, True)
            raise self._wrong(key, "a list", None)
        return value

    def opt_strings(self, key: str) -> tuple[str, ...] | None:
        value = self.opt_items(key)
        if value is None:
            return None
        if not all(isinstance(item, str) for item in value):
            raise InvalidResponse(f"{self.what} field '{key}' should hold only strings")
        return tuple(value)


@dataclass(frozen=True)
class ManagerVersion:
    version: str
    shortversion: str
    name: str
    git: str
    raw: JSONDict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: object) -> ManagerVersion:
        f = _Fields(data, "the version")
        return cls(f.text("version"), f.text("shortversion"), f.text("name"), f.text("git"), f.data)

    @property
    def parsed(self) -> tuple[int, int, int] | None:
        """(major, minor, patch), or None for e.g. "set-during-build"."""
        return parse_version(self.shortversion) or parse_version(self.version)


@dataclass(frozen=True)
class SharedStorage:
    location: str
    audience: str
    platform: str
    shaman_enabled: bool

    @classmethod
    def from_json(cls, data: object) -> SharedStorage:
        f = _Fields(data, "the shared storage")
        return cls(f.text("location"), f.text("audience"), f.text("platform"), f.flag("shamanEnabled"))


@dataclass(frozen=True)
class ManagerVariable:
    value: str
    is_twoway: bool

    @classmethod
    def from_json(cls, data: object, name: str = "") -> ManagerVariable:
        # The spec's required "name" is never sent: the mapping key is the name.
        f = _Fields(data, f"variable '{name}'" if name else "a variable")
        return cls(f.text("value"), f.flag("is_twoway", False))

    @staticmethod
    def mapping_from_json(data: object) -> dict[str, ManagerVariable]:
        f = _Fields(data, "the variables")
        return {name: ManagerVariable.from_json(value, name) for name, value in f.data.items()}


@dataclass(frozen=True)
class EvalInfo:
    show_link_button: bool
    description: str

    @classmethod
    def from_json(cls, data: object) -> EvalInfo:
        f = _Fields(data, "a setting's evalInfo")
        return cls(f.flag("showLinkButton", False), f.opt_text("description") or "")


@dataclass(frozen=True)
class JobSetting:
    """One AvailableJobSetting; None means "not given by the job type"."""

    key: str
    type: str
    subtype: str | None = None
    choices: tuple[str, ...] | None = None
    propargs: JSONDict | None = None
    description: str | None = None
    label: str | None = None
    default: Any = None
    eval: str | None = None
    eval_info: EvalInfo | None = None
    visible: str | None = None
    required: bool | None = None
    editable: bool | None = None
    raw: JSONDict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: object) -> JobSetting:
        key = data.get("key") if isinstance(data, dict) else None
        f = _Fields(data, f"setting '{key}'" if isinstance(key, str) else "a job setting")
        eval_info = f.opt_mapping("evalInfo")
        description = f.data.get("description")
        label = f.data.get("label")
        return cls(
            key=f.text("key"),
            type=f.text("type"),
            subtype=f.opt_text("subtype"),
            choices=f.opt_strings("choices"),
            propargs=f.opt_mapping("propargs"),
            # The spec gives these two no type; only strings make sense in a UI.
            description=description if isinstance(description, str) else None,
            label=label if isinstance(label, str) else None,
            default=f.data.get("default"),
            eval=f.opt_text("eval"),
            eval_info=EvalInfo.from_json(eval_info) if eval_info is not None else None,
            visible=f.opt_text("visible"),
            required=f.opt_flag("required"),
            editable=f.opt_flag("editable"),
            raw=f.data,
        )

    @property
    def display_label(self) -> str:
        """The label, or the key made readable like the official add-on does."""
        return self.label or self.key.replace("_", " ").title()

    @property
    def shown_in_submitter(self) -> bool:
        return self.visible in (None, "visible", "submission")

    def coerce(self, value: object) -> object:
        """Convert a value to the JSON type the job's script expects.

        The Manager never coerces, and sends whole floats back as ints, so
        e.g. an int32 setting must go out as a JSON integer.
        """
        if self.type == "int32":
            if isinstance(value, bool) or not isinstance(value, (numbers.Integral, float, str)):
                raise ValueError(f"setting '{self.key}' needs a whole number, not {value!r}")
            number = float(value) if isinstance(value, str) else value
            if isinstance(number, float) and not number.is_integer():
                raise ValueError(f"setting '{self.key}' needs a whole number, not {value!r}")
            return int(number)
        if self.type == "float":
            if isinstance(value, bool) or not isinstance(value, (numbers.Real, str)):
                raise ValueError(f"setting '{self.key}' needs a number, not {value!r}")
            return float(value)
        if self.type == "bool":
            return bool(value)
        if self.type == "string":
            return "" if value is None else str(value)
        return value


@dataclass(frozen=True)
class JobType:
    name: str
    label: str
    description: str | None
    settings: tuple[JobSetting, ...]
    etag: str
    raw: JSONDict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: object) -> JobType:
        # Everything of a job type ends up in Blender (RNA names, enum items, panel labels),
        # which takes only valid UTF-8: JSON's lone surrogates ("\ud800") would fail there.
        data = _valid_unicode(data)
        name = data.get("name") if isinstance(data, dict) else None
        f = _Fields(data, f"job type '{name}'" if isinstance(name, str) else "a job type")
        return cls(
            name=f.text("name"),
            # Present since 3.0, but harmless to default for odd scripts.
            label=f.opt_text("label") or f.text("name"),
            description=f.opt_text("description"),
            settings=tuple(JobSetting.from_json(item) for item in f.items("settings")),
            etag=f.text("etag"),
            raw=f.data,
        )

    def setting(self, key: str) -> JobSetting | None:
        return next((s for s in self.settings if s.key == key), None)


def _valid_unicode(value: Any, depth: int = 0) -> Any:
    """`value` with lone surrogates in its strings replaced by U+FFFD (JSON nests shallowly;
    deeper values are left as they are, parsing refuses what it does not expect)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if depth > 20:
        return value
    # The same object when nothing changed: the raw JSON is kept as the Manager sent it.
    if isinstance(value, dict):
        cleaned = {_valid_unicode(k, depth + 1): _valid_unicode(v, depth + 1) for k, v in value.items()}
        same = len(cleaned) == len(value) and all(k in value and value[k] is v for k, v in cleaned.items())
        return value if same else cleaned
    if isinstance(value, list):
        items = [_valid_unicode(item, depth + 1) for item in value]
        return value if all(a is b for a, b in zip(value, items)) else items
    return value


@dataclass(frozen=True)
class WorkerTag:
    id: str
    name: str
    description: str | None = None

    @classmethod
    def from_json(cls, data: object) -> WorkerTag:
        f = _Fields(data, "a worker tag")
        # "id" is optional in the spec (for creation) but always sent when listing.
        return cls(f.text("id"), f.text("name"), f.opt_text("description"))


class ShamanFileStatus(StrEnum):
    UNKNOWN = "unknown"  # the Manager does not have it: upload it
    UPLOADING = "uploading"  # someone else is uploading it right now
    STORED = "stored"


@dataclass(frozen=True)
class ShamanFileSpec:
    """One file of a Shaman checkout: its content (SHA-256, size) and where it goes."""

    sha: str
    size: int
    path: str
    status: str = ""  # only in answers to checkout/requirements

    def to_json(self) -> JSONDict:
        return {"sha": self.sha, "size": int(self.size), "path": self.path}

    @classmethod
    def from_json(cls, data: object) -> ShamanFileSpec:
        f = _Fields(data, "a Shaman file")
        return cls(f.text("sha"), f.integer("size"), f.text("path"), _known(f.opt_text("status") or "", ShamanFileStatus))


class ShamanUpload(StrEnum):
    """What happened to one POST /shaman/files/{checksum}/{filesize}."""

    STORED = "stored"  # 204: the Manager took our bytes
    ALREADY_KNOWN = "already-known"  # 208: it had the file (maybe finished by someone else)
    DEFERRED = "deferred"  # 425: someone else is uploading it; try again later


@dataclass(frozen=True)
class JobStorage:
    shaman_checkout_id: str | None = None

    def to_json(self) -> JSONDict:
        return {} if self.shaman_checkout_id is None else {"shaman_checkout_id": self.shaman_checkout_id}


@dataclass(frozen=True)
class Job:
    id: str
    name: str
    type: str
    priority: int
    status: str
    activity: str
    created: datetime
    updated: datetime
    steps_completed: int
    steps_total: int
    settings: JSONDict
    metadata: dict[str, str]
    submitter_platform: str = ""
    worker_tag: str | None = None
    delete_requested_at: datetime | None = None
    storage: JobStorage | None = None
    raw: JSONDict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: object) -> Job:
        f = _Fields(data, "a job")
        storage = f.opt_mapping("storage")
        metadata = f.opt_mapping("metadata") or {}
        return cls(
            id=f.uuid("id"),
            name=f.text("name"),
            type=f.text("type"),
            priority=f.integer("priority"),
            status=_known(f.text("status"), JobStatus),
            activity=f.opt_text("activity") or "",
            created=f.time("created"),
            updated=f.time("updated"),
            steps_completed=f.integer("steps_completed", 0),
            steps_total=f.integer("steps_total", 0),
            settings=f.opt_mapping("settings") or {},
            metadata={str(k): str(v) for k, v in metadata.items()},
            submitter_platform=f.opt_text("submitter_platform") or "",
            worker_tag=f.opt_text("worker_tag") or None,
            delete_requested_at=f.opt_time("delete_requested_at"),
            storage=(
                JobStorage(_Fields(storage, "a job's storage").opt_text("shaman_checkout_id"))
                if storage is not None
                else None
            ),
            raw=f.data,
        )

    @property
    def progress(self) -> float | None:
        """0..1 from the step counts, or None while the Manager reports 0/0."""
        if self.steps_total <= 0:
            return None
        return max(0.0, min(1.0, self.steps_completed / self.steps_total))


@dataclass(frozen=True)
class TaskWorker:
    id: str
    name: str
    address: str

    @classmethod
    def from_json(cls, data: object) -> TaskWorker:
        f = _Fields(data, "a task's worker")
        return cls(f.opt_text("id") or "", f.opt_text("name") or "", f.opt_text("address") or "")

    @property
    def assigned(self) -> bool:
        # Never-assigned tasks get a worker with empty strings, not null.
        return bool(self.id)


def _opt_worker(f: _Fields, key: str = "worker") -> TaskWorker | None:
    data = f.opt_mapping(key)
    return TaskWorker.from_json(data) if data is not None else None


@dataclass(frozen=True)
class TaskSummary:
    id: str
    name: str
    status: str
    index_in_job: int
    priority: int
    task_type: str
    updated: datetime
    steps_completed: int
    steps_total: int
    worker: TaskWorker | None = None
    raw: JSONDict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: object) -> TaskSummary:
        f = _Fields(data, "a task summary")
        return cls(
            id=f.text("id"),
            name=f.text("name"),
            status=_known(f.text("status"), TaskStatus),
            index_in_job=f.integer("index_in_job", 0),
            priority=f.integer("priority", 50),
            task_type=f.text("task_type"),
            updated=f.time("updated"),
            steps_completed=f.integer("steps_completed", 0),
            steps_total=f.integer("steps_total", 0),
            worker=_opt_worker(f),
            raw=f.data,
        )


@dataclass(frozen=True)
class Command:
    name: str
    parameters: JSONDict
    total_step_count: int

    @classmethod
    def from_json(cls, data: object) -> Command:
        f = _Fields(data, "a task command")
        return cls(f.text("name"), f.opt_mapping("parameters") or {}, f.integer("total_step_count", 0))


@dataclass(frozen=True)
class Task:
    id: str
    created: datetime
    updated: datetime
    job_id: str
    index_in_job: int
    name: str
    status: str
    priority: int
    task_type: str
    activity: str
    commands: tuple[Command, ...]
    steps_completed: int
    steps_total: int
    worker: TaskWorker | None = None
    last_touched: datetime | None = None
    failed_by_workers: tuple[TaskWorker, ...] = ()
    raw: JSONDict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: object) -> Task:
        f = _Fields(data, "a task")
        return cls(
            id=f.text("id"),
            created=f.time("created"),
            updated=f.time("updated"),
            job_id=f.text("job_id"),
            index_in_job=f.integer("index_in_job", 0),
            name=f.text("name"),
            status=_known(f.text("status"), TaskStatus),
            priority=f.integer("priority", 50),
            task_type=f.text("task_type"),
            activity=f.opt_text("activity") or "",
            commands=tuple(Command.from_json(c) for c in f.opt_items("commands") or []),
            steps_completed=f.integer("steps_completed", 0),
            steps_total=f.integer("steps_total", 0),
            worker=_opt_worker(f),
            last_touched=f.opt_time("last_touched"),
            failed_by_workers=tuple(
                TaskWorker.from_json(w) for w in f.opt_items("failed_by_workers") or []
            ),
            raw=f.data,
        )


@dataclass(frozen=True)
class LastRendered:
    base: str
    suffixes: tuple[str, ...]

    @classmethod
    def from_json(cls, data: object) -> LastRendered:
        f = _Fields(data, "the last-rendered info")
        return cls(f.text("base"), f.opt_strings("suffixes") or ())

    def image_paths(self) -> list[str]:
        """URL paths, largest image first; a Windows Manager sends backslashes."""
        base = self.base.replace("\\", "/").rstrip("/")
        return [f"{base}/{suffix.replace(chr(92), '/').lstrip('/')}" for suffix in self.suffixes]


def _json_value(value: object) -> object:
    # bool is an Integral too; int() would turn True into 1.
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    return value


@dataclass(frozen=True)
class SubmittedJob:
    name: str
    type: str
    priority: int = 50
    submitter_platform: str = ""
    type_etag: str | None = None
    settings: JSONDict | None = None
    metadata: dict[str, str] | None = None
    worker_tag: str | None = None
    initial_status: str | None = None
    storage: JobStorage | None = None

    def to_json(self) -> JSONDict:
        """The request body; None fields are left out."""
        if isinstance(self.priority, bool) or not isinstance(self.priority, numbers.Integral):
            raise ValueError(f"priority must be a whole number, not {self.priority!r}")
        if not self.submitter_platform:
            raise ValueError("submitter_platform is required (e.g. 'linux', 'windows', 'darwin')")
        body: JSONDict = {
            "name": self.name,
            "type": self.type,
            "priority": int(self.priority),
            "submitter_platform": self.submitter_platform,
        }
        if self.type_etag is not None:
            body["type_etag"] = self.type_etag
        if self.settings is not None:
            body["settings"] = _json_value(self.settings)
        if self.metadata is not None:
            bad = [k for k, v in self.metadata.items() if not isinstance(v, str)]
            if bad:
                raise ValueError(f"metadata values must be strings; not for {', '.join(map(str, bad))}")
            body["metadata"] = dict(self.metadata)
        if self.worker_tag is not None:
            body["worker_tag"] = self.worker_tag
        if self.initial_status is not None:
            body["initial_status"] = str(self.initial_status)
        if self.storage is not None:
            body["storage"] = self.storage.to_json()
        return body


class WorkerStatus(StrEnum):
    STARTING = "starting"
    AWAKE = "awake"
    ASLEEP = "asleep"
    ERROR = "error"
    TESTING = "testing"
    OFFLINE = "offline"
    RESTART = "restart"


@dataclass(frozen=True)
class WorkerStatusChange:
    """A status the Manager asked the Worker to go to (lazily: after its current task)."""

    status: str
    is_lazy: bool

    @classmethod
    def from_json(cls, data: object) -> WorkerStatusChange:
        f = _Fields(data, "a worker's status change")
        return cls(_known(f.text("status"), WorkerStatus), f.flag("is_lazy", False))


@dataclass(frozen=True)
class WorkerSummary:
    """GET /worker-mgt/workers: one entry. No current task (only `Worker` has it)."""

    id: str
    name: str
    status: str
    version: str
    last_seen: datetime | None = None
    status_change: WorkerStatusChange | None = None
    can_restart: bool = False

    @classmethod
    def from_json(cls, data: object) -> WorkerSummary:
        f = _Fields(data, "a worker")
        change = f.opt_mapping("status_change")
        return cls(
            id=f.text("id"),
            name=f.text("name"),
            status=_known(f.text("status"), WorkerStatus),
            version=f.opt_text("version") or "",
            last_seen=f.opt_time("last_seen"),
            status_change=WorkerStatusChange.from_json(change) if change is not None else None,
            can_restart=f.flag("can_restart", False),
        )


@dataclass(frozen=True)
class WorkerTask:
    """The task a Worker is working on (or last worked on): a TaskSummary plus its job."""

    id: str
    name: str
    status: str
    job_id: str
    task_type: str
    updated: datetime | None

    @classmethod
    def from_json(cls, data: object) -> WorkerTask:
        f = _Fields(data, "a worker's task")
        return cls(
            id=f.text("id"),
            name=f.text("name"),
            status=_known(f.text("status"), TaskStatus),
            job_id=f.text("job_id"),
            task_type=f.opt_text("task_type") or "",
            updated=f.opt_time("updated"),
        )


@dataclass(frozen=True)
class Worker:
    """GET /worker-mgt/workers/{id}: the summary plus address, platform, task and tags."""

    summary: WorkerSummary
    ip_address: str
    platform: str
    supported_task_types: tuple[str, ...]
    task: WorkerTask | None = None
    tags: tuple[WorkerTag, ...] = ()

    @classmethod
    def from_json(cls, data: object) -> Worker:
        summary = WorkerSummary.from_json(data)
        f = _Fields(data, f"worker '{summary.name}'")
        task = f.opt_mapping("task")
        return cls(
            summary=summary,
            ip_address=f.opt_text("ip_address") or "",
            platform=f.opt_text("platform") or "",
            supported_task_types=f.opt_strings("supported_task_types") or (),
            task=WorkerTask.from_json(task) if task is not None else None,
            tags=tuple(WorkerTag.from_json(t) for t in f.opt_items("tags") or []),
        )


@dataclass(frozen=True)
class BlocklistEntry:
    """One entry of a job's blocklist (GET /jobs/{id}/blocklist): the Manager gives this
    Worker no task of this type of the job, after it failed `blocklist_threshold` of them."""

    worker_id: str
    task_type: str
    worker_name: str = ""

    @classmethod
    def from_json(cls, data: object) -> BlocklistEntry:
        f = _Fields(data, "a job blocklist entry")
        return cls(f.text("worker_id"), f.text("task_type"), f.opt_text("worker_name") or "")

    def to_json(self) -> JSONDict:
        # The Manager's DELETE takes only these two (worker_name is informative).
        return {"worker_id": self.worker_id, "task_type": self.task_type}


_TIME_OF_DAY_RE = re.compile(r"^(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class SleepSchedule:
    """A Worker's sleep schedule (GET /worker-mgt/workers/{id}/sleep-schedule). Times are
    "HH:MM" in the Manager's local time; "" = start/end of the day. `days_of_week`: two-letter
    days ("mo tu"), "" = every day. While active, the Manager sends the Worker to sleep from
    `start_time` until `end_time` on those days."""

    is_active: bool
    days_of_week: str = ""
    start_time: str = ""
    end_time: str = ""

    @classmethod
    def from_json(cls, data: object) -> SleepSchedule:
        f = _Fields(data, "a sleep schedule")
        return cls(f.flag("is_active"), f.opt_text("days_of_week") or "", f.opt_text("start_time") or "",
                   f.opt_text("end_time") or "")

    def to_json(self) -> JSONDict:
        return {"is_active": self.is_active, "days_of_week": self.days_of_week,
                "start_time": self.start_time, "end_time": self.end_time}

    @property
    def days(self) -> tuple[str, ...]:
        """The days it applies to ("mo", "tu", …), () for every day."""
        return tuple(day.strip().lower()[:2] for day in self.days_of_week.split() if day.strip())

    @staticmethod
    def minutes(text: str) -> int | None:
        """"18:30" → 1110; "" (or anything else) → None."""
        match = _TIME_OF_DAY_RE.match(text.strip())
        if not match:
            return None
        hours, minutes = int(match.group(1)), int(match.group(2))
        return hours * 60 + minutes if hours < 24 and minutes < 60 else None
