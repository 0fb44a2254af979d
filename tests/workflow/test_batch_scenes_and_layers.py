"""Per-scene batches, and per-view-layer batches refused (with the reason) when the job type
cannot pick a view layer; nothing is submitted then."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import bpy
import pytest

from batch_support import select_render, submit
from local_farm import Farm
from support.blender_helpers import farm_jobs, refresh, save_shot, select_job_type

# A studio job type that can render one view layer (none built in can): the batch per view
# layer needs one. It only echoes, so its jobs finish at once if a Worker takes them.
LAYER_TYPE = """
const JOB_TYPE = {
  label: 'Layer Probe',
  settings: [
    { key: 'frames', type: 'string', eval: 'f"{C.scene.frame_start}-{C.scene.frame_end}"' },
    { key: 'view_layer', type: 'string', eval: 'C.view_layer.name' },
    { key: 'render_output_path', type: 'string', subtype: 'file_path', default: '/tmp/layers/######' },
    { key: 'blendfile', type: 'string', required: true, visible: 'web' },
  ],
};

function compileJob(job) {
  const task = author.Task('probe', 'misc');
  task.addCommand(author.Command('echo', { message: 'layer ' + job.settings.view_layer }));
  job.addTask(task);
}
"""

BATCH_KEY = "flamenco_desk.batch"


def main_and_insert() -> Any:
    """The current scene named "Main", and a scene "Insert" (frames 20-24) with a camera of its own."""
    main = bpy.context.scene
    main.name = "Main"
    other = bpy.data.scenes.new("Insert")
    other.frame_start, other.frame_end = 20, 24
    cam = bpy.data.objects.new("InsertCam", bpy.data.cameras.new("InsertCam"))
    other.collection.objects.link(cam)
    other.camera = cam
    return main


def test_one_job_per_scene_with_its_own_frame_range(connected: ModuleType, farm: Farm, tmp_path: Path) -> None:
    desk = connected
    main = main_and_insert()
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

    with pytest.raises(RuntimeError) as refused:  # a view-layer batch of simple-blender-render must be refused
        bpy.ops.flamenco_desk.submit_job(mode="ASYNC", batch="VIEW_LAYERS")
    message = str(refused.value)
    assert 'no "view_layer" setting' in message, message
    assert len(farm_jobs(farm)) == before
    assert (set(staging.iterdir()) if staging.is_dir() else set()) == staged  # the farm copy was removed


def test_each_scene_fills_the_templates_with_its_own_scene_and_camera(connected: ModuleType, farm: Farm,
                                                                       tmp_path: Path) -> None:
    desk = connected
    desk.templating.reset()
    main = main_and_insert()
    save_shot(tmp_path / "artist" / "sq060_sh030.blend", 1, 3)
    root = farm.shared / "renders" / f"scene-templates-{time.monotonic_ns()}"
    select_render(desk, root / "not-used")
    main.flamenco_desk.submit_paused = True
    main.flamenco_desk.job_name = "{file}_{scene}_{camera}"
    main.flamenco_desk.output_template = str(root / "{scene}" / "{camera}")

    outcome = submit(desk, batch="SCENES")
    assert outcome.ok, outcome.message
    jobs = {j["settings"]["scene"]: j for j in (farm.job(i) for i in outcome.job_id.split(","))}
    assert {s: j["name"] for s, j in jobs.items()} == {"Main": "sq060_sh030_Main_ShotCam",
                                                         "Insert": "sq060_sh030_Insert_InsertCam"}
    for scene, camera in (("Main", "ShotCam"), ("Insert", "InsertCam")):
        assert jobs[scene]["settings"]["render_output_path"].startswith(f"{root / scene / camera}/"), jobs[scene]


@pytest.fixture
def layer_probe(connected: ModuleType, job_type_script: Any, tmp_path: Path) -> ModuleType:
    """A saved shot with two view layers and the layer probe job type selected."""
    desk = connected
    desk.templating.reset()
    stem = f"layer_probe_{uuid.uuid4().hex[:8]}"
    job_type_script(f"{stem}.js", LAYER_TYPE)
    refresh(desk)
    bpy.context.scene.view_layers.new("Background")
    save_shot(tmp_path / "artist" / "sq060_sh040.blend", 1, 3)
    select_job_type(desk, stem.replace("_", "-"))
    bpy.context.scene.flamenco_desk.submit_paused = True
    return desk


def test_each_view_layer_fills_the_templates_with_its_own_layer(layer_probe: ModuleType, farm: Farm) -> None:
    desk = layer_probe
    sp = bpy.context.scene.flamenco_desk
    root = farm.shared / "renders" / f"layer-templates-{time.monotonic_ns()}"
    sp.job_name = "{file}_{view_layer}"
    sp.output_template = str(root / "{file}" / "######")  # the same frames of both layers to one place
    before = len(farm_jobs(farm))
    with pytest.raises(RuntimeError) as refused:  # two view layers writing the same frames to one path must be refused
        bpy.ops.flamenco_desk.submit_job(mode="ASYNC", batch="VIEW_LAYERS")
    message = str(refused.value)
    assert ('ViewLayer and Background would write the same frames to "' + str(root / "sq060_sh040" / "######")
            + '"; add {view_layer} to the output template') in message, message
    assert len(farm_jobs(farm)) == before  # said before anything was submitted

    sp.output_template = str(root / "{file}" / "{view_layer}" / "######")
    outcome = submit(desk, batch="VIEW_LAYERS")
    assert outcome.ok, outcome.message
    jobs = [farm.job(i) for i in outcome.job_id.split(",")]
    assert {j["settings"]["view_layer"]: (j["name"], j["settings"]["render_output_path"]) for j in jobs} == {
        "ViewLayer": ("sq060_sh040_ViewLayer", str(root / "sq060_sh040" / "ViewLayer" / "######")),
        "Background": ("sq060_sh040_Background", str(root / "sq060_sh040" / "Background" / "######")),
    }
