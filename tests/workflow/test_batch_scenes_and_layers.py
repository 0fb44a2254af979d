"""Per-scene batches, and per-view-layer batches refused (with the reason) when the job type
cannot pick a view layer; nothing is submitted then."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import bpy

from batch_support import select_render, submit
from local_farm import Farm
from support.blender_helpers import farm_jobs, save_shot

BATCH_KEY = "flamenco_desk.batch"


def test_one_job_per_scene_with_its_own_frame_range(connected: ModuleType, farm: Farm, tmp_path: Path) -> None:
    desk = connected
    main = bpy.context.scene
    main.name = "Main"
    other = bpy.data.scenes.new("Insert")
    other.frame_start, other.frame_end = 20, 24
    cam = bpy.data.objects.new("InsertCam", bpy.data.cameras.new("InsertCam"))
    other.collection.objects.link(cam)
    other.camera = cam
    bpy.data.scenes.new("NoCamera")  # nothing to render: left out
    save_shot(tmp_path / "artist" / "sq060_sh010.blend", 1, 3)
    select_render(desk, farm.shared / "renders" / "scenes")
    main.flamenco_desk.submit_paused = True

    outcome = submit(desk, batch="SCENES")
    assert outcome.ok, outcome.message
    jobs = [farm.job(i) for i in outcome.job_id.split(",")]
    assert {j["settings"]["scene"]: j["settings"]["frames"] for j in jobs} == {"Main": "1-3", "Insert": "20-24"}
    assert sorted(j["name"] for j in jobs) == ["sq060_sh010 Insert", "sq060_sh010 Main"]
    assert len({j["settings"]["blendfile"] for j in jobs}) == 1
    assert len({j["settings"]["render_output_path"] for j in jobs}) == 2  # each job's own folder


def test_view_layers_need_a_job_type_that_can_pick_one(connected: ModuleType, farm: Farm, tmp_path: Path) -> None:
    desk = connected
    bpy.context.scene.view_layers.new("Background")
    save_shot(tmp_path / "artist" / "sq060_sh020.blend", 1, 3)
    select_render(desk, farm.shared / "renders" / "layers")
    before = len(farm_jobs(farm))
    staging = desk.state.cache_dir() / "staging"
    staged = set(staging.iterdir()) if staging.is_dir() else set()

    try:
        bpy.ops.flamenco_desk.submit_job(mode="ASYNC", batch="VIEW_LAYERS")
    except RuntimeError as ex:
        message = str(ex)
    else:
        raise AssertionError("a view-layer batch of simple-blender-render must be refused")
    assert 'no "view_layer" setting' in message, message
    assert len(farm_jobs(farm)) == before
    assert (set(staging.iterdir()) if staging.is_dir() else set()) == staged  # the farm copy was removed
