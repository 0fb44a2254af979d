"""Hostile artist input, submitted with the add-on in real Blender to the real Manager and
Worker: job names with `../`, `/`, `\\`, NUL, 300 characters and emoji; frame ranges
`1-10000000`, `-5--1`, `5-1`, `1,,3`; an output root outside shared storage; a .blend path
with spaces and non-ASCII characters. Every case ends with a clear message (nothing on the
Manager) or a correct job; a snapshot of the farm's folders before and after shows that no file
was written outside the job's own folders (its pack and its render output)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import bpy
import pytest

from local_farm import Farm, wait_until
from support.blender_helpers import save_shot, select_job_type, tick_until
from support.fault_proxy import FaultProxy


def tree(*roots: Path) -> set[Path]:
    """Every file and folder under the roots, except the Manager's and Worker's own."""
    found: set[Path] = set()
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if not (Path(folder) == root and d in ("manager", "worker"))]
            found.update(Path(folder) / name for name in dirs + files)
    return found


@pytest.fixture
def shot(connected: ModuleType, farm: Farm, tmp_path: Path) -> Any:
    """An artist's saved one-frame shot and the simple-blender-render type, rendering into a
    folder of this test on shared storage."""
    save_shot(tmp_path / "artist" / "shot.blend", 1, 1)
    grp = select_job_type(connected, "simple-blender-render")
    grp.render_output_root = str(farm.shared / "renders" / tmp_path.name)
    return grp


def submit(desk: ModuleType) -> Any:
    desk.submitting.last_outcome = None
    bpy.ops.flamenco_desk.submit_job(mode="ASYNC")  # raises RuntimeError with the message when refused
    tick_until(desk, lambda: desk.submitting.last_outcome is not None, timeout=60)
    return desk.submitting.last_outcome


NAMES = [
    ("../../../escaped", 'contains "/" or "\\"'),
    ("/tmp/flamenco-desk-escaped", 'contains "/" or "\\"'),
    ("shots\\..\\..\\escaped", 'contains "/" or "\\"'),
    ("..", "is not a folder name"),
    ("line\nFLAMENCO_DESK_JOB_ID=spoofed", "control characters"),
    ("x" * 300, "is 300 characters (300 bytes) long"),
]
FRAMES = [
    ("1-10000000", "more than a million frames"),
    ("-5--1", '"-5--1" is not a frame or range'),
    ("5-1", '"5-1" runs backwards'),
    ("1,,3", '"" is not a frame or range'),
]


def test_refused_names_and_frame_ranges(shot: Any, connected: ModuleType, proxy: FaultProxy, farm: Farm,
                                        tmp_path: Path) -> None:
    desk, scene = connected, bpy.context.scene
    before = tree(farm.root, tmp_path)
    for name, message in NAMES:
        scene.flamenco_desk.job_name = name
        with pytest.raises(RuntimeError, match=re.escape(message)):
            submit(desk)
    scene.flamenco_desk.job_name = ""
    shot.autoeval_frames = False
    for frames, message in FRAMES:
        shot.frames = frames
        with pytest.raises(RuntimeError, match=re.escape(message)):
            submit(desk)
    assert not proxy.requests_to("^/api/v3/jobs(/check)?$", "POST"), "nothing reached the Manager"
    assert tree(farm.root, tmp_path) == before, "a refused submission wrote files"


def test_a_nul_in_the_name_is_cut_by_blender_and_the_job_is_correct(shot: Any, connected: ModuleType,
                                                                    farm: Farm) -> None:
    """Blender's string properties end at a NUL: the name is what comes before it, and that
    is the job the Manager gets (paused: nothing renders)."""
    bpy.context.scene.flamenco_desk.job_name = "nul\x00/../../escaped"
    bpy.context.scene.flamenco_desk.submit_paused = True
    outcome = submit(connected)
    assert outcome.ok, outcome.message
    job = farm.get_json(f"/api/v3/jobs/{outcome.job_id}")
    assert job["name"] == "nul"
    assert job["settings"]["render_output_path"].startswith(shot.render_output_root + "/nul/")


def test_emoji_name_and_non_ascii_blend_path_render_into_the_jobs_own_folder(
        connected: ModuleType, farm: Farm, tmp_path: Path) -> None:
    """One real render: the artist's file in a folder with spaces and non-ASCII characters, a
    job name with emoji; the frames land in the job's own folder, and nothing else is written
    but the job's pack."""
    desk = connected
    blend = save_shot(tmp_path / "Prod Ünïcode — shots" / "shot 010 é.blend", 1, 1)
    grp = select_job_type(desk, "simple-blender-render")
    output = farm.shared / "renders" / tmp_path.name
    grp.render_output_root = str(output)
    name = "Shot 🎬 010 — ünï"
    bpy.context.scene.flamenco_desk.job_name = name
    before = tree(farm.root, tmp_path)
    outcome = submit(desk)
    assert outcome.ok and not outcome.warnings, (outcome.message, outcome.warnings)
    job = farm.get_json(f"/api/v3/jobs/{outcome.job_id}")
    assert job["name"] == name
    wait_until(lambda: farm.get_json(f"/api/v3/jobs/{outcome.job_id}")["status"] in ("completed", "failed"),
               90, "the job to finish")
    if farm.get_json(f"/api/v3/jobs/{outcome.job_id}")["status"] != "completed":
        tasks = farm.get_json(f"/api/v3/jobs/{outcome.job_id}/tasks")["tasks"]
        logs = [farm.get_raw(f"/api/v3/tasks/{t['id']}/logtail").decode()[-1500:] for t in tasks if t["status"] == "failed"]
        raise AssertionError(f"the job failed: {logs}")
    assert len(sorted((output / name).rglob("*.png"))) == 1, sorted(tree(output))
    new = tree(farm.root, tmp_path) - before
    own = [output / name, farm.shared / "flamenco-desk"]
    strays = [p for p in new if not any(p == f or f in p.parents for f in own) and p not in own[0].parents]
    assert new and not strays, sorted(map(str, strays))
    assert blend.exists() and bpy.data.filepath == str(blend)  # the artist's file stays theirs


def test_an_output_root_outside_shared_storage_is_a_warning(shot: Any, connected: ModuleType, farm: Farm,
                                                            tmp_path: Path) -> None:
    """Outside shared storage the frames land wherever each Worker finds that path: on this
    farm (a Worker in a chroot) a real render "completed" with its frames out of reach. A studio
    may render to another share every Worker mounts, so it is said, not refused."""
    outside = tmp_path / "outside shared"
    shot.render_output_root = str(outside)
    bpy.context.scene.flamenco_desk.submit_paused = True
    outcome = submit(connected)
    assert outcome.ok, outcome.message
    assert [w for w in outcome.warnings if f"The render output {outside}" in w
            and f"outside the farm's shared storage ({farm.shared})" in w], outcome.warnings
    job = farm.get_json(f"/api/v3/jobs/{outcome.job_id}")
    assert job["settings"]["render_output_root"] == str(outside)
    # Inside shared storage: no warning (the control).
    shot.render_output_root = str(farm.shared / "renders" / tmp_path.name)
    assert submit(connected).warnings == ()
