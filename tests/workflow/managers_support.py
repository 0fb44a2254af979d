"""A second real farm for the several-Managers tests: its own Manager and Worker, of the other
tested release than the session's `farm` (3.6 beside 3.8.5, or the reverse), so features are
detected per Manager."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

import bpy
import pytest

import local_farm
from local_farm import Farm
from support.blender_helpers import save_shot, select_job_type, tick_until
from support.farm_fixtures import worker_blender


def other_release(release: str) -> str:
    return next(r for r in local_farm.TESTED_RELEASES if r != release)


@pytest.fixture(scope="module")
def second_farm(release: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Farm]:
    farm = Farm(tmp_path_factory.mktemp("second-farm"), other_release(release), worker_blender=worker_blender(),
                name="Flamenco Desk Second Farm")
    farm.start()
    try:
        yield farm
    finally:
        farm.stop()


def submit_echo(desk: ModuleType, blend: Path, name: str, sleeps: int = 6, seconds: int = 2) -> str:
    """An echo-sleep-test job to the active Manager (the Worker runs it for real)."""
    save_shot(blend)
    grp = select_job_type(desk, "echo-sleep-test")
    grp.message, grp.sleep_duration_seconds, grp.sleep_repeats = "two managers", seconds, sleeps
    sp = desk.props.scene_props(bpy.context.scene)
    sp.job_name, sp.submit_paused = name, False
    desk.submitting.last_outcome = None
    assert bpy.ops.flamenco_desk.submit_job(mode="ASYNC") == {"FINISHED"}
    tick_until(desk, lambda: desk.submitting.last_outcome is not None, timeout=30)
    assert desk.submitting.last_outcome.ok, desk.submitting.last_outcome.message
    return str(desk.submitting.last_outcome.job_id)


def status_on(farm: Farm, job_id: str) -> Any:
    return farm.job(job_id)["status"]
