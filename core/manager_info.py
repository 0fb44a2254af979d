"""What the add-on knows about the Manager, and its on-disk cache.

The cache lets the UI show job types and storage immediately after Blender starts,
before the first (background) refresh has answered.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from ..api import models
from ..api.client import ManagerClient
from ..api.features import Features
from . import platform_paths

log = logging.getLogger(__name__)

CACHE_FORMAT = 1


def client_platform() -> str:
    """The platform name the Manager expects (Go's GOOS style); a test may set another
    (core/platform_paths.PLATFORM_ENV)."""
    return platform_paths.artist_platform()


@dataclass
class ManagerInfo:
    url: str
    version: models.ManagerVersion
    storage: models.SharedStorage
    job_types: dict[str, models.JobType]
    tags: list[models.WorkerTag]
    # Variables for this platform (users' side), to turn stored `{var}` paths back into ours.
    variables: dict[str, str] = field(default_factory=dict)
    fetched_at: float = field(default_factory=time.time)
    # Job types the Manager offers that cannot be read, one line each naming it (left out).
    job_type_problems: list[str] = field(default_factory=list)

    @property
    def features(self) -> Features:
        return Features.from_version(self.version)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": CACHE_FORMAT,
            "url": self.url,
            "fetched_at": self.fetched_at,
            "version": self.version.raw,
            "storage": {
                "location": self.storage.location,
                "audience": self.storage.audience,
                "platform": self.storage.platform,
                "shamanEnabled": self.storage.shaman_enabled,
            },
            "job_types": [jt.raw for jt in self.job_types.values()],
            "variables": self.variables,
            "tags": [
                {k: v for k, v in {"id": t.id, "name": t.name, "description": t.description}.items() if v is not None}
                for t in self.tags
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ManagerInfo":
        if data.get("format") != CACHE_FORMAT:
            raise ValueError("cache format changed")
        job_types = [models.JobType.from_json(raw) for raw in data["job_types"]]
        return cls(
            url=data["url"],
            version=models.ManagerVersion.from_json(data["version"]),
            storage=models.SharedStorage.from_json(data["storage"]),
            job_types={jt.name: jt for jt in job_types},
            tags=[models.WorkerTag.from_json(t) for t in data["tags"]],
            variables={str(k): str(v) for k, v in data.get("variables", {}).items()},
            fetched_at=float(data.get("fetched_at", 0.0)),
        )


def fetch(client: ManagerClient) -> ManagerInfo:
    """Ask the Manager everything the submission UI needs (background thread only)."""
    version = client.version()
    storage = client.shared_storage("users", client_platform())
    job_types, job_type_problems = client.job_types_and_problems()
    tags = client.worker_tags()
    variables = {name: var.value for name, var in client.variables("users", client_platform()).items()}
    return ManagerInfo(
        url=client.base_url,
        version=version,
        storage=storage,
        job_types={jt.name: jt for jt in job_types},
        tags=list(tags),
        variables=variables,
        job_type_problems=job_type_problems,
    )


def cache_path(directory: Path) -> Path:
    return directory / "manager-cache.json"


def save(info: ManagerInfo, directory: Path) -> None:
    """Write atomically, so a crash mid-write never leaves a corrupt cache behind."""
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".manager-cache-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(info.to_json(), f)
        os.replace(tmp, cache_path(directory))
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(directory: Path, url: str) -> Optional[ManagerInfo]:
    """The cached info for `url`, or None when absent, stale in format, or unreadable."""
    path = cache_path(directory)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        info = ManagerInfo.from_json(data)
    except FileNotFoundError:
        return None
    except Exception as ex:  # noqa: BLE001 - a bad cache is only a missed head start
        log.warning("ignoring unreadable Manager cache %s: %s", path, ex)
        return None
    if info.url != url:
        return None
    return info
