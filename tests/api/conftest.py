"""Fixtures for the bpy-free API tests: a StubManager and clients for it."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from api import ManagerClient  # noqa: E402
from api import SubmittedJob  # noqa: E402
from tests.support import SleepRecorder  # noqa: E402
from tests.support.stub_manager import StubManager, stub_manager_fixture  # noqa: E402

# The fixture checks at teardown that all stub traffic matched the contract.
stub = pytest.fixture(name="stub")(stub_manager_fixture)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def client(stub: StubManager, sleeps: SleepRecorder) -> Iterator[ManagerClient]:
    with ManagerClient(stub.url, sleep=sleeps, connect_timeout=2.0, read_timeout=5.0) as manager:
        yield manager


SETTINGS = {
    "simple-blender-render": {
        "frames": "1-10",
        "chunk_size": 3,
        "render_output_root": "/render/shot",
        "add_path_components": 0,
        "render_output_path": "/render/shot/job/{timestamp}/######",
        "blendfile": "/render/shot/shot.blend",
        "fps": 24.0,
        "format": "PNG",
        "image_file_extension": ".png",
        "has_previews": False,
        "scene": "Scene",
    },
    "echo-sleep-test": {"message": "hi", "sleep_duration_seconds": 1, "sleep_repeats": 2},
}


@pytest.fixture
def make_job(stub: StubManager) -> Callable[..., SubmittedJob]:
    """SubmittedJob factory with complete, correctly typed settings."""

    def _make(job_type: str = "simple-blender-render", **fields: object) -> SubmittedJob:
        values: dict[str, object] = {
            "name": "shot-010",
            "type": job_type,
            "priority": 50,
            "submitter_platform": "linux",
            "type_etag": stub.etag_of(job_type) if job_type in SETTINGS else None,
            "settings": dict(SETTINGS.get(job_type, {})),
            "metadata": {"desk.submission": "test"},
        }
        values.update(fields)
        return SubmittedJob(**values)  # type: ignore[arg-type]

    return _make
