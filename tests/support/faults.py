"""Fault injection: held, delayed, canned and dropped answers, for faults a real Manager
cannot be made to produce on demand (a hung request, a 5xx, garbage, a lost response)."""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import time
from typing import Any


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
