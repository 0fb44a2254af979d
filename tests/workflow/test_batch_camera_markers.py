"""One click, one job per camera bound to a timeline marker, one pack for all of them; a batch
cut short by the Manager going away is finished by a retry without a second copy of any job."""

from __future__ import annotations

import time
from pathlib import Path
from types import ModuleType
from typing import Any

import bpy

from batch_support import (MARKER_FRAMES, camera_marker_shot, camera_seen, frame_path, panel_context, select_render,
                           submit, wait_all)
from local_farm import Farm
from support.blender_helpers import farm_jobs, tick_until
from support.fake_layout import FakeLayout

BATCH_KEY = "flamenco_desk.batch"
EXPECTED = {"CamRed": "1-2", "CamGreen": "3-4", "CamBlue": "5-6"}


def packs(farm: Farm) -> set[Path]:
    root = farm.shared / "flamenco-desk"
    return set(root.iterdir()) if root.is_dir() else set()


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def test_three_camera_markers_make_three_jobs_from_one_pack(connected: ModuleType, farm: Farm,
                                                             tmp_path: Path) -> None:
    desk = connected
    camera_marker_shot(tmp_path / "artist" / "sq030_sh010.blend")
    select_render(desk, farm.shared / "renders" / "batch")
    before = packs(farm)

    started = time.monotonic()
    outcome = submit(desk, batch="CAMERA_MARKERS")
    click_to_queued = time.monotonic() - started
    assert outcome.ok, outcome.message
    job_ids = outcome.job_id.split(",")
    assert len(job_ids) == 3, outcome.message

    jobs = [farm.job(job_id) for job_id in job_ids]
    assert {j["status"] for j in jobs} <= {"queued", "active"}
    batch_ids = {j["metadata"][BATCH_KEY] for j in jobs}
    assert len(batch_ids) == 1
    assert {j["metadata"]["camera"]: j["settings"]["frames"] for j in jobs} == EXPECTED
    assert [j["name"] for j in jobs] == [f"sq030_sh010 {cam}" for cam in EXPECTED]
    # One pack for the batch: every job renders the same farm .blend.
    new_packs = packs(farm) - before
    assert len(new_packs) == 1, new_packs
    assert {j["settings"]["blendfile"] for j in jobs} == {str(next(iter(new_packs)) / "sq030_sh010.blend")}
    packed_bytes = folder_bytes(next(iter(new_packs)))
    print(f"\nBATCH click-to-3-queued-jobs {click_to_queued:.2f} s, packed once: {packed_bytes} bytes")
    # The add-on lists them as one group: a header with the group's progress, then each job.
    mine = [desk.watching.monitor.jobs[i] for i in job_ids]
    rows = list(desk.panels.workflow_ui.grouped(mine))
    assert [job.id for _, job in rows] == job_ids
    assert rows[0][0].startswith("Batch of 3") and [h for h, _ in rows[1:]] == ["", ""], rows
    layout = FakeLayout()
    desk.panels.jobs_ui.draw_job_list(layout, panel_context())
    assert any(label.startswith("Batch of 3") for label in layout.labels()), layout.labels()

    finished = wait_all(farm, job_ids)
    assert [j["status"] for j in finished] == ["completed"] * 3, farm.log_tail("worker")
    for job in finished:
        camera = job["metadata"]["camera"]
        first = MARKER_FRAMES[camera]
        for frame in (first, first + 1):
            path = frame_path(job, frame)
            assert path.is_file(), path
            # Blender on the Worker switched to the camera bound to the marker.
            assert camera_seen(path) == camera, (path, camera)


def test_manager_gone_after_the_second_job_then_retry_makes_only_the_third(
        connected: ModuleType, farm: Farm, tmp_path: Path, monkeypatch: Any) -> None:
    desk = connected
    camera_marker_shot(tmp_path / "artist" / "sq030_sh020.blend")
    select_render(desk, farm.shared / "renders" / "batch")
    bpy.context.scene.flamenco_desk.submit_paused = True  # nothing to render in this test

    client_class = desk.api.client.ManagerClient
    real_submit = client_class.submit_job
    submitted: list[str] = []

    def submit_then_stop(self: Any, job: Any) -> Any:
        created = real_submit(self, job)
        submitted.append(created.id)
        if len(submitted) == 2:
            farm.stop_manager()  # the real Manager goes away right after the second job
        return created

    monkeypatch.setattr(client_class, "submit_job", submit_then_stop)
    try:
        outcome = submit(desk, batch="CAMERA_MARKERS")
    finally:
        if farm._manager is None:
            farm.start_manager()
    assert not outcome.ok
    assert len(submitted) == 2
    for job_id in submitted:
        assert job_id in outcome.message  # says exactly which jobs exist
    assert "sq030_sh020 CamBlue" in outcome.message.split("Not submitted:")[1]
    sp = bpy.context.scene.flamenco_desk
    batch_id = sp.pending_submission_id
    assert batch_id
    assert {ref.job_id for ref in sp.jobs} == set(submitted)

    desk.state.refresh()
    tick_until(desk, lambda: not desk.runtime.timer.bridge.busy(desk.state.REFRESH_KEY), timeout=30)
    outcome = submit(desk, batch="CAMERA_MARKERS")
    assert outcome.ok, outcome.message
    assert len(submitted) == 3  # exactly one more POST /jobs
    jobs = farm_jobs(farm, **{BATCH_KEY: batch_id})
    assert sorted(j["metadata"]["camera"] for j in jobs) == sorted(EXPECTED)
    assert {j["metadata"]["camera"]: j["settings"]["frames"] for j in jobs} == EXPECTED
    assert len({j["settings"]["blendfile"] for j in jobs}) == 1  # the retry reused the pack
    assert sp.pending_submission_id == ""
    assert "2 had reached the Manager before" in outcome.message
