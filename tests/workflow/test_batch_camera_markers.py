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


def test_each_part_fills_the_templates_with_its_own_marker_and_camera(connected: ModuleType, farm: Farm,
                                                                      tmp_path: Path) -> None:
    desk = connected
    desk.templating.reset()
    camera_marker_shot(tmp_path / "artist" / "sq030_sh030.blend")
    root = farm.shared / "renders" / f"batch-templates-{time.monotonic_ns()}"
    select_render(desk, root / "not-used")  # the template replaces the job type's output root
    (root / "sq030_sh030" / "CamGreen" / "v002").mkdir(parents=True)  # an earlier render of one camera
    sp = bpy.context.scene.flamenco_desk
    sp.job_name = "{file}_{marker}_{camera}_{version}"
    sp.output_template = str(root / "{file}" / "{camera}" / "{version}" / "{marker}")
    # Headless, as a script submits: each camera's folder is listed for {version} (in the
    # background, waited for) before the parts are made.
    desk.submitting.last_outcome = None
    assert bpy.ops.flamenco_desk.submit_job(batch="CAMERA_MARKERS") == {"FINISHED"}
    outcome = desk.submitting.last_outcome
    assert outcome.ok, outcome.message
    job_ids = outcome.job_id.split(",")
    jobs = [farm.job(job_id) for job_id in job_ids]
    # One version for the batch: the first free in every camera's folder (v003, as CamGreen has v002).
    assert [j["name"] for j in jobs] == [f"sq030_sh030_M_{cam}_{cam}_v003" for cam in EXPECTED]
    for job in jobs:
        camera = job["metadata"]["camera"]
        folder = root / "sq030_sh030" / camera / "v003" / f"M_{camera}"
        assert job["settings"]["render_output_path"].startswith(f"{folder}/{job['name']}/"), job["settings"]
        assert job["settings"]["frames"] == EXPECTED[camera]

    finished = wait_all(farm, job_ids)
    assert [j["status"] for j in finished] == ["completed"] * 3, farm.log_tail("worker")
    for job in finished:
        camera = job["metadata"]["camera"]
        for frame in (MARKER_FRAMES[camera], MARKER_FRAMES[camera] + 1):
            path = frame_path(job, frame)
            assert path.is_file() and path.is_relative_to(root / "sq030_sh030" / camera / "v003"), path
            assert camera_seen(path) == camera, (path, camera)


def test_a_template_that_names_every_part_alike_gets_the_cameras_and_a_retry_keeps_its_version(
        connected: ModuleType, farm: Farm, tmp_path: Path) -> None:
    desk = connected
    desk.templating.reset()
    scene = bpy.context.scene
    camera_marker_shot(tmp_path / "artist" / "sq030_sh040.blend")
    root = farm.shared / "renders" / f"batch-templates-{time.monotonic_ns()}"
    select_render(desk, root / "not-used")
    sp = scene.flamenco_desk
    sp.job_name = "{file}_{version}"
    sp.output_template = str(root / "{file}" / "{version}")
    tick_until(desk, lambda: desk.templating.render_output(scene) is not None
               and not desk.templating.render_output(scene).pending)

    def batch_parts() -> list[Any]:
        request = desk.submitting.prepare(scene, "submit", per_part=True)
        try:
            return desk.batching.parts(scene, "CAMERA_MARKERS", request)  # type: ignore[no-any-return]
        finally:
            desk.submitting.discard_copy(request)

    parts = batch_parts()
    assert [p.name for p in parts] == [f"sq030_sh040_v001 {cam}" for cam in EXPECTED]
    # One path for all: each camera's frames are its own, so it is one sequence of the shot.
    assert {p.settings["render_output_root"] for p in parts} == {str(root / "sq030_sh040" / "v001")}
    assert "sq030_sh040_v002" in desk.templating.render_name(scene, sp.job_name).text  # v001 is the batch's now

    # A batch cut short is submitted again: its missing parts get the version its jobs have.
    batch_id = sp.pending_version.split(" ")[0]
    sp.pending_submission_id = batch_id
    try:
        assert [p.name for p in batch_parts()] == [f"sq030_sh040_v001 {cam}" for cam in EXPECTED]
    finally:
        sp.pending_submission_id = ""

    # With {camera} before {version}, the panel's batch buttons have each camera's folder
    # listed (in the background) before the click.
    sp.output_template = str(root / "{file}" / "{camera}" / "{version}")
    desk.panels.submit_ui.draw(FakeLayout(), bpy.context)
    tick_until(desk, lambda: not desk.runtime.timer.bridge.busy(desk.templating.KEY))
    assert [desk.templating.version_of(str(root / "sq030_sh040" / cam)) for cam in EXPECTED] == ["v001"] * 3


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
