"""Fault injection: held, delayed, canned and dropped answers, for faults a real Manager
cannot be made to produce on demand (a hung request, a 5xx, garbage, a lost response)."""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import time
from typing import Any, Callable, Optional


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
    # How it is written (a slow or broken link, not what the Manager said): at most this many
    # bytes per second (0: at once), and only the first cut_at bytes, then the connection ends.
    pace_bps: float = 0.0
    cut_at: Optional[int] = None


@dataclasses.dataclass
class Fault:
    kind: str  # hold | delay | respond | drop | slow | cut | call
    pattern: re.Pattern[str]
    method: str | None
    remaining: int | None  # None: until cleared
    seconds: float = 0.0
    reply: Reply | None = None
    released: threading.Event = dataclasses.field(default_factory=threading.Event)
    waiting: int = 0
    bytes_per_second: float = 0.0
    callback: Optional[Callable[[], None]] = None
    when: str = "before"  # call: before forwarding, or "after" the Manager acted (then no answer)

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and bool(self.pattern.search(path))


class _Dropped(Exception):
    """Close the connection without answering."""


class FaultInjection:
    """Public hold/delay/respond/drop controls; ``_take_faults`` is used per request."""

    def __init__(self) -> None:
        self._fault_lock = threading.Lock()
        self._faults: list[Fault] = []

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

    def slow(self, path_regex: str, first_byte_seconds: float = 2.0, bytes_per_second: float = 10_000,
             method: str | None = None, times: int | None = None) -> Fault:
        """A slow link: the Manager's answer starts after ``first_byte_seconds``, then trickles
        at ``bytes_per_second``."""
        return self._add_fault(Fault("slow", re.compile(path_regex), method, times, seconds=first_byte_seconds,
                                     bytes_per_second=bytes_per_second))

    def cut_body(self, path_regex: str, method: str | None = None, times: int | None = 1) -> Fault:
        """The Manager's answer with its full Content-Length, but only the first half of its
        body, then the connection ends (a proxy or link that died mid-answer)."""
        return self._add_fault(Fault("cut", re.compile(path_regex), method, times))

    def bad_gateway(self, path_regex: str, method: str | None = None, times: int | None = 1,
                    after: bool = False) -> Fault:
        """A 502 with an HTML page, as a reverse proxy (nginx) in front of a dead Manager answers;
        ``after``: once the Manager acted on the request (its answer lost on the way back)."""
        page = ("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n"
                "</body>\r\n</html>\r\n")
        if after:
            reply = Reply(502, page.encode(), "text/html")
            return self._add_fault(Fault("call", re.compile(path_regex), method, times, callback=lambda: None,
                                         when="after", reply=reply))
        return self.respond(path_regex, 502, page, times=times, method=method, content_type="text/html")

    def on_request(self, path_regex: str, callback: Callable[[], None], *, when: str = "before",
                   method: str | None = None, times: int | None = 1) -> Fault:
        """Call ``callback`` (in the proxy's thread) when a matching request arrives: "before"
        forwarding it, or "after" the Manager acted on it, and then the answer is lost (the
        callback froze or killed the Manager, which would not have answered)."""
        return self._add_fault(Fault("call", re.compile(path_regex), method, times, callback=callback, when=when))

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
