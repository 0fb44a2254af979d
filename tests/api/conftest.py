"""Fixtures for the bpy-free API tests: a client talking to the real Manager through the
fault proxy (tests/support/farm_fixtures.py), and complete jobs to submit."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from api import ManagerClient, SubmittedJob
from support import SleepRecorder
from support.fault_proxy import FaultProxy
from local_farm import Farm


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def client(proxy: FaultProxy, sleeps: SleepRecorder) -> Iterator[ManagerClient]:
    with ManagerClient(proxy.url, sleep=sleeps, connect_timeout=2.0, read_timeout=10.0) as manager:
        yield manager


def settings_for(farm: Farm, job_type: str) -> dict[str, object]:
    """Complete, correctly typed settings for the built-in job types (the Manager applies
    no defaults: every key is sent)."""
    if job_type == "echo-sleep-test":
        return {"message": "hi", "sleep_duration_seconds": 1, "sleep_repeats": 2}
    if job_type == "simple-blender-render":
        out = farm.shared / "render" / "api-tests"
        return {
            "frames": "1-10",
            "chunk_size": 3,
            "render_output_root": str(out),
            "add_path_components": 0,
            "render_output_path": str(out / "job" / "{timestamp}" / "######"),
            "blendfile": str(farm.shared / "nothing-here.blend"),
            "fps": 24,
            "format": "PNG",
            "image_file_extension": ".png",
            "has_previews": False,
            "scene": "Scene",
        }
    raise KeyError(job_type)


@pytest.fixture
def etags(farm: Farm) -> dict[str, str]:
    return {jt["name"]: jt["etag"] for jt in farm.get_json("/api/v3/jobs/types")["job_types"]}


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
