"""bpy-free logic: frame syntax (checked against the real Manager), storage placement, action
rules, output folders, ETA."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import pytest

from flamenco_desk_src.api import models
from flamenco_desk_src.core import job_actions, monitor, plain_text, results, storage
from flamenco_desk_src.core.frames import FrameRangeError, parse_frames
from local_farm import Farm
from support.farm_jobs import etags_of, settings_for, unique

# Frame strings the local check and the Manager's frameChunker must judge alike.
FRAME_CASES = [
    "1-3, 5..6,9", "4,4,2-3", "7", "0", "1 - 3", "3-3", " 2 ,4 ",
    "", "1-x", "10-1", "-3", "1-10x2", "1-3,", "a", "1,,2",
]


def test_frames_follow_the_managers_syntax() -> None:
    assert parse_frames("1-3, 5..6,9") == [1, 2, 3, 5, 6, 9]
    assert parse_frames("4,4,2-3") == [2, 3, 4]
    for bad, reason in [("", "empty"), ("1-x", "not a frame"), ("10-1", "backwards"), ("-3", "not a frame"), ("1-10x2", "not a frame")]:
        with pytest.raises(FrameRangeError, match=reason):
            parse_frames(bad)


def _manager_frames(farm: Farm, frames: str) -> Optional[list[int]]:
    """The frames the real Manager makes tasks for (one frame per task), None if it refuses."""
    body = {
        "name": unique("frames"), "type": "simple-blender-render", "priority": 50, "submitter_platform": "linux",
        "type_etag": etags_of(farm)["simple-blender-render"], "initial_status": "paused",
        "settings": {**settings_for(farm, "simple-blender-render"), "frames": frames, "chunk_size": 1, "fps": 0},
    }
    try:
        job = farm.post_json("/api/v3/jobs", body)
    except urllib.error.HTTPError as ex:
        assert ex.code == 400 and json.loads(ex.read())["message"].startswith("GoError: invalid range"), frames
        return None
    tasks = farm.get_json(f"/api/v3/jobs/{job['id']}/tasks")["tasks"]
    request = urllib.request.Request(f"{farm.url}/api/v3/jobs/{job['id']}", method="DELETE")
    urllib.request.urlopen(request, timeout=10).close()
    return sorted(int(task["name"].removeprefix("render-")) for task in tasks)


@pytest.mark.parametrize("frames", FRAME_CASES)
def test_local_frame_check_agrees_with_the_real_manager(farm: Farm, frames: str) -> None:
    try:
        local: Optional[list[int]] = parse_frames(frames)
    except FrameRangeError:
        local = None
    assert local == _manager_frames(farm, frames)


def test_storage_placement_and_never_overwriting(tmp_path: Path) -> None:
    shared = tmp_path / "Shared"
    shared.mkdir()
    inside = shared / "proj" / "a.blend"
    inside.parent.mkdir()
    inside.write_bytes(b"blend")
    assert storage.is_under(inside, str(shared))
    assert storage.is_under(inside, str(shared) + os.sep)
    assert not storage.is_under(tmp_path / "SharedOther" / "a.blend", str(shared))
    assert not storage.is_under(inside, "")

    first = storage.job_folder(str(shared), "sq/010: take*1", "0123456789abcdef")
    second = storage.job_folder(str(shared), "sq/010: take*1", "fedcba9876543210")
    assert first != second and first.parent == shared / "flamenco-desk"
    assert all(c not in first.name for c in '/?*:;{}\\')
    assert storage.shaman_checkout_path("sq/010: take*1", "0123456789abcdef") == f"flamenco-desk/{first.name}"
    first.mkdir(parents=True)
    storage.remove_job_folder(first)
    assert not first.exists()
    storage.remove_job_folder(inside.parent)  # not ours: left alone
    assert inside.exists()
    with pytest.raises(FileNotFoundError, match="not reachable"):
        storage.job_folder(str(tmp_path / "missing"), "x", "0" * 16)


def test_actions_are_offered_only_where_they_make_sense() -> None:
    assert job_actions.allowed("pause", "active") and not job_actions.allowed("pause", "completed")
    assert job_actions.allowed("resume", "paused") and not job_actions.allowed("resume", "active")
    assert job_actions.allowed("requeue", "failed") and not job_actions.allowed("requeue", "active")
    assert job_actions.allowed("delete", "completed") and not job_actions.allowed("delete", "active")
    assert not job_actions.allowed("requeue_failed", "active", ["completed", "active"])
    assert job_actions.allowed("requeue_failed", "active", ["failed", "active"])
    assert job_actions.resume_status(["queued", "queued"]) == "queued"
    assert job_actions.resume_status(["completed", "paused"]) == "requeueing"
    assert job_actions.requeue_failed_plan("failed") == "job"
    assert job_actions.requeue_failed_plan("active") == "tasks"


def _job(**settings: object) -> models.Job:
    stamp = "2026-11-29T05:00:00Z"
    return models.Job.from_json({
        "id": "0ce16ece-eb68-4cb2-b010-ea6c861f1bfc", "name": "j", "type": "t", "priority": 50, "status": "active",
        "activity": "", "created": stamp, "updated": stamp, "steps_completed": 0, "steps_total": 0,
        "settings": settings, "metadata": {}, "submitter_platform": "",
    })


def test_output_folder_from_stored_settings_and_variables(tmp_path: Path) -> None:
    job = _job(render_output_path="{render}/shot/2026-11-29_0500/######")
    assert results.output_dir(job, {"render": "/mnt/render"}) == Path("/mnt/render/shot/2026-11-29_0500")
    assert results.output_dir(_job(frames="1-3"), {}) is None
    (tmp_path / "000001.png").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("x")
    assert results.frame_files(tmp_path) == [tmp_path / "000001.png"]


def test_job_age_is_short() -> None:
    assert monitor.age(datetime(2026, 11, 29, 5, 0, tzinfo=timezone.utc), datetime(2026, 11, 29, 7, 1, tzinfo=timezone.utc)) == "2h"


def test_lexical_storage_check_needs_no_filesystem(tmp_path: Path) -> None:
    root = tmp_path / "not-mounted"
    assert storage.is_under(root / "proj" / "a.blend", str(root), resolve=False)
    assert not storage.is_under(tmp_path / "elsewhere.blend", str(root), resolve=False)


def test_text_from_the_manager_prints_as_one_safe_line() -> None:
    shown = plain_text.one_line("job \x1b[2J\x1b]0;title\x07type\nFLAMENCO_DESK_JOB_ID=x \ud800!")
    assert shown == "job type FLAMENCO_DESK_JOB_ID=x \ufffd!"
    shown.encode("utf-8")  # printable: a lone surrogate would raise here (and in print())
    assert len(plain_text.one_line("x" * 10_000)) == plain_text.MAX_LINE
