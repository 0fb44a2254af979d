"""The stub Manager's in-memory state and configuration (job types, version gates).

``StubState`` owns every attribute; the other ``stub_*`` modules add behaviour
to it as mixins, and ``stub_manager.StubManager`` puts them together.
"""

from __future__ import annotations

import hashlib
import json
import socket
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from .jobtypes import fresh
from .stub_records import JSONDict, JobRecord, LoggedRequest, TaskRecord, parse_version

if TYPE_CHECKING:
    from .stub_faults import Fault
    from .stub_http import _Server


class StubState:
    """Records, settings and server bookkeeping of one stub Manager."""

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
