"""Exceptions raised by the Manager client.

Every ``str()`` is one sentence an artist can read in a Blender report, so
callers can show ``str(exc)`` without further formatting.
"""

from __future__ import annotations

import json
import re

# Long bodies (HTML error pages from proxies, stack traces) would flood the UI.
_MAX_MESSAGE_CHARS = 300


# Terminal escapes and control characters in the Manager's words: printed in `blender -b`
# output they would act on the terminal (or start a line of their own).
_ESCAPES = re.compile(r"\x1b\[[0-9;?<=>!]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?|[\x00-\x1f\x7f-\x9f]")


def _one_line(text: str, limit: int = _MAX_MESSAGE_CHARS) -> str:
    flat = " ".join(_ESCAPES.sub(" ", text[: 4 * limit + 64]).split())
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return flat


def _html_gist(body: str) -> str:
    """An HTML error page (a reverse proxy's 502, a captive portal) in a few words: its title or
    first heading, not the markup the artist would otherwise read. Empty if not HTML."""
    if not re.match(r"\s*<(!doctype\s+html|html|head|body|h1|title)\b", body, re.IGNORECASE):
        return ""
    found = re.search(r"<(title|h1)[^>]*>(.*?)</\1>", body, re.IGNORECASE | re.DOTALL)
    gist = _one_line(re.sub(r"<[^>]+>", " ", found.group(2) if found else body), 120)
    return f"{gist or 'an error page'} (an HTML page, not the Manager's answer: from a proxy in between?)"


def _sentence(text: str) -> str:
    text = text.rstrip()
    return text if text.endswith((".", "!", "?", "…")) else text + "."


class FlamencoError(Exception):
    """Base class of every error this package raises on purpose."""


class ManagerUnreachable(FlamencoError):
    """No connection could be made (refused, unknown host, reset)."""

    def __init__(self, url: str, reason: str = "") -> None:
        self.url = url
        self.reason = reason
        text = f"Cannot reach the Flamenco Manager at {url}"
        if reason:
            text += f": {_one_line(reason, 120)}"
        super().__init__(_sentence(text))


class ManagerTimeout(FlamencoError):
    """The Manager did not accept the connection (phase "connect") or did not
    answer in time (phase "read").

    For phase "read" the request was sent, so the Manager may have carried it
    out: callers of non-idempotent calls (job submission) must check.
    """

    def __init__(self, url: str, phase: str, seconds: float | None) -> None:
        if phase not in ("connect", "read"):
            raise ValueError(f"phase must be 'connect' or 'read', not {phase!r}")
        self.url = url
        self.phase = phase
        self.seconds = seconds
        super().__init__(self._describe())

    def _describe(self) -> str:
        secs = f" within {self.seconds:g} seconds" if self.seconds is not None else ""
        if self.phase == "connect":
            return f"The Flamenco Manager at {self.url} did not accept the connection{secs}."
        return (
            f"The Flamenco Manager at {self.url} did not answer{secs}; "
            "the request may or may not have been carried out."
        )


class ResponseLost(ManagerTimeout):
    """The Manager closed the connection after the request was sent, without
    answering. Same consequences as a read timeout, hence the subclass."""

    def __init__(self, url: str) -> None:
        super().__init__(url, "read", None)

    def _describe(self) -> str:
        return (
            f"The Flamenco Manager at {self.url} closed the connection without answering; "
            "the request may or may not have been carried out."
        )


class ManagerHTTPError(FlamencoError):
    """The Manager answered with a 4xx/5xx status."""

    def __init__(self, status: int, message: str, code: int | None, body: str) -> None:
        self.status = status
        self.message = message
        self.code = code
        self.body = body
        # Seconds the Manager asked us to wait (Retry-After), for callers that schedule
        # their own retries (the monitor polls without the client's inline retries).
        self.retry_after: float | None = None
        super().__init__(self._describe())

    def _describe(self) -> str:
        if self.status >= 500:
            lead = f"The Flamenco Manager had a problem (HTTP {self.status})"
        else:
            lead = f"The Flamenco Manager refused the request (HTTP {self.status})"
        return _sentence(f"{lead}: {self.message}" if self.message else lead)

    @staticmethod
    def parse_body(body: str) -> tuple[str, int | None]:
        """Return (message, code) from either error shape, or the trimmed text.

        The Manager's request validator answers ``{"message"}`` while handlers
        answer ``{"code", "message"}``; proxies may answer HTML or plain text.
        """
        try:
            data = json.loads(body)
        except ValueError:
            return _html_gist(body) or _one_line(body), None
        if isinstance(data, dict) and isinstance(data.get("message"), str):
            code = data.get("code")
            valid_code = code if isinstance(code, int) and not isinstance(code, bool) else None
            return _one_line(data["message"]), valid_code
        return _one_line(body), None

    @classmethod
    def from_response(cls, status: int, body: str, reason: str = "") -> ManagerHTTPError:
        message, code = cls.parse_body(body)
        if not message:
            message = reason
        error_class: type[ManagerHTTPError] = _STATUS_CLASSES.get(status, ManagerHTTPError)
        return error_class(status, message, code, body)


class EtagMismatch(ManagerHTTPError):
    """412: the job type changed on the Manager since it was fetched."""

    def _describe(self) -> str:
        return (
            "The job type changed on the Flamenco Manager since it was loaded; "
            "refresh the job types and submit again."
        )


class NotFound(ManagerHTTPError):
    """404: unknown job, task, job type, or an endpoint this Manager lacks."""

    def _describe(self) -> str:
        detail = f": {self.message}" if self.message else ""
        return _sentence(f"The Flamenco Manager does not know this item (HTTP 404){detail}")


_STATUS_CLASSES: dict[int, type[ManagerHTTPError]] = {412: EtagMismatch, 404: NotFound}


class InvalidResponse(FlamencoError):
    """The Manager's answer is not what the API promises."""

    def __init__(self, problem: str, endpoint: str = "") -> None:
        self.problem = problem
        self.endpoint = endpoint
        where = f" to {endpoint}" if endpoint else ""
        super().__init__(
            _sentence(f"The Flamenco Manager sent an unexpected answer{where}: {_one_line(problem)}")
        )


class UnsupportedFeature(FlamencoError):
    """The Manager is too old for the requested operation."""

    def __init__(self, feature: str, required_version: str, manager_version: str = "") -> None:
        self.feature = feature
        self.required_version = required_version
        self.manager_version = manager_version
        which = f" (version {manager_version})" if manager_version else ""
        super().__init__(
            f"This Flamenco Manager{which} does not support {feature}; "
            f"it needs Flamenco {required_version} or newer."
        )
