"""Job-type settings become Blender properties and UI, for every AvailableJobSetting field."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import bpy

from support.blender_helpers import refresh, save_shot, select_job_type, tick_until
from support.fake_layout import FakeLayout
from local_farm import Farm
from support.job_type_scripts import source as script_source

KITCHEN_SINK = script_source("kitchen_sink.js")


def use_kitchen_sink(desk: ModuleType, job_type_script: Any, tmp_path: Path, samples: int = 0) -> Any:
    job_type_script("kitchen_sink.js", KITCHEN_SINK)
    refresh(desk)
    save_shot(tmp_path / "artist" / "ks_shot.blend")
    if samples:  # the artist's scene, over the test shot's quick-render samples
        bpy.context.scene.cycles.samples = samples
    return select_job_type(desk, "kitchen-sink")


def rna(grp: Any, key: str) -> Any:
    return grp.bl_rna.properties[key]


def test_every_field_maps_to_a_property(connected: ModuleType, job_type_script: Any, tmp_path: Path) -> None:
    desk = connected
    grp = use_kitchen_sink(desk, job_type_script, tmp_path)

    out = rna(grp, "output_file")  # type, subtype, label, description, default, maxlen
    assert (out.type, out.subtype, out.name, out.description) == ("STRING", "FILE_PATH", "Output File", "Where the output goes")
    assert out.default == "//output.png" and out.length_max in (1024, 1025)  # Blender counts the NUL
    assert rna(grp, "autoeval_output_file").type == "BOOLEAN"  # evalInfo.showLinkButton
    assert rna(grp, "autoeval_output_file").default is True
    assert "Next to the blend file" in rna(grp, "autoeval_output_file").description

    assert rna(grp, "work_dir").subtype == "DIR_PATH"
    assert rna(grp, "log_name").subtype == "FILE_NAME"
    assert rna(grp, "frame_pattern").subtype == "FILE_PATH"  # hashed_file_path

    quality = rna(grp, "quality")  # choices → enum
    assert quality.type == "ENUM"
    assert [i.identifier for i in quality.enum_items] == ["draft", "preview", "final"]
    assert grp.quality == "preview"

    samples = rna(grp, "samples")  # propargs min/max coerced to int
    assert (samples.type, samples.hard_min, samples.hard_max, samples.default) == ("INT", 1, 4096, 64)
    exposure = rna(grp, "exposure")
    assert exposure.type == "FLOAT" and exposure.hard_min == -10.0 and exposure.hard_max == 10.0
    assert abs(exposure.default - 0.5) < 1e-6
    assert rna(grp, "denoise").type == "BOOLEAN" and rna(grp, "denoise").default is True
    assert rna(grp, "bare").name == "Bare"  # no label: key title-cased

    # A shown setting with eval and no value is evaluated when the job type loads.
    assert grp.camera == "ShotCam"
    # editable: false → read-only, always the evaluated value.
    assert rna(grp, "checksum").is_readonly
    assert grp.checksum == "KS_SHOT"
    bpy.context.scene.flamenco_desk.job_name = "Other Name"
    assert grp.checksum == "OTHER NAME"


def test_panel_shows_what_the_job_type_asks_for(connected: ModuleType, job_type_script: Any, tmp_path: Path) -> None:
    desk = connected
    grp = use_kitchen_sink(desk, job_type_script, tmp_path)
    layout = FakeLayout()
    desk.panels.submit_ui.draw_settings(layout, bpy.context.scene)
    shown = layout.props()

    assert "log_name" not in shown and "frame_pattern" not in shown  # web / hidden
    assert "blendfile" not in shown  # the add-on fills it in
    for key in ("work_dir", "quality", "samples", "exposure", "denoise", "camera", "bare"):
        assert key in shown, key
    # Linked setting: no field; the value it will send is shown, and the toggle.
    assert "output_file" not in shown and "autoeval_output_file" in shown
    output = str(Path(bpy.data.filepath).parent / "output.png")
    assert ("flamenco_desk.copy_value", {"value": output}) in layout.operators()
    # Read-only: not a field; its value, whole in the tooltip of a copy button.
    assert "checksum" not in shown
    assert ("flamenco_desk.copy_value", {"value": "KS_SHOT"}) in layout.operators()
    # Eval button for a setting with eval but no link toggle.
    assert ("flamenco_desk.eval_setting", {"key": "camera"}) in layout.operators()

    grp.autoeval_output_file = False
    unlinked = FakeLayout()
    desk.panels.submit_ui.draw_settings(unlinked, bpy.context.scene)
    assert "output_file" in unlinked.props()

    # Both panels draw the whole submission UI.
    full = FakeLayout()
    desk.panels.submit_ui.draw(full, bpy.context)
    assert ("flamenco_desk.submit_job", {}) in full.operators()
    assert "job_type_ui" in full.props()


def test_eval_button_sets_value_from_scene(connected: ModuleType, job_type_script: Any, tmp_path: Path) -> None:
    desk = connected
    grp = use_kitchen_sink(desk, job_type_script, tmp_path)
    grp.camera = "typed by hand"
    assert bpy.ops.flamenco_desk.eval_setting(key="camera") == {"FINISHED"}
    assert grp.camera == "ShotCam"


def test_values_survive_job_type_changes_and_reopening(connected: ModuleType, job_type_script: Any,
                                                         tmp_path: Path) -> None:
    desk = connected
    grp = use_kitchen_sink(desk, job_type_script, tmp_path)
    grp.samples = 128
    grp.quality = "final"
    grp.autoeval_output_file = False
    grp.output_file = "/renders/custom.png"
    old_etag = desk.jobtypes.registry.job_type().etag

    # A TD edits the script on the Manager: a setting removed, one added, choices reordered.
    changed = (KITCHEN_SINK
               .replace("{ key: 'bare', type: 'int32' },", "{ key: 'new_setting', type: 'int32', default: 7 },")
               .replace("choices: ['draft', 'preview', 'final']", "choices: ['final', 'draft', 'preview', 'ultra']"))
    assert changed.count("new_setting") == 1 and "ultra" in changed
    job_type_script("kitchen_sink.js", changed)
    refresh(desk)

    jt = desk.jobtypes.registry.job_type()
    assert jt.etag != old_etag
    grp = desk.jobtypes.registry.group(bpy.context.scene)
    assert grp.samples == 128 and grp.quality == "final"
    assert grp.autoeval_output_file is False and grp.output_file == "/renders/custom.png"
    assert grp.new_setting == 7
    assert not hasattr(grp, "bare")

    path = Path(bpy.data.filepath)
    bpy.ops.wm.save_mainfile()
    bpy.ops.wm.read_homefile(use_empty=True)
    bpy.ops.wm.open_mainfile(filepath=str(path))
    assert bpy.context.scene.flamenco_desk.job_type == "kitchen-sink"
    grp = desk.jobtypes.registry.group(bpy.context.scene)
    assert grp.samples == 128 and grp.quality == "final" and grp.output_file == "/renders/custom.png"


def test_submitted_settings_have_every_key_with_json_types(connected: ModuleType, job_type_script: Any,
                                                           farm: Farm, tmp_path: Path) -> None:
    desk = connected
    grp = use_kitchen_sink(desk, job_type_script, tmp_path)
    grp.samples = 256
    grp.denoise = False
    bpy.context.scene.flamenco_desk.submit_paused = True
    assert bpy.ops.flamenco_desk.submit_job(mode="ASYNC") == {"FINISHED"}
    tick_until(desk, lambda: desk.submitting.last_outcome is not None)
    assert desk.submitting.last_outcome.ok, desk.submitting.last_outcome.message

    settings = farm.job(desk.submitting.last_outcome.job_id)["settings"]
    keys = {s.key for s in desk.jobtypes.registry.job_type().settings}
    assert set(settings) == keys  # the Manager applies no defaults: every key is sent
    assert settings["samples"] == 256 and type(settings["samples"]) is int
    assert settings["exposure"] == 0.5 and type(settings["exposure"]) is float
    assert settings["denoise"] is False
    assert settings["quality"] == "preview"
    assert settings["bare"] == 0
    assert settings["log_name"] == "log.txt"  # web-only, no eval: default
    assert settings["frame_pattern"] == "/render/shot/######"  # hidden: default
    assert settings["camera"] == "ShotCam"
    assert settings["checksum"] == "KS_SHOT"
    # Linked: evaluated at submit, relative to the .blend.
    assert settings["output_file"] == str(Path(bpy.data.filepath).parent / "output.png")
    # Filled in by the add-on: the .blend the farm reads.
    assert Path(settings["blendfile"]).name == "ks_shot.blend" and Path(settings["blendfile"]).is_file()


def test_scene_value_wins_over_minimum_until_the_artist_changes_it(connected: ModuleType, job_type_script: Any,
                                                                   farm: Farm, tmp_path: Path) -> None:
    """A studio's `samples` (eval from the scene, min 1, no default) used to go to the farm
    as 1: the scene's value must be used unless the artist typed another."""
    desk = connected
    grp = use_kitchen_sink(desk, job_type_script, tmp_path, samples=128)
    assert grp.scene_samples == 128

    bpy.context.scene.cycles.samples = 256  # the artist changes the scene: the setting follows
    desk.props._refreshed_at = 0.0
    desk.props.refresh_tick()
    assert grp.scene_samples == 256

    grp.scene_samples = 64  # typed by hand: kept, whatever the scene says
    bpy.context.scene.cycles.samples = 512
    desk.props._refreshed_at = 0.0
    desk.props.refresh_tick()
    assert grp.scene_samples == 64

    assert bpy.ops.flamenco_desk.eval_setting(key="scene_samples") == {"FINISHED"}  # back to the scene
    assert grp.scene_samples == 512
    bpy.context.scene.cycles.samples = 300
    bpy.context.scene.flamenco_desk.submit_paused = True
    assert bpy.ops.flamenco_desk.submit_job(mode="ASYNC") == {"FINISHED"}
    tick_until(desk, lambda: desk.submitting.last_outcome is not None)
    assert desk.submitting.last_outcome.ok, desk.submitting.last_outcome.message
    assert farm.job(desk.submitting.last_outcome.job_id)["settings"]["scene_samples"] == 300
