"""Validate HTTP traffic against the Flamenco OpenAPI spec (openapi-core 0.23).

The spec is the document the real Manager serves itself (`GET /api/v3/openapi3.json`), each
release its own, kept beside that release's binaries by tools/install_flamenco.sh
(`local_farm.served_spec_path`). Nothing of it is copied into the repository.

The real Manager deviates from its spec in a few documented places; those, and only those,
are tolerated by ``KNOWN_DEVIATIONS`` below. Everything else is reported as a readable list
of problems.
"""

from __future__ import annotations

import functools
import json
import sys
import threading
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable

from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import PathNotFound
from openapi_core.templating.responses.exceptions import ResponseNotFound
from werkzeug.datastructures import Headers, ImmutableMultiDict

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT / "tools") not in sys.path:
    sys.path.insert(0, str(REPO_ROOT / "tools"))
import local_farm  # noqa: E402

# Only /api/v3 is described by the spec; /job-files/ etc. are static files.
API_PREFIX = "/api/v3/"


class ContractViolation(AssertionError):
    """Raised by validate_request/validate_response; ``problems`` lists each finding."""

    def __init__(self, what: str, problems: list[str]) -> None:
        self.what = what
        self.problems = problems
        super().__init__(f"{what}: " + "; ".join(problems))


def spec_path(release: str = local_farm.DEFAULT_RELEASE) -> Path:
    """The API document `release`'s Manager serves; a clear error when it is not installed."""
    path = local_farm.served_spec_path(release)
    if not path.is_file():
        local_farm.require_release(release)  # names FLAMENCO_SRC when the release is missing
        raise local_farm.FlamencoMissing(
            f"{path} is missing: run bash tools/install_flamenco.sh {release} (it records the document)"
        )
    return path


@functools.lru_cache(maxsize=None)
def _load(path: str) -> tuple[OpenAPI, dict[str, Any]]:
    with open(path, encoding="utf-8") as stream:
        spec = json.load(stream)
    return OpenAPI.from_dict(spec), spec


def openapi(release: str = local_farm.DEFAULT_RELEASE) -> OpenAPI:
    return _load(str(spec_path(release)))[0]


def document(release: str = local_farm.DEFAULT_RELEASE) -> dict[str, Any]:
    """The served document as plain data (for tests that read it)."""
    return _load(str(spec_path(release)))[1]


# openapi-core keeps per-call state in shared unmarshallers; the fault proxy calls in
# from many handler threads.
_LOCK = threading.Lock()


class _Request:
    """The openapi-core Request protocol over plain values."""

    def __init__(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> None:
        parts = urllib.parse.urlsplit(url)
        self.host_url = f"{parts.scheme or 'http'}://{parts.netloc or 'localhost'}"
        self.path = parts.path
        self.method = method.lower()
        self.body = body if body else None
        header = Headers(list(headers.items()))
        self.content_type = (header.get("Content-Type") or "").lower()
        self.parameters = RequestParameters(
            path={},
            query=ImmutableMultiDict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True)),
            header=header,
            cookie=ImmutableMultiDict(),
        )


class _Response:
    def __init__(self, status: int, headers: Mapping[str, str], body: bytes | None) -> None:
        self.status_code = status
        self.headers = Headers(list(headers.items()))
        self.data = body or b""
        self.content_type = (self.headers.get("Content-Type") or "").lower()


def _schema_problems(exc: BaseException) -> list[tuple[str, str]]:
    """(json-path, message) pairs from an openapi-core exception chain."""
    found: list[tuple[str, str]] = []
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        for error in getattr(item, "schema_errors", ()) or ():
            where = "/" + "/".join(str(p) for p in error.absolute_path)
            found.append((where, error.message))
        todo.extend([item.__cause__, item.__context__])
    if not found:
        found.append(("", " ".join(str(exc).split())))
    return found


# --- Known deviations of the real Manager from the spec (api-notes §0, §7) ---
# Each rule gets (method, path, status, body) and one (where, message) problem
# and says whether it is the documented real behaviour.

Rule = Callable[[str, str, int, Any, str, str], bool]


def _variables_without_name(method: str, path: str, status: int, body: Any, where: str, msg: str) -> bool:
    # ManagerVariable lists "name" as required; the Manager never sends it.
    return path.startswith("/api/v3/configuration/variables/") and msg == "'name' is a required property"


def _task_summary_requires_jobs(method: str, path: str, status: int, body: Any, where: str, msg: str) -> bool:
    # JobTasksSummary says required: [jobs] but has (and sends) only "tasks".
    return path.endswith("/tasks") and where == "/" and msg == "'jobs' is a required property"


def _unassigned_worker_empty_id(method: str, path: str, status: int, body: Any, where: str, msg: str) -> bool:
    # A task that was never assigned has worker {"id": "", "name": "", "address": ""};
    # the spec's `format: uuid` does not allow the empty id (3.8; 3.6 sends no worker).
    return where.endswith("/worker/id") and msg == "'' is not a 'uuid'"


def _validator_error_shape(method: str, path: str, status: int, body: Any, where: str, msg: str) -> bool:
    # The request validator (400) and Echo's router (404/405) answer
    # {"message"} without "code"; handler errors always carry "code".
    return (
        status in (400, 404, 405)
        and where == "/"
        and msg == "'code' is a required property"
        and isinstance(body, dict)
        and set(body) == {"message"}
    )


KNOWN_DEVIATIONS: tuple[Rule, ...] = (
    _variables_without_name,
    _task_summary_requires_jobs,
    _unassigned_worker_empty_id,
    _validator_error_shape,
)


def _error_body_problems(status: int, body: Any) -> list[str]:
    """Checks for statuses the spec doesn't list (404 on GET /jobs/{id},
    406 on settag, 400 on bad UUIDs…): the body must still be an Error."""
    if not isinstance(body, dict) or not isinstance(body.get("message"), str):
        return [f"HTTP {status} body is not an error object with a 'message'"]
    if set(body) == {"message"} and status in (400, 404, 405):
        return []
    code = body.get("code")
    if not isinstance(code, int) or isinstance(code, bool):
        return [f"HTTP {status} error body lacks an integer 'code'"]
    return []


def request_problems(
    method: str,
    url: str,
    headers: Mapping[str, str] | None = None,
    body: bytes | str | None = None,
    *,
    release: str = local_farm.DEFAULT_RELEASE,
) -> list[str]:
    """Problems with this request, [] if it matches the spec (or isn't /api/v3)."""
    path = urllib.parse.urlsplit(url).path
    if not path.startswith(API_PREFIX):
        return []
    raw = body.encode() if isinstance(body, str) else body
    request = _Request(method, url, headers or {}, raw)
    with _LOCK:
        try:
            openapi(release).validate_request(request)
        except PathNotFound:
            return [f"{method.upper()} {path} is not in the API spec"]
        except Exception as exc:  # openapi-core raises a zoo of types
            return [f"{where}: {msg}" if where not in ("", "/") else msg for where, msg in _schema_problems(exc)]
    return []


def response_problems(
    method: str,
    url: str,
    status: int,
    headers: Mapping[str, str] | None = None,
    body: bytes | str | None = None,
    *,
    release: str = local_farm.DEFAULT_RELEASE,
) -> list[str]:
    """Problems with this response, minus KNOWN_DEVIATIONS."""
    path = urllib.parse.urlsplit(url).path
    if not path.startswith(API_PREFIX):
        return []
    raw = body.encode() if isinstance(body, str) else (body or b"")
    request = _Request(method, url, {}, None)
    response = _Response(status, headers or {}, raw)
    try:
        parsed: Any = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    with _LOCK:
        try:
            openapi(release).validate_response(request, response)
        except PathNotFound:
            return [f"{method.upper()} {path} is not in the API spec"]
        except ResponseNotFound:
            if status >= 400:
                return _error_body_problems(status, parsed)
            return [f"HTTP {status} is not a documented response of {method.upper()} {path}"]
        except Exception as exc:
            problems = []
            for where, msg in _schema_problems(exc):
                if any(rule(method.upper(), path, status, parsed, where, msg) for rule in KNOWN_DEVIATIONS):
                    continue
                problems.append(f"{where}: {msg}" if where not in ("", "/") else msg)
            return problems
    return []


def validate_request(
    method: str,
    url: str,
    headers: Mapping[str, str] | None = None,
    body: bytes | str | None = None,
    *,
    release: str = local_farm.DEFAULT_RELEASE,
) -> None:
    problems = request_problems(method, url, headers, body, release=release)
    if problems:
        raise ContractViolation(f"request {method.upper()} {urllib.parse.urlsplit(url).path}", problems)


def validate_response(
    method: str,
    url: str,
    status: int,
    headers: Mapping[str, str] | None = None,
    body: bytes | str | None = None,
    *,
    release: str = local_farm.DEFAULT_RELEASE,
) -> None:
    problems = response_problems(method, url, status, headers, body, release=release)
    if problems:
        raise ContractViolation(
            f"response {status} to {method.upper()} {urllib.parse.urlsplit(url).path}", problems
        )
