"""Typed client for the Flamenco Manager REST API (/api/v3).

One ``requests.Session`` per client and thread: requests sessions are not documented
thread-safe, and one client is used by several background threads (the bridge's pool), so a
client that makes its own sessions keeps one per thread (same timeouts, they are per request).

Every answer is read with a bound (``max_body_bytes``): a Manager, or something posing as one,
that sends a 200 MB body gets a clear error instead of Blender's memory.
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import json
import platform as _platform
import re
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timezone
from types import TracebackType
from typing import Any, Protocol, TypeVar

import requests
from urllib3.exceptions import ProtocolError, ReadTimeoutError

from .errors import (
    FlamencoError,
    InvalidResponse,
    ManagerHTTPError,
    ManagerTimeout,
    ManagerUnreachable,
    ResponseLost,
)
from .features import Features
from .joblist import JobListParser, JobRow
from . import models

T = TypeVar("T")

API = "/api/v3"
_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_RETRY_STATUSES = frozenset({500, 502, 503, 504})
# POST is never retried: a lost submit response must not create a second job.
_IDEMPOTENT_METHODS = frozenset({"GET", "DELETE"})
# The largest JSON answer read whole: a job with 10,000 tasks is ~4 MB. The streamed job list
# (job_rows) is parsed as it arrives and may be larger; images have their own bound.
MAX_BODY_BYTES = 32 * 1024 * 1024
MAX_JOB_LIST_BYTES = 256 * 1024 * 1024  # 20,000 jobs with their settings are ~30 MB
MAX_IMAGE_BYTES = 64 * 1024 * 1024
MAX_LOGTAIL_BYTES = 64 * 1024  # the Manager sends the last 2 KiB


class Readable(Protocol):
    """What an upload body must offer: read(size) → bytes, b"" at the end."""

    def read(self, size: int = -1, /) -> bytes: ...


_SHAMAN_SHA_RE = re.compile(r"^[0-9a-f]{64}$")


def _shaman_file_path(sha: str, size: int) -> str:
    if not isinstance(sha, str) or not _SHAMAN_SHA_RE.match(sha):
        raise ValueError(f"{sha!r} is not a lower-case hex SHA-256")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ValueError(f"{size!r} is not a file size")
    return f"{API}/shaman/files/{sha}/{size}"


def original_filename_header(name: str) -> str:
    """X-Shaman-Original-Filename must be ASCII or one RFC 2047 encoded word in UTF-8 (the
    Manager only logs it). One word, never folded: a folded header is not a valid value."""
    if name.isascii() and name.isprintable():
        return name
    return "=?utf-8?b?" + base64.b64encode(name.encode("utf-8", "surrogateescape")).decode("ascii") + "?="


def normalise_base_url(url: str) -> str:
    """Return "scheme://host[:port][/prefix]" or raise ValueError."""
    text = url.strip() if isinstance(url, str) else ""
    if not text:
        raise ValueError("The Manager URL is empty; enter something like http://flamenco:8080")
    if "://" not in text:
        text = "http://" + text
    parts = urllib.parse.urlsplit(text)
    problem = ""
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        problem = "its port is not a number between 0 and 65535"
    if parts.scheme not in ("http", "https"):
        problem = "only http:// and https:// are supported"
    elif not parts.hostname or re.search(r"[\s<>\"'{}|\\^`]", text):
        problem = "it has no valid host name"
    elif parts.query or parts.fragment:
        problem = "it must not contain '?' or '#'"
    if problem:
        raise ValueError(f"{url!r} is not a valid Manager URL: {problem}")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def _check_uuid(value: str, what: str) -> str:
    if not isinstance(value, str) or not _UUID_RE.match(value):
        raise ValueError(f"{value!r} is not a valid {what} ID")
    return value


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB"


def _quote(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")


def _exception_chain(exc: BaseException) -> Iterator[object]:
    """Every nested cause urllib3/requests wrap around the OS error."""
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        item = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        if isinstance(item, BaseException):
            todo.extend(item.args)
            todo.extend(x for x in (item.__cause__, item.__context__) if x is not None)
            reason = getattr(item, "reason", None)
            if reason is not None:
                todo.append(reason)


def _unreachable_reason(exc: BaseException) -> str:
    chain = list(_exception_chain(exc))
    for kind, text in (
        (socket.gaierror, "the host name could not be found"),
        (ConnectionRefusedError, "the connection was refused (is the Manager running?)"),
        (ConnectionResetError, "the connection was reset"),
    ):
        if any(isinstance(item, kind) for item in chain):
            return text
    return "the network connection failed"


def _retry_after(response: requests.Response | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date)."""
    if response is None:
        return None
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


class ManagerClient:
    """Thin typed client over one requests.Session; see api-notes for semantics."""

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout: float = 3.05,
        read_timeout: float = 10.0,
        session: requests.Session | None = None,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_retry_wait: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        user_agent: str = "flamenco-desk",
        cancel: threading.Event | None = None,
    ) -> None:
        self.base_url = normalise_base_url(base_url)
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._owns_session = session is None
        self._given_session = session
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()
        self.max_body_bytes = MAX_BODY_BYTES
        self.max_retries = max(0, max_retries)
        self.backoff = backoff
        self.max_retry_wait = max_retry_wait
        self._sleep = sleep
        self.user_agent = user_agent
        self.cancel = cancel
        self._features: Features | None = None

    # -- plumbing -----------------------------------------------------------

    @property
    def session(self) -> requests.Session:
        """This thread's session (or the one given to the constructor, shared as given)."""
        if self._given_session is not None:
            return self._given_session
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            self._local.session = session
            with self._sessions_lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        if self._owns_session:
            with self._sessions_lock:
                sessions, self._sessions = self._sessions, []
            for session in sessions:
                session.close()
            self._local = threading.local()

    def __enter__(self) -> ManagerClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ManagerClient({self.base_url!r})"

    def _wait_before_retry(self, attempt: int, response: requests.Response | None) -> float:
        advised = _retry_after(response)
        wait = advised if advised is not None else self.backoff * (2**attempt)
        return max(0.0, min(wait, self.max_retry_wait))

    def _cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

    def _attempt(
        self, method: str, url: str, body: bytes | Readable | None, params: dict[str, str] | None, accept: str,
        extra_headers: dict[str, str] | None = None, stream: bool = False,
    ) -> requests.Response:
        headers = {"Accept": accept, "User-Agent": self.user_agent}
        if body is not None:
            headers["Content-Type"] = "application/json"
        headers.update(extra_headers or {})
        try:
            return self.session.request(
                method,
                url,
                data=body,
                params=params,
                headers=headers,
                timeout=(self.connect_timeout, self.read_timeout),
                stream=stream,
            )
        except requests.ConnectTimeout as exc:
            raise ManagerTimeout(self.base_url, "connect", self.connect_timeout) from exc
        except requests.ReadTimeout as exc:
            raise ManagerTimeout(self.base_url, "read", self.read_timeout) from exc
        except requests.ConnectionError as exc:
            # urllib3 reports a connection that broke after the request went
            # out as ProtocolError; anything else never reached the Manager.
            if any(isinstance(arg, ProtocolError) for arg in exc.args):
                raise ResponseLost(self.base_url) from exc
            raise ManagerUnreachable(self.base_url, _unreachable_reason(exc)) from exc
        except requests.exceptions.ChunkedEncodingError as exc:
            raise ResponseLost(self.base_url) from exc
        except requests.RequestException as exc:
            raise ManagerUnreachable(self.base_url, str(exc)) from exc

    def _request(
        self,
        method: str,
        path: str,
        *,
        body: object = None,
        params: dict[str, str] | None = None,
        expect: tuple[int, ...] = (200,),
        accept: str = "application/json",
        stream: bool = False,
        headers: dict[str, str] | None = None,
        limit: int | None = None,
    ) -> requests.Response:
        url = self.base_url + path
        data = None if body is None else json.dumps(body, allow_nan=False).encode("utf-8")
        retryable = method in _IDEMPOTENT_METHODS
        attempt = 0
        while True:
            response: requests.Response | None = None
            try:
                # Always streamed: a body asked for whole is read here, with a bound.
                response = self._attempt(method, url, data, params, accept, headers, stream=True)
                if not stream or response.status_code not in expect:
                    self._load_bounded(response, f"{method} {path}", limit or self.max_body_bytes)
                if response.status_code in expect:
                    return response
                if response.status_code < 400:
                    raise InvalidResponse(f"unexpected HTTP status {response.status_code}", f"{method} {path}")
                http_error = ManagerHTTPError.from_response(response.status_code, response.text, response.reason or "")
                http_error.retry_after = _retry_after(response)
                raise http_error
            except (ManagerTimeout, ManagerUnreachable, ManagerHTTPError) as error:
                transient = not isinstance(error, ManagerHTTPError) or error.status in _RETRY_STATUSES
                if not (retryable and transient) or attempt >= self.max_retries or self._cancelled():
                    raise
                self._sleep(self._wait_before_retry(attempt, response))
                if self._cancelled():
                    raise
                attempt += 1

    def _load_bounded(self, response: requests.Response, endpoint: str, limit: int) -> None:
        """Read the body of a streamed response into it (``response.content`` then works as
        usual), refusing one larger than `limit` bytes before or while it arrives."""
        body = self._read_bounded(response, endpoint, limit)
        response._content = body  # what requests itself fills in when reading a body
        response._content_consumed = True  # type: ignore[attr-defined]

    def _read_bounded(self, response: requests.Response, endpoint: str, limit: int,
                      chunk: int = 64 * 1024) -> bytes:
        declared = response.headers.get("Content-Length", "")
        with self._reading(response):
            if declared.isdigit() and int(declared) > limit:
                raise InvalidResponse(f"the answer is {_megabytes(int(declared))}, more than the "
                                      f"{_megabytes(limit)} this add-on accepts", endpoint)
            parts: list[bytes] = []
            size = 0
            for part in response.iter_content(chunk):
                size += len(part)
                if size > limit:
                    raise InvalidResponse(f"the answer is more than the {_megabytes(limit)} "
                                          "this add-on accepts", endpoint)
                parts.append(part)
                if self._cancelled():
                    raise ResponseLost(self.base_url)
            return b"".join(parts)

    def _get_json(self, path: str, *, expect: tuple[int, ...] = (200,), limit: int | None = None) -> tuple[int, Any]:
        response = self._request("GET", path, expect=expect, limit=limit)
        if response.status_code == 204:
            return 204, None
        return response.status_code, self._decode(response, f"GET {path}")

    def _get_one(self, path: str, parse: Callable[[Any], T]) -> T:
        """GET `path` and parse its JSON body as one object."""
        _, data = self._get_json(path)
        return self._parse(f"GET {path}", parse, data)

    def _get_status(self, path: str) -> str:
        """GET `path`, whose JSON body is {"status": "<text>"}."""
        _, data = self._get_json(path)
        if not isinstance(data, dict) or not isinstance(data.get("status"), str):
            raise InvalidResponse("the field 'status' is missing", f"GET {path}")
        return str(data["status"])

    def _get_list(self, path: str, key: str, parse: Callable[[Any], T], limit: int | None = None) -> list[T]:
        """GET `path` and parse each item of the list under `key` of its JSON body."""
        _, data = self._get_json(path, limit=limit)
        items = self._list(f"GET {path}", data, key)
        return [self._parse(f"GET {path}", parse, item) for item in items]

    @staticmethod
    def _decode(response: requests.Response, endpoint: str) -> Any:
        try:
            return response.json()
        except RecursionError:  # e.g. 100,000 nested lists: Python's parser gives up
            raise InvalidResponse("the JSON body is nested too deeply", endpoint) from None
        except ValueError:
            snippet = " ".join(response.text[:400].split())[:80]
            raise InvalidResponse(f"the body is not valid JSON ({snippet!r})", endpoint) from None

    @staticmethod
    def _parse(endpoint: str, parse: Callable[[Any], T], data: Any) -> T:
        try:
            return parse(data)
        except InvalidResponse as exc:
            raise InvalidResponse(exc.problem, endpoint) from None

    def _list(self, endpoint: str, data: Any, key: str) -> list[Any]:
        if not isinstance(data, dict):
            raise InvalidResponse("the body is not a JSON object", endpoint)
        items = data.get(key, [])
        if not isinstance(items, list):
            raise InvalidResponse(f"the field '{key}' is not a list", endpoint)
        return items

    # -- meta ---------------------------------------------------------------

    def version(self) -> models.ManagerVersion:
        """GET /api/v3/version; also refreshes the cached features()."""
        path = f"{API}/version"
        _, data = self._get_json(path)
        version = self._parse(f"GET {path}", models.ManagerVersion.from_json, data)
        self._features = Features.from_version(version)
        return version

    def use_features(self, features: Features) -> None:
        """Use features learnt elsewhere (e.g. an earlier version() of another client), so
        the next call does not first ask for the version again."""
        self._features = features

    def features(self) -> Features:
        """Features of this Manager, from the first version() call."""
        if self._features is None:
            self.version()
        assert self._features is not None
        return self._features

    def shared_storage(self, audience: str = "users", platform: str | None = None) -> models.SharedStorage:
        """GET /api/v3/configuration/shared-storage/{audience}/{platform}."""
        plat = platform or _platform.system().lower()
        path = f"{API}/configuration/shared-storage/{_quote(audience)}/{_quote(plat)}"
        return self._get_one(path, models.SharedStorage.from_json)

    def variables(self, audience: str = "users", platform: str | None = None) -> dict[str, models.ManagerVariable]:
        """GET /api/v3/configuration/variables/{audience}/{platform}: name → variable."""
        plat = platform or _platform.system().lower()
        path = f"{API}/configuration/variables/{_quote(audience)}/{_quote(plat)}"
        return self._get_one(path, models.ManagerVariable.mapping_from_json)

    def farm_status(self) -> str:
        """GET /api/v3/status: a FarmStatus value ("idle", "active", …)."""
        return self._get_status(f"{API}/status")

    # -- job types and tags ---------------------------------------------------

    def job_types(self) -> list[models.JobType]:
        """GET /api/v3/jobs/types (expensive on the Manager: cache the result); any job type
        that cannot be read is an InvalidResponse."""
        path = f"{API}/jobs/types"
        return self._get_list(path, "job_types", models.JobType.from_json)

    def job_types_and_problems(self) -> tuple[list[models.JobType], list[str]]:
        """GET /api/v3/jobs/types for the add-on, where one job type that cannot be read does
        not cost the others: it is left out and its problem (naming it) returned."""
        path = f"{API}/jobs/types"
        _, data = self._get_json(path)
        usable: list[models.JobType] = []
        problems: list[str] = []
        for item in self._list(f"GET {path}", data, "job_types"):
            try:
                usable.append(models.JobType.from_json(item))
            except InvalidResponse as exc:
                name = item.get("name") if isinstance(item, dict) else None
                problem = exc.problem
                if isinstance(name, str) and not problem.startswith("job type"):
                    problem = f"job type '{name}': {problem}"
                # Its name may be 100 KB long: one line stays short.
                problems.append(problem if len(problem) <= 300 else problem[:297] + "...")
        return usable, problems

    def job_type(self, name: str) -> models.JobType:
        """GET /api/v3/jobs/type/{name}; NotFound for unknown types."""
        path = f"{API}/jobs/type/{_quote(name)}"
        return self._get_one(path, models.JobType.from_json)

    def workers(self) -> list[models.WorkerSummary]:
        """GET /api/v3/worker-mgt/workers: every Worker, without its current task."""
        path = f"{API}/worker-mgt/workers"
        return self._get_list(path, "workers", models.WorkerSummary.from_json)

    def worker(self, worker_id: str) -> models.Worker:
        """GET /api/v3/worker-mgt/workers/{worker_id}: with its current (or last) task."""
        path = f"{API}/worker-mgt/workers/{_check_uuid(worker_id, 'worker')}"
        return self._get_one(path, models.Worker.from_json)

    def worker_tags(self) -> list[models.WorkerTag]:
        """GET /api/v3/worker-mgt/tags."""
        path = f"{API}/worker-mgt/tags"
        return self._get_list(path, "tags", models.WorkerTag.from_json)

    def worker_sleep_schedule(self, worker_id: str) -> models.SleepSchedule | None:
        """GET /api/v3/worker-mgt/workers/{worker_id}/sleep-schedule; None when the Worker
        never had one (204)."""
        path = f"{API}/worker-mgt/workers/{_check_uuid(worker_id, 'worker')}/sleep-schedule"
        status, data = self._get_json(path, expect=(200, 204))
        if status == 204:
            return None
        return self._parse(f"GET {path}", models.SleepSchedule.from_json, data)

    def set_worker_sleep_schedule(self, worker_id: str, schedule: models.SleepSchedule) -> None:
        """POST /api/v3/worker-mgt/workers/{worker_id}/sleep-schedule → 204; the Manager
        applies it to the Worker at once."""
        path = f"{API}/worker-mgt/workers/{_check_uuid(worker_id, 'worker')}/sleep-schedule"
        self._request("POST", path, body=schedule.to_json(), expect=(204,))

    def set_worker_status(self, worker_id: str, status: str, *, lazy: bool = False) -> None:
        """POST /api/v3/worker-mgt/workers/{worker_id}/setstatus → 204: ask the Worker to go
        to `status` ("awake", "asleep", "offline", "restart"); `lazy` waits for its current
        task to finish. An asleep Worker notices within seconds, an idle awake one at its next
        request for work. A sleep schedule overrules it at its next start or end time (or midnight)."""
        if status not in set(models.WorkerStatus):
            raise ValueError(f"{status!r} is not a worker status")
        path = f"{API}/worker-mgt/workers/{_check_uuid(worker_id, 'worker')}/setstatus"
        self._request("POST", path, body={"status": str(status), "is_lazy": bool(lazy)}, expect=(204,))

    # -- submission -----------------------------------------------------------

    def check_job(self, job: models.SubmittedJob) -> None:
        """POST /api/v3/jobs/check → 204: compiles the job without storing it."""
        self._request("POST", f"{API}/jobs/check", body=job.to_json(), expect=(204,))

    def submit_job(self, job: models.SubmittedJob) -> models.Job:
        """POST /api/v3/jobs → 200 Job. Never retried: on ManagerTimeout the
        job may exist anyway (look it up by metadata before resubmitting)."""
        path = f"{API}/jobs"
        response = self._request("POST", path, body=job.to_json())
        return self._parse(f"POST {path}", models.Job.from_json, self._decode(response, f"POST {path}"))

    # -- monitoring -------------------------------------------------------------

    def jobs(self) -> list[models.Job]:
        """GET /api/v3/jobs (Manager ≥ 3.6): every job, heavy on big farms."""
        self.features().require("jobs_list")
        path = f"{API}/jobs"
        return self._get_list(path, "jobs", models.Job.from_json, limit=MAX_JOB_LIST_BYTES)

    def job_rows(self, on_bytes: Callable[[int], None] | None = None) -> list[JobRow]:
        """GET /api/v3/jobs as compact rows, parsed while the body streams in, so that a
        20,000-job list never holds Python's lock for long (see api/joblist.py). Use this
        for job lists; `jobs()` gives whole `Job` objects (settings, metadata)."""
        self.features().require("jobs_list")
        path = f"{API}/jobs"
        response = self._request("GET", path, stream=True)
        parser = JobListParser()
        rows: list[JobRow] = []
        received = 0
        with self._reading(response):
            for chunk in response.iter_content(64 * 1024):
                received += len(chunk)
                if received > MAX_JOB_LIST_BYTES:
                    raise InvalidResponse(f"the job list is more than the {_megabytes(MAX_JOB_LIST_BYTES)} "
                                          "this add-on accepts", f"GET {path}")
                if on_bytes is not None:
                    on_bytes(len(chunk))
                rows += parser.feed(chunk)
                if self._cancelled():
                    raise ResponseLost(self.base_url)
            rows += parser.close()
        return rows

    @contextlib.contextmanager
    def _reading(self, response: requests.Response) -> Iterator[None]:
        """Reading a streamed body: a break or a stall on the way is this client's error, and
        the connection is released whatever happens."""
        try:
            yield
        except requests.exceptions.ConnectionError as exc:  # read timeouts are wrapped in this
            if any(isinstance(arg, ReadTimeoutError) for arg in exc.args):
                raise ManagerTimeout(self.base_url, "read", self.read_timeout) from exc
            raise ResponseLost(self.base_url) from exc
        except (requests.exceptions.ChunkedEncodingError, ProtocolError) as exc:
            raise ResponseLost(self.base_url) from exc
        finally:
            response.close()

    def find_jobs_by_metadata(self, key: str, value: str) -> list[models.Job]:
        """Jobs whose metadata[key] == value (filtered here; the Manager can't)."""
        return [job for job in self.jobs() if job.metadata.get(key) == value]

    def job(self, job_id: str) -> models.Job:
        """GET /api/v3/jobs/{job_id}."""
        path = f"{API}/jobs/{_check_uuid(job_id, 'job')}"
        return self._get_one(path, models.Job.from_json)

    def job_tasks(self, job_id: str) -> list[models.TaskSummary]:
        """GET /api/v3/jobs/{job_id}/tasks, sorted by index_in_job (the Manager
        doesn't sort). An unknown job gives an empty list, not 404."""
        path = f"{API}/jobs/{_check_uuid(job_id, 'job')}/tasks"
        tasks = self._get_list(path, "tasks", models.TaskSummary.from_json)
        return sorted(tasks, key=lambda task: task.index_in_job)

    def task(self, task_id: str) -> models.Task:
        """GET /api/v3/tasks/{task_id}."""
        path = f"{API}/tasks/{_check_uuid(task_id, 'task')}"
        return self._get_one(path, models.Task.from_json)

    def task_logtail(self, task_id: str) -> str | None:
        """GET /api/v3/tasks/{task_id}/logtail: last ≤ 2 KiB, None without log."""
        path = f"{API}/tasks/{_check_uuid(task_id, 'task')}/logtail"
        response = self._request("GET", path, expect=(200, 204), accept="text/plain", stream=True)
        if response.status_code == 204:
            response.close()
            return None
        # Only the end matters (a hostile Manager may send megabytes): keep the last bytes.
        tail = b""
        with self._reading(response):
            for chunk in response.iter_content(16 * 1024):
                tail = (tail + chunk)[-MAX_LOGTAIL_BYTES:]
        return tail.decode(response.encoding or "utf-8", errors="replace")

    def task_log_head(self, task_id: str, limit: int = 64 * 1024) -> str | None:
        """The first `limit` bytes of a task's whole log, None without log: GET
        /api/v3/tasks/{task_id}/log for where the Manager keeps it, then that file. The tail
        says why a task failed; the head says how it started (device, Blender version)."""
        path = f"{API}/tasks/{_check_uuid(task_id, 'task')}/log"
        status, data = self._get_json(path, expect=(200, 204))
        if status == 204:
            return None
        url = data.get("url") if isinstance(data, dict) else None
        if not isinstance(url, str) or not url.startswith("/") or url.startswith("//"):
            raise InvalidResponse("the task log's url is not a path on the Manager", f"GET {path}")
        response = self._request("GET", url, expect=(200, 206), accept="text/plain", stream=True,
                                 headers={"Range": f"bytes=0-{limit - 1}"})
        head = b""
        with self._reading(response):
            for chunk in response.iter_content(16 * 1024):  # bounded whatever the server sends
                head += chunk
                if len(head) >= limit:
                    break
        return head[:limit].decode("utf-8", errors="replace")

    def job_last_rendered(self, job_id: str) -> models.LastRendered | None:
        """GET /api/v3/jobs/{job_id}/last-rendered; None until an image exists."""
        path = f"{API}/jobs/{_check_uuid(job_id, 'job')}/last-rendered"
        status, data = self._get_json(path, expect=(200, 204))
        if status == 204:
            return None
        return self._parse(f"GET {path}", models.LastRendered.from_json, data)

    def fetch_bytes(self, url_path: str, limit: int = MAX_IMAGE_BYTES) -> bytes:
        """GET a Manager-relative path such as /job-files/…/last-rendered.jpg, at most `limit`
        bytes (InvalidResponse beyond).

        A cache-buster is added because the Manager overwrites these files in place.
        """
        if not isinstance(url_path, str) or not url_path.startswith("/") or url_path.startswith("//"):
            raise ValueError(f"{url_path!r} is not a path on the Manager")
        params = {"t": str(int(time.time() * 1000))}
        response = self._request("GET", url_path, params=params, accept="*/*", stream=True)
        return self._read_bounded(response, f"GET {url_path}", limit)

    # -- control ------------------------------------------------------------------

    def set_job_status(self, job_id: str, status: str, reason: str) -> None:
        """POST /api/v3/jobs/{job_id}/setstatus → 204. Prefer cancel-requested,
        pause-requested, requeueing (and queued for jobs submitted paused)."""
        if status not in set(models.JobStatus):
            raise ValueError(f"{status!r} is not a job status")
        path = f"{API}/jobs/{_check_uuid(job_id, 'job')}/setstatus"
        self._request("POST", path, body={"status": str(status), "reason": str(reason)}, expect=(204,))

    def set_job_priority(self, job_id: str, priority: int) -> None:
        """POST /api/v3/jobs/{job_id}/setpriority → 204 (0..100)."""
        if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 100:
            raise ValueError(f"priority must be a whole number from 0 to 100, not {priority!r}")
        path = f"{API}/jobs/{_check_uuid(job_id, 'job')}/setpriority"
        self._request("POST", path, body={"priority": priority}, expect=(204,))

    def set_job_tag(self, job_id: str, tag_id: str | None = None, tag_name: str | None = None) -> None:
        """POST /api/v3/jobs/{job_id}/settag → 204 (Manager ≥ 3.8); no tag clears it."""
        if tag_id is not None and tag_name is not None:
            raise ValueError("give either a tag ID or a tag name, not both")
        body: dict[str, str] = {}
        if tag_id is not None:
            body["id"] = _check_uuid(tag_id, "worker tag")
        elif tag_name is not None:
            body["name"] = tag_name
        path = f"{API}/jobs/{_check_uuid(job_id, 'job')}/settag"
        self.features().require("settag")
        self._request("POST", path, body=body, expect=(204,))

    def delete_job(self, job_id: str) -> None:
        """DELETE /api/v3/jobs/{job_id} → 204; the Manager deletes in the
        background and doesn't cancel first. Retried on 503 (busy database)."""
        self._request("DELETE", f"{API}/jobs/{_check_uuid(job_id, 'job')}", expect=(204,))

    def what_would_delete_do(self, job_id: str) -> bool:
        """GET /api/v3/jobs/{job_id}/what-would-delete-do: True if deleting
        also removes the job's Shaman checkout."""
        path = f"{API}/jobs/{_check_uuid(job_id, 'job')}/what-would-delete-do"
        _, data = self._get_json(path)
        if not isinstance(data, dict) or not isinstance(data.get("shaman_checkout"), bool):
            raise InvalidResponse("the field 'shaman_checkout' is missing or not true/false", f"GET {path}")
        return bool(data["shaman_checkout"])

    def job_blocklist(self, job_id: str) -> list[models.BlocklistEntry]:
        """GET /api/v3/jobs/{job_id}/blocklist: the (Worker, task type) pairs the Manager keeps
        off this job. The body is a bare JSON list."""
        path = f"{API}/jobs/{_check_uuid(job_id, 'job')}/blocklist"
        _, data = self._get_json(path)
        if not isinstance(data, list):
            raise InvalidResponse("the body is not a JSON list", f"GET {path}")
        return [self._parse(f"GET {path}", models.BlocklistEntry.from_json, item) for item in data]

    def remove_from_job_blocklist(self, job_id: str, entries: Sequence[models.BlocklistEntry]) -> None:
        """DELETE /api/v3/jobs/{job_id}/blocklist → 204: let these Workers take these task
        types of the job again. Tasks they failed keep them on their failed-by list until
        requeued (set_task_status(…, "queued") clears it)."""
        if not entries:
            raise ValueError("no blocklist entries given")
        body = [
            {"worker_id": _check_uuid(entry.worker_id, "worker"), "task_type": str(entry.task_type)}
            for entry in entries
        ]
        path = f"{API}/jobs/{_check_uuid(job_id, 'job')}/blocklist"
        self._request("DELETE", path, body=body, expect=(204,))

    def set_task_status(self, task_id: str, status: str, reason: str) -> None:
        """POST /api/v3/tasks/{task_id}/setstatus → 204."""
        if status not in set(models.TaskStatus):
            raise ValueError(f"{status!r} is not a task status")
        path = f"{API}/tasks/{_check_uuid(task_id, 'task')}/setstatus"
        self._request("POST", path, body={"status": str(status), "reason": str(reason)}, expect=(204,))

    # -- Shaman file store (Manager with shaman.enabled; 503 otherwise) ------------------------

    def shaman_requirements(self, files: Sequence[models.ShamanFileSpec]) -> list[models.ShamanFileSpec]:
        """POST /api/v3/shaman/checkout/requirements → the files the Manager still needs,
        each with status "unknown" (upload it) or "uploading" (someone else is). Files it
        already stores are left out, so an empty list means nothing needs sending."""
        path = f"{API}/shaman/checkout/requirements"
        response = self._request("POST", path, body={"files": [f.to_json() for f in files]})
        data = self._decode(response, f"POST {path}")
        items = self._list(f"POST {path}", data, "files")
        return [self._parse(f"POST {path}", models.ShamanFileSpec.from_json, item) for item in items]

    def shaman_file_status(self, sha: str, size: int) -> str:
        """GET /api/v3/shaman/files/{checksum}/{filesize} → "unknown", "uploading" or "stored"."""
        return self._get_status(_shaman_file_path(sha, size))

    def shaman_upload(
        self, sha: str, size: int, body: Readable, *, can_defer: bool = False, original_filename: str = ""
    ) -> models.ShamanUpload:
        """POST /api/v3/shaman/files/{checksum}/{filesize}, streaming `body` (exactly `size`
        bytes; read in blocks, never whole into memory). Not retried here: the caller holds
        the stream. 417 (the bytes do not match checksum and size) raises ManagerHTTPError.

        The Manager may close the connection mid-upload when someone else finished the same
        file, or answer 208 before reading our body; a broken connection is therefore
        answered by asking for the file's status: stored means ALREADY_KNOWN."""
        path = _shaman_file_path(sha, size)
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Length": str(size),
            "X-Shaman-Can-Defer-Upload": "true" if can_defer else "false",
        }
        if original_filename:
            headers["X-Shaman-Original-Filename"] = original_filename_header(original_filename)
        try:
            response = self._attempt("POST", self.base_url + path, body, None, "application/json", headers)
        except (ManagerTimeout, ManagerUnreachable) as broken:
            try:
                if self.shaman_file_status(sha, size) == models.ShamanFileStatus.STORED:
                    return models.ShamanUpload.ALREADY_KNOWN
            except FlamencoError:
                pass
            raise broken
        if response.status_code == 204 or response.status_code == 200:
            return models.ShamanUpload.STORED
        if response.status_code == 208:
            return models.ShamanUpload.ALREADY_KNOWN
        if response.status_code == 425:
            return models.ShamanUpload.DEFERRED
        if response.status_code < 400:
            raise InvalidResponse(f"unexpected HTTP status {response.status_code}", f"POST {path}")
        error = ManagerHTTPError.from_response(response.status_code, response.text, response.reason or "")
        error.retry_after = _retry_after(response)
        raise error

    def shaman_checkout(self, files: Sequence[models.ShamanFileSpec], checkout_path: str) -> str:
        """POST /api/v3/shaman/checkout/create → the checkout path the Manager used, relative
        to its job storage. It may differ from `checkout_path` (a suffix when that exists):
        always use the returned one. Every file must be stored first (3.8.5 answers a missing
        file with 500, not the 424 its spec documents)."""
        if (not checkout_path or checkout_path.startswith("/") or re.search(r"[?*:;{}\\]", checkout_path)
                or ".." in checkout_path.split("/")):
            raise ValueError(f"{checkout_path!r} is not a valid Shaman checkout path")
        path = f"{API}/shaman/checkout/create"
        body = {"files": [f.to_json() for f in files], "checkoutPath": checkout_path}
        response = self._request("POST", path, body=body)
        data = self._decode(response, f"POST {path}")
        if not isinstance(data, dict) or not isinstance(data.get("checkoutPath"), str) or not data["checkoutPath"]:
            raise InvalidResponse("the field 'checkoutPath' is missing", f"POST {path}")
        return str(data["checkoutPath"])


__all__ = ["ManagerClient", "normalise_base_url", "original_filename_header", "FlamencoError"]
