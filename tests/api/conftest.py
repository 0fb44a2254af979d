"""Fixtures for the bpy-free API tests: a client talking to the real Manager through the
fault proxy (tests/support/farm_fixtures.py), complete jobs to submit, and jobs the real
Worker has taken to a given state.

The Manager is shared by the whole session: tests never assume an empty job list (they
filter by their own job IDs), and jobs a test left runnable are canceled after it, so the
one Worker is free for the next test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from api import ManagerClient, SubmittedJob
from local_farm import Farm
from support import SleepRecorder
from support.fault_proxy import FaultProxy
from support.farm_jobs import cancel_runnable, etags_of, render_settings, save_blendfile, settings_for, submit


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def client(proxy: FaultProxy, sleeps: SleepRecorder) -> Iterator[ManagerClient]:
    with ManagerClient(proxy.url, sleep=sleeps, connect_timeout=2.0, read_timeout=10.0) as manager:
        yield manager


@pytest.fixture
def etags(farm: Farm) -> dict[str, str]:
    return etags_of(farm)


@pytest.fixture
def make_job(farm: Farm, etags: dict[str, str]) -> Callable[..., SubmittedJob]:
    """SubmittedJob factory with complete, correctly typed settings. Jobs are submitted
    paused by default so the shared Worker does not spend the session running them."""

    def _make(job_type: str = "simple-blender-render", **fields: object) -> SubmittedJob:
        values: dict[str, object] = {
            "name": "shot-010",
            "type": job_type,
            "priority": 50,
            "submitter_platform": "linux",
            "type_etag": etags.get(job_type),
            "settings": settings_for(farm, job_type) if job_type in ("echo-sleep-test", "simple-blender-render") else {},
            "metadata": {"desk.submission": "test"},
            "initial_status": "paused",
        }
        values.update(fields)
        return SubmittedJob(**values)  # type: ignore[arg-type]

    return _make


@pytest.fixture(autouse=True)
def _worker_left_free(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test that used the farm, nothing it left behind keeps the Worker busy."""
    yield
    if "farm" in request.fixturenames:
        cancel_runnable(request.getfixturevalue("farm"))


@pytest.fixture(scope="session")
def blendfile(farm: Farm) -> Path:
    """A real .blend in shared storage (saved by bpy, the Python the Worker's blender uses)."""
    return save_blendfile(farm, farm.shared / "api-tests" / "shot.blend")


@pytest.fixture(scope="session")
def rendered_job(farm: Farm, blendfile: Path) -> dict[str, Any]:
    """A simple-blender-render job the real Worker completed: two frames in two tasks, so
    it has task logs, step counts and last-rendered images. Tests only read it."""
    cancel_runnable(farm)  # nothing left by earlier tests may keep the Worker from it
    job = submit(farm, "simple-blender-render", render_settings(farm, blendfile), priority=100)
    done: dict[str, Any] = farm.wait_for_job(job["id"])
    return done


@pytest.fixture(scope="session")
def worker_tags(farm: Farm) -> dict[str, str]:
    """Two worker tags on the Manager (it starts with none): name → ID."""
    existing = {t["name"]: t["id"] for t in farm.get_json("/api/v3/worker-mgt/tags")["tags"]}
    for name, description in (("GPU", "GPU renderers"), ("CPU", None)):
        if name not in existing:
            body = {"name": name, **({"description": description} if description else {})}
            existing[name] = farm.post_json("/api/v3/worker-mgt/tags", body)["id"]
    return existing
