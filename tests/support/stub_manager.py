"""A loopback imitation of a Flamenco Manager, for tests without Go.

Behaviour follows /work/shared/flamenco/api-notes.md (the real Manager), not
just the spec: both error shapes, 200 on submit, 412 etag check, unordered
task lists, 0/0 steps for new jobs, 204s for "no log"/"no image yet", etc.
Every request and response is checked against the OpenAPI contract; see
``contract_violations``.

    with StubManager(tmp_path) as stub:
        client = ManagerClient(stub.url)

or as a pytest fixture: ``stub = pytest.fixture(stub_manager_fixture)``.

The stub is split by concern. This module puts it together (``StubManager``:
server lifecycle, inspection, and the per-request pipeline of logging, faults
and contract checks), holds the pytest fixture, and re-exports every name
tests and tools import from it:

    stub_records     records, replies, timestamps
    stub_state       in-memory state and configuration (``StubState``)
    stub_faults      fault injection (hold, delay, respond, drop)
    stub_http        the HTTP server and request handler
    stub_views       JSON views, lookups, job files, deletion
    stub_submission  frame syntax, chunking, task authoring, job submission
    stub_routes      routing and the other endpoints
    stub_simulation  status machine and pretend-worker progress
    stub_network     Blackhole and free_port
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import openapi_contract
from .stub_faults import Fault, FaultInjection, _Dropped
from .stub_http import _Handler, _Server
from .stub_network import Blackhole, free_port
from .stub_records import (
    NO_WORKER,
    UUID_RE,
    JobRecord,
    JSONDict,
    LoggedRequest,
    Reply,
    TaskRecord,
    now,
    parse_version,
    rfc3339,
)
from .stub_routes import StubRoutes
from .stub_simulation import FAKE_JPEG, FAKE_WORKER, RUNNABLE_TASK
from .stub_submission import CompileError, chunk_frames, chunk_name, parse_frames

__all__ = [
    "FAKE_JPEG",
    "FAKE_WORKER",
    "NO_WORKER",
    "RUNNABLE_TASK",
    "UUID_RE",
    "Blackhole",
    "CompileError",
    "Fault",
    "JSONDict",
    "JobRecord",
    "LoggedRequest",
    "Reply",
    "StubManager",
    "TaskRecord",
    "chunk_frames",
    "chunk_name",
    "free_port",
    "now",
    "parse_frames",
    "parse_version",
    "rfc3339",
    "stub_manager_fixture",
]


class StubManager(StubRoutes, FaultInjection):
    """In-memory Flamenco Manager on 127.0.0.1 (see module docstring)."""

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
