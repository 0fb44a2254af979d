"""A loopback imitation of a Flamenco Manager, for tests without Go.

Behaviour follows /work/shared/flamenco/api-notes.md (the real Manager), not
just the spec: both error shapes, 200 on submit, 412 etag check, unordered
task lists, 0/0 steps for new jobs, 204s for "no log"/"no image yet", etc.
Every request and response is checked against the OpenAPI contract; see
``contract_violations``.

    with StubManager(tmp_path) as stub:
        client = ManagerClient(stub.url)

or as a pytest fixture: ``stub = pytest.fixture(stub_manager_fixture)``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import json
import re
import socket
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import openapi_contract
from .jobtypes import fresh

JSONDict = dict[str, Any]
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

RUNNABLE_TASK = ("active", "queued", "soft-failed")
FAKE_WORKER = {"id": "6f1c1a7e-3b54-4e0f-9a56-0d3c1f0e7b11", "name": "stub-worker-1", "address": "127.0.0.1"}
NO_WORKER = {"id": "", "name": "", "address": ""}
# JPEG magic + padding: enough for "is this an image" checks in tests.
FAKE_JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60 + b"\xff\xd9"


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


class CompileError(Exception):
    """The job script threw: the Manager answers 400 with this message."""


def parse_frames(frames: str, script: str = "simple_blender_render.js") -> list[int]:
    """Flamenco's frame syntax: "1-3, 7, 10..12"; duplicates merged, sorted."""
    where = f" at compileJob ({script}:120:18(55))"
    result: set[int] = set()
    for part in str(frames).split(","):
        part = part.strip()
        if not part:
            continue
        match = re.fullmatch(r"(\S+?)\s*(?:-|\.\.)\s*(\S+)", part) if ("-" in part[1:] or ".." in part) else None
        pieces = [match[1], match[2]] if match else [part]
        try:
            numbers = [int(piece) for piece in pieces]
        except ValueError as exc:
            raise CompileError(f'GoError: invalid range "{part}": {part} ({exc}){where}') from None
        if any(n < 0 for n in numbers):
            raise CompileError(f'GoError: invalid range "{part}": negative frame number{where}')
        start, end = numbers[0], numbers[-1]
        if end < start:
            raise CompileError(f'GoError: invalid range "{part}": empty range{where}')
        result.update(range(start, end + 1))
    if not result:
        raise CompileError(f'GoError: invalid range "{frames}": empty range{where}')
    return sorted(result)


def chunk_frames(frames: list[int], size: int) -> list[list[int]]:
    return [frames[i : i + size] for i in range(0, len(frames), size)]


def chunk_name(chunk: list[int]) -> str:
    # Like frameChunker: "1-3" for runs, "4,5" for two frames.
    if len(chunk) == 1:
        return str(chunk[0])
    if len(chunk) == 2:
        return f"{chunk[0]},{chunk[1]}"
    if chunk[-1] - chunk[0] == len(chunk) - 1:
        return f"{chunk[0]}-{chunk[-1]}"
    return ",".join(map(str, chunk))


# --- records ---------------------------------------------------------------


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


@dataclasses.dataclass
class Fault:
    kind: str  # hold | delay | respond | drop
    pattern: re.Pattern[str]
    method: str | None
    remaining: int | None  # None: until cleared
    seconds: float = 0.0
    reply: Reply | None = None
    released: threading.Event = dataclasses.field(default_factory=threading.Event)
    waiting: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and bool(self.pattern.search(path))


class _Dropped(Exception):
    """Close the connection without answering."""


# --- HTTP plumbing ---------------------------------------------------------


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    stub: StubManager


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    # Idle keep-alive connections give up eventually instead of pinning threads.
    timeout = 30

    def setup(self) -> None:
        super().setup()
        self.server.stub._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.stub._track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            reply = self.server.stub._dispatch(self.command, self.path, dict(self.headers.items()), body)
        except _Dropped:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        try:
            self.send_response(reply.status)
            if reply.content_type and reply.status != 204:
                self.send_header("Content-Type", reply.content_type)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.status != 204:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if reply.status != 204 and self.command != "HEAD":
                self.wfile.write(reply.body)
        except OSError:
            # The client gave up (timeout) before we answered.
            self.close_connection = True

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = _handle


# --- the stub ----------------------------------------------------------------


class StubManager:
    """In-memory Flamenco Manager on 127.0.0.1 (see module docstring)."""

    def __init__(
        self,
        storage_dir: str | Path | None = None,
        *,
        version: str = "3.8.5",
        name: str = "Stub Manager",
        job_types: list[JSONDict] | None = None,
        worker_tags: list[JSONDict] | None = None,
        variables: dict[str, JSONDict] | None = None,
        shaman_enabled: bool = False,
        farm_status: str = "idle",
        deletion_delay: float = 0.0,
    ) -> None:
        self._state_lock = threading.RLock()
        if storage_dir is None:
            self._tempdir: tempfile.TemporaryDirectory[str] | None = tempfile.TemporaryDirectory(
                prefix="stub-manager-"
            )
            storage_dir = self._tempdir.name
        else:
            self._tempdir = None
        self.storage_dir = Path(storage_dir)
        self.version = version
        self.name = name
        self.shaman_enabled = shaman_enabled
        self.farm_status = farm_status
        # Seconds between DELETE and the job vanishing (the real deleter takes ms).
        self.deletion_delay = deletion_delay
        self.worker_tags: list[JSONDict] = (
            worker_tags
            if worker_tags is not None
            else [
                {"id": "9a2f4c1e-5b7d-4e8f-a1c3-2d4e6f8a0b1c", "name": "GPU", "description": "GPU renderers"},
                {"id": "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e", "name": "CPU"},
            ]
        )
        self.variables: dict[str, JSONDict] = (
            variables
            if variables is not None
            else {
                "blender": {"value": "blender", "is_twoway": False},
                "blenderArgs": {"value": "-b -y", "is_twoway": False},
            }
        )
        self._job_types: dict[str, JSONDict] = {}
        self.set_job_types(job_types if job_types is not None else fresh())
        self.jobs: dict[str, JobRecord] = {}
        self.tasks: dict[str, TaskRecord] = {}
        self.files: dict[str, bytes] = {}
        self.last_rendered_job: str | None = None
        self._windows_bases: set[str] = set()

        self.requests_log: list[LoggedRequest] = []
        self.contract_violations: list[str] = []
        self.intentional_violations: list[str] = []

        self._fault_lock = threading.Lock()
        self._faults: list[Fault] = []
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0

    # -- lifecycle -----------------------------------------------------------

    @property
    def url(self) -> str:
        if not self._port:
            raise RuntimeError("StubManager is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def port(self) -> int:
        return self._port

    def start(self) -> StubManager:
        self._stopping.clear()
        self._listen()
        return self

    def _listen(self) -> None:
        server = _Server(("127.0.0.1", self._port), _Handler)
        server.stub = self
        self._port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"stub-manager-{self._port}", daemon=True
        )
        self._thread.start()

    def _unlisten(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
            self._thread = None
        # Keep-alive connections would otherwise keep talking to a "dead" Manager.
        with self._state_lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self) -> None:
        """Release held requests (unanswered), close everything; < 2 s."""
        self._stopping.set()
        with self._fault_lock:
            for fault in self._faults:
                fault.released.set()
        self._unlisten()
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None

    def refuse_connections(self) -> None:
        """Close the listening socket: new connections get "connection refused"."""
        self._unlisten()

    def resume(self) -> None:
        """Listen again on the same port after refuse_connections()."""
        if self._server is None:
            self._listen()

    def __enter__(self) -> StubManager:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._state_lock:
            (self._connections.add if add else self._connections.discard)(conn)

    # -- configuration -------------------------------------------------------

    def set_job_types(self, job_types: list[JSONDict]) -> None:
        """Replace the job types (their etags change with their content)."""
        with self._state_lock:
            self._job_types = {jt["name"]: {k: v for k, v in jt.items() if k != "etag"} for jt in job_types}

    def job_type_json(self, name: str) -> JSONDict | None:
        job_type = self._job_types.get(name)
        if job_type is None:
            return None
        return {**job_type, "etag": self.etag_of(name)}

    def etag_of(self, name: str) -> str:
        # Like the Manager: SHA-1 of Go's JSON of the job type with an empty
        # etag. Go's generated structs order fields alphabetically, emit
        # compact UTF-8 and escape <>&, which sorted compact JSON reproduces
        # (gives the Manager's own test value for echo-sleep-test).
        job_type = {**self._job_types[name], "etag": ""}
        text = json.dumps(job_type, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        for char, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e")):
            text = text.replace(char, escaped)
        return hashlib.sha1(text.encode()).hexdigest()

    @property
    def parsed_version(self) -> tuple[int, int, int] | None:
        return parse_version(self.version)

    def at_least(self, *version: int) -> bool:
        """Feature gate; unparseable versions ("set-during-build") have everything."""
        parsed = self.parsed_version
        return parsed is None or parsed >= tuple(version) + (0,) * (3 - len(version))

    def version_json(self) -> JSONDict:
        short, _, rest = self.version.partition(" (")
        git = rest.rstrip(")") if rest else (self.version if parse_version(self.version) is None else f"v{short}")
        return {"version": self.version, "shortversion": short, "name": self.name, "git": git}

    # -- fault injection -----------------------------------------------------

    def _add_fault(self, fault: Fault) -> Fault:
        with self._fault_lock:
            self._faults.append(fault)
        return fault

    def hold(self, path_regex: str, method: str | None = None) -> Fault:
        """Matching requests hang, unanswered, until release() or stop()."""
        return self._add_fault(Fault("hold", re.compile(path_regex), method, None))

    def release(self, fault: Fault | None = None) -> None:
        """Let held requests continue (all holds, or one) and remove the hold."""
        with self._fault_lock:
            for item in list(self._faults):
                if item.kind == "hold" and (fault is None or item is fault):
                    item.released.set()
                    self._faults.remove(item)

    def held_count(self) -> int:
        with self._fault_lock:
            return sum(f.waiting for f in self._faults if f.kind == "hold")

    def wait_until_held(self, count: int = 1, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.held_count() >= count:
                return True
            time.sleep(0.01)
        return False

    def delay(self, path_regex: str, seconds: float, method: str | None = None, times: int | None = None) -> Fault:
        """Answer matching requests only after ``seconds``."""
        return self._add_fault(Fault("delay", re.compile(path_regex), method, times, seconds=seconds))

    def respond(
        self,
        path_regex: str,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        times: int | None = 1,
        method: str | None = None,
        content_type: str | None = "application/json",
    ) -> Fault:
        """Canned answer (``times`` times; None = until cleared). ``body``:
        dict/list → JSON, str/bytes → sent as is (e.g. "{not json")."""
        if isinstance(body, (dict, list)):
            raw = json.dumps(body).encode()
        elif isinstance(body, str):
            raw = body.encode()
        else:
            raw = body or b""
        reply = Reply(status, raw, content_type, dict(headers or {}))
        return self._add_fault(Fault("respond", re.compile(path_regex), method, times, reply=reply))

    def drop_response(self, path_regex: str, method: str | None = None, times: int | None = 1) -> Fault:
        """Carry out matching requests, then close the connection unanswered."""
        return self._add_fault(Fault("drop", re.compile(path_regex), method, times))

    def clear_faults(self) -> None:
        self.release()
        with self._fault_lock:
            self._faults.clear()

    def _take_faults(self, method: str, path: str) -> list[Fault]:
        with self._fault_lock:
            taken = []
            for fault in list(self._faults):
                if not fault.matches(method, path):
                    continue
                taken.append(fault)
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
            return taken

    # -- inspection ------------------------------------------------------------

    def requests_to(self, path_regex: str, method: str | None = None) -> list[LoggedRequest]:
        pattern = re.compile(path_regex)
        return [
            r for r in list(self.requests_log) if pattern.search(r.path) and (method is None or r.method == method)
        ]

    def assert_contract_clean(self) -> None:
        if self.contract_violations:
            raise AssertionError(
                "Traffic violated the Flamenco API contract:\n  " + "\n  ".join(self.contract_violations)
            )

    def job_json(self, job_id: str) -> JSONDict:
        with self._state_lock:
            return self._job_json(self.jobs[job_id])

    def tasks_of(self, job_id: str) -> list[TaskRecord]:
        with self._state_lock:
            job = self.jobs[job_id]
            return [self.tasks[t] for t in job.task_ids]

    # -- request handling ----------------------------------------------------------

    def _legacy_missing(self) -> set[str]:
        missing = set()
        if not self.at_least(3, 8):
            missing |= {"steps_completed", "steps_total"}
        if not self.at_least(3, 6):
            missing.add("index_in_job")
        return missing

    def _dispatch(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Reply:
        parts = urllib.parse.urlsplit(raw_path)
        path = parts.path
        url = f"http://127.0.0.1:{self._port}{raw_path}"
        try:
            parsed_body: Any = json.loads(body) if body else None
        except ValueError:
            parsed_body = None
        self.requests_log.append(
            LoggedRequest(method, path, urllib.parse.parse_qs(parts.query), headers, parsed_body, body, time.time())
        )

        faults = self._take_faults(method, path)
        drop = False
        for fault in faults:
            if fault.kind == "hold":
                with self._fault_lock:
                    fault.waiting += 1
                fault.released.wait()
                with self._fault_lock:
                    fault.waiting -= 1
                if self._stopping.is_set():
                    raise _Dropped()
            elif fault.kind == "delay":
                if self._stopping.wait(fault.seconds):
                    raise _Dropped()
            elif fault.kind == "drop":
                drop = True
        canned = next((f.reply for f in faults if f.kind == "respond"), None)

        problems = openapi_contract.request_problems(method, url, headers, body)
        for problem in problems:
            self.contract_violations.append(f"request {method} {path}: {problem}")

        if canned is not None:
            reply = canned
            sink = self.intentional_violations
        else:
            sink = self.contract_violations
            try:
                reply = self._answer(method, path, parsed_body, problems)
            except Exception as exc:  # a stub bug must fail the test, not hang it
                self.contract_violations.append(f"stub crashed on {method} {path}: {exc!r}")
                reply = Reply.error(500, f"stub crashed: {exc!r}")
        if drop:
            raise _Dropped()

        headers_out = dict(reply.headers)
        if reply.content_type:
            headers_out["Content-Type"] = reply.content_type
        for problem in openapi_contract.response_problems(
            method, url, reply.status, headers_out, reply.body, legacy_missing=self._legacy_missing()
        ):
            sink.append(f"response {reply.status} to {method} {path}: {problem}")
        return reply

    def _answer(self, method: str, path: str, body: Any, problems: list[str]) -> Reply:
        route, params, allowed = self._route(method, path)
        if route is None:
            if allowed:
                return Reply.validator_error(405, "Method Not Allowed")
            return Reply.validator_error(404, "Not Found")
        if problems and path.startswith(openapi_contract.API_PREFIX):
            # The Manager's OpenAPI middleware answers before any handler runs.
            what = "request body has an error: doesn't match schema" if body is not None else "request has an error"
            return Reply.validator_error(400, f"{what}: {problems[0]}")
        with self._state_lock:
            self._purge_deleted()
            return route(body=body, **params)

    def _routes(self) -> list[tuple[str, str, Callable[..., Reply]]]:
        job = r"(?P<job_id>[^/]+)"
        task = r"(?P<task_id>[^/]+)"
        return [
            ("GET", r"/api/v3/version", self._get_version),
            ("GET", r"/api/v3/status", self._get_status),
            ("GET", r"/api/v3/configuration/shared-storage/(?P<audience>[^/]+)/(?P<platform>[^/]+)", self._get_storage),
            ("GET", r"/api/v3/configuration/variables/(?P<audience>[^/]+)/(?P<platform>[^/]+)", self._get_variables),
            ("GET", r"/api/v3/jobs/types", self._get_job_types),
            ("GET", r"/api/v3/jobs/type/(?P<name>[^/]+)", self._get_job_type),
            ("GET", r"/api/v3/worker-mgt/tags", self._get_tags),
            ("POST", r"/api/v3/jobs/check", self._post_check),
            ("POST", r"/api/v3/jobs", self._post_job),
            ("GET", r"/api/v3/jobs", self._get_jobs),
            ("GET", r"/api/v3/jobs/last-rendered", self._get_global_last_rendered),
            ("GET", rf"/api/v3/jobs/{job}", self._get_job),
            ("DELETE", rf"/api/v3/jobs/{job}", self._delete_job),
            ("GET", rf"/api/v3/jobs/{job}/tasks", self._get_job_tasks),
            ("GET", rf"/api/v3/jobs/{job}/last-rendered", self._get_last_rendered),
            ("GET", rf"/api/v3/jobs/{job}/what-would-delete-do", self._get_what_would_delete_do),
            ("POST", rf"/api/v3/jobs/{job}/setstatus", self._post_job_status),
            ("POST", rf"/api/v3/jobs/{job}/setpriority", self._post_job_priority),
            ("POST", rf"/api/v3/jobs/{job}/settag", self._post_job_tag),
            ("GET", rf"/api/v3/tasks/{task}", self._get_task),
            ("GET", rf"/api/v3/tasks/{task}/logtail", self._get_logtail),
            ("GET", rf"/api/v3/tasks/{task}/log", self._get_log_info),
            ("POST", rf"/api/v3/tasks/{task}/setstatus", self._post_task_status),
            ("GET", r"/job-files/(?P<file_path>.+)", self._get_job_file),
        ]

    def _route(self, method: str, path: str) -> tuple[Callable[..., Reply] | None, dict[str, str], bool]:
        allowed = False
        for route_method, pattern, handler in self._routes():
            match = re.fullmatch(pattern, path)
            if not match:
                continue
            if route_method == method or (method == "HEAD" and route_method == "GET"):
                params = {k: urllib.parse.unquote(v) for k, v in match.groupdict().items()}
                if not self._route_exists(handler):
                    return None, {}, False
                return handler, params, True
            allowed = True
        return None, {}, allowed

    def _route_exists(self, handler: Callable[..., Reply]) -> bool:
        # Endpoints older Managers don't have answer Echo's 404.
        name = getattr(handler, "__name__", "")
        if name == "_get_jobs":
            return self.at_least(3, 6)
        if name == "_post_job_tag":
            return self.at_least(3, 8)
        return True

    # -- JSON views ------------------------------------------------------------------

    def _job_json(self, job: JobRecord) -> JSONDict:
        data: JSONDict = {
            "id": job.id,
            "name": job.name,
            "type": job.type,
            "priority": job.priority,
            "status": job.status,
            "activity": job.activity,
            "created": rfc3339(job.created),
            "updated": rfc3339(job.updated),
            "settings": job.settings,
            "metadata": job.metadata,
            # The Manager doesn't store it and always answers "".
            "submitter_platform": "",
        }
        if self.at_least(3, 8):
            data["steps_completed"] = job.steps_completed
            data["steps_total"] = job.steps_total
        if job.worker_tag:
            data["worker_tag"] = job.worker_tag
        if job.shaman_checkout_id:
            data["storage"] = {"shaman_checkout_id": job.shaman_checkout_id}
        if job.delete_requested_at is not None:
            data["delete_requested_at"] = rfc3339(job.delete_requested_at)
        return data

    def _task_summary_json(self, task: TaskRecord) -> JSONDict:
        data: JSONDict = {
            "id": task.id,
            "name": task.name,
            "status": task.status,
            "priority": task.priority,
            "task_type": task.task_type,
            "updated": rfc3339(task.updated),
            "worker": dict(task.worker),
        }
        if self.at_least(3, 6):
            data["index_in_job"] = task.index_in_job
        if self.at_least(3, 8):
            data["steps_completed"] = task.steps_completed
            data["steps_total"] = task.steps_total
        return data

    def _task_json(self, task: TaskRecord) -> JSONDict:
        data = self._task_summary_json(task)
        data.update(
            created=rfc3339(task.created),
            job_id=task.job_id,
            activity=task.activity,
            commands=task.commands,
            failed_by_workers=list(task.failed_by_workers),
        )
        if task.last_touched is not None:
            data["last_touched"] = rfc3339(task.last_touched)
        return data

    # -- lookups ---------------------------------------------------------------

    def _find_job(self, job_id: str) -> JobRecord | Reply:
        if not UUID_RE.match(job_id):
            return Reply.error(400, "job ID not valid")
        job = self.jobs.get(job_id)
        return job if job is not None else Reply.error(404, "no such job")

    def _find_task(self, task_id: str) -> TaskRecord | Reply:
        if not UUID_RE.match(task_id):
            return Reply.error(400, "task ID not valid")
        task = self.tasks.get(task_id)
        return task if task is not None else Reply.error(404, "no such task")

    def _purge_deleted(self) -> None:
        cutoff = now().timestamp() - self.deletion_delay
        for job in list(self.jobs.values()):
            if job.delete_requested_at is not None and job.delete_requested_at.timestamp() <= cutoff:
                for task_id in job.task_ids:
                    self.tasks.pop(task_id, None)
                prefix = f"/job-files/job-{job.id[:4]}/{job.id}/"
                for name in [n for n in self.files if n.startswith(prefix)]:
                    del self.files[name]
                if self.last_rendered_job == job.id:
                    self.last_rendered_job = None
                del self.jobs[job.id]

    # -- meta endpoints -------------------------------------------------------------

    def _get_version(self, body: Any) -> Reply:
        return Reply.json(200, self.version_json())

    def _get_status(self, body: Any) -> Reply:
        return Reply.json(200, {"status": self.farm_status})

    def _get_storage(self, body: Any, audience: str, platform: str) -> Reply:
        return Reply.json(
            200,
            {"location": str(self.storage_dir), "audience": audience, "platform": platform, "shamanEnabled": self.shaman_enabled},
        )

    def _get_variables(self, body: Any, audience: str, platform: str) -> Reply:
        # The implicit one-way "jobs" variable is always there (api-notes §1.1).
        variables = {"jobs": {"value": str(self.storage_dir), "is_twoway": False}, **self.variables}
        return Reply.json(200, variables)

    def _get_job_types(self, body: Any) -> Reply:
        names = sorted(self._job_types)
        return Reply.json(200, {"job_types": [self.job_type_json(n) for n in names]})

    def _get_job_type(self, body: Any, name: str) -> Reply:
        job_type = self.job_type_json(name)
        if job_type is None:
            return Reply.error(404, "no such job type known")
        return Reply.json(200, job_type)

    def _get_tags(self, body: Any) -> Reply:
        return Reply.json(200, {"tags": self.worker_tags})

    # -- submission -----------------------------------------------------------------

    def _compile(self, body: JSONDict) -> list[JSONDict] | Reply:
        job_type = body["type"]
        if job_type not in self._job_types:
            return Reply.error(400, "job type unknown")
        etag = body.get("type_etag")
        if etag and etag != self.etag_of(job_type):
            return Reply.error(412, "rejecting job because its settings are outdated, refresh the job type")
        try:
            return self._author_tasks(job_type, body.get("settings") or {})
        except CompileError as exc:
            return Reply.error(400, str(exc))

    def _author_tasks(self, job_type: str, settings: JSONDict) -> list[JSONDict]:
        """Task specs (name, type, commands, steps) like the built-in scripts make."""
        script = job_type.replace("-", "_") + ".js"
        if "frames" in settings:
            frames = parse_frames(settings["frames"], script)
            chunk_size = settings.get("chunk_size", 1)
            if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
                raise CompileError(f"TypeError: chunk_size must be a positive integer at compileJob ({script}:95:5(12))")
            return [
                {
                    "name": f"render-{chunk_name(chunk)}",
                    "type": "blender",
                    "commands": [
                        {
                            "name": "blender-render",
                            "parameters": {"exe": "{blender}", "argsBefore": [], "args": ["--render-frame", chunk_name(chunk).replace("-", "..")]},
                            "total_step_count": len(chunk),
                        }
                    ],
                }
                for chunk in chunk_frames(frames, chunk_size)
            ]
        if job_type == "echo-sleep-test":
            repeats = settings.get("sleep_repeats", 0)
            tasks = [{"name": "echo", "type": "misc", "commands": [{"name": "echo", "parameters": {"message": settings.get("message", "")}, "total_step_count": 0}]}]
            if isinstance(repeats, int) and not isinstance(repeats, bool):
                tasks += [
                    {"name": f"sleep-{i + 1}", "type": "misc", "commands": [{"name": "sleep", "parameters": {"duration_in_seconds": settings.get("sleep_duration_seconds")}, "total_step_count": 0}]}
                    for i in range(repeats)
                ]
            return tasks
        return [
            {"name": f"task-{i}", "type": "misc", "commands": [{"name": "echo", "parameters": {"message": f"step {i}"}, "total_step_count": 0}]}
            for i in (1, 2, 3)
        ]

    def _post_check(self, body: JSONDict) -> Reply:
        result = self._compile(body)
        return result if isinstance(result, Reply) else Reply.empty()

    def _post_job(self, body: JSONDict) -> Reply:
        result = self._compile(body)
        if isinstance(result, Reply):
            return result
        tag = body.get("worker_tag") or ""
        if tag and tag not in {t.get("id") for t in self.worker_tags}:
            return Reply.error(500, "error persisting job in database")
        created = now()
        job_id = str(uuid.uuid4())
        settings = dict(body.get("settings") or {})
        output = settings.get("render_output_path")
        if isinstance(output, str) and "{timestamp}" in output:
            settings["render_output_path"] = output.replace("{timestamp}", created.astimezone().strftime("%Y-%m-%d_%H%M%S"))
        job = JobRecord(
            id=job_id,
            name=body["name"],
            type=body["type"],
            priority=body["priority"],
            status=body.get("initial_status") or "queued",
            created=created,
            updated=created,
            settings=settings,
            metadata=dict(body.get("metadata") or {}),
            task_ids=[],
            worker_tag=tag,
            shaman_checkout_id=(body.get("storage") or {}).get("shaman_checkout_id") or None,
        )
        for index, spec in enumerate(result, start=1):
            steps = sum(max(1, c["total_step_count"]) for c in spec["commands"])
            task = TaskRecord(
                id=str(uuid.uuid4()),
                job_id=job_id,
                index_in_job=index,
                name=spec["name"],
                task_type=spec["type"],
                commands=spec["commands"],
                steps_total=steps,
                created=created,
                updated=created,
            )
            self.tasks[task.id] = task
            job.task_ids.append(task.id)
        self.jobs[job_id] = job
        return Reply.json(200, self._job_json(job))

    # -- monitoring -------------------------------------------------------------------

    def _get_jobs(self, body: Any) -> Reply:
        # Unordered in the real Manager: a set-like order catches clients that rely on it.
        jobs = sorted(self.jobs.values(), key=lambda j: j.id)
        return Reply.json(200, {"jobs": [self._job_json(j) for j in jobs]})

    def _get_job(self, body: Any, job_id: str) -> Reply:
        job = self._find_job(job_id)
        return job if isinstance(job, Reply) else Reply.json(200, self._job_json(job))

    def _get_job_tasks(self, body: Any, job_id: str) -> Reply:
        if not UUID_RE.match(job_id):
            return Reply.error(400, "job ID not valid")
        job = self.jobs.get(job_id)
        # Unknown job → empty list, and the Manager doesn't sort: reverse to prove it.
        tasks = [self.tasks[t] for t in reversed(job.task_ids)] if job else []
        return Reply.json(200, {"tasks": [self._task_summary_json(t) for t in tasks]})

    def _get_task(self, body: Any, task_id: str) -> Reply:
        task = self._find_task(task_id)
        return task if isinstance(task, Reply) else Reply.json(200, self._task_json(task))

    def _get_logtail(self, body: Any, task_id: str) -> Reply:
        task = self._find_task(task_id)
        if isinstance(task, Reply):
            return task
        data = task.log.encode()
        if not data:
            return Reply.empty()
        if len(data) > 2048:
            data = data[-2048:]
            # Drop the partial first line, like the Manager.
            data = data[data.find(b"\n") + 1 :] if b"\n" in data else data
        return Reply(200, data, "text/plain; charset=utf-8")

    def _log_url(self, task: TaskRecord) -> str:
        return f"/job-files/job-{task.job_id[:4]}/{task.job_id}/task-{task.id}.txt"

    def _get_log_info(self, body: Any, task_id: str) -> Reply:
        task = self._find_task(task_id)
        if isinstance(task, Reply):
            return task
        if not task.log:
            return Reply.empty()
        return Reply.json(200, {"task_id": task.id, "job_id": task.job_id, "url": self._log_url(task), "size": len(task.log.encode())})

    def _last_rendered_json(self, job_id: str) -> JSONDict:
        base = f"/job-files/job-{job_id[:4]}/{job_id}"
        if job_id in self._windows_bases:
            base = base.replace("/", "\\")
        return {"base": base, "suffixes": ["last-rendered.jpg", "last-rendered-small.jpg", "last-rendered-tiny.jpg"]}

    def _has_image(self, job_id: str) -> bool:
        return f"/job-files/job-{job_id[:4]}/{job_id}/last-rendered-tiny.jpg" in self.files

    def _get_last_rendered(self, body: Any, job_id: str) -> Reply:
        if not UUID_RE.match(job_id):
            return Reply.error(400, "job ID not valid")
        if not self._has_image(job_id):
            return Reply.empty()  # also for unknown jobs
        return Reply.json(200, self._last_rendered_json(job_id))

    def _get_global_last_rendered(self, body: Any) -> Reply:
        if self.last_rendered_job is None or not self._has_image(self.last_rendered_job):
            return Reply.empty()
        return Reply.json(200, self._last_rendered_json(self.last_rendered_job))

    def _get_job_file(self, body: Any, file_path: str) -> Reply:
        full = "/job-files/" + file_path
        data = self.files.get(full)
        if data is None:
            for task in self.tasks.values():
                if self._log_url(task) == full and task.log:
                    return Reply(200, task.log.encode(), "text/plain; charset=utf-8")
            return Reply(404, b"404 page not found\n", "text/plain; charset=utf-8")
        return Reply(200, data, "image/jpeg" if full.endswith(".jpg") else "application/octet-stream")

    # -- control -----------------------------------------------------------------------

    def _get_what_would_delete_do(self, body: Any, job_id: str) -> Reply:
        job = self._find_job(job_id)
        if isinstance(job, Reply):
            return job
        return Reply.json(200, {"shaman_checkout": bool(self.shaman_enabled and job.shaman_checkout_id)})

    def _delete_job(self, body: Any, job_id: str) -> Reply:
        job = self._find_job(job_id)
        if isinstance(job, Reply):
            return job
        if job.delete_requested_at is None:
            job.delete_requested_at = job.updated = now()
        self._purge_deleted()  # the background deleter, when deletion_delay is 0
        return Reply.empty()

    def _post_job_status(self, body: JSONDict, job_id: str) -> Reply:
        job = self._find_job(job_id)
        if isinstance(job, Reply):
            return job
        self._request_job_status(job, body["status"], body["reason"])
        return Reply.empty()

    def _post_job_priority(self, body: JSONDict, job_id: str) -> Reply:
        job = self._find_job(job_id)
        if isinstance(job, Reply):
            return job
        job.priority = body["priority"]
        job.updated = now()
        return Reply.empty()

    def _post_job_tag(self, body: JSONDict, job_id: str) -> Reply:
        job = self._find_job(job_id)
        if isinstance(job, Reply):
            return job
        if body.get("id"):
            tag = next((t for t in self.worker_tags if t.get("id") == body["id"]), None)
        elif body.get("name"):
            tag = next((t for t in self.worker_tags if t.get("name") == body["name"]), None)
        else:
            tag = {"id": ""}
        if tag is None:
            return Reply.error(406, "tag not found")
        job.worker_tag = tag["id"]
        job.updated = now()
        return Reply.empty()

    def _post_task_status(self, body: JSONDict, task_id: str) -> Reply:
        task = self._find_task(task_id)
        if isinstance(task, Reply):
            return task
        task.activity = body["reason"]
        task.updated = now()
        if body["status"] != task.status:
            self._set_task_status(task, body["status"])
        return Reply.empty()

    # -- status machine (api-notes §2) ------------------------------------------------

    def _job_tasks(self, job: JobRecord) -> list[TaskRecord]:
        return [self.tasks[t] for t in job.task_ids]

    def _set_job_status(self, job: JobRecord, status: str, reason: str) -> None:
        if job.status == status:
            return
        job.status = status
        job.activity = f'Changed to status "{status}": {reason}'
        job.updated = now()

    def _recompute_steps(self, job: JobRecord) -> None:
        tasks = self._job_tasks(job)
        job.steps_completed = sum(t.steps_completed for t in tasks)
        job.steps_total = sum(t.steps_total for t in tasks)
        job.updated = now()

    def _mass_update(self, job: JobRecord, from_statuses: tuple[str, ...], to: str, activity: str) -> None:
        for task in self._job_tasks(job):
            if task.status in from_statuses:
                task.status = to
                task.activity = activity
                task.updated = now()
                if to == "queued":
                    task.steps_completed = 0

    def _request_job_status(self, job: JobRecord, status: str, reason: str) -> None:
        """POST jobs/{id}/setstatus effects (§2.1)."""
        if status == job.status:
            return
        tasks = self._job_tasks(job)
        cancel_note = 'Manager cancelled this task because the job got status "{}".'
        if status == "cancel-requested":
            self._mass_update(job, RUNNABLE_TASK, "canceled", cancel_note.format("canceled"))
            self._set_job_status(job, "canceled", reason)
        elif status == "pause-requested":
            self._mass_update(job, ("queued", "soft-failed"), "paused", 'Paused because the job got status "pause-requested".')
            active = any(t.status == "active" for t in tasks)
            self._set_job_status(job, "pause-requested" if active else "paused", reason)
        elif status == "requeueing":
            note = f'Queued because job transitioned status from "{job.status}" to "requeueing"'
            if job.status == "completed":
                self._mass_update(job, ("completed", "canceled", "failed", "paused", "soft-failed"), "queued", note)
            else:
                self._mass_update(job, ("canceled", "failed", "paused", "soft-failed"), "queued", note)
            for task in tasks:
                task.failed_by_workers.clear()
            self._recompute_steps(job)
            self._set_job_status(job, "queued", reason)
        elif status == "queued":
            done = tasks and all(t.status == "completed" for t in tasks)
            self._set_job_status(job, "completed" if done else "queued", reason)
        elif status == "failed":
            self._mass_update(job, RUNNABLE_TASK, "canceled", cancel_note.format("failed"))
            self._set_job_status(job, "failed", reason)
        else:
            self._set_job_status(job, status, reason)

    def _pause_check(self, job: JobRecord) -> None:
        if job.status == "pause-requested" and not any(t.status == "active" for t in self._job_tasks(job)):
            self._set_job_status(job, "paused", "no more active tasks")

    def _set_task_status(self, task: TaskRecord, status: str) -> None:
        """A task status change and its effect on the job (§2.2)."""
        task.status = status
        task.updated = now()
        job = self.jobs[task.job_id]
        tasks = self._job_tasks(job)
        if status in ("active", "soft-failed"):
            if job.status not in ("active", "cancel-requested"):
                self._set_job_status(job, "active", "task became active")
        elif status == "completed":
            task.steps_completed = task.steps_total
            self._recompute_steps(job)
            if all(t.status == "completed" for t in tasks):
                self._set_job_status(job, "completed", "all tasks completed")
            elif job.status == "pause-requested":
                self._pause_check(job)
            elif job.status == "queued":
                self._set_job_status(job, "active", "task completed")
        elif status == "failed":
            failed = sum(t.status == "failed" for t in tasks)
            if failed * 10 >= len(tasks):
                self._mass_update(job, RUNNABLE_TASK, "canceled", 'Manager cancelled this task because the job got status "failed".')
                self._set_job_status(job, "failed", "too many tasks failed")
            else:
                self._pause_check(job)
                if job.status == "queued":
                    self._set_job_status(job, "active", "task failed")
        elif status == "canceled":
            if not any(t.status in RUNNABLE_TASK for t in tasks):
                self._set_job_status(job, "canceled", "all tasks canceled")
            else:
                self._pause_check(job)
        elif status == "paused":
            self._pause_check(job)
        elif status == "queued":
            task.steps_completed = 0
            if job.status == "completed":
                self._mass_update(job, ("completed",), "queued", 'Queued because job transitioned status from "completed" to "requeueing"')
                self._recompute_steps(job)
                self._set_job_status(job, "queued", "task was queued")

    # -- progress simulation ---------------------------------------------------------

    def advance(self, job_id: str, steps: int = 1) -> int:
        """Make a pretend worker report ``steps`` steps; returns how many happened.

        The first runnable task becomes active (job → active), gains steps and
        completes at its total; job steps/updated follow like a real Manager.
        """
        done = 0
        with self._state_lock:
            job = self.jobs[job_id]
            for _ in range(steps):
                # Pausing lets running tasks finish (api-notes §2.1) but starts no new ones.
                if job.status not in ("queued", "active", "pause-requested") or job.delete_requested_at is not None:
                    break
                tasks = self._job_tasks(job)
                task = next((t for t in tasks if t.status == "active"), None)
                if task is None and job.status != "pause-requested":
                    task = next((t for t in tasks if t.status in ("queued", "soft-failed")), None)
                if task is None:
                    break
                stamp = now()
                if task.status != "active":
                    task.worker = dict(FAKE_WORKER)
                    task.activity = "Started"
                    task.last_touched = stamp
                    self._set_task_status(task, "active")
                task.steps_completed = min(task.steps_total, task.steps_completed + 1)
                task.activity = "Progress"
                task.updated = task.last_touched = stamp
                if task.steps_completed >= task.steps_total:
                    task.activity = "Completed"
                    self._set_task_status(task, "completed")
                else:
                    self._recompute_steps(job)
                done += 1
        return done

    def complete_job(self, job_id: str) -> None:
        """Run every remaining step."""
        while self.advance(job_id, 100):
            pass

    def fail_task(self, task_id: str, error: str = "simulated failure") -> None:
        """The worker reports failure; on a one-worker farm that fails the job."""
        with self._state_lock:
            task = self.tasks[task_id]
            task.activity = f"Failed: {error}"
            task.last_touched = now()
            if task.worker["id"]:
                task.failed_by_workers.append(dict(task.worker))
            self._set_task_status(task, "failed")

    def append_task_log(self, task_id: str, text: str) -> None:
        with self._state_lock:
            self.tasks[task_id].log += text

    def set_last_rendered(self, job_id: str, image: bytes = FAKE_JPEG, *, windows: bool = False) -> None:
        """Store the three thumbnails; ``windows`` sends a backslashed base like
        a Manager running on Windows."""
        with self._state_lock:
            base = f"/job-files/job-{job_id[:4]}/{job_id}"
            for suffix in ("last-rendered.jpg", "last-rendered-small.jpg", "last-rendered-tiny.jpg"):
                self.files[f"{base}/{suffix}"] = image
            (self._windows_bases.add if windows else self._windows_bases.discard)(job_id)
            self.last_rendered_job = job_id


def stub_manager_fixture(tmp_path: Path) -> Iterator[StubManager]:
    """Generator for a pytest fixture: ``stub = pytest.fixture(stub_manager_fixture)``.

    Fails the test at teardown if any traffic broke the API contract.
    """
    storage = tmp_path / "shared-storage"
    storage.mkdir(parents=True, exist_ok=True)
    stub = StubManager(storage).start()
    try:
        yield stub
    finally:
        stub.stop()
    stub.assert_contract_clean()


class Blackhole:
    """A loopback port that never answers.

    mode "read": connections are accepted by the kernel but never served →
    read timeouts. mode "connect": the accept backlog is full → SYNs are
    dropped → connect timeouts (Linux; ``works`` is False where it isn't so).
    """

    def __init__(self, mode: str = "read") -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(0 if mode == "connect" else 16)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._fillers: list[socket.socket] = []
        self.works = True
        if mode == "connect":
            self.works = self._fill_backlog()

    def _fill_backlog(self) -> bool:
        for _ in range(8):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.settimeout(0.2)
            try:
                filler.connect(("127.0.0.1", self.port))
            except OSError:
                filler.close()
                return True
            self._fillers.append(filler)
        return False

    def close(self) -> None:
        for sock in [*self._fillers, self._listener]:
            sock.close()

    def __enter__(self) -> Blackhole:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def free_port() -> int:
    """A loopback port with nothing listening (for "connection refused")."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
